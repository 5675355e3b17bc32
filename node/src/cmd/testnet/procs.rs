//! Starting, watching and stopping the testnet's processes.

use std::{
    path::Path,
    process::Stdio,
    time::{Duration, Instant},
};

use anyhow::Context;
use serde_json::{json, Value};
use tokio::process::{Child, Command};

use super::Layout;

/// One child process.
struct Running {
    name: String,
    child: Child,
}

/// The testnet's processes, stopped (SIGTERM, then SIGKILL) when asked or
/// dropped.
pub struct Processes {
    running: Vec<Running>,
    pids: std::path::PathBuf,
}

impl Processes {
    /// Starts the settlement chain (deploying the contracts, registering the
    /// nodes and fetching the committee on first use), the devnet, the nodes
    /// (node 0 first, the others bootstrapping from it) and the gate
    /// (watching the court), each waited for until it answers. Every node
    /// also gets `node_args`.
    pub async fn start(layout: &Layout, block_time_ms: u64, node_args: &[String]) -> anyhow::Result<Self> {
        for port in layout.ports() {
            std::net::TcpListener::bind(("127.0.0.1", port)).with_context(|| {
                format!(
                    "port {port} is in use: is another testnet running? (`vigil testnet down --data {}`, or --base-port)",
                    layout.root.display()
                )
            })?;
        }
        let exe = std::env::current_exe().context("locating the vigil binary")?;
        let root = &layout.root;
        let path = |p: &str| root.join(p).display().to_string();
        let mut me = Self { running: Vec::new(), pids: root.join("pids.json") };

        // The settlement chain first: the committee comes from its registry.
        let settlement = vec![
            "devnet".to_string(),
            "run".into(),
            "--admission".into(),
            "open".into(),
            "--genesis".into(),
            path("settlement-genesis.json"),
            "--data".into(),
            path("settlement"),
            "--rpc.addr".into(),
            format!("127.0.0.1:{}", layout.settlement_port()),
            "--block-time".into(),
            block_time_ms.to_string(),
        ];
        me.spawn(&exe, "settlement", &settlement, root).await?;
        me.wait_rpc("settlement", &layout.settlement_url()).await?;
        let contracts = super::settlement::prepare(layout).await.context("setting up the settlement chain")?;
        let operator_key = layout.operator_public_key()?.to_string();
        // Where the quarantine court is: the gate follows its releases, node
        // 0's dashboard shows its disputes.
        let court: [String; 6] = [
            "--court.rpc".into(),
            layout.settlement_url(),
            "--court.address".into(),
            contracts.court.to_string(),
            "--court.from-block".into(),
            contracts.deployed_at_block.to_string(),
        ];

        let devnet = vec![
            "devnet".to_string(),
            "run".into(),
            "--operator-key".into(),
            operator_key.clone(),
            "--genesis".into(),
            path("genesis.json"),
            "--committee".into(),
            path("committee.json"),
            "--data".into(),
            path("devnet"),
            "--rpc.addr".into(),
            format!("127.0.0.1:{}", layout.devnet_port()),
            "--block-time".into(),
            block_time_ms.to_string(),
        ];
        me.spawn(&exe, "devnet", &devnet, root).await?;
        me.wait_rpc("devnet", &layout.devnet_url()).await?;

        for i in 0..layout.nodes {
            let mut args = vec![
                "node".to_string(),
                "run".into(),
                "--keys".into(),
                path(&format!("node{i}")),
                "--data".into(),
                path(&format!("node{i}/data")),
                "--genesis".into(),
                path("genesis.json"),
                "--committee".into(),
                path("committee.json"),
                "--chain.rpc".into(),
                layout.devnet_url(),
                "--rpc.addr".into(),
                format!("127.0.0.1:{}", layout.node_port(i)),
                "--metrics.addr".into(),
                format!("127.0.0.1:{}", layout.metrics_port(i)),
                "--p2p.listen".into(),
                format!("/ip4/127.0.0.1/tcp/{}", layout.p2p_port(i)),
                "--sequencer".into(),
                layout.gate_url(),
                "--sequencer".into(),
                layout.devnet_url(),
                "--password-file".into(),
                path("password"),
                "--operator-token-file".into(),
                path("operator.token"),
                "--operator-key-file".into(),
                path("operator.key"),
                "--policy".into(),
                path("policy.json"),
                "--gate.rpc".into(),
                layout.gate_url(),
                "--poll-ms".into(),
                "50".into(),
                // Generous: a loaded or slow machine (a debug build, CI) must
                // not quarantine clean transactions for lateness; attacks are
                // quarantined at once by malicious stake, not by the deadline.
                "--deadline-ms".into(),
                "10000".into(),
            ];
            if i > 0 {
                args.extend(["--p2p.bootstrap".into(), layout.p2p_addr(0)]);
            } else {
                args.extend(["--dashboard.addr".into(), format!("127.0.0.1:{}", layout.dashboard_port())]);
                args.extend(court.iter().cloned());
            }
            args.extend(node_args.iter().cloned());
            me.spawn(&exe, &format!("node{i}"), &args, root).await?;
            if i == 0 {
                me.wait_rpc("node0", &layout.node_url(0)).await?;
            }
        }
        for i in 1..layout.nodes {
            me.wait_rpc(&format!("node{i}"), &layout.node_url(i)).await?;
        }

        let mut gate = vec![
            "gate".to_string(),
            "run".into(),
            "--upstream".into(),
            layout.devnet_url(),
            "--committee".into(),
            path("committee.json"),
            "--data".into(),
            path("gate"),
            "--rpc.addr".into(),
            format!("127.0.0.1:{}", layout.gate_port()),
            "--metrics.addr".into(),
            format!("127.0.0.1:{}", layout.gate_metrics_port()),
            "--quarantine-after-ms".into(),
            "20000".into(),
            "--poll-ms".into(),
            "50".into(),
        ];
        gate.extend(court.iter().cloned());
        gate.extend(["--court.poll-ms".into(), "500".into(), "--operator-key".into(), operator_key.clone()]);
        for i in 0..layout.nodes.min(2) {
            gate.extend(["--inspector".into(), layout.node_url(i)]);
        }
        me.spawn(&exe, "gate", &gate, root).await?;
        me.wait_rpc("gate", &layout.gate_url()).await?;
        me.wait_mesh(layout).await?;
        Ok(me)
    }

    async fn spawn(&mut self, exe: &Path, name: &str, args: &[String], root: &Path) -> anyhow::Result<()> {
        let log_path = root.join("logs").join(format!("{name}.log"));
        // Appended, never truncated: a restart keeps what the previous run
        // logged (a crash's last lines are what an operator reads first).
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .with_context(|| format!("opening {}", log_path.display()))?;
        {
            use std::io::Write;
            let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
            writeln!(log, "=== vigil testnet: {name} started (unix time {}) ===", since_epoch.as_secs())
                .with_context(|| format!("writing {}", log_path.display()))?;
        }
        // `VIGIL_LOG` in the environment sets every process's filter (for
        // a trace of one transaction through the testnet, say).
        let filter = std::env::var("VIGIL_LOG").unwrap_or_else(|_| "info,libp2p_gossipsub::behaviour=error".into());
        let child = Command::new(exe)
            .args(["--log.filter", &filter])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {name}"))?;
        self.running.push(Running { name: name.to_string(), child });
        self.record_pids();
        Ok(())
    }

    fn record_pids(&self) {
        // The supervisor first: `down` stopping it stops the rest cleanly.
        let mut pids = vec![json!({ "name": "testnet", "pid": std::process::id() })];
        pids.extend(self.running.iter().filter_map(|r| r.child.id().map(|pid| json!({ "name": r.name, "pid": pid }))));
        let _ = std::fs::write(&self.pids, json!(pids).to_string());
    }

    async fn wait_rpc(&mut self, name: &str, url: &str) -> anyhow::Result<()> {
        let http = reqwest::Client::new();
        let start = Instant::now();
        let body = json!({ "jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": [] });
        loop {
            if let Ok(r) = http.post(url).json(&body).send().await {
                if r.status().is_success() {
                    return Ok(());
                }
            }
            if let Some(r) = self.running.iter_mut().find(|r| r.name == name) {
                if let Ok(Some(status)) = r.child.try_wait() {
                    anyhow::bail!("{name} exited ({status}) before serving {url}; see its log in logs/{name}.log");
                }
            }
            anyhow::ensure!(start.elapsed() < Duration::from_secs(60), "{name} did not answer at {url} within 60 s");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Until every node sees every other.
    async fn wait_mesh(&self, layout: &Layout) -> anyhow::Result<()> {
        let http = reqwest::Client::new();
        let start = Instant::now();
        let want = layout.nodes.saturating_sub(1);
        for i in 0..layout.nodes {
            loop {
                let body = json!({ "jsonrpc": "2.0", "id": 1, "method": "vigil_peers", "params": [] });
                let peers = match http.post(layout.node_url(i)).json(&body).send().await {
                    Ok(r) => r.json::<Value>().await.ok().and_then(|v| v["result"].as_array().map(Vec::len)),
                    Err(_) => None,
                };
                if peers.unwrap_or(0) >= want {
                    break;
                }
                anyhow::ensure!(start.elapsed() < Duration::from_secs(60), "node {i} sees only {peers:?} peers");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        // Let gossipsub form its mesh.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        Ok(())
    }

    /// The running processes' names and process ids.
    pub fn pids(&self) -> Vec<(String, u32)> {
        self.running.iter().filter_map(|r| Some((r.name.clone(), r.child.id()?))).collect()
    }

    /// CPU time (user + system, seconds) of each process so far.
    pub fn cpu_times(&self) -> Vec<(String, f64)> {
        self.running.iter().map(|r| (r.name.clone(), r.child.id().map_or(0.0, cpu_seconds))).collect()
    }

    /// Per process: name, CPU percent (of one core) since `before` over
    /// `wall`, resident memory in MB now.
    pub fn usage(&self, before: &[(String, f64)], wall: Duration) -> Vec<(String, f64, f64)> {
        self.running
            .iter()
            .map(|r| {
                let pid = r.child.id();
                let start = before.iter().find(|(n, _)| *n == r.name).map_or(0.0, |(_, c)| *c);
                let cpu = pid.map_or(0.0, cpu_seconds) - start;
                let rss = pid.map_or(0.0, rss_mb);
                (r.name.clone(), 100.0 * cpu / wall.as_secs_f64().max(1e-9), rss)
            })
            .collect()
    }

    /// Resolves when a process exits on its own: which one.
    pub async fn watch(&mut self) -> String {
        loop {
            for r in &mut self.running {
                if let Ok(Some(status)) = r.child.try_wait() {
                    return format!("{} exited ({status})", r.name);
                }
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// SIGTERM to everything (gate first, devnet last), SIGKILL after
    /// `grace`.
    pub async fn stop(&mut self, grace: Duration) {
        for r in self.running.iter().rev() {
            if let Some(pid) = r.child.id() {
                terminate(pid).await;
            }
        }
        let deadline = Instant::now() + grace;
        for r in self.running.iter_mut().rev() {
            loop {
                match r.child.try_wait() {
                    Ok(Some(_)) | Err(_) => break,
                    Ok(None) if Instant::now() >= deadline => {
                        let _ = r.child.kill().await;
                        break;
                    }
                    Ok(None) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
        }
        let _ = std::fs::remove_file(&self.pids);
    }
}

/// Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

/// User + system CPU seconds of `pid` (0 if unreadable).
fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return 0.0 };
    // Fields after the command name (which may hold spaces) start after ") ".
    let Some(rest) = stat.rsplit_once(") ").map(|(_, r)| r) else { return 0.0 };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 here.
    let get = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (get(11) + get(12)) / TICKS_PER_SECOND
}

/// Resident memory of `pid` in MB (0 if unreadable).
fn rss_mb(pid: u32) -> f64 {
    let Ok(statm) = std::fs::read_to_string(format!("/proc/{pid}/statm")) else { return 0.0 };
    let pages = statm.split_whitespace().nth(1).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    pages * 4096.0 / 1e6
}

async fn terminate(pid: u32) {
    let _ = Command::new("kill").args(["-TERM", &pid.to_string()]).status().await;
}

/// `vigil testnet down`: SIGTERM to the processes recorded in
/// DATA/pids.json, then SIGKILL to any still alive after 10 s.
pub fn stop_recorded(root: &Path) -> anyhow::Result<usize> {
    let path = root.join("pids.json");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(_) => return Ok(0),
    };
    let pids: Vec<Value> = serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    let pids: Vec<u32> = pids.iter().filter_map(|p| p["pid"].as_u64()).map(|p| p as u32).collect();
    let alive = |pid: u32| Path::new(&format!("/proc/{pid}")).exists();
    for pid in &pids {
        let _ = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status();
    }
    let start = Instant::now();
    while pids.iter().any(|p| alive(*p)) && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(100));
    }
    for pid in pids.iter().filter(|p| alive(**p)) {
        let _ = std::process::Command::new("kill").args(["-KILL", &pid.to_string()]).status();
    }
    let _ = std::fs::remove_file(&path);
    Ok(pids.len())
}
