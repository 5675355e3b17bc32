//! Spot values moved and read by a third contract, and share-price
//! inflation by donation.

use crate::{
    analysis::Analysis,
    finding::{Finding, Severity},
};
use alloy_primitives::{Address, U256};
use std::collections::BTreeMap;
use vigil_sim::trace::{StorageOp, TokenEventKind};

/// Rule id of the moved-read-restored pattern.
pub const RULE: &str = "spot-price-manipulation";
/// Rule id of donation into a share-issuing contract.
pub const DONATION_RULE: &str = "share-price-inflation";

/// Values below this are counters, flags or tiny balances, not prices.
const MIN_VALUE: u64 = 1 << 32;

fn ratio_at_least(a: U256, b: U256, pct: u64) -> bool {
    // |a - b| * 100 >= b * pct
    let d = if a > b { a - b } else { b - a };
    d.saturating_mul(U256::from(100)) >= b.saturating_mul(U256::from(pct))
}

/// A slot of some contract holds `v0` at first sight; writes caused by the
/// sender's side move it by 25% or more; a contract that is neither the
/// slot's owner nor the one moving it reads the moved value (through a call
/// into the owner); and by the end of the transaction the value is back
/// within 10% of `v0`. That is a price pumped for a third party to read.
pub fn detect(a: &Analysis<'_>) -> Vec<Finding> {
    struct Slot {
        first: U256,
        current: U256,
        writers: Vec<u32>,
        moved_read: Option<(Address, U256)>,
    }
    let mut slots: BTreeMap<(Address, U256), Slot> = BTreeMap::new();
    for s in &a.trace.storage {
        let Some(frame) = a.trace.frame(s.frame) else { continue };
        if frame.reverted {
            continue;
        }
        let (seen, after) = match s.op {
            StorageOp::Read { value } => (value, value),
            StorageOp::Write { old, new } => (old, new),
        };
        let e = slots.entry((s.address, s.slot)).or_insert(Slot {
            first: seen,
            current: seen,
            writers: Vec::new(),
            moved_read: None,
        });
        match s.op {
            StorageOp::Write { .. } => {
                e.current = after;
                e.writers.push(s.frame);
            }
            StorageOp::Read { value } => {
                let reader = frame.caller;
                if e.moved_read.is_none()
                    && e.first >= U256::from(MIN_VALUE)
                    && ratio_at_least(value, e.first, 25)
                    && reader != s.address
                    && !a.is_actor(reader)
                    && a.is_contract(reader)
                    && !e.writers.iter().any(|w| caused_by(a, reader, *w))
                {
                    e.moved_read = Some((reader, value));
                }
            }
        }
    }
    let mut out = Vec::new();
    for ((owner, slot), s) in slots {
        let Some((reader, value)) = s.moved_read else { continue };
        if ratio_at_least(s.current, s.first, 10) {
            continue;
        }
        out.push(Finding {
            rule: RULE,
            severity: Severity::High,
            addresses: vec![owner, reader],
            message: format!(
                "slot {slot:#x} of {owner} went from {} to {value} within the transaction, {reader} read it there, \
                 and it ended back at {} (a spot value pumped for a third contract to read)",
                s.first, s.current
            ),
        });
        if out.len() >= 2 {
            break;
        }
    }
    out
}

/// Whether a frame of `reader` is an ancestor of frame `id` (the reader
/// itself caused the change).
fn caused_by(a: &Analysis<'_>, reader: Address, id: u32) -> bool {
    let mut cur = a.trace.frame(id);
    while let Some(f) = cur {
        if f.callee == reader && f.kind.enters_callee() {
            return true;
        }
        cur = f.parent.and_then(|p| a.trace.frame(p));
    }
    false
}

/// The sender's side pushes tokens into a contract that issues its own
/// shares (it mints or burns its own token in this transaction) without
/// receiving shares for them, while holding shares of it: the share price
/// is being inflated by donation.
pub fn detect_donation(a: &Analysis<'_>) -> Vec<Finding> {
    let events: Vec<_> = a.trace.token_events.iter().filter(|e| !e.reverted).collect();
    let issues_shares = |v: Address| {
        events.iter().any(|e| {
            e.token == v
                && matches!(&e.kind, TokenEventKind::Erc20Transfer { from, to, .. } if from.is_zero() || to.is_zero())
        })
    };
    let holds_shares = |v: Address| {
        events.iter().any(|e| {
            e.token == v && matches!(&e.kind, TokenEventKind::Erc20Transfer { from, to, .. } if a.is_actor(*to) || a.is_actor(*from))
        })
    };
    for (i, e) in events.iter().enumerate() {
        let TokenEventKind::Erc20Transfer { from, to, amount } = &e.kind else { continue };
        if !a.is_actor(*from) || a.is_actor(*to) || !a.is_contract(*to) || *to == e.token {
            continue;
        }
        // Pushed: the token's frame was called by the sender's side, not
        // pulled by the receiving contract.
        let frame = a.trace.logs.get(e.log).and_then(|l| a.trace.frame(l.frame));
        if !frame.is_some_and(|f| a.is_actor(f.caller)) {
            continue;
        }
        let v = *to;
        if !issues_shares(v) || !holds_shares(v) {
            continue;
        }
        // A deposit mints shares to the sender's side right after; a donation does not.
        let credited = events[i + 1..].iter().take(4).any(|x| {
            x.token == v && matches!(&x.kind, TokenEventKind::Erc20Transfer { from, to, .. } if from.is_zero() && a.is_actor(*to))
        });
        if credited {
            continue;
        }
        return vec![Finding {
            rule: DONATION_RULE,
            severity: Severity::High,
            addresses: vec![v],
            message: format!(
                "the sender's side pushed {amount} of token {} into {v}, which issues its own shares and whose shares \
                 the sender's side holds, without receiving shares for it (share price inflated by donation)",
                e.token
            ),
        }];
    }
    Vec::new()
}
