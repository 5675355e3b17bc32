//! Helpers for the pipeline's unit tests: committees whose keys are known,
//! and signed transactions.

use std::sync::Arc;

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, TxKind, B256, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use vigil_consensus::VerifiedCommittee;
use vigil_crypto::SecretKey;
use vigil_types::{tx::Transaction, Vote, VoteKind, VoteMessage};

/// Chain id of the test transactions and committees.
pub(super) const CHAIN: u64 = 31337;

/// Hardhat's account #0.
const KEY0: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/// `members` equal-stake members with keys derived from `seed`, two-thirds
/// threshold, on chain [`CHAIN`].
pub(super) fn committee(epoch: u64, members: usize, seed: u64) -> (Vec<SecretKey>, Arc<VerifiedCommittee>) {
    let dev = vigil_consensus::testkit::DevCommittee::generate(CHAIN, epoch, members, seed);
    (dev.keys, dev.committee)
}

/// The vote of member `signer` of `committee`, signed with `key`.
pub(super) fn vote(committee: &VerifiedCommittee, key: &SecretKey, signer: u32, tx_hash: B256, kind: VoteKind) -> Vote {
    let msg = VoteMessage { chain_id: committee.chain_id(), epoch: committee.epoch(), tx_hash, kind };
    Vote { chain_id: msg.chain_id, epoch: msg.epoch, tx_hash, kind, signer, signature: key.sign_vote(&msg).to_bytes() }
}

/// The sender of [`signed_tx`]'s transactions.
pub(super) fn sender() -> Address {
    KEY0.parse::<PrivateKeySigner>().expect("key").address()
}

/// A signed EIP-1559 transaction of chain [`CHAIN`] from [`sender`].
pub(super) fn signed_tx(nonce: u64, to: Option<Address>, value: U256, gas_limit: u64, max_fee: u128) -> Transaction {
    let tx = TxEip1559 {
        chain_id: CHAIN,
        nonce,
        gas_limit,
        max_fee_per_gas: max_fee,
        max_priority_fee_per_gas: max_fee.min(1_000_000_000),
        to: to.map_or(TxKind::Create, TxKind::Call),
        value,
        ..Default::default()
    };
    let key: PrivateKeySigner = KEY0.parse().expect("key");
    let sig = key.sign_hash_sync(&tx.signature_hash()).expect("sign");
    let env: TxEnvelope = tx.into_signed(sig).into();
    Transaction::decode(&env.encoded_2718()).expect("decode")
}
