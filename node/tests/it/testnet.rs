//! `vigil testnet up --demo` as a user runs it: every process started (the
//! settlement chain with the contracts, the nodes registered there, the
//! committee read from the registry), the demo played (two scenarios, to keep CI short; the full demo is the
//! README's first command), `testnet.json` written; a second `up` on the
//! same directory resumes the chain; `down` from another process stops it.

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::{json, Value};

use crate::support::{free_ports, Rpc};

fn base_port() -> u16 {
    // A block of 300 ports free right now: the testnet uses base..base+299.
    loop {
        let p = free_ports(1)[0];
        if p < 60_000 && (0..300).all(|i| std::net::TcpListener::bind(("127.0.0.1", p + i)).is_ok()) {
            return p;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn testnet_up_plays_the_demo_resumes_and_goes_down() {
    let _machine = crate::support::whole_network().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("tn");
    let port = base_port().to_string();
    let out = tokio::task::spawn_blocking({
        let data = data.clone();
        let port = port.clone();
        move || {
            Command::new(env!("CARGO_BIN_EXE_vigil"))
                .args(["testnet", "up", "--demo", "--demo-scenarios", "2", "--exit-after-demo", "--base-port", &port])
                .arg("--data")
                .arg(&data)
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let logs = std::fs::read_to_string(data.join("logs/node0.log")).unwrap_or_default();
    assert!(out.status.success(), "demo failed:\n{stdout}\n{}\nnode0:\n{logs}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("attacks stopped:                     2 of 2"), "{stdout}");
    assert!(stdout.contains("result: PASS"), "{stdout}");
    assert_eq!(stdout.matches("STOPPED: quarantined by ").count(), 2, "{stdout}");

    let t: Value = serde_json::from_str(&std::fs::read_to_string(data.join("testnet.json")).unwrap()).unwrap();
    assert_eq!(t["nodes"].as_array().unwrap().len(), 4);
    assert!(t["gate"]["rpc"].as_str().unwrap().starts_with("http://127.0.0.1:"));
    assert!(t["nodes"][0]["p2p"].as_str().unwrap().contains("/p2p/12D3KooW"));
    assert_eq!(t["accounts"].as_array().unwrap().len(), 10);
    assert!(t["accounts"][0]["private_key"].as_str().unwrap().starts_with("0x"));
    // The settlement chain: contracts deployed, the nodes registered, the
    // committee every process loads read from the registry's snapshot.
    let contracts = &t["settlement"]["contracts"];
    for c in ["registry", "slasher", "verifier", "court"] {
        assert!(contracts[c].as_str().is_some_and(|a| a.len() == 42), "{c}: {t}");
    }
    let committee: Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("committee.json")).unwrap()).unwrap();
    assert!(committee["epoch"].as_u64().unwrap() > 0, "{committee}");
    let members = committee["members"].as_array().unwrap();
    assert_eq!(members.len(), 4);
    for (i, m) in members.iter().enumerate() {
        assert_eq!(m["stake"], "32000000000000000000");
        assert_eq!(t["nodes"][i]["p2p"].as_str().unwrap().rsplit('/').next(), m["peer_id"].as_str(), "node {i}");
    }

    // A second `up` on the same directory: the chain continues where it stopped.
    let mut up = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["testnet", "up", "--base-port", &port])
        .arg("--data")
        .arg(&data)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let devnet = Rpc::new(t["devnet"]["rpc"].as_str().unwrap());
    let gate = Rpc::new(t["gate"]["rpc"].as_str().unwrap());
    let start = Instant::now();
    let head = loop {
        let v = devnet
            .http
            .post(&devnet.url)
            .json(&json!({"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}))
            .send()
            .await;
        if let Ok(r) = v {
            if let Ok(v) = r.json::<Value>().await {
                break u64::from_str_radix(v["result"].as_str().unwrap().trim_start_matches("0x"), 16).unwrap();
            }
        }
        assert!(start.elapsed() < Duration::from_secs(60), "second up did not start");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(head > 10, "the chain restarted from block {head}");
    // Wait for the whole testnet (the gate comes up last).
    while gate
        .http
        .post(&gate.url)
        .json(&json!({"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}))
        .send()
        .await
        .is_err()
    {
        assert!(start.elapsed() < Duration::from_secs(90), "gate did not come up");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The second `up` reused the contracts; the registry still has the committee the file holds.
    let t2: Value = serde_json::from_str(&std::fs::read_to_string(data.join("testnet.json")).unwrap()).unwrap();
    assert_eq!(t2["settlement"]["contracts"], t["settlement"]["contracts"]);
    let fetched = tokio::task::spawn_blocking({
        let url = t["settlement"]["rpc"].as_str().unwrap().to_owned();
        let registry = contracts["registry"].as_str().unwrap().to_owned();
        let epoch = committee["epoch"].to_string();
        move || {
            Command::new(env!("CARGO_BIN_EXE_vigil"))
                .args(["committee", "fetch", "--rpc", &url, "--registry", &registry, "--epoch", &epoch, "--out", "-"])
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    assert!(fetched.status.success(), "{}", String::from_utf8_lossy(&fetched.stderr));
    assert_eq!(serde_json::from_slice::<Value>(&fetched.stdout).unwrap(), committee);
    let down =
        Command::new(env!("CARGO_BIN_EXE_vigil")).args(["testnet", "down", "--data"]).arg(&data).output().unwrap();
    assert!(down.status.success(), "{}", String::from_utf8_lossy(&down.stderr));
    let start = Instant::now();
    while up.try_wait().unwrap().is_none() {
        assert!(start.elapsed() < Duration::from_secs(30), "`down` did not stop `up`");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        devnet
            .http
            .post(&devnet.url)
            .json(&json!({"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}))
            .send()
            .await
            .is_err(),
        "devnet still up"
    );
}
