//! The settlement chain end to end, every piece a real process on real
//! sockets: a `vigil devnet run --admission open` as the settlement chain,
//! `vigil contracts deploy`, `vigil register` of four node keystores
//! (`vigil keys generate`), `vigil committee fetch` compared with the
//! committee built from the same keys and accepted by `vigil gate run
//! --committee`, `vigil node run` and `vigil gate run` reading it from the
//! registry themselves (`--registry.*`), and the quarantine court driving a
//! gate: quarantine by deadline, `vigil dispute open`, the arbiter's
//! `vigil dispute rule --release` (forwarded, included upstream) or
//! `--uphold` (kept out), and a gate killed with SIGKILL that neither loses
//! a release made while it was down nor forwards anything twice.

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use alloy_primitives::{Address, B256, U256};
use alloy_signer_local::PrivateKeySigner;
use serde_json::{json, Value};
use vigil_types::{Committee, Member, PublicKeyBytes, SignatureBytes, Stake, Threshold};

use crate::support::{
    account, block_number, deploy_contracts, free_ports, generate_keys, key_file, settlement_devnet as devnet,
    signed_tx, vigil_err, vigil_ok, Proc, Rpc,
};

/// The settlement chain.
const SETTLE_CHAIN: u64 = 7070;
/// The inspected chain (behind the gate).
const CHAIN: u64 = 31337;
const EPOCH_LENGTH: u64 = 4;
const ETHER: u64 = 1_000_000_000_000_000_000;

struct Gate {
    proc: Proc,
    args: Vec<String>,
    dir: PathBuf,
    starts: usize,
    rpc: Rpc,
    metrics: String,
}

impl Gate {
    async fn start(dir: &Path, args: Vec<String>, rpc_port: u16, metrics_port: u16) -> Self {
        let mut gate = Self {
            proc: Proc::vigil(&args, dir.join("gate-0.log")),
            args,
            dir: dir.to_path_buf(),
            starts: 1,
            rpc: Rpc::new(format!("http://127.0.0.1:{rpc_port}")),
            metrics: format!("http://127.0.0.1:{metrics_port}/metrics"),
        };
        gate.rpc.wait_up(&mut gate.proc, Duration::from_secs(30)).await;
        gate
    }

    async fn kill_and_restart(&mut self) {
        self.proc.kill9();
        let log = self.dir.join(format!("gate-{}.log", self.starts));
        self.starts += 1;
        self.proc = Proc::vigil(&self.args, log);
        self.rpc.wait_up(&mut self.proc, Duration::from_secs(30)).await;
    }

    /// Every log of every start of the gate.
    fn logs(&self) -> String {
        (0..self.starts)
            .map(|i| std::fs::read_to_string(self.dir.join(format!("gate-{i}.log"))).unwrap_or_default())
            .collect()
    }

    async fn status(&self, hash: B256) -> String {
        let v = self.rpc.result("vigil_getTxStatus", json!([hash])).await;
        v["status"].as_str().unwrap_or_default().to_owned()
    }

    async fn wait_status(&self, hash: B256, want: &[&str], within: Duration) -> String {
        let start = Instant::now();
        loop {
            let s = self.status(hash).await;
            if want.contains(&s.as_str()) {
                return s;
            }
            assert!(start.elapsed() < within, "{hash} is {s}, wanted one of {want:?}; gate log:\n{}", self.logs());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn metric(&self, name: &str) -> f64 {
        let text = reqwest::get(&self.metrics).await.expect("metrics").text().await.expect("body");
        text.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.trim().parse().ok()))
            .unwrap_or_else(|| panic!("{name} missing in\n{text}"))
    }
}

#[test]
fn registry_committee_and_court_drive_a_real_gate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    runtime.block_on(async {
        let _whole = crate::support::whole_network().await;
        scenario(dir.path()).await
    });
}

async fn scenario(dir: &Path) {
    let [settle_port, upstream_port, gate_port, metrics_port] = free_ports(4)[..] else { unreachable!() };
    let deployer = account(0xd0);
    let operators: Vec<PrivateKeySigner> = (0..5).map(|i| account(0xe0 + i)).collect();
    let users: Vec<PrivateKeySigner> = (0..3).map(|i| account(0xf0 + i)).collect();
    let mut settle_accounts: Vec<Address> = vec![deployer.address()];
    settle_accounts.extend(operators.iter().map(|k| k.address()));
    settle_accounts.extend(users.iter().map(|k| k.address()));
    let user_accounts: Vec<Address> = users.iter().map(|k| k.address()).collect();

    // Blocks only when there are transactions: epochs advance with the
    // registry traffic, so the current epoch stays put between commands.
    let (mut settle_proc, settle) = devnet(dir, "settlement", SETTLE_CHAIN, &settle_accounts, settle_port).await;
    let (_upstream_proc, upstream) = devnet(dir, "upstream", CHAIN, &user_accounts, upstream_port).await;
    let deployer_key = key_file(dir, "deployer.key", &deployer);

    // --- Deploy. ---
    let addresses = dir.join("addresses.json");
    let (out, deployed) = deploy_contracts(&settle.url, SETTLE_CHAIN, &deployer_key, CHAIN, EPOCH_LENGTH, &addresses);
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap(), deployed, "stdout and file agree");
    assert_eq!(deployed["settlement_chain_id"], SETTLE_CHAIN);
    assert_eq!(deployed["inspected_chain_id"], CHAIN);
    let registry = deployed["registry"].as_str().unwrap().to_owned();
    let court = deployed["court"].as_str().unwrap().to_owned();
    for c in ["registry", "slasher", "verifier", "court"] {
        let code = settle.result("eth_getCode", json!([deployed[c], "latest"])).await;
        assert!(code.as_str().unwrap().len() > 100, "{c} has no code");
    }
    // A wrong settlement chain id is refused before anything is sent.
    let e = vigil_err(&[
        "committee",
        "snapshot",
        "--rpc",
        &settle.url,
        "--settlement-chain-id",
        "1",
        "--registry",
        &registry,
        "--key-file",
        &deployer_key,
    ]);
    assert!(e.contains("serves chain 7070, not chain 1"), "{e}");

    // --- Four node keystores, registered with stakes 10, 20, 30, 40 ether. ---
    let pw = dir.join("pw");
    std::fs::write(&pw, "test password\n").unwrap();
    let mut expected = Vec::new();
    let mut last_block = 0;
    for i in 0..4u32 {
        let keys = dir.join(format!("node-{i}"));
        let member = generate_keys(&keys, &pw);
        let stake = format!("{}ether", 10 * (i + 1));
        let op_key = key_file(dir, &format!("operator-{i}.key"), &operators[i as usize]);
        let out = vigil_ok(&[
            "register",
            "--rpc",
            &settle.url,
            "--registry",
            &registry,
            "--keys",
            keys.to_str().unwrap(),
            "--password-file",
            pw.to_str().unwrap(),
            "--funder-key-file",
            &op_key,
            "--stake",
            &stake,
        ]);
        let reg: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(reg["index"], i, "operator index is the registration order: {reg}");
        assert_eq!(reg["peer_id"], member["peer_id"]);
        last_block = reg["block"].as_u64().unwrap();
        expected.push(Member {
            index: i,
            bls_pubkey: serde_json::from_value::<PublicKeyBytes>(member["bls_pubkey"].clone()).unwrap(),
            pop: serde_json::from_value::<SignatureBytes>(member["pop"].clone()).unwrap(),
            stake: Stake(U256::from(10 * u64::from(i + 1)) * U256::from(ETHER)),
            peer_id: member["peer_id"].as_str().unwrap().to_owned(),
        });
    }
    // The same account cannot register twice: the contract's error, by name.
    let e = vigil_err(&[
        "register",
        "--rpc",
        &settle.url,
        "--registry",
        &registry,
        "--keys",
        dir.join("node-1").to_str().unwrap(),
        "--password-file",
        pw.to_str().unwrap(),
        "--key-file",
        &key_file(dir, "operator-0.key", &operators[0]),
        "--stake",
        "1ether",
    ]);
    assert!(e.contains("AlreadyRegistered"), "{e}");
    // A fresh key with the proof of possession of someone else's (node 0's)
    // key is refused on-chain.
    let client = vigil_settlement::rpc::Client::new(settle.url.clone());
    let wallet = vigil_settlement::wallet::Wallet::connect(client.clone(), operators[4].clone()).await.unwrap();
    let reg = vigil_settlement::registry::Registry::new(client.clone(), registry.parse().unwrap());
    let fresh = vigil_crypto::SecretKey::generate().public_key().to_bytes();
    let e = reg
        .register(&wallet, &fresh.0, &expected[0].pop.0, "12D3KooWFake", U256::from(ETHER))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("InvalidProofOfPossession"), "{e}");
    // Fetching an epoch without a snapshot says so and what to do.
    let future = (block_number(&settle).await / EPOCH_LENGTH + 1000).to_string();
    let e = vigil_err(&[
        "committee",
        "fetch",
        "--rpc",
        &settle.url,
        "--registry",
        &registry,
        "--epoch",
        &future,
        "--out",
        "-",
    ]);
    assert!(e.contains("has no snapshot") && e.contains("not begun"), "{e}");

    // --- The committee of the epoch after the registrations: each snapshot()
    // is a transaction, so a block; send it until the chain is there. ---
    let snapshot = || -> Value {
        serde_json::from_str(&vigil_ok(&[
            "committee",
            "snapshot",
            "--rpc",
            &settle.url,
            "--registry",
            &registry,
            "--key-file",
            &deployer_key,
        ]))
        .unwrap()
    };
    let mut snap = snapshot();
    while snap["epoch"].as_u64().unwrap() <= last_block / EPOCH_LENGTH {
        snap = snapshot();
    }
    let epoch = snap["epoch"].as_u64().unwrap();
    let committee_file = dir.join("committee.json");
    vigil_ok(&[
        "committee",
        "fetch",
        "--rpc",
        &settle.url,
        "--registry",
        &registry,
        "--epoch",
        &epoch.to_string(),
        "--out",
        committee_file.to_str().unwrap(),
    ]);
    let fetched = Committee::from_json(&std::fs::read_to_string(&committee_file).unwrap()).expect("DESIGN §4 JSON");
    let want = Committee {
        chain_id: CHAIN,
        epoch,
        ruleset: "vigil-rules/1".into(),
        threshold: Threshold { num: 2, den: 3 },
        members: expected,
    };
    assert_eq!(fetched, want, "the registry's committee is the one built from the keys");
    // Without --epoch: the current epoch, the same one.
    let current: Committee = serde_json::from_str(&vigil_ok(&[
        "committee",
        "fetch",
        "--rpc",
        &settle.url,
        "--registry",
        &registry,
        "--out",
        "-",
    ]))
    .unwrap();
    assert_eq!(current, want);
    // What `vigil node run --committee` checks (keys, proofs of possession).
    vigil_consensus::VerifiedCommittee::new(fetched).expect("the node accepts it");
    // `vigil node run --registry.*` reads the same committee: a node whose
    // key is not registered is told it is not in the committee of that epoch.
    let stranger = dir.join("stranger");
    generate_keys(&stranger, &pw);
    let e = vigil_err(&[
        "node",
        "run",
        "--keys",
        stranger.to_str().unwrap(),
        "--data",
        dir.join("stranger-data").to_str().unwrap(),
        "--chain.mode",
        "rpc",
        "--chain.rpc",
        &upstream.url,
        "--registry.rpc",
        &settle.url,
        "--registry.address",
        &registry,
        "--password-file",
        pw.to_str().unwrap(),
    ]);
    assert!(e.contains(&format!("is not in the committee of epoch {epoch}")), "{e}");

    // `vigil gate run --committee` accepts the fetched file unchanged.
    let file_gate_port = free_ports(1)[0];
    let file_gate_args = [
        "gate",
        "run",
        "--upstream",
        &upstream.url,
        "--committee",
        committee_file.to_str().unwrap(),
        "--data",
        dir.join("file-gate").to_str().unwrap(),
        "--rpc.addr",
        &format!("127.0.0.1:{file_gate_port}"),
    ]
    .map(String::from);
    let mut file_gate = Proc::vigil(&file_gate_args, dir.join("file-gate.log"));
    let file_gate_rpc = Rpc::new(format!("http://127.0.0.1:{file_gate_port}"));
    file_gate_rpc.wait_up(&mut file_gate, Duration::from_secs(30)).await;
    let info = file_gate_rpc.result("vigil_gateInfo", json!([])).await;
    assert_eq!((info["chain_id"].as_u64(), info["epoch"].as_u64()), (Some(CHAIN), Some(epoch)), "{info}");
    file_gate.kill9();

    // --- A gate in front of the upstream devnet with the registry's committee, watching the court. ---
    let gate_args: Vec<String> = [
        // Debug: each forward is logged, and counted below across restarts.
        "--log.filter",
        "info,vigil_gate=debug",
        "gate",
        "run",
        "--upstream",
        &upstream.url,
        "--registry.rpc",
        &settle.url,
        "--registry.address",
        &registry,
        "--data",
        dir.join("gate-data").to_str().unwrap(),
        "--rpc.addr",
        &format!("127.0.0.1:{gate_port}"),
        "--metrics.addr",
        &format!("127.0.0.1:{metrics_port}"),
        "--quarantine-after-ms",
        "300",
        "--poll-ms",
        "100",
        "--court.rpc",
        &settle.url,
        "--court.address",
        &court,
        "--court.poll-ms",
        "200",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut gate = Gate::start(dir, gate_args, gate_port, metrics_port).await;
    let info = gate.rpc.result("vigil_gateInfo", json!([])).await;
    assert_eq!(info["epoch"].as_u64(), Some(epoch), "the gate read the registry's committee: {info}");

    // Three transactions without certificates: quarantined by the deadline.
    let to = Some(Address::repeat_byte(0x42));
    let txs: Vec<(String, B256)> = users.iter().map(|u| signed_tx(u, CHAIN, 0, to, 1_000, vec![])).collect();
    for (raw, hash) in &txs {
        assert_eq!(gate.rpc.result("eth_sendRawTransaction", json!([raw])).await, json!(hash));
    }
    for (_, hash) in &txs {
        gate.wait_status(*hash, &["quarantined"], Duration::from_secs(10)).await;
    }
    let [(_, released), (_, upheld), (_, released_while_down)] = [txs[0].clone(), txs[1].clone(), txs[2].clone()];

    // Disputes, opened by each sender with a bond.
    let mut ids = Vec::new();
    for (i, hash) in [released, upheld, released_while_down].iter().enumerate() {
        let user_key = key_file(dir, &format!("user-{i}.key"), &users[i]);
        let opened: Value = serde_json::from_str(&vigil_ok(&[
            "dispute",
            "open",
            "--rpc",
            &settle.url,
            "--court",
            &court,
            "--tx",
            &hash.to_string(),
            "--evidence",
            &B256::repeat_byte(0xe0 + i as u8).to_string(),
            "--bond",
            "0.1ether",
            "--key-file",
            &user_key,
        ]))
        .unwrap();
        assert_eq!(opened["id"], i, "{opened}");
        assert!(opened["deadline_block"].as_u64().unwrap() > block_number(&settle).await);
        ids.push(i.to_string());
    }
    // A bond below the court's minimum: the named error.
    let e = vigil_err(&[
        "dispute",
        "open",
        "--rpc",
        &settle.url,
        "--court",
        &court,
        "--tx",
        &B256::repeat_byte(9).to_string(),
        "--evidence",
        &B256::repeat_byte(1).to_string(),
        "--bond",
        "1gwei",
        "--key-file",
        &deployer_key,
    ]);
    assert!(e.contains("BondTooLow"), "{e}");
    // Only the arbiter (the deployer) rules.
    let e = vigil_err(&[
        "dispute",
        "rule",
        "--rpc",
        &settle.url,
        "--court",
        &court,
        "--id",
        "0",
        "--release",
        "--key-file",
        &key_file(dir, "user-0.key", &users[0]),
    ]);
    assert!(e.contains("NotArbiter"), "{e}");

    let rule = |id: &str, how: &str| {
        vigil_ok(&[
            "dispute",
            "rule",
            "--rpc",
            &settle.url,
            "--court",
            &court,
            "--id",
            id,
            how,
            "--key-file",
            &deployer_key,
        ])
    };
    // Released: forwarded and included upstream.
    let ruled: Value = serde_json::from_str(&rule(&ids[0], "--release")).unwrap();
    assert_eq!(ruled["state"], "released");
    gate.wait_status(released, &["included"], Duration::from_secs(20)).await;
    let receipt = upstream.result("eth_getTransactionReceipt", json!([released])).await;
    assert_eq!(receipt["status"], "0x1", "{receipt}");
    // Upheld: stays out.
    let ruled: Value = serde_json::from_str(&rule(&ids[1], "--uphold")).unwrap();
    assert_eq!(ruled["state"], "upheld");
    let shown: Value = serde_json::from_str(&vigil_ok(&[
        "dispute",
        "show",
        "--rpc",
        &settle.url,
        "--court",
        &court,
        "--tx",
        &upheld.to_string(),
    ]))
    .unwrap();
    assert_eq!(shown["state"], "upheld");

    // Released while the gate is down (SIGKILL): applied after the restart.
    gate.proc.kill9();
    let ruled: Value = serde_json::from_str(&rule(&ids[2], "--release")).unwrap();
    assert_eq!(ruled["state"], "released");
    gate.kill_and_restart().await;
    gate.wait_status(released_while_down, &["included"], Duration::from_secs(20)).await;
    let receipt = upstream.result("eth_getTransactionReceipt", json!([released_while_down])).await;
    assert_eq!(receipt["status"], "0x1", "{receipt}");
    assert_eq!(gate.metric("vigil_gate_court_releases_total").await, 1.0, "only the release made while it was down");

    // Killed again after everything was applied: nothing is applied or forwarded twice.
    gate.kill_and_restart().await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(gate.metric("vigil_gate_court_block").await >= block_number(&settle).await as f64 - 2.0);
    assert_eq!(gate.metric("vigil_gate_court_releases_total").await, 0.0);
    assert_eq!(gate.metric("vigil_gate_forwarded_total").await, 0.0);
    assert_eq!(gate.status(upheld).await, "quarantined");
    assert!(upstream.result("eth_getTransactionByHash", json!([upheld])).await.is_null(), "upheld stays out");
    let logs = gate.logs();
    for hash in [released, released_while_down] {
        let forwards =
            logs.lines().filter(|l| l.contains("forwarded upstream") && l.contains(&hash.to_string())).count();
        assert_eq!(forwards, 1, "{hash} forwarded {forwards} times:\n{logs}");
    }
    assert!(!logs.contains("court release ignored"), "{logs}");

    // Stakes are the snapshot's, not today's: node 0 tops up 5 ether; the
    // committee of `epoch` keeps 10, the next snapshot has 15.
    let op0 = vigil_settlement::wallet::Wallet::connect(client.clone(), operators[0].clone()).await.unwrap();
    let topped = op0
        .transact(registry.parse().unwrap(), U256::from(5 * ETHER), &vigil_contracts::InspectorRegistry::topUpCall {})
        .await
        .unwrap();
    let fetch = |epoch: u64| -> Committee {
        serde_json::from_str(&vigil_ok(&[
            "committee",
            "fetch",
            "--rpc",
            &settle.url,
            "--registry",
            &registry,
            "--epoch",
            &epoch.to_string(),
            "--out",
            "-",
        ]))
        .unwrap()
    };
    assert_eq!(fetch(epoch), want, "a later top-up does not change a past committee");
    let mut snap = snapshot();
    while snap["epoch"].as_u64().unwrap() <= topped.block_number / EPOCH_LENGTH {
        snap = snapshot();
    }
    let later = fetch(snap["epoch"].as_u64().unwrap());
    let stakes: Vec<U256> = later.members.iter().map(|m| m.stake.0).collect();
    let want_stakes: Vec<U256> = [15u64, 20, 30, 40].iter().map(|e| U256::from(*e) * U256::from(ETHER)).collect();
    assert_eq!(stakes, want_stakes);

    // The settlement chain goes away: the gate keeps serving, counts the
    // failed reads and says it will retry.
    settle_proc.kill9();
    let start = Instant::now();
    while gate.metric("vigil_gate_court_errors_total").await < 1.0 {
        assert!(start.elapsed() < Duration::from_secs(10), "no court read failure counted:\n{}", gate.logs());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(gate.proc.running(), "the gate died with the settlement chain:\n{}", gate.logs());
    assert_eq!(gate.status(upheld).await, "quarantined");
    assert!(gate.logs().contains("cannot read the quarantine court; will retry"));
}
