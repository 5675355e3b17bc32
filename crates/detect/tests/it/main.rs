//! Integration tests of `vigil-detect`.
mod books;
mod corpus;
mod examples;
mod policies;
mod synthetic;
mod world;

use std::path::{Path, PathBuf};
use vigil_detect::{Engine, History, Verdict};
use vigil_fixture::{Fixture, FixtureTx, Label};
use vigil_sim::{Budget, Replay};

/// Simulation budget of the tests: the gas of a block, and wall time enough
/// for a debug build on a loaded machine (the wall-time limit is not what
/// these tests check; `vigil-sim`'s budget tests do).
pub fn budget() -> Budget {
    Budget { max_wall_time: std::time::Duration::from_secs(120), ..Budget::default() }
}

/// Replays a fixture and judges its scored transactions: (index, label, verdict).
pub fn judge_fixture(engine: &Engine, path: &Path) -> Vec<(usize, Label, Verdict)> {
    let fixture = Fixture::load(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    judge_each(engine, &fixture, &path.display().to_string(), |t, v| out.push((t.index, t.label, v)));
    out
}

/// Replays `fixture` (every transaction must succeed) and hands each
/// scored transaction and its verdict to `judged`.
pub fn judge_each(engine: &Engine, fixture: &Fixture, name: &str, mut judged: impl FnMut(&FixtureTx, Verdict)) {
    let mut replay = Replay::new(&fixture.genesis).expect("genesis");
    let mut history = History::new();
    for t in &fixture.txs {
        let block = replay.next_block();
        let outcome = replay.simulate_next(&t.tx, &budget()).expect("simulates");
        assert!(outcome.result.is_success(), "{name}: tx {} ({}) failed: {:?}", t.index, t.note, outcome.result);
        if t.label.is_scored() {
            judged(t, engine.judge(replay.state(), &block, &t.tx, &outcome, &history));
        }
        replay.apply(&outcome.changes);
        history.record(&outcome.trace, block.number);
    }
}

pub fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixture/testdata").join(name)
}
