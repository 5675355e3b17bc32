//! `tx_env` for each transaction type, and revm running each one.

use alloy_consensus::{TxEip1559, TxEip2930, TxEip7702, TxLegacy};
use alloy_eips::{
    eip2930::{AccessList, AccessListItem},
    eip7702::Authorization,
};
use alloy_primitives::{Address, Bytes, TxKind, B256, U256};
use alloy_signer::SignerSync;
use revm::context_interface::either::Either;
use vigil_sim::{execute, tx_env, ExecResult, StateView};

use crate::common::{block, key, sign, state_with, CHAIN_ID, GWEI};

/// `CALLER PUSH1 0 SSTORE STOP`: records who called, in the callee's storage.
const STORE_CALLER: [u8; 5] = [0x33, 0x60, 0x00, 0x55, 0x00];

fn target() -> Address {
    Address::repeat_byte(0x77)
}

fn run_ok(tx: &vigil_types::tx::Transaction) -> vigil_sim::ExecOutcome {
    let state = state_with(&[tx.sender()], &[(target(), STORE_CALLER.to_vec())]);
    let out = execute(&state, &block(), tx).unwrap();
    assert!(out.result.is_success(), "type {} did not succeed: {:?}", tx.tx_type(), out.result);
    out
}

#[test]
fn legacy_eip155() {
    let k = key(1);
    let tx = sign(
        &k,
        TxLegacy {
            chain_id: Some(CHAIN_ID),
            nonce: 0,
            gas_price: 3 * GWEI,
            gas_limit: 50_000,
            to: TxKind::Call(target()),
            value: U256::from(5),
            input: Bytes::from_static(&[1, 2, 3, 4, 5]),
        },
    );
    let env = tx_env(&tx).unwrap();
    assert_eq!(env.tx_type, 0);
    assert_eq!(env.caller, k.address());
    assert_eq!(env.chain_id, Some(CHAIN_ID));
    assert_eq!(env.gas_price, 3 * GWEI);
    assert_eq!(env.gas_priority_fee, None);
    assert_eq!(env.gas_limit, 50_000);
    assert_eq!(env.kind, TxKind::Call(target()));
    assert_eq!(env.value, U256::from(5));
    assert_eq!(env.data.as_ref(), [1, 2, 3, 4, 5]);
    assert_eq!(env.nonce, 0);
    assert!(env.access_list.is_empty() && env.authorization_list.is_empty());
    run_ok(&tx);
}

#[test]
fn legacy_without_chain_id() {
    let k = key(2);
    let tx = sign(
        &k,
        TxLegacy {
            chain_id: None,
            nonce: 0,
            gas_price: GWEI,
            gas_limit: 50_000,
            to: TxKind::Call(target()),
            value: U256::ZERO,
            input: Bytes::new(),
        },
    );
    let env = tx_env(&tx).unwrap();
    assert_eq!(env.chain_id, None);
    run_ok(&tx);
}

#[test]
fn eip2930_keeps_access_list() {
    let k = key(3);
    let list = AccessList(vec![AccessListItem { address: target(), storage_keys: vec![B256::ZERO] }]);
    let tx = sign(
        &k,
        TxEip2930 {
            chain_id: CHAIN_ID,
            nonce: 0,
            gas_price: 2 * GWEI,
            gas_limit: 60_000,
            to: TxKind::Call(target()),
            value: U256::ZERO,
            access_list: list.clone(),
            input: Bytes::new(),
        },
    );
    let env = tx_env(&tx).unwrap();
    assert_eq!(env.tx_type, 1);
    assert_eq!(env.access_list, list);
    assert_eq!(env.gas_price, 2 * GWEI);
    assert_eq!(env.gas_priority_fee, None);
    assert_eq!(env.chain_id, Some(CHAIN_ID));
    let out = run_ok(&tx);
    // Intrinsic 21000 + 2400 (listed address) + 1900 (listed key); then
    // CALLER 2, PUSH1 3 and an SSTORE of a new value into a slot the list
    // made warm: 20000 (it would be 22100 cold).
    assert_eq!(out.result.gas_used(), 21_000 + 2_400 + 1_900 + 2 + 3 + 20_000);
}

#[test]
fn eip1559_fee_fields_and_create() {
    let k = key(4);
    // Init code returning empty runtime code: PUSH1 0 PUSH1 0 RETURN.
    let tx = sign(
        &k,
        TxEip1559 {
            chain_id: CHAIN_ID,
            nonce: 0,
            gas_limit: 100_000,
            max_fee_per_gas: 5 * GWEI,
            max_priority_fee_per_gas: 2 * GWEI,
            to: TxKind::Create,
            value: U256::from(7),
            access_list: Default::default(),
            input: Bytes::from_static(&[0x60, 0x00, 0x60, 0x00, 0xf3]),
        },
    );
    let env = tx_env(&tx).unwrap();
    assert_eq!(env.tx_type, 2);
    assert_eq!(env.gas_price, 5 * GWEI);
    assert_eq!(env.gas_priority_fee, Some(2 * GWEI));
    assert_eq!(env.kind, TxKind::Create);
    let out = run_ok(&tx);
    match out.result {
        ExecResult::Success { created, .. } => assert_eq!(created, Some(k.address().create(0))),
        other => panic!("{other:?}"),
    }
}

#[test]
fn eip7702_authorization_list() {
    let sender = key(5);
    let authority = key(6);
    let auth = Authorization { chain_id: U256::from(CHAIN_ID), address: target(), nonce: 0 };
    let sig = authority.sign_hash_sync(&auth.signature_hash()).unwrap();
    let signed_auth = auth.into_signed(sig);
    let tx = sign(
        &sender,
        TxEip7702 {
            chain_id: CHAIN_ID,
            nonce: 0,
            gas_limit: 100_000,
            max_fee_per_gas: 2 * GWEI,
            max_priority_fee_per_gas: GWEI,
            to: authority.address(),
            value: U256::ZERO,
            access_list: Default::default(),
            authorization_list: vec![signed_auth.clone()],
            input: Bytes::new(),
        },
    );
    let env = tx_env(&tx).unwrap();
    assert_eq!(env.tx_type, 4);
    assert_eq!(env.kind, TxKind::Call(authority.address()));
    assert_eq!(env.gas_priority_fee, Some(GWEI));
    assert_eq!(env.authorization_list.len(), 1);
    match &env.authorization_list[0] {
        Either::Left(a) => assert_eq!(a, &signed_auth),
        Either::Right(_) => panic!("expected the signed authorization"),
    }

    // Executed: the authority's code becomes a delegation to `target`, and
    // the call runs target's code in the authority's storage.
    let mut state = state_with(&[sender.address()], &[(target(), STORE_CALLER.to_vec())]);
    let out = execute(&state, &block(), &tx).unwrap();
    assert!(out.result.is_success(), "{:?}", out.result);
    state.commit(&out.changes);
    let mut delegation = vec![0xef, 0x01, 0x00];
    delegation.extend_from_slice(target().as_slice());
    assert_eq!(state.code(authority.address()).as_ref(), delegation.as_slice());
    assert_eq!(state.nonce(authority.address()), 1);
    let stored = state.storage(authority.address(), U256::ZERO).unwrap();
    assert_eq!(Address::from_word(stored.into()), sender.address());
}

#[test]
fn invalid_against_state_is_an_error() {
    let k = key(7);
    let tx = crate::common::call(&k, 3, target(), vec![], 50_000);
    let state = state_with(&[k.address()], &[]);
    let err = execute(&state, &block(), &tx).unwrap_err();
    assert!(matches!(err, vigil_sim::SimError::InvalidTransaction(_)), "{err:?}");
    assert!(err.to_string().contains("nonce"), "{err}");

    let poor = vigil_sim::InMemoryState::new();
    let err = execute(&poor, &block(), &tx).unwrap_err();
    assert!(err.to_string().contains("transaction invalid against this state"), "{err}");
}
