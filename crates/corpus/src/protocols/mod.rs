//! Seeded benign traffic over a world of genuine protocol contracts.
//!
//! The contracts are the ones the pinned npm packages ship
//! (`protocols/package-lock.json`; artifacts extracted as shipped by
//! `protocols/extract.mjs`): Uniswap v2 and v3 with their routers, position
//! manager and quoter, the Universal Router (without Permit2, which no npm
//! package ships as bytecode), Aave v3 (pool, configurator, oracle, tokens,
//! rate strategies, the linked logic libraries), Balancer v2 (Vault,
//! Authorizer, WeightedPoolFactory, compiled from the shipped sources with
//! Balancer's solc 0.7.1 and settings), Safe 1.4.1 with its proxy factory,
//! MultiSend and fallback handler, Uniswap's merkle-distributor,
//! OpenZeppelin's TimelockController and concrete Wizard-style compositions
//! of its Governor, ERC20Votes, ERC20Permit and ERC4626, and the OP Stack's
//! bedrock bridge (OptimismPortal, L2OutputOracle, SystemConfig,
//! SuperchainConfig behind their proxies; withdrawals proven with storage
//! proofs built by `bedrock`). Only the bots' contracts are ours. `protocols/README.md` lists the packages, the action
//! kinds and their weights.
//!
//! ```text
//!  seed ──> world::build (setup txs: deploy, configure, seed liquidity, pay users) ──┐
//!  fixture i: clone the world ─> Traffic (ChaCha seeded by seed and i) ─> step × K   │
//!             each step: system actors' turn, else kind by weight + user by activity
//!             ─> Chain::try_send (dry run; a failure draws another action)
//!  ─> to_json ─> verify (replay from genesis) ─> write protocols-<seed>-<i>.json
//! ```
//!
//! One world per seed; fixture `i` is the world's setup followed by up to
//! `per_fixture` benign transactions from a ChaCha RNG seeded with
//! `keccak256("vigil-corpus/protocols/<seed>/<i>")`, so fixtures generate in
//! parallel and the same command writes the same bytes.

mod bedrock;
pub mod bindings;
mod link;
mod merkle;
mod traffic;
mod util;
mod world;

use std::{
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Mutex,
    },
};

use alloy_primitives::keccak256;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

pub use traffic::{Kind, Tally};

use crate::{verify, write_file, CorpusError, FixtureFile};

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// Benign transactions in all (setup not counted).
    pub txs: usize,
    /// Seed of the world and of every choice.
    pub seed: u64,
    /// Benign transactions per fixture (the last one may have fewer).
    pub per_fixture: usize,
    /// Users in the world.
    pub accounts: usize,
    /// Worker threads.
    pub jobs: usize,
}

/// Benign transactions per fixture by default: every fixture starts with the
/// world's setup (319 transactions and about 3 MB with 5,000 users), which
/// the evaluator replays once per fixture, so larger fixtures amortise it.
pub const DEFAULT_PER_FIXTURE: usize = 5000;
/// Users in the world by default.
pub const DEFAULT_ACCOUNTS: usize = 5000;

impl Default for Config {
    fn default() -> Self {
        Self { txs: 10_000, seed: 1, per_fixture: DEFAULT_PER_FIXTURE, accounts: DEFAULT_ACCOUNTS, jobs: 1 }
    }
}

impl Config {
    /// Number of fixtures.
    pub fn fixtures(&self) -> usize {
        self.txs.div_ceil(self.per_fixture.max(1))
    }

    /// Safes of users in the world: one per 25 users.
    pub fn safes(&self) -> usize {
        (self.accounts / 25).max(1)
    }

    fn check(&self) -> Result<(), CorpusError> {
        if self.txs == 0 || self.per_fixture == 0 {
            return Err(CorpusError::InvalidArgument("--txs and --per-fixture must be positive".into()));
        }
        if self.accounts < 10 {
            return Err(CorpusError::InvalidArgument("--accounts must be at least 10".into()));
        }
        Ok(())
    }
}

fn rng(seed: u64, what: &str) -> ChaCha8Rng {
    ChaCha8Rng::from_seed(keccak256(format!("vigil-corpus/protocols/{seed}/{what}")).0)
}

/// A run's world, ready to branch into fixtures.
#[derive(Debug)]
pub struct Protocols {
    config: Config,
    world: world::World,
}

/// One generated fixture and what its traffic did.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The file.
    pub file: FixtureFile,
    /// Transactions of each kind in it.
    pub tally: Tally,
}

impl Protocols {
    /// Builds the world for `config`.
    pub fn new(config: Config) -> Result<Self, CorpusError> {
        config.check()?;
        let world = world::build(
            &format!("protocols-{}", config.seed),
            config.accounts,
            config.safes(),
            &mut rng(config.seed, "world"),
        )?;
        Ok(Self { config, world })
    }

    /// Number of `setup` transactions every fixture starts with.
    pub fn setup_len(&self) -> usize {
        self.world.chain.txs().len()
    }

    /// Fixture `index`, verified by replaying it. Its path is
    /// `protocols-<seed>-<index>.json`.
    pub fn fixture(&self, index: usize) -> Result<Generated, CorpusError> {
        let c = &self.config;
        let start = index.saturating_mul(c.per_fixture);
        let count = c.per_fixture.min(c.txs.saturating_sub(start));
        if count == 0 {
            return Err(CorpusError::InvalidArgument(format!("fixture {index} is past --txs")));
        }
        let name = format!("protocols-{}-{index:04}", c.seed);
        let mut chain = self.world.chain.clone();
        chain.set_name(name.clone());
        let mut traffic = traffic::Traffic::new(&self.world, chain, rng(c.seed, &index.to_string()));
        for _ in 0..count {
            traffic.step()?;
        }
        let (chain, tally) = traffic.finish();
        let description = format!(
            "Benign traffic over genuine protocol contracts as shipped in their npm packages, seed {}, fixture {} \
             of {}: Uniswap v2 and v3 with the Universal Router, Aave v3, Balancer v2, Safe 1.4.1, Uniswap's \
             merkle-distributor, an OpenZeppelin Governor, the OP Stack bridge with a TimelockController treasury and ERC-4626 vaults, deployed and seeded as setup; then \
             {count} benign transactions by {} users, their Safes, trading desks, bots, a keeper and the oracle \
             admin.",
            c.seed,
            index + 1,
            c.fixtures(),
            c.accounts
        );
        let text = chain.to_json(&description)?;
        let verified = verify(&text)?;
        let file = FixtureFile { path: PathBuf::from(format!("{name}.json")), text, txs: verified.fixture.txs.len() };
        Ok(Generated { file, tally })
    }
}

/// What [`generate`] wrote.
#[derive(Debug, Clone)]
pub struct Report {
    /// The files, in fixture order.
    pub paths: Vec<PathBuf>,
    /// Transactions of each kind over all fixtures.
    pub tally: Tally,
    /// `setup` transactions at the head of each fixture.
    pub setup_len: usize,
}

/// Generates every fixture of `config` into `out` with `config.jobs`
/// threads, calling `progress` after each file is written.
pub fn generate(
    config: Config,
    out: &Path,
    progress: impl Fn(&Path, &FixtureFile) + Sync,
) -> Result<Report, CorpusError> {
    let p = Protocols::new(config)?;
    let n = config.fixtures();
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    type Row = (usize, Result<(PathBuf, Tally), CorpusError>);
    let results: Mutex<Vec<Row>> = Mutex::new(Vec::with_capacity(n));
    std::thread::scope(|s| {
        for _ in 0..config.jobs.clamp(1, n) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n || failed.load(Ordering::Relaxed) {
                    break;
                }
                let r = p.fixture(i).and_then(|g| {
                    let path = write_file(out, &g.file)?;
                    progress(&path, &g.file);
                    Ok((path, g.tally))
                });
                if r.is_err() {
                    failed.store(true, Ordering::Relaxed);
                }
                if let Ok(mut v) = results.lock() {
                    v.push((i, r));
                }
            });
        }
    });
    let mut results = results.into_inner().map_err(|_| CorpusError::InvalidArgument("a worker panicked".into()))?;
    results.sort_by_key(|(i, _)| *i);
    let mut report = Report { paths: Vec::with_capacity(n), tally: Tally::new(), setup_len: p.setup_len() };
    for (_, r) in results {
        let (path, tally) = r?;
        report.paths.push(path);
        for (k, v) in tally {
            *report.tally.entry(k).or_default() += v;
        }
    }
    Ok(report)
}
