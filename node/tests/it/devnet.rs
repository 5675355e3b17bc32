//! `vigil devnet run` as a separate process over real sockets: admission by
//! certificate only, in nonce order; every bad input answered with a
//! JSON-RPC error while the process keeps serving; an unchanged viem wallet
//! flow; SIGKILL under load and restart.

use std::{
    collections::BTreeSet,
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

use alloy_primitives::{Address, B256};
use serde_json::{json, Value};
use vigil_consensus::testkit::DevCommittee;
use vigil_types::{rpc as codes, VoteKind};

use crate::support::{account, free_port, genesis_json, run_wallet, signed_tx, spawn_certifier, Proc, Rpc};

const CHAIN: u64 = 4242;
const EPOCH: u64 = 3;

struct Devnet {
    proc: Proc,
    rpc: Rpc,
    args: Vec<String>,
    dir: std::path::PathBuf,
    starts: usize,
}

impl Devnet {
    /// Writes genesis and committee files into `dir` and starts the devnet.
    async fn start(dir: &Path, committee: &DevCommittee, accounts: &[Address], block_time_ms: u64) -> Self {
        let genesis = dir.join("genesis.json");
        std::fs::write(&genesis, genesis_json(CHAIN, accounts).to_string()).unwrap();
        let committee_file = dir.join("committee.json");
        std::fs::write(&committee_file, serde_json::to_string(committee.committee()).unwrap()).unwrap();
        let port = free_port();
        let args: Vec<String> = [
            "--log.filter",
            "info",
            "devnet",
            "run",
            "--genesis",
            genesis.to_str().unwrap(),
            "--committee",
            committee_file.to_str().unwrap(),
            "--data",
            dir.join("data").to_str().unwrap(),
            "--rpc.addr",
            &format!("127.0.0.1:{port}"),
            "--block-time",
            &block_time_ms.to_string(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut devnet = Self {
            proc: Proc::vigil(&args, dir.join("devnet-0.log")),
            rpc: Rpc::new(format!("http://127.0.0.1:{port}")),
            args,
            dir: dir.to_path_buf(),
            starts: 1,
        };
        devnet.rpc.wait_up(&mut devnet.proc, Duration::from_secs(30)).await;
        devnet
    }

    /// SIGKILL, then start again on the same data directory and port.
    async fn kill_and_restart(&mut self) {
        self.proc.kill9();
        let log = self.dir.join(format!("devnet-{}.log", self.starts));
        self.starts += 1;
        self.proc = Proc::vigil(&self.args, log);
        self.rpc.wait_up(&mut self.proc, Duration::from_secs(30)).await;
    }

    async fn status(&self, hash: B256) -> String {
        let v = self.rpc.result("vigil_getTxStatus", json!([hash])).await;
        v["status"].as_str().unwrap().to_owned()
    }

    async fn mine(&self) {
        self.rpc.result("evm_mine", json!([])).await;
    }

    async fn receipt(&self, hash: B256) -> Value {
        self.rpc.result("eth_getTransactionReceipt", json!([hash])).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn includes_only_certified_transactions_in_nonce_order_and_explains_every_refusal() {
    let dir = tempfile::tempdir().unwrap();
    let committee = DevCommittee::generate(CHAIN, EPOCH, 4, 1);
    let alice = account(1);
    let bob = Address::repeat_byte(0xb0);
    let net = Devnet::start(dir.path(), &committee, &[alice.address()], 60_000).await;
    let rpc = &net.rpc;

    // Nonce 1 arrives before nonce 0; the pending nonce counts both.
    let (raw1, h1) = signed_tx(&alice, CHAIN, 1, Some(bob), 1, vec![]);
    let (raw0, h0) = signed_tx(&alice, CHAIN, 0, Some(bob), 2, vec![]);
    assert_eq!(rpc.result("eth_sendRawTransaction", json!([raw1])).await, json!(h1));
    assert_eq!(rpc.result("eth_sendRawTransaction", json!([raw0])).await, json!(h0));
    // Resending is idempotent.
    assert_eq!(rpc.result("eth_sendRawTransaction", json!([raw0])).await, json!(h0));
    assert_eq!(rpc.result("eth_getTransactionCount", json!([alice.address(), "pending"])).await, json!("0x2"));
    assert_eq!(rpc.result("eth_getTransactionCount", json!([alice.address(), "latest"])).await, json!("0x0"));

    // Without certificates nothing is included, however often blocks are sealed.
    net.mine().await;
    net.mine().await;
    assert_eq!(net.receipt(h0).await, Value::Null);
    assert_eq!(net.status(h0).await, "pending");
    let pending = rpc.result("eth_getTransactionByHash", json!([h0])).await;
    assert_eq!(pending["blockNumber"], Value::Null, "{pending}");

    // Every bad certificate is refused with its own reason and changes nothing.
    let other_chain = DevCommittee::generate(CHAIN + 1, EPOCH, 4, 1);
    let next_epoch = DevCommittee::generate(CHAIN, EPOCH + 1, 4, 1);
    let stale_epoch = DevCommittee::generate(CHAIN, EPOCH - 2, 4, 1);
    let outsiders = DevCommittee::generate(CHAIN, EPOCH, 4, 99);
    let mut moved = committee.certify(h1);
    moved.tx_hash = h0;
    let bad = [
        ("forged signers", outsiders.certify(h0), "does not verify"),
        ("moved to another transaction", moved, "does not verify"),
        ("other chain", other_chain.certify(h0), "chain"),
        ("epoch ahead", next_epoch.certify(h0), "epoch 4"),
        ("stale epoch", stale_epoch.certify(h0), "epoch 1"),
        ("too little stake", committee.certify_with(h0, VoteKind::Clean, &[0, 1]), "does not exceed the threshold"),
        ("malicious verdict", committee.certify_with(h0, VoteKind::Malicious, &[0, 1, 2, 3]), "admission needs clean"),
    ];
    let mut messages = BTreeSet::new();
    for (what, cert, expect) in bad {
        let (code, message) = rpc.error("vigil_submitCertificate", json!([cert])).await;
        assert_eq!(code, i64::from(codes::INVALID_CERTIFICATE), "{what}: {message}");
        assert!(message.contains(expect), "{what}: {message:?} should mention {expect:?}");
        messages.insert(message);
    }
    // Forged signers and a certificate moved to another transaction both fail
    // the pairing; every other refusal has its own message.
    assert_eq!(messages.len(), 6, "{messages:?}");
    let (code, message) = rpc.error("vigil_submitCertificate", json!([{"chain_id": 1}])).await;
    assert_eq!(code, i64::from(codes::INVALID_CERTIFICATE), "{message}");
    net.mine().await;
    assert_eq!(net.status(h0).await, "pending");

    // Nonce 1 certified alone waits for nonce 0.
    let answer = rpc.result("vigil_submitCertificate", json!([committee.certify(h1)])).await;
    assert_eq!(answer["status"], "certified");
    net.mine().await;
    assert_eq!(net.receipt(h1).await, Value::Null, "nonce 1 must not be included before nonce 0");

    // A certificate may come before its transaction.
    let (raw2, h2) = signed_tx(&alice, CHAIN, 2, Some(bob), 3, vec![]);
    let answer = rpc.result("vigil_submitCertificate", json!([committee.certify(h2)])).await;
    assert_eq!(answer["status"], "pending");
    rpc.result("eth_sendRawTransaction", json!([raw2])).await;
    assert_eq!(net.status(h2).await, "certified");

    rpc.result("vigil_submitCertificate", json!([committee.certify(h0)])).await;
    net.mine().await;
    let r0 = net.receipt(h0).await;
    let r1 = net.receipt(h1).await;
    let r2 = net.receipt(h2).await;
    assert_eq!(r0["status"], "0x1", "{r0}");
    assert_eq!((r0["blockNumber"].clone(), r0["transactionIndex"].clone()), (r1["blockNumber"].clone(), json!("0x0")));
    assert_eq!(r1["transactionIndex"], "0x1");
    assert_eq!(r2["transactionIndex"], "0x2");
    assert_eq!(net.status(h1).await, "included");
    assert_eq!(rpc.result("eth_getBalance", json!([bob, "latest"])).await, json!("0x6"));

    // Bad transactions and bad requests: JSON-RPC errors that say what is wrong.
    let (other_chain_raw, _) = signed_tx(&alice, CHAIN + 7, 3, Some(bob), 1, vec![]);
    let (reused_nonce, _) = signed_tx(&alice, CHAIN, 0, Some(bob), 99, vec![]);
    let (broke, _) = signed_tx(&account(9), CHAIN, 0, Some(bob), 1, vec![]);
    let tx_cases = [
        (json!(["0x02f8"]), codes::TX_REJECTED, "invalid transaction"),
        (json!(["0xdeadbeef"]), codes::TX_REJECTED, "invalid transaction"),
        (json!([other_chain_raw]), codes::TX_REJECTED, "invalid chain id"),
        (json!([reused_nonce]), codes::TX_REJECTED, "nonce too low"),
        (json!([broke]), codes::TX_REJECTED, "insufficient funds"),
        (json!(["not hex"]), codes::INVALID_PARAMS, "invalid params"),
        (json!([]), codes::INVALID_PARAMS, "invalid params"),
    ];
    for (params, want, expect) in tx_cases {
        let (code, message) = rpc.error("eth_sendRawTransaction", params.clone()).await;
        assert_eq!(code, i64::from(want), "{params}: {message}");
        assert!(message.contains(expect), "{params}: {message:?} should mention {expect:?}");
    }
    assert_eq!(rpc.error("eth_getBalance", json!(["0x1234"])).await.0, i64::from(codes::INVALID_PARAMS));
    assert_eq!(rpc.error("eth_noSuchMethod", json!([])).await.0, i64::from(codes::METHOD_NOT_FOUND));
    assert_eq!(
        rpc.error("vigil_getTxStatus", json!([B256::repeat_byte(7)])).await.0,
        i64::from(codes::UNKNOWN_TRANSACTION)
    );
    let garbage = rpc.post("{not json".into()).await;
    assert_eq!(garbage["error"]["code"], json!(codes::PARSE_ERROR), "{garbage}");
    let (code, message) = rpc.error("eth_getBalance", json!([bob, "0x0"])).await;
    assert!(code == i64::from(codes::TX_REJECTED) && message.contains("historical state"), "{message}");
    // Still serving.
    assert_eq!(rpc.result("eth_chainId", json!([])).await, json!(format!("0x{CHAIN:x}")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viem_wallet_flow_runs_unchanged_against_the_certified_devnet() {
    let dir = tempfile::tempdir().unwrap();
    let committee = Arc::new(DevCommittee::generate(CHAIN, EPOCH, 4, 2));
    let net = Devnet::start(dir.path(), &committee, &[], 200).await;
    let certifier = spawn_certifier(net.rpc.clone(), committee.clone());
    let ws = net.rpc.url.replace("http://", "ws://");
    let summary =
        run_wallet(&net.rpc.url, Some(&ws), "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80").await;
    certifier.abort();
    assert_eq!(summary["ok"], true, "{summary}\ndevnet log:\n{}", net.proc.log());
    assert!(summary["checks"].as_u64().unwrap() >= 38, "{summary}");
    // Everything it sent went through certificates.
    let info = net.rpc.result("vigil_devnetInfo", json!([])).await;
    assert!(info["counters"]["certificates"].as_u64().unwrap() >= 5, "{info}");
    assert_eq!(info["admission"], "certified");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_load_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let committee = Arc::new(DevCommittee::generate(CHAIN, EPOCH, 4, 3));
    let senders: Vec<_> = (20..26).map(account).collect();
    let addresses: Vec<Address> = senders.iter().map(|s| s.address()).collect();
    let mut net = Devnet::start(dir.path(), &committee, &addresses, 30).await;
    let certifier = spawn_certifier(net.rpc.clone(), committee.clone());

    // Several senders submit concurrently; every hash the devnet answered is
    // acknowledged.
    let rpc = net.rpc.clone();
    let load = tokio::spawn(async move {
        let mut acknowledged = Vec::new();
        for nonce in 0..1_000u64 {
            let batch: Vec<_> = senders
                .iter()
                .map(|s| {
                    let (raw, hash) = signed_tx(s, CHAIN, nonce, Some(Address::repeat_byte(0xee)), 1, vec![]);
                    let rpc = rpc.clone();
                    async move {
                        let body = json!({"jsonrpc":"2.0","id":1,"method":"eth_sendRawTransaction","params":[raw]});
                        let sent = rpc.http.post(&rpc.url).json(&body).send().await.ok()?;
                        let v: Value = sent.json().await.ok()?;
                        (v["result"] == json!(hash)).then_some(hash)
                    }
                })
                .collect();
            let results = futures::future::join_all(batch).await;
            if results.iter().any(Option::is_none) {
                acknowledged.extend(results.into_iter().flatten());
                break;
            }
            acknowledged.extend(results.into_iter().flatten());
        }
        acknowledged
    });
    // Let blocks be sealed under load, then kill at an arbitrary instant.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let head_before: u64 = {
        let v = net.rpc.call("eth_blockNumber", json!([])).await;
        u64::from_str_radix(v["result"].as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
    };
    net.proc.kill9();
    certifier.abort();
    let acknowledged = load.await.unwrap();
    assert!(
        head_before > 0 && acknowledged.len() > 20,
        "load too small: head {head_before}, {} acked",
        acknowledged.len()
    );

    net.kill_and_restart().await;
    let head_after: u64 = {
        let v = net.rpc.result("eth_blockNumber", json!([])).await;
        u64::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
    };
    assert!(head_after >= head_before, "restart went back from block {head_before} to {head_after}");
    // The chain is whole: each block's parent is the block before.
    let mut parent = net.rpc.result("eth_getBlockByNumber", json!(["0x0", false])).await["hash"].clone();
    for n in 1..=head_after {
        let b = net.rpc.result("eth_getBlockByNumber", json!([format!("0x{n:x}"), false])).await;
        assert_eq!(b["parentHash"], parent, "block {n}");
        parent = b["hash"].clone();
        // Its receipts, by number and by hash, name its transactions in order.
        let by_number = net.rpc.result("eth_getBlockReceipts", json!([format!("0x{n:x}")])).await;
        let by_hash = net.rpc.result("eth_getBlockReceipts", json!([b["hash"]])).await;
        assert_eq!(by_number, by_hash, "block {n}");
        let named: Vec<&Value> = by_hash.as_array().unwrap().iter().map(|r| &r["transactionHash"]).collect();
        let listed: Vec<&Value> = b["transactions"].as_array().unwrap().iter().collect();
        assert_eq!(named, listed, "block {n}");
    }
    // Every acknowledged transaction is known, and once certified, included.
    for h in &acknowledged {
        let s = net.status(*h).await;
        assert!(["pending", "certified", "included"].contains(&s.as_str()), "{h}: {s}");
    }
    let certifier = spawn_certifier(net.rpc.clone(), committee.clone());
    let start = Instant::now();
    for h in &acknowledged {
        while net.status(*h).await != "included" {
            assert!(start.elapsed() < Duration::from_secs(60), "{h} not included after restart:\n{}", net.proc.log());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    certifier.abort();
}
