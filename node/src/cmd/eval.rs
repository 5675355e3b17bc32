//! `vigil eval`: replay fixtures (FORMAT.md) and judge every benign and
//! attack transaction with the detection engine.
//!
//! Each transaction ends as `quarantine` (voted malicious), `alert`
//! (admitted with findings that reach the alert score, DESIGN §5), `note`
//! (admitted with a finding below it, kept as context) or `admit`. The report
//! counts, per rule, the transactions it helped quarantine and the ones it
//! raised an alert on, and lists every false quarantine with its rule and
//! sentence.

use crate::cli::EvalArgs;
use anyhow::Context;
use serde::Serialize;
use std::{
    collections::BTreeMap,
    io::{IsTerminal, Write},
    path::{Path, PathBuf},
    process::ExitCode,
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering},
        Mutex,
    },
    time::{Duration, Instant},
};
use vigil_detect::{Engine, History, Policies, Verdict, VerdictKind};
use vigil_fixture::{Fixture, Label};
use vigil_sim::{Budget, ExecResult, Replay};

#[derive(Debug, Serialize)]
struct TxReport {
    index: usize,
    hash: String,
    label: &'static str,
    decision: &'static str,
    reasons: Vec<String>,
    latency_us: u64,
}

#[derive(Debug, Serialize)]
struct FixtureError {
    index: Option<usize>,
    reason: String,
}

#[derive(Debug, Serialize)]
struct FixtureReport {
    name: String,
    path: String,
    txs: Vec<TxReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<FixtureError>,
}

/// How often a rule weighed in, by the transaction's label and decision.
#[derive(Debug, Default, Clone, Copy, Serialize)]
struct RuleCount {
    /// Benign transactions it helped quarantine (false quarantines).
    benign_quarantined: u64,
    /// Benign transactions admitted with its alert.
    benign_alerts: u64,
    /// Attacks it helped quarantine.
    attack_quarantined: u64,
    /// Attacks admitted with its alert.
    attack_alerts: u64,
    /// Benign transactions admitted with its finding below the alert score
    /// (kept with the verdict as context).
    benign_notes: u64,
    /// Attacks admitted with its finding below the alert score.
    attack_notes: u64,
}

#[derive(Debug, Default, Serialize)]
struct Totals {
    judged: u64,
    tp: u64,
    #[serde(rename = "fn")]
    fn_: u64,
    fp: u64,
    tn: u64,
    /// Benign transactions admitted with an alert (counted in `tn`).
    benign_alerts: u64,
    /// Attacks admitted with an alert (counted in `fn`).
    attack_alerts: u64,
    broken_fixtures: u64,
    latency_us_p50: u64,
    latency_us_p99: u64,
    latency_us_max: u64,
}

#[derive(Debug, Serialize)]
struct Report {
    ruleset: &'static str,
    fixtures: Vec<FixtureReport>,
    rules: BTreeMap<&'static str, RuleCount>,
    totals: Totals,
}

/// What one judged transaction adds to the totals (kept for every
/// transaction even when the report lists only some).
#[derive(Debug, Default)]
struct Tally {
    totals: Totals,
    rules: BTreeMap<&'static str, RuleCount>,
    latencies: Vec<u64>,
}

impl Tally {
    fn add(&mut self, label: Label, v: &Verdict, latency_us: u64) {
        let t = &mut self.totals;
        t.judged += 1;
        self.latencies.push(latency_us);
        let attack = label == Label::Attack;
        let quarantined = v.kind == VerdictKind::Malicious;
        match (attack, quarantined) {
            (true, true) => t.tp += 1,
            (true, false) => t.fn_ += 1,
            (false, true) => t.fp += 1,
            (false, false) => t.tn += 1,
        }
        if v.is_alert() {
            if attack {
                t.attack_alerts += 1;
            } else {
                t.benign_alerts += 1;
            }
        }
        let alert = v.is_alert();
        let mut seen = std::collections::BTreeSet::new();
        for f in v.weighed() {
            if !seen.insert(f.rule) {
                continue;
            }
            let c = self.rules.entry(f.rule).or_default();
            let n = match (attack, quarantined, alert) {
                (false, true, _) => &mut c.benign_quarantined,
                (false, false, true) => &mut c.benign_alerts,
                (false, false, false) => &mut c.benign_notes,
                (true, true, _) => &mut c.attack_quarantined,
                (true, false, true) => &mut c.attack_alerts,
                (true, false, false) => &mut c.attack_notes,
            };
            *n += 1;
        }
    }

    fn merge(&mut self, o: Tally) {
        let (t, u) = (&mut self.totals, o.totals);
        t.judged += u.judged;
        t.tp += u.tp;
        t.fn_ += u.fn_;
        t.fp += u.fp;
        t.tn += u.tn;
        t.benign_alerts += u.benign_alerts;
        t.attack_alerts += u.attack_alerts;
        t.broken_fixtures += u.broken_fixtures;
        for (rule, c) in o.rules {
            let e = self.rules.entry(rule).or_default();
            e.benign_quarantined += c.benign_quarantined;
            e.benign_alerts += c.benign_alerts;
            e.attack_quarantined += c.attack_quarantined;
            e.attack_alerts += c.attack_alerts;
            e.benign_notes += c.benign_notes;
            e.attack_notes += c.attack_notes;
        }
        self.latencies.extend(o.latencies);
    }
}

pub fn run(args: EvalArgs) -> anyhow::Result<ExitCode> {
    let policies = match &args.policy {
        Some(p) => Policies::load(p)?,
        None => Policies::default(),
    };
    let engine = Engine::new(policies);
    let budget = Budget { max_gas: args.budget_gas, max_wall_time: Duration::from_millis(args.budget_ms) };
    let files = collect(&args.paths)?;
    let jobs = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1);
    let progress = Progress::new(files.len());
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<(usize, FixtureReport, Tally)>> = Mutex::new(Vec::with_capacity(files.len()));
    std::thread::scope(|s| {
        for _ in 0..jobs.min(files.len()).max(1) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(path) = files.get(i) else { break };
                let (report, tally) = eval_fixture(&engine, &budget, path, &progress, args.summary);
                progress.fixture_done();
                if let Ok(mut d) = done.lock() {
                    d.push((i, report, tally));
                }
            });
        }
    });
    progress.finish();
    let mut done = done.into_inner().map_err(|_| anyhow::anyhow!("an evaluation thread panicked"))?;
    done.sort_by_key(|(i, ..)| *i);
    let mut tally = Tally::default();
    let mut fixtures = Vec::with_capacity(done.len());
    for (_, report, t) in done {
        tally.merge(t);
        fixtures.push(report);
    }
    tally.latencies.sort_unstable();
    let lat = &tally.latencies;
    let pct = |p: usize| if lat.is_empty() { 0 } else { lat[((lat.len() - 1) * p) / 100] };
    tally.totals.latency_us_p50 = pct(50);
    tally.totals.latency_us_p99 = pct(99);
    tally.totals.latency_us_max = lat.last().copied().unwrap_or(0);
    let failed = tally.totals.fp > 0 || tally.totals.fn_ > 0 || tally.totals.broken_fixtures > 0;
    let report = Report { ruleset: engine.ruleset(), fixtures, rules: tally.rules, totals: tally.totals };
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print_table(&report);
    }
    Ok(if args.strict && failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// Files named on the command line, and `*.json` under named folders, sorted.
fn collect(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).with_context(|| format!("cannot read {}", p.display()))?;
        if meta.is_dir() {
            let mut stack = vec![p.clone()];
            let mut found = Vec::new();
            while let Some(dir) = stack.pop() {
                for entry in std::fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))? {
                    let path = entry?.path();
                    if path.is_dir() {
                        stack.push(path);
                    } else if path.extension().is_some_and(|e| e == "json") {
                        found.push(path);
                    }
                }
            }
            found.sort();
            anyhow::ensure!(!found.is_empty(), "{}: no .json fixtures in this folder", p.display());
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn label_str(l: Label) -> &'static str {
    match l {
        Label::Setup => "setup",
        Label::Benign => "benign",
        Label::Attack => "attack",
    }
}

fn decision(v: &Verdict) -> &'static str {
    match (v.kind, v.is_alert()) {
        (VerdictKind::Malicious, _) => "quarantine",
        (VerdictKind::Clean, true) => "alert",
        (VerdictKind::Clean, false) if v.score > 0 => "note",
        (VerdictKind::Clean, false) => "admit",
    }
}

/// Whether the report lists a transaction when only some are listed: a
/// wrong decision, or any finding that weighed.
fn needs_a_look(label: Label, v: &Verdict) -> bool {
    (label == Label::Attack) != (v.kind == VerdictKind::Malicious) || v.score > 0
}

fn eval_fixture(
    engine: &Engine,
    budget: &Budget,
    path: &Path,
    progress: &Progress,
    summary: bool,
) -> (FixtureReport, Tally) {
    let mut tally = Tally::default();
    let mut report =
        FixtureReport { name: String::new(), path: path.display().to_string(), txs: Vec::new(), error: None };
    let broken = |report: &mut FixtureReport, tally: &mut Tally, index, reason| {
        report.error = Some(FixtureError { index, reason });
        tally.totals.broken_fixtures += 1;
    };
    let fixture = match Fixture::load(path) {
        Ok(f) => f,
        Err(e) => {
            broken(&mut report, &mut tally, None, e.to_string());
            return (report, tally);
        }
    };
    report.name = if fixture.name.is_empty() { file_stem(path) } else { fixture.name.clone() };
    let mut replay = match Replay::new(&fixture.genesis) {
        Ok(r) => r,
        Err(e) => {
            broken(&mut report, &mut tally, None, format!("genesis: {e}"));
            return (report, tally);
        }
    };
    let mut history = History::new();
    for ftx in &fixture.txs {
        let block = replay.next_block();
        let start = Instant::now();
        let outcome = match replay.simulate_next(&ftx.tx, budget) {
            Ok(o) => o,
            Err(e) => {
                broken(&mut report, &mut tally, Some(ftx.index), format!("cannot execute: {e}"));
                return (report, tally);
            }
        };
        let verdict = ftx.label.is_scored().then(|| engine.judge(replay.state(), &block, &ftx.tx, &outcome, &history));
        let latency = start.elapsed();
        // Rule 3: setup, benign and attack transactions all succeed.
        if !outcome.result.is_success() {
            let why = match &outcome.result {
                ExecResult::BudgetExceeded { kind, .. } => format!("stopped by the {kind:?} budget"),
                r => r.revert_reason().map_or_else(|| "failed".to_string(), |s| format!("reverted: {s}")),
            };
            let reason = format!("{} transaction {} {why}", label_str(ftx.label), ftx.tx.hash());
            broken(&mut report, &mut tally, Some(ftx.index), reason);
            return (report, tally);
        }
        if let Some(v) = verdict {
            let latency_us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
            tally.add(ftx.label, &v, latency_us);
            if !summary || needs_a_look(ftx.label, &v) {
                report.txs.push(TxReport {
                    index: ftx.index,
                    hash: format!("{:#x}", ftx.tx.hash()),
                    label: label_str(ftx.label),
                    decision: decision(&v),
                    reasons: v.reasons(),
                    latency_us,
                });
            }
        }
        replay.apply(&outcome.changes);
        history.record(&outcome.trace, block.number);
        progress.tx_done();
    }
    (report, tally)
}

fn file_stem(path: &Path) -> String {
    path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
}

fn print_table(r: &Report) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{:<40} {:>5}  {:<7} {:<10} {:>9}  reasons", "fixture", "tx", "label", "decision", "µs");
    for f in &r.fixtures {
        for tx in &f.txs {
            let wrong = (tx.label == "attack") != (tx.decision == "quarantine");
            let reason = tx.reasons.first().cloned().unwrap_or_default();
            let _ = writeln!(
                out,
                "{:<40} {:>5}  {:<7} {:<10} {:>9}  {}{}",
                truncate(&f.name, 40),
                tx.index,
                tx.label,
                tx.decision,
                tx.latency_us,
                if wrong { "WRONG " } else { "" },
                truncate(&reason, 160)
            );
        }
        if let Some(e) = &f.error {
            let at = e.index.map(|i| format!("tx {i}: ")).unwrap_or_default();
            let _ = writeln!(out, "{:<40} BROKEN FIXTURE ({}): {at}{}", truncate(&f.name, 40), f.path, e.reason);
        }
    }
    // Every false quarantine in full: the rule and its sentence.
    let false_q: Vec<_> = r
        .fixtures
        .iter()
        .flat_map(|f| f.txs.iter().map(move |t| (f, t)))
        .filter(|(_, t)| t.label != "attack" && t.decision == "quarantine")
        .collect();
    if !false_q.is_empty() {
        let _ = writeln!(out, "\nfalse quarantines ({}):", false_q.len());
        for (f, t) in false_q {
            let _ = writeln!(out, "  {} tx {} {}", f.name, t.index, t.hash);
            for reason in &t.reasons {
                let _ = writeln!(out, "    {reason}");
            }
        }
    }
    if !r.rules.is_empty() {
        let _ = writeln!(
            out,
            "\n{:<26} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}\n{:<26} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
            "", "benign", "", "", "attack", "", "", "rule", "quar.", "alert", "note", "quar.", "alert", "note"
        );
        for (rule, c) in &r.rules {
            let _ = writeln!(
                out,
                "{:<26} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
                rule,
                c.benign_quarantined,
                c.benign_alerts,
                c.benign_notes,
                c.attack_quarantined,
                c.attack_alerts,
                c.attack_notes
            );
        }
    }
    let t = &r.totals;
    let benign = t.tn + t.fp;
    let _ = writeln!(
        out,
        "\nruleset {}: {} fixtures ({} broken); attacks quarantined {} of {} (tp {}, fn {}); benign admitted {} of {} \
         (tn {}, fp {}), {} of them with an alert ({:.4} %)\nlatency per judged transaction (simulate + detect): p50 {} \
         µs, p99 {} µs, max {} µs",
        r.ruleset,
        r.fixtures.len(),
        t.broken_fixtures,
        t.tp,
        t.tp + t.fn_,
        t.tp,
        t.fn_,
        t.tn,
        benign,
        t.tn,
        t.fp,
        t.benign_alerts,
        if benign == 0 { 0.0 } else { t.benign_alerts as f64 * 100.0 / benign as f64 },
        t.latency_us_p50,
        t.latency_us_p99,
        t.latency_us_max
    );
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// A progress line on stderr for long runs: rewritten in place on a
/// terminal, one line every few seconds otherwise. Shared by the
/// evaluation threads.
struct Progress {
    fixtures_total: usize,
    fixtures_done: AtomicUsize,
    txs: AtomicU64,
    started: Instant,
    last: Mutex<Instant>,
    tty: bool,
    shown: std::sync::atomic::AtomicBool,
}

impl Progress {
    fn new(fixtures_total: usize) -> Self {
        let now = Instant::now();
        Self {
            fixtures_total,
            fixtures_done: AtomicUsize::new(0),
            txs: AtomicU64::new(0),
            started: now,
            last: Mutex::new(now),
            tty: std::io::stderr().is_terminal(),
            shown: std::sync::atomic::AtomicBool::new(false),
        }
    }

    fn tx_done(&self) {
        self.txs.fetch_add(1, Ordering::Relaxed);
        self.maybe_show();
    }

    fn fixture_done(&self) {
        self.fixtures_done.fetch_add(1, Ordering::Relaxed);
        self.maybe_show();
    }

    fn maybe_show(&self) {
        let every = if self.tty { Duration::from_millis(200) } else { Duration::from_secs(5) };
        if self.started.elapsed() < Duration::from_secs(1) {
            return;
        }
        let Ok(mut last) = self.last.try_lock() else { return };
        if last.elapsed() < every {
            return;
        }
        *last = Instant::now();
        self.shown.store(true, Ordering::Relaxed);
        let txs = self.txs.load(Ordering::Relaxed);
        let line = format!(
            "eval: {}/{} fixtures, {} transactions, {:.0} tx/s",
            self.fixtures_done.load(Ordering::Relaxed),
            self.fixtures_total,
            txs,
            txs as f64 / self.started.elapsed().as_secs_f64()
        );
        if self.tty {
            eprint!("\r{line}");
        } else {
            eprintln!("{line}");
        }
    }

    fn finish(&self) {
        if self.shown.load(Ordering::Relaxed) && self.tty {
            eprintln!();
        }
    }
}
