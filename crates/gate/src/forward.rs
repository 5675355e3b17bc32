//! The forwarder: on every poll (or when woken) it applies the deadlines and
//! sends cleared transactions upstream in nonce order. Once per poll
//! interval it reads the upstream blocks it has not read yet (one request
//! per block, whatever the load) and marks the forwarded transactions they
//! hold as included; transactions forwarded long ago and still not seen (a
//! gate restarted, blocks missed) get their receipts asked one by one.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use alloy_primitives::B256;
use serde_json::{json, Value};
use tokio::sync::watch;
use tracing::{debug, error, warn};

use crate::{
    error::GateError,
    ledger::ForwardJob,
    now_ms,
    server::App,
    upstream::{parse_quantity, ErrorObject},
};

/// Longest wait between two tries of a transaction upstream did not take.
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// Receipts asked per round at most.
const RECEIPTS_PER_ROUND: usize = 256;
/// Transactions sent upstream in one JSON-RPC batch at most.
const FORWARD_BATCH: usize = 256;
/// Blocks read per round at most.
const BLOCKS_PER_ROUND: u64 = 64;
/// How often transactions not found in the blocks read get their receipts
/// asked one by one.
const RECEIPT_SWEEP: Duration = Duration::from_secs(5);

/// Where the forwarder stands in the upstream chain.
#[derive(Debug)]
struct Inclusions {
    /// The next upstream block to read.
    next_block: Option<u64>,
    last_read: Option<Instant>,
    last_sweep: Instant,
}

/// What upstream did with a transaction.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// It has it.
    Accepted,
    /// It refused it for good.
    Refused(String),
    /// Ask again later.
    Retry(String),
}

/// Upstream already has the transaction: as good as accepted.
fn already_known(e: &ErrorObject) -> bool {
    let m = e.message.to_ascii_lowercase();
    m.contains("already known") || m.contains("known transaction") || m.contains("already imported")
}

/// A refusal that may clear by itself (pool full, rate limit, node busy).
fn transient(e: &ErrorObject) -> bool {
    let m = e.message.to_ascii_lowercase();
    e.code == i64::from(vigil_types::rpc::LIMIT_EXCEEDED)
        || e.code == i64::from(vigil_types::rpc::INTERNAL_ERROR)
        || ["txpool is full", "rate limit", "timeout", "try again", "too many"].iter().any(|s| m.contains(s))
}

/// Runs until `stop` turns true or the ledger stops (then it asks the whole
/// gate to stop).
pub async fn run(app: Arc<App>, poll: Duration, mut stop: watch::Receiver<bool>, stop_all: Arc<watch::Sender<bool>>) {
    let mut backoff: HashMap<B256, (u32, Instant)> = HashMap::new();
    // The first round sweeps: what was forwarded before a restart.
    let mut inclusions = Inclusions { next_block: None, last_read: None, last_sweep: Instant::now() - RECEIPT_SWEEP };
    loop {
        if *stop.borrow() {
            break;
        }
        if let Err(e) = round(&app, &mut backoff, &mut inclusions, poll).await {
            error!(target: "vigil_gate", error = %e, "forwarder stops; shutting the gate down");
            let _ = stop_all.send(true);
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = app.wake.notified() => {}
            _ = stop.changed() => {}
        }
    }
}

async fn round(
    app: &App,
    backoff: &mut HashMap<B256, (u32, Instant)>,
    inclusions: &mut Inclusions,
    poll: Duration,
) -> Result<(), GateError> {
    let report = app.ledger.call(|l| l.tick(now_ms())).await??;
    for hash in &report.quarantined {
        app.stop_awaiting(hash, true);
        app.metrics.quarantined.inc();
        warn!(target: "vigil_gate", tx = %hash, "quarantined: no certificate by the deadline");
    }
    for hash in &report.admitted_unchecked {
        app.stop_awaiting(hash, true);
        app.metrics.fail_open_admissions.inc();
        warn!(target: "vigil_gate", tx = %hash, "FAIL-OPEN: admitting transaction without a certificate");
    }
    forward_cleared(app, backoff).await?;
    if inclusions.last_read.is_none_or(|t| t.elapsed() >= poll) {
        inclusions.last_read = Some(Instant::now());
        read_blocks(app, inclusions).await?;
        if inclusions.last_sweep.elapsed() >= RECEIPT_SWEEP {
            inclusions.last_sweep = Instant::now();
            poll_receipts(app).await?;
        }
    }
    let held = app.ledger.call(|l| l.held_count()).await?;
    app.metrics.held.set(i64::try_from(held).unwrap_or(i64::MAX));
    Ok(())
}

/// Forwards until nothing more can go now: forwarding nonce n may clear
/// nonce n + 1 of the same sender. Each round sends what is cleared in
/// JSON-RPC batches of at most [`FORWARD_BATCH`] (one transaction per
/// sender per round, so a batch never orders two of one sender) and
/// records the accepted ones in one write.
async fn forward_cleared(app: &App, backoff: &mut HashMap<B256, (u32, Instant)>) -> Result<(), GateError> {
    loop {
        let now = Instant::now();
        let jobs: Vec<ForwardJob> = app
            .ledger
            .call(|l| l.forwardable())
            .await?
            .into_iter()
            .filter(|j| backoff.get(&j.hash).is_none_or(|(_, at)| *at <= now))
            .collect();
        if jobs.is_empty() {
            return Ok(());
        }
        let mut progress = false;
        for chunk in jobs.chunks(FORWARD_BATCH) {
            let outcomes = send_all(app, chunk).await;
            let mut accepted = Vec::new();
            for (job, outcome) in chunk.iter().zip(outcomes) {
                match outcome {
                    Outcome::Accepted => {
                        backoff.remove(&job.hash);
                        accepted.push(job.hash);
                    }
                    Outcome::Refused(reason) => {
                        backoff.remove(&job.hash);
                        warn!(target: "vigil_gate", tx = %job.hash, %reason, "upstream refused the transaction");
                        let hash = job.hash;
                        if app.ledger.call(move |l| l.mark_rejected(&hash, reason)).await?? {
                            app.metrics.rejected_upstream.inc();
                        }
                        progress = true;
                    }
                    Outcome::Retry(reason) => {
                        let (tries, _) = backoff.get(&job.hash).copied().unwrap_or((0, now));
                        let wait = Duration::from_millis(100u64 << tries.min(7)).min(MAX_BACKOFF);
                        backoff.insert(job.hash, (tries + 1, Instant::now() + wait));
                        warn!(target: "vigil_gate", tx = %job.hash, %reason, tries = tries + 1, retry_in_ms = wait.as_millis() as u64, "forwarding failed, will retry");
                    }
                }
            }
            if accepted.is_empty() {
                continue;
            }
            progress = true;
            for (hash, waited_ms) in app.ledger.call(move |l| l.mark_forwarded_all(&accepted, now_ms())).await?? {
                app.metrics.forwarded.inc();
                app.metrics.forward_latency.observe(waited_ms as f64 / 1000.0);
                debug!(target: "vigil_gate", tx = %hash, waited_ms, "forwarded upstream");
            }
        }
        if !progress {
            return Ok(());
        }
    }
}

/// Sends `jobs` upstream in one batch request: what upstream did with each.
async fn send_all(app: &App, jobs: &[ForwardJob]) -> Vec<Outcome> {
    let params = jobs.iter().map(|j| json!([format!("0x{}", hex::encode(&j.raw))])).collect();
    let answers = match app.upstream.call_many("eth_sendRawTransaction", params).await {
        Ok(answers) => answers,
        Err(e) => return jobs.iter().map(|_| Outcome::Retry(e.to_string())).collect(),
    };
    let mut outcomes = Vec::with_capacity(jobs.len());
    for (job, answer) in jobs.iter().zip(answers) {
        outcomes.push(match answer {
            Ok(_) => Outcome::Accepted,
            Err(e) if already_known(&e) => Outcome::Accepted,
            Err(e) if transient(&e) => Outcome::Retry(e.message),
            Err(e) => {
                // A gate killed between forwarding and recording it sends
                // again after restart and hears "nonce too low": ask whether
                // upstream has the transaction before calling it refused.
                match app.upstream.call("eth_getTransactionByHash", json!([job.hash])).await {
                    Ok(Ok(tx)) if !tx.is_null() => Outcome::Accepted,
                    Ok(_) => Outcome::Refused(e.message),
                    Err(unreachable) => Outcome::Retry(unreachable.to_string()),
                }
            }
        });
    }
    outcomes
}

/// Reads the upstream blocks not read yet and marks the forwarded
/// transactions in them included. Upstream errors wait for the next round.
async fn read_blocks(app: &App, inclusions: &mut Inclusions) -> Result<(), GateError> {
    let Ok(Ok(head)) = app.upstream.call("eth_blockNumber", json!([])).await else { return Ok(()) };
    let Some(head) = parse_quantity(&head) else { return Ok(()) };
    // From the head on at first: older inclusions are the sweep's.
    let from = inclusions.next_block.unwrap_or(head);
    let to = head.min(from.saturating_add(BLOCKS_PER_ROUND - 1));
    let mut seen = Vec::new();
    let mut next = from;
    while next <= to {
        let Ok(Ok(block)) = app.upstream.call("eth_getBlockByNumber", json!([format!("0x{next:x}"), false])).await
        else {
            break;
        };
        if block.is_null() {
            break;
        }
        for tx in block["transactions"].as_array().into_iter().flatten() {
            if let Some(hash) = tx.as_str().and_then(|h| h.parse::<B256>().ok()) {
                seen.push((hash, next));
            }
        }
        next += 1;
    }
    inclusions.next_block = Some(next);
    if seen.is_empty() {
        return Ok(());
    }
    let blocks: HashMap<B256, u64> = seen.iter().copied().collect();
    for hash in app.ledger.call(move |l| l.mark_included_all(&seen)).await?? {
        debug!(target: "vigil_gate", tx = %hash, block = blocks.get(&hash).copied().unwrap_or_default(), "included");
    }
    Ok(())
}

/// Asks the receipt of every forwarded transaction not yet seen included
/// (at most [`RECEIPTS_PER_ROUND`]).
async fn poll_receipts(app: &App) -> Result<(), GateError> {
    let mut hashes = app.ledger.call(|l| l.awaiting_receipt()).await?;
    hashes.truncate(RECEIPTS_PER_ROUND);
    for hash in hashes {
        let receipt = match app.upstream.call("eth_getTransactionReceipt", json!([hash])).await {
            Ok(Ok(receipt)) => receipt,
            Ok(Err(_)) | Err(_) => continue,
        };
        let Some(block) = receipt.get("blockNumber").and_then(parse_quantity) else { continue };
        if app.ledger.call(move |l| l.mark_included(&hash, block)).await?? {
            debug!(target: "vigil_gate", tx = %hash, block, "included");
        }
    }
    Ok(())
}

/// `eth_chainId` of the upstream node, retried with backoff while it is
/// down (logged), until `stop`.
pub async fn upstream_chain_id(
    app_upstream: &crate::upstream::Upstream,
    stop: &mut watch::Receiver<bool>,
) -> Result<u64, GateError> {
    let mut wait = Duration::from_millis(250);
    loop {
        let problem = match app_upstream.call("eth_chainId", Value::Array(Vec::new())).await {
            Ok(Ok(v)) => match parse_quantity(&v) {
                Some(id) => return Ok(id),
                None => format!("eth_chainId answered {v}, not a quantity"),
            },
            Ok(Err(e)) => format!("eth_chainId failed: {}", e.message),
            Err(e) => e.to_string(),
        };
        warn!(target: "vigil_gate", upstream = app_upstream.url(), %problem, retry_in_ms = wait.as_millis() as u64, "upstream not ready");
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return Err(GateError::ShutdownWhileStarting),
        }
        wait = (wait * 2).min(MAX_BACKOFF);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_upstream_errors() {
        let e = |code, m: &str| ErrorObject { code, message: m.into(), data: None };
        assert!(already_known(&e(-32000, "already known")));
        assert!(already_known(&e(-32000, "Known transaction: 0xabc")));
        assert!(!already_known(&e(-32000, "nonce too low")));
        assert!(transient(&e(-32000, "txpool is full")));
        assert!(transient(&e(-32005, "limit exceeded")));
        assert!(!transient(&e(-32000, "Nonce too low. Expected nonce to be 2 but got 0.")));
        assert!(!transient(&e(-32003, "Sender doesn't have enough funds to send tx")));
    }
}
