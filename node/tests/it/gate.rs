//! `vigil gate run` as a separate process in front of a real Hardhat node
//! (testnet/clients, `npm ci` there first), over real sockets.
//!
//! One Hardhat node and one gate serve every check (Hardhat takes seconds to
//! start); each check uses its own funded account so nonces do not mix.

use std::{
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use alloy_primitives::{Address, B256};
use alloy_signer_local::PrivateKeySigner;
use serde_json::{json, Value};

use crate::support::{clients_dir, free_ports, run_wallet, signed_tx, signed_tx_with_gas, spawn_certifier, Proc, Rpc};
use vigil_consensus::testkit::DevCommittee;
use vigil_types::{BatchLeaf, Certificate, VoteKind};

const CHAIN: u64 = 31337;
const EPOCH: u64 = 5;
const QUARANTINE_MS: u64 = 5_000;
/// Hardhat's well-known accounts #0..#3 (testnet/clients/README.md).
const KEYS: [&str; 4] = [
    "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
];

fn hardhat(dir: &Path, port: u16) -> Proc {
    let bin = clients_dir().join("node_modules/.bin/hardhat");
    assert!(bin.exists(), "{} missing: run `npm ci` in testnet/clients (see its README)", bin.display());
    let log = dir.join("hardhat.log");
    let child = Command::new(bin)
        .args(["node", "--hostname", "127.0.0.1", "--port", &port.to_string()])
        .current_dir(clients_dir())
        .env("HARDHAT_DISABLE_TELEMETRY_PROMPT", "true")
        .stdout(std::fs::File::create(&log).expect("log"))
        .stderr(Stdio::null())
        .spawn()
        .expect("hardhat starts");
    Proc { child, log }
}

fn gate(dir: &Path, upstream: &str, committee: &Path, rpc_port: u16, metrics_port: u16, n: usize) -> Proc {
    let quarantine = QUARANTINE_MS.to_string();
    gate_with(dir, upstream, committee, rpc_port, metrics_port, n, &["--quarantine-after-ms", &quarantine])
}

fn gate_with(
    dir: &Path,
    upstream: &str,
    committee: &Path,
    rpc_port: u16,
    metrics_port: u16,
    n: usize,
    extra: &[&str],
) -> Proc {
    let log = dir.join(format!("gate-{n}.log"));
    let child = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["--log.filter", "info", "gate", "run", "--upstream", upstream])
        .arg("--committee")
        .arg(committee)
        .arg("--data")
        .arg(dir.join("gate-data"))
        .args(["--rpc.addr", &format!("127.0.0.1:{rpc_port}")])
        .args(["--metrics.addr", &format!("127.0.0.1:{metrics_port}")])
        .args(["--poll-ms", "100"])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("vigil starts");
    Proc { child, log }
}

async fn status(gate: &Rpc, hash: B256) -> Value {
    gate.result("vigil_getTxStatus", json!([hash])).await
}

async fn wait_status(gate: &Rpc, hash: B256, want: &str, within: Duration) -> Value {
    let start = Instant::now();
    loop {
        let s = status(gate, hash).await;
        if s["status"] == want {
            return s;
        }
        assert!(start.elapsed() < within, "{hash} stuck at {s}, wanted {want}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn at_hardhat(hardhat: &Rpc, hash: B256) -> Value {
    hardhat.result("eth_getTransactionByHash", json!([hash])).await
}

fn signed(key: &str, nonce: u64) -> (String, B256) {
    let signer: PrivateKeySigner = key.parse().expect("key");
    signed_tx(&signer, CHAIN, nonce, Some(Address::repeat_byte(0x42)), 1000 + nonce, vec![])
}

fn address(key: &str) -> Address {
    key.parse::<PrivateKeySigner>().expect("key").address()
}

fn cert_json(c: &Certificate) -> Value {
    serde_json::to_value(c).expect("certificate JSON")
}

#[test]
fn gate_in_front_of_hardhat() {
    let dir = tempfile::tempdir().expect("tempdir");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(scenario(dir.path()));
}

async fn scenario(dir: &Path) {
    let [hh_port, gate_port, metrics_port] = free_ports(3)[..] else { unreachable!() };
    let hh = Rpc::new(format!("http://127.0.0.1:{hh_port}"));
    let gw = Rpc::new(format!("http://127.0.0.1:{gate_port}"));
    let mut hardhat_proc = hardhat(dir, hh_port);
    hh.wait_up(&mut hardhat_proc, Duration::from_secs(60)).await;

    // Committees of epochs 4 and 5 (current: 5); epoch 3 is known to the test only.
    let current = DevCommittee::generate(CHAIN, EPOCH, 4, 11);
    let previous = DevCommittee::generate(CHAIN, EPOCH - 1, 4, 10);
    let stale = DevCommittee::generate(CHAIN, EPOCH - 2, 4, 9);
    let committee_file = dir.join("committee.json");
    std::fs::write(&committee_file, serde_json::to_string(&[previous.committee(), current.committee()]).unwrap())
        .expect("write committee");
    let mut gate_proc = gate(dir, &hh.url, &committee_file, gate_port, metrics_port, 1);
    gw.wait_up(&mut gate_proc, Duration::from_secs(60)).await;

    // --- Pass-through: same answers as Hardhat itself (nothing mined yet). ---
    let acct0 = address(KEYS[0]);
    let requests = [
        json!({"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}),
        json!({"jsonrpc":"2.0","id":"two","method":"eth_blockNumber","params":[]}),
        json!({"jsonrpc":"2.0","id":3,"method":"eth_getBalance","params":[acct0, "latest"]}),
        json!({"jsonrpc":"2.0","id":4,"method":"eth_getBlockByNumber","params":["latest", false]}),
        json!({"jsonrpc":"2.0","id":5,"method":"eth_call","params":[{"from": acct0, "to": Address::repeat_byte(0x42), "data":"0x"}, "latest"]}),
        json!({"jsonrpc":"2.0","id":6,"method":"eth_estimateGas","params":[{"from": acct0, "to": Address::repeat_byte(0x42), "value":"0x1"}]}),
        json!({"jsonrpc":"2.0","id":7,"method":"eth_getCode","params":[acct0, "latest"]}),
        json!({"jsonrpc":"2.0","id":8,"method":"net_version","params":[]}),
        json!({"jsonrpc":"2.0","id":9,"method":"eth_getTransactionCount","params":[acct0, "latest"]}),
        json!({"jsonrpc":"2.0","id":10,"method":"no_suchMethod","params":[]}),
    ];
    for r in &requests {
        let direct = hh.post(r.to_string()).await;
        let through = gw.post(r.to_string()).await;
        assert_eq!(through, direct, "pass-through of {r}");
    }
    let batch = Value::Array(requests[..5].to_vec()).to_string();
    assert_eq!(gw.post(batch.clone()).await, hh.post(batch).await, "batch pass-through");

    // --- Malformed input gets error objects; the gate keeps serving. ---
    let code = |v: &Value| v["error"]["code"].as_i64();
    assert_eq!(code(&gw.post("{not json".into()).await), Some(-32700));
    assert_eq!(code(&gw.post("[]".into()).await), Some(-32600));
    assert_eq!(code(&gw.post("42".into()).await), Some(-32600));
    assert_eq!(code(&gw.post(r#"{"jsonrpc":"2.0","id":1}"#.into()).await), Some(-32600));
    assert_eq!(gw.error("eth_sendRawTransaction", json!(["0xzz"])).await.0, -32602);
    assert_eq!(gw.error("eth_sendRawTransaction", json!([])).await.0, -32602);
    assert_eq!(gw.error("eth_sendRawTransaction", json!([1, 2])).await.0, -32602);
    let (c, m) = gw.error("eth_sendRawTransaction", json!(["0x02c0"])).await;
    assert_eq!(c, -32000, "{m}");
    assert!(m.contains("malformed") || m.contains("transaction"), "{m}");
    assert_eq!(gw.error("vigil_getTxStatus", json!(["0x1234"])).await.0, -32602);
    assert_eq!(gw.error("vigil_getTxStatus", json!([B256::repeat_byte(9)])).await.0, -32011);
    assert_eq!(gw.error("vigil_submitCertificate", json!([{"chain_id": 1}])).await.0, -32602);
    let mixed = gw.post(r#"[{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}, 5]"#.into()).await;
    assert_eq!((mixed[0]["result"].as_str(), code(&mixed[1])), (Some("0x7a69"), Some(-32600)));
    // Notifications (no id) are neither run nor answered (JSON-RPC 2.0
    // forbids an answer): alone, in a batch beside a call, and a batch of
    // them only.
    let (raw_n, hash_n) = signed(KEYS[3], 40);
    let notify = json!({"jsonrpc": "2.0", "method": "eth_sendRawTransaction", "params": [raw_n]});
    assert_eq!(gw.post_text(notify.to_string()).await, (200, String::new()));
    assert_eq!(gw.error("vigil_getTxStatus", json!([hash_n])).await.0, -32011, "a notification was run");
    let call = json!({"jsonrpc": "2.0", "id": 9, "method": "eth_chainId", "params": []});
    let beside = gw.post(json!([notify, call]).to_string()).await;
    assert_eq!(beside, json!([{"jsonrpc": "2.0", "id": 9, "result": "0x7a69"}]));
    let chain_notify = json!({"jsonrpc": "2.0", "method": "eth_chainId", "params": []});
    assert_eq!(gw.post_text(json!([chain_notify, chain_notify]).to_string()).await, (200, String::new()));
    let too_many = Value::Array(vec![requests[0].clone(); 1001]).to_string();
    assert_eq!(code(&gw.post(too_many).await), Some(-32005), "batch over the limit");
    let huge = json!({"jsonrpc":"2.0","id":1,"method":"eth_sendRawTransaction","params":["0x".to_owned() + &"00".repeat(3 << 20)]});
    assert_eq!(code(&gw.post(huge.to_string()).await), Some(-32005), "body over the limit");
    assert_eq!(gw.result("eth_chainId", json!([])).await, "0x7a69");

    // --- No certificate: held, never at Hardhat, quarantined after the deadline. ---
    let (raw_a, hash_a) = signed(KEYS[1], 0);
    let sent_a = Instant::now();
    assert_eq!(gw.result("eth_sendRawTransaction", json!([raw_a])).await, json!(hash_a));
    assert_eq!(gw.result("eth_sendRawTransaction", json!([raw_a])).await, json!(hash_a), "idempotent");
    assert_eq!(status(&gw, hash_a).await["status"], "pending");
    // The wallet's next nonce counts the held transaction.
    let acct1 = address(KEYS[1]);
    assert_eq!(hh.result("eth_getTransactionCount", json!([acct1, "pending"])).await, "0x0");
    assert_eq!(gw.result("eth_getTransactionCount", json!([acct1, "pending"])).await, "0x1");
    let held = gw.result("vigil_pendingTransactions", json!([])).await;
    assert!(held.as_array().unwrap().iter().any(|t| t["tx_hash"] == json!(hash_a)), "{held}");

    // --- Forged certificates are refused and change nothing. ---
    let (raw_b0, hash_b0) = signed(KEYS[2], 0);
    let (raw_b1, hash_b1) = signed(KEYS[2], 1);
    gw.result("eth_sendRawTransaction", json!([raw_b0])).await;
    let mut tampered = current.certify(hash_b0);
    let mut sig = tampered.signature.as_bytes().to_vec();
    sig[95] ^= 1;
    tampered.signature = serde_json::from_value(json!(format!("0x{}", alloy_primitives::hex::encode(&sig)))).unwrap();
    let mut other_tx = current.certify(hash_b0);
    other_tx.tx_hash = hash_b1;
    let forged = [
        ("wrong keys", DevCommittee::generate(CHAIN, EPOCH, 4, 999).certify(hash_b0)),
        ("tampered signature", tampered),
        ("field changed after signing", other_tx),
        ("other chain", DevCommittee::generate(1, EPOCH, 4, 11).certify(hash_b0)),
        ("stale epoch", stale.certify(hash_b0)),
        ("too little stake", current.certify_with(hash_b0, VoteKind::Clean, &[0, 1])),
    ];
    for (what, cert) in forged {
        let (c, m) = gw.error("vigil_submitCertificate", json!([cert_json(&cert)])).await;
        assert_eq!(c, -32010, "{what}: {m}");
    }
    assert_eq!(status(&gw, hash_b0).await["status"], "pending");
    assert_eq!(status(&gw, hash_b0).await["certificate"], Value::Null);

    // --- Nonce order: nonce 1 certified first waits for nonce 0. ---
    gw.result("eth_sendRawTransaction", json!([raw_b1])).await;
    let answer = gw.result("vigil_submitCertificate", json!([cert_json(&current.certify(hash_b1))])).await;
    assert_eq!(answer, json!({"tx_hash": hash_b1, "status": "certified"}));
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(at_hardhat(&hh, hash_b1).await, Value::Null, "nonce 1 forwarded before nonce 0");
    assert_eq!(at_hardhat(&hh, hash_b0).await, Value::Null);
    // A certificate of the previous epoch is still good.
    gw.result("vigil_submitCertificate", json!([cert_json(&previous.certify(hash_b0))])).await;
    let s0 = wait_status(&gw, hash_b0, "included", Duration::from_secs(10)).await;
    let s1 = wait_status(&gw, hash_b1, "included", Duration::from_secs(10)).await;
    let block = |v: &Value| v["block_number"].as_u64().expect("block number");
    assert!(block(&s0) < block(&s1), "nonce 0 in block {}, nonce 1 in block {}", block(&s0), block(&s1));
    let at_hh = at_hardhat(&hh, hash_b1).await;
    assert_eq!(at_hh["blockNumber"], json!(format!("{:#x}", block(&s1))));
    assert_eq!(s1["admitted_unchecked"], false);
    assert_eq!(s1["certificate"]["tx_hash"], json!(hash_b1));

    // --- Certificate before its transaction; malicious certificate. ---
    let (raw_c0, hash_c0) = signed(KEYS[3], 0);
    let (raw_c1, hash_c1) = signed(KEYS[3], 1);
    let answer = gw.result("vigil_submitCertificate", json!([cert_json(&current.certify(hash_c0))])).await;
    assert_eq!(answer["status"], "awaiting_transaction");
    gw.result("eth_sendRawTransaction", json!([raw_c0])).await;
    wait_status(&gw, hash_c0, "included", Duration::from_secs(10)).await;
    gw.result("eth_sendRawTransaction", json!([raw_c1])).await;
    let bad = current.certify_with(hash_c1, VoteKind::Malicious, &[0, 1, 2]);
    let answer = gw.result("vigil_submitCertificate", json!([cert_json(&bad)])).await;
    assert_eq!(answer["status"], "quarantined");
    let answer = gw.result("vigil_submitCertificate", json!([cert_json(&current.certify(hash_c1))])).await;
    assert_eq!(answer["status"], "quarantined", "a clean certificate does not release a quarantined transaction");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(at_hardhat(&hh, hash_c1).await, Value::Null);

    // --- The uncertified transaction: quarantined at the deadline, never forwarded. ---
    let deadline = Duration::from_millis(QUARANTINE_MS);
    if let Some(left) = deadline.checked_sub(sent_a.elapsed()) {
        assert_eq!(status(&gw, hash_a).await["status"], "pending");
        tokio::time::sleep(left).await;
    }
    let s = wait_status(&gw, hash_a, "quarantined", Duration::from_secs(3)).await;
    assert!(s["reason"].as_str().unwrap_or_default().contains("no certificate"), "{s}");
    assert_eq!(at_hardhat(&hh, hash_a).await, Value::Null);

    let info = gw.result("vigil_gateInfo", json!([])).await;
    assert_eq!(
        (info["chain_id"].as_u64(), info["epoch"].as_u64(), info["fail_mode"].as_str()),
        (Some(CHAIN), Some(EPOCH), Some("closed"))
    );
    assert_eq!(info["counts"]["included"], 3, "{info}");
    assert_eq!(info["counts"]["quarantined"], 2, "{info}");
    let metrics =
        gw.http.get(format!("http://127.0.0.1:{metrics_port}/metrics")).send().await.unwrap().text().await.unwrap();
    for line in [
        "vigil_gate_forwarded_total 3",
        "vigil_gate_certificates_rejected_total{reason=\"bad_signature\"}",
        "vigil_gate_certificates_rejected_total{reason=\"insufficient_stake\"} 1",
        "vigil_gate_quarantined_total 2",
        "vigil_gate_forward_latency_seconds_count 3",
    ] {
        assert!(metrics.contains(line), "{line} missing from\n{metrics}");
    }

    // --- kill -9 right after the acknowledgement; restart on the same data. ---
    let (raw_d, hash_d) = signed(KEYS[0], 0);
    assert_eq!(gw.result("eth_sendRawTransaction", json!([raw_d])).await, json!(hash_d));
    gate_proc.kill9();
    let log1 = gate_proc.log();
    let mut gate_proc = gate(dir, &hh.url, &committee_file, gate_port, metrics_port, 2);
    gw.wait_up(&mut gate_proc, Duration::from_secs(60)).await;
    let s = status(&gw, hash_d).await;
    assert_eq!(s["status"], "pending", "acknowledged transaction lost by kill -9: {s}\n{log1}");
    assert_eq!(status(&gw, hash_b1).await["status"], "included", "final records survive too");
    assert_eq!(at_hardhat(&hh, hash_d).await, Value::Null);
    gw.result("vigil_submitCertificate", json!([cert_json(&current.certify(hash_d))])).await;
    let s = wait_status(&gw, hash_d, "included", Duration::from_secs(10)).await;
    assert_ne!(at_hardhat(&hh, hash_d).await, Value::Null, "{s}");

    // --- Batches (DESIGN §4b): one push, one proof per transaction. ---
    let (raw_e1, hash_e1) = signed(KEYS[0], 1);
    let (raw_e2, hash_e2) = signed(KEYS[0], 2);
    let (raw_f2, hash_f2) = signed(KEYS[2], 2);
    let leaves = vec![
        BatchLeaf { tx_hash: hash_e1, kind: VoteKind::Clean },
        BatchLeaf { tx_hash: hash_e2, kind: VoteKind::Clean },
        BatchLeaf { tx_hash: hash_f2, kind: VoteKind::Malicious },
    ];
    let (tree, batch_cert) = current.certify_leaves(leaves, &[0, 1, 2]);
    let push = |kinds: Value, cert: &vigil_types::BatchCertificate| json!([{ "certificate": cert, "transactions": [raw_e1, raw_e2, raw_f2], "kinds": kinds }]);
    // The verdicts changed after signing, a short list, a weak certificate:
    // refused, nothing stored.
    let (c, m) = gw.error("vigil_submitBatch", push(json!(["clean", "clean", "clean"]), &batch_cert)).await;
    assert_eq!(c, -32010, "{m}");
    assert!(m.contains("root"), "{m}");
    let (c, m) = gw.error("vigil_submitBatch", push(json!(["clean", "clean"]), &batch_cert)).await;
    assert_eq!(c, -32602, "{m}");
    let (_, weak) = current.certify_leaves(tree.leaves().to_vec(), &[0, 1]);
    let (c, m) = gw.error("vigil_submitBatch", push(json!(["clean", "clean", "malicious"]), &weak)).await;
    assert_eq!(c, -32010, "{m}");
    assert_eq!(gw.error("vigil_getTxStatus", json!([hash_e1])).await.0, -32011, "a refused batch stored nothing");
    let answer = gw.result("vigil_submitBatch", push(json!(["clean", "clean", "malicious"]), &batch_cert)).await;
    let statuses: Vec<&str> =
        answer["results"].as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["certified", "certified", "quarantined"], "{answer}");
    let s = wait_status(&gw, hash_e2, "included", Duration::from_secs(10)).await;
    assert_eq!(s["certificate"]["index"], 1, "the inclusion proof is kept: {s}");
    assert_eq!(s["certificate"]["certificate"]["root"], json!(tree.root()));
    wait_status(&gw, hash_e1, "included", Duration::from_secs(10)).await;
    assert_eq!(status(&gw, hash_f2).await["status"], "quarantined");
    assert_eq!(at_hardhat(&hh, hash_f2).await, Value::Null);
    // One inclusion proof where a certificate goes: a tampered path is
    // refused, the true one admits.
    let (raw_e3, hash_e3) = signed(KEYS[0], 3);
    let (tree3, cert3) =
        current.certify_batch(&[B256::repeat_byte(0x77), hash_e3, B256::repeat_byte(0x78)], &[1, 2, 3]);
    let proof = current.inclusion(&tree3, &cert3, 1);
    gw.result("eth_sendRawTransaction", json!([raw_e3])).await;
    let mut bent = proof.clone();
    bent.path[0] = B256::repeat_byte(0x01);
    let (c, m) = gw.error("vigil_submitCertificate", json!([bent])).await;
    assert_eq!(c, -32010, "{m}");
    let mut moved = proof.clone();
    moved.index = 2;
    assert_eq!(gw.error("vigil_submitCertificate", json!([moved])).await.0, -32010);
    assert_eq!(gw.result("vigil_submitCertificate", json!([proof])).await["status"], "certified");
    wait_status(&gw, hash_e3, "included", Duration::from_secs(10)).await;

    // --- SIGTERM: a clean stop. ---
    let pid = gate_proc.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs").success());
    let start = Instant::now();
    let status = loop {
        if let Some(status) = gate_proc.child.try_wait().expect("wait") {
            break status;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "gate ignores SIGTERM:\n{}", gate_proc.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "exit {status}:\n{}", gate_proc.log());
    assert!(gate_proc.log().contains("gate stopped"), "{}", gate_proc.log());
    drop(hardhat_proc);
}

/// The gate's metrics text.
async fn gate_metrics(gw: &Rpc, metrics_port: u16) -> String {
    let url = format!("http://127.0.0.1:{metrics_port}/metrics");
    gw.http.get(url).send().await.unwrap().text().await.unwrap()
}

/// A Hardhat node with a gate in front of it (`extra`: the gate's flags), for
/// a check that needs its own; the processes stop when this is dropped.
struct HardhatAndGate {
    hh: Rpc,
    gw: Rpc,
    committee: DevCommittee,
    committee_file: std::path::PathBuf,
    metrics_port: u16,
    _gate: Proc,
    _hardhat: Proc,
}

impl HardhatAndGate {
    async fn start(dir: &Path, committee_seed: u64, extra: &[&str]) -> Self {
        let [hh_port, gate_port, metrics_port] = free_ports(3)[..] else { unreachable!() };
        let hh = Rpc::new(format!("http://127.0.0.1:{hh_port}"));
        let gw = Rpc::new(format!("http://127.0.0.1:{gate_port}"));
        let mut hardhat_proc = hardhat(dir, hh_port);
        hh.wait_up(&mut hardhat_proc, Duration::from_secs(60)).await;
        let committee = DevCommittee::generate(CHAIN, EPOCH, 4, committee_seed);
        let committee_file = dir.join("committee.json");
        std::fs::write(&committee_file, serde_json::to_string(committee.committee()).unwrap()).unwrap();
        let mut gate_proc = gate_with(dir, &hh.url, &committee_file, gate_port, metrics_port, 1, extra);
        gw.wait_up(&mut gate_proc, Duration::from_secs(60)).await;
        Self { hh, gw, committee, committee_file, metrics_port, _gate: gate_proc, _hardhat: hardhat_proc }
    }
}

/// Inspectors that do not keep up: beyond its bound on transactions waiting
/// for a certificate the gate answers busy at once and stores nothing,
/// rather than acknowledging and quarantining for lateness later; a
/// certificate frees a place, and late decisions shrink the bound.
#[test]
fn a_gate_whose_inspectors_fall_behind_answers_busy() {
    let dir = tempfile::tempdir().expect("tempdir");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        // Its own Hardhat and gate: not beside the tests that load the
        // whole machine (a starved settlement chain times out there).
        let _machine = crate::support::whole_network().await;
        let dir = dir.path();
        // A lag target the 64 sends fit in on a loaded machine (each new
        // transaction costs the gate a read upstream), so the first
        // certificate is on time; the deadline's decisions are late.
        let setup =
            HardhatAndGate::start(dir, 31, &["--quarantine-after-ms", "6000", "--max-certify-lag-ms", "2000"]).await;
        let HardhatAndGate { gw, committee, metrics_port, .. } = &setup;
        let metrics_port = *metrics_port;
        let metric = |name: &'static str| {
            let gw = gw.clone();
            async move {
                let text = gate_metrics(&gw, metrics_port).await;
                text.lines()
                    .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse::<f64>().ok()))
                    .unwrap_or_else(|| panic!("{name} missing from\n{text}"))
            }
        };

        // The bound starts at 64: 64 acknowledged, the next one busy.
        let txs: Vec<(String, B256)> = (0..66).map(|n| signed(KEYS[0], n)).collect();
        for (raw, hash) in &txs[..64] {
            assert_eq!(gw.result("eth_sendRawTransaction", json!([raw])).await, json!(hash));
        }
        let (code, message) = gw.error("eth_sendRawTransaction", json!([txs[64].0])).await;
        assert_eq!(code, -32005, "{message}");
        assert!(message.contains("busy"), "{message}");
        assert_eq!(gw.error("vigil_getTxStatus", json!([txs[64].1])).await.0, -32011, "a busy answer stores nothing");
        // Sent again, an acknowledged one is still answered (no new place).
        assert_eq!(gw.result("eth_sendRawTransaction", json!([txs[3].0])).await, json!(txs[3].1));
        assert_eq!(metric("vigil_gate_awaiting_certificate ").await, 64.0);
        assert_eq!(metric("vigil_gate_busy_total").await, 1.0);

        // A certificate frees a place.
        let answer = gw.result("vigil_submitCertificate", json!([cert_json(&committee.certify(txs[0].1))])).await;
        assert_eq!(answer["status"], "certified");
        assert_eq!(gw.result("eth_sendRawTransaction", json!([txs[64].0])).await, json!(txs[64].1));
        assert_eq!(gw.error("eth_sendRawTransaction", json!([txs[65].0])).await.0, -32005);

        // No more certificates: the deadline quarantines what was
        // acknowledged, each a late decision, and the bound shrinks.
        wait_status(gw, txs[64].1, "quarantined", Duration::from_secs(10)).await;
        let start = Instant::now();
        while metric("vigil_gate_awaiting_certificate ").await > 0.0 {
            assert!(start.elapsed() < Duration::from_secs(10), "quarantined transactions still counted as waiting");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let limit = metric("vigil_gate_awaiting_certificate_limit").await;
        assert!((4.0..64.0).contains(&limit), "late decisions shrink the bound: {limit}");
        // Places free again: a new transaction is acknowledged.
        assert_eq!(gw.result("eth_sendRawTransaction", json!([txs[65].0])).await, json!(txs[65].1));
    });
}

/// What can never be included is refused at once, with the words the
/// nodes and the sequencer use, and stored nowhere: a used nonce, a nonce
/// far ahead, more gas than a block holds, less than the intrinsic cost, a
/// sender who cannot pay. A possible transaction is still acknowledged.
#[test]
fn a_gate_refuses_at_once_what_can_never_be_included() {
    let dir = tempfile::tempdir().expect("tempdir");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let _machine = crate::support::whole_network().await;
        let setup = HardhatAndGate::start(dir.path(), 32, &[]).await;
        let HardhatAndGate { hh, gw, metrics_port, .. } = &setup;
        let key: PrivateKeySigner = KEYS[2].parse().unwrap();
        let to = Some(Address::repeat_byte(0x42));
        // Nonce 0 used: Hardhat mines a transfer of the account's at once.
        let mined =
            hh.result("eth_sendTransaction", json!([{ "from": key.address(), "to": to, "value": "0x1" }])).await;
        assert!(mined.is_string(), "{mined}");
        let block_gas_limit = {
            let block = hh.result("eth_getBlockByNumber", json!(["latest", false])).await;
            u64::from_str_radix(block["gasLimit"].as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
        };
        let poor: PrivateKeySigner = PrivateKeySigner::random();
        let cases = [
            (signed_tx(&key, CHAIN, 0, to, 1, vec![]), "nonce too low: next nonce 1, tx nonce 0"),
            (
                signed_tx(&key, CHAIN, 300, to, 1, vec![]),
                "nonce too high: next nonce 1, tx nonce 300, at most 256 ahead",
            ),
            (
                signed_tx_with_gas(&key, CHAIN, 1, to, 1, vec![], block_gas_limit + 1),
                "exceeds block gas limit: transaction gas limit",
            ),
            (
                signed_tx_with_gas(&key, CHAIN, 1, to, 1, vec![], 20_000),
                "intrinsic gas too low: gas limit 20000, at least 21000",
            ),
            (signed_tx(&poor, CHAIN, 0, to, 1, vec![]), "insufficient funds for gas * price + value"),
        ];
        for ((raw, hash), words) in &cases {
            let (code, message) = gw.error("eth_sendRawTransaction", json!([raw])).await;
            assert_eq!(code, -32000, "{message}");
            assert!(message.contains(words), "{message} (want {words})");
            assert_eq!(gw.error("vigil_getTxStatus", json!([hash])).await.0, -32011, "{words}: stored");
        }
        let text = gate_metrics(gw, *metrics_port).await;
        let refused: f64 = text
            .lines()
            .filter(|l| l.starts_with("vigil_gate_txs_refused_total{"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum();
        assert_eq!(refused, 5.0, "{text}");
        // The next nonce, with enough gas and funds, is acknowledged.
        let (raw, hash) = signed_tx(&key, CHAIN, 1, to, 1, vec![]);
        assert_eq!(gw.result("eth_sendRawTransaction", json!([raw])).await, json!(hash));
        assert_eq!(status(gw, hash).await["status"], "pending");
    });
}

/// An operator's signed release (DESIGN §7), with `vigil quarantine release`
/// signing here: a gate that accepts the key admits the quarantined
/// transaction and forwards it; a key it does not list, a signature moved
/// to another transaction and a gate with no operator key all refuse, and
/// the transaction stays quarantined.
#[test]
fn an_operator_release_admits_a_quarantined_transaction_only_with_an_accepted_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let _machine = crate::support::whole_network().await;
        let dir = dir.path();
        let vigil = |args: &[&str]| Command::new(env!("CARGO_BIN_EXE_vigil")).args(args).output().expect("vigil runs");
        let (accepted, unknown) = (dir.join("accepted.key"), dir.join("unknown.key"));
        let out = vigil(&["keys", "operator", "--out", accepted.to_str().unwrap()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let accepted_public = String::from_utf8(out.stdout).unwrap().trim().to_owned();
        assert!(vigil(&["keys", "operator", "--out", unknown.to_str().unwrap()]).status.success());
        assert!(!vigil(&["keys", "operator", "--out", unknown.to_str().unwrap()]).status.success(), "never overwrites");
        let setup =
            HardhatAndGate::start(dir, 41, &["--quarantine-after-ms", "5000", "--operator-key", &accepted_public])
                .await;
        let HardhatAndGate { hh, gw, committee, committee_file, metrics_port, .. } = &setup;
        let metrics_port = *metrics_port;

        // A benign transfer quarantined (say, a false positive).
        let (raw, hash) = signed(KEYS[1], 0);
        gw.result("eth_sendRawTransaction", json!([raw])).await;
        let bad = committee.certify_with(hash, VoteKind::Malicious, &[0, 1, 2]);
        assert_eq!(gw.result("vigil_submitCertificate", json!([cert_json(&bad)])).await["status"], "quarantined");
        let release = |key: &std::path::Path, tx: B256| {
            vigil(&[
                "quarantine",
                "release",
                "--tx",
                &tx.to_string(),
                "--key-file",
                key.to_str().unwrap(),
                "--gate",
                &gw.url,
                "--note",
                "benign transfer",
            ])
        };
        // An unknown key: refused, nothing changes.
        let out = release(&unknown, hash);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("not one this gate accepts") && err.contains("-32013"), "{err}");
        assert_eq!(status(gw, hash).await["status"], "quarantined");
        // A signature over another transaction, presented for this one.
        let (code, message) = {
            let key_hex = std::fs::read_to_string(&accepted).unwrap();
            let other = release_json(&key_hex, B256::repeat_byte(0x99), hash);
            gw.error("vigil_releaseQuarantined", json!([other])).await
        };
        assert_eq!(code, -32013, "{message}");
        assert!(message.contains("does not verify"), "{message}");
        assert_eq!(status(gw, hash).await["status"], "quarantined");
        // The accepted key: released, forwarded, included.
        let out = release(&accepted, hash);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let s = wait_status(gw, hash, "included", Duration::from_secs(10)).await;
        assert!(s["reason"].as_str().unwrap().contains("released by operator"), "{s}");
        assert_ne!(at_hardhat(hh, hash).await, Value::Null);
        // Only a quarantined transaction can be released.
        let out = release(&accepted, hash);
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("not quarantined"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let metrics =
            gw.http.get(format!("http://127.0.0.1:{metrics_port}/metrics")).send().await.unwrap().text().await.unwrap();
        assert!(metrics.contains("vigil_gate_operator_releases_total 1"), "{metrics}");
        assert!(metrics.contains("vigil_gate_operator_releases_refused_total 2"), "{metrics}");

        // A gate with no operator key: no operator override at all.
        let [port2, metrics2] = free_ports(2)[..] else { unreachable!() };
        let gw2 = Rpc::new(format!("http://127.0.0.1:{port2}"));
        let second = dir.join("second");
        std::fs::create_dir_all(&second).unwrap();
        let mut gate2 =
            gate_with(&second, &hh.url, committee_file, port2, metrics2, 2, &["--quarantine-after-ms", "5000"]);
        gw2.wait_up(&mut gate2, Duration::from_secs(60)).await;
        let key_hex = std::fs::read_to_string(&accepted).unwrap();
        let (code, message) = gw2.error("vigil_releaseQuarantined", json!([release_json(&key_hex, hash, hash)])).await;
        assert_eq!(code, -32013, "{message}");
        assert!(message.contains("disabled"), "{message}");
        drop(gate2);
    });
}

/// A release signed for `signed_for`, presented as the release of `claimed`.
fn release_json(key_file_text: &str, signed_for: B256, claimed: B256) -> Value {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("k");
    std::fs::write(&path, key_file_text).expect("write");
    let key = vigil_crypto::OperatorKey::read(&path).expect("key");
    let mut r = key.release(CHAIN, signed_for, None);
    r.tx_hash = claimed;
    serde_json::to_value(r).expect("json")
}

/// The unchanged viem wallet flow through the gate, with Hardhat behind it:
/// every transaction it sends waits at the gate until certified.
#[test]
fn viem_wallet_flow_through_the_gate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let dir = dir.path();
        let [hh_port, gate_port, metrics_port] = free_ports(3)[..] else { unreachable!() };
        let hh = Rpc::new(format!("http://127.0.0.1:{hh_port}"));
        let gw = Rpc::new(format!("http://127.0.0.1:{gate_port}"));
        let mut hardhat_proc = hardhat(dir, hh_port);
        hh.wait_up(&mut hardhat_proc, Duration::from_secs(60)).await;
        let committee = std::sync::Arc::new(DevCommittee::generate(CHAIN, EPOCH, 4, 21));
        let committee_file = dir.join("committee.json");
        std::fs::write(&committee_file, serde_json::to_string(committee.committee()).unwrap()).unwrap();
        let mut gate_proc = gate(dir, &hh.url, &committee_file, gate_port, metrics_port, 1);
        gw.wait_up(&mut gate_proc, Duration::from_secs(60)).await;
        let certifier = spawn_certifier(gw.clone(), committee.clone());
        let summary = run_wallet(&gw.url, None, KEYS[1]).await;
        certifier.abort();
        assert_eq!(summary["ok"], true, "{summary}\ngate log:\n{}", gate_proc.log());
        let info = gw.result("vigil_gateInfo", json!([])).await;
        // Every transaction the wallet sent was held, certified, forwarded, included.
        let sent = summary["methods"]["eth_sendRawTransaction@http"].as_u64().unwrap();
        assert!(sent >= 4, "{summary}");
        assert_eq!(info["counts"]["included"], sent, "{info}");
        assert_eq!(info["counts"]["quarantined"], 0, "{info}");
    });
}
