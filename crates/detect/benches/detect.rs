//! Detection cost per transaction on the corpus: traced simulation plus
//! every detector, against plain revm execution of the same transactions
//! from the same states. Throughput is in transactions, so criterion prints
//! the time per transaction; the ratio of the two is the detection overhead.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::path::{Path, PathBuf};
use vigil_detect::{Engine, History};
use vigil_fixture::Fixture;
use vigil_sim::{execute, simulate, BlockSpec, Budget, InMemoryState, Replay};
use vigil_types::tx::Transaction;

/// A judged transaction with the state, block and history it is judged on.
struct Case {
    state: InMemoryState,
    block: BlockSpec,
    tx: Transaction,
    history: History,
}

fn fixture_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut out = Vec::new();
    for dir in ["fixture/testdata", "corpus/fixtures/attack", "corpus/fixtures/benign"] {
        if let Ok(rd) = std::fs::read_dir(root.join(dir)) {
            out.extend(
                rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|e| e == "json")),
            );
        }
    }
    out.sort();
    out
}

fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    for path in fixture_files() {
        let Ok(fixture) = Fixture::load(&path) else { continue };
        let Ok(mut replay) = Replay::new(&fixture.genesis) else { continue };
        let mut history = History::new();
        for t in &fixture.txs {
            let block = replay.next_block();
            let Ok(outcome) = replay.simulate_next(&t.tx, &Budget::default()) else { break };
            if t.label.is_scored() {
                out.push(Case { state: replay.state().clone(), block, tx: t.tx.clone(), history: history.clone() });
            }
            replay.apply(&outcome.changes);
            history.record(&outcome.trace, block.number);
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let cases = cases();
    assert!(!cases.is_empty(), "no fixtures found");
    let engine = Engine::default();
    let budget = Budget::default();
    let mut g = c.benchmark_group("per_transaction");
    g.throughput(Throughput::Elements(cases.len() as u64));
    g.bench_function("plain_execute", |b| {
        b.iter(|| {
            for k in &cases {
                let _ = execute(&k.state, &k.block, &k.tx);
            }
        })
    });
    g.bench_function("simulate_traced_and_detect", |b| {
        b.iter(|| {
            for k in &cases {
                if let Ok(o) = simulate(&k.state, &k.block, &k.tx, &budget) {
                    let _ = engine.judge(&k.state, &k.block, &k.tx, &o, &k.history);
                }
            }
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(5));
    targets = bench
}
criterion_main!(benches);
