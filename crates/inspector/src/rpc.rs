//! The node's JSON-RPC (HTTP and WebSocket on one port): the standard
//! `eth_sendRawTransaction` and Vigil's methods (docs/rpc.md).

use std::{net::SocketAddr, sync::Arc};

use alloy_primitives::{Address, Bytes, B256, U64};
use jsonrpsee::{
    server::{PendingSubscriptionSink, RpcModule, ServerConfig, ServerHandle},
    types::{ErrorObjectOwned, Params},
};
use serde::Deserialize;
use serde_json::{json, Value};
use vigil_types::rpc as codes;

use crate::{
    pipeline::{AdmitError, Inspector, NodeEvent},
    store::{HistoryKind, HistoryQuery, Outcome, QuarantineFilter, ReviewState, TxSource},
};

type RpcResult<T> = Result<T, ErrorObjectOwned>;

fn err(code: i32, message: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(code, message.into(), None::<()>)
}

fn internal(e: impl std::fmt::Display) -> ErrorObjectOwned {
    err(codes::INTERNAL_ERROR, e.to_string())
}

fn unknown(hash: B256) -> ErrorObjectOwned {
    err(codes::UNKNOWN_TRANSACTION, format!("this node has not seen transaction {hash}"))
}

impl From<AdmitError> for ErrorObjectOwned {
    fn from(e: AdmitError) -> Self {
        let code = match e {
            AdmitError::Busy(_) => codes::LIMIT_EXCEEDED,
            AdmitError::Store(_) => codes::INTERNAL_ERROR,
            _ => codes::TX_REJECTED,
        };
        err(code, e.to_string())
    }
}

/// The operator's credentials for `vigil_quarantineReview`.
#[derive(Clone)]
pub struct OperatorToken(pub String);

impl std::fmt::Debug for OperatorToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OperatorToken(…)")
    }
}

/// What the operator methods need: the token that authenticates them, and
/// for releases (DESIGN §7) the operator key that signs them and the gate
/// they go to.
#[derive(Debug, Default)]
pub struct Operator {
    /// Token of `vigil_quarantineReview` and `vigil_quarantineRelease`.
    pub token: Option<OperatorToken>,
    /// Key that signs releases.
    pub release_key: Option<vigil_crypto::OperatorKey>,
    /// The gate releases are sent to (JSON-RPC URL).
    pub gate: Option<String>,
    /// Sequencers with their own admission (a Vigil devnet) that also get
    /// each release, so the transaction the gate forwards is admitted
    /// there too; one that does not take releases is skipped.
    pub sequencers: Vec<String>,
}

struct Ctx {
    node: Arc<Inspector>,
    operator: Operator,
    http: reqwest::Client,
}

impl Ctx {
    fn check_token(&self, given: Option<&str>) -> RpcResult<()> {
        let Some(expected) = &self.operator.token else {
            return Err(err(
                codes::UNAUTHORIZED,
                "operator methods are disabled: the node has no operator token configured",
            ));
        };
        let Some(given) = given else {
            return Err(err(codes::UNAUTHORIZED, "operator token missing: pass it as \"token\""));
        };
        if !constant_time_eq(expected.0.as_bytes(), given.as_bytes()) {
            return Err(err(codes::UNAUTHORIZED, "wrong operator token"));
        }
        Ok(())
    }
}

/// Ethereum-style subscription ids (`0x` + 32 hex digits).
#[derive(Debug)]
struct HexIds;

impl jsonrpsee::core::traits::IdProvider for HexIds {
    fn next_id(&self) -> jsonrpsee::types::SubscriptionId<'static> {
        jsonrpsee::types::SubscriptionId::Str(format!("0x{:032x}", rand::random::<u128>()).into())
    }
}

/// Starts the server on `addr`.
pub async fn serve(
    node: Arc<Inspector>,
    operator: Operator,
    addr: SocketAddr,
) -> std::io::Result<(SocketAddr, ServerHandle)> {
    let config = ServerConfig::builder()
        .max_request_body_size(5 * 1024 * 1024)
        .max_connections(1_000)
        .set_id_provider(HexIds)
        .build();
    let server = jsonrpsee::server::Server::builder().set_config(config).build(addr).await?;
    let local = server.local_addr()?;
    let module = module(node, operator).map_err(std::io::Error::other)?;
    Ok((local, server.start(module)))
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct HistoryParams {
    address: Option<Address>,
    from_block: Option<u64>,
    to_block: Option<u64>,
    kind: Option<HistoryKind>,
    cursor: Option<String>,
    limit: Option<usize>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct QuarantineListParams {
    state: Option<ReviewState>,
    cursor: Option<String>,
    limit: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReviewParams {
    tx_hash: B256,
    state: ReviewState,
    note: Option<String>,
    reviewer: Option<String>,
    /// Optional here so that a missing token is refused as unauthorized
    /// (-32013), not as a malformed request.
    token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReleaseParams {
    tx_hash: B256,
    note: Option<String>,
    reviewer: Option<String>,
    token: Option<String>,
}

/// Items per page: 100 unless given; 0 is refused (it would be a page that
/// never moves on).
fn page_limit(limit: Option<usize>) -> RpcResult<usize> {
    match limit {
        None => Ok(100),
        Some(0) => Err(err(codes::INVALID_PARAMS, "limit must be at least 1")),
        Some(n) => Ok(n),
    }
}

/// `vigil_quarantineRelease`: the operator (token) asks this node to sign
/// the release of a transaction it holds quarantined with its operator key
/// and send it to the gate, which checks the signature against its own
/// operator keys (DESIGN §7). On the gate's acceptance the record is
/// reviewed as a false positive, with the note.
async fn release(c: &Ctx, r: ReleaseParams) -> RpcResult<Value> {
    c.check_token(r.token.as_deref())?;
    let Some(key) = &c.operator.release_key else {
        return Err(err(
            codes::UNAUTHORIZED,
            "releases are disabled: the node has no operator key (--operator-key-file)",
        ));
    };
    let Some(gate) = &c.operator.gate else {
        return Err(err(codes::INVALID_PARAMS, "releases need the gate: the node has no --gate.rpc"));
    };
    let store = c.node.store();
    let quarantined = matches!(store.outcome(r.tx_hash).map_err(internal)?, Some(Outcome::Quarantined { .. }));
    if !quarantined {
        return Err(err(codes::INVALID_PARAMS, format!("transaction {} is not quarantined on this node", r.tx_hash)));
    }
    let note = r.note.filter(|n| !n.is_empty());
    let signed = key.release(c.node.chain_id(), r.tx_hash, note.clone());
    let request = json!({ "jsonrpc": "2.0", "id": 1, "method": "vigil_releaseQuarantined", "params": [signed] });
    let send = |url: String| {
        let request = request.clone();
        async move {
            let answer: Value = c
                .http
                .post(&url)
                .json(&request)
                .send()
                .await
                .map_err(|e| err(codes::UPSTREAM_UNAVAILABLE, format!("{url}: {e}")))?
                .json()
                .await
                .map_err(|e| err(codes::UPSTREAM_UNAVAILABLE, format!("{url}: {e}")))?;
            RpcResult::Ok(answer)
        }
    };
    // Sequencers with their own admission first, so the transaction the
    // gate forwards once released is admitted when it arrives.
    let mut sequencers = Vec::new();
    for url in c.operator.sequencers.iter().filter(|u| *u != gate) {
        let outcome = match send(url.clone()).await {
            Ok(a) if a.get("error").is_none() => json!({ "url": url, "status": a["result"]["status"] }),
            Ok(a) => json!({ "url": url, "error": a["error"]["message"] }),
            Err(e) => json!({ "url": url, "error": e.message() }),
        };
        sequencers.push(outcome);
    }
    let answer = send(gate.clone()).await?;
    if let Some(e) = answer.get("error") {
        let code = e["code"].as_i64().and_then(|c| i32::try_from(c).ok()).unwrap_or(codes::INTERNAL_ERROR);
        return Err(err(code, format!("the gate refused the release: {}", e["message"].as_str().unwrap_or("?"))));
    }
    let note = Some(match note {
        Some(n) => format!("released at the gate: {n}"),
        None => "released at the gate".to_owned(),
    });
    let record = store
        .review(r.tx_hash, ReviewState::FalsePositive, r.reviewer, note, crate::pipeline::now_ms())
        .map_err(|e| err(codes::INVALID_PARAMS, e.to_string()))?;
    Ok(json!({ "gate": answer["result"], "sequencers": sequencers, "review": record.review, "operator": key.public() }))
}

fn object_param<T: for<'de> Deserialize<'de> + Default>(p: &Params<'_>, shape: &str) -> RpcResult<T> {
    let mut seq = p.sequence();
    let v: Option<T> = seq
        .optional_next()
        .map_err(|e| err(codes::INVALID_PARAMS, format!("invalid params: expected [{shape}]: {e}")))?;
    Ok(v.unwrap_or_default())
}

fn outcome_json(o: Option<Outcome>) -> Value {
    match o {
        None => Value::Null,
        Some(Outcome::Certified) => json!({ "status": "certified" }),
        Some(Outcome::Quarantined { reason }) => json!({ "status": "quarantined", "reason": reason }),
    }
}

/// The RPC methods.
fn module(node: Arc<Inspector>, operator: Operator) -> Result<RpcModule<Ctx>, jsonrpsee::core::RegisterMethodError> {
    let http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(10)).build().unwrap_or_default();
    let mut m = RpcModule::new(Ctx { node, operator, http });
    m.register_method("eth_chainId", |_, c, _| -> RpcResult<U64> { Ok(U64::from(c.node.chain_id())) })?;
    m.register_method("web3_clientVersion", |_, _, _| -> RpcResult<String> {
        Ok(format!("vigil-node/v{}", env!("CARGO_PKG_VERSION")))
    })?;
    m.register_async_method("eth_sendRawTransaction", |p, c, _| async move {
        let (raw,): (Bytes,) = p
            .parse()
            .map_err(|e| err(codes::INVALID_PARAMS, format!("invalid params: expected [\"0x…raw tx\"]: {e}")))?;
        c.node.submit(&raw, TxSource::Rpc).await.map_err(ErrorObjectOwned::from)
    })?;
    m.register_method("vigil_getTxStatus", |p, c, _| -> RpcResult<Value> {
        let (hash,): (B256,) = p.parse()?;
        let store = c.node.store();
        let tx = store.tx(hash).map_err(internal)?.ok_or_else(|| unknown(hash))?;
        let verdict = store.verdict(hash).map_err(internal)?;
        let outcome = store.outcome(hash).map_err(internal)?;
        let status = match (&outcome, &verdict) {
            (Some(Outcome::Certified), _) => "certified",
            (Some(Outcome::Quarantined { .. }), _) => "quarantined",
            (None, Some(_)) => "voted",
            (None, None) => "inspecting",
        };
        Ok(json!({
            "tx_hash": hash,
            "status": status,
            "sender": tx.sender,
            "nonce": tx.nonce,
            "received_at_ms": tx.received_ms,
            "verdict": verdict.as_ref().map(|v| v.kind),
            "outcome": outcome_json(outcome),
        }))
    })?;
    m.register_method("vigil_getVerdict", |p, c, _| -> RpcResult<Value> {
        let (hash,): (B256,) = p.parse()?;
        let store = c.node.store();
        let verdict = store.verdict(hash).map_err(internal)?.ok_or_else(|| unknown(hash))?;
        let votes = store.votes(hash).map_err(internal)?;
        let outcome = store.outcome(hash).map_err(internal)?;
        Ok(json!({
            "verdict": verdict,
            "votes": votes,
            "outcome": outcome_json(outcome),
            "certificate": store.certificate(hash).map_err(internal)?,
            "quarantine": store.quarantine_record(hash).map_err(internal)?,
        }))
    })?;
    m.register_method("vigil_getCertificate", |p, c, _| -> RpcResult<Value> {
        let (hash,): (B256,) = p.parse()?;
        let cert = c.node.store().certificate(hash).map_err(internal)?;
        cert.map(|c| json!(c)).ok_or_else(|| err(codes::UNKNOWN_TRANSACTION, format!("no certificate for {hash}")))
    })?;
    m.register_method("vigil_history", |p, c, _| -> RpcResult<Value> {
        let q: HistoryParams = object_param(&p, "{address?, from_block?, to_block?, kind?, cursor?, limit?}")?;
        let query = HistoryQuery { address: q.address, from_block: q.from_block, to_block: q.to_block, kind: q.kind };
        let page = c
            .node
            .store()
            .history(&query, q.cursor.as_deref(), page_limit(q.limit)?)
            .map_err(|e| err(codes::INVALID_PARAMS, e.to_string()))?;
        Ok(json!(page))
    })?;
    m.register_method("vigil_quarantineList", |p, c, _| -> RpcResult<Value> {
        let q: QuarantineListParams = object_param(&p, "{state?, cursor?, limit?}")?;
        let page = c
            .node
            .store()
            .quarantine_list(QuarantineFilter { state: q.state }, q.cursor.as_deref(), page_limit(q.limit)?)
            .map_err(|e| err(codes::INVALID_PARAMS, e.to_string()))?;
        Ok(json!(page))
    })?;
    m.register_method("vigil_quarantineReview", |p, c, _| -> RpcResult<Value> {
        let (r,): (ReviewParams,) = p.parse()?;
        c.check_token(r.token.as_deref())?;
        let record = c
            .node
            .store()
            .review(r.tx_hash, r.state, r.reviewer, r.note, crate::pipeline::now_ms())
            .map_err(|e| err(codes::INVALID_PARAMS, e.to_string()))?;
        Ok(json!(record))
    })?;
    m.register_async_method("vigil_quarantineRelease", |p, c, _| async move {
        let (r,): (ReleaseParams,) = p.parse()?;
        release(&c, r).await
    })?;
    m.register_method("vigil_nodeInfo", |_, c, _| -> RpcResult<Value> {
        let node = &c.node;
        let head = node.view().head();
        let stats = node.store().stats().map_err(internal)?;
        Ok(json!({
            "chain_id": node.chain_id(),
            "peer_id": node.net().local_peer_id().to_string(),
            "signer_index": node.signer_index(),
            "epoch": node.committee().epoch(),
            "ruleset": vigil_detect::RULESET_VERSION,
            "head": { "number": head.number, "hash": head.hash },
            "uptime_s": node.uptime().as_secs(),
            "store": stats,
        }))
    })?;
    m.register_async_method("vigil_peers", |_, c, _| async move {
        let peers = c.node.net().peers().await;
        RpcResult::Ok(json!(peers
            .iter()
            .map(|p| json!({ "peer_id": p.peer_id.to_string(), "score": p.score }))
            .collect::<Vec<_>>()))
    })?;
    m.register_method("vigil_committee", |_, c, _| -> RpcResult<Value> { Ok(json!(c.node.committee().committee())) })?;
    m.register_subscription(
        "vigil_subscribe",
        "vigil_subscription",
        "vigil_unsubscribe",
        |p, pending, c, _| async move {
            subscribe(p, pending, c).await;
            Ok(())
        },
    )?;
    Ok(m)
}

async fn subscribe(p: Params<'static>, pending: PendingSubscriptionSink, c: Arc<Ctx>) {
    let kind: String = match p.one() {
        Ok(k) => k,
        Err(e) => {
            pending.reject(e).await;
            return;
        }
    };
    if !matches!(kind.as_str(), "verdicts" | "alerts" | "certificates" | "quarantine") {
        pending
            .reject(err(
                codes::INVALID_PARAMS,
                format!(
                    "unknown subscription {kind:?}: use \"verdicts\", \"alerts\", \"certificates\" or \"quarantine\""
                ),
            ))
            .await;
        return;
    }
    let mut events = c.node.subscribe();
    let Ok(sink) = pending.accept().await else { return };
    loop {
        let event = tokio::select! {
            _ = sink.closed() => return,
            e = events.recv() => e,
        };
        let value = match event {
            Ok(NodeEvent::Verdict(v)) if kind == "verdicts" => json!(*v),
            Ok(NodeEvent::Verdict(v)) if kind == "alerts" && v.alert => json!(*v),
            Ok(NodeEvent::Certificate(cert)) if kind == "certificates" => json!(*cert),
            Ok(NodeEvent::Quarantine(q)) if kind == "quarantine" => json!(*q),
            Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
            Err(_) => return,
        };
        let Ok(raw) = serde_json::value::to_raw_value(&value) else { continue };
        if sink.send(raw).await.is_err() {
            return;
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
