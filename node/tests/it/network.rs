//! The inspector network end to end, every part a separate process on real
//! sockets: the devnet (certified admission), the gate in front of it, four
//! `vigil node` processes over libp2p (bootstrapping from node 0), and a
//! corpus attack fixture played on the devnet.

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use alloy_primitives::{Address, B256};
use serde_json::{json, Value};
use vigil_types::{Committee, Member, Stake, Threshold, U256};

use crate::support::{account, free_ports, signed_tx, Proc, Rpc};

pub(crate) const CHAIN: u64 = 31337;
const EPOCH: u64 = 1;
const FIXTURE: &str = "reinitialize-fee-collector.json";

fn fixture() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/corpus/fixtures/attack").join(FIXTURE);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn vigil(args: &[&str]) -> std::process::Output {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vigil")).args(args).output().expect("vigil runs");
    assert!(out.status.success(), "vigil {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

pub(crate) struct Node {
    pub(crate) proc: Option<Proc>,
    pub(crate) rpc: Rpc,
    pub(crate) metrics: String,
    pub(crate) args: Vec<String>,
    pub(crate) dir: PathBuf,
    pub(crate) starts: usize,
}

impl Node {
    fn start(&mut self) {
        let log = self.dir.join(format!("node-{}.log", self.starts));
        self.starts += 1;
        self.proc = Some(Proc::vigil(&self.args, log));
    }

    fn kill9(&mut self) {
        if let Some(mut p) = self.proc.take() {
            p.kill9();
        }
    }

    pub(crate) fn log(&self) -> String {
        self.proc.as_ref().map(Proc::log).unwrap_or_default()
    }
}

pub(crate) struct Net {
    pub(crate) _dir: tempfile::TempDir,
    pub(crate) devnet: Proc,
    pub(crate) devnet_rpc: Rpc,
    pub(crate) gate: Proc,
    pub(crate) gate_rpc: Rpc,
    pub(crate) nodes: Vec<Node>,
}

impl Net {
    /// Genesis = the fixture's world plus funded test accounts; keys and
    /// committee for four equal-stake members; everything started.
    pub(crate) async fn start() -> Self {
        Self::start_with_strict(&[]).await
    }

    /// [`Net::start`], the nodes in `strict` with one more policy rule:
    /// any ether account 34 sends is an attack (quarantine). Members that
    /// disagree, as honest members with different policies would.
    pub(crate) async fn start_with_strict(strict: &[usize]) -> Self {
        Self::start_with(strict, &[]).await
    }

    /// [`Net::start_with_strict`], node `i` with `node_args[i]` too (none
    /// beyond the slice).
    pub(crate) async fn start_with(strict: &[usize], node_args: &[&[&str]]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let pw = root.join("pw");
        std::fs::write(&pw, "test password\n").unwrap();
        let mut members = Vec::new();
        for i in 0..4u32 {
            let d = root.join(format!("node{i}"));
            vigil(&[
                "node",
                "init",
                "--dir",
                d.to_str().unwrap(),
                "--password-file",
                pw.to_str().unwrap(),
                "--kdf",
                "pbkdf2",
                "--kdf-cost",
                "2",
            ]);
            let m: Value = serde_json::from_str(&std::fs::read_to_string(d.join("member.json")).unwrap()).unwrap();
            members.push(Member {
                index: i,
                bls_pubkey: serde_json::from_value(m["bls_pubkey"].clone()).unwrap(),
                pop: serde_json::from_value(m["pop"].clone()).unwrap(),
                stake: Stake(U256::from(10u64).pow(U256::from(18))),
                peer_id: m["peer_id"].as_str().unwrap().to_string(),
            });
        }
        let peer0 = members[0].peer_id.clone();
        let committee = Committee {
            chain_id: CHAIN,
            epoch: EPOCH,
            ruleset: "vigil-rules/1".into(),
            threshold: Threshold::TWO_THIRDS,
            members,
        };
        let committee_file = root.join("committee.json");
        std::fs::write(&committee_file, serde_json::to_string(&committee).unwrap()).unwrap();
        let mut genesis = fixture();
        for i in 30..35u8 {
            genesis["alloc"][account(i).address().to_string()] = json!({ "balance": "0x3635c9adc5dea00000" });
        }
        let genesis = json!({
            "chain_id": genesis["chain_id"], "fork": genesis["fork"], "genesis": genesis["genesis"], "alloc": genesis["alloc"],
        });
        let genesis_file = root.join("genesis.json");
        std::fs::write(&genesis_file, genesis.to_string()).unwrap();
        // A protocol's policy asks for an alert (not a quarantine) whenever
        // account 33 sends ether: alerts end to end (DESIGN §5).
        let policy_file = root.join("policy.json");
        let policy = json!({ "protocol": "alert test", "rules": [{ "type": "max-outflow",
            "contract": account(33).address(), "asset": "native", "max": "0", "on_break": "alert" }] });
        std::fs::write(&policy_file, policy.to_string()).unwrap();
        let strict_file = root.join("strict-policy.json");
        let mut strict_policy = policy.clone();
        strict_policy["rules"].as_array_mut().unwrap().push(json!({ "type": "max-outflow",
            "contract": account(34).address(), "asset": "native", "max": "0" }));
        std::fs::write(&strict_file, strict_policy.to_string()).unwrap();

        let ports = free_ports(2 + 4 * 3);
        let (devnet_port, gate_port) = (ports[0], ports[1]);
        let devnet_url = format!("http://127.0.0.1:{devnet_port}");
        let gate_url = format!("http://127.0.0.1:{gate_port}");
        let s = |p: &Path| p.to_str().unwrap().to_string();
        let devnet_args: Vec<String> = vec![
            "--log.filter".into(),
            "info".into(),
            "devnet".into(),
            "run".into(),
            "--genesis".into(),
            s(&genesis_file),
            "--committee".into(),
            s(&committee_file),
            "--data".into(),
            s(&root.join("devnet")),
            "--rpc.addr".into(),
            format!("127.0.0.1:{devnet_port}"),
            "--block-time".into(),
            "200".into(),
        ];
        let mut devnet = Proc::vigil(&devnet_args, root.join("devnet.log"));
        let devnet_rpc = Rpc::new(devnet_url.clone());
        devnet_rpc.wait_up(&mut devnet, Duration::from_secs(30)).await;

        let node_ports: Vec<(u16, u16, u16)> = ports[2..].chunks(3).map(|c| (c[0], c[1], c[2])).collect();
        let gate_args: Vec<String> = vec![
            "--log.filter".into(),
            "info".into(),
            "gate".into(),
            "run".into(),
            "--upstream".into(),
            devnet_url.clone(),
            "--committee".into(),
            s(&committee_file),
            "--data".into(),
            s(&root.join("gate")),
            "--rpc.addr".into(),
            format!("127.0.0.1:{gate_port}"),
            "--inspector".into(),
            format!("http://127.0.0.1:{}", node_ports[0].0),
            "--inspector".into(),
            format!("http://127.0.0.1:{}", node_ports[1].0),
            "--quarantine-after-ms".into(),
            "4000".into(),
            "--poll-ms".into(),
            "100".into(),
        ];
        let mut gate = Proc::vigil(&gate_args, root.join("gate.log"));
        let gate_rpc = Rpc::new(gate_url.clone());
        gate_rpc.wait_up(&mut gate, Duration::from_secs(30)).await;

        let mut nodes = Vec::new();
        for (i, (rpc_port, metrics_port, p2p_port)) in node_ports.iter().enumerate() {
            let d = root.join(format!("node{i}"));
            let mut args: Vec<String> = vec![
                "--log.filter".into(),
                "info".into(),
                "node".into(),
                "run".into(),
                "--keys".into(),
                s(&d),
                "--data".into(),
                s(&d.join("data")),
                "--genesis".into(),
                s(&genesis_file),
                "--committee".into(),
                s(&committee_file),
                "--chain.rpc".into(),
                devnet_url.clone(),
                "--rpc.addr".into(),
                format!("127.0.0.1:{rpc_port}"),
                "--metrics.addr".into(),
                format!("127.0.0.1:{metrics_port}"),
                "--p2p.listen".into(),
                format!("/ip4/127.0.0.1/tcp/{p2p_port}"),
                "--sequencer".into(),
                gate_url.clone(),
                "--sequencer".into(),
                devnet_url.clone(),
                "--password-file".into(),
                s(&pw),
                "--deadline-ms".into(),
                "2000".into(),
                "--poll-ms".into(),
                "50".into(),
                "--policy".into(),
                s(if strict.contains(&i) { &strict_file } else { &policy_file }),
            ];
            args.extend(node_args.get(i).into_iter().flat_map(|a| a.iter()).map(|a| a.to_string()));
            if i > 0 {
                args.push("--p2p.bootstrap".into());
                args.push(format!("/ip4/127.0.0.1/tcp/{}/p2p/{peer0}", node_ports[0].2));
            }
            let mut node = Node {
                proc: None,
                rpc: Rpc::new(format!("http://127.0.0.1:{rpc_port}")),
                metrics: format!("http://127.0.0.1:{metrics_port}/metrics"),
                args,
                dir: d,
                starts: 0,
            };
            node.start();
            nodes.push(node);
        }
        for node in &mut nodes {
            let rpc = node.rpc.clone();
            rpc.wait_up(node.proc.as_mut().unwrap(), Duration::from_secs(60)).await;
        }
        let net = Self { _dir: dir, devnet, devnet_rpc, gate, gate_rpc, nodes };
        net.wait_mesh(3).await;
        net
    }

    /// The sum of node `node`'s samples of metric `name` whose labels
    /// include every one of `labels` (`topic="tx"`).
    pub(crate) async fn metric(&self, node: usize, name: &str, labels: &[&str]) -> f64 {
        let n = &self.nodes[node];
        let text = n.rpc.http.get(&n.metrics).send().await.unwrap().text().await.unwrap();
        text.lines()
            .filter(|l| l.starts_with(name) && l[name.len()..].starts_with([' ', '{']))
            .filter(|l| labels.iter().all(|label| l.contains(label)))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }

    /// Until every running node sees `peers` peers.
    pub(crate) async fn wait_mesh(&self, peers: usize) {
        let start = Instant::now();
        for node in self.nodes.iter().filter(|n| n.proc.is_some()) {
            loop {
                let v = node.rpc.result("vigil_peers", json!([])).await;
                if v.as_array().map_or(0, Vec::len) >= peers {
                    break;
                }
                assert!(start.elapsed() < Duration::from_secs(60), "mesh not formed: {v}\n{}", node.log());
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        // Let gossipsub grafts settle.
        tokio::time::sleep(Duration::from_millis(1500)).await;
    }

    pub(crate) async fn node_status(&self, i: usize, hash: B256) -> String {
        let v = self.nodes[i].rpc.call("vigil_getTxStatus", json!([hash])).await;
        v["result"]["status"].as_str().unwrap_or("unknown").to_string()
    }

    pub(crate) async fn wait_node_status(&self, i: usize, hash: B256, want: &str, within: Duration) {
        let start = Instant::now();
        loop {
            let s = self.node_status(i, hash).await;
            if s == want {
                return;
            }
            assert!(start.elapsed() < within, "node {i}: {hash} is {s}, wanted {want}\n{}", self.nodes[i].log());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn wait_included(&self, hash: B256, within: Duration) -> Value {
        let start = Instant::now();
        loop {
            let r = self.devnet_rpc.result("eth_getTransactionReceipt", json!([hash])).await;
            if !r.is_null() {
                return r;
            }
            if start.elapsed() > within {
                let mut logs: Vec<String> = self.nodes.iter().map(|n| tail(&n.log(), 30)).collect();
                logs.push(self.nodes[0].rpc.call("vigil_getTxStatus", json!([hash])).await.to_string());
                logs.push(tail(&self.gate.log(), 20));
                panic!(
                    "{hash} not included\ndevnet:\n{}\nnodes:\n{}",
                    tail(&self.devnet.log(), 30),
                    logs.join("\n---\n")
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

pub(crate) fn tail(log: &str, n: usize) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn tx_hash(raw: &str) -> B256 {
    alloy_primitives::keccak256(alloy_primitives::hex::decode(raw).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certifies_clean_quarantines_attacks_and_tolerates_one_fault_in_four() {
    let _machine = crate::support::whole_network().await;
    let mut net = Net::start().await;
    let f = fixture();
    let txs = f["txs"].as_array().unwrap();

    // The fixture's world is built through the network: each setup and
    // benign transaction, sent to a different node, is certified by the
    // network and included by the devnet.
    let mut benign = Vec::new();
    for (i, t) in txs.iter().enumerate().filter(|(_, t)| t["label"] != "attack") {
        let raw = t["raw"].as_str().unwrap();
        let hash = net.nodes[i % 4].rpc.result("eth_sendRawTransaction", json!([raw])).await;
        assert_eq!(hash, json!(tx_hash(raw)));
        let r = net.wait_included(tx_hash(raw), Duration::from_secs(20)).await;
        benign.push(tx_hash(raw));
        assert!(r["status"] == "0x1" || t["label"] != "setup", "setup tx {i} failed: {r}");
    }
    for h in &benign {
        for i in 0..4 {
            net.wait_node_status(i, *h, "certified", Duration::from_secs(10)).await;
        }
    }

    // An independent BLS implementation (py_ecc) checks certificates taken
    // from the running network, and refuses one moved to another transaction.
    let dir = net._dir.path();
    let mut files = Vec::new();
    for (k, h) in benign.iter().take(2).enumerate() {
        let cert = net.nodes[2].rpc.result("vigil_getCertificate", json!([h])).await;
        let path = dir.join(format!("cert{k}.json"));
        std::fs::write(&path, cert.to_string()).unwrap();
        files.push(path);
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/pyecc_verify.py");
    let committee = dir.join("committee.json");
    let out = std::process::Command::new("python3").arg(&script).arg(&committee).args(&files).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("2 valid, 0 invalid"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut moved: Value = serde_json::from_str(&std::fs::read_to_string(&files[0]).unwrap()).unwrap();
    moved["tx_hash"] = json!(benign[1]);
    let moved_path = dir.join("moved.json");
    std::fs::write(&moved_path, moved.to_string()).unwrap();
    let out = std::process::Command::new("python3").arg(&script).arg(&committee).arg(&moved_path).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    // A certificate's signature no longer matches; an inclusion proof's
    // (a batch decided it, DESIGN §4b) path no longer leads to its root.
    let why = if moved.get("certificate").is_some() {
        "the audit path does not lead to the batch root"
    } else {
        "aggregate signature does not verify"
    };
    assert!(!out.status.success() && text.contains(why), "{text}");

    // The attack, sent through the gate: every node votes malicious and
    // quarantines it with its evidence; the gate never forwards it.
    let attack = txs.iter().find(|t| t["label"] == "attack").unwrap()["raw"].as_str().unwrap();
    let attack_hash = tx_hash(attack);
    net.gate_rpc.result("eth_sendRawTransaction", json!([attack])).await;
    for i in 0..4 {
        net.wait_node_status(i, attack_hash, "quarantined", Duration::from_secs(15)).await;
        let v = net.nodes[i].rpc.result("vigil_getVerdict", json!([attack_hash])).await;
        assert_eq!(v["verdict"]["kind"], "malicious", "node {i}: {v}");
        assert!(!v["verdict"]["findings"].as_array().unwrap().is_empty(), "node {i}: {v}");
        let q = net.nodes[i].rpc.result("vigil_quarantineList", json!([])).await;
        let listed: Vec<&Value> =
            q["items"].as_array().unwrap().iter().filter(|r| r["tx_hash"] == json!(attack_hash)).collect();
        assert_eq!(listed.len(), 1, "node {i}: {q}");
    }
    assert_eq!(net.devnet_rpc.result("eth_getTransactionReceipt", json!([attack_hash])).await, Value::Null);
    let gate_status = net.gate_rpc.result("vigil_getTxStatus", json!([attack_hash])).await;
    assert!(["pending", "quarantined"].contains(&gate_status["status"].as_str().unwrap()), "{gate_status}");

    // History of a contract the attack and a benign transaction both touched.
    // (Node 2, whose history is read: a node may have abstained on a benign
    // transaction that was certified and included before its turn came.)
    let attack_verdict = net.nodes[2].rpc.result("vigil_getVerdict", json!([attack_hash])).await;
    let attack_touched: BTreeSet<String> = attack_verdict["verdict"]["summary"]["touched"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_lowercase())
        .collect();
    let mut shared = None;
    for h in &benign {
        let answer = net.nodes[2].rpc.call("vigil_getVerdict", json!([h])).await;
        let Some(v) = answer.get("result") else { continue };
        for a in v["verdict"]["summary"]["touched"].as_array().unwrap() {
            if attack_touched.contains(&a.as_str().unwrap().to_lowercase()) {
                shared = Some((a.as_str().unwrap().to_string(), *h));
            }
        }
    }
    let (contract, benign_hash) =
        shared.unwrap_or_else(|| panic!("no clean transaction touches what the attack touches: {attack_verdict}"));
    let history = net.nodes[2].rpc.result("vigil_history", json!([{ "address": contract }])).await;
    let hashes: Vec<String> =
        history["items"].as_array().unwrap().iter().map(|e| e["tx_hash"].as_str().unwrap().to_lowercase()).collect();
    assert!(hashes.contains(&format!("{attack_hash:#x}")), "{history}");
    assert!(hashes.contains(&format!("{benign_hash:#x}")), "{history}");
    let malicious_only =
        net.nodes[2].rpc.result("vigil_history", json!([{ "address": contract, "kind": "malicious" }])).await;
    assert_eq!(malicious_only["items"].as_array().unwrap().len(), 1, "{malicious_only}");

    // An alert: admitted and included, stored with the verdict, listed by
    // history's alert filter, pushed to `alerts` subscribers, counted, on
    // every node that judged it (at least the three whose votes certified it).
    let mut subscriptions = Vec::new();
    for node in &net.nodes {
        use jsonrpsee::core::client::SubscriptionClientT;
        let ws_url = node.rpc.url.replace("http://", "ws://");
        let ws = jsonrpsee::ws_client::WsClientBuilder::default().build(&ws_url).await.unwrap();
        let sub = ws
            .subscribe::<Value, _>("vigil_subscribe", jsonrpsee::rpc_params!["alerts"], "vigil_unsubscribe")
            .await
            .unwrap();
        subscriptions.push((ws, sub));
    }
    let (raw, alerted) = signed_tx(&account(33), CHAIN, 0, Some(Address::repeat_byte(0xab)), 5, vec![]);
    net.gate_rpc.result("eth_sendRawTransaction", json!([raw])).await;
    net.wait_included(alerted, Duration::from_secs(20)).await;
    let mut judged = 0;
    for (node, (_ws, sub)) in net.nodes.iter().zip(subscriptions.iter_mut()) {
        let answer = node.rpc.call("vigil_getVerdict", json!([alerted])).await;
        let Some(v) = answer.get("result") else { continue };
        judged += 1;
        assert_eq!(
            (v["verdict"]["kind"].as_str(), v["verdict"]["alert"].as_bool()),
            (Some("clean"), Some(true)),
            "{v}"
        );
        assert!(
            v["verdict"]["findings"].as_array().unwrap().iter().any(|f| f["rule"] == "protocol-policy"
                && f["severity"] == "high"
                && f["message"].as_str().unwrap().contains("alert test")),
            "{v}"
        );
        let pushed =
            tokio::time::timeout(Duration::from_secs(10), sub.next()).await.expect("an alert").unwrap().unwrap();
        assert_eq!((&pushed["tx_hash"], &pushed["alert"]), (&json!(alerted), &json!(true)), "{pushed}");
        let listed = node.rpc.result("vigil_history", json!([{ "kind": "alert" }])).await;
        let hashes: Vec<&Value> = listed["items"].as_array().unwrap().iter().map(|e| &e["tx_hash"]).collect();
        assert_eq!(hashes, [&json!(alerted)], "{listed}");
        let metrics = reqwest::get(&node.metrics).await.unwrap().text().await.unwrap();
        assert!(metrics.contains(r#"vigil_node_alerts_total{rule="protocol-policy"} 1"#), "{metrics}");
    }
    assert!(judged >= 3, "a certificate needs three clean votes, {judged} verdicts found");
    drop(subscriptions);

    // One of four stopped: a clean transfer through the gate is still certified and included.
    net.nodes[3].kill9();
    let alice = account(30);
    let (raw, h1) = signed_tx(&alice, CHAIN, 0, Some(Address::repeat_byte(0xaa)), 1, vec![]);
    net.gate_rpc.result("eth_sendRawTransaction", json!([raw])).await;
    net.wait_included(h1, Duration::from_secs(20)).await;

    // Two of four stopped: no certificate; the gate holds the transaction.
    net.nodes[2].kill9();
    let (raw, h2) = signed_tx(&alice, CHAIN, 1, Some(Address::repeat_byte(0xaa)), 1, vec![]);
    net.gate_rpc.result("eth_sendRawTransaction", json!([raw])).await;
    net.wait_node_status(0, h2, "quarantined", Duration::from_secs(15)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let s = net.gate_rpc.result("vigil_getTxStatus", json!([h2])).await;
    assert!(["pending", "quarantined"].contains(&s["status"].as_str().unwrap()), "{s}");
    assert_eq!(net.devnet_rpc.result("eth_getTransactionReceipt", json!([h2])).await, Value::Null);
    // Node 2 was killed with SIGKILL: restarted, it still holds its
    // quarantine record of the attack and its verdict.
    net.nodes[2].start();
    let rpc2 = net.nodes[2].rpc.clone();
    rpc2.wait_up(net.nodes[2].proc.as_mut().unwrap(), Duration::from_secs(60)).await;
    let q = rpc2.result("vigil_quarantineList", json!([])).await;
    assert!(q["items"].as_array().unwrap().iter().any(|r| r["tx_hash"] == json!(attack_hash)), "{q}");
    let v = rpc2.result("vigil_getVerdict", json!([attack_hash])).await;
    assert_eq!(v["verdict"]["kind"], "malicious", "{v}");
    assert_eq!(v["outcome"]["status"], "quarantined", "{v}");
}

/// DESIGN §4b's fallback: two members of four judge account 34's transfer
/// malicious (a stricter policy), the other two clean, so a batch holding
/// it gathers no certificate (2 of 4 on each root). Its transactions go the
/// §4 way: the others are certified by votes of their own, account 34's is
/// quarantined (no verdict has the stake), nothing is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_votes_sent_to_the_proposer_decide_every_node_through_its_certificate() {
    let _machine = crate::support::whole_network().await;
    // Node 1, the proposer here, keeps the default route (its own vote is
    // gossiped): routes may mix, and it gossips the certificate because
    // votes came to it directly.
    let proposer: &[&str] = &["--batch-votes", "proposer"];
    let net = Net::start_with(&[], &[proposer, &[], proposer, proposer]).await;
    // Two batches proposed by node 1: one of two transactions sent in one
    // JSON-RPC batch, then one more.
    let txs: Vec<(String, B256)> =
        (30..33u8).map(|a| signed_tx(&account(a), CHAIN, 0, Some(Address::repeat_byte(0xdf)), 1, vec![])).collect();
    let first: Vec<Value> = txs[..2]
        .iter()
        .map(|(raw, _)| json!({"jsonrpc": "2.0", "id": 1, "method": "eth_sendRawTransaction", "params": [raw]}))
        .collect();
    let answers = net.nodes[1].rpc.post(Value::Array(first).to_string()).await;
    assert!(answers.as_array().unwrap().iter().all(|a| a.get("result").is_some()), "{answers}");
    net.nodes[1].rpc.result("eth_sendRawTransaction", json!([txs[2].0])).await;
    for (_, h) in &txs {
        net.wait_included(*h, Duration::from_secs(30)).await;
        for i in 0..4 {
            net.wait_node_status(i, *h, "certified", Duration::from_secs(15)).await;
        }
        // Each node holds the batch's inclusion proof, not a §4 certificate.
        let proof = net.nodes[2].rpc.result("vigil_getCertificate", json!([h])).await;
        assert!(proof.get("certificate").is_some() && proof.get("path").is_some(), "{proof}");
    }
    // The votes went to node 1 alone, and the others took its certificate.
    assert!(net.metric(1, "vigil_node_direct_messages_total", &["result=\"accepted\""]).await >= 2.0);
    for i in [0, 2, 3] {
        assert!(net.metric(i, "vigil_node_batch_votes_total", &["route=\"direct\""]).await >= 1.0, "node {i}");
        assert_eq!(net.metric(i, "vigil_node_batch_votes_total", &["route=\"gossip\""]).await, 0.0, "node {i}");
        let certs = net.metric(i, "vigil_node_gossip_messages_total", &["topic=\"batchcert\""]).await;
        assert!(certs >= 1.0, "node {i} saw no batch certificate");
    }
    for i in 0..4 {
        assert_eq!(net.metric(i, "vigil_node_batch_fallbacks_total", &[]).await, 0.0, "node {i} fell back");
    }
    // No member gossiped its vote on node 1's batches.
    assert_eq!(net.metric(1, "vigil_node_gossip_messages_total", &["topic=\"batchvote\""]).await, 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_whose_members_disagree_falls_back_to_votes_on_each_transaction() {
    let _machine = crate::support::whole_network().await;
    let net = Net::start_with_strict(&[2, 3]).await;
    // One JSON-RPC batch to node 0, so its transactions are judged together
    // and proposed in one batch.
    let disputed = signed_tx(&account(34), CHAIN, 0, Some(Address::repeat_byte(0xdd)), 1, vec![]);
    let good: Vec<(String, B256)> =
        (30..33u8).map(|a| signed_tx(&account(a), CHAIN, 0, Some(Address::repeat_byte(0xde)), 1, vec![])).collect();
    let mut requests: Vec<Value> = good
        .iter()
        .map(|(raw, _)| json!({"jsonrpc": "2.0", "id": 1, "method": "eth_sendRawTransaction", "params": [raw]}))
        .collect();
    requests.insert(1, json!({"jsonrpc": "2.0", "id": 2, "method": "eth_sendRawTransaction", "params": [disputed.0]}));
    let answers = net.nodes[0].rpc.post(Value::Array(requests).to_string()).await;
    assert!(answers.as_array().unwrap().iter().all(|a| a.get("result").is_some()), "{answers}");

    for (_, h) in &good {
        net.wait_included(*h, Duration::from_secs(30)).await;
        for i in 0..4 {
            net.wait_node_status(i, *h, "certified", Duration::from_secs(15)).await;
        }
    }
    for i in 0..4 {
        net.wait_node_status(i, disputed.1, "quarantined", Duration::from_secs(20)).await;
    }
    assert_eq!(net.devnet_rpc.result("eth_getTransactionReceipt", json!([disputed.1])).await, Value::Null);
    // The batch fell back: the disputed transaction was quarantined by the
    // node's §4 pool, which only votes cast after the fallback reach.
    let fallbacks = net.metric(0, "vigil_node_batch_fallbacks_total", &[]).await;
    assert!(fallbacks >= 1.0, "no batch fell back");
    // A good transaction that shared the disputed one's batch (when the
    // node's judging put them together, not certain) has a §4 certificate.
    for (_, h) in &good {
        let cert = net.nodes[0].rpc.result("vigil_getCertificate", json!([h])).await;
        if cert.get("certificate").is_none() {
            assert_eq!(cert["kind"], "clean", "{cert}");
        }
    }
    let v = net.nodes[3].rpc.result("vigil_getVerdict", json!([disputed.1])).await;
    assert_eq!(v["verdict"]["kind"], "malicious", "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_under_load_keeps_what_it_acknowledged_and_flooders_are_banned() {
    let _machine = crate::support::whole_network().await;
    let mut net = Net::start().await;
    let senders: Vec<_> = (30..34).map(account).collect();

    // Load: transfers sent round-robin to the nodes; node 1 is killed mid-way.
    let mut sent = Vec::new();
    for nonce in 0..6u64 {
        for (i, s) in senders.iter().enumerate() {
            let (raw, h) = signed_tx(s, CHAIN, nonce, Some(Address::repeat_byte(0xbb)), 1, vec![]);
            let _ = net.nodes[i % 4].rpc.call("eth_sendRawTransaction", json!([raw])).await;
            sent.push(h);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // What node 1 acknowledged before the kill: its verdicts, votes,
    // certificates. Later nonces are judged once earlier ones are included,
    // so on a loaded machine this takes a while: wait for ten at least.
    let start = Instant::now();
    let mut acknowledged = Vec::new();
    while acknowledged.len() < 10 && start.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(300)).await;
        acknowledged.clear();
        for h in &sent {
            let v = net.nodes[1].rpc.call("vigil_getVerdict", json!([h])).await;
            if let Some(r) = v.get("result") {
                acknowledged.push((*h, r.clone()));
            }
        }
    }
    assert!(acknowledged.len() >= 10, "node 1 judged only {} transactions", acknowledged.len());
    net.nodes[1].kill9();
    net.nodes[1].start();
    let rpc = net.nodes[1].rpc.clone();
    rpc.wait_up(net.nodes[1].proc.as_mut().unwrap(), Duration::from_secs(60)).await;
    for (h, before) in &acknowledged {
        let after = rpc.result("vigil_getVerdict", json!([h])).await;
        assert_eq!(after["verdict"], before["verdict"], "{h}");
        let votes_before = before["votes"].as_array().unwrap().len();
        assert!(after["votes"].as_array().unwrap().len() >= votes_before, "{h}: votes lost");
        if !before["certificate"].is_null() {
            assert_eq!(after["certificate"], before["certificate"], "{h}");
        }
    }
    // It catches up with the chain and takes part again.
    net.wait_mesh(3).await;
    let head = net.devnet_rpc.result("eth_blockNumber", json!([])).await;
    let head = u64::from_str_radix(head.as_str().unwrap().trim_start_matches("0x"), 16).unwrap();
    let start = Instant::now();
    loop {
        let info = rpc.result("vigil_nodeInfo", json!([])).await;
        if info["head"]["number"].as_u64().unwrap() >= head {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "node 1 does not catch up: {info}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A flooding peer: joins through node 0 and publishes garbage votes.
    let attacker = vigil_net::start({
        let mut c = vigil_net::NetConfig::new(libp2p_identity_keypair(), CHAIN);
        c.listen = vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()];
        let peer0 = net.nodes[0].rpc.result("vigil_nodeInfo", json!([])).await["peer_id"].as_str().unwrap().to_string();
        let p2p0 = net.nodes[0].args.iter().skip_while(|a| *a != "--p2p.listen").nth(1).unwrap().clone();
        c.bootstrap = vec![format!("{p2p0}/p2p/{peer0}").parse().unwrap()];
        c
    })
    .await
    .unwrap();
    let (attacker, _events) = attacker;
    let flood = tokio::spawn(async move {
        for i in 0..2000u32 {
            let mut junk = vec![1u8; 64];
            junk.extend_from_slice(&i.to_be_bytes());
            let _ = attacker.publish(vigil_types::Topic::Vote, junk).await;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        attacker
    });
    // Honest traffic keeps being certified meanwhile.
    let (raw, h) = signed_tx(&account(30), CHAIN, 6, Some(Address::repeat_byte(0xcc)), 1, vec![]);
    net.nodes[2].rpc.result("eth_sendRawTransaction", json!([raw])).await;
    net.wait_node_status(2, h, "certified", Duration::from_secs(15)).await;
    let start = Instant::now();
    loop {
        let metrics = net.nodes[0].rpc.http.get(&net.nodes[0].metrics).send().await.unwrap().text().await.unwrap();
        if metrics.lines().any(|l| l.starts_with("vigil_node_peers_banned_total ") && !l.ends_with(" 0")) {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "flooder not banned:\n{metrics}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    flood.abort();
    // Malformed RPC input gets error objects; the node keeps serving.
    let rpc0 = &net.nodes[0].rpc;
    assert_eq!(rpc0.post("{oops".into()).await["error"]["code"], json!(-32700));
    assert_eq!(rpc0.error("eth_sendRawTransaction", json!(["0x1234"])).await.0, -32000);
    assert_eq!(rpc0.error("eth_sendRawTransaction", json!([42])).await.0, -32602);
    assert_eq!(rpc0.error("vigil_getVerdict", json!(["0xzz"])).await.0, -32602);
    assert_eq!(rpc0.error("vigil_getVerdict", json!([B256::repeat_byte(3)])).await.0, -32011);
    assert_eq!(rpc0.error("vigil_history", json!([{ "adress": "0x00" }])).await.0, -32602);
    assert_eq!(rpc0.error("vigil_history", json!([{ "cursor": "nonsense" }])).await.0, -32602);
    let (code, message) = rpc0
        .error("vigil_quarantineReview", json!([{ "tx_hash": B256::ZERO, "state": "false_positive", "token": "x" }]))
        .await;
    assert_eq!(code, -32013, "{message}");
    let (code, message) =
        rpc0.error("vigil_quarantineReview", json!([{ "tx_hash": B256::ZERO, "state": "false_positive" }])).await;
    // Unauthorized (this node has no token at all), not a malformed request.
    assert_eq!(code, -32013, "a review without a token: {message}");
    assert_eq!(rpc0.error("vigil_history", json!([{ "limit": 0 }])).await.0, -32602);
    assert_eq!(rpc0.error("vigil_quarantineList", json!([{ "limit": 0 }])).await.0, -32602);
    // Subscriptions (WebSocket on the same port): verdicts as they are made.
    let ws_url = rpc0.url.replace("http://", "ws://");
    let ws = jsonrpsee::ws_client::WsClientBuilder::default().build(&ws_url).await.unwrap();
    use jsonrpsee::core::client::SubscriptionClientT;
    let bad =
        ws.subscribe::<Value, _>("vigil_subscribe", jsonrpsee::rpc_params!["everything"], "vigil_unsubscribe").await;
    assert!(bad.is_err(), "unknown subscription accepted");
    let mut verdicts = ws
        .subscribe::<Value, _>("vigil_subscribe", jsonrpsee::rpc_params!["verdicts"], "vigil_unsubscribe")
        .await
        .unwrap();
    // A sender with no earlier nonce in flight: judged at once, whatever
    // the restarted node still has to resume.
    let (raw, h) = signed_tx(&account(34), CHAIN, 0, Some(Address::repeat_byte(0xcd)), 1, vec![]);
    rpc0.result("eth_sendRawTransaction", json!([raw])).await;
    let seen =
        tokio::time::timeout(Duration::from_secs(10), verdicts.next()).await.expect("a verdict").unwrap().unwrap();
    assert_eq!(seen["tx_hash"], json!(h), "{seen}");
    // Every node still serves.
    for node in net.nodes.iter().filter(|n| n.proc.is_some()) {
        node.rpc.result("vigil_nodeInfo", json!([])).await;
    }
}

fn libp2p_identity_keypair() -> vigil_net::Keypair {
    vigil_crypto::NodeIdentity::generate().to_libp2p().unwrap()
}
