//! `vigil-corpus`: writes the scenario fixtures and background traffic.

use std::{path::PathBuf, time::Instant};

use anyhow::Context as _;
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "vigil-corpus", about = "Generates Vigil's detection corpus as vigil-fixture/1 files")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Writes the 13 attack and 13 benign scenarios of SCENARIOS.md to
    /// OUT/attack/<name>.json and OUT/benign/<name>.json, each verified by
    /// replaying it first.
    Scenarios {
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
    },
    /// Writes the demo world (the 13 attack scenarios on one chain, each with
    /// its own contracts and accounts) to OUT/world.json, verified by
    /// replaying it.
    DemoWorld {
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
    },
    /// Writes seeded ordinary traffic as fixtures: each is the world's setup
    /// followed by up to --per-fixture benign transactions, every one
    /// verified by replaying it.
    Background {
        /// Benign transactions in all.
        #[arg(long)]
        txs: usize,
        /// Seed of the world and of every choice.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
        /// Benign transactions per fixture.
        #[arg(long, default_value_t = 1000)]
        per_fixture: usize,
        /// Users in the world.
        #[arg(long, default_value_t = 400)]
        accounts: usize,
        /// Worker threads (default: the machine's cores).
        #[arg(long)]
        jobs: Option<usize>,
    },
    /// Writes seeded benign traffic over genuine protocol contracts (Uniswap
    /// v2/v3, Aave v3, Safe, merkle-distributor, OpenZeppelin Governor and
    /// ERC-4626, as shipped in their npm packages): each fixture is the
    /// world's setup followed by up to --per-fixture benign transactions,
    /// every one verified by replaying it. Prints the tally of action kinds.
    Protocols {
        /// Benign transactions in all.
        #[arg(long)]
        txs: usize,
        /// Seed of the world and of every choice.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
        /// Benign transactions per fixture.
        #[arg(long, default_value_t = vigil_corpus::protocols::DEFAULT_PER_FIXTURE)]
        per_fixture: usize,
        /// Users in the world.
        #[arg(long, default_value_t = vigil_corpus::protocols::DEFAULT_ACCOUNTS)]
        accounts: usize,
        /// Worker threads (default: the machine's cores).
        #[arg(long)]
        jobs: Option<usize>,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Scenarios { out } => {
            let files = vigil_corpus::scenario_files().context("generating the scenarios")?;
            for f in &files {
                let path = vigil_corpus::write_file(&out, f)?;
                println!("{} ({} txs)", path.display(), f.txs);
            }
            println!("{} fixtures written to {}", files.len(), out.display());
        }
        Command::DemoWorld { out } => {
            let file = vigil_corpus::demo_world_file().context("generating the demo world")?;
            let path = vigil_corpus::write_file(&out, &file)?;
            println!("{} ({} txs)", path.display(), file.txs);
        }
        Command::Background { txs, seed, out, per_fixture, accounts, jobs } => {
            let jobs = jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
            let config = vigil_corpus::background::Config { txs, seed, per_fixture, accounts, jobs };
            let start = Instant::now();
            let run = vigil_corpus::background::generate(config, &out, |path, f| {
                println!("{} ({} txs)", path.display(), f.txs);
            })
            .context("generating background traffic")?;
            let elapsed = start.elapsed().as_secs_f64();
            let mut kinds: Vec<(&str, usize)> = run.tally.iter().collect();
            kinds.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            println!("benign transactions by kind:");
            for (kind, n) in kinds {
                println!("  {kind:<30} {n:>9} {:>7.3}%", 100.0 * n as f64 / txs as f64);
            }
            println!(
                "{} fixtures, {txs} benign transactions, written to {} in {elapsed:.1} s",
                run.paths.len(),
                out.display()
            );
        }
        Command::Protocols { txs, seed, out, per_fixture, accounts, jobs } => {
            let jobs = jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
            let config = vigil_corpus::protocols::Config { txs, seed, per_fixture, accounts, jobs };
            let start = Instant::now();
            let report = vigil_corpus::protocols::generate(config, &out, |path, f| {
                println!("{} ({} txs)", path.display(), f.txs);
            })
            .context("generating real-protocol traffic")?;
            println!("action kinds:");
            for (kind, n) in &report.tally {
                println!("  {:<36} {n:>9}", kind.name());
            }
            println!(
                "{} fixtures ({} setup transactions each), {txs} benign transactions of {} kinds, written to {} in {:.1} s",
                report.paths.len(),
                report.setup_len,
                report.tally.len(),
                out.display(),
                start.elapsed().as_secs_f64()
            );
        }
    }
    Ok(())
}
