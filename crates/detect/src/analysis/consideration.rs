//! Why a contract paid: the evidence in a protocol's own books that a payout
//! to the sender's side had consideration or authority behind it.
//!
//! A payout is judged together with the protocol that made it: every
//! contract that ran under the frames through which the sender's side
//! entered the paying contract (a pool and its share and debt tokens, a
//! governor and its timelock, a portal and its output oracle). What counts,
//! for every contract alike:
//!
//! - **shares redeemed**: the payer burned its own shares (an LP token, a
//!   vault share, an aToken), whoever handed them in, or another member of
//!   the protocol burned the recipient's shares (a vault withdrawing from
//!   the farm it stakes in);
//! - **an obligation recorded**: an entry the protocol keeps for the
//!   recipient side changed by about the amount paid (a balance debited, a
//!   debt recorded), or a debt token of the protocol minted to it;
//! - **a prior position or claim**: the protocol read a non-zero entry kept
//!   for the recipient side that nothing in this transaction wrote: a
//!   deposit, a stake, a role membership, a proven or scheduled claim whose
//!   key commits to the recipient;
//! - **a stored role or record**: a slot of the protocol's books holding
//!   the sender's side's address, not written earlier in the transaction
//!   (an owner or keeper variable, the owner of a position NFT);
//! - **a stored signer's signature**: an `ecrecover` in the protocol whose
//!   signer the protocol had stored (as a value, or as the key of a non-zero
//!   entry);
//! - **a proof against a stored root**: a hash the protocol computed equals
//!   a commitment it read from storage (or, for a Merkle node, one fixed in
//!   its code), and a hash it computed commits to the recipient or to a
//!   payee of the payer (a Merkle claim, a withdrawal proven against an
//!   output root, finalised by its recipient or by a relayer);
//! - **assets in**: the sender's side paid the protocol another asset (a
//!   liquidation repays debt in one asset and seizes collateral in another;
//!   LP tokens handed to a pair).

use super::{word_holds_address, Analysis, Asset};
use alloy_primitives::{Address, U256};
use std::collections::{BTreeSet, HashSet};
use vigil_sim::trace::{FrameId, StorageOp, TokenEventKind};

/// Which evidence explained a payout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Backing {
    /// The payer burned its own shares.
    SharesRedeemed,
    /// An entry kept for the recipient changed by about the amount, or a
    /// debt token minted it.
    ObligationRecorded,
    /// A non-zero entry kept for the recipient, written before.
    PriorEntry,
    /// A declared variable holds the sender.
    StoredRole,
    /// A stored signer's signature.
    StoredSigner,
    /// A proof checked against a stored root, committing to the recipient.
    ProofAgainstRoot,
    /// The sender's side paid the protocol another asset.
    AssetsIn,
}

impl Backing {
    /// A few words for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Self::SharesRedeemed => "its own shares burned",
            Self::ObligationRecorded => "an obligation recorded for the recipient",
            Self::PriorEntry => "a prior position or claim of the recipient",
            Self::StoredRole => "a stored role or record naming the sender's side",
            Self::StoredSigner => "a stored signer's signature",
            Self::ProofAgainstRoot => "a proof against a stored root",
            Self::AssetsIn => "another asset paid in",
        }
    }
}

/// The contracts that ran under the frames through which the sender's side
/// entered one paying contract.
#[derive(Debug, Clone, Default)]
pub struct Protocol {
    /// The paying contract.
    pub payer: Address,
    /// Every non-actor contract with a frame under those entries (the payer
    /// included), without the frames of the sender's side called back.
    pub members: BTreeSet<Address>,
    /// Members other than the payer that emitted ERC-20 transfers: their
    /// plain balance entries moving, or held, say nothing about why the
    /// payer paid (a recipient holding some other token is no claim on
    /// the payer).
    pub ledgers: BTreeSet<Address>,
    /// The frames of the members under the entries.
    frames: Vec<FrameId>,
}

/// Tolerance of "about the amount paid": 5 %.
fn about(x: U256, target: U256) -> bool {
    let tol = target / U256::from(20);
    x >= target.saturating_sub(tol) && x <= target.saturating_add(tol)
}

impl Analysis<'_> {
    /// The outermost frame above `id` that is not the sender's side: where
    /// the sender's side (or the transaction) entered the protocol.
    pub fn entry_frame(&self, id: FrameId) -> FrameId {
        let mut cur = id;
        while let Some(p) = self.trace.frame(cur).and_then(|f| f.parent) {
            match self.trace.frame(p) {
                Some(f) if !self.is_actor(f.callee) => cur = p,
                _ => break,
            }
        }
        cur
    }

    /// The protocol around `payer`: see [`Protocol`].
    pub fn protocol_of(&self, payer: Address) -> Protocol {
        let entries: BTreeSet<FrameId> =
            self.frames_of(payer).filter(|f| !self.is_actor(f.callee)).map(|f| self.entry_frame(f.id)).collect();
        let mut p = Protocol { payer, ..Protocol::default() };
        for e in entries {
            let end = self.subtree_end(e);
            let mut skip_until: Option<FrameId> = None;
            for f in self.trace.frames.get(e as usize..=end as usize).unwrap_or_default() {
                if skip_until.is_some_and(|s| f.id <= s) {
                    continue;
                }
                if self.is_actor(f.callee) {
                    // A callback into the sender's side: what it does there is its own.
                    skip_until = Some(self.subtree_end(f.id));
                    continue;
                }
                if f.reverted || f.precompile || f.kind.is_create() {
                    continue;
                }
                p.members.insert(f.callee);
                p.frames.push(f.id);
            }
        }
        p.members.insert(payer);
        let emitters: BTreeSet<Address> = self
            .trace
            .token_events
            .iter()
            .filter(|e| !e.reverted && matches!(e.kind, TokenEventKind::Erc20Transfer { .. }))
            .map(|e| e.token)
            .collect();
        p.ledgers = p.members.iter().copied().filter(|m| *m != payer && emitters.contains(m)).collect();
        p
    }

    /// The evidence that explains a payout of `amount` of `asset` by
    /// `payer` to the sender's side, if any.
    pub fn backing(&self, payer: Address, asset: Asset, amount: U256) -> Option<Backing> {
        let p = self.protocol_of(payer);
        let mut recipients: HashSet<Address> = self.actor_set();
        recipients.extend(self.frames_of(payer).map(|f| f.caller).filter(|c| !p.members.contains(c)));
        if self.burned_own_shares(payer, None) || self.member_redeemed(&p, &recipients) {
            return Some(Backing::SharesRedeemed);
        }
        if self.obligation_recorded(&p, &recipients, asset, amount) {
            return Some(Backing::ObligationRecorded);
        }
        if self.prior_entry_in(&p, &recipients) {
            return Some(Backing::PriorEntry);
        }
        if self.stored_actor(&p) {
            return Some(Backing::StoredRole);
        }
        if p.members.iter().any(|m| self.signature_authorization(*m).is_some()) {
            return Some(Backing::StoredSigner);
        }
        // A proof may name the payee the payer paid rather than the sender
        // (a relayer finalising someone's withdrawal for a fee).
        let mut payees = recipients.clone();
        payees.extend(self.paid_by(payer, asset));
        if self.proof_against_root(&p, &payees) {
            return Some(Backing::ProofAgainstRoot);
        }
        if self.assets_in(&p, asset) {
            return Some(Backing::AssetsIn);
        }
        None
    }

    /// Whether `payer` burned shares it issues, held by one of `holders`
    /// (by anyone if `None`): its own token sent to the zero address, or a
    /// burn it asked a token contract to make, in a non-zero amount.
    pub fn burned_own_shares(&self, payer: Address, holders: Option<&HashSet<Address>>) -> bool {
        self.trace.token_events.iter().filter(|e| !e.reverted).any(|e| {
            let TokenEventKind::Erc20Transfer { from, to, amount } = &e.kind else { return false };
            if !to.is_zero() || amount.is_zero() || holders.is_some_and(|h| !h.contains(from)) {
                return false;
            }
            e.token == payer
                || self
                    .trace
                    .logs
                    .get(e.log)
                    .and_then(|l| self.trace.frame(l.frame))
                    .is_some_and(|f| f.caller == payer && f.callee == e.token)
        })
    }

    /// Whether, under the payer's own entries, another member burned shares
    /// it issues that the recipients held (a vault redeeming its shares
    /// and withdrawing the assets from the farm it stakes in).
    fn member_redeemed(&self, p: &Protocol, recipients: &HashSet<Address>) -> bool {
        let frames: HashSet<FrameId> = p.frames.iter().copied().collect();
        self.trace.token_events.iter().filter(|e| !e.reverted).any(|e| {
            let TokenEventKind::Erc20Transfer { from, to, amount } = &e.kind else { return false };
            to.is_zero()
                && !amount.is_zero()
                && recipients.contains(from)
                && p.members.contains(&e.token)
                && self.trace.logs.get(e.log).is_some_and(|l| frames.contains(&l.frame))
        })
    }

    /// Who received `asset` from `payer` in this transaction.
    pub fn paid_by(&self, payer: Address, asset: Asset) -> BTreeSet<Address> {
        let mut out = BTreeSet::new();
        match asset {
            Asset::Native => {
                for f in self.trace.frames.iter().filter(|f| !f.reverted && f.caller == payer && !f.value.is_zero()) {
                    out.insert(f.callee);
                }
            }
            Asset::Token(t) | Asset::Nft(t) | Asset::Item(t, _) => {
                for e in self.trace.token_events.iter().filter(|e| !e.reverted && e.token == t) {
                    match &e.kind {
                        TokenEventKind::Erc20Transfer { from, to, .. }
                        | TokenEventKind::Erc721Transfer { from, to, .. }
                        | TokenEventKind::Erc1155Transfer { from, to, .. }
                        | TokenEventKind::Erc1155TransferBatch { from, to, .. }
                            if *from == payer =>
                        {
                            out.insert(*to);
                        }
                        _ => {}
                    }
                }
            }
        }
        out
    }

    /// Whether `slot` of `contract` is a plain token balance: a one-level
    /// entry keyed by an address in one of the protocol's ledgers.
    fn plain_balance(&self, p: &Protocol, contract: Address, slot: U256) -> bool {
        p.ledgers.contains(&contract) && {
            let keys = self.slot_keys(slot);
            keys.len() == 1 && keys[0][..12].iter().all(|b| *b == 0)
        }
    }

    /// A member read a non-zero entry it keeps for one of the recipients
    /// that nothing in this transaction wrote first (plain balances of
    /// other tokens aside).
    fn prior_entry_in(&self, p: &Protocol, recipients: &HashSet<Address>) -> bool {
        let mut written = BTreeSet::new();
        for s in self.trace.storage.iter().filter(|s| p.members.contains(&s.address)) {
            match s.op {
                StorageOp::Write { .. } => {
                    written.insert((s.address, s.slot));
                }
                StorageOp::Read { value } => {
                    if value.is_zero()
                        || written.contains(&(s.address, s.slot))
                        || self.trace.frame(s.frame).is_none_or(|f| f.reverted)
                        || self.plain_balance(p, s.address, s.slot)
                    {
                        continue;
                    }
                    if self.slot_bound_to(s.slot, recipients) {
                        return true;
                    }
                }
            }
        }
        false
    }

    /// An entry of the protocol's books kept for the recipients changed by
    /// about `amount`, or a member token other than the paid one minted
    /// about `amount` to them.
    fn obligation_recorded(&self, p: &Protocol, recipients: &HashSet<Address>, asset: Asset, amount: U256) -> bool {
        let paid_token = match asset {
            Asset::Token(t) => Some(t),
            _ => None,
        };
        // The paid token's own ledger moving is the payment, not a record of why.
        let written = self
            .slot_changes
            .iter()
            .filter(|((c, slot), _)| {
                p.members.contains(c) && Some(*c) != paid_token && !self.plain_balance(p, *c, *slot)
            })
            .any(|((_, slot), (old, new))| {
                let d = if old > new { *old - *new } else { *new - *old };
                about(d, amount) && self.slot_bound_to(*slot, recipients)
            });
        written
            || self.trace.token_events.iter().filter(|e| !e.reverted).any(|e| {
                matches!(&e.kind, TokenEventKind::Erc20Transfer { from, to, amount: m }
                    if from.is_zero() && recipients.contains(to) && about(*m, amount))
                    && p.members.contains(&e.token)
                    && Some(e.token) != paid_token
            })
    }

    /// Whether a member of the protocol read a slot holding an address of
    /// the sender's side that nothing wrote earlier in this transaction:
    /// the protocol had it on record as an owner, a role holder, the holder
    /// of a position.
    fn stored_actor(&self, p: &Protocol) -> bool {
        let mut written = BTreeSet::new();
        self.trace.storage.iter().filter(|s| p.members.contains(&s.address)).any(|s| match s.op {
            StorageOp::Write { .. } => {
                written.insert((s.address, s.slot));
                false
            }
            StorageOp::Read { value } => {
                !value.is_zero()
                    && !written.contains(&(s.address, s.slot))
                    && self.trace.frame(s.frame).is_some_and(|f| !f.reverted)
                    && self.actors.iter().any(|a| word_holds_address(value, *a))
            }
        })
    }

    /// A hash computed by the protocol equals a commitment one of its
    /// members read from storage (a word that is neither small nor an
    /// address, not written earlier in this transaction), and a hash it
    /// computed commits to one of the recipients.
    fn proof_against_root(&self, p: &Protocol, recipients: &HashSet<Address>) -> bool {
        let frames: HashSet<FrameId> = p.frames.iter().copied().collect();
        let computed: Vec<_> = self.trace.keccaks.iter().filter(|k| frames.contains(&k.frame)).collect();
        if computed.is_empty() {
            return false;
        }
        let mut roots: HashSet<U256> = HashSet::new();
        let mut written = BTreeSet::new();
        for s in self.trace.storage.iter().filter(|s| p.members.contains(&s.address)) {
            match s.op {
                StorageOp::Write { .. } => {
                    written.insert((s.address, s.slot));
                }
                StorageOp::Read { value } => {
                    if value >= (U256::from(1u64) << 160) && !written.contains(&(s.address, s.slot)) {
                        roots.insert(value);
                    }
                }
            }
        }
        if !computed.iter().any(|k| self.keys.key_binds(self.trace, k.output, recipients)) {
            return false;
        }
        if computed.iter().any(|k| roots.contains(&U256::from_be_bytes(k.output.0))) {
            return true;
        }
        // A root fixed at deployment lives in the code (an immutable), not
        // in storage: a combining hash (two hash-like halves, as a Merkle
        // node is) found verbatim in the code that ran.
        let combined: Vec<_> = computed
            .iter()
            .filter(|k| {
                self.trace.keccak_input(k).is_some_and(|i| {
                    i.len() == 64
                        && [&i[..32], &i[32..]].iter().all(|h| U256::from_be_slice(h) >= (U256::from(1u64) << 160))
                })
            })
            .collect();
        if combined.is_empty() {
            return false;
        }
        let codes: BTreeSet<Address> =
            p.frames.iter().filter_map(|id| self.trace.frame(*id)).map(|f| f.code_address).collect();
        codes.iter().any(|c| {
            let code = self.code(*c);
            combined.iter().any(|k| code.windows(32).any(|w| w == k.output.as_slice()))
        })
    }

    /// The sender's side paid a member of the protocol an asset other than
    /// `lost` and not issued by itself (any amount: tokens have 6, 8 or 18
    /// decimals).
    fn assets_in(&self, p: &Protocol, lost: Asset) -> bool {
        let tokens = self.trace.token_events.iter().filter(|e| !e.reverted).any(|e| {
            let (from, to, asset, amount) = match &e.kind {
                TokenEventKind::Erc20Transfer { from, to, amount } => (*from, *to, Asset::Token(e.token), *amount),
                TokenEventKind::Erc721Transfer { from, to, .. } => (*from, *to, Asset::Nft(e.token), U256::from(1)),
                TokenEventKind::Erc1155Transfer { from, to, id, amount, .. } => {
                    (*from, *to, Asset::Item(e.token, *id), *amount)
                }
                _ => return false,
            };
            // A token the sender's side issues itself is worth what its issuer says.
            self.is_actor(from)
                && !self.is_actor(e.token)
                && p.members.contains(&to)
                && asset != lost
                && !amount.is_zero()
        });
        tokens
            || (lost != Asset::Native
                && self.trace.frames.iter().any(|f| {
                    !f.reverted && self.is_actor(f.caller) && p.members.contains(&f.callee) && !f.value.is_zero()
                }))
    }

    /// The balance `holder` had of `token` before the transaction, read off
    /// the token's storage: the first value of the one-level entry keyed by
    /// the holder (the largest, if the token keeps several).
    pub fn balance_before(&self, token: Address, holder: Address) -> Option<U256> {
        let mut seen = BTreeSet::new();
        let mut best: Option<U256> = None;
        for s in self.trace.storage.iter().filter(|s| s.address == token) {
            if !seen.insert(s.slot) || !self.is_entry_of(s.slot, holder) {
                continue;
            }
            let first = match s.op {
                StorageOp::Read { value } => value,
                StorageOp::Write { old, .. } => old,
            };
            best = Some(best.map_or(first, |b| b.max(first)));
        }
        best
    }

    /// Whether `v` checked a signature of a signer it had stored: an
    /// `ecrecover` made from `v`'s code recovered an address that `v` read
    /// from a slot, or whose non-zero entry it read, not written earlier in
    /// this transaction.
    pub fn signature_authorization(&self, v: Address) -> Option<Address> {
        let recovered: Vec<Address> = self
            .trace
            .ecrecovers
            .iter()
            .filter(|e| e.caller == v && self.trace.frame(e.frame).is_some_and(|f| !f.reverted))
            .filter_map(|e| e.recovered)
            .collect();
        if recovered.is_empty() {
            return None;
        }
        let mut written = BTreeSet::new();
        for s in self.trace.storage.iter().filter(|s| s.address == v) {
            match s.op {
                StorageOp::Write { .. } => {
                    written.insert(s.slot);
                }
                StorageOp::Read { value } if !written.contains(&s.slot) => {
                    if let Some(r) = recovered
                        .iter()
                        .find(|r| word_holds_address(value, **r) || (!value.is_zero() && self.is_entry_of(s.slot, **r)))
                    {
                        return Some(*r);
                    }
                }
                StorageOp::Read { .. } => {}
            }
        }
        None
    }
}
