//! Shared pieces of the process-level tests: child processes killed on
//! drop, a JSON-RPC client, signed test transactions, a dev certifier.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{keccak256, Address, TxKind, B256, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use serde_json::{json, Value};

/// A port free right now on 127.0.0.1 (see [`free_ports`]).
pub fn free_port() -> u16 {
    free_ports(1)[0]
}

/// `n` distinct ports free right now (all held until all are chosen, so
/// none repeats).
///
/// Taken below Linux's ephemeral range (32768 and up): a port the kernel
/// hands out as `:0` can be reused as the source port of any outgoing
/// connection before the process that is told to listen there binds it.
pub fn free_ports(n: usize) -> Vec<u16> {
    let mut listeners: Vec<TcpListener> = Vec::with_capacity(n);
    while listeners.len() < n {
        let port = rand::random::<u16>() % 12_000 + 20_000;
        if let Ok(l) = TcpListener::bind(("127.0.0.1", port)) {
            listeners.push(l);
        }
    }
    listeners.iter().map(|l| l.local_addr().expect("addr").port()).collect()
}

/// `testnet/clients` (the JS clients and the pinned Hardhat).
pub fn clients_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testnet/clients")
}

/// A child process killed (SIGKILL) when dropped.
pub struct Proc {
    pub child: Child,
    pub log: PathBuf,
}

impl Proc {
    /// Starts `vigil ARGS`, stderr to `log`.
    pub fn vigil(args: &[String], log: PathBuf) -> Self {
        let child = Command::new(env!("CARGO_BIN_EXE_vigil"))
            .args(args)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("vigil starts");
        Self { child, log }
    }

    /// What it logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL and reap.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Whether it is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A JSON-RPC endpoint.
#[derive(Clone)]
pub struct Rpc {
    pub http: reqwest::Client,
    pub url: String,
}

impl Rpc {
    pub fn new(url: impl Into<String>) -> Self {
        Self { http: reqwest::Client::new(), url: url.into() }
    }

    /// Posts `body`; the HTTP status and the answer's text, whatever it is.
    pub async fn post_text(&self, body: String) -> (u16, String) {
        let r = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {}: {e}", self.url));
        (r.status().as_u16(), r.text().await.expect("body"))
    }

    /// Posts a raw body; the parsed answer.
    pub async fn post(&self, body: String) -> Value {
        let (_, text) = self.post_text(body).await;
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} answered non-JSON {text:?}: {e}", self.url))
    }

    /// The whole answer of one call.
    pub async fn call(&self, method: &str, params: Value) -> Value {
        self.post(json!({ "jsonrpc": "2.0", "id": 7, "method": method, "params": params }).to_string()).await
    }

    /// The result of a call that must succeed.
    pub async fn result(&self, method: &str, params: Value) -> Value {
        let answer = self.call(method, params.clone()).await;
        assert!(answer.get("error").is_none(), "{method}({params}) failed: {answer}");
        answer["result"].clone()
    }

    /// The error of a call that must fail: code and message.
    pub async fn error(&self, method: &str, params: Value) -> (i64, String) {
        let answer = self.call(method, params.clone()).await;
        let code = answer["error"]["code"].as_i64().unwrap_or_else(|| panic!("{method}({params}): no error: {answer}"));
        (code, answer["error"]["message"].as_str().unwrap_or_default().to_owned())
    }

    /// Waits until the endpoint answers `eth_chainId`, failing with the
    /// process log if it dies or takes over `within`.
    pub async fn wait_up(&self, who: &mut Proc, within: Duration) {
        let start = Instant::now();
        loop {
            let body = r#"{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}"#;
            if let Ok(r) = self.http.post(&self.url).header("content-type", "application/json").body(body).send().await
            {
                if r.status().is_success() {
                    return;
                }
            }
            assert!(who.running(), "process exited before serving {}:\n{}", self.url, who.log());
            assert!(start.elapsed() < within, "{} not up after {within:?}:\n{}", self.url, who.log());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A funded test account's key, from a seed byte.
pub fn account(i: u8) -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&keccak256([b'v', b'i', b'g', i])).expect("valid key")
}

/// A signed EIP-1559 transaction: `0x` hex of its bytes and its hash.
pub fn signed_tx(
    key: &PrivateKeySigner,
    chain_id: u64,
    nonce: u64,
    to: Option<Address>,
    value: u64,
    input: Vec<u8>,
) -> (String, B256) {
    let gas = if to.is_some() && input.is_empty() { 21_000 } else { 3_000_000 };
    signed_tx_with_gas(key, chain_id, nonce, to, value, input, gas)
}

/// [`signed_tx`] with its gas limit given.
pub fn signed_tx_with_gas(
    key: &PrivateKeySigner,
    chain_id: u64,
    nonce: u64,
    to: Option<Address>,
    value: u64,
    input: Vec<u8>,
    gas_limit: u64,
) -> (String, B256) {
    let tx = TxEip1559 {
        chain_id,
        nonce,
        gas_limit,
        max_fee_per_gas: 20_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: to.map_or(TxKind::Create, TxKind::Call),
        value: U256::from(value),
        input: input.into(),
        ..Default::default()
    };
    let sig = key.sign_hash_sync(&tx.signature_hash()).expect("sign");
    let env: TxEnvelope = tx.into_signed(sig).into();
    let raw = env.encoded_2718();
    (format!("0x{}", alloy_primitives::hex::encode(&raw)), keccak256(&raw))
}

/// A devnet genesis funding `accounts` (and Hardhat's account #0, which the
/// JS wallet test uses) with 1000 ETH each.
pub fn genesis_json(chain_id: u64, accounts: &[Address]) -> Value {
    let mut alloc = serde_json::Map::new();
    let hardhat0: Address = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266".parse().expect("address");
    for a in accounts.iter().chain([&hardhat0]) {
        alloc.insert(a.to_string(), json!({ "balance": "0x3635c9adc5dea00000" }));
    }
    json!({
        "chain_id": chain_id,
        "fork": "prague",
        "genesis": {
            "timestamp": 1_700_000_000u64,
            "gas_limit": 30_000_000u64,
            "coinbase": "0x000000000000000000000000000000000000c0de",
            "base_fee": 1_000_000_000u64,
        },
        "alloc": alloc,
    })
}

/// Certifies every held transaction it sees through `vigil_pendingTransactions`
/// (a stand-in for the inspector network, with the committee's own keys),
/// until the returned handle is aborted.
pub fn spawn_certifier(
    rpc: Rpc,
    committee: std::sync::Arc<vigil_consensus::testkit::DevCommittee>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let answer = rpc.call("vigil_pendingTransactions", json!([])).await;
            if let Some(rows) = answer["result"].as_array() {
                for row in rows.iter().filter(|r| r["status"] == "pending") {
                    let Some(hash) = row["tx_hash"].as_str().and_then(|h| h.parse::<B256>().ok()) else { continue };
                    let cert = committee.certify(hash);
                    let _ = rpc.call("vigil_submitCertificate", json!([cert])).await;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
}

/// Runs the viem wallet flow (`testnet/clients/wallet.mjs`) against `rpc`
/// (and `ws` if given) with the account of `key` (hex, no `0x`); its JSON
/// summary. Panics with the script's output if it fails.
pub async fn run_wallet(rpc: &str, ws: Option<&str>, key: &str) -> Value {
    assert!(
        clients_dir().join("node_modules/viem").exists(),
        "testnet/clients/node_modules missing: run scripts/setup.sh (npm ci in testnet/clients)"
    );
    let mut cmd = tokio::process::Command::new("node");
    cmd.arg(clients_dir().join("wallet.mjs")).args(["--rpc", rpc, "--timeout-ms", "20000"]);
    cmd.args(["--key", &format!("0x{}", key.trim_start_matches("0x"))]);
    if let Some(ws) = ws {
        cmd.args(["--ws", ws]);
    }
    let out = cmd.output().await.expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "wallet.mjs failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(stdout.lines().last().unwrap_or_default()).expect("summary line")
}

/// Held by the tests that start a whole network (four nodes or more), so
/// two of them never share the machine's two cores: on a loaded machine
/// their deadlines would measure the load, not the code.
pub async fn whole_network() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::OnceLock<tokio::sync::Mutex<()>> = std::sync::OnceLock::new();
    LOCK.get_or_init(|| tokio::sync::Mutex::new(())).lock().await
}

/// Runs `vigil ARGS` to completion.
pub fn vigil(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigil")).args(args).output().expect("vigil runs")
}

/// Runs `vigil ARGS`, which must succeed; its stdout.
pub fn vigil_ok(args: &[&str]) -> String {
    let out = vigil(args);
    assert!(
        out.status.success(),
        "vigil {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// `vigil contracts deploy` on the settlement devnet at `rpc` (chain
/// `settlement_chain`) for the inspected chain `chain`, with the test
/// parameters (1 ether minimum stake, 200-block dispute window, 400-block
/// unbonding, 0.1 ether minimum bond); the addresses go to `out`. Returns
/// the command's stdout and the addresses file.
pub fn deploy_contracts(
    rpc: &str,
    settlement_chain: u64,
    key_file: &str,
    chain: u64,
    epoch_length: u64,
    out: &std::path::Path,
) -> (String, Value) {
    let stdout = vigil_ok(&[
        "contracts",
        "deploy",
        "--rpc",
        rpc,
        "--settlement-chain-id",
        &settlement_chain.to_string(),
        "--key-file",
        key_file,
        "--chain-id-inspected",
        &chain.to_string(),
        "--epoch-length",
        &epoch_length.to_string(),
        "--min-stake",
        "1ether",
        "--dispute-window",
        "200",
        "--unbonding",
        "400",
        "--min-bond",
        "0.1ether",
        "--out",
        out.to_str().expect("utf-8 path"),
    ]);
    let deployed = serde_json::from_str(&std::fs::read_to_string(out).expect("addresses file")).expect("JSON");
    (stdout, deployed)
}

/// Runs `vigil ARGS`, which must fail; its stderr.
pub fn vigil_err(args: &[&str]) -> String {
    let out = vigil(args);
    assert!(!out.status.success(), "vigil {args:?} succeeded:\n{}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8(out.stderr).expect("utf-8")
}

/// Writes `key` (hex) to `dir/name`; the path.
pub fn key_file(dir: &Path, name: &str, key: &PrivateKeySigner) -> String {
    let path = dir.join(name);
    std::fs::write(&path, format!("0x{}\n", alloy_primitives::hex::encode(key.to_bytes()))).unwrap();
    path.to_str().unwrap().to_owned()
}

/// A `vigil devnet run --admission open` (blocks only when there are
/// transactions, every 150 ms at most) funding `accounts`: a settlement
/// chain, or an upstream for a gate.
pub async fn settlement_devnet(dir: &Path, name: &str, chain: u64, accounts: &[Address], port: u16) -> (Proc, Rpc) {
    let genesis = dir.join(format!("{name}-genesis.json"));
    std::fs::write(&genesis, genesis_json(chain, accounts).to_string()).unwrap();
    let args: Vec<String> = [
        "--log.filter",
        "info",
        "devnet",
        "run",
        "--admission",
        "open",
        "--genesis",
        genesis.to_str().unwrap(),
        "--data",
        dir.join(format!("{name}-data")).to_str().unwrap(),
        "--rpc.addr",
        &format!("127.0.0.1:{port}"),
        "--block-time",
        "150",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut proc = Proc::vigil(&args, dir.join(format!("{name}.log")));
    let rpc = Rpc::new(format!("http://127.0.0.1:{port}"));
    rpc.wait_up(&mut proc, Duration::from_secs(30)).await;
    (proc, rpc)
}

/// `eth_blockNumber`.
pub async fn block_number(rpc: &Rpc) -> u64 {
    let v = rpc.result("eth_blockNumber", json!([])).await;
    u64::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

/// `vigil keys generate` into `keys` with a cheap KDF (tests only); returns
/// the keystore's `member.json`.
pub fn generate_keys(keys: &Path, password_file: &Path) -> Value {
    vigil_ok(&[
        "keys",
        "generate",
        "--dir",
        keys.to_str().unwrap(),
        "--password-file",
        password_file.to_str().unwrap(),
        "--kdf",
        "pbkdf2",
        "--kdf-cost",
        "2",
    ]);
    serde_json::from_str(&std::fs::read_to_string(keys.join("member.json")).unwrap()).unwrap()
}
