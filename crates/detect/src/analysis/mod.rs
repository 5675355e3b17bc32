//! What every detector needs, computed once per transaction: who the actors
//! are, net asset flows per address, storage changes per contract, and the
//! authorization evidence a contract checked.

use crate::history::History;
use alloy_primitives::{Address, I256, U256};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

mod consideration;
mod keys;

pub use consideration::{Backing, Protocol};
pub use keys::SlotKeys;
use vigil_sim::trace::{CallFrame, FrameId, StorageOp, TokenEventKind, Trace};
use vigil_types::tx::Transaction;

/// An asset whose flows are tracked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Asset {
    /// Ether.
    Native,
    /// An ERC-20 amount.
    Token(Address),
    /// A count of ERC-721 tokens of a contract.
    Nft(Address),
    /// An ERC-1155 id of a token contract.
    Item(Address, U256),
}

impl std::fmt::Display for Asset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Native => f.write_str("ETH"),
            Self::Token(t) => write!(f, "token {t}"),
            Self::Nft(t) => write!(f, "NFTs of {t}"),
            Self::Item(t, id) => write!(f, "item {id} of {t}"),
        }
    }
}

/// Net flows of one address, by asset.
pub type Flows = BTreeMap<Asset, I256>;

/// Losses smaller than this (in base units) are rounding, not value.
pub const DUST: u64 = 1_000_000;

/// Smallest flow that counts for an asset: fungible amounts below [`DUST`]
/// are rounding; one NFT or one ERC-1155 item always counts.
fn threshold(asset: &Asset) -> U256 {
    match asset {
        Asset::Native | Asset::Token(_) => U256::from(DUST),
        Asset::Nft(_) | Asset::Item(..) => U256::ZERO,
    }
}

/// Whether a net flow of `asset` is a material loss.
pub fn is_loss(asset: &Asset, v: &I256) -> bool {
    *v < I256::ZERO && v.unsigned_abs() > threshold(asset)
}

/// Whether a net flow of `asset` is a material gain.
pub fn is_gain(asset: &Asset, v: &I256) -> bool {
    *v > I256::ZERO && v.unsigned_abs() > threshold(asset)
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

/// Whether `a` is stored in `w` at some byte offset (Solidity packs an
/// address with small variables in one slot, e.g. `initialized` flags).
pub fn word_holds_address(w: U256, a: Address) -> bool {
    if a.is_zero() {
        return false;
    }
    let mask = (U256::from(1u64) << 160) - U256::from(1u64);
    let target = address_word(a);
    (0..=12usize).any(|k| (w >> (8 * k)) & mask == target)
}

/// What the analysis reads of the state the transaction ran on.
pub trait PreState {
    /// Whether `a` held code before the transaction.
    fn has_code(&self, a: Address) -> bool;
    /// The code at `a` before the transaction (empty if none).
    fn code(&self, a: Address) -> alloy_primitives::Bytes;
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
    /// The keys of the slots the transaction touched.
    keys: SlotKeys,
    /// The state before the transaction.
    pre: &'a dyn PreState,
}

impl std::fmt::Debug for dyn PreState + '_ {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PreState")
    }
}

impl<'a> Analysis<'a> {
    /// Computes the shared facts. `pre` is the state the transaction ran
    /// on; `fee` is what the sender paid for gas and `tip` what the
    /// coinbase `coinbase` received of it.
    pub fn new(
        tx: &'a Transaction,
        trace: &'a Trace,
        history: &'a History,
        pre: &'a dyn PreState,
        fee: U256,
        tip: (Address, U256),
    ) -> Self {
        let has_code = |a: Address| pre.has_code(a);
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
        let nfts: BTreeSet<Address> = trace
            .token_events
            .iter()
            .filter(|e| matches!(e.kind, TokenEventKind::Erc721Transfer { .. }))
            .map(|e| e.token)
            .collect();
        for (h, f) in &trace.token_flows {
            let asset = match h.id {
                Some(id) => Asset::Item(h.token, id),
                None if nfts.contains(&h.token) => Asset::Nft(h.token),
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

        Self { tx, trace, history, actors, created, flows, contracts, slot_changes, keys: SlotKeys::new(trace), pre }
    }

    /// The code `a` held before the transaction.
    pub fn code(&self, a: Address) -> alloy_primitives::Bytes {
        self.pre.code(a)
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
        f.iter().any(|(k, v)| is_gain(k, v)) && !f.iter().any(|(k, v)| is_loss(k, v))
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

    /// Whether control reached the sender's side between `active` (a frame
    /// of a contract still running) and `inner`, a frame below it: a frame
    /// of the sender's side on the path, or `inner` called by it. A contract
    /// that calls back into its own protocol (a pool's share token reading
    /// the pool, a router's swap callbacks) hands control to no one.
    pub fn control_reached_actors(&self, active: FrameId, inner: FrameId) -> bool {
        let mut cur = Some(inner);
        while let Some(id) = cur {
            let Some(f) = self.trace.frame(id) else { return false };
            if id != inner && id <= active {
                return false;
            }
            if self.is_actor(f.caller) || (id != inner && self.is_actor(f.callee)) {
                return true;
            }
            cur = f.parent;
        }
        false
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
    /// an `SLOAD` of one of `v`'s own variables (a low or EIP-1967 slot, not
    /// a mapping entry) returned the frame's caller or the sender, and no one
    /// wrote that slot earlier in this transaction. Returns the authorized
    /// address.
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
                    if written.contains(&s.slot) || !is_variable_slot(s.slot) {
                        continue;
                    }
                    let Some(frame) = self.trace.frame(s.frame) else { continue };
                    if frame.reverted {
                        continue;
                    }
                    for who in [frame.caller, self.sender()] {
                        if word_holds_address(value, who) {
                            return Some(who);
                        }
                    }
                }
            }
        }
        None
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

    /// The mapping keys of `slot` (see [`SlotKeys::keys`]).
    pub fn slot_keys(&self, slot: U256) -> Vec<alloy_primitives::B256> {
        self.keys.keys(slot)
    }

    /// Whether `slot` is an entry a contract keeps for one of `who`: keyed by
    /// the address at any depth, or by a hash of data holding it.
    pub fn slot_bound_to(&self, slot: U256, who: &HashSet<Address>) -> bool {
        self.keys.bound_to(self.trace, slot, who)
    }

    /// The sender's side as a set, for [`Analysis::slot_bound_to`].
    pub fn actor_set(&self) -> HashSet<Address> {
        self.actors.iter().copied().collect()
    }

    /// Whether `v` read a non-zero entry it keeps for one of `who` that
    /// nothing wrote earlier in this transaction: a position, a membership
    /// or a claim recorded before.
    pub fn prior_entry_for(&self, v: Address, who: &HashSet<Address>) -> bool {
        let mut written = BTreeSet::new();
        for s in self.trace.storage.iter().filter(|s| s.address == v) {
            match s.op {
                StorageOp::Write { .. } => {
                    written.insert(s.slot);
                }
                StorageOp::Read { value } => {
                    if value.is_zero()
                        || written.contains(&s.slot)
                        || self.trace.frame(s.frame).is_none_or(|f| f.reverted)
                    {
                        continue;
                    }
                    if self.slot_bound_to(s.slot, who) {
                        return true;
                    }
                }
            }
        }
        false
    }

    /// [`Analysis::prior_entry_for`] the sender's side.
    pub fn holds_prior_entry(&self, v: Address) -> bool {
        self.prior_entry_for(v, &self.actor_set())
    }

    /// Whether `token` read (or wrote) the allowance entry that `holder`
    /// keeps for `spender`: a two-level mapping entry keyed by both.
    pub fn allowance_checked(&self, token: Address, holder: Address, spender: Address) -> bool {
        let (h, s) = (holder.into_word(), spender.into_word());
        self.trace.storage.iter().filter(|x| x.address == token).any(|x| {
            let keys = self.keys.keys(x.slot);
            keys.len() == 2 && keys.contains(&h) && keys.contains(&s)
        })
    }

    /// Whether `slot` is the entry of a one-level mapping keyed by `holder`
    /// (its own balance, not a shared value).
    pub fn is_entry_of(&self, slot: U256, holder: Address) -> bool {
        self.keys.is_entry_of(slot, holder)
    }

    /// Whether, after frame `after`, the protocol that made the call chain
    /// down to `after` (its non-actor ancestors, except `except`) moved
    /// assets to the sender's side: tokens sent from one of those contracts
    /// to an actor, or ether sent by one of them to an actor.
    pub fn protocol_pays_after(&self, after: FrameId, except: Address) -> bool {
        let mut payers = BTreeSet::new();
        let mut cur = self.trace.frame(after).and_then(|f| f.parent);
        while let Some(id) = cur {
            let Some(f) = self.trace.frame(id) else { break };
            if !self.is_actor(f.callee) && f.callee != except {
                payers.insert(f.callee);
            }
            cur = f.parent;
        }
        if let Some(f) = self.trace.frame(after) {
            if !self.is_actor(f.caller) && f.caller != except {
                payers.insert(f.caller);
            }
        }
        let tokens = self.trace.token_events.iter().filter(|e| !e.reverted).any(|e| {
            let frame = self.trace.logs.get(e.log).map_or(0, |l| l.frame);
            frame > after
                && matches!(&e.kind, TokenEventKind::Erc20Transfer { from, to, .. } if payers.contains(from) && self.is_actor(*to))
        });
        tokens
            || self.trace.frames.iter().any(|f| {
                f.id > after
                    && !f.reverted
                    && payers.contains(&f.caller)
                    && self.is_actor(f.callee)
                    && !f.value.is_zero()
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

/// EIP-1967 implementation, admin and beacon slots.
pub const EIP1967_SLOTS: [alloy_primitives::B256; 3] = [
    alloy_primitives::b256!("0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc"),
    alloy_primitives::b256!("0xb53127684a568b3173ae13b9f8a6016e243e63b6e8ee1178d6a717850b5d6103"),
    alloy_primitives::b256!("0xa3f0ad74e5423aebfd80d3ef4346578335a9a72aeaa59f8c1c0d02f2e1eac6be"),
];

/// Whether a slot holds one of a contract's own variables (owner, admin,
/// initialized, totals) rather than a mapping or array entry: Solidity puts
/// state variables in low slots and entries at hashed, huge slot numbers.
pub fn is_variable_slot(slot: U256) -> bool {
    slot < U256::from(64u64) || EIP1967_SLOTS.iter().any(|s| U256::from_be_bytes(s.0) == slot)
}

/// Formats a signed amount for messages.
pub fn amount(v: &I256) -> String {
    v.unsigned_abs().to_string()
}
