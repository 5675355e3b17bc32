//! Background traffic: every transaction replays successfully, the same
//! seed gives the same bytes, and every everyday kind of issue 14 occurs.

use std::collections::BTreeSet;

use vigil_corpus::{
    background::{Background, Config, FAMILY_KINDS},
    verify,
};
use vigil_fixture::Label;

#[test]
fn small_run_replays_and_is_deterministic() {
    let config = Config { txs: 300, seed: 42, per_fixture: 300, accounts: 120, jobs: 1 };
    let bg = Background::new(config).unwrap();
    let first = bg.fixture(0).unwrap();
    let v = verify(&first.text).unwrap();
    let setup = v.fixture.txs.iter().filter(|t| t.label == Label::Setup).count();
    let benign = v.fixture.txs.iter().filter(|t| t.label == Label::Benign).count();
    assert_eq!(setup, bg.setup_len());
    assert_eq!(benign, 300);
    assert!(v.fixture.txs.iter().all(|t| t.label != Label::Attack));
    // Setup first, then only benign traffic.
    assert!(v.fixture.txs[..setup].iter().all(|t| t.label == Label::Setup));
    // Many different senders.
    let senders: std::collections::BTreeSet<_> = v.fixture.txs[setup..].iter().map(|t| t.tx.sender()).collect();
    assert!(senders.len() > 40, "only {} senders", senders.len());

    // Same seed, new world: the same bytes.
    let again = Background::new(config).unwrap().fixture(0).unwrap();
    assert!(again.text == first.text, "background generation is not deterministic");
    // Another seed: other traffic.
    let other = Background::new(Config { seed: 43, ..config }).unwrap().fixture(0).unwrap();
    assert_ne!(other.text, first.text);
}

#[test]
fn splits_into_fixtures() {
    let config = Config { txs: 70, seed: 5, per_fixture: 30, accounts: 50, jobs: 2 };
    assert_eq!(config.fixtures(), 3);
    let dir = tempfile::tempdir().unwrap();
    let run = vigil_corpus::background::generate(config, dir.path(), |_, _| {}).unwrap();
    assert_eq!(run.paths.len(), 3);
    assert_eq!(run.tally.total(), 70);
    let counts: Vec<usize> = run
        .paths
        .iter()
        .map(|p| {
            let f = vigil_fixture::Fixture::load(p).unwrap();
            f.txs.iter().filter(|t| t.label == Label::Benign).count()
        })
        .collect();
    assert_eq!(counts, [30, 30, 10]);
    assert!(Background::new(Config { txs: 0, ..config }).is_err());
}

/// A run of three fixtures has every kind issue 14 added (the generator's
/// tally counts them), every file replays with each transaction
/// succeeding, and a fixture generated again from a new world is the same
/// bytes.
#[test]
fn every_everyday_kind_occurs_and_replays() {
    let config = Config { txs: 3000, seed: 3, per_fixture: 1000, accounts: 80, jobs: 2 };
    let dir = tempfile::tempdir().unwrap();
    let run = vigil_corpus::background::generate(config, dir.path(), |_, _| {}).unwrap();
    assert_eq!(run.tally.total(), 3000, "the tally counts every benign transaction once");
    let missing: Vec<&str> = FAMILY_KINDS.iter().copied().filter(|k| run.tally.get(k) == 0).collect();
    assert!(missing.is_empty(), "kinds that never occurred: {missing:?}\n{:?}", run.tally);
    // Rarer than swaps and transfers, but present.
    for kind in FAMILY_KINDS {
        let share = run.tally.get(kind) as f64 / 3000.0;
        assert!(share < 0.03, "{kind} is {:.1}% of the traffic", 100.0 * share);
    }
    assert!(run.tally.get("token-transfer") + run.tally.get("eth-transfer") > 300);
    let distinct: BTreeSet<&str> = FAMILY_KINDS.iter().copied().collect();
    assert_eq!(distinct.len(), FAMILY_KINDS.len());

    // `generate` replayed every file before writing it; replay one again here.
    let first = std::fs::read_to_string(&run.paths[0]).unwrap();
    let v = verify(&first).unwrap();
    assert_eq!(v.fixture.txs.iter().filter(|t| t.label == Label::Benign).count(), 1000);
    assert!(v.fixture.txs.iter().all(|t| t.label != Label::Attack));
    let (again, tally) = Background::new(config).unwrap().fixture_tallied(0).unwrap();
    assert!(again.text == first, "background generation is not deterministic");
    assert_eq!(tally.total(), 1000);
}
