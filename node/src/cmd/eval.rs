//! `vigil eval`: replay fixtures (FORMAT.md) and judge every benign and
//! attack transaction with the detection engine.

use crate::cli::EvalArgs;
use anyhow::Context;
use serde::Serialize;
use std::{
    io::{IsTerminal, Write},
    path::{Path, PathBuf},
    process::ExitCode,
    time::{Duration, Instant},
};
use vigil_detect::{Engine, History, Policies, VerdictKind};
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

#[derive(Debug, Default, Serialize)]
struct Totals {
    tp: u64,
    #[serde(rename = "fn")]
    fn_: u64,
    fp: u64,
    tn: u64,
    broken_fixtures: u64,
    latency_us_p50: u64,
    latency_us_p99: u64,
    latency_us_max: u64,
}

#[derive(Debug, Serialize)]
struct Report {
    ruleset: &'static str,
    fixtures: Vec<FixtureReport>,
    totals: Totals,
}

pub fn run(args: EvalArgs) -> anyhow::Result<ExitCode> {
    let policies = match &args.policy {
        Some(p) => Policies::load(p)?,
        None => Policies::default(),
    };
    let engine = Engine::new(policies);
    let budget = Budget { max_gas: args.budget_gas, max_wall_time: Duration::from_millis(args.budget_ms) };
    let files = collect(&args.paths)?;
    let mut progress = Progress::new(files.len());
    let mut fixtures = Vec::with_capacity(files.len());
    for path in &files {
        let report = eval_fixture(&engine, &budget, path, &mut progress);
        progress.fixture_done();
        fixtures.push(report);
    }
    progress.finish();
    let totals = totals(&fixtures);
    let report = Report { ruleset: engine.ruleset(), fixtures, totals };
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print_table(&report);
    }
    Ok(ExitCode::SUCCESS)
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

fn eval_fixture(engine: &Engine, budget: &Budget, path: &Path, progress: &mut Progress) -> FixtureReport {
    let mut report =
        FixtureReport { name: String::new(), path: path.display().to_string(), txs: Vec::new(), error: None };
    let fixture = match Fixture::load(path) {
        Ok(f) => f,
        Err(e) => {
            report.error = Some(FixtureError { index: None, reason: e.to_string() });
            return report;
        }
    };
    report.name = if fixture.name.is_empty() { file_stem(path) } else { fixture.name.clone() };
    let mut replay = match Replay::new(&fixture.genesis) {
        Ok(r) => r,
        Err(e) => {
            report.error = Some(FixtureError { index: None, reason: format!("genesis: {e}") });
            return report;
        }
    };
    let mut history = History::new();
    for ftx in &fixture.txs {
        let block = replay.next_block();
        let start = Instant::now();
        let outcome = match replay.simulate_next(&ftx.tx, budget) {
            Ok(o) => o,
            Err(e) => {
                report.error = Some(FixtureError { index: Some(ftx.index), reason: format!("cannot execute: {e}") });
                return report;
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
            report.error = Some(FixtureError {
                index: Some(ftx.index),
                reason: format!("{} transaction {} {why}", label_str(ftx.label), ftx.tx.hash()),
            });
            return report;
        }
        if let Some(v) = verdict {
            report.txs.push(TxReport {
                index: ftx.index,
                hash: format!("{:#x}", ftx.tx.hash()),
                label: label_str(ftx.label),
                decision: if v.kind == VerdictKind::Malicious { "quarantine" } else { "admit" },
                reasons: v.reasons(),
                latency_us: u64::try_from(latency.as_micros()).unwrap_or(u64::MAX),
            });
        }
        replay.apply(&outcome.changes);
        history.record(&outcome.trace, block.number);
        progress.tx_done();
    }
    report
}

fn file_stem(path: &Path) -> String {
    path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
}

fn totals(fixtures: &[FixtureReport]) -> Totals {
    let mut t = Totals::default();
    let mut lat: Vec<u64> = Vec::new();
    for f in fixtures {
        if f.error.is_some() {
            t.broken_fixtures += 1;
        }
        for tx in &f.txs {
            lat.push(tx.latency_us);
            match (tx.label, tx.decision) {
                ("attack", "quarantine") => t.tp += 1,
                ("attack", _) => t.fn_ += 1,
                (_, "quarantine") => t.fp += 1,
                _ => t.tn += 1,
            }
        }
    }
    lat.sort_unstable();
    let pct = |p: usize| if lat.is_empty() { 0 } else { lat[((lat.len() - 1) * p) / 100] };
    t.latency_us_p50 = pct(50);
    t.latency_us_p99 = pct(99);
    t.latency_us_max = lat.last().copied().unwrap_or(0);
    t
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
    let t = &r.totals;
    let _ = writeln!(
        out,
        "\nruleset {}: {} fixtures ({} broken); attacks quarantined {} of {} (tp {}, fn {}); benign admitted {} of {} \
         (tn {}, fp {})\nlatency per judged transaction (simulate + detect): p50 {} µs, p99 {} µs, max {} µs",
        r.ruleset,
        r.fixtures.len(),
        t.broken_fixtures,
        t.tp,
        t.tp + t.fn_,
        t.tp,
        t.fn_,
        t.tn,
        t.tn + t.fp,
        t.tn,
        t.fp,
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
/// terminal, one line every few seconds otherwise.
struct Progress {
    fixtures_total: usize,
    fixtures_done: usize,
    txs: u64,
    started: Instant,
    last: Instant,
    tty: bool,
    shown: bool,
}

impl Progress {
    fn new(fixtures_total: usize) -> Self {
        let now = Instant::now();
        Self {
            fixtures_total,
            fixtures_done: 0,
            txs: 0,
            started: now,
            last: now,
            tty: std::io::stderr().is_terminal(),
            shown: false,
        }
    }

    fn tx_done(&mut self) {
        self.txs += 1;
        self.maybe_show();
    }

    fn fixture_done(&mut self) {
        self.fixtures_done += 1;
        self.maybe_show();
    }

    fn maybe_show(&mut self) {
        let every = if self.tty { Duration::from_millis(200) } else { Duration::from_secs(5) };
        if self.last.elapsed() < every || self.started.elapsed() < Duration::from_secs(1) {
            return;
        }
        self.last = Instant::now();
        self.shown = true;
        let line = format!(
            "eval: {}/{} fixtures, {} transactions, {:.0} tx/s",
            self.fixtures_done,
            self.fixtures_total,
            self.txs,
            self.txs as f64 / self.started.elapsed().as_secs_f64()
        );
        if self.tty {
            eprint!("\r{line}");
        } else {
            eprintln!("{line}");
        }
    }

    fn finish(&self) {
        if self.shown && self.tty {
            eprintln!();
        }
    }
}
