//! A constant-product pool whose invariant `reserve0 * reserve1` fell
//! without liquidity being removed.

use crate::{
    analysis::Analysis,
    finding::{Finding, Severity},
};
use alloy_primitives::{b256, keccak256, Address, B256, U256};
use std::collections::BTreeMap;
use vigil_sim::trace::{StorageOp, TokenEventKind};

/// Rule id.
pub const RULE: &str = "amm-invariant";

/// `Sync(uint112,uint112)`: a Uniswap-v2-style pair reporting its reserves.
const SYNC_TOPIC: B256 = b256!("0x1c411e9a96e071241c2f21f7726b17ae89e3cab4c78be50e062b03a9fffbbad1");

fn lanes(w: U256) -> (U256, U256) {
    let mask = (U256::from(1u64) << 112) - U256::from(1u64);
    (w & mask, (w >> 112) & mask)
}

pub fn detect(a: &Analysis<'_>) -> Vec<Finding> {
    debug_assert_eq!(SYNC_TOPIC, keccak256("Sync(uint112,uint112)"));
    // Last reported reserves per pool.
    let mut last: BTreeMap<Address, (U256, U256)> = BTreeMap::new();
    for l in a.trace.logs.iter().filter(|l| !l.reverted) {
        let topics = l.log.topics();
        if topics.len() == 1 && topics[0] == SYNC_TOPIC && l.log.data.data.len() == 64 {
            let d = &l.log.data.data;
            last.insert(l.log.address, (U256::from_be_slice(&d[..32]), U256::from_be_slice(&d[32..])));
        }
    }
    let mut out = Vec::new();
    for (pool, (r0, r1)) in last {
        // The slot the pool keeps its reserves in: its last write holds the
        // reported pair; its first value is the reserves before the transaction.
        let mut first: Option<U256> = None;
        let mut found = false;
        let mut slot_first: BTreeMap<U256, U256> = BTreeMap::new();
        let mut slot_last: BTreeMap<U256, U256> = BTreeMap::new();
        for s in a.trace.storage.iter().filter(|s| s.address == pool) {
            if a.trace.frame(s.frame).is_none_or(|f| f.reverted) {
                continue;
            }
            let (seen, now) = match s.op {
                StorageOp::Read { value } => (value, value),
                StorageOp::Write { old, new } => (old, new),
            };
            slot_first.entry(s.slot).or_insert(seen);
            slot_last.insert(s.slot, now);
        }
        for (slot, now) in &slot_last {
            if lanes(*now) == (r0, r1) {
                first = slot_first.get(slot).copied();
                found = true;
                break;
            }
        }
        let (Some(before), true) = (first, found) else { continue };
        let (b0, b1) = lanes(before);
        let (k_before, k_after) = (b0 * b1, r0 * r1);
        if k_after >= k_before || b0.is_zero() || b1.is_zero() {
            continue;
        }
        // Removing liquidity lowers k and burns the pool's own LP token.
        let burned = a
            .trace
            .token_events
            .iter()
            .filter(|e| !e.reverted && e.token == pool)
            .any(|e| matches!(&e.kind, TokenEventKind::Erc20Transfer { to, .. } if to.is_zero()));
        if burned {
            continue;
        }
        out.push(Finding {
            rule: RULE,
            severity: Severity::Critical,
            addresses: vec![pool],
            message: format!(
                "pool {pool} went from reserves {b0} x {b1} to {r0} x {r1}: its constant product fell from \
                 {k_before} to {k_after} with no liquidity removed"
            ),
        });
    }
    out
}
