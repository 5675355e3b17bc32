//! Helpers: keys, signed transactions, small hand-written contracts.

use alloy_consensus::{SignableTransaction, Signed, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes, Signature, TxKind, B256, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use vigil_fixture::{Fixture, Fork};
use vigil_sim::{BlockSpec, InMemoryState};
use vigil_types::tx::Transaction;

pub const CHAIN_ID: u64 = 31337;
pub const GWEI: u128 = 1_000_000_000;

pub fn ether(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18))
}

/// A deterministic key.
pub fn key(n: u8) -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&B256::repeat_byte(n)).unwrap()
}

/// Signs `tx` with `signer` and decodes it as a wallet's raw bytes.
pub fn sign<T>(signer: &PrivateKeySigner, tx: T) -> Transaction
where
    T: SignableTransaction<Signature>,
    Signed<T>: Into<TxEnvelope>,
{
    let sig = signer.sign_hash_sync(&tx.signature_hash()).unwrap();
    let envelope: TxEnvelope = tx.into_signed(sig).into();
    Transaction::decode(&envelope.encoded_2718()).unwrap()
}

/// An EIP-1559 call.
pub fn call(signer: &PrivateKeySigner, nonce: u64, to: Address, data: Vec<u8>, gas: u64) -> Transaction {
    sign(
        signer,
        TxEip1559 {
            chain_id: CHAIN_ID,
            nonce,
            gas_limit: gas,
            max_fee_per_gas: 2 * GWEI,
            max_priority_fee_per_gas: GWEI,
            to: TxKind::Call(to),
            value: U256::ZERO,
            access_list: Default::default(),
            input: Bytes::from(data),
        },
    )
}

/// Block 1 of a chain with the fixtures' parameters.
pub fn block() -> BlockSpec {
    BlockSpec {
        chain_id: CHAIN_ID,
        fork: Fork::Prague,
        number: 1,
        timestamp: 1_767_225_602,
        gas_limit: 30_000_000,
        base_fee: 0,
        coinbase: Address::with_last_byte(0xc0),
        prevrandao: B256::ZERO,
    }
}

/// A state with `funded` holding 100 ether and each `(address, code)`
/// deployed.
pub fn state_with(funded: &[Address], contracts: &[(Address, Vec<u8>)]) -> InMemoryState {
    let mut s = InMemoryState::new();
    for a in funded {
        s.insert_account(*a, ether(100), 0, Bytes::new(), []).unwrap();
    }
    for (a, code) in contracts {
        s.insert_account(*a, U256::ZERO, 1, Bytes::from(code.clone()), []).unwrap();
    }
    s
}

/// `PUSH20 address`.
pub fn push20(a: Address) -> Vec<u8> {
    let mut v = vec![0x73];
    v.extend_from_slice(a.as_slice());
    v
}

/// `CALL(gas, to, 0, 0, 0, 0, 0)` with all gas, result popped.
pub fn call_all_gas(to: Address) -> Vec<u8> {
    let mut v = vec![0x60, 0, 0x60, 0, 0x60, 0, 0x60, 0, 0x60, 0];
    v.extend(push20(to));
    v.extend([0x5a, 0xf1, 0x50]);
    v
}

pub fn testdata(name: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixture/testdata").join(name)
}

pub fn fixture(name: &str) -> Fixture {
    Fixture::load(testdata(name)).unwrap()
}
