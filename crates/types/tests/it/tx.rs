//! Transaction decoding: the four accepted envelope types and clear errors.

use alloy_consensus::{Signed, TxEip1559, TxEip2930, TxEip7702, TxEnvelope, TxLegacy};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes, TxKind, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use vigil_types::{Transaction, TxDecodeError};

fn signer() -> PrivateKeySigner {
    "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318".parse().expect("key")
}

fn sign<T: alloy_consensus::SignableTransaction<alloy_primitives::Signature>>(tx: T) -> Signed<T> {
    let sig = signer().sign_hash_sync(&tx.signature_hash()).expect("sign");
    tx.into_signed(sig)
}

fn envelopes() -> Vec<TxEnvelope> {
    let to = TxKind::Call(Address::repeat_byte(0x22));
    vec![
        sign(TxLegacy {
            chain_id: Some(31337),
            nonce: 1,
            gas_price: 10,
            gas_limit: 21000,
            to,
            value: U256::from(5),
            input: Bytes::new(),
        })
        .into(),
        sign(TxEip2930 {
            chain_id: 31337,
            nonce: 2,
            gas_price: 10,
            gas_limit: 30000,
            to,
            value: U256::ZERO,
            access_list: Default::default(),
            input: Bytes::from_static(&[1, 2]),
        })
        .into(),
        sign(TxEip1559 {
            chain_id: 31337,
            nonce: 3,
            gas_limit: 50000,
            max_fee_per_gas: 20,
            max_priority_fee_per_gas: 1,
            to,
            value: U256::ZERO,
            access_list: Default::default(),
            input: Bytes::new(),
        })
        .into(),
        sign(TxEip7702 {
            chain_id: 31337,
            nonce: 4,
            gas_limit: 80000,
            max_fee_per_gas: 20,
            max_priority_fee_per_gas: 1,
            to: Address::repeat_byte(0x33),
            value: U256::ZERO,
            access_list: Default::default(),
            authorization_list: vec![],
            input: Bytes::new(),
        })
        .into(),
    ]
}

#[test]
fn all_four_types_decode_with_sender_and_hash() {
    for (i, env) in envelopes().into_iter().enumerate() {
        let raw = env.encoded_2718();
        let tx = Transaction::decode(&raw).unwrap_or_else(|e| panic!("type {i}: {e}"));
        assert_eq!(tx.sender(), signer().address());
        assert_eq!(tx.hash(), alloy_primitives::keccak256(&raw));
        assert_eq!(tx.nonce(), i as u64 + 1);
        assert_eq!(tx.chain_id(), Some(31337));
        assert_eq!(tx.raw().as_ref(), raw.as_slice());
    }
}

#[test]
fn a_decoded_again_transaction_keeps_its_sender_and_another_signature_is_another_sender() {
    let other: PrivateKeySigner =
        "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba".parse().expect("key");
    let tx = TxEip1559 {
        chain_id: 31337,
        nonce: 9,
        gas_limit: 21000,
        max_fee_per_gas: 10,
        max_priority_fee_per_gas: 1,
        to: TxKind::Call(Address::repeat_byte(0x33)),
        value: U256::from(1),
        access_list: Default::default(),
        input: Bytes::new(),
    };
    let mine = TxEnvelope::from(sign(tx.clone())).encoded_2718();
    let sig = other.sign_hash_sync(&alloy_consensus::SignableTransaction::signature_hash(&tx)).expect("sign");
    let theirs = TxEnvelope::from(alloy_consensus::SignableTransaction::into_signed(tx, sig)).encoded_2718();
    for _ in 0..2 {
        // The second round answers from the process's sender cache.
        assert_eq!(Transaction::decode(&mine).expect("decodes").sender(), signer().address());
        assert_eq!(Transaction::decode(&theirs).expect("decodes").sender(), other.address());
    }
}

#[test]
fn malformed_transactions_get_reasons() {
    let raw = envelopes()[2].encoded_2718();
    assert_eq!(Transaction::decode(&[]).unwrap_err(), TxDecodeError::Empty);
    assert_eq!(Transaction::decode(&[0x03, 0xc0]).unwrap_err(), TxDecodeError::UnsupportedType(3));
    assert_eq!(Transaction::decode(&[0x05, 0xc0]).unwrap_err(), TxDecodeError::UnsupportedType(5));
    let mut trailing = raw.clone();
    trailing.push(0);
    assert!(matches!(
        Transaction::decode(&trailing).unwrap_err(),
        TxDecodeError::TrailingBytes(1) | TxDecodeError::Malformed(_)
    ));
    assert!(matches!(Transaction::decode(&raw[..raw.len() - 3]).unwrap_err(), TxDecodeError::Malformed(_)));
    let big = vec![0xc0; vigil_types::tx::MAX_TX_SIZE + 1];
    assert!(matches!(Transaction::decode(&big).unwrap_err(), TxDecodeError::TooLarge { .. }));
    // Corrupt the signature's s value to zero-ish: recovery must fail or
    // give another sender, never panic.
    let mut bad = raw.clone();
    let n = bad.len();
    bad[n - 1] ^= 0xff;
    if let Ok(tx) = Transaction::decode(&bad) {
        assert_ne!(tx.sender(), signer().address());
    }
    for b in 0..=255u8 {
        let _ = Transaction::decode(&[b]);
        let _ = Transaction::decode(&[b, 0xc0]);
    }
}
