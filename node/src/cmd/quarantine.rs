//! `vigil quarantine list | review | release`: the dashboard's review and
//! release flow for operators without a browser (docs/operator.md).
//!
//! `list` and `review` call the node's JSON-RPC (`vigil_quarantineList`,
//! `vigil_quarantineReview`). `release` either asks the node to sign the
//! release with its operator key and send it to its gate
//! (`vigil_quarantineRelease`, with the operator token), or, with
//! `--key-file`, signs it here and sends it straight to `--gate`
//! (`vigil_releaseQuarantined`). Either way the gate checks the signature
//! against its own `--operator-key`s before it admits the transaction.

use std::{path::PathBuf, process::ExitCode};

use alloy_primitives::B256;
use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;
use vigil_settlement::rpc::Client;

/// `vigil quarantine …`
#[derive(Debug, Subcommand)]
pub enum QuarantineCommand {
    /// The node's quarantine queue, newest first.
    List(ListArgs),
    /// Mark a quarantined transaction reviewed (needs the operator token).
    Review(ReviewArgs),
    /// Release a quarantined transaction through the gate with an operator
    /// key's signature.
    Release(ReleaseArgs),
}

/// Review states.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum State {
    /// Not reviewed yet.
    Open,
    /// An operator confirmed the attack.
    ConfirmedMalicious,
    /// An operator judged it benign.
    FalsePositive,
}

impl State {
    fn as_str(self) -> &'static str {
        match self {
            State::Open => "open",
            State::ConfirmedMalicious => "confirmed_malicious",
            State::FalsePositive => "false_positive",
        }
    }
}

/// `vigil quarantine list`
#[derive(Debug, Args)]
pub struct ListArgs {
    /// The node's JSON-RPC URL.
    #[arg(long, default_value = "http://127.0.0.1:8645")]
    pub node: String,
    /// Only records in this review state.
    #[arg(long, value_enum)]
    pub state: Option<State>,
    /// Records per page.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Continue after this cursor (printed at the end of a page).
    #[arg(long)]
    pub cursor: Option<String>,
    /// Print the page as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `vigil quarantine review`
#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// The node's JSON-RPC URL.
    #[arg(long, default_value = "http://127.0.0.1:8645")]
    pub node: String,
    /// File holding the operator token.
    #[arg(long)]
    pub token_file: PathBuf,
    /// The quarantined transaction.
    #[arg(long)]
    pub tx: B256,
    /// The review.
    #[arg(long, value_enum)]
    pub state: State,
    /// A note for the record.
    #[arg(long)]
    pub note: Option<String>,
    /// Who reviews.
    #[arg(long)]
    pub reviewer: Option<String>,
}

/// `vigil quarantine release`
#[derive(Debug, Args)]
pub struct ReleaseArgs {
    /// The quarantined transaction.
    #[arg(long)]
    pub tx: B256,
    /// Why (kept by the gate and the node with the release).
    #[arg(long)]
    pub note: Option<String>,
    /// Through the node: its JSON-RPC URL (it signs with its operator key
    /// and sends the release to its gate).
    #[arg(long, default_value = "http://127.0.0.1:8645", conflicts_with = "key_file")]
    pub node: String,
    /// File holding the operator token (through the node).
    #[arg(long, required_unless_present = "key_file")]
    pub token_file: Option<PathBuf>,
    /// Who releases (through the node).
    #[arg(long)]
    pub reviewer: Option<String>,
    /// Sign here with this operator key file instead, and send the release
    /// straight to `--gate`.
    #[arg(long, requires = "gate")]
    pub key_file: Option<PathBuf>,
    /// The gate's JSON-RPC URL (with `--key-file`).
    #[arg(long)]
    pub gate: Option<String>,
    /// A sequencer with its own admission (a Vigil devnet) that gets the
    /// release first (with `--key-file`; repeatable).
    #[arg(long = "sequencer", requires = "key_file")]
    pub sequencers: Vec<String>,
}

/// Runs a `vigil quarantine` subcommand.
pub fn run(command: QuarantineCommand) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async move {
        match command {
            QuarantineCommand::List(a) => list(a).await,
            QuarantineCommand::Review(a) => review(a).await,
            QuarantineCommand::Release(a) => release(a).await,
        }
    })
}

fn token(path: &PathBuf) -> anyhow::Result<String> {
    Ok(std::fs::read_to_string(path)
        .with_context(|| format!("reading the operator token {}", path.display()))?
        .trim()
        .to_owned())
}

async fn list(a: ListArgs) -> anyhow::Result<ExitCode> {
    let node = Client::new(a.node);
    let params = json!([{ "state": a.state.map(State::as_str), "cursor": a.cursor, "limit": a.limit }]);
    let page = node.request("vigil_quarantineList", params).await?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&page)?);
        return Ok(ExitCode::SUCCESS);
    }
    let items = page["items"].as_array().cloned().unwrap_or_default();
    if items.is_empty() {
        println!("nothing in quarantine{}", a.state.map_or(String::new(), |s| format!(" in state {}", s.as_str())));
    }
    for r in &items {
        println!(
            "{}  {:<20}  block {:<6}  {}",
            r["tx_hash"].as_str().unwrap_or("?"),
            r["review"]["state"].as_str().unwrap_or("?"),
            r["block_number"],
            r["reason"].as_str().unwrap_or("")
        );
    }
    if let Some(cursor) = page["next_cursor"].as_str() {
        println!("more: --cursor {cursor}");
    }
    Ok(ExitCode::SUCCESS)
}

async fn review(a: ReviewArgs) -> anyhow::Result<ExitCode> {
    let node = Client::new(a.node);
    let params = json!([{
        "tx_hash": a.tx, "state": a.state.as_str(), "note": a.note, "reviewer": a.reviewer, "token": token(&a.token_file)?,
    }]);
    let record = node.request("vigil_quarantineReview", params).await?;
    println!("{} reviewed: {}", a.tx, record["review"]["state"].as_str().unwrap_or("?"));
    Ok(ExitCode::SUCCESS)
}

async fn release(a: ReleaseArgs) -> anyhow::Result<ExitCode> {
    match (&a.key_file, &a.gate) {
        (Some(key_file), Some(gate)) => {
            let key = vigil_crypto::OperatorKey::read(key_file).context("reading the operator key")?;
            let gate = Client::new(gate.clone());
            let chain_id = gate.chain_id().await?;
            let signed = key.release(chain_id, a.tx, a.note);
            for url in &a.sequencers {
                let status = Client::new(url.clone()).request("vigil_releaseQuarantined", json!([signed])).await?;
                println!("{} released at {url}: {}", a.tx, status["status"].as_str().unwrap_or("?"));
            }
            let answer = gate.request("vigil_releaseQuarantined", json!([signed])).await?;
            println!(
                "{} released at the gate by operator {}: {}",
                a.tx,
                key.public(),
                answer["status"].as_str().unwrap_or("?")
            );
        }
        _ => {
            let token_file = a.token_file.context("--token-file is needed to release through the node")?;
            let node = Client::new(a.node);
            let params =
                json!([{ "tx_hash": a.tx, "note": a.note, "reviewer": a.reviewer, "token": token(&token_file)? }]);
            let answer = node.request("vigil_quarantineRelease", params).await?;
            println!(
                "{} released at the gate by operator {}: {}",
                a.tx,
                answer["operator"].as_str().unwrap_or("?"),
                answer["gate"]["status"].as_str().unwrap_or("?")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
