//! The environment of the block a transaction is simulated in: the next
//! block, as the sequencer will build it.

use alloy_primitives::{Address, B256, U256};
use revm::{
    context::{BlockEnv, CfgEnv},
    context_interface::block::BlobExcessGasAndPrice,
    primitives::{eip4844::BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE, hardfork::SpecId},
};
use vigil_fixture::{replay, Fork, Genesis};

use crate::SimError;

/// Everything about the chain and the block that execution depends on.
///
/// Simulation must use the values the sequencer will use for the block the
/// transaction lands in (DESIGN §11, simulation evasion): build it with
/// [`BlockSpec::next`] from the head, not from the wall clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockSpec {
    /// EIP-155 chain id.
    pub chain_id: u64,
    /// EVM rules.
    pub fork: Fork,
    /// Block number.
    pub number: u64,
    /// Block timestamp, seconds since the Unix epoch.
    pub timestamp: u64,
    /// Block gas limit.
    pub gas_limit: u64,
    /// Base fee per gas.
    pub base_fee: u64,
    /// Fee recipient (`COINBASE`).
    pub coinbase: Address,
    /// `PREVRANDAO` (the beacon randomness; zero on the devnet and fixtures).
    pub prevrandao: B256,
}

impl BlockSpec {
    /// Block 0 of a genesis.
    pub fn genesis(genesis: &Genesis) -> Self {
        Self {
            chain_id: genesis.chain_id,
            fork: genesis.fork,
            number: 0,
            timestamp: genesis.block.timestamp,
            gas_limit: genesis.block.gas_limit,
            base_fee: genesis.block.base_fee,
            coinbase: genesis.block.coinbase,
            prevrandao: B256::ZERO,
        }
    }

    /// The block after this one, `block_time` seconds later, with the same
    /// gas limit, base fee, coinbase and prevrandao (a chain with a moving
    /// base fee or randomness sets those fields afterwards).
    pub fn next(&self, block_time: u64) -> Self {
        Self { number: self.number.saturating_add(1), timestamp: self.timestamp.saturating_add(block_time), ..*self }
    }

    /// The block a fixture puts transaction `index` in (FORMAT.md replay
    /// rule 2): number `index + 1`, timestamp `genesis + 2 * (index + 1)`.
    pub fn for_fixture_tx(genesis: &Genesis, index: usize) -> Self {
        let number = replay::block_number(index);
        Self { number, timestamp: replay::block_timestamp(&genesis.block, number), ..Self::genesis(genesis) }
    }

    /// revm's spec id for [`BlockSpec::fork`], set explicitly: revm's own
    /// default is a later fork (see docs/decisions/0002).
    pub fn spec_id(&self) -> Result<SpecId, SimError> {
        match self.fork {
            Fork::Prague => Ok(SpecId::PRAGUE),
            other => Err(SimError::UnsupportedFork(other.to_string())),
        }
    }

    /// revm's block environment.
    pub fn block_env(&self) -> BlockEnv {
        BlockEnv {
            number: U256::from(self.number),
            beneficiary: self.coinbase,
            timestamp: U256::from(self.timestamp),
            gas_limit: self.gas_limit,
            basefee: self.base_fee,
            difficulty: U256::ZERO,
            prevrandao: Some(self.prevrandao),
            // No blobs on a rollup: excess blob gas stays zero, so the blob
            // base fee is the minimum.
            blob_excess_gas_and_price: Some(BlobExcessGasAndPrice::new(0, BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE)),
            slot_num: 0,
        }
    }

    /// revm's configuration: the fork and chain id, everything else at
    /// mainnet rules (nonce, balance, base-fee and chain-id checks on).
    pub fn cfg_env(&self) -> Result<CfgEnv, SimError> {
        Ok(CfgEnv::new_with_spec(self.spec_id()?).with_chain_id(self.chain_id))
    }
}
