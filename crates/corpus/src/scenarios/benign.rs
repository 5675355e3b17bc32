//! B1–B13: the hard benign look-alikes. Every transaction in them must be
//! admitted; each ends with a check that it did what SCENARIOS.md says.

use alloy_primitives::{keccak256, Address, Bytes, B256, U256};
use alloy_sol_types::{SolCall, SolConstructor, SolValue};
use vigil_fixture::Label;

use super::{
    amt, eth, fmt_e18, frac,
    steps::{
        add_liquidity, borrow, bridge, deploy_plain, lending_pool, list_market, lock_in_bridge, manual_feed,
        mint_with_signature, minting_bridge, price_oracle, second_dex, supply, vault,
    },
    Base, Kind, Sc, Scenario, DEAD,
};
use crate::{
    contracts::{
        ArbBot, BatchSettlement, BridgeInbox, ERC1967Proxy, FlashLiquidator, IndexFund, LendingPool, LeverageHelper,
        ManualFeed, MigrationHelper, PriceOracle, ProxyFactory, SwapRouter, Treasury, Vault,
    },
    keys::Actor,
    CorpusError,
};

pub(super) const ALL: [Scenario; 13] = [
    Scenario {
        id: "B1",
        name: "flash-loan-arbitrage",
        kind: Kind::Benign,
        description: "Two constant-product DEXes quote WETH/USD (A: 1,000 WETH / 2.5M USD, B: 500 WETH / 1.25M \
            USD). A whale sells 60 WETH on B; the bot's ArbBot flash-borrows 75,000 USD, buys WETH on B, sells it on \
            A, repays with the fee and keeps ~9,584 USD. Large flows through two pools and a flash loan, profit to \
            the sender's own contract, nobody loses by their own accounting.",
        build: b1,
    },
    Scenario {
        id: "B2",
        name: "flash-loan-liquidation",
        kind: Kind::Benign,
        description: "A LendingPool priced by a push feed; a borrower supplies 100 WETH and borrows 155,000 USD. The \
            market sells 1,000 WETH and the feed owner updates the price: the borrower is under water. A bot's \
            FlashLiquidator flash-borrows half the debt, liquidates, receives the WETH collateral with the 8% bonus, \
            sells it on the pair, repays and keeps ~5,520 USD. The protocol's accounting improves.",
        build: b2,
    },
    Scenario {
        id: "B3",
        name: "whale-vault-exit",
        kind: Kind::Benign,
        description: "An ERC-4626 Vault seeded with dead shares receives deposits of 800,000 / 120,000 / 80,000 USD \
            and 30,000 USD of strategy yield. The whale redeems all its shares (~80% of the vault) and receives \
            823,976 USD, its deposit plus its share of the yield; the share price is unchanged for the others.",
        build: b3,
    },
    Scenario {
        id: "B4",
        name: "deploy-and-initialize-proxy",
        kind: Kind::Benign,
        description: "A user deploys a Treasury proxy through ProxyFactory, which creates an ERC1967Proxy and runs \
            its initializer in the same transaction; another user deploys an ERC1967Proxy directly with the \
            initializer in its constructor. Privileged slots (EIP-1967 implementation, owner) are written, but of \
            contracts the sender creates in that transaction. The first owner then pays out of its funded treasury.",
        build: b4,
    },
    Scenario {
        id: "B5",
        name: "backrun-after-large-swap",
        kind: Kind::Benign,
        description: "The two DEXes of the flash-loan arbitrage scenario. A whale sells 80 WETH on DEX A; in the next \
            block the bot's ArbBot, trading 100,000 of the 200,000 USD it holds (no flash loan), buys WETH on A and \
            sells it on B for ~2,057 USD of profit.",
        build: b5,
    },
    Scenario {
        id: "B6",
        name: "multicall-twenty-swaps",
        kind: Kind::Benign,
        description: "Four pairs (WETH/USD, WETH/GEM, WETH/STK, USD/GEM). A user calls SwapRouter.multicall with 20 \
            encoded swaps, one- and two-hop, in every direction: one call repeated 20 times against the same pools, \
            each swap paying its fee.",
        build: b6,
    },
    Scenario {
        id: "B7",
        name: "owner-migrates-all-funds",
        kind: Kind::Benign,
        description: "A fund wallet holding 1,500 WETH, 3,000,000 USD (2,000,000 of it as Vault shares) and 250,000 \
            GEM approves MigrationHelper for each token and the vault shares, then migrates everything to its new \
            cold wallet in one transaction: transfers out of a holder through a third-party contract, where the \
            holder is the sender.",
        build: b7,
    },
    Scenario {
        id: "B8",
        name: "leveraged-loop",
        kind: Kind::Benign,
        description: "A LendingPool with a push feed and USD lenders, and a deep WETH/USD pair. A user approves \
            LeverageHelper and makes it its pool operator, then opens a position: supply 100 WETH, then four times \
            borrow 90% of the headroom in USD, swap it to WETH with a 3% bound against the oracle, and supply it. \
            313.7 WETH of collateral against 433,358 USD of debt, healthy.",
        build: b8,
    },
    Scenario {
        id: "B9",
        name: "seeded-market-listing",
        kind: Kind::Benign,
        description: "On the leveraged-loop scenario's LendingPool, the owner adds a GEM feed and lists GEM, whose \
            first supply (1,000 GEM) is minted as shares to the dead address in the same transaction, so the market \
            is never empty. A user then supplies 50,000 GEM and borrows 10,000 USD: a first deposit into an empty \
            market, without a donation and with the shares locked.",
        build: b9,
    },
    Scenario {
        id: "B10",
        name: "bridge-release-with-proof",
        kind: Kind::Benign,
        description: "A BridgeInbox deployed with a real committed root. Users lock WETH and USD. The remote chain's \
            batch has four messages; the validator signs the root transition, a relayer posts it with update() and \
            then releases each message with proveAndProcess (sorted-pair Merkle proofs of two nodes): 120 WETH, \
            250,000 USD, 40 WETH and 75,000 USD to their recipients. Each signature and message verified once.",
        build: b10,
    },
    Scenario {
        id: "B11",
        name: "batch-settlement-signed-orders",
        kind: Kind::Benign,
        description: "BatchSettlement with the bot as solver and a small buffer. Ten users approve it and sign \
            EIP-712 orders (five sell 5,000 USD for at least 2.4 WETH, five sell 2 WETH for at least 3,900 USD). The \
            solver settles all ten in one transaction, routing the net USD surplus to WETH through SwapRouter: ten \
            transferFroms out of holders who are not the sender, each authorized by that holder's signature.",
        build: b11,
    },
    Scenario {
        id: "B12",
        name: "keeper-rebalance-thin-pool",
        kind: Kind::Benign,
        description: "An IndexFund holding 100 WETH and 50,000 GEM, with a keeper and a 25% slippage bound against a \
            push feed. The GEM/WETH pair is thin (20 WETH / 20,000 GEM). The keeper sells 3 WETH for GEM: the \
            pair's spot price moves ~32% and the fund receives 2,602 GEM, within its bound. A large spot move, but no \
            other contract reads that price in the transaction.",
        build: b12,
    },
    Scenario {
        id: "B13",
        name: "bridge-mint-valid-signature",
        kind: Kind::Benign,
        description: "A MintingBridge deployed with a full set of four validators mints bETH, a BridgedToken only \
            the bridge can mint, for inbound messages from the remote chain. A relayer submits three messages \
            signed by validators 0, 2 and 1 (120, 250 and 75 bETH to three users); then a user submits its own \
            message, signed by validator 3, and receives 40 freshly minted bETH while paying nothing: new supply \
            to the sender, backed by the remote chain's lock.",
        build: b13,
    },
];

/// B1 and B5's world: DEX A (1,000 WETH / 2.5M USD) and DEX B (500 WETH /
/// 1.25M USD), the flash lender holding 1M USD.
struct TwoDexes {
    b: Base,
    router_b: Address,
    pair_a: Address,
    pair_b: Address,
}

fn two_dexes(sc: &mut Sc) -> Result<TwoDexes, CorpusError> {
    let d = sc.d.clone();
    let b = sc.base()?;
    sc.mint(b.usd, d.address(), eth(100_000_000))?;
    sc.wrap(Label::Setup, &d, b.weth, eth(10_000))?;
    sc.approve(Label::Setup, &d, b.weth, b.router)?;
    sc.approve(Label::Setup, &d, b.usd, b.router)?;
    add_liquidity(sc, &d, b.router, b.weth, b.usd, eth(1000), eth(2_500_000))?;
    let (factory_b, router_b) = second_dex(sc, b.weth, b.usd, eth(500), eth(1_250_000))?;
    sc.transfer(Label::Setup, &d, b.usd, b.lender, eth(1_000_000))?;
    let pair_a = sc.pair(b.factory, b.weth, b.usd, "Pair(WETH/USD)")?;
    let pair_b = sc.pair(factory_b, b.weth, b.usd, "PairB(WETH/USD)")?;
    Ok(TwoDexes { b, router_b, pair_a, pair_b })
}

/// `router.swapExactTokensForTokens(amount, 0, path, user)`, benign.
fn swap_exact(
    sc: &mut Sc,
    user: &Actor,
    router: Address,
    amount: U256,
    path: Vec<Address>,
    extra: &str,
) -> Result<(), CorpusError> {
    let names: Vec<String> = path.iter().map(|a| sc.nm(*a)).collect();
    let note = format!(
        "{}.swapExactTokensForTokens({}, 0, [{}], {}){extra}",
        sc.nm(router),
        amt(amount),
        names.join(", "),
        user.role
    );
    sc.benign(
        user,
        router,
        SwapRouter::swapExactTokensForTokensCall {
            amountIn: amount,
            amountOutMin: U256::ZERO,
            path,
            to: user.address(),
        },
        &note,
    )?;
    Ok(())
}

fn b1(sc: &mut Sc) -> Result<(), CorpusError> {
    let [bot, user1] = sc.genesis(100_000, [("bot", 1), ("user1", 100)])?;
    let w = two_dexes(sc)?;
    let arb = deploy_plain(sc, &bot, "ArbBot", &ArbBot::BYTECODE)?;
    sc.wrap(Label::Benign, &user1, w.b.weth, eth(60))?;
    sc.approve(Label::Benign, &user1, w.b.weth, w.router_b)?;
    swap_exact(sc, &user1, w.router_b, eth(60), vec![w.b.weth, w.b.usd], " - whale sells 60 WETH on DEX B")?;
    sc.benign(
        &bot,
        arb,
        ArbBot::executeCall {
            lender: w.b.lender,
            token: w.b.usd,
            amount: eth(75_000),
            hops: vec![
                ArbBot::Hop { pair: w.pair_b, tokenIn: w.b.usd },
                ArbBot::Hop { pair: w.pair_a, tokenIn: w.b.weth },
            ],
        },
        "ArbBot.execute(FlashLender, USD, 75000e18, [[PairB(WETH/USD), USD], [Pair(WETH/USD), WETH]]) - flash-loan \
         arbitrage B->A",
    )?;
    let profit = sc.bal(w.b.usd, arb)?;
    sc.check(profit > eth(9000), || format!("bot profit {} USD, expected ~9584", fmt_e18(profit)))
}

fn b5(sc: &mut Sc) -> Result<(), CorpusError> {
    let [bot, user2] = sc.genesis(100_000, [("bot", 1), ("user2", 100)])?;
    let w = two_dexes(sc)?;
    let d = sc.d.clone();
    let arb = deploy_plain(sc, &bot, "ArbBot", &ArbBot::BYTECODE)?;
    sc.transfer(Label::Setup, &d, w.b.usd, bot.address(), eth(200_000))?;
    sc.transfer(Label::Setup, &bot, w.b.usd, arb, eth(200_000))?;
    sc.wrap(Label::Benign, &user2, w.b.weth, eth(80))?;
    sc.approve(Label::Benign, &user2, w.b.weth, w.b.router)?;
    swap_exact(sc, &user2, w.b.router, eth(80), vec![w.b.weth, w.b.usd], " - whale sells 80 WETH on DEX A")?;
    sc.benign(
        &bot,
        arb,
        ArbBot::executeCall {
            lender: Address::ZERO,
            token: w.b.usd,
            amount: eth(100_000),
            hops: vec![
                ArbBot::Hop { pair: w.pair_a, tokenIn: w.b.usd },
                ArbBot::Hop { pair: w.pair_b, tokenIn: w.b.weth },
            ],
        },
        "ArbBot.execute(0x0, USD, 100000e18, [[Pair(WETH/USD), USD], [PairB(WETH/USD), WETH]]) - backrun: buy \
         WETH on A, sell on B",
    )?;
    let held = sc.bal(w.b.usd, arb)?;
    sc.check(held > eth(202_000), || format!("bot inventory {} USD, expected ~202057", fmt_e18(held)))
}

/// B2, B8 and B9's world: deep WETH/USD pair (20,000 / 40M), push feed
/// (USD = 0.0005 WETH), LendingPool with WETH and USD markets, USD lenders
/// supplying 2,000,000, the flash lender holding 1M USD.
struct LendingWorld {
    b: Base,
    pair: Address,
    feed: Address,
    oracle: Address,
    pool: Address,
}

fn lending_world(sc: &mut Sc, lenders: [&Actor; 3]) -> Result<LendingWorld, CorpusError> {
    let d = sc.d.clone();
    let b = sc.base()?;
    sc.mint(b.usd, d.address(), eth(100_000_000))?;
    sc.wrap(Label::Setup, &d, b.weth, eth(30_000))?;
    sc.approve(Label::Setup, &d, b.weth, b.router)?;
    sc.approve(Label::Setup, &d, b.usd, b.router)?;
    add_liquidity(sc, &d, b.router, b.weth, b.usd, eth(20_000), eth(40_000_000))?;
    let pair = sc.pair(b.factory, b.weth, b.usd, "Pair(WETH/USD)")?;
    let feed = manual_feed(sc, "ManualFeed", frac(5, 10_000))?;
    let oracle = price_oracle(sc, b.weth)?;
    sc.setup(&d, oracle, PriceOracle::setFeedCall { asset: b.usd, feed }, "PriceOracle.setFeed(USD, ManualFeed)")?;
    let pool = lending_pool(sc, oracle)?;
    sc.approve(Label::Setup, &d, b.weth, pool)?;
    sc.approve(Label::Setup, &d, b.usd, pool)?;
    list_market(sc, pool, b.weth, 8000, 1000, 1_000_000_000, frac(1, 1000))?;
    list_market(sc, pool, b.usd, 8000, 1000, 2_000_000_000, eth(1))?;
    sc.transfer(Label::Setup, &d, b.usd, b.lender, eth(1_000_000))?;
    for (user, amount) in lenders.into_iter().zip([1_000_000, 600_000, 400_000]) {
        sc.transfer(Label::Setup, &d, b.usd, user.address(), eth(amount))?;
        sc.approve(Label::Benign, user, b.usd, pool)?;
        supply(sc, Label::Benign, user, pool, b.usd, eth(amount))?;
    }
    Ok(LendingWorld { b, pair, feed, oracle, pool })
}

fn b2(sc: &mut Sc) -> Result<(), CorpusError> {
    let [user1, user2, user3, user4, user5, bot] =
        sc.genesis(100_000, [("user1", 1), ("user2", 1), ("user3", 1), ("user4", 200), ("user5", 2000), ("bot", 1)])?;
    let w = lending_world(sc, [&user1, &user2, &user3])?;
    let d = sc.d.clone();
    sc.wrap(Label::Benign, &user4, w.b.weth, eth(100))?;
    sc.approve(Label::Benign, &user4, w.b.weth, w.pool)?;
    supply(sc, Label::Benign, &user4, w.pool, w.b.weth, eth(100))?;
    borrow(sc, &user4, w.pool, w.b.usd, eth(155_000))?;
    sc.wrap(Label::Benign, &user5, w.b.weth, eth(1000))?;
    sc.approve(Label::Benign, &user5, w.b.weth, w.b.router)?;
    swap_exact(sc, &user5, w.b.router, eth(1000), vec![w.b.weth, w.b.usd], " - market sells 1000 WETH")?;
    let answer = alloy_primitives::I256::try_from(frac(55, 100_000)).map_err(|e| sc.fail(e.to_string()))?;
    sc.benign(
        &d,
        w.feed,
        ManualFeed::setAnswerCall { answer },
        "ManualFeed.setAnswer(0.00055e18) - oracle: ETH at ~1818 USD",
    )?;
    let liquidator = deploy_plain(sc, &bot, "FlashLiquidator", &FlashLiquidator::BYTECODE)?;
    sc.benign(
        &bot,
        liquidator,
        FlashLiquidator::executeCall {
            lender: w.b.lender,
            pool: w.pool,
            borrower: user4.address(),
            debtAsset: w.b.usd,
            repayAmount: eth(77_500),
            collateralAsset: w.b.weth,
            pair: w.pair,
        },
        "FlashLiquidator.execute(FlashLender, LendingPool, user4, USD, 77500e18, WETH, Pair(WETH/USD)) - flash-loan \
         liquidation of user4",
    )?;
    let profit = sc.bal(w.b.usd, liquidator)?;
    sc.check(profit > eth(5000), || format!("liquidation profit {} USD, expected ~5520", fmt_e18(profit)))
}

fn b3(sc: &mut Sc) -> Result<(), CorpusError> {
    let [user1, user2, user3] = sc.genesis(100_000, [("user1", 1), ("user2", 1), ("user3", 1)])?;
    let d = sc.d.clone();
    let b = sc.base()?;
    sc.mint(b.usd, d.address(), eth(100_000_000))?;
    let vault = vault(sc, b.usd)?;
    seed_vault(sc, b.usd, vault)?;
    for (user, amount) in [(&user1, 800_000), (&user2, 120_000), (&user3, 80_000)] {
        sc.transfer(Label::Setup, &d, b.usd, user.address(), eth(amount))?;
        sc.approve(Label::Benign, user, b.usd, vault)?;
        sc.benign(
            user,
            vault,
            Vault::depositCall { assets: eth(amount), receiver: user.address() },
            &format!("Vault.deposit({}, {})", amt(eth(amount)), user.role),
        )?;
    }
    sc.benign(
        &d,
        b.usd,
        crate::contracts::Token::transferCall { to: vault, amount: eth(30_000) },
        "USD.transfer(Vault, 30000e18) - strategy reports 30,000 USD yield",
    )?;
    let before = sc.bal(b.usd, user1.address())?;
    sc.benign(
        &user1,
        vault,
        Vault::redeemCall { shares: eth(800_000), receiver: user1.address(), owner: user1.address() },
        "Vault.redeem(800000e18, user1, user1) - whale redeems all (~80% of the vault)",
    )?;
    let got = sc.bal(b.usd, user1.address())? - before;
    sc.check(got > eth(823_000) && got < eth(824_000), || format!("whale got {} USD, expected ~823976", fmt_e18(got)))
}

/// `USD.approve(Vault, MAX)` and `Vault.deposit(1000e18, 0x…dEaD)` by the deployer.
fn seed_vault(sc: &mut Sc, usd: Address, vault: Address) -> Result<(), CorpusError> {
    let d = sc.d.clone();
    sc.approve(Label::Setup, &d, usd, vault)?;
    sc.setup(
        &d,
        vault,
        Vault::depositCall { assets: eth(1000), receiver: DEAD },
        "Vault.deposit(1000e18, 0x000000000000000000000000000000000000dEaD) - seed: 1000 USD of shares to the dead \
         address",
    )?;
    Ok(())
}

fn b4(sc: &mut Sc) -> Result<(), CorpusError> {
    let [user1, user2] = sc.genesis(100_000, [("user1", 10), ("user2", 10)])?;
    let d = sc.d.clone();
    let b = sc.base()?;
    sc.mint(b.usd, d.address(), eth(10_000_000))?;
    let treasury = deploy_plain(sc, &d, "Treasury", &Treasury::BYTECODE)?;
    let factory = deploy_plain(sc, &d, "ProxyFactory", &ProxyFactory::BYTECODE)?;
    let init1 = Treasury::initializeCall { owner_: user1.address() };
    let sent = sc.benign(
        &user1,
        factory,
        ProxyFactory::deployCall {
            implementation: treasury,
            initData: init1.abi_encode().into(),
            salt: B256::with_last_byte(1),
        },
        "ProxyFactory.deploy(Treasury, initialize(user1), 0x…01) - deploy + initialize a treasury proxy via the \
         factory",
    )?;
    let proxy1 = ProxyFactory::deployCall::abi_decode_returns(&sent.output).map_err(|e| sc.fail(e.to_string()))?;
    sc.name(proxy1, "TreasuryProxy(user1)");
    let init2 = Treasury::initializeCall { owner_: user2.address() };
    let proxy2 = sc.deploy(
        Label::Benign,
        &user2,
        "TreasuryProxy(user2)",
        &ERC1967Proxy::BYTECODE,
        ERC1967Proxy::constructorCall { implementation: treasury, data: init2.abi_encode().into() }.abi_encode(),
        "ERC1967Proxy(Treasury, initialize(user2)) - EOA deploys + initializes a proxy in its constructor",
    )?;
    sc.transfer(Label::Setup, &d, b.usd, proxy1, eth(100_000))?;
    sc.benign(
        &user1,
        proxy1,
        Treasury::payCall { token: b.usd, to: user1.address(), amount: eth(1000) },
        "TreasuryProxy(user1).pay(USD, user1, 1000e18) - owner pays from the new treasury",
    )?;
    for (proxy, owner) in [(proxy1, &user1), (proxy2, &user2)] {
        let got = sc.chain.view(proxy, &Treasury::ownerCall {})?;
        sc.check(got == owner.address(), || format!("{} owned by {got}", sc.nm(proxy)))?;
    }
    Ok(())
}

fn b6(sc: &mut Sc) -> Result<(), CorpusError> {
    let [user1] = sc.genesis(100_000, [("user1", 100)])?;
    let d = sc.d.clone();
    let b = sc.base()?;
    let gem = sc.token(&d, "Gem", "GEM")?;
    let stk = sc.token(&d, "Stake", "STK")?;
    for token in [b.usd, gem, stk] {
        sc.mint(token, d.address(), eth(100_000_000))?;
    }
    sc.wrap(Label::Setup, &d, b.weth, eth(20_000))?;
    let pools = [
        (b.weth, b.usd, eth(2000), eth(4_000_000)),
        (b.weth, gem, eth(1000), eth(1_000_000)),
        (b.weth, stk, eth(500), eth(2_000_000)),
        (b.usd, gem, eth(1_000_000), eth(500_000)),
    ];
    for (x, y, amount_x, amount_y) in pools {
        sc.approve(Label::Setup, &d, x, b.router)?;
        sc.approve(Label::Setup, &d, y, b.router)?;
        add_liquidity(sc, &d, b.router, x, y, amount_x, amount_y)?;
    }
    sc.wrap(Label::Benign, &user1, b.weth, eth(50))?;
    for (token, amount) in [(b.usd, 100_000), (gem, 50_000), (stk, 50_000)] {
        sc.transfer(Label::Setup, &d, token, user1.address(), eth(amount))?;
    }
    for token in [b.weth, b.usd, gem, stk] {
        sc.approve(Label::Benign, &user1, token, b.router)?;
    }
    let (w, u, g, s) = (b.weth, b.usd, gem, stk);
    let swaps: [(U256, Vec<Address>); 20] = [
        (eth(1), vec![w, u]),
        (eth(1000), vec![u, w]),
        (eth(500), vec![g, w]),
        (frac(5, 10), vec![w, g]),
        (eth(2000), vec![s, w]),
        (frac(2, 10), vec![w, s]),
        (eth(1500), vec![u, g]),
        (eth(700), vec![g, u]),
        (eth(1), vec![w, u, g]),
        (eth(900), vec![g, w, s]),
        (eth(3000), vec![s, w, u]),
        (eth(2500), vec![u, w, s]),
        (frac(3, 10), vec![w, g, u]),
        (eth(1200), vec![u, g, w]),
        (eth(400), vec![g, u, w]),
        (eth(2), vec![w, u]),
        (eth(800), vec![s, w, g]),
        (eth(600), vec![g, w, u]),
        (frac(7, 10), vec![w, s]),
        (eth(5000), vec![u, w]),
    ];
    let data: Vec<Bytes> = swaps
        .into_iter()
        .map(|(amount, path)| {
            SwapRouter::swapExactTokensForTokensCall {
                amountIn: amount,
                amountOutMin: U256::ZERO,
                path,
                to: user1.address(),
            }
            .abi_encode()
            .into()
        })
        .collect();
    let before = sc.bal(b.weth, user1.address())?;
    sc.benign(
        &user1,
        b.router,
        SwapRouter::multicallCall { data },
        "SwapRouter.multicall([20 x swapExactTokensForTokens, one- and two-hop, every direction]) - 20 swaps in one \
         multicall",
    )?;
    let after = sc.bal(b.weth, user1.address())?;
    sc.check(after != before, || "the multicall moved no WETH".into())
}

fn b7(sc: &mut Sc) -> Result<(), CorpusError> {
    let [user1, cold] = sc.genesis(100_000, [("user1", 2000), ("user1-cold", 0)])?;
    let d = sc.d.clone();
    let b = sc.base()?;
    sc.mint(b.usd, d.address(), eth(100_000_000))?;
    let gem = sc.token(&d, "Gem", "GEM")?;
    sc.mint(gem, d.address(), eth(1_000_000))?;
    let vault = vault(sc, b.usd)?;
    seed_vault(sc, b.usd, vault)?;
    let helper = deploy_plain(sc, &d, "MigrationHelper", &MigrationHelper::BYTECODE)?;
    sc.transfer(Label::Setup, &d, b.usd, user1.address(), eth(3_000_000))?;
    sc.transfer(Label::Setup, &d, gem, user1.address(), eth(250_000))?;
    sc.wrap(Label::Benign, &user1, b.weth, eth(1500))?;
    sc.approve(Label::Benign, &user1, b.usd, vault)?;
    sc.benign(
        &user1,
        vault,
        Vault::depositCall { assets: eth(2_000_000), receiver: user1.address() },
        "Vault.deposit(2000000e18, user1)",
    )?;
    for token in [b.weth, b.usd, gem, vault] {
        sc.approve(Label::Benign, &user1, token, helper)?;
    }
    sc.benign(
        &user1,
        helper,
        MigrationHelper::migrateCall { tokens: vec![b.weth, b.usd, gem], vaults: vec![vault], to: cold.address() },
        "MigrationHelper.migrate([WETH, USD, GEM], [Vault], user1-cold) - owner moves everything to a new wallet",
    )?;
    for (token, expected) in [(b.weth, eth(1500)), (b.usd, eth(3_000_000)), (gem, eth(250_000))] {
        let got = sc.bal(token, cold.address())?;
        sc.check(got == expected, || {
            format!("cold wallet {} {}, expected {}", sc.nm(token), fmt_e18(got), fmt_e18(expected))
        })?;
    }
    Ok(())
}

fn b8(sc: &mut Sc) -> Result<(), CorpusError> {
    let [user1, user2, user3, user5] =
        sc.genesis(100_000, [("user1", 1), ("user2", 1), ("user3", 1), ("user5", 200)])?;
    let w = lending_world(sc, [&user1, &user2, &user3])?;
    let d = sc.d.clone();
    let helper = deploy_plain(sc, &d, "LeverageHelper", &LeverageHelper::BYTECODE)?;
    sc.wrap(Label::Benign, &user5, w.b.weth, eth(100))?;
    sc.approve(Label::Benign, &user5, w.b.weth, helper)?;
    sc.benign(
        &user5,
        w.pool,
        LendingPool::setOperatorCall { operator: helper, allowed: true },
        "LendingPool.setOperator(LeverageHelper, true)",
    )?;
    sc.benign(
        &user5,
        helper,
        LeverageHelper::openCall {
            p: LeverageHelper::Position { pool: w.pool, router: w.b.router, collateral: w.b.weth, debt: w.b.usd },
            initialAmount: eth(100),
            loops: U256::from(4),
            borrowShareBps: U256::from(9000),
            maxSlippageBps: U256::from(300),
        },
        "LeverageHelper.open([LendingPool, SwapRouter, WETH, USD], 100e18, 4, 9000, 300) - leveraged loop x4",
    )?;
    let collateral =
        sc.chain.view(w.pool, &LendingPool::balanceOfUnderlyingCall { asset: w.b.weth, account: user5.address() })?;
    let debt = sc.chain.view(w.pool, &LendingPool::debtOfCall { asset: w.b.usd, account: user5.address() })?;
    let liq = sc.chain.view(w.pool, &LendingPool::accountLiquidityCall { account: user5.address() })?;
    sc.check(collateral > eth(300) && debt > eth(400_000) && liq.debtValue <= liq.borrowLimit, || {
        format!("position {} WETH / {} USD, limit {}", fmt_e18(collateral), fmt_e18(debt), fmt_e18(liq.borrowLimit))
    })
}

fn b9(sc: &mut Sc) -> Result<(), CorpusError> {
    let [user1, user2, user3, user6] = sc.genesis(100_000, [("user1", 1), ("user2", 1), ("user3", 1), ("user6", 1)])?;
    let w = lending_world(sc, [&user1, &user2, &user3])?;
    let d = sc.d.clone();
    let gem = sc.token(&d, "Gem", "GEM")?;
    sc.mint(gem, d.address(), eth(1_000_000))?;
    let feed2 = manual_feed(sc, "ManualFeed#2", frac(1, 1000))?;
    sc.setup(
        &d,
        w.oracle,
        PriceOracle::setFeedCall { asset: gem, feed: feed2 },
        "PriceOracle.setFeed(GEM, ManualFeed#2)",
    )?;
    sc.approve(Label::Setup, &d, gem, w.pool)?;
    sc.benign(
        &d,
        w.pool,
        LendingPool::listMarketCall {
            asset: gem,
            collateralFactorBps: 6000,
            reserveFactorBps: 1000,
            borrowRatePerBlock: 1_000_000_000,
            seedAmount: eth(1000),
        },
        "LendingPool.listMarket(GEM, 6000, 1000, 1000000000, 1000e18) - list GEM, seed 1000 GEM to the dead address",
    )?;
    sc.transfer(Label::Setup, &d, gem, user6.address(), eth(50_000))?;
    sc.approve(Label::Benign, &user6, gem, w.pool)?;
    supply(sc, Label::Benign, &user6, w.pool, gem, eth(50_000))?;
    borrow(sc, &user6, w.pool, w.b.usd, eth(10_000))?;
    let seed = sc.chain.view(w.pool, &LendingPool::balanceOfUnderlyingCall { asset: gem, account: DEAD })?;
    sc.check(seed == eth(1000), || format!("dead address holds {} GEM of shares", fmt_e18(seed)))
}

/// `H(a, b) = keccak256(min(a, b) ‖ max(a, b))`.
fn hash_pair(a: B256, b: B256) -> B256 {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(lo.as_slice());
    buf[32..].copy_from_slice(hi.as_slice());
    keccak256(buf)
}

fn b10(sc: &mut Sc) -> Result<(), CorpusError> {
    let [validator, user1, user2, user3, user4, bot] = sc.genesis(
        100_000,
        [("bridgeValidator", 0), ("user1", 1000), ("user2", 1000), ("user3", 1000), ("user4", 0), ("bot", 1)],
    )?;
    let d = sc.d.clone();
    let b = sc.base()?;
    sc.mint(b.usd, d.address(), eth(10_000_000))?;
    let root0 = keccak256("remote root at deployment");
    let inbox = bridge(sc, validator.address(), root0)?;
    lock_in_bridge(sc, &b, inbox, [(&user1, 300, 200_000), (&user2, 500, 500_000), (&user3, 200, 300_000)])?;
    // Message n = abi.encode(uint32 1, uint32 2, uint64 n, token, recipient, amount).
    let releases = [
        (0u64, b.weth, &user1, eth(120)),
        (1, b.usd, &user2, eth(250_000)),
        (2, b.weth, &user4, eth(40)),
        (3, b.usd, &user3, eth(75_000)),
    ];
    let messages =
        releases.map(|(n, token, to, amount)| (1u32, 2u32, n, token, to.address(), amount).abi_encode_params());
    let leaves: [B256; 4] = messages.each_ref().map(keccak256);
    let [leaf0, leaf1, leaf2, leaf3] = leaves;
    let node01 = hash_pair(leaf0, leaf1);
    let node23 = hash_pair(leaf2, leaf3);
    let root1 = hash_pair(node01, node23);
    let signature = validator.personal_sign(keccak256((1u32, root0, root1).abi_encode_params()))?;
    sc.benign(
        &bot,
        inbox,
        BridgeInbox::updateCall { oldRoot: root0, newRoot: root1, signature: signature.into() },
        "BridgeInbox.update(root0, root1, validator signature) - relayer posts the validator-signed root",
    )?;
    let proofs = [[leaf1, node23], [leaf0, node23], [leaf3, node01], [leaf2, node01]];
    for (n, (message, proof)) in messages.into_iter().zip(proofs).enumerate() {
        sc.benign(
            &bot,
            inbox,
            BridgeInbox::proveAndProcessCall { message: message.into(), proof: proof.to_vec() },
            &format!("BridgeInbox.proveAndProcess(message{n}, proof) - release message {n} with its proof"),
        )?;
    }
    let got = sc.bal(b.weth, user4.address())?;
    sc.check(got == eth(40), || format!("user4 WETH {}, expected 40", fmt_e18(got)))?;
    let got = sc.bal(b.usd, user2.address())?;
    sc.check(got == eth(250_000), || format!("user2 USD {}, expected 250000", fmt_e18(got)))
}

/// EIP-712 digest of a BatchSettlement order.
fn order_digest(settlement: Address, o: &BatchSettlement::Order) -> B256 {
    let domain_type = keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    let domain = keccak256(
        (domain_type, keccak256("BatchSettlement"), keccak256("1"), U256::from(crate::chain::CHAIN_ID), settlement)
            .abi_encode(),
    );
    let order_type = keccak256(
        "Order(address owner,address sellToken,address buyToken,uint256 sellAmount,uint256 minBuyAmount,uint256 nonce)",
    );
    let order =
        keccak256((order_type, o.owner, o.sellToken, o.buyToken, o.sellAmount, o.minBuyAmount, o.nonce).abi_encode());
    let mut buf = Vec::with_capacity(66);
    buf.extend_from_slice(b"\x19\x01");
    buf.extend_from_slice(domain.as_slice());
    buf.extend_from_slice(order.as_slice());
    keccak256(buf)
}

fn b11(sc: &mut Sc) -> Result<(), CorpusError> {
    let roles = ["bot", "user1", "user2", "user3", "user4", "user5", "user6", "user7", "user8", "user9", "user10"];
    let accounts = sc.genesis(100_000, roles.map(|r| (r, 10)))?;
    let [bot, users @ ..] = accounts;
    let d = sc.d.clone();
    let b = sc.base()?;
    sc.mint(b.usd, d.address(), eth(100_000_000))?;
    sc.wrap(Label::Setup, &d, b.weth, eth(10_000))?;
    sc.approve(Label::Setup, &d, b.weth, b.router)?;
    sc.approve(Label::Setup, &d, b.usd, b.router)?;
    add_liquidity(sc, &d, b.router, b.weth, b.usd, eth(2000), eth(4_000_000))?;
    let settlement = deploy_plain(sc, &d, "BatchSettlement", &BatchSettlement::BYTECODE)?;
    sc.setup(
        &d,
        settlement,
        BatchSettlement::setSolverCall { solver: bot.address(), allowed: true },
        "BatchSettlement.setSolver(bot, true)",
    )?;
    sc.transfer(Label::Setup, &d, b.weth, settlement, eth(5))?;
    sc.transfer(Label::Setup, &d, b.usd, settlement, eth(10_000))?;
    let (sellers_usd, sellers_weth) = users.split_at(5);
    for user in sellers_usd {
        sc.transfer(Label::Setup, &d, b.usd, user.address(), eth(5000))?;
        sc.approve(Label::Benign, user, b.usd, settlement)?;
    }
    for user in sellers_weth {
        sc.wrap(Label::Benign, user, b.weth, eth(2))?;
        sc.approve(Label::Benign, user, b.weth, settlement)?;
    }
    let mut orders = Vec::new();
    let mut signatures = Vec::new();
    let mut buy_amounts = Vec::new();
    for user in &users {
        let usd_seller = sellers_usd.iter().any(|u| u.address() == user.address());
        let order = if usd_seller {
            BatchSettlement::Order {
                owner: user.address(),
                sellToken: b.usd,
                buyToken: b.weth,
                sellAmount: eth(5000),
                minBuyAmount: frac(24, 10),
                nonce: U256::from(1),
            }
        } else {
            BatchSettlement::Order {
                owner: user.address(),
                sellToken: b.weth,
                buyToken: b.usd,
                sellAmount: eth(2),
                minBuyAmount: eth(3900),
                nonce: U256::from(1),
            }
        };
        signatures.push(Bytes::from(user.sign_digest(order_digest(settlement, &order))?));
        buy_amounts.push(order.minBuyAmount);
        orders.push(order);
    }
    let approve = crate::contracts::Token::approveCall { spender: b.router, amount: eth(5000) };
    let swap = SwapRouter::swapExactTokensForTokensCall {
        amountIn: eth(5000),
        amountOutMin: frac(24, 10),
        path: vec![b.usd, b.weth],
        to: settlement,
    };
    let interactions = vec![
        BatchSettlement::Interaction { target: b.usd, value: U256::ZERO, data: approve.abi_encode().into() },
        BatchSettlement::Interaction { target: b.router, value: U256::ZERO, data: swap.abi_encode().into() },
    ];
    sc.benign(
        &bot,
        settlement,
        BatchSettlement::settleCall { orders, signatures, buyAmounts: buy_amounts, interactions },
        "BatchSettlement.settle(10 signed orders, their EIP-712 signatures, limit amounts, [USD.approve(SwapRouter), \
         SwapRouter.swapExactTokensForTokens(5000e18, 2.4e18, [USD, WETH], BatchSettlement)]) - settle 10 signed \
         orders",
    )?;
    for user in &users {
        let used =
            sc.chain.view(settlement, &BatchSettlement::nonceUsedCall { _0: user.address(), _1: U256::from(1) })?;
        sc.check(used, || format!("{}'s order was not settled", user.role))?;
    }
    Ok(())
}

fn b12(sc: &mut Sc) -> Result<(), CorpusError> {
    let [keeper] = sc.genesis(100_000, [("keeper", 1)])?;
    let d = sc.d.clone();
    let b = sc.base()?;
    let gem = sc.token(&d, "Gem", "GEM")?;
    sc.mint(gem, d.address(), eth(1_000_000))?;
    sc.wrap(Label::Setup, &d, b.weth, eth(1000))?;
    sc.approve(Label::Setup, &d, b.weth, b.router)?;
    sc.approve(Label::Setup, &d, gem, b.router)?;
    add_liquidity(sc, &d, b.router, b.weth, gem, eth(20), eth(20_000))?;
    let pair = sc.pair(b.factory, b.weth, gem, "Pair(WETH/GEM)")?;
    let feed = manual_feed(sc, "ManualFeed", frac(1, 1000))?;
    let oracle = price_oracle(sc, b.weth)?;
    sc.setup(&d, oracle, PriceOracle::setFeedCall { asset: gem, feed }, "PriceOracle.setFeed(GEM, ManualFeed)")?;
    let fund = sc.deploy(
        Label::Setup,
        &d,
        "IndexFund",
        &IndexFund::BYTECODE,
        IndexFund::constructorCall {
            pair_: pair,
            oracle_: oracle,
            keeper_: keeper.address(),
            maxSlippageBps_: U256::from(2500),
        }
        .abi_encode(),
        "IndexFund(Pair(WETH/GEM), PriceOracle, keeper, 2500)",
    )?;
    sc.transfer(Label::Setup, &d, b.weth, fund, eth(100))?;
    sc.transfer(Label::Setup, &d, gem, fund, eth(50_000))?;
    sc.benign(
        &keeper,
        fund,
        IndexFund::rebalanceCall { tokenIn: b.weth, amountIn: eth(3) },
        "IndexFund.rebalance(WETH, 3e18) - keeper buys GEM with 3 WETH through the thin pair",
    )?;
    let held = sc.bal(gem, fund)?;
    sc.check(held > eth(52_600), || format!("fund GEM {}, expected ~52602", fmt_e18(held)))
}

fn b13(sc: &mut Sc) -> Result<(), CorpusError> {
    let [v0, v1, v2, v3, user1, user2, user3, user4, bot] = sc.genesis(
        100_000,
        [
            ("bridgeValidator", 0),
            ("bridgeValidator2", 0),
            ("bridgeValidator3", 0),
            ("bridgeValidator4", 0),
            ("user1", 0),
            ("user2", 0),
            ("user3", 1),
            ("user4", 0),
            ("bot", 1),
        ],
    )?;
    sc.base()?;
    let (bridge, beth) = minting_bridge(sc, &[&v0, &v1, &v2, &v3])?;
    mint_with_signature(sc, &bot, bridge, (&v0, 0), 0, user1.address(), eth(120))?;
    mint_with_signature(sc, &bot, bridge, (&v2, 2), 1, user2.address(), eth(250))?;
    mint_with_signature(sc, &bot, bridge, (&v1, 1), 2, user4.address(), eth(75))?;
    // The recipient relays its own message: it receives new tokens and pays nothing.
    mint_with_signature(sc, &user3, bridge, (&v3, 3), 3, user3.address(), eth(40))?;
    for (user, expected) in [(&user1, 120), (&user2, 250), (&user4, 75), (&user3, 40)] {
        let got = sc.bal(beth, user.address())?;
        sc.check(got == eth(expected), || format!("{} bETH {}, expected {expected}", user.role, fmt_e18(got)))?;
    }
    let supply: U256 = sc.chain.view(beth, &crate::contracts::Token::totalSupplyCall {})?;
    sc.check(supply == eth(485), || format!("bETH supply {}, expected 485", fmt_e18(supply)))
}
