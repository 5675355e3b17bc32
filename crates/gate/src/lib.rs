//! The admission gate (DESIGN §6): a JSON-RPC proxy in front of any Ethereum
//! node that forwards a transaction upstream only once a valid clean
//! certificate for it has arrived. Every other method passes through
//! untouched.
//!
//! ```text
//! wallet ──eth_sendRawTransaction──> server ──> ledger (stored: pending) ──> hash back at once
//!                                      └──> relay ──> inspectors (best effort)
//! inspectors ──vigil_submitCertificate──> server ──verify──> ledger (stored: certified | quarantined)
//! forwarder (every --poll-ms): deadlines (quarantine, fail-open) ──> forwardable, in nonce order
//!            ──eth_sendRawTransaction──> upstream ──> receipts ──> included
//! court watcher (--court.*): settlement chain Released(txHash) ──> ledger: quarantined -> released
//!            (cursor stored with the releases) ──> wakes the forwarder
//! registry watcher (--registry.*): each new epoch's committee ──> admission (epochs e-1, e)
//! ```
//!
//! Owns the gate's store (column families in [`ledger::COLUMN_FAMILIES`]) and
//! the decision of what leaves for upstream. The state machine
//! ([`ledger::Ledger`]) is synchronous and does no network I/O; one thread
//! owns it ([`handle::LedgerHandle`]). Everything the gate acknowledges is
//! in the store, synced, before the answer goes out. Verifies certificates
//! only through `vigil-consensus`; never signs anything.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

/// Verified batch certificates the gate remembers by root.
const ROOTS_CACHED: usize = 4096;

pub mod court;
pub mod error;
mod forward;
pub mod handle;
pub mod ledger;
pub mod metrics;
mod relay;
pub mod server;
pub mod upstream;
pub mod verify;

use std::{future::Future, net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use tokio::sync::{watch, Notify};
use tracing::{info, warn};
use vigil_consensus::{limit::InflightLimit, Admission};
use vigil_store::Store;
use vigil_types::Committee;

pub use error::GateError;
pub use ledger::{Ledger, LedgerConfig, TxRecord, TxStatus};

/// Everything `vigil gate run` needs.
#[derive(Debug, Clone)]
pub struct GateConfig {
    /// The node behind the gate (JSON-RPC over HTTP).
    pub upstream: String,
    /// Committees the gate accepts certificates of; the highest epoch is the
    /// current one.
    pub committees: Vec<Committee>,
    /// Store directory.
    pub data_dir: PathBuf,
    /// JSON-RPC listen address.
    pub rpc_addr: SocketAddr,
    /// Prometheus listen address.
    pub metrics_addr: Option<SocketAddr>,
    /// Inspector endpoints each accepted transaction is relayed to.
    pub inspectors: Vec<String>,
    /// Quarantine a transaction without certificate this long after receipt.
    pub quarantine_after: Duration,
    /// Target time from acknowledgement to certificate: the bound on
    /// transactions acknowledged and still without one adapts to keep
    /// certificates within it, and a wallet beyond the bound hears busy
    /// (-32005) ([`vigil_consensus::limit`]).
    pub max_certify_lag: Duration,
    /// Fail-open delay; `None` is fail-closed.
    pub fail_open_after: Option<Duration>,
    /// Forwarder and receipt polling interval.
    pub poll_interval: Duration,
    /// Largest HTTP body.
    pub max_body_bytes: usize,
    /// Most requests in one batch.
    pub max_batch: usize,
    /// Most transactions held at once.
    pub max_held: usize,
    /// The quarantine court whose `Released` events release transactions;
    /// none: only the ledger API releases.
    pub court: Option<court::CourtConfig>,
    /// The registry whose new epochs replace the committees while the gate
    /// runs; none: the committees given are kept.
    pub registry: Option<RegistryConfig>,
    /// Operator keys (ed25519) whose signed releases free a quarantined
    /// transaction (`vigil_releaseQuarantined`, DESIGN §7); none: the chain's
    /// policy allows no operator override, only the court releases.
    pub operator_keys: Vec<alloy_primitives::B256>,
}

/// The registry the gate follows for new epochs.
#[derive(Debug, Clone)]
pub struct RegistryConfig {
    /// JSON-RPC URL of the settlement chain.
    pub rpc: String,
    /// The `InspectorRegistry`.
    pub address: alloy_primitives::Address,
    /// Where the registry's history starts (its deployment block).
    pub from_block: u64,
    /// How often to ask for a new epoch.
    pub poll: Duration,
}

impl GateConfig {
    /// Defaults for everything but the required settings.
    pub fn new(upstream: String, committees: Vec<Committee>, data_dir: PathBuf, rpc_addr: SocketAddr) -> Self {
        Self {
            upstream,
            committees,
            data_dir,
            rpc_addr,
            metrics_addr: None,
            inspectors: Vec::new(),
            quarantine_after: Duration::from_millis(5_000),
            max_certify_lag: Duration::from_millis(1_500),
            fail_open_after: None,
            poll_interval: Duration::from_millis(200),
            max_body_bytes: 5 * 1024 * 1024,
            max_batch: 1000,
            max_held: 100_000,
            court: None,
            registry: None,
            operator_keys: Vec::new(),
        }
    }
}

/// Reads a committee file: one committee object or an array of them
/// (DESIGN §4 JSON).
pub fn load_committees(path: &std::path::Path) -> Result<Vec<Committee>, GateError> {
    let err = |reason: String| GateError::Committee { path: path.to_path_buf(), reason };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| err(format!("not JSON: {e}")))?;
    let items = match value {
        serde_json::Value::Array(items) => items,
        one => vec![one],
    };
    if items.is_empty() {
        return Err(err("holds no committee".into()));
    }
    items.into_iter().map(|c| Committee::from_json(&c.to_string()).map_err(err)).collect()
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Runs the gate until `shutdown` completes (or a critical task fails):
/// checks the upstream chain, reloads the store, serves JSON-RPC and
/// metrics, forwards. On shutdown the servers stop taking requests, the
/// forwarder stops, and the ledger thread finishes the writes queued to it.
pub async fn run(config: GateConfig, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), GateError> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let stop_tx = Arc::new(stop_tx);
    {
        let stop_tx = stop_tx.clone();
        tokio::spawn(async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        });
    }

    let chain_id = config
        .committees
        .first()
        .map(|c| c.chain_id)
        .ok_or_else(|| GateError::InvalidCommittee("no committee given".into()))?;
    let mut admission = Admission::new(chain_id);
    for c in &config.committees {
        admission
            .insert_committee(c.clone())
            .map_err(|e| GateError::InvalidCommittee(format!("epoch {}: {e}", c.epoch)))?;
    }
    let epoch = admission.current_epoch();

    let upstream = upstream::Upstream::new(config.upstream.clone());
    let upstream_chain = forward::upstream_chain_id(&upstream, &mut stop_rx.clone()).await?;
    if upstream_chain != chain_id {
        return Err(GateError::ChainMismatch {
            upstream: config.upstream.clone(),
            upstream_chain,
            committee_chain: chain_id,
        });
    }

    let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    let ledger_config = LedgerConfig {
        chain_id,
        quarantine_after_ms: ms(config.quarantine_after),
        fail_open_after_ms: config.fail_open_after.map(ms),
        max_held: config.max_held,
        max_early_certificates: config.max_held,
    };
    let store = Store::open(&config.data_dir, ledger::COLUMN_FAMILIES)?;
    let ledger = Ledger::open(store, ledger_config.clone(), now_ms())?;
    let (held, to_forward) = (ledger.held_count(), ledger.forwardable().len());
    let (handle, ledger_thread) =
        handle::LedgerHandle::spawn(ledger).map_err(|source| GateError::Serve { what: "ledger", source })?;

    match ledger_config.fail_open_after_ms {
        None => {
            info!(target: "vigil_gate", "fail-closed: transactions without a certificate are held, never forwarded")
        }
        Some(after) => warn!(
            target: "vigil_gate",
            after_ms = after,
            "FAIL-OPEN CONFIGURED: when no certificate at all arrives for {after} ms, waiting transactions are forwarded UNCHECKED"
        ),
    }
    info!(target: "vigil_gate", chain_id, epoch, upstream = %config.upstream, held, to_forward, data = %config.data_dir.display(), "gate state loaded");

    let metrics = metrics::Metrics::new();
    let app = Arc::new(server::App {
        ledger: handle,
        admission: std::sync::RwLock::new(Arc::new(admission)),
        upstream,
        metrics: metrics.clone(),
        relay: relay::Relay::new(&config.inspectors, config.quarantine_after),
        awaiting: std::sync::Mutex::new(InflightLimit::new(config.max_certify_lag)),
        operator_keys: config.operator_keys.clone(),
        wake: Arc::new(Notify::new()),
        limits: server::Limits { max_body_bytes: config.max_body_bytes, max_batch: config.max_batch },
        info: server::Static {
            chain_id,
            quarantine_after_ms: ledger_config.quarantine_after_ms,
            fail_open_after_ms: ledger_config.fail_open_after_ms,
        },
        verifier: vigil_crypto::BatchVerifier::start("gate-verifier", 64, 4096),
        roots: Arc::new(std::sync::Mutex::new(vigil_consensus::VerifiedRoots::new(ROOTS_CACHED))),
    });

    let listener = tokio::net::TcpListener::bind(config.rpc_addr)
        .await
        .map_err(|source| GateError::Bind { addr: config.rpc_addr, source })?;
    let rpc_addr = listener.local_addr().map_err(|source| GateError::Bind { addr: config.rpc_addr, source })?;
    info!(target: "vigil_gate", %rpc_addr, "JSON-RPC listening");
    let metrics_server = match config.metrics_addr {
        Some(addr) => {
            let l = tokio::net::TcpListener::bind(addr).await.map_err(|source| GateError::Bind { addr, source })?;
            info!(target: "vigil_gate", metrics_addr = %addr, "metrics listening");
            let router = server::metrics_router(metrics);
            let stop = stop_rx.clone();
            Some(tokio::spawn(async move { axum::serve(l, router).with_graceful_shutdown(stopped(stop)).await }))
        }
        None => None,
    };

    let forwarder = tokio::spawn(forward::run(app.clone(), config.poll_interval, stop_rx.clone(), stop_tx.clone()));
    let watcher =
        config.court.clone().map(|c| tokio::spawn(court::run(app.clone(), c, stop_rx.clone(), stop_tx.clone())));
    app.metrics.epoch.set(i64::try_from(epoch).unwrap_or(i64::MAX));
    let registry_watcher =
        config.registry.clone().map(|r| tokio::spawn(follow_registry(app.clone(), r, epoch, stop_rx.clone())));
    let served = axum::serve(listener, server::router(app.clone())).with_graceful_shutdown(stopped(stop_rx)).await;
    let _ = stop_tx.send(true);
    let _ = forwarder.await;
    if let Some(w) = watcher {
        let _ = w.await;
    }
    if let Some(w) = registry_watcher {
        let _ = w.await;
    }
    if let Some(m) = metrics_server {
        let _ = m.await;
    }
    // The last handle goes with `app`: the ledger thread drains its queue
    // (every write completes) and ends.
    drop(app);
    let _ = tokio::task::spawn_blocking(move || ledger_thread.join()).await;
    info!(target: "vigil_gate", "gate stopped");
    served.map_err(|source| GateError::Serve { what: "JSON-RPC", source })
}

/// Follows the registry's epochs until `stop`: every newer committee the
/// watcher reads (verified) moves the admission forward. The settlement
/// chain being unreachable is the watcher's to retry; it never stops the
/// gate.
async fn follow_registry(app: Arc<server::App>, config: RegistryConfig, held: u64, stop: watch::Receiver<bool>) {
    use vigil_settlement::{registry::Registry, rpc::Client, watch::CommitteeWatcher};
    let registry = Registry::new(Client::new(config.rpc.clone()), config.address);
    let watcher = CommitteeWatcher::new(registry, config.from_block, config.poll, Some(held));
    let (updates, mut committees) = tokio::sync::mpsc::channel(4);
    let task = tokio::spawn(watcher.run(updates));
    let stop = stopped(stop);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            next = committees.recv() => match next {
                Some(committee) => {
                    let epoch = committee.epoch();
                    if let Err(e) = app.set_committee(committee) {
                        tracing::error!(target: "vigil_gate", epoch, error = %e, "the registry's committee cannot be used; keeping the current ones");
                    }
                }
                None => break,
            },
        }
    }
    // Dropping the receiver ends the watcher at its next step.
    drop(committees);
    task.abort();
}

async fn stopped(mut stop: watch::Receiver<bool>) {
    while !*stop.borrow() {
        if stop.changed().await.is_err() {
            return;
        }
    }
}
