//! Integration tests of `vigil-net` over real TCP sockets on 127.0.0.1, with
//! several swarms in one process. Each node's "application" is a task that
//! records every event and reports a verdict chosen by the test.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use libp2p::multiaddr::Protocol;
use tokio::time::{sleep, Instant};
use vigil_net::{
    config::GRAYLIST_THRESHOLD, Inbound, Keypair, MsgId, Multiaddr, NetConfig, NetError, NetEvent, NetHandle, PeerId,
    Validation,
};
use vigil_types::Topic;

const CHAIN: u64 = 31337;

type Policy = Arc<dyn Fn(&Inbound) -> Option<Validation> + Send + Sync>;

fn accept_all() -> Policy {
    Arc::new(|_| Some(Validation::Accept))
}

/// Accepts everything except messages starting with `prefix`, which it
/// rejects.
fn reject_prefix(prefix: &'static [u8]) -> Policy {
    Arc::new(move |m| Some(if m.data.starts_with(prefix) { Validation::Reject } else { Validation::Accept }))
}

struct Node {
    handle: NetHandle,
    events: Arc<Mutex<Vec<NetEvent>>>,
}

impl Node {
    fn id(&self) -> PeerId {
        self.handle.local_peer_id()
    }

    async fn addr(&self) -> Multiaddr {
        let addr = self.handle.listen_addrs().await.into_iter().next().expect("a listen address");
        addr.with(libp2p_p2p(self.id()))
    }

    fn messages(&self) -> Vec<Inbound> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter_map(|e| match e {
                NetEvent::Message(m) => Some(m.clone()),
                _ => None,
            })
            .collect()
    }

    fn directs(&self) -> Vec<vigil_net::Direct> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter_map(|e| match e {
                NetEvent::Direct(d) => Some(d.clone()),
                _ => None,
            })
            .collect()
    }

    fn received(&self, data: &[u8]) -> Vec<Inbound> {
        self.messages().into_iter().filter(|m| m.data == data).collect()
    }

    fn banned(&self, peer: PeerId) -> Option<f64> {
        self.events.lock().unwrap().iter().find_map(|e| match e {
            NetEvent::PeerBanned { peer: p, score } if *p == peer => Some(*score),
            _ => None,
        })
    }

    async fn connected_to(&self, peer: PeerId) -> bool {
        self.handle.peers().await.iter().any(|p| p.peer_id == peer)
    }

    async fn score_of(&self, peer: PeerId) -> Option<f64> {
        self.handle.peers().await.into_iter().find(|p| p.peer_id == peer).and_then(|p| p.score)
    }
}

fn libp2p_p2p(peer: PeerId) -> Protocol<'static> {
    Protocol::P2p(peer)
}

fn config(bootstrap: Vec<Multiaddr>, discovery: bool) -> NetConfig {
    let mut c = NetConfig::new(Keypair::generate_ed25519(), CHAIN);
    c.listen = vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()];
    c.bootstrap = bootstrap;
    c.discovery = discovery;
    c.discovery_interval = Duration::from_millis(500);
    c.heartbeat_interval = Duration::from_millis(300);
    c.score_check_interval = Duration::from_millis(200);
    c.validation_timeout = Duration::from_secs(2);
    c
}

/// Starts a node whose application reports `policy`'s verdict after
/// `delay`.
async fn spawn_node(config: NetConfig, policy: Policy, delay: Duration) -> Node {
    let (handle, mut rx) = vigil_net::start(config).await.expect("network starts");
    let events = Arc::new(Mutex::new(Vec::new()));
    let log = events.clone();
    let app = handle.clone();
    tokio::spawn(async move {
        while let Some(event) = rx.recv().await {
            if let NetEvent::Message(m) = &event {
                if let Some(v) = policy(m) {
                    let (app, id, source) = (app.clone(), m.id, m.source);
                    if delay.is_zero() {
                        app.report(&id, &source, v);
                    } else {
                        tokio::spawn(async move {
                            sleep(delay).await;
                            app.report(&id, &source, v);
                        });
                    }
                }
            }
            log.lock().unwrap().push(event);
        }
    });
    Node { handle, events }
}

async fn wait_for<F, Fut>(what: &str, within: Duration, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if cond().await {
            return;
        }
        sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out after {within:?} waiting for {what}");
}

/// Publishes, retrying while no peer is subscribed yet (the mesh forms a
/// heartbeat or two after connecting).
async fn publish_when_ready(node: &Node, topic: Topic, data: &[u8]) -> MsgId {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        match node.handle.publish(topic, data.to_vec()).await {
            Ok(id) => return id,
            Err(NetError::InsufficientPeers(_)) if Instant::now() < deadline => sleep(Duration::from_millis(100)).await,
            Err(e) => panic!("publish failed: {e}"),
        }
    }
}

/// Waits until `node` has a gossipsub peer subscribed to `topic` among
/// `peers`.
async fn wait_subscribed(node: &Node, peers: &[PeerId], topic: Topic) {
    wait_for("subscriptions", Duration::from_secs(15), || async {
        let infos = node.handle.peers().await;
        peers.iter().all(|p| infos.iter().any(|i| i.peer_id == *p && i.topics.contains(&topic)))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kademlia_discovery_and_validated_delivery() {
    let b = spawn_node(config(vec![], true), accept_all(), Duration::ZERO).await;
    let b_addr = b.addr().await;
    let a = spawn_node(config(vec![b_addr.clone()], true), accept_all(), Duration::ZERO).await;
    let c = spawn_node(config(vec![b_addr], true), accept_all(), Duration::ZERO).await;

    // A only knows B; it finds C through Kademlia and connects.
    let started = Instant::now();
    wait_for("A to discover and connect to C", Duration::from_secs(20), || a.connected_to(c.id())).await;
    eprintln!("A found C in {:?}", started.elapsed());
    wait_subscribed(&a, &[b.id(), c.id()], Topic::Tx).await;

    let data = b"tx from A".to_vec();
    let id = publish_when_ready(&a, Topic::Tx, &data).await;
    assert_eq!(id, MsgId::of(&data), "message ids are the content hash");
    wait_for("C to receive A's message", Duration::from_secs(10), || async { !c.received(&data).is_empty() }).await;
    let got = c.received(&data);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].id, id);
    assert_eq!(got[0].topic, Topic::Tx);
    // Own messages are not delivered back, even when a peer forwards them.
    sleep(Duration::from_millis(500)).await;
    assert!(a.received(&data).is_empty(), "A got its own message back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_forwards_only_what_its_application_accepts() {
    // A line A - B - C without discovery: C hears A only through B.
    let b = spawn_node(config(vec![], false), reject_prefix(b"bad"), Duration::ZERO).await;
    let b_addr = b.addr().await;
    let a = spawn_node(config(vec![b_addr.clone()], false), accept_all(), Duration::ZERO).await;
    let c = spawn_node(config(vec![b_addr], false), accept_all(), Duration::ZERO).await;
    wait_subscribed(&b, &[a.id(), c.id()], Topic::Tx).await;
    wait_subscribed(&a, &[b.id()], Topic::Tx).await;
    assert!(!a.connected_to(c.id()).await, "A and C must not be connected in this test");

    let bad = b"bad transaction".to_vec();
    publish_when_ready(&a, Topic::Tx, &bad).await;
    wait_for("B to validate the bad message", Duration::from_secs(10), || async { !b.received(&bad).is_empty() }).await;

    // B's application accepts this one; it reaches C through B.
    let good = b"good transaction".to_vec();
    publish_when_ready(&a, Topic::Tx, &good).await;
    wait_for("C to receive the accepted message", Duration::from_secs(10), || async { !c.received(&good).is_empty() })
        .await;
    assert_eq!(c.received(&good)[0].source, b.id(), "C hears A only through B");
    sleep(Duration::from_secs(1)).await;
    assert!(c.received(&bad).is_empty(), "B forwarded a message its application rejected");

    // The rejection cost A score at B.
    let score = b.score_of(a.id()).await.expect("A's score at B");
    assert!(score < 0.0, "A's score at B is {score} after a rejected message");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_direct_message_reaches_one_peer_and_a_relayed_one_names_its_author() {
    // A line A - B - C without discovery.
    let b = spawn_node(config(vec![], false), accept_all(), Duration::ZERO).await;
    let b_addr = b.addr().await;
    let a = spawn_node(config(vec![b_addr.clone()], false), accept_all(), Duration::ZERO).await;
    let c = spawn_node(config(vec![b_addr], false), accept_all(), Duration::ZERO).await;
    wait_subscribed(&b, &[a.id(), c.id()], Topic::Batch).await;
    wait_subscribed(&a, &[b.id()], Topic::Batch).await;

    // Relayed by B, C's copy names A as its author and B as its source.
    let proposal = b"a batch proposal".to_vec();
    publish_when_ready(&a, Topic::Batch, &proposal).await;
    wait_for("C to receive A's proposal", Duration::from_secs(10), || async { !c.received(&proposal).is_empty() })
        .await;
    let got = &c.received(&proposal)[0];
    assert_eq!((got.source, got.author), (b.id(), Some(a.id())));

    // C answers B directly: B's application gets it, A (a mesh peer of B)
    // never does.
    let vote = b"a batch vote for B alone".to_vec();
    c.handle.send(b.id(), Topic::BatchVote, vote.clone()).await.expect("delivered");
    // The receipt says B's queue has it; its recorder logs it a moment later.
    wait_for("B's application to log the direct message", Duration::from_secs(5), || async { !b.directs().is_empty() })
        .await;
    let at_b = b.directs();
    assert_eq!(at_b.len(), 1);
    assert_eq!((at_b[0].source, at_b[0].topic, &at_b[0].data), (c.id(), Topic::BatchVote, &vote));
    assert!(a.directs().is_empty() && a.received(&vote).is_empty(), "a direct message went further");

    // Out of bounds or unreachable: a distinct error, at once or after the
    // receipt's timeout, never a hang.
    let too_big = vec![1u8; Topic::BatchVote.max_message_size() + 1];
    assert!(matches!(c.handle.send(b.id(), Topic::BatchVote, too_big).await, Err(NetError::MessageTooLarge { .. })));
    let nobody = Keypair::generate_ed25519().public().to_peer_id();
    assert!(matches!(c.handle.send(nobody, Topic::BatchVote, vote).await, Err(NetError::NotDelivered(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_bytes_count_once() {
    // A and C both connected to B only. B's application holds its verdict
    // for a moment, so A and C both publish before either hears the other.
    let b = spawn_node(config(vec![], false), accept_all(), Duration::from_millis(500)).await;
    let b_addr = b.addr().await;
    let a = spawn_node(config(vec![b_addr.clone()], false), accept_all(), Duration::ZERO).await;
    let c = spawn_node(config(vec![b_addr], false), accept_all(), Duration::ZERO).await;
    wait_subscribed(&b, &[a.id(), c.id()], Topic::Vote).await;
    wait_subscribed(&a, &[b.id()], Topic::Vote).await;
    wait_subscribed(&c, &[b.id()], Topic::Vote).await;

    let data = b"the same vote".to_vec();
    let id_a = publish_when_ready(&a, Topic::Vote, &data).await;
    let id_c = publish_when_ready(&c, Topic::Vote, &data).await;
    assert_eq!(id_a, id_c, "different publishers, same content, same id");
    assert!(matches!(a.handle.publish(Topic::Vote, data.clone()).await, Err(NetError::Duplicate)));

    wait_for("B to receive the vote", Duration::from_secs(10), || async { !b.received(&data).is_empty() }).await;
    sleep(Duration::from_secs(2)).await;
    assert_eq!(b.received(&data).len(), 1, "B's application saw the same bytes more than once");
    assert!(a.received(&data).is_empty() && c.received(&data).is_empty(), "a publisher got the message back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flooding_attacker_is_banned_while_honest_traffic_flows() {
    let h1 = spawn_node(config(vec![], true), reject_prefix(b"spam"), Duration::ZERO).await;
    let h1_addr = h1.addr().await;
    let h2 = spawn_node(config(vec![h1_addr.clone()], true), reject_prefix(b"spam"), Duration::ZERO).await;
    // The attacker's application never validates anything.
    let mallory = spawn_node(config(vec![h1_addr], true), Arc::new(|_| None), Duration::ZERO).await;
    let m = mallory.id();
    wait_subscribed(&mallory, &[h1.id()], Topic::Tx).await;
    wait_subscribed(&h2, &[h1.id()], Topic::Tx).await;

    let flood = {
        let mallory = mallory.handle.clone();
        tokio::spawn(async move {
            let max = Topic::Tx.max_message_size();
            for i in 0..200u32 {
                let mut data = format!("spam {i}").into_bytes();
                if i % 10 == 3 {
                    data.resize(max + 1 + (i as usize % 300), 0xaa);
                }
                let _ = mallory.publish_unchecked(Topic::Tx, data).await;
                sleep(Duration::from_millis(20)).await;
            }
        })
    };

    // Honest traffic from H2 during the flood.
    let mut honest = Vec::new();
    for i in 0..20u32 {
        let data = format!("honest {i}").into_bytes();
        match h2.handle.publish(Topic::Tx, data.clone()).await {
            Ok(_) => honest.push(data),
            Err(NetError::InsufficientPeers(_)) => {}
            Err(e) => panic!("honest publish failed: {e}"),
        }
        sleep(Duration::from_millis(150)).await;
    }
    assert!(honest.len() >= 15, "H2 could publish only {} of 20 messages", honest.len());

    wait_for("H1 to ban the attacker", Duration::from_secs(20), || async { h1.banned(m).is_some() }).await;
    let score = h1.banned(m).unwrap_or_default();
    assert!(score < GRAYLIST_THRESHOLD, "banned at score {score}");
    wait_for("H1 to drop the attacker", Duration::from_secs(5), || async { !h1.connected_to(m).await }).await;
    flood.abort();

    wait_for("every honest message to reach H1", Duration::from_secs(10), || async {
        honest.iter().all(|d| !h1.received(d).is_empty())
    })
    .await;
    // H1 never passed spam on to H2 (H2 only sees spam from the attacker
    // directly, if it connected to it).
    let spam_via_h1 = h2.messages().into_iter().filter(|m| m.data.starts_with(b"spam") && m.source == h1.id()).count();
    assert_eq!(spam_via_h1, 0, "H1 forwarded rejected spam");
    let stats = h1.handle.stats();
    assert!(stats.rejected_precheck > 0, "oversized messages were not caught before the application: {stats:?}");
    assert!(stats.bans >= 1);

    // The ban holds: the attacker cannot reconnect.
    sleep(Duration::from_secs(2)).await;
    assert!(!h1.connected_to(m).await, "banned attacker reconnected");
    assert!(h1.connected_to(h2.id()).await, "honest peer lost");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_oversized_input_never_panics() {
    let h = spawn_node(config(vec![], false), accept_all(), Duration::ZERO).await;
    let m = spawn_node(config(vec![h.addr().await], false), Arc::new(|_| None), Duration::ZERO).await;
    for topic in Topic::ALL {
        wait_subscribed(&m, &[h.id()], topic).await;
    }
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut noise = |len: usize| -> Vec<u8> {
        (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            })
            .collect()
    };
    // In bounds first: a message of exactly the bound, in its signed
    // envelope, gets through. (Out-of-bounds ones below get the sender
    // banned, so they come last.)
    for topic in Topic::ALL {
        let max = topic.max_message_size();
        for len in [1, 7, max - 1, max] {
            m.handle.publish_unchecked(topic, noise(len)).await.expect("in-bounds publish");
        }
    }
    wait_for("messages of exactly the bound on every topic", Duration::from_secs(10), || async {
        let got = h.messages();
        Topic::ALL.iter().all(|t| got.iter().any(|m| m.topic == *t && m.data.len() == t.max_message_size()))
    })
    .await;
    for topic in Topic::ALL {
        let max = topic.max_message_size();
        for len in [0, max + 1, max + 100, max + 600, 3 * max] {
            // Errors are fine (the attacker's own gossipsub refuses some);
            // panics are not.
            let _ = m.handle.publish_unchecked(topic, noise(len)).await;
        }
        // The checked API refuses locally.
        assert!(matches!(
            m.handle.publish(topic, vec![1; max + 1]).await,
            Err(NetError::MessageTooLarge { size, .. }) if size == max + 1
        ));
        assert!(matches!(m.handle.publish(topic, Vec::new()).await, Err(NetError::EmptyMessage)));
    }
    sleep(Duration::from_secs(2)).await;
    // Whatever reached the application was within bounds.
    for msg in h.messages() {
        assert!(!msg.data.is_empty() && msg.data.len() <= msg.topic.max_message_size());
    }
    assert!(h.handle.stats().rejected_precheck > 0);
    // The node still serves its handle.
    let _ = h.handle.peers().await;
    assert!(!h.handle.listen_addrs().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishing_without_peers_is_a_distinct_error() {
    let a = spawn_node(config(vec![], true), accept_all(), Duration::ZERO).await;
    let err = a.handle.publish(Topic::Cert, b"cert".to_vec()).await.unwrap_err();
    assert!(matches!(err, NetError::InsufficientPeers(Topic::Cert)), "{err}");
    let port = a
        .handle
        .listen_addrs()
        .await
        .iter()
        .flat_map(|addr| addr.iter())
        .find_map(|p| match p {
            Protocol::Tcp(port) => Some(port),
            _ => None,
        })
        .expect("a tcp port");
    a.handle.shutdown().await;
    // The socket is closed once shutdown returns: the port can be bound again.
    std::net::TcpListener::bind(("127.0.0.1", port)).expect("port released by shutdown");
    assert!(matches!(a.handle.publish(Topic::Cert, b"cert".to_vec()).await, Err(NetError::Stopped)));
    assert!(a.handle.peers().await.is_empty());
}

#[tokio::test]
async fn bootstrap_address_without_peer_id_is_refused() {
    let c = config(vec!["/ip4/127.0.0.1/tcp/1".parse().unwrap()], true);
    assert!(matches!(vigil_net::start(c).await, Err(NetError::BootstrapWithoutPeerId(_))));
}

#[test]
fn gossipsub_settings_build() {
    let c = NetConfig::new(Keypair::generate_ed25519(), CHAIN);
    c.gossipsub_config().expect("gossipsub config");
    c.peer_score_params().validate().expect("score params");
    c.peer_score_thresholds().validate().expect("thresholds");
    let names: HashSet<String> = Topic::ALL.iter().map(|t| c.ident_topic(*t).to_string()).collect();
    for want in ["tx", "vote", "cert", "evidence", "batch", "batchvote", "batchcert"] {
        assert!(names.contains(&format!("vigil/31337/{want}/1")), "{want} missing from {names:?}");
    }
    assert_eq!(names.len(), 7);
}
