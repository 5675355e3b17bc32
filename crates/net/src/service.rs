//! The network task: owns the swarm, answers [`Command`]s, turns gossip into
//! [`NetEvent`]s and verdicts into forwarding, and bans low-scoring peers.

use std::{
    collections::{HashMap, VecDeque},
    sync::Arc,
    time::{Duration, Instant},
};

use futures::StreamExt;
use libp2p::{
    allow_block_list::{self, BlockedPeers},
    connection_limits::{self, ConnectionLimits},
    gossipsub::{self, MessageAcceptance, MessageAuthenticity, PublishError, TopicHash},
    identify, kad,
    multiaddr::Protocol,
    noise,
    request_response::{self, OutboundRequestId, ProtocolSupport},
    swarm::{behaviour::toggle::Toggle, ConnectionId, NetworkBehaviour, SwarmEvent},
    tcp, yamux, Multiaddr, PeerId, StreamProtocol, Swarm,
};
use tokio::sync::{mpsc, oneshot};
use vigil_types::Topic;

use crate::{
    direct::{self, DirectCodec, DirectRequest},
    Command, Counters, Direct, Inbound, MsgId, NetConfig, NetError, NetEvent, PeerInfo, Report, Validation,
};

const TARGET: &str = "vigil_net";
/// Most peer events (connect, disconnect, ban) held while the application
/// is not reading; older ones are dropped beyond this.
const MAX_EVENT_BACKLOG: usize = 1024;
/// Most banned peers remembered at once; the one whose ban ends first is
/// released early beyond this.
const MAX_BANS: usize = 10_000;
/// How long `start` waits for the listeners to bind.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a direct message waits for its receipt.
const DIRECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Most direct messages awaiting a receipt at once; more are refused at
/// once (the caller gossips instead).
const MAX_PENDING_SENDS: usize = 4096;

#[derive(NetworkBehaviour)]
pub(crate) struct Behaviour {
    blocked: allow_block_list::Behaviour<BlockedPeers>,
    limits: connection_limits::Behaviour,
    identify: identify::Behaviour,
    /// Off when `NetConfig::discovery` is false.
    kad: Toggle<kad::Behaviour<kad::store::MemoryStore>>,
    gossipsub: gossipsub::Behaviour,
    direct: request_response::Behaviour<DirectCodec>,
}

pub(crate) struct Service {
    swarm: Swarm<Behaviour>,
    config: NetConfig,
    topics: HashMap<TopicHash, Topic>,
    bootstrap: Vec<(PeerId, Multiaddr)>,
    commands: mpsc::Receiver<Command>,
    reports: mpsc::Receiver<Report>,
    events: mpsc::Sender<NetEvent>,
    backlog: VecDeque<NetEvent>,
    /// Messages awaiting the application's verdict, with the peer that sent
    /// each.
    pending: HashMap<MsgId, PeerId>,
    /// Pending ids in arrival order (deadlines are monotonic); may hold ids
    /// already reported, skipped when they come up.
    deadlines: VecDeque<(Instant, MsgId)>,
    bans: HashMap<PeerId, Instant>,
    /// Remote address of every open connection.
    connections: HashMap<PeerId, HashMap<ConnectionId, Multiaddr>>,
    counters: Arc<Counters>,
    walk_running: bool,
    /// Direct messages awaiting their receipt.
    sends: HashMap<OutboundRequestId, oneshot::Sender<Result<(), NetError>>>,
}

impl Service {
    pub(crate) async fn new(
        config: NetConfig,
        commands: mpsc::Receiver<Command>,
        reports: mpsc::Receiver<Report>,
        events: mpsc::Sender<NetEvent>,
        counters: Arc<Counters>,
    ) -> Result<Self, NetError> {
        let bootstrap = config
            .bootstrap
            .iter()
            .map(|addr| split_peer_id(addr).ok_or_else(|| NetError::BootstrapWithoutPeerId(addr.clone())))
            .collect::<Result<Vec<_>, _>>()?;
        let mut swarm = build_swarm(&config)?;
        let mut topics = HashMap::new();
        for topic in Topic::ALL {
            let ident = config.ident_topic(topic);
            swarm
                .behaviour_mut()
                .gossipsub
                .subscribe(&ident)
                .map_err(|e| NetError::Config(format!("subscribe {}: {e}", ident)))?;
            topics.insert(ident.hash(), topic);
        }
        listen(&mut swarm, &config.listen).await?;
        let mut service = Self {
            swarm,
            config,
            topics,
            bootstrap,
            commands,
            reports,
            events,
            backlog: VecDeque::new(),
            pending: HashMap::new(),
            deadlines: VecDeque::new(),
            bans: HashMap::new(),
            connections: HashMap::new(),
            counters,
            walk_running: false,
            sends: HashMap::new(),
        };
        for (peer, addr) in service.bootstrap.clone() {
            if let Some(kad) = service.swarm.behaviour_mut().kad.as_mut() {
                kad.add_address(&peer, addr);
            }
        }
        service.dial_bootstrap();
        Ok(service)
    }

    pub(crate) async fn run(mut self) {
        let local = *self.swarm.local_peer_id();
        tracing::info!(target: TARGET, peer_id = %local, "network started");
        let mut score_tick = tokio::time::interval(self.config.score_check_interval.max(Duration::from_millis(100)));
        let mut discovery_tick = tokio::time::interval(self.config.discovery_interval.max(Duration::from_millis(100)));
        let mut timeout_tick = tokio::time::interval(Duration::from_millis(250));
        for tick in [&mut score_tick, &mut discovery_tick, &mut timeout_tick] {
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        }
        let events = self.events.clone();
        let mut shutdown_reply = None;
        loop {
            tokio::select! {
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
                command = self.commands.recv() => match command {
                    Some(Command::Shutdown { reply }) => {
                        shutdown_reply = Some(reply);
                        break;
                    }
                    Some(command) => self.on_command(command),
                    // Every handle is gone: nobody can use the network.
                    None => break,
                },
                Some(report) = self.reports.recv() => self.on_report(report),
                permit = events.reserve(), if !self.backlog.is_empty() => {
                    match (permit, self.backlog.pop_front()) {
                        (Ok(permit), Some(event)) => permit.send(event),
                        // The application dropped its receiver; keep serving
                        // the handles, drop the backlog.
                        (Err(_), _) => self.backlog.clear(),
                        (Ok(_), None) => {}
                    }
                }
                _ = score_tick.tick() => {
                    self.check_scores();
                    self.expire_bans();
                }
                _ = discovery_tick.tick() => self.discover(),
                _ = timeout_tick.tick() => self.expire_validations(),
            }
        }
        self.stop();
        // Drop the swarm (sockets, listeners) before telling the caller.
        drop(self);
        if let Some(reply) = shutdown_reply {
            let _ = reply.send(());
        }
    }

    fn stop(&mut self) {
        let peers: Vec<PeerId> = self.swarm.connected_peers().copied().collect();
        for peer in peers {
            let _ = self.swarm.disconnect_peer_id(peer);
        }
        let listeners: Vec<_> = self.swarm.listeners().cloned().collect();
        tracing::info!(target: TARGET, ?listeners, "network stopping");
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Publish { topic, data, checked, reply } => {
                let _ = reply.send(self.publish(topic, data, checked));
            }
            Command::Send { peer, topic, data, reply } => {
                if self.sends.len() >= MAX_PENDING_SENDS {
                    let _ = reply.send(Err(NetError::NotDelivered("too many direct messages in flight".into())));
                    return;
                }
                let id = self.swarm.behaviour_mut().direct.send_request(&peer, DirectRequest { topic, data });
                self.sends.insert(id, reply);
            }
            Command::Peers { reply } => {
                let _ = reply.send(self.peer_infos());
            }
            Command::ListenAddrs { reply } => {
                let _ = reply.send(self.swarm.listeners().cloned().collect());
            }
            Command::Shutdown { reply } => {
                let _ = reply.send(());
            }
        }
    }

    fn publish(&mut self, topic: Topic, data: Vec<u8>, checked: bool) -> Result<MsgId, NetError> {
        if checked {
            if data.is_empty() {
                return Err(NetError::EmptyMessage);
            }
            let max = topic.max_message_size();
            if data.len() > max {
                return Err(NetError::MessageTooLarge { topic, size: data.len(), max });
            }
        }
        let id = MsgId::of(&data);
        let size = data.len();
        let ident = self.config.ident_topic(topic);
        match self.swarm.behaviour_mut().gossipsub.publish(ident, data) {
            Ok(_) => {
                tracing::debug!(target: TARGET, msg_id = %id, ?topic, "published");
                Ok(id)
            }
            Err(PublishError::NoPeersSubscribedToTopic) => Err(NetError::InsufficientPeers(topic)),
            Err(PublishError::Duplicate) => Err(NetError::Duplicate),
            Err(PublishError::MessageTooLarge) => {
                Err(NetError::MessageTooLarge { topic, size, max: topic.max_message_size() })
            }
            Err(e) => Err(NetError::Publish(e.to_string())),
        }
    }

    fn peer_infos(&self) -> Vec<PeerInfo> {
        let gossipsub = &self.swarm.behaviour().gossipsub;
        let mut topics_of: HashMap<PeerId, Vec<Topic>> = HashMap::new();
        for (peer, hashes) in gossipsub.all_peers() {
            topics_of.insert(*peer, hashes.iter().filter_map(|h| self.topics.get(*h).copied()).collect());
        }
        self.swarm
            .connected_peers()
            .map(|peer| PeerInfo {
                peer_id: *peer,
                addresses: self.connected_addresses(peer),
                score: gossipsub.peer_score(peer),
                topics: topics_of.get(peer).cloned().unwrap_or_default(),
            })
            .collect()
    }

    fn connected_addresses(&self, peer: &PeerId) -> Vec<Multiaddr> {
        self.connections.get(peer).map(|c| c.values().cloned().collect()).unwrap_or_default()
    }

    fn on_report(&mut self, report: Report) {
        let Some(source) = self.pending.remove(&report.id) else {
            tracing::debug!(target: TARGET, msg_id = %report.id, "verdict for an unknown or expired message");
            return;
        };
        if source != report.source {
            tracing::debug!(target: TARGET, msg_id = %report.id, "verdict names another source than the one that sent it");
        }
        let acceptance = match report.validation {
            Validation::Accept => MessageAcceptance::Accept,
            Validation::Reject => MessageAcceptance::Reject,
            Validation::Ignore => MessageAcceptance::Ignore,
        };
        self.validate(report.id, source, acceptance);
    }

    fn validate(&mut self, id: MsgId, source: PeerId, acceptance: MessageAcceptance) {
        let mid = gossipsub::MessageId::new(id.as_bytes());
        let known = self.swarm.behaviour_mut().gossipsub.report_message_validation_result(&mid, &source, acceptance);
        if !known {
            tracing::debug!(target: TARGET, msg_id = %id, "message left gossipsub's cache before its verdict");
        }
    }

    fn expire_validations(&mut self) {
        let now = Instant::now();
        while let Some((deadline, id)) = self.deadlines.front().copied() {
            if deadline > now {
                break;
            }
            self.deadlines.pop_front();
            if let Some(source) = self.pending.remove(&id) {
                Counters::bump(&self.counters.validation_timeouts);
                tracing::debug!(target: TARGET, msg_id = %id, "no verdict in time: ignored");
                self.validate(id, source, MessageAcceptance::Ignore);
            }
        }
        if self.deadlines.len() > 2 * self.config.max_pending_validations.max(1) {
            let pending = &self.pending;
            self.deadlines.retain(|(_, id)| pending.contains_key(id));
        }
    }

    fn on_gossip_message(&mut self, source: PeerId, message_id: gossipsub::MessageId, message: gossipsub::Message) {
        let precheck = match self.topics.get(&message.topic) {
            None => Err("unknown topic"),
            Some(_) if message.data.is_empty() => Err("empty message"),
            Some(topic) if message.data.len() > topic.max_message_size() => Err("over the topic's size bound"),
            Some(topic) => Ok(*topic),
        };
        let topic = match precheck {
            Ok(topic) => topic,
            Err(reason) => {
                Counters::bump(&self.counters.rejected_precheck);
                tracing::debug!(target: TARGET, peer = %source, size = message.data.len(), reason, "rejected before validation");
                let known = self.swarm.behaviour_mut().gossipsub.report_message_validation_result(
                    &message_id,
                    &source,
                    MessageAcceptance::Reject,
                );
                if !known {
                    tracing::debug!(target: TARGET, "rejected message was not in gossipsub's cache");
                }
                return;
            }
        };
        // The id gossipsub computed is ours (`sha256(data)`).
        let id = MsgId::of(&message.data);
        if self.pending.len() >= self.config.max_pending_validations {
            Counters::bump(&self.counters.dropped_inbound);
            self.validate(id, source, MessageAcceptance::Ignore);
            return;
        }
        let inbound = Inbound { id, source, author: message.source, topic, data: message.data };
        match self.events.try_send(NetEvent::Message(inbound)) {
            Ok(()) => {
                Counters::bump(&self.counters.delivered);
                let deadline = Instant::now() + self.config.validation_timeout;
                self.pending.insert(id, source);
                self.deadlines.push_back((deadline, id));
            }
            Err(_) => {
                Counters::bump(&self.counters.dropped_inbound);
                tracing::debug!(target: TARGET, msg_id = %id, "application busy: message ignored");
                self.validate(id, source, MessageAcceptance::Ignore);
            }
        }
    }

    fn emit(&mut self, event: NetEvent) {
        if self.backlog.is_empty() {
            match self.events.try_send(event) {
                Ok(()) => return,
                Err(mpsc::error::TrySendError::Closed(_)) => return,
                Err(mpsc::error::TrySendError::Full(event)) => self.backlog.push_back(event),
            }
        } else {
            self.backlog.push_back(event);
        }
        if self.backlog.len() > MAX_EVENT_BACKLOG {
            self.backlog.pop_front();
            tracing::warn!(target: TARGET, "application not reading: peer event dropped");
        }
    }

    fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(event)) => self.on_gossipsub(event),
            SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. })) => {
                let banned = self.bans.contains_key(&peer_id);
                if let Some(kad) = self.swarm.behaviour_mut().kad.as_mut() {
                    let speaks_kad = info.protocols.iter().any(|p| kad.protocol_names().contains(p));
                    if speaks_kad && !banned {
                        for addr in info.listen_addrs.into_iter().filter(is_dialable) {
                            kad.add_address(&peer_id, addr);
                        }
                    }
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Kad(event)) => self.on_kad(event),
            SwarmEvent::Behaviour(BehaviourEvent::Direct(event)) => self.on_direct(event),
            SwarmEvent::ConnectionEstablished { peer_id, connection_id, num_established, endpoint, .. } => {
                let addr = endpoint.get_remote_address().clone();
                tracing::debug!(target: TARGET, peer = %peer_id, %addr, "connected");
                self.connections.entry(peer_id).or_default().insert(connection_id, addr);
                if num_established.get() == 1 {
                    self.emit(NetEvent::PeerConnected(peer_id));
                }
                if self.bootstrap.iter().any(|(p, _)| *p == peer_id) {
                    // Fill the routing table through the peer we joined by.
                    if let Some(kad) = self.swarm.behaviour_mut().kad.as_mut() {
                        let _ = kad.bootstrap();
                    }
                }
            }
            SwarmEvent::ConnectionClosed { peer_id, connection_id, num_established, cause, .. } => {
                tracing::debug!(target: TARGET, peer = %peer_id, ?cause, "connection closed");
                if let Some(open) = self.connections.get_mut(&peer_id) {
                    open.remove(&connection_id);
                    if open.is_empty() {
                        self.connections.remove(&peer_id);
                    }
                }
                if num_established == 0 {
                    self.emit(NetEvent::PeerDisconnected(peer_id));
                }
            }
            SwarmEvent::NewListenAddr { address, .. } => {
                tracing::info!(target: TARGET, %address, "listening");
            }
            SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => {
                tracing::debug!(target: TARGET, peer = ?peer_id, %error, "dial failed");
            }
            SwarmEvent::IncomingConnectionError { error, .. } => {
                tracing::debug!(target: TARGET, %error, "incoming connection failed");
            }
            _ => {}
        }
    }

    fn on_gossipsub(&mut self, event: gossipsub::Event) {
        match event {
            gossipsub::Event::Message { propagation_source, message_id, message } => {
                self.on_gossip_message(propagation_source, message_id, message)
            }
            gossipsub::Event::Subscribed { peer_id, topic } => {
                tracing::debug!(target: TARGET, peer = %peer_id, %topic, "peer subscribed");
            }
            gossipsub::Event::GossipsubNotSupported { peer_id } => {
                tracing::debug!(target: TARGET, peer = %peer_id, "peer does not speak gossipsub");
            }
            gossipsub::Event::SlowPeer { peer_id, failed_messages } => {
                tracing::debug!(target: TARGET, peer = %peer_id, ?failed_messages, "slow peer");
            }
            _ => {}
        }
    }

    fn on_direct(&mut self, event: request_response::Event<DirectRequest, u8>) {
        match event {
            request_response::Event::Message { peer, message, .. } => match message {
                request_response::Message::Request { request, channel, .. } => {
                    let direct = Direct { source: peer, topic: request.topic, data: request.data };
                    let receipt = match self.events.try_send(NetEvent::Direct(direct)) {
                        Ok(()) => {
                            Counters::bump(&self.counters.delivered);
                            direct::DELIVERED
                        }
                        Err(_) => {
                            Counters::bump(&self.counters.dropped_inbound);
                            direct::BUSY
                        }
                    };
                    if self.swarm.behaviour_mut().direct.send_response(channel, receipt).is_err() {
                        tracing::debug!(target: TARGET, %peer, "direct message's receipt not sent: stream closed");
                    }
                }
                request_response::Message::Response { request_id, response } => {
                    if let Some(reply) = self.sends.remove(&request_id) {
                        let outcome = if response == direct::DELIVERED {
                            Ok(())
                        } else {
                            Err(NetError::NotDelivered("the peer's queue is full".into()))
                        };
                        let _ = reply.send(outcome);
                    }
                }
            },
            request_response::Event::OutboundFailure { peer, request_id, error, .. } => {
                tracing::debug!(target: TARGET, %peer, %error, "direct message failed");
                if let Some(reply) = self.sends.remove(&request_id) {
                    let _ = reply.send(Err(NetError::NotDelivered(error.to_string())));
                }
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                tracing::debug!(target: TARGET, %peer, %error, "inbound direct message failed");
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }

    fn on_kad(&mut self, event: kad::Event) {
        if let kad::Event::OutboundQueryProgressed { result, step, .. } = event {
            match result {
                kad::QueryResult::GetClosestPeers(Ok(ok)) => {
                    for info in ok.peers {
                        self.dial_discovered(info.peer_id, info.addrs);
                    }
                    if step.last {
                        self.walk_running = false;
                    }
                }
                kad::QueryResult::GetClosestPeers(Err(e)) => {
                    tracing::debug!(target: TARGET, error = %e, "random walk failed");
                    if step.last {
                        self.walk_running = false;
                    }
                }
                kad::QueryResult::Bootstrap(Err(e)) => {
                    tracing::debug!(target: TARGET, error = ?e, "kademlia bootstrap failed");
                }
                _ => {}
            }
        }
    }

    fn dial_discovered(&mut self, peer: PeerId, addrs: Vec<Multiaddr>) {
        if peer == *self.swarm.local_peer_id()
            || self.swarm.is_connected(&peer)
            || self.bans.contains_key(&peer)
            || !self.has_room()
        {
            return;
        }
        let opts = libp2p::swarm::dial_opts::DialOpts::peer_id(peer)
            .addresses(addrs)
            .extend_addresses_through_behaviour()
            .build();
        if let Err(e) = self.swarm.dial(opts) {
            tracing::debug!(target: TARGET, %peer, error = %e, "cannot dial discovered peer");
        }
    }

    fn has_room(&self) -> bool {
        u32::try_from(self.swarm.connected_peers().count()).unwrap_or(u32::MAX) < self.config.max_peers
    }

    fn dial_bootstrap(&mut self) {
        for (peer, addr) in self.bootstrap.clone() {
            if self.swarm.is_connected(&peer) || self.bans.contains_key(&peer) {
                continue;
            }
            let opts = libp2p::swarm::dial_opts::DialOpts::peer_id(peer).addresses(vec![addr]).build();
            if let Err(e) = self.swarm.dial(opts) {
                tracing::debug!(target: TARGET, %peer, error = %e, "cannot dial bootstrap peer");
            }
        }
    }

    fn discover(&mut self) {
        if self.swarm.connected_peers().next().is_none() {
            self.dial_bootstrap();
        }
        if self.has_room() && !self.walk_running {
            if let Some(kad) = self.swarm.behaviour_mut().kad.as_mut() {
                kad.get_closest_peers(PeerId::random());
                self.walk_running = true;
            }
        }
    }

    fn check_scores(&mut self) {
        let threshold = self.config.peer_score_thresholds().graylist_threshold;
        let low: Vec<(PeerId, f64)> = self
            .swarm
            .connected_peers()
            .filter_map(|peer| {
                let score = self.swarm.behaviour().gossipsub.peer_score(peer)?;
                (score < threshold).then_some((*peer, score))
            })
            .collect();
        for (peer, score) in low {
            self.ban(peer, score);
        }
    }

    fn ban(&mut self, peer: PeerId, score: f64) {
        if self.bans.len() >= MAX_BANS {
            if let Some(first) = self.bans.iter().min_by_key(|(_, until)| **until).map(|(p, _)| *p) {
                self.unban(first);
            }
        }
        tracing::warn!(target: TARGET, %peer, score, "banning peer below the graylist threshold");
        self.bans.insert(peer, Instant::now() + self.config.ban_duration);
        let behaviour = self.swarm.behaviour_mut();
        // Closes every connection and refuses new ones, both directions.
        behaviour.blocked.block_peer(peer);
        if let Some(kad) = behaviour.kad.as_mut() {
            kad.remove_peer(&peer);
        }
        let _ = self.swarm.disconnect_peer_id(peer);
        Counters::bump(&self.counters.bans);
        self.emit(NetEvent::PeerBanned { peer, score });
    }

    fn unban(&mut self, peer: PeerId) {
        self.bans.remove(&peer);
        self.swarm.behaviour_mut().blocked.unblock_peer(peer);
        tracing::info!(target: TARGET, %peer, "ban expired");
    }

    fn expire_bans(&mut self) {
        let now = Instant::now();
        let expired: Vec<PeerId> = self.bans.iter().filter(|(_, until)| **until <= now).map(|(p, _)| *p).collect();
        for peer in expired {
            self.unban(peer);
        }
    }
}

fn build_swarm(config: &NetConfig) -> Result<Swarm<Behaviour>, NetError> {
    let gossipsub_config = config.gossipsub_config()?;
    let score_params = config.peer_score_params();
    let thresholds = config.peer_score_thresholds();
    let kad_protocol = StreamProtocol::try_from_owned(format!("/vigil/{}/kad/1.0.0", config.chain_id))
        .map_err(|e| NetError::Config(format!("kademlia protocol name: {e}")))?;
    let limits = ConnectionLimits::default()
        .with_max_established(Some(config.max_peers))
        .with_max_established_per_peer(Some(2))
        .with_max_pending_incoming(Some(config.max_peers.saturating_mul(2).max(8)))
        .with_max_pending_outgoing(Some(config.max_peers.saturating_mul(2).max(8)));
    let direct_protocol = direct::protocol(config.chain_id).map_err(NetError::Config)?;
    let idle = config.idle_connection_timeout;
    let discovery = config.discovery;
    let swarm = libp2p::SwarmBuilder::with_existing_identity(config.keypair.clone())
        .with_tokio()
        .with_tcp(tcp::Config::default().nodelay(true), noise::Config::new, yamux::Config::default)
        .map_err(|e| NetError::Transport(e.to_string()))?
        .with_behaviour(|key| -> Result<Behaviour, Box<dyn std::error::Error + Send + Sync>> {
            let mut gossipsub = gossipsub::Behaviour::new(MessageAuthenticity::Signed(key.clone()), gossipsub_config)?;
            gossipsub.with_peer_score(score_params, thresholds)?;
            let identify = identify::Behaviour::new(
                identify::Config::new("vigil/1".to_owned(), key.public())
                    .with_agent_version(format!("vigil/{}", env!("CARGO_PKG_VERSION"))),
            );
            let local = key.public().to_peer_id();
            let mut kad_config = kad::Config::new(kad_protocol);
            kad_config.set_periodic_bootstrap_interval(Some(Duration::from_secs(300)));
            kad_config.set_query_timeout(Duration::from_secs(30));
            let mut kad = kad::Behaviour::with_config(local, kad::store::MemoryStore::new(local), kad_config);
            // Answer queries even without a confirmed public address (local
            // testnets, private networks).
            kad.set_mode(Some(kad::Mode::Server));
            Ok(Behaviour {
                blocked: allow_block_list::Behaviour::default(),
                limits: connection_limits::Behaviour::new(limits),
                identify,
                kad: Toggle::from(discovery.then_some(kad)),
                gossipsub,
                direct: request_response::Behaviour::new(
                    [(direct_protocol, ProtocolSupport::Full)],
                    request_response::Config::default().with_request_timeout(DIRECT_TIMEOUT),
                ),
            })
        })
        .map_err(|e| NetError::Config(e.to_string()))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(idle))
        .build();
    Ok(swarm)
}

/// Starts every listener and waits until each has bound an address.
async fn listen(swarm: &mut Swarm<Behaviour>, addrs: &[Multiaddr]) -> Result<(), NetError> {
    let mut waiting = HashMap::new();
    for addr in addrs {
        let id = swarm
            .listen_on(addr.clone())
            .map_err(|e| NetError::Listen { addr: addr.clone(), reason: e.to_string() })?;
        waiting.insert(id, addr.clone());
    }
    let deadline = tokio::time::Instant::now() + LISTEN_TIMEOUT;
    while !waiting.is_empty() {
        let Ok(event) = tokio::time::timeout_at(deadline, swarm.select_next_some()).await else {
            let addr = waiting.into_values().next().unwrap_or_else(Multiaddr::empty);
            return Err(NetError::Listen { addr, reason: "timed out binding".into() });
        };
        match event {
            SwarmEvent::NewListenAddr { listener_id, address } => {
                tracing::info!(target: TARGET, %address, "listening");
                waiting.remove(&listener_id);
            }
            SwarmEvent::ListenerClosed { listener_id, reason, .. } => {
                if let Some(addr) = waiting.remove(&listener_id) {
                    let reason = match reason {
                        Ok(()) => "listener closed".to_owned(),
                        Err(e) => e.to_string(),
                    };
                    return Err(NetError::Listen { addr, reason });
                }
            }
            SwarmEvent::ListenerError { listener_id, error } => {
                if let Some(addr) = waiting.remove(&listener_id) {
                    return Err(NetError::Listen { addr, reason: error.to_string() });
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Splits `/…/p2p/<id>` into the peer id and the address before it.
fn split_peer_id(addr: &Multiaddr) -> Option<(PeerId, Multiaddr)> {
    let mut base = addr.clone();
    match base.pop() {
        Some(Protocol::P2p(peer)) => Some((peer, base)),
        _ => None,
    }
}

/// Whether an address a peer advertises is worth adding to the routing
/// table (not the unspecified address).
fn is_dialable(addr: &Multiaddr) -> bool {
    !addr.iter().any(|p| match p {
        Protocol::Ip4(ip) => ip.is_unspecified(),
        Protocol::Ip6(ip) => ip.is_unspecified(),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bootstrap_addresses_need_a_peer_id() {
        let peer = PeerId::random();
        let with: Multiaddr = format!("/ip4/127.0.0.1/tcp/9000/p2p/{peer}").parse().unwrap();
        let without: Multiaddr = "/ip4/127.0.0.1/tcp/9000".parse().unwrap();
        assert_eq!(split_peer_id(&with), Some((peer, without.clone())));
        assert_eq!(split_peer_id(&without), None);
    }

    #[test]
    fn unspecified_addresses_are_not_dialable() {
        assert!(!is_dialable(&"/ip4/0.0.0.0/tcp/1".parse().unwrap()));
        assert!(is_dialable(&"/ip4/127.0.0.1/tcp/1".parse().unwrap()));
    }
}
