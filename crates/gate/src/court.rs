//! The court watcher: follows the quarantine court's `Released(txHash)`
//! events on the settlement chain and releases those transactions in the
//! ledger, which then forwards them like certified ones (DESIGN §7).
//!
//! ```text
//! every --court.poll-ms: head = eth_blockNumber - confirmations
//!   cursor..=min(head, cursor + range) ──eth_getLogs(Released)──> hashes
//!   ──> Ledger::apply_court_releases(hashes, cursor') (one synced batch) ──> wake the forwarder
//! ```
//!
//! The cursor is stored with the releases it covers, so a gate killed at
//! any instant restarts without missing or repeating a release. The
//! settlement chain being unreachable is logged and retried with backoff;
//! it never stops the gate. Only a store failure does.

use std::{sync::Arc, time::Duration};

use alloy_primitives::Address;
use tokio::sync::watch;
use tracing::{error, info, warn};
use vigil_settlement::{court::Court, rpc::Client, SettlementError};

use crate::{
    error::GateError,
    ledger::{CourtCursor, ReleaseRefusal},
    server::App,
};

/// Most blocks read per round.
const RANGE: u64 = 2_000;
/// Longest wait between two tries while the settlement chain is down.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Where the court is and how to follow it.
#[derive(Debug, Clone)]
pub struct CourtConfig {
    /// JSON-RPC URL of the settlement chain.
    pub rpc: String,
    /// The `QuarantineCourt`.
    pub address: Address,
    /// How often to ask for new events.
    pub poll: Duration,
    /// Blocks an event must be deep before it is applied (0 on a chain with
    /// instant finality, such as the devnet).
    pub confirmations: u64,
    /// The first block to read when the store has no cursor for this court
    /// (its deployment block).
    pub from_block: u64,
}

/// Runs until `stop` turns true; a store failure asks the whole gate to
/// stop.
pub async fn run(
    app: Arc<App>,
    config: CourtConfig,
    mut stop: watch::Receiver<bool>,
    stop_all: Arc<watch::Sender<bool>>,
) {
    let court = Court::new(Client::new(config.rpc.clone()), config.address);
    let mut backoff = config.poll;
    let mut code_checked = false;
    info!(target: "vigil_gate", rpc = %config.rpc, court = %config.address, "watching the quarantine court");
    loop {
        if *stop.borrow() {
            break;
        }
        let result = match code_checked {
            true => round(&app, &court, &config).await,
            // Logs of an address without code are always empty: say so
            // rather than wait silently for releases that cannot come.
            false => court.client().code(config.address).await.map_err(Failure::Chain).map(|code| {
                code_checked = true;
                if code.is_empty() {
                    error!(target: "vigil_gate", court = %config.address, rpc = %config.rpc, "no contract at --court.address on the settlement chain: no release can arrive; check the address");
                }
                true
            }),
        };
        let wait = match result {
            Ok(more) => {
                backoff = config.poll;
                if more {
                    Duration::ZERO
                } else {
                    config.poll
                }
            }
            Err(Failure::Chain(e)) => {
                app.metrics.court_errors.inc();
                warn!(target: "vigil_gate", rpc = %config.rpc, error = %e, retry_in_ms = backoff.as_millis() as u64, "cannot read the quarantine court; will retry");
                let wait = backoff;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                wait
            }
            Err(Failure::Gate(e)) => {
                error!(target: "vigil_gate", error = %e, "court watcher stops; shutting the gate down");
                let _ = stop_all.send(true);
                break;
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => {}
        }
    }
}

enum Failure {
    /// The settlement chain could not be read: retry.
    Chain(SettlementError),
    /// The gate itself failed: stop.
    Gate(GateError),
}

impl From<GateError> for Failure {
    fn from(e: GateError) -> Self {
        Failure::Gate(e)
    }
}

/// Reads one range of blocks and applies its releases; whether more blocks
/// are ready to read at once.
async fn round(app: &App, court: &Court, config: &CourtConfig) -> Result<bool, Failure> {
    let address = config.address;
    let stored = app.ledger.call(|l| l.court_cursor()).await?.map_err(GateError::from)?;
    let next = match stored {
        Some(c) if c.court == address => c.next_block,
        Some(c) => {
            warn!(target: "vigil_gate", previous = %c.court, court = %address, from_block = config.from_block, "the stored court cursor is for another court; reading this one from --court.from-block");
            config.from_block
        }
        None => config.from_block,
    };
    app.metrics.court_block.set(i64::try_from(next.saturating_sub(1)).unwrap_or(i64::MAX));
    let head = court.client().block_number().await.map_err(Failure::Chain)?;
    let Some(ready) = head.checked_sub(config.confirmations) else { return Ok(false) };
    if next > ready {
        return Ok(false);
    }
    let to = ready.min(next.saturating_add(RANGE - 1));
    let releases = court.releases(next, to).await.map_err(Failure::Chain)?;
    let hashes: Vec<_> = releases.iter().map(|r| r.tx_hash).collect();
    let cursor = CourtCursor { court: address, next_block: to.saturating_add(1) };
    let outcomes = app.ledger.call(move |l| l.apply_court_releases(&hashes, cursor)).await?.map_err(GateError::from)?;
    app.metrics.court_block.set(i64::try_from(to).unwrap_or(i64::MAX));
    let mut released = false;
    for (release, (hash, outcome)) in releases.iter().zip(outcomes) {
        match outcome {
            Ok(()) => {
                released = true;
                app.metrics.court_releases.inc();
                info!(target: "vigil_gate", tx = %hash, block = release.block, "released by the court; forwarding");
            }
            Err(refusal) => {
                app.metrics.court_releases_ignored.inc();
                let why = match &refusal {
                    ReleaseRefusal::Unknown(_) => "the gate does not hold it",
                    ReleaseRefusal::NotQuarantined { .. } => "it is not quarantined here",
                };
                warn!(target: "vigil_gate", tx = %hash, block = release.block, %refusal, "court release ignored: {why}");
            }
        }
    }
    if released {
        app.wake.notify_one();
    }
    Ok(to < ready)
}
