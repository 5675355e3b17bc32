//! What every detector needs, computed once per transaction: who the actors
//! are, net asset flows per address, storage changes per contract, and the
//! authorization evidence a contract checked.

use crate::history::History;
use alloy_primitives::{Address, I256, U256};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use vigil_sim::trace::{CallFrame, FrameId, StorageOp, TokenEventKind, Trace};
use vigil_types::tx::Transaction;

/// An asset whose flows are tracked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Asset {
    /// Ether.
    Native,
    /// An ERC-20 amount or an ERC-721 count of a token contract.
    Token(Address),
    /// An ERC-1155 id of a token contract.
    Item(Address, U256),
}

impl std::fmt::Display for Asset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Native => f.write_str("ETH"),
            Self::Token(t) => write!(f, "token {t}"),
            Self::Item(t, id) => write!(f, "item {id} of {t}"),
        }
    }
}

/// Net flows of one address, by asset.
pub type Flows = BTreeMap<Asset, I256>;

/// Losses smaller than this (in base units) are rounding, not value.
pub const DUST: u64 = 1_000_000;

/// Whether a net flow is a material loss.
pub fn is_loss(v: &I256) -> bool {
    *v < I256::ZERO && v.unsigned_abs() > U256::from(DUST)
}

/// Whether a net flow is a material gain.
pub fn is_gain(v: &I256) -> bool {
    *v > I256::ZERO && v.unsigned_abs() > U256::from(DUST)
}

/// The 32-byte word holding `a` right-aligned, as Solidity stores addresses.
pub fn address_word(a: Address) -> U256 {
    U256::from_be_slice(a.as_slice())
}

/// The address a word holds, if its upper 12 bytes are zero and it is not zero.
pub fn word_address(w: U256) -> Option<Address> {
    let bytes = w.to_be_bytes::<32>();
    (w != U256::ZERO && bytes[..12].iter().all(|b| *b == 0)).then(|| Address::from_slice(&bytes[12..]))
}

/// Per-transaction facts shared by the detectors.
#[derive(Debug)]
pub struct Analysis<'a> {
    /// The transaction.
    pub tx: &'a Transaction,
    /// Its trace.
    pub trace: &'a Trace,
    /// Earlier transactions.
    pub history: &'a History,
    /// The sender and the contracts it controls: created in this
    /// transaction, or deployed earlier by the sender or by such a contract.
    pub actors: BTreeSet<Address>,
    /// Contracts created by this transaction (and not reverted).
    pub created: BTreeSet<Address>,
    /// Net flows per address (native ones without the gas payment).
    pub flows: BTreeMap<Address, Flows>,
    /// Addresses with code before the transaction, or created by it.
    contracts: BTreeSet<Address>,
    /// Net storage change per (contract, slot): (value before, value after).
    pub slot_changes: BTreeMap<(Address, U256), (U256, U256)>,
}

impl<'a> Analysis<'a> {
    /// Computes the shared facts. `has_code` tells whether an address held
    /// code before the transaction; `fee` is what the sender paid for gas and
    /// `tip` what the coinbase `coinbase` received of it.
    pub fn new(
        tx: &'a Transaction,
        trace: &'a Trace,
        history: &'a History,
        has_code: impl Fn(Address) -> bool,
        fee: U256,
        tip: (Address, U256),
    ) -> Self {
        let created: BTreeSet<Address> =
            trace.creations().filter(|f| !f.reverted && f.callee != Address::ZERO).map(|f| f.callee).collect();
        let sender = tx.sender();
        let mut actors: BTreeSet<Address> = created.iter().copied().collect();
        actors.insert(sender);
        // Contracts deployed earlier by the sender or by its contracts.
        let mut frontier: Vec<Address> = trace
            .frames
            .iter()
            .flat_map(|f| [f.callee, f.caller])
            .chain(trace.token_flows.keys().map(|h| h.holder))
            .collect();
        frontier.sort_unstable();
        frontier.dedup();
        let mut changed = true;
        while changed {
            changed = false;
            for a in &frontier {
                if !actors.contains(a) && history.deployer(*a).is_some_and(|d| actors.contains(&d)) {
                    actors.insert(*a);
                    changed = true;
                }
            }
        }

        let mut flows: BTreeMap<Address, Flows> = BTreeMap::new();
        for (addr, change) in &trace.balance_changes {
            let mut d = change.delta();
            if *addr == sender {
                d = d.saturating_add(I256::try_from(fee).unwrap_or(I256::MAX));
            }
            if *addr == tip.0 && tip.0 != sender {
                d = d.saturating_sub(I256::try_from(tip.1).unwrap_or(I256::MAX));
            }
            if d != I256::ZERO {
                flows.entry(*addr).or_default().insert(Asset::Native, d);
            }
        }
        for (h, f) in &trace.token_flows {
            let asset = match h.id {
                Some(id) => Asset::Item(h.token, id),
                None => Asset::Token(h.token),
            };
            let net = f.net();
            if net != I256::ZERO {
                flows.entry(h.holder).or_default().insert(asset, net);
            }
        }

        let mut contracts: BTreeSet<Address> = created.clone();
        for f in &trace.frames {
            if !f.precompile && (has_code(f.callee) || f.kind.is_create()) {
                contracts.insert(f.callee);
            }
        }
        for h in flows.keys() {
            if !contracts.contains(h) && has_code(*h) {
                contracts.insert(*h);
            }
        }

        let mut slot_changes: BTreeMap<(Address, U256), (U256, U256)> = BTreeMap::new();
        for s in trace.committed_writes() {
            if let StorageOp::Write { old, new } = s.op {
                slot_changes.entry((s.address, s.slot)).and_modify(|e| e.1 = new).or_insert((old, new));
            }
        }
        slot_changes.retain(|_, (a, b)| a != b);

        Self { tx, trace, history, actors, created, flows, contracts, slot_changes }
    }

    /// The transaction's sender.
    pub fn sender(&self) -> Address {
        self.tx.sender()
    }

    /// Whether `a` is the sender or a contract it controls.
    pub fn is_actor(&self, a: Address) -> bool {
        self.actors.contains(&a)
    }

    /// Whether `a` has code (before the transaction, or created by it).
    pub fn is_contract(&self, a: Address) -> bool {
        self.contracts.contains(&a)
    }

    /// Net flows of `a`.
    pub fn flows_of(&self, a: Address) -> Option<&Flows> {
        self.flows.get(&a)
    }

    /// Sum of the actors' net flows.
    pub fn actor_flows(&self) -> Flows {
        let mut out = Flows::new();
        for a in &self.actors {
            for (asset, v) in self.flows.get(a).into_iter().flatten() {
                let e = out.entry(*asset).or_insert(I256::ZERO);
                *e = e.saturating_add(*v);
            }
        }
        out.retain(|_, v| *v != I256::ZERO);
        out
    }

    /// Whether the actors together gained something and lost nothing.
    pub fn actors_profit(&self) -> bool {
        let f = self.actor_flows();
        f.values().any(is_gain) && !f.values().any(is_loss)
    }

    /// Non-reverted frames running in `a`'s context.
    pub fn frames_of(&self, a: Address) -> impl Iterator<Item = &CallFrame> + '_ {
        self.trace.frames.iter().filter(move |f| f.callee == a && !f.reverted && !f.kind.is_create())
    }

    /// Whether `ancestor` is `id` or one of its ancestors.
    pub fn is_ancestor(&self, ancestor: FrameId, mut id: FrameId) -> bool {
        loop {
            if id == ancestor {
                return true;
            }
            match self.trace.frame(id).and_then(|f| f.parent) {
                Some(p) => id = p,
                None => return false,
            }
        }
    }

    /// The last frame id in the subtree of `id` (frames are numbered in
    /// pre-order, so the subtree is a contiguous range).
    pub fn subtree_end(&self, id: FrameId) -> FrameId {
        let mut end = id;
        for f in self.trace.frames.iter().skip(id as usize + 1) {
            if f.parent.is_some_and(|p| p >= id && p <= end) {
                end = f.id;
            } else {
                break;
            }
        }
        end
    }

    /// A stored role that authorized a call into `v`: in one of `v`'s frames,
    /// an `SLOAD` returned the frame's caller or the sender, from a slot no
    /// one wrote earlier in this transaction. Returns the authorized address.
    pub fn role_authorization(&self, v: Address) -> Option<Address> {
        let mut written: BTreeSet<U256> = BTreeSet::new();
        for s in &self.trace.storage {
            if s.address != v {
                continue;
            }
            match s.op {
                StorageOp::Write { .. } => {
                    written.insert(s.slot);
                }
                StorageOp::Read { value } => {
                    if written.contains(&s.slot) {
                        continue;
                    }
                    let Some(frame) = self.trace.frame(s.frame) else { continue };
                    if frame.reverted {
                        continue;
                    }
                    let who = word_address(value);
                    if who.is_some_and(|w| w == frame.caller || w == self.sender()) {
                        return who;
                    }
                }
            }
        }
        None
    }

    /// Whether `v` checked a signature of a signer it had stored: an
    /// `ecrecover` made from `v`'s code recovered an address that `v` read
    /// from a slot not written earlier in this transaction.
    pub fn signature_authorization(&self, v: Address) -> Option<Address> {
        let stored: BTreeSet<Address> = self
            .trace
            .storage
            .iter()
            .filter(|s| s.address == v)
            .filter_map(|s| match s.op {
                StorageOp::Read { value } => word_address(value),
                StorageOp::Write { .. } => None,
            })
            .collect();
        self.trace
            .ecrecovers
            .iter()
            .filter(|e| e.caller == v && self.trace.frame(e.frame).is_some_and(|f| !f.reverted))
            .filter_map(|e| e.recovered)
            .find(|r| stored.contains(r))
    }

    /// Addresses whose signatures were recovered (not reverted) in this
    /// transaction.
    pub fn signers(&self) -> BTreeSet<Address> {
        self.trace
            .ecrecovers
            .iter()
            .filter(|e| self.trace.frame(e.frame).is_some_and(|f| !f.reverted))
            .filter_map(|e| e.recovered)
            .collect()
    }

    /// Whether the actors burned tokens or returned tokens to their issuer
    /// (redeeming shares, repaying a position token).
    pub fn actors_burned(&self) -> bool {
        self.trace.token_events.iter().filter(|e| !e.reverted).any(|e| match &e.kind {
            TokenEventKind::Erc20Transfer { from, to, .. }
            | TokenEventKind::Erc721Transfer { from, to, .. }
            | TokenEventKind::Erc1155Transfer { from, to, .. }
            | TokenEventKind::Erc1155TransferBatch { from, to, .. } => {
                self.is_actor(*from) && (*to == Address::ZERO || *to == e.token)
            }
            _ => false,
        })
    }

    /// How many times each (caller, callee, selector) call happened
    /// (non-reverted calls only).
    pub fn call_counts(&self) -> HashMap<(Address, Address, [u8; 4]), usize> {
        let mut m = HashMap::new();
        for f in &self.trace.frames {
            if let (false, Some(sel)) = (f.reverted || f.precompile, f.selector) {
                *m.entry((f.caller, f.callee, sel)).or_insert(0) += 1;
            }
        }
        m
    }
}

/// Formats a signed amount for messages.
pub fn amount(v: &I256) -> String {
    v.unsigned_abs().to_string()
}
