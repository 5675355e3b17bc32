//! Vigil in front of a chain it did not write: four nodes read Hardhat's
//! state through standard JSON-RPC (`--chain.mode rpc`, no genesis file),
//! the gate guards Hardhat, and a wallet's transfer sent to the gate is
//! inspected, certified and mined, while a transaction whose certificate
//! never comes stays out.

use std::time::{Duration, Instant};

use alloy_primitives::Address;
use serde_json::{json, Value};
use vigil_types::{Committee, Member, Stake, Threshold, U256};

use crate::support::{clients_dir, free_ports, signed_tx, Proc, Rpc};

const CHAIN: u64 = 31337;
/// Hardhat's account #1 (testnet/clients/README.md).
const KEY: &str = "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_in_rpc_mode_certify_for_a_hardhat_chain_behind_the_gate() {
    let _machine = crate::support::whole_network().await;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let ports = free_ports(2 + 4 * 2);
    let (hh_port, gate_port) = (ports[0], ports[1]);
    let hh = Rpc::new(format!("http://127.0.0.1:{hh_port}"));
    let gate = Rpc::new(format!("http://127.0.0.1:{gate_port}"));

    let bin = clients_dir().join("node_modules/.bin/hardhat");
    assert!(bin.exists(), "{} missing: run scripts/setup.sh", bin.display());
    let log = root.join("hardhat.log");
    let child = std::process::Command::new(bin)
        .args(["node", "--hostname", "127.0.0.1", "--port", &hh_port.to_string()])
        .current_dir(clients_dir())
        .env("HARDHAT_DISABLE_TELEMETRY_PROMPT", "true")
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut hardhat = Proc { child, log };
    hh.wait_up(&mut hardhat, Duration::from_secs(60)).await;

    let pw = root.join("pw");
    std::fs::write(&pw, "pw\n").unwrap();
    let mut members = Vec::new();
    for i in 0..4u32 {
        let d = root.join(format!("node{i}"));
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_vigil"))
            .args(["node", "init", "--dir", d.to_str().unwrap(), "--password-file", pw.to_str().unwrap()])
            .args(["--kdf", "pbkdf2", "--kdf-cost", "2"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let m: Value = serde_json::from_str(&std::fs::read_to_string(d.join("member.json")).unwrap()).unwrap();
        members.push(Member {
            index: i,
            bls_pubkey: serde_json::from_value(m["bls_pubkey"].clone()).unwrap(),
            pop: serde_json::from_value(m["pop"].clone()).unwrap(),
            stake: Stake(U256::from(1u64)),
            peer_id: m["peer_id"].as_str().unwrap().to_string(),
        });
    }
    let peer0 = members[0].peer_id.clone();
    let committee = Committee {
        chain_id: CHAIN,
        epoch: 1,
        ruleset: "vigil-rules/1".into(),
        threshold: Threshold::TWO_THIRDS,
        members,
    };
    let committee_file = root.join("committee.json");
    std::fs::write(&committee_file, serde_json::to_string(&committee).unwrap()).unwrap();

    let s = |p: &std::path::Path| p.to_str().unwrap().to_string();
    let mut nodes = Vec::new();
    for i in 0..4usize {
        let (rpc_port, p2p_port) = (ports[2 + 2 * i], ports[3 + 2 * i]);
        let d = root.join(format!("node{i}"));
        let mut args: Vec<String> = [
            "--log.filter",
            "info",
            "node",
            "run",
            "--chain.mode",
            "rpc",
            "--chain.rpc",
            &hh.url,
            "--keys",
            &s(&d),
            "--data",
            &s(&d.join("data")),
            "--committee",
            &s(&committee_file),
            "--rpc.addr",
            &format!("127.0.0.1:{rpc_port}"),
            "--p2p.listen",
            &format!("/ip4/127.0.0.1/tcp/{p2p_port}"),
            "--sequencer",
            &gate.url,
            "--password-file",
            &s(&pw),
            "--poll-ms",
            "100",
        ]
        .iter()
        .map(|x| x.to_string())
        .collect();
        if i > 0 {
            args.push("--p2p.bootstrap".into());
            args.push(format!("/ip4/127.0.0.1/tcp/{}/p2p/{peer0}", ports[3]));
        }
        let mut p = Proc::vigil(&args, root.join(format!("node{i}.log")));
        let rpc = Rpc::new(format!("http://127.0.0.1:{rpc_port}"));
        rpc.wait_up(&mut p, Duration::from_secs(60)).await;
        nodes.push((p, rpc));
    }
    let gate_args: Vec<String> = [
        "--log.filter",
        "info",
        "gate",
        "run",
        "--upstream",
        &hh.url,
        "--committee",
        &s(&committee_file),
        "--data",
        &s(&root.join("gate")),
        "--rpc.addr",
        &format!("127.0.0.1:{gate_port}"),
        "--inspector",
        &nodes[0].1.url,
        "--quarantine-after-ms",
        "20000",
        "--poll-ms",
        "100",
    ]
    .iter()
    .map(|x| x.to_string())
    .collect();
    let mut gate_proc = Proc::vigil(&gate_args, root.join("gate.log"));
    gate.wait_up(&mut gate_proc, Duration::from_secs(60)).await;
    let start = Instant::now();
    for (p, rpc) in &nodes {
        while rpc.result("vigil_peers", json!([])).await.as_array().map_or(0, Vec::len) < 3 {
            assert!(start.elapsed() < Duration::from_secs(60), "mesh not formed:\n{}", p.log());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;

    // A transfer sent to the gate: relayed to node 0, gossiped, judged on
    // Hardhat's state by every node, certified, forwarded, mined.
    let sender: alloy_signer_local::PrivateKeySigner = KEY.parse().unwrap();
    let (raw, hash) = signed_tx(&sender, CHAIN, 0, Some(Address::repeat_byte(0x77)), 12345, vec![]);
    gate.result("eth_sendRawTransaction", json!([raw])).await;
    let start = Instant::now();
    loop {
        let r = hh.result("eth_getTransactionReceipt", json!([hash])).await;
        if !r.is_null() {
            assert_eq!(r["status"], "0x1", "{r}");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "not mined; node 0: {}\n{}",
            nodes[0].1.call("vigil_getTxStatus", json!([hash])).await,
            nodes[0].0.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Every node that judged it judged it clean, having run it on Hardhat's
    // state; at least the certificate's three signers did. (A fourth node
    // whose turn came after the transaction was mined abstains: its nonce
    // is used.)
    let mut judged = 0;
    for (i, (_, rpc)) in nodes.iter().enumerate() {
        let start = Instant::now();
        let v = loop {
            let v = rpc.call("vigil_getVerdict", json!([hash])).await;
            if v.get("result").is_some() || start.elapsed() > Duration::from_secs(5) {
                break v;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        if let Some(v) = v.get("result") {
            judged += 1;
            assert_eq!(v["verdict"]["kind"], "clean", "node {i}: {v}");
            assert_eq!(v["verdict"]["summary"]["success"], true, "node {i} simulated on Hardhat's state: {v}");
        }
        // The view follows Hardhat's head (it polls every 100 ms).
        let start = Instant::now();
        loop {
            let info = rpc.result("vigil_nodeInfo", json!([])).await;
            if info["head"]["number"].as_u64().unwrap() >= 1 {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(10), "node {i} does not follow Hardhat's head: {info}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    assert!(judged >= 3, "only {judged} nodes judged the certified transaction");
    assert_eq!(hh.result("eth_getBalance", json!([Address::repeat_byte(0x77), "latest"])).await, json!("0x3039"));

    // With two of four nodes stopped, nothing is certified: the gate holds.
    for (p, _) in nodes.iter_mut().skip(2) {
        p.kill9();
    }
    let (raw, hash) = signed_tx(&sender, CHAIN, 1, Some(Address::repeat_byte(0x77)), 1, vec![]);
    gate.result("eth_sendRawTransaction", json!([raw])).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(hh.result("eth_getTransactionByHash", json!([hash])).await, Value::Null);
    let status = gate.result("vigil_getTxStatus", json!([hash])).await;
    assert_eq!(status["status"], "pending", "{status}");
}
