//! Light context that outlives one transaction: who deployed which
//! contract and when, and which signatures were already used.

use alloy_primitives::{Address, B256};
use std::collections::{HashMap, HashSet};
use vigil_sim::Trace;

/// Most signatures remembered (oldest forgotten first).
const MAX_SIGNATURES: usize = 1 << 20;

/// What the engine knows from earlier transactions. Updated with
/// [`History::record`] after each transaction is applied, in chain order, so
/// every node that saw the same chain has the same history.
#[derive(Debug, Clone, Default)]
pub struct History {
    deployer: HashMap<Address, Address>,
    created_at: HashMap<Address, u64>,
    signatures: HashSet<(B256, B256, B256)>,
    signature_order: std::collections::VecDeque<(B256, B256, B256)>,
}

impl History {
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }

    /// Who deployed `contract`, if it was deployed in a recorded transaction.
    pub fn deployer(&self, contract: Address) -> Option<Address> {
        self.deployer.get(&contract).copied()
    }

    /// Block at which `contract` was deployed, if recorded.
    pub fn created_at(&self, contract: Address) -> Option<u64> {
        self.created_at.get(&contract).copied()
    }

    /// Whether a signature `(hash, r, s)` was verified by an earlier
    /// transaction.
    pub fn signature_seen(&self, sig: &(B256, B256, B256)) -> bool {
        self.signatures.contains(sig)
    }

    /// Learns from a transaction that was applied: its surviving creations
    /// and the signatures it verified.
    pub fn record(&mut self, trace: &Trace, block: u64) {
        for f in trace.creations().filter(|f| !f.reverted && f.callee != Address::ZERO) {
            self.deployer.insert(f.callee, f.caller);
            self.created_at.insert(f.callee, block);
        }
        for e in &trace.ecrecovers {
            let reverted = trace.frame(e.frame).is_none_or(|f| f.reverted);
            if e.recovered.is_some() && !reverted {
                let key = (e.hash, e.r, e.s);
                if self.signatures.insert(key) {
                    self.signature_order.push_back(key);
                    if self.signature_order.len() > MAX_SIGNATURES {
                        if let Some(old) = self.signature_order.pop_front() {
                            self.signatures.remove(&old);
                        }
                    }
                }
            }
        }
    }
}
