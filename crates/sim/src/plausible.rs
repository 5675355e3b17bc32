//! Whether a transaction could ever run on a chain's next block: the
//! checks every entry point makes before it acknowledges a transaction
//! (the node's admission, the devnet's pool, the gate), so all of them
//! refuse the same transactions with the same words, at once, instead of
//! holding one that can never be included.
//!
//! The messages are geth's, so wallets that match on them (ethers, viem)
//! read them as they would from any node.

use alloy_consensus::Transaction as _;
use alloy_primitives::{Address, U256};
use revm::{context_interface::cfg::gas::calculate_initial_tx_gas, primitives::hardfork::SpecId};
use vigil_types::Transaction;

/// What a check needs to know of the chain, read at its head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainFacts {
    /// The sender's next nonce.
    pub next_nonce: u64,
    /// The sender's balance.
    pub balance: U256,
    /// The gas limit of the next block.
    pub block_gas_limit: u64,
}

/// Why a transaction cannot run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Implausible {
    /// Its nonce is used already.
    #[error("nonce too low: next nonce {next}, tx nonce {got}")]
    NonceTooLow {
        /// The sender's next nonce.
        next: u64,
        /// The transaction's.
        got: u64,
    },
    /// Its nonce is further ahead than anyone keeps transactions for.
    #[error("nonce too high: next nonce {next}, tx nonce {got}, at most {max_gap} ahead are kept")]
    NonceTooHigh {
        /// The sender's next nonce.
        next: u64,
        /// The transaction's.
        got: u64,
        /// How far ahead is kept.
        max_gap: u64,
    },
    /// It asks for more gas than a block holds.
    #[error("exceeds block gas limit: transaction gas limit {gas}, block gas limit {limit}")]
    AboveBlockGasLimit {
        /// Its gas limit.
        gas: u64,
        /// The block's.
        limit: u64,
    },
    /// Its gas limit does not cover its intrinsic gas (EIP-2028, 2930,
    /// 3860, 7702, and the EIP-7623 calldata floor).
    #[error("intrinsic gas too low: gas limit {gas}, at least {needed}")]
    IntrinsicGasTooLow {
        /// Its gas limit.
        gas: u64,
        /// What it needs before any execution.
        needed: u64,
    },
    /// The sender cannot pay for it.
    #[error("insufficient funds for gas * price + value: address {address} have {have} want {want}")]
    InsufficientFunds {
        /// The sender.
        address: Address,
        /// Its balance.
        have: U256,
        /// Gas limit times max fee, plus value.
        want: U256,
    },
}

/// The gas a transaction pays before its first instruction under Prague:
/// at least the EIP-7623 calldata floor.
pub fn intrinsic_gas(tx: &Transaction) -> u64 {
    let env = tx.envelope();
    let (accounts, storages) = env
        .access_list()
        .map(|list| (list.len() as u64, list.iter().map(|item| item.storage_keys.len() as u64).sum()))
        .unwrap_or((0, 0));
    let authorizations = env.authorization_list().map_or(0, |list| list.len() as u64);
    let gas = calculate_initial_tx_gas(
        SpecId::PRAGUE,
        env.input(),
        env.kind().is_create(),
        accounts,
        storages,
        authorizations,
        None,
    );
    gas.initial_total_gas().max(gas.floor_gas)
}

/// Checks `tx` against `facts`; `max_gap`: how far ahead of the next nonce
/// a transaction is kept (`None`: any distance).
pub fn check(tx: &Transaction, facts: &ChainFacts, max_gap: Option<u64>) -> Result<(), Implausible> {
    let env = tx.envelope();
    let (next, got) = (facts.next_nonce, tx.nonce());
    if got < next {
        return Err(Implausible::NonceTooLow { next, got });
    }
    if let Some(max_gap) = max_gap.filter(|gap| got - next > *gap) {
        return Err(Implausible::NonceTooHigh { next, got, max_gap });
    }
    let gas = env.gas_limit();
    if gas > facts.block_gas_limit {
        return Err(Implausible::AboveBlockGasLimit { gas, limit: facts.block_gas_limit });
    }
    let needed = intrinsic_gas(tx);
    if gas < needed {
        return Err(Implausible::IntrinsicGasTooLow { gas, needed });
    }
    let want = U256::from(gas).saturating_mul(U256::from(env.max_fee_per_gas())).saturating_add(env.value());
    if facts.balance < want {
        return Err(Implausible::InsufficientFunds { address: tx.sender(), have: facts.balance, want });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
    use alloy_eips::eip2930::{AccessList, AccessListItem};
    use alloy_primitives::{Bytes, TxKind, B256};
    use alloy_signer::SignerSync;
    use alloy_signer_local::PrivateKeySigner;

    use super::*;

    fn tx(nonce: u64, gas: u64, to: Option<Address>, input: Vec<u8>, access_list: AccessList) -> Transaction {
        let signer = PrivateKeySigner::from_bytes(&B256::repeat_byte(7)).unwrap();
        let inner = TxEip1559 {
            chain_id: 31337,
            nonce,
            gas_limit: gas,
            max_fee_per_gas: 10,
            max_priority_fee_per_gas: 1,
            to: to.map_or(TxKind::Create, TxKind::Call),
            value: U256::from(5),
            access_list,
            input: Bytes::from(input),
        };
        let sig = signer.sign_hash_sync(&inner.signature_hash()).unwrap();
        let envelope = TxEnvelope::Eip1559(inner.into_signed(sig));
        Transaction::decode(&alloy_eips::eip2718::Encodable2718::encoded_2718(&envelope)).unwrap()
    }

    fn facts(next: u64, balance: u64) -> ChainFacts {
        ChainFacts { next_nonce: next, balance: U256::from(balance), block_gas_limit: 30_000_000 }
    }

    #[test]
    fn intrinsic_gas_counts_calldata_creation_and_access_lists_with_the_calldata_floor() {
        let to = Some(Address::repeat_byte(1));
        assert_eq!(intrinsic_gas(&tx(0, 50_000, to, vec![], AccessList::default())), 21_000);
        // 2 zero bytes (4 each) and 2 non-zero (16 each) = 40; the
        // EIP-7623 floor is 21000 + 10 * (2 + 2 * 4) = 21100.
        assert_eq!(intrinsic_gas(&tx(0, 50_000, to, vec![0, 0, 1, 2], AccessList::default())), 21_100);
        // 1000 non-zero bytes: 16,000 standard, floor 21000 + 40,000.
        assert_eq!(intrinsic_gas(&tx(0, 90_000, to, vec![1; 1000], AccessList::default())), 61_000);
        // A creation: 53,000, plus 2 per initcode word.
        assert_eq!(intrinsic_gas(&tx(0, 90_000, None, vec![], AccessList::default())), 53_000);
        let list = AccessList(vec![AccessListItem { address: Address::ZERO, storage_keys: vec![B256::ZERO; 2] }]);
        assert_eq!(intrinsic_gas(&tx(0, 50_000, to, vec![], list)), 21_000 + 2_400 + 2 * 1_900);
    }

    #[test]
    fn each_impossible_transaction_is_named_and_a_possible_one_passes() {
        let to = Some(Address::repeat_byte(1));
        let ok = tx(3, 21_000, to, vec![], AccessList::default());
        let cost = 21_000 * 10 + 5;
        assert_eq!(check(&ok, &facts(3, cost), Some(64)), Ok(()));
        assert_eq!(check(&ok, &facts(4, cost), Some(64)), Err(Implausible::NonceTooLow { next: 4, got: 3 }));
        let far = tx(2_003, 21_000, to, vec![], AccessList::default());
        assert_eq!(check(&far, &facts(3, cost), None), Ok(()), "no bound on the gap");
        assert_eq!(
            check(&far, &facts(3, cost), Some(64)),
            Err(Implausible::NonceTooHigh { next: 3, got: 2_003, max_gap: 64 })
        );
        let low = tx(3, 20_000, to, vec![], AccessList::default());
        assert_eq!(
            check(&low, &facts(3, cost), Some(64)),
            Err(Implausible::IntrinsicGasTooLow { gas: 20_000, needed: 21_000 })
        );
        let huge = tx(3, 30_000_001, to, vec![], AccessList::default());
        assert_eq!(
            check(&huge, &facts(3, u64::MAX), Some(64)),
            Err(Implausible::AboveBlockGasLimit { gas: 30_000_001, limit: 30_000_000 })
        );
        let poor = check(&ok, &facts(3, cost - 1), Some(64)).unwrap_err();
        assert_eq!(
            poor.to_string(),
            format!(
                "insufficient funds for gas * price + value: address {} have {} want {cost}",
                ok.sender(),
                cost - 1
            )
        );
    }
}
