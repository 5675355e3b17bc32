//! The inspector node (`vigil node run`): it follows the chain, takes
//! pending transactions from clients and peers, simulates and judges each
//! one, signs and gossips its vote, aggregates everyone's votes into
//! certificates or quarantines, stores it all, and answers the JSON-RPC.
//!
//! - [`follower`]: the chain view (executes the devnet's blocks locally);
//! - [`pipeline`]: admission -> inspection -> vote -> aggregation;
//! - [`store`]: what the node keeps in RocksDB, and the history queries;
//! - [`rpc`], [`metrics`], [`dashboard`]: the interfaces.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod dashboard;
pub mod follower;
pub mod metrics;
pub mod pipeline;
pub mod rpc;
pub mod rpc_view;
pub mod store;
pub mod view;

use std::{sync::Arc, time::Duration};

use follower::{ChainRpc, FollowError};
use pipeline::Inspector;

/// Brings the view up to the chain's head, then follows it: on every
/// `newHeads` notification of the chain's WebSocket endpoint (the same URL
/// with `ws://`), and at least every `poll` (the only trigger when the chain
/// offers no subscription). Stops following (and says so) if local
/// execution diverges.
pub async fn follow(node: Arc<Inspector>, rpc: ChainRpc, poll: Duration) {
    let (wake, mut woken) = tokio::sync::mpsc::channel::<()>(1);
    tokio::spawn(watch_heads(node.clone(), rpc.url().to_string(), wake));
    let mut last_error: Option<String> = None;
    loop {
        match sync_once(&node, &rpc).await {
            Ok(()) => last_error = None,
            Err(e @ FollowError::Diverged { .. }) => {
                tracing::error!(error = %e, "chain view diverged: this node stops following and keeps its last state");
                return;
            }
            Err(e) => {
                let message = e.to_string();
                if last_error.as_deref() != Some(message.as_str()) {
                    tracing::warn!(error = %message, "cannot follow the chain; retrying");
                }
                last_error = Some(message);
            }
        }
        let _ = tokio::time::timeout(poll, woken.recv()).await;
    }
}

/// Sends `wake` on every new head the chain announces over WebSocket;
/// reconnects after a failure, quietly after the first one (polling covers
/// a chain without subscriptions).
async fn watch_heads(node: Arc<Inspector>, http_url: String, wake: tokio::sync::mpsc::Sender<()>) {
    use jsonrpsee::core::client::SubscriptionClientT;
    let Some(ws_url) = ws_url(&http_url) else { return };
    let mut warned = false;
    loop {
        let subscribed = async {
            let client = jsonrpsee::ws_client::WsClientBuilder::default().build(&ws_url).await?;
            let sub = client
                .subscribe::<serde_json::Value, _>(
                    "eth_subscribe",
                    jsonrpsee::rpc_params!["newHeads"],
                    "eth_unsubscribe",
                )
                .await?;
            Ok::<_, jsonrpsee::core::ClientError>((client, sub))
        }
        .await;
        match subscribed {
            Ok((_client, mut heads)) => {
                tracing::debug!(url = %ws_url, "following new heads over WebSocket");
                warned = false;
                node.set_heads_pushed(true);
                while let Some(Ok(_)) = heads.next().await {
                    // A full channel already holds a wake-up: nothing lost.
                    if wake.try_send(()).is_err() && wake.is_closed() {
                        node.set_heads_pushed(false);
                        return;
                    }
                }
                node.set_heads_pushed(false);
            }
            Err(e) if !warned => {
                tracing::info!(url = %ws_url, error = %e, "no newHeads subscription; following by polling");
                warned = true;
            }
            Err(_) => {}
        }
        if wake.is_closed() {
            return;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// The WebSocket URL of an HTTP JSON-RPC endpoint.
fn ws_url(http_url: &str) -> Option<String> {
    if let Some(rest) = http_url.strip_prefix("http://") {
        Some(format!("ws://{rest}"))
    } else {
        http_url.strip_prefix("https://").map(|rest| format!("wss://{rest}"))
    }
}

/// Applies every block between the view's head and the chain's head.
/// Serialized with every other catch-up of this node (the follower and the
/// workers that catch up before judging).
pub async fn sync_once(node: &Arc<Inspector>, rpc: &ChainRpc) -> Result<(), FollowError> {
    let _one_at_a_time = node.sync_lock().lock().await;
    let target = rpc.block_number().await?;
    loop {
        let head = node.view().head();
        if head.number >= target && !head.hash.is_zero() {
            node.mark_synced();
        }
        let remote = matches!(*node.view(), view::View::Remote { .. });
        if remote {
            // A remote view moves straight to the head, dropping from its
            // cache what the blocks in between changed.
            if target <= head.number {
                return Ok(());
            }
            let me = node.clone();
            tokio::task::spawn_blocking(move || match &mut *me.view_mut() {
                view::View::Remote { rpc, .. } => rpc.advance(target).map(|_| ()),
                view::View::Local(_) => Ok(()),
            })
            .await
            .map_err(|e| FollowError::Diverged { number: target, reason: format!("executor: {e}") })?
            .map_err(|e| FollowError::Rpc { url: rpc.url().to_string(), reason: e.to_string() })?;
            node.metrics().head.set(target as i64);
            node.mark_synced();
            node.wake_gapped();
            return Ok(());
        }
        let next = if head.hash.is_zero() { 0 } else { head.number + 1 };
        if next > target {
            return Ok(());
        }
        let Some(block) = rpc.block(next).await? else { return Ok(()) };
        let me = node.clone();
        tokio::task::spawn_blocking(move || match &mut *me.view_mut() {
            view::View::Local(v) => v.apply(&block),
            view::View::Remote { .. } => Ok(()),
        })
        .await
        .map_err(|e| FollowError::Diverged { number: next, reason: format!("executor: {e}") })??;
        node.metrics().head.set(next as i64);
        node.wake_gapped();
    }
}

/// Deletes, every `every`, what was judged more than `keep_blocks` blocks
/// below the head (retention; DESIGN §5).
pub async fn retain(node: Arc<Inspector>, keep_blocks: u64, every: Duration) {
    let mut interval = tokio::time::interval(every);
    loop {
        interval.tick().await;
        let head = node.view().head().number;
        let Some(bound) = head.checked_sub(keep_blocks) else { continue };
        let me = node.clone();
        match tokio::task::spawn_blocking(move || me.store().prune(bound)).await {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::info!(removed = n, below_block = bound, "retention: pruned old records"),
            Ok(Err(e)) => tracing::error!(error = %e, "retention: prune failed"),
            Err(e) => tracing::error!(error = %e, "retention task panicked"),
        }
    }
}
