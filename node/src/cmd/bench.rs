//! `vigil bench`: drives a local testnet with real signed transactions at an
//! offered rate and measures what a rollup cares about: submit-to-certificate
//! and submit-to-inclusion latency, certified and included throughput,
//! dropped transactions, CPU and memory per process.
//!
//! Transactions are EIP-1559 ETH transfers, GEM token transfers and
//! ETH-to-GEM swaps on the demo world's AMM ([`workload`]), from the
//! testnet's [`BENCH_ACCOUNTS`] benchmark accounts, round-robin (each
//! sender's nonces in order, one transaction per sender every
//! `BENCH_ACCOUNTS / rate` seconds: many senders, as on a real chain), sent
//! to the inspector nodes' `eth_sendRawTransaction` round-robin. Certificates are observed on node
//! 0's `vigil_subscribe("certificates")` (WebSocket), inclusion on the
//! devnet's `eth_subscribe("newHeads")` and its blocks.

use std::{
    collections::HashMap,
    path::PathBuf,
    process::ExitCode,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use alloy_primitives::{keccak256, Address, B256};
use anyhow::Context;
use clap::Args;
use jsonrpsee::core::client::SubscriptionClientT;
use serde_json::{json, Value};

use crate::cmd::testnet::{bench_account, Layout, Processes, BENCH_ACCOUNTS};

mod workload;

use workload::{Kind, Market};

/// `vigil bench`
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Inspector nodes.
    #[arg(long, default_value_t = 4)]
    pub nodes: usize,
    /// Offered load, transactions per second.
    #[arg(long, default_value_t = 200)]
    pub rate: u64,
    /// Seconds of load.
    #[arg(long, default_value_t = 20)]
    pub duration: u64,
    /// Find the highest rate sustained with p99 submit-to-certificate under
    /// 100 ms (steps of 50 tx/s from --rate).
    #[arg(long)]
    pub max: bool,
    /// Print one JSON document instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Data directory of the benchmark's testnet (a fresh temporary one by
    /// default).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// First port of the benchmark's testnet.
    #[arg(long, default_value_t = 18545)]
    pub base_port: u16,
    /// Where the nodes' batch votes go (`vigil node run --batch-votes`):
    /// `gossip` or `proposer`; the node's default when not given.
    #[arg(long)]
    pub batch_votes: Option<String>,
}

/// JSON-RPC "limit exceeded": a node refusing while it is behind.
const BUSY: i64 = -32005;
/// First wait before sending a refused transaction again (then doubling).
const BUSY_BACKOFF: Duration = Duration::from_millis(100);
/// Longest wait between two sends of a refused transaction.
const BUSY_BACKOFF_MAX: Duration = Duration::from_millis(1600);
/// A transaction refused as busy for this long counts as dropped.
const BUSY_RETRY_FOR: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, Default)]
struct Times {
    sent: Option<Instant>,
    certified: Option<Instant>,
    included: Option<Instant>,
    /// Included with receipt status 0.
    reverted: bool,
}

/// One run at one rate.
#[derive(Debug, Clone)]
struct RunResult {
    offered_tps: f64,
    sent: usize,
    certified_tps: f64,
    included_tps: f64,
    certify_ms: Vec<f64>,
    include_ms: Vec<f64>,
    dropped: usize,
    /// Included but reverted (a broken workload, not a Vigil fault).
    reverted: usize,
    /// "Busy, retry later" answers (each retried, backing off from
    /// [`BUSY_BACKOFF`]).
    busy: usize,
    /// Transactions still refused as busy after [`BUSY_RETRY_FOR`]: never
    /// accepted, so not counted as dropped.
    refused: usize,
    processes: Vec<(String, f64, f64)>,
    /// CPU milliseconds per certified transaction, by process.
    cpu_ms_per_tx: Vec<(String, f64)>,
    /// Peer-to-peer bytes (TCP payload: gossip with its noise and yamux
    /// framing) each node sent and received per certified transaction.
    p2p_bytes_per_tx: Vec<(String, f64, f64)>,
    /// Transactions sent, by kind (in [`Kind::ALL`] order).
    mix: [usize; 3],
}

/// Runs `vigil bench`.
pub fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let tmp;
    let data = match &args.data {
        Some(d) => d.clone(),
        None => {
            tmp = tempdir()?;
            tmp.clone()
        }
    };
    let layout = Layout::prepare(&data, args.nodes, args.base_port)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let result = runtime.block_on(async {
        let node_args: Vec<String> =
            args.batch_votes.iter().flat_map(|r| ["--batch-votes".to_string(), r.clone()]).collect();
        let mut procs = Processes::start(&layout, 100, &node_args).await?;
        let mut senders = Senders::new(&layout).await?;
        let mut results = Vec::new();
        let outcome = async {
            if args.max {
                let mut rate = args.rate;
                loop {
                    let r = drive(&layout, &procs, rate, args.duration, &mut senders).await?;
                    let ok = percentile(&r.certify_ms, 0.99) < 100.0 && r.dropped == 0;
                    if !args.json {
                        eprintln!(
                            "rate {rate} tx/s: certified {:.0} tx/s, p99 {:.1} ms, dropped {} -> {}",
                            r.certified_tps,
                            percentile(&r.certify_ms, 0.99),
                            r.dropped,
                            if ok { "sustained" } else { "not sustained" }
                        );
                    }
                    results.push(r);
                    if !ok {
                        break;
                    }
                    rate += 50;
                }
            } else {
                results.push(drive(&layout, &procs, args.rate, args.duration, &mut senders).await?);
            }
            anyhow::Ok(())
        }
        .await;
        procs.stop(Duration::from_secs(10)).await;
        outcome.map(|()| results)
    });
    if args.data.is_none() {
        let _ = std::fs::remove_dir_all(&data);
    }
    let results = result?;
    let best = if args.max {
        results
            .iter()
            .rfind(|r| percentile(&r.certify_ms, 0.99) < 100.0 && r.dropped == 0)
            .or(results.first())
            .context("no run")?
    } else {
        results.last().context("no run")?
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&to_json(best, args.max.then_some(&results)))?);
    } else {
        print_table(best, args.nodes);
    }
    Ok(ExitCode::SUCCESS)
}

fn tempdir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("vigil-bench-{}-{}", std::process::id(), rand::random::<u32>()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// The benchmark's senders: keys and next nonces, and what they trade on.
struct Senders {
    chain_id: u64,
    keys: Vec<alloy_signer_local::PrivateKeySigner>,
    nonces: Vec<u64>,
    next: usize,
    market: Market,
    /// Transactions made, by kind (in [`Kind::ALL`] order).
    made: [usize; 3],
}

impl Senders {
    /// The benchmark accounts, with their nonces read from the devnet (a
    /// reused `--data` directory may have sent from them before).
    async fn new(layout: &Layout) -> anyhow::Result<Self> {
        let keys: Vec<_> = (0..BENCH_ACCOUNTS).map(|i| bench_account(i).0).collect();
        let devnet = vigil_settlement::rpc::Client::new(layout.devnet_url());
        let first = keys.first().context("no benchmark accounts")?.address();
        anyhow::ensure!(
            !devnet.balance(first).await?.is_zero(),
            "the benchmark accounts are not funded in {}: it was created by an older vigil; use a fresh --data",
            layout.root.display()
        );
        let mut nonces = Vec::with_capacity(keys.len());
        for key in &keys {
            nonces.push(devnet.next_nonce(key.address()).await?);
        }
        let gate = vigil_settlement::rpc::Client::new(layout.gate_url());
        let market = Market::prepare(&devnet, &gate).await?;
        Ok(Self { chain_id: layout.chain_id, keys, nonces, next: 0, market, made: [0; 3] })
    }

    /// The next sender's next transaction (its kind by [`Kind::of`]);
    /// transfers go to `sink`: raw (`0x` hex) and hash.
    fn next_tx(&mut self, sink: Address) -> anyhow::Result<(String, B256)> {
        let i = self.next;
        self.next = (self.next + 1) % self.keys.len();
        let kind = Kind::of(i, self.nonces[i]);
        let raw = self.market.transaction(kind, &self.keys[i], self.chain_id, self.nonces[i], sink)?;
        self.nonces[i] += 1;
        if let Some(n) = Kind::ALL.iter().position(|k| *k == kind).and_then(|p| self.made.get_mut(p)) {
            *n += 1;
        }
        Ok((format!("0x{}", alloy_primitives::hex::encode(&raw)), keccak256(&raw)))
    }
}

/// Offers `rate` tx/s for `duration` s, then waits for stragglers.
async fn drive(
    layout: &Layout,
    procs: &Processes,
    rate: u64,
    duration: u64,
    senders: &mut Senders,
) -> anyhow::Result<RunResult> {
    let times: Arc<Mutex<HashMap<B256, Times>>> = Arc::new(Mutex::new(HashMap::new()));
    // Observers.
    let ws_node = layout.node_url(0).replace("http://", "ws://");
    let node_ws = jsonrpsee::ws_client::WsClientBuilder::default().build(&ws_node).await.context("node 0 WebSocket")?;
    let mut certs = node_ws
        .subscribe::<Value, _>("vigil_subscribe", jsonrpsee::rpc_params!["certificates"], "vigil_unsubscribe")
        .await?;
    let devnet_ws = jsonrpsee::ws_client::WsClientBuilder::default()
        .build(layout.devnet_url().replace("http://", "ws://"))
        .await
        .context("devnet WebSocket")?;
    let mut heads =
        devnet_ws.subscribe::<Value, _>("eth_subscribe", jsonrpsee::rpc_params!["newHeads"], "eth_unsubscribe").await?;
    let http = reqwest::Client::builder().pool_max_idle_per_host(64).build()?;
    let t1 = times.clone();
    let cert_task = tokio::spawn(async move {
        while let Some(Ok(c)) = certs.next().await {
            if let Some(h) = c["tx_hash"].as_str().and_then(|h| h.parse::<B256>().ok()) {
                let mut t = t1.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                t.entry(h).or_default().certified.get_or_insert(Instant::now());
            }
        }
    });
    let t2 = times.clone();
    let devnet_url = layout.devnet_url();
    let http2 = http.clone();
    let head_task = tokio::spawn(async move {
        while let Some(Ok(h)) = heads.next().await {
            let now = Instant::now();
            let body = json!({"jsonrpc":"2.0","id":1,"method":"eth_getBlockReceipts","params":[h["hash"]]});
            let Ok(r) = http2.post(&devnet_url).json(&body).send().await else { continue };
            let Ok(b) = r.json::<Value>().await else { continue };
            let mut t = t2.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            for receipt in b["result"].as_array().into_iter().flatten() {
                if let Some(hash) = receipt["transactionHash"].as_str().and_then(|s| s.parse::<B256>().ok()) {
                    let times = t.entry(hash).or_default();
                    times.included.get_or_insert(now);
                    times.reverted = receipt["status"] == "0x0";
                }
            }
        }
    });

    let made_before = senders.made;
    let cpu_before = procs.cpu_times();
    let p2p_before = p2p_bytes(procs, layout);
    let started = Instant::now();
    let total = rate * duration;
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let mut next = tokio::time::Instant::now();
    let sink = Address::repeat_byte(0x5e);
    let mut sends = Vec::with_capacity(total as usize);
    let busy = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let gave_up = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    for k in 0..total as usize {
        tokio::time::sleep_until(next).await;
        next += interval;
        let (raw, hash) = senders.next_tx(sink)?;
        let url = layout.node_url(k % layout.nodes);
        let http = http.clone();
        let times = times.clone();
        let (busy, gave_up) = (busy.clone(), gave_up.clone());
        sends.push(tokio::spawn(async move {
            let sent = Instant::now();
            {
                let mut t = times.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                t.entry(hash).or_default().sent = Some(sent);
            }
            let body = json!({"jsonrpc":"2.0","id":1,"method":"eth_sendRawTransaction","params":[raw]});
            // A node that is behind answers "busy, retry later" (-32005):
            // retried as a wallet would, the wait counted in the latency.
            let mut backoff = BUSY_BACKOFF;
            let ok = loop {
                let answer = match http.post(&url).json(&body).send().await {
                    Ok(r) => r.json::<Value>().await.ok(),
                    Err(_) => None,
                };
                match answer {
                    Some(v) if v.get("result").is_some() => break true,
                    Some(v) if v["error"]["code"] == BUSY && sent.elapsed() >= BUSY_RETRY_FOR => {
                        gave_up.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        break false;
                    }
                    Some(v) if v["error"]["code"] == BUSY => {
                        busy.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        // Doubling, with jitter, so refused senders do not
                        // all come back at once.
                        let jitter = u64::from(hash[31]) * backoff.as_millis() as u64 / 256;
                        tokio::time::sleep(backoff + Duration::from_millis(jitter)).await;
                        backoff = (backoff * 2).min(BUSY_BACKOFF_MAX);
                    }
                    _ => break false,
                }
            };
            if !ok {
                times.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&hash);
            }
        }));
    }
    for s in sends {
        let _ = s.await;
    }
    let offered_elapsed = started.elapsed();
    // Stragglers: up to 10 s for certificates and inclusion.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let done = {
            let t = times.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            t.values().filter(|x| x.sent.is_some()).all(|x| x.certified.is_some() && x.included.is_some())
        };
        if done || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let wall = started.elapsed();
    let processes = procs.usage(&cpu_before, wall);
    let p2p_after = p2p_bytes(procs, layout);
    let refused = gave_up.load(std::sync::atomic::Ordering::Relaxed);
    cert_task.abort();
    head_task.abort();
    let t = times.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    let sent: Vec<&Times> = t.values().filter(|x| x.sent.is_some()).collect();
    let ms = |a: Instant, b: Instant| b.saturating_duration_since(a).as_secs_f64() * 1000.0;
    let mut certify_ms: Vec<f64> = sent.iter().filter_map(|x| Some(ms(x.sent?, x.certified?))).collect();
    let mut include_ms: Vec<f64> = sent.iter().filter_map(|x| Some(ms(x.sent?, x.included?))).collect();
    certify_ms.sort_by(f64::total_cmp);
    include_ms.sort_by(f64::total_cmp);
    let last = |f: fn(&Times) -> Option<Instant>| sent.iter().filter_map(|x| f(x)).max();
    let span = |end: Option<Instant>| end.map_or(0.0, |e| e.saturating_duration_since(started).as_secs_f64());
    let certified_span = span(last(|x| x.certified)).max(offered_elapsed.as_secs_f64());
    let included_span = span(last(|x| x.included)).max(offered_elapsed.as_secs_f64());
    let certified = certify_ms.len().max(1) as f64;
    let cpu_ms_per_tx = processes
        .iter()
        .map(|(name, percent, _)| (name.clone(), percent / 100.0 * wall.as_secs_f64() * 1000.0 / certified))
        .collect();
    let p2p_bytes_per_tx = p2p_after
        .iter()
        .map(|(name, (sent, received))| {
            let (s0, r0) = p2p_before.get(name).copied().unwrap_or_default();
            (name.clone(), sent.saturating_sub(s0) as f64 / certified, received.saturating_sub(r0) as f64 / certified)
        })
        .collect();
    Ok(RunResult {
        cpu_ms_per_tx,
        p2p_bytes_per_tx,
        offered_tps: total as f64 / offered_elapsed.as_secs_f64(),
        sent: sent.len(),
        certified_tps: certify_ms.len() as f64 / certified_span,
        included_tps: include_ms.len() as f64 / included_span,
        dropped: (total as usize).saturating_sub(refused).saturating_sub(certify_ms.len().min(include_ms.len())),
        refused,
        reverted: sent.iter().filter(|x| x.reverted).count(),
        busy: busy.load(std::sync::atomic::Ordering::Relaxed),
        certify_ms,
        include_ms,
        processes,
        mix: std::array::from_fn(|i| senders.made[i] - made_before[i]),
    })
}

/// Bytes each node's process has sent and received so far on its
/// established peer-to-peer TCP connections (either end a node's p2p
/// port), read from the kernel's socket counters (`ss -tinp`): what
/// gossip costs on the wire, noise and yamux framing included. Empty where
/// `ss` is missing.
fn p2p_bytes(procs: &Processes, layout: &Layout) -> std::collections::BTreeMap<String, (u64, u64)> {
    let ports: Vec<String> = (0..layout.nodes).map(|i| format!(":{}", layout.p2p_port(i))).collect();
    let pids = procs.pids();
    let mut out = std::collections::BTreeMap::new();
    let Ok(o) = std::process::Command::new("ss").args(["-Htinp", "state", "established"]).output() else { return out };
    let text = String::from_utf8_lossy(&o.stdout);
    let mut owner: Option<String> = None;
    for line in text.lines() {
        if !line.starts_with(char::is_whitespace) {
            // A socket: its addresses and owner; counters on the next line.
            let fields: Vec<&str> = line.split_whitespace().collect();
            let p2p = fields.iter().take(4).any(|f| ports.iter().any(|p| f.ends_with(p.as_str())));
            owner = p2p
                .then(|| pids.iter().find(|(_, pid)| line.contains(&format!("pid={pid},"))).map(|(n, _)| n.clone()))
                .flatten();
            continue;
        }
        let Some(name) = owner.take() else { continue };
        let counter = |key: &str| {
            line.split_whitespace().find_map(|f| f.strip_prefix(key)).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
        };
        let e = out.entry(name).or_insert((0, 0));
        e.0 += counter("bytes_sent:");
        e.1 += counter("bytes_received:");
    }
    out
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::INFINITY;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn latency_json(v: &[f64]) -> Value {
    let r = |x: f64| (x * 100.0).round() / 100.0;
    json!({
        "p50": r(percentile(v, 0.5)), "p90": r(percentile(v, 0.9)),
        "p99": r(percentile(v, 0.99)), "max": r(v.last().copied().unwrap_or(f64::INFINITY)),
    })
}

fn to_json(r: &RunResult, steps: Option<&Vec<RunResult>>) -> Value {
    let mut doc = json!({
        "offered_tps": (r.offered_tps * 10.0).round() / 10.0,
        "certified_tps": (r.certified_tps * 10.0).round() / 10.0,
        "included_tps": (r.included_tps * 10.0).round() / 10.0,
        "certify_latency_ms": latency_json(&r.certify_ms),
        "include_latency_ms": latency_json(&r.include_ms),
        "dropped": r.dropped,
        "reverted": r.reverted,
        "busy_retries": r.busy,
        "refused": r.refused,
        "workload": Kind::ALL.iter().zip(r.mix).map(|(k, n)| (k.name().to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
        "processes": r.processes.iter().map(|(name, cpu, rss)| json!({
            "name": name, "cpu_percent": (cpu * 10.0).round() / 10.0, "rss_mb": (rss * 10.0).round() / 10.0,
            "cpu_ms_per_certified_tx": r.cpu_ms_per_tx.iter().find(|(n, _)| n == name).map(|(_, v)| (v * 1000.0).round() / 1000.0),
        })).collect::<Vec<_>>(),
        "p2p_bytes_per_certified_tx": r.p2p_bytes_per_tx.iter().map(|(name, sent, received)| json!({
            "node": name, "sent": sent.round(), "received": received.round(),
        })).collect::<Vec<_>>(),
    });
    if let Some(steps) = steps {
        doc["max_sustained_tps"] = json!(steps
            .iter()
            .filter(|s| percentile(&s.certify_ms, 0.99) < 100.0 && s.dropped == 0)
            .map(|s| s.certified_tps)
            .fold(0.0, f64::max));
        doc["steps"] = json!(steps
            .iter()
            .map(|s| json!({
                "offered_tps": s.offered_tps, "certified_tps": s.certified_tps,
                "certify_p99_ms": percentile(&s.certify_ms, 0.99), "dropped": s.dropped,
            }))
            .collect::<Vec<_>>());
    }
    doc
}

fn print_table(r: &RunResult, nodes: usize) {
    let l = |v: &[f64]| {
        format!(
            "p50 {:>7.1}  p90 {:>7.1}  p99 {:>7.1}  max {:>7.1}",
            percentile(v, 0.5),
            percentile(v, 0.9),
            percentile(v, 0.99),
            v.last().copied().unwrap_or(f64::INFINITY)
        )
    };
    println!("vigil bench: {nodes} nodes, offered {:.1} tx/s, {} transactions sent", r.offered_tps, r.sent);
    let mix: Vec<String> = Kind::ALL.iter().zip(r.mix).map(|(k, n)| format!("{n} {}", k.name())).collect();
    println!("  workload: {}", mix.join(", "));
    println!("  submit -> certificate (ms)  {}", l(&r.certify_ms));
    println!("  submit -> inclusion   (ms)  {}", l(&r.include_ms));
    println!(
        "  certified {:.1} tx/s, included {:.1} tx/s, dropped or stuck {}, reverted {}",
        r.certified_tps, r.included_tps, r.dropped, r.reverted
    );
    println!(
        "  busy answers {} (retried with backoff), refused for {} s and given up {}",
        r.busy,
        BUSY_RETRY_FOR.as_secs(),
        r.refused
    );
    println!("  {:<10} {:>6} {:>9} {:>13}", "process", "cpu %", "rss MB", "cpu ms / tx");
    for (name, cpu, rss) in &r.processes {
        let per_tx = r.cpu_ms_per_tx.iter().find(|(n, _)| n == name).map_or(0.0, |(_, v)| *v);
        println!("  {name:<10} {cpu:>6.1} {rss:>9.1} {per_tx:>13.3}");
    }
    if !r.p2p_bytes_per_tx.is_empty() {
        println!("  p2p bytes per certified transaction (TCP, gossip with noise + yamux framing):");
        for (name, sent, received) in &r.p2p_bytes_per_tx {
            println!("  {name:<10} sent {sent:>8.0}  received {received:>8.0}");
        }
    }
}
