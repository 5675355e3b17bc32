//! Detectors on hand-built traces: the cases the corpus does not (yet)
//! exercise, with the evidence that must flip the verdict.

use alloy_consensus::{SignableTransaction, TxEip1559};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes, Log, LogData, TxKind, B256, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use vigil_detect::{Analysis, History, VerdictKind};
use vigil_sim::trace::{
    CallFrame, CallKind, EcrecoverCall, FrameStatus, LogRecord, StorageAccess, StorageOp, TokenEvent, TokenEventKind,
    TokenFlow, TokenHolding, Trace,
};
use vigil_types::tx::Transaction;

const BRIDGE: Address = Address::repeat_byte(0xb1);
const TOKEN: Address = Address::repeat_byte(0x70);
const SIGNER: Address = Address::repeat_byte(0x51);

fn tx_to(to: Address) -> Transaction {
    let key: PrivateKeySigner =
        "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318".parse().expect("key");
    let tx = TxEip1559 {
        chain_id: 31337,
        nonce: 0,
        gas_limit: 200_000,
        max_fee_per_gas: 0,
        max_priority_fee_per_gas: 0,
        to: TxKind::Call(to),
        value: U256::ZERO,
        access_list: Default::default(),
        input: Bytes::from_static(&[1, 2, 3, 4]),
    };
    let sig = key.sign_hash_sync(&tx.signature_hash()).expect("sign");
    let env: alloy_consensus::TxEnvelope = tx.into_signed(sig).into();
    Transaction::decode(&env.encoded_2718()).expect("decodes")
}

fn frame(id: u32, parent: Option<u32>, caller: Address, callee: Address, value: U256) -> CallFrame {
    CallFrame {
        id,
        parent,
        depth: parent.map_or(0, |_| 1),
        kind: CallKind::Call,
        caller,
        callee,
        code_address: callee,
        value,
        selector: Some([1, 2, 3, 4]),
        input_len: 4,
        gas_limit: 100_000,
        gas_used: 50_000,
        status: FrameStatus::Success,
        reverted: false,
        precompile: false,
        reentered: None,
    }
}

/// The sender calls the bridge, which has the token mint `amount` to the sender.
fn mint_trace(sender: Address, amount: U256) -> Trace {
    let mut t = Trace {
        frames: vec![frame(0, None, sender, BRIDGE, U256::ZERO), frame(1, Some(0), BRIDGE, TOKEN, U256::ZERO)],
        ..Default::default()
    };
    let topic = |a: Address| B256::left_padding_from(a.as_slice());
    t.logs.push(LogRecord {
        frame: 1,
        log: Log {
            address: TOKEN,
            data: LogData::new_unchecked(
                vec![vigil_sim::trace::tokens::TRANSFER_TOPIC, topic(Address::ZERO), topic(sender)],
                Bytes::from(amount.to_be_bytes::<32>().to_vec()),
            ),
        },
        reverted: false,
    });
    t.token_events.push(TokenEvent {
        log: 0,
        token: TOKEN,
        kind: TokenEventKind::Erc20Transfer { from: Address::ZERO, to: sender, amount },
        reverted: false,
    });
    t.token_flows.insert(
        TokenHolding { token: TOKEN, holder: sender, id: None },
        TokenFlow { received: amount, sent: U256::ZERO },
    );
    t.token_flows.insert(
        TokenHolding { token: TOKEN, holder: Address::ZERO, id: None },
        TokenFlow { received: U256::ZERO, sent: amount },
    );
    t
}

/// The test world's contracts (their code is a placeholder byte).
struct Contracts;

impl vigil_detect::PreState for Contracts {
    fn has_code(&self, a: Address) -> bool {
        [BRIDGE, TOKEN, POOL, MARKET, REAL, FAKE, Address::repeat_byte(0x5e)].contains(&a)
    }
    fn code(&self, a: Address) -> Bytes {
        if self.has_code(a) {
            Bytes::from_static(&[0xfe])
        } else {
            Bytes::new()
        }
    }
}

fn verdict(tx: &Transaction, trace: &Trace) -> vigil_detect::Verdict {
    let history = History::new();
    let a = Analysis::new(tx, trace, &history, &Contracts, U256::ZERO, (Address::ZERO, U256::ZERO));
    let findings = vigil_detect::DETECTORS.iter().flat_map(|d| (d.run)(&a)).collect();
    vigil_detect::Verdict::from_findings(vigil_detect::RULESET_VERSION, findings)
}

#[test]
fn a_mint_nobody_authorized_is_malicious() {
    let tx = tx_to(BRIDGE);
    let v = verdict(&tx, &mint_trace(tx.sender(), U256::from(10u64).pow(U256::from(24))));
    assert_eq!(v.kind, VerdictKind::Malicious, "{v:#?}");
    assert!(v.findings.iter().any(|f| f.rule == "unbacked-mint"), "{v:#?}");
}

#[test]
fn a_mint_signed_by_the_stored_validator_is_clean() {
    let tx = tx_to(BRIDGE);
    let mut t = mint_trace(tx.sender(), U256::from(10u64).pow(U256::from(24)));
    // The bridge reads its validator from slot 3 and ecrecover returns it.
    t.storage.push(StorageAccess {
        frame: 0,
        address: BRIDGE,
        slot: U256::from(3),
        op: StorageOp::Read { value: U256::from_be_slice(SIGNER.as_slice()) },
    });
    t.frames.push(CallFrame { precompile: true, ..frame(2, Some(0), BRIDGE, Address::with_last_byte(1), U256::ZERO) });
    t.ecrecovers.push(EcrecoverCall {
        frame: 2,
        caller: BRIDGE,
        hash: B256::repeat_byte(9),
        v: U256::from(27),
        r: B256::repeat_byte(1),
        s: B256::repeat_byte(2),
        recovered: Some(SIGNER),
    });
    let v = verdict(&tx, &t);
    assert_eq!(v.kind, VerdictKind::Clean, "{v:#?}");
}

#[test]
fn a_mint_the_sender_paid_for_is_clean() {
    let tx = tx_to(BRIDGE);
    let mut t = mint_trace(tx.sender(), U256::from(10u64).pow(U256::from(24)));
    // The sender sends ether along (a deposit that mints a wrapped token).
    t.frames[0].value = U256::from(10u64).pow(U256::from(18));
    t.balance_changes.insert(
        tx.sender(),
        vigil_sim::trace::BalanceChange {
            before: U256::from(10u64).pow(U256::from(19)),
            after: U256::from(9u64) * U256::from(10u64).pow(U256::from(18)),
        },
    );
    t.balance_changes.insert(
        BRIDGE,
        vigil_sim::trace::BalanceChange { before: U256::ZERO, after: U256::from(10u64).pow(U256::from(18)) },
    );
    let v = verdict(&tx, &t);
    assert_eq!(v.kind, VerdictKind::Clean, "{v:#?}");
}

const POOL: Address = Address::repeat_byte(0x9a);

/// A pool whose packed reserves slot goes from (x0, y0) to (x1, y1), reported by `Sync`.
fn pool_trace(sender: Address, before: (u128, u128), after: (u128, u128), burn_lp: bool) -> Trace {
    let pack = |(x, y): (u128, u128)| U256::from(x) | (U256::from(y) << 112);
    let mut t = Trace { frames: vec![frame(0, None, sender, POOL, U256::ZERO)], ..Default::default() };
    t.storage.push(StorageAccess {
        frame: 0,
        address: POOL,
        slot: U256::from(8),
        op: StorageOp::Read { value: pack(before) },
    });
    t.storage.push(StorageAccess {
        frame: 0,
        address: POOL,
        slot: U256::from(8),
        op: StorageOp::Write { old: pack(before), new: pack(after) },
    });
    let mut data = U256::from(after.0).to_be_bytes::<32>().to_vec();
    data.extend_from_slice(&U256::from(after.1).to_be_bytes::<32>());
    t.logs.push(LogRecord {
        frame: 0,
        log: Log {
            address: POOL,
            data: LogData::new_unchecked(vec![alloy_primitives::keccak256("Sync(uint112,uint112)")], Bytes::from(data)),
        },
        reverted: false,
    });
    if burn_lp {
        t.token_events.push(TokenEvent {
            log: 0,
            token: POOL,
            kind: TokenEventKind::Erc20Transfer { from: POOL, to: Address::ZERO, amount: U256::from(1_000u64) },
            reverted: false,
        });
    }
    t
}

#[test]
fn a_falling_constant_product_is_malicious_unless_liquidity_left() {
    let tx = tx_to(POOL);
    let e18 = 1_000_000_000_000_000_000u128;
    let broken = pool_trace(tx.sender(), (1000 * e18, 1000 * e18), (500 * e18, 1000 * e18), false);
    let v = verdict(&tx, &broken);
    assert_eq!(v.kind, VerdictKind::Malicious, "{v:#?}");
    assert!(v.findings.iter().any(|f| f.rule == "amm-invariant"), "{v:#?}");
    // A swap keeps (and with fees raises) the product.
    let swap = pool_trace(tx.sender(), (1000 * e18, 1000 * e18), (1100 * e18, 910 * e18), false);
    assert_eq!(verdict(&tx, &swap).kind, VerdictKind::Clean);
    // Removing liquidity lowers it and burns LP tokens.
    let exit = pool_trace(tx.sender(), (1000 * e18, 1000 * e18), (500 * e18, 500 * e18), true);
    assert_eq!(verdict(&tx, &exit).kind, VerdictKind::Clean);
}

const MARKET: Address = Address::repeat_byte(0x3e);
const REAL: Address = Address::repeat_byte(0x4e);
const FAKE: Address = Address::repeat_byte(0xfa);

/// The sender gives `MARKET` 1e24 of `collateral` and takes 1e21 of `REAL`;
/// `FAKE` is a token the sender deploys in the same transaction.
fn collateral_trace(sender: Address, collateral: Address) -> Trace {
    let mut t = Trace {
        frames: vec![
            frame(0, None, sender, MARKET, U256::ZERO),
            CallFrame { kind: CallKind::Create, ..frame(1, Some(0), sender, FAKE, U256::ZERO) },
        ],
        ..Default::default()
    };
    let big = U256::from(10u64).pow(U256::from(24));
    let paid = U256::from(10u64).pow(U256::from(21));
    for (i, (token, from, to, amount)) in
        [(collateral, sender, MARKET, big), (REAL, MARKET, sender, paid)].into_iter().enumerate()
    {
        t.token_events.push(TokenEvent {
            log: i,
            token,
            kind: TokenEventKind::Erc20Transfer { from, to, amount },
            reverted: false,
        });
        let mut add = |holder, received, sent| {
            let f = t.token_flows.entry(TokenHolding { token, holder, id: None }).or_default();
            f.received += received;
            f.sent += sent;
        };
        add(from, U256::ZERO, amount);
        add(to, amount, U256::ZERO);
    }
    t
}

#[test]
fn payment_in_a_token_the_sender_just_made_is_no_payment() {
    let tx = tx_to(MARKET);
    let fake = verdict(&tx, &collateral_trace(tx.sender(), FAKE));
    assert_eq!(fake.kind, VerdictKind::Malicious, "{fake:#?}");
    assert!(fake.findings.iter().any(|f| f.rule == "value-extraction"), "{fake:#?}");
    // The same trade paid in a token the sender does not control is a trade.
    let real = verdict(&tx, &collateral_trace(tx.sender(), Address::repeat_byte(0x5e)));
    assert_eq!(real.kind, VerdictKind::Clean, "{real:#?}");
}

#[test]
fn selling_what_was_minted_is_no_payment_and_a_flash_mint_is_fine() {
    let tx = tx_to(BRIDGE);
    let amount = U256::from(10u64).pow(U256::from(24));
    // Minted, then sold into a pool for REAL.
    let mut sold = mint_trace(tx.sender(), amount);
    for (token, from, to, amt) in
        [(TOKEN, tx.sender(), POOL, amount), (REAL, POOL, tx.sender(), U256::from(10u64).pow(U256::from(20)))]
    {
        sold.token_events.push(TokenEvent {
            log: 0,
            token,
            kind: TokenEventKind::Erc20Transfer { from, to, amount: amt },
            reverted: false,
        });
        let mut add = |holder, received, sent| {
            let f = sold.token_flows.entry(TokenHolding { token, holder, id: None }).or_default();
            f.received += received;
            f.sent += sent;
        };
        add(from, U256::ZERO, amt);
        add(to, amt, U256::ZERO);
    }
    let v = verdict(&tx, &sold);
    assert!(v.findings.iter().any(|f| f.rule == "unbacked-mint"), "{v:#?}");
    // Minted and burned in the same transaction (a flash mint).
    let mut flash = mint_trace(tx.sender(), amount);
    flash.token_events.push(TokenEvent {
        log: 0,
        token: TOKEN,
        kind: TokenEventKind::Erc20Transfer { from: tx.sender(), to: Address::ZERO, amount },
        reverted: false,
    });
    flash.token_flows.insert(
        TokenHolding { token: TOKEN, holder: tx.sender(), id: None },
        TokenFlow { received: amount, sent: amount },
    );
    flash.token_flows.insert(
        TokenHolding { token: TOKEN, holder: Address::ZERO, id: None },
        TokenFlow { received: amount, sent: amount },
    );
    assert_eq!(verdict(&tx, &flash).kind, VerdictKind::Clean);
}
