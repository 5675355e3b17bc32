//! The world: the genuine protocols deployed and seeded as `setup`
//! transactions, users holding ETH at genesis and tokens from an exchange
//! Safe's batched withdrawals, Safes, an airdrop, a governed treasury,
//! ERC-4626 vaults and the bots' contracts.

use std::collections::BTreeMap;

use alloy_primitives::{Address, Bytes, TxKind, U256};
use alloy_sol_types::{SolCall, SolConstructor};
use rand::{seq::SliceRandom, Rng};
use rand_chacha::ChaCha8Rng;
use vigil_fixture::Label;

use super::bindings::{
    system_config::{ResourceMetering::ResourceConfig, SystemConfig::Addresses as SystemAddresses},
    L2OutputOracle, OptimismPortal, Proxy, SuperchainConfig, SystemConfig, UniversalRouter,
};
use super::{
    bindings::{
        pool_configurator::ConfiguratorInputTypes::InitReserveInput, ACLManager, AToken, AaveOracle, Authorizer,
        BalancerFlashArbBot, CompatibilityFallbackHandler, DefaultReserveInterestRateStrategy, FlashArbBot,
        FlashLiquidatorBot, MerkleDistributor, MockAggregator, MultiSend, MultiSendCallOnly,
        NonfungiblePositionManager, PermitToken, Pool, PoolAddressesProvider, PoolConfigurator, QuoterV2, SafeL2,
        SafeProxyFactory, StableDebtToken, SwapRouter, TimelockController, TimelockGovernor, TokenVault,
        UniswapV2Factory, UniswapV2Router02, UniswapV3Factory, UniswapV3Pool, VariableDebtToken,
        Vault as BalancerVault, VotesToken, WeightedPool, WeightedPoolFactory, WETH9,
    },
    link,
    merkle::{self, Claim, Tree},
    util::{self, fmt_units, round_sig, safe_signatures, units, BatchCall},
};
use crate::{chain::Chain, keys, Actor, CorpusError};

/// Index of each token in [`World::tokens`].
pub(crate) const WETH: usize = 0;
pub(crate) const USDC: usize = 1;
pub(crate) const WBTC: usize = 2;
pub(crate) const DAI: usize = 3;
pub(crate) const LINK: usize = 4;
pub(crate) const GOV: usize = 5;

/// An ERC-20 of the world.
#[derive(Debug, Clone)]
pub(crate) struct TokenInfo {
    pub(crate) address: Address,
    pub(crate) symbol: &'static str,
    pub(crate) decimals: u8,
    /// Price in USD at genesis.
    pub(crate) usd: f64,
}

/// A Uniswap v2 pair.
#[derive(Debug, Clone, Copy)]
pub(crate) struct V2Pair {
    pub(crate) address: Address,
    pub(crate) a: usize,
    pub(crate) b: usize,
}

/// A Uniswap v3 pool (`a` is token0).
#[derive(Debug, Clone, Copy)]
pub(crate) struct V3Pool {
    pub(crate) address: Address,
    pub(crate) a: usize,
    pub(crate) b: usize,
    pub(crate) fee: u32,
    pub(crate) spacing: i32,
}

/// An Aave reserve.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reserve {
    pub(crate) token: usize,
    pub(crate) a_token: Address,
    pub(crate) debt_token: Address,
}

/// A Safe and its owners (indexes into `users`).
#[derive(Debug, Clone)]
pub(crate) struct SafeInfo {
    pub(crate) address: Address,
    pub(crate) owners: Vec<usize>,
    pub(crate) threshold: usize,
}

/// A Balancer v2 weighted pool.
#[derive(Debug, Clone)]
pub(crate) struct BalPool {
    pub(crate) address: Address,
    pub(crate) id: alloy_primitives::B256,
    /// Its tokens in the pool's (address) order.
    pub(crate) tokens: Vec<usize>,
    /// Normalized weights (18 decimals), in the same order.
    pub(crate) weights: Vec<U256>,
    /// Swap fee (a fraction).
    pub(crate) fee: f64,
}

/// An ERC-4626 vault.
#[derive(Debug, Clone, Copy)]
pub(crate) struct VaultInfo {
    pub(crate) address: Address,
    pub(crate) asset: usize,
}

/// One airdrop claim with its proof.
#[derive(Debug, Clone)]
pub(crate) struct AirdropClaim {
    pub(crate) user: usize,
    pub(crate) claim: Claim,
    pub(crate) proof: Vec<alloy_primitives::B256>,
}

/// Every contract address of the world.
#[derive(Debug, Clone)]
pub(crate) struct Addrs {
    pub(crate) v2_router: Address,
    pub(crate) v3_router: Address,
    pub(crate) npm: Address,
    pub(crate) quoter: Address,
    pub(crate) aave_pool: Address,
    pub(crate) aave_oracle: Address,
    pub(crate) safe_singleton: Address,
    pub(crate) safe_factory: Address,
    pub(crate) multisend: Address,
    pub(crate) multisend_call_only: Address,
    pub(crate) fallback_handler: Address,
    pub(crate) distributor: Address,
    pub(crate) timelock: Address,
    pub(crate) governor: Address,
    pub(crate) balancer_vault: Address,
    pub(crate) universal_router: Address,
    pub(crate) portal: Address,
    pub(crate) output_oracle: Address,
}

/// The world after its setup, shared by every fixture of a run.
#[derive(Debug, Clone)]
pub(crate) struct World {
    pub(crate) chain: Chain,
    pub(crate) deployer: Actor,
    pub(crate) users: Vec<Actor>,
    pub(crate) tokens: Vec<TokenInfo>,
    pub(crate) pairs: Vec<V2Pair>,
    pub(crate) pools: Vec<V3Pool>,
    pub(crate) reserves: Vec<Reserve>,
    pub(crate) bal_pools: Vec<BalPool>,
    pub(crate) safes: Vec<SafeInfo>,
    pub(crate) vaults: Vec<VaultInfo>,
    pub(crate) claims: Vec<AirdropClaim>,
    /// GOV holders who delegated to themselves during setup.
    pub(crate) delegates: Vec<usize>,
    /// Pays profit into the vaults.
    pub(crate) strategist: Actor,
    /// Calls permissionless maintenance functions.
    pub(crate) keeper: Actor,
    /// Arbitrage bots and their `FlashArbBot`s.
    pub(crate) arb_bots: Vec<(Actor, Address)>,
    /// Arbitrage bots with Balancer flash loans and their `BalancerFlashArbBot`s.
    pub(crate) bal_arb_bots: Vec<(Actor, Address)>,
    /// Liquidation bots and their `FlashLiquidatorBot`s.
    pub(crate) flash_liquidators: Vec<(Actor, Address)>,
    /// Liquidators who repay from their own balances.
    pub(crate) liquidators: Vec<Actor>,
    /// Proposes L2 output roots to the L2OutputOracle.
    pub(crate) proposer: Actor,
    /// Large traders who move the markets (their sizes make the prices drift).
    pub(crate) desks: Vec<Actor>,
    /// Price each Aave feed reports at the end of setup (8 decimals).
    pub(crate) feeds: BTreeMap<usize, U256>,
    pub(crate) a: Addrs,
}

/// Setup transactions, each of which must succeed.
struct Setup {
    chain: Chain,
}

impl Setup {
    fn call<C: SolCall>(
        &mut self,
        from: &Actor,
        to: Address,
        value: U256,
        call: C,
        note: &str,
    ) -> Result<Bytes, CorpusError> {
        let note = format!("{}: {note}", from.role);
        Ok(self.chain.send(Label::Setup, from, TxKind::Call(to), value, call.abi_encode(), note)?.output)
    }

    fn deploy(&mut self, from: &Actor, code: &[u8], args: &[u8], note: &str) -> Result<Address, CorpusError> {
        let expected = from.address().create(self.chain.state().nonce(from.address()));
        let mut data = code.to_vec();
        data.extend_from_slice(args);
        let note = format!("{}: deploy {note}", from.role);
        let sent = self.chain.send(Label::Setup, from, TxKind::Create, U256::ZERO, data, note.clone())?;
        match sent.created {
            Some(a) if a == expected => Ok(a),
            other => Err(CorpusError::Check {
                fixture: self.chain.name().to_owned(),
                what: format!("{note}: created {other:?}, expected {expected}"),
            }),
        }
    }

    fn approve(&mut self, from: &Actor, token: &TokenInfo, spender: Address, what: &str) -> Result<(), CorpusError> {
        let call = PermitToken::approveCall { spender, value: U256::MAX };
        self.call(from, token.address, U256::ZERO, call, &format!("{}.approve({what}, MAX)", token.symbol))?;
        Ok(())
    }

    /// Executes `call` from `safe` with the signatures of its first
    /// `threshold` owners, submitted by the first.
    fn safe_exec(
        &mut self,
        owners: &[&Actor],
        safe: Address,
        call: &BatchCall,
        op: u8,
        note: &str,
    ) -> Result<(), CorpusError> {
        let nonce = self.chain.view(safe, &SafeL2::nonceCall {})?;
        let hash = self.chain.view(
            safe,
            &SafeL2::getTransactionHashCall {
                to: call.to,
                value: call.value,
                data: call.data.clone(),
                operation: op,
                safeTxGas: U256::ZERO,
                baseGas: U256::ZERO,
                gasPrice: U256::ZERO,
                gasToken: Address::ZERO,
                refundReceiver: Address::ZERO,
                _nonce: nonce,
            },
        )?;
        let exec = SafeL2::execTransactionCall {
            to: call.to,
            value: call.value,
            data: call.data.clone(),
            operation: op,
            safeTxGas: U256::ZERO,
            baseGas: U256::ZERO,
            gasPrice: U256::ZERO,
            gasToken: Address::ZERO,
            refundReceiver: Address::ZERO,
            signatures: safe_signatures(owners, hash)?,
        };
        self.call(owners[0], safe, U256::ZERO, exec, note)?;
        Ok(())
    }
}

fn err(what: impl Into<String>) -> CorpusError {
    CorpusError::InvalidArgument(what.into())
}

/// ETH a user holds at genesis: most between 0.05 and 20, some up to 500, a
/// few whales up to 5,000; three significant digits.
fn user_eth(rng: &mut ChaCha8Rng) -> U256 {
    let r: f64 = rng.gen();
    let (lo, hi) = if r < 0.80 {
        (0.05, 20.0)
    } else if r < 0.98 {
        (20.0, 500.0)
    } else {
        (500.0, 5000.0)
    };
    round_sig(util::u(util::log_uniform(rng, lo, hi) * 1e18), 3)
}

/// `sqrtPriceX96` of a pool whose token1 is worth `p1_per_0` token0 units
/// per... i.e. the raw price `amount1 / amount0`.
fn sqrt_price_x96(raw_price: f64) -> U256 {
    util::u(raw_price.sqrt() * 79_228_162_514_264_337_593_543_950_336.0)
}

/// Builds the world for `users` users named after `name`.
pub(crate) fn build(name: &str, users: usize, safes: usize, rng: &mut ChaCha8Rng) -> Result<World, CorpusError> {
    let actor = |role: &str| keys::actor(name, role);
    let d = actor("deployer")?;
    let exchange: Vec<Actor> = (1..=3).map(|i| actor(&format!("exchange-signer-{i}"))).collect::<Result<_, _>>()?;
    let strategist = actor("vault-strategist")?;
    let keeper = actor("keeper")?;
    let arb: Vec<Actor> = (1..=2).map(|i| actor(&format!("arb-bot-{i}"))).collect::<Result<_, _>>()?;
    let bal_arb: Vec<Actor> = (1..=2).map(|i| actor(&format!("balancer-arb-bot-{i}"))).collect::<Result<_, _>>()?;
    let fliq: Vec<Actor> = (1..=2).map(|i| actor(&format!("flash-liquidator-{i}"))).collect::<Result<_, _>>()?;
    let liq: Vec<Actor> = (1..=2).map(|i| actor(&format!("liquidator-{i}"))).collect::<Result<_, _>>()?;
    let desks: Vec<Actor> = (1..=3).map(|i| actor(&format!("trading-desk-{i}"))).collect::<Result<_, _>>()?;
    let user_actors: Vec<Actor> = (1..=users).map(|i| actor(&format!("user{i}"))).collect::<Result<_, _>>()?;

    let mut alloc = vec![(d.address(), units(2_000_000, 18))];
    for a in exchange
        .iter()
        .chain([&strategist, &keeper])
        .chain(arb.iter())
        .chain(fliq.iter())
        .chain(liq.iter())
        .chain(desks.iter())
    {
        alloc.push((a.address(), units(10, 18)));
    }
    for u in &user_actors {
        alloc.push((u.address(), user_eth(rng)));
    }
    let mut s = Setup { chain: Chain::new(name, alloc)? };

    // ---- tokens ----
    let weth = s.deploy(&d, &WETH9::BYTECODE, &[], "WETH9")?;
    let mut tokens = vec![TokenInfo { address: weth, symbol: "WETH", decimals: 18, usd: 3000.0 }];
    for (nm, symbol, decimals, usd) in [
        ("USD Coin", "USDC", 6u8, 1.0),
        ("Wrapped BTC", "WBTC", 8, 60_000.0),
        ("Dai Stablecoin", "DAI", 18, 1.0),
        ("ChainLink Token", "LINK", 18, 15.0),
    ] {
        let args = PermitToken::constructorCall {
            name_: nm.into(),
            symbol_: symbol.into(),
            decimals_: decimals,
            initialOwner: d.address(),
        }
        .abi_encode();
        let address =
            s.deploy(&d, &PermitToken::BYTECODE, &args, &format!("PermitToken({nm:?}, {symbol:?}, {decimals})"))?;
        tokens.push(TokenInfo { address, symbol, decimals, usd });
    }
    let gov_args = VotesToken::constructorCall {
        name_: "Vigil Governance".into(),
        symbol_: "GOV".into(),
        recipient: d.address(),
        supply: units(100_000_000, 18),
    }
    .abi_encode();
    let gov = s.deploy(&d, &VotesToken::BYTECODE, &gov_args, "VotesToken(\"Vigil Governance\", \"GOV\", 100M)")?;
    tokens.push(TokenInfo { address: gov, symbol: "GOV", decimals: 18, usd: 5.0 });
    for (i, n) in [(USDC, 2_000_000_000u64), (WBTC, 100_000), (DAI, 2_000_000_000), (LINK, 200_000_000)] {
        let t = tokens[i].clone();
        let amount = units(n, t.decimals);
        let call = PermitToken::mintCall { to: d.address(), amount };
        s.call(&d, t.address, U256::ZERO, call, &format!("{}.mint(deployer, {n})", t.symbol))?;
    }
    s.call(&d, weth, units(200_000, 18), WETH9::depositCall {}, "WETH.deposit() {value: 200000}")?;
    // Amount of token `i` worth `usd` dollars at genesis prices.
    let worth = |t: &TokenInfo, usd: f64| round_sig(util::u(usd / t.usd * 10f64.powi(i32::from(t.decimals))), 4);

    // ---- Uniswap v2 ----
    let v2_factory = s.deploy(
        &d,
        &UniswapV2Factory::BYTECODE,
        &UniswapV2Factory::constructorCall { _feeToSetter: d.address() }.abi_encode(),
        "UniswapV2Factory(deployer)",
    )?;
    let v2_router = s.deploy(
        &d,
        &UniswapV2Router02::BYTECODE,
        &UniswapV2Router02::constructorCall { _factory: v2_factory, _WETH: weth }.abi_encode(),
        "UniswapV2Router02(factory, WETH)",
    )?;
    let v3_factory = s.deploy(&d, &UniswapV3Factory::BYTECODE, &[], "UniswapV3Factory")?;
    let v3_router = s.deploy(
        &d,
        &SwapRouter::BYTECODE,
        &SwapRouter::constructorCall { _factory: v3_factory, _WETH9: weth }.abi_encode(),
        "SwapRouter(v3 factory, WETH)",
    )?;
    let npm = s.deploy(
        &d,
        &NonfungiblePositionManager::BYTECODE,
        &NonfungiblePositionManager::constructorCall {
            _factory: v3_factory,
            _WETH9: weth,
            _tokenDescriptor_: Address::ZERO,
        }
        .abi_encode(),
        "NonfungiblePositionManager(v3 factory, WETH, no descriptor)",
    )?;
    let quoter = s.deploy(
        &d,
        &QuoterV2::BYTECODE,
        &QuoterV2::constructorCall { _factory: v3_factory, _WETH9: weth }.abi_encode(),
        "QuoterV2(v3 factory, WETH)",
    )?;
    // Universal Router 2.1.0 as shipped: no npm package ships Permit2's
    // bytecode, so its Permit2 (and v4, Across) addresses are left empty;
    // the commands that do not pull tokens through Permit2 work.
    let pair_hash = alloy_primitives::keccak256(super::bindings::UniswapV2Pair::BYTECODE.as_ref());
    let pool_hash = alloy_primitives::keccak256(UniswapV3Pool::BYTECODE.as_ref());
    let universal_router = s.deploy(
        &d,
        &UniversalRouter::BYTECODE,
        &UniversalRouter::constructorCall {
            params: UniversalRouter::RouterParameters {
                permit2: Address::ZERO,
                weth9: weth,
                v2Factory: v2_factory,
                v3Factory: v3_factory,
                pairInitCodeHash: pair_hash,
                poolInitCodeHash: pool_hash,
                v4PoolManager: Address::ZERO,
                v3NFTPositionManager: npm,
                v4PositionManager: Address::ZERO,
                spokePool: Address::ZERO,
            },
        }
        .abi_encode(),
        "UniversalRouter(no Permit2, WETH, v2 and v3 factories and init code hashes, position manager)",
    )?;
    for t in tokens.clone() {
        s.approve(&d, &t, v2_router, "UniswapV2Router02")?;
        s.approve(&d, &t, npm, "NonfungiblePositionManager")?;
    }
    let deadline = U256::from(crate::GENESIS_TIMESTAMP + 10_000_000);
    let mut pairs = Vec::new();
    for (a, b, usd) in [
        (WETH, USDC, 60_000_000.0),
        (WETH, DAI, 20_000_000.0),
        (WBTC, WETH, 30_000_000.0),
        (LINK, WETH, 10_000_000.0),
        (USDC, DAI, 10_000_000.0),
        (GOV, WETH, 8_000_000.0),
        (LINK, USDC, 4_000_000.0),
    ] {
        let (ta, tb) = (tokens[a].clone(), tokens[b].clone());
        let (amount_a, amount_b) = (worth(&ta, usd / 2.0), worth(&tb, usd / 2.0));
        let call = UniswapV2Router02::addLiquidityCall {
            tokenA: ta.address,
            tokenB: tb.address,
            amountADesired: amount_a,
            amountBDesired: amount_b,
            amountAMin: U256::ZERO,
            amountBMin: U256::ZERO,
            to: d.address(),
            deadline,
        };
        let note = format!(
            "UniswapV2Router02.addLiquidity({}, {}, {}, {})",
            ta.symbol,
            tb.symbol,
            fmt_units(amount_a, ta.decimals),
            fmt_units(amount_b, tb.decimals)
        );
        s.call(&d, v2_router, U256::ZERO, call, &note)?;
        let address = s.chain.view(v2_factory, &UniswapV2Factory::getPairCall { _0: ta.address, _1: tb.address })?;
        pairs.push(V2Pair { address, a, b });
    }

    // ---- Uniswap v3 ----
    s.call(
        &d,
        v3_factory,
        U256::ZERO,
        UniswapV3Factory::enableFeeAmountCall {
            fee: alloy_primitives::Uint::from(100u32),
            tickSpacing: alloy_primitives::Signed::try_from(1i32).map_err(|_| err("tick"))?,
        },
        "UniswapV3Factory.enableFeeAmount(100, 1)",
    )?;
    let mut pools = Vec::new();
    for (x, y, fee, usd) in [
        (WETH, USDC, 500u32, 80_000_000.0),
        (WETH, USDC, 3000, 20_000_000.0),
        (WBTC, WETH, 3000, 30_000_000.0),
        (WBTC, WETH, 500, 10_000_000.0),
        (LINK, WETH, 3000, 10_000_000.0),
        (USDC, DAI, 100, 30_000_000.0),
        (WETH, DAI, 3000, 10_000_000.0),
        (GOV, WETH, 10_000, 6_000_000.0),
    ] {
        let (a, b) = if tokens[x].address < tokens[y].address { (x, y) } else { (y, x) };
        let (ta, tb) = (tokens[a].clone(), tokens[b].clone());
        // Raw price: token1 units per token0 unit.
        let raw = ta.usd / tb.usd * 10f64.powi(i32::from(tb.decimals) - i32::from(ta.decimals));
        let spacing: i32 = match fee {
            100 => 1,
            500 => 10,
            3000 => 60,
            _ => 200,
        };
        let call = NonfungiblePositionManager::createAndInitializePoolIfNecessaryCall {
            token0: ta.address,
            token1: tb.address,
            fee: alloy_primitives::Uint::from(fee),
            sqrtPriceX96: alloy_primitives::Uint::from(sqrt_price_x96(raw).to::<u128>()),
        };
        let note = format!(
            "NonfungiblePositionManager.createAndInitializePoolIfNecessary({}, {}, {fee})",
            ta.symbol, tb.symbol
        );
        s.call(&d, npm, U256::ZERO, call, &note)?;
        let address = s.chain.view(
            v3_factory,
            &UniswapV3Factory::getPoolCall { _0: ta.address, _1: tb.address, _2: alloy_primitives::Uint::from(fee) },
        )?;
        let tick: i32 = s.chain.view(address, &UniswapV3Pool::slot0Call {})?.tick.as_i32();
        // A full-range position and two bands around the price.
        let max_tick = 887_272 / spacing * spacing;
        for (lo, hi, share) in
            [(-max_tick, max_tick, 0.5), (tick - 2000, tick + 2000, 0.3), (tick - 400, tick + 400, 0.2)]
        {
            let lo = lo.div_euclid(spacing) * spacing;
            let hi = hi.div_euclid(spacing) * spacing + spacing;
            let (hi, lo) = (hi.min(max_tick), lo.max(-max_tick));
            let params = NonfungiblePositionManager::mintCall {
                params: super::bindings::nonfungible_position_manager::INonfungiblePositionManager::MintParams {
                    token0: ta.address,
                    token1: tb.address,
                    fee: alloy_primitives::Uint::from(fee),
                    tickLower: alloy_primitives::Signed::try_from(lo).map_err(|_| err("tick"))?,
                    tickUpper: alloy_primitives::Signed::try_from(hi).map_err(|_| err("tick"))?,
                    amount0Desired: worth(&ta, usd * share / 2.0),
                    amount1Desired: worth(&tb, usd * share / 2.0),
                    amount0Min: U256::ZERO,
                    amount1Min: U256::ZERO,
                    recipient: d.address(),
                    deadline,
                },
            };
            let note = format!("NonfungiblePositionManager.mint({}/{} {fee}, ticks {lo}..{hi})", ta.symbol, tb.symbol);
            s.call(&d, npm, U256::ZERO, params, &note)?;
        }
        pools.push(V3Pool { address, a, b, fee, spacing });
    }

    // ---- Aave v3 ----
    let provider = s.deploy(
        &d,
        &PoolAddressesProvider::BYTECODE,
        &PoolAddressesProvider::constructorCall { marketId: "Vigil".into(), owner: d.address() }.abi_encode(),
        "PoolAddressesProvider(\"Vigil\", deployer)",
    )?;
    s.call(
        &d,
        provider,
        U256::ZERO,
        PoolAddressesProvider::setACLAdminCall { newAclAdmin: d.address() },
        "PoolAddressesProvider.setACLAdmin(deployer)",
    )?;
    let acl = s.deploy(
        &d,
        &ACLManager::BYTECODE,
        &ACLManager::constructorCall { provider }.abi_encode(),
        "ACLManager(provider)",
    )?;
    s.call(
        &d,
        provider,
        U256::ZERO,
        PoolAddressesProvider::setACLManagerCall { newAclManager: acl },
        "PoolAddressesProvider.setACLManager(ACLManager)",
    )?;
    s.call(
        &d,
        acl,
        U256::ZERO,
        ACLManager::addPoolAdminCall { admin: d.address() },
        "ACLManager.addPoolAdmin(deployer)",
    )?;
    s.call(
        &d,
        acl,
        U256::ZERO,
        ACLManager::addRiskAdminCall { admin: d.address() },
        "ACLManager.addRiskAdmin(deployer)",
    )?;
    s.call(
        &d,
        acl,
        U256::ZERO,
        ACLManager::addAssetListingAdminCall { admin: d.address() },
        "ACLManager.addAssetListingAdmin(deployer)",
    )?;
    let mut libs = BTreeMap::new();
    for lib in link::POOL_LIBRARIES {
        let code = link::library_code(lib, &libs)?;
        let address = s.deploy(&d, &code, &[], lib)?;
        libs.insert(lib.to_owned(), address);
    }
    let pool_code = link::linked_code(link::POOL, &libs)?;
    let pool_impl =
        s.deploy(&d, &pool_code, &Pool::constructorCall { provider }.abi_encode(), "Pool(provider) implementation")?;
    s.call(&d, pool_impl, U256::ZERO, Pool::initializeCall { provider }, "Pool(implementation).initialize(provider)")?;
    s.call(
        &d,
        provider,
        U256::ZERO,
        PoolAddressesProvider::setPoolImplCall { newPoolImpl: pool_impl },
        "PoolAddressesProvider.setPoolImpl(Pool)",
    )?;
    let aave_pool = s.chain.view(provider, &PoolAddressesProvider::getPoolCall {})?;
    let conf_code = link::linked_code(link::POOL_CONFIGURATOR, &libs)?;
    let conf_impl = s.deploy(&d, &conf_code, &[], "PoolConfigurator implementation")?;
    s.call(
        &d,
        conf_impl,
        U256::ZERO,
        PoolConfigurator::initializeCall { provider },
        "PoolConfigurator(implementation).initialize(provider)",
    )?;
    s.call(
        &d,
        provider,
        U256::ZERO,
        PoolAddressesProvider::setPoolConfiguratorImplCall { newPoolConfiguratorImpl: conf_impl },
        "PoolAddressesProvider.setPoolConfiguratorImpl(PoolConfigurator)",
    )?;
    let configurator = s.chain.view(provider, &PoolAddressesProvider::getPoolConfiguratorCall {})?;
    let lending = [WETH, USDC, WBTC, DAI, LINK];
    let mut feeds = BTreeMap::new();
    let mut sources = Vec::new();
    for &i in &lending {
        let answer = util::u(tokens[i].usd * 1e8);
        let agg = s.deploy(
            &d,
            &MockAggregator::BYTECODE,
            &MockAggregator::constructorCall {
                initialAnswer: alloy_primitives::I256::try_from(answer).map_err(|_| err("price"))?,
            }
            .abi_encode(),
            &format!("MockAggregator({}/USD {})", tokens[i].symbol, fmt_units(answer, 8)),
        )?;
        feeds.insert(i, answer);
        sources.push(agg);
    }
    let oracle = s.deploy(
        &d,
        &AaveOracle::BYTECODE,
        &AaveOracle::constructorCall {
            provider,
            assets: lending.iter().map(|i| tokens[*i].address).collect(),
            sources,
            fallbackOracle: Address::ZERO,
            baseCurrency: Address::ZERO,
            baseCurrencyUnit: U256::from(100_000_000u64),
        }
        .abi_encode(),
        "AaveOracle(provider, 5 feeds, USD base, 1e8)",
    )?;
    s.call(
        &d,
        provider,
        U256::ZERO,
        PoolAddressesProvider::setPriceOracleCall { newPriceOracle: oracle },
        "PoolAddressesProvider.setPriceOracle(AaveOracle)",
    )?;
    let a_token_impl = s.deploy(
        &d,
        &AToken::BYTECODE,
        &AToken::constructorCall { pool: aave_pool }.abi_encode(),
        "AToken(pool) implementation",
    )?;
    let var_impl = s.deploy(
        &d,
        &VariableDebtToken::BYTECODE,
        &VariableDebtToken::constructorCall { pool: aave_pool }.abi_encode(),
        "VariableDebtToken(pool) implementation",
    )?;
    let stable_impl = s.deploy(
        &d,
        &StableDebtToken::BYTECODE,
        &StableDebtToken::constructorCall { pool: aave_pool }.abi_encode(),
        "StableDebtToken(pool) implementation",
    )?;
    let ray = |pct: u64| U256::from(pct) * U256::from(10u64).pow(U256::from(25u64));
    let volatile = s.deploy(
        &d,
        &DefaultReserveInterestRateStrategy::BYTECODE,
        &DefaultReserveInterestRateStrategy::constructorCall {
            provider,
            optimalUsageRatio: ray(45),
            baseVariableBorrowRate: U256::ZERO,
            variableRateSlope1: ray(4),
            variableRateSlope2: ray(300),
            stableRateSlope1: ray(7),
            stableRateSlope2: ray(300),
            baseStableRateOffset: ray(2),
            stableRateExcessOffset: ray(5),
            optimalStableToTotalDebtRatio: ray(20),
        }
        .abi_encode(),
        "DefaultReserveInterestRateStrategy(volatile: 45% optimal, 4% / 300%)",
    )?;
    let stable_rates = s.deploy(
        &d,
        &DefaultReserveInterestRateStrategy::BYTECODE,
        &DefaultReserveInterestRateStrategy::constructorCall {
            provider,
            optimalUsageRatio: ray(90),
            baseVariableBorrowRate: U256::ZERO,
            variableRateSlope1: ray(4),
            variableRateSlope2: ray(60),
            stableRateSlope1: ray(1),
            stableRateSlope2: ray(60),
            baseStableRateOffset: ray(1),
            stableRateExcessOffset: ray(8),
            optimalStableToTotalDebtRatio: ray(20),
        }
        .abi_encode(),
        "DefaultReserveInterestRateStrategy(stablecoins: 90% optimal, 4% / 60%)",
    )?;
    let treasury = actor("aave-treasury")?.address();
    let input: Vec<InitReserveInput> = lending
        .iter()
        .map(|&i| {
            let t = &tokens[i];
            InitReserveInput {
                aTokenImpl: a_token_impl,
                stableDebtTokenImpl: stable_impl,
                variableDebtTokenImpl: var_impl,
                underlyingAssetDecimals: t.decimals,
                interestRateStrategyAddress: if i == USDC || i == DAI { stable_rates } else { volatile },
                underlyingAsset: t.address,
                treasury,
                incentivesController: Address::ZERO,
                aTokenName: format!("Aave {}", t.symbol),
                aTokenSymbol: format!("a{}", t.symbol),
                variableDebtTokenName: format!("Aave Variable Debt {}", t.symbol),
                variableDebtTokenSymbol: format!("variableDebt{}", t.symbol),
                stableDebtTokenName: format!("Aave Stable Debt {}", t.symbol),
                stableDebtTokenSymbol: format!("stableDebt{}", t.symbol),
                params: Bytes::new(),
            }
        })
        .collect();
    s.call(
        &d,
        configurator,
        U256::ZERO,
        PoolConfigurator::initReservesCall { input },
        "PoolConfigurator.initReserves(WETH, USDC, WBTC, DAI, LINK)",
    )?;
    let mut reserves = Vec::new();
    for (&i, (ltv, lt, bonus)) in lending.iter().zip([
        (8000u64, 8250u64, 10500u64),
        (7700, 8000, 10450),
        (7000, 7500, 10650),
        (7500, 8000, 10500),
        (5000, 6500, 10750),
    ]) {
        let t = tokens[i].clone();
        let c = PoolConfigurator::configureReserveAsCollateralCall {
            asset: t.address,
            ltv: U256::from(ltv),
            liquidationThreshold: U256::from(lt),
            liquidationBonus: U256::from(bonus),
        };
        s.call(
            &d,
            configurator,
            U256::ZERO,
            c,
            &format!("PoolConfigurator.configureReserveAsCollateral({}, {ltv}, {lt}, {bonus})", t.symbol),
        )?;
        let c = PoolConfigurator::setReserveBorrowingCall { asset: t.address, enabled: true };
        s.call(&d, configurator, U256::ZERO, c, &format!("PoolConfigurator.setReserveBorrowing({}, true)", t.symbol))?;
        let c = PoolConfigurator::setReserveFlashLoaningCall { asset: t.address, enabled: true };
        s.call(
            &d,
            configurator,
            U256::ZERO,
            c,
            &format!("PoolConfigurator.setReserveFlashLoaning({}, true)", t.symbol),
        )?;
        let c = PoolConfigurator::setReserveFactorCall { asset: t.address, newReserveFactor: U256::from(1000u64) };
        s.call(&d, configurator, U256::ZERO, c, &format!("PoolConfigurator.setReserveFactor({}, 1000)", t.symbol))?;
        let data = s.chain.view(aave_pool, &Pool::getReserveDataCall { asset: t.address })?;
        reserves.push(Reserve { token: i, a_token: data.aTokenAddress, debt_token: data.variableDebtTokenAddress });
    }
    s.call(
        &d,
        configurator,
        U256::ZERO,
        PoolConfigurator::updateFlashloanPremiumTotalCall { newFlashloanPremiumTotal: 5 },
        "PoolConfigurator.updateFlashloanPremiumTotal(5)",
    )?;
    for &i in &lending {
        let t = tokens[i].clone();
        s.approve(&d, &t, aave_pool, "Pool")?;
        let amount = worth(&t, 40_000_000.0);
        let c = Pool::supplyCall { asset: t.address, amount, onBehalfOf: d.address(), referralCode: 0 };
        s.call(&d, aave_pool, U256::ZERO, c, &format!("Pool.supply({}, {})", t.symbol, fmt_units(amount, t.decimals)))?;
    }

    // ---- Balancer v2 ----
    let authorizer = s.deploy(
        &d,
        &Authorizer::BYTECODE,
        &Authorizer::constructorCall { admin: d.address() }.abi_encode(),
        "Authorizer(deployer)",
    )?;
    let balancer_vault = s.deploy(
        &d,
        &BalancerVault::BYTECODE,
        &BalancerVault::constructorCall {
            authorizer,
            weth,
            pauseWindowDuration: U256::ZERO,
            bufferPeriodDuration: U256::ZERO,
        }
        .abi_encode(),
        "Vault(Authorizer, WETH, no pause window)",
    )?;
    let bal_factory = s.deploy(
        &d,
        &WeightedPoolFactory::BYTECODE,
        &WeightedPoolFactory::constructorCall { vault: balancer_vault }.abi_encode(),
        "WeightedPoolFactory(Vault)",
    )?;
    for t in tokens.clone() {
        s.approve(&d, &t, balancer_vault, "Balancer Vault")?;
    }
    let mut bal_pools = Vec::new();
    for (name_, symbol, members, fee_bps, usd) in [
        ("80GOV-20WETH", "B-80GOV-20WETH", vec![(GOV, 80u64), (WETH, 20)], 30u64, 10_000_000.0),
        ("50WETH-50USDC", "B-50WETH-50USDC", vec![(WETH, 50), (USDC, 50)], 10, 30_000_000.0),
        ("33WBTC-33WETH-34USDC", "B-33WBTC-33WETH-34USDC", vec![(WBTC, 33), (WETH, 33), (USDC, 34)], 20, 30_000_000.0),
        ("50DAI-50USDC", "B-50DAI-50USDC", vec![(DAI, 50), (USDC, 50)], 1, 10_000_000.0),
    ] {
        let mut members = members;
        members.sort_by_key(|(t, _)| tokens[*t].address);
        let weights: Vec<U256> =
            members.iter().map(|(_, w)| U256::from(*w) * U256::from(10u64).pow(U256::from(16u64))).collect();
        let create = WeightedPoolFactory::createCall {
            name: name_.into(),
            symbol: symbol.into(),
            tokens: members.iter().map(|(t, _)| tokens[*t].address).collect(),
            weights: weights.clone(),
            assetManagers: vec![Address::ZERO; members.len()],
            swapFeePercentage: U256::from(fee_bps) * U256::from(100_000_000_000_000u64),
            owner: d.address(),
        };
        let out = s.call(
            &d,
            bal_factory,
            U256::ZERO,
            create,
            &format!("WeightedPoolFactory.create({name_}, fee {fee_bps} bps)"),
        )?;
        let address = WeightedPoolFactory::createCall::abi_decode_returns(&out).map_err(|e| err(e.to_string()))?;
        let id = s.chain.view(address, &WeightedPool::getPoolIdCall {})?;
        let amounts: Vec<U256> = members.iter().map(|(t, w)| worth(&tokens[*t], usd * (*w as f64) / 100.0)).collect();
        let user_data = alloy_sol_types::SolValue::abi_encode_params(&(U256::ZERO, amounts.clone()));
        let join = BalancerVault::joinPoolCall {
            poolId: id,
            sender: d.address(),
            recipient: d.address(),
            request: super::bindings::vault::IVault::JoinPoolRequest {
                assets: members.iter().map(|(t, _)| tokens[*t].address).collect(),
                maxAmountsIn: amounts,
                userData: user_data.into(),
                fromInternalBalance: false,
            },
        };
        s.call(&d, balancer_vault, U256::ZERO, join, &format!("Vault.joinPool({name_}, INIT)"))?;
        bal_pools.push(BalPool {
            address,
            id,
            tokens: members.iter().map(|(t, _)| *t).collect(),
            weights,
            fee: fee_bps as f64 / 10_000.0,
        });
    }

    // ---- Safe ----
    let singleton = s.deploy(&d, &SafeL2::BYTECODE, &[], "SafeL2 singleton")?;
    let safe_factory = s.deploy(&d, &SafeProxyFactory::BYTECODE, &[], "SafeProxyFactory")?;
    let multisend = s.deploy(&d, &MultiSend::BYTECODE, &[], "MultiSend")?;
    let multisend_call_only = s.deploy(&d, &MultiSendCallOnly::BYTECODE, &[], "MultiSendCallOnly")?;
    let handler = s.deploy(&d, &CompatibilityFallbackHandler::BYTECODE, &[], "CompatibilityFallbackHandler")?;
    let setup_data = |owners: Vec<Address>, threshold: usize| -> Bytes {
        SafeL2::setupCall {
            _owners: owners,
            _threshold: U256::from(threshold),
            to: Address::ZERO,
            data: Bytes::new(),
            fallbackHandler: handler,
            paymentToken: Address::ZERO,
            payment: U256::ZERO,
            paymentReceiver: Address::ZERO,
        }
        .abi_encode()
        .into()
    };
    let create = SafeProxyFactory::createProxyWithNonceCall {
        _singleton: singleton,
        initializer: setup_data(exchange.iter().map(Actor::address).collect(), 2),
        saltNonce: U256::ZERO,
    };
    let out = s.call(
        &exchange[0],
        safe_factory,
        U256::ZERO,
        create,
        "SafeProxyFactory.createProxyWithNonce(SafeL2, 2-of-3 exchange)",
    )?;
    let exchange_safe =
        SafeProxyFactory::createProxyWithNonceCall::abi_decode_returns(&out).map_err(|e| err(e.to_string()))?;
    let ex_signers: Vec<&Actor> = exchange.iter().take(2).collect();

    // ---- airdrop, governance, vaults ----
    let mut claims = Vec::new();
    for (i, u) in user_actors.iter().enumerate() {
        if rng.gen_bool(0.5) {
            let amount = round_sig(util::u(util::log_uniform(rng, 50.0, 20_000.0) * 1e18), 3);
            claims.push((i, Claim { index: U256::from(claims.len()), account: u.address(), amount }));
        }
    }
    let tree = Tree::new(claims.iter().map(|(_, c)| merkle::leaf(c)).collect());
    let distributor = s.deploy(
        &d,
        &MerkleDistributor::BYTECODE,
        &MerkleDistributor::constructorCall { token_: gov, merkleRoot_: tree.root() }.abi_encode(),
        &format!("MerkleDistributor(GOV, root of {} claims)", claims.len()),
    )?;
    let airdrop_total = claims.iter().fold(U256::ZERO, |acc, (_, c)| acc + c.amount);
    let c = VotesToken::transferCall { to: distributor, value: airdrop_total };
    s.call(&d, gov, U256::ZERO, c, &format!("GOV.transfer(MerkleDistributor, {})", fmt_units(airdrop_total, 18)))?;
    let claims: Vec<AirdropClaim> = claims
        .into_iter()
        .enumerate()
        .map(|(k, (user, claim))| AirdropClaim { user, claim, proof: tree.proof(k) })
        .collect();

    let timelock = s.deploy(
        &d,
        &TimelockController::BYTECODE,
        &TimelockController::constructorCall {
            minDelay: U256::from(60u64),
            proposers: vec![],
            executors: vec![Address::ZERO],
            admin: d.address(),
        }
        .abi_encode(),
        "TimelockController(60 s, no proposers, anyone executes, deployer admin)",
    )?;
    let governor = s.deploy(
        &d,
        &TimelockGovernor::BYTECODE,
        &TimelockGovernor::constructorCall { _token: gov, _timelock: timelock }.abi_encode(),
        "TimelockGovernor(GOV, timelock)",
    )?;
    for role in ["PROPOSER_ROLE", "CANCELLER_ROLE"] {
        let id = alloy_primitives::keccak256(role);
        s.call(
            &d,
            timelock,
            U256::ZERO,
            TimelockController::grantRoleCall { role: id, account: governor },
            &format!("TimelockController.grantRole({role}, governor)"),
        )?;
    }
    s.call(
        &d,
        timelock,
        U256::ZERO,
        TimelockController::renounceRoleCall { role: alloy_primitives::B256::ZERO, callerConfirmation: d.address() },
        "TimelockController.renounceRole(DEFAULT_ADMIN_ROLE, deployer)",
    )?;
    s.chain.send(
        Label::Setup,
        &d,
        TxKind::Call(timelock),
        units(5_000, 18),
        Vec::new(),
        "deployer: fund the treasury with 5000 ETH",
    )?;
    for (i, n) in [(USDC, 20_000_000u64), (DAI, 5_000_000), (GOV, 20_000_000)] {
        let t = tokens[i].clone();
        let c = PermitToken::transferCall { to: timelock, value: units(n, t.decimals) };
        s.call(&d, t.address, U256::ZERO, c, &format!("{}.transfer(timelock, {n})", t.symbol))?;
    }

    let mut vaults = Vec::new();
    for i in [USDC, WETH] {
        let t = tokens[i].clone();
        let address = s.deploy(
            &d,
            &TokenVault::BYTECODE,
            &TokenVault::constructorCall {
                asset_: t.address,
                name_: format!("Vault {}", t.symbol),
                symbol_: format!("v{}", t.symbol),
            }
            .abi_encode(),
            &format!("TokenVault({})", t.symbol),
        )?;
        s.approve(&d, &t, address, "vault")?;
        let assets = worth(&t, 1_000_000.0);
        let c = TokenVault::depositCall { assets, receiver: d.address() };
        s.call(
            &d,
            address,
            U256::ZERO,
            c,
            &format!("TokenVault(v{}).deposit({}, deployer)", t.symbol, fmt_units(assets, t.decimals)),
        )?;
        vaults.push(VaultInfo { address, asset: i });
    }

    // ---- the exchange pays out: tokens to users, strategists, bots ----
    let mut payouts: Vec<(Address, usize, U256)> = Vec::new();
    for u in &user_actors {
        for (i, chance, lo, hi) in [
            (USDC, 0.35, 20.0, 200_000.0),
            (DAI, 0.15, 20.0, 100_000.0),
            (WBTC, 0.06, 100.0, 500_000.0),
            (LINK, 0.10, 20.0, 50_000.0),
            (WETH, 0.15, 30.0, 300_000.0),
        ] {
            if rng.gen_bool(chance) {
                let usd = util::log_uniform(rng, lo, hi);
                payouts.push((u.address(), i, round_sig(worth(&tokens[i], usd), 3)));
            }
        }
    }
    // GOV whales, who delegate to themselves below.
    let mut delegates: Vec<usize> = (0..user_actors.len()).collect();
    delegates.shuffle(rng);
    delegates.truncate(30.min(user_actors.len()));
    delegates.sort_unstable();
    for &w in &delegates {
        let amount = round_sig(util::u(util::log_uniform(rng, 300_000.0, 3_000_000.0) * 1e18), 2);
        payouts.push((user_actors[w].address(), GOV, amount));
    }
    for (who, list) in [
        (strategist.address(), vec![(USDC, 5_000_000.0), (WETH, 3_000_000.0)]),
        (
            liq[0].address(),
            vec![(USDC, 3_000_000.0), (DAI, 3_000_000.0), (WETH, 3_000_000.0), (WBTC, 1_000_000.0), (LINK, 500_000.0)],
        ),
        (
            liq[1].address(),
            vec![(USDC, 2_000_000.0), (DAI, 2_000_000.0), (WETH, 2_000_000.0), (WBTC, 1_000_000.0), (LINK, 500_000.0)],
        ),
    ] {
        for (i, usd) in list {
            payouts.push((who, i, worth(&tokens[i], usd)));
        }
    }
    for desk in &desks {
        for (i, usd) in [
            (USDC, 20_000_000.0),
            (DAI, 10_000_000.0),
            (WETH, 20_000_000.0),
            (WBTC, 10_000_000.0),
            (LINK, 5_000_000.0),
            (GOV, 2_000_000.0),
        ] {
            payouts.push((desk.address(), i, worth(&tokens[i], usd)));
        }
    }
    let mut totals = BTreeMap::new();
    for (_, i, a) in &payouts {
        *totals.entry(*i).or_insert(U256::ZERO) += *a;
    }
    for (i, total) in &totals {
        let t = tokens[*i].clone();
        let c = PermitToken::transferCall { to: exchange_safe, value: *total };
        s.call(
            &d,
            t.address,
            U256::ZERO,
            c,
            &format!("{}.transfer(exchange Safe, {})", t.symbol, fmt_units(*total, t.decimals)),
        )?;
    }
    let exchange_eth = 1_000 + 100 * safes as u64;
    s.chain.send(
        Label::Setup,
        &d,
        TxKind::Call(exchange_safe),
        units(exchange_eth, 18),
        Vec::new(),
        format!("deployer: fund the exchange Safe with {exchange_eth} ETH"),
    )?;
    let batches: Vec<Vec<BatchCall>> = payouts
        .chunks(300)
        .map(|chunk| {
            chunk
                .iter()
                .map(|(to, i, amount)| BatchCall {
                    to: tokens[*i].address,
                    value: U256::ZERO,
                    data: PermitToken::transferCall { to: *to, value: *amount }.abi_encode().into(),
                })
                .collect()
        })
        .collect();
    for (k, batch) in batches.iter().enumerate() {
        let call = BatchCall {
            to: multisend_call_only,
            value: U256::ZERO,
            data: MultiSendCallOnly::multiSendCall { transactions: util::multisend_payload(batch) }.abi_encode().into(),
        };
        s.safe_exec(
            &ex_signers,
            exchange_safe,
            &call,
            1,
            &format!("exchange Safe: withdrawals batch {} ({} transfers)", k + 1, batch.len()),
        )?;
    }
    for &w in &delegates {
        let u = &user_actors[w];
        s.call(u, gov, U256::ZERO, VotesToken::delegateCall { delegatee: u.address() }, "GOV.delegate(self)")?;
    }

    // ---- users' Safes, created and funded by the exchange in batches ----
    let mut safe_infos = Vec::new();
    let mut creations = Vec::new();
    for k in 0..safes {
        let (n, threshold) = match rng.gen_range(0..20) {
            0..=9 => (1, 1),
            10..=16 => (3, 2),
            _ => (5, 3),
        };
        let mut owners: Vec<usize> = Vec::new();
        while owners.len() < n.min(user_actors.len()) {
            let o = rng.gen_range(0..user_actors.len());
            if !owners.contains(&o) {
                owners.push(o);
            }
        }
        let initializer = setup_data(owners.iter().map(|o| user_actors[*o].address()).collect(), threshold);
        let salt = U256::from(k as u64 + 1);
        let call = SafeProxyFactory::createProxyWithNonceCall { _singleton: singleton, initializer, saltNonce: salt };
        creations.push((call, owners, threshold));
    }
    for chunk in creations.chunks(60) {
        let calls: Vec<BatchCall> = chunk
            .iter()
            .map(|(c, _, _)| BatchCall { to: safe_factory, value: U256::ZERO, data: c.abi_encode().into() })
            .collect();
        // Addresses: what each creation returns when run in order.
        let call = BatchCall {
            to: multisend_call_only,
            value: U256::ZERO,
            data: MultiSendCallOnly::multiSendCall { transactions: util::multisend_payload(&calls) }
                .abi_encode()
                .into(),
        };
        let mut probe = s.chain.clone();
        let mut addrs = Vec::new();
        for (c, _, _) in chunk {
            let out = probe.send(Label::Setup, &d, TxKind::Call(safe_factory), U256::ZERO, c.abi_encode(), "probe")?;
            addrs.push(
                SafeProxyFactory::createProxyWithNonceCall::abi_decode_returns(&out.output)
                    .map_err(|e| err(e.to_string()))?,
            );
        }
        s.safe_exec(
            &ex_signers,
            exchange_safe,
            &call,
            1,
            &format!("exchange Safe: create {} user Safes", chunk.len()),
        )?;
        for ((_, owners, threshold), address) in chunk.iter().zip(addrs) {
            safe_infos.push(SafeInfo { address, owners: owners.clone(), threshold: *threshold });
        }
    }
    for chunk in safe_infos.chunks(100) {
        let mut calls = Vec::new();
        for sf in chunk {
            let eth = round_sig(util::u(util::log_uniform(rng, 0.5, 200.0) * 1e18), 3);
            calls.push(BatchCall { to: sf.address, value: eth, data: Bytes::new() });
            let usd = round_sig(worth(&tokens[USDC], util::log_uniform(rng, 1000.0, 500_000.0)), 3);
            calls.push(BatchCall {
                to: tokens[USDC].address,
                value: U256::ZERO,
                data: PermitToken::transferCall { to: sf.address, value: usd }.abi_encode().into(),
            });
        }
        // The USDC comes from the deployer first.
        let usdc_total = calls
            .iter()
            .filter(|c| c.to == tokens[USDC].address)
            .map(|c| PermitToken::transferCall::abi_decode(&c.data).map(|t| t.value).unwrap_or_default())
            .fold(U256::ZERO, |a, b| a + b);
        s.call(
            &d,
            tokens[USDC].address,
            U256::ZERO,
            PermitToken::transferCall { to: exchange_safe, value: usdc_total },
            "USDC.transfer(exchange Safe, Safe funding)",
        )?;
        let call = BatchCall {
            to: multisend_call_only,
            value: U256::ZERO,
            data: MultiSendCallOnly::multiSendCall { transactions: util::multisend_payload(&calls) }
                .abi_encode()
                .into(),
        };
        s.safe_exec(&ex_signers, exchange_safe, &call, 1, &format!("exchange Safe: fund {} user Safes", chunk.len()))?;
    }

    // ---- OP Stack bedrock: portal, output oracle, system and superchain
    // configs, each behind its Proxy, initialised through upgradeToAndCall ----
    let proposer = actor("l2-output-proposer")?;
    let challenger = actor("l2-output-challenger")?.address();
    let guardian = actor("superchain-guardian")?.address();
    let superchain_impl = s.deploy(&d, &SuperchainConfig::BYTECODE, &[], "SuperchainConfig implementation")?;
    let oracle_impl = s.deploy(&d, &L2OutputOracle::BYTECODE, &[], "L2OutputOracle implementation")?;
    let system_impl = s.deploy(&d, &SystemConfig::BYTECODE, &[], "SystemConfig implementation")?;
    let portal_impl = s.deploy(&d, &OptimismPortal::BYTECODE, &[], "OptimismPortal implementation")?;
    let mut proxies = Vec::new();
    for what in ["SuperchainConfig", "L2OutputOracle", "SystemConfig", "OptimismPortal"] {
        let args = Proxy::constructorCall { _admin: d.address() }.abi_encode();
        proxies.push(s.deploy(&d, &Proxy::BYTECODE, &args, &format!("Proxy(deployer) for {what}"))?);
    }
    let (superchain, output_oracle, system_config, portal) = (proxies[0], proxies[1], proxies[2], proxies[3]);
    let upgrade = |implementation: Address, data: Vec<u8>| Proxy::upgradeToAndCallCall {
        _implementation: implementation,
        _data: data.into(),
    };
    s.call(
        &d,
        superchain,
        U256::ZERO,
        upgrade(superchain_impl, SuperchainConfig::initializeCall { _guardian: guardian, _paused: false }.abi_encode()),
        "Proxy.upgradeToAndCall(SuperchainConfig, initialize(guardian, false))",
    )?;
    let start = s.chain.block().timestamp.saturating_sub(2);
    s.call(
        &d,
        output_oracle,
        U256::ZERO,
        upgrade(
            oracle_impl,
            L2OutputOracle::initializeCall {
                _submissionInterval: U256::from(10u64),
                _l2BlockTime: U256::from(2u64),
                _startingBlockNumber: U256::ZERO,
                _startingTimestamp: U256::from(start),
                _proposer: proposer.address(),
                _challenger: challenger,
                _finalizationPeriodSeconds: U256::from(120u64),
            }
            .abi_encode(),
        ),
        "Proxy.upgradeToAndCall(L2OutputOracle, initialize(10 blocks, 2 s, proposer, challenger, 120 s))",
    )?;
    s.call(
        &d,
        system_config,
        U256::ZERO,
        upgrade(
            system_impl,
            SystemConfig::initializeCall {
                _owner: d.address(),
                _basefeeScalar: 1368,
                _blobbasefeeScalar: 810_949,
                _batcherHash: actor("l2-batcher")?.address().into_word(),
                _gasLimit: 30_000_000,
                _unsafeBlockSigner: actor("l2-sequencer")?.address(),
                _config: ResourceConfig {
                    maxResourceLimit: 20_000_000,
                    elasticityMultiplier: 10,
                    baseFeeMaxChangeDenominator: 8,
                    minimumBaseFee: 1_000_000_000,
                    systemTxMaxGas: 1_000_000,
                    maximumBaseFee: u128::MAX,
                },
                _batchInbox: actor("l2-batch-inbox")?.address(),
                _addresses: SystemAddresses {
                    l1CrossDomainMessenger: Address::ZERO,
                    l1ERC721Bridge: Address::ZERO,
                    l1StandardBridge: Address::ZERO,
                    disputeGameFactory: Address::ZERO,
                    optimismPortal: portal,
                    optimismMintableERC20Factory: Address::ZERO,
                    gasPayingToken: Address::ZERO,
                },
            }
            .abi_encode(),
        ),
        "Proxy.upgradeToAndCall(SystemConfig, initialize(deployer, scalars, batcher, 30M gas, resource config, portal))",
    )?;
    s.call(
        &d,
        portal,
        U256::ZERO,
        upgrade(
            portal_impl,
            OptimismPortal::initializeCall {
                _l2Oracle: output_oracle,
                _systemConfig: system_config,
                _superchainConfig: superchain,
            }
            .abi_encode(),
        ),
        "Proxy.upgradeToAndCall(OptimismPortal, initialize(L2OutputOracle, SystemConfig, SuperchainConfig))",
    )?;
    // ETH bridged before the traffic starts: what withdrawals are paid from.
    let bridged = units(20_000, 18);
    s.call(
        &d,
        portal,
        bridged,
        OptimismPortal::depositTransactionCall {
            _to: d.address(),
            _value: bridged,
            _gasLimit: 100_000,
            _isCreation: false,
            _data: Bytes::new(),
        },
        "OptimismPortal.depositTransaction(deployer, 20000 ETH)",
    )?;

    // ---- bots ----
    let mut arb_bots = Vec::new();
    for b in &arb {
        let args = FlashArbBot::constructorCall {
            pool_: aave_pool,
            v2_: v2_router,
            v3_: v3_router,
            balancer_: balancer_vault,
        }
        .abi_encode();
        let c =
            s.deploy(b, &FlashArbBot::BYTECODE, &args, "FlashArbBot(Aave pool, v2 router, v3 router, Balancer Vault)")?;
        arb_bots.push((b.clone(), c));
    }
    let mut bal_arb_bots = Vec::new();
    for b in &bal_arb {
        let args = BalancerFlashArbBot::constructorCall {
            pool_: aave_pool,
            v2_: v2_router,
            v3_: v3_router,
            balancer_: balancer_vault,
        }
        .abi_encode();
        let c = s.deploy(
            b,
            &BalancerFlashArbBot::BYTECODE,
            &args,
            "BalancerFlashArbBot(Aave pool, v2 router, v3 router, Balancer Vault)",
        )?;
        bal_arb_bots.push((b.clone(), c));
    }
    let mut flash_liquidators = Vec::new();
    for b in &fliq {
        let args = FlashLiquidatorBot::constructorCall {
            pool_: aave_pool,
            v2_: v2_router,
            v3_: v3_router,
            balancer_: balancer_vault,
        }
        .abi_encode();
        let c =
            s.deploy(b, &FlashLiquidatorBot::BYTECODE, &args, "FlashLiquidatorBot(Aave pool, v2 router, v3 router)")?;
        flash_liquidators.push((b.clone(), c));
    }
    for b in &liq {
        for &i in &lending {
            s.approve(b, &tokens[i].clone(), aave_pool, "Pool")?;
        }
    }
    for desk in &desks {
        for t in tokens.clone() {
            s.approve(desk, &t, v2_router, "UniswapV2Router02")?;
            s.approve(desk, &t, v3_router, "SwapRouter")?;
            s.approve(desk, &t, balancer_vault, "Balancer Vault")?;
        }
    }
    for v in &vaults {
        s.approve(&strategist, &tokens[v.asset].clone(), v.address, "vault")?;
    }

    let a = Addrs {
        v2_router,
        v3_router,
        npm,
        quoter,
        aave_pool,
        aave_oracle: oracle,
        safe_singleton: singleton,
        safe_factory,
        multisend,
        multisend_call_only,
        fallback_handler: handler,
        distributor,
        timelock,
        governor,
        balancer_vault,
        universal_router,
        portal,
        output_oracle,
    };
    Ok(World {
        chain: s.chain,
        deployer: d,
        users: user_actors,
        tokens,
        pairs,
        pools,
        reserves,
        bal_pools,
        safes: safe_infos,
        vaults,
        claims,
        delegates,
        strategist,
        keeper,
        arb_bots,
        bal_arb_bots,
        flash_liquidators,
        liquidators: liq,
        desks,
        proposer,
        feeds,
        a,
    })
}
