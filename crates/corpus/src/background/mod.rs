//! Seeded ordinary background traffic as fixtures.
//!
//! One world per run (every protocol deployed and seeded by the deployer,
//! `--accounts` users holding ETH at genesis, bots with their contracts, the
//! everyday protocols of `families` with their role holders), built from the
//! seed. Fixture `i` is that world's setup followed by up to
//! `per_fixture` benign transactions drawn by a ChaCha RNG seeded with
//! `keccak256("vigil-corpus/background/<seed>/<i>")`, so fixtures are
//! independent of each other, can be generated in parallel, and come out
//! the same on every run.

mod families;
mod merkle;
mod traffic;
mod world;

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Mutex,
    },
};

use alloy_primitives::keccak256;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

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

impl Default for Config {
    fn default() -> Self {
        Self { txs: 10_000, seed: 1, per_fixture: 1000, accounts: 400, jobs: 1 }
    }
}

impl Config {
    /// Number of fixtures.
    pub fn fixtures(&self) -> usize {
        self.txs.div_ceil(self.per_fixture.max(1))
    }

    fn check(&self) -> Result<(), CorpusError> {
        if self.txs == 0 || self.per_fixture == 0 {
            return Err(CorpusError::InvalidArgument("--txs and --per-fixture must be positive".into()));
        }
        if self.accounts < 2 {
            return Err(CorpusError::InvalidArgument("--accounts must be at least 2".into()));
        }
        Ok(())
    }
}

/// The kinds of transaction issue 14 added to the background (its five
/// families of everyday transactions and the other shapes it found
/// missing), as named in a [`Tally`].
pub const FAMILY_KINDS: [&str; 37] = traffic::FAMILY_KINDS;

/// How many benign transactions of each kind were emitted, by kind name
/// (`swap-exact-in`, `airdrop-claim`, `keeper-upkeep`, `approval`…).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally(BTreeMap<&'static str, usize>);

impl Tally {
    /// Transactions of `kind`.
    pub fn get(&self, kind: &str) -> usize {
        self.0.get(kind).copied().unwrap_or(0)
    }

    /// Transactions in all.
    pub fn total(&self) -> usize {
        self.0.values().sum()
    }

    /// Every kind that occurred, with its count, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, usize)> + '_ {
        self.0.iter().map(|(k, n)| (*k, *n))
    }

    /// Adds another tally's counts to this one.
    pub fn merge(&mut self, other: &Tally) {
        for (k, n) in other.iter() {
            self.add(k, n);
        }
    }

    pub(crate) fn add(&mut self, kind: &'static str, n: usize) {
        *self.0.entry(kind).or_default() += n;
    }
}

/// What [`generate`] wrote.
#[derive(Debug, Clone, Default)]
pub struct Generated {
    /// The files, in fixture order.
    pub paths: Vec<PathBuf>,
    /// The benign transactions in them, by kind.
    pub tally: Tally,
}

fn rng(seed: u64, what: &str) -> ChaCha8Rng {
    ChaCha8Rng::from_seed(keccak256(format!("vigil-corpus/background/{seed}/{what}")).0)
}

/// A run's world, ready to branch into fixtures.
#[derive(Debug)]
pub struct Background {
    config: Config,
    world: world::World,
}

impl Background {
    /// Builds the world for `config` (deploys and seeds every protocol).
    pub fn new(config: Config) -> Result<Self, CorpusError> {
        config.check()?;
        let world =
            world::build(&format!("background-{}", config.seed), config.accounts, &mut rng(config.seed, "world"))?;
        Ok(Self { config, world })
    }

    /// Number of `setup` transactions every fixture starts with.
    pub fn setup_len(&self) -> usize {
        self.world.chain.txs().len()
    }

    /// Fixture `index`: generated, then verified by replaying it. Its path is
    /// `background-<seed>-<index>.json`.
    pub fn fixture(&self, index: usize) -> Result<FixtureFile, CorpusError> {
        self.fixture_tallied(index).map(|(file, _)| file)
    }

    /// [`Background::fixture`] and the tally of its benign transactions.
    pub fn fixture_tallied(&self, index: usize) -> Result<(FixtureFile, Tally), CorpusError> {
        let c = &self.config;
        let start = index.saturating_mul(c.per_fixture);
        let count = c.per_fixture.min(c.txs.saturating_sub(start));
        if count == 0 {
            return Err(CorpusError::InvalidArgument(format!("fixture {index} is past --txs")));
        }
        let name = format!("background-{}-{index:04}", c.seed);
        let mut chain = self.world.chain.clone();
        chain.set_name(name.clone());
        let mut traffic = traffic::Traffic::new(&self.world, chain, rng(c.seed, &index.to_string()))?;
        for _ in 0..count {
            traffic.step()?;
        }
        let (chain, tally) = traffic.finish();
        let description = format!(
            "Ordinary background traffic, seed {}, fixture {} of {}: the corpus protocols (two constant-product \
             DEXes, a lending pool with push feeds, a native-ETH market, a vault, a stable pool, an item market, \
             NFTs, staking, vouchers, a bridge) and everyday ones (a liquidity zap, a Merkle airdrop, streaming \
             farms, an auto-compounder, a token sale, vesting wallets, a timelock and role-run treasuries, a \
             canonical and an attested bridge, a keeper registry behind an upgradeable proxy) deployed and seeded \
             as setup, then {count} benign transactions by {} users, their bots and the role holders: transfers, \
             permits, swaps, liquidity and zaps, lending, flash-loan arbitrage and liquidations, claims with proofs \
             and signatures, bridge withdrawals, treasury payouts, keeper upkeeps and harvests, mints, multicalls.",
            c.seed,
            index + 1,
            c.fixtures(),
            c.accounts
        );
        let text = chain.to_json(&description)?;
        let verified = verify(&text)?;
        let file = FixtureFile { path: PathBuf::from(format!("{name}.json")), text, txs: verified.fixture.txs.len() };
        Ok((file, tally))
    }
}

/// Generates every fixture of `config` into `out` with `config.jobs`
/// threads, calling `progress` after each file is written. Returns the
/// files' paths in fixture order and the tally of their transactions.
pub fn generate(
    config: Config,
    out: &Path,
    progress: impl Fn(&Path, &FixtureFile) + Sync,
) -> Result<Generated, CorpusError> {
    let bg = Background::new(config)?;
    let n = config.fixtures();
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    type Outcome = Result<(PathBuf, Tally), CorpusError>;
    let results: Mutex<Vec<(usize, Outcome)>> = Mutex::new(Vec::with_capacity(n));
    std::thread::scope(|s| {
        for _ in 0..config.jobs.clamp(1, n) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n || failed.load(Ordering::Relaxed) {
                    break;
                }
                let r = bg.fixture_tallied(i).and_then(|(f, tally)| {
                    let path = write_file(out, &f)?;
                    progress(&path, &f);
                    Ok((path, tally))
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
    let mut out = Generated::default();
    for (_, r) in results {
        let (path, tally) = r?;
        out.paths.push(path);
        out.tally.merge(&tally);
    }
    Ok(out)
}
