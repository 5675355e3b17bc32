//! Replaying a fixture file the way an evaluation will, with
//! `vigil_sim::Replay`, and checking FORMAT.md rule 3: every `setup`,
//! `benign` and `attack` transaction succeeds.

use vigil_fixture::Fixture;
use vigil_sim::{ExecResult, Replay};

use crate::CorpusError;

/// A fixture that replays as its labels say.
#[derive(Debug)]
pub struct Verified {
    /// The parsed fixture.
    pub fixture: Fixture,
    /// The chain after its last transaction.
    pub replay: Replay,
    /// Gas used by each transaction.
    pub gas_used: Vec<u64>,
}

/// Parses fixture text and replays every transaction from genesis; the
/// first one that does not succeed is an error naming its index, label,
/// note and revert reason.
pub fn verify(text: &str) -> Result<Verified, CorpusError> {
    let fixture = Fixture::from_json_str(text)?;
    let mut replay = Replay::new(&fixture.genesis)?;
    let mut gas_used = Vec::with_capacity(fixture.txs.len());
    for t in &fixture.txs {
        let failed = |reason: String| CorpusError::TxFailed {
            fixture: fixture.name.clone(),
            index: t.index,
            label: t.label,
            note: t.note.clone(),
            reason,
        };
        let out = replay.execute_next(&t.tx).map_err(|e| failed(e.to_string()))?;
        match &out.result {
            ExecResult::Success { gas_used: g, .. } => gas_used.push(*g),
            ExecResult::Revert { output, .. } => return Err(failed(crate::evm::revert_reason(output))),
            other => return Err(failed(format!("{other:?}"))),
        }
    }
    Ok(Verified { fixture, replay, gas_used })
}
