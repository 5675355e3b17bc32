//! The operator dashboard (DESIGN §9, decision 0016): a small web page the
//! node serves on `--dashboard.addr`.
//!
//! ```text
//! browser ──GET /, /tx/<hash>, /alerts, /history, /network──> index.html (one page, routed in the browser)
//!         ──GET /assets/*──> app.js, style.css (compiled into the binary)
//!         ──GET /config.json──> where the node's JSON-RPC listens
//!         ──WebSocket──> the node's JSON-RPC: vigil_quarantineList, vigil_getVerdict, vigil_subscribe, …
//!         ──POST /gate──> the gate's vigil_getTxStatus (same origin; read-only methods only)
//!         ──GET /court/<hash>──> the quarantine court's latest dispute on the transaction
//!         ──GET /metrics──> the node's Prometheus text (charts)
//! ```
//!
//! Nothing is fetched from the network at run time and nothing is built:
//! the assets are plain files under `crates/inspector/dashboard/`, included
//! as they are. The page holds no secret beyond the operator token the
//! operator types, kept in the tab's session storage and sent only inside
//! `vigil_quarantineReview` over the WebSocket.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::{
    body::Bytes,
    extract::State,
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Router,
};
use serde_json::{json, Value};

use crate::metrics::Metrics;

const INDEX: &str = include_str!("../dashboard/index.html");
const APP_JS: &str = include_str!("../dashboard/app.js");
const STYLE: &str = include_str!("../dashboard/style.css");

/// Gate methods the page may call through `/gate`: reads only.
const GATE_METHODS: [&str; 2] = ["vigil_getTxStatus", "vigil_gateInfo"];
/// Largest `/gate` request body.
const MAX_GATE_BODY: usize = 16 * 1024;

/// What the dashboard needs to know.
#[derive(Debug, Clone)]
pub struct DashboardConfig {
    /// Port of the node's JSON-RPC (the page connects to it over WebSocket
    /// on the host it was loaded from).
    pub rpc_port: u16,
    /// The gate whose status of each transaction the page shows.
    pub gate: Option<String>,
    /// The quarantine court whose disputes the page shows.
    pub court: Option<CourtConfig>,
}

/// Where the quarantine court is (DESIGN §7).
#[derive(Debug, Clone)]
pub struct CourtConfig {
    /// JSON-RPC URL of the settlement chain.
    pub rpc: String,
    /// The `QuarantineCourt` contract.
    pub address: alloy_primitives::Address,
    /// Its deployment block (where its dispute logs start).
    pub from_block: u64,
}

struct Ctx {
    config: DashboardConfig,
    metrics: Metrics,
    http: reqwest::Client,
    /// The court's client, made once (with the block its logs start at).
    court: Option<(vigil_settlement::court::Court, u64)>,
}

/// Starts serving the dashboard on `addr`; returns the address bound.
pub async fn serve(addr: SocketAddr, config: DashboardConfig, metrics: Metrics) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().map_err(std::io::Error::other)?;
    let court = config.court.as_ref().map(|c| {
        let client = vigil_settlement::rpc::Client::new(c.rpc.clone());
        (vigil_settlement::court::Court::new(client, c.address), c.from_block)
    });
    let app = router(Arc::new(Ctx { config, metrics, http, court }));
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "dashboard server stopped");
        }
    });
    Ok(local)
}

fn router(ctx: Arc<Ctx>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/tx/{hash}", get(index))
        .route("/alerts", get(index))
        .route("/history", get(index))
        .route("/network", get(index))
        .route("/assets/app.js", get(|| async { asset("text/javascript; charset=utf-8", APP_JS) }))
        .route("/assets/style.css", get(|| async { asset("text/css; charset=utf-8", STYLE) }))
        .route("/config.json", get(config))
        .route("/metrics", get(metrics))
        .route("/gate", post(gate))
        .route("/court/{hash}", get(court))
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found") })
        .with_state(ctx)
}

/// The page's content security policy: its own scripts and styles only;
/// connections to its own origin and to WebSocket endpoints (the node's
/// JSON-RPC listens on another port of the same host).
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// A JSON `{"error": message}` answer with `status`.
fn refuse(status: StatusCode, message: String) -> Response {
    (status, with_headers("application/json", json!({ "error": message }).to_string())).into_response()
}

fn with_headers(content_type: &'static str, body: impl IntoResponse) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

async fn index() -> Response {
    with_headers("text/html; charset=utf-8", INDEX)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    with_headers(content_type, body)
}

async fn config(State(ctx): State<Arc<Ctx>>) -> Response {
    let body = json!({
        "rpc_port": ctx.config.rpc_port,
        "gate": ctx.config.gate.is_some(),
        "court": ctx.config.court.is_some(),
    });
    with_headers("application/json", body.to_string())
}

async fn metrics(State(ctx): State<Arc<Ctx>>) -> Response {
    with_headers("text/plain; version=0.0.4; charset=utf-8", ctx.metrics.render())
}

/// The latest dispute on a transaction in the quarantine court:
/// `{"state": "none"}`, or its id, state (`open`, `released`, `upheld`,
/// `expired`), opener, bond and ruling deadline.
async fn court(State(ctx): State<Arc<Ctx>>, axum::extract::Path(hash): axum::extract::Path<String>) -> Response {
    let Some((court, from_block)) = &ctx.court else {
        return refuse(StatusCode::NOT_FOUND, "this node's dashboard has no court configured".into());
    };
    let Ok(hash) = hash.parse::<alloy_primitives::B256>() else {
        return refuse(StatusCode::BAD_REQUEST, format!("{hash:?} is not a 0x-prefixed 32-byte hash"));
    };
    match court.latest_dispute(hash, *from_block).await {
        Ok(None) => with_headers("application/json", json!({ "state": "none" }).to_string()),
        Ok(Some(d)) => with_headers(
            "application/json",
            json!({
                "id": d.id,
                "state": d.state,
                "opener": d.opener,
                "bond": d.bond.to_string(),
                "opened_at": d.opened_at,
                "deadline": d.deadline,
            })
            .to_string(),
        ),
        Err(e) => refuse(StatusCode::BAD_GATEWAY, format!("court: {e}")),
    }
}

/// One JSON-RPC request to the gate, limited to [`GATE_METHODS`]; the
/// gate's answer is returned as it is.
async fn gate(State(ctx): State<Arc<Ctx>>, body: Bytes) -> Response {
    let Some(url) = &ctx.config.gate else {
        return refuse(StatusCode::NOT_FOUND, "this node's dashboard has no gate configured".into());
    };
    if body.len() > MAX_GATE_BODY {
        return refuse(StatusCode::PAYLOAD_TOO_LARGE, format!("request over {MAX_GATE_BODY} bytes"));
    }
    let request: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, format!("not JSON: {e}")),
    };
    let method = request["method"].as_str().unwrap_or_default();
    if !GATE_METHODS.contains(&method) {
        return refuse(StatusCode::FORBIDDEN, format!("method {method:?} is not readable through the dashboard"));
    }
    let forwarded = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": request["params"].clone() });
    match ctx.http.post(url).json(&forwarded).send().await {
        Ok(answer) => match answer.bytes().await {
            Ok(bytes) => with_headers("application/json", bytes),
            Err(e) => refuse(StatusCode::BAD_GATEWAY, format!("gate {url}: {e}")),
        },
        Err(e) => refuse(StatusCode::BAD_GATEWAY, format!("gate {url}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn start(gate: Option<String>) -> String {
        let config = DashboardConfig { rpc_port: 8645, gate, court: None };
        let addr = serve("127.0.0.1:0".parse().expect("addr"), config, Metrics::new()).await.expect("serve");
        format!("http://{addr}")
    }

    /// The call tree names functions from the page's table of standard
    /// selectors: each entry must be keccak256 of its signature.
    #[test]
    fn the_pages_known_function_table_matches_keccak() {
        let table = APP_JS
            .split("const KNOWN_FUNCTIONS = {")
            .nth(1)
            .and_then(|rest| rest.split("};").next())
            .expect("the table is in app.js");
        let mut checked = 0;
        for line in table.lines().map(str::trim).filter(|l| l.starts_with('\'')) {
            let (selector, signature) = line.split_once(": ").expect("'0x…': 'sig',");
            let selector = selector.trim_matches('\'');
            let signature = signature.trim_end_matches(',').trim_matches('\'');
            let hash = alloy_primitives::keccak256(signature.as_bytes());
            assert_eq!(selector, format!("0x{}", alloy_primitives::hex::encode(&hash[..4])), "{signature}");
            checked += 1;
        }
        assert!(checked >= 40, "only {checked} entries read");
    }

    #[tokio::test]
    async fn serves_the_page_on_every_route_with_a_strict_policy_and_refuses_writes_to_the_gate() {
        let base = start(Some("http://127.0.0.1:9".into())).await;
        let http = reqwest::Client::new();
        for path in ["/", "/tx/0x01", "/alerts", "/history", "/network"] {
            let r = http.get(format!("{base}{path}")).send().await.expect("get");
            assert_eq!(r.status(), 200, "{path}");
            let csp = r.headers()[header::CONTENT_SECURITY_POLICY].to_str().expect("csp").to_owned();
            assert!(csp.contains("script-src 'self'"), "{csp}");
            assert!(r.text().await.expect("body").contains("/assets/app.js"), "{path}");
        }
        let js = http.get(format!("{base}/assets/app.js")).send().await.expect("get");
        assert_eq!(js.headers()[header::CONTENT_TYPE], "text/javascript; charset=utf-8");
        assert_eq!(http.get(format!("{base}/nope")).send().await.expect("get").status(), 404);
        let config: Value =
            http.get(format!("{base}/config.json")).send().await.expect("get").json().await.expect("json");
        assert_eq!(config, json!({ "rpc_port": 8645, "gate": true, "court": false }));
        assert_eq!(http.get(format!("{base}/court/0x01")).send().await.expect("get").status(), 404, "no court");
        let metrics = http.get(format!("{base}/metrics")).send().await.expect("get").text().await.expect("text");
        assert!(metrics.contains("vigil_node_"), "{metrics}");
        // Only reads go through to the gate.
        let send = json!({ "method": "eth_sendRawTransaction", "params": ["0x00"] });
        let r = http.post(format!("{base}/gate")).json(&send).send().await.expect("post");
        assert_eq!(r.status(), 403);
        let r = http.post(format!("{base}/gate")).body("{").send().await.expect("post");
        assert_eq!(r.status(), 400);
        // A read to a gate that is not there: a clear 502, not a hang.
        let read = json!({ "method": "vigil_getTxStatus", "params": ["0x00"] });
        let r = http.post(format!("{base}/gate")).json(&read).send().await.expect("post");
        assert_eq!(r.status(), 502);
        let without = start(None).await;
        let r = http.post(format!("{without}/gate")).json(&read).send().await.expect("post");
        assert_eq!(r.status(), 404);
    }
}
