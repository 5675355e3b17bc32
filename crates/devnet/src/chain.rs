//! The chain: the state in memory, the blocks and receipts on disk, and
//! block building.
//!
//! The whole state lives in an [`InMemoryState`] (a devnet's state fits in
//! memory); RocksDB holds it too, written per block in the same batch as the
//! block, its transactions, its receipts and the new head, so a restart
//! loads exactly the state of the last committed block.

use std::collections::{BTreeSet, HashMap, HashSet};

use alloy_consensus::{
    proofs::{calculate_receipt_root, calculate_transaction_root},
    Eip658Value, Header, Receipt, ReceiptEnvelope, ReceiptWithBloom, TxEnvelope, TxType, EMPTY_OMMER_ROOT_HASH,
};
use alloy_eips::{eip1559::BaseFeeParams, eip7685::EMPTY_REQUESTS_HASH};
use alloy_primitives::{keccak256, Address, Bloom, Bytes, Log, B256, U256};
use alloy_trie::{root::storage_root_unhashed, TrieAccount, EMPTY_ROOT_HASH};
use serde::{Deserialize, Serialize};
use vigil_fixture::Genesis;
use vigil_sim::{revm::bytecode::Bytecode, BlockSpec, InMemoryState, StateView};
use vigil_store::{Batch, Store, StoreError};
use vigil_types::tx::Transaction;

use crate::store::{cf, decode_json, encode_json, Keys};

/// Why the chain could not be opened or advanced.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The data directory holds another chain.
    #[error("the data directory holds a chain with genesis {stored}, the genesis file gives {given}: use another --data directory or the original genesis")]
    GenesisMismatch {
        /// Genesis hash on disk.
        stored: B256,
        /// Genesis hash of the file.
        given: B256,
    },
    /// The genesis cannot be executed (unsupported fork, bad code).
    #[error("genesis: {0}")]
    Genesis(String),
}

/// A block as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredBlock {
    /// Hash of the header.
    pub hash: B256,
    /// The header.
    pub header: Header,
    /// Its transactions' hashes, in order.
    pub transactions: Vec<B256>,
}

/// An included transaction as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredTx {
    /// EIP-2718 bytes.
    pub raw: Bytes,
    /// Block it is in.
    pub block_number: u64,
    /// Position in the block.
    pub index: u64,
}

/// A receipt as stored (with what the RPC form needs beyond consensus).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredReceipt {
    /// Transaction type byte.
    pub tx_type: u8,
    /// Status 1 (success) or 0.
    pub success: bool,
    /// Gas charged to this transaction.
    pub gas_used: u64,
    /// Gas used in the block up to and including it.
    pub cumulative_gas_used: u64,
    /// Price per gas paid.
    pub effective_gas_price: u128,
    /// Sender.
    pub from: Address,
    /// Recipient (`None` for a creation).
    pub to: Option<Address>,
    /// Contract created.
    pub contract_address: Option<Address>,
    /// Logs, in order.
    pub logs: Vec<Log>,
    /// Index in the block of its first log.
    pub first_log_index: u64,
}

impl StoredReceipt {
    /// The typed consensus receipt (for the receipts root).
    pub fn envelope(&self) -> ReceiptEnvelope<Log> {
        self.envelope_with(self.logs.clone())
    }

    /// The typed receipt carrying `logs` (the RPC form carries logs with
    /// their block and position).
    pub fn envelope_with<L>(&self, logs: Vec<L>) -> ReceiptEnvelope<L>
    where
        L: AsRef<Log>,
    {
        let receipt =
            Receipt { status: Eip658Value::Eip658(self.success), cumulative_gas_used: self.cumulative_gas_used, logs };
        let r = ReceiptWithBloom::new(receipt, self.bloom());
        match TxType::try_from(self.tx_type).unwrap_or(TxType::Legacy) {
            TxType::Legacy => ReceiptEnvelope::Legacy(r),
            TxType::Eip2930 => ReceiptEnvelope::Eip2930(r),
            TxType::Eip1559 => ReceiptEnvelope::Eip1559(r),
            TxType::Eip4844 => ReceiptEnvelope::Eip4844(r),
            TxType::Eip7702 => ReceiptEnvelope::Eip7702(r),
        }
    }

    /// The receipt's logs bloom.
    pub fn bloom(&self) -> Bloom {
        let mut bloom = Bloom::ZERO;
        for log in &self.logs {
            bloom.accrue_log(log);
        }
        bloom
    }
}

/// A block's state changes (`vigil_getBlockStateDiff`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StateDiff {
    /// Block number.
    pub number: u64,
    /// Accounts whose storage was wiped before `storage` applies.
    pub cleared: Vec<Address>,
    /// New account info.
    pub accounts: Vec<AccountDiff>,
    /// New slot values.
    pub storage: Vec<SlotDiff>,
}

/// One account's new info.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AccountDiff {
    /// Address.
    pub address: Address,
    /// The account no longer exists.
    pub deleted: bool,
    /// Nonce.
    pub nonce: u64,
    /// Balance.
    pub balance: U256,
    /// Code hash.
    pub code_hash: B256,
    /// Runtime code, for contracts created in the block.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<Bytes>,
}

/// One slot's new value.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SlotDiff {
    /// Contract.
    pub address: Address,
    /// Slot.
    pub slot: U256,
    /// Value (zero when cleared).
    pub value: U256,
}

/// A transaction the block builder could not include, and why.
#[derive(Debug, Clone)]
pub struct Dropped {
    /// Its hash.
    pub hash: B256,
    /// The reason (revm's validation error).
    pub reason: String,
}

/// What building a block did.
#[derive(Debug, Clone)]
pub struct Built {
    /// The block.
    pub block: StoredBlock,
    /// Its receipts, in transaction order.
    pub receipts: Vec<(B256, StoredReceipt)>,
    /// Transactions found invalid on the state (dropped from the pool).
    pub dropped: Vec<Dropped>,
}

/// Chain parameters that do not change.
#[derive(Debug, Clone)]
pub struct ChainParams {
    /// EIP-155 chain id.
    pub chain_id: u64,
    /// The genesis.
    pub genesis: Genesis,
}

/// The chain: state, head, store.
#[derive(Debug)]
pub struct Chain {
    params: ChainParams,
    store: std::sync::Arc<Store>,
    state: InMemoryState,
    head: StoredBlock,
    /// Storage roots of accounts whose storage did not change since they
    /// were computed.
    storage_roots: HashMap<Address, B256>,
}

impl Chain {
    /// Opens the chain in `store`: loads the last committed block and its
    /// state, or writes the genesis block on first start.
    pub fn open(store: std::sync::Arc<Store>, genesis: Genesis) -> Result<Self, ChainError> {
        let params = ChainParams { chain_id: genesis.chain_id, genesis };
        let genesis_state =
            InMemoryState::from_genesis(&params.genesis).map_err(|e| ChainError::Genesis(e.to_string()))?;
        BlockSpec::genesis(&params.genesis).spec_id().map_err(|e| ChainError::Genesis(e.to_string()))?;
        let mut chain = Self {
            params,
            store,
            state: genesis_state,
            head: StoredBlock { hash: B256::ZERO, header: Header::default(), transactions: vec![] },
            storage_roots: HashMap::new(),
        };
        let genesis_header = chain.genesis_header();
        let genesis_hash = genesis_header.hash_slow();
        match chain.store.get(cf::META, Keys::HEAD)? {
            None => {
                let block = StoredBlock { hash: genesis_hash, header: genesis_header, transactions: vec![] };
                let mut batch = Batch::new();
                let all: Vec<Address> = chain.state.iter().map(|(a, _)| a).collect();
                for address in all {
                    chain.write_account(&mut batch, address, None)?;
                }
                write_block(&mut batch, &block, &[], &[])?;
                chain.store.write(batch)?;
                chain.state.set_block_hash(0, genesis_hash);
                chain.head = block;
            }
            Some(head) => {
                let stored_genesis = chain.block(0)?.map(|b| b.hash).unwrap_or_default();
                if stored_genesis != genesis_hash {
                    return Err(ChainError::GenesisMismatch { stored: stored_genesis, given: genesis_hash });
                }
                let number = Keys::decode_u64(&head).ok_or_else(|| corrupt(cf::META, "head is not 8 bytes"))?;
                chain.head = chain.block(number)?.ok_or_else(|| corrupt(cf::BLOCKS, "head block missing"))?;
                chain.state = load_state(&chain.store)?;
                for n in number.saturating_sub(vigil_sim::BLOCK_HASH_WINDOW)..=number {
                    if let Some(b) = chain.block(n)? {
                        chain.state.set_block_hash(n, b.hash);
                    }
                }
            }
        }
        Ok(chain)
    }

    fn genesis_header(&mut self) -> Header {
        let state_root = self.state_root();
        let spec = BlockSpec::genesis(&self.params.genesis);
        prague_header(B256::ZERO, &spec, 0, [state_root, EMPTY_ROOT_HASH, EMPTY_ROOT_HASH], Bloom::ZERO)
    }

    /// Chain id.
    pub fn chain_id(&self) -> u64 {
        self.params.chain_id
    }

    /// The current state.
    pub fn state(&self) -> &InMemoryState {
        &self.state
    }

    /// The last committed block.
    pub fn head(&self) -> &StoredBlock {
        &self.head
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The environment of the next block, at `timestamp` (raised to the
    /// head's timestamp + 1 if not after it).
    pub fn next_block(&self, timestamp: u64) -> BlockSpec {
        let h = &self.head.header;
        let base_fee = self.next_base_fee();
        BlockSpec {
            chain_id: self.params.chain_id,
            fork: self.params.genesis.fork,
            number: h.number + 1,
            timestamp: timestamp.max(h.timestamp + 1),
            gas_limit: h.gas_limit,
            base_fee,
            coinbase: self.params.genesis.block.coinbase,
            prevrandao: B256::ZERO,
        }
    }

    /// EIP-1559 base fee of the next block.
    pub fn next_base_fee(&self) -> u64 {
        let h = &self.head.header;
        h.next_block_base_fee(BaseFeeParams::ethereum()).unwrap_or(self.params.genesis.block.base_fee)
    }

    /// Block by number.
    pub fn block(&self, number: u64) -> Result<Option<StoredBlock>, ChainError> {
        Ok(match self.store.get(cf::BLOCKS, &number.to_be_bytes())? {
            Some(v) => Some(decode_json(cf::BLOCKS, &v)?),
            None => None,
        })
    }

    /// Executes `candidates` in order (skipping what does not fit in the
    /// gas limit or is invalid on the state), seals the block at
    /// `timestamp`, and commits it: state, block, transactions, receipts and
    /// head in one synced batch, plus whatever `extra` the caller adds (the
    /// pool's removals).
    pub fn build_block(
        &mut self,
        candidates: &[Transaction],
        timestamp: u64,
        extra: impl FnOnce(&[B256], &[Dropped], &mut Batch),
    ) -> Result<Built, ChainError> {
        let spec = self.next_block(timestamp);
        // Execute on a copy: a store failure must leave the in-memory chain
        // at the committed head.
        let mut state = self.state.clone();
        let mut included: Vec<&Transaction> = Vec::new();
        let mut receipts: Vec<(B256, StoredReceipt)> = Vec::new();
        let mut dropped = Vec::new();
        let mut touched: BTreeSet<Address> = BTreeSet::new();
        let mut touched_slots: BTreeSet<(Address, U256)> = BTreeSet::new();
        let mut recreated: BTreeSet<Address> = BTreeSet::new();
        let mut cumulative = 0u64;
        let mut log_index = 0u64;
        for tx in candidates {
            let gas_limit = tx_gas_limit(tx);
            if cumulative.saturating_add(gas_limit) > spec.gas_limit {
                continue;
            }
            let out = match vigil_sim::execute(&state, &spec, tx) {
                Ok(out) => out,
                Err(e) => {
                    dropped.push(Dropped { hash: tx.hash(), reason: e.to_string() });
                    continue;
                }
            };
            for (address, account) in &out.changes {
                if !account.is_touched() {
                    continue;
                }
                touched.insert(*address);
                if account.is_selfdestructed() || account.is_created() {
                    recreated.insert(*address);
                }
                for slot in account.changed_storage_slots().map(|(k, _)| *k) {
                    touched_slots.insert((*address, slot));
                }
            }
            state.commit(&out.changes);
            cumulative += out.result.gas_used();
            let created = match &out.result {
                vigil_sim::ExecResult::Success { created, .. } => *created,
                _ => None,
            };
            let receipt = StoredReceipt {
                tx_type: tx.tx_type(),
                success: out.result.is_success(),
                gas_used: out.result.gas_used(),
                cumulative_gas_used: cumulative,
                effective_gas_price: effective_gas_price(tx.envelope(), spec.base_fee),
                from: tx.sender(),
                to: tx_to(tx.envelope()),
                contract_address: created,
                first_log_index: log_index,
                logs: out.logs,
            };
            log_index += receipt.logs.len() as u64;
            receipts.push((tx.hash(), receipt));
            included.push(tx);
        }
        for address in &touched {
            self.storage_roots.remove(address);
        }
        let previous = std::mem::replace(&mut self.state, state);
        let state_root = self.state_root();

        let envelopes: Vec<TxEnvelope> = included.iter().map(|t| t.envelope().clone()).collect();
        let consensus_receipts: Vec<_> = receipts.iter().map(|(_, r)| r.envelope()).collect();
        let mut logs_bloom = Bloom::ZERO;
        for (_, r) in &receipts {
            for log in &r.logs {
                logs_bloom.accrue_log(log);
            }
        }
        let roots = [state_root, calculate_transaction_root(&envelopes), calculate_receipt_root(&consensus_receipts)];
        let header = prague_header(self.head.hash, &spec, cumulative, roots, logs_bloom);
        let block =
            StoredBlock { hash: header.hash_slow(), header, transactions: included.iter().map(|t| t.hash()).collect() };

        let result = (|| -> Result<Batch, ChainError> {
            let mut batch = Batch::new();
            for address in &recreated {
                self.delete_stored_storage(&mut batch, *address)?;
            }
            for address in &touched {
                self.write_account(&mut batch, *address, Some(&previous))?;
            }
            for (address, slot) in &touched_slots {
                let key = Keys::slot(*address, *slot);
                let value = self.state.storage(*address, *slot).unwrap_or_default();
                if value.is_zero() || self.state.get(*address).is_none() {
                    batch.delete(cf::STORAGE, key);
                } else {
                    batch.put(cf::STORAGE, key, value.to_be_bytes::<32>().to_vec());
                }
            }
            let diff = self.state_diff(block.header.number, &touched, &touched_slots, &recreated);
            batch.put(cf::DIFFS, block.header.number.to_be_bytes().to_vec(), encode_json(&diff));
            let raws: Vec<&Transaction> = included.clone();
            write_block(&mut batch, &block, &raws, &receipts)?;
            extra(&block.transactions, &dropped, &mut batch);
            Ok(batch)
        })();
        let written = result.and_then(|batch| self.store.write(batch).map_err(ChainError::from));
        if let Err(e) = written {
            self.state = previous;
            self.storage_roots.clear();
            return Err(e);
        }
        self.state.set_block_hash(block.header.number, block.hash);
        self.head = block.clone();
        Ok(Built { block, receipts, dropped })
    }

    /// What the block changed, as a follower applies it: every touched
    /// account's new info (or its deletion), the code of new contracts,
    /// every written slot's new value; `cleared` accounts lost all storage
    /// first (re-created or self-destructed).
    fn state_diff(
        &self,
        number: u64,
        touched: &BTreeSet<Address>,
        slots: &BTreeSet<(Address, U256)>,
        cleared: &BTreeSet<Address>,
    ) -> StateDiff {
        let accounts = touched
            .iter()
            .map(|a| match self.state.get(*a) {
                None => AccountDiff { address: *a, deleted: true, ..AccountDiff::default() },
                Some(acct) => AccountDiff {
                    address: *a,
                    deleted: false,
                    nonce: acct.nonce,
                    balance: acct.balance,
                    code_hash: acct.code_hash,
                    code: cleared.contains(a).then(|| self.state.code(*a)).filter(|c| !c.is_empty()),
                },
            })
            .collect();
        let storage = slots
            .iter()
            .map(|(a, s)| SlotDiff { address: *a, slot: *s, value: self.state.storage(*a, *s).unwrap_or_default() })
            .collect();
        StateDiff { number, cleared: cleared.iter().copied().collect(), accounts, storage }
    }

    /// Writes the account's current info (or its deletion) and, for new
    /// code, the code.
    fn write_account(
        &self,
        batch: &mut Batch,
        address: Address,
        previous: Option<&InMemoryState>,
    ) -> Result<(), ChainError> {
        match self.state.get(address) {
            None => {
                batch.delete(cf::ACCOUNTS, address.to_vec());
                if previous.and_then(|p| p.get(address)).is_some() {
                    self.delete_stored_storage(batch, address)?;
                }
            }
            Some(acct) => {
                let mut v = Vec::with_capacity(72);
                v.extend_from_slice(&acct.nonce.to_be_bytes());
                v.extend_from_slice(&acct.balance.to_be_bytes::<32>());
                v.extend_from_slice(acct.code_hash.as_slice());
                batch.put(cf::ACCOUNTS, address.to_vec(), v);
                if acct.code_hash != vigil_sim::revm::primitives::KECCAK_EMPTY {
                    let code =
                        self.state.code_by_hash(acct.code_hash).map_err(|e| corrupt(cf::CODE, &e.to_string()))?;
                    batch.put(cf::CODE, acct.code_hash.to_vec(), code.original_bytes().to_vec());
                }
                if previous.is_none() {
                    for (slot, value) in acct.storage() {
                        batch.put(cf::STORAGE, Keys::slot(address, slot), value.to_be_bytes::<32>().to_vec());
                    }
                }
            }
        }
        Ok(())
    }

    fn delete_stored_storage(&self, batch: &mut Batch, address: Address) -> Result<(), ChainError> {
        loop {
            let rows = self.store.scan_prefix(cf::STORAGE, address.as_slice(), None, 10_000)?;
            if rows.is_empty() {
                return Ok(());
            }
            let n = rows.len();
            for (k, _) in rows {
                batch.delete(cf::STORAGE, k);
            }
            if n < 10_000 {
                return Ok(());
            }
        }
    }

    /// The Merkle-Patricia state root of the current state (storage roots
    /// cached for accounts whose storage did not change).
    fn state_root(&mut self) -> B256 {
        let mut accounts: Vec<(Address, TrieAccount)> = Vec::with_capacity(self.state.account_count());
        for (address, acct) in self.state.iter() {
            let storage_root = *self.storage_roots.entry(address).or_insert_with(|| {
                if acct.storage_len() == 0 {
                    EMPTY_ROOT_HASH
                } else {
                    storage_root_unhashed(acct.storage().map(|(k, v)| (B256::from(k), v)))
                }
            });
            accounts.push((
                address,
                TrieAccount { nonce: acct.nonce, balance: acct.balance, storage_root, code_hash: acct.code_hash },
            ));
        }
        alloy_trie::root::state_root_unhashed(accounts)
    }
}

/// The header of a block built on `parent_hash` in `spec`, with its
/// `[state, transactions, receipts]` roots: prague fields set the way a
/// rollup without blobs, withdrawals or requests sets them.
fn prague_header(parent_hash: B256, spec: &BlockSpec, gas_used: u64, roots: [B256; 3], logs_bloom: Bloom) -> Header {
    let [state_root, transactions_root, receipts_root] = roots;
    Header {
        parent_hash,
        ommers_hash: EMPTY_OMMER_ROOT_HASH,
        beneficiary: spec.coinbase,
        state_root,
        transactions_root,
        receipts_root,
        logs_bloom,
        difficulty: U256::ZERO,
        number: spec.number,
        gas_limit: spec.gas_limit,
        gas_used,
        timestamp: spec.timestamp,
        extra_data: Bytes::from_static(b"vigil-devnet"),
        mix_hash: spec.prevrandao,
        nonce: Default::default(),
        base_fee_per_gas: Some(spec.base_fee),
        withdrawals_root: Some(EMPTY_ROOT_HASH),
        blob_gas_used: Some(0),
        excess_blob_gas: Some(0),
        parent_beacon_block_root: Some(B256::ZERO),
        requests_hash: Some(EMPTY_REQUESTS_HASH),
        block_access_list_hash: None,
        slot_number: None,
    }
}

/// Puts a block, its transactions and receipts, its hash index and the head
/// pointer in `batch`.
fn write_block(
    batch: &mut Batch,
    block: &StoredBlock,
    txs: &[&Transaction],
    receipts: &[(B256, StoredReceipt)],
) -> Result<(), ChainError> {
    let number = block.header.number;
    batch.put(cf::BLOCKS, number.to_be_bytes().to_vec(), encode_json(block));
    batch.put(cf::BLOCK_BY_HASH, block.hash.to_vec(), number.to_be_bytes().to_vec());
    for (index, tx) in txs.iter().enumerate() {
        let stored = StoredTx { raw: tx.raw().clone(), block_number: number, index: index as u64 };
        batch.put(cf::TXS, tx.hash().to_vec(), encode_json(&stored));
    }
    for (hash, receipt) in receipts {
        batch.put(cf::RECEIPTS, hash.to_vec(), encode_json(receipt));
    }
    batch.put(cf::META, Keys::HEAD.to_vec(), number.to_be_bytes().to_vec());
    Ok(())
}

/// Loads the committed state.
fn load_state(store: &Store) -> Result<InMemoryState, ChainError> {
    let mut accounts: Vec<(Address, u64, U256, B256)> = Vec::new();
    store.for_each(cf::ACCOUNTS, |k, v| {
        if k.len() != 20 || v.len() != 72 {
            return Err(StoreError::Corrupt { cf: cf::ACCOUNTS, reason: "account record of the wrong size".into() });
        }
        let nonce = u64::from_be_bytes(v[..8].try_into().unwrap_or_default());
        let balance = U256::from_be_slice(&v[8..40]);
        let code_hash = B256::from_slice(&v[40..72]);
        accounts.push((Address::from_slice(k), nonce, balance, code_hash));
        Ok(())
    })?;
    let mut storage: HashMap<Address, Vec<(U256, U256)>> = HashMap::new();
    store.for_each(cf::STORAGE, |k, v| {
        if k.len() != 52 || v.len() != 32 {
            return Err(StoreError::Corrupt { cf: cf::STORAGE, reason: "storage record of the wrong size".into() });
        }
        storage
            .entry(Address::from_slice(&k[..20]))
            .or_default()
            .push((U256::from_be_slice(&k[20..]), U256::from_be_slice(v)));
        Ok(())
    })?;
    let mut codes: HashSet<B256> = HashSet::new();
    let mut state = InMemoryState::new();
    for (address, nonce, balance, code_hash) in accounts {
        let code = if code_hash == vigil_sim::revm::primitives::KECCAK_EMPTY {
            Bytes::new()
        } else {
            let raw = store.get(cf::CODE, code_hash.as_slice())?.ok_or_else(|| corrupt(cf::CODE, "code missing"))?;
            if codes.insert(code_hash) && keccak256(&raw) != code_hash {
                return Err(corrupt(cf::CODE, "code does not hash to its key"));
            }
            Bytecode::new_raw(raw.into()).original_bytes()
        };
        state
            .insert_account(address, balance, nonce, code, storage.remove(&address).unwrap_or_default())
            .map_err(|e| corrupt(cf::ACCOUNTS, &e.to_string()))?;
    }
    Ok(state)
}

fn corrupt(cf: &'static str, reason: &str) -> ChainError {
    ChainError::Store(StoreError::Corrupt { cf, reason: reason.to_string() })
}

/// Gas limit of any transaction type.
pub fn tx_gas_limit(tx: &Transaction) -> u64 {
    use alloy_consensus::Transaction as _;
    tx.envelope().gas_limit()
}

/// Recipient (`None` for creations).
pub fn tx_to(env: &TxEnvelope) -> Option<Address> {
    use alloy_consensus::Transaction as _;
    env.to()
}

/// Price per gas the sender pays at `base_fee`.
pub fn effective_gas_price(env: &TxEnvelope, base_fee: u64) -> u128 {
    use alloy_consensus::Transaction as _;
    env.effective_gas_price(Some(base_fee))
}
