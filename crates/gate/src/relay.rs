//! Best-effort relay of accepted transactions to the inspectors
//! (`--inspector URL`), so they can judge them. Never delays the wallet's
//! answer; a bounded number of relays run at once and the rest are dropped
//! with a warning (the inspectors also hear transactions over gossip).

use std::{sync::Arc, time::Duration};

use serde_json::json;
use tokio::sync::Semaphore;
use tracing::{debug, warn};

use crate::upstream::Upstream;

/// Relays in flight at most.
const MAX_IN_FLIGHT: usize = 256;
/// Tries per inspector.
const ATTEMPTS: u32 = 3;

/// Sends transactions to the inspectors.
#[derive(Debug, Clone)]
pub struct Relay {
    inspectors: Arc<Vec<Upstream>>,
    permits: Arc<Semaphore>,
}

impl Relay {
    /// A relay to these inspector URLs (none: relays nothing).
    pub fn new(urls: &[String]) -> Self {
        Self {
            inspectors: Arc::new(urls.iter().map(Upstream::new).collect()),
            permits: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
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
            tokio::spawn(async move {
                let _permit = permit;
                for attempt in 0..ATTEMPTS {
                    match inspector.call("eth_sendRawTransaction", json!([raw_hex])).await {
                        Ok(_) => {
                            debug!(target: "vigil_gate", inspector = inspector.url(), "transaction relayed");
                            return;
                        }
                        Err(e) => {
                            warn!(target: "vigil_gate", inspector = inspector.url(), attempt, error = %e, "relay failed");
                            tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
                        }
                    }
                }
            });
        }
    }
}
