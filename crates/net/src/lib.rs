//! Vigil's peer-to-peer layer: how inspectors, the gate and anyone else on
//! the inspector network find each other and exchange gossip (DESIGN §2,
//! §11).
//!
//! Owns the libp2p swarm, which runs in its own tokio task; the rest of the
//! node holds a cheap, cloneable [`NetHandle`] and reads [`NetEvent`]s from a
//! bounded channel. Does not decode or judge messages: the application
//! validates every inbound message and reports a [`Validation`]; this crate
//! only enforces sizes and turns verdicts into forwarding and peer scores.
//!
//! ```text
//!  peer --gossipsub--> size pre-check --reject--> P4 penalty
//!                          |
//!                          v  (held in gossipsub's cache, not forwarded)
//!             NetEvent::Message --> application decodes, checks
//!                          |
//!   NetHandle::report(Accept) --> forwarded to mesh peers
//!   NetHandle::report(Reject) --> dropped, sender's score falls
//!   Ignore / no verdict within validation_timeout --> dropped, no penalty
//!
//!  every score_check_interval: score < -80 --> disconnect, block, PeerBanned
//! ```
//!
//! # Protocols
//!
//! Standard libp2p protocols only, so js-libp2p with
//! `@chainsafe/libp2p-gossipsub` can join: TCP, `/noise`, `/yamux/1.0.0`,
//! `/ipfs/id/1.0.0` (identify), Kademlia under `/vigil/<chain>/kad/1.0.0`
//! (server mode, so that nodes on private addresses still answer) and
//! gossipsub `/meshsub/1.1.0` and `/meshsub/1.2.0`, and request-response
//! under `/vigil/<chain>/direct/1` for messages to one peer
//! ([`NetHandle::send`], the `direct` module). QUIC is left out: TCP is
//! what js-libp2p speaks on Node.js, and QUIC would double the dependency
//! tree.
//!
//! Topics are `vigil/<chain>/{tx,vote,cert,evidence,batch,batchvote,batchcert}/1`
//! ([`vigil_types::Topic::name`]). Messages are signed with the node's
//! ed25519 key and checked strictly (gossipsub `StrictSign`, the JS
//! default). A message id is `sha256(data)` ([`MsgId::of`]): the same bytes
//! are one message whoever publishes them, and a JS peer must use the same
//! `msgIdFn`.
//!
//! # Sizes
//!
//! Gossipsub's per-topic limit is the topic's bound plus
//! [`config::ENVELOPE_OVERHEAD`] for the signed envelope; the exact bound,
//! [`vigil_types::Topic::max_message_size`] of the data, is checked before
//! the message reaches the application and rejected (with a penalty) when
//! exceeded. [`NetHandle::publish`] refuses oversized messages locally.
//!
//! # Scoring and bans
//!
//! Gossipsub peer scoring ([`NetConfig::peer_score_params`]) with one strong
//! signal: every message the application rejects, or gossipsub finds
//! malformed (bad signature, over the size limit), adds to the sender's
//! invalid-message counter `n` on that topic, and the score falls by
//! `5 * n^2`. Positive credit (time in mesh, first deliveries) is capped at
//! 20. A peer is banned when its score is below the graylist threshold,
//! -80: about five rejected messages within the counter's decay (to a tenth
//! in an hour). A banned peer is disconnected, blocked from reconnecting in
//! either direction for [`NetConfig::ban_duration`], removed from the
//! Kademlia table, and reported as [`NetEvent::PeerBanned`]. Ignored
//! messages cost nothing, so the application must reject only what is
//! provably invalid (malformed, bad signature, wrong chain) and ignore what
//! is merely stale or not yet checkable.
//!
//! # Back-pressure
//!
//! The event channel is bounded ([`NetConfig::event_buffer`]). When it is
//! full, new gossip is ignored (not forwarded, no penalty) and counted in
//! [`NetStats::dropped_inbound`]; peer events wait in a small bounded
//! backlog. Messages this node publishes are never delivered back to it.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod config;
mod direct;
mod error;
mod service;

use std::{
    fmt,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
};

use tokio::sync::{mpsc, oneshot};
use vigil_types::Topic;

pub use config::NetConfig;
pub use error::NetError;
pub use libp2p::{identity::Keypair, Multiaddr, PeerId};

/// A gossip message id: `sha256(data)`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MsgId(pub [u8; 32]);

impl MsgId {
    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for MsgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", hex::encode(self.0))
    }
}

impl fmt::Debug for MsgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MsgId({self})")
    }
}

/// The application's verdict on an inbound message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validation {
    /// Valid: forward it to the mesh.
    Accept,
    /// Provably invalid: drop it and penalize the peer that sent it.
    Reject,
    /// Not forwarded, no penalty (stale, duplicate at the application
    /// level, not checkable yet).
    Ignore,
}

/// A gossip message awaiting the application's [`Validation`]. It is not
/// forwarded to anyone until [`NetHandle::report`] says `Accept`.
#[derive(Debug, Clone)]
pub struct Inbound {
    /// The content id, to pass back to [`NetHandle::report`].
    pub id: MsgId,
    /// The peer that sent it to us (not necessarily its author); the one
    /// penalized on `Reject`.
    pub source: PeerId,
    /// The peer that published it (gossip messages are signed by their
    /// author), when the message names one.
    pub author: Option<PeerId>,
    /// The topic it arrived on.
    pub topic: Topic,
    /// The message bytes, at most `topic.max_message_size()` long.
    pub data: Vec<u8>,
}

/// A message a peer sent to this node alone ([`NetHandle::send`]). It is
/// not forwarded and needs no [`Validation`].
#[derive(Debug, Clone)]
pub struct Direct {
    /// The peer that sent it (its connection's authenticated identity).
    pub source: PeerId,
    /// The topic its content belongs to (it is decoded as on that topic).
    pub topic: Topic,
    /// The message bytes, at most `topic.max_message_size()` long.
    pub data: Vec<u8>,
}

/// What the network tells the application.
#[derive(Debug, Clone)]
pub enum NetEvent {
    /// A message to validate (and then use).
    Message(Inbound),
    /// A message sent to this node alone.
    Direct(Direct),
    /// First connection to a peer established.
    PeerConnected(PeerId),
    /// Last connection to a peer closed.
    PeerDisconnected(PeerId),
    /// A peer's score fell below the graylist threshold: it is disconnected
    /// and blocked for [`NetConfig::ban_duration`].
    PeerBanned {
        /// The peer.
        peer: PeerId,
        /// Its gossipsub score when banned.
        score: f64,
    },
}

/// A connected peer as the network sees it.
#[derive(Debug, Clone)]
pub struct PeerInfo {
    /// Its identity.
    pub peer_id: PeerId,
    /// Remote addresses of its open connections.
    pub addresses: Vec<Multiaddr>,
    /// Its gossipsub score (`None` only if scoring is off).
    pub score: Option<f64>,
    /// The Vigil topics it is subscribed to.
    pub topics: Vec<Topic>,
}

/// Counters kept by the network task.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetStats {
    /// Inbound messages delivered to the application for validation.
    pub delivered: u64,
    /// Inbound messages ignored because the event channel or the pending
    /// validation set was full.
    pub dropped_inbound: u64,
    /// Inbound messages rejected before the application saw them (over the
    /// topic's size bound, empty, unknown topic).
    pub rejected_precheck: u64,
    /// Messages ignored because the application gave no verdict in time.
    pub validation_timeouts: u64,
    /// Verdicts lost because the report channel was full (the message then
    /// times out as ignored).
    pub dropped_reports: u64,
    /// Peers banned.
    pub bans: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) delivered: AtomicU64,
    pub(crate) dropped_inbound: AtomicU64,
    pub(crate) rejected_precheck: AtomicU64,
    pub(crate) validation_timeouts: AtomicU64,
    pub(crate) dropped_reports: AtomicU64,
    pub(crate) bans: AtomicU64,
}

impl Counters {
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// A request to the network task.
#[derive(Debug)]
pub(crate) enum Command {
    Publish { topic: Topic, data: Vec<u8>, checked: bool, reply: oneshot::Sender<Result<MsgId, NetError>> },
    Send { peer: PeerId, topic: Topic, data: Vec<u8>, reply: oneshot::Sender<Result<(), NetError>> },
    Peers { reply: oneshot::Sender<Vec<PeerInfo>> },
    ListenAddrs { reply: oneshot::Sender<Vec<Multiaddr>> },
    Shutdown { reply: oneshot::Sender<()> },
}

/// A verdict on the way to the network task.
#[derive(Debug)]
pub(crate) struct Report {
    pub(crate) id: MsgId,
    pub(crate) source: PeerId,
    pub(crate) validation: Validation,
}

/// Cheap, cloneable access to the network task.
#[derive(Debug, Clone)]
pub struct NetHandle {
    commands: mpsc::Sender<Command>,
    reports: mpsc::Sender<Report>,
    local_peer_id: PeerId,
    counters: Arc<Counters>,
}

impl NetHandle {
    /// Publishes `data` on `topic` and returns its content id. Fails with
    /// [`NetError::InsufficientPeers`] (not fatal) when no peer is subscribed
    /// yet, [`NetError::Duplicate`] when the same bytes were seen recently,
    /// and [`NetError::MessageTooLarge`] above `topic.max_message_size()`.
    pub async fn publish(&self, topic: Topic, data: Vec<u8>) -> Result<MsgId, NetError> {
        self.send_publish(topic, data, true).await
    }

    /// Publishes without the local size and emptiness checks, as a
    /// misbehaving peer would: for tests of the validation and scoring path
    /// only.
    #[cfg(feature = "test-util")]
    #[doc(hidden)]
    pub async fn publish_unchecked(&self, topic: Topic, data: Vec<u8>) -> Result<MsgId, NetError> {
        self.send_publish(topic, data, false).await
    }

    async fn send_publish(&self, topic: Topic, data: Vec<u8>, checked: bool) -> Result<MsgId, NetError> {
        let (reply, rx) = oneshot::channel();
        self.commands.send(Command::Publish { topic, data, checked, reply }).await.map_err(|_| NetError::Stopped)?;
        rx.await.map_err(|_| NetError::Stopped)?
    }

    /// Sends `data` to `peer` alone (see the `direct` module: one stream,
    /// no flood) and waits for its receipt. Fails with
    /// [`NetError::NotDelivered`] when the peer cannot be reached, does not
    /// answer in time or its queue is full: the caller falls back to
    /// gossip.
    pub async fn send(&self, peer: PeerId, topic: Topic, data: Vec<u8>) -> Result<(), NetError> {
        if data.is_empty() {
            return Err(NetError::EmptyMessage);
        }
        let max = topic.max_message_size();
        if data.len() > max {
            return Err(NetError::MessageTooLarge { topic, size: data.len(), max });
        }
        let (reply, rx) = oneshot::channel();
        self.commands.send(Command::Send { peer, topic, data, reply }).await.map_err(|_| NetError::Stopped)?;
        rx.await.map_err(|_| NetError::Stopped)?
    }

    /// Reports the application's verdict on an [`Inbound`] message: `id` and
    /// `source` as received. Call it once per message; a verdict after
    /// [`NetConfig::validation_timeout`] is too late and has no effect.
    /// Never blocks: if the report queue is full the verdict is dropped,
    /// counted, and the message times out as ignored.
    pub fn report(&self, id: &MsgId, source: &PeerId, v: Validation) {
        let report = Report { id: *id, source: *source, validation: v };
        if self.reports.try_send(report).is_err() {
            Counters::bump(&self.counters.dropped_reports);
            tracing::warn!(target: "vigil_net", msg_id = %id, "validation report dropped: queue full or network stopped");
        }
    }

    /// The connected peers with their addresses, scores and topics. Empty
    /// once the network has stopped.
    pub async fn peers(&self) -> Vec<PeerInfo> {
        let (reply, rx) = oneshot::channel();
        if self.commands.send(Command::Peers { reply }).await.is_err() {
            return Vec::new();
        }
        rx.await.unwrap_or_default()
    }

    /// The addresses the node listens on (without a `/p2p` suffix). Empty
    /// once the network has stopped.
    pub async fn listen_addrs(&self) -> Vec<Multiaddr> {
        let (reply, rx) = oneshot::channel();
        if self.commands.send(Command::ListenAddrs { reply }).await.is_err() {
            return Vec::new();
        }
        rx.await.unwrap_or_default()
    }

    /// This node's peer id.
    pub fn local_peer_id(&self) -> PeerId {
        self.local_peer_id
    }

    /// The network task's counters.
    pub fn stats(&self) -> NetStats {
        let c = &self.counters;
        NetStats {
            delivered: c.delivered.load(Ordering::Relaxed),
            dropped_inbound: c.dropped_inbound.load(Ordering::Relaxed),
            rejected_precheck: c.rejected_precheck.load(Ordering::Relaxed),
            validation_timeouts: c.validation_timeouts.load(Ordering::Relaxed),
            dropped_reports: c.dropped_reports.load(Ordering::Relaxed),
            bans: c.bans.load(Ordering::Relaxed),
        }
    }

    /// Stops the network task: closes every connection and listener, then
    /// closes the event channel. Returns once the swarm is dropped; a no-op
    /// if it already stopped.
    pub async fn shutdown(&self) {
        let (reply, rx) = oneshot::channel();
        if self.commands.send(Command::Shutdown { reply }).await.is_ok() {
            let _ = rx.await;
        }
    }
}

/// Builds the swarm, starts listening (returning once every listen address
/// is bound, so [`NetHandle::listen_addrs`] has the real ports), dials the
/// bootstrap peers and spawns the network task.
pub async fn start(config: NetConfig) -> Result<(NetHandle, mpsc::Receiver<NetEvent>), NetError> {
    let counters = Arc::new(Counters::default());
    let local_peer_id = config.keypair.public().to_peer_id();
    let (command_tx, command_rx) = mpsc::channel(256);
    let (report_tx, report_rx) = mpsc::channel(config.max_pending_validations.max(1));
    let (event_tx, event_rx) = mpsc::channel(config.event_buffer.max(1));
    let service = service::Service::new(config, command_rx, report_rx, event_tx, counters.clone()).await?;
    tokio::spawn(service.run());
    let handle = NetHandle { commands: command_tx, reports: report_tx, local_peer_id, counters };
    Ok((handle, event_rx))
}
