//! The JSON-RPC endpoint wallets talk to: the gate's own methods, and
//! everything else passed to upstream untouched.
//!
//! ```text
//! POST / ──parse──> single | batch ──per request──> local method ──> ledger
//!                                                └─> pass-through ──> upstream (bytes unchanged)
//! ```

use std::sync::Arc;

use alloy_primitives::{Address, B256};
use axum::{
    body::{Body, Bytes},
    extract::State,
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Router,
};
use serde_json::{json, Value};
use tokio::sync::Notify;
use tracing::{debug, error, info, warn};
use vigil_consensus::{
    batch_inclusions, limit::InflightLimit, Admission, AdmissionError, VerifiedAttestation, VerifiedCommittee,
    VerifiedInclusion, VerifiedRoots,
};
use vigil_crypto::{verify_release, BatchVerifier};
use vigil_types::{rpc, Attestation, BatchPush, OperatorRelease, Transaction};

use crate::{
    error::GateError,
    handle::LedgerHandle,
    ledger::{BatchItemOutcome, CertificateOutcome, Received, ReleaseRefusal, TxRecord, TxRefusal, TxStatus},
    metrics::Metrics,
    now_ms,
    relay::Relay,
    upstream::{parse_quantity, Upstream},
    verify::{prepare, reason_label},
};

/// A JSON-RPC error to answer with.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    /// Code from [`vigil_types::rpc`].
    pub code: i32,
    /// What went wrong, for a person.
    pub message: String,
}

impl RpcError {
    fn new(code: i32, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }

    fn params(message: impl Into<String>) -> Self {
        Self::new(rpc::INVALID_PARAMS, message)
    }

    fn internal(e: &GateError) -> Self {
        error!(target: "vigil_gate", error = %e, "internal error");
        Self::new(rpc::INTERNAL_ERROR, format!("gate internal error: {e}"))
    }
}

impl From<GateError> for RpcError {
    fn from(e: GateError) -> Self {
        Self::internal(&e)
    }
}

fn success(id: &Value, result: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "result": result })
}

fn failure(id: &Value, e: RpcError) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "error": { "code": e.code, "message": e.message } })
}

/// Limits on what one HTTP request may hold.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest body, in bytes.
    pub max_body_bytes: usize,
    /// Most requests in a batch.
    pub max_batch: usize,
}

/// What `vigil_gateInfo` reports besides the counts.
#[derive(Debug, Clone)]
pub struct Static {
    /// Chain admitted for.
    pub chain_id: u64,
    /// Quarantine delay.
    pub quarantine_after_ms: u64,
    /// Fail-open delay, `None` when fail-closed.
    pub fail_open_after_ms: Option<u64>,
}

/// Everything the request handlers share.
#[derive(Debug)]
pub struct App {
    /// The ledger's owner.
    pub ledger: LedgerHandle,
    /// Certificate checks: the committees of the current and the previous
    /// epoch. Replaced whole when the registry watcher brings a new epoch
    /// ([`App::set_committee`]); a check in progress keeps the one it took.
    pub admission: std::sync::RwLock<Arc<Admission>>,
    /// The node behind the gate.
    pub upstream: Upstream,
    /// Metrics.
    pub metrics: Metrics,
    /// Relay to inspectors.
    pub relay: Relay,
    /// The bound on transactions acknowledged and still waiting for a
    /// certificate: beyond it wallets hear busy.
    pub awaiting: std::sync::Mutex<InflightLimit>,
    /// Operator keys whose signed releases are accepted (none: no operator
    /// override).
    pub operator_keys: Vec<B256>,
    /// Wakes the forwarder when a transaction may have become forwardable.
    pub wake: Arc<Notify>,
    /// Request limits.
    pub limits: Limits,
    /// Fixed facts for `vigil_gateInfo`.
    pub info: Static,
    /// Certificate pairings, batched across requests on one thread.
    pub verifier: BatchVerifier,
    /// Batch certificates verified, by epoch and root: a batch's further
    /// inclusion proofs cost a path check each (DESIGN §4b).
    pub roots: Arc<std::sync::Mutex<VerifiedRoots>>,
}

impl App {
    fn lock_awaiting(&self) -> std::sync::MutexGuard<'_, InflightLimit> {
        self.awaiting.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Takes `hash` among the transactions waiting for a certificate, or
    /// refuses it as busy when the inspectors are not keeping up.
    fn await_certificate(&self, hash: B256) -> Result<(), RpcError> {
        let mut awaiting = self.lock_awaiting();
        let taken = awaiting.try_admit(hash, std::time::Instant::now());
        self.publish_awaiting(&awaiting);
        taken.map_err(|full| {
            self.metrics.busy.inc();
            RpcError::new(
                rpc::LIMIT_EXCEEDED,
                format!(
                    "busy: {} transactions wait for a certificate (bound {}); the inspectors are not keeping up, retry later",
                    full.inflight, full.limit
                ),
            )
        })
    }

    /// `hash` no longer waits for a certificate: decided now (certified or
    /// quarantined, which moves the bound by how long it took), or not
    /// taken after all (`decided: false`).
    pub(crate) fn stop_awaiting(&self, hash: &B256, decided: bool) {
        let mut awaiting = self.lock_awaiting();
        if decided {
            awaiting.decided(hash, std::time::Instant::now());
        } else {
            awaiting.release(hash);
        }
        self.publish_awaiting(&awaiting);
    }

    fn publish_awaiting(&self, awaiting: &InflightLimit) {
        self.metrics.awaiting.set(i64::try_from(awaiting.inflight()).unwrap_or(i64::MAX));
        self.metrics.awaiting_limit.set(i64::try_from(awaiting.limit()).unwrap_or(i64::MAX));
    }

    /// The admission check in force now.
    pub fn admission(&self) -> Arc<Admission> {
        self.admission.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Moves the gate to a newer epoch's committee: certificates of that
    /// epoch and the one before it are accepted from now on, older ones
    /// are refused and their committees forgotten (DESIGN §3). Returns
    /// whether the gate moved; a committee of another chain is refused, one
    /// not newer than the current epoch changes nothing.
    pub fn set_committee(&self, committee: Arc<VerifiedCommittee>) -> Result<bool, GateError> {
        let mut guard = self.admission.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if committee.chain_id() != guard.chain_id() {
            return Err(GateError::InvalidCommittee(format!(
                "the committee of epoch {} serves chain {}, the gate admits for chain {}",
                committee.epoch(),
                committee.chain_id(),
                guard.chain_id()
            )));
        }
        let (epoch, previous) = (committee.epoch(), guard.current_epoch());
        if epoch <= previous {
            return Ok(false);
        }
        let mut next = Admission::clone(&guard);
        next.insert_verified(committee);
        next.set_current_epoch(epoch);
        *guard = Arc::new(next);
        drop(guard);
        self.metrics.epoch.set(i64::try_from(epoch).unwrap_or(i64::MAX));
        info!(target: "vigil_gate", epoch, previous, "new epoch: certificates of epochs {}..={epoch} accepted", epoch.saturating_sub(1));
        Ok(true)
    }
}

/// The RPC router: `POST /` for JSON-RPC.
pub fn router(app: Arc<App>) -> Router {
    Router::new().route("/", post(rpc_endpoint)).with_state(app)
}

/// The metrics router: `GET /metrics`.
pub fn metrics_router(metrics: Metrics) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let metrics = metrics.clone();
            async move { ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], metrics.render()) }
        }),
    )
}

/// The request body, or `None` when it is over `max` bytes or broken off.
/// An oversized body is read on (and dropped) up to `DRAIN_FACTOR` times
/// the limit before the answer goes out: closing a connection with the
/// client still sending resets it, and the client would lose the answer
/// that explains why.
async fn read_body(body: Body, max: usize) -> Option<Bytes> {
    use futures::StreamExt;
    const DRAIN_FACTOR: usize = 4;
    let mut stream = body.into_data_stream();
    let mut buf = Vec::new();
    let mut seen = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.ok()?;
        seen = seen.saturating_add(chunk.len());
        if seen > max {
            if seen > max.saturating_mul(DRAIN_FACTOR) {
                return None;
            }
            continue;
        }
        buf.extend_from_slice(&chunk);
    }
    (seen <= max).then(|| Bytes::from(buf))
}

fn json_response(status: StatusCode, body: Bytes) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn value_response(v: &Value) -> Response {
    json_response(StatusCode::OK, Bytes::from(v.to_string()))
}

/// One request's answer: built here, upstream's bytes as they came, or
/// none (a notification).
enum Reply {
    Json(Value),
    Upstream(Bytes),
    None,
}

impl Reply {
    fn into_value(self) -> Option<Value> {
        match self {
            Reply::Json(v) => Some(v),
            // Checked to be JSON when it arrived.
            Reply::Upstream(b) => Some(serde_json::from_slice(&b).unwrap_or(Value::Null)),
            Reply::None => None,
        }
    }
}

async fn rpc_endpoint(State(app): State<Arc<App>>, body: Body) -> Response {
    let max = app.limits.max_body_bytes;
    let Some(bytes) = read_body(body, max).await else {
        let e = RpcError::new(rpc::LIMIT_EXCEEDED, format!("request body is over the {max} byte limit"));
        return value_response(&failure(&Value::Null, e));
    };
    let parsed: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => {
            let e = RpcError::new(rpc::PARSE_ERROR, format!("request is not valid JSON: {e}"));
            return value_response(&failure(&Value::Null, e));
        }
    };
    match parsed {
        Value::Array(requests) => {
            if requests.is_empty() {
                return value_response(&failure(&Value::Null, RpcError::new(rpc::INVALID_REQUEST, "empty batch")));
            }
            if requests.len() > app.limits.max_batch {
                let e = RpcError::new(
                    rpc::LIMIT_EXCEEDED,
                    format!("batch of {} requests is over the limit of {}", requests.len(), app.limits.max_batch),
                );
                return value_response(&failure(&Value::Null, e));
            }
            let answers = futures::future::join_all(requests.into_iter().map(|r| handle(&app, r, None))).await;
            let answers: Vec<Value> = answers.into_iter().filter_map(Reply::into_value).collect();
            match answers.is_empty() {
                // Notifications only: nothing to answer.
                true => json_response(StatusCode::OK, Bytes::new()),
                false => value_response(&Value::Array(answers)),
            }
        }
        single => match handle(&app, single, Some(bytes)).await {
            Reply::Json(v) => value_response(&v),
            Reply::Upstream(b) => json_response(StatusCode::OK, b),
            Reply::None => json_response(StatusCode::OK, Bytes::new()),
        },
    }
}

/// Handles one request; `original` is its exact bytes when it came alone.
async fn handle(app: &App, request: Value, original: Option<Bytes>) -> Reply {
    let invalid = |id: &Value, why: &str| Reply::Json(failure(id, RpcError::new(rpc::INVALID_REQUEST, why)));
    let Some(obj) = request.as_object() else {
        return invalid(&Value::Null, "expected a JSON-RPC request object");
    };
    let id = obj.get("id").cloned().unwrap_or(Value::Null);
    if !(id.is_null() || id.is_string() || id.is_number()) {
        return invalid(&Value::Null, "id must be a string, a number or null");
    }
    if obj.get("jsonrpc").is_some_and(|v| v != "2.0") {
        return invalid(&id, "jsonrpc must be \"2.0\"");
    }
    let Some(method) = obj.get("method").and_then(Value::as_str) else {
        return invalid(&id, "missing method name");
    };
    // A notification (no id) is neither run nor answered (JSON-RPC 2.0
    // forbids an answer); the nodes and the devnet do not run one either.
    // Nothing a client cannot see done, a transaction least of all.
    if !obj.contains_key("id") {
        debug!(target: "vigil_gate", method, "notification ignored");
        return Reply::None;
    }
    let params = obj.get("params").cloned().unwrap_or(Value::Array(Vec::new()));
    let answer = match method {
        "eth_sendRawTransaction" => send_raw_transaction(app, &params).await,
        "vigil_submitCertificate" => submit_certificate(app, &params).await,
        "vigil_submitBatch" => submit_batch(app, &params).await,
        "vigil_getTxStatus" => tx_status(app, &params).await,
        "vigil_pendingTransactions" => pending_transactions(app).await,
        "vigil_gateInfo" => gate_info(app).await,
        "vigil_releaseQuarantined" => release_quarantined(app, &params).await,
        "eth_getTransactionCount" if params.get(1).and_then(Value::as_str) == Some("pending") => {
            return transaction_count(app, &request, &id, &params).await;
        }
        _ => return pass_through(app, &request, &id, original).await,
    };
    Reply::Json(match answer {
        Ok(result) => success(&id, result),
        Err(e) => failure(&id, e),
    })
}

async fn pass_through(app: &App, request: &Value, id: &Value, original: Option<Bytes>) -> Reply {
    let body = original.unwrap_or_else(|| Bytes::from(request.to_string()));
    match app.upstream.send_raw(body).await {
        Ok(answer) => Reply::Upstream(answer),
        Err(e) => {
            warn!(target: "vigil_gate", error = %e, "pass-through failed");
            Reply::Json(failure(id, RpcError::new(rpc::UPSTREAM_UNAVAILABLE, format!("upstream unavailable: {e}"))))
        }
    }
}

/// `eth_getTransactionCount(address, "pending")`: upstream's count, raised
/// above the nonces the gate still holds for that sender, so a wallet
/// sending twice in a row does not reuse a nonce.
async fn transaction_count(app: &App, request: &Value, id: &Value, params: &Value) -> Reply {
    let upstream = pass_through(app, request, id, None).await;
    let Reply::Upstream(bytes) = &upstream else { return upstream };
    let Some(sender) = params.get(0).and_then(Value::as_str).and_then(|s| s.parse::<Address>().ok()) else {
        return upstream;
    };
    let answer: Value = serde_json::from_slice(bytes).unwrap_or_default();
    let Some(count) = answer.get("result").and_then(parse_quantity) else { return upstream };
    match app.ledger.call(move |l| l.next_nonce(&sender)).await {
        Ok(Some(held)) if held > count => Reply::Json(success(id, json!(format!("{held:#x}")))),
        Ok(_) => upstream,
        Err(e) => Reply::Json(failure(id, e.into())),
    }
}

fn single_string_param<'a>(params: &'a Value, what: &str) -> Result<&'a str, RpcError> {
    match params.as_array().map(Vec::as_slice) {
        Some([Value::String(s)]) => Ok(s),
        _ => Err(RpcError::params(format!("expected params [{what}]"))),
    }
}

fn parse_hash(params: &Value) -> Result<B256, RpcError> {
    let s = single_string_param(params, "\"0x…32-byte transaction hash\"")?;
    s.parse::<B256>().map_err(|_| RpcError::params(format!("{s:?} is not a 0x-prefixed 32-byte hash")))
}

/// How far ahead of its sender's next nonce (upstream) a transaction is
/// taken, as the devnet's pool keeps.
const MAX_NONCE_GAP: u64 = 256;

/// The metric label of a refusal.
fn refusal_label(e: &vigil_sim::plausible::Implausible) -> &'static str {
    use vigil_sim::plausible::Implausible;
    match e {
        Implausible::NonceTooLow { .. } => "nonce_too_low",
        Implausible::NonceTooHigh { .. } => "nonce_too_high",
        Implausible::AboveBlockGasLimit { .. } => "above_block_gas_limit",
        Implausible::IntrinsicGasTooLow { .. } => "intrinsic_gas_too_low",
        Implausible::InsufficientFunds { .. } => "insufficient_funds",
    }
}

async fn send_raw_transaction(app: &App, params: &Value) -> Result<Value, RpcError> {
    let s = single_string_param(params, "\"0x…signed transaction bytes\"")?;
    let hex_digits = s.strip_prefix("0x").ok_or_else(|| RpcError::params("transaction bytes must start with 0x"))?;
    let raw = hex::decode(hex_digits).map_err(|e| RpcError::params(format!("transaction bytes are not hex: {e}")))?;
    let tx = Transaction::decode(&raw).map_err(|e| RpcError::new(rpc::TX_REJECTED, e.to_string()))?;
    let hash = tx.hash();
    // What can never be included is refused now, as the nodes and the
    // sequencer would (same checks, same words), not acknowledged and
    // quarantined for want of a certificate later. One the gate holds
    // already is answered as before.
    if app.ledger.call(move |l| l.lookup(&hash)).await?.map_err(GateError::from)?.is_none() {
        let facts = app.upstream.chain_facts(tx.sender()).await.map_err(|e| {
            RpcError::new(rpc::LIMIT_EXCEEDED, format!("cannot read the chain state upstream, retry later: {e}"))
        })?;
        if let Err(e) = vigil_sim::plausible::check(&tx, &facts, Some(MAX_NONCE_GAP)) {
            app.metrics.refused.with_label_values(&[refusal_label(&e)]).inc();
            return Err(RpcError::new(rpc::TX_REJECTED, e.to_string()));
        }
    }
    app.await_certificate(hash)?;
    let received = app.ledger.call(move |l| l.receive(&tx, now_ms()).map(|r| (r, tx))).await;
    let (received, tx) = match received.and_then(|r| r.map_err(GateError::from)) {
        Ok(received) => received,
        Err(e) => {
            app.stop_awaiting(&hash, false);
            return Err(e.into());
        }
    };
    match &received {
        Received::Accepted { status: TxStatus::Pending, .. } => {}
        // A certificate was waiting for it, or it is decided already.
        Received::Accepted { .. } => app.stop_awaiting(&hash, true),
        Received::Refused(_) => app.stop_awaiting(&hash, false),
    }
    match received {
        Received::Accepted { hash, fresh, status } => {
            if fresh {
                app.metrics.txs_received.inc();
                debug!(target: "vigil_gate", tx = %hash, sender = %tx.sender(), nonce = tx.nonce(), status = status.as_str(), "transaction accepted");
                // A transaction that arrives certified (an inspector
                // pushing it after its certificate) was judged already:
                // relaying it back would cost every inspector a request.
                if status != TxStatus::Certified {
                    app.relay.relay(s.to_owned());
                }
                if status == TxStatus::Quarantined {
                    app.metrics.quarantined.inc();
                }
                app.wake.notify_one();
            }
            Ok(json!(hash))
        }
        Received::Refused(r @ TxRefusal::Full(_)) => Err(RpcError::new(rpc::LIMIT_EXCEEDED, r.to_string())),
        Received::Refused(r) => Err(RpcError::new(rpc::TX_REJECTED, r.to_string())),
    }
}

async fn submit_certificate(app: &App, params: &Value) -> Result<Value, RpcError> {
    let attestation = match params.as_array().map(Vec::as_slice) {
        Some([c]) => serde_json::from_value::<Attestation>(c.clone()).map_err(|e| {
            app.metrics.certificates_rejected.with_label_values(&["malformed"]).inc();
            RpcError::params(format!(
                "expected a certificate (DESIGN §4) or an inclusion proof (DESIGN §4b); neither reads from it: {e}"
            ))
        })?,
        _ => return Err(RpcError::params("expected params [certificate or inclusion proof object]")),
    };
    // The same certificate again (a fallback pusher, a replay): answered
    // from the ledger, no pairing spent on it.
    let probe = attestation.clone();
    if let Some(outcome) = app.ledger.call(move |l| l.known_certificate(&probe)).await?.map_err(GateError::from)? {
        return certificate_answer(app, attestation.tx_hash(), outcome);
    }
    let verified: Result<VerifiedAttestation, AdmissionError> = match attestation {
        // The pairing on the verifier's thread, batched with concurrent
        // requests' (off the async executor).
        Attestation::Certificate(cert) => match prepare(&app.admission(), &cert) {
            Ok(pending) => {
                let outcome = app.verifier.verify(pending.check().clone()).await;
                pending.complete(outcome).map(VerifiedAttestation::from).map_err(AdmissionError::from)
            }
            Err(e) => Err(e),
        },
        // A path check, and a pairing only for a batch not verified yet.
        Attestation::Inclusion(proof) => {
            let admission = app.admission();
            let roots = app.roots.clone();
            tokio::task::spawn_blocking(move || {
                let mut roots = roots.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                admission.check_inclusion(&proof, &mut roots).map(VerifiedAttestation::from)
            })
            .await
            .map_err(|e| RpcError::new(rpc::INTERNAL_ERROR, format!("verification task failed: {e}")))?
        }
    };
    let verified = verified.map_err(|e| {
        app.metrics.certificates_rejected.with_label_values(&[reason_label(&e)]).inc();
        RpcError::new(rpc::INVALID_CERTIFICATE, e.to_string())
    })?;
    let (hash, kind) = (verified.tx_hash(), verified.kind());
    let outcome = app.ledger.call(move |l| l.certificate(verified, now_ms())).await?.map_err(GateError::from)?;
    let answer = certificate_answer(app, hash, outcome)?;
    app.metrics.certificates_accepted.inc();
    debug!(target: "vigil_gate", tx = %hash, %kind, status = %answer["status"], "certificate accepted");
    app.wake.notify_one();
    Ok(answer)
}

/// `vigil_submitBatch`: a batch certificate with its transactions and
/// verdicts, in leaf order (DESIGN §4b), from the inspector that pushes
/// it; one pairing (none when the root is verified already) and one synced
/// write for the whole batch. Each clean transaction is certified, each
/// malicious one quarantined, each with its inclusion proof kept.
async fn submit_batch(app: &App, params: &Value) -> Result<Value, RpcError> {
    let push: BatchPush = match params.as_array().map(Vec::as_slice) {
        Some([b]) => serde_json::from_value(b.clone()).map_err(|e| {
            app.metrics.certificates_rejected.with_label_values(&["malformed"]).inc();
            RpcError::params(format!("batch JSON ({{certificate, transactions, kinds}}): {e}"))
        })?,
        _ => return Err(RpcError::params("expected params [{certificate, transactions, kinds}]")),
    };
    let admission = app.admission();
    let roots = app.roots.clone();
    let checked = tokio::task::spawn_blocking(move || check_push(&push, &admission, &roots))
        .await
        .map_err(|e| RpcError::new(rpc::INTERNAL_ERROR, format!("verification task failed: {e}")))?;
    let items = checked.map_err(|e| {
        let label = match &e {
            BatchPushError::Admission(a) => reason_label(a),
            BatchPushError::Malformed(_) => "malformed",
        };
        app.metrics.certificates_rejected.with_label_values(&[label]).inc();
        match e {
            BatchPushError::Admission(a) => RpcError::new(rpc::INVALID_CERTIFICATE, a.to_string()),
            BatchPushError::Malformed(m) => RpcError::params(m),
        }
    })?;
    let outcomes = app.ledger.call(move |l| l.attested_batch(items, now_ms())).await?.map_err(GateError::from)?;
    let mut results = Vec::with_capacity(outcomes.len());
    for outcome in outcomes {
        match outcome {
            BatchItemOutcome::Applied { hash, status, fresh, changed } => {
                app.stop_awaiting(&hash, true);
                if fresh {
                    app.metrics.txs_received.inc();
                }
                if changed && status == TxStatus::Quarantined {
                    app.metrics.quarantined.inc();
                    warn!(target: "vigil_gate", tx = %hash, "quarantined: its batch says malicious");
                }
                app.metrics.certificates_accepted.inc();
                results.push(json!({ "tx_hash": hash, "status": status.as_str() }));
            }
            BatchItemOutcome::Refused { hash, refusal } => {
                results.push(json!({ "tx_hash": hash, "error": refusal.to_string() }));
            }
        }
    }
    app.wake.notify_one();
    Ok(json!({ "results": results }))
}

#[derive(Debug)]
enum BatchPushError {
    Malformed(String),
    Admission(AdmissionError),
}

/// Decodes a push's transactions, rebuilds its tree, checks the batch
/// certificate (or finds it verified in `roots`) and gives each
/// transaction its inclusion proof. Blocking (hashing, maybe a pairing).
fn check_push(
    push: &BatchPush,
    admission: &Admission,
    roots: &std::sync::Mutex<VerifiedRoots>,
) -> Result<Vec<(Transaction, VerifiedInclusion)>, BatchPushError> {
    let (txs, tree) = push.decode().map_err(|e| BatchPushError::Malformed(e.to_string()))?;
    let verified = {
        let mut roots = roots.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        admission.check_batch(&push.certificate, &mut roots).map_err(BatchPushError::Admission)?
    };
    let proofs =
        batch_inclusions(&verified, &tree).map_err(|e| BatchPushError::Admission(AdmissionError::Certificate(e)))?;
    Ok(txs.into_iter().zip(proofs).collect())
}

/// The answer of `vigil_submitCertificate` for the ledger's outcome.
fn certificate_answer(app: &App, hash: B256, outcome: CertificateOutcome) -> Result<Value, RpcError> {
    let status = match outcome {
        CertificateOutcome::Full(n) => {
            return Err(RpcError::new(
                rpc::LIMIT_EXCEEDED,
                format!("{n} certificates already wait for unknown transactions; send the transaction first"),
            ))
        }
        CertificateOutcome::AwaitingTransaction => "awaiting_transaction",
        CertificateOutcome::Applied { status, changed, late_malicious } => {
            app.stop_awaiting(&hash, true);
            if late_malicious {
                error!(target: "vigil_gate", tx = %hash, "a malicious certificate arrived for a transaction already admitted unchecked by fail-open");
            }
            if changed && status == TxStatus::Quarantined {
                app.metrics.quarantined.inc();
                warn!(target: "vigil_gate", tx = %hash, "quarantined: certificate says malicious");
            }
            status.as_str()
        }
    };
    Ok(json!({ "tx_hash": hash, "status": status }))
}

/// The JSON of `vigil_getTxStatus`.
pub fn status_json(r: &TxRecord) -> Value {
    json!({
        "tx_hash": r.hash,
        "status": r.status.as_str(),
        "received_at_ms": r.received_at_ms,
        "certificate": r.certificate,
        "reason": r.reason,
        "block_number": r.block_number,
        "admitted_unchecked": r.admitted_unchecked,
    })
}

async fn tx_status(app: &App, params: &Value) -> Result<Value, RpcError> {
    let hash = parse_hash(params)?;
    let record = app.ledger.call(move |l| l.lookup(&hash)).await?.map_err(GateError::from)?;
    match record {
        Some(r) => Ok(status_json(&r)),
        None => Err(RpcError::new(rpc::UNKNOWN_TRANSACTION, format!("the gate has no transaction {hash}"))),
    }
}

async fn pending_transactions(app: &App) -> Result<Value, RpcError> {
    let held = app.ledger.call(|l| l.held()).await?;
    Ok(Value::Array(
        held.iter()
            .map(|r| {
                json!({
                    "tx_hash": r.hash, "sender": r.sender, "nonce": r.nonce,
                    "status": r.status.as_str(), "received_at_ms": r.received_at_ms,
                })
            })
            .collect(),
    ))
}

/// `vigil_releaseQuarantined`: an operator's signed release (DESIGN §7).
/// Accepted only for a key in `--operator-key`, a signature over this
/// chain and this transaction, and a transaction the gate holds
/// quarantined; it is then forwarded like a certified one.
async fn release_quarantined(app: &App, params: &Value) -> Result<Value, RpcError> {
    let release: OperatorRelease = match params.as_array().map(Vec::as_slice) {
        Some([r]) => serde_json::from_value(r.clone()).map_err(|e| {
            RpcError::params(format!("expected a release {{chain_id, tx_hash, operator, signature, note?}}: {e}"))
        })?,
        _ => return Err(RpcError::params("expected params [release object]")),
    };
    if app.operator_keys.is_empty() {
        return Err(RpcError::new(
            rpc::UNAUTHORIZED,
            "operator releases are disabled on this gate (no --operator-key): only the quarantine court releases",
        ));
    }
    if release.note.as_ref().is_some_and(|n| n.len() > OperatorRelease::MAX_NOTE) {
        return Err(RpcError::params(format!("note over {} bytes", OperatorRelease::MAX_NOTE)));
    }
    if let Err(e) = verify_release(&release, app.info.chain_id, &app.operator_keys) {
        app.metrics.operator_releases_refused.inc();
        warn!(target: "vigil_gate", tx = %release.tx_hash, operator = %release.operator, error = %e, "operator release refused");
        return Err(RpcError::new(rpc::UNAUTHORIZED, e.to_string()));
    }
    let hash = release.tx_hash;
    let reason = match &release.note {
        Some(note) => format!("released by operator {}: {note}", release.operator),
        None => format!("released by operator {}", release.operator),
    };
    let outcome = app.ledger.call(move |l| l.release_because(&hash, reason)).await?.map_err(GateError::from)?;
    match outcome {
        Ok(()) => {
            app.metrics.operator_releases.inc();
            warn!(target: "vigil_gate", tx = %hash, operator = %release.operator, "released from quarantine by an operator");
            app.wake.notify_one();
            Ok(json!({ "tx_hash": hash, "status": TxStatus::Released.as_str() }))
        }
        Err(r @ ReleaseRefusal::Unknown(_)) => Err(RpcError::new(rpc::UNKNOWN_TRANSACTION, r.to_string())),
        Err(r) => Err(RpcError::params(r.to_string())),
    }
}

async fn gate_info(app: &App) -> Result<Value, RpcError> {
    let (counts, held, early) = app.ledger.call(|l| (l.counts(), l.held_count(), l.early_certificate_count())).await?;
    let counts: serde_json::Map<String, Value> =
        TxStatus::ALL.iter().map(|s| (s.as_str().to_owned(), json!(counts.get(s).copied().unwrap_or(0)))).collect();
    let i = &app.info;
    Ok(json!({
        "chain_id": i.chain_id,
        "epoch": app.admission().current_epoch(),
        "upstream": app.upstream.url(),
        "fail_mode": if i.fail_open_after_ms.is_some() { "open" } else { "closed" },
        "fail_open_after_ms": i.fail_open_after_ms,
        "quarantine_after_ms": i.quarantine_after_ms,
        "operator_keys": app.operator_keys,
        "counts": counts,
        "held": held,
        "early_certificates": early,
    }))
}
