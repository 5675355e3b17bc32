//! Tracing overhead: every transaction of the spec's example fixtures,
//! simulated with the tracing inspector (`traced`) and executed plainly
//! (`plain`), each on the state its fixture gives it.
//!
//! `cargo bench -p vigil-sim --bench trace_overhead`; CI only compiles it.

use std::{hint::black_box, path::PathBuf, time::Duration};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use vigil_fixture::Fixture;
use vigil_sim::{execute, simulate, Budget, Replay};

const FIXTURES: [(&str, &str); 2] =
    [("benign", "example-benign-vault-and-erc20.json"), ("reentrancy", "example-reentrancy-eth-vault-drain.json")];

fn trace_overhead(c: &mut Criterion) {
    let budget = Budget::default();
    for (short, file) in FIXTURES {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixture/testdata").join(file);
        let fixture = Fixture::load(&path).expect("fixture loads");
        let mut replay = Replay::new(&fixture.genesis).expect("genesis loads");
        let mut group = c.benchmark_group(short);
        group.warm_up_time(Duration::from_millis(300));
        group.measurement_time(Duration::from_secs(1));
        group.sample_size(20);
        for t in &fixture.txs {
            let state = replay.state().clone();
            let block = replay.next_block();
            let id = format!("tx{}-{}", t.index, t.label);
            group.bench_function(BenchmarkId::new("plain", &id), |b| {
                b.iter(|| execute(black_box(&state), &block, black_box(&t.tx)).expect("executes"))
            });
            group.bench_function(BenchmarkId::new("traced", &id), |b| {
                b.iter(|| simulate(black_box(&state), &block, black_box(&t.tx), &budget).expect("simulates"))
            });
            replay.execute_next(&t.tx).expect("fixture replays");
        }
        group.finish();
    }
}

criterion_group!(benches, trace_overhead);
criterion_main!(benches);
