//! Re-entry followed by state change, and read-only re-entry.

use crate::{
    analysis::Analysis,
    finding::{Finding, Severity},
};
use vigil_sim::trace::{CallKind, StorageOp, TokenEventKind};

/// Rule id of state-changing re-entry.
pub const RULE: &str = "reentrancy";
/// Rule id of read-only re-entry.
pub const READ_ONLY_RULE: &str = "read-only-reentrancy";

/// A contract (not the sender's) is entered again while one of its frames
/// is active, after control reached the sender's side, and writes state in
/// the re-entrant call or, after it, in the interrupted frame (state it read
/// before the call is stale).
pub fn detect(a: &Analysis<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for r in &a.trace.reentries {
        let Some(g) = a.trace.frame(r.frame) else { continue };
        if g.kind == CallKind::StaticCall || g.reverted || a.is_actor(r.address) || seen.contains(&r.address) {
            continue;
        }
        // Re-entry is the sender's side calling back in while the contract
        // is mid-call, not a protocol's own contracts calling each other.
        if !a.control_reached_actors(r.active, r.frame) {
            continue;
        }
        seen.insert(r.address);
        let end = a.subtree_end(r.frame);
        let in_sub = |id: u32| id >= r.frame && id <= end;
        let live = |id: u32| a.trace.frame(id).is_some_and(|f| !f.reverted);
        // Position in execution order where the re-entrant call began.
        let start = a.trace.storage.iter().position(|s| s.frame >= r.frame).unwrap_or(a.trace.storage.len());
        let mut touched = std::collections::BTreeSet::new();
        let mut inner_writes = 0usize;
        for s in a.trace.storage.iter().filter(|s| s.address == r.address && in_sub(s.frame) && live(s.frame)) {
            touched.insert(s.slot);
            if matches!(s.op, StorageOp::Write { old, new } if old != new) {
                inner_writes += 1;
            }
        }
        // Assets the contract paid out inside the re-entrant call.
        let inner_payouts = a
            .trace
            .frames
            .iter()
            .filter(|f| in_sub(f.id) && !f.reverted && f.caller == r.address && !f.value.is_zero())
            .count()
            + a.trace
                .token_events
                .iter()
                .filter(|e| !e.reverted)
                .filter(|e| a.trace.logs.get(e.log).is_some_and(|l| in_sub(l.frame)))
                .filter(|e| matches!(&e.kind, TokenEventKind::Erc20Transfer { from, .. } if *from == r.address))
                .count();
        // Writes by the interrupted frames after the re-entry, to slots the
        // re-entrant call used: they act on state read before the call.
        let stale_writes = a
            .trace
            .storage
            .iter()
            .enumerate()
            .filter(|(i, s)| {
                *i > start
                    && s.address == r.address
                    && matches!(s.op, StorageOp::Write { .. })
                    && !in_sub(s.frame)
                    && live(s.frame)
                    && a.is_ancestor(s.frame, r.active)
                    && (touched.is_empty() || touched.contains(&s.slot))
            })
            .count();
        if inner_writes + inner_payouts == 0 || stale_writes == 0 {
            continue;
        }
        let entries = a.trace.reentries.iter().filter(|x| x.address == r.address).count();
        let lost = a.flows_of(r.address).is_some_and(|f| f.iter().any(|(k, v)| crate::analysis::is_loss(k, v)));
        // Strength of the evidence: the contract ended poorer (critical);
        // it paid out while its state was half-updated (high); otherwise
        // nothing of value left it, as when a flash lender's borrower calls
        // the lender back inside the loan's callback (a note).
        let severity = if lost {
            Severity::Critical
        } else if inner_payouts > 0 {
            Severity::High
        } else {
            Severity::Medium
        };
        out.push(Finding {
            rule: RULE,
            severity,
            addresses: vec![r.address, g.caller],
            message: format!(
                "{} was re-entered {entries} time(s) by {} while its call was active; inside the re-entrant call it \
                 changed {inner_writes} slot(s) and made {inner_payouts} payout(s), then the interrupted call wrote \
                 {stale_writes} slot(s) from state read before the re-entry{}",
                r.address,
                g.caller,
                if lost { ", and ended the transaction with a net loss" } else { "" }
            ),
        });
    }
    out
}

/// A third contract reads a contract through a static call while that
/// contract is mid-call (its state half-updated) and control has passed to
/// the sender's side; severity rises when the reader then moves assets to
/// the sender's side.
pub fn detect_read_only(a: &Analysis<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for r in &a.trace.reentries {
        let Some(g) = a.trace.frame(r.frame) else { continue };
        let reader = g.caller;
        if g.kind != CallKind::StaticCall || a.is_actor(reader) || reader == r.address || a.is_actor(r.address) {
            continue;
        }
        // The half-updated state is only exposed if the contract handed
        // control to the sender's side before the read.
        if !a.control_reached_actors(r.active, r.frame) {
            continue;
        }
        // After the read, the protocol that read pays the sender's side.
        let pays = a.protocol_pays_after(r.frame, r.address);
        out.push(Finding {
            rule: READ_ONLY_RULE,
            severity: if pays { Severity::Critical } else { Severity::High },
            addresses: vec![r.address, reader],
            message: format!(
                "{reader} read {} with a static call while {} was in the middle of a call (read-only re-entry){}",
                r.address,
                r.address,
                if pays { ", then moved assets to the sender's side" } else { "" }
            ),
        });
        break;
    }
    out
}
