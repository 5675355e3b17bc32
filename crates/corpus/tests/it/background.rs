//! Background traffic: every transaction replays successfully, and the same
//! seed gives the same bytes.

use vigil_corpus::{
    background::{Background, Config},
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
    let paths = vigil_corpus::background::generate(config, dir.path(), |_, _| {}).unwrap();
    assert_eq!(paths.len(), 3);
    let counts: Vec<usize> = paths
        .iter()
        .map(|p| {
            let f = vigil_fixture::Fixture::load(p).unwrap();
            f.txs.iter().filter(|t| t.label == Label::Benign).count()
        })
        .collect();
    assert_eq!(counts, [30, 30, 10]);
    assert!(Background::new(Config { txs: 0, ..config }).is_err());
}
