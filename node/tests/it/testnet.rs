//! `vigil testnet up --demo` as a user runs it: every process started (the
//! settlement chain with the contracts, the nodes registered there, the
//! committee read from the registry), the demo played (two scenarios, to keep CI short; the full demo is the
//! README's first command) while node 0's dashboard is driven in Debian's
//! Chromium, `testnet.json` written; a second `up` on the same directory
//! resumes the chain; `down` from another process stops it.

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
    let base: u16 = base_port();
    let port = base.to_string();
    // The demo plays while the testnet stays up (no --exit-after-demo), so
    // the browser can finish its checks; `down` stops it after.
    let stdout_path = dir.path().join("up.out");
    let stderr_path = dir.path().join("up.err");
    let mut up = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["testnet", "up", "--demo", "--demo-scenarios", "2", "--base-port", &port])
        .arg("--data")
        .arg(&data)
        .stdout(std::fs::File::create(&stdout_path).unwrap())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .unwrap();
    let read = |p: &std::path::Path| std::fs::read_to_string(p).unwrap_or_default();

    // The dashboard in Debian's Chromium while the demo plays: an attack
    // arrives in the queue live, is opened, reviewed (testnet/dashboard/check.mjs).
    let dashboard = format!("http://127.0.0.1:{}/", base + 50);
    let http = reqwest::Client::new();
    let start = Instant::now();
    while http.get(&dashboard).send().await.is_err() {
        assert!(up.try_wait().unwrap().is_none(), "testnet exited:\n{}\n{}", read(&stdout_path), read(&stderr_path));
        assert!(start.elapsed() < Duration::from_secs(120), "no dashboard at {dashboard}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // A benign payout above the treasury's policy cap, through the gate: held
    // (quarantined by the nodes' policy); the browser releases it.
    // testnet.json is written once every process is up.
    let start = Instant::now();
    let t: Value = loop {
        if let Ok(t) = serde_json::from_str(&read(&data.join("testnet.json"))) {
            break t;
        }
        assert!(up.try_wait().unwrap().is_none(), "testnet exited:\n{}\n{}", read(&stdout_path), read(&stderr_path));
        assert!(start.elapsed() < Duration::from_secs(180), "no testnet.json");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let treasury: alloy_signer_local::PrivateKeySigner =
        t["treasury"]["private_key"].as_str().unwrap().parse().unwrap();
    let payee: alloy_primitives::Address = t["accounts"][0]["address"].as_str().unwrap().parse().unwrap();
    let (raw, held) = crate::support::signed_tx(
        &treasury,
        t["chain_id"].as_u64().unwrap(),
        0,
        Some(payee),
        2_000_000_000_000_000_000,
        vec![],
    );
    let gate = Rpc::new(t["gate"]["rpc"].as_str().unwrap());
    let start = Instant::now();
    loop {
        let answer = gate
            .http
            .post(&gate.url)
            .json(&json!({"jsonrpc":"2.0","id":1,"method":"eth_sendRawTransaction","params":[raw]}))
            .send()
            .await;
        if let Ok(r) = answer {
            let v: Value = r.json().await.unwrap();
            assert_eq!(v["result"], json!(held), "{v}");
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(120), "gate not up");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let check_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testnet/dashboard");
    assert!(
        check_dir.join("node_modules/playwright-core").exists(),
        "playwright-core missing: run scripts/setup.sh (npm ci in testnet/dashboard, apt chromium)"
    );
    let browser = tokio::task::spawn_blocking({
        let token = data.join("operator.token");
        let dashboard = dashboard.clone();
        move || {
            Command::new("node")
                .arg("check.mjs")
                .args(["--url", &dashboard, "--held-tx", &held.to_string(), "--token-file"])
                .arg(token)
                .current_dir(check_dir)
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let browser_out = String::from_utf8_lossy(&browser.stdout);
    assert!(
        browser.status.success(),
        "dashboard check failed: {browser_out}\n{}\ndemo so far:\n{}",
        String::from_utf8_lossy(&browser.stderr),
        read(&stdout_path)
    );
    let start = Instant::now();
    while !read(&stdout_path).contains("result: ") {
        assert!(up.try_wait().unwrap().is_none(), "testnet exited:\n{}\n{}", read(&stdout_path), read(&stderr_path));
        assert!(start.elapsed() < Duration::from_secs(600), "demo did not finish:\n{}", read(&stdout_path));
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let down =
        Command::new(env!("CARGO_BIN_EXE_vigil")).args(["testnet", "down", "--data"]).arg(&data).output().unwrap();
    assert!(down.status.success(), "{}", String::from_utf8_lossy(&down.stderr));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = up.try_wait().unwrap() {
            break status;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "`down` did not stop `up`");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let stdout = read(&stdout_path);
    let logs = std::fs::read_to_string(data.join("logs/node0.log")).unwrap_or_default();
    assert!(status.success(), "demo failed:\n{stdout}\n{}\nnode0:\n{logs}", read(&stderr_path));
    assert!(stdout.contains("attacks stopped:                     2 of 2"), "{stdout}");
    assert!(stdout.contains("result: PASS"), "{stdout}");
    assert_eq!(stdout.matches("STOPPED: quarantined by ").count(), 2, "{stdout}");
    assert!(stdout.contains(&format!("dashboard         {dashboard}")), "{stdout}");

    let t: Value = serde_json::from_str(&std::fs::read_to_string(data.join("testnet.json")).unwrap()).unwrap();
    assert_eq!(t["nodes"].as_array().unwrap().len(), 4);
    assert_eq!(t["dashboard"], json!(dashboard));
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
    // The logs of the first run are still there, the second run's after
    // them (appended, not truncated).
    let node0_log = std::fs::read_to_string(data.join("logs/node0.log")).unwrap();
    let starts: Vec<usize> = node0_log.match_indices("=== vigil testnet: node0 started").map(|(i, _)| i).collect();
    assert_eq!(starts.len(), 2, "one header per run in node0.log");
    assert!(
        node0_log[starts[0]..starts[1]].contains("inspector running"),
        "the first run's lines survive the restart:\n{}",
        &node0_log[..starts[1].min(2000)]
    );
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
