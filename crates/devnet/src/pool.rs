//! The transaction pool: transactions acknowledged and not yet included,
//! with the certificates that admit them.
//!
//! Per sender, transactions are kept by nonce; across senders, the block
//! builder takes the best-paying executable transaction first (the sender's
//! lowest nonce whose predecessors are all taken), as Ethereum pools do.
//! In certified mode a transaction is executable only with its
//! certificate, so a sender's later transactions wait for an earlier one's
//! certificate: inclusion is in nonce order.

use std::collections::{BTreeMap, BinaryHeap, HashMap};

use alloy_consensus::Transaction as _;
use alloy_primitives::{Address, B256};
use vigil_sim::plausible::Implausible;
use vigil_types::{tx::Transaction, Attestation};

/// Pool limits: memory stays bounded whatever clients send.
#[derive(Debug, Clone, Copy)]
pub struct PoolLimits {
    /// Transactions in the pool.
    pub max_txs: usize,
    /// Transactions per sender.
    pub max_per_sender: usize,
    /// How far above the sender's next nonce a transaction may be.
    pub max_nonce_gap: u64,
    /// Certificates kept for transactions not seen yet.
    pub max_orphan_certificates: usize,
}

impl Default for PoolLimits {
    fn default() -> Self {
        Self { max_txs: 50_000, max_per_sender: 256, max_nonce_gap: 256, max_orphan_certificates: 50_000 }
    }
}

/// Why the pool refuses a transaction. Messages follow the wording wallets
/// know from Ethereum nodes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    /// Nonce already used on chain, or further ahead than the pool keeps
    /// (the words every entry point uses, `vigil_sim::plausible`).
    #[error(transparent)]
    Nonce(Implausible),
    /// Same nonce as a pooled transaction, without a 10% higher fee.
    #[error("replacement transaction underpriced: a transaction with nonce {nonce} is pending; raise both fees by at least 10% to replace it")]
    ReplacementUnderpriced {
        /// The nonce.
        nonce: u64,
    },
    /// Pool full.
    #[error("txpool is full ({0} transactions): retry later")]
    Full(usize),
    /// Sender has too many pooled transactions.
    #[error("sender {sender} has {count} pending transactions, the limit")]
    SenderFull {
        /// Sender.
        sender: Address,
        /// Its count.
        count: usize,
    },
}

/// A pooled transaction.
#[derive(Debug, Clone)]
pub struct PoolEntry {
    /// The transaction.
    pub tx: Transaction,
    /// Its certificate, once one arrived (already verified).
    pub certificate: Option<Attestation>,
    /// When it was acknowledged (ms since the Unix epoch).
    pub received_ms: u64,
}

/// What [`Pool::insert`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inserted {
    /// New transaction.
    New,
    /// Already pooled (same bytes): nothing changed.
    Known,
    /// Replaced the pooled transaction with this hash (same sender and nonce).
    Replaced(B256),
}

/// The pool.
#[derive(Debug, Default)]
pub struct Pool {
    limits: PoolLimits,
    txs: HashMap<B256, PoolEntry>,
    by_sender: HashMap<Address, BTreeMap<u64, B256>>,
    /// Verified certificates of transactions not in the pool yet.
    orphans: HashMap<B256, Attestation>,
    orphan_order: std::collections::VecDeque<B256>,
    /// Transactions an operator released (admitted without a certificate),
    /// pooled or not yet arrived.
    released: std::collections::HashSet<B256>,
}

impl Pool {
    /// An empty pool.
    pub fn new(limits: PoolLimits) -> Self {
        Self { limits, ..Self::default() }
    }

    /// Number of pooled transactions.
    pub fn len(&self) -> usize {
        self.txs.len()
    }

    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.txs.is_empty()
    }

    /// A pooled transaction.
    pub fn get(&self, hash: &B256) -> Option<&PoolEntry> {
        self.txs.get(hash)
    }

    /// The certificate kept for `hash` (attached, or waiting for its
    /// transaction).
    pub fn certificate(&self, hash: &B256) -> Option<&Attestation> {
        self.txs.get(hash).and_then(|e| e.certificate.as_ref()).or_else(|| self.orphans.get(hash))
    }

    /// Every pooled transaction.
    pub fn entries(&self) -> impl Iterator<Item = &PoolEntry> {
        self.txs.values()
    }

    /// Checks and adds `tx`. `next_nonce` is the sender's nonce on chain.
    /// A certificate that arrived earlier is attached.
    pub fn insert(&mut self, tx: Transaction, next_nonce: u64, now_ms: u64) -> Result<Inserted, PoolError> {
        let hash = tx.hash();
        if self.txs.contains_key(&hash) {
            return Ok(Inserted::Known);
        }
        let (sender, nonce) = (tx.sender(), tx.nonce());
        if nonce < next_nonce {
            return Err(PoolError::Nonce(Implausible::NonceTooLow { next: next_nonce, got: nonce }));
        }
        if nonce - next_nonce > self.limits.max_nonce_gap {
            let max_gap = self.limits.max_nonce_gap;
            return Err(PoolError::Nonce(Implausible::NonceTooHigh { next: next_nonce, got: nonce, max_gap }));
        }
        let existing = self.by_sender.get(&sender).and_then(|m| m.get(&nonce)).copied();
        let replaced = match existing {
            Some(old_hash) => {
                let old = &self.txs[&old_hash].tx;
                if !bumps(old.envelope(), tx.envelope()) {
                    return Err(PoolError::ReplacementUnderpriced { nonce });
                }
                Some(old_hash)
            }
            None => {
                if self.txs.len() >= self.limits.max_txs {
                    return Err(PoolError::Full(self.txs.len()));
                }
                let count = self.by_sender.get(&sender).map_or(0, BTreeMap::len);
                if count >= self.limits.max_per_sender {
                    return Err(PoolError::SenderFull { sender, count });
                }
                None
            }
        };
        if let Some(old) = replaced {
            self.txs.remove(&old);
        }
        let certificate = self.orphans.remove(&hash);
        self.by_sender.entry(sender).or_default().insert(nonce, hash);
        self.txs.insert(hash, PoolEntry { tx, certificate, received_ms: now_ms });
        Ok(replaced.map_or(Inserted::New, Inserted::Replaced))
    }

    /// Attaches a verified certificate. Returns `true` if its transaction
    /// is pooled; otherwise keeps it for when the transaction arrives
    /// (oldest orphans forgotten beyond the limit).
    pub fn attach(&mut self, certificate: impl Into<Attestation>) -> bool {
        let certificate = certificate.into();
        let hash = certificate.tx_hash();
        if let Some(entry) = self.txs.get_mut(&hash) {
            entry.certificate = Some(certificate);
            return true;
        }
        if self.orphans.insert(hash, certificate).is_none() {
            self.orphan_order.push_back(hash);
        }
        while self.orphans.len() > self.limits.max_orphan_certificates {
            match self.orphan_order.pop_front() {
                Some(old) => {
                    self.orphans.remove(&old);
                }
                None => break,
            }
        }
        false
    }

    /// Admits `hash` by an operator's release (verified by the caller).
    /// Returns `true` if its transaction is pooled.
    pub fn release(&mut self, hash: B256) -> bool {
        self.released.insert(hash);
        self.txs.contains_key(&hash)
    }

    /// Whether `hash` is admitted: a certificate attached, or released.
    pub fn admitted(&self, hash: &B256) -> bool {
        self.released.contains(hash) || self.txs.get(hash).is_some_and(|e| e.certificate.is_some())
    }

    /// A certificate held for a transaction not pooled.
    pub fn orphan(&self, hash: &B256) -> Option<&Attestation> {
        self.orphans.get(hash)
    }

    /// Removes a transaction (included or dropped) and any certificate held
    /// for it.
    pub fn remove(&mut self, hash: &B256) -> Option<PoolEntry> {
        self.orphans.remove(hash);
        self.released.remove(hash);
        let entry = self.txs.remove(hash)?;
        let sender = entry.tx.sender();
        if let Some(m) = self.by_sender.get_mut(&sender) {
            m.remove(&entry.tx.nonce());
            if m.is_empty() {
                self.by_sender.remove(&sender);
            }
        }
        Some(entry)
    }

    /// Removes transactions whose nonce the chain has passed; returns their
    /// hashes.
    pub fn prune(&mut self, next_nonce: impl Fn(Address) -> u64) -> Vec<B256> {
        let mut stale = Vec::new();
        for (sender, by_nonce) in &self.by_sender {
            let next = next_nonce(*sender);
            stale.extend(by_nonce.range(..next).map(|(_, h)| *h));
        }
        for hash in &stale {
            self.remove(hash);
        }
        stale
    }

    /// The sender's next nonce counting pooled transactions that follow the
    /// chain's without a gap (`eth_getTransactionCount(…, "pending")`).
    pub fn pending_nonce(&self, sender: Address, next_nonce: u64) -> u64 {
        let mut next = next_nonce;
        if let Some(m) = self.by_sender.get(&sender) {
            for nonce in m.range(next_nonce..).map(|(n, _)| *n) {
                if nonce != next {
                    break;
                }
                next += 1;
            }
        }
        next
    }

    /// Transactions executable in the next block, best first: per sender in
    /// nonce order without gaps from `next_nonce`, each with a certificate
    /// when `need_certificate`, paying at least `base_fee`; across senders by
    /// the tip they pay at `base_fee` (ties: earliest received).
    pub fn candidates(
        &self,
        need_certificate: bool,
        base_fee: u64,
        next_nonce: impl Fn(Address) -> u64,
        max: usize,
    ) -> Vec<Transaction> {
        // Each sender's executable run.
        let mut runs: Vec<Vec<&PoolEntry>> = Vec::new();
        for (sender, by_nonce) in &self.by_sender {
            let first = next_nonce(*sender);
            let mut run = Vec::new();
            for ((nonce, hash), expect) in by_nonce.range(first..).zip(first..) {
                let entry = &self.txs[hash];
                let ok = *nonce == expect
                    && (!need_certificate || self.admitted(hash))
                    && entry.tx.envelope().max_fee_per_gas() >= u128::from(base_fee);
                if !ok {
                    break;
                }
                run.push(entry);
            }
            if !run.is_empty() {
                run.reverse();
                runs.push(run);
            }
        }
        #[derive(PartialEq, Eq, PartialOrd, Ord)]
        struct Head {
            tip: u128,
            earlier: std::cmp::Reverse<u64>,
            run: usize,
        }
        let head = |runs: &[Vec<&PoolEntry>], i: usize| -> Option<Head> {
            let e = runs[i].last()?;
            let tip = e.tx.envelope().effective_tip_per_gas(base_fee).unwrap_or(0);
            Some(Head { tip, earlier: std::cmp::Reverse(e.received_ms), run: i })
        };
        let mut heap: BinaryHeap<Head> = (0..runs.len()).filter_map(|i| head(&runs, i)).collect();
        let mut out = Vec::new();
        while let Some(Head { run, .. }) = heap.pop() {
            if out.len() >= max {
                break;
            }
            if let Some(e) = runs[run].pop() {
                out.push(e.tx.clone());
            }
            if let Some(h) = head(&runs, run) {
                heap.push(h);
            }
        }
        out
    }
}

/// Whether `new` pays at least 10% more than `old` in both fee fields.
fn bumps(old: &alloy_consensus::TxEnvelope, new: &alloy_consensus::TxEnvelope) -> bool {
    let bumped = |o: u128, n: u128| n >= o.saturating_add(o / 10).max(o.saturating_add(1));
    let old_tip = old.max_priority_fee_per_gas().unwrap_or(old.max_fee_per_gas());
    let new_tip = new.max_priority_fee_per_gas().unwrap_or(new.max_fee_per_gas());
    bumped(old.max_fee_per_gas(), new.max_fee_per_gas()) && bumped(old_tip, new_tip)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
    use alloy_eips::eip2718::Encodable2718;
    use alloy_primitives::{TxKind, U256};
    use alloy_signer::SignerSync;
    use alloy_signer_local::PrivateKeySigner;
    use vigil_types::{Certificate, SignerBitmap, VoteKind};

    fn signer(i: u8) -> PrivateKeySigner {
        PrivateKeySigner::from_bytes(&B256::repeat_byte(i)).unwrap()
    }

    fn tx(s: &PrivateKeySigner, nonce: u64, tip: u128) -> Transaction {
        let t = TxEip1559 {
            chain_id: 1,
            nonce,
            gas_limit: 21_000,
            max_fee_per_gas: 100 + tip,
            max_priority_fee_per_gas: tip,
            to: TxKind::Call(Address::repeat_byte(9)),
            value: U256::from(1),
            ..Default::default()
        };
        let sig = s.sign_hash_sync(&t.signature_hash()).unwrap();
        let env: TxEnvelope = t.into_signed(sig).into();
        Transaction::decode(&env.encoded_2718()).unwrap()
    }

    fn cert(hash: B256) -> Certificate {
        Certificate {
            chain_id: 1,
            epoch: 0,
            tx_hash: hash,
            kind: VoteKind::Clean,
            signers: SignerBitmap::empty(1),
            signature: vigil_types::SignatureBytes([0u8; 96]),
        }
    }

    #[test]
    fn nonce_order_and_certificates_gate_candidates() {
        let (a, b) = (signer(1), signer(2));
        let mut pool = Pool::new(PoolLimits::default());
        let a0 = tx(&a, 0, 1);
        let a1 = tx(&a, 1, 50);
        let b0 = tx(&b, 0, 10);
        for t in [&a1, &a0, &b0] {
            assert_eq!(pool.insert(t.clone(), 0, 0).unwrap(), Inserted::New);
        }
        let hashes = |v: Vec<Transaction>| v.iter().map(Transaction::hash).collect::<Vec<_>>();
        // Nothing certified: nothing to include.
        assert!(pool.candidates(true, 100, |_| 0, 100).is_empty());
        // a1 certified alone waits for a0.
        assert!(pool.attach(cert(a1.hash())));
        assert!(pool.candidates(true, 100, |_| 0, 100).is_empty());
        assert!(pool.attach(cert(a0.hash())));
        assert_eq!(hashes(pool.candidates(true, 100, |_| 0, 100)), [a0.hash(), a1.hash()]);
        // Open mode: b0 (tip 10) before a0 (tip 1), then a1.
        assert_eq!(hashes(pool.candidates(false, 100, |_| 0, 100)), [b0.hash(), a0.hash(), a1.hash()]);
        assert_eq!(pool.pending_nonce(a.address(), 0), 2);
        assert_eq!(pool.pending_nonce(b.address(), 0), 1);
        assert_eq!(pool.pending_nonce(b.address(), 5), 5);
    }

    #[test]
    fn certificate_before_transaction_is_kept() {
        let a = signer(1);
        let mut pool = Pool::new(PoolLimits::default());
        let t = tx(&a, 0, 1);
        assert!(!pool.attach(cert(t.hash())));
        pool.insert(t.clone(), 0, 0).unwrap();
        assert!(pool.get(&t.hash()).unwrap().certificate.is_some());
    }

    #[test]
    fn refusals() {
        let a = signer(1);
        let mut pool = Pool::new(PoolLimits { max_txs: 2, max_per_sender: 2, max_nonce_gap: 3, ..Default::default() });
        assert_eq!(
            pool.insert(tx(&a, 0, 1), 1, 0),
            Err(PoolError::Nonce(Implausible::NonceTooLow { next: 1, got: 0 }))
        );
        assert!(matches!(pool.insert(tx(&a, 9, 1), 1, 0), Err(PoolError::Nonce(Implausible::NonceTooHigh { .. }))));
        let first = tx(&a, 1, 10);
        pool.insert(first.clone(), 1, 0).unwrap();
        assert_eq!(pool.insert(first.clone(), 1, 0).unwrap(), Inserted::Known);
        // Signing is deterministic: the same fields give the same bytes.
        assert_eq!(pool.insert(tx(&a, 1, 10), 1, 0).unwrap(), Inserted::Known);
        assert_eq!(pool.insert(tx(&a, 1, 10 + 1), 1, 0), Err(PoolError::ReplacementUnderpriced { nonce: 1 }));
        let replacement = tx(&a, 1, 30);
        assert_eq!(pool.insert(replacement.clone(), 1, 0).unwrap(), Inserted::Replaced(first.hash()));
        assert!(pool.get(&first.hash()).is_none());
        pool.insert(tx(&a, 2, 1), 1, 0).unwrap();
        assert!(matches!(pool.insert(tx(&a, 3, 1), 1, 0), Err(PoolError::Full(2))));
        // The chain moved past nonce 1: pruned.
        assert_eq!(pool.prune(|_| 2), vec![replacement.hash()]);
        assert_eq!(pool.len(), 1);
    }

    #[test]
    fn underpaying_base_fee_waits() {
        let a = signer(1);
        let mut pool = Pool::new(PoolLimits::default());
        pool.insert(tx(&a, 0, 1), 0, 0).unwrap();
        assert_eq!(pool.candidates(false, 101, |_| 0, 10).len(), 1);
        assert!(pool.candidates(false, 102, |_| 0, 10).is_empty());
    }
}
