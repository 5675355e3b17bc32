//! A1–A13: the attacks. Each ends with one `attack` transaction and a check
//! that it moved the value SCENARIOS.md's executed run measured.

use alloy_primitives::{keccak256, Address, B256, U256};
use alloy_sol_types::{SolCall, SolConstructor, SolValue};
use vigil_fixture::Label;

use super::{
    amt, eth, fmt_e18, frac,
    steps::{
        add_liquidity, borrow, bridge, deploy_plain, lending_pool, list_market, lock_in_bridge, manual_feed,
        mint_with_signature, minting_bridge, price_oracle, seeded_item_pool, stable_pool, staking, supply, vault,
    },
    Kind, Sc, Scenario,
};
use crate::{
    contracts::{
        AggregationRouter, BorrowCallbackReentry, BridgeForgedMint, BridgeForgedRelease, DonationLiquidation,
        ERC1967Proxy, EthMarket, FeeCollector, FlashStakeClaim, FlashVote, GameItems, Governor, ItemPool, ItemPoolDust,
        MarginMarket, PairSpotFeed, PriceOracle, ReinitializeSweep, RewardVouchers, RouterApprovalDrain,
        SpotOracleBorrow, StableEthPool, StableLpFeed, StakingRewards, SwapRouter, Token, VaultInflation,
        VirtualPriceReentry, VoucherReplay, YieldAggregator, WETH,
    },
    keys::Actor,
    CorpusError,
};

pub(super) const ALL: [Scenario; 13] = [
    Scenario {
        id: "A1",
        name: "flash-loan-spot-oracle-borrow",
        kind: Kind::Attack,
        description: "A LendingPool (WETH and GEM markets) prices GEM from the current reserves of the thin WETH/GEM \
            pair (100 WETH / 100,000 GEM); three lenders supply 1,000 WETH and a borrower takes 5 WETH against GEM. \
            The attacker's contract flash-borrows 300 WETH, buys GEM with all of it (GEM's spot price rises ~16x), \
            supplies the GEM as collateral at that price, borrows all the WETH the pool holds, repays the loan and \
            keeps ~597 WETH, leaving ~820 WETH of bad debt with the lenders.",
        build: a1,
    },
    Scenario {
        id: "A2",
        name: "borrow-callback-reentrancy",
        kind: Kind::Attack,
        description: "EthMarket lends native ETH against USD collateral but sends the ETH before it records the \
            debt, and withdrawCollateral has no re-entrancy lock. Lenders supply 500 ETH; a borrower takes 20. The \
            attacker's contract flash-borrows 1.6M USD, posts it, borrows the market's whole 480 ETH, and in its \
            receive() (debt still zero) withdraws all its collateral, repaying the flash loan with it: 480 ETH \
            leave against no collateral.",
        build: a2,
    },
    Scenario {
        id: "A3",
        name: "empty-vault-share-inflation",
        kind: Kind::Attack,
        description: "A YieldAggregator holds 100,000 USD of three users' deposits idle and pushes them into a \
            fresh, empty ERC-4626 Vault with its public earn(). The attacker's contract flash-borrows 150,000 USD, \
            deposits 1 wei (1 share), donates the rest to the vault, calls earn() (the aggregator's 100,000 USD buys \
            zero shares), redeems its one share for 250,000 USD and repays: the aggregator's depositors lose \
            everything, the attacker nets 99,865 USD.",
        build: a3,
    },
    Scenario {
        id: "A4",
        name: "reinitialize-fee-collector",
        kind: Kind::Attack,
        description: "A FeeCollector behind an ERC1967 proxy holds 250 WETH, 400,000 USD and 30 ETH of fees; its \
            initializer checks a flag it never sets. The admin sweeps part of the fees (benign). The attacker's \
            contract calls initialize again, becoming admin, and sweeps every token and the ETH to the attacker.",
        build: a4,
    },
    Scenario {
        id: "A5",
        name: "voucher-signature-replay",
        kind: Kind::Attack,
        description: "RewardVouchers pays vouchers the protocol signer signs off-chain (EIP-191 over chain id, \
            contract, account, amount) but never records a voucher as used. Three legitimate claims go through, one \
            of them the attacker's own 500 USD voucher. The attacker's contract then submits that same signature 95 \
            more times in one transaction, taking 47,500 USD of the other users' rewards.",
        build: a5,
    },
    Scenario {
        id: "A6",
        name: "bridge-unproven-message-release",
        kind: Kind::Attack,
        description: "A lock/release BridgeInbox was deployed with a zero committed root, which marks the zero root \
            as confirmed; every message never proven maps to the zero root, so process() accepts it. Users lock \
            1,000 WETH and 1,000,000 USD through send(). The attacker's contract builds, per token, a message paying \
            the bridge's whole balance to the attacker and processes it with no proof.",
        build: a6,
    },
    Scenario {
        id: "A7",
        name: "read-only-reentrancy-lp-oracle",
        kind: Kind::Attack,
        description: "A LendingPool accepts the LP token of a Curve-style ETH/sETH StableEthPool as collateral, \
            priced by the pool's get_virtual_price(). remove_liquidity burns LP and pays the ETH leg before it \
            lowers the sETH balance, so during the ETH call the virtual price is inflated. The attacker's contract \
            flash-borrows 2,000 WETH and 2,000 sETH, adds them with 150 ETH of its own, posts the own-ETH part of \
            the LP as collateral, removes the rest and, inside the ETH callback, borrows all 580 WETH of the pool: \
            ~430 WETH of bad debt.",
        build: a7,
    },
    Scenario {
        id: "A8",
        name: "router-arbitrary-call-approvals",
        kind: Kind::Attack,
        description: "AggregationRouter.swap pulls the input, then calls any executor with any calldata. Five users \
            gave it unlimited USD approvals and swap through it (benign). The attacker's contract calls swap once \
            per user with amount 0, executor = USD and route = transferFrom(user, attacker, balance): the router \
            itself moves 165,000 USD out of holders who are not party to the transaction.",
        build: a8,
    },
    Scenario {
        id: "A9",
        name: "flash-staked-reward-claim",
        kind: Kind::Attack,
        description: "StakingRewards pays each round's pot in proportion to the claimer's stake at the time of the \
            claim. Three users stake 10,000 STK and the owner funds a 50 WETH round. The attacker's contract \
            flash-swaps 90,000 STK out of the STK/WETH pair, stakes it (90% of the stake), claims 45 WETH, unstakes \
            and returns the STK plus the fee; the honest stakers share the 5 WETH left.",
        build: a9,
    },
    Scenario {
        id: "A10",
        name: "item-pool-rounding-loop",
        kind: Kind::Attack,
        description: "ItemPool trades an indivisible ERC-1155 item against WETH; sellItemsForExactWeth computes the \
            items owed with a floor division, so asking for a little less than one item's worth costs zero items. \
            Users buy and sell items normally. The attacker's contract asks 250 times in one transaction for the \
            largest WETH amount that rounds to zero items and takes 14.27 of the LPs' 20 WETH for nothing.",
        build: a10,
    },
    Scenario {
        id: "A11",
        name: "donation-self-liquidation",
        kind: Kind::Attack,
        description: "MarginMarket (Euler-style, USD) lets an account donate deposit to reserves without a health \
            check, and a liquidator takes over debt and deposit at a discount of up to 20%. Lenders deposit \
            1,000,000 USD. The attacker's contract flash-borrows 200,000 USD; a fresh account levers it to 2.0M \
            deposit / 1.8M debt and donates 400,000 (health 0.8); a second fresh contract liquidates it at the full \
            discount, nets the position and withdraws the 320,000 surplus. The attacker keeps 119,820 USD of the \
            lenders' cash.",
        build: a11,
    },
    Scenario {
        id: "A12",
        name: "flash-loan-governance-vote",
        kind: Kind::Attack,
        description: "A Governor holding the DAO treasury (800 WETH, 1,000,000 USD) weighs votes by current token \
            balance and executes at once with two thirds of the supply. 700,000 of the 1,000,000 GOV sit in a flash \
            lender. The attacker proposes moving the treasury's WETH to itself, then its contract flash-borrows \
            660,000 GOV, votes with 675,000, executes the proposal and repays: the treasury loses 800 WETH.",
        build: a12,
    },
    Scenario {
        id: "A13",
        name: "bridge-mint-unproven-message",
        kind: Kind::Attack,
        description:
            "A MintingBridge mints bETH, a BridgedToken only the bridge can mint, for inbound messages signed \
            by one of up to four validators; the signature names its validator slot. This deployment has two \
            validators, so slots 2 and 3 hold the zero address, and receiveMessage neither bounds the slot by the \
            validator count nor rejects the zero address ecrecover returns for an invalid signature. Three users \
            mint 410 bETH with valid signatures. The attacker's contract submits a message minting 100,000 bETH to \
            itself, attributed to slot 2, with an all-zero signature, and keeps it: unbacked supply, no other \
            balance changes.",
        build: a13,
    },
];

/// Checks that `after - before` (a gain) is at least `min`.
fn gained(sc: &Sc, what: &str, before: U256, after: U256, min: U256) -> Result<(), CorpusError> {
    sc.check(after >= before && after - before >= min, || {
        format!("{what}: expected a gain of at least {}, got {} -> {}", fmt_e18(min), fmt_e18(before), fmt_e18(after))
    })
}

fn a1(sc: &mut Sc) -> Result<(), CorpusError> {
    let [user1, user2, user3, user4, attacker] =
        sc.genesis(100_000, [("user1", 1000), ("user2", 1000), ("user3", 1000), ("user4", 10), ("attacker", 10)])?;
    let d = sc.d.clone();
    let b = sc.base()?;
    let gem = sc.token(&d, "Gem", "GEM")?;
    sc.wrap(Label::Setup, &d, b.weth, eth(2000))?;
    sc.mint(gem, d.address(), eth(1_000_000))?;
    sc.approve(Label::Setup, &d, b.weth, b.router)?;
    sc.approve(Label::Setup, &d, gem, b.router)?;
    add_liquidity(sc, &d, b.router, b.weth, gem, eth(100), eth(100_000))?;
    let pair = sc.pair(b.factory, b.weth, gem, "Pair(WETH/GEM)")?;
    let oracle = sc.deploy(
        Label::Setup,
        &d,
        "PriceOracle",
        &PriceOracle::BYTECODE,
        PriceOracle::constructorCall { baseAsset_: b.weth }.abi_encode(),
        "PriceOracle(WETH)",
    )?;
    let feed = sc.deploy(
        Label::Setup,
        &d,
        "PairSpotFeed",
        &PairSpotFeed::BYTECODE,
        PairSpotFeed::constructorCall { pair_: pair, asset_: gem }.abi_encode(),
        "PairSpotFeed(Pair(WETH/GEM), GEM)",
    )?;
    sc.setup(&d, oracle, PriceOracle::setFeedCall { asset: gem, feed }, "PriceOracle.setFeed(GEM, PairSpotFeed)")?;
    let pool = lending_pool(sc, oracle)?;
    sc.approve(Label::Setup, &d, b.weth, pool)?;
    sc.approve(Label::Setup, &d, gem, pool)?;
    list_market(sc, pool, b.weth, 8000, 1000, 1_000_000_000, frac(1, 1000))?;
    list_market(sc, pool, gem, 7500, 1000, 1_000_000_000, eth(1))?;
    sc.transfer(Label::Setup, &d, b.weth, b.lender, eth(500))?;
    for (user, amount) in [(&user1, 400), (&user2, 300), (&user3, 300)] {
        sc.wrap(Label::Benign, user, b.weth, eth(amount))?;
        sc.approve(Label::Benign, user, b.weth, pool)?;
        supply(sc, Label::Benign, user, pool, b.weth, eth(amount))?;
    }
    sc.transfer(Label::Setup, &d, gem, user4.address(), eth(20_000))?;
    sc.approve(Label::Benign, &user4, gem, pool)?;
    supply(sc, Label::Benign, &user4, pool, gem, eth(20_000))?;
    borrow(sc, &user4, pool, b.weth, eth(5))?;
    let exploit = deploy_plain(sc, &attacker, "SpotOracleBorrow", &SpotOracleBorrow::BYTECODE)?;
    let before = sc.bal(b.weth, attacker.address())?;
    let pool_before = sc.bal(b.weth, pool)?;
    sc.attack(
        &attacker,
        exploit,
        SpotOracleBorrow::executeCall { lender: b.lender, pool, pair, weth: b.weth, collateral: gem, loan: eth(300) },
        "SpotOracleBorrow.execute(FlashLender, LendingPool, Pair(WETH/GEM), WETH, GEM, 300e18) - flash loan, buy \
         GEM, borrow against its inflated spot price",
    )?;
    gained(sc, "attacker WETH", before, sc.bal(b.weth, attacker.address())?, eth(500))?;
    let pool_after = sc.bal(b.weth, pool)?;
    sc.check(pool_before >= pool_after + eth(800), || {
        format!("pool WETH {} -> {}, expected a loss of > 800", fmt_e18(pool_before), fmt_e18(pool_after))
    })
}

fn a2(sc: &mut Sc) -> Result<(), CorpusError> {
    let [user1, user2, user3, user4, attacker] =
        sc.genesis(100_000, [("user1", 1000), ("user2", 1000), ("user3", 1000), ("user4", 10), ("attacker", 10)])?;
    let d = sc.d.clone();
    let b = sc.base()?;
    sc.mint(b.usd, d.address(), eth(10_000_000))?;
    let feed = manual_feed(sc, "ManualFeed", frac(4, 10_000))?;
    let oracle = price_oracle(sc, b.weth)?;
    sc.setup(&d, oracle, PriceOracle::setFeedCall { asset: b.usd, feed }, "PriceOracle.setFeed(USD, ManualFeed)")?;
    let market = sc.deploy(
        Label::Setup,
        &d,
        "EthMarket",
        &EthMarket::BYTECODE,
        EthMarket::constructorCall { oracle_: oracle }.abi_encode(),
        "EthMarket(PriceOracle)",
    )?;
    sc.setup(
        &d,
        market,
        EthMarket::listCollateralCall { token: b.usd, factorBps: 8000 },
        "EthMarket.listCollateral(USD, 8000)",
    )?;
    sc.transfer(Label::Setup, &d, b.usd, b.lender, eth(2_000_000))?;
    for (user, amount) in [(&user1, 200), (&user2, 150), (&user3, 150)] {
        sc.benign_v(
            user,
            market,
            eth(amount),
            EthMarket::supplyCall {},
            &format!("EthMarket.supply() {{value: {}}}", amt(eth(amount))),
        )?;
    }
    sc.transfer(Label::Setup, &d, b.usd, user4.address(), eth(100_000))?;
    sc.approve(Label::Benign, &user4, b.usd, market)?;
    sc.benign(
        &user4,
        market,
        EthMarket::depositCollateralCall { token: b.usd, amount: eth(100_000) },
        "EthMarket.depositCollateral(USD, 100000e18)",
    )?;
    sc.benign(&user4, market, EthMarket::borrowCall { amount: eth(20) }, "EthMarket.borrow(20e18)")?;
    sc.transfer(Label::Setup, &d, b.usd, attacker.address(), eth(2000))?;
    let exploit = deploy_plain(sc, &attacker, "BorrowCallbackReentry", &BorrowCallbackReentry::BYTECODE)?;
    sc.transfer(Label::Setup, &attacker, b.usd, exploit, eth(2000))?;
    let before = sc.eth_bal(attacker.address());
    sc.attack(
        &attacker,
        exploit,
        BorrowCallbackReentry::startCall {
            lender: b.lender,
            market_: market,
            collateral_: b.usd,
            loan: eth(1_600_000),
        },
        "BorrowCallbackReentry.start(FlashLender, EthMarket, USD, 1600000e18) - borrow ETH, withdraw the collateral \
         from the ETH callback",
    )?;
    gained(sc, "attacker ETH", before, sc.eth_bal(attacker.address()), eth(480))?;
    let left = sc.eth_bal(market);
    sc.check(left.is_zero(), || format!("market still holds {} ETH", fmt_e18(left)))
}

fn a3(sc: &mut Sc) -> Result<(), CorpusError> {
    let [user1, user2, user3, attacker] =
        sc.genesis(100_000, [("user1", 1), ("user2", 1), ("user3", 1), ("attacker", 1)])?;
    let d = sc.d.clone();
    let b = sc.base()?;
    sc.mint(b.usd, d.address(), eth(10_000_000))?;
    sc.transfer(Label::Setup, &d, b.usd, b.lender, eth(500_000))?;
    let vault = vault(sc, b.usd)?;
    let aggregator = sc.deploy(
        Label::Setup,
        &d,
        "YieldAggregator",
        &YieldAggregator::BYTECODE,
        YieldAggregator::constructorCall {
            token_: b.usd,
            vault_: vault,
            name_: "Yield Dollar".into(),
            symbol_: "yUSD".into(),
        }
        .abi_encode(),
        "YieldAggregator(USD, Vault, \"Yield Dollar\", \"yUSD\")",
    )?;
    for (user, amount) in [(&user1, 40_000), (&user2, 35_000), (&user3, 25_000)] {
        sc.transfer(Label::Setup, &d, b.usd, user.address(), eth(amount))?;
        sc.approve(Label::Benign, user, b.usd, aggregator)?;
        sc.benign(
            user,
            aggregator,
            YieldAggregator::depositCall { amount: eth(amount) },
            &format!("YieldAggregator.deposit({})", amt(eth(amount))),
        )?;
    }
    let exploit = deploy_plain(sc, &attacker, "VaultInflation", &VaultInflation::BYTECODE)?;
    let before = sc.bal(b.usd, attacker.address())?;
    sc.attack(
        &attacker,
        exploit,
        VaultInflation::executeCall { lender: b.lender, token: b.usd, vault, aggregator, loan: eth(150_000) },
        "VaultInflation.execute(FlashLender, USD, Vault, YieldAggregator, 150000e18) - inflate the empty vault's \
         share price, then earn()",
    )?;
    gained(sc, "attacker USD", before, sc.bal(b.usd, attacker.address())?, eth(99_000))?;
    let value = sc.chain.view(aggregator, &YieldAggregator::balanceCall {})?;
    sc.check(value.is_zero(), || format!("aggregator still worth {} USD", fmt_e18(value)))
}

fn a4(sc: &mut Sc) -> Result<(), CorpusError> {
    let [fee_recipient, attacker] = sc.genesis(100_000, [("feeRecipient", 0), ("attacker", 1)])?;
    let d = sc.d.clone();
    let b = sc.base()?;
    sc.mint(b.usd, d.address(), eth(10_000_000))?;
    sc.wrap(Label::Setup, &d, b.weth, eth(1000))?;
    let implementation = deploy_plain(sc, &d, "FeeCollector", &FeeCollector::BYTECODE)?;
    let init = FeeCollector::initializeCall { admin_: d.address(), feeRecipient_: fee_recipient.address() };
    let proxy = sc.deploy(
        Label::Setup,
        &d,
        "FeeCollectorProxy",
        &ERC1967Proxy::BYTECODE,
        ERC1967Proxy::constructorCall { implementation, data: SolCall::abi_encode(&init).into() }.abi_encode(),
        "ERC1967Proxy(FeeCollector, initialize(deployer, feeRecipient))",
    )?;
    sc.transfer(Label::Setup, &d, b.weth, proxy, eth(250))?;
    sc.transfer(Label::Setup, &d, b.usd, proxy, eth(400_000))?;
    sc.send_eth(Label::Setup, &d, proxy, eth(30), "send 30e18 ETH to FeeCollectorProxy - ETH fees")?;
    sc.benign(
        &d,
        proxy,
        FeeCollector::sweepCall { token: b.usd, to: fee_recipient.address(), amount: eth(50_000) },
        "FeeCollectorProxy.sweep(USD, feeRecipient, 50000e18) - admin sweeps part of the fees",
    )?;
    let exploit = deploy_plain(sc, &attacker, "ReinitializeSweep", &ReinitializeSweep::BYTECODE)?;
    let who = attacker.address();
    let (weth0, usd0, eth0) = (sc.bal(b.weth, who)?, sc.bal(b.usd, who)?, sc.eth_bal(who));
    sc.attack(
        &attacker,
        exploit,
        ReinitializeSweep::collectCall { collector: proxy, tokens: vec![b.weth, b.usd] },
        "ReinitializeSweep.collect(FeeCollectorProxy, [WETH, USD]) - initialize again, sweep everything",
    )?;
    gained(sc, "attacker WETH", weth0, sc.bal(b.weth, who)?, eth(250))?;
    gained(sc, "attacker USD", usd0, sc.bal(b.usd, who)?, eth(350_000))?;
    gained(sc, "attacker ETH", eth0, sc.eth_bal(who), eth(30))
}

/// The voucher digest `keccak256(abi.encode(31337, vouchers, account, amount))`.
fn voucher_hash(vouchers: Address, account: Address, amount: U256) -> B256 {
    keccak256((U256::from(crate::chain::CHAIN_ID), vouchers, account, amount).abi_encode())
}

fn a5(sc: &mut Sc) -> Result<(), CorpusError> {
    let [signer, user1, user2, user3, attacker] =
        sc.genesis(100_000, [("voucherSigner", 0), ("user1", 1), ("user2", 1), ("user3", 1), ("attacker", 1)])?;
    let d = sc.d.clone();
    let b = sc.base()?;
    sc.mint(b.usd, d.address(), eth(10_000_000))?;
    let vouchers = sc.deploy(
        Label::Setup,
        &d,
        "RewardVouchers",
        &RewardVouchers::BYTECODE,
        RewardVouchers::constructorCall { token_: b.usd, signer_: signer.address() }.abi_encode(),
        "RewardVouchers(USD, voucherSigner)",
    )?;
    sc.transfer(Label::Setup, &d, b.usd, vouchers, eth(50_000))?;
    let voucher =
        |account: &Actor, amount: U256| signer.personal_sign(voucher_hash(vouchers, account.address(), amount));
    let claims: [(&Actor, &Actor, u64, &str); 3] = [
        (&user1, &user1, 1000, ""),
        (&user3, &user2, 750, " - relayer submits user2's voucher"),
        (&attacker, &attacker, 500, " - attacker claims its own voucher once"),
    ];
    for (from, account, amount, extra) in claims {
        let signature = voucher(account, eth(amount))?;
        sc.benign(
            from,
            vouchers,
            RewardVouchers::claimCall { account: account.address(), amount: eth(amount), signature: signature.into() },
            &format!("RewardVouchers.claim({}, {}, voucher){extra}", account.role, amt(eth(amount))),
        )?;
    }
    let replay = deploy_plain(sc, &attacker, "VoucherReplay", &VoucherReplay::BYTECODE)?;
    let signature = voucher(&attacker, eth(500))?;
    sc.attack(
        &attacker,
        replay,
        VoucherReplay::claimManyCall {
            vouchers,
            account: attacker.address(),
            amount: eth(500),
            signature: signature.into(),
            maxTimes: U256::from(200),
        },
        "VoucherReplay.claimMany(RewardVouchers, attacker, 500e18, the same voucher, 200) - replay one signature",
    )?;
    let got = sc.bal(b.usd, attacker.address())?;
    sc.check(got == eth(48_000), || format!("attacker USD {}, expected 48000", fmt_e18(got)))?;
    let left = sc.bal(b.usd, vouchers)?;
    sc.check(left == eth(250), || format!("distributor left with {}, expected 250", fmt_e18(left)))
}

fn a6(sc: &mut Sc) -> Result<(), CorpusError> {
    let [validator, user1, user2, user3, attacker] = sc.genesis(
        100_000,
        [("bridgeValidator", 0), ("user1", 1000), ("user2", 1000), ("user3", 1000), ("attacker", 1)],
    )?;
    let d = sc.d.clone();
    let b = sc.base()?;
    sc.mint(b.usd, d.address(), eth(10_000_000))?;
    let inbox = bridge(sc, validator.address(), B256::ZERO)?;
    lock_in_bridge(sc, &b, inbox, [(&user1, 300, 200_000), (&user2, 500, 500_000), (&user3, 200, 300_000)])?;
    let exploit = deploy_plain(sc, &attacker, "BridgeForgedRelease", &BridgeForgedRelease::BYTECODE)?;
    let who = attacker.address();
    let (weth0, usd0) = (sc.bal(b.weth, who)?, sc.bal(b.usd, who)?);
    sc.attack(
        &attacker,
        exploit,
        BridgeForgedRelease::relayCall { inbox, tokens: vec![b.weth, b.usd], firstNonce: 7000 },
        "BridgeForgedRelease.relay(BridgeInbox, [WETH, USD], 7000) - process messages that were never proven",
    )?;
    gained(sc, "attacker WETH", weth0, sc.bal(b.weth, who)?, eth(1000))?;
    gained(sc, "attacker USD", usd0, sc.bal(b.usd, who)?, eth(1_000_000))
}

fn a7(sc: &mut Sc) -> Result<(), CorpusError> {
    let [user1, user2, user3, user4, attacker] =
        sc.genesis(100_000, [("user1", 1000), ("user2", 1000), ("user3", 1000), ("user4", 100), ("attacker", 200)])?;
    let d = sc.d.clone();
    let b = sc.base()?;
    let seth = sc.token(&d, "Staked Ether", "sETH")?;
    sc.mint(seth, d.address(), eth(10_000))?;
    let pool = stable_pool(sc, seth)?;
    sc.approve(Label::Setup, &d, seth, pool)?;
    sc.setup_v(
        &d,
        pool,
        eth(100),
        StableEthPool::add_liquidityCall { amounts: [eth(100), eth(100)], minMintAmount: U256::ZERO },
        "StableEthPool.add_liquidity([100e18, 100e18], 0) {value: 100e18}",
    )?;
    let oracle = price_oracle(sc, b.weth)?;
    let feed = sc.deploy(
        Label::Setup,
        &d,
        "StableLpFeed",
        &StableLpFeed::BYTECODE,
        StableLpFeed::constructorCall { pool_: pool }.abi_encode(),
        "StableLpFeed(StableEthPool)",
    )?;
    sc.setup(
        &d,
        oracle,
        PriceOracle::setFeedCall { asset: pool, feed },
        "PriceOracle.setFeed(StableEthPool, StableLpFeed)",
    )?;
    let lending = lending_pool(sc, oracle)?;
    sc.wrap(Label::Setup, &d, b.weth, eth(3000))?;
    sc.approve(Label::Setup, &d, b.weth, lending)?;
    sc.approve(Label::Setup, &d, pool, lending)?;
    list_market(sc, lending, b.weth, 8000, 1000, 1_000_000_000, frac(1, 1000))?;
    list_market(sc, lending, pool, 8000, 1000, 0, frac(1, 1000))?;
    sc.transfer(Label::Setup, &d, b.weth, b.lender, eth(2000))?;
    sc.transfer(Label::Setup, &d, seth, b.lender, eth(2000))?;
    for (user, amount) in [(&user1, 300), (&user2, 200), (&user3, 100)] {
        sc.wrap(Label::Benign, user, b.weth, eth(amount))?;
        sc.approve(Label::Benign, user, b.weth, lending)?;
        supply(sc, Label::Benign, user, lending, b.weth, eth(amount))?;
    }
    sc.transfer(Label::Setup, &d, seth, user4.address(), eth(20))?;
    sc.approve(Label::Benign, &user4, seth, pool)?;
    sc.benign_v(
        &user4,
        pool,
        eth(20),
        StableEthPool::add_liquidityCall { amounts: [eth(20), eth(20)], minMintAmount: U256::ZERO },
        "StableEthPool.add_liquidity([20e18, 20e18], 0) {value: 20e18}",
    )?;
    sc.approve(Label::Benign, &user4, pool, lending)?;
    supply(sc, Label::Benign, &user4, lending, pool, eth(40))?;
    borrow(sc, &user4, lending, b.weth, eth(20))?;
    let exploit = deploy_plain(sc, &attacker, "VirtualPriceReentry", &VirtualPriceReentry::BYTECODE)?;
    let before = sc.bal(b.weth, attacker.address())?;
    sc.attack_v(
        &attacker,
        exploit,
        eth(150),
        VirtualPriceReentry::executeCall {
            p: VirtualPriceReentry::Plan {
                lender: b.lender,
                pool,
                lending,
                weth: b.weth,
                coin: seth,
                wethLoan: eth(2000),
                coinLoan: eth(2000),
            },
        },
        "VirtualPriceReentry.execute([FlashLender, StableEthPool, LendingPool, WETH, sETH, 2000e18, 2000e18]) \
         {value: 150e18} - borrow against the LP while its virtual price is inflated",
    )?;
    gained(sc, "attacker WETH", before, sc.bal(b.weth, attacker.address())?, eth(550))?;
    let left = sc.bal(b.weth, lending)?;
    sc.check(left.is_zero(), || format!("lending pool still holds {} WETH", fmt_e18(left)))
}

fn a8(sc: &mut Sc) -> Result<(), CorpusError> {
    let [user1, user2, user3, user4, user5, attacker] =
        sc.genesis(100_000, [("user1", 1), ("user2", 1), ("user3", 1), ("user4", 1), ("user5", 1), ("attacker", 1)])?;
    let d = sc.d.clone();
    let b = sc.base()?;
    sc.mint(b.usd, d.address(), eth(100_000_000))?;
    sc.wrap(Label::Setup, &d, b.weth, eth(5000))?;
    sc.approve(Label::Setup, &d, b.weth, b.router)?;
    sc.approve(Label::Setup, &d, b.usd, b.router)?;
    add_liquidity(sc, &d, b.router, b.weth, b.usd, eth(1000), eth(2_500_000))?;
    let aggregator = deploy_plain(sc, &d, "AggregationRouter", &AggregationRouter::BYTECODE)?;
    let users = [(&user1, 40_000), (&user2, 25_000), (&user3, 60_000), (&user4, 15_000), (&user5, 30_000)];
    for (user, amount) in users {
        sc.transfer(Label::Setup, &d, b.usd, user.address(), eth(amount))?;
        sc.approve(Label::Benign, user, b.usd, aggregator)?;
        aggregator_swap(sc, user, &b, aggregator, eth(1000), frac(39, 100))?;
    }
    let exploit = deploy_plain(sc, &attacker, "RouterApprovalDrain", &RouterApprovalDrain::BYTECODE)?;
    sc.attack(
        &attacker,
        exploit,
        RouterApprovalDrain::swapAllCall {
            router: aggregator,
            token: b.usd,
            holders: users.iter().map(|(u, _)| u.address()).collect(),
        },
        "RouterApprovalDrain.swapAll(AggregationRouter, USD, [user1..user5]) - the router's executor call moves \
         the users' approved USD",
    )?;
    let got = sc.bal(b.usd, attacker.address())?;
    sc.check(got == eth(165_000), || format!("attacker USD {}, expected 165000", fmt_e18(got)))?;
    for (user, _) in users {
        let left = sc.bal(b.usd, user.address())?;
        sc.check(left.is_zero(), || format!("{} still holds {} USD", user.role, fmt_e18(left)))?;
    }
    Ok(())
}

/// `AggregationRouter.swap([USD, WETH, amount, min, user], SwapRouter,
/// ⟨swapExactTokensForTokens(amount, 0, [USD, WETH], AggregationRouter)⟩)`.
pub(super) fn aggregator_swap(
    sc: &mut Sc,
    user: &Actor,
    b: &super::Base,
    aggregator: Address,
    amount: U256,
    min: U256,
) -> Result<(), CorpusError> {
    let route = SwapRouter::swapExactTokensForTokensCall {
        amountIn: amount,
        amountOutMin: U256::ZERO,
        path: vec![b.usd, b.weth],
        to: aggregator,
    };
    sc.benign(
        user,
        aggregator,
        AggregationRouter::swapCall {
            desc: AggregationRouter::SwapDescription {
                srcToken: b.usd,
                dstToken: b.weth,
                amount,
                minReturn: min,
                receiver: user.address(),
            },
            executor: b.router,
            route: SolCall::abi_encode(&route).into(),
        },
        &format!(
            "AggregationRouter.swap([USD, WETH, {}, {}, {}], SwapRouter, swapExactTokensForTokens) - swap USD for \
             WETH via the aggregator",
            amt(amount),
            amt(min),
            user.role
        ),
    )?;
    Ok(())
}

fn a9(sc: &mut Sc) -> Result<(), CorpusError> {
    let [user1, user2, user3, attacker] =
        sc.genesis(100_000, [("user1", 1), ("user2", 1), ("user3", 1), ("attacker", 1)])?;
    let d = sc.d.clone();
    let b = sc.base()?;
    let stk = sc.token(&d, "Stake", "STK")?;
    sc.mint(stk, d.address(), eth(1_000_000))?;
    sc.wrap(Label::Setup, &d, b.weth, eth(1000))?;
    sc.approve(Label::Setup, &d, stk, b.router)?;
    sc.approve(Label::Setup, &d, b.weth, b.router)?;
    add_liquidity(sc, &d, b.router, stk, b.weth, eth(100_000), eth(100))?;
    let pair = sc.pair(b.factory, stk, b.weth, "Pair(STK/WETH)")?;
    let staking = staking(sc, stk, b.weth)?;
    for (user, amount) in [(&user1, 5000), (&user2, 3000), (&user3, 2000)] {
        sc.transfer(Label::Setup, &d, stk, user.address(), eth(amount))?;
        sc.approve(Label::Benign, user, stk, staking)?;
        sc.benign(
            user,
            staking,
            StakingRewards::stakeCall { amount: eth(amount) },
            &format!("StakingRewards.stake({})", amt(eth(amount))),
        )?;
    }
    sc.transfer(Label::Setup, &d, stk, attacker.address(), eth(1000))?;
    let exploit = deploy_plain(sc, &attacker, "FlashStakeClaim", &FlashStakeClaim::BYTECODE)?;
    sc.transfer(Label::Setup, &attacker, stk, exploit, eth(1000))?;
    sc.approve(Label::Setup, &d, b.weth, staking)?;
    sc.benign(
        &d,
        staking,
        StakingRewards::startRoundCall { reward: eth(50) },
        "StakingRewards.startRound(50e18) - owner funds round 1 with 50 WETH",
    )?;
    let before = sc.bal(b.weth, attacker.address())?;
    sc.attack(
        &attacker,
        exploit,
        FlashStakeClaim::harvestCall { pair, staking, amount: eth(90_000) },
        "FlashStakeClaim.harvest(Pair(STK/WETH), StakingRewards, 90000e18) - flash-swap STK, stake, claim, unstake",
    )?;
    gained(sc, "attacker WETH", before, sc.bal(b.weth, attacker.address())?, eth(45))?;
    for user in [&user1, &user2, &user3] {
        sc.benign(user, staking, StakingRewards::claimCall {}, "StakingRewards.claim() - staker claims what is left")?;
    }
    let got = sc.bal(b.weth, user1.address())?;
    sc.check(got == eth(5), || format!("user1 got {} WETH, expected 5", fmt_e18(got)))
}

fn a10(sc: &mut Sc) -> Result<(), CorpusError> {
    let [user1, user2, attacker] = sc.genesis(100_000, [("user1", 10), ("user2", 10), ("attacker", 1)])?;
    let d = sc.d.clone();
    let b = sc.base()?;
    sc.wrap(Label::Setup, &d, b.weth, eth(100))?;
    let (items, pool) = seeded_item_pool(sc, b.weth, [10_000, 5000, 1000], 200, eth(20))?;
    sc.wrap(Label::Benign, &user1, b.weth, eth(5))?;
    sc.approve(Label::Benign, &user1, b.weth, pool)?;
    sc.benign(
        &user1,
        pool,
        ItemPool::buyItemsCall { itemsOut: U256::from(5), maxWethIn: eth(1) },
        "ItemPool.buyItems(5, 1e18) - buy 5 swords",
    )?;
    sc.setup(
        &d,
        items,
        GameItems::safeTransferFromCall {
            from: d.address(),
            to: user2.address(),
            id: U256::from(1),
            amount: U256::from(10),
            data: Default::default(),
        },
        "GameItems.safeTransferFrom(deployer, user2, 1, 10, 0x)",
    )?;
    sc.benign(
        &user2,
        items,
        GameItems::setApprovalForAllCall { operator: pool, approved: true },
        "GameItems.setApprovalForAll(ItemPool, true)",
    )?;
    sc.benign(
        &user2,
        pool,
        ItemPool::sellItemsCall { itemsIn: U256::from(3), minWethOut: U256::ZERO },
        "ItemPool.sellItems(3, 0) - sell 3 swords",
    )?;
    sc.benign(
        &user2,
        pool,
        ItemPool::sellItemsForExactWethCall { wethOut: frac(2, 10), maxItemsIn: U256::from(3) },
        "ItemPool.sellItemsForExactWeth(0.2e18, 3) - sell swords for exactly 0.2 WETH",
    )?;
    let exploit = deploy_plain(sc, &attacker, "ItemPoolDust", &ItemPoolDust::BYTECODE)?;
    let before = sc.bal(b.weth, attacker.address())?;
    sc.attack(
        &attacker,
        exploit,
        ItemPoolDust::tradeCall { pool, iterations: U256::from(250) },
        "ItemPoolDust.trade(ItemPool, 250) - 250 sells that round to zero items",
    )?;
    gained(sc, "attacker WETH", before, sc.bal(b.weth, attacker.address())?, eth(10))
}

fn a11(sc: &mut Sc) -> Result<(), CorpusError> {
    let [user1, user2, user3, user4, attacker] =
        sc.genesis(100_000, [("user1", 1), ("user2", 1), ("user3", 1), ("user4", 1), ("attacker", 1)])?;
    let d = sc.d.clone();
    let b = sc.base()?;
    sc.mint(b.usd, d.address(), eth(10_000_000))?;
    sc.transfer(Label::Setup, &d, b.usd, b.lender, eth(500_000))?;
    let market = sc.deploy(
        Label::Setup,
        &d,
        "MarginMarket",
        &MarginMarket::BYTECODE,
        MarginMarket::constructorCall { underlying_: b.usd }.abi_encode(),
        "MarginMarket(USD)",
    )?;
    for (user, amount) in [(&user1, 400_000), (&user2, 350_000), (&user3, 250_000), (&user4, 50_000)] {
        sc.transfer(Label::Setup, &d, b.usd, user.address(), eth(amount))?;
        sc.approve(Label::Benign, user, b.usd, market)?;
        sc.benign(
            user,
            market,
            MarginMarket::depositCall { amount: eth(amount) },
            &format!("MarginMarket.deposit({})", amt(eth(amount))),
        )?;
    }
    sc.benign(&user4, market, MarginMarket::borrowCall { amount: eth(20_000) }, "MarginMarket.borrow(20000e18)")?;
    sc.benign(
        &user4,
        market,
        MarginMarket::mintCall { amount: eth(100_000) },
        "MarginMarket.mint(100000e18) - user4 levers up",
    )?;
    let exploit = deploy_plain(sc, &attacker, "DonationLiquidation", &DonationLiquidation::BYTECODE)?;
    let before = sc.bal(b.usd, attacker.address())?;
    sc.attack(
        &attacker,
        exploit,
        DonationLiquidation::executeCall {
            lender: b.lender,
            market,
            loan: eth(200_000),
            leverage: eth(1_800_000),
            donation: eth(400_000),
        },
        "DonationLiquidation.execute(FlashLender, MarginMarket, 200000e18, 1800000e18, 400000e18) - lever, donate, \
         liquidate itself at the maximum discount",
    )?;
    gained(sc, "attacker USD", before, sc.bal(b.usd, attacker.address())?, eth(119_000))
}

fn a12(sc: &mut Sc) -> Result<(), CorpusError> {
    let [user1, user2, user3, attacker] =
        sc.genesis(100_000, [("user1", 1), ("user2", 1), ("user3", 1), ("attacker", 1)])?;
    let d = sc.d.clone();
    let b = sc.base()?;
    let gov = sc.token(&d, "Governance", "GOV")?;
    sc.mint(gov, d.address(), eth(1_000_000))?;
    sc.mint(b.usd, d.address(), eth(10_000_000))?;
    sc.wrap(Label::Setup, &d, b.weth, eth(1000))?;
    let governor = sc.deploy(
        Label::Setup,
        &d,
        "Governor",
        &Governor::BYTECODE,
        Governor::constructorCall { token_: gov }.abi_encode(),
        "Governor(GOV)",
    )?;
    sc.transfer(Label::Setup, &d, b.weth, governor, eth(800))?;
    sc.transfer(Label::Setup, &d, b.usd, governor, eth(1_000_000))?;
    sc.transfer(Label::Setup, &d, gov, b.lender, eth(700_000))?;
    for (user, amount) in [(&user1, 100_000), (&user2, 80_000), (&user3, 60_000), (&attacker, 15_000)] {
        sc.transfer(Label::Setup, &d, gov, user.address(), eth(amount))?;
    }
    let grant = Token::transferCall { to: user3.address(), amount: eth(10_000) };
    sc.benign(
        &user1,
        governor,
        Governor::proposeCall {
            target: b.usd,
            value: U256::ZERO,
            data: SolCall::abi_encode(&grant).into(),
            description: "Grant 10,000 USD to the analytics team".into(),
        },
        "Governor.propose(USD, 0, transfer(user3, 10000e18), \"Grant 10,000 USD to the analytics team\")",
    )?;
    sc.benign(
        &user1,
        governor,
        Governor::castVoteCall { id: U256::ZERO, support: true },
        "Governor.castVote(0, true)",
    )?;
    sc.benign(
        &user2,
        governor,
        Governor::castVoteCall { id: U256::ZERO, support: true },
        "Governor.castVote(0, true)",
    )?;
    let grab = WETH::transferCall { to: attacker.address(), amount: eth(800) };
    sc.setup(
        &attacker,
        governor,
        Governor::proposeCall {
            target: b.weth,
            value: U256::ZERO,
            data: SolCall::abi_encode(&grab).into(),
            description: "Move treasury WETH to the new multisig".into(),
        },
        "Governor.propose(WETH, 0, transfer(attacker, 800e18), \"Move treasury WETH to the new multisig\")",
    )?;
    let exploit = deploy_plain(sc, &attacker, "FlashVote", &FlashVote::BYTECODE)?;
    sc.transfer(Label::Setup, &attacker, gov, exploit, eth(15_000))?;
    sc.benign(
        &user3,
        governor,
        Governor::castVoteCall { id: U256::ZERO, support: true },
        "Governor.castVote(0, true)",
    )?;
    let before = sc.bal(b.weth, attacker.address())?;
    sc.attack(
        &attacker,
        exploit,
        FlashVote::voteCall { lender: b.lender, governor, proposalId: U256::from(1), loan: eth(660_000) },
        "FlashVote.vote(FlashLender, Governor, 1, 660000e18) - vote with flash-borrowed GOV and execute",
    )?;
    gained(sc, "attacker WETH", before, sc.bal(b.weth, attacker.address())?, eth(800))?;
    let left = sc.bal(b.weth, governor)?;
    sc.check(left.is_zero(), || format!("treasury still holds {} WETH", fmt_e18(left)))
}

fn a13(sc: &mut Sc) -> Result<(), CorpusError> {
    let [validator, validator2, user1, user2, user3, attacker] = sc.genesis(
        100_000,
        [("bridgeValidator", 0), ("bridgeValidator2", 0), ("user1", 1), ("user2", 1), ("user3", 1), ("attacker", 1)],
    )?;
    sc.base()?;
    let (bridge, beth) = minting_bridge(sc, &[&validator, &validator2])?;
    // Users relay their own attested messages.
    mint_with_signature(sc, &user1, bridge, (&validator, 0), 0, user1.address(), eth(120))?;
    mint_with_signature(sc, &user2, bridge, (&validator2, 1), 1, user2.address(), eth(250))?;
    mint_with_signature(sc, &user3, bridge, (&validator, 0), 2, user3.address(), eth(40))?;
    let exploit = deploy_plain(sc, &attacker, "BridgeForgedMint", &BridgeForgedMint::BYTECODE)?;
    let supply0: U256 = sc.chain.view(beth, &Token::totalSupplyCall {})?;
    sc.check(supply0 == eth(410), || format!("bETH supply {} before the attack, expected 410", fmt_e18(supply0)))?;
    let before = sc.bal(beth, exploit)?;
    let amount = eth(100_000);
    sc.attack(
        &attacker,
        exploit,
        BridgeForgedMint::relayCall { bridge, amount, nonce: 9000 },
        &format!(
            "BridgeForgedMint.relay(MintingBridge, {}, 9000) - mint for a message no validator signed",
            amt(amount)
        ),
    )?;
    let after = sc.bal(beth, exploit)?;
    sc.check(after == before + amount, || {
        format!("attacker contract bETH {} -> {}, expected +100000", fmt_e18(before), fmt_e18(after))
    })?;
    let supply: U256 = sc.chain.view(beth, &Token::totalSupplyCall {})?;
    sc.check(supply == supply0 + amount, || format!("bETH supply {}, expected 100410", fmt_e18(supply)))?;
    for (user, expected) in [(&user1, 120), (&user2, 250), (&user3, 40)] {
        let got = sc.bal(beth, user.address())?;
        sc.check(got == eth(expected), || format!("{} bETH {}, expected {expected}", user.role, fmt_e18(got)))?;
    }
    Ok(())
}
