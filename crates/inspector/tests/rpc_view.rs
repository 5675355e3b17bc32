//! `RpcStateView` against a node we did not write: the pinned Hardhat in
//! `testnet/clients` (run `npm ci` there first). Each test starts its own
//! Hardhat on a free port, killed when the test ends.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{hex, Address, Bytes, TxKind, B256, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use serde_json::{json, Value};
use tokio::runtime::Runtime;
use vigil_inspector::rpc_view::{ClearReason, Invalidation, RpcStateView, RpcViewConfig};
use vigil_sim::{revm::context::TxEnv, simulate, Budget, ExecResult, SimError, StateError, StateView};
use vigil_types::tx::Transaction;

const KEY0: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const CHAIN: u64 = 31337;
const INCREMENT: [u8; 4] = [0xd0, 0x9d, 0xe0, 0x8a];
const COUNT: [u8; 4] = [0x06, 0x66, 0x1a, 0xbd];
const DEPLOYER: [u8; 4] = [0xd5, 0xf3, 0x94, 0x88];

// ---------- helpers ----------

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

fn clients_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testnet/clients")
}

/// A child killed when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A Hardhat node, a runtime, and a plain JSON-RPC client of the node.
struct Node {
    rt: Runtime,
    url: String,
    http: reqwest::Client,
    _proc: Proc,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Node {
    fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let bin = clients_dir().join("node_modules/.bin/hardhat");
        assert!(bin.exists(), "{} missing: run `npm ci` in testnet/clients", bin.display());
        let log = dir.path().join("hardhat.log");
        let child = Command::new(bin)
            .args(["node", "--hostname", "127.0.0.1", "--port", &port.to_string()])
            .current_dir(clients_dir())
            .env("HARDHAT_DISABLE_TELEMETRY_PROMPT", "true")
            .stdout(std::fs::File::create(&log).expect("log"))
            .stderr(Stdio::null())
            .spawn()
            .expect("hardhat starts");
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("rt");
        let mut node = Self {
            rt,
            url: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
            _proc: Proc(child),
            log,
            _dir: dir,
        };
        let start = Instant::now();
        loop {
            if node.try_call("eth_chainId", json!([])).is_some() {
                break;
            }
            assert!(
                matches!(node._proc.0.try_wait(), Ok(None)),
                "hardhat exited:\n{}",
                std::fs::read_to_string(&node.log).unwrap_or_default()
            );
            assert!(start.elapsed() < Duration::from_secs(90), "hardhat not up after 90 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        node
    }

    fn try_call(&self, method: &str, params: Value) -> Option<Value> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        self.rt.block_on(async { self.http.post(&self.url).json(&body).send().await.ok()?.json::<Value>().await.ok() })
    }

    fn call(&self, method: &str, params: Value) -> Value {
        let answer = self.try_call(method, params.clone()).unwrap_or_else(|| panic!("{method}: no answer"));
        assert!(answer.get("error").is_none(), "{method}({params}): {answer}");
        answer["result"].clone()
    }

    fn view(&self, strict: bool) -> RpcStateView {
        let config = RpcViewConfig { strict, ..RpcViewConfig::new(&self.url) };
        RpcStateView::at(config, self.rt.handle().clone(), None).expect("view")
    }

    fn number(&self) -> u64 {
        quantity(&self.call("eth_blockNumber", json!([])))
    }

    /// Sends a signed transaction (automine) and returns its receipt.
    fn send(&self, raw: &Bytes) -> Value {
        let hash = self.call("eth_sendRawTransaction", json!([raw]));
        let receipt = self.call("eth_getTransactionReceipt", json!([hash]));
        assert_eq!(receipt["status"], "0x1", "{receipt}");
        receipt
    }

    fn deploy(&self, nonce: u64, initial: u64) -> Address {
        let receipt = self.send(&sign(nonce, None, counter_init(initial)));
        receipt["contractAddress"].as_str().expect("created").parse().expect("address")
    }

    fn storage(&self, at: Address, slot: u64) -> U256 {
        u256(&self.call("eth_getStorageAt", json!([at, format!("{slot:#x}"), "latest"])))
    }
}

fn quantity(v: &Value) -> u64 {
    u64::from_str_radix(v.as_str().expect("string").trim_start_matches("0x"), 16).expect("quantity")
}

fn u256(v: &Value) -> U256 {
    U256::from_str_radix(v.as_str().expect("string").trim_start_matches("0x"), 16).expect("u256")
}

fn key0() -> PrivateKeySigner {
    KEY0.parse().expect("key")
}

fn counter_init(initial: u64) -> Vec<u8> {
    let artifact: Value =
        serde_json::from_str(&std::fs::read_to_string(clients_dir().join("artifacts/Counter.json")).expect("artifact"))
            .expect("json");
    let mut code = hex::decode(artifact["bytecode"].as_str().expect("bytecode")).expect("hex");
    code.extend_from_slice(&U256::from(initial).to_be_bytes::<32>());
    code
}

/// A signed EIP-1559 transaction from Hardhat's account #0.
fn sign(nonce: u64, to: Option<Address>, input: Vec<u8>) -> Bytes {
    let tx = TxEip1559 {
        chain_id: CHAIN,
        nonce,
        gas_limit: 1_000_000,
        max_fee_per_gas: 20_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: to.map_or(TxKind::Create, TxKind::Call),
        value: U256::ZERO,
        input: input.into(),
        ..Default::default()
    };
    let sig = key0().sign_hash_sync(&tx.signature_hash()).expect("sign");
    let env: TxEnvelope = tx.into_signed(sig).into();
    env.encoded_2718().into()
}

fn budget() -> Budget {
    Budget { max_gas: 30_000_000, max_wall_time: Duration::from_secs(30) }
}

// ---------- tests ----------

/// (1) `simulate` on the view gives what Hardhat then does: same gas, same
/// log, same storage, nonce and balances; `call` matches `eth_call`.
#[test]
fn simulation_on_the_view_matches_hardhat() {
    let node = Node::start();
    let me = key0().address();
    let counter = node.deploy(0, 5);
    let view = node.view(false);
    assert_eq!(view.chain_id(), CHAIN);
    assert_eq!(view.head().number, node.number());

    // Read-only calls against Hardhat's eth_call at the same block.
    for selector in [COUNT, DEPLOYER] {
        let env = TxEnv {
            caller: me,
            kind: TxKind::Call(counter),
            data: selector.to_vec().into(),
            gas_limit: 1_000_000,
            chain_id: Some(CHAIN),
            ..Default::default()
        };
        let ours = vigil_sim::call(&view, &view.next_block(), env).expect("call");
        let ExecResult::Success { output, .. } = ours.result else { panic!("call failed: {:?}", ours.result) };
        let theirs =
            node.call("eth_call", json!([{"from": me, "to": counter, "data": Bytes::from(selector)}, "latest"]));
        assert_eq!(output.to_string(), theirs.as_str().expect("hex"), "eth_call {selector:?}");
    }

    // The increment, simulated on the view, then mined by Hardhat.
    let raw = sign(1, Some(counter), INCREMENT.to_vec());
    let tx = Transaction::decode(&raw).expect("decode");
    let spec = view.next_block();
    let sim = simulate(&view, &spec, &tx, &budget()).expect("simulate");
    let receipt = node.send(&raw);
    assert_eq!(quantity(&receipt["blockNumber"]), spec.number, "mined in the block the view simulated");
    let block = node.call("eth_getBlockByNumber", json!([receipt["blockNumber"], false]));
    assert_eq!(quantity(&block["baseFeePerGas"]), spec.base_fee, "next base fee");
    assert_eq!(block["miner"].as_str().expect("miner").parse::<Address>().expect("miner"), spec.coinbase);
    let ExecResult::Success { gas_used, .. } = sim.result else { panic!("simulation: {:?}", sim.result) };
    assert_eq!(gas_used, quantity(&receipt["gasUsed"]), "gas used");

    let logs = &receipt["logs"];
    assert_eq!(logs.as_array().map(Vec::len), Some(sim.trace.logs.len()), "log count: {logs}");
    let executed = vigil_sim::execute(&view, &spec, &tx).expect("execute");
    let (ours, theirs) = (&executed.logs[0], &logs[0]);
    assert_eq!(ours.address.to_string().to_lowercase(), theirs["address"].as_str().expect("address").to_lowercase());
    let topics: Vec<String> = ours.data.topics().iter().map(B256::to_string).collect();
    assert_eq!(json!(topics), theirs["topics"]);
    assert_eq!(ours.data.data.to_string(), theirs["data"].as_str().expect("data"));

    // State changes: the counter's slot, the sender, the coinbase.
    let slot = sim.changes[&counter].storage[&U256::ZERO].present_value;
    assert_eq!(slot, U256::from(6));
    assert_eq!(slot, node.storage(counter, 0));
    let sender = &sim.changes[&me].info;
    assert_eq!(sender.nonce, quantity(&node.call("eth_getTransactionCount", json!([me, "latest"]))));
    assert_eq!(sender.balance, u256(&node.call("eth_getBalance", json!([me, "latest"]))), "sender balance");
    let coinbase = &sim.changes[&spec.coinbase].info;
    assert_eq!(coinbase.balance, u256(&node.call("eth_getBalance", json!([spec.coinbase, "latest"]))), "coinbase");
}

/// (2) `advance` drops what the mined block changed (the counter's slot,
/// the sender) and keeps an untouched contract: read again without a
/// request. Strict mode clears accounts and slots but keeps code.
#[test]
fn advance_drops_only_what_the_block_changed() {
    let node = Node::start();
    let me = key0().address();
    let a = node.deploy(0, 5);
    let b = node.deploy(1, 100);
    let mut view = node.view(false);
    let strict_start = view.head().number;
    let n = view.head().number;

    assert_eq!(view.storage(a, U256::ZERO).expect("a"), U256::from(5));
    assert_eq!(view.storage(b, U256::ZERO).expect("b"), U256::from(100));
    let b_code = view.account(b).expect("b").expect("exists").code_hash;
    let me_before = view.account(me).expect("me").expect("exists");
    let mut strict = node.view(true);
    assert_eq!(strict.head().number, strict_start);
    assert_eq!(strict.storage(b, U256::ZERO).expect("b"), U256::from(100));
    strict.account(b).expect("b");

    node.send(&sign(2, Some(a), INCREMENT.to_vec()));
    assert_eq!(node.number(), n + 1);
    // Pinned: until it advances, the view still reads block n (cached, and
    // uncached: the strict view never read `a`).
    assert_eq!(view.storage(a, U256::ZERO).expect("a"), U256::from(5));
    assert_eq!(strict.storage(a, U256::ZERO).expect("a"), U256::from(5));
    assert_eq!(strict.account(me).expect("me").expect("exists").nonce, me_before.nonce);

    let before = view.stats();
    let outcome = view.advance(n + 1).expect("advance");
    assert!(matches!(outcome, Invalidation::Touched { .. }), "{outcome:?}");
    assert_eq!(view.diff_tracer(), Some(false), "hardhat has no prestate diff tracer");
    let after = view.stats();
    assert!(after.invalidations >= before.invalidations + 2, "slot and sender dropped: {before:?} -> {after:?}");
    assert_eq!(after.clears, 0);

    // What the block changed is read again, at the new head.
    assert_eq!(view.storage(a, U256::ZERO).expect("a"), U256::from(6));
    let me_after = view.account(me).expect("me").expect("exists");
    assert_eq!(me_after.nonce, me_before.nonce + 1);
    assert_eq!(me_after.balance, u256(&node.call("eth_getBalance", json!([me, "latest"]))));
    assert!(view.stats().requests > after.requests);

    // What it did not change is still cached: hits, no request.
    let before = view.stats();
    assert_eq!(view.storage(b, U256::ZERO).expect("b"), U256::from(100));
    assert_eq!(view.account(b).expect("b").expect("exists").code_hash, b_code);
    assert!(view.code_by_hash(b_code).is_ok());
    let after = view.stats();
    assert_eq!(after.requests, before.requests, "no request for the untouched contract");
    assert_eq!(after.misses, before.misses);
    assert_eq!(after.hits, before.hits + 3);

    // Strict: the same block clears accounts and slots, code stays.
    let outcome = strict.advance(n + 1).expect("advance");
    assert_eq!(outcome, Invalidation::Cleared(ClearReason::Strict));
    let before = strict.stats();
    assert_eq!(before.slots, 0);
    assert!(strict.code_by_hash(b_code).is_ok());
    assert_eq!(strict.stats().requests, before.requests, "code by hash survives a clear");
    assert_eq!(strict.storage(b, U256::ZERO).expect("b"), U256::from(100));
    assert_eq!(strict.stats().requests, before.requests + 1, "slot refetched after a strict clear");
}

/// (3) A skipped block, a new block whose parent is not the head, and a
/// different block at the head's height all clear the cache. The reorg is
/// a real one: Hardhat's `evm_snapshot` / `evm_revert`.
#[test]
fn gap_and_reorg_clear_the_cache() {
    let node = Node::start();
    let a = node.deploy(0, 5);
    let mut view = node.view(false);
    let n = view.head().number;
    assert_eq!(view.storage(a, U256::ZERO).expect("a"), U256::from(5));

    // Gap: two blocks mined, the view jumps.
    node.call("evm_mine", json!([]));
    node.call("evm_mine", json!([]));
    let clears = view.stats().clears;
    assert_eq!(view.advance(n + 2).expect("advance"), Invalidation::Cleared(ClearReason::Gap { from: n, to: n + 2 }));
    assert_eq!(view.stats().clears, clears + 1);
    assert_eq!(view.stats().slots, 0);
    let misses = view.stats().misses;
    assert_eq!(view.storage(a, U256::ZERO).expect("a"), U256::from(5));
    assert_eq!(view.stats().misses, misses + 1);
    let n = n + 2;

    // Block n+1 with the increment; the view follows it.
    let at_n = node.call("evm_snapshot", json!([]));
    node.send(&sign(1, Some(a), INCREMENT.to_vec()));
    assert!(matches!(view.advance(n + 1).expect("advance"), Invalidation::Touched { .. }));
    assert_eq!(view.storage(a, U256::ZERO).expect("a"), U256::from(6));

    // Reorg: n+1 replaced by an empty n+1', then n+2' on top of it.
    assert_eq!(node.call("evm_revert", json!([at_n])), json!(true));
    node.call("evm_mine", json!([]));
    let at_n1 = node.call("evm_snapshot", json!([]));
    node.call("evm_mine", json!([]));
    assert_eq!(view.advance(n + 2).expect("advance"), Invalidation::Cleared(ClearReason::Reorg { number: n + 2 }));
    assert_eq!(view.head().hash.to_string(), node.call("eth_getBlockByNumber", json!(["latest", false]))["hash"]);
    assert_eq!(view.storage(a, U256::ZERO).expect("a"), U256::from(5), "the increment was reorged out");

    // Same height, another block: n+2' replaced by n+2'' (the increment).
    assert_eq!(node.call("evm_revert", json!([at_n1])), json!(true));
    node.send(&sign(1, Some(a), INCREMENT.to_vec()));
    assert_eq!(node.number(), n + 2);
    assert_eq!(view.advance(n + 2).expect("advance"), Invalidation::Cleared(ClearReason::Reorg { number: n + 2 }));
    assert_eq!(view.storage(a, U256::ZERO).expect("a"), U256::from(6));
    assert_eq!(view.advance(n + 2).expect("advance"), Invalidation::Unchanged);
}

/// A fake node: answers `eth_chainId` and `eth_getBlockByNumber` with a
/// Hardhat-like block, and never answers anything else (holds the
/// connection open).
fn silent_node() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || serve_silently(stream));
        }
    });
    url
}

fn serve_silently(stream: TcpStream) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut writer = stream;
    loop {
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
            if line == "\r\n" {
                break;
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let result = match request["method"].as_str() {
            Some("eth_chainId") => json!("0x7a69"),
            Some("eth_getBlockByNumber") => json!({
                "number": "0x5", "hash": B256::repeat_byte(5), "parentHash": B256::repeat_byte(4),
                "timestamp": "0x100", "gasLimit": "0x1c9c380", "gasUsed": "0x0", "baseFeePerGas": "0x1",
                "miner": Address::ZERO, "mixHash": B256::ZERO,
            }),
            _ => {
                std::thread::sleep(Duration::from_secs(3600));
                return;
            }
        };
        let answer = json!({"jsonrpc": "2.0", "id": request["id"], "result": result}).to_string();
        let head =
            format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n", answer.len());
        if writer.write_all(head.as_bytes()).and_then(|()| writer.write_all(answer.as_bytes())).is_err() {
            return;
        }
    }
}

/// (4) A dead endpoint (nothing listening) and a node that stops answering
/// give a clean `StateError` naming the endpoint and the call, within the
/// timeout; simulation on such a view fails with `SimError::State`.
#[test]
fn dead_endpoint_is_a_clean_state_error() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("rt");
    let timeout = Duration::from_millis(500);

    let dead = format!("http://127.0.0.1:{}", free_port());
    let start = Instant::now();
    let config = RpcViewConfig { timeout, ..RpcViewConfig::new(&dead) };
    let Err(StateError::Unavailable(message)) = RpcStateView::at(config, rt.handle().clone(), None) else {
        panic!("a view of a dead endpoint");
    };
    assert!(message.contains(&dead) && message.contains("eth_chainId"), "{message}");
    assert!(start.elapsed() < Duration::from_secs(3), "{:?}", start.elapsed());

    let silent = silent_node();
    let config = RpcViewConfig { timeout, ..RpcViewConfig::new(&silent) };
    let view = RpcStateView::at(config, rt.handle().clone(), None).expect("view of the fake node");
    assert_eq!(view.head().number, 5);
    let tx = Transaction::decode(&sign(0, Some(Address::repeat_byte(0x42)), vec![])).expect("tx");
    let start = Instant::now();
    let outcome = simulate(&view, &view.next_block(), &tx, &budget());
    let elapsed = start.elapsed();
    let Err(SimError::State(StateError::Unavailable(message))) = outcome else {
        panic!("simulation on a silent node: {outcome:?}");
    };
    assert!(message.contains(&silent), "{message}");
    assert!(message.contains("eth_getBalance") && message.contains("0x5"), "names the call and block: {message}");
    assert!(elapsed >= timeout && elapsed < timeout + Duration::from_secs(2), "{elapsed:?}");
    let Err(StateError::Unavailable(message)) = view.storage(Address::repeat_byte(1), U256::ZERO) else {
        panic!("storage read on a silent node");
    };
    assert!(message.contains("eth_getStorageAt"), "{message}");
}
