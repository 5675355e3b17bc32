//! What a simulation reads: the [`StateView`] trait, the in-memory state
//! that replays fixtures (and that a devnet follower will keep), and the
//! adapter that hands a view to revm.

use std::collections::BTreeMap;

use alloy_primitives::{
    map::{AddressMap, B256Map, HashMap},
    Address, Bytes, B256, U256,
};
use revm::{
    bytecode::Bytecode,
    database_interface::DatabaseRef,
    primitives::KECCAK_EMPTY,
    state::{AccountInfo, EvmState},
};
use vigil_fixture::Genesis;

use crate::StateError;

/// The state changes of one transaction, as revm reports them: every
/// account the transaction loaded, with its new info, storage slots and
/// status flags (touched, created, self-destructed).
pub type StateChanges = EvmState;

/// How many recent block hashes [`InMemoryState`] keeps (what `BLOCKHASH`
/// can reach).
pub const BLOCK_HASH_WINDOW: u64 = 256;

/// Read access to the chain state a transaction is simulated on.
///
/// Methods take `&self`, so one view can serve many simulations at once;
/// a view that caches (an RPC-backed one) uses interior mutability. Every
/// read on the hot path should be answered locally: a view that has to go
/// to the network per slot makes simulation as slow as the network.
///
/// Views that fetch code together with the account (as an RPC view does
/// with `eth_getCode`) return it in [`AccountInfo::code`]; revm then calls
/// [`StateView::code_by_hash`] only for hashes the view never returned code
/// for.
///
/// Implemented here by [`InMemoryState`]; a chain-following view (devnet
/// blocks applied with [`InMemoryState::commit`] or its own store) and an
/// RPC-backed cached view implement it elsewhere.
pub trait StateView {
    /// The account at `address`, `None` if it does not exist.
    fn account(&self, address: Address) -> Result<Option<AccountInfo>, StateError>;

    /// Code by its keccak256 hash.
    fn code_by_hash(&self, code_hash: B256) -> Result<Bytecode, StateError>;

    /// A storage slot (zero if never written).
    fn storage(&self, address: Address, slot: U256) -> Result<U256, StateError>;

    /// Hash of block `number`. revm asks only for the 256 blocks before the
    /// one being simulated.
    fn block_hash(&self, number: u64) -> Result<B256, StateError>;
}

impl<T: StateView + ?Sized> StateView for &T {
    fn account(&self, address: Address) -> Result<Option<AccountInfo>, StateError> {
        (**self).account(address)
    }
    fn code_by_hash(&self, code_hash: B256) -> Result<Bytecode, StateError> {
        (**self).code_by_hash(code_hash)
    }
    fn storage(&self, address: Address, slot: U256) -> Result<U256, StateError> {
        (**self).storage(address, slot)
    }
    fn block_hash(&self, number: u64) -> Result<B256, StateError> {
        (**self).block_hash(number)
    }
}

impl<T: StateView + ?Sized> StateView for std::sync::Arc<T> {
    fn account(&self, address: Address) -> Result<Option<AccountInfo>, StateError> {
        (**self).account(address)
    }
    fn code_by_hash(&self, code_hash: B256) -> Result<Bytecode, StateError> {
        (**self).code_by_hash(code_hash)
    }
    fn storage(&self, address: Address, slot: U256) -> Result<U256, StateError> {
        (**self).storage(address, slot)
    }
    fn block_hash(&self, number: u64) -> Result<B256, StateError> {
        (**self).block_hash(number)
    }
}

/// Presents a [`StateView`] to revm as a read-only database (for callers
/// that drive revm themselves, such as the corpus generator's dry runs).
#[derive(Debug)]
pub struct ViewDb<'a, S: ?Sized>(pub &'a S);

impl<S: StateView + ?Sized> DatabaseRef for ViewDb<'_, S> {
    type Error = StateError;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, StateError> {
        self.0.account(address)
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode, StateError> {
        if code_hash == KECCAK_EMPTY || code_hash == B256::ZERO {
            return Ok(Bytecode::default());
        }
        self.0.code_by_hash(code_hash)
    }

    fn storage_ref(&self, address: Address, index: U256) -> Result<U256, StateError> {
        self.0.storage(address, index)
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256, StateError> {
        self.0.block_hash(number)
    }
}

/// An account as [`InMemoryState`] stores it.
#[derive(Debug, Clone)]
struct StoredAccount {
    balance: U256,
    nonce: u64,
    code_hash: B256,
    /// Non-zero slots only.
    storage: HashMap<U256, U256>,
}

/// The whole state in memory: accounts, code, storage and recent block
/// hashes. Loaded from a genesis `alloc`, advanced with [`commit`].
///
/// [`commit`]: InMemoryState::commit
#[derive(Debug, Clone, Default)]
pub struct InMemoryState {
    accounts: AddressMap<StoredAccount>,
    code: B256Map<Bytecode>,
    block_hashes: BTreeMap<u64, B256>,
}

impl InMemoryState {
    /// An empty state.
    pub fn new() -> Self {
        Self::default()
    }

    /// The state of a genesis `alloc`. Block hashes are not set: the caller
    /// knows the chain's rule for them (see [`InMemoryState::set_block_hash`]).
    pub fn from_genesis(genesis: &Genesis) -> Result<Self, StateError> {
        let mut state = Self::new();
        for (address, account) in &genesis.alloc {
            state.insert_account(
                *address,
                account.balance,
                account.nonce,
                account.code.clone(),
                account.storage.iter().map(|(k, v)| (*k, *v)),
            )?;
        }
        Ok(state)
    }

    /// Creates or replaces an account with its code and storage.
    pub fn insert_account(
        &mut self,
        address: Address,
        balance: U256,
        nonce: u64,
        code: Bytes,
        storage: impl IntoIterator<Item = (U256, U256)>,
    ) -> Result<(), StateError> {
        let code_hash = if code.is_empty() {
            KECCAK_EMPTY
        } else {
            let bytecode = Bytecode::new_raw_checked(code)
                .map_err(|e| StateError::InvalidCode { address, reason: e.to_string() })?;
            let hash = bytecode.hash_slow();
            self.code.insert(hash, bytecode);
            hash
        };
        let storage = storage.into_iter().filter(|(_, v)| !v.is_zero()).collect();
        self.accounts.insert(address, StoredAccount { balance, nonce, code_hash, storage });
        Ok(())
    }

    /// Records the hash of block `number`, forgetting hashes more than
    /// [`BLOCK_HASH_WINDOW`] blocks older than it.
    pub fn set_block_hash(&mut self, number: u64, hash: B256) {
        self.block_hashes.insert(number, hash);
        let oldest = number.saturating_sub(BLOCK_HASH_WINDOW);
        self.block_hashes = self.block_hashes.split_off(&oldest);
    }

    /// Applies one transaction's changes, as [`simulate`](crate::simulate)
    /// or [`execute`](crate::execute) returned them.
    ///
    /// Untouched accounts are skipped; self-destructed ones and touched ones
    /// left empty (EIP-161) are deleted; a newly created account starts from
    /// empty storage.
    pub fn commit(&mut self, changes: &StateChanges) {
        for (address, account) in changes {
            if !account.is_touched() {
                continue;
            }
            if account.is_selfdestructed() || account.is_empty() {
                self.accounts.remove(address);
                continue;
            }
            let info = &account.info;
            if let Some(code) = &info.code {
                if !code.is_empty() {
                    self.code.entry(info.code_hash).or_insert_with(|| code.clone());
                }
            }
            let stored = self.accounts.entry(*address).or_insert_with(|| StoredAccount {
                balance: U256::ZERO,
                nonce: 0,
                code_hash: KECCAK_EMPTY,
                storage: HashMap::default(),
            });
            if account.is_created() {
                stored.storage.clear();
            }
            stored.balance = info.balance;
            stored.nonce = info.nonce;
            stored.code_hash = info.code_hash;
            for (slot, value) in account.changed_storage_slots() {
                if value.present_value.is_zero() {
                    stored.storage.remove(slot);
                } else {
                    stored.storage.insert(*slot, value.present_value);
                }
            }
        }
    }

    /// Balance of `address` (zero if it does not exist).
    pub fn balance(&self, address: Address) -> U256 {
        self.accounts.get(&address).map_or(U256::ZERO, |a| a.balance)
    }

    /// Nonce of `address` (zero if it does not exist).
    pub fn nonce(&self, address: Address) -> u64 {
        self.accounts.get(&address).map_or(0, |a| a.nonce)
    }

    /// Runtime code of `address` (empty if none).
    pub fn code(&self, address: Address) -> Bytes {
        self.accounts
            .get(&address)
            .and_then(|a| self.code.get(&a.code_hash))
            .map(|c| c.original_bytes())
            .unwrap_or_default()
    }

    /// Number of existing accounts.
    pub fn account_count(&self) -> usize {
        self.accounts.len()
    }

    /// One account, read-only (`None` if it does not exist).
    pub fn get(&self, address: Address) -> Option<AccountRef<'_>> {
        self.accounts.get(&address).map(AccountRef::new)
    }

    /// Every existing account, in no particular order (for state roots and
    /// persistence).
    pub fn iter(&self) -> impl Iterator<Item = (Address, AccountRef<'_>)> + '_ {
        self.accounts.iter().map(|(a, s)| (*a, AccountRef::new(s)))
    }
}

/// One account of an [`InMemoryState`], read-only.
#[derive(Debug, Clone, Copy)]
pub struct AccountRef<'a> {
    /// Balance in wei.
    pub balance: U256,
    /// Nonce.
    pub nonce: u64,
    /// keccak256 of the runtime code ([`KECCAK_EMPTY`] for none).
    pub code_hash: B256,
    storage: &'a HashMap<U256, U256>,
}

impl<'a> AccountRef<'a> {
    fn new(stored: &'a StoredAccount) -> Self {
        Self { balance: stored.balance, nonce: stored.nonce, code_hash: stored.code_hash, storage: &stored.storage }
    }

    /// Non-zero storage slots, in no particular order.
    pub fn storage(&self) -> impl Iterator<Item = (U256, U256)> + 'a {
        self.storage.iter().map(|(k, v)| (*k, *v))
    }

    /// Number of non-zero slots.
    pub fn storage_len(&self) -> usize {
        self.storage.len()
    }
}

impl StateView for InMemoryState {
    fn account(&self, address: Address) -> Result<Option<AccountInfo>, StateError> {
        let Some(a) = self.accounts.get(&address) else {
            return Ok(None);
        };
        let code = if a.code_hash == KECCAK_EMPTY {
            Bytecode::default()
        } else {
            self.code.get(&a.code_hash).cloned().ok_or(StateError::UnknownCode(a.code_hash))?
        };
        Ok(Some(AccountInfo::new(a.balance, a.nonce, a.code_hash, code)))
    }

    fn code_by_hash(&self, code_hash: B256) -> Result<Bytecode, StateError> {
        self.code.get(&code_hash).cloned().ok_or(StateError::UnknownCode(code_hash))
    }

    fn storage(&self, address: Address, slot: U256) -> Result<U256, StateError> {
        Ok(self.accounts.get(&address).and_then(|a| a.storage.get(&slot).copied()).unwrap_or(U256::ZERO))
    }

    fn block_hash(&self, number: u64) -> Result<B256, StateError> {
        self.block_hashes.get(&number).copied().ok_or(StateError::UnknownBlockHash(number))
    }
}
