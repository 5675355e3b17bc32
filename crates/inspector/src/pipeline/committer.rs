//! The committer: this node's verdicts are stored in groups, one disk
//! sync per group, and only then cast (gossiped and added to the pool).

use std::{sync::Arc, time::Instant};

use tokio::sync::mpsc;
use vigil_consensus::VoteRejection;
use vigil_types::{codec::Wire, Topic, Vote, VoteKind};

use super::{Ballot, Inspector, NodeEvent};
use crate::store::{FindingRecord, VerdictRecord};

/// Most verdicts stored under one disk sync.
const MAX_VOTE_GROUP: usize = 256;

impl Inspector {
    /// Stores this node's verdicts in groups, one disk sync per group
    /// (votes that wait for one sync go together into the next), then
    /// gossips each vote and hands it to the pool. A vote is never gossiped
    /// before it is on disk: a restarted node must not sign the other way.
    pub(super) async fn committer(self: Arc<Self>, mut ballots: mpsc::Receiver<Ballot>) {
        while let Some(first) = ballots.recv().await {
            let group = take_group(first, &mut ballots, MAX_VOTE_GROUP);
            let start = Instant::now();
            let me = self.clone();
            let stored = tokio::task::spawn_blocking(move || {
                let items: Vec<(VerdictRecord, Option<Vote>)> =
                    group.iter().map(|b| (b.record.clone(), b.vote.clone())).collect();
                let results = me.store.put_verdicts(&items);
                (group, results)
            })
            .await;
            let Ok((group, results)) = stored else {
                tracing::error!("verdict store task panicked; those votes are not cast");
                continue;
            };
            self.metrics.stage_seconds.with_label_values(&["store_vote"]).observe(start.elapsed().as_secs_f64());
            let mut batched = Vec::new();
            for (ballot, result) in group.into_iter().zip(results) {
                let Ballot { record, vote, judged, propose } = ballot;
                match (result, vote) {
                    (Ok(()), Some(vote)) => {
                        let me = self.clone();
                        tokio::spawn(async move { me.cast(record, vote, judged).await });
                    }
                    (Ok(()), None) => {
                        if judged.is_some() {
                            self.announce(&record);
                        }
                        batched.push((record.tx_hash, record.kind, propose));
                    }
                    (Err(e), _) => {
                        tracing::error!(tx = %record.tx_hash, error = %e, "could not store the verdict; not voting");
                    }
                }
            }
            if !batched.is_empty() {
                self.batched_verdicts(batched).await;
            }
        }
    }

    /// Counts, logs and announces a new verdict of this node.
    fn announce(&self, record: &VerdictRecord) {
        let tx_hash = record.tx_hash;
        self.metrics.verdicts.with_label_values(&[record.kind.to_string().as_str()]).inc();
        tracing::debug!(tx = %tx_hash, kind = %record.kind, score = record.score, us = record.elapsed_us, "judged");
        if record.kind == VoteKind::Malicious {
            let rules: Vec<&str> = record.findings.iter().map(|f| f.rule.as_str()).collect();
            tracing::warn!(tx = %tx_hash, score = record.score, ?rules, "voted malicious");
        } else if record.alert {
            let rules = alert_rules(&record.findings);
            for rule in &rules {
                self.metrics.alerts.with_label_values(&[rule]).inc();
            }
            tracing::info!(tx = %tx_hash, score = record.score, ?rules, "voted clean with an alert");
        }
        let _ = self.events.send(NodeEvent::Verdict(Arc::new(record.clone())));
    }

    /// Gossips a stored vote and adds it to the pool. `judged` is `None`
    /// for a verdict re-signed for a new epoch (announced once already).
    async fn cast(&self, record: VerdictRecord, vote: Vote, judged: Option<Instant>) {
        let tx_hash = record.tx_hash;
        match judged {
            Some(_) => self.announce(&record),
            None => {
                tracing::debug!(tx = %tx_hash, kind = %vote.kind, epoch = vote.epoch, "voted again")
            }
        }
        if let Err(e) = self.net.publish(Topic::Vote, vote.encode()).await {
            tracing::debug!(error = %e, "vote not gossiped");
        }
        if let Some(judged) = judged {
            self.metrics.stage_seconds.with_label_values(&["vote"]).observe(judged.elapsed().as_secs_f64());
        }
        let epoch = vote.epoch;
        let events = self.pool_insert(vote).await;
        match events {
            Ok(events) => self.handle(events).await,
            // Signed just before an epoch change: the pool moved on. Sign
            // it again for the new epoch.
            Err(VoteRejection::EpochOutsideWindow { .. }) if epoch < self.committee().epoch() => {
                if let Some(me) = self.this.upgrade() {
                    tokio::spawn(me.revote(vec![tx_hash]));
                }
            }
            // Re-signed twice across one epoch change (signatures are
            // deterministic): the pool has it.
            Err(e @ VoteRejection::Duplicate { .. }) => {
                tracing::debug!(tx = %tx_hash, error = %e, "own vote already in the pool")
            }
            Err(e) => tracing::error!(error = %e, "own vote refused by the pool"),
        }
    }
}

/// `first` and the items waiting behind it in `rx`, at most `max` in all
/// (never waits for more).
fn take_group<T>(first: T, rx: &mut mpsc::Receiver<T>, max: usize) -> Vec<T> {
    let mut group = vec![first];
    while group.len() < max {
        match rx.try_recv() {
            Ok(b) => group.push(b),
            Err(_) => break,
        }
    }
    group
}

/// The rules a clean verdict's alert counts: those of findings above
/// `info`, a rule repeated in a row once.
fn alert_rules(findings: &[FindingRecord]) -> Vec<&str> {
    let mut rules: Vec<&str> = findings.iter().filter(|f| f.severity != "info").map(|f| f.rule.as_str()).collect();
    rules.dedup();
    rules
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn take_group_takes_what_waits_up_to_the_bound() {
        let (tx, mut rx) = mpsc::channel(1000);
        for i in 1..=300 {
            tx.try_send(i).expect("room");
        }
        let first = rx.recv().await.expect("first");
        let group = take_group(first, &mut rx, MAX_VOTE_GROUP);
        assert_eq!(group, (1..=256).collect::<Vec<_>>());
        let first = rx.recv().await.expect("first");
        let group = take_group(first, &mut rx, MAX_VOTE_GROUP);
        assert_eq!(group, (257..=300).collect::<Vec<_>>(), "the rest, without waiting for more");
        // Alone, the first one goes by itself.
        assert_eq!(take_group(301, &mut rx, MAX_VOTE_GROUP), [301]);
    }

    fn finding(rule: &str, severity: &str) -> FindingRecord {
        FindingRecord { rule: rule.into(), severity: severity.into(), addresses: vec![], message: String::new() }
    }

    #[test]
    fn alert_rules_skip_info_findings_and_repeats() {
        let findings = [
            finding("drainer", "high"),
            finding("drainer", "high"),
            finding("fresh-contract", "info"),
            finding("approval", "medium"),
        ];
        assert_eq!(alert_rules(&findings), ["drainer", "approval"]);
        assert!(alert_rules(&[finding("fresh-contract", "info")]).is_empty());
    }
}
