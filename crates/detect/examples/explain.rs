//! Replays a fixture up to one transaction and prints what the detectors
//! saw: the call tree, token movements, the storage the transaction read
//! and wrote, and the verdict. For working on a finding:
//!
//! ```sh
//! cargo run --release -p vigil-detect --example explain -- FIXTURE.json INDEX
//! ```
use alloy_primitives::U256;
use vigil_detect::{Analysis, Engine, History, Policies, StatePre};
use vigil_fixture::Fixture;
use vigil_sim::{trace::StorageOp, Budget, Replay};

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(path), Some(index)) = (args.next(), args.next().and_then(|i| i.parse::<usize>().ok())) else {
        eprintln!("usage: explain FIXTURE.json INDEX");
        std::process::exit(2);
    };
    let fixture = Fixture::load(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut replay = Replay::new(&fixture.genesis).expect("genesis");
    let mut history = History::new();
    let engine = Engine::new(Policies::default());
    for t in &fixture.txs {
        let block = replay.next_block();
        let outcome = replay.simulate_next(&t.tx, &Budget::default()).expect("simulates");
        if t.index == index {
            let trace = &outcome.trace;
            println!("tx {index} from {} ({:?})", t.tx.sender(), t.label);
            for f in &trace.frames {
                println!(
                    "{:>4} {}{:?} {} -> {} code {} sel {} value {}{}{}",
                    f.id,
                    "  ".repeat(f.depth as usize),
                    f.kind,
                    f.caller,
                    f.callee,
                    f.code_address,
                    f.selector.map(hex::encode).unwrap_or_default(),
                    f.value,
                    if f.reverted { " REVERTED" } else { "" },
                    f.reentered.map(|r| format!(" re-enters {r}")).unwrap_or_default(),
                );
            }
            for e in &trace.token_events {
                println!("token {} {:?}{}", e.token, e.kind, if e.reverted { " REVERTED" } else { "" });
            }
            for s in &trace.storage {
                let op = match s.op {
                    StorageOp::Read { value } => format!("read  {value:#x}"),
                    StorageOp::Write { old, new } => format!("write {old:#x} -> {new:#x}"),
                };
                println!("sto f{:>4} {} {:#x} {op}", s.frame, s.address, s.slot);
            }
            // What the protocol books say about every contract that paid out.
            let pre = StatePre(replay.state());
            let analysis = Analysis::new(&t.tx, trace, &history, &pre, U256::ZERO, (block.coinbase, U256::ZERO));
            for (payer, flows) in &analysis.flows {
                for (asset, v) in flows.iter().filter(|(_, v)| v.is_negative()) {
                    if analysis.is_contract(*payer) && !analysis.is_actor(*payer) {
                        let backing = analysis.backing(*payer, *asset, v.unsigned_abs());
                        println!("payout {payer} {asset:?} {v}: backing {backing:?}");
                    }
                }
            }
            let verdict = engine.judge(replay.state(), &block, &t.tx, &outcome, &history);
            println!("{verdict:#?}");
            return;
        }
        replay.apply(&outcome.changes);
        history.record(&outcome.trace, block.number);
    }
    eprintln!("{path} has no transaction {index}");
    std::process::exit(1);
}
