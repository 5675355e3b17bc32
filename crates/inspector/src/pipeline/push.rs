//! Certificates out: a verified certificate is stored, gossiped and
//! pushed to the sequencers, by the member whose turn it is first and by
//! the others later, only if the transaction is still not included.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use alloy_primitives::B256;
use vigil_types::{codec::Wire, Certificate, Topic};

use super::{blocking, now_ms, Inspector, NodeEvent};

impl Inspector {
    /// A verified certificate: stored; gossiped when this node formed it;
    /// pushed to the sequencers by the node whose turn it is.
    pub(super) async fn on_certificate(&self, cert: Certificate, formed_here: bool) {
        let hash = cert.tx_hash;
        match self.store.certificate(hash) {
            Ok(Some(_)) => return,
            Ok(None) => {}
            Err(e) => {
                tracing::error!(tx = %hash, error = %e, "store read failed");
                return;
            }
        }
        if let Err(e) = blocking(|| self.store.put_certificate(&cert)) {
            tracing::error!(tx = %hash, error = %e, "could not store the certificate");
            return;
        }
        self.metrics.certificates.with_label_values(&[if formed_here { "formed" } else { "received" }]).inc();
        tracing::debug!(tx = %hash, signers = cert.signers.count(), formed_here, "certificate");
        if let Ok(Some(tx)) = self.store.tx(hash) {
            let waited = now_ms().saturating_sub(tx.received_ms);
            self.metrics.stage_seconds.with_label_values(&["certify"]).observe(waited as f64 / 1000.0);
        }
        self.lock_inflight().decided(&hash, Instant::now());
        let _ = self.events.send(NodeEvent::Certificate(Arc::new(cert.clone().into())));
        // One node gossips the certificate and pushes it to the sequencers
        // at once: the member the hash designates. Every member forms its
        // own from the votes, so copies from all of them would only cost
        // each peer a signature check and, often, a pairing. The others, in turn, a
        // little later and only if the chain has not moved past the
        // transaction's nonce (a stopped node does not strand it; a running
        // one costs no extra message).
        let stored = blocking(|| self.store.tx(hash)).ok().flatten();
        let rank = self.turn(hash);
        let gossip = formed_here.then(|| cert.encode());
        if rank == 0 {
            if let Some(bytes) = gossip.clone() {
                self.publish_certificate(hash, bytes).await;
            }
        }
        if rank > 0 && gossip.is_none() && self.config.sequencers.is_empty() {
            return;
        }
        // The sequencer gets the certificate, then the transaction itself (a
        // wallet may have sent it to an inspector only). A fallback pusher
        // asks each sequencer first whether it still lacks them.
        let delay = Duration::from_millis(1500 * u64::from(rank));
        let cert_body = serde_json::json!({
            "jsonrpc": "2.0", "id": 1, "method": "vigil_submitCertificate", "params": [cert],
        });
        let sender_nonce = stored.as_ref().map(|t| (t.sender, t.nonce));
        let tx_body = stored.map(|tx| {
            serde_json::json!({
                "jsonrpc": "2.0", "id": 2, "method": "eth_sendRawTransaction",
                "params": [format!("0x{}", alloy_primitives::hex::encode(&tx.raw))],
            })
        });
        let Some(me) = self.this.upgrade() else { return };
        tokio::spawn(async move {
            if rank > 0 {
                tokio::time::sleep(delay).await;
                let included = sender_nonce.is_some_and(|(sender, nonce)| {
                    blocking(|| me.view().nonce_and_balance(sender)).is_ok_and(|(next, _)| next > nonce)
                });
                if included {
                    return;
                }
                if let Some(bytes) = gossip {
                    me.publish_certificate(hash, bytes).await;
                }
            }
            // Each sequencer on its own task: one that is down and retried
            // does not hold up the others.
            for url in me.config.sequencers.clone() {
                let (http, cert_body, tx_body) = (me.http.clone(), cert_body.clone(), tx_body.clone());
                tokio::spawn(async move {
                    if rank > 0 && !sequencer_lacks(&http, &url, hash).await {
                        return;
                    }
                    if push(&http, &url, &cert_body).await {
                        if let Some(body) = tx_body {
                            push(&http, &url, &body).await;
                        }
                    }
                });
            }
        });
    }

    /// This node's turn to gossip and push the certificate of `hash`: 0 for
    /// the member the hash designates, then the other members in index
    /// order after it; a node outside the committee comes after every
    /// member. (Not the node a client sent the transaction to: the gate
    /// relays every transaction to every inspector.)
    pub(super) fn turn(&self, hash: B256) -> u32 {
        let state = self.epoch_state();
        turn_of(hash, state.committee.len(), state.index)
    }

    async fn publish_certificate(&self, hash: B256, bytes: Vec<u8>) {
        if let Err(e) = self.net.publish(Topic::Cert, bytes).await {
            tracing::debug!(tx = %hash, error = %e, "certificate not gossiped");
        }
    }
}

/// [`Inspector::turn`] of the member at `index` (`None`: not a member) of
/// a committee of `members`: the hash's last 8 bytes, modulo the members,
/// designate the first.
fn turn_of(hash: B256, members: usize, index: Option<u32>) -> u32 {
    let n = members.max(1) as u32;
    let designated = (u64::from_be_bytes(hash[24..32].try_into().unwrap_or_default()) % u64::from(n)) as u32;
    index.map_or(n, |i| (i + n - designated) % n)
}

/// Whether the sequencer at `url` still needs the certificate or the
/// transaction `hash` (unknown to it, or held without a certificate).
async fn sequencer_lacks(http: &reqwest::Client, url: &str, hash: B256) -> bool {
    let body = serde_json::json!({ "jsonrpc": "2.0", "id": 1, "method": "vigil_getTxStatus", "params": [hash] });
    let Ok(r) = http.post(url).json(&body).send().await else { return true };
    let Ok(v) = r.json::<serde_json::Value>().await else { return true };
    match v["result"]["status"].as_str() {
        None => true,
        Some(status) => matches!(status, "pending" | "awaiting_transaction"),
    }
}

/// Posts a JSON-RPC call, retrying transport failures with backoff;
/// whether the endpoint answered (an error answer counts: it was heard).
pub(super) async fn push(http: &reqwest::Client, url: &str, body: &serde_json::Value) -> bool {
    for attempt in 0..5u32 {
        match http.post(url).json(body).send().await {
            Ok(r) => {
                if let Ok(v) = r.json::<serde_json::Value>().await {
                    if let Some(e) = v.get("error") {
                        tracing::debug!(%url, error = %e, method = %body["method"], "sequencer refused");
                    }
                }
                return true;
            }
            Err(e) => tracing::warn!(%url, error = %e, attempt, "push to the sequencer failed"),
        }
        tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
    }
    false
}

#[cfg(test)]
mod tests {
    use std::sync::{
        atomic::{AtomicUsize, Ordering},
        Mutex,
    };

    use axum::response::{IntoResponse, Response};
    use serde_json::{json, Value};

    use super::*;

    /// A hash whose last 8 bytes read `n`.
    fn hash_ending(n: u64, head: u8) -> B256 {
        let mut h = [head; 32];
        h[24..].copy_from_slice(&n.to_be_bytes());
        B256::from(h)
    }

    #[test]
    fn turn_of_starts_at_the_designated_member_and_goes_round_in_index_order() {
        // 4 members, 14 mod 4 = 2: member 2 first, then 3, 0, 1.
        let h = hash_ending(14, 0);
        assert_eq!([0, 1, 2, 3].map(|i| turn_of(h, 4, Some(i))), [2, 3, 0, 1]);
        assert_eq!(turn_of(h, 4, None), 4, "a non-member comes after every member");
        // Only the last 8 bytes count.
        assert_eq!(turn_of(hash_ending(14, 0xff), 4, Some(2)), 0);
        // The largest hash does not overflow.
        assert_eq!(turn_of(B256::repeat_byte(0xff), 7, Some(6)), (6 + 7 - (u64::MAX % 7) as u32) % 7);
    }

    #[test]
    fn turn_of_gives_every_member_its_own_turn() {
        for members in 1..=9usize {
            for n in [0u64, 1, 5, 1234567, u64::MAX] {
                let h = hash_ending(n, 0x11);
                let mut turns: Vec<u32> = (0..members as u32).map(|i| turn_of(h, members, Some(i))).collect();
                turns.sort_unstable();
                assert_eq!(turns, (0..members as u32).collect::<Vec<_>>(), "{members} members, hash {h}");
                assert_eq!(turn_of(h, members, None), members as u32);
            }
        }
    }

    #[test]
    fn turn_of_an_empty_committee_counts_as_one_member() {
        assert_eq!(turn_of(hash_ending(3, 0), 0, Some(0)), 0);
        assert_eq!(turn_of(hash_ending(3, 0), 0, None), 1);
    }

    /// Serves `app` on a free local port; its URL.
    async fn serve(app: axum::Router) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    }

    /// A URL nothing listens on.
    fn closed_url() -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}", listener.local_addr().expect("addr"))
    }

    /// A sequencer answering `vigil_getTxStatus` by the hash's last byte.
    async fn status(axum::Json(req): axum::Json<Value>) -> Response {
        let Some(hash) = req["params"][0].as_str().filter(|_| req["method"] == "vigil_getTxStatus") else {
            return axum::Json(json!({ "jsonrpc": "2.0", "id": 1, "result": { "status": "unexpected request" } }))
                .into_response();
        };
        let status = match &hash[hash.len() - 2..] {
            "01" => "pending",
            "02" => "awaiting_transaction",
            "03" => "certified",
            "04" => "included",
            "05" => return axum::Json(json!({ "jsonrpc": "2.0", "id": 1, "result": null })).into_response(),
            "06" => {
                return axum::Json(json!({ "jsonrpc": "2.0", "id": 1, "error": { "code": -32601, "message": "no" } }))
                    .into_response()
            }
            _ => return "not json".into_response(),
        };
        axum::Json(json!({ "jsonrpc": "2.0", "id": 1, "result": { "status": status } })).into_response()
    }

    #[tokio::test]
    async fn sequencer_lacks_unless_it_has_the_certificate() {
        let url = serve(axum::Router::new().route("/", axum::routing::post(status))).await;
        let http = reqwest::Client::new();
        let cases = [
            (1, true, "pending"),
            (2, true, "awaiting the transaction"),
            (3, false, "certified"),
            (4, false, "included"),
            (5, true, "no status"),
            (6, true, "an error answer"),
            (7, true, "not JSON"),
        ];
        for (n, lacks, what) in cases {
            assert_eq!(sequencer_lacks(&http, &url, hash_ending(n, 0)).await, lacks, "{what}");
        }
        assert!(sequencer_lacks(&http, &closed_url(), hash_ending(3, 0)).await, "unreachable");
    }

    #[tokio::test]
    async fn push_posts_the_body_once_and_an_error_answer_counts_as_heard() {
        let seen = std::sync::Arc::new(Mutex::new(Vec::<Value>::new()));
        let app = axum::Router::new().route(
            "/",
            axum::routing::post({
                let seen = seen.clone();
                move |axum::Json(req): axum::Json<Value>| async move {
                    seen.lock().expect("lock").push(req);
                    axum::Json(json!({ "jsonrpc": "2.0", "id": 1, "error": { "code": -32000, "message": "known" } }))
                }
            }),
        );
        let url = serve(app).await;
        let body = json!({ "jsonrpc": "2.0", "id": 1, "method": "vigil_submitCertificate", "params": [1, 2] });
        assert!(push(&reqwest::Client::new(), &url, &body).await);
        assert_eq!(*seen.lock().expect("lock"), [body]);
    }

    #[tokio::test]
    async fn push_gives_up_after_five_attempts_with_backoff() {
        // A listener that hangs up on every connection, counting them.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let tries = std::sync::Arc::new(AtomicUsize::new(0));
        tokio::spawn({
            let tries = tries.clone();
            async move {
                while let Ok((conn, _)) = listener.accept().await {
                    tries.fetch_add(1, Ordering::Relaxed);
                    drop(conn);
                }
            }
        });
        let start = Instant::now();
        let body = json!({ "jsonrpc": "2.0", "id": 1, "method": "vigil_submitCertificate", "params": [] });
        assert!(!push(&reqwest::Client::new(), &url, &body).await);
        assert_eq!(tries.load(Ordering::Relaxed), 5);
        // 100 + 200 + 400 + 800 + 1600 ms after the attempts.
        let waited = start.elapsed();
        assert!(waited >= Duration::from_millis(3100), "gave up after {waited:?}");
    }
}
