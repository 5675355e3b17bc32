//! Network configuration and the gossipsub settings derived from it
//! (message ids, size limits, peer-scoring parameters and thresholds).

use std::{collections::HashSet, net::IpAddr, time::Duration};

use libp2p::{
    gossipsub::{self, IdentTopic, PeerScoreParams, PeerScoreThresholds, TopicScoreParams},
    identity::Keypair,
    Multiaddr,
};
use sha2::{Digest, Sha256};
use vigil_types::Topic;

use crate::{error::NetError, MsgId};

/// Bytes the signed gossipsub envelope adds around a message's data (`from`,
/// `seqno`, `topic`, `signature`, `key` and their protobuf tags). Gossipsub
/// checks per-topic limits against the encoded envelope, so its limit is the
/// topic's data bound plus this; the data bound itself is checked exactly
/// before the message reaches the application.
pub const ENVELOPE_OVERHEAD: usize = 512;

/// Room left in one RPC frame for control messages piggybacked on a message.
const CONTROL_ROOM: usize = 16 * 1024;

/// Score below which a peer is graylisted by gossipsub and banned by Vigil.
pub const GRAYLIST_THRESHOLD: f64 = -80.0;

/// How the node joins the network and how it treats peers.
#[derive(Debug, Clone)]
pub struct NetConfig {
    /// Node identity (ed25519), e.g. `vigil_crypto::NodeIdentity::to_libp2p()`.
    /// Gossip messages are signed with it.
    pub keypair: Keypair,
    /// The rollup's chain id: it names the gossip topics and the Kademlia
    /// protocol, so nodes of different chains never mix.
    pub chain_id: u64,
    /// Addresses to listen on, e.g. `/ip4/0.0.0.0/tcp/9000`.
    pub listen: Vec<Multiaddr>,
    /// Peers to join through, each with a `/p2p/<peer id>` suffix.
    pub bootstrap: Vec<Multiaddr>,
    /// Most established connections at once (in and out together).
    pub max_peers: u32,
    /// A message the application has not reported on after this long is
    /// treated as [`crate::Validation::Ignore`]. Keep it below
    /// `heartbeat_interval * history_length` or gossipsub forgets it first;
    /// [`NetConfig::gossipsub_config`] stretches the history to fit.
    pub validation_timeout: Duration,
    /// Capacity of the event channel to the application. When it is full,
    /// new gossip is ignored (not forwarded, no penalty) and counted.
    pub event_buffer: usize,
    /// Most messages awaiting the application's verdict at once; more are
    /// ignored and counted.
    pub max_pending_validations: usize,
    /// Gossipsub heartbeat (mesh maintenance, gossip emission, score decay
    /// happens on its own one-second interval).
    pub heartbeat_interval: Duration,
    /// How often a node with room for more peers runs a Kademlia random walk,
    /// and re-dials its bootstrap peers when it has no peer at all.
    pub discovery_interval: Duration,
    /// Run Kademlia discovery. When false, the node only keeps the
    /// connections it makes to its bootstrap peers and those made to it.
    pub discovery: bool,
    /// How long a banned peer stays blocked.
    pub ban_duration: Duration,
    /// How often peer scores are checked against the graylist threshold.
    pub score_check_interval: Duration,
    /// Connections with no protocol that wants them kept open (a peer
    /// outside every gossip mesh) close after this long.
    pub idle_connection_timeout: Duration,
}

impl NetConfig {
    /// Defaults for everything but the identity and the chain: listen on
    /// `/ip4/0.0.0.0/tcp/0`, no bootstrap peers, 50 peers, 4 s validation
    /// timeout, one-second heartbeat, 30 s discovery, one-hour bans.
    pub fn new(keypair: Keypair, chain_id: u64) -> Self {
        let any: Multiaddr = Multiaddr::empty()
            .with(libp2p::multiaddr::Protocol::Ip4([0, 0, 0, 0].into()))
            .with(libp2p::multiaddr::Protocol::Tcp(0));
        Self {
            keypair,
            chain_id,
            listen: vec![any],
            bootstrap: Vec::new(),
            max_peers: 50,
            validation_timeout: Duration::from_secs(4),
            event_buffer: 1024,
            max_pending_validations: 4096,
            heartbeat_interval: Duration::from_secs(1),
            discovery_interval: Duration::from_secs(30),
            discovery: true,
            ban_duration: Duration::from_secs(3600),
            score_check_interval: Duration::from_secs(1),
            idle_connection_timeout: Duration::from_secs(600),
        }
    }

    /// The gossipsub topic of `topic` on this chain.
    pub fn ident_topic(&self, topic: Topic) -> IdentTopic {
        IdentTopic::new(topic.name(self.chain_id))
    }

    /// Gossipsub's configuration: signed messages checked strictly, content
    /// message ids, validation by the application before forwarding, and
    /// size limits from [`Topic::max_message_size`].
    pub fn gossipsub_config(&self) -> Result<gossipsub::Config, NetError> {
        let largest = Topic::ALL.iter().map(|t| t.max_message_size()).max().unwrap_or(0);
        let heartbeat_ms = self.heartbeat_interval.as_millis().max(1);
        // Gossipsub keeps an unvalidated message for `history_length`
        // heartbeats; it must outlive the validation timeout.
        let needed = self.validation_timeout.as_millis().div_ceil(heartbeat_ms) + 2;
        let history_length = usize::try_from(needed).unwrap_or(usize::MAX).clamp(5, 120);
        let mut builder = gossipsub::ConfigBuilder::default();
        builder
            .validation_mode(gossipsub::ValidationMode::Strict)
            .validate_messages()
            .message_id_fn(|m: &gossipsub::Message| gossipsub::MessageId::new(MsgId::of(&m.data).as_bytes()))
            .heartbeat_interval(self.heartbeat_interval)
            // Every message is small and signed: tell the mesh at once that
            // we have it (IDONTWANT, gossipsub 1.2), so peers still
            // validating it do not forward a copy whose signature would be
            // checked again here only to be dropped as a duplicate.
            .idontwant_message_size_threshold(0)
            // A smaller mesh than gossipsub's default (D = 6, up to 12):
            // a publisher floods its own messages to every connected peer
            // anyway (flood publishing), so the mesh only relays, and each
            // node receives a message about once per mesh peer. With D = 4
            // the copies a node receives stop growing with the committee
            // beyond five members (docs/performance.md, gossip bytes).
            .mesh_n(4)
            .mesh_n_low(3)
            .mesh_n_high(8)
            .mesh_outbound_min(2)
            .gossip_lazy(4)
            .history_length(history_length)
            .max_transmit_size((largest + ENVELOPE_OVERHEAD + CONTROL_ROOM).max(65536));
        for topic in Topic::ALL {
            builder.max_transmit_size_for_topic(
                topic.max_message_size() + ENVELOPE_OVERHEAD,
                self.ident_topic(topic).hash(),
            );
        }
        builder.build().map_err(|e| NetError::Config(format!("gossipsub: {e}")))
    }

    /// Peer-scoring parameters. Only two things move a score much:
    ///
    /// - P4, invalid messages: `-5 * n^2` per topic for `n` messages the
    ///   application rejected (or gossipsub found malformed: bad signature,
    ///   over the size limit), decaying to a tenth over an hour. Five
    ///   rejected messages take a fresh peer below the graylist threshold
    ///   (-80) even from the positive cap.
    /// - A small positive credit for time in mesh (P1) and first deliveries
    ///   (P2), capped at 20 in total, so past good behaviour cannot buy many
    ///   invalid messages.
    ///
    /// Mesh delivery rates (P3, P3b) are off: Vigil's topics are bursty
    /// (evidence is rare), and a quiet honest peer must not be penalized.
    /// Behaviour penalties (P7: grafts during backoff, IWANT requests not
    /// answered within 3 s) count only beyond 20, squared, decaying over a
    /// minute: a peer whose CPU is saturated drops IWANT answers from its
    /// send queue, and gossipsub's default (-10 per broken promise,
    /// squared, from the first) took honest nodes of a loaded testnet below
    /// the graylist in seconds, and Vigil banned them for an hour. A peer
    /// that keeps breaking promises by the hundred still goes.
    /// Loopback addresses are exempt from the IP colocation penalty (P6) so
    /// a local testnet can run many nodes on one host.
    pub fn peer_score_params(&self) -> PeerScoreParams {
        let mut params = PeerScoreParams {
            topic_score_cap: 20.0,
            ip_colocation_factor_whitelist: loopback(),
            retain_score: Duration::from_secs(3600),
            behaviour_penalty_weight: -1.0,
            behaviour_penalty_threshold: 20.0,
            behaviour_penalty_decay: gossipsub::score_parameter_decay(Duration::from_secs(60)),
            ..PeerScoreParams::default()
        };
        for topic in Topic::ALL {
            params.topics.insert(self.ident_topic(topic).hash(), topic_score_params());
        }
        params
    }

    /// Thresholds: gossip suppressed below -20, own publications withheld
    /// below -40, graylisted (RPCs ignored) and banned by Vigil below
    /// [`GRAYLIST_THRESHOLD`].
    pub fn peer_score_thresholds(&self) -> PeerScoreThresholds {
        PeerScoreThresholds {
            gossip_threshold: -20.0,
            publish_threshold: -40.0,
            graylist_threshold: GRAYLIST_THRESHOLD,
            ..PeerScoreThresholds::default()
        }
    }
}

fn topic_score_params() -> TopicScoreParams {
    TopicScoreParams {
        topic_weight: 1.0,
        // P1: up to 5 after ~8 minutes in the mesh.
        time_in_mesh_weight: 0.01,
        time_in_mesh_quantum: Duration::from_secs(1),
        time_in_mesh_cap: 500.0,
        // P2: 0.5 per first delivery, up to 10.
        first_message_deliveries_weight: 0.5,
        first_message_deliveries_decay: gossipsub::score_parameter_decay(Duration::from_secs(600)),
        first_message_deliveries_cap: 20.0,
        // P3 and P3b off (see `peer_score_params`).
        mesh_message_deliveries_weight: 0.0,
        mesh_failure_penalty_weight: 0.0,
        // P4.
        invalid_message_deliveries_weight: -5.0,
        invalid_message_deliveries_decay: gossipsub::score_parameter_decay(Duration::from_secs(3600)),
        ..TopicScoreParams::default()
    }
}

fn loopback() -> HashSet<IpAddr> {
    [IpAddr::from([127, 0, 0, 1]), IpAddr::from(std::net::Ipv6Addr::LOCALHOST)].into_iter().collect()
}

impl MsgId {
    /// The id of a message with these bytes: `sha256(data)`. Content ids
    /// make the same bytes one message, whoever publishes them.
    pub fn of(data: &[u8]) -> Self {
        Self(Sha256::digest(data).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// P7 as gossipsub computes it: `weight * max(0, count - threshold)^2`.
    fn behaviour_score(p: &PeerScoreParams, count: f64) -> f64 {
        p.behaviour_penalty_weight * (count - p.behaviour_penalty_threshold).max(0.0).powi(2)
    }

    #[test]
    fn a_slow_peer_is_not_banned_for_broken_promises_a_persistent_one_is() {
        let params = NetConfig::new(libp2p::identity::Keypair::generate_ed25519(), 31337).peer_score_params();
        // 25 broken promises: what a saturated honest node caused in a
        // loaded testnet (scores of -6230 and -390 under the defaults).
        assert!(behaviour_score(&params, 25.0) > GRAYLIST_THRESHOLD, "{}", behaviour_score(&params, 25.0));
        assert!(behaviour_score(&params, 200.0) < GRAYLIST_THRESHOLD);
        assert!(params.validate().is_ok(), "{:?}", params.validate());
    }
}
