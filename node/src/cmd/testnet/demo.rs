//! The demo: the DeFi world of `testnet/demo/world.json` built through the
//! running network (every transaction sent to the gate, inspected by every
//! node, certified, included), steady benign transfers from the development
//! accounts meanwhile, and the 13 corpus attacks, each stopped.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{keccak256, Address, TxKind, B256, U256};
use alloy_signer::SignerSync;
use anyhow::Context;
use serde_json::{json, Value};

use super::{
    layout::{dev_account, ACCOUNTS, WORLD},
    Layout,
};

/// What the demo saw.
#[derive(Debug, Default)]
pub struct Report {
    /// Attacks sent.
    pub attacks: usize,
    /// Attacks every node quarantined and the chain never included.
    pub attacks_stopped: usize,
    /// World transactions (setup and benign) sent.
    pub world_sent: usize,
    /// World transactions included.
    pub world_included: usize,
    /// Background transfers sent.
    pub background_sent: usize,
    /// Background transfers included.
    pub background_included: usize,
    /// Submit-to-inclusion latencies of the background transfers (ms).
    pub background_latency_ms: Vec<u64>,
}

impl Report {
    /// Every attack stopped, every benign transaction included.
    pub fn passed(&self) -> bool {
        self.attacks > 0
            && self.attacks_stopped == self.attacks
            && self.world_included == self.world_sent
            && self.background_included == self.background_sent
    }
}

#[derive(Clone)]
struct Client {
    http: reqwest::Client,
}

impl Client {
    async fn call(&self, url: &str, method: &str, params: Value) -> anyhow::Result<Value> {
        let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
        let v: Value = self.http.post(url).json(&body).send().await?.json().await?;
        if let Some(e) = v.get("error") {
            anyhow::bail!("{method}: {}", e["message"].as_str().unwrap_or("error"));
        }
        Ok(v["result"].clone())
    }

    async fn receipt(&self, url: &str, hash: B256) -> anyhow::Result<Option<Value>> {
        let r = self.call(url, "eth_getTransactionReceipt", json!([hash])).await?;
        Ok((!r.is_null()).then_some(r))
    }
}

/// Plays the demo on a running testnet.
pub async fn run(layout: &Layout, scenarios: Option<usize>) -> anyhow::Result<Report> {
    let client = Client { http: reqwest::Client::builder().timeout(Duration::from_secs(10)).build()? };
    let world: Value = serde_json::from_str(WORLD)?;
    let mut txs = world["txs"].as_array().context("world txs")?.clone();
    if let Some(n) = scenarios {
        // Cut after the n-th attack: scenarios end with their attack.
        let mut attacks = 0;
        let cut = txs
            .iter()
            .position(|t| {
                attacks += usize::from(t["label"] == "attack");
                attacks == n
            })
            .map_or(txs.len(), |i| i + 1);
        txs.truncate(cut);
    }
    let total_attacks = txs.iter().filter(|t| t["label"] == "attack").count();
    let report = Arc::new(Mutex::new(Report::default()));
    let stop = Arc::new(AtomicBool::new(false));

    println!(
        "== demo: {} transactions of the DeFi world through the gate, {total_attacks} attacks among them",
        txs.len()
    );
    println!("   steady benign traffic meanwhile: ETH transfers between the development accounts\n");
    let background = tokio::spawn(background(layout.clone(), client.clone(), report.clone(), stop.clone()));

    let mut scenario = String::new();
    let mut scenario_txs = 0usize;
    let started = Instant::now();
    for t in &txs {
        let raw = t["raw"].as_str().context("tx raw")?;
        let label = t["label"].as_str().unwrap_or("benign");
        let note = t["note"].as_str().unwrap_or("");
        if let Some(rest) = note.strip_prefix("deployer: fund ") {
            let name = rest.split('/').next().unwrap_or(rest).to_string();
            if name != scenario {
                if !scenario.is_empty() {
                    println!("   {scenario_txs} setup and benign transactions certified and included");
                }
                println!("-- world: {name}");
                scenario = name;
                scenario_txs = 0;
            }
        }
        let hash = keccak256(alloy_primitives::hex::decode(raw)?);
        client.call(&layout.gate_url(), "eth_sendRawTransaction", json!([raw])).await?;
        if label == "attack" {
            let (stopped, quarantined_by) = wait_quarantined(&client, layout, hash).await?;
            let n = {
                let mut r = lock(&report);
                r.attacks += 1;
                r.attacks
            };
            let mut finding = String::new();
            for i in 0..layout.nodes {
                let verdict = client.call(&layout.node_url(i), "vigil_getVerdict", json!([hash])).await.ok();
                if let Some(f) = verdict.as_ref().and_then(|v| v["verdict"]["findings"].get(0).cloned()) {
                    finding =
                        format!("[{}] {}", f["rule"].as_str().unwrap_or("?"), f["message"].as_str().unwrap_or(""));
                    break;
                }
            }
            if stopped {
                lock(&report).attacks_stopped += 1;
                println!(
                    "   ATTACK {n}/{total_attacks} STOPPED: quarantined by {quarantined_by} of {} nodes, never forwarded",
                    layout.nodes
                );
                println!("      {}", shorten(&finding, 160));
            } else {
                println!("   ATTACK {n}/{total_attacks} NOT STOPPED ({hash}): {finding}");
            }
            continue;
        }
        lock(&report).world_sent += 1;
        let included = wait_included(&client, layout, hash, Duration::from_secs(30)).await?;
        if included {
            lock(&report).world_included += 1;
            scenario_txs += 1;
        } else {
            let status = client.call(&layout.gate_url(), "vigil_getTxStatus", json!([hash])).await.unwrap_or_default();
            println!("   {label} transaction {hash} not included: gate says {status}");
        }
    }
    if !scenario.is_empty() {
        println!("   {scenario_txs} setup and benign transactions certified and included");
    }
    stop.store(true, Ordering::Relaxed);
    background.await.context("background traffic task")??;
    let report = Arc::try_unwrap(report).map_err(|_| anyhow::anyhow!("report still shared"))?;
    let mut report = report.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    print_summary(&mut report, started.elapsed());
    Ok(report)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn shorten(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

/// Whether the attack `hash` was stopped: no node certified it, the nodes
/// that judged it quarantined it (every node that has it, and at least one),
/// and the chain never included it. Says why when it was not.
async fn wait_quarantined(client: &Client, layout: &Layout, hash: B256) -> anyhow::Result<(bool, usize)> {
    let start = Instant::now();
    loop {
        let mut statuses = Vec::new();
        for j in 0..layout.nodes {
            let v = client.call(&layout.node_url(j), "vigil_getTxStatus", json!([hash])).await.ok();
            let status = v.as_ref().and_then(|v| v["status"].as_str()).unwrap_or("unknown").to_string();
            let vote = v.as_ref().and_then(|v| v["verdict"].as_str()).unwrap_or("nothing").to_string();
            statuses.push((status, vote));
        }
        let quarantined = statuses.iter().filter(|(s, _)| s == "quarantined").count();
        let certified = statuses.iter().any(|(s, _)| s == "certified");
        let pending = statuses.iter().any(|(s, _)| s == "inspecting" || s == "voted");
        // Every node that has it has decided (a slow machine may take a
        // while: the nodes' own deadline decides within 10 s of the first vote).
        let settled = !pending && quarantined > 0;
        if certified || settled || start.elapsed() > Duration::from_secs(60) {
            let included = client.receipt(&layout.devnet_url(), hash).await?.is_some();
            let stopped = !certified && !included && quarantined > 0 && !pending;
            if !stopped {
                let detail: Vec<String> =
                    statuses.iter().enumerate().map(|(j, (s, v))| format!("node {j}: {s} (voted {v})")).collect();
                println!("   not stopped: {}{}", detail.join(", "), if included { ", INCLUDED" } else { "" });
            }
            return Ok((stopped, quarantined));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn wait_included(client: &Client, layout: &Layout, hash: B256, within: Duration) -> anyhow::Result<bool> {
    let start = Instant::now();
    loop {
        if client.receipt(&layout.devnet_url(), hash).await?.is_some() {
            return Ok(true);
        }
        if start.elapsed() > within {
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// ETH transfers between the development accounts, about five a second,
/// each followed to its inclusion.
async fn background(
    layout: Layout,
    client: Client,
    report: Arc<Mutex<Report>>,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<()> {
    let mut nonces = Vec::with_capacity(ACCOUNTS);
    for i in 0..ACCOUNTS {
        let (_, address) = dev_account(i);
        let n = client.call(&layout.gate_url(), "eth_getTransactionCount", json!([address, "pending"])).await?;
        nonces.push(u64::from_str_radix(n.as_str().unwrap_or("0x0").trim_start_matches("0x"), 16).unwrap_or(0));
    }
    let mut inflight: Vec<(B256, Instant)> = Vec::new();
    let mut k = 0usize;
    while !stop.load(Ordering::Relaxed) {
        let from = k % ACCOUNTS;
        let to = (k + 1 + k / ACCOUNTS) % ACCOUNTS;
        k += 1;
        let (signer, _) = dev_account(from);
        let (_, recipient) = dev_account(if to == from { (to + 1) % ACCOUNTS } else { to });
        let raw = transfer(&signer, layout.chain_id, nonces[from], recipient, 1_000_000_000_000_000)?;
        let hash = keccak256(&raw);
        let sent = Instant::now();
        match client
            .call(
                &layout.gate_url(),
                "eth_sendRawTransaction",
                json!([format!("0x{}", alloy_primitives::hex::encode(&raw))]),
            )
            .await
        {
            Ok(_) => {
                nonces[from] += 1;
                lock(&report).background_sent += 1;
                inflight.push((hash, sent));
            }
            Err(e) => tracing::warn!(error = %e, "background transfer refused"),
        }
        settle(&client, &layout, &report, &mut inflight).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while !inflight.is_empty() && Instant::now() < deadline {
        settle(&client, &layout, &report, &mut inflight).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

async fn settle(client: &Client, layout: &Layout, report: &Mutex<Report>, inflight: &mut Vec<(B256, Instant)>) {
    let mut still = Vec::new();
    for (hash, sent) in inflight.drain(..) {
        match client.receipt(&layout.devnet_url(), hash).await {
            Ok(Some(_)) => {
                let mut r = lock(report);
                r.background_included += 1;
                r.background_latency_ms.push(sent.elapsed().as_millis() as u64);
            }
            _ => still.push((hash, sent)),
        }
    }
    *inflight = still;
}

/// A signed EIP-1559 ETH transfer (the demo's and the benchmark's traffic).
pub fn transfer(
    signer: &alloy_signer_local::PrivateKeySigner,
    chain_id: u64,
    nonce: u64,
    to: Address,
    value: u64,
) -> anyhow::Result<Vec<u8>> {
    call(signer, chain_id, nonce, to, U256::from(value), Vec::new(), 21_000)
}

/// A signed EIP-1559 call of `to` with `input`, `value` wei and `gas_limit`.
pub fn call(
    signer: &alloy_signer_local::PrivateKeySigner,
    chain_id: u64,
    nonce: u64,
    to: Address,
    value: U256,
    input: Vec<u8>,
    gas_limit: u64,
) -> anyhow::Result<Vec<u8>> {
    let tx = TxEip1559 {
        chain_id,
        nonce,
        gas_limit,
        max_fee_per_gas: 2_000_000_000,
        max_priority_fee_per_gas: 1_000_000,
        to: TxKind::Call(to),
        value,
        input: input.into(),
        ..Default::default()
    };
    let sig = signer.sign_hash_sync(&tx.signature_hash())?;
    Ok(TxEnvelope::from(tx.into_signed(sig)).encoded_2718())
}

fn print_summary(report: &mut Report, elapsed: Duration) {
    report.background_latency_ms.sort_unstable();
    let pct = |p: f64| -> u64 {
        let v = &report.background_latency_ms;
        if v.is_empty() {
            return 0;
        }
        v[((v.len() - 1) as f64 * p).round() as usize]
    };
    println!("\n== demo summary ({:.0} s)", elapsed.as_secs_f64());
    println!("   attacks stopped:                     {} of {}", report.attacks_stopped, report.attacks);
    println!("   world transactions included:         {} of {}", report.world_included, report.world_sent);
    println!(
        "   background transfers included:       {} of {} (submit to inclusion p50 {} ms, p99 {} ms)",
        report.background_included,
        report.background_sent,
        pct(0.5),
        pct(0.99)
    );
    println!("   result: {}", if report.passed() { "PASS" } else { "FAIL" });
}
