//! Generates Vigil's detection corpus: `vigil-fixture/1` files for the 13
//! attack and 13 benign scenarios of `contracts/SCENARIOS.md`, and seeded
//! ordinary background traffic over the same protocols.
//!
//! It owns the contract bindings (compiled in from the committed artifacts),
//! the accounts' keys, the signing of transactions and the fixture JSON it
//! writes. It must not judge transactions, and it puts nothing in them that
//! marks their label: roles, names and notes live only in the fixture's
//! `name`, `description`, `label` and `note` fields.
//!
//! ```text
//!  scenario / background step ──> Chain::try_send ── unsigned dry run (revm, vigil-sim's block rules)
//!                                   │ succeeds? no ─> Err (scenario) / another action (background)
//!                                   ▼ yes
//!                                 sign EIP-1559 (next nonce, estimated gas) ─> apply ─> record {raw, label, note}
//!  Chain::to_json ──> text ──> verify(): parse with vigil-fixture, replay with vigil_sim::Replay,
//!                                        every tx must succeed ──> write file
//! ```
//!
//! Deterministic: keys come from fixed seeds, background choices from a
//! seeded ChaCha RNG, and the JSON has a fixed layout, so the same command
//! writes the same bytes.

pub mod background;
mod chain;
pub mod contracts;
mod det;
mod error;
mod evm;
mod file;
mod keys;
pub mod protocols;
pub mod scenarios;
mod verify;

use std::path::{Path, PathBuf};

pub use chain::{Chain, Sent, TxRecord, BLOCK_GAS_LIMIT, CHAIN_ID, GENESIS_TIMESTAMP, PROBE_GAS};
pub use error::CorpusError;
pub use keys::{actor, deployer, eth_signed_message_hash, Actor};
pub use verify::{verify, Verified};

/// One generated fixture file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixtureFile {
    /// Path relative to the output directory (`attack/<name>.json`…).
    pub path: PathBuf,
    /// The file's text.
    pub text: String,
    /// Transactions in it.
    pub txs: usize,
}

/// Generates the 26 scenario fixtures and verifies each by replaying it.
/// Paths are `attack/<name>.json` and `benign/<name>.json`.
pub fn scenario_files() -> Result<Vec<FixtureFile>, CorpusError> {
    scenarios::all()
        .into_iter()
        .map(|s| {
            let generated = s.generate()?;
            let verified = verify(&generated.json)?;
            Ok(FixtureFile {
                path: Path::new(s.kind.dir()).join(format!("{}.json", s.name)),
                text: generated.json,
                txs: verified.fixture.txs.len(),
            })
        })
        .collect()
}

/// The demo world (`scenarios::demo_world`), verified by replaying it.
pub fn demo_world_file() -> Result<FixtureFile, CorpusError> {
    let text = scenarios::demo_world()?;
    let verified = verify(&text)?;
    Ok(FixtureFile { path: PathBuf::from("world.json"), text, txs: verified.fixture.txs.len() })
}

/// Writes `file` under `out`, creating directories as needed.
pub fn write_file(out: &Path, file: &FixtureFile) -> Result<PathBuf, CorpusError> {
    let path = out.join(&file.path);
    let io = |p: &Path, e: std::io::Error| CorpusError::Io { path: p.to_owned(), message: e.to_string() };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    }
    std::fs::write(&path, &file.text).map_err(|e| io(&path, e))?;
    Ok(path)
}
