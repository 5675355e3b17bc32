//! The gate's Prometheus metrics (`vigil_gate_*`), served at `/metrics`.

use prometheus::{Encoder, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry, TextEncoder};

/// Every metric the gate exports, registered in its own registry.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    /// Transactions accepted (first time seen).
    pub txs_received: IntCounter,
    /// Valid certificates accepted.
    pub certificates_accepted: IntCounter,
    /// Certificates refused, by reason.
    pub certificates_rejected: IntCounterVec,
    /// Transactions refused at once because they could never be included,
    /// by reason (nonce too low or too high, gas, funds).
    pub refused: IntCounterVec,
    /// Transactions upstream accepted.
    pub forwarded: IntCounter,
    /// Transactions upstream refused for good.
    pub rejected_upstream: IntCounter,
    /// Transactions quarantined (deadline or malicious certificate).
    pub quarantined: IntCounter,
    /// Transactions forwarded by fail-open without a certificate.
    pub fail_open_admissions: IntCounter,
    /// Transactions waiting in the gate now.
    pub held: IntGauge,
    /// Transactions acknowledged and still waiting for a certificate.
    pub awaiting: IntGauge,
    /// The adaptive bound on `awaiting`; beyond it wallets hear busy.
    pub awaiting_limit: IntGauge,
    /// Transactions answered busy (-32005): the inspectors were not keeping up.
    pub busy: IntCounter,
    /// Quarantined transactions released by an operator's signed release.
    pub operator_releases: IntCounter,
    /// Operator releases refused (unknown key, bad signature, other chain).
    pub operator_releases_refused: IntCounter,
    /// Time from receipt to forwarding.
    pub forward_latency: Histogram,
    /// Quarantined transactions released by the court's `Released` events.
    pub court_releases: IntCounter,
    /// `Released` events that changed nothing (unknown or not quarantined).
    pub court_releases_ignored: IntCounter,
    /// Failed reads of the settlement chain by the court watcher.
    pub court_errors: IntCounter,
    /// The last settlement-chain block whose court events are applied.
    pub court_block: IntGauge,
    /// The gate's current epoch (certificates of it and the one before
    /// are accepted).
    pub epoch: IntGauge,
}

impl Metrics {
    /// Creates and registers every metric.
    pub fn new() -> Self {
        let registry = Registry::new();
        let counter = |name: &str, help: &str| {
            let c = IntCounter::new(name, help).unwrap_or_else(|_| unreachable_metric());
            let _ = registry.register(Box::new(c.clone()));
            c
        };
        let txs_received = counter("vigil_gate_txs_received_total", "Transactions accepted by the gate");
        let certificates_accepted =
            counter("vigil_gate_certificates_accepted_total", "Valid certificates accepted by the gate");
        let forwarded = counter("vigil_gate_forwarded_total", "Transactions forwarded upstream");
        let rejected_upstream = counter("vigil_gate_rejected_upstream_total", "Transactions upstream refused for good");
        let quarantined = counter("vigil_gate_quarantined_total", "Transactions quarantined");
        let fail_open_admissions = counter(
            "vigil_gate_fail_open_admissions_total",
            "Transactions forwarded by fail-open without a certificate",
        );
        let court_releases =
            counter("vigil_gate_court_releases_total", "Quarantined transactions released by the quarantine court");
        let court_releases_ignored = counter(
            "vigil_gate_court_releases_ignored_total",
            "Court releases of transactions the gate does not hold quarantined",
        );
        let busy =
            counter("vigil_gate_busy_total", "Transactions answered busy (-32005): too many wait for a certificate");
        let operator_releases = counter(
            "vigil_gate_operator_releases_total",
            "Quarantined transactions released by an operator's signed release",
        );
        let operator_releases_refused = counter(
            "vigil_gate_operator_releases_refused_total",
            "Operator releases refused: unknown key, bad signature or another chain",
        );
        let court_errors =
            counter("vigil_gate_court_errors_total", "Failed reads of the settlement chain by the court watcher");
        let court_block =
            IntGauge::new("vigil_gate_court_block", "Last settlement-chain block whose court events are applied")
                .unwrap_or_else(|_| unreachable_metric());
        let _ = registry.register(Box::new(court_block.clone()));
        let epoch = IntGauge::new("vigil_gate_epoch", "The gate's current committee epoch")
            .unwrap_or_else(|_| unreachable_metric());
        let _ = registry.register(Box::new(epoch.clone()));
        let certificates_rejected = IntCounterVec::new(
            Opts::new("vigil_gate_certificates_rejected_total", "Certificates refused by the gate, by reason"),
            &["reason"],
        )
        .unwrap_or_else(|_| unreachable_metric());
        let _ = registry.register(Box::new(certificates_rejected.clone()));
        let refused = IntCounterVec::new(
            Opts::new(
                "vigil_gate_txs_refused_total",
                "Transactions refused at once because they could never be included, by reason",
            ),
            &["reason"],
        )
        .unwrap_or_else(|_| unreachable_metric());
        let _ = registry.register(Box::new(refused.clone()));
        let held = IntGauge::new("vigil_gate_held", "Transactions waiting in the gate")
            .unwrap_or_else(|_| unreachable_metric());
        let _ = registry.register(Box::new(held.clone()));
        let gauge = |name: &str, help: &str| {
            let g = IntGauge::new(name, help).unwrap_or_else(|_| unreachable_metric());
            let _ = registry.register(Box::new(g.clone()));
            g
        };
        let awaiting =
            gauge("vigil_gate_awaiting_certificate", "Transactions acknowledged and waiting for a certificate");
        let awaiting_limit = gauge(
            "vigil_gate_awaiting_certificate_limit",
            "Adaptive bound on transactions waiting for a certificate; beyond it wallets hear busy",
        );
        let forward_latency = Histogram::with_opts(
            HistogramOpts::new("vigil_gate_forward_latency_seconds", "Time from receipt to forwarding upstream")
                .buckets(vec![0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0]),
        )
        .unwrap_or_else(|_| unreachable_metric());
        let _ = registry.register(Box::new(forward_latency.clone()));
        Self {
            registry,
            txs_received,
            certificates_accepted,
            certificates_rejected,
            refused,
            forwarded,
            rejected_upstream,
            quarantined,
            fail_open_admissions,
            held,
            awaiting,
            awaiting_limit,
            busy,
            operator_releases,
            operator_releases_refused,
            forward_latency,
            court_releases,
            court_releases_ignored,
            court_errors,
            court_block,
            epoch,
        }
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Metric names and help strings above are constants that prometheus
/// accepts; this is never reached.
fn unreachable_metric() -> ! {
    unreachable!("constant metric definition rejected")
}

#[cfg(test)]
mod tests {
    #[test]
    fn renders_every_metric() {
        let m = super::Metrics::new();
        m.certificates_rejected.with_label_values(&["bad_signature"]).inc();
        m.forward_latency.observe(0.2);
        let text = m.render();
        for name in [
            "vigil_gate_txs_received_total",
            "vigil_gate_certificates_accepted_total",
            "vigil_gate_certificates_rejected_total{reason=\"bad_signature\"} 1",
            "vigil_gate_forwarded_total",
            "vigil_gate_rejected_upstream_total",
            "vigil_gate_quarantined_total",
            "vigil_gate_fail_open_admissions_total",
            "vigil_gate_held",
            "vigil_gate_awaiting_certificate",
            "vigil_gate_awaiting_certificate_limit",
            "vigil_gate_busy_total",
            "vigil_gate_operator_releases_total",
            "vigil_gate_operator_releases_refused_total",
            "vigil_gate_forward_latency_seconds_count 1",
            "vigil_gate_court_releases_total",
            "vigil_gate_court_releases_ignored_total",
            "vigil_gate_court_errors_total",
            "vigil_gate_court_block",
            "vigil_gate_epoch",
        ] {
            assert!(text.contains(name), "{name} missing in\n{text}");
        }
    }
}
