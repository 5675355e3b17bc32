//! A js-libp2p peer on the inspector network: `testnet/interop/peer.mjs`
//! (js-libp2p with `@chainsafe/libp2p-gossipsub`, pinned in
//! testnet/interop/package-lock.json) joins the four-node network of
//! `network.rs` through node 0, receives the nodes' transaction
//! announcements, publishes a transaction the network inspects and
//! certifies, and is banned when it publishes junk, while honest traffic is
//! still certified.

use std::{
    path::{Path, PathBuf},
    process::{ExitStatus, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use alloy_primitives::Address;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use vigil_types::{BatchProposal, Topic, TxAnnouncement, Wire};

use crate::{
    network::{tail, Net, CHAIN},
    support::{account, signed_tx},
};

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testnet/interop")
}

/// The gossip message id of `data` as the JS peer prints it: sha256, hex.
fn msg_id(data: &[u8]) -> String {
    alloy_primitives::hex::encode(vigil_net::MsgId::of(data).as_bytes())
}

/// The tx-topic message that announces `raw` (`0x` hex).
fn announcement(raw: &str) -> Vec<u8> {
    TxAnnouncement { raw: alloy_primitives::hex::decode(raw).unwrap().into() }.encode()
}

/// A running `node peer.mjs`: its JSON event lines as they arrive, stderr in
/// a file, killed on drop.
struct JsPeer {
    name: &'static str,
    child: tokio::process::Child,
    events: Arc<Mutex<Vec<Value>>>,
    stderr: PathBuf,
}

impl JsPeer {
    fn spawn(name: &'static str, dir: &Path, bootstrap: &str, extra: &[&str]) -> Self {
        let stderr = dir.join(format!("{name}.stderr"));
        let mut child = tokio::process::Command::new("node")
            .arg(interop_dir().join("peer.mjs"))
            .args(["--bootstrap", bootstrap, "--chain-id", &CHAIN.to_string(), "--timeout-ms", "30000"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs");
        let events = Arc::new(Mutex::new(Vec::new()));
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let sink = events.clone();
        tokio::spawn(async move {
            let mut lines = lines;
            while let Ok(Some(line)) = lines.next_line().await {
                let v = serde_json::from_str(&line).unwrap_or_else(|_| json!({ "raw": line }));
                sink.lock().unwrap().push(v);
            }
        });
        Self { name, child, events, stderr }
    }

    fn events(&self) -> Vec<Value> {
        self.events.lock().unwrap().clone()
    }

    /// Its output so far, for failure messages.
    fn output(&self) -> String {
        let events: Vec<String> = self.events().iter().map(Value::to_string).collect();
        format!(
            "{} stdout:\n{}\n{} stderr:\n{}",
            self.name,
            events.join("\n"),
            self.name,
            tail(&std::fs::read_to_string(&self.stderr).unwrap_or_default(), 40)
        )
    }

    /// The first event matching `pred`, waiting up to `within`; panics with
    /// the peer's output and node 0's log otherwise.
    async fn wait_event(&self, net: &Net, what: &str, within: Duration, pred: impl Fn(&Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            if let Some(e) = self.events().into_iter().find(|e| pred(e)) {
                return e;
            }
            if start.elapsed() > within {
                panic!(
                    "{}: no {what} within {within:?}\n{}\nnode 0:\n{}",
                    self.name,
                    self.output(),
                    tail(&net.nodes[0].log(), 40)
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn wait_exit(&mut self, within: Duration) -> ExitStatus {
        match tokio::time::timeout(within, self.child.wait()).await {
            Ok(status) => status.unwrap(),
            Err(_) => panic!("{} still running after {within:?}\n{}", self.name, self.output()),
        }
    }
}

/// The sum of the samples of metric `name` on `node` whose labels include
/// every one of `labels` (e.g. `topic="tx"`).
async fn status_everywhere(net: &Net, hash: alloy_primitives::B256) -> Vec<String> {
    let mut all = Vec::new();
    for i in 0..4 {
        all.push(net.node_status(i, hash).await);
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_js_libp2p_peer_receives_publishes_and_is_banned_for_junk() {
    let _machine = crate::support::whole_network().await;
    assert!(
        interop_dir().join("node_modules/@chainsafe/libp2p-gossipsub").exists(),
        "testnet/interop/node_modules missing: run scripts/setup.sh (npm ci in testnet/interop)"
    );
    let net = Net::start().await;
    let scratch = tempfile::tempdir().unwrap();
    let mut peer_ids = Vec::new();
    for node in &net.nodes {
        peer_ids.push(node.rpc.result("vigil_nodeInfo", json!([])).await["peer_id"].as_str().unwrap().to_string());
    }
    let p2p0 = net.nodes[0].args.iter().skip_while(|a| *a != "--p2p.listen").nth(1).unwrap().clone();
    let bootstrap = format!("{p2p0}/p2p/{}", peer_ids[0]);

    // The JS peer joins through node 0 and, once in the tx mesh, publishes a
    // transaction of its own.
    let (js_raw, js_hash) = signed_tx(&account(31), CHAIN, 0, Some(Address::repeat_byte(0xd1)), 1, vec![]);
    let mut peer =
        JsPeer::spawn("js-peer", scratch.path(), &bootstrap, &["--publish-tx", &js_raw, "--listen-ms", "8000"]);
    let ready = peer.wait_event(&net, "ready", Duration::from_secs(40), |e| e["event"] == "ready").await;
    assert!(ready["peers"].as_array().unwrap().contains(&json!(peer_ids[0])), "{ready}");
    // `published` or `publish_failed`.
    let published = peer.wait_event(&net, "tx publication", Duration::from_secs(10), |e| e["kind"] == "tx").await;
    assert_eq!(published["event"], "published", "{}", peer.output());
    // The same message id on both sides: sha256 of the Wire encoding.
    assert_eq!(published["id"], json!(msg_id(&announcement(&js_raw))), "{published}");
    assert!(published["recipients"].as_u64().unwrap() >= 1, "{published}");

    // (a) A clean transaction sent to node 1 reaches the JS peer in node
    // 1's signed batch proposal (DESIGN §4b: a client's transaction is
    // gossiped in its node's batch; alone here, the only one ready),
    // relayed by node 0, and the members' batch votes follow.
    let (raw_a, hash_a) = signed_tx(&account(30), CHAIN, 0, Some(Address::repeat_byte(0xd0)), 1, vec![]);
    net.nodes[1].rpc.result("eth_sendRawTransaction", json!([raw_a])).await;
    let proposal_a = BatchProposal {
        chain_id: CHAIN,
        txs: vec![alloy_primitives::hex::decode(raw_a.trim_start_matches("0x")).unwrap().into()],
    }
    .encode();
    let id_a = json!(msg_id(&proposal_a));
    let got = peer
        .wait_event(&net, "batch proposal of the transaction sent to node 1", Duration::from_secs(15), |e| {
            e["event"] == "message" && e["id"] == id_a
        })
        .await;
    assert_eq!(got["topic"], json!(Topic::Batch.name(CHAIN)), "{got}");
    assert_eq!(got["bytes"], json!(proposal_a.len()), "{got}");
    assert_eq!(got["from"], json!(peer_ids[1]), "author is node 1: {got}");

    // (b) The JS peer's transaction is inspected and certified by every node.
    for i in 0..4 {
        net.wait_node_status(i, js_hash, "certified", Duration::from_secs(20)).await;
        net.wait_node_status(i, hash_a, "certified", Duration::from_secs(20)).await;
    }
    let verdict = net.nodes[3].rpc.result("vigil_getVerdict", json!([js_hash])).await;
    assert_eq!(verdict["verdict"]["kind"], "clean", "{verdict}");
    assert_eq!(peer.wait_exit(Duration::from_secs(30)).await.code(), Some(0), "{}", peer.output());
    let events = peer.events();
    assert!(events.iter().any(|e| e["event"] == "done"), "{}", peer.output());
    // It heard the votes on these transactions too: per-transaction votes
    // on its own (gossiped alone), batch votes on node 1's batch.
    for topic in [Topic::Vote, Topic::BatchVote] {
        let name = json!(topic.name(CHAIN));
        assert!(events.iter().any(|e| e["event"] == "message" && e["topic"] == name), "{name}: {}", peer.output());
    }

    // (c) A second JS peer publishes a malformed announcement (length
    // little-endian) of a valid transaction, then 20 junk votes: node 0
    // rejects them, its score falls below the graylist threshold and it is
    // banned; honest traffic is certified meanwhile.
    let banned_before = net.metric(0, "vigil_node_peers_banned_total", &[]).await;
    let (bad_raw, bad_hash) = signed_tx(&account(33), CHAIN, 0, Some(Address::repeat_byte(0xd3)), 1, vec![]);
    let mut junk = JsPeer::spawn(
        "js-junk",
        scratch.path(),
        &bootstrap,
        &["--publish-tx", &bad_raw, "--bad-length", "--junk", "20", "--listen-ms", "6000"],
    );
    let started = junk.wait_event(&net, "start", Duration::from_secs(20), |e| e["event"] == "started").await;
    let junk_id = started["peer"].as_str().unwrap().to_string();
    junk.wait_event(&net, "ready", Duration::from_secs(40), |e| e["event"] == "ready").await;
    let (raw_c, hash_c) = signed_tx(&account(32), CHAIN, 0, Some(Address::repeat_byte(0xd2)), 1, vec![]);
    net.nodes[2].rpc.result("eth_sendRawTransaction", json!([raw_c])).await;
    junk.wait_event(&net, "disconnect by node 0", Duration::from_secs(30), |e| {
        e["event"] == "disconnected" && e["peer"] == json!(peer_ids[0])
    })
    .await;
    let start = Instant::now();
    loop {
        let banned = net.metric(0, "vigil_node_peers_banned_total", &[]).await;
        if banned > banned_before {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "node 0 banned no one ({banned})\n{}\nnode 0:\n{}",
            junk.output(),
            tail(&net.nodes[0].log(), 40)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        net.nodes[0].log().contains("banning peer") && net.nodes[0].log().contains(&junk_id),
        "node 0 log does not show the ban of {junk_id}:\n{}",
        tail(&net.nodes[0].log(), 40)
    );
    let peers0 = net.nodes[0].rpc.result("vigil_peers", json!([])).await;
    assert!(!peers0.to_string().contains(&junk_id), "banned peer still connected: {peers0}");
    for i in 0..4 {
        net.wait_node_status(i, hash_c, "certified", Duration::from_secs(20)).await;
    }
    assert_eq!(junk.wait_exit(Duration::from_secs(30)).await.code(), Some(0), "{}", junk.output());
    // The malformed announcement was rejected as such and certified nowhere.
    let malformed = net.metric(0, "vigil_node_gossip_messages_total", &["topic=\"tx\"", "result=\"malformed\""]).await;
    assert!(malformed >= 1.0, "node 0 counted no malformed tx announcement\n{}", junk.output());
    let statuses = status_everywhere(&net, bad_hash).await;
    assert!(statuses.iter().all(|s| s != "certified"), "malformed announcement certified: {statuses:?}");
    // Every node still serves and keeps its three Vigil peers.
    for (i, node) in net.nodes.iter().enumerate() {
        let peers = node.rpc.result("vigil_peers", json!([])).await;
        for id in peer_ids.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, id)| id) {
            assert!(peers.to_string().contains(id.as_str()), "node {i} lost peer {id}: {peers}");
        }
    }
    // On success, what the JS peers saw (shown with --nocapture).
    eprintln!("{}\n{}", peer.output(), junk.output());
}
