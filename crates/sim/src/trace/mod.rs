//! What the tracing inspector records about one transaction.
//!
//! Frames are numbered in the order they start (pre-order), so a frame's
//! parent always has a smaller id and `frames[id].id == id`. Everything else
//! (storage accesses, logs, self-destructs, re-entries, `ecrecover` calls,
//! `KECCAK256`s) points at the frame it happened in.
//!
//! Size: every recorded entry costs the transaction at least 30 gas (a
//! `KECCAK256`, a warm `SLOAD`, a warm call, a log), so the gas budget bounds
//! the trace; a hash's input is kept only up to [`MAX_KECCAK_INPUT`] bytes.

pub mod tokens;

use std::collections::BTreeMap;

use alloy_primitives::{Address, Log, B256, I256, U256};

pub use tokens::TokenEventKind;

/// Index of a frame in [`Trace::frames`].
pub type FrameId = u32;

/// How a frame was entered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallKind {
    /// `CALL` (or the transaction's own call).
    Call,
    /// `STATICCALL`.
    StaticCall,
    /// `DELEGATECALL`: callee's context, code of `code_address`.
    DelegateCall,
    /// `CALLCODE`.
    CallCode,
    /// `CREATE` (or a contract-creation transaction).
    Create,
    /// `CREATE2`.
    Create2,
}

impl CallKind {
    /// Whether the frame deploys a contract.
    pub fn is_create(self) -> bool {
        matches!(self, Self::Create | Self::Create2)
    }

    /// Whether the frame runs in its own account's context (a `CALL` or
    /// `STATICCALL`), as opposed to borrowing the caller's (delegate/code
    /// calls) or creating one.
    pub fn enters_callee(self) -> bool {
        matches!(self, Self::Call | Self::StaticCall)
    }
}

/// How a frame ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameStatus {
    /// Still running: the transaction was cut short by the budget.
    Unfinished,
    /// `STOP`, `RETURN`, `SELFDESTRUCT` or a successful creation.
    Success,
    /// `REVERT`.
    Revert,
    /// Exceptional halt (out of gas, invalid opcode, …), or a call that
    /// failed before running (depth, insufficient balance).
    Halt,
}

/// One call or creation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallFrame {
    /// This frame's index in [`Trace::frames`].
    pub id: FrameId,
    /// The frame that made the call; `None` for the transaction's own frame.
    pub parent: Option<FrameId>,
    /// Call depth, 0 for the transaction's own frame.
    pub depth: u32,
    /// How it was entered.
    pub kind: CallKind,
    /// `msg.sender` inside the frame.
    pub caller: Address,
    /// The account whose storage and balance the frame uses: the target of a
    /// call, the caller's own address for delegate and code calls, the new
    /// contract for a creation (zero if the creation failed before an
    /// address existed).
    pub callee: Address,
    /// The account whose code runs (differs from `callee` for delegate and
    /// code calls; equal to it for creations).
    pub code_address: Address,
    /// Wei moved from `caller` to `callee` (zero for delegate calls, whose
    /// `CALLVALUE` is only apparent).
    pub value: U256,
    /// First four bytes of the input (`None` for creations and shorter
    /// inputs).
    pub selector: Option<[u8; 4]>,
    /// Length of the calldata (init code for creations).
    pub input_len: usize,
    /// Gas made available to the frame.
    pub gas_limit: u64,
    /// Gas the frame used, including its children.
    pub gas_used: u64,
    /// How it ended.
    pub status: FrameStatus,
    /// Whether its effects were undone: it, or a frame above it, did not
    /// succeed.
    pub reverted: bool,
    /// The call went to a precompile.
    pub precompile: bool,
    /// Set when this frame entered a contract that already had an active
    /// frame: the innermost such frame.
    pub reentered: Option<FrameId>,
}

impl CallFrame {
    /// Whether the frame itself succeeded (its parent may still revert).
    pub fn success(&self) -> bool {
        self.status == FrameStatus::Success
    }
}

/// A storage read or write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageOp {
    /// `SLOAD` returned `value`.
    Read {
        /// The value read.
        value: U256,
    },
    /// `SSTORE` replaced `old` with `new` (equal when the write changed
    /// nothing).
    Write {
        /// Value before the write.
        old: U256,
        /// Value written.
        new: U256,
    },
}

/// One `SLOAD` or `SSTORE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageAccess {
    /// The frame that executed it.
    pub frame: FrameId,
    /// Whose storage (the frame's `callee`).
    pub address: Address,
    /// The slot.
    pub slot: U256,
    /// Read or write.
    pub op: StorageOp,
}

/// A log and the frame that emitted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    /// The emitting frame.
    pub frame: FrameId,
    /// Emitter address, topics and data.
    pub log: Log,
    /// Whether the log was discarded because a frame above reverted.
    pub reverted: bool,
}

/// A decoded token event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenEvent {
    /// Index of the log in [`Trace::logs`].
    pub log: usize,
    /// The token contract (the log's emitter).
    pub token: Address,
    /// What it says.
    pub kind: TokenEventKind,
    /// Whether it was discarded by a revert.
    pub reverted: bool,
}

/// A `SELFDESTRUCT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SelfDestruct {
    /// The frame that executed it.
    pub frame: FrameId,
    /// The contract.
    pub contract: Address,
    /// Who received its balance.
    pub beneficiary: Address,
    /// The balance moved.
    pub value: U256,
}

/// A contract entered again while one of its frames was active.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reentry {
    /// The contract.
    pub address: Address,
    /// The new frame that entered it (a `CALL` or `STATICCALL`).
    pub frame: FrameId,
    /// Its innermost frame that was active at that moment.
    pub active: FrameId,
}

/// A call to the `ecrecover` precompile (address `0x01`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EcrecoverCall {
    /// The precompile's frame.
    pub frame: FrameId,
    /// Who called it (the code that verifies a signature).
    pub caller: Address,
    /// The message hash.
    pub hash: B256,
    /// The `v` word.
    pub v: U256,
    /// The `r` word.
    pub r: B256,
    /// The `s` word.
    pub s: B256,
    /// The recovered signer, `None` if the signature did not recover.
    pub recovered: Option<Address>,
}

/// Longest `KECCAK256` input kept in [`Trace::keccak_data`]; a longer one
/// is recorded with its output only.
pub const MAX_KECCAK_INPUT: usize = 1024;

/// A `KECCAK256` the code computed: mapping slots, Merkle nodes, message
/// hashes, commitments. Together they say which key a storage slot belongs
/// to and which proofs a contract checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeccakRecord {
    /// The frame that executed it.
    pub frame: FrameId,
    /// Where its input starts in [`Trace::keccak_data`].
    pub start: u32,
    /// Input length in bytes (the input is kept only when at most
    /// [`MAX_KECCAK_INPUT`]).
    pub len: u32,
    /// The hash.
    pub output: B256,
}

/// Balance of an account before and after the transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BalanceChange {
    /// Before the transaction.
    pub before: U256,
    /// After it.
    pub after: U256,
}

impl BalanceChange {
    /// `after - before`, saturating at the bounds of `I256`.
    pub fn delta(&self) -> I256 {
        signed_difference(self.after, self.before)
    }
}

/// Which token balance a [`TokenFlow`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TokenHolding {
    /// The token contract.
    pub token: Address,
    /// The holder (the zero address collects mints and burns).
    pub holder: Address,
    /// The ERC-1155 id; `None` for ERC-20 amounts and ERC-721 counts.
    pub id: Option<U256>,
}

/// Tokens a holder received and sent in the transaction, from its
/// non-reverted transfer events (ERC-721: number of tokens).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenFlow {
    /// Total received.
    pub received: U256,
    /// Total sent.
    pub sent: U256,
}

impl TokenFlow {
    /// `received - sent`, saturating at the bounds of `I256`.
    pub fn net(&self) -> I256 {
        signed_difference(self.received, self.sent)
    }
}

fn signed_difference(a: U256, b: U256) -> I256 {
    if a >= b {
        I256::try_from(a - b).unwrap_or(I256::MAX)
    } else {
        I256::try_from(b - a).map(|d| -d).unwrap_or(I256::MIN)
    }
}

/// Everything recorded about one transaction's execution.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trace {
    /// Calls and creations in the order they started.
    pub frames: Vec<CallFrame>,
    /// `SLOAD`s and `SSTORE`s in execution order.
    pub storage: Vec<StorageAccess>,
    /// Logs in emission order, including ones later discarded by a revert.
    pub logs: Vec<LogRecord>,
    /// Standard token events decoded from [`Trace::logs`].
    pub token_events: Vec<TokenEvent>,
    /// `SELFDESTRUCT`s.
    pub selfdestructs: Vec<SelfDestruct>,
    /// Re-entries, in the order they happened.
    pub reentries: Vec<Reentry>,
    /// Calls to `ecrecover`.
    pub ecrecovers: Vec<EcrecoverCall>,
    /// `KECCAK256`s in execution order.
    pub keccaks: Vec<KeccakRecord>,
    /// The kept inputs of [`Trace::keccaks`], back to back.
    pub keccak_data: Vec<u8>,
    /// Native balance changes (gas payment included), for every account
    /// whose balance changed; empty when the budget cut the run short.
    pub balance_changes: BTreeMap<Address, BalanceChange>,
    /// Token flows per holding, from non-reverted transfer events.
    pub token_flows: BTreeMap<TokenHolding, TokenFlow>,
}

impl Trace {
    /// The transaction's own frame.
    pub fn root(&self) -> Option<&CallFrame> {
        self.frames.first()
    }

    /// A frame by id.
    pub fn frame(&self, id: FrameId) -> Option<&CallFrame> {
        self.frames.get(id as usize)
    }

    /// Frames called directly by `id`.
    pub fn children(&self, id: FrameId) -> impl Iterator<Item = &CallFrame> {
        self.frames.iter().filter(move |f| f.parent == Some(id))
    }

    /// Storage accesses made by frame `id` itself.
    pub fn storage_of(&self, id: FrameId) -> impl Iterator<Item = &StorageAccess> {
        self.storage.iter().filter(move |s| s.frame == id)
    }

    /// Storage writes whose frame was not reverted.
    pub fn committed_writes(&self) -> impl Iterator<Item = &StorageAccess> {
        self.storage
            .iter()
            .filter(|s| matches!(s.op, StorageOp::Write { .. }) && self.frame(s.frame).is_some_and(|f| !f.reverted))
    }

    /// Frames that deployed a contract.
    pub fn creations(&self) -> impl Iterator<Item = &CallFrame> {
        self.frames.iter().filter(|f| f.kind.is_create())
    }

    /// The input of a recorded hash, if it was kept.
    pub fn keccak_input(&self, k: &KeccakRecord) -> Option<&[u8]> {
        if k.len as usize > MAX_KECCAK_INPUT {
            return None;
        }
        self.keccak_data.get(k.start as usize..(k.start as usize).checked_add(k.len as usize)?)
    }

    /// Native balance change of `address` (zero if none).
    pub fn balance_delta(&self, address: Address) -> I256 {
        self.balance_changes.get(&address).map_or(I256::ZERO, BalanceChange::delta)
    }

    /// Net ERC-20 flow of `holder` in `token` (or ERC-721 count).
    pub fn token_delta(&self, token: Address, holder: Address) -> I256 {
        self.token_flows.get(&TokenHolding { token, holder, id: None }).map_or(I256::ZERO, TokenFlow::net)
    }

    /// Computes what needs the whole run: which frames were reverted, and the
    /// token flows of the surviving transfer events.
    pub(crate) fn finish(&mut self) {
        for i in 0..self.frames.len() {
            let parent_reverted =
                self.frames[i].parent.and_then(|p| self.frames.get(p as usize)).is_some_and(|p| p.reverted);
            let frame = &mut self.frames[i];
            frame.reverted = parent_reverted || frame.status != FrameStatus::Success;
        }
        for log in &mut self.logs {
            log.reverted = self.frames.get(log.frame as usize).is_none_or(|f| f.reverted);
        }
        for event in &mut self.token_events {
            event.reverted = self.logs.get(event.log).is_none_or(|l| l.reverted);
            if event.reverted {
                continue;
            }
            let token = event.token;
            let mut flow = |holder, id, amount: U256, incoming: bool| {
                let f = self.token_flows.entry(TokenHolding { token, holder, id }).or_default();
                let side = if incoming { &mut f.received } else { &mut f.sent };
                *side = side.saturating_add(amount);
            };
            match &event.kind {
                TokenEventKind::Erc20Transfer { from, to, amount } => {
                    flow(*from, None, *amount, false);
                    flow(*to, None, *amount, true);
                }
                TokenEventKind::Erc721Transfer { from, to, .. } => {
                    flow(*from, None, U256::from(1), false);
                    flow(*to, None, U256::from(1), true);
                }
                TokenEventKind::Erc1155Transfer { from, to, id, amount, .. } => {
                    flow(*from, Some(*id), *amount, false);
                    flow(*to, Some(*id), *amount, true);
                }
                TokenEventKind::Erc1155TransferBatch { from, to, transfers, .. } => {
                    for (id, amount) in transfers {
                        flow(*from, Some(*id), *amount, false);
                        flow(*to, Some(*id), *amount, true);
                    }
                }
                TokenEventKind::Erc20Approval { .. }
                | TokenEventKind::Erc721Approval { .. }
                | TokenEventKind::ApprovalForAll { .. } => {}
            }
        }
    }
}
