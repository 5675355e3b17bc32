//! Aggregation: votes go into the pool (aggregates verified by the batch
//! verifier outside the pool's lock), the pool's deadlines are ticked, and
//! the pool's events are acted on (certificate, quarantine, evidence).

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use vigil_consensus::{AggregationPool, Decision, Inserted, PoolEvent, VoteRejection};
use vigil_crypto::BatchVerifier;
use vigil_types::{codec::Wire, Topic, Vote};

use super::{blocking, now_ms, Inspector, NodeEvent};
use crate::store::{QuarantineRecord, Review};

impl Inspector {
    /// Adds a vote to the pool. An aggregate of pending votes ready to
    /// pass the threshold is verified by the batch verifier, outside the
    /// pool's lock, then handed back to the pool.
    pub(super) async fn pool_insert(&self, vote: Vote) -> Result<Vec<PoolEvent>, VoteRejection> {
        insert_verified(&self.pool, &self.verifier, vote).await
    }

    pub(super) fn lock_pool(&self) -> std::sync::MutexGuard<'_, AggregationPool> {
        lock(&self.pool)
    }

    pub(super) async fn ticker(self: Arc<Self>) {
        let mut interval = tokio::time::interval(Duration::from_millis(50));
        loop {
            interval.tick().await;
            let events = {
                let mut pool = self.pool.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                pool.tick(now_ms())
            };
            if !events.is_empty() {
                self.handle(events).await;
            }
            self.expire_batches().await;
        }
    }

    pub(super) async fn handle(&self, events: Vec<PoolEvent>) {
        for event in events {
            match event {
                PoolEvent::Decided { tx_hash, decision: Decision::Certified(cert), .. } => {
                    let cert = cert.into_inner();
                    self.on_certificate(cert, true).await;
                    let _ = tx_hash;
                }
                PoolEvent::Decided { tx_hash, decision: Decision::Quarantined(reason), .. } => {
                    let record = QuarantineRecord {
                        tx_hash,
                        reason: reason.to_string(),
                        since_ms: now_ms(),
                        block_number: self.view().head().number + 1,
                        review: Review::default(),
                    };
                    self.lock_inflight().decided(&tx_hash, Instant::now());
                    match blocking(|| self.store.quarantine(&record)) {
                        Ok(()) => {
                            self.metrics.quarantined.inc();
                            tracing::warn!(tx = %tx_hash, reason = %record.reason, "quarantined");
                            let _ = self.events.send(NodeEvent::Quarantine(Arc::new(record)));
                        }
                        Err(e) => tracing::error!(tx = %tx_hash, error = %e, "could not store the quarantine"),
                    }
                }
                PoolEvent::Equivocation(evidence) => {
                    let evidence = evidence.evidence().clone();
                    tracing::warn!(signer = evidence.clean().signer, tx = %evidence.clean().tx_hash, "equivocation");
                    self.metrics.equivocations.inc();
                    if let Err(e) = self.net.publish(Topic::Evidence, evidence.encode()).await {
                        tracing::debug!(error = %e, "evidence not gossiped");
                    }
                }
                PoolEvent::BadVote { signer, tx_hash } => {
                    tracing::warn!(signer, tx = %tx_hash, "a relayed vote failed verification");
                }
                PoolEvent::Evicted { tx_hash, .. } => {
                    tracing::warn!(tx = %tx_hash, "pool full: oldest transaction evicted");
                }
            }
        }
    }
}

/// [`Inspector::pool_insert`] on `pool`, with `verifier` for the aggregates.
async fn insert_verified(
    pool: &Mutex<AggregationPool>,
    verifier: &BatchVerifier,
    vote: Vote,
) -> Result<Vec<PoolEvent>, VoteRejection> {
    let Inserted { mut events, mut claim } = lock(pool).insert_deferred(vote, now_ms())?;
    while let Some(c) = claim.take() {
        let outcome = verifier.verify(c.check().clone()).await;
        let more = lock(pool).complete(c, outcome, now_ms());
        events.extend(more.events);
        claim = more.claim;
    }
    Ok(events)
}

fn lock(pool: &Mutex<AggregationPool>) -> std::sync::MutexGuard<'_, AggregationPool> {
    pool.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use alloy_primitives::B256;
    use vigil_consensus::PoolConfig;
    use vigil_types::VoteKind;

    use super::*;
    use crate::pipeline::testutil::{committee, vote};

    /// A pool of `committee`'s epoch and a verifier.
    fn pool(c: &Arc<vigil_consensus::VerifiedCommittee>) -> (Mutex<AggregationPool>, BatchVerifier) {
        let mut pool = AggregationPool::new(PoolConfig { deadline_ms: 60_000, ..PoolConfig::default() });
        pool.add_committee(c.clone());
        pool.set_current_epoch(c.epoch());
        (Mutex::new(pool), BatchVerifier::start("test-verifier", 8, 64))
    }

    fn certified(events: &[PoolEvent]) -> Option<&vigil_consensus::VerifiedCertificate> {
        events.iter().find_map(|e| match e {
            PoolEvent::Decided { decision: Decision::Certified(cert), .. } => Some(cert),
            _ => None,
        })
    }

    #[tokio::test]
    async fn the_vote_passing_the_threshold_certifies_once_its_aggregate_verifies() {
        let (keys, c) = committee(3, 4, 11);
        let (pool, verifier) = pool(&c);
        let tx = B256::repeat_byte(0x77);
        for i in 0..2u32 {
            let events = insert_verified(&pool, &verifier, vote(&c, &keys[i as usize], i, tx, VoteKind::Clean))
                .await
                .expect("member's vote");
            assert!(certified(&events).is_none(), "certified with {} of 4 votes", i + 1);
        }
        let events =
            insert_verified(&pool, &verifier, vote(&c, &keys[2], 2, tx, VoteKind::Clean)).await.expect("third vote");
        let cert = certified(&events).expect("3 of 4 certify").certificate();
        assert_eq!((cert.tx_hash, cert.epoch, cert.kind), (tx, 3, VoteKind::Clean));
        assert_eq!(cert.signers.count(), 3);
    }

    #[tokio::test]
    async fn a_forged_vote_in_the_aggregate_is_named_and_certifies_nothing() {
        let (keys, c) = committee(3, 4, 11);
        let (pool, verifier) = pool(&c);
        let tx = B256::repeat_byte(0x78);
        for i in 0..2u32 {
            insert_verified(&pool, &verifier, vote(&c, &keys[i as usize], i, tx, VoteKind::Clean))
                .await
                .expect("member's vote");
        }
        // Member 2's vote signed with member 3's key.
        let forged = vote(&c, &keys[3], 2, tx, VoteKind::Clean);
        let events = insert_verified(&pool, &verifier, forged).await.expect("well-formed vote");
        assert!(certified(&events).is_none(), "a forged vote counted");
        assert!(
            events.iter().any(|e| matches!(e, PoolEvent::BadVote { signer: 2, tx_hash } if *tx_hash == tx)),
            "the forged vote is not named: {events:?}"
        );
    }

    #[tokio::test]
    async fn refusals_come_back_before_any_verification() {
        let (keys, c) = committee(3, 4, 11);
        let (pool, verifier) = pool(&c);
        let tx = B256::repeat_byte(0x79);
        let v = vote(&c, &keys[0], 0, tx, VoteKind::Clean);
        insert_verified(&pool, &verifier, v.clone()).await.expect("first");
        assert!(matches!(insert_verified(&pool, &verifier, v).await, Err(VoteRejection::Duplicate { index: 0, .. })));
        let (other_keys, other) = committee(9, 4, 11);
        let stale = vote(&other, &other_keys[1], 1, tx, VoteKind::Clean);
        assert!(matches!(
            insert_verified(&pool, &verifier, stale).await,
            Err(VoteRejection::EpochOutsideWindow { epoch: 9 })
        ));
    }
}
