//! The protocol-books evidence (`Analysis::backing`) on hand-built traces:
//! each everyday payout of issue 14's families is admitted for the reason
//! its books give, and the same payout without that reason is not.

use alloy_consensus::{SignableTransaction, TxEip1559};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{keccak256, Address, Bytes, Log, LogData, TxKind, B256, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use vigil_detect::{Analysis, Asset, Backing, History, Severity, Verdict, VerdictKind};
use vigil_sim::trace::{
    BalanceChange, CallFrame, CallKind, FrameId, FrameStatus, KeccakRecord, LogRecord, StorageAccess, StorageOp,
    TokenEvent, TokenEventKind, Trace,
};
use vigil_types::tx::Transaction;

const PAYER: Address = Address::repeat_byte(0xb0);
const TOKEN: Address = Address::repeat_byte(0x70);
const OTHER: Address = Address::repeat_byte(0x71);
const HELPER: Address = Address::repeat_byte(0xb1);
const STRANGER: Address = Address::repeat_byte(0x5a);

fn e18(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18))
}

fn tx_to(to: Address) -> Transaction {
    let key: PrivateKeySigner =
        "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d".parse().expect("key");
    let tx = TxEip1559 {
        chain_id: 31337,
        nonce: 0,
        gas_limit: 300_000,
        max_fee_per_gas: 0,
        max_priority_fee_per_gas: 0,
        to: TxKind::Call(to),
        value: U256::ZERO,
        access_list: Default::default(),
        input: Bytes::from_static(&[9, 9, 9, 9]),
    };
    let sig = key.sign_hash_sync(&tx.signature_hash()).expect("sign");
    let env: alloy_consensus::TxEnvelope = tx.into_signed(sig).into();
    Transaction::decode(&env.encoded_2718()).expect("decodes")
}

/// A trace under construction.
struct Build {
    t: Trace,
}

impl Build {
    /// The sender calls `to`.
    fn new(sender: Address, to: Address) -> Self {
        let mut b = Self { t: Trace::default() };
        b.frame(None, sender, to);
        b
    }

    fn frame(&mut self, parent: Option<FrameId>, caller: Address, callee: Address) -> FrameId {
        let id = self.t.frames.len() as FrameId;
        self.t.frames.push(CallFrame {
            id,
            parent,
            depth: parent.map_or(0, |p| self.t.frames[p as usize].depth + 1),
            kind: CallKind::Call,
            caller,
            callee,
            code_address: callee,
            value: U256::ZERO,
            selector: Some([1, 2, 3, 4]),
            input_len: 4,
            gas_limit: 100_000,
            gas_used: 10_000,
            status: FrameStatus::Success,
            reverted: false,
            precompile: false,
            reentered: None,
        });
        id
    }

    /// `token` moves `amount` from `from` to `to`, in a frame of the token
    /// called from `frame`.
    fn transfer(&mut self, frame: FrameId, token: Address, from: Address, to: Address, amount: U256) {
        let caller = self.t.frames[frame as usize].callee;
        let f = self.frame(Some(frame), caller, token);
        let topic = |a: Address| B256::left_padding_from(a.as_slice());
        let log = self.t.logs.len();
        self.t.logs.push(LogRecord {
            frame: f,
            log: Log {
                address: token,
                data: LogData::new_unchecked(
                    vec![vigil_sim::trace::tokens::TRANSFER_TOPIC, topic(from), topic(to)],
                    Bytes::from(amount.to_be_bytes::<32>().to_vec()),
                ),
            },
            reverted: false,
        });
        self.t.token_events.push(TokenEvent {
            log,
            token,
            kind: TokenEventKind::Erc20Transfer { from, to, amount },
            reverted: false,
        });
        for (holder, incoming) in [(from, false), (to, true)] {
            let flow =
                self.t.token_flows.entry(vigil_sim::trace::TokenHolding { token, holder, id: None }).or_default();
            if incoming {
                flow.received += amount;
            } else {
                flow.sent += amount;
            }
        }
    }

    fn read(&mut self, frame: FrameId, slot: U256, value: U256) {
        let address = self.t.frames[frame as usize].callee;
        self.t.storage.push(StorageAccess { frame, address, slot, op: StorageOp::Read { value } });
    }

    fn write(&mut self, frame: FrameId, slot: U256, old: U256, new: U256) {
        let address = self.t.frames[frame as usize].callee;
        self.t.storage.push(StorageAccess { frame, address, slot, op: StorageOp::Write { old, new } });
    }

    fn keccak(&mut self, frame: FrameId, input: &[u8]) -> B256 {
        let start = self.t.keccak_data.len() as u32;
        self.t.keccak_data.extend_from_slice(input);
        let output = keccak256(input);
        self.t.keccaks.push(KeccakRecord { frame, start, len: input.len() as u32, output });
        output
    }
}

/// `PAYER`, `TOKEN`, `OTHER` and `HELPER` are contracts; `code` is the code
/// every contract holds.
struct World {
    code: Bytes,
}

impl vigil_detect::PreState for World {
    fn has_code(&self, a: Address) -> bool {
        [PAYER, TOKEN, OTHER, HELPER].contains(&a)
    }
    fn code(&self, a: Address) -> Bytes {
        if self.has_code(a) {
            self.code.clone()
        } else {
            Bytes::new()
        }
    }
}

fn judge(tx: &Transaction, t: &Trace, world: &World) -> (Verdict, Option<Backing>) {
    let history = History::new();
    let a = Analysis::new(tx, t, &history, world, U256::ZERO, (Address::ZERO, U256::ZERO));
    let findings = vigil_detect::DETECTORS.iter().flat_map(|d| (d.run)(&a)).collect();
    let backing = a.backing(PAYER, Asset::Token(TOKEN), e18(10));
    (Verdict::from_findings(vigil_detect::RULESET_VERSION, findings), backing)
}

fn plain() -> World {
    World { code: Bytes::from_static(&[0xfe]) }
}

/// The payer (holding 100 TOKEN, read off the token's balance entry) pays
/// the sender 10 TOKEN with nothing else in the trace.
fn payout(sender: Address) -> Build {
    let mut b = Build::new(sender, PAYER);
    let slot = b.keccak(1, &[PAYER.into_word().0, U256::from(0).to_be_bytes::<32>()].concat());
    b.transfer(0, TOKEN, PAYER, sender, e18(10));
    b.read(1, U256::from_be_bytes(slot.0), e18(100));
    b
}

#[test]
fn an_unexplained_material_payout_is_quarantined_and_a_small_one_is_not() {
    let tx = tx_to(PAYER);
    let (v, backing) = judge(&tx, &payout(tx.sender()).t, &plain());
    assert_eq!(backing, None);
    assert_eq!(v.kind, VerdictKind::Malicious, "{v:#?}");
    let f = v.findings.iter().find(|f| f.rule == "value-extraction").expect("finding");
    assert!(f.message.contains("it held 100000000000000000000 before"), "{}", f.message);

    // 10 out of 100,000: a bounty-sized gift, kept as a note, not an alert.
    let mut b = payout(tx.sender());
    let read = b.t.storage.last_mut().expect("the balance read");
    read.op = StorageOp::Read { value: e18(100_000) };
    let (v, _) = judge(&tx, &b.t, &plain());
    assert_eq!(v.kind, VerdictKind::Clean, "{v:#?}");
    assert!(v.findings.iter().any(|f| f.rule == "value-extraction" && f.severity == Severity::Medium));
    assert!(!v.is_alert());
}

#[test]
fn shares_the_payer_burns_back_the_payout_whoever_handed_them_in() {
    // A pair burns LP tokens it holds (sent to it earlier) and pays out.
    let tx = tx_to(PAYER);
    let mut b = payout(tx.sender());
    b.transfer(0, PAYER, PAYER, Address::ZERO, e18(1));
    let (v, backing) = judge(&tx, &b.t, &plain());
    assert_eq!(backing, Some(Backing::SharesRedeemed));
    assert_eq!(v.kind, VerdictKind::Clean, "{v:#?}");
    // A burn of zero shares redeems nothing.
    let mut b = payout(tx.sender());
    b.transfer(0, PAYER, PAYER, Address::ZERO, U256::ZERO);
    assert_eq!(judge(&tx, &b.t, &plain()).0.kind, VerdictKind::Malicious);
}

#[test]
fn another_asset_paid_in_backs_a_liquidation() {
    // The liquidator repays OTHER into the protocol; the payer seizes TOKEN.
    let tx = tx_to(HELPER);
    let mut b = Build::new(tx.sender(), HELPER);
    let pay = b.frame(Some(0), HELPER, PAYER);
    b.transfer(0, OTHER, tx.sender(), HELPER, e18(8));
    b.transfer(pay, TOKEN, PAYER, tx.sender(), e18(10));
    let (v, backing) = judge(&tx, &b.t, &plain());
    assert_eq!(backing, Some(Backing::AssetsIn));
    assert_eq!(v.kind, VerdictKind::Clean, "{v:#?}");
}

#[test]
fn a_record_naming_the_sender_backs_a_payout_unless_written_in_the_same_transaction() {
    let tx = tx_to(PAYER);
    // The payer reads the owner of a position (an NFT's owner entry).
    let mut b = payout(tx.sender());
    let owner_slot = U256::from_be_bytes(keccak256([U256::from(7).to_be_bytes::<32>(), [0u8; 32]].concat()).0);
    b.read(0, owner_slot, U256::from_be_slice(tx.sender().as_slice()));
    let (v, backing) = judge(&tx, &b.t, &plain());
    assert_eq!(backing, Some(Backing::StoredRole));
    assert_eq!(v.kind, VerdictKind::Clean);
    // Written first in the same transaction: a takeover, not a record.
    let mut b = payout(tx.sender());
    b.t.storage.push(StorageAccess {
        frame: 0,
        address: PAYER,
        slot: U256::from(2),
        op: StorageOp::Write {
            old: U256::from_be_slice(STRANGER.as_slice()),
            new: U256::from_be_slice(tx.sender().as_slice()),
        },
    });
    b.read(0, U256::from(2), U256::from_be_slice(tx.sender().as_slice()));
    let (_, backing) = judge(&tx, &b.t, &plain());
    assert_ne!(backing, Some(Backing::StoredRole));
}

/// A Merkle claim: leaf = keccak(index, account, amount), root =
/// keccak(leaf, sibling) (sorted), the root fixed in the code (an immutable).
fn merkle_claim(sender: Address, claimant: Address) -> (Build, B256) {
    let mut b = payout(sender);
    let leaf_input =
        [U256::from(3).to_be_bytes::<32>().as_slice(), claimant.as_slice(), &e18(10).to_be_bytes::<32>()].concat();
    let leaf = b.keccak(0, &leaf_input);
    let sibling = B256::repeat_byte(0x42);
    let (lo, hi) = if leaf < sibling { (leaf, sibling) } else { (sibling, leaf) };
    let root = b.keccak(0, &[lo.0, hi.0].concat());
    (b, root)
}

#[test]
fn a_merkle_proof_against_a_root_in_the_code_backs_the_claimant_only() {
    let tx = tx_to(PAYER);
    let (b, root) = merkle_claim(tx.sender(), tx.sender());
    let with_root = World { code: Bytes::from([&[0x7f][..], root.as_slice(), &[0x00][..]].concat()) };
    let (v, backing) = judge(&tx, &b.t, &with_root);
    assert_eq!(backing, Some(Backing::ProofAgainstRoot));
    assert_eq!(v.kind, VerdictKind::Clean, "{v:#?}");
    // The same hashes against code that does not hold the root prove nothing.
    assert_eq!(judge(&tx, &b.t, &plain()).0.kind, VerdictKind::Malicious);
    // A proof of someone else's leaf, paid to the sender, proves nothing.
    let (b, root) = merkle_claim(tx.sender(), STRANGER);
    let with_root = World { code: Bytes::from([&[0x7f][..], root.as_slice(), &[0x00][..]].concat()) };
    assert_eq!(judge(&tx, &b.t, &with_root).0.kind, VerdictKind::Malicious);
}

#[test]
fn a_root_read_from_storage_backs_a_relayed_withdrawal_to_its_payee() {
    // A relayer (the sender) finalises STRANGER's withdrawal: 10 TOKEN to
    // STRANGER, 0.1 TOKEN fee to the relayer; the root is in the payer's storage.
    let tx = tx_to(PAYER);
    let mut b = Build::new(tx.sender(), PAYER);
    let slot = b.keccak(0, &[PAYER.into_word().0, U256::from(0).to_be_bytes::<32>()].concat());
    b.read(0, U256::from(9), e18(1));
    let leaf = b.keccak(0, &[STRANGER.into_word().0, e18(10).to_be_bytes::<32>()].concat());
    let sibling = B256::repeat_byte(0x99);
    let root = b.keccak(0, &[leaf.0, sibling.0].concat());
    b.read(0, U256::from(4), U256::from_be_bytes(root.0));
    b.transfer(0, TOKEN, PAYER, STRANGER, e18(10));
    b.transfer(0, TOKEN, PAYER, tx.sender(), e18(1) / U256::from(10));
    b.read(1, U256::from_be_bytes(slot.0), e18(100));
    let (v, _) = judge(&tx, &b.t, &plain());
    assert_eq!(v.kind, VerdictKind::Clean, "{v:#?}");
    assert!(v.findings.is_empty(), "{v:#?}");
    // A different stored root: the fee alone is a small unexplained payout.
    let stored = b.t.storage.iter_mut().find(|s| s.slot == U256::from(4)).expect("root read");
    stored.op = StorageOp::Read { value: U256::from_be_bytes(B256::repeat_byte(0x77).0) };
    let (v, _) = judge(&tx, &b.t, &plain());
    assert!(v.findings.iter().any(|f| f.rule == "value-extraction"), "{v:#?}");
}

fn rules(tx: &Transaction, t: &Trace) -> Vec<&'static str> {
    judge(tx, t, &plain()).0.findings.iter().map(|f| f.rule).collect()
}

#[test]
fn reading_a_contract_mid_call_is_re_entry_only_once_control_reached_the_sender() {
    let tx = tx_to(PAYER);
    // The payer's share token reads the payer back (a pool's aToken asking
    // for the pool's index): the protocol calling itself.
    let mut b = Build::new(tx.sender(), PAYER);
    let tok = b.frame(Some(0), PAYER, TOKEN);
    let read = b.frame(Some(tok), TOKEN, PAYER);
    b.t.frames[read as usize].kind = CallKind::StaticCall;
    b.t.reentries.push(vigil_sim::trace::Reentry { address: PAYER, frame: read, active: 0 });
    assert!(!rules(&tx, &b.t).contains(&"read-only-reentrancy"));
    // The payer hands control to the sender, whose call makes a third
    // contract read the payer mid-call.
    let mut b = Build::new(tx.sender(), PAYER);
    let back = b.frame(Some(0), PAYER, tx.sender());
    let third = b.frame(Some(back), tx.sender(), HELPER);
    let read = b.frame(Some(third), HELPER, PAYER);
    b.t.frames[read as usize].kind = CallKind::StaticCall;
    b.t.reentries.push(vigil_sim::trace::Reentry { address: PAYER, frame: read, active: 0 });
    assert!(rules(&tx, &b.t).contains(&"read-only-reentrancy"));
}

#[test]
fn third_party_tokens_count_as_spent_behind_their_back_only_under_an_allowance() {
    let tx = tx_to(HELPER);
    let build = |allowance: bool| {
        let mut b = Build::new(tx.sender(), HELPER);
        b.transfer(0, TOKEN, STRANGER, tx.sender(), e18(10));
        if allowance {
            let inner = b.keccak(1, &[STRANGER.into_word().0, U256::from(1).to_be_bytes::<32>()].concat());
            let slot = b.keccak(1, &[HELPER.into_word().0, inner.0].concat());
            b.read(1, U256::from_be_bytes(slot.0), U256::MAX);
        }
        b.t
    };
    let v = judge(&tx, &build(true), &plain()).0;
    assert_eq!(v.kind, VerdictKind::Malicious, "{v:#?}");
    assert!(v.findings.iter().any(|f| f.rule == "third-party-spend"));
    // Moved by the token's own rules (a liquidation seizing collateral shares).
    assert!(!rules(&tx, &build(false)).contains(&"third-party-spend"));
}

#[test]
fn an_ether_payout_of_one_percent_of_the_holding_is_material() {
    // Unknown holding (no balance entry read): any unexplained payout is material.
    let tx = tx_to(PAYER);
    let mut b = Build::new(tx.sender(), PAYER);
    b.t.balance_changes.insert(PAYER, BalanceChange { before: e18(1000), after: e18(990) });
    b.t.balance_changes.insert(tx.sender(), BalanceChange { before: e18(1), after: e18(11) });
    b.frame(Some(0), PAYER, tx.sender());
    b.t.frames[1].value = e18(10);
    let v = judge(&tx, &b.t, &plain()).0;
    // 10 of 1000 ether is 1 %: material.
    assert_eq!(v.kind, VerdictKind::Malicious, "{v:#?}");
}

/// A flash loan's shape for `spot-price-manipulation`: a slot of `TOKEN` is
/// moved from 100 to 10 by `mover` (a frame under `mover_parent`), then,
/// inside the callback to the sender, the sender calls `PAYER`, whose
/// `HELPER` reads the moved slot; after the callback the slot is restored.
fn moved_and_read(sender: Address, moved_under_lender: bool) -> Build {
    let mut b = Build::new(sender, PAYER); // 0: the loan
    let slot = U256::from(7);
    let mover = if moved_under_lender {
        // 1: the lender's own token frame lends its reserve out.
        b.frame(Some(0), PAYER, TOKEN)
    } else {
        // The sender, called back, moves a third contract's value itself.
        b.frame(Some(0), PAYER, sender)
    };
    let callback = if moved_under_lender {
        b.write(mover, slot, e18(100), e18(10));
        b.frame(Some(0), PAYER, sender)
    } else {
        let m = b.frame(Some(mover), sender, TOKEN);
        b.write(m, slot, e18(100), e18(10));
        mover
    };
    let reentry = b.frame(Some(callback), sender, PAYER);
    let helper = b.frame(Some(reentry), PAYER, HELPER);
    let read = b.frame(Some(helper), HELPER, TOKEN);
    b.read(read, slot, e18(10));
    let repay = b.frame(Some(0), PAYER, TOKEN);
    b.write(repay, slot, e18(10), e18(100));
    b
}

#[test]
fn a_lender_pricing_its_own_reserve_inside_its_flash_loan_is_not_a_pumped_price() {
    let tx = tx_to(PAYER);
    // The lender's reserve is out on loan while the borrower calls it back
    // and it prices that reserve: its own doing.
    let (v, _) = judge(&tx, &moved_and_read(tx.sender(), true).t, &plain());
    assert!(v.findings.iter().all(|f| f.rule != "spot-price-manipulation"), "{v:#?}");
    // The same read of a value the sender's side moved itself, restored
    // afterwards: a price pumped for the lender to read.
    let (v, _) = judge(&tx, &moved_and_read(tx.sender(), false).t, &plain());
    let f = v.findings.iter().find(|f| f.rule == "spot-price-manipulation").expect("pumped and read: {v:#?}");
    assert_eq!(f.severity, Severity::High, "{}", f.message);

    // The lender updates its own index inside the borrower's call, and after
    // the callback one of its tokens asks it for that index: the lender's
    // own state read through its own call, not a third party pricing.
    let mut b = Build::new(tx.sender(), PAYER);
    let callback = b.frame(Some(0), PAYER, tx.sender());
    let reentry = b.frame(Some(callback), tx.sender(), PAYER);
    b.write(reentry, U256::from(9), e18(100), e18(150));
    let token = b.frame(Some(0), PAYER, HELPER);
    let ask = b.frame(Some(token), HELPER, PAYER);
    b.read(ask, U256::from(9), e18(150));
    b.write(0, U256::from(9), e18(150), e18(101));
    let (v, _) = judge(&tx, &b.t, &plain());
    assert!(v.findings.iter().all(|f| f.rule != "spot-price-manipulation"), "{v:#?}");
}
