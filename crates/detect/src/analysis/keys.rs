//! Which keys a storage slot belongs to, read off the `KECCAK256`s the
//! transaction computed.
//!
//! Solidity puts the entry of key `k` in a mapping at position `p` at
//! `keccak256(k . p)` (Vyper: `keccak256(p . k)`), a struct member some words
//! after it, and element `i` of a dynamic array at `keccak256(p) + i`. Every
//! access to such a slot is preceded, in the same transaction, by the hash
//! that computes it, so the trace's hashes name the keys of every slot the
//! transaction touched, at any mapping position and nesting depth, for any
//! layout the compiler chose. No guess over positions, no per-contract
//! layout.

use alloy_primitives::{Address, B256, U256};
use std::collections::{BTreeMap, HashSet};
use vigil_sim::trace::Trace;

/// Farthest a struct member is from its entry's hash.
const MAX_FIELD: u64 = 64;
/// Largest dynamic-array index followed.
const MAX_INDEX: u64 = 1 << 32;
/// Deepest mapping nesting followed.
const MAX_DEPTH: usize = 4;
/// Below this a word is a position (a declared variable's slot), not a hash.
const SMALL: u64 = 1 << 32;

/// What a hash was computed from.
#[derive(Debug, Clone, Copy)]
enum Preimage {
    /// Two words: a mapping entry (or a Merkle node).
    Pair(B256, B256),
    /// One word: a dynamic array's base (or a hash of a hash).
    Word(B256),
    /// Any other input, kept by the trace: `keccak_data[start..start + len]`.
    Bytes { start: u32, len: u32 },
    /// An input too long to keep.
    Unknown,
}

/// The hashes of one transaction, by output.
#[derive(Debug, Default)]
pub struct SlotKeys {
    by_output: BTreeMap<U256, Preimage>,
}

impl SlotKeys {
    /// Indexes the hashes of `trace`.
    pub fn new(trace: &Trace) -> Self {
        let mut by_output = BTreeMap::new();
        for k in &trace.keccaks {
            let pre = match trace.keccak_input(k) {
                Some(input) if input.len() == 64 => {
                    Preimage::Pair(B256::from_slice(&input[..32]), B256::from_slice(&input[32..]))
                }
                Some(input) if input.len() == 32 => Preimage::Word(B256::from_slice(input)),
                Some(_) => Preimage::Bytes { start: k.start, len: k.len },
                None => Preimage::Unknown,
            };
            by_output.entry(U256::from_be_bytes(k.output.0)).or_insert(pre);
        }
        Self { by_output }
    }

    /// Whether `w` is the output of a hash the transaction computed.
    pub fn is_hash(&self, w: U256) -> bool {
        self.by_output.contains_key(&w)
    }

    /// The mapping keys that lead to `slot`, outermost mapping first: empty
    /// for a declared variable (or a slot whose hash the transaction did not
    /// compute).
    pub fn keys(&self, slot: U256) -> Vec<B256> {
        let mut keys = Vec::new();
        let mut cur = slot;
        for _ in 0..MAX_DEPTH {
            let Some((base, pre)) = self.by_output.range(..=cur).next_back() else { break };
            let off = cur - *base;
            match *pre {
                Preimage::Pair(a, b) if off <= U256::from(MAX_FIELD) => {
                    let derived = |w: B256| {
                        let w = U256::from_be_bytes(w.0);
                        w < U256::from(SMALL) || self.is_hash(w)
                    };
                    // keccak(key . position) (Solidity), or keccak(position . key) (Vyper).
                    let (key, position) = if derived(b) || !derived(a) { (a, b) } else { (b, a) };
                    keys.push(key);
                    cur = U256::from_be_bytes(position.0);
                }
                Preimage::Word(w) if off < U256::from(MAX_INDEX) => cur = U256::from_be_bytes(w.0),
                _ => break,
            }
        }
        keys.reverse();
        keys
    }

    /// Whether the key `key` names one of `who`: the address itself, or a
    /// hash the transaction computed from data that holds the address (a
    /// commitment to it: a withdrawal, an order, a scheduled call).
    pub fn key_binds(&self, trace: &Trace, key: B256, who: &HashSet<Address>) -> bool {
        if let Some(a) = word_address(key) {
            if who.contains(&a) {
                return true;
            }
        }
        let Some(pre) = self.by_output.get(&U256::from_be_bytes(key.0)) else { return false };
        match *pre {
            Preimage::Pair(a, b) => [a, b].iter().any(|w| word_address(*w).is_some_and(|x| who.contains(&x))),
            Preimage::Word(_) | Preimage::Unknown => false,
            Preimage::Bytes { start, len } => {
                let data = trace.keccak_data.get(start as usize..(start as usize).saturating_add(len as usize));
                data.is_some_and(|d| holds_address(d, who))
            }
        }
    }

    /// Whether `slot` is an entry kept for one of `who` (see
    /// [`SlotKeys::key_binds`]) at any nesting depth.
    pub fn bound_to(&self, trace: &Trace, slot: U256, who: &HashSet<Address>) -> bool {
        self.keys(slot).into_iter().any(|k| self.key_binds(trace, k, who))
    }

    /// Whether `slot` is the entry of a one-level mapping keyed by `holder`
    /// itself (a balance, a nonce, a membership flag).
    pub fn is_entry_of(&self, slot: U256, holder: Address) -> bool {
        let keys = self.keys(slot);
        keys.len() == 1 && word_address(keys[0]) == Some(holder)
    }
}

/// The address a word holds right-aligned (upper 12 bytes zero), if any.
fn word_address(w: B256) -> Option<Address> {
    (w[..12].iter().all(|b| *b == 0) && w[12..].iter().any(|b| *b != 0)).then(|| Address::from_slice(&w[12..]))
}

/// Whether `data` holds one of `who`, ABI-encoded (a right-aligned word) or
/// packed (20 bytes anywhere).
fn holds_address(data: &[u8], who: &HashSet<Address>) -> bool {
    if data.len() < 20 {
        return false;
    }
    (0..=data.len() - 20).any(|i| who.contains(&Address::from_slice(&data[i..i + 20])))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::keccak256;
    use vigil_sim::trace::KeccakRecord;

    fn hashes(inputs: &[Vec<u8>]) -> Trace {
        let mut t = Trace::default();
        for input in inputs {
            let start = u32::try_from(t.keccak_data.len()).expect("small");
            t.keccak_data.extend_from_slice(input);
            t.keccaks.push(KeccakRecord {
                frame: 0,
                start,
                len: u32::try_from(input.len()).expect("small"),
                output: keccak256(input),
            });
        }
        t
    }

    fn word(n: u64) -> [u8; 32] {
        U256::from(n).to_be_bytes()
    }

    #[test]
    fn nested_mapping_keys_in_either_order_and_struct_members() {
        let owner = Address::repeat_byte(0x11);
        let spender = Address::repeat_byte(0x22);
        // allowance[owner][spender] at position 1 (Solidity order).
        let inner = keccak256([owner.into_word().0, word(1)].concat());
        let entry = keccak256([spender.into_word().0, inner.0].concat());
        // balances[owner] at position 4, Vyper order.
        let vyper = keccak256([word(4), owner.into_word().0].concat());
        let t = hashes(&[
            [owner.into_word().0, word(1)].concat(),
            [spender.into_word().0, inner.0].concat(),
            [word(4), owner.into_word().0].concat(),
        ]);
        let keys = SlotKeys::new(&t);
        assert_eq!(keys.keys(U256::from_be_bytes(entry.0)), vec![owner.into_word(), spender.into_word()]);
        assert_eq!(keys.keys(U256::from_be_bytes(vyper.0)), vec![owner.into_word()]);
        // The third member of the struct kept for owner at position 1.
        assert_eq!(keys.keys(U256::from_be_bytes(inner.0) + U256::from(2)), vec![owner.into_word()]);
        assert!(keys.is_entry_of(U256::from_be_bytes(vyper.0), owner));
        assert!(!keys.is_entry_of(U256::from_be_bytes(entry.0), owner), "two levels deep");
        assert!(keys.keys(U256::from(3)).is_empty(), "a declared variable");
        let who: HashSet<Address> = [spender].into();
        assert!(keys.bound_to(&t, U256::from_be_bytes(entry.0), &who));
        assert!(!keys.bound_to(&t, U256::from_be_bytes(vyper.0), &who));
    }

    #[test]
    fn a_key_that_commits_to_an_address_binds_it() {
        let recipient = Address::repeat_byte(0x33);
        // finalized[keccak(abi.encodePacked(nonce, recipient, amount))] at position 7.
        let packed = [word(9).as_slice(), recipient.as_slice(), word(5).as_slice()].concat();
        let id = keccak256(&packed);
        let slot = keccak256([id.0, word(7)].concat());
        let t = hashes(&[packed, [id.0, word(7)].concat()]);
        let keys = SlotKeys::new(&t);
        let who: HashSet<Address> = [recipient].into();
        assert!(keys.bound_to(&t, U256::from_be_bytes(slot.0), &who));
        let other: HashSet<Address> = [Address::repeat_byte(0x44)].into();
        assert!(!keys.bound_to(&t, U256::from_be_bytes(slot.0), &other));
    }

    #[test]
    fn array_elements_lead_back_to_their_mapping_entry() {
        let holder = Address::repeat_byte(0x55);
        // mapping(address => uint[]) at position 2: element 5 of holder's array.
        let entry = keccak256([holder.into_word().0, word(2)].concat());
        let base = keccak256(entry.0);
        let t = hashes(&[[holder.into_word().0, word(2)].concat(), entry.0.to_vec()]);
        let keys = SlotKeys::new(&t);
        assert_eq!(keys.keys(U256::from_be_bytes(base.0) + U256::from(5)), vec![holder.into_word()]);
    }
}
