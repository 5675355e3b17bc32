//! The gate's added latency per forwarded transaction (docs/performance.md,
//! "Gate: added latency per forwarded transaction").
//!
//! In one process, on real loopback sockets: a devnet in open admission
//! (upstream) and the gate in front of it with a committee of 4. Every
//! iteration sends one new transfer (next nonce of one funded sender) and
//! waits, untimed, until the devnet included it (and the gate saw the
//! receipt), so no background work of one transaction overlaps the next.
//!
//! - `direct_answer`: `eth_sendRawTransaction` to the devnet until its answer.
//! - `direct_accepted`: the same, until the devnet counts it accepted (the
//!   detector of the two gate cases, for a like-for-like difference).
//! - `gate_cert_first`: certificate already at the gate; from sending the
//!   transaction to the gate until the devnet counts it accepted (gate:
//!   decode, synced write, early certificate applied, forwarder woken,
//!   forwarded).
//! - `gate_cert_after`: transaction already held; from `vigil_submitCertificate`
//!   until the devnet counts it accepted (adds the BLS verification).
//!
//! "Accepted" is `Devnet::counters().accepted` going up, read in-process
//! every 20 µs by a sleeping thread (so detection adds up to ~0.1 ms, the
//! same in `direct_accepted` and the gate cases): it moves once the devnet's
//! synced write of the transaction is done, before its answer goes back.
//!
//! `cargo bench -p vigil-gate --bench forward`; besides criterion's
//! estimates it prints mean, p50 and p99 over every timed transaction.

use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{keccak256, Address, TxKind, B256, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};
use serde_json::{json, Value};
use tokio::runtime::Runtime;
use vigil_consensus::testkit::DevCommittee;
use vigil_devnet::{
    node::{AdmissionMode, Devnet, DevnetConfig},
    pool::PoolLimits,
};
use vigil_fixture::Genesis;
use vigil_gate::GateConfig;

const CHAIN: u64 = 31_337;
/// Timed transactions discarded from the printed statistics (cold start).
const COLD: usize = 5;

#[derive(Clone)]
struct Rpc {
    http: reqwest::Client,
    url: String,
}

impl Rpc {
    fn new(addr: SocketAddr) -> Self {
        Self { http: reqwest::Client::new(), url: format!("http://{addr}") }
    }

    async fn call(&self, method: &str, params: Value) -> Value {
        let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params }).to_string();
        let r = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {}: {e}", self.url));
        r.json().await.expect("JSON answer")
    }

    async fn result(&self, method: &str, params: Value) -> Value {
        let answer = self.call(method, params.clone()).await;
        assert!(answer.get("error").is_none(), "{method}({params}) failed: {answer}");
        answer["result"].clone()
    }
}

fn account(i: u8) -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&keccak256([b'v', b'i', b'g', i])).expect("valid key")
}

fn genesis(accounts: &[Address]) -> Genesis {
    let alloc: serde_json::Map<String, Value> =
        accounts.iter().map(|a| (a.to_string(), json!({ "balance": "0x3635c9adc5dea00000" }))).collect();
    let json = json!({
        "chain_id": CHAIN, "fork": "prague",
        "genesis": { "timestamp": 1_700_000_000u64, "gas_limit": 30_000_000u64,
                     "coinbase": "0x000000000000000000000000000000000000c0de", "base_fee": 1_000_000_000u64 },
        "alloc": alloc,
    });
    Genesis::from_json_str(&json.to_string()).expect("genesis")
}

/// One funded sender and its next nonce.
struct Sender {
    key: PrivateKeySigner,
    nonce: u64,
}

impl Sender {
    /// The next transfer: `0x` hex and hash.
    fn next(&mut self) -> (String, B256) {
        let tx = TxEip1559 {
            chain_id: CHAIN,
            nonce: self.nonce,
            gas_limit: 21_000,
            max_fee_per_gas: 20_000_000_000,
            max_priority_fee_per_gas: 1_000_000_000,
            to: TxKind::Call(Address::with_last_byte(0xee)),
            value: U256::from(1),
            ..Default::default()
        };
        self.nonce += 1;
        let sig = self.key.sign_hash_sync(&tx.signature_hash()).expect("sign");
        let env: TxEnvelope = tx.into_signed(sig).into();
        let raw = env.encoded_2718();
        (format!("0x{}", hex::encode(&raw)), keccak256(&raw))
    }
}

struct Setup {
    devnet: Arc<Devnet>,
    /// The devnet's accepted count and when the watcher saw it change.
    accepted: tokio::sync::watch::Receiver<(u64, Instant)>,
    direct: Rpc,
    gate: Rpc,
    committee: DevCommittee,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

impl Setup {
    async fn start() -> Self {
        let senders: Vec<Address> = (0..4).map(|i| account(i).address()).collect();
        let devnet_dir = tempfile::tempdir().expect("tempdir");
        let gate_dir = tempfile::tempdir().expect("tempdir");
        let devnet = Devnet::open(DevnetConfig {
            genesis: genesis(&senders),
            committees: vec![],
            data_dir: devnet_dir.path().to_path_buf(),
            block_time: Duration::from_millis(2),
            empty_blocks: false,
            admission: AdmissionMode::Open,
            pool: PoolLimits::default(),
            inspectors: vec![],
            operator_keys: vec![],
        })
        .expect("devnet opens");
        let (devnet_addr, handle) =
            vigil_devnet::rpc::serve(devnet.clone(), "127.0.0.1:0".parse().expect("addr")).await.expect("serve");
        // Runs as long as the bench process does.
        std::mem::forget(handle);
        tokio::spawn(devnet.clone().run_producer(Arc::new(tokio::sync::Notify::new())));

        let committee = DevCommittee::generate(CHAIN, 1, 4, 7);
        let gate_addr = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr");
        let mut config = GateConfig::new(
            format!("http://{devnet_addr}"),
            vec![committee.committee().clone()],
            gate_dir.path().to_path_buf(),
            gate_addr,
        );
        config.poll_interval = Duration::from_millis(10);
        tokio::spawn(async move {
            if let Err(e) = vigil_gate::run(config, std::future::pending()).await {
                panic!("gate stopped: {e}");
            }
        });
        let gate = Rpc::new(gate_addr);
        let started = Instant::now();
        loop {
            let up = gate.http.post(&gate.url).header("content-type", "application/json");
            let body = r#"{"jsonrpc":"2.0","id":1,"method":"vigil_gateInfo","params":[]}"#;
            if up.body(body).send().await.is_ok_and(|r| r.status().is_success()) {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(10), "gate not up");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let accepted = watch_accepted(devnet.clone());
        Self { devnet, accepted, direct: Rpc::new(devnet_addr), gate, committee, _dirs: (devnet_dir, gate_dir) }
    }

    fn accepted(&self) -> u64 {
        self.accepted.borrow().0
    }

    /// When the devnet counted more than `before` accepted transactions.
    async fn until_accepted(&self, before: u64) -> Instant {
        let mut rx = self.accepted.clone();
        let seen = rx.wait_for(|(n, _)| *n > before).await.expect("watcher runs");
        seen.1
    }

    /// Untimed: until the devnet included `hash` and, through the gate,
    /// until the gate recorded it included.
    async fn settle(&self, hash: B256, through_gate: bool) {
        let started = Instant::now();
        loop {
            let included = matches!(
                self.devnet.status(&hash).expect("status"),
                Some(vigil_devnet::node::TxStatus::Included { .. })
            );
            let done = included
                && (!through_gate
                    || self.gate.result("vigil_getTxStatus", json!([hash])).await["status"] == "included");
            if done {
                return;
            }
            assert!(started.elapsed() < Duration::from_secs(10), "{hash} not included");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

/// A thread that reads the devnet's accepted count every 20 µs (sleeping in
/// between, so it does not take a core from the gate and the devnet) and
/// publishes it with the instant it saw it change.
fn watch_accepted(devnet: Arc<Devnet>) -> tokio::sync::watch::Receiver<(u64, Instant)> {
    let (tx, rx) = tokio::sync::watch::channel((devnet.counters().accepted, Instant::now()));
    std::thread::spawn(move || loop {
        let n = devnet.counters().accepted;
        if n != tx.borrow().0 && tx.send((n, Instant::now())).is_err() {
            return;
        }
        std::thread::sleep(Duration::from_micros(20));
    });
    rx
}

#[derive(Clone, Copy)]
enum Path {
    DirectAnswer,
    DirectAccepted,
    GateCertFirst,
    GateCertAfter,
}

/// One transaction through `path`: its timed duration.
async fn one(s: &Setup, sender: &mut Sender, path: Path) -> Duration {
    let (raw, hash) = sender.next();
    let elapsed = match path {
        Path::DirectAnswer => {
            let start = Instant::now();
            s.direct.result("eth_sendRawTransaction", json!([raw])).await;
            start.elapsed()
        }
        Path::DirectAccepted => {
            let before = s.accepted();
            let direct = s.direct.clone();
            let start = Instant::now();
            let send = tokio::spawn(async move { direct.result("eth_sendRawTransaction", json!([raw])).await });
            let end = s.until_accepted(before).await;
            send.await.expect("send task");
            end - start
        }
        Path::GateCertFirst => {
            let cert = s.committee.certify(hash);
            let status = s.gate.result("vigil_submitCertificate", json!([cert])).await;
            assert_eq!(status["status"], "awaiting_transaction");
            let before = s.accepted();
            let start = Instant::now();
            s.gate.result("eth_sendRawTransaction", json!([raw])).await;
            s.until_accepted(before).await - start
        }
        Path::GateCertAfter => {
            let cert = s.committee.certify(hash);
            s.gate.result("eth_sendRawTransaction", json!([raw])).await;
            // Let the forwarder round the transaction woke finish.
            tokio::time::sleep(Duration::from_millis(2)).await;
            let before = s.accepted();
            let start = Instant::now();
            s.gate.result("vigil_submitCertificate", json!([cert])).await;
            s.until_accepted(before).await - start
        }
    };
    let through_gate = matches!(path, Path::GateCertFirst | Path::GateCertAfter);
    s.settle(hash, through_gate).await;
    elapsed
}

fn report(name: &str, samples: &[Duration]) {
    let mut v: Vec<Duration> = samples.iter().skip(COLD).copied().collect();
    if v.is_empty() {
        return;
    }
    v.sort();
    let micros = |d: Duration| d.as_secs_f64() * 1e6;
    let mean = v.iter().map(|d| micros(*d)).sum::<f64>() / v.len() as f64;
    let pct = |p: f64| micros(v[((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1]);
    println!(
        "gate_forward/{name}: n = {}, mean {mean:.0} µs, p50 {:.0} µs, p99 {:.0} µs",
        v.len(),
        pct(0.50),
        pct(0.99)
    );
}

fn bench(c: &mut Criterion) {
    let rt = Runtime::new().expect("runtime");
    let setup = rt.block_on(Setup::start());
    let mut group = c.benchmark_group("gate_forward");
    group
        .sample_size(20)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(100))
        .measurement_time(Duration::from_secs(5));
    let paths = [
        ("direct_answer", Path::DirectAnswer, 0u8),
        ("direct_accepted", Path::DirectAccepted, 1),
        ("gate_cert_first", Path::GateCertFirst, 2),
        ("gate_cert_after", Path::GateCertAfter, 3),
    ];
    let mut all = Vec::new();
    for (name, path, key) in paths {
        let mut sender = Sender { key: account(key), nonce: 0 };
        let mut samples = Vec::new();
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let d = one(&setup, &mut sender, path).await;
                        samples.push(d);
                        total += d;
                    }
                    total
                })
            })
        });
        all.push((name, samples));
    }
    group.finish();
    for (name, samples) in &all {
        report(name, samples);
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
