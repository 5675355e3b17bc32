//! The committee watcher: follows the registry's epochs and hands each new
//! epoch's committee, verified, to its owner (the node's pipeline, the
//! gate's admission, the devnet's admission).
//!
//! ```text
//! every poll: currentEpoch() = c
//!   c <= held epoch                  ──> nothing
//!   committee(c)                     ──> verify (keys, proofs of possession) ──> channel
//!   c has no snapshot (lazy, nobody wrote yet):
//!     newest snapshot in (held, c]   ──> verify ──> channel
//!     none                           ──> keep the held committee (debug log)
//! RPC failure ──> logged once per distinct error, retried with backoff (at most 30 s)
//! ```
//!
//! The epoch a watcher's owner is "in" is therefore the newest epoch that
//! has a committee, not the settlement chain's clock: an epoch nobody
//! touched has no committee, and the network keeps signing with the last
//! one until a registry write or `snapshot()` fixes the next
//! (docs/decisions/0011-live-epoch-changes.md). The watcher only reads; it
//! never sends `snapshot()`.

use std::{sync::Arc, time::Duration};

use tokio::sync::mpsc;
use vigil_consensus::VerifiedCommittee;

use crate::{registry::Registry, SettlementError};

/// Longest wait between two tries while the settlement chain is down.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// What one look at the registry found.
#[derive(Debug)]
pub enum Observation {
    /// The held committee is still the newest one.
    Unchanged {
        /// The settlement chain's epoch.
        chain_epoch: u64,
        /// The epoch of the committee held.
        held: Option<u64>,
    },
    /// A newer committee, verified.
    Changed(Arc<VerifiedCommittee>),
}

/// Follows the registry's committees from a known epoch on.
#[derive(Debug)]
pub struct CommitteeWatcher {
    registry: Registry,
    from_block: u64,
    poll: Duration,
    held: Option<u64>,
    /// Blocks per epoch, once read.
    epoch_length: Option<u64>,
    /// The last error reported at warning level (each distinct one once).
    last_error: Option<String>,
    /// The last "no snapshot yet" epoch reported (once per epoch).
    last_unsnapshotted: Option<u64>,
}

impl CommitteeWatcher {
    /// A watcher of `registry` whose owner holds the committee of `held`
    /// (none: the first committee found is new). `from_block` is where the
    /// registry's history starts (its deployment block); `poll` how often
    /// to ask.
    pub fn new(registry: Registry, from_block: u64, poll: Duration, held: Option<u64>) -> Self {
        Self { registry, from_block, poll, held, epoch_length: None, last_error: None, last_unsnapshotted: None }
    }

    /// The epoch of the newest committee handed out (or given at start).
    pub fn held(&self) -> Option<u64> {
        self.held
    }

    /// Looks at the registry once. A newer committee is verified before it
    /// is returned, and becomes the held one.
    pub async fn observe(&mut self) -> Result<Observation, SettlementError> {
        let chain_epoch = self.registry.current_epoch().await?;
        let unchanged = |held| Ok(Observation::Unchanged { chain_epoch, held });
        if self.held.is_some_and(|h| h >= chain_epoch) {
            return unchanged(self.held);
        }
        let committee = match self.registry.committee(chain_epoch, self.from_block).await {
            Ok(c) => c,
            // The epoch right after the held one: nothing between to look at.
            Err(SettlementError::NoCommittee { .. })
                if self.held.is_some_and(|h| h.saturating_add(1) >= chain_epoch) =>
            {
                return self.no_snapshot(chain_epoch)
            }
            Err(SettlementError::NoCommittee { .. }) => {
                // Snapshots are lazy: the newest one after the held epoch,
                // if an epoch between was touched.
                let epoch_length = match self.epoch_length {
                    Some(l) => l,
                    None => {
                        let l = self.registry.epoch_length().await?.max(1);
                        self.epoch_length = Some(l);
                        l
                    }
                };
                let since =
                    self.held.map_or(0, |h| h.saturating_add(1).saturating_mul(epoch_length)).max(self.from_block);
                let newest = self.registry.latest_snapshot_epoch(since).await?;
                match newest.filter(|e| self.held.is_none_or(|h| *e > h) && *e <= chain_epoch) {
                    Some(e) => match self.registry.committee(e, self.from_block).await {
                        Ok(c) => c,
                        Err(SettlementError::NoCommittee { .. }) => return self.no_snapshot(chain_epoch),
                        Err(err) => return Err(err),
                    },
                    None => return self.no_snapshot(chain_epoch),
                }
            }
            Err(e) => return Err(e),
        };
        let epoch = committee.epoch;
        let verified = tokio::task::spawn_blocking(move || VerifiedCommittee::new(committee))
            .await
            .map_err(|e| SettlementError::Invalid(format!("verifying the committee of epoch {epoch}: {e}")))?
            .map_err(|e| SettlementError::Invalid(format!("the registry's committee of epoch {epoch}: {e}")))?;
        self.held = Some(epoch);
        Ok(Observation::Changed(Arc::new(verified)))
    }

    fn no_snapshot(&mut self, chain_epoch: u64) -> Result<Observation, SettlementError> {
        if self.last_unsnapshotted != Some(chain_epoch) {
            self.last_unsnapshotted = Some(chain_epoch);
            tracing::debug!(target: "vigil_settlement", chain_epoch, held = ?self.held, "the registry has no snapshot of the current epoch yet (taken by the epoch's first registry write or `vigil committee snapshot`); keeping the held committee");
        }
        Ok(Observation::Unchanged { chain_epoch, held: self.held })
    }

    /// Polls until the receiver is dropped, sending every newer committee.
    /// Never fails: a settlement chain that cannot be read is logged (each
    /// distinct error once at warning level) and retried with backoff.
    pub async fn run(mut self, updates: mpsc::Sender<Arc<VerifiedCommittee>>) {
        let mut backoff = self.poll;
        tracing::info!(target: "vigil_settlement", registry = %self.registry.address(), held = ?self.held, poll_ms = self.poll.as_millis() as u64, "watching the registry for new epochs");
        loop {
            let wait = match self.observe().await {
                Ok(Observation::Changed(committee)) => {
                    backoff = self.poll;
                    self.recovered();
                    tracing::info!(target: "vigil_settlement", epoch = committee.epoch(), members = committee.len(), total_stake = %committee.total_stake(), "new epoch: committee read from the registry");
                    if updates.send(committee).await.is_err() {
                        return;
                    }
                    Duration::ZERO
                }
                Ok(Observation::Unchanged { .. }) => {
                    backoff = self.poll;
                    self.recovered();
                    self.poll
                }
                Err(e) => {
                    let text = e.to_string();
                    if self.last_error.as_deref() != Some(text.as_str()) {
                        tracing::warn!(target: "vigil_settlement", registry = %self.registry.address(), error = %text, retry_in_ms = backoff.as_millis() as u64, "cannot read the registry's committee; keeping the held one, will retry");
                        self.last_error = Some(text);
                    } else {
                        tracing::debug!(target: "vigil_settlement", error = %text, "registry still unreadable");
                    }
                    let wait = backoff;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    wait
                }
            };
            if updates.is_closed() {
                return;
            }
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = updates.closed() => return,
            }
        }
    }

    fn recovered(&mut self) {
        if self.last_error.take().is_some() {
            tracing::info!(target: "vigil_settlement", registry = %self.registry.address(), "the registry is readable again");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::Client;
    use alloy_primitives::Address;

    #[tokio::test]
    async fn an_unreachable_registry_is_retried_and_the_watcher_ends_with_its_owner() {
        // A port nobody listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let registry = Registry::new(Client::new(format!("http://127.0.0.1:{port}")), Address::ZERO);
        let mut watcher = CommitteeWatcher::new(registry, 0, Duration::from_millis(10), Some(3));
        let e = watcher.observe().await.unwrap_err();
        assert!(matches!(e, SettlementError::Unreachable { .. }), "{e}");
        assert_eq!(watcher.held(), Some(3), "a failed read keeps the held committee");

        let (updates, mut committees) = mpsc::channel(1);
        let task = tokio::spawn(watcher.run(updates));
        // Nothing arrives while the chain is down, and the task keeps going.
        assert!(tokio::time::timeout(Duration::from_millis(200), committees.recv()).await.is_err());
        assert!(!task.is_finished(), "the watcher gave up");
        drop(committees);
        tokio::time::timeout(Duration::from_secs(5), task).await.expect("ends once its owner is gone").unwrap();
    }
}
