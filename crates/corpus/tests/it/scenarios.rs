//! The 26 scenario fixtures committed in `crates/corpus/fixtures`.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use vigil_corpus::{scenario_files, scenarios, verify};
use vigil_fixture::Label;

fn committed_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Every committed fixture file, by path relative to the fixtures directory.
fn committed() -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    for dir in ["attack", "benign"] {
        let full = committed_dir().join(dir);
        for entry in std::fs::read_dir(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display())) {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(committed_dir()).unwrap().to_owned();
            out.insert(rel, std::fs::read_to_string(&path).unwrap());
        }
    }
    out
}

#[test]
fn regenerating_gives_the_committed_bytes() {
    let generated = scenario_files().unwrap();
    let mut committed = committed();
    assert_eq!(generated.len(), 26);
    for f in &generated {
        let Some(text) = committed.remove(&f.path) else {
            panic!(
                "{} is generated but not committed: run `vigil-corpus scenarios --out crates/corpus/fixtures`",
                f.path.display()
            )
        };
        assert!(
            text == f.text,
            "{} differs from what the generator writes: run `vigil-corpus scenarios --out crates/corpus/fixtures`",
            f.path.display()
        );
    }
    assert!(committed.is_empty(), "committed fixtures no scenario generates: {:?}", committed.keys());
}

/// Gas SCENARIOS.md's executed run measured for each scenario's main
/// transaction: the attack, else the last transaction, except where an index
/// is given (B4's factory deployment, B9's listing, B10's first release).
const OBSERVED_GAS: [(&str, u64); 26] = [
    ("A1", 349_878),
    ("A2", 213_200),
    ("A3", 233_999),
    ("A4", 120_467),
    ("A5", 1_260_525),
    ("A6", 145_241),
    ("A7", 718_381),
    ("A8", 136_493),
    ("A9", 205_308),
    ("A10", 4_668_106),
    ("A11", 877_507),
    ("A12", 186_072),
    ("A13", 96_501),
    ("B1", 180_732),
    ("B2", 288_092),
    ("B3", 67_105),
    ("B4", 135_631),
    ("B5", 116_939),
    ("B6", 982_089),
    ("B7", 151_045),
    ("B8", 636_391),
    ("B9", 211_675),
    ("B10", 88_030),
    ("B11", 793_490),
    ("B12", 93_052),
    ("B13", 90_739),
];

#[test]
fn committed_fixtures_replay_as_labelled() {
    let committed = committed();
    let observed: BTreeMap<&str, u64> = OBSERVED_GAS.into_iter().collect();
    let main_index: BTreeMap<&str, usize> = [("B4", 8), ("B9", 33), ("B10", 26)].into_iter().collect();
    for s in scenarios::all() {
        let rel = PathBuf::from(s.kind.dir()).join(format!("{}.json", s.name));
        let text = committed.get(&rel).unwrap_or_else(|| panic!("{} not committed", rel.display()));
        // Every setup, benign and attack transaction succeeds (rule 3).
        let v = verify(text).unwrap_or_else(|e| panic!("{}: {e}", rel.display()));
        let f = &v.fixture;
        assert_eq!(f.name, s.name);
        assert!(!f.description.is_empty());
        let attacks: Vec<_> = f.txs.iter().filter(|t| t.label == Label::Attack).collect();
        match s.kind {
            scenarios::Kind::Attack => {
                assert_eq!(attacks.len(), 1, "{}", s.id);
                assert_eq!(attacks[0].index, f.txs.len() - 1 - usize::from(s.id == "A9") * 3, "{}", s.id);
            }
            scenarios::Kind::Benign => assert!(attacks.is_empty(), "{}", s.id),
        }
        assert!(f.txs.iter().any(|t| t.label == Label::Benign), "{} has no benign transaction", s.id);
        // Same execution as the JS run: the scenario's main transaction
        // uses the gas it measured, give or take a few gas of calldata that
        // depends on the accounts' addresses.
        let main =
            main_index.get(s.id).copied().unwrap_or_else(|| attacks.first().map_or(f.txs.len() - 1, |t| t.index));
        let gas = v.gas_used[main];
        let expected = observed[s.id];
        let off = gas.abs_diff(expected) as f64 / expected as f64;
        println!(
            "{} {}: gas {gas}, observed {expected} ({:+.2}%)",
            s.id,
            s.name,
            100.0 * (gas as f64 / expected as f64 - 1.0)
        );
        assert!(off < 0.001, "{}: gas {gas}, SCENARIOS.md observed {expected}", s.id);
    }
}

#[test]
fn only_the_deployer_is_shared_between_fixtures() {
    let deployer = vigil_corpus::deployer().unwrap().address();
    let mut seen: BTreeMap<alloy_primitives::Address, String> = BTreeMap::new();
    for (path, text) in committed() {
        let f = vigil_fixture::Fixture::from_json_str(&text).unwrap();
        for address in f.genesis.alloc.keys() {
            if *address == deployer {
                continue;
            }
            if let Some(other) = seen.insert(*address, path.display().to_string()) {
                panic!("{address} is in the genesis of both {other} and {}", path.display());
            }
        }
    }
}

/// The demo world the local testnet plays: regenerated byte for byte, every
/// attack labelled once, and no account of one scenario reused by another
/// (a quarantined attack must not strand a later scenario's transactions).
#[test]
fn demo_world_is_committed_and_keeps_scenarios_apart() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testnet/demo/world.json");
    let committed = std::fs::read_to_string(&path).expect("testnet/demo/world.json is committed");
    let generated = vigil_corpus::demo_world_file().expect("the demo world generates");
    assert!(
        generated.text == committed,
        "testnet/demo/world.json differs from the generator: run `vigil-corpus demo-world --out testnet/demo`"
    );
    let fixture = vigil_fixture::Fixture::from_json_str(&committed).unwrap();
    let attacks: Vec<_> = fixture.txs.iter().filter(|t| t.label == vigil_fixture::Label::Attack).collect();
    assert_eq!(attacks.len(), 13);
    // Every attacker sends nothing after its attack.
    for a in &attacks {
        let sender = a.tx.sender();
        let later =
            fixture.txs.iter().skip_while(|t| t.tx.hash() != a.tx.hash()).skip(1).filter(|t| t.tx.sender() == sender);
        assert_eq!(later.count(), 0, "{sender} sends again after its attack");
    }
}
