//! Spot values moved and read by a third contract, and share-price
//! inflation by donation.

use crate::{
    analysis::Analysis,
    finding::{Finding, Severity},
};
use alloy_primitives::{Address, U256};
use std::collections::{BTreeMap, BTreeSet};
use vigil_sim::trace::{FrameId, StorageOp, TokenEventKind};

/// Rule id of the moved-and-read pattern.
pub const RULE: &str = "spot-price-manipulation";
/// Rule id of donation into a share-issuing contract.
pub const DONATION_RULE: &str = "share-price-inflation";

/// Values below this are counters, flags or dust, not prices or balances.
const MIN_VALUE: u64 = 1 << 32;

/// `|a - b| >= b * pct / 100`.
fn moved_by(a: U256, b: U256, pct: u64) -> bool {
    let d = if a > b { a - b } else { b - a };
    d.saturating_mul(U256::from(100)) >= b.saturating_mul(U256::from(pct))
}

/// Bit ranges a slot may pack values into: the whole word, 128-bit halves,
/// the 112-bit reserves of a constant-product pair, 64-bit quarters.
const LANES: [(usize, usize); 9] =
    [(0, 256), (0, 128), (128, 128), (0, 112), (112, 112), (0, 64), (64, 64), (128, 64), (192, 64)];

fn lane(w: U256, (shift, bits): (usize, usize)) -> U256 {
    let v = w >> shift;
    if bits >= 256 {
        v
    } else {
        v & ((U256::from(1u64) << bits) - U256::from(1u64))
    }
}

/// The first lane (packed field) that holds a real value in `first` and
/// moved by `pct` percent or more in `now`.
fn moved_lane(first: U256, now: U256, pct: u64) -> Option<(usize, usize)> {
    LANES.iter().copied().find(|l| {
        let f = lane(first, *l);
        f >= U256::from(MIN_VALUE) && moved_by(lane(now, *l), f, pct)
    })
}

/// The protocol frames that led to frame `id`: its non-actor ancestors up
/// to the nearest frame of the sender's side (a flash lender's callback
/// wrapping everything the borrower does is not part of either protocol).
fn protocol_ancestors(a: &Analysis<'_>, id: FrameId) -> BTreeSet<FrameId> {
    let mut out = BTreeSet::new();
    let mut cur = a.trace.frame(id).and_then(|f| f.parent);
    while let Some(p) = cur {
        let Some(f) = a.trace.frame(p) else { break };
        if a.is_actor(f.callee) {
            break;
        }
        out.insert(p);
        cur = f.parent;
    }
    out
}

/// A value a contract stores (a reserve, a balance, a vote weight) is moved
/// by 25% or more by writes the reading protocol did not cause; a third
/// contract reads the moved value through a call into the owner; and the
/// protocol that read it then pays the sender's side (critical), or the value
/// ends the transaction back within 10% of where it started (high): a spot
/// value pumped for someone else to price with.
pub fn detect(a: &Analysis<'_>) -> Vec<Finding> {
    #[derive(Default)]
    struct Slot {
        first: Option<U256>,
        current: U256,
        writers: Vec<FrameId>,
        moved_read: Option<(Address, U256, FrameId, (usize, usize))>,
    }
    // A frame that writes a slot reads it as part of updating it (a token
    // debiting a balance), not to price anything.
    let updated: BTreeSet<(FrameId, U256)> =
        a.trace.storage.iter().filter(|s| matches!(s.op, StorageOp::Write { .. })).map(|s| (s.frame, s.slot)).collect();
    let mut slots: BTreeMap<(Address, U256), Slot> = BTreeMap::new();
    for s in &a.trace.storage {
        let Some(frame) = a.trace.frame(s.frame) else { continue };
        if frame.reverted {
            continue;
        }
        let e = slots.entry((s.address, s.slot)).or_default();
        match s.op {
            StorageOp::Write { old, new } => {
                e.first.get_or_insert(old);
                e.current = new;
                if old != new {
                    e.writers.push(s.frame);
                }
            }
            StorageOp::Read { value } => {
                let first = *e.first.get_or_insert(value);
                e.current = value;
                let reader = frame.caller;
                let Some(lane_moved) = moved_lane(first, value, 25) else { continue };
                if updated.contains(&(s.frame, s.slot)) {
                    continue;
                }
                if e.moved_read.is_some()
                    || e.writers.is_empty()
                    || reader == s.address
                    || a.is_actor(reader)
                    || !a.is_contract(reader)
                {
                    continue;
                }
                // A contract reading its own balance is not pricing anything.
                if a.is_entry_of(s.slot, reader) {
                    continue;
                }
                // The reading protocol moved the value itself: a trade it
                // made, or its own liquidity lent out in a flash loan whose
                // borrower called it again inside the loan (a lending pool
                // pricing its reserve while the loan is out).
                let readers = protocol_ancestors(a, s.frame);
                let reading_contracts: BTreeSet<Address> =
                    readers.iter().filter_map(|p| a.trace.frame(*p).map(|f| f.callee)).collect();
                // The owner's own call led to the read (a token of the
                // protocol asking its pool for the index it keeps): the
                // protocol reading its own state, not a third party pricing.
                let self_caused = reading_contracts.contains(&s.address)
                    || e.writers.iter().any(|w| {
                        std::iter::once(*w).chain(protocol_ancestors(a, *w)).any(|p| {
                            readers.contains(&p)
                                || (a.is_ancestor(p, s.frame)
                                    && a.trace.frame(p).is_some_and(|f| reading_contracts.contains(&f.callee)))
                        })
                    });
                if !self_caused {
                    e.moved_read = Some((reader, value, s.frame, lane_moved));
                }
            }
        }
    }
    let mut out = Vec::new();
    for ((owner, slot), s) in slots {
        let (Some((reader, value, frame, l)), Some(first)) = (s.moved_read, s.first) else { continue };
        let restored = !moved_by(lane(s.current, l), lane(first, l), 10);
        let pays = a.protocol_pays_after(frame, owner);
        if !restored && !pays {
            continue;
        }
        out.push(Finding {
            rule: RULE,
            severity: if pays { Severity::Critical } else { Severity::High },
            addresses: vec![owner, reader],
            message: format!(
                "the value in bits {}..{} of slot {slot:#x} of {owner} was moved from {} to {} within the transaction \
                 and {reader} read it there{}{}",
                l.0,
                l.0 + l.1,
                lane(first, l),
                lane(value, l),
                if pays { "; the protocol that read it then paid the sender's side" } else { "" },
                if restored { format!("; it ended back at {}", lane(s.current, l)) } else { String::new() }
            ),
        });
        if out.len() >= 2 {
            break;
        }
    }
    out
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
            e.token == v
                && matches!(&e.kind, TokenEventKind::Erc20Transfer { from, to, .. } if a.is_actor(*to) || a.is_actor(*from))
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
            x.token == v
                && matches!(&x.kind, TokenEventKind::Erc20Transfer { from, to, .. } if from.is_zero() && a.is_actor(*to))
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
