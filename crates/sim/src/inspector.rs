//! The tracing inspector: builds a [`Trace`] and enforces the [`Budget`].
//!
//! Cost model: it runs on every pending transaction, so the per-instruction
//! hooks do almost nothing. `step` reads the opcode, compares the frame's
//! remaining gas with a precomputed floor (the gas budget) and decrements a
//! counter (the clock is read every [`CLOCK_EVERY`] steps); only `SLOAD`,
//! `SSTORE` and the call/create opcodes leave a note for `step_end`, which
//! otherwise returns at once. Frames, logs and self-destructs come through
//! their own hooks, once per event. Nothing allocates per instruction;
//! records are pushed onto vectors that grow amortised.
//!
//! Gas budget without changing the transaction's gas limit: the gas used so
//! far is `tx_gas_limit - (remaining of the running frame + remaining of
//! every suspended ancestor)`. Each ancestor's remaining gas is noted right
//! after its call opcode (in `step_end`, when the forwarded gas has been
//! deducted) and summed in `held`; the running frame then only has to check
//! `remaining < floor` with `floor = tx_gas_limit - max_gas - held`.
//!
//! Stopping: when a budget is exceeded the running frame is halted with
//! out-of-gas and the floor becomes `u64::MAX`, so every frame that resumes
//! halts at its next instruction and no new frame runs code; the outcome is
//! then reported as [`ExecResult::BudgetExceeded`](crate::ExecResult).

use std::time::{Duration, Instant};

use alloy_primitives::{map::AddressMap, Address, Log, B256, U256};
use revm::{
    bytecode::opcode,
    context::ContextTr,
    inspector::{Inspector, JournalExt},
    interpreter::{
        interpreter::EthInterpreter,
        interpreter_types::{Jumps, LoopControl, MemoryTr},
        CallInputs, CallOutcome, CallScheme, CreateInputs, CreateOutcome, CreateScheme, InstructionResult, Interpreter,
        InterpreterAction,
    },
    JournalEntry,
};

use crate::{
    budget::{Budget, BudgetKind},
    trace::{
        tokens, CallFrame, CallKind, EcrecoverCall, FrameId, FrameStatus, KeccakRecord, LogRecord, Reentry,
        SelfDestruct, StorageAccess, StorageOp, TokenEvent, TokenEventKind, Trace, MAX_KECCAK_INPUT,
    },
};

/// Instructions between two reads of the clock.
pub(crate) const CLOCK_EVERY: u32 = 4096;

/// Address of the `ecrecover` precompile.
const ECRECOVER: Address = Address::with_last_byte(1);

/// What `step` saw that `step_end` must complete.
#[derive(Debug, Clone, Copy, Default)]
enum Pending {
    #[default]
    None,
    /// An `SLOAD` of `slot`: the value is on the stack afterwards.
    Sload { slot: U256 },
    /// An `SSTORE`: the old value is in the journal entries added after
    /// `journal_len`.
    Sstore { slot: U256, new: U256, journal_len: usize },
    /// A `KECCAK256` of memory `[offset, offset + len)`: the hash is on the
    /// stack afterwards and the memory has been expanded to cover the input.
    Keccak { offset: usize, len: usize },
    /// A call or create opcode: if it opens a frame, note the gas the
    /// suspended frame keeps.
    FrameOpcode,
}

/// A frame that has started and not ended.
#[derive(Debug, Clone, Copy)]
struct Active {
    id: FrameId,
    /// Remaining gas of the parent when this frame started (added to
    /// `held` while this frame or its children run).
    parent_held: u64,
    /// Whether this frame is in `by_address` (calls only).
    tracked: bool,
}

/// What a call or create hook knows about a new frame.
#[derive(Debug, Clone, Copy)]
struct FrameStart {
    kind: CallKind,
    caller: Address,
    callee: Address,
    code_address: Address,
    value: U256,
    selector: Option<[u8; 4]>,
    input_len: usize,
    gas_limit: u64,
}

/// The tracing and budget inspector of one simulation.
#[derive(Debug)]
pub(crate) struct Tracer {
    trace: Trace,
    active: Vec<Active>,
    /// Active frames per account context, innermost last.
    by_address: AddressMap<Vec<FrameId>>,
    pending: Pending,
    /// Remaining gas of the frame whose call opcode just opened a frame.
    parent_remaining: Option<u64>,
    /// The `ecrecover` call whose result `call_end` fills in.
    pending_ecrecover: Option<(FrameId, usize)>,

    // Budget.
    /// `tx_gas_limit - max_gas`, or zero when the gas budget cannot bind.
    gas_base: u64,
    tx_gas_limit: u64,
    held: u64,
    gas_floor: u64,
    deadline: Option<Instant>,
    start: Instant,
    clock_countdown: u32,
    exceeded: Option<BudgetKind>,
    gas_used_at_stop: u64,
}

/// The inspector's findings after the run.
#[derive(Debug)]
pub(crate) struct TracerOutput {
    pub(crate) trace: Trace,
    pub(crate) exceeded: Option<(BudgetKind, u64)>,
}

impl Tracer {
    pub(crate) fn new(tx_gas_limit: u64, budget: &Budget, start: Instant) -> Self {
        let gas_base = tx_gas_limit.saturating_sub(budget.max_gas);
        Self {
            trace: Trace::default(),
            active: Vec::new(),
            by_address: AddressMap::default(),
            pending: Pending::None,
            parent_remaining: None,
            pending_ecrecover: None,
            gas_base,
            tx_gas_limit,
            held: 0,
            gas_floor: gas_base,
            deadline: start.checked_add(budget.max_wall_time),
            start,
            clock_countdown: CLOCK_EVERY,
            exceeded: None,
            gas_used_at_stop: 0,
        }
    }

    pub(crate) fn finish(mut self) -> TracerOutput {
        self.trace.finish();
        TracerOutput { trace: self.trace, exceeded: self.exceeded.map(|kind| (kind, self.gas_used_at_stop)) }
    }

    pub(crate) fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    fn current(&self) -> FrameId {
        self.active.last().map_or(0, |a| a.id)
    }

    fn update_floor(&mut self) {
        self.gas_floor = if self.exceeded.is_some() { u64::MAX } else { self.gas_base.saturating_sub(self.held) };
    }

    #[cold]
    #[inline(never)]
    fn stop(&mut self, kind: BudgetKind, frame_remaining: u64) {
        if self.exceeded.is_none() {
            self.exceeded = Some(kind);
            let remaining = frame_remaining.saturating_add(self.held);
            self.gas_used_at_stop = self.tx_gas_limit.saturating_sub(remaining);
        }
        self.update_floor();
    }

    /// Reads the clock; true if the wall-time budget is spent.
    #[cold]
    #[inline(never)]
    fn clock_expired(&mut self) -> bool {
        self.clock_countdown = CLOCK_EVERY;
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// Records the start of a frame and returns its id.
    fn push_frame(&mut self, start: FrameStart) -> FrameId {
        let FrameStart { kind, caller, callee, code_address, value, selector, input_len, gas_limit } = start;
        let id = FrameId::try_from(self.trace.frames.len()).unwrap_or(FrameId::MAX);
        let parent = self.active.last().map(|a| a.id);
        let depth = u32::try_from(self.active.len()).unwrap_or(u32::MAX);

        let mut reentered = None;
        let tracked = !kind.is_create();
        if tracked {
            let stack = self.by_address.entry(callee).or_default();
            if kind.enters_callee() {
                if let Some(&active) = stack.last() {
                    reentered = Some(active);
                    self.trace.reentries.push(Reentry { address: callee, frame: id, active });
                }
            }
            stack.push(id);
        }

        self.trace.frames.push(CallFrame {
            id,
            parent,
            depth,
            kind,
            caller,
            callee,
            code_address,
            value,
            selector,
            input_len,
            gas_limit,
            gas_used: 0,
            status: FrameStatus::Unfinished,
            reverted: false,
            precompile: false,
            reentered,
        });

        let parent_held = self.parent_remaining.take().unwrap_or(0);
        self.held = self.held.saturating_add(parent_held);
        self.active.push(Active { id, parent_held, tracked });
        self.update_floor();
        id
    }

    /// Records the end of the running frame.
    fn pop_frame(&mut self, result: InstructionResult, gas_limit: u64, remaining: u64) -> FrameId {
        let Some(active) = self.active.pop() else {
            return 0;
        };
        self.held = self.held.saturating_sub(active.parent_held);
        self.update_floor();
        if let Some(frame) = self.trace.frames.get_mut(active.id as usize) {
            frame.status = if result.is_ok() {
                FrameStatus::Success
            } else if result.is_revert() {
                FrameStatus::Revert
            } else {
                FrameStatus::Halt
            };
            frame.gas_used = gas_limit.saturating_sub(remaining);
            if active.tracked {
                if let Some(stack) = self.by_address.get_mut(&frame.callee) {
                    stack.pop();
                }
            }
        }
        active.id
    }

    /// A wrapped-ether `Deposit` or `Withdrawal` (WETH9's events) that
    /// matches the ether the emitter received in its frame, or sent in the
    /// call the frame just made: the mint or burn of the wrapped token it
    /// is, recorded as an ERC-20 transfer from or to the zero address. An
    /// event of that name that moved no matching ether is left a plain log.
    fn native_wrap(&self, frame: FrameId, log: &Log) -> Option<TokenEventKind> {
        let (deposit, account, amount) = tokens::decode_wrap(log)?;
        let f = self.trace.frame(frame)?;
        if f.callee != log.address {
            return None;
        }
        if deposit {
            (f.value == amount && !amount.is_zero()).then_some(TokenEventKind::Erc20Transfer {
                from: Address::ZERO,
                to: account,
                amount,
            })
        } else {
            let paid = self
                .trace
                .frames
                .iter()
                .rev()
                .take_while(|c| c.id > frame)
                .any(|c| c.parent == Some(frame) && c.caller == log.address && c.value == amount && c.success());
            (paid && !amount.is_zero()).then_some(TokenEventKind::Erc20Transfer {
                from: account,
                to: Address::ZERO,
                amount,
            })
        }
    }

    fn budget_check_on_frame_start(&mut self) {
        if self.exceeded.is_none() && self.clock_expired() {
            self.stop(BudgetKind::WallTime, 0);
        }
    }
}

fn call_kind(scheme: CallScheme) -> CallKind {
    match scheme {
        CallScheme::Call => CallKind::Call,
        CallScheme::CallCode => CallKind::CallCode,
        CallScheme::DelegateCall => CallKind::DelegateCall,
        CallScheme::StaticCall => CallKind::StaticCall,
    }
}

/// `ecrecover` input words, zero-padded to 128 bytes as the precompile reads
/// them.
fn ecrecover_input(frame: FrameId, caller: Address, input: &[u8]) -> EcrecoverCall {
    let mut buf = [0u8; 128];
    let n = input.len().min(128);
    buf[..n].copy_from_slice(&input[..n]);
    EcrecoverCall {
        frame,
        caller,
        hash: B256::from_slice(&buf[0..32]),
        v: U256::from_be_slice(&buf[32..64]),
        r: B256::from_slice(&buf[64..96]),
        s: B256::from_slice(&buf[96..128]),
        recovered: None,
    }
}

impl<CTX> Inspector<CTX, EthInterpreter> for Tracer
where
    CTX: ContextTr<Journal: JournalExt>,
{
    fn initialize_interp(&mut self, interp: &mut Interpreter<EthInterpreter>, _context: &mut CTX) {
        // A creation's address is known once its frame exists.
        let id = self.current();
        if let Some(frame) = self.trace.frames.get_mut(id as usize) {
            if frame.kind.is_create() && frame.callee.is_zero() {
                frame.callee = interp.input.target_address;
                frame.code_address = interp.input.target_address;
            }
        }
    }

    #[inline]
    fn step(&mut self, interp: &mut Interpreter<EthInterpreter>, context: &mut CTX) {
        let remaining = interp.gas.remaining();
        if remaining < self.gas_floor {
            self.stop(BudgetKind::Gas, remaining);
            interp.halt(InstructionResult::OutOfGas);
            return;
        }
        self.clock_countdown -= 1;
        if self.clock_countdown == 0 && self.clock_expired() {
            self.stop(BudgetKind::WallTime, remaining);
            interp.halt(InstructionResult::OutOfGas);
            return;
        }
        match interp.bytecode.opcode() {
            opcode::SLOAD => {
                if let Ok(slot) = interp.stack.peek(0) {
                    self.pending = Pending::Sload { slot };
                }
            }
            opcode::SSTORE => {
                if let (Ok(slot), Ok(new)) = (interp.stack.peek(0), interp.stack.peek(1)) {
                    let journal_len = context.journal_ref().journal().len();
                    self.pending = Pending::Sstore { slot, new, journal_len };
                }
            }
            opcode::KECCAK256 => {
                if let (Ok(offset), Ok(len)) = (interp.stack.peek(0), interp.stack.peek(1)) {
                    // An input that does not fit in memory fails the instruction.
                    if let (Ok(offset), Ok(len)) = (usize::try_from(offset), usize::try_from(len)) {
                        self.pending = Pending::Keccak { offset, len };
                    }
                }
            }
            opcode::CALL
            | opcode::CALLCODE
            | opcode::DELEGATECALL
            | opcode::STATICCALL
            | opcode::CREATE
            | opcode::CREATE2 => self.pending = Pending::FrameOpcode,
            _ => {}
        }
    }

    #[inline]
    fn step_end(&mut self, interp: &mut Interpreter<EthInterpreter>, context: &mut CTX) {
        if matches!(self.pending, Pending::None) {
            return;
        }
        let pending = std::mem::take(&mut self.pending);
        let address = interp.input.target_address;
        let frame = self.current();
        if interp.bytecode.is_end() {
            // The instruction failed, or it opened a frame.
            if matches!(pending, Pending::FrameOpcode)
                && matches!(interp.bytecode.action(), Some(InterpreterAction::NewFrame(_)))
            {
                self.parent_remaining = Some(interp.gas.remaining().saturating_add(interp.gas.reservoir()));
            }
            return;
        }
        match pending {
            Pending::Sload { slot } => {
                if let Ok(value) = interp.stack.peek(0) {
                    self.trace.storage.push(StorageAccess { frame, address, slot, op: StorageOp::Read { value } });
                }
            }
            Pending::Sstore { slot, new, journal_len } => {
                let journal = context.journal_ref().journal();
                let old = journal
                    .get(journal_len..)
                    .unwrap_or_default()
                    .iter()
                    .rev()
                    .find_map(|entry| match entry {
                        JournalEntry::StorageChanged { address: a, key, had_value }
                            if *a == address && *key == slot =>
                        {
                            Some(*had_value)
                        }
                        _ => None,
                    })
                    // No journal entry: the write did not change the value.
                    .unwrap_or(new);
                self.trace.storage.push(StorageAccess { frame, address, slot, op: StorageOp::Write { old, new } });
            }
            Pending::Keccak { offset, len } => {
                let Ok(output) = interp.stack.peek(0) else { return };
                let start = u32::try_from(self.trace.keccak_data.len()).unwrap_or(u32::MAX);
                if len <= MAX_KECCAK_INPUT && offset.checked_add(len).is_some_and(|end| end <= interp.memory.size()) {
                    self.trace.keccak_data.extend_from_slice(&interp.memory.slice_len(offset, len));
                }
                self.trace.keccaks.push(KeccakRecord {
                    frame,
                    start,
                    len: u32::try_from(len).unwrap_or(u32::MAX),
                    output: B256::from(output.to_be_bytes::<32>()),
                });
            }
            Pending::FrameOpcode | Pending::None => {}
        }
    }

    fn log(&mut self, _context: &mut CTX, log: Log) {
        let frame = self.current();
        let index = self.trace.logs.len();
        let kind = tokens::decode(&log).or_else(|| self.native_wrap(frame, &log));
        if let Some(kind) = kind {
            self.trace.token_events.push(TokenEvent { log: index, token: log.address, kind, reverted: false });
        }
        self.trace.logs.push(LogRecord { frame, log, reverted: false });
    }

    fn call(&mut self, context: &mut CTX, inputs: &mut CallInputs) -> Option<CallOutcome> {
        self.budget_check_on_frame_start();
        let input = inputs.input.as_bytes(context);
        let selector = input.get(..4).and_then(|s| <[u8; 4]>::try_from(s).ok());
        let id = self.push_frame(FrameStart {
            kind: call_kind(inputs.scheme),
            caller: inputs.caller,
            callee: inputs.target_address,
            code_address: inputs.bytecode_address,
            value: inputs.transfer_value().unwrap_or_default(),
            selector,
            input_len: input.len(),
            gas_limit: inputs.gas_limit,
        });
        if inputs.bytecode_address == ECRECOVER {
            let index = self.trace.ecrecovers.len();
            self.trace.ecrecovers.push(ecrecover_input(id, inputs.caller, &input));
            self.pending_ecrecover = Some((id, index));
        }
        drop(input);
        if self.exceeded.is_some() {
            // Run nothing more, not even a precompile.
            return Some(CallOutcome::new_oog(inputs.gas_limit, inputs.return_memory_offset.clone(), inputs.reservoir));
        }
        None
    }

    fn call_end(&mut self, _context: &mut CTX, inputs: &CallInputs, outcome: &mut CallOutcome) {
        let result = *outcome.instruction_result();
        let id = self.pop_frame(result, inputs.gas_limit, outcome.gas().remaining());
        if let Some(frame) = self.trace.frames.get_mut(id as usize) {
            frame.precompile = outcome.was_precompile_called;
        }
        if let Some((frame, index)) = self.pending_ecrecover {
            if frame == id {
                self.pending_ecrecover = None;
                let out = outcome.output();
                if result.is_ok() && out.len() == 32 {
                    if let Some(call) = self.trace.ecrecovers.get_mut(index) {
                        call.recovered = Some(Address::from_slice(&out[12..]));
                    }
                }
            }
        }
    }

    fn create(&mut self, _context: &mut CTX, inputs: &mut CreateInputs) -> Option<CreateOutcome> {
        self.budget_check_on_frame_start();
        let kind = match inputs.scheme() {
            CreateScheme::Create2 { .. } => CallKind::Create2,
            _ => CallKind::Create,
        };
        // The new address is filled in by `initialize_interp`.
        self.push_frame(FrameStart {
            kind,
            caller: inputs.caller(),
            callee: Address::ZERO,
            code_address: Address::ZERO,
            value: inputs.value(),
            selector: None,
            input_len: inputs.init_code().len(),
            gas_limit: inputs.gas_limit(),
        });
        if self.exceeded.is_some() {
            return Some(CreateOutcome::new_oog(inputs.gas_limit(), 0));
        }
        None
    }

    fn create_end(&mut self, _context: &mut CTX, inputs: &CreateInputs, outcome: &mut CreateOutcome) {
        let id = self.pop_frame(outcome.result.result, inputs.gas_limit(), outcome.result.gas.remaining());
        if let (Some(frame), Some(address)) = (self.trace.frames.get_mut(id as usize), outcome.address) {
            frame.callee = address;
            frame.code_address = address;
        }
    }

    fn selfdestruct(&mut self, contract: Address, target: Address, value: U256) {
        self.trace.selfdestructs.push(SelfDestruct { frame: self.current(), contract, beneficiary: target, value });
    }
}
