//! Epochs: the committee the node votes in, the one before it, and the
//! move to a newer one (with this node's undecided verdicts signed again).

use std::sync::Arc;

use alloy_primitives::B256;
use vigil_consensus::VerifiedCommittee;
use vigil_crypto::SecretKey;

use super::{blocking, Ballot, Inspector};

/// The committee the node is in now, the one before it (its certificates
/// are still good for a while), and this node's index in the current one.
#[derive(Debug, Clone)]
pub(super) struct EpochState {
    pub(super) committee: Arc<VerifiedCommittee>,
    pub(super) previous: Option<Arc<VerifiedCommittee>>,
    /// `None`: this node's key is not in the current committee; it does
    /// not vote.
    pub(super) index: Option<u32>,
}

impl EpochState {
    /// The committee of `epoch`, if it is the current or the previous one.
    pub(super) fn committee_of(&self, epoch: u64) -> Option<&Arc<VerifiedCommittee>> {
        if self.committee.epoch() == epoch {
            return Some(&self.committee);
        }
        self.previous.as_ref().filter(|c| c.epoch() == epoch)
    }
}

/// What [`Inspector::set_committee`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitteeSwitch {
    /// The node moved to the new epoch; its index there, `None` when its key
    /// is not a member (it stops voting).
    Moved {
        /// The new epoch.
        epoch: u64,
        /// This node's index in it.
        index: Option<u32>,
    },
    /// The committee is not newer than the current one: nothing changed.
    NotNewer {
        /// The node's current epoch.
        current: u64,
    },
}

impl Inspector {
    pub(super) fn epoch_state(&self) -> EpochState {
        self.epoch.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// The current committee.
    pub fn committee(&self) -> Arc<VerifiedCommittee> {
        self.epoch.read().unwrap_or_else(std::sync::PoisonError::into_inner).committee.clone()
    }

    /// This node's index in the current committee; `None` when it is not a
    /// member (it does not vote).
    pub fn signer_index(&self) -> Option<u32> {
        self.epoch.read().unwrap_or_else(std::sync::PoisonError::into_inner).index
    }

    /// Moves the node to a newer epoch's committee (the registry watcher
    /// calls it): votes of that epoch are taken from now on and older
    /// epochs' aggregations dropped (DESIGN §3), this node's verdicts on
    /// the old epoch's undecided transactions are signed again in the new
    /// one, it signs with its index there (found by its BLS key) or, when
    /// it is not a member, stops voting, and the previous committee is kept
    /// to verify the certificates still in flight. A committee of another chain is
    /// refused; one not newer than the current changes nothing.
    pub fn set_committee(&self, committee: Arc<VerifiedCommittee>) -> Result<CommitteeSwitch, String> {
        if committee.chain_id() != self.chain_id {
            return Err(format!(
                "the committee of epoch {} serves chain {}, this node inspects chain {}",
                committee.epoch(),
                committee.chain_id(),
                self.chain_id
            ));
        }
        let epoch = committee.epoch();
        let current = self.committee().epoch();
        if epoch <= current {
            return Ok(CommitteeSwitch::NotNewer { current });
        }
        let index = member_index(&committee, &self.key);
        // The pool and the epoch state move together (the state's lock is
        // only ever taken inside the pool's, never the other way), so an
        // own vote the pool refuses as of another epoch is always older
        // than the state's epoch, and is re-signed (`cast`).
        let carried = {
            let mut pool = self.pool.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let carried = pool.undecided(current);
            pool.add_committee(committee.clone());
            pool.set_current_epoch(epoch);
            let mut state = self.epoch.write().unwrap_or_else(std::sync::PoisonError::into_inner);
            let old = std::mem::replace(&mut state.committee, committee.clone());
            state.previous = Some(old);
            state.index = index;
            carried
        };
        // The old epoch's undecided transactions lose their votes with it:
        // this node's verdicts on them are signed again for the new epoch
        // (the other members do the same when they move), so they can
        // still be certified.
        if index.is_some() && !carried.is_empty() {
            if let (Some(me), Ok(rt)) = (self.this.upgrade(), tokio::runtime::Handle::try_current()) {
                rt.spawn(me.revote(carried));
            }
        }
        self.metrics.epoch.set(i64::try_from(epoch).unwrap_or(i64::MAX));
        self.metrics.member_index.set(index.map_or(-1, i64::from));
        match index {
            Some(i) => tracing::info!(epoch, previous = current, index = i, members = committee.len(), "new epoch: voting as member {i}"),
            None => tracing::warn!(
                epoch,
                previous = current,
                members = committee.len(),
                "new epoch: this node's BLS key is NOT in the committee; it stops voting (still serving RPC and gossip) until a committee includes it"
            ),
        }
        Ok(CommitteeSwitch::Moved { epoch, index })
    }

    /// Signs this node's stored verdicts on `hashes` again for the current
    /// epoch and casts them through the committer (stored, then gossiped).
    /// The same verdict under another epoch is no equivocation.
    pub(super) async fn revote(self: Arc<Self>, hashes: Vec<B256>) {
        let mut n = 0usize;
        for hash in hashes {
            let record = match blocking(|| self.store.verdict(hash)) {
                Ok(Some(r)) => r,
                // Not judged here (abstained, or still being simulated: that
                // one will be signed for the new epoch anyway).
                Ok(None) => continue,
                Err(e) => {
                    tracing::error!(tx = %hash, error = %e, "store read failed; not re-voting");
                    continue;
                }
            };
            let Some(vote) = self.sign(hash, record.kind) else { return };
            if self.ballots.send(Ballot { record, vote: Some(vote), judged: None, propose: None }).await.is_err() {
                return;
            }
            n += 1;
        }
        if n > 0 {
            tracing::info!(
                epoch = self.committee().epoch(),
                transactions = n,
                "re-voted undecided transactions in the new epoch"
            );
        }
    }
}

/// The index in `committee` of the member whose BLS key is `key`; `None`
/// when it is not a member.
fn member_index(committee: &VerifiedCommittee, key: &SecretKey) -> Option<u32> {
    let pk = key.public_key().to_bytes();
    committee.committee().members.iter().find(|m| m.bls_pubkey == pk).map(|m| m.index)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::testutil::committee;

    #[test]
    fn committee_of_finds_the_current_and_the_previous_epoch_only() {
        let (_, current) = committee(5, 4, 1);
        let (_, previous) = committee(4, 3, 2);
        let state = EpochState { committee: current.clone(), previous: Some(previous.clone()), index: Some(0) };
        assert!(state.committee_of(5).is_some_and(|c| Arc::ptr_eq(c, &current)));
        assert!(state.committee_of(4).is_some_and(|c| Arc::ptr_eq(c, &previous)));
        assert!(state.committee_of(3).is_none(), "an older epoch is not kept");
        assert!(state.committee_of(6).is_none(), "a later epoch is not known yet");
    }

    #[test]
    fn committee_of_without_a_previous_committee() {
        let (_, current) = committee(5, 4, 1);
        let state = EpochState { committee: current.clone(), previous: None, index: None };
        assert!(state.committee_of(5).is_some_and(|c| Arc::ptr_eq(c, &current)));
        assert!(state.committee_of(4).is_none());
    }

    #[test]
    fn member_index_finds_the_key_among_the_members() {
        let (keys, c) = committee(1, 4, 7);
        for (i, key) in keys.iter().enumerate() {
            assert_eq!(member_index(&c, key), Some(i as u32));
        }
        let (outsiders, _) = committee(1, 1, 8);
        assert_eq!(member_index(&c, &outsiders[0]), None);
    }
}
