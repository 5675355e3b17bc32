//! The world background traffic runs in: every protocol of the corpus
//! deployed, funded and seeded by the deployer (all `setup`), hundreds of
//! users holding only ETH at genesis, and the bots' contracts; then the
//! everyday protocols of [`super::families`] with their role holders.

use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::SolConstructor;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use vigil_fixture::Label;

use super::families::{self, Families};
use crate::{
    chain::Chain,
    contracts::{
        AggregationRouter, ArbBot, Collectible, EthMarket, FlashLiquidator, PriceOracle, RewardVouchers, StableEthPool,
    },
    scenarios::{
        eth, frac,
        steps::{
            add_liquidity, bridge, deploy_plain, lending_pool, list_market, manual_feed, price_oracle, second_dex,
            seeded_item_pool, stable_pool, staking, supply, vault,
        },
        Sc, DEAD,
    },
    Actor, CorpusError,
};

/// ETH the deployer holds at genesis (as in the scenarios).
const DEPLOYER_ETH: u64 = 100_000;

/// Addresses of the world's contracts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Addrs {
    pub(crate) weth: Address,
    pub(crate) usd: Address,
    pub(crate) gem: Address,
    pub(crate) stk: Address,
    pub(crate) seth: Address,
    pub(crate) router: Address,
    pub(crate) router_b: Address,
    pub(crate) lender: Address,
    /// DEX A's WETH/USD pair.
    pub(crate) pair_wu: Address,
    pub(crate) pair_wg: Address,
    pub(crate) pair_ws: Address,
    pub(crate) pair_ug: Address,
    /// DEX B's WETH/USD pair.
    pub(crate) pair_b: Address,
    pub(crate) feed_usd: Address,
    pub(crate) feed_gem: Address,
    pub(crate) pool: Address,
    pub(crate) vault: Address,
    pub(crate) collectible: Address,
    pub(crate) items: Address,
    pub(crate) item_pool: Address,
    pub(crate) stable: Address,
    pub(crate) eth_market: Address,
    pub(crate) staking: Address,
    pub(crate) aggregator: Address,
    pub(crate) vouchers: Address,
    pub(crate) bridge: Address,
}

/// The world after its setup, shared by every fixture of a run.
#[derive(Debug, Clone)]
pub(crate) struct World {
    pub(crate) chain: Chain,
    pub(crate) deployer: Actor,
    pub(crate) users: Vec<Actor>,
    /// Arbitrage bots and their `ArbBot` contracts.
    pub(crate) arb_bots: Vec<(Actor, Address)>,
    /// Liquidation bots and their `FlashLiquidator` contracts.
    pub(crate) liquidators: Vec<(Actor, Address)>,
    pub(crate) voucher_signer: Actor,
    pub(crate) a: Addrs,
    /// Price of one Collectible.
    pub(crate) mint_price: U256,
    /// The everyday protocols added for issue 14.
    pub(crate) f: Families,
}

/// ETH a user holds at genesis: most between 0.5 and 50, some up to 1,000,
/// a few whales up to 20,000; three significant digits.
fn user_eth(rng: &mut ChaCha8Rng) -> U256 {
    let r: f64 = rng.gen();
    let (lo, hi): (f64, f64) = if r < 0.80 {
        (0.5, 50.0)
    } else if r < 0.98 {
        (50.0, 1000.0)
    } else {
        (1000.0, 20_000.0)
    };
    let x = crate::det::log_uniform(rng, lo, hi);
    super::traffic::round_sig(U256::from((x * 1e18) as u128), 3)
}

/// Builds the world: genesis for `users` users (balances drawn from `rng`)
/// and the setup transactions.
pub(crate) fn build(name: &str, users: usize, rng: &mut ChaCha8Rng) -> Result<World, CorpusError> {
    let mut sc = Sc::new(name)?;
    let mut accounts: Vec<(String, U256)> = (0..users).map(|i| (format!("user{}", i + 1), user_eth(rng))).collect();
    for bot in ["arb-bot-1", "arb-bot-2", "liquidator-1", "liquidator-2"] {
        accounts.push((bot.to_owned(), eth(1)));
    }
    accounts.push(("voucher-signer".to_owned(), U256::ZERO));
    accounts.push(("bridge-validator".to_owned(), U256::ZERO));
    let core_accounts = accounts.len();
    for (role, amount) in families::ROLES {
        accounts.push((role.to_owned(), eth(amount)));
    }
    for role in families::GRANTS_OWNERS {
        accounts.push((role.to_owned(), U256::ZERO));
    }
    let mut actors = sc.genesis_list(DEPLOYER_ETH, &accounts)?;
    let roles = families::Roles::from_genesis(actors.split_off(core_accounts))?;
    let bridge_validator = actors.pop().ok_or_else(|| CorpusError::InvalidArgument("no accounts".into()))?;
    let voucher_signer = actors.pop().ok_or_else(|| CorpusError::InvalidArgument("no accounts".into()))?;
    let bots = actors.split_off(users);
    let d = sc.d.clone();

    // Tokens and DEX A.
    let b = sc.base()?;
    let gem = sc.token(&d, "Gem", "GEM")?;
    let stk = sc.token(&d, "Stake", "STK")?;
    let seth = sc.token(&d, "Staked Ether", "sETH")?;
    sc.mint(b.usd, d.address(), eth(1_000_000_000))?;
    sc.mint(gem, d.address(), eth(100_000_000))?;
    sc.mint(stk, d.address(), eth(100_000_000))?;
    sc.mint(seth, d.address(), eth(1_000_000))?;
    sc.wrap(Label::Setup, &d, b.weth, eth(40_000))?;
    for token in [b.weth, b.usd, gem, stk] {
        sc.approve(Label::Setup, &d, token, b.router)?;
    }
    add_liquidity(&mut sc, &d, b.router, b.weth, b.usd, eth(20_000), eth(40_000_000))?;
    add_liquidity(&mut sc, &d, b.router, b.weth, gem, eth(5_000), eth(5_000_000))?;
    add_liquidity(&mut sc, &d, b.router, b.weth, stk, eth(1_000), eth(4_000_000))?;
    add_liquidity(&mut sc, &d, b.router, b.usd, gem, eth(1_000_000), eth(500_000))?;
    let pair_wu = sc.pair(b.factory, b.weth, b.usd, "Pair(WETH/USD)")?;
    let pair_wg = sc.pair(b.factory, b.weth, gem, "Pair(WETH/GEM)")?;
    let pair_ws = sc.pair(b.factory, b.weth, stk, "Pair(WETH/STK)")?;
    let pair_ug = sc.pair(b.factory, b.usd, gem, "Pair(USD/GEM)")?;

    // DEX B, a second WETH/USD market for arbitrage.
    let (factory_b, router_b) = second_dex(&mut sc, b.weth, b.usd, eth(4_000), eth(8_000_000))?;
    let pair_b = sc.pair(factory_b, b.weth, b.usd, "PairB(WETH/USD)")?;

    // Lending: push feeds, the oracle, the pool with three markets and the
    // deployer's own liquidity.
    let feed_usd = manual_feed(&mut sc, "ManualFeed(USD)", frac(5, 10_000))?;
    let feed_gem = manual_feed(&mut sc, "ManualFeed(GEM)", frac(1, 1000))?;
    let oracle = price_oracle(&mut sc, b.weth)?;
    sc.setup(
        &d,
        oracle,
        PriceOracle::setFeedCall { asset: b.usd, feed: feed_usd },
        "PriceOracle.setFeed(USD, ManualFeed(USD))",
    )?;
    sc.setup(
        &d,
        oracle,
        PriceOracle::setFeedCall { asset: gem, feed: feed_gem },
        "PriceOracle.setFeed(GEM, ManualFeed(GEM))",
    )?;
    let pool = lending_pool(&mut sc, oracle)?;
    for token in [b.weth, b.usd, gem] {
        sc.approve(Label::Setup, &d, token, pool)?;
    }
    list_market(&mut sc, pool, b.weth, 8000, 1000, 1_000_000_000, frac(1, 1000))?;
    list_market(&mut sc, pool, b.usd, 8000, 1000, 2_000_000_000, eth(1))?;
    list_market(&mut sc, pool, gem, 6000, 1000, 1_000_000_000, eth(1000))?;
    supply(&mut sc, Label::Setup, &d, pool, b.usd, eth(5_000_000))?;
    supply(&mut sc, Label::Setup, &d, pool, b.weth, eth(2_000))?;
    supply(&mut sc, Label::Setup, &d, pool, gem, eth(500_000))?;
    for (token, amount) in [(b.usd, eth(3_000_000)), (b.weth, eth(3_000)), (gem, eth(1_000_000))] {
        sc.transfer(Label::Setup, &d, token, b.lender, amount)?;
    }

    // Vault, NFTs, game items and their market, the stable pool.
    let vault = vault(&mut sc, b.usd)?;
    sc.approve(Label::Setup, &d, b.usd, vault)?;
    sc.setup(
        &d,
        vault,
        crate::contracts::Vault::depositCall { assets: eth(1000), receiver: DEAD },
        "Vault.deposit(1000e18, 0x…dEaD) - seed shares",
    )?;
    let mint_price = frac(5, 100);
    let collectible = sc.deploy(
        Label::Setup,
        &d,
        "Collectible",
        &Collectible::BYTECODE,
        Collectible::constructorCall {
            name_: "Vigil Pioneers".into(),
            symbol_: "PION".into(),
            mintPrice_: mint_price,
            maxSupply_: U256::from(1_000_000),
        }
        .abi_encode(),
        "Collectible(\"Vigil Pioneers\", \"PION\", 0.05e18, 1000000)",
    )?;
    let (items, item_pool) = seeded_item_pool(&mut sc, b.weth, [100_000, 50_000, 10_000], 2000, eth(200))?;
    let stable = stable_pool(&mut sc, seth)?;
    sc.approve(Label::Setup, &d, seth, stable)?;
    sc.setup_v(
        &d,
        stable,
        eth(1000),
        StableEthPool::add_liquidityCall { amounts: [eth(1000), eth(1000)], minMintAmount: U256::ZERO },
        "StableEthPool.add_liquidity([1000e18, 1000e18], 0) {value: 1000e18}",
    )?;

    // Native-ETH market, staking, aggregator, vouchers, bridge.
    let eth_market = sc.deploy(
        Label::Setup,
        &d,
        "EthMarket",
        &EthMarket::BYTECODE,
        EthMarket::constructorCall { oracle_: oracle }.abi_encode(),
        "EthMarket(PriceOracle)",
    )?;
    sc.setup(
        &d,
        eth_market,
        EthMarket::listCollateralCall { token: b.usd, factorBps: 8000 },
        "EthMarket.listCollateral(USD, 8000)",
    )?;
    sc.setup_v(&d, eth_market, eth(2000), EthMarket::supplyCall {}, "EthMarket.supply() {value: 2000e18}")?;
    let staking = staking(&mut sc, stk, b.weth)?;
    sc.approve(Label::Setup, &d, b.weth, staking)?;
    let aggregator = deploy_plain(&mut sc, &d, "AggregationRouter", &AggregationRouter::BYTECODE)?;
    let vouchers = sc.deploy(
        Label::Setup,
        &d,
        "RewardVouchers",
        &RewardVouchers::BYTECODE,
        RewardVouchers::constructorCall { token_: b.usd, signer_: voucher_signer.address() }.abi_encode(),
        "RewardVouchers(USD, voucher-signer)",
    )?;
    sc.transfer(Label::Setup, &d, b.usd, vouchers, eth(1_000_000))?;
    let bridge = bridge(&mut sc, bridge_validator.address(), B256::from(rng.gen::<[u8; 32]>()))?;

    // Some users start with tokens (exchange withdrawals, payroll, earlier
    // activity): a fifth hold USD, fewer GEM or STK.
    for user in &actors {
        for (token, chance, lo, hi) in
            [(b.usd, 0.2, 200.0, 500_000.0), (gem, 0.08, 100.0, 200_000.0), (stk, 0.06, 100.0, 500_000.0)]
        {
            if rng.gen_bool(chance) {
                let x = crate::det::log_uniform(rng, lo, hi);
                let amount = super::traffic::round_sig(U256::from(x as u128) * eth(1), 2);
                sc.transfer(Label::Setup, &d, token, user.address(), amount)?;
            }
        }
    }

    // Bots deploy their contracts.
    let mut arb_bots = Vec::new();
    let mut liquidators = Vec::new();
    for bot in bots {
        if bot.role.starts_with("arb") {
            let c = deploy_plain(&mut sc, &bot, "ArbBot", &ArbBot::BYTECODE)?;
            arb_bots.push((bot, c));
        } else {
            let c = deploy_plain(&mut sc, &bot, "FlashLiquidator", &FlashLiquidator::BYTECODE)?;
            liquidators.push((bot, c));
        }
    }

    let a = Addrs {
        weth: b.weth,
        usd: b.usd,
        gem,
        stk,
        seth,
        router: b.router,
        router_b,
        lender: b.lender,
        pair_wu,
        pair_wg,
        pair_ws,
        pair_ug,
        pair_b,
        feed_usd,
        feed_gem,
        pool,
        vault,
        collectible,
        items,
        item_pool,
        stable,
        eth_market,
        staking,
        aggregator,
        vouchers,
        bridge,
    };
    let f = families::build(&mut sc, &a, &actors, roles, rng)?;
    Ok(World { chain: sc.chain, deployer: d, users: actors, arb_bots, liquidators, voucher_signer, a, mint_price, f })
}
