//! The node's Prometheus metrics (`vigil_node_*`), served at `/metrics`.

use prometheus::{
    core::Collector, Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

/// Every metric the node exports, in its own registry.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    /// Transactions admitted, by source (`rpc`, `gossip`).
    pub txs: IntCounterVec,
    /// Transactions refused at admission, by reason.
    pub refused: IntCounterVec,
    /// Transactions waiting for simulation.
    pub queue_depth: IntGauge,
    /// Clients' transactions in flight here, and their adaptive bound.
    pub client_inflight: IntGauge,
    /// The bound on clients' transactions in flight.
    pub client_limit: IntGauge,
    /// Latency per stage (`queue`, `inspect`, `vote`, `certify`).
    pub stage_seconds: HistogramVec,
    /// Own verdicts, by kind.
    pub verdicts: IntCounterVec,
    /// Own clean verdicts with an alert, by rule (one per rule that weighed).
    pub alerts: IntCounterVec,
    /// Votes of other members accepted.
    pub votes_seen: IntCounter,
    /// Certificates, by origin (`formed`, `received`).
    pub certificates: IntCounterVec,
    /// Transactions quarantined.
    pub quarantined: IntCounter,
    /// Equivocations seen.
    pub equivocations: IntCounter,
    /// Gossip messages, by topic and result.
    pub gossip: IntCounterVec,
    /// Connected peers.
    pub peers: IntGauge,
    /// Peers banned for invalid gossip.
    pub banned: IntCounter,
    /// Head of the followed chain.
    pub head: IntGauge,
    /// Epoch of the committee the node is in.
    pub epoch: IntGauge,
    /// This node's index in the current committee, -1 when it is not a
    /// member (and does not vote).
    pub member_index: IntGauge,
    /// Transactions per batch this node proposed.
    pub batch_size: prometheus::Histogram,
    /// Batch votes this node signed, by how they went out: `own` (its own
    /// proposal, pooled here), `direct` (sent to the proposer), `gossip`
    /// (the proposer unreachable or unknown).
    pub batch_votes: IntCounterVec,
    /// Batches without a certificate in time (their transactions voted on alone).
    pub batch_fallbacks: IntCounter,
    /// Messages peers sent to this node alone, by topic and result.
    pub direct: IntCounterVec,
    /// Gossip bytes received and validated, by topic.
    pub gossip_bytes: IntCounterVec,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Creates and registers every metric.
    pub fn new() -> Self {
        let registry = Registry::new();
        fn reg<C: Collector + Clone + 'static>(r: &Registry, c: Result<C, prometheus::Error>) -> C {
            match c {
                Ok(c) => {
                    let _ = r.register(Box::new(c.clone()));
                    c
                }
                // Names and labels are constants below: a failure here is a
                // typo caught by the first test that builds Metrics.
                Err(e) => unreachable_metric(e),
            }
        }
        let counter_vec =
            |name: &str, help: &str, labels: &[&str]| reg(&registry, IntCounterVec::new(Opts::new(name, help), labels));
        let counter = |name: &str, help: &str| reg(&registry, IntCounter::new(name, help));
        let gauge = |name: &str, help: &str| reg(&registry, IntGauge::new(name, help));
        Self {
            txs: counter_vec("vigil_node_txs_total", "Transactions admitted for inspection", &["source"]),
            refused: counter_vec("vigil_node_txs_refused_total", "Transactions refused at admission", &["reason"]),
            queue_depth: gauge("vigil_node_queue_depth", "Transactions waiting for simulation"),
            client_inflight: gauge(
                "vigil_node_client_inflight",
                "Transactions from clients admitted here and not yet decided",
            ),
            client_limit: gauge(
                "vigil_node_client_limit",
                "Adaptive bound on client transactions in flight; beyond it clients get busy, retry later",
            ),
            stage_seconds: reg(
                &registry,
                HistogramVec::new(
                    HistogramOpts::new("vigil_node_stage_seconds", "Latency per pipeline stage").buckets(vec![
                        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                    ]),
                    &["stage"],
                ),
            ),
            verdicts: counter_vec("vigil_node_verdicts_total", "Own verdicts", &["kind"]),
            alerts: counter_vec(
                "vigil_node_alerts_total",
                "Own clean verdicts with an alert, by each rule that weighed in",
                &["rule"],
            ),
            votes_seen: counter("vigil_node_votes_seen_total", "Votes of other members accepted"),
            certificates: counter_vec("vigil_node_certificates_total", "Certificates", &["origin"]),
            quarantined: counter("vigil_node_quarantined_total", "Transactions quarantined"),
            equivocations: counter("vigil_node_equivocations_total", "Equivocations seen"),
            gossip: counter_vec("vigil_node_gossip_messages_total", "Gossip messages", &["topic", "result"]),
            peers: gauge("vigil_node_peers", "Connected peers"),
            banned: counter("vigil_node_peers_banned_total", "Peers banned for invalid gossip"),
            head: gauge("vigil_node_chain_head", "Head of the followed chain"),
            epoch: gauge("vigil_node_epoch", "Epoch of the committee the node is in"),
            member_index: gauge("vigil_node_member_index", "This node's index in the current committee, -1 if none"),
            batch_size: reg(
                &registry,
                prometheus::Histogram::with_opts(
                    HistogramOpts::new("vigil_node_batch_size", "Transactions per batch this node proposed")
                        .buckets(vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0]),
                ),
            ),
            batch_votes: counter_vec(
                "vigil_node_batch_votes_total",
                "Batch votes this node signed, by route (own, direct, gossip)",
                &["route"],
            ),
            batch_fallbacks: counter(
                "vigil_node_batch_fallbacks_total",
                "Batches without a certificate in time; their transactions were voted on alone",
            ),
            direct: counter_vec(
                "vigil_node_direct_messages_total",
                "Messages peers sent to this node alone (batch votes to their proposer)",
                &["topic", "result"],
            ),
            gossip_bytes: counter_vec("vigil_node_gossip_bytes_total", "Gossip bytes received, by topic", &["topic"]),
            registry,
        }
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}

#[allow(clippy::panic)]
fn unreachable_metric(e: prometheus::Error) -> ! {
    panic!("metric definition is invalid: {e}")
}

/// Serves `/metrics` on `addr` until the task is dropped.
pub async fn serve(metrics: Metrics, addr: std::net::SocketAddr) -> std::io::Result<std::net::SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let m = metrics.clone();
            async move { m.render() }
        }),
    );
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "metrics server stopped");
        }
    });
    Ok(local)
}
