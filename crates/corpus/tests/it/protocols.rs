//! The real-protocol world: it builds, its traffic replays, covers at least
//! forty kinds of action and is deterministic.

use std::collections::BTreeSet;

use vigil_corpus::{
    protocols::{Config, Protocols},
    verify,
};
use vigil_fixture::Label;

#[test]
fn small_run_replays_covers_forty_kinds_and_is_deterministic() {
    let config = Config { txs: 2000, seed: 7, per_fixture: 2000, accounts: 300, jobs: 1 };
    let p = Protocols::new(config).unwrap();
    let first = p.fixture(0).unwrap();
    let v = verify(&first.file.text).unwrap();
    let setup = v.fixture.txs.iter().filter(|t| t.label == Label::Setup).count();
    assert_eq!(setup, p.setup_len());
    assert!(v.fixture.txs[..setup].iter().all(|t| t.label == Label::Setup));
    assert!(v.fixture.txs[setup..].iter().all(|t| t.label == Label::Benign));
    assert_eq!(v.fixture.txs.len() - setup, 2000);
    // The generator's own tally: every benign transaction counted once, in
    // at least forty kinds.
    assert_eq!(first.tally.values().sum::<usize>(), 2000);
    let kinds: Vec<&str> = first.tally.keys().map(|k| k.name()).collect();
    assert!(kinds.len() >= 40, "only {} kinds: {kinds:?}", kinds.len());
    for must in [
        "v2-swap-exact-eth-for-tokens",
        "v3-exact-input-single",
        "aave-borrow",
        "merkle-airdrop-claim",
        "safe-v2-burn-lp-multisend",
    ] {
        assert!(kinds.contains(&must), "no {must}: {kinds:?}");
    }
    let senders: BTreeSet<_> = v.fixture.txs[setup..].iter().map(|t| t.tx.sender()).collect();
    assert!(senders.len() > 150, "only {} senders", senders.len());

    // Same seed, a new world: the same transactions (a shorter run is a
    // prefix of the longer one) and the same bytes for the same command.
    let short = Config { txs: 400, per_fixture: 400, ..config };
    let a = Protocols::new(short).unwrap().fixture(0).unwrap();
    let b = Protocols::new(short).unwrap().fixture(0).unwrap();
    assert!(a.file.text == b.file.text, "generation is not deterministic");
    let va = verify(&a.file.text).unwrap();
    let raw = |f: &vigil_fixture::Fixture, n: usize| f.txs[..n].iter().map(|t| t.tx.hash()).collect::<Vec<_>>();
    assert_eq!(raw(&va.fixture, setup + 400), raw(&v.fixture, setup + 400));
    // Another seed: another world and other traffic.
    let other = Protocols::new(Config { seed: 8, ..short }).unwrap().fixture(0).unwrap();
    assert_ne!(other.file.text, a.file.text);
}

/// The committed artifact of `package/contract`.
fn artifact(package: &str, contract: &str) -> serde_json::Value {
    let path = format!("{}/protocols/artifacts/{package}/{contract}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn code(a: &serde_json::Value, field: &str) -> Vec<u8> {
    alloy_primitives::hex::decode(a[field].as_str().unwrap()).unwrap()
}

#[test]
fn routers_hard_code_the_shipped_pools_init_code_hashes() {
    use alloy_primitives::{hex, keccak256};
    // Uniswap v2: Router02 (through UniswapV2Library.pairFor) derives pair
    // addresses from this hash; it must be keccak256 of the shipped pair's
    // creation code, or every router call would miss its pair.
    let pair = keccak256(code(&artifact("uniswap-v2-core", "UniswapV2Pair"), "bytecode"));
    assert_eq!(hex::encode(pair), "96e8ac4277198ff8b6f785478aa9a39f403cb768dd02cbee326c3e7da348845f");
    let router = code(&artifact("uniswap-v2-periphery", "UniswapV2Router02"), "deployedBytecode");
    assert!(router.windows(32).any(|w| w == pair.as_slice()));
    // Uniswap v3: the periphery's PoolAddress.POOL_INIT_CODE_HASH.
    let pool = keccak256(code(&artifact("uniswap-v3-core", "UniswapV3Pool"), "bytecode"));
    assert_eq!(hex::encode(pool), "e34f199b19b2b4f47f68442619d555527d244f78a3297ea89325f843f87b8b54");
    for c in ["SwapRouter", "NonfungiblePositionManager", "QuoterV2"] {
        let code = code(&artifact("uniswap-v3-periphery", c), "deployedBytecode");
        assert!(code.windows(32).any(|w| w == pool.as_slice()), "{c}");
    }
}

#[test]
fn artifacts_are_the_pinned_packages_and_fit_eip170() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("protocols");
    let lock: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("package-lock.json")).unwrap()).unwrap();
    let mut n = 0;
    for dir in std::fs::read_dir(root.join("artifacts")).unwrap() {
        for f in std::fs::read_dir(dir.unwrap().path()).unwrap() {
            let path = f.unwrap().path();
            let a: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let package = a["package"].as_str().unwrap();
            if package != "vigil-corpus-protocols" {
                let pinned = &lock["packages"][format!("node_modules/{package}")]["version"];
                assert_eq!(a["version"], *pinned, "{}", path.display());
            }
            // Linked contracts' code has `__$…$__` placeholders: count bytes.
            let runtime = a["deployedBytecode"].as_str().unwrap().len().saturating_sub(2) / 2;
            assert!(runtime <= 24_576, "{} is {runtime} bytes", path.display());
            n += 1;
        }
    }
    assert!(n >= 40, "{n} artifacts");
}
