//! Gossip in: every message is validated (size, decoding, and per topic:
//! admission, the pool, certificate and evidence verification) and the
//! answer fed to gossipsub's acceptance and peer scoring.

use std::sync::Arc;

use tokio::sync::mpsc;
use vigil_consensus::{prepare_certificate, verify_evidence, Decision, VoteRejection};
use vigil_net::{Direct, Inbound, NetEvent, Validation};
use vigil_types::{
    codec::Wire, gossip::TxAnnouncement, BatchCertificate, BatchProposal, BatchVote, Certificate, EquivocationEvidence,
    Topic, Vote,
};

use super::{blocking, now_ms, EpochState, Inspector};
use crate::store::TxSource;

impl Inspector {
    /// Validates one gossip message and acts on it; the answer tells
    /// gossipsub whether to forward it and how to score its sender.
    pub async fn on_gossip(&self, msg: &Inbound) -> Validation {
        if msg.data.len() > msg.topic.max_message_size() {
            self.metrics.gossip.with_label_values(&[topic_label(msg.topic), "oversized"]).inc();
            return Validation::Reject;
        }
        self.metrics.gossip_bytes.with_label_values(&[topic_label(msg.topic)]).inc_by(msg.data.len() as u64);
        let (validation, label) = match msg.topic {
            Topic::Batch => match BatchProposal::decode(&msg.data) {
                Err(_) => (Validation::Reject, "malformed"),
                Ok(proposal) => self.on_proposal(proposal, msg.author).await,
            },
            Topic::BatchCert => match BatchCertificate::decode(&msg.data) {
                Err(_) => (Validation::Reject, "malformed"),
                Ok(cert) => self.on_gossiped_batch_certificate(cert).await,
            },
            Topic::BatchVote => match BatchVote::decode(&msg.data) {
                Err(_) => (Validation::Reject, "malformed"),
                Ok(vote) => self.on_batch_vote(vote).await,
            },
            Topic::Tx => match TxAnnouncement::decode(&msg.data) {
                Err(_) => (Validation::Reject, "malformed"),
                Ok(a) => match self.submit(&a.raw, TxSource::Gossip).await {
                    Ok(_) => (Validation::Accept, "accepted"),
                    Err(e) if e.is_peer_fault() => (Validation::Reject, "invalid"),
                    Err(_) => (Validation::Ignore, "ignored"),
                },
            },
            Topic::Vote => match Vote::decode(&msg.data) {
                Err(_) => (Validation::Reject, "malformed"),
                Ok(vote) => self.on_vote(vote).await,
            },
            Topic::Cert => match Certificate::decode(&msg.data) {
                Err(_) => (Validation::Reject, "malformed"),
                // Certified here already, or a certificate stored: no
                // pairing spent, nothing to forward.
                Ok(cert)
                    if matches!(self.lock_pool().decision(cert.epoch, &cert.tx_hash), Some(Decision::Certified(_)))
                        || matches!(blocking(|| self.store.certificate(cert.tx_hash)), Ok(Some(_))) =>
                {
                    (Validation::Ignore, "known")
                }
                Ok(cert) => {
                    // Verified against its own epoch's committee (the
                    // current or the previous one); another epoch's is not
                    // checkable here, which is no fault of the peer.
                    let Some(committee) = self.epoch_state().committee_of(cert.epoch).cloned() else {
                        self.metrics.gossip.with_label_values(&[topic_label(msg.topic), "other_epoch"]).inc();
                        return Validation::Ignore;
                    };
                    let verified = match prepare_certificate(&committee, &cert) {
                        Ok(pending) => {
                            let outcome = self.verifier.verify(pending.check().clone()).await;
                            pending.complete(outcome)
                        }
                        Err(e) => Err(e),
                    };
                    match verified {
                        Ok(verified) => {
                            // The pool need not verify this transaction's
                            // votes again.
                            self.lock_pool().record_certificate(verified, now_ms());
                            self.on_certificate(cert, false).await;
                            (Validation::Accept, "accepted")
                        }
                        Err(_) => (Validation::Reject, "invalid"),
                    }
                }
            },
            Topic::Evidence => match EquivocationEvidence::decode(&msg.data) {
                Err(_) => (Validation::Reject, "malformed"),
                Ok(evidence) => match self.epoch_state().committee_of(evidence.clean().epoch).cloned() {
                    None => (Validation::Ignore, "other_epoch"),
                    Some(committee) => match verify_evidence(&committee, &evidence) {
                        Ok(_) => (Validation::Accept, "accepted"),
                        Err(_) => (Validation::Reject, "invalid"),
                    },
                },
            },
        };
        self.metrics.gossip.with_label_values(&[topic_label(msg.topic), label]).inc();
        validation
    }

    /// A message a peer sent to this node alone: a batch vote on a batch
    /// this node proposed. Nothing is forwarded, so there is no verdict to
    /// report; what it would have been is counted.
    pub async fn on_direct(&self, msg: &Direct) {
        let label = match msg.topic {
            Topic::BatchVote => match BatchVote::decode(&msg.data) {
                Err(_) => "malformed",
                Ok(vote) => {
                    self.note_direct_vote(&vote);
                    self.on_batch_vote(vote).await.1
                }
            },
            _ => "unexpected",
        };
        self.metrics.direct.with_label_values(&[topic_label(msg.topic), label]).inc();
    }

    async fn on_vote(&self, vote: Vote) -> (Validation, &'static str) {
        if is_own(&self.epoch_state(), &vote) {
            // Our own vote echoed back (or a copy claiming to be it): the
            // pool has ours already.
            return (Validation::Ignore, "own");
        }
        // The pool checks chain, epoch, membership and the signature's
        // encoding before it spends a pairing on the vote.
        let result = self.pool_insert(vote.clone()).await;
        match result {
            Ok(events) => {
                if let Err(e) = blocking(|| self.store.put_vote(&vote)) {
                    tracing::error!(error = %e, "could not store a vote");
                }
                self.metrics.votes_seen.inc();
                tracing::debug!(tx = %vote.tx_hash, signer = vote.signer, "peer vote");
                self.handle(events).await;
                (Validation::Accept, "accepted")
            }
            Err(VoteRejection::Duplicate { .. }) => (Validation::Ignore, "duplicate"),
            Err(VoteRejection::EpochOutsideWindow { .. }) => (Validation::Ignore, "other_epoch"),
            Err(_) => (Validation::Reject, "invalid"),
        }
    }

    /// Reads gossip until the network stops, validating every message.
    pub async fn run_gossip(self: Arc<Self>, mut events: mpsc::Receiver<NetEvent>) {
        while let Some(event) = events.recv().await {
            match event {
                NetEvent::Message(msg) => {
                    let me = self.clone();
                    tokio::spawn(async move {
                        let v = me.on_gossip(&msg).await;
                        me.net.report(&msg.id, &msg.source, v);
                    });
                }
                NetEvent::Direct(msg) => {
                    let me = self.clone();
                    tokio::spawn(async move { me.on_direct(&msg).await });
                }
                NetEvent::PeerConnected(peer) => {
                    tracing::info!(%peer, "peer connected");
                    self.metrics.peers.inc();
                }
                NetEvent::PeerDisconnected(peer) => {
                    tracing::info!(%peer, "peer disconnected");
                    self.metrics.peers.dec();
                }
                NetEvent::PeerBanned { peer, score } => {
                    tracing::warn!(%peer, score, "peer banned for invalid gossip");
                    self.metrics.banned.inc();
                }
            }
        }
    }
}

/// Whether `vote` claims to be this node's own in the current epoch.
fn is_own(state: &EpochState, vote: &Vote) -> bool {
    state.index == Some(vote.signer) && vote.epoch == state.committee.epoch()
}

fn topic_label(t: Topic) -> &'static str {
    match t {
        Topic::Tx => "tx",
        Topic::Vote => "vote",
        Topic::Cert => "cert",
        Topic::Evidence => "evidence",
        Topic::Batch => "batch",
        Topic::BatchVote => "batchvote",
        Topic::BatchCert => "batchcert",
    }
}

#[cfg(test)]
mod tests {
    use alloy_primitives::B256;
    use vigil_types::VoteKind;

    use super::*;
    use crate::pipeline::testutil::{committee, vote};

    #[test]
    fn is_own_needs_this_nodes_index_and_the_current_epoch() {
        let (keys, current) = committee(5, 4, 3);
        let (old_keys, previous) = committee(4, 4, 3);
        let tx = B256::repeat_byte(1);
        let state = EpochState { committee: current.clone(), previous: Some(previous.clone()), index: Some(1) };
        assert!(is_own(&state, &vote(&current, &keys[1], 1, tx, VoteKind::Clean)));
        // Whoever signed it: a copy claiming to be ours is ours too.
        assert!(is_own(&state, &vote(&current, &keys[2], 1, tx, VoteKind::Malicious)));
        assert!(!is_own(&state, &vote(&current, &keys[2], 2, tx, VoteKind::Clean)), "another member's");
        assert!(!is_own(&state, &vote(&previous, &old_keys[1], 1, tx, VoteKind::Clean)), "the previous epoch's");
        let outside = EpochState { index: None, ..state };
        assert!(!is_own(&outside, &vote(&current, &keys[1], 1, tx, VoteKind::Clean)), "not a member");
    }

    #[test]
    fn topic_labels_are_the_topics_names() {
        for topic in Topic::ALL {
            assert_eq!(topic.name(7), format!("vigil/7/{}/1", topic_label(topic)));
        }
    }
}
