//! Trace contents on small hand-written contracts.

use alloy_primitives::{Address, Bytes, B256, U256};
use alloy_signer::SignerSync;
use vigil_sim::{
    simulate,
    trace::{tokens::TRANSFER_TOPIC, CallKind, StorageOp, TokenEventKind, TokenFlow, TokenHolding},
    Budget,
};

use crate::common::{block, call, call_all_gas, ether, key, push20, state_with};

#[test]
fn storage_read_and_write_with_old_value() {
    // PUSH1 1 SLOAD PUSH1 1 ADD PUSH1 1 SSTORE  (slot 1 += 1)
    // PUSH1 9 PUSH1 2 SSTORE PUSH1 9 PUSH1 2 SSTORE STOP (slot 2 = 9 twice)
    let code = vec![0x60, 1, 0x54, 0x60, 1, 0x01, 0x60, 1, 0x55, 0x60, 9, 0x60, 2, 0x55, 0x60, 9, 0x60, 2, 0x55, 0x00];
    let k = key(1);
    let c = Address::repeat_byte(0x30);
    let mut state = state_with(&[k.address()], &[]);
    state.insert_account(c, U256::ZERO, 1, Bytes::from(code), [(U256::from(1), U256::from(5))]).unwrap();
    let out = simulate(&state, &block(), &call(&k, 0, c, vec![], 100_000), &Budget::default()).unwrap();
    assert!(out.result.is_success(), "{:?}", out.result);
    let ops: Vec<(U256, StorageOp)> = out.trace.storage.iter().map(|s| (s.slot, s.op)).collect();
    let u = U256::from;
    assert_eq!(
        ops,
        [
            (u(1), StorageOp::Read { value: u(5) }),
            (u(1), StorageOp::Write { old: u(5), new: u(6) }),
            (u(2), StorageOp::Write { old: u(0), new: u(9) }),
            (u(2), StorageOp::Write { old: u(9), new: u(9) }),
        ]
    );
    assert!(out.trace.storage.iter().all(|s| s.frame == 0 && s.address == c));
    assert_eq!(out.trace.committed_writes().count(), 3);
}

/// Code emitting an ERC-20 `Transfer(from, to, amount)` log.
fn emit_transfer(from: Address, to: Address, amount: u8) -> Vec<u8> {
    let mut v = vec![0x60, amount, 0x60, 0x00, 0x52]; // mstore(0, amount)
    v.extend(push20(to));
    v.extend(push20(from));
    v.push(0x7f);
    v.extend_from_slice(TRANSFER_TOPIC.as_slice());
    v.extend([0x60, 0x20, 0x60, 0x00, 0xa3]); // log3(0, 32, topic, from, to)
    v
}

#[test]
fn reverted_transfers_do_not_count() {
    let k = key(2);
    let (a, b) = (Address::repeat_byte(0xa), Address::repeat_byte(0xb));
    let parent = Address::repeat_byte(0x40);
    let child = Address::repeat_byte(0x41);
    // child: emit Transfer(a, b, 100) then REVERT
    let child_code = [emit_transfer(a, b, 100), vec![0x60, 0, 0x60, 0, 0xfd]].concat();
    // parent: call child, then emit Transfer(a, b, 7), STOP
    let parent_code = [call_all_gas(child), emit_transfer(a, b, 7), vec![0x00]].concat();
    let state = state_with(&[k.address()], &[(parent, parent_code), (child, child_code)]);
    let out = simulate(&state, &block(), &call(&k, 0, parent, vec![], 200_000), &Budget::default()).unwrap();
    assert!(out.result.is_success(), "{:?}", out.result);
    let t = &out.trace;
    assert_eq!(t.frames.len(), 2);
    assert!(!t.frames[0].reverted);
    assert!(t.frames[1].reverted);
    assert_eq!(t.frames[1].parent, Some(0));
    assert_eq!(t.logs.len(), 2);
    assert_eq!((t.logs[0].frame, t.logs[0].reverted), (1, true));
    assert_eq!((t.logs[1].frame, t.logs[1].reverted), (0, false));
    assert_eq!(t.token_events.len(), 2);
    assert_eq!(t.token_events[1].kind, TokenEventKind::Erc20Transfer { from: a, to: b, amount: U256::from(7) });
    let flows: Vec<_> = t.token_flows.iter().map(|(h, f)| (*h, *f)).collect();
    assert_eq!(
        flows,
        [
            (
                TokenHolding { token: parent, holder: a, id: None },
                TokenFlow { received: U256::ZERO, sent: U256::from(7) }
            ),
            (
                TokenHolding { token: parent, holder: b, id: None },
                TokenFlow { received: U256::from(7), sent: U256::ZERO }
            ),
        ]
    );
    assert_eq!(t.token_delta(parent, a), alloy_primitives::I256::try_from(-7).unwrap());
}

#[test]
fn ecrecover_calls_are_recorded() {
    // Copy calldata to memory, STATICCALL 0x01 with it, return the 32 bytes.
    let code = alloy_primitives::hex::decode("3660006000376020600036600060015afa5060206000f3").unwrap();
    let k = key(3);
    let verifier = Address::repeat_byte(0x50);
    let state = state_with(&[k.address()], &[(verifier, code)]);

    let signer = key(9);
    let hash = B256::repeat_byte(0x42);
    let sig = signer.sign_hash_sync(&hash).unwrap();
    let mut input = hash.to_vec();
    input.extend(U256::from(27 + u8::from(sig.v())).to_be_bytes::<32>());
    input.extend(sig.r().to_be_bytes::<32>());
    input.extend(sig.s().to_be_bytes::<32>());

    let out = simulate(&state, &block(), &call(&k, 0, verifier, input, 100_000), &Budget::default()).unwrap();
    assert!(out.result.is_success(), "{:?}", out.result);
    assert_eq!(out.result.output()[12..], signer.address()[..]);
    let t = &out.trace;
    assert_eq!(t.ecrecovers.len(), 1);
    let e = t.ecrecovers[0];
    assert_eq!(e.hash, hash);
    assert_eq!(e.caller, verifier);
    assert_eq!(e.r, B256::from(sig.r()));
    assert_eq!(e.recovered, Some(signer.address()));
    let frame = t.frame(e.frame).unwrap();
    assert!(frame.precompile);
    assert_eq!(frame.kind, CallKind::StaticCall);
    assert_eq!(frame.code_address, Address::with_last_byte(1));
    assert_eq!(frame.input_len, 128);
}

#[test]
fn selfdestruct_and_balance_changes() {
    let k = key(4);
    let doomed = Address::repeat_byte(0x60);
    let heir = Address::repeat_byte(0x61);
    let mut code = push20(heir);
    code.push(0xff);
    let mut state = state_with(&[k.address()], &[]);
    state.insert_account(doomed, ether(3), 1, Bytes::from(code), []).unwrap();
    let tx = call(&k, 0, doomed, vec![], 100_000);
    let out = simulate(&state, &block(), &tx, &Budget::default()).unwrap();
    assert!(out.result.is_success(), "{:?}", out.result);
    let t = &out.trace;
    assert_eq!(t.selfdestructs.len(), 1);
    let sd = t.selfdestructs[0];
    assert_eq!((sd.frame, sd.contract, sd.beneficiary, sd.value), (0, doomed, heir, ether(3)));
    assert_eq!(t.balance_changes[&heir].after, ether(3));
    assert_eq!(t.balance_changes[&doomed].after, U256::ZERO);
    // The sender paid gas: 1 gwei effective price (base fee 0, tip 1 gwei).
    let paid = U256::from(out.result.gas_used()) * U256::from(1_000_000_000u64);
    assert_eq!(t.balance_changes[&k.address()].before - t.balance_changes[&k.address()].after, paid);
    assert_eq!(t.balance_changes[&block().coinbase].after, paid);
}

#[test]
fn creation_frames_carry_the_new_address() {
    let k = key(5);
    let factory = Address::repeat_byte(0x70);
    // CREATE with 5-byte init code (PUSH1 0 PUSH1 0 RETURN) stored in memory:
    // PUSH5 600060 00f3 PUSH1 0 MSTORE; PUSH1 5 PUSH1 27 PUSH1 0 CREATE; STOP
    let code = vec![0x64, 0x60, 0x00, 0x60, 0x00, 0xf3, 0x60, 0x00, 0x52, 0x60, 5, 0x60, 27, 0x60, 0, 0xf0, 0x00];
    let state = state_with(&[k.address()], &[(factory, code)]);
    let out = simulate(&state, &block(), &call(&k, 0, factory, vec![], 200_000), &Budget::default()).unwrap();
    assert!(out.result.is_success(), "{:?}", out.result);
    let created: Vec<_> = out.trace.creations().collect();
    assert_eq!(created.len(), 1);
    let c = created[0];
    assert_eq!(c.kind, CallKind::Create);
    assert_eq!(c.caller, factory);
    assert_eq!(c.callee, factory.create(1));
    assert_eq!(c.input_len, 5);
    assert!(c.success());
}

#[test]
fn keccak_inputs_and_outputs_are_recorded() {
    // mem[0..32] = 42, mem[32..64] = 7; slot 0 = keccak(mem[0..64]);
    // then keccak of nothing.
    let code = vec![
        0x60, 0x2a, 0x60, 0x00, 0x52, 0x60, 0x07, 0x60, 0x20, 0x52, 0x60, 0x40, 0x60, 0x00, 0x20, 0x60, 0x00, 0x55,
        0x60, 0x00, 0x60, 0x00, 0x20, 0x50, 0x00,
    ];
    let k = key(7);
    let c = Address::repeat_byte(0x37);
    let state = state_with(&[k.address()], &[(c, code)]);
    let out = simulate(&state, &block(), &call(&k, 0, c, vec![], 100_000), &Budget::default()).unwrap();
    assert!(out.result.is_success(), "{:?}", out.result);
    let t = &out.trace;
    assert_eq!(t.keccaks.len(), 2);
    let input = [U256::from(42).to_be_bytes::<32>(), U256::from(7).to_be_bytes::<32>()].concat();
    assert_eq!(t.keccak_input(&t.keccaks[0]), Some(input.as_slice()));
    assert_eq!(t.keccaks[0].output, alloy_primitives::keccak256(&input));
    // The stored word is the recorded hash.
    assert_eq!(
        t.storage.last().map(|s| s.op),
        Some(StorageOp::Write { old: U256::ZERO, new: U256::from_be_bytes(t.keccaks[0].output.0) })
    );
    assert_eq!(t.keccak_input(&t.keccaks[1]), Some(&[][..]));
    assert_eq!(t.keccaks[1].output, alloy_primitives::KECCAK256_EMPTY);
    assert!(t.keccaks.iter().all(|k| k.frame == 0));
}

/// `LOG2(mem[0..32], topic, CALLER)` with `mem[0] = amount` (the code that
/// pushes the amount comes first).
fn log_for_caller(topic: B256) -> Vec<u8> {
    let mut v = vec![0x60, 0x00, 0x52, 0x33, 0x7f];
    v.extend_from_slice(topic.as_slice());
    v.extend([0x60, 0x20, 0x60, 0x00, 0xa2]);
    v
}

#[test]
fn wrapped_ether_events_count_only_with_the_ether_they_claim() {
    use vigil_sim::trace::tokens::{DEPOSIT_TOPIC, WITHDRAWAL_TOPIC};
    let k = key(8);
    let me = k.address();
    // Deposit(caller, callvalue): a wrap.
    let wrap = Address::repeat_byte(0x51);
    let wrap_code = [vec![0x34], log_for_caller(DEPOSIT_TOPIC), vec![0x00]].concat();
    // Deposit(caller, 5) with no ether: a plain log.
    let fake = Address::repeat_byte(0x52);
    let fake_code = [vec![0x60, 5], log_for_caller(DEPOSIT_TOPIC), vec![0x00]].concat();
    // Sends the caller 100 wei, then Withdrawal(caller, 100): an unwrap.
    let unwrap = Address::repeat_byte(0x53);
    let send_100 = vec![0x60, 0, 0x60, 0, 0x60, 0, 0x60, 0, 0x60, 100, 0x33, 0x5a, 0xf1, 0x50];
    let unwrap_code = [send_100.clone(), vec![0x60, 100], log_for_caller(WITHDRAWAL_TOPIC), vec![0x00]].concat();
    // Sends 100 wei, then claims Withdrawal(caller, 99): a plain log.
    let liar = Address::repeat_byte(0x54);
    let liar_code = [send_100, vec![0x60, 99], log_for_caller(WITHDRAWAL_TOPIC), vec![0x00]].concat();
    let mut state = state_with(&[me], &[(wrap, wrap_code), (fake, fake_code)]);
    for (a, code) in [(unwrap, unwrap_code), (liar, liar_code)] {
        state.insert_account(a, U256::from(1000), 1, Bytes::from(code), []).unwrap();
    }
    let run = |to: Address, nonce: u64, value: u64| {
        let tx = crate::common::sign(
            &k,
            alloy_consensus::TxEip1559 {
                chain_id: crate::common::CHAIN_ID,
                nonce,
                gas_limit: 100_000,
                max_fee_per_gas: 2 * crate::common::GWEI,
                max_priority_fee_per_gas: crate::common::GWEI,
                to: alloy_primitives::TxKind::Call(to),
                value: U256::from(value),
                access_list: Default::default(),
                input: Bytes::new(),
            },
        );
        let out = simulate(&state, &block(), &tx, &Budget::default()).unwrap();
        assert!(out.result.is_success(), "{:?}", out.result);
        out.trace
    };
    let t = run(wrap, 0, 77);
    assert_eq!(
        t.token_events.iter().map(|e| e.kind.clone()).collect::<Vec<_>>(),
        [TokenEventKind::Erc20Transfer { from: Address::ZERO, to: me, amount: U256::from(77) }]
    );
    assert_eq!(t.token_delta(wrap, me), alloy_primitives::I256::try_from(77).unwrap());
    assert!(run(fake, 0, 0).token_events.is_empty(), "no ether came with it");
    let t = run(unwrap, 0, 0);
    assert_eq!(
        t.token_events.iter().map(|e| e.kind.clone()).collect::<Vec<_>>(),
        [TokenEventKind::Erc20Transfer { from: me, to: Address::ZERO, amount: U256::from(100) }]
    );
    assert!(run(liar, 0, 0).token_events.is_empty(), "the amount does not match the ether sent");
}
