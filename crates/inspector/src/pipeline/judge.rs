//! The judges: workers that take admitted transactions off the queue,
//! wait for a sender's earlier nonces, simulate and judge each one on the
//! chain's current head (off the async executor), sign the vote and hand
//! it to the committer.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use alloy_primitives::{Address, B256};
use tokio::sync::mpsc;
use vigil_detect::VerdictKind;
use vigil_sim::ExecResult;
use vigil_types::{tx::Transaction, Vote, VoteKind, VoteMessage};

use super::{blocking, now_ms, Ballot, Inspector, Job};
use crate::store::{FindingRecord, FlowRecord, FrameRecord, StorageChangeRecord, TraceSummary, VerdictRecord};

/// How long a transaction waits for its sender's earlier nonces to be
/// included before this node gives up on it (and abstains).
const NONCE_GAP_WAIT: Duration = Duration::from_secs(30);

/// How long a view counts as current after it last matched the chain's head.
const FRESH_VIEW: Duration = Duration::from_millis(25);

impl Inspector {
    pub(super) async fn worker(self: Arc<Self>, jobs: Arc<tokio::sync::Mutex<mpsc::Receiver<Job>>>) {
        loop {
            let job = { jobs.lock().await.recv().await };
            let Some(job) = job else { return };
            self.metrics.queue_depth.set(self.queue_depth() as i64);
            self.metrics.stage_seconds.with_label_values(&["queue"]).observe(job.received.elapsed().as_secs_f64());
            let sender = job.tx.sender();
            if self.signer_index().is_none() {
                // Outside the committee: no vote to sign, no simulation to spend.
                self.release_sender(sender);
                tracing::debug!(tx = %job.tx.hash(), "not a committee member: not judging");
                continue;
            }
            // Judge on the chain's current head: a block the follower has not
            // applied yet would make this node judge on older state than its
            // peers, and honest votes would disagree. A follower woken by
            // the chain's new-head notifications keeps the view current;
            // one that polls is helped here, at most once per FRESH_VIEW, so
            // a busy node does not ask the chain per transaction.
            let polled = !self.heads_pushed.load(std::sync::atomic::Ordering::Relaxed);
            if let Some(chain) = self.chain.as_ref().filter(|_| polled && !self.synced_within(FRESH_VIEW)) {
                let start = Instant::now();
                if let Err(e) = crate::sync_once(&self, chain).await {
                    tracing::warn!(error = %e, "could not catch up before judging; judging on the current view");
                }
                self.metrics.stage_seconds.with_label_values(&["catch_up"]).observe(start.elapsed().as_secs_f64());
            }
            // A transaction after a gap in its sender's nonces is judged once
            // its predecessors are in the chain, on the state they leave:
            // simulating it on a state without them would judge something
            // that will not run (a contract not deployed yet, a balance not
            // there yet).
            let next = blocking(|| self.view().nonce_and_balance(sender).map(|(n, _)| n)).unwrap_or(0);
            if job.tx.nonce() > next {
                // Waiting costs the pipeline nothing: its client's slot is
                // freed, or the earlier nonces it waits for could be
                // refused for want of slots that such waiters hold.
                self.lock_inflight().release(&job.tx.hash());
                if job.received.elapsed() < NONCE_GAP_WAIT {
                    // Parked until a block moves the sender's nonce
                    // ([`Inspector::wake_gapped`]), not polled.
                    self.gapped.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(job);
                } else {
                    self.release_sender(sender);
                    tracing::info!(tx = %job.tx.hash(), nonce = job.tx.nonce(), next, "earlier nonces never came; abstaining");
                }
                continue;
            }
            let me = self.clone();
            let hash = job.tx.hash();
            let (batched, propose) = (job.batched, job.propose.then(|| job.tx.raw().clone()));
            let judged = tokio::task::spawn_blocking(move || me.inspect(&job.tx, !batched)).await;
            self.release_sender(sender);
            match judged {
                Ok(Ok((record, vote))) => {
                    let ballot = Ballot { record, vote, judged: Some(Instant::now()), propose };
                    if self.ballots.send(ballot).await.is_err() {
                        tracing::error!("the vote committer stopped; not voting");
                    }
                }
                Ok(Err(e)) => {
                    self.lock_inflight().release(&hash);
                    tracing::info!(reason = %e, "no vote")
                }
                Err(e) => tracing::error!(error = %e, "inspection task panicked"),
            }
        }
    }

    /// Requeues the parked transactions whose sender's next nonce is now
    /// theirs (the follower calls it after each block); drops those whose
    /// nonce the chain used meanwhile, and those that waited too long.
    pub fn wake_gapped(&self) {
        let parked = std::mem::take(&mut *self.gapped.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        if parked.is_empty() {
            return;
        }
        let mut keep = Vec::new();
        for job in parked {
            let sender = job.tx.sender();
            let next = blocking(|| self.view().nonce_and_balance(sender).map(|(n, _)| n)).unwrap_or(0);
            let nonce = job.tx.nonce();
            if nonce < next || job.received.elapsed() >= NONCE_GAP_WAIT {
                self.release_sender(sender);
                tracing::info!(tx = %job.tx.hash(), nonce, next, "nonce used meanwhile, or earlier nonces never came; abstaining");
            } else if nonce > next {
                keep.push(job);
            } else if let Err(e) = self.queue.try_send(job) {
                keep.push(e.into_inner());
            }
        }
        self.gapped.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend(keep);
    }

    /// Simulates and judges on the current view; signs the vote.
    fn inspect(&self, tx: &Transaction, sign: bool) -> Result<(VerdictRecord, Option<Vote>), String> {
        let start = Instant::now();
        let view = self.view();
        let block = view.next_block();
        let hash = tx.hash();
        let (verdict, summary) = match vigil_sim::simulate(view.state(), &block, tx, &self.config.budget) {
            Ok(outcome) => {
                let verdict = self.engine.judge(view.state(), &block, tx, &outcome, view.history());
                // The call tree, flows and storage are kept for what an
                // operator reviews; a plainly clean verdict keeps the rest.
                let detail = verdict.kind == VerdictKind::Malicious || !verdict.findings.is_empty();
                let summary = summarize(tx, &outcome, detail);
                (verdict, summary)
            }
            // Not executable on this state (funds missing, nonce used): this
            // node abstains. A clean vote here would certify a transaction no
            // one has seen run, which could become valid later and execute
            // unjudged (DESIGN §11, simulation evasion).
            Err(e) => {
                self.metrics.refused.with_label_values(&["not_executable"]).inc();
                return Err(format!("{hash} is not executable on the head state, abstaining: {e}"));
            }
        };
        drop(view);
        let elapsed = start.elapsed();
        self.metrics.stage_seconds.with_label_values(&["inspect"]).observe(elapsed.as_secs_f64());
        let kind = match verdict.kind {
            VerdictKind::Clean => VoteKind::Clean,
            VerdictKind::Malicious => VoteKind::Malicious,
        };
        if self.signer_index().is_none() {
            return Err(format!("{hash}: not a member of the current committee, not voting"));
        }
        // A batched verdict is signed with the rest of its batch.
        let vote = match sign {
            true => Some(
                self.sign(hash, kind)
                    .ok_or_else(|| format!("{hash}: not a member of the current committee, not voting"))?,
            ),
            false => None,
        };
        let record = VerdictRecord {
            tx_hash: hash,
            kind,
            score: verdict.score,
            alert: verdict.is_alert(),
            ruleset: verdict.ruleset.to_string(),
            findings: verdict
                .findings
                .iter()
                .map(|f| FindingRecord {
                    rule: f.rule.to_string(),
                    severity: format!("{:?}", f.severity).to_lowercase(),
                    addresses: f.addresses.clone(),
                    message: f.message.clone(),
                })
                .collect(),
            summary,
            block_number: block.number,
            judged_ms: now_ms(),
            elapsed_us: elapsed.as_micros() as u64,
        };
        Ok((record, vote))
    }

    /// This node's vote on `tx_hash`, signed with the epoch and index of the
    /// committee current now (an epoch change during a simulation signs
    /// with the new committee's); `None` outside the committee.
    pub(super) fn sign(&self, tx_hash: B256, kind: VoteKind) -> Option<Vote> {
        let (epoch, signer) = {
            let state = self.epoch.read().unwrap_or_else(std::sync::PoisonError::into_inner);
            (state.committee.epoch(), state.index?)
        };
        let msg = VoteMessage { chain_id: self.chain_id, epoch, tx_hash, kind };
        let signature = self.key.sign_vote(&msg).to_bytes();
        Some(Vote { chain_id: self.chain_id, epoch, tx_hash, kind, signer, signature })
    }
}

/// What a verdict keeps of the trace; the call tree, flows and storage
/// changes only with `detail`.
fn summarize(tx: &Transaction, outcome: &vigil_sim::SimOutcome, detail: bool) -> TraceSummary {
    let trace = &outcome.trace;
    let mut touched: Vec<Address> = trace.frames.iter().map(|f| f.callee).collect();
    let created: Vec<Address> = trace.creations().filter(|f| !f.reverted).map(|f| f.callee).collect();
    touched.sort();
    touched.dedup();
    let to = {
        use alloy_consensus::Transaction as _;
        tx.envelope().to()
    };
    TraceSummary {
        to,
        touched,
        calls: trace.frames.len() as u32,
        logs: trace.logs.len() as u32,
        gas_used: outcome.result.gas_used(),
        success: outcome.result.is_success(),
        revert_reason: match &outcome.result {
            ExecResult::Revert { .. } => outcome.result.revert_reason().or(Some("reverted".into())),
            ExecResult::Halt { reason, .. } => Some(format!("halted: {reason:?}")),
            ExecResult::BudgetExceeded { kind, .. } => Some(format!("stopped by the {kind:?} budget")),
            ExecResult::Success { .. } => None,
        },
        created,
        detail,
        frames: match detail {
            true => trace.frames.iter().take(TraceSummary::MAX_FRAMES).map(frame_record).collect(),
            false => Vec::new(),
        },
        frames_omitted: match detail {
            true => trace.frames.len().saturating_sub(TraceSummary::MAX_FRAMES) as u32,
            false => 0,
        },
        flows: if detail { flows(trace) } else { Vec::new() },
        storage: if detail { storage_changes(trace) } else { Vec::new() },
    }
}

fn frame_record(f: &vigil_sim::trace::CallFrame) -> FrameRecord {
    use vigil_sim::trace::CallKind;
    let kind = match f.kind {
        CallKind::Call => "call",
        CallKind::StaticCall => "staticcall",
        CallKind::DelegateCall => "delegatecall",
        CallKind::CallCode => "callcode",
        CallKind::Create => "create",
        CallKind::Create2 => "create2",
    };
    FrameRecord {
        depth: f.depth,
        kind: kind.into(),
        caller: f.caller,
        callee: f.callee,
        value: f.value.to_string(),
        selector: f.selector.map(|s| format!("0x{}", alloy_primitives::hex::encode(s))),
        gas_used: f.gas_used,
        reverted: f.reverted,
    }
}

/// Net flows per holder and asset (native balance changes, gas included;
/// token transfers), losers first, then by size.
fn flows(trace: &vigil_sim::Trace) -> Vec<FlowRecord> {
    use alloy_primitives::I256;
    let mut all: Vec<(Address, String, I256)> = trace
        .balance_changes
        .iter()
        .map(|(a, c)| (*a, "native".to_owned(), c.delta()))
        .chain(
            trace
                .token_flows
                .iter()
                .filter(|(h, _)| h.id.is_none())
                .map(|(h, f)| (h.holder, h.token.to_string(), f.net())),
        )
        .filter(|(_, _, net)| !net.is_zero())
        .collect();
    all.sort_by(|a, b| (a.2.is_negative(), a.2.unsigned_abs()).cmp(&(b.2.is_negative(), b.2.unsigned_abs())).reverse());
    all.into_iter()
        .take(TraceSummary::MAX_FLOWS)
        .map(|(address, asset, net)| FlowRecord { address, asset, net: net.to_string() })
        .collect()
}

/// Storage slots changed (first value before, last after) in accounts
/// with a net loss of any asset: where an analyst looks for the state the
/// attack bent.
fn storage_changes(trace: &vigil_sim::Trace) -> Vec<StorageChangeRecord> {
    use vigil_sim::trace::StorageOp;
    let losers: std::collections::BTreeSet<Address> = trace
        .balance_changes
        .iter()
        .filter(|(_, c)| c.delta().is_negative())
        .map(|(a, _)| *a)
        .chain(trace.token_flows.iter().filter(|(_, f)| f.net().is_negative()).map(|(h, _)| h.holder))
        .collect();
    // (account, slot) -> (value before the first write, after the last).
    let mut changes: std::collections::BTreeMap<(Address, B256), (B256, B256)> = std::collections::BTreeMap::new();
    for access in &trace.storage {
        let StorageOp::Write { old, new } = access.op else { continue };
        if !losers.contains(&access.address) || trace.frame(access.frame).is_none_or(|f| f.reverted) {
            continue;
        }
        let (old, new) = (B256::from(old), B256::from(new));
        changes.entry((access.address, B256::from(access.slot))).and_modify(|c| c.1 = new).or_insert((old, new));
    }
    changes
        .into_iter()
        .filter(|(_, (before, after))| before != after)
        .take(TraceSummary::MAX_STORAGE)
        .map(|((address, slot), (before, after))| StorageChangeRecord { address, slot, before, after })
        .collect()
}

#[cfg(test)]
mod tests {
    use alloy_primitives::{Bytes, Log, U256};
    use vigil_sim::{
        revm::context::result::HaltReason,
        trace::{CallFrame, CallKind, FrameStatus, LogRecord},
        BudgetKind, SimOutcome, Trace,
    };

    use super::*;
    use crate::pipeline::testutil::signed_tx;

    fn frame(id: u32, kind: CallKind, callee: u8, reverted: bool) -> CallFrame {
        CallFrame {
            id,
            parent: id.checked_sub(1),
            depth: id,
            kind,
            caller: Address::repeat_byte(0xee),
            callee: Address::repeat_byte(callee),
            code_address: Address::repeat_byte(callee),
            value: U256::ZERO,
            selector: None,
            input_len: 0,
            gas_limit: 100_000,
            gas_used: 1_000,
            status: if reverted { FrameStatus::Revert } else { FrameStatus::Success },
            reverted,
            precompile: false,
            reentered: None,
        }
    }

    fn outcome(result: ExecResult, trace: Trace) -> SimOutcome {
        SimOutcome { result, trace, changes: Default::default(), elapsed: Duration::ZERO }
    }

    fn call_to(to: u8) -> Transaction {
        signed_tx(0, Some(Address::repeat_byte(to)), U256::ZERO, 100_000, 1_000_000_000)
    }

    #[test]
    fn summarize_lists_callees_once_in_order_and_only_surviving_creations() {
        let trace = Trace {
            frames: vec![
                frame(0, CallKind::Call, 0x30, false),
                frame(1, CallKind::DelegateCall, 0x10, false),
                frame(2, CallKind::Create, 0x20, false),
                frame(3, CallKind::Create2, 0x21, true),
                frame(4, CallKind::StaticCall, 0x10, false),
            ],
            logs: vec![
                LogRecord {
                    frame: 0,
                    log: Log::new_unchecked(Address::repeat_byte(0x30), vec![], Bytes::new()),
                    reverted: false,
                },
                LogRecord {
                    frame: 3,
                    log: Log::new_unchecked(Address::repeat_byte(0x21), vec![], Bytes::new()),
                    reverted: true,
                },
            ],
            ..Trace::default()
        };
        let result = ExecResult::Success { gas_used: 54_321, output: Bytes::new(), created: None };
        let summary = summarize(&call_to(0x30), &outcome(result, trace), true);
        assert_eq!(summary.to, Some(Address::repeat_byte(0x30)));
        assert_eq!(summary.touched, [0x10, 0x20, 0x21, 0x30].map(Address::repeat_byte), "every callee once, sorted");
        assert_eq!(summary.created, [Address::repeat_byte(0x20)], "a reverted creation deployed nothing");
        assert_eq!(summary.calls, 5);
        assert_eq!(summary.logs, 2, "logs count reverted ones too");
        assert_eq!(summary.gas_used, 54_321);
        assert!(summary.success);
        assert_eq!(summary.revert_reason, None);
    }

    #[test]
    fn summarize_says_why_a_run_did_not_succeed() {
        // `Error("nope")`, ABI-encoded.
        let mut error = vec![0x08, 0xc3, 0x79, 0xa0];
        error.extend_from_slice(&U256::from(32).to_be_bytes::<32>());
        error.extend_from_slice(&U256::from(4).to_be_bytes::<32>());
        error.extend_from_slice(&[b"nope".as_slice(), &[0u8; 28]].concat());
        let cases = [
            (ExecResult::Revert { gas_used: 7, output: Bytes::new() }, "reverted"),
            (ExecResult::Revert { gas_used: 7, output: error.into() }, "nope"),
            (ExecResult::Halt { gas_used: 7, reason: HaltReason::OpcodeNotFound }, "halted: OpcodeNotFound"),
            (
                ExecResult::BudgetExceeded { kind: BudgetKind::Gas, gas_used: 7, elapsed: Duration::ZERO },
                "stopped by the Gas budget",
            ),
            (
                ExecResult::BudgetExceeded { kind: BudgetKind::WallTime, gas_used: 7, elapsed: Duration::ZERO },
                "stopped by the WallTime budget",
            ),
        ];
        for (result, reason) in cases {
            let summary = summarize(&call_to(0x30), &outcome(result.clone(), Trace::default()), true);
            assert!(!summary.success, "{result:?}");
            assert_eq!(summary.gas_used, 7, "{result:?}");
            assert_eq!(summary.revert_reason.as_deref(), Some(reason), "{result:?}");
        }
    }

    #[test]
    fn summarize_keeps_the_call_tree_the_flows_losers_first_and_the_storage_the_losers_changed() {
        use vigil_sim::trace::{BalanceChange, StorageAccess, StorageOp, TokenFlow, TokenHolding};
        let (pool, thief, token) = (Address::repeat_byte(0x30), Address::repeat_byte(0xee), Address::repeat_byte(0x77));
        let mut frames = vec![frame(0, CallKind::Call, 0x30, false), frame(1, CallKind::Call, 0x77, false)];
        frames[1].selector = Some([0xa9, 0x05, 0x9c, 0xbb]);
        frames[1].depth = 1;
        frames[1].value = U256::from(5);
        let write = |frame: u32, address: Address, slot: u64, old: u64, new: u64| StorageAccess {
            frame,
            address,
            slot: U256::from(slot),
            op: StorageOp::Write { old: U256::from(old), new: U256::from(new) },
        };
        let trace = Trace {
            frames,
            storage: vec![
                write(0, pool, 1, 100, 60),
                write(0, pool, 1, 60, 10), // same slot again: before stays 100
                write(0, pool, 2, 7, 7),   // no change
                write(1, token, 3, 1, 2),  // the token did not lose anything
            ],
            balance_changes: [
                (thief, BalanceChange { before: U256::from(10), after: U256::from(15) }),
                (pool, BalanceChange { before: U256::from(50), after: U256::from(45) }),
            ]
            .into(),
            token_flows: [(
                TokenHolding { token, holder: pool, id: None },
                TokenFlow { received: U256::ZERO, sent: U256::from(900) },
            )]
            .into(),
            ..Trace::default()
        };
        let result = ExecResult::Success { gas_used: 1, output: Bytes::new(), created: None };
        let s = summarize(&call_to(0x30), &outcome(result.clone(), trace.clone()), true);
        assert_eq!(s.frames.len(), 2);
        assert_eq!((s.frames[1].depth, s.frames[1].kind.as_str(), s.frames[1].value.as_str()), (1, "call", "5"));
        assert_eq!(s.frames[1].selector.as_deref(), Some("0xa9059cbb"));
        let flows: Vec<(Address, &str, &str)> =
            s.flows.iter().map(|f| (f.address, f.asset.as_str(), f.net.as_str())).collect();
        let token_name = token.to_string();
        assert_eq!(flows, [(pool, token_name.as_str(), "-900"), (pool, "native", "-5"), (thief, "native", "5")]);
        assert_eq!(s.storage.len(), 1, "{:?}", s.storage);
        assert_eq!(
            (s.storage[0].address, s.storage[0].before, s.storage[0].after),
            (pool, B256::from(U256::from(100)), B256::from(U256::from(10)))
        );
        assert_eq!(s.frames_omitted, 0);
        assert!(s.detail);
        // Without detail (a plainly clean verdict): the scalar summary
        // alone, and it says so.
        let plain = summarize(&call_to(0x30), &outcome(result, trace), false);
        assert!(!plain.detail && plain.frames.is_empty() && plain.flows.is_empty() && plain.storage.is_empty());
        assert_eq!((plain.calls, plain.touched.len()), (s.calls, s.touched.len()));
        // A record stored before the flag existed had the detail.
        let mut old = serde_json::to_value(&s).unwrap();
        old.as_object_mut().unwrap().remove("detail");
        assert!(serde_json::from_value::<TraceSummary>(old).unwrap().detail);
    }

    #[test]
    fn summarize_of_a_creation_has_no_recipient() {
        let tx = signed_tx(0, None, U256::ZERO, 100_000, 1_000_000_000);
        let trace = Trace { frames: vec![frame(0, CallKind::Create, 0x20, false)], ..Trace::default() };
        let result =
            ExecResult::Success { gas_used: 1, output: Bytes::new(), created: Some(Address::repeat_byte(0x20)) };
        let summary = summarize(&tx, &outcome(result, trace), true);
        assert_eq!(summary.to, None);
        assert_eq!(summary.created, [Address::repeat_byte(0x20)]);
        assert_eq!(summary.touched, [Address::repeat_byte(0x20)]);
    }
}
