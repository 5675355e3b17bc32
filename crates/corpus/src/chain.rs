//! A fixture being written: its genesis, the state after the transactions
//! so far, and the signed transactions with their labels.
//!
//! Every transaction is executed (unsigned) before it is signed and
//! recorded: one that would not succeed is never recorded. [`Chain::send`]
//! turns that into an error (a scenario step must work); [`Chain::try_send`]
//! leaves the chain as it was and says why (background traffic picks another
//! action).

use std::collections::BTreeMap;

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes, TxKind, U256};
use alloy_signer::SignerSync;
use alloy_sol_types::SolCall;
use vigil_fixture::{replay::block_hash, Fork, Genesis, GenesisAccount, GenesisBlock, Label};
use vigil_sim::{BlockSpec, InMemoryState};

use crate::{
    evm::{self, Call, Outcome},
    file, Actor, CorpusError,
};

/// Chain id of every fixture (a local development chain's).
pub const CHAIN_ID: u64 = 31_337;
/// Timestamp of block 0 (2026-01-01T00:00:00Z).
pub const GENESIS_TIMESTAMP: u64 = 1_767_225_600;
/// Gas limit of every block.
pub const BLOCK_GAS_LIMIT: u64 = 30_000_000;
/// Gas limit a transaction is first executed with, to measure what it
/// uses; below the block's, as a wallet's estimate would be.
pub const PROBE_GAS: u64 = 25_000_000;

/// One signed transaction of the fixture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxRecord {
    /// EIP-2718 bytes.
    pub raw: Bytes,
    /// What it is for.
    pub label: Label,
    /// Free text for people.
    pub note: String,
}

/// What a recorded transaction did.
#[derive(Debug, Clone)]
pub struct Sent {
    /// Its index in `txs`.
    pub index: usize,
    /// Return data.
    pub output: Bytes,
    /// The contract a creation deployed.
    pub created: Option<Address>,
    /// Gas it used.
    pub gas_used: u64,
}

/// A fixture under construction. Clone it to branch (background fixtures
/// share one world setup).
#[derive(Debug, Clone)]
pub struct Chain {
    name: String,
    genesis: Genesis,
    state: InMemoryState,
    txs: Vec<TxRecord>,
}

impl Chain {
    /// A chain whose genesis gives each account its ETH (no code, nonce 0).
    pub fn new(name: impl Into<String>, alloc: impl IntoIterator<Item = (Address, U256)>) -> Result<Self, CorpusError> {
        let alloc: BTreeMap<Address, GenesisAccount> = alloc
            .into_iter()
            .map(|(address, balance)| (address, GenesisAccount { balance, ..GenesisAccount::default() }))
            .collect();
        let genesis = Genesis {
            chain_id: CHAIN_ID,
            fork: Fork::Prague,
            block: GenesisBlock {
                timestamp: GENESIS_TIMESTAMP,
                gas_limit: BLOCK_GAS_LIMIT,
                coinbase: Address::ZERO,
                base_fee: 0,
            },
            alloc,
        };
        let mut state = InMemoryState::from_genesis(&genesis)?;
        state.set_block_hash(0, block_hash(0));
        Ok(Self { name: name.into(), genesis, state, txs: Vec::new() })
    }

    /// Renames the fixture (a branch of a shared world).
    pub fn set_name(&mut self, name: impl Into<String>) {
        self.name = name.into();
    }

    /// The fixture's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The genesis.
    pub fn genesis(&self) -> &Genesis {
        &self.genesis
    }

    /// The state after the transactions recorded so far.
    pub fn state(&self) -> &InMemoryState {
        &self.state
    }

    /// The transactions recorded so far.
    pub fn txs(&self) -> &[TxRecord] {
        &self.txs
    }

    /// The block the next transaction goes in (FORMAT.md rule 2).
    pub fn block(&self) -> BlockSpec {
        BlockSpec::for_fixture_tx(&self.genesis, self.txs.len())
    }

    /// ETH balance.
    pub fn balance(&self, who: Address) -> U256 {
        self.state.balance(who)
    }

    /// Calls a view function at the head.
    pub fn view<C: SolCall>(&self, to: Address, call: &C) -> Result<C::Return, CorpusError> {
        evm::view(&self.state, &self.block(), to, call)
    }

    /// Executes a transaction from `from`; if it succeeds, signs it (next
    /// nonce, a gas limit estimated from what it used), records it and
    /// applies it. If it would not succeed, nothing changes and the reason
    /// is returned as `Ok(Err(reason))`.
    pub fn try_send(
        &mut self,
        label: Label,
        from: &Actor,
        to: TxKind,
        value: U256,
        data: impl Into<Bytes>,
        note: impl Into<String>,
    ) -> Result<Result<Sent, String>, CorpusError> {
        let block = self.block();
        let sender = from.address();
        let mut call = Call {
            from: sender,
            to,
            value,
            data: data.into(),
            nonce: self.state.nonce(sender),
            gas_limit: PROBE_GAS,
            chain_id: CHAIN_ID,
        };
        let probe = match evm::run(&self.state, &block, &call)? {
            Outcome::Success { gas_used, output, created, changes } => (gas_used, output, created, changes),
            Outcome::Failure { reason } => return Ok(Err(reason)),
        };
        let limit = gas_limit_for(probe.0);
        let (gas_used, output, created, changes) = if limit == PROBE_GAS {
            probe
        } else {
            call.gas_limit = limit;
            match evm::run(&self.state, &block, &call)? {
                Outcome::Success { gas_used, output, created, changes } => (gas_used, output, created, changes),
                // Needs more gas than it ends up using: keep the probe's.
                Outcome::Failure { .. } => {
                    call.gas_limit = PROBE_GAS;
                    probe
                }
            }
        };
        let raw = sign(from, &call)?;
        self.state.commit(&changes);
        self.state.set_block_hash(block.number, block_hash(block.number));
        let index = self.txs.len();
        self.txs.push(TxRecord { raw, label, note: note.into() });
        Ok(Ok(Sent { index, output, created, gas_used }))
    }

    /// [`Chain::try_send`] for a transaction that must succeed.
    pub fn send(
        &mut self,
        label: Label,
        from: &Actor,
        to: TxKind,
        value: U256,
        data: impl Into<Bytes>,
        note: impl Into<String>,
    ) -> Result<Sent, CorpusError> {
        let note = note.into();
        match self.try_send(label, from, to, value, data, note.clone())? {
            Ok(sent) => Ok(sent),
            Err(reason) => {
                Err(CorpusError::TxFailed { fixture: self.name.clone(), index: self.txs.len(), label, note, reason })
            }
        }
    }

    /// The fixture file's text (`vigil-fixture/1`, stable key order, two-space
    /// indentation, trailing newline).
    pub fn to_json(&self, description: &str) -> Result<String, CorpusError> {
        file::to_json(&self.name, description, &self.genesis, &self.txs)
    }
}

/// The gas limit a wallet would set for a transaction that used `used`:
/// exactly 21,000 for a plain transfer, else half as much again plus
/// 50,000, rounded up to 10,000, at most [`PROBE_GAS`].
fn gas_limit_for(used: u64) -> u64 {
    if used <= 21_000 {
        return 21_000;
    }
    let padded = used.saturating_add(used / 2).saturating_add(50_000);
    padded.div_ceil(10_000).saturating_mul(10_000).min(PROBE_GAS)
}

/// Signs `call` as an EIP-1559 transaction and returns its EIP-2718 bytes.
fn sign(from: &Actor, call: &Call) -> Result<Bytes, CorpusError> {
    let tx = TxEip1559 {
        chain_id: call.chain_id,
        nonce: call.nonce,
        gas_limit: call.gas_limit,
        max_fee_per_gas: 0,
        max_priority_fee_per_gas: 0,
        to: call.to,
        value: call.value,
        access_list: Default::default(),
        input: call.data.clone(),
    };
    let sig = from.signer().sign_hash_sync(&tx.signature_hash()).map_err(|e| CorpusError::Sign(e.to_string()))?;
    let envelope: TxEnvelope = tx.into_signed(sig).into();
    Ok(envelope.encoded_2718().into())
}

#[cfg(test)]
mod tests {
    use super::gas_limit_for;

    #[test]
    fn gas_limits() {
        assert_eq!(gas_limit_for(21_000), 21_000);
        assert_eq!(gas_limit_for(46_000), 120_000);
        assert_eq!(gas_limit_for(4_668_106), 7_060_000);
        assert_eq!(gas_limit_for(24_000_000), super::PROBE_GAS);
    }
}
