//! What can go wrong when starting the network or asking it to do something.
//! Bad input from a peer is not here: it is a [`crate::Validation`] verdict,
//! fed to gossipsub's peer scoring.

use libp2p::Multiaddr;
use vigil_types::Topic;

/// A failure of [`crate::start`] or of a [`crate::NetHandle`] call.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// The configuration cannot be used (scoring parameters, gossipsub
    /// settings, protocol names).
    #[error("network configuration: {0}")]
    Config(String),
    /// The transport (TCP, noise, yamux) could not be built.
    #[error("transport: {0}")]
    Transport(String),
    /// A listen address was refused (port in use, unsupported protocol).
    #[error("cannot listen on {addr}: {reason}")]
    Listen {
        /// The address from the configuration.
        addr: Multiaddr,
        /// Why the transport refused it.
        reason: String,
    },
    /// A bootstrap address lacks its `/p2p/<peer id>` suffix, which Kademlia
    /// and the noise handshake need to know whom they reach.
    #[error("bootstrap address {0} has no /p2p/<peer id> suffix")]
    BootstrapWithoutPeerId(Multiaddr),
    /// No connected peer is subscribed to the topic (or every one scores
    /// below the publish threshold). Not fatal: retry once peers arrive.
    #[error("no peers subscribed to {0:?}")]
    InsufficientPeers(Topic),
    /// The same bytes were already published or received recently: message
    /// ids are the hash of the content, so they would be dropped as a
    /// duplicate anyway.
    #[error("duplicate message: the same bytes were seen recently")]
    Duplicate,
    /// The message exceeds the topic's size bound.
    #[error("message of {size} bytes exceeds the {max} byte bound of {topic:?}")]
    MessageTooLarge {
        /// The topic it was published on.
        topic: Topic,
        /// Its size.
        size: usize,
        /// `topic.max_message_size()`.
        max: usize,
    },
    /// An empty message: every wire encoding has at least a version byte.
    #[error("empty message")]
    EmptyMessage,
    /// Gossipsub refused the publication for another reason (signing, all
    /// peer queues full).
    #[error("publish failed: {0}")]
    Publish(String),
    /// A direct message did not reach the peer's application: no
    /// connection, no answer in time, or its queue was full.
    #[error("direct message not delivered: {0}")]
    NotDelivered(String),
    /// The network task has stopped (after [`crate::NetHandle::shutdown`] or
    /// a crash); the handle is no longer usable.
    #[error("the network task has stopped")]
    Stopped,
}
