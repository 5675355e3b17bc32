//! Ordinary traffic: users, keepers and bots acting on the world, one
//! transaction per step, every one executed before it is emitted.
//!
//! Each step first gives the system actors their turn (the feed owner
//! reports a moved price, a bot arbitrages DEX A against DEX B or liquidates
//! an account a price move made unhealthy, the staking owner funds a round),
//! then picks a user and an action kind by weight and builds the action from
//! the chain's current state (balances, reserves, positions, read with view
//! calls). An action whose dry run fails is dropped and another is tried;
//! one that needs an approval first emits the approval and comes back later.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use alloy_primitives::{Address, Bytes, TxKind, I256, U256};
use alloy_sol_types::{SolCall, SolValue};
use rand::{seq::SliceRandom, Rng};
use rand_chacha::ChaCha8Rng;
use vigil_fixture::Label;

use super::world::World;
use crate::{
    chain::Chain,
    contracts::{
        AggregationRouter, ArbBot, BridgeInbox, Collectible, EthMarket, FlashLiquidator, GameItems, ItemPool,
        LendingPool, ManualFeed, Pair, RewardVouchers, StableEthPool, StakingRewards, SwapRouter, Token, Vault, WETH,
    },
    keys::Actor,
    scenarios::amt,
    CorpusError,
};

/// 10^18.
const E18: u128 = 1_000_000_000_000_000_000;

/// Rounds `x` down to `sig` significant decimal digits (amounts people type).
pub(crate) fn round_sig(x: U256, sig: u32) -> U256 {
    let limit = U256::from(10u64).pow(U256::from(sig));
    let mut scale = U256::from(1u64);
    while x / scale >= limit {
        scale *= U256::from(10u64);
    }
    x / scale * scale
}

fn f(x: U256) -> f64 {
    f64::from(x)
}

fn u(x: f64) -> U256 {
    if x <= 0.0 || !x.is_finite() {
        U256::ZERO
    } else {
        U256::from(x as u128)
    }
}

/// `getAmountOut` of the constant-product pairs (0.3% fee).
fn amount_out(amount_in: U256, reserve_in: U256, reserve_out: U256) -> U256 {
    let with_fee = amount_in * U256::from(997);
    let den = reserve_in * U256::from(1000) + with_fee;
    if den.is_zero() {
        return U256::ZERO;
    }
    with_fee * reserve_out / den
}

/// What a user can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    EthTransfer,
    Wrap,
    Unwrap,
    TokenTransfer,
    AllowFriend,
    BuyWithEth,
    SellForEth,
    SwapExactIn,
    SwapExactOut,
    SwapOnB,
    AggregatorSwap,
    Multicall,
    AddLiquidity,
    RemoveLiquidity,
    LendSupply,
    LendWithdraw,
    LendBorrow,
    LendRepay,
    EthSupply,
    EthWithdraw,
    EthCollateral,
    EthBorrow,
    EthRepay,
    EthWithdrawCollateral,
    VaultDeposit,
    VaultRedeem,
    VaultWithdraw,
    NftMint,
    NftTransfer,
    ItemBuy,
    ItemSell,
    ItemTransfer,
    StableExchange,
    StableAdd,
    StableRemove,
    Stake,
    Unstake,
    Claim,
    Voucher,
    BridgeSend,
    Whale,
}

/// Relative frequency of each kind.
const WEIGHTS: [(Kind, u32); 41] = [
    (Kind::EthTransfer, 6),
    (Kind::Wrap, 3),
    (Kind::Unwrap, 2),
    (Kind::TokenTransfer, 8),
    (Kind::AllowFriend, 1),
    (Kind::BuyWithEth, 5),
    (Kind::SellForEth, 4),
    (Kind::SwapExactIn, 12),
    (Kind::SwapExactOut, 4),
    (Kind::SwapOnB, 3),
    (Kind::AggregatorSwap, 2),
    (Kind::Multicall, 3),
    (Kind::AddLiquidity, 3),
    (Kind::RemoveLiquidity, 2),
    (Kind::LendSupply, 5),
    (Kind::LendWithdraw, 3),
    (Kind::LendBorrow, 3),
    (Kind::LendRepay, 4),
    (Kind::EthSupply, 1),
    (Kind::EthWithdraw, 1),
    (Kind::EthCollateral, 1),
    (Kind::EthBorrow, 1),
    (Kind::EthRepay, 1),
    (Kind::EthWithdrawCollateral, 1),
    (Kind::VaultDeposit, 2),
    (Kind::VaultRedeem, 1),
    (Kind::VaultWithdraw, 1),
    (Kind::NftMint, 2),
    (Kind::NftTransfer, 2),
    (Kind::ItemBuy, 2),
    (Kind::ItemSell, 1),
    (Kind::ItemTransfer, 1),
    (Kind::StableExchange, 1),
    (Kind::StableAdd, 1),
    (Kind::StableRemove, 1),
    (Kind::Stake, 2),
    (Kind::Unstake, 1),
    (Kind::Claim, 1),
    (Kind::Voucher, 1),
    (Kind::BridgeSend, 1),
    (Kind::Whale, 4),
];

/// Positions users open, so that the actions that close or use them go to
/// users who have them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Pos {
    Lp,
    Lend,
    Borrow,
    EthSupply,
    EthCollateral,
    EthBorrow,
    Vault,
    Nft,
    Items,
    StableLp,
    Stake,
}

impl Kind {
    /// The position an action needs, if any.
    fn needs(self) -> Option<Pos> {
        Some(match self {
            Kind::RemoveLiquidity => Pos::Lp,
            Kind::LendWithdraw | Kind::LendBorrow => Pos::Lend,
            Kind::LendRepay => Pos::Borrow,
            Kind::EthWithdraw => Pos::EthSupply,
            Kind::EthBorrow | Kind::EthWithdrawCollateral => Pos::EthCollateral,
            Kind::EthRepay => Pos::EthBorrow,
            Kind::VaultRedeem | Kind::VaultWithdraw => Pos::Vault,
            Kind::NftTransfer => Pos::Nft,
            Kind::ItemSell | Kind::ItemTransfer => Pos::Items,
            Kind::StableRemove => Pos::StableLp,
            Kind::Unstake | Kind::Claim => Pos::Stake,
            _ => return None,
        })
    }

    /// The position a successful action opens, if any.
    fn opens(self) -> Option<Pos> {
        Some(match self {
            Kind::AddLiquidity => Pos::Lp,
            Kind::LendSupply => Pos::Lend,
            Kind::LendBorrow => Pos::Borrow,
            Kind::EthSupply => Pos::EthSupply,
            Kind::EthCollateral => Pos::EthCollateral,
            Kind::EthBorrow => Pos::EthBorrow,
            Kind::VaultDeposit => Pos::Vault,
            Kind::NftMint => Pos::Nft,
            Kind::ItemBuy => Pos::Items,
            Kind::StableAdd => Pos::StableLp,
            Kind::Stake => Pos::Stake,
            _ => return None,
        })
    }
}

/// A liquidation the last feed update made possible.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    borrower: usize,
}

/// Generates the traffic of one fixture.
#[derive(Debug)]
pub(crate) struct Traffic<'w> {
    w: &'w World,
    chain: Chain,
    rng: ChaCha8Rng,
    /// (owner, token, spender) pairs approved for MAX.
    approved: BTreeSet<(Address, Address, Address)>,
    /// Collectible id -> owning user.
    nft_owner: BTreeMap<U256, usize>,
    /// Users with a LendingPool borrow.
    borrowers: BTreeSet<usize>,
    /// Actions waiting for the approval they asked for.
    pending: VecDeque<(usize, Kind)>,
    /// (owner, spender, token) allowances between users.
    allowances: Vec<(usize, usize, Address)>,
    /// Current answers of the USD and GEM feeds (only the deployer posts).
    feed_usd: U256,
    feed_gem: U256,
    candidates: Vec<Candidate>,
    /// Amounts of vouchers already issued, so that every voucher is new.
    vouchers: BTreeSet<(usize, U256)>,
    total_weight: u32,
    /// Users who opened each kind of position (some may have closed it since).
    positions: BTreeMap<Pos, Vec<usize>>,
    /// Whether the current action emitted an approval instead of itself.
    approval_emitted: bool,
    /// Cumulative activity weights of the users (a few are much more active
    /// than most), in a per-fixture random order.
    activity: Vec<f64>,
}

impl<'w> Traffic<'w> {
    pub(crate) fn new(w: &'w World, chain: Chain, mut rng: ChaCha8Rng) -> Self {
        let mut order: Vec<usize> = (0..w.users.len()).collect();
        order.shuffle(&mut rng);
        let mut weights = vec![0.0; w.users.len()];
        for (rank, user) in order.into_iter().enumerate() {
            // About rank^-0.5: a core of active users and a long tail.
            weights[user] = 1.0 / ((rank + 1) as f64).sqrt();
        }
        let activity = weights
            .iter()
            .scan(0.0, |acc, x| {
                *acc += x;
                Some(*acc)
            })
            .collect();
        Self {
            w,
            chain,
            rng,
            approved: BTreeSet::new(),
            nft_owner: BTreeMap::new(),
            borrowers: BTreeSet::new(),
            pending: VecDeque::new(),
            allowances: Vec::new(),
            feed_usd: U256::from(E18 / 2000),
            feed_gem: U256::from(E18 / 1000),
            candidates: Vec::new(),
            vouchers: BTreeSet::new(),
            total_weight: WEIGHTS.iter().map(|(_, w)| w).sum(),
            positions: BTreeMap::new(),
            approval_emitted: false,
            activity,
        }
    }

    /// A user, by activity.
    fn pick_user(&mut self) -> usize {
        let total = self.activity.last().copied().unwrap_or(0.0);
        let r = self.rng.gen::<f64>() * total;
        self.activity.partition_point(|c| *c <= r).min(self.w.users.len().saturating_sub(1))
    }

    /// The chain with everything emitted so far.
    pub(crate) fn into_chain(self) -> Chain {
        self.chain
    }

    /// Emits exactly one benign transaction.
    pub(crate) fn step(&mut self) -> Result<(), CorpusError> {
        if self.system_turn()? {
            return Ok(());
        }
        for _ in 0..40 {
            if !self.pending.is_empty() && self.rng.gen_bool(0.7) {
                if let Some((user, kind)) = self.pending.pop_front() {
                    if self.act(user, kind)? {
                        return Ok(());
                    }
                }
                continue;
            }
            let kind = self.pick_kind();
            let mut user = self.pick_user();
            // Closing or using a position: mostly someone who has one.
            if let Some(holders) = kind.needs().and_then(|p| self.positions.get(&p)) {
                if !holders.is_empty() && self.rng.gen_bool(0.85) {
                    user = holders[self.rng.gen_range(0..holders.len())];
                }
            }
            if self.act(user, kind)? {
                return Ok(());
            }
        }
        // Always possible: someone with ETH sends a little to someone.
        for _ in 0..self.w.users.len() {
            let user = self.rng.gen_range(0..self.w.users.len());
            if self.eth_transfer(user)? {
                return Ok(());
            }
        }
        Err(CorpusError::InvalidArgument("no user can act any more".into()))
    }

    fn pick_kind(&mut self) -> Kind {
        let mut r = self.rng.gen_range(0..self.total_weight);
        for (kind, weight) in WEIGHTS {
            if r < weight {
                return kind;
            }
            r -= weight;
        }
        Kind::EthTransfer
    }

    fn act(&mut self, user: usize, kind: Kind) -> Result<bool, CorpusError> {
        self.approval_emitted = false;
        let done = self.act_inner(user, kind)?;
        // The action itself ran (not an approval it needed first): note the
        // position it opened.
        if done && !self.approval_emitted {
            if let Some(pos) = kind.opens() {
                let holders = self.positions.entry(pos).or_default();
                if !holders.contains(&user) {
                    holders.push(user);
                }
            }
        }
        Ok(done)
    }

    fn act_inner(&mut self, user: usize, kind: Kind) -> Result<bool, CorpusError> {
        match kind {
            Kind::EthTransfer => self.eth_transfer(user),
            Kind::Wrap => self.wrap(user),
            Kind::Unwrap => self.unwrap(user),
            Kind::TokenTransfer => self.token_transfer(user),
            Kind::AllowFriend => self.allow_friend(user),
            Kind::BuyWithEth => self.buy_with_eth(user),
            Kind::SellForEth => self.sell_for_eth(user),
            Kind::SwapExactIn => self.swap_exact_in(user),
            Kind::SwapExactOut => self.swap_exact_out(user),
            Kind::SwapOnB => self.swap_on_b(user),
            Kind::AggregatorSwap => self.aggregator_swap(user),
            Kind::Multicall => self.multicall(user),
            Kind::AddLiquidity => self.add_liquidity(user),
            Kind::RemoveLiquidity => self.remove_liquidity(user),
            Kind::LendSupply => self.lend_supply(user),
            Kind::LendWithdraw => self.lend_withdraw(user),
            Kind::LendBorrow => self.lend_borrow(user),
            Kind::LendRepay => self.lend_repay(user),
            Kind::EthSupply => self.eth_supply(user),
            Kind::EthWithdraw => self.eth_withdraw(user),
            Kind::EthCollateral => self.eth_collateral(user),
            Kind::EthBorrow => self.eth_borrow(user),
            Kind::EthRepay => self.eth_repay(user),
            Kind::EthWithdrawCollateral => self.eth_withdraw_collateral(user),
            Kind::VaultDeposit => self.vault_deposit(user),
            Kind::VaultRedeem => self.vault_redeem(user),
            Kind::VaultWithdraw => self.vault_withdraw(user),
            Kind::NftMint => self.nft_mint(user),
            Kind::NftTransfer => self.nft_transfer(user),
            Kind::ItemBuy => self.item_buy(user),
            Kind::ItemSell => self.item_sell(user),
            Kind::ItemTransfer => self.item_transfer(user),
            Kind::StableExchange => self.stable_exchange(user),
            Kind::StableAdd => self.stable_add(user),
            Kind::StableRemove => self.stable_remove(user),
            Kind::Stake => self.stake(user),
            Kind::Unstake => self.unstake(user),
            Kind::Claim => self.claim(user),
            Kind::Voucher => self.voucher(user),
            Kind::BridgeSend => self.bridge_send(user),
            Kind::Whale => self.whale(user),
        }
    }

    // ---- plumbing ----

    fn user(&self, i: usize) -> &'w Actor {
        &self.w.users[i]
    }

    fn addr(&self, i: usize) -> Address {
        self.w.users[i].address()
    }

    /// Another user than `i`.
    fn other(&mut self, i: usize) -> usize {
        let n = self.w.users.len();
        (i + self.rng.gen_range(1..n)) % n
    }

    fn bal(&self, token: Address, who: Address) -> Result<U256, CorpusError> {
        self.chain.view(token, &Token::balanceOfCall(who))
    }

    fn name(&self, token: Address) -> &'static str {
        let a = &self.w.a;
        let names = [
            (a.weth, "WETH"),
            (a.usd, "USD"),
            (a.gem, "GEM"),
            (a.stk, "STK"),
            (a.seth, "sETH"),
            (a.router, "SwapRouter"),
            (a.router_b, "SwapRouterB"),
            (a.pair_wu, "Pair(WETH/USD)"),
            (a.pair_wg, "Pair(WETH/GEM)"),
            (a.pair_ws, "Pair(WETH/STK)"),
            (a.pair_ug, "Pair(USD/GEM)"),
            (a.pool, "LendingPool"),
            (a.vault, "Vault"),
            (a.item_pool, "ItemPool"),
            (a.stable, "StableEthPool"),
            (a.eth_market, "EthMarket"),
            (a.staking, "StakingRewards"),
            (a.aggregator, "AggregationRouter"),
            (a.bridge, "BridgeInbox"),
        ];
        names.iter().find(|(x, _)| *x == token).map_or("contract", |(_, n)| n)
    }

    /// Sends a call from `from` if it succeeds; `Ok(true)` if emitted.
    fn send<C: SolCall>(
        &mut self,
        from: &Actor,
        to: Address,
        value: U256,
        call: &C,
        note: String,
    ) -> Result<bool, CorpusError> {
        let note = format!("{}: {note}", from.role);
        Ok(self.chain.try_send(Label::Benign, from, TxKind::Call(to), value, call.abi_encode(), note)?.is_ok())
    }

    /// If `user` has not approved `spender` for `token`, emits the approval
    /// and queues `then`: `Some(emitted)`. `None` when already approved.
    fn need_approval(
        &mut self,
        user: usize,
        token: Address,
        spender: Address,
        then: Kind,
    ) -> Result<Option<bool>, CorpusError> {
        let owner = self.addr(user);
        if self.approved.contains(&(owner, token, spender)) {
            return Ok(None);
        }
        // Most people would rather do something they are set up for.
        if self.rng.gen_bool(0.65) {
            return Ok(Some(false));
        }
        let from = self.user(user);
        let note = format!("{}.approve({}, MAX)", self.name(token), self.name(spender));
        let ok = self.send(from, token, U256::ZERO, &Token::approveCall { spender, amount: U256::MAX }, note)?;
        if ok {
            self.approved.insert((owner, token, spender));
            self.pending.push_back((user, then));
            self.approval_emitted = true;
        }
        Ok(Some(ok))
    }

    /// A share of `balance` people would pick: 1%–60%, log-uniform, three
    /// significant digits.
    fn portion(&mut self, balance: U256) -> U256 {
        let share = super::det::log_uniform(&mut self.rng, 0.01, 0.6);
        round_sig(u(f(balance) * share), 3)
    }

    /// The tokens (WETH, USD, GEM, STK) `user` holds, with balances.
    fn holdings(&self, user: usize) -> Result<Vec<(Address, U256)>, CorpusError> {
        let a = &self.w.a;
        let who = self.addr(user);
        let mut out = Vec::new();
        for token in [a.weth, a.usd, a.gem, a.stk] {
            let b = self.bal(token, who)?;
            if !b.is_zero() {
                out.push((token, b));
            }
        }
        Ok(out)
    }

    /// A path from `from` to `to` through DEX A's pairs (WETH/USD, WETH/GEM,
    /// WETH/STK, USD/GEM), sometimes the long way round.
    fn path(&mut self, from: Address, to: Address) -> Vec<Address> {
        let a = self.w.a;
        let direct = |x: Address, y: Address| {
            let set = [(a.weth, a.usd), (a.weth, a.gem), (a.weth, a.stk), (a.usd, a.gem)];
            set.iter().any(|(p, q)| (*p == x && *q == y) || (*p == y && *q == x))
        };
        if direct(from, to) {
            if from != a.weth && to != a.weth && self.rng.gen_bool(0.3) {
                return vec![from, a.weth, to];
            }
            if (from == a.weth || to == a.weth) && from != a.stk && to != a.stk && self.rng.gen_bool(0.15) {
                // WETH -> USD -> GEM style detour through the USD/GEM pair.
                let mid = if from == a.usd || to == a.usd { a.gem } else { a.usd };
                return vec![from, mid, to];
            }
            return vec![from, to];
        }
        if self.rng.gen_bool(0.2) && (from == a.stk || to == a.stk) {
            // STK -> WETH -> USD -> GEM and the like: three hops.
            let other = if from == a.stk { to } else { from };
            let mid2 = if other == a.usd { a.gem } else { a.usd };
            return if from == a.stk { vec![from, a.weth, mid2, to] } else { vec![from, mid2, a.weth, to] };
        }
        vec![from, a.weth, to]
    }

    fn path_names(&self, path: &[Address]) -> String {
        path.iter().map(|t| self.name(*t)).collect::<Vec<_>>().join(", ")
    }

    /// Expected output of `amount` along `path` on DEX A, or `None`.
    fn quote(&self, amount: U256, path: &[Address]) -> Result<Option<U256>, CorpusError> {
        let call = SwapRouter::getAmountsOutCall { amountIn: amount, path: path.to_vec() };
        match self.chain.view(self.w.a.router, &call) {
            Ok(amounts) => Ok(amounts.last().copied()),
            Err(CorpusError::View { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `out` less a slippage tolerance of 0.5%–3%.
    fn with_slippage(&mut self, out: U256) -> U256 {
        let bps = [50u64, 100, 100, 200, 300][self.rng.gen_range(0..5)];
        out * U256::from(10_000 - bps) / U256::from(10_000)
    }

    fn reserves(&self, pair: Address, token: Address) -> Result<(U256, U256), CorpusError> {
        let r = self.chain.view(pair, &Pair::getReservesCall {})?;
        let token0 = self.chain.view(pair, &Pair::token0Call {})?;
        let (r0, r1) = (U256::from(r._0), U256::from(r._1));
        Ok(if token0 == token { (r0, r1) } else { (r1, r0) })
    }

    // ---- system actors ----

    /// The feed owner, the bots and the staking owner; `Ok(true)` if one of
    /// them emitted this step's transaction.
    fn system_turn(&mut self) -> Result<bool, CorpusError> {
        if !self.candidates.is_empty() && self.rng.gen_bool(0.6) {
            let c = self.candidates.remove(0);
            if self.liquidate(c)? {
                return Ok(true);
            }
        }
        if self.rng.gen_bool(0.3) && self.update_feeds()? {
            return Ok(true);
        }
        if self.rng.gen_bool(0.5) && self.arbitrage()? {
            return Ok(true);
        }
        if self.rng.gen_bool(0.003) && self.start_round()? {
            return Ok(true);
        }
        if self.rng.gen_bool(0.002) && self.bot_withdraw()? {
            return Ok(true);
        }
        Ok(false)
    }

    /// Posts a new answer when a pair's spot price moved away from its feed.
    fn update_feeds(&mut self) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let (w_usd, r_usd) = self.reserves(a.pair_wu, a.weth)?;
        let spot_usd = w_usd * U256::from(E18) / r_usd;
        let (w_gem, r_gem) = self.reserves(a.pair_wg, a.weth)?;
        let spot_gem = w_gem * U256::from(E18) / r_gem;
        let d = self.w.deployer.clone();
        for (feed, spot, current, which) in
            [(a.feed_usd, spot_usd, self.feed_usd, "USD"), (a.feed_gem, spot_gem, self.feed_gem, "GEM")]
        {
            let gap = f(spot) / f(current) - 1.0;
            if gap.abs() < 0.005 {
                continue;
            }
            let answer = round_sig(spot, 4);
            let Ok(signed) = I256::try_from(answer) else { continue };
            let note = format!("ManualFeed({which}).setAnswer({}) - reporter posts the market price", amt(answer));
            if self.send(&d, feed, U256::ZERO, &ManualFeed::setAnswerCall { answer: signed }, note)? {
                if which == "USD" {
                    self.feed_usd = answer;
                } else {
                    self.feed_gem = answer;
                }
                self.scan_liquidations()?;
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// After a price update: the borrowers now under water.
    fn scan_liquidations(&mut self) -> Result<(), CorpusError> {
        self.candidates.clear();
        let borrowers: Vec<usize> = self.borrowers.iter().copied().collect();
        for b in borrowers {
            let l = self.chain.view(self.w.a.pool, &LendingPool::accountLiquidityCall { account: self.addr(b) })?;
            if l.debtValue.is_zero() {
                self.borrowers.remove(&b);
            } else if l.debtValue > l.borrowLimit {
                self.candidates.push(Candidate { borrower: b });
            }
        }
        Ok(())
    }

    fn price(&self, asset: Address) -> U256 {
        let a = &self.w.a;
        if asset == a.usd {
            self.feed_usd
        } else if asset == a.gem {
            self.feed_gem
        } else {
            U256::from(E18)
        }
    }

    /// A FlashLiquidator run against an unhealthy borrower, if profitable.
    fn liquidate(&mut self, c: Candidate) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let who = self.addr(c.borrower);
        let assets = [a.weth, a.usd, a.gem];
        let mut debts = Vec::new();
        let mut collateral = Vec::new();
        for asset in assets {
            let debt = self.chain.view(a.pool, &LendingPool::debtOfCall { asset, account: who })?;
            let coll = self.chain.view(a.pool, &LendingPool::balanceOfUnderlyingCall { asset, account: who })?;
            let p = self.price(asset);
            debts.push((debt * p / U256::from(E18), asset, debt));
            collateral.push((coll * p / U256::from(E18), asset, coll));
        }
        debts.sort();
        collateral.sort();
        let Some(&(_, debt_asset, debt)) = debts.last() else { return Ok(false) };
        let Some(&(coll_value, coll_asset, _)) = collateral.iter().rev().find(|(_, asset, _)| *asset != debt_asset)
        else {
            return Ok(false);
        };
        if debt.is_zero() || coll_value.is_zero() {
            return Ok(false);
        }
        let pair = match (debt_asset, coll_asset) {
            (x, y) if (x == a.weth && y == a.usd) || (x == a.usd && y == a.weth) => a.pair_wu,
            (x, y) if (x == a.weth && y == a.gem) || (x == a.gem && y == a.weth) => a.pair_wg,
            _ => a.pair_ug,
        };
        let (p_debt, p_coll) = (self.price(debt_asset), self.price(coll_asset));
        let lendable = self.bal(debt_asset, a.lender)?;
        // Close factor, the collateral the bonus leaves, the lender's cash.
        let by_collateral = coll_value * U256::from(E18) / p_debt * U256::from(9_800) / U256::from(10_800);
        let mut repay = (debt / U256::from(2)).min(by_collateral).min(lendable * U256::from(99) / U256::from(100));
        let (r_coll, r_debt) = self.reserves(pair, coll_asset)?;
        for _ in 0..6 {
            repay = round_sig(repay, 4);
            if repay.is_zero() {
                return Ok(false);
            }
            let seized = repay * p_debt * U256::from(10_800) / (p_coll * U256::from(10_000));
            let out = amount_out(seized, r_coll, r_debt);
            let cost = repay + repay * U256::from(9) / U256::from(10_000);
            if out > cost + cost / U256::from(1000) {
                let k = self.rng.gen_range(0..self.w.liquidators.len());
                let (bot, contract) = &self.w.liquidators[k];
                let call = FlashLiquidator::executeCall {
                    lender: a.lender,
                    pool: a.pool,
                    borrower: who,
                    debtAsset: debt_asset,
                    repayAmount: repay,
                    collateralAsset: coll_asset,
                    pair,
                };
                let note = format!(
                    "FlashLiquidator.execute(FlashLender, LendingPool, {}, {}, {}, {}, pair) - flash-loan liquidation",
                    self.user(c.borrower).role,
                    self.name(debt_asset),
                    amt(repay),
                    self.name(coll_asset)
                );
                return self.send(bot, *contract, U256::ZERO, &call, note);
            }
            repay /= U256::from(2);
        }
        Ok(false)
    }

    /// Flash-loan arbitrage between DEX A and DEX B's WETH/USD pairs.
    fn arbitrage(&mut self) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let (wa, ua) = self.reserves(a.pair_wu, a.weth)?;
        let (wb, ub) = self.reserves(a.pair_b, a.weth)?;
        // Buy WETH where it is cheap (more USD per WETH on the other side).
        let (cheap, dear, (wc, uc), (wd, ud)) = if f(ua) / f(wa) > f(ub) / f(wb) {
            (a.pair_b, a.pair_wu, (wb, ub), (wa, ua))
        } else {
            (a.pair_wu, a.pair_b, (wa, ua), (wb, ub))
        };
        let profit = |x: U256| -> (U256, bool) {
            let weth = amount_out(x, uc, wc);
            let back = amount_out(weth, wd, ud);
            let cost = x + x * U256::from(9) / U256::from(10_000);
            if back > cost {
                (back - cost, true)
            } else {
                (U256::ZERO, false)
            }
        };
        // Ternary search on the profit curve.
        let (mut lo, mut hi) = (0.0f64, f(uc) * 0.2);
        for _ in 0..60 {
            let m1 = lo + (hi - lo) / 3.0;
            let m2 = hi - (hi - lo) / 3.0;
            if f(profit(u(m1)).0) < f(profit(u(m2)).0) {
                lo = m1;
            } else {
                hi = m2;
            }
        }
        let x = round_sig(u(lo).min(U256::from(2_900_000u64) * U256::from(E18)), 3);
        let (gain, ok) = profit(x);
        if !ok || gain < U256::from(20u64) * U256::from(E18) {
            return Ok(false);
        }
        let k = self.rng.gen_range(0..self.w.arb_bots.len());
        let (bot, contract) = &self.w.arb_bots[k];
        let call = ArbBot::executeCall {
            lender: a.lender,
            token: a.usd,
            amount: x,
            hops: vec![ArbBot::Hop { pair: cheap, tokenIn: a.usd }, ArbBot::Hop { pair: dear, tokenIn: a.weth }],
        };
        let note =
            format!("ArbBot.execute(FlashLender, USD, {}, [cheap pair, dear pair]) - flash-loan arbitrage", amt(x));
        self.send(bot, *contract, U256::ZERO, &call, note)
    }

    fn start_round(&mut self) -> Result<bool, CorpusError> {
        let d = self.w.deployer.clone();
        let reward = U256::from(self.rng.gen_range(5u64..50)) * U256::from(E18);
        let note = format!("StakingRewards.startRound({}) - owner funds a reward round", amt(reward));
        self.send(&d, self.w.a.staking, U256::ZERO, &StakingRewards::startRoundCall { reward }, note)
    }

    /// A bot takes its profits out of its contract.
    fn bot_withdraw(&mut self) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let bots: Vec<&(Actor, Address)> = self.w.arb_bots.iter().chain(self.w.liquidators.iter()).collect();
        let Some(&(bot, contract)) = bots.choose(&mut self.rng) else { return Ok(false) };
        for token in [a.usd, a.weth, a.gem] {
            let held = self.bal(token, *contract)?;
            if held > U256::from(E18) {
                let amount = round_sig(held * U256::from(9) / U256::from(10), 3);
                let note = format!("withdraw({}, bot, {}) - bot takes profits", self.name(token), amt(amount));
                let call = ArbBot::withdrawCall { token, to: bot.address(), amount };
                return self.send(bot, *contract, U256::ZERO, &call, note);
            }
        }
        Ok(false)
    }

    // ---- ETH and tokens ----

    fn eth_transfer(&mut self, user: usize) -> Result<bool, CorpusError> {
        let balance = self.chain.balance(self.addr(user));
        let amount = self.portion(balance);
        if amount.is_zero() {
            return Ok(false);
        }
        let to = self.other(user);
        let from = self.user(user);
        let note = format!("{}: send {} ETH to {}", from.role, amt(amount), self.user(to).role);
        let sent = self.chain.try_send(Label::Benign, from, TxKind::Call(self.addr(to)), amount, Bytes::new(), note)?;
        Ok(sent.is_ok())
    }

    fn wrap(&mut self, user: usize) -> Result<bool, CorpusError> {
        let amount = self.portion(self.chain.balance(self.addr(user)));
        if amount.is_zero() {
            return Ok(false);
        }
        let note = format!("WETH.deposit() {{value: {}}}", amt(amount));
        self.send(self.user(user), self.w.a.weth, amount, &WETH::depositCall {}, note)
    }

    fn unwrap(&mut self, user: usize) -> Result<bool, CorpusError> {
        let held = self.bal(self.w.a.weth, self.addr(user))?;
        let amount = if self.rng.gen_bool(0.3) { held } else { self.portion(held) };
        if amount.is_zero() {
            return Ok(false);
        }
        let note = format!("WETH.withdraw({})", amt(amount));
        self.send(self.user(user), self.w.a.weth, U256::ZERO, &WETH::withdrawCall { amount }, note)
    }

    fn token_transfer(&mut self, user: usize) -> Result<bool, CorpusError> {
        let held = self.holdings(user)?;
        let Some(&(token, balance)) = held.choose(&mut self.rng) else { return Ok(false) };
        let amount = self.portion(balance);
        if amount.is_zero() {
            return Ok(false);
        }
        let to = self.other(user);
        let note = format!("{}.transfer({}, {})", self.name(token), self.user(to).role, amt(amount));
        self.send(self.user(user), token, U256::ZERO, &Token::transferCall { to: self.addr(to), amount }, note)
    }

    /// Approves another user for a token (a payment allowance); that user
    /// pulls part of it later with `transferFrom`.
    fn allow_friend(&mut self, user: usize) -> Result<bool, CorpusError> {
        if let Some(pos) = self.allowances.iter().position(|(_, spender, _)| *spender == user) {
            let (owner, spender, token) = self.allowances.remove(pos);
            let allowance =
                self.chain.view(token, &Token::allowanceCall { _0: self.addr(owner), _1: self.addr(spender) })?;
            let balance = self.bal(token, self.addr(owner))?;
            let amount = self.portion(allowance.min(balance));
            if amount.is_zero() {
                return Ok(false);
            }
            let call = Token::transferFromCall { from: self.addr(owner), to: self.addr(spender), amount };
            let note = format!(
                "{}.transferFrom({}, {}, {})",
                self.name(token),
                self.user(owner).role,
                self.user(spender).role,
                amt(amount)
            );
            return self.send(self.user(spender), token, U256::ZERO, &call, note);
        }
        let held = self.holdings(user)?;
        let Some(&(token, balance)) = held.choose(&mut self.rng) else { return Ok(false) };
        let amount = self.portion(balance);
        if amount.is_zero() {
            return Ok(false);
        }
        let spender = self.other(user);
        let call = Token::approveCall { spender: self.addr(spender), amount };
        let note = format!("{}.approve({}, {})", self.name(token), self.user(spender).role, amt(amount));
        let ok = self.send(self.user(user), token, U256::ZERO, &call, note)?;
        if ok {
            self.allowances.push((user, spender, token));
            self.pending.push_back((spender, Kind::AllowFriend));
        }
        Ok(ok)
    }

    // ---- swaps ----

    fn buy_with_eth(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let amount = self.portion(self.chain.balance(self.addr(user)));
        if amount.is_zero() {
            return Ok(false);
        }
        let to = *[a.usd, a.usd, a.gem, a.stk].choose(&mut self.rng).unwrap_or(&a.usd);
        let path = self.path(a.weth, to);
        let Some(out) = self.quote(amount, &path)? else { return Ok(false) };
        let min = self.with_slippage(out);
        let call = SwapRouter::swapExactETHForTokensCall { amountOutMin: min, path: path.clone(), to: self.addr(user) };
        let note = format!(
            "SwapRouter.swapExactETHForTokens({}, [{}], {}) {{value: {}}}",
            amt(min),
            self.path_names(&path),
            self.user(user).role,
            amt(amount)
        );
        self.send(self.user(user), a.router, amount, &call, note)
    }

    fn sell_for_eth(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let held: Vec<(Address, U256)> = self.holdings(user)?.into_iter().filter(|(t, _)| *t != a.weth).collect();
        let Some(&(token, balance)) = held.choose(&mut self.rng) else { return Ok(false) };
        if let Some(done) = self.need_approval(user, token, a.router, Kind::SellForEth)? {
            return Ok(done);
        }
        let amount = self.portion(balance);
        if amount.is_zero() {
            return Ok(false);
        }
        let path = self.path(token, a.weth);
        let Some(out) = self.quote(amount, &path)? else { return Ok(false) };
        let min = self.with_slippage(out);
        let call = SwapRouter::swapExactTokensForETHCall {
            amountIn: amount,
            amountOutMin: min,
            path: path.clone(),
            to: self.addr(user),
        };
        let note = format!(
            "SwapRouter.swapExactTokensForETH({}, {}, [{}], {})",
            amt(amount),
            amt(min),
            self.path_names(&path),
            self.user(user).role
        );
        self.send(self.user(user), a.router, U256::ZERO, &call, note)
    }

    /// A token the user holds and another one to swap it for, with the
    /// router approved for the first.
    fn swap_pair(&mut self, user: usize, router: Address, kind: Kind) -> Result<Option<SwapPlan>, CorpusError> {
        let a = self.w.a;
        let held = self.holdings(user)?;
        let Some(&(token_in, balance)) = held.choose(&mut self.rng) else { return Ok(None) };
        if let Some(done) = self.need_approval(user, token_in, router, kind)? {
            return Ok(Some(SwapPlan::Approved(done)));
        }
        let choices: Vec<Address> = [a.weth, a.usd, a.gem, a.stk].into_iter().filter(|t| *t != token_in).collect();
        let token_out = *choices.choose(&mut self.rng).unwrap_or(&a.usd);
        Ok(Some(SwapPlan::Swap { token_in, token_out, balance }))
    }

    fn swap_exact_in(&mut self, user: usize) -> Result<bool, CorpusError> {
        let router = self.w.a.router;
        let (token_in, token_out, balance) = match self.swap_pair(user, router, Kind::SwapExactIn)? {
            None => return Ok(false),
            Some(SwapPlan::Approved(done)) => return Ok(done),
            Some(SwapPlan::Swap { token_in, token_out, balance }) => (token_in, token_out, balance),
        };
        let amount = self.portion(balance);
        if amount.is_zero() {
            return Ok(false);
        }
        let path = self.path(token_in, token_out);
        let Some(out) = self.quote(amount, &path)? else { return Ok(false) };
        let min = self.with_slippage(out);
        let call = SwapRouter::swapExactTokensForTokensCall {
            amountIn: amount,
            amountOutMin: min,
            path: path.clone(),
            to: self.addr(user),
        };
        let note = format!(
            "SwapRouter.swapExactTokensForTokens({}, {}, [{}], {})",
            amt(amount),
            amt(min),
            self.path_names(&path),
            self.user(user).role
        );
        self.send(self.user(user), router, U256::ZERO, &call, note)
    }

    fn swap_exact_out(&mut self, user: usize) -> Result<bool, CorpusError> {
        let router = self.w.a.router;
        let (token_in, token_out, balance) = match self.swap_pair(user, router, Kind::SwapExactOut)? {
            None => return Ok(false),
            Some(SwapPlan::Approved(done)) => return Ok(done),
            Some(SwapPlan::Swap { token_in, token_out, balance }) => (token_in, token_out, balance),
        };
        let budget = self.portion(balance);
        if budget.is_zero() {
            return Ok(false);
        }
        let path = self.path(token_in, token_out);
        let Some(out) = self.quote(budget, &path)? else { return Ok(false) };
        let want = round_sig(out * U256::from(95) / U256::from(100), 3);
        if want.is_zero() {
            return Ok(false);
        }
        let call = SwapRouter::swapTokensForExactTokensCall {
            amountOut: want,
            amountInMax: budget,
            path: path.clone(),
            to: self.addr(user),
        };
        let note = format!(
            "SwapRouter.swapTokensForExactTokens({}, {}, [{}], {})",
            amt(want),
            amt(budget),
            self.path_names(&path),
            self.user(user).role
        );
        self.send(self.user(user), router, U256::ZERO, &call, note)
    }

    /// A WETH/USD swap on DEX B.
    fn swap_on_b(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let who = self.addr(user);
        let (weth, usd) = (self.bal(a.weth, who)?, self.bal(a.usd, who)?);
        let (token_in, balance, token_out) = match (weth.is_zero(), usd.is_zero()) {
            (true, true) => return Ok(false),
            (false, true) => (a.weth, weth, a.usd),
            (true, false) => (a.usd, usd, a.weth),
            (false, false) => {
                if self.rng.gen_bool(0.5) {
                    (a.weth, weth, a.usd)
                } else {
                    (a.usd, usd, a.weth)
                }
            }
        };
        if let Some(done) = self.need_approval(user, token_in, a.router_b, Kind::SwapOnB)? {
            return Ok(done);
        }
        let amount = self.portion(balance);
        if amount.is_zero() {
            return Ok(false);
        }
        let (r_in, r_out) = self.reserves(a.pair_b, token_in)?;
        let min = self.with_slippage(amount_out(amount, r_in, r_out));
        let call = SwapRouter::swapExactTokensForTokensCall {
            amountIn: amount,
            amountOutMin: min,
            path: vec![token_in, token_out],
            to: who,
        };
        let note = format!(
            "SwapRouterB.swapExactTokensForTokens({}, {}, [{}, {}], {})",
            amt(amount),
            amt(min),
            self.name(token_in),
            self.name(token_out),
            self.user(user).role
        );
        self.send(self.user(user), a.router_b, U256::ZERO, &call, note)
    }

    /// A swap through the aggregation router, executed by DEX A's router.
    fn aggregator_swap(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let (token_in, token_out, balance) = match self.swap_pair(user, a.aggregator, Kind::AggregatorSwap)? {
            None => return Ok(false),
            Some(SwapPlan::Approved(done)) => return Ok(done),
            Some(SwapPlan::Swap { token_in, token_out, balance }) => (token_in, token_out, balance),
        };
        let amount = self.portion(balance);
        if amount.is_zero() {
            return Ok(false);
        }
        let path = self.path(token_in, token_out);
        let Some(out) = self.quote(amount, &path)? else { return Ok(false) };
        let min = self.with_slippage(out);
        let route = SwapRouter::swapExactTokensForTokensCall {
            amountIn: amount,
            amountOutMin: U256::ZERO,
            path: path.clone(),
            to: a.aggregator,
        };
        let call = AggregationRouter::swapCall {
            desc: AggregationRouter::SwapDescription {
                srcToken: token_in,
                dstToken: token_out,
                amount,
                minReturn: min,
                receiver: self.addr(user),
            },
            executor: a.router,
            route: route.abi_encode().into(),
        };
        let note = format!(
            "AggregationRouter.swap([{}, {}, {}, {}, {}], SwapRouter, swapExactTokensForTokens([{}]))",
            self.name(token_in),
            self.name(token_out),
            amt(amount),
            amt(min),
            self.user(user).role,
            self.path_names(&path)
        );
        self.send(self.user(user), a.aggregator, U256::ZERO, &call, note)
    }

    /// Two to four swaps of different tokens in one `SwapRouter.multicall`.
    fn multicall(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let mut held = self.holdings(user)?;
        if held.len() < 2 {
            return Ok(false);
        }
        let owner = self.addr(user);
        held.retain(|(token, _)| self.approved.contains(&(owner, *token, a.router)));
        if held.len() < 2 {
            return Ok(false);
        }
        held.shuffle(&mut self.rng);
        let n = self.rng.gen_range(2..=held.len().min(4));
        let mut data = Vec::new();
        let mut parts = Vec::new();
        for &(token_in, balance) in held.iter().take(n) {
            let choices: Vec<Address> = [a.weth, a.usd, a.gem, a.stk].into_iter().filter(|t| *t != token_in).collect();
            let token_out = *choices.choose(&mut self.rng).unwrap_or(&a.usd);
            let amount = round_sig(self.portion(balance) / U256::from(2), 3);
            if amount.is_zero() {
                return Ok(false);
            }
            let path = self.path(token_in, token_out);
            parts.push(format!("swapExactTokensForTokens({}, 0, [{}])", amt(amount), self.path_names(&path)));
            let call = SwapRouter::swapExactTokensForTokensCall {
                amountIn: amount,
                amountOutMin: U256::ZERO,
                path,
                to: self.addr(user),
            };
            data.push(Bytes::from(call.abi_encode()));
        }
        let note = format!("SwapRouter.multicall([{}])", parts.join(", "));
        self.send(self.user(user), a.router, U256::ZERO, &SwapRouter::multicallCall { data }, note)
    }

    /// A large WETH/USD trade on DEX A by a rich user, more often against
    /// the price's drift from 2,000 USD.
    fn whale(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let who = self.addr(user);
        let eth_balance = self.chain.balance(who);
        let (w, us) = self.reserves(a.pair_wu, a.weth)?;
        let price = f(us) / f(w);
        let size = f(w) * self.rng.gen_range(0.005..0.03);
        let drift = price / 2000.0 - 1.0;
        let sell_eth = if drift.abs() > 0.04 { drift > 0.0 } else { self.rng.gen_bool(0.5) };
        if sell_eth {
            let amount = round_sig(u(size).min(eth_balance * U256::from(9) / U256::from(10)), 2);
            if amount < U256::from(10u64) * U256::from(E18) {
                return Ok(false);
            }
            let path = vec![a.weth, a.usd];
            let Some(out) = self.quote(amount, &path)? else { return Ok(false) };
            let min = self.with_slippage(out);
            let call = SwapRouter::swapExactETHForTokensCall { amountOutMin: min, path, to: who };
            let note = format!(
                "SwapRouter.swapExactETHForTokens({}, [WETH, USD]) {{value: {}}} - large sale",
                amt(min),
                amt(amount)
            );
            self.send(self.user(user), a.router, amount, &call, note)
        } else {
            let usd = self.bal(a.usd, who)?;
            let amount = round_sig(u(size * price).min(usd), 2);
            if amount < U256::from(10_000u64) * U256::from(E18) {
                return Ok(false);
            }
            if let Some(done) = self.need_approval(user, a.usd, a.router, Kind::Whale)? {
                return Ok(done);
            }
            let path = vec![a.usd, a.weth];
            let Some(out) = self.quote(amount, &path)? else { return Ok(false) };
            let min = self.with_slippage(out);
            let call = SwapRouter::swapExactTokensForETHCall { amountIn: amount, amountOutMin: min, path, to: who };
            let note = format!(
                "SwapRouter.swapExactTokensForETH({}, {}, [USD, WETH]) - large purchase",
                amt(amount),
                amt(min)
            );
            self.send(self.user(user), a.router, U256::ZERO, &call, note)
        }
    }

    // ---- liquidity ----

    fn add_liquidity(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let pairs = [(a.weth, a.usd), (a.weth, a.gem), (a.weth, a.stk), (a.usd, a.gem)];
        let Some(&(x, y)) = pairs.choose(&mut self.rng) else { return Ok(false) };
        let who = self.addr(user);
        let (bx, by) = (self.bal(x, who)?, self.bal(y, who)?);
        if bx.is_zero() || by.is_zero() {
            return Ok(false);
        }
        for token in [x, y] {
            if let Some(done) = self.need_approval(user, token, a.router, Kind::AddLiquidity)? {
                return Ok(done);
            }
        }
        let pair = self.chain.view(self.w.a.router, &SwapRouter::getReservesCall { tokenA: x, tokenB: y })?;
        let amount_x = self.portion(bx);
        if amount_x.is_zero() || pair.reserveA.is_zero() {
            return Ok(false);
        }
        let ideal_y = amount_x * pair.reserveB / pair.reserveA;
        let (amount_x, amount_y) = if ideal_y <= by {
            (amount_x, round_sig(ideal_y * U256::from(101) / U256::from(100), 4).min(by))
        } else {
            (round_sig(by * pair.reserveA / pair.reserveB, 3), by)
        };
        if amount_x.is_zero() || amount_y.is_zero() {
            return Ok(false);
        }
        let call = SwapRouter::addLiquidityCall {
            tokenA: x,
            tokenB: y,
            amountADesired: amount_x,
            amountBDesired: amount_y,
            amountAMin: amount_x * U256::from(97) / U256::from(100),
            amountBMin: U256::ZERO,
            to: who,
        };
        let note = format!(
            "SwapRouter.addLiquidity({}, {}, {}, {}, …, {})",
            self.name(x),
            self.name(y),
            amt(amount_x),
            amt(amount_y),
            self.user(user).role
        );
        self.send(self.user(user), a.router, U256::ZERO, &call, note)
    }

    fn remove_liquidity(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let who = self.addr(user);
        let mut held = Vec::new();
        for (pair, x, y) in [
            (a.pair_wu, a.weth, a.usd),
            (a.pair_wg, a.weth, a.gem),
            (a.pair_ws, a.weth, a.stk),
            (a.pair_ug, a.usd, a.gem),
        ] {
            let lp = self.bal(pair, who)?;
            if !lp.is_zero() {
                held.push((pair, x, y, lp));
            }
        }
        let Some(&(pair, x, y, lp)) = held.choose(&mut self.rng) else { return Ok(false) };
        if let Some(done) = self.need_approval(user, pair, a.router, Kind::RemoveLiquidity)? {
            return Ok(done);
        }
        let liquidity = if self.rng.gen_bool(0.4) { lp } else { self.portion(lp) };
        if liquidity.is_zero() {
            return Ok(false);
        }
        let call = SwapRouter::removeLiquidityCall {
            tokenA: x,
            tokenB: y,
            liquidity,
            amountAMin: U256::ZERO,
            amountBMin: U256::ZERO,
            to: who,
        };
        let note = format!(
            "SwapRouter.removeLiquidity({}, {}, {}, 0, 0, {})",
            self.name(x),
            self.name(y),
            amt(liquidity),
            self.user(user).role
        );
        self.send(self.user(user), a.router, U256::ZERO, &call, note)
    }

    // ---- lending pool ----

    fn lend_supply(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let who = self.addr(user);
        let mut held = Vec::new();
        for token in [a.weth, a.usd, a.gem] {
            let b = self.bal(token, who)?;
            if !b.is_zero() {
                held.push((token, b));
            }
        }
        let Some(&(asset, balance)) = held.choose(&mut self.rng) else { return Ok(false) };
        if let Some(done) = self.need_approval(user, asset, a.pool, Kind::LendSupply)? {
            return Ok(done);
        }
        let amount = if self.rng.gen_bool(0.2) { balance } else { self.portion(balance) };
        if amount.is_zero() {
            return Ok(false);
        }
        let call = LendingPool::supplyCall { asset, amount, onBehalfOf: who };
        let note = format!("LendingPool.supply({}, {}, {})", self.name(asset), amt(amount), self.user(user).role);
        self.send(self.user(user), a.pool, U256::ZERO, &call, note)
    }

    fn lend_withdraw(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let who = self.addr(user);
        let asset = *[a.weth, a.usd, a.gem].choose(&mut self.rng).unwrap_or(&a.usd);
        let supplied = self.chain.view(a.pool, &LendingPool::balanceOfUnderlyingCall { asset, account: who })?;
        if supplied.is_zero() {
            return Ok(false);
        }
        let all = self.rng.gen_bool(0.3);
        let amount = if all { U256::MAX } else { self.portion(supplied) };
        if amount.is_zero() {
            return Ok(false);
        }
        let call = LendingPool::withdrawCall { asset, amount, account: who, to: who };
        let role = &self.user(user).role;
        let note = format!("LendingPool.withdraw({}, {}, {role}, {role})", self.name(asset), amt(amount));
        self.send(self.user(user), a.pool, U256::ZERO, &call, note)
    }

    fn lend_borrow(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let who = self.addr(user);
        let l = self.chain.view(a.pool, &LendingPool::accountLiquidityCall { account: who })?;
        if l.borrowLimit <= l.debtValue {
            return Ok(false);
        }
        let headroom = l.borrowLimit - l.debtValue;
        // Borrow something other than the main collateral.
        let mut main = (U256::ZERO, a.weth);
        for asset in [a.weth, a.usd, a.gem] {
            let v = self.chain.view(a.pool, &LendingPool::balanceOfUnderlyingCall { asset, account: who })?
                * self.price(asset);
            if v > main.0 {
                main = (v, asset);
            }
        }
        let choices: Vec<Address> = [a.usd, a.usd, a.weth, a.gem].into_iter().filter(|t| *t != main.1).collect();
        let asset = *choices.choose(&mut self.rng).unwrap_or(&a.usd);
        // Most borrow cautiously; some go close to their limit.
        let share = if self.rng.gen_bool(0.3) { self.rng.gen_range(0.9..0.995) } else { self.rng.gen_range(0.1..0.7) };
        let amount = round_sig(u(f(headroom) * share) * U256::from(E18) / self.price(asset), 3);
        if amount.is_zero() {
            return Ok(false);
        }
        let call = LendingPool::borrowCall { asset, amount, account: who, receiver: who };
        let role = &self.user(user).role;
        let note = format!("LendingPool.borrow({}, {}, {role}, {role})", self.name(asset), amt(amount));
        let ok = self.send(self.user(user), a.pool, U256::ZERO, &call, note)?;
        if ok {
            self.borrowers.insert(user);
        }
        Ok(ok)
    }

    fn lend_repay(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let who = self.addr(user);
        let asset = *[a.usd, a.weth, a.gem].choose(&mut self.rng).unwrap_or(&a.usd);
        let debt = self.chain.view(a.pool, &LendingPool::debtOfCall { asset, account: who })?;
        if debt.is_zero() {
            return Ok(false);
        }
        if let Some(done) = self.need_approval(user, asset, a.pool, Kind::LendRepay)? {
            return Ok(done);
        }
        let balance = self.bal(asset, who)?;
        // Repaying everything needs the interest accrued until the block.
        let amount = if balance > debt + debt / U256::from(1000) && self.rng.gen_bool(0.4) {
            U256::MAX
        } else {
            self.portion(debt.min(balance))
        };
        if amount.is_zero() {
            return Ok(false);
        }
        let call = LendingPool::repayCall { asset, amount, account: who };
        let note = format!("LendingPool.repay({}, {}, {})", self.name(asset), amt(amount), self.user(user).role);
        self.send(self.user(user), a.pool, U256::ZERO, &call, note)
    }

    // ---- native-ETH market ----

    fn eth_supply(&mut self, user: usize) -> Result<bool, CorpusError> {
        let amount = self.portion(self.chain.balance(self.addr(user)));
        if amount.is_zero() {
            return Ok(false);
        }
        let note = format!("EthMarket.supply() {{value: {}}}", amt(amount));
        self.send(self.user(user), self.w.a.eth_market, amount, &EthMarket::supplyCall {}, note)
    }

    fn eth_withdraw(&mut self, user: usize) -> Result<bool, CorpusError> {
        let m = self.w.a.eth_market;
        let supplied = self.chain.view(m, &EthMarket::suppliedOfCall(self.addr(user)))?;
        let amount = if self.rng.gen_bool(0.3) { supplied } else { self.portion(supplied) };
        if amount.is_zero() || amount > self.chain.balance(m) {
            return Ok(false);
        }
        let note = format!("EthMarket.withdraw({})", amt(amount));
        self.send(self.user(user), m, U256::ZERO, &EthMarket::withdrawCall { amount }, note)
    }

    fn eth_collateral(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let balance = self.bal(a.usd, self.addr(user))?;
        if balance.is_zero() {
            return Ok(false);
        }
        if let Some(done) = self.need_approval(user, a.usd, a.eth_market, Kind::EthCollateral)? {
            return Ok(done);
        }
        let amount = self.portion(balance);
        if amount.is_zero() {
            return Ok(false);
        }
        let note = format!("EthMarket.depositCollateral(USD, {})", amt(amount));
        self.send(
            self.user(user),
            a.eth_market,
            U256::ZERO,
            &EthMarket::depositCollateralCall { token: a.usd, amount },
            note,
        )
    }

    fn eth_borrow(&mut self, user: usize) -> Result<bool, CorpusError> {
        let m = self.w.a.eth_market;
        let who = self.addr(user);
        let limit = self.chain.view(m, &EthMarket::borrowLimitCall { account: who })?;
        let borrowed = self.chain.view(m, &EthMarket::borrowedOfCall(who))?;
        if limit <= borrowed {
            return Ok(false);
        }
        let amount = round_sig(u(f(limit - borrowed) * self.rng.gen_range(0.1..0.8)), 3).min(self.chain.balance(m));
        if amount.is_zero() {
            return Ok(false);
        }
        let note = format!("EthMarket.borrow({})", amt(amount));
        self.send(self.user(user), m, U256::ZERO, &EthMarket::borrowCall { amount }, note)
    }

    fn eth_repay(&mut self, user: usize) -> Result<bool, CorpusError> {
        let m = self.w.a.eth_market;
        let who = self.addr(user);
        let debt = self.chain.view(m, &EthMarket::borrowedOfCall(who))?;
        if debt.is_zero() {
            return Ok(false);
        }
        let amount = if self.rng.gen_bool(0.4) { debt } else { self.portion(debt) }.min(self.chain.balance(who));
        if amount.is_zero() {
            return Ok(false);
        }
        let note = format!("EthMarket.repay() {{value: {}}}", amt(amount));
        self.send(self.user(user), m, amount, &EthMarket::repayCall {}, note)
    }

    fn eth_withdraw_collateral(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let posted = self.chain.view(a.eth_market, &EthMarket::collateralOfCall { _0: self.addr(user), _1: a.usd })?;
        let amount = if self.rng.gen_bool(0.3) { posted } else { self.portion(posted) };
        if amount.is_zero() {
            return Ok(false);
        }
        let note = format!("EthMarket.withdrawCollateral(USD, {})", amt(amount));
        let call = EthMarket::withdrawCollateralCall { token: a.usd, amount };
        self.send(self.user(user), a.eth_market, U256::ZERO, &call, note)
    }

    // ---- vault ----

    fn vault_deposit(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let balance = self.bal(a.usd, self.addr(user))?;
        if balance.is_zero() {
            return Ok(false);
        }
        if let Some(done) = self.need_approval(user, a.usd, a.vault, Kind::VaultDeposit)? {
            return Ok(done);
        }
        let amount = self.portion(balance);
        if amount.is_zero() {
            return Ok(false);
        }
        let call = Vault::depositCall { assets: amount, receiver: self.addr(user) };
        let note = format!("Vault.deposit({}, {})", amt(amount), self.user(user).role);
        self.send(self.user(user), a.vault, U256::ZERO, &call, note)
    }

    fn vault_redeem(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let who = self.addr(user);
        let shares = self.bal(a.vault, who)?;
        let amount = if self.rng.gen_bool(0.4) { shares } else { self.portion(shares) };
        if amount.is_zero() {
            return Ok(false);
        }
        let role = &self.user(user).role;
        let note = format!("Vault.redeem({}, {role}, {role})", amt(amount));
        self.send(
            self.user(user),
            a.vault,
            U256::ZERO,
            &Vault::redeemCall { shares: amount, receiver: who, owner: who },
            note,
        )
    }

    fn vault_withdraw(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let who = self.addr(user);
        let max = self.chain.view(a.vault, &Vault::maxWithdrawCall { owner: who })?;
        let amount = self.portion(max);
        if amount.is_zero() {
            return Ok(false);
        }
        let role = &self.user(user).role;
        let note = format!("Vault.withdraw({}, {role}, {role})", amt(amount));
        self.send(
            self.user(user),
            a.vault,
            U256::ZERO,
            &Vault::withdrawCall { assets: amount, receiver: who, owner: who },
            note,
        )
    }

    // ---- NFTs and game items ----

    fn nft_mint(&mut self, user: usize) -> Result<bool, CorpusError> {
        let n = *[1u64, 1, 1, 2, 3].choose(&mut self.rng).unwrap_or(&1);
        let value = self.w.mint_price * U256::from(n);
        if self.chain.balance(self.addr(user)) < value {
            return Ok(false);
        }
        let note = format!("Collectible.mint({n}) {{value: {}}}", amt(value));
        let call = Collectible::mintCall { quantity: U256::from(n) };
        let from = self.user(user);
        let note = format!("{}: {note}", from.role);
        let sent = self.chain.try_send(
            Label::Benign,
            from,
            TxKind::Call(self.w.a.collectible),
            value,
            call.abi_encode(),
            note,
        )?;
        let Ok(sent) = sent else { return Ok(false) };
        let first = Collectible::mintCall::abi_decode_returns(&sent.output)
            .map_err(|e| CorpusError::View { to: self.w.a.collectible, reason: e.to_string() })?;
        for k in 0..n {
            self.nft_owner.insert(first + U256::from(k), user);
        }
        Ok(true)
    }

    fn nft_transfer(&mut self, user: usize) -> Result<bool, CorpusError> {
        let owned: Vec<U256> = self.nft_owner.iter().filter(|(_, o)| **o == user).map(|(id, _)| *id).collect();
        let Some(&id) = owned.choose(&mut self.rng) else { return Ok(false) };
        let to = self.other(user);
        let (from_a, to_a) = (self.addr(user), self.addr(to));
        let role_to = self.user(to).role.clone();
        let ok = if self.rng.gen_bool(0.7) {
            let call = Collectible::safeTransferFrom_0Call { from: from_a, to: to_a, tokenId: id };
            let note = format!("Collectible.safeTransferFrom({}, {role_to}, {id})", self.user(user).role);
            self.send(self.user(user), self.w.a.collectible, U256::ZERO, &call, note)?
        } else {
            let call = Collectible::transferFromCall { from: from_a, to: to_a, tokenId: id };
            let note = format!("Collectible.transferFrom({}, {role_to}, {id})", self.user(user).role);
            self.send(self.user(user), self.w.a.collectible, U256::ZERO, &call, note)?
        };
        if ok {
            self.nft_owner.insert(id, to);
        }
        Ok(ok)
    }

    fn item_buy(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let who = self.addr(user);
        let weth = self.bal(a.weth, who)?;
        if weth.is_zero() {
            return Ok(false);
        }
        if let Some(done) = self.need_approval(user, a.weth, a.item_pool, Kind::ItemBuy)? {
            return Ok(done);
        }
        let n = U256::from(self.rng.gen_range(1u64..=10));
        let ri = self.chain.view(a.item_pool, &ItemPool::reserveItemsCall {})?;
        let rw = self.chain.view(a.item_pool, &ItemPool::reserveWethCall {})?;
        if n >= ri {
            return Ok(false);
        }
        let cost = rw * n * U256::from(1000) / ((ri - n) * U256::from(997)) + U256::from(1);
        let max = round_sig(cost * U256::from(102) / U256::from(100), 3) + U256::from(1);
        if max > weth {
            return Ok(false);
        }
        let note = format!("ItemPool.buyItems({n}, {})", amt(max));
        self.send(
            self.user(user),
            a.item_pool,
            U256::ZERO,
            &ItemPool::buyItemsCall { itemsOut: n, maxWethIn: max },
            note,
        )
    }

    fn items_held(&self, user: usize) -> Result<U256, CorpusError> {
        self.chain.view(self.w.a.items, &GameItems::balanceOfCall { _0: U256::from(1), _1: self.addr(user) })
    }

    fn item_sell(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let held = self.items_held(user)?;
        if held.is_zero() {
            return Ok(false);
        }
        let owner = self.addr(user);
        if !self.approved.contains(&(owner, a.items, a.item_pool)) {
            let call = GameItems::setApprovalForAllCall { operator: a.item_pool, approved: true };
            let ok = self.send(
                self.user(user),
                a.items,
                U256::ZERO,
                &call,
                "GameItems.setApprovalForAll(ItemPool, true)".into(),
            )?;
            if ok {
                self.approved.insert((owner, a.items, a.item_pool));
                self.pending.push_back((user, Kind::ItemSell));
                self.approval_emitted = true;
            }
            return Ok(ok);
        }
        let n = U256::from(self.rng.gen_range(1u64..=held.min(U256::from(10)).to::<u64>()));
        let ri = self.chain.view(a.item_pool, &ItemPool::reserveItemsCall {})?;
        let rw = self.chain.view(a.item_pool, &ItemPool::reserveWethCall {})?;
        let out = n * U256::from(997) * rw / (ri * U256::from(1000) + n * U256::from(997));
        let min = round_sig(self.with_slippage(out), 3);
        let note = format!("ItemPool.sellItems({n}, {})", amt(min));
        self.send(
            self.user(user),
            a.item_pool,
            U256::ZERO,
            &ItemPool::sellItemsCall { itemsIn: n, minWethOut: min },
            note,
        )
    }

    fn item_transfer(&mut self, user: usize) -> Result<bool, CorpusError> {
        let held = self.items_held(user)?;
        if held.is_zero() {
            return Ok(false);
        }
        let n = U256::from(self.rng.gen_range(1u64..=held.min(U256::from(5)).to::<u64>()));
        let to = self.other(user);
        let call = GameItems::safeTransferFromCall {
            from: self.addr(user),
            to: self.addr(to),
            id: U256::from(1),
            amount: n,
            data: Bytes::new(),
        };
        let note = format!("GameItems.safeTransferFrom({}, {}, 1, {n}, 0x)", self.user(user).role, self.user(to).role);
        self.send(self.user(user), self.w.a.items, U256::ZERO, &call, note)
    }

    // ---- stable pool ----

    fn stable_exchange(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let who = self.addr(user);
        let seth = self.bal(a.seth, who)?;
        let eth_in = seth.is_zero() || self.rng.gen_bool(0.5);
        let (i, j, dx, value) = if eth_in {
            let dx = self.portion(self.chain.balance(who));
            (0i8, 1i8, dx, dx)
        } else {
            if let Some(done) = self.need_approval(user, a.seth, a.stable, Kind::StableExchange)? {
                return Ok(done);
            }
            (1, 0, self.portion(seth), U256::ZERO)
        };
        if dx.is_zero() {
            return Ok(false);
        }
        let dy = match self.chain.view(a.stable, &StableEthPool::get_dyCall { i: i.into(), j: j.into(), dx }) {
            Ok(dy) => dy,
            Err(CorpusError::View { .. }) => return Ok(false),
            Err(e) => return Err(e),
        };
        let min = self.with_slippage(dy);
        let call = StableEthPool::exchangeCall { i: i.into(), j: j.into(), dx, minDy: min };
        let note = format!(
            "StableEthPool.exchange({i}, {j}, {}, {}){}",
            amt(dx),
            amt(min),
            if eth_in { format!(" {{value: {}}}", amt(value)) } else { String::new() }
        );
        self.send(self.user(user), a.stable, value, &call, note)
    }

    fn stable_add(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let who = self.addr(user);
        let seth = self.bal(a.seth, who)?;
        if seth.is_zero() {
            return Ok(false);
        }
        if let Some(done) = self.need_approval(user, a.seth, a.stable, Kind::StableAdd)? {
            return Ok(done);
        }
        let coin = self.portion(seth);
        let eth_amount = round_sig(coin.min(self.chain.balance(who)), 3);
        if coin.is_zero() || eth_amount.is_zero() {
            return Ok(false);
        }
        let call = StableEthPool::add_liquidityCall { amounts: [eth_amount, coin], minMintAmount: U256::ZERO };
        let note = format!(
            "StableEthPool.add_liquidity([{}, {}], 0) {{value: {}}}",
            amt(eth_amount),
            amt(coin),
            amt(eth_amount)
        );
        self.send(self.user(user), a.stable, eth_amount, &call, note)
    }

    fn stable_remove(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let lp = self.bal(a.stable, self.addr(user))?;
        let amount = if self.rng.gen_bool(0.4) { lp } else { self.portion(lp) };
        if amount.is_zero() {
            return Ok(false);
        }
        let call = StableEthPool::remove_liquidityCall { amount, minAmounts: [U256::ZERO, U256::ZERO] };
        let note = format!("StableEthPool.remove_liquidity({}, [0, 0])", amt(amount));
        self.send(self.user(user), a.stable, U256::ZERO, &call, note)
    }

    // ---- staking, vouchers, bridge ----

    fn stake(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let balance = self.bal(a.stk, self.addr(user))?;
        if balance.is_zero() {
            return Ok(false);
        }
        if let Some(done) = self.need_approval(user, a.stk, a.staking, Kind::Stake)? {
            return Ok(done);
        }
        let amount = self.portion(balance);
        if amount.is_zero() {
            return Ok(false);
        }
        let note = format!("StakingRewards.stake({})", amt(amount));
        self.send(self.user(user), a.staking, U256::ZERO, &StakingRewards::stakeCall { amount }, note)
    }

    fn unstake(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let staked = self.chain.view(a.staking, &StakingRewards::balanceOfCall(self.addr(user)))?;
        let amount = if self.rng.gen_bool(0.4) { staked } else { self.portion(staked) };
        if amount.is_zero() {
            return Ok(false);
        }
        let note = format!("StakingRewards.unstake({})", amt(amount));
        self.send(self.user(user), a.staking, U256::ZERO, &StakingRewards::unstakeCall { amount }, note)
    }

    fn claim(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let who = self.addr(user);
        let round = self.chain.view(a.staking, &StakingRewards::roundCall {})?;
        let staked = self.chain.view(a.staking, &StakingRewards::balanceOfCall(who))?;
        if round.is_zero() || staked.is_zero() {
            return Ok(false);
        }
        if self.chain.view(a.staking, &StakingRewards::claimedCall { _0: round, _1: who })? {
            return Ok(false);
        }
        self.send(
            self.user(user),
            a.staking,
            U256::ZERO,
            &StakingRewards::claimCall {},
            "StakingRewards.claim()".into(),
        )
    }

    /// Claims a fresh voucher the protocol's signer issued to the user.
    fn voucher(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let amount = U256::from(self.rng.gen_range(1u64..=400) * 5) * U256::from(E18);
        if self.vouchers.contains(&(user, amount)) {
            return Ok(false);
        }
        let who = self.addr(user);
        let hash =
            alloy_primitives::keccak256((U256::from(crate::chain::CHAIN_ID), a.vouchers, who, amount).abi_encode());
        let signature = self.w.voucher_signer.personal_sign(hash)?;
        let call = RewardVouchers::claimCall { account: who, amount, signature: signature.into() };
        let note = format!("RewardVouchers.claim({}, {}, voucher)", self.user(user).role, amt(amount));
        let ok = self.send(self.user(user), a.vouchers, U256::ZERO, &call, note)?;
        if ok {
            self.vouchers.insert((user, amount));
        }
        Ok(ok)
    }

    fn bridge_send(&mut self, user: usize) -> Result<bool, CorpusError> {
        let a = self.w.a;
        let who = self.addr(user);
        let token = if self.rng.gen_bool(0.5) { a.weth } else { a.usd };
        let balance = self.bal(token, who)?;
        if balance.is_zero() {
            return Ok(false);
        }
        if let Some(done) = self.need_approval(user, token, a.bridge, Kind::BridgeSend)? {
            return Ok(done);
        }
        let amount = self.portion(balance);
        if amount.is_zero() {
            return Ok(false);
        }
        let call = BridgeInbox::sendCall { token, amount, recipient: who };
        let note = format!("BridgeInbox.send({}, {}, {})", self.name(token), amt(amount), self.user(user).role);
        self.send(self.user(user), a.bridge, U256::ZERO, &call, note)
    }
}

/// What [`Traffic::swap_pair`] decided.
enum SwapPlan {
    /// An approval was needed; whether it was emitted.
    Approved(bool),
    /// Swap `token_in` (of which the user holds `balance`) for `token_out`.
    Swap { token_in: Address, token_out: Address, balance: U256 },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_to_significant_digits() {
        assert_eq!(round_sig(U256::from(123_456u64), 3), U256::from(123_000u64));
        assert_eq!(round_sig(U256::from(999u64), 3), U256::from(999u64));
        assert_eq!(round_sig(U256::from(1_999u64), 1), U256::from(1_000u64));
        assert_eq!(round_sig(U256::ZERO, 3), U256::ZERO);
    }

    #[test]
    fn amount_out_matches_the_router() {
        // SwapRouter.getAmountOut(1e18, 1000e18, 2_500_000e18)
        let out = amount_out(
            U256::from(E18),
            U256::from(1000u64) * U256::from(E18),
            U256::from(2_500_000u64) * U256::from(E18),
        );
        assert_eq!(out, U256::from(2_490_017_452_599_758_041_232u128));
    }
}
