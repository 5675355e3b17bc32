//! A thread that verifies signatures in batches.
//!
//! Every certificate the gate, the devnet and each node checks costs a
//! pairing product (~1 ms on the reference machine). Checked together with
//! a random linear combination ([`batch_verify`]), `n` of them share one
//! final exponentiation and cost about 0.4 ms each. The [`BatchVerifier`]
//! takes checks from any task, and its thread verifies whatever is queued
//! when it gets to it: one check alone when the queue is quiet (no added
//! latency), a batch when checks arrive faster than they are verified.
//!
//! ```text
//! task --verify(check).await--> queue --thread: drain up to max_batch--> batch_verify
//!                                                  | batch failed: each check alone
//! task <--Ok(ValidSignature) | Err(InvalidSignature)-'
//! ```

use crate::bls::{batch_verify, PublicKey, Signature, SignatureSet};
use std::sync::{
    atomic::{AtomicU64, Ordering},
    Arc,
};
use tokio::sync::{mpsc, oneshot};

/// A signature to check: `signature` over `digest` (DST [`crate::DST_SIGN`])
/// by `public_key`, which may be an aggregate key. Vigil signs 32-byte
/// digests only (votes and certificates, DESIGN §4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureCheck {
    /// Signer, or the aggregate key of the signers.
    pub public_key: PublicKey,
    /// Signed digest.
    pub digest: [u8; 32],
    /// Signature, or the aggregate signature.
    pub signature: Signature,
}

impl SignatureCheck {
    /// Checks it here, on this thread (one pairing product).
    pub fn verify(self) -> Result<ValidSignature, InvalidSignature> {
        if self.signature.verify(&self.public_key, &self.digest) {
            Ok(ValidSignature(self))
        } else {
            Err(InvalidSignature)
        }
    }

    fn as_set(&self) -> SignatureSet<'_> {
        SignatureSet { public_key: &self.public_key, message: &self.digest, signature: &self.signature }
    }
}

/// A [`SignatureCheck`] that passed. Only this crate makes one, so holding
/// it is proof of the pairing check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidSignature(SignatureCheck);

impl ValidSignature {
    /// What was checked.
    pub fn check(&self) -> &SignatureCheck {
        &self.0
    }
}

/// A [`SignatureCheck`] that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the signature does not verify")]
pub struct InvalidSignature;

/// Counters of a [`BatchVerifier`], for metrics.
#[derive(Debug, Default)]
pub struct VerifierStats {
    checks: AtomicU64,
    batches: AtomicU64,
    failed_batches: AtomicU64,
}

impl VerifierStats {
    /// Checks verified.
    pub fn checks(&self) -> u64 {
        self.checks.load(Ordering::Relaxed)
    }

    /// Verification rounds (a round of one check counts).
    pub fn batches(&self) -> u64 {
        self.batches.load(Ordering::Relaxed)
    }

    /// Rounds of more than one check in which some check failed, so each
    /// was verified again alone.
    pub fn failed_batches(&self) -> u64 {
        self.failed_batches.load(Ordering::Relaxed)
    }
}

type Reply = oneshot::Sender<Result<ValidSignature, InvalidSignature>>;

/// Handle of a verification thread; cloning shares the thread, which ends
/// when the last handle is dropped.
#[derive(Debug, Clone)]
pub struct BatchVerifier {
    queue: mpsc::Sender<(SignatureCheck, Reply)>,
    stats: Arc<VerifierStats>,
}

impl BatchVerifier {
    /// Starts the thread (named `name`). It verifies at most `max_batch`
    /// checks at once; at most `queue` checks wait, and further callers
    /// wait for room. Should the system refuse a thread, every check is
    /// verified by its caller instead: slower, never wrong.
    pub fn start(name: &str, max_batch: usize, queue: usize) -> Self {
        let (tx, rx) = mpsc::channel(queue.max(1));
        let stats = Arc::new(VerifierStats::default());
        let thread_stats = stats.clone();
        let max_batch = max_batch.max(1);
        // On failure the receiver is dropped with the closure, and
        // `verify` falls back.
        let _ = std::thread::Builder::new().name(name.into()).spawn(move || run(rx, max_batch, &thread_stats));
        Self { queue: tx, stats }
    }

    /// Verifies `check`, batched with whatever else is queued.
    pub async fn verify(&self, check: SignatureCheck) -> Result<ValidSignature, InvalidSignature> {
        let (reply, answer) = oneshot::channel();
        let kept = check.clone();
        if self.queue.send((check, reply)).await.is_err() {
            // No thread (it could not be started, or blst panicked in it):
            // verify here rather than fail the check.
            return kept.verify();
        }
        match answer.await {
            Ok(result) => result,
            // The thread dropped the reply mid-batch (a panic): same.
            Err(_) => kept.verify(),
        }
    }

    /// Its counters.
    pub fn stats(&self) -> &VerifierStats {
        &self.stats
    }
}

/// The thread loop: wait for one check, take what else is queued, verify.
fn run(mut rx: mpsc::Receiver<(SignatureCheck, Reply)>, max_batch: usize, stats: &VerifierStats) {
    while let Some(first) = rx.blocking_recv() {
        let mut jobs = vec![first];
        while jobs.len() < max_batch {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        stats.batches.fetch_add(1, Ordering::Relaxed);
        stats.checks.fetch_add(jobs.len() as u64, Ordering::Relaxed);
        let all_valid = jobs.len() > 1 && {
            let sets: Vec<SignatureSet<'_>> = jobs.iter().map(|(c, _)| c.as_set()).collect();
            batch_verify(&sets)
        };
        if jobs.len() > 1 && !all_valid {
            stats.failed_batches.fetch_add(1, Ordering::Relaxed);
        }
        for (check, reply) in jobs {
            let result = if all_valid { Ok(ValidSignature(check)) } else { check.verify() };
            // The caller may have given up waiting: nothing to do.
            let _ = reply.send(result);
        }
    }
}
