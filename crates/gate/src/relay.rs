//! Best-effort relay of accepted transactions to the inspectors
//! (`--inspector URL`), so they can judge them. Never delays the wallet's
//! answer; a bounded number of relays run at once and the rest are dropped
//! with a warning (the inspectors also hear transactions over gossip). An
//! inspector at its bound on clients' transactions answers busy: it is
//! asked again, backing off, until the gate's quarantine delay.

use std::{sync::Arc, time::Duration};

use serde_json::json;
use tokio::sync::Semaphore;
use tracing::{debug, warn};

use vigil_types::rpc;

use crate::upstream::Upstream;

/// Relays in flight at most.
const MAX_IN_FLIGHT: usize = 256;
/// Tries per inspector that cannot be reached.
const ATTEMPTS: u32 = 3;
/// Longest wait between two sends to an inspector that answered busy.
const BUSY_BACKOFF_MAX: Duration = Duration::from_millis(1600);

/// Sends transactions to the inspectors.
#[derive(Debug, Clone)]
pub struct Relay {
    inspectors: Arc<Vec<Upstream>>,
    permits: Arc<Semaphore>,
    /// How long a busy inspector is asked again (the gate's quarantine
    /// delay: after it the transaction is quarantined anyway).
    busy_for: Duration,
}

impl Relay {
    /// A relay to these inspector URLs (none: relays nothing). An
    /// inspector that answers busy (-32005, its bound on clients'
    /// transactions in flight) is asked again, backing off, for `busy_for`.
    pub fn new(urls: &[String], busy_for: Duration) -> Self {
        Self {
            inspectors: Arc::new(urls.iter().map(Upstream::new).collect()),
            permits: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
            busy_for,
        }
    }

    /// Sends `raw_hex` (0x-prefixed) to every inspector in the background.
    pub fn relay(&self, raw_hex: String) {
        for inspector in self.inspectors.iter() {
            let Ok(permit) = self.permits.clone().try_acquire_owned() else {
                warn!(target: "vigil_gate", inspector = inspector.url(), "relay queue full, transaction not relayed");
                continue;
            };
            let inspector = inspector.clone();
            let raw_hex = raw_hex.clone();
            let busy_until = tokio::time::Instant::now() + self.busy_for;
            tokio::spawn(async move {
                let _permit = permit;
                let (mut failures, mut backoff) = (0u32, Duration::from_millis(100));
                while failures < ATTEMPTS {
                    match inspector.call("eth_sendRawTransaction", json!([raw_hex])).await {
                        Ok(Err(e)) if i32::try_from(e.code) == Ok(rpc::LIMIT_EXCEEDED) => {
                            if tokio::time::Instant::now() + backoff > busy_until {
                                warn!(target: "vigil_gate", inspector = inspector.url(), error = %e.message, "inspector still busy; transaction not relayed to it");
                                return;
                            }
                            debug!(target: "vigil_gate", inspector = inspector.url(), "inspector busy; relaying again");
                            tokio::time::sleep(backoff).await;
                            backoff = (backoff * 2).min(BUSY_BACKOFF_MAX);
                        }
                        Ok(Err(e)) => {
                            debug!(target: "vigil_gate", inspector = inspector.url(), code = e.code, error = %e.message, "inspector refused the transaction");
                            return;
                        }
                        Ok(Ok(_)) => {
                            debug!(target: "vigil_gate", inspector = inspector.url(), "transaction relayed");
                            return;
                        }
                        Err(e) => {
                            warn!(target: "vigil_gate", inspector = inspector.url(), attempt = failures, error = %e, "relay failed");
                            tokio::time::sleep(Duration::from_millis(200 << failures)).await;
                            failures += 1;
                        }
                    }
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// An inspector's JSON-RPC that answers busy `busy` times, then takes
    /// the transaction; counts the calls.
    async fn inspector(busy: usize) -> (String, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let seen = calls.clone();
        let app = axum::Router::new().route(
            "/",
            axum::routing::post(move || {
                let n = seen.fetch_add(1, Ordering::SeqCst);
                async move {
                    axum::Json(if n < busy {
                        json!({"jsonrpc": "2.0", "id": 1, "error": {"code": -32005, "message": "busy"}})
                    } else {
                        json!({"jsonrpc": "2.0", "id": 1, "result": "0x01"})
                    })
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        (url, calls)
    }

    async fn calls_after(calls: &AtomicUsize, wait: Duration) -> usize {
        tokio::time::sleep(wait).await;
        calls.load(Ordering::SeqCst)
    }

    #[tokio::test]
    async fn a_busy_inspector_is_asked_again_until_the_quarantine_delay() {
        let (patient, patient_calls) = inspector(2).await;
        let (stuck, stuck_calls) = inspector(usize::MAX).await;
        Relay::new(&[patient], Duration::from_secs(5)).relay("0x02".into());
        Relay::new(&[stuck], Duration::from_millis(250)).relay("0x02".into());
        // Busy, busy (100 ms, 200 ms backoff), then taken: three calls.
        assert_eq!(calls_after(&patient_calls, Duration::from_millis(1500)).await, 3);
        // Within 250 ms: at 0 and after 100 ms; the next wait (200 ms)
        // would pass the delay, so it stops there for good.
        assert_eq!(calls_after(&stuck_calls, Duration::from_millis(500)).await, 2);
    }
}
