//! Traffic over the real-protocol world: one benign transaction per step,
//! each dry-run before it is emitted.
//!
//! A step first gives the system actors a turn (the oracle admin follows
//! the markets, bots arbitrage and liquidate, trading desks move prices, a
//! strategist pays vault yield, a keeper runs maintenance); otherwise it
//! draws an action kind by weight and a user by activity (a few users are
//! much more active than most) and builds the action from the chain's state
//! (balances, reserves, positions, proposals, read with view calls).
//! Actions that need an approval emit it first and come back later; an
//! action whose dry run fails is dropped and another one is drawn.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use alloy_primitives::{
    aliases::{I24, U160, U24},
    keccak256, Address, Bytes, TxKind, B256, I256, U256,
};
use alloy_sol_types::{SolCall, SolConstructor};
use rand::{seq::SliceRandom, Rng};
use rand_chacha::ChaCha8Rng;
use vigil_fixture::Label;

use super::{
    bedrock,
    bindings::{optimism_portal, L2OutputOracle, OptimismPortal, UniversalRouter},
};
use super::{
    bindings::{
        nonfungible_position_manager::INonfungiblePositionManager as Npm, quoter_v2::IQuoterV2,
        swap_router::ISwapRouter, vault::IVault, AaveOracle, BalancerFlashArbBot, FlashArbBot, FlashLiquidatorBot,
        MerkleDistributor, MockAggregator, MultiSendCallOnly, NonfungiblePositionManager, PermitToken, Pool, QuoterV2,
        SafeL2, SafeProxyFactory, SwapRouter, TimelockController, TimelockGovernor, TokenVault, UniswapV2Pair,
        UniswapV2Router02, UniswapV3Pool, Vault as BalancerVault, VotesToken, WeightedPool, WETH9,
    },
    util::{
        self, f, fmt_units, log_uniform, multisend_payload, round_sig, safe_signatures, sign_permit, u, v3_path,
        BatchCall,
    },
    world::{SafeInfo, World, DAI, GOV, LINK, USDC, WBTC, WETH},
};
use crate::{chain::Chain, keys::Actor, CorpusError};

macro_rules! kinds {
    ($($kind:ident = $name:literal, $weight:literal;)*) => {
        /// What a transaction of the traffic does.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
        pub enum Kind {
            $(
                #[doc = $name]
                $kind,
            )*
        }

        impl Kind {
            /// Every kind with its weight (relative frequency of the draw;
            /// zero for kinds only the system actors' turn emits).
            pub const ALL: &'static [(Kind, u32)] = &[$((Kind::$kind, $weight),)*];

            /// Its name in tallies and notes.
            pub fn name(self) -> &'static str {
                match self {
                    $(Kind::$kind => $name,)*
                }
            }
        }
    };
}

kinds! {
    EthTransfer = "eth-transfer", 80;
    TokenTransfer = "erc20-transfer", 90;
    Approve = "erc20-approve", 8;
    ApproveProtocol = "erc20-approve-protocol", 0;
    TransferFrom = "erc20-transfer-from", 0;
    Permit = "erc20-permit", 5;
    Wrap = "weth-wrap", 25;
    Unwrap = "weth-unwrap", 15;
    V2ExactTokensForTokens = "v2-swap-exact-tokens-for-tokens", 35;
    V2TokensForExactTokens = "v2-swap-tokens-for-exact-tokens", 10;
    V2ExactEthForTokens = "v2-swap-exact-eth-for-tokens", 45;
    V2TokensForExactEth = "v2-swap-tokens-for-exact-eth", 8;
    V2ExactTokensForEth = "v2-swap-exact-tokens-for-eth", 25;
    V2EthForExactTokens = "v2-swap-eth-for-exact-tokens", 12;
    V3ExactInputSingle = "v3-exact-input-single", 60;
    V3ExactOutputSingle = "v3-exact-output-single", 15;
    V3ExactInput = "v3-exact-input-multihop", 15;
    V3ExactOutput = "v3-exact-output-multihop", 6;
    V3MulticallRefundEth = "v3-multicall-refund-eth", 12;
    V3MulticallUnwrapWeth = "v3-multicall-unwrap-weth", 15;
    UniversalRouterV3 = "universal-router-wrap-v3-swap", 8;
    UniversalRouterV2 = "universal-router-wrap-v2-swap", 5;
    V2AddLiquidity = "v2-add-liquidity", 6;
    V2AddLiquidityEth = "v2-add-liquidity-eth", 8;
    V2RemoveLiquidity = "v2-remove-liquidity", 4;
    V2RemoveLiquidityWithPermit = "v2-remove-liquidity-with-permit", 4;
    V3Mint = "v3-mint-position", 12;
    V3Increase = "v3-increase-liquidity", 3;
    V3Decrease = "v3-decrease-liquidity", 3;
    V3Collect = "v3-collect-fees", 4;
    V3Close = "v3-close-position", 2;
    BalancerSwap = "balancer-swap", 12;
    BalancerBatchSwap = "balancer-batch-swap", 5;
    BalancerJoin = "balancer-join", 3;
    BalancerExit = "balancer-exit", 3;
    AaveSupply = "aave-supply", 14;
    AaveSupplyWithPermit = "aave-supply-with-permit", 4;
    AaveBorrow = "aave-borrow", 9;
    AaveRepay = "aave-repay", 7;
    AaveRepayWithATokens = "aave-repay-with-atokens", 2;
    AaveWithdraw = "aave-withdraw", 6;
    AaveCollateralToggle = "aave-collateral-toggle", 2;
    VaultDeposit = "erc4626-deposit", 6;
    VaultMint = "erc4626-mint", 2;
    VaultWithdraw = "erc4626-withdraw", 3;
    VaultRedeem = "erc4626-redeem", 3;
    SafeEthTransfer = "safe-eth-transfer", 4;
    SafeTokenTransfer = "safe-erc20-transfer", 4;
    SafeMultiSend = "safe-multisend-batch", 3;
    SafeOwnerChange = "safe-owner-change", 1;
    SafeAddLiquidity = "safe-v2-add-liquidity", 2;
    SafeBurnLp = "safe-v2-burn-lp-multisend", 2;
    SafeCreate = "safe-create", 1;
    AirdropClaim = "merkle-airdrop-claim", 8;
    BridgeDeposit = "op-deposit-transaction", 6;
    BridgeProve = "op-prove-withdrawal", 3;
    BridgeFinalize = "op-finalize-withdrawal", 3;
    ProposeOutput = "op-propose-l2-output", 0;
    Delegate = "gov-delegate", 3;
    Propose = "gov-propose", 1;
    CastVote = "gov-cast-vote", 2;
    CastVoteWithReason = "gov-cast-vote-with-reason", 1;
    Queue = "gov-queue", 1;
    Execute = "gov-execute", 1;
    FeedDeploy = "oracle-feed-deploy", 0;
    FeedSet = "oracle-set-source", 0;
    MarketMove = "desk-large-swap", 0;
    FlashArbitrage = "bot-flash-arbitrage", 0;
    BalancerFlashArbitrage = "bot-balancer-flash-arbitrage", 0;
    Liquidation = "bot-liquidation", 0;
    FlashLiquidation = "bot-flash-liquidation", 0;
    BotWithdraw = "bot-withdraw-profit", 0;
    VaultYield = "vault-yield", 0;
    KeeperMintToTreasury = "keeper-aave-mint-to-treasury", 0;
}

/// How many transactions of each kind a run emitted.
pub type Tally = BTreeMap<Kind, usize>;

/// A governance proposal the traffic follows through its life.
#[derive(Debug, Clone)]
struct Proposal {
    id: U256,
    targets: Vec<Address>,
    values: Vec<U256>,
    calldatas: Vec<Bytes>,
    description_hash: B256,
    what: String,
    voted: BTreeSet<usize>,
}

/// A withdrawal a user initiated on L2 (an L2 transaction, not in the
/// fixture), followed through its proof and finalisation on L1.
#[derive(Debug, Clone)]
struct L2Withdrawal {
    nonce: U256,
    user: usize,
    value: U256,
    hash: B256,
    /// Index in `l2_sent` (its leaf).
    leaf: usize,
    proven: bool,
    finalized: bool,
}

/// An output root the proposer posted: it commits to the first `leaves`
/// withdrawals of `l2_sent`.
#[derive(Debug, Clone, Copy)]
struct Output {
    index: U256,
    leaves: usize,
    state_root: B256,
    block_hash: B256,
}

/// A feed the oracle admin deployed and has yet to point the oracle at.
#[derive(Debug, Clone, Copy)]
struct PendingFeed {
    token: usize,
    aggregator: Address,
    answer: U256,
}

/// Where a bot trades.
#[derive(Debug, Clone, Copy)]
enum Venue {
    V2,
    V3(u32),
    Balancer(B256),
}

impl Venue {
    fn name(self) -> String {
        match self {
            Venue::V2 => "Uniswap v2".into(),
            Venue::V3(fee) => format!("Uniswap v3 ({fee})"),
            Venue::Balancer(_) => "Balancer".into(),
        }
    }
}

/// A [`Venue`] as the `BotBase.Venue` struct of a bot's bindings.
macro_rules! venue {
    ($module:ident, $v:expr) => {{
        use super::bindings::$module::BotBase::Venue as V;
        match $v {
            Venue::V2 => V { kind: 0, fee: U24::ZERO, poolId: B256::ZERO },
            Venue::V3(fee) => V { kind: 1, fee: U24::from(fee), poolId: B256::ZERO },
            Venue::Balancer(id) => V { kind: 2, fee: U24::ZERO, poolId: id },
        }
    }};
}

/// Seconds a transaction's deadline lies ahead.
const DEADLINE: u64 = 1800;
/// `healthFactor` of 1 (18 decimals).
const HF_ONE: u128 = 1_000_000_000_000_000_000;

/// Generates the traffic of one fixture.
#[derive(Debug)]
pub(crate) struct Traffic<'w> {
    w: &'w World,
    chain: Chain,
    rng: ChaCha8Rng,
    tally: Tally,
    weight_total: u32,
    activity: Vec<f64>,
    /// (owner, token, spender) approved for MAX.
    approved: BTreeSet<(Address, Address, Address)>,
    /// Actions waiting for the approval they emitted.
    pending: VecDeque<(usize, Kind)>,
    /// (owner, spender, token) allowances between users.
    allowances: Vec<(usize, usize, Address)>,
    /// (user, pair index) of v2 liquidity users added.
    lp: Vec<(usize, usize)>,
    /// (user, pool index) of Balancer pool shares users hold.
    bal_lp: Vec<(usize, usize)>,
    /// (owner, token id) of v3 positions users minted.
    positions: Vec<(usize, U256)>,
    borrowers: BTreeSet<usize>,
    suppliers: BTreeSet<usize>,
    vault_holders: Vec<(usize, usize)>,
    candidates: Vec<usize>,
    feeds: BTreeMap<usize, U256>,
    pending_feed: Option<PendingFeed>,
    safes: Vec<SafeInfo>,
    /// Safes holding v2 LP tokens: (safe index, pair index).
    safe_lp: Vec<(usize, usize)>,
    proposals: Vec<Proposal>,
    proposal_count: usize,
    /// Airdrop claims not yet made, in a per-fixture order.
    unclaimed: Vec<usize>,
    /// Market trend per traded asset (WETH, WBTC, LINK): +1 or -1 steps.
    trend: BTreeMap<usize, f64>,
    approval_emitted: bool,
    /// Withdrawal hashes sent on L2, in order (the message passer's storage).
    l2_sent: Vec<B256>,
    l2_withdrawals: Vec<L2Withdrawal>,
    outputs: Vec<Output>,
    steps: usize,
    last_proposal: usize,
}

impl<'w> Traffic<'w> {
    pub(crate) fn new(w: &'w World, chain: Chain, mut rng: ChaCha8Rng) -> Self {
        let mut order: Vec<usize> = (0..w.users.len()).collect();
        order.shuffle(&mut rng);
        let mut weights = vec![0.0; w.users.len()];
        for (rank, user) in order.into_iter().enumerate() {
            // About rank^-0.8: a core of very active users and a long tail.
            weights[user] = util::exp(-0.8 * util::ln((rank + 1) as f64));
        }
        let activity = weights
            .iter()
            .scan(0.0, |acc, x| {
                *acc += x;
                Some(*acc)
            })
            .collect();
        let mut unclaimed: Vec<usize> = (0..w.claims.len()).collect();
        unclaimed.shuffle(&mut rng);
        let trend = [WETH, WBTC, LINK].into_iter().map(|t| (t, if rng.gen_bool(0.5) { 1.0 } else { -1.0 })).collect();
        Self {
            w,
            chain,
            rng,
            tally: Tally::new(),
            weight_total: Kind::ALL.iter().map(|(_, w)| w).sum(),
            activity,
            approved: BTreeSet::new(),
            pending: VecDeque::new(),
            allowances: Vec::new(),
            lp: Vec::new(),
            bal_lp: Vec::new(),
            positions: Vec::new(),
            borrowers: BTreeSet::new(),
            suppliers: BTreeSet::new(),
            vault_holders: Vec::new(),
            candidates: Vec::new(),
            feeds: w.feeds.clone(),
            pending_feed: None,
            safes: w.safes.clone(),
            safe_lp: Vec::new(),
            proposals: Vec::new(),
            proposal_count: 0,
            unclaimed,
            trend,
            approval_emitted: false,
            l2_sent: Vec::new(),
            l2_withdrawals: Vec::new(),
            outputs: Vec::new(),
            steps: 0,
            last_proposal: 0,
        }
    }

    /// The chain and the tally of what was emitted.
    pub(crate) fn finish(self) -> (Chain, Tally) {
        (self.chain, self.tally)
    }

    /// Emits exactly one benign transaction.
    pub(crate) fn step(&mut self) -> Result<(), CorpusError> {
        self.steps += 1;
        if self.system_turn()? {
            return Ok(());
        }
        for _ in 0..60 {
            if !self.pending.is_empty() && self.rng.gen_bool(0.6) {
                if let Some((user, kind)) = self.pending.pop_front() {
                    if self.act(user, kind)? {
                        return Ok(());
                    }
                }
                continue;
            }
            let kind = self.pick_kind();
            let user = self.pick_user();
            if self.act(user, kind)? {
                return Ok(());
            }
        }
        for _ in 0..self.w.users.len() {
            let user = self.rng.gen_range(0..self.w.users.len());
            if self.act(user, Kind::EthTransfer)? {
                return Ok(());
            }
        }
        Err(CorpusError::InvalidArgument("no user can act any more".into()))
    }

    fn pick_kind(&mut self) -> Kind {
        let mut r = self.rng.gen_range(0..self.weight_total);
        for &(kind, weight) in Kind::ALL {
            if r < weight {
                return kind;
            }
            r -= weight;
        }
        Kind::EthTransfer
    }

    fn pick_user(&mut self) -> usize {
        let total = self.activity.last().copied().unwrap_or(0.0);
        let r = self.rng.gen::<f64>() * total;
        self.activity.partition_point(|c| *c <= r).min(self.w.users.len().saturating_sub(1))
    }

    fn act(&mut self, user: usize, kind: Kind) -> Result<bool, CorpusError> {
        self.approval_emitted = false;
        let done = match kind {
            Kind::EthTransfer => self.eth_transfer(user),
            Kind::TokenTransfer => self.token_transfer(user),
            Kind::Approve | Kind::TransferFrom => self.allow_friend(user),
            Kind::Permit => self.permit(user),
            Kind::Wrap => self.wrap(user),
            Kind::Unwrap => self.unwrap(user),
            Kind::V2ExactTokensForTokens
            | Kind::V2TokensForExactTokens
            | Kind::V2ExactEthForTokens
            | Kind::V2TokensForExactEth
            | Kind::V2ExactTokensForEth
            | Kind::V2EthForExactTokens => self.v2_swap(user, kind),
            Kind::V3ExactInputSingle
            | Kind::V3ExactOutputSingle
            | Kind::V3ExactInput
            | Kind::V3ExactOutput
            | Kind::V3MulticallRefundEth
            | Kind::V3MulticallUnwrapWeth => self.v3_swap(user, kind),
            Kind::UniversalRouterV3 | Kind::UniversalRouterV2 => self.universal_router(user, kind),
            Kind::V2AddLiquidity | Kind::V2AddLiquidityEth => self.v2_add(user, kind),
            Kind::V2RemoveLiquidity | Kind::V2RemoveLiquidityWithPermit => self.v2_remove(user, kind),
            Kind::V3Mint => self.v3_mint(user),
            Kind::V3Increase | Kind::V3Decrease | Kind::V3Collect | Kind::V3Close => self.v3_manage(user, kind),
            Kind::BalancerSwap | Kind::BalancerBatchSwap => self.balancer_swap(user, kind),
            Kind::BalancerJoin => self.balancer_join(user),
            Kind::BalancerExit => self.balancer_exit(),
            Kind::AaveSupply | Kind::AaveSupplyWithPermit => self.aave_supply(user, kind),
            Kind::AaveBorrow => self.aave_borrow(user),
            Kind::AaveRepay | Kind::AaveRepayWithATokens => self.aave_repay(user, kind),
            Kind::AaveWithdraw => self.aave_withdraw(user),
            Kind::AaveCollateralToggle => self.aave_toggle(user),
            Kind::VaultDeposit | Kind::VaultMint => self.vault_in(user, kind),
            Kind::VaultWithdraw | Kind::VaultRedeem => self.vault_out(user, kind),
            Kind::SafeEthTransfer
            | Kind::SafeTokenTransfer
            | Kind::SafeMultiSend
            | Kind::SafeOwnerChange
            | Kind::SafeAddLiquidity
            | Kind::SafeBurnLp => self.safe_action(kind),
            Kind::SafeCreate => self.safe_create(user),
            Kind::AirdropClaim => self.claim(user),
            Kind::BridgeDeposit => self.bridge_deposit(user),
            Kind::BridgeProve => self.bridge_prove(user),
            Kind::BridgeFinalize => self.bridge_finalize(user),
            Kind::Delegate => self.delegate(user),
            Kind::Propose => self.propose(),
            Kind::CastVote | Kind::CastVoteWithReason => self.vote(kind),
            Kind::Queue | Kind::Execute => self.queue_or_execute(kind),
            _ => Ok(false),
        }?;
        Ok(done)
    }

    // ---- plumbing ----

    fn user(&self, i: usize) -> &'w Actor {
        &self.w.users[i]
    }

    fn addr(&self, i: usize) -> Address {
        self.w.users[i].address()
    }

    fn other(&mut self, i: usize) -> usize {
        let n = self.w.users.len();
        (i + self.rng.gen_range(1..n)) % n
    }

    fn sym(&self, t: usize) -> &'static str {
        self.w.tokens[t].symbol
    }

    fn tok(&self, t: usize) -> Address {
        self.w.tokens[t].address
    }

    fn fmt(&self, t: usize, a: U256) -> String {
        fmt_units(a, self.w.tokens[t].decimals)
    }

    fn bal(&self, t: usize, who: Address) -> Result<U256, CorpusError> {
        self.chain.view(self.tok(t), &PermitToken::balanceOfCall { account: who })
    }

    fn erc20_bal(&self, token: Address, who: Address) -> Result<U256, CorpusError> {
        self.chain.view(token, &PermitToken::balanceOfCall { account: who })
    }

    fn deadline(&self) -> U256 {
        U256::from(self.chain.block().timestamp + DEADLINE)
    }

    /// Sends `data` from `from`; records `kind` if it went out.
    fn send_raw(
        &mut self,
        kind: Kind,
        from: &Actor,
        to: Address,
        value: U256,
        data: Vec<u8>,
        note: String,
    ) -> Result<bool, CorpusError> {
        let note = format!("{}: {note}", from.role);
        let ok = self.chain.try_send(Label::Benign, from, TxKind::Call(to), value, data, note)?.is_ok();
        if ok {
            *self.tally.entry(kind).or_default() += 1;
        }
        Ok(ok)
    }

    fn send<C: SolCall>(
        &mut self,
        kind: Kind,
        from: &Actor,
        to: Address,
        value: U256,
        call: &C,
        note: String,
    ) -> Result<bool, CorpusError> {
        self.send_raw(kind, from, to, value, call.abi_encode(), note)
    }

    /// Like [`Traffic::send`], returning the output when it went out.
    fn send_out<C: SolCall>(
        &mut self,
        kind: Kind,
        from: &Actor,
        to: Address,
        value: U256,
        call: &C,
        note: String,
    ) -> Result<Option<Bytes>, CorpusError> {
        let note = format!("{}: {note}", from.role);
        match self.chain.try_send(Label::Benign, from, TxKind::Call(to), value, call.abi_encode(), note)? {
            Ok(sent) => {
                *self.tally.entry(kind).or_default() += 1;
                Ok(Some(sent.output))
            }
            Err(_) => Ok(None),
        }
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
        if self.rng.gen_bool(0.5) {
            return Ok(Some(false));
        }
        let from = self.user(user);
        let call = PermitToken::approveCall { spender, value: U256::MAX };
        let ok =
            self.send(Kind::ApproveProtocol, from, token, U256::ZERO, &call, format!("approve({spender}, MAX)"))?;
        if ok {
            self.approved.insert((owner, token, spender));
            self.pending.push_back((user, then));
            self.approval_emitted = true;
        }
        Ok(Some(ok))
    }

    /// 1%–60% of `balance`, log-uniform, three significant digits.
    fn portion(&mut self, balance: U256) -> U256 {
        let share = log_uniform(&mut self.rng, 0.01, 0.6);
        round_sig(u(f(balance) * share), 3)
    }

    fn with_slippage(&mut self, out: U256) -> U256 {
        let bps = [10u64, 50, 50, 100, 300][self.rng.gen_range(0..5)];
        out * U256::from(10_000 - bps) / U256::from(10_000)
    }

    fn plus_slippage(&mut self, input: U256) -> U256 {
        let bps = [10u64, 50, 50, 100, 300][self.rng.gen_range(0..5)];
        input * U256::from(10_000 + bps) / U256::from(10_000)
    }

    /// USD value (8 decimals) of `amount` of token `t` at the feeds' prices.
    fn usd(&self, t: usize, amount: U256) -> f64 {
        let price = self.feeds.get(&t).map_or(self.w.tokens[t].usd, |p| f(*p) / 1e8);
        f(amount) * price / 10f64.powi(i32::from(self.w.tokens[t].decimals))
    }

    /// Tokens (index, balance) `who` holds.
    fn holdings(&self, who: Address, among: &[usize]) -> Result<Vec<(usize, U256)>, CorpusError> {
        let mut out = Vec::new();
        for &t in among {
            let b = self.bal(t, who)?;
            if !b.is_zero() {
                out.push((t, b));
            }
        }
        Ok(out)
    }

    // ---- ETH and tokens ----

    fn eth_transfer(&mut self, user: usize) -> Result<bool, CorpusError> {
        let amount = self.portion(self.chain.balance(self.addr(user)));
        if amount.is_zero() {
            return Ok(false);
        }
        let to = self.other(user);
        let note = format!("send {} ETH to {}", fmt_units(amount, 18), self.user(to).role);
        let from = self.user(user);
        self.send_raw(Kind::EthTransfer, from, self.addr(to), amount, Vec::new(), note)
    }

    fn token_transfer(&mut self, user: usize) -> Result<bool, CorpusError> {
        let held = self.holdings(self.addr(user), &[WETH, USDC, WBTC, DAI, LINK, GOV])?;
        let Some(&(t, balance)) = held.choose(&mut self.rng) else { return Ok(false) };
        let amount = if self.rng.gen_bool(0.1) { balance } else { self.portion(balance) };
        if amount.is_zero() {
            return Ok(false);
        }
        let to = self.other(user);
        let note = format!("{}.transfer({}, {})", self.sym(t), self.user(to).role, self.fmt(t, amount));
        let call = PermitToken::transferCall { to: self.addr(to), value: amount };
        self.send(Kind::TokenTransfer, self.user(user), self.tok(t), U256::ZERO, &call, note)
    }

    /// An allowance to another user, pulled later with `transferFrom`.
    fn allow_friend(&mut self, user: usize) -> Result<bool, CorpusError> {
        if let Some(pos) = self.allowances.iter().position(|(_, spender, _)| *spender == user) {
            let (owner, spender, token) = self.allowances.remove(pos);
            let allowance = self
                .chain
                .view(token, &PermitToken::allowanceCall { owner: self.addr(owner), spender: self.addr(spender) })?;
            let balance = self.erc20_bal(token, self.addr(owner))?;
            let amount = round_sig(allowance.min(balance), 3);
            if amount.is_zero() {
                return Ok(false);
            }
            let call = PermitToken::transferFromCall { from: self.addr(owner), to: self.addr(spender), value: amount };
            let note = format!("transferFrom({}, {}, {amount})", self.user(owner).role, self.user(spender).role);
            return self.send(Kind::TransferFrom, self.user(spender), token, U256::ZERO, &call, note);
        }
        let held = self.holdings(self.addr(user), &[USDC, DAI, LINK, WETH])?;
        let Some(&(t, balance)) = held.choose(&mut self.rng) else { return Ok(false) };
        let amount = self.portion(balance);
        if amount.is_zero() {
            return Ok(false);
        }
        let spender = self.other(user);
        let call = PermitToken::approveCall { spender: self.addr(spender), value: amount };
        let note = format!("{}.approve({}, {})", self.sym(t), self.user(spender).role, self.fmt(t, amount));
        let ok = self.send(Kind::Approve, self.user(user), self.tok(t), U256::ZERO, &call, note)?;
        if ok {
            self.allowances.push((user, spender, self.tok(t)));
            self.pending.push_back((spender, Kind::TransferFrom));
        }
        Ok(ok)
    }

    /// A holder signs an EIP-2612 permit for another user, who submits it
    /// and later pulls the tokens.
    fn permit(&mut self, user: usize) -> Result<bool, CorpusError> {
        let held = self.holdings(self.addr(user), &[USDC, DAI, LINK, WBTC, GOV])?;
        let Some(&(t, balance)) = held.choose(&mut self.rng) else { return Ok(false) };
        let value = self.portion(balance);
        if value.is_zero() {
            return Ok(false);
        }
        let spender = self.other(user);
        let token = self.tok(t);
        let ds = self.chain.view(token, &PermitToken::DOMAIN_SEPARATORCall {})?;
        let nonce = self.chain.view(token, &PermitToken::noncesCall { owner: self.addr(user) })?;
        let deadline = self.deadline();
        let (v, r, s) = sign_permit(self.user(user), ds, self.addr(spender), value, nonce, deadline)?;
        let call =
            PermitToken::permitCall { owner: self.addr(user), spender: self.addr(spender), value, deadline, v, r, s };
        let note = format!(
            "{}.permit({} -> {}, {})",
            self.sym(t),
            self.user(user).role,
            self.user(spender).role,
            self.fmt(t, value)
        );
        let ok = self.send(Kind::Permit, self.user(spender), token, U256::ZERO, &call, note)?;
        if ok {
            self.allowances.push((user, spender, token));
            self.pending.push_back((spender, Kind::TransferFrom));
        }
        Ok(ok)
    }

    fn wrap(&mut self, user: usize) -> Result<bool, CorpusError> {
        let amount = self.portion(self.chain.balance(self.addr(user)));
        if amount.is_zero() {
            return Ok(false);
        }
        let note = format!("WETH.deposit() {{value: {}}}", fmt_units(amount, 18));
        self.send(Kind::Wrap, self.user(user), self.tok(WETH), amount, &WETH9::depositCall {}, note)
    }

    fn unwrap(&mut self, user: usize) -> Result<bool, CorpusError> {
        let held = self.bal(WETH, self.addr(user))?;
        let amount = if self.rng.gen_bool(0.3) { held } else { self.portion(held) };
        if amount.is_zero() {
            return Ok(false);
        }
        let note = format!("WETH.withdraw({})", fmt_units(amount, 18));
        self.send(Kind::Unwrap, self.user(user), self.tok(WETH), U256::ZERO, &WETH9::withdrawCall { wad: amount }, note)
    }

    // ---- Uniswap v2 swaps ----

    fn v2_pair(&self, a: usize, b: usize) -> Option<usize> {
        self.w.pairs.iter().position(|p| (p.a == a && p.b == b) || (p.a == b && p.b == a))
    }

    /// A v2 path from `a` to `b` (direct, else through WETH or USDC).
    fn v2_path(&self, a: usize, b: usize) -> Option<Vec<usize>> {
        if a == b {
            return None;
        }
        if self.v2_pair(a, b).is_some() {
            return Some(vec![a, b]);
        }
        for mid in [WETH, USDC] {
            if mid != a && mid != b && self.v2_pair(a, mid).is_some() && self.v2_pair(mid, b).is_some() {
                return Some(vec![a, mid, b]);
            }
        }
        None
    }

    fn v2_amounts_out(&self, amount: U256, path: &[Address]) -> Option<Vec<U256>> {
        self.chain
            .view(self.w.a.v2_router, &UniswapV2Router02::getAmountsOutCall { amountIn: amount, path: path.to_vec() })
            .ok()
    }

    fn v2_amounts_in(&self, amount: U256, path: &[Address]) -> Option<Vec<U256>> {
        self.chain
            .view(self.w.a.v2_router, &UniswapV2Router02::getAmountsInCall { amountOut: amount, path: path.to_vec() })
            .ok()
    }

    fn names(&self, path: &[usize]) -> String {
        path.iter().map(|t| self.sym(*t)).collect::<Vec<_>>().join(", ")
    }

    fn v2_swap(&mut self, user: usize, kind: Kind) -> Result<bool, CorpusError> {
        let who = self.addr(user);
        let router = self.w.a.v2_router;
        let deadline = self.deadline();
        let targets = [USDC, USDC, DAI, WBTC, LINK, GOV];
        match kind {
            Kind::V2ExactEthForTokens | Kind::V2EthForExactTokens => {
                let eth = self.portion(self.chain.balance(who));
                let to = *targets.choose(&mut self.rng).unwrap_or(&USDC);
                let Some(path) = self.v2_path(WETH, to) else { return Ok(false) };
                let p: Vec<Address> = path.iter().map(|t| self.tok(*t)).collect();
                let Some(outs) = self.v2_amounts_out(eth, &p) else { return Ok(false) };
                let out = *outs.last().unwrap_or(&U256::ZERO);
                if out.is_zero() {
                    return Ok(false);
                }
                if kind == Kind::V2ExactEthForTokens {
                    let min = self.with_slippage(out);
                    let call =
                        UniswapV2Router02::swapExactETHForTokensCall { amountOutMin: min, path: p, to: who, deadline };
                    let note = format!(
                        "UniswapV2Router02.swapExactETHForTokens({}, [{}]) {{value: {}}}",
                        self.fmt(to, min),
                        self.names(&path),
                        fmt_units(eth, 18)
                    );
                    self.send(kind, self.user(user), router, eth, &call, note)
                } else {
                    let want = round_sig(out * U256::from(9) / U256::from(10), 3);
                    let Some(ins) = self.v2_amounts_in(want, &p) else { return Ok(false) };
                    let max = self.plus_slippage(ins[0]);
                    let call =
                        UniswapV2Router02::swapETHForExactTokensCall { amountOut: want, path: p, to: who, deadline };
                    let note = format!(
                        "UniswapV2Router02.swapETHForExactTokens({}, [{}]) {{value: {}}}",
                        self.fmt(to, want),
                        self.names(&path),
                        fmt_units(max, 18)
                    );
                    self.send(kind, self.user(user), router, max, &call, note)
                }
            }
            _ => {
                let held = self.holdings(who, &[USDC, DAI, WBTC, LINK, GOV, WETH])?;
                let Some(&(from, balance)) = held.choose(&mut self.rng) else { return Ok(false) };
                let to = match kind {
                    Kind::V2TokensForExactEth | Kind::V2ExactTokensForEth => WETH,
                    _ => *[USDC, DAI, WBTC, LINK, GOV, WETH].choose(&mut self.rng).unwrap_or(&USDC),
                };
                let Some(path) = self.v2_path(from, to) else { return Ok(false) };
                if let Some(done) = self.need_approval(user, self.tok(from), router, kind)? {
                    return Ok(done);
                }
                let p: Vec<Address> = path.iter().map(|t| self.tok(*t)).collect();
                let amount = self.portion(balance);
                let Some(outs) = self.v2_amounts_out(amount, &p) else { return Ok(false) };
                let out = *outs.last().unwrap_or(&U256::ZERO);
                if out.is_zero() || amount.is_zero() {
                    return Ok(false);
                }
                let names = self.names(&path);
                match kind {
                    Kind::V2ExactTokensForTokens => {
                        let min = self.with_slippage(out);
                        let call = UniswapV2Router02::swapExactTokensForTokensCall {
                            amountIn: amount,
                            amountOutMin: min,
                            path: p,
                            to: who,
                            deadline,
                        };
                        let note = format!(
                            "UniswapV2Router02.swapExactTokensForTokens({}, {}, [{names}])",
                            self.fmt(from, amount),
                            self.fmt(to, min)
                        );
                        self.send(kind, self.user(user), router, U256::ZERO, &call, note)
                    }
                    Kind::V2ExactTokensForEth => {
                        let min = self.with_slippage(out);
                        let call = UniswapV2Router02::swapExactTokensForETHCall {
                            amountIn: amount,
                            amountOutMin: min,
                            path: p,
                            to: who,
                            deadline,
                        };
                        let note = format!(
                            "UniswapV2Router02.swapExactTokensForETH({}, {}, [{names}])",
                            self.fmt(from, amount),
                            fmt_units(min, 18)
                        );
                        self.send(kind, self.user(user), router, U256::ZERO, &call, note)
                    }
                    _ => {
                        let want = round_sig(out * U256::from(95) / U256::from(100), 3);
                        let Some(ins) = self.v2_amounts_in(want, &p) else { return Ok(false) };
                        let max = self.plus_slippage(ins[0]).min(balance);
                        let note;
                        let data = if kind == Kind::V2TokensForExactEth {
                            note = format!(
                                "UniswapV2Router02.swapTokensForExactETH({}, {}, [{names}])",
                                fmt_units(want, 18),
                                self.fmt(from, max)
                            );
                            UniswapV2Router02::swapTokensForExactETHCall {
                                amountOut: want,
                                amountInMax: max,
                                path: p,
                                to: who,
                                deadline,
                            }
                            .abi_encode()
                        } else {
                            note = format!(
                                "UniswapV2Router02.swapTokensForExactTokens({}, {}, [{names}])",
                                self.fmt(to, want),
                                self.fmt(from, max)
                            );
                            UniswapV2Router02::swapTokensForExactTokensCall {
                                amountOut: want,
                                amountInMax: max,
                                path: p,
                                to: who,
                                deadline,
                            }
                            .abi_encode()
                        };
                        self.send_raw(kind, self.user(user), router, U256::ZERO, data, note)
                    }
                }
            }
        }
    }

    // ---- Uniswap v3 swaps ----

    fn v3_pools_of(&self, a: usize, b: usize) -> Vec<usize> {
        (0..self.w.pools.len())
            .filter(|&i| {
                let p = &self.w.pools[i];
                (p.a == a && p.b == b) || (p.a == b && p.b == a)
            })
            .collect()
    }

    /// A v3 route from `a` to `b`: tokens and fees (direct, else via WETH).
    fn v3_route(&mut self, a: usize, b: usize, multi: bool) -> Option<(Vec<usize>, Vec<u32>)> {
        if a == b {
            return None;
        }
        let direct = self.v3_pools_of(a, b);
        if !multi {
            let i = *direct.choose(&mut self.rng)?;
            return Some((vec![a, b], vec![self.w.pools[i].fee]));
        }
        for mid in [WETH, USDC] {
            if mid == a || mid == b {
                continue;
            }
            let p1 = self.v3_pools_of(a, mid);
            let p2 = self.v3_pools_of(mid, b);
            if let (Some(&x), Some(&y)) = (p1.choose(&mut self.rng), p2.choose(&mut self.rng)) {
                return Some((vec![a, mid, b], vec![self.w.pools[x].fee, self.w.pools[y].fee]));
            }
        }
        None
    }

    fn v3_swap(&mut self, user: usize, kind: Kind) -> Result<bool, CorpusError> {
        let who = self.addr(user);
        let router = self.w.a.v3_router;
        let quoter = self.w.a.quoter;
        let deadline = self.deadline();
        let multi = matches!(kind, Kind::V3ExactInput | Kind::V3ExactOutput);
        // ETH in (value) or tokens in.
        let eth_in = kind == Kind::V3MulticallRefundEth
            || (matches!(kind, Kind::V3ExactInputSingle | Kind::V3ExactInput) && self.rng.gen_bool(0.4));
        let (from, balance) = if eth_in {
            (WETH, self.chain.balance(who))
        } else {
            let held = self.holdings(who, &[USDC, DAI, WBTC, LINK, GOV, WETH])?;
            let Some(&(t, b)) = held.choose(&mut self.rng) else { return Ok(false) };
            (t, b)
        };
        let to = if kind == Kind::V3MulticallUnwrapWeth {
            WETH
        } else {
            let options: Vec<usize> = [USDC, DAI, WBTC, LINK, GOV, WETH].into_iter().filter(|t| *t != from).collect();
            *options.choose(&mut self.rng).unwrap_or(&USDC)
        };
        let Some((tokens, fees)) = self.v3_route(from, to, multi) else { return Ok(false) };
        if !eth_in {
            if let Some(done) = self.need_approval(user, self.tok(from), router, kind)? {
                return Ok(done);
            }
        }
        let amount = self.portion(balance);
        if amount.is_zero() {
            return Ok(false);
        }
        let addrs: Vec<Address> = tokens.iter().map(|t| self.tok(*t)).collect();
        let names = self.names(&tokens);
        let fee0 = U24::from(fees[0]);
        // Quote the exact-input amount out.
        let out = if tokens.len() == 2 {
            let q = IQuoterV2::QuoteExactInputSingleParams {
                tokenIn: addrs[0],
                tokenOut: addrs[1],
                amountIn: amount,
                fee: fee0,
                sqrtPriceLimitX96: U160::ZERO,
            };
            self.chain.view(quoter, &QuoterV2::quoteExactInputSingleCall { params: q }).map(|r| r.amountOut)
        } else {
            self.chain
                .view(quoter, &QuoterV2::quoteExactInputCall { path: v3_path(&addrs, &fees), amountIn: amount })
                .map(|r| r.amountOut)
        };
        let Ok(out) = out else { return Ok(false) };
        if out.is_zero() {
            return Ok(false);
        }
        let value = if eth_in { amount } else { U256::ZERO };
        match kind {
            Kind::V3ExactInputSingle => {
                let min = self.with_slippage(out);
                let p = ISwapRouter::ExactInputSingleParams {
                    tokenIn: addrs[0],
                    tokenOut: addrs[1],
                    fee: fee0,
                    recipient: who,
                    deadline,
                    amountIn: amount,
                    amountOutMinimum: min,
                    sqrtPriceLimitX96: U160::ZERO,
                };
                let note = format!(
                    "SwapRouter.exactInputSingle({} {} -> {}, fee {}, min {})",
                    self.fmt(from, amount),
                    self.sym(from),
                    self.sym(to),
                    fees[0],
                    self.fmt(to, min)
                );
                self.send(kind, self.user(user), router, value, &SwapRouter::exactInputSingleCall { params: p }, note)
            }
            Kind::V3ExactInput => {
                let min = self.with_slippage(out);
                let p = ISwapRouter::ExactInputParams {
                    path: v3_path(&addrs, &fees),
                    recipient: who,
                    deadline,
                    amountIn: amount,
                    amountOutMinimum: min,
                };
                let note =
                    format!("SwapRouter.exactInput({}, [{names}], min {})", self.fmt(from, amount), self.fmt(to, min));
                self.send(kind, self.user(user), router, value, &SwapRouter::exactInputCall { params: p }, note)
            }
            Kind::V3ExactOutputSingle | Kind::V3ExactOutput | Kind::V3MulticallRefundEth => {
                let want = round_sig(out * U256::from(95) / U256::from(100), 3);
                let need = if tokens.len() == 2 {
                    let q = IQuoterV2::QuoteExactOutputSingleParams {
                        tokenIn: addrs[0],
                        tokenOut: addrs[1],
                        amount: want,
                        fee: fee0,
                        sqrtPriceLimitX96: U160::ZERO,
                    };
                    self.chain.view(quoter, &QuoterV2::quoteExactOutputSingleCall { params: q }).map(|r| r.amountIn)
                } else {
                    let rev: Vec<Address> = addrs.iter().rev().copied().collect();
                    let rfees: Vec<u32> = fees.iter().rev().copied().collect();
                    self.chain
                        .view(quoter, &QuoterV2::quoteExactOutputCall { path: v3_path(&rev, &rfees), amountOut: want })
                        .map(|r| r.amountIn)
                };
                let Ok(need) = need else { return Ok(false) };
                let max = self.plus_slippage(need).min(balance);
                let swap = if tokens.len() == 2 {
                    let p = ISwapRouter::ExactOutputSingleParams {
                        tokenIn: addrs[0],
                        tokenOut: addrs[1],
                        fee: fee0,
                        recipient: who,
                        deadline,
                        amountOut: want,
                        amountInMaximum: max,
                        sqrtPriceLimitX96: U160::ZERO,
                    };
                    SwapRouter::exactOutputSingleCall { params: p }.abi_encode()
                } else {
                    let rev: Vec<Address> = addrs.iter().rev().copied().collect();
                    let rfees: Vec<u32> = fees.iter().rev().copied().collect();
                    let p = ISwapRouter::ExactOutputParams {
                        path: v3_path(&rev, &rfees),
                        recipient: who,
                        deadline,
                        amountOut: want,
                        amountInMaximum: max,
                    };
                    SwapRouter::exactOutputCall { params: p }.abi_encode()
                };
                if eth_in {
                    // Pays with ETH: the router wraps what the swap needs and
                    // refunds the rest in the same multicall.
                    let call = SwapRouter::multicallCall {
                        data: vec![swap.into(), SwapRouter::refundETHCall {}.abi_encode().into()],
                    };
                    let note = format!(
                        "SwapRouter.multicall([exactOutput({} {}, [{names}]), refundETH()]) {{value: {}}}",
                        self.fmt(to, want),
                        self.sym(to),
                        fmt_units(max, 18)
                    );
                    self.send(kind, self.user(user), router, max, &call, note)
                } else {
                    let note = format!(
                        "SwapRouter.exactOutput({} {}, [{names}], max {})",
                        self.fmt(to, want),
                        self.sym(to),
                        self.fmt(from, max)
                    );
                    self.send_raw(kind, self.user(user), router, U256::ZERO, swap, note)
                }
            }
            _ => {
                // Tokens to ETH: the router keeps the WETH and unwraps it to
                // the user in the same multicall.
                let min = self.with_slippage(out);
                let swap = if tokens.len() == 2 {
                    let p = ISwapRouter::ExactInputSingleParams {
                        tokenIn: addrs[0],
                        tokenOut: addrs[1],
                        fee: fee0,
                        recipient: router,
                        deadline,
                        amountIn: amount,
                        amountOutMinimum: min,
                        sqrtPriceLimitX96: U160::ZERO,
                    };
                    SwapRouter::exactInputSingleCall { params: p }.abi_encode()
                } else {
                    let p = ISwapRouter::ExactInputParams {
                        path: v3_path(&addrs, &fees),
                        recipient: router,
                        deadline,
                        amountIn: amount,
                        amountOutMinimum: min,
                    };
                    SwapRouter::exactInputCall { params: p }.abi_encode()
                };
                let unwrap = SwapRouter::unwrapWETH9Call { amountMinimum: min, recipient: who }.abi_encode();
                let call = SwapRouter::multicallCall { data: vec![swap.into(), unwrap.into()] };
                let note = format!(
                    "SwapRouter.multicall([exactInput({} {}, [{names}]), unwrapWETH9({})])",
                    self.fmt(from, amount),
                    self.sym(from),
                    fmt_units(min, 18)
                );
                self.send(kind, self.user(user), router, value, &call, note)
            }
        }
    }

    // ---- Universal Router ----

    /// ETH in through the Universal Router: WRAP_ETH to the router, then a
    /// v3 (`V3_SWAP_EXACT_IN`, one or two hops) or v2 (`V2_SWAP_EXACT_IN`)
    /// swap paid from the router's own WETH, output to the sender.
    fn universal_router(&mut self, user: usize, kind: Kind) -> Result<bool, CorpusError> {
        let who = self.addr(user);
        let amount = self.portion(self.chain.balance(who));
        if amount.is_zero() {
            return Ok(false);
        }
        let to = *[USDC, USDC, DAI, WBTC, LINK, GOV].choose(&mut self.rng).unwrap_or(&USDC);
        // ActionConstants: MSG_SENDER = address(1), ADDRESS_THIS = address(2).
        let (msg_sender, this) = (Address::with_last_byte(1), Address::with_last_byte(2));
        let wrap = alloy_sol_types::SolValue::abi_encode_params(&(this, amount));
        let (command, swap, path_names, min) = if kind == Kind::UniversalRouterV3 {
            let multi = self.rng.gen_bool(0.25);
            let Some((tokens, fees)) = self.v3_route(WETH, to, multi) else { return Ok(false) };
            let addrs: Vec<Address> = tokens.iter().map(|t| self.tok(*t)).collect();
            let path = v3_path(&addrs, &fees);
            let Ok(q) = self
                .chain
                .view(self.w.a.quoter, &QuoterV2::quoteExactInputCall { path: path.clone(), amountIn: amount })
            else {
                return Ok(false);
            };
            let min = self.with_slippage(q.amountOut);
            (
                0x00u8,
                alloy_sol_types::SolValue::abi_encode_params(&(msg_sender, amount, min, path, false)),
                self.names(&tokens),
                min,
            )
        } else {
            let Some(path) = self.v2_path(WETH, to) else { return Ok(false) };
            let p: Vec<Address> = path.iter().map(|t| self.tok(*t)).collect();
            let Some(outs) = self.v2_amounts_out(amount, &p) else { return Ok(false) };
            let min = self.with_slippage(*outs.last().unwrap_or(&U256::ZERO));
            (
                0x08u8,
                alloy_sol_types::SolValue::abi_encode_params(&(msg_sender, amount, min, p, false)),
                self.names(&path),
                min,
            )
        };
        let call = UniversalRouter::execute_1Call {
            commands: Bytes::from(vec![0x0b, command]),
            inputs: vec![wrap.into(), swap.into()],
            deadline: self.deadline(),
        };
        let which = if command == 0 { "V3_SWAP_EXACT_IN" } else { "V2_SWAP_EXACT_IN" };
        let note = format!(
            "UniversalRouter.execute(WRAP_ETH, {which} [{path_names}], min {}) {{value: {}}}",
            self.fmt(to, min),
            fmt_units(amount, 18)
        );
        self.send(kind, self.user(user), self.w.a.universal_router, amount, &call, note)
    }

    // ---- Balancer v2 ----

    fn funds(&self, who: Address) -> IVault::FundManagement {
        IVault::FundManagement { sender: who, fromInternalBalance: false, recipient: who, toInternalBalance: false }
    }

    /// What `kind` 0 (given in) swaps along `steps` would pay out, by the
    /// Vault's own `queryBatchSwap`.
    fn bal_query(&self, steps: &[IVault::BatchSwapStep], assets: &[Address]) -> Option<U256> {
        let call = BalancerVault::queryBatchSwapCall {
            kind: 0,
            swaps: steps.to_vec(),
            assets: assets.to_vec(),
            funds: self.funds(Address::ZERO),
        };
        let deltas = self.chain.view(self.w.a.balancer_vault, &call).ok()?;
        let last = *deltas.last()?;
        (last < I256::ZERO).then(|| last.unsigned_abs())
    }

    fn balancer_swap(&mut self, user: usize, kind: Kind) -> Result<bool, CorpusError> {
        let who = self.addr(user);
        let vault = self.w.a.balancer_vault;
        let deadline = self.deadline();
        let pools = &self.w.bal_pools;
        // A route: one pool, or two pools sharing a token.
        let a = self.rng.gen_range(0..pools.len());
        let (route, tokens): (Vec<usize>, Vec<usize>) = if kind == Kind::BalancerBatchSwap {
            let pa = &pools[a];
            let Some((b, mid)) = (0..pools.len())
                .filter(|&b| b != a)
                .find_map(|b| pools[b].tokens.iter().find(|t| pa.tokens.contains(t)).map(|m| (b, *m)))
            else {
                return Ok(false);
            };
            let ins: Vec<usize> = pa.tokens.iter().copied().filter(|t| *t != mid).collect();
            let outs: Vec<usize> = pools[b].tokens.iter().copied().filter(|t| *t != mid && !ins.contains(t)).collect();
            let (Some(&tin), Some(&tout)) = (ins.choose(&mut self.rng), outs.choose(&mut self.rng)) else {
                return Ok(false);
            };
            (vec![a, b], vec![tin, mid, tout])
        } else {
            // Sell something the user holds (ETH counts for WETH).
            let mut t = pools[a].tokens.clone();
            t.shuffle(&mut self.rng);
            for i in 0..t.len() {
                if t[i] == WETH || !self.bal(t[i], who)?.is_zero() {
                    t.swap(0, i);
                    break;
                }
            }
            (vec![a], t[..2].to_vec())
        };
        // ETH for the WETH side, sometimes.
        let eth_in = tokens[0] == WETH && self.rng.gen_bool(0.7);
        let balance = if eth_in { self.chain.balance(who) } else { self.bal(tokens[0], who)? };
        if !eth_in {
            if balance.is_zero() {
                return Ok(false);
            }
            if let Some(done) = self.need_approval(user, self.tok(tokens[0]), vault, kind)? {
                return Ok(done);
            }
        }
        let amount = self.portion(balance);
        if amount.is_zero() {
            return Ok(false);
        }
        let mut assets: Vec<Address> = tokens.iter().map(|t| self.tok(*t)).collect();
        if eth_in {
            assets[0] = Address::ZERO;
        }
        let steps: Vec<IVault::BatchSwapStep> = route
            .iter()
            .enumerate()
            .map(|(i, &p)| IVault::BatchSwapStep {
                poolId: self.w.bal_pools[p].id,
                assetInIndex: U256::from(i),
                assetOutIndex: U256::from(i + 1),
                amount: if i == 0 { amount } else { U256::ZERO },
                userData: Bytes::new(),
            })
            .collect();
        let Some(out) = self.bal_query(&steps, &assets) else { return Ok(false) };
        let min = self.with_slippage(out);
        let value = if eth_in { amount } else { U256::ZERO };
        let names = self.names(&tokens);
        if kind == Kind::BalancerSwap {
            let single = IVault::SingleSwap {
                poolId: steps[0].poolId,
                kind: 0,
                assetIn: assets[0],
                assetOut: assets[1],
                amount,
                userData: Bytes::new(),
            };
            let call = BalancerVault::swapCall { singleSwap: single, funds: self.funds(who), limit: min, deadline };
            let note = format!(
                "Vault.swap({} {}, [{names}], min {})",
                self.fmt(tokens[0], amount),
                if eth_in { "ETH" } else { self.sym(tokens[0]) },
                self.fmt(tokens[1], min)
            );
            return self.send(kind, self.user(user), vault, value, &call, note);
        }
        let (Ok(lim_in), Ok(lim_out)) = (I256::try_from(amount), I256::try_from(min)) else { return Ok(false) };
        let limits = vec![lim_in, I256::ZERO, -lim_out];
        let call =
            BalancerVault::batchSwapCall { kind: 0, swaps: steps, assets, funds: self.funds(who), limits, deadline };
        let note = format!(
            "Vault.batchSwap(given in, {} {}, [{names}], min {})",
            self.fmt(tokens[0], amount),
            self.sym(tokens[0]),
            self.fmt(tokens[2], min)
        );
        self.send(kind, self.user(user), vault, value, &call, note)
    }

    fn balancer_join(&mut self, user: usize) -> Result<bool, CorpusError> {
        let who = self.addr(user);
        let vault = self.w.a.balancer_vault;
        let pi = self.rng.gen_range(0..self.w.bal_pools.len());
        let pool = self.w.bal_pools[pi].clone();
        let held = self.holdings(who, &pool.tokens)?;
        let Some(&(t, balance)) = held.choose(&mut self.rng) else { return Ok(false) };
        if let Some(done) = self.need_approval(user, self.tok(t), vault, Kind::BalancerJoin)? {
            return Ok(done);
        }
        let amount = self.portion(balance);
        if amount.is_zero() {
            return Ok(false);
        }
        // EXACT_TOKENS_IN_FOR_BPT_OUT with one token: (1, amountsIn, minBPT).
        let amounts: Vec<U256> = pool.tokens.iter().map(|x| if *x == t { amount } else { U256::ZERO }).collect();
        let user_data = alloy_sol_types::SolValue::abi_encode_params(&(U256::from(1), amounts.clone(), U256::ZERO));
        let call = BalancerVault::joinPoolCall {
            poolId: pool.id,
            sender: who,
            recipient: who,
            request: IVault::JoinPoolRequest {
                assets: pool.tokens.iter().map(|x| self.tok(*x)).collect(),
                maxAmountsIn: amounts,
                userData: user_data.into(),
                fromInternalBalance: false,
            },
        };
        let names = self.names(&pool.tokens);
        let note = format!("Vault.joinPool([{names}], exact tokens in: {} {})", self.fmt(t, amount), self.sym(t));
        let ok = self.send(Kind::BalancerJoin, self.user(user), vault, U256::ZERO, &call, note)?;
        if ok && !self.bal_lp.contains(&(user, pi)) {
            self.bal_lp.push((user, pi));
        }
        Ok(ok)
    }

    fn balancer_exit(&mut self) -> Result<bool, CorpusError> {
        if self.bal_lp.is_empty() {
            return Ok(false);
        }
        let k = self.rng.gen_range(0..self.bal_lp.len());
        let (user, pi) = self.bal_lp[k];
        let who = self.addr(user);
        let pool = self.w.bal_pools[pi].clone();
        let bpt = self.chain.view(pool.address, &WeightedPool::balanceOfCall { account: who })?;
        if bpt.is_zero() {
            self.bal_lp.swap_remove(k);
            return Ok(false);
        }
        let all = self.rng.gen_bool(0.4);
        let amount = if all { bpt } else { self.portion(bpt) };
        if amount.is_zero() {
            return Ok(false);
        }
        // EXACT_BPT_IN_FOR_TOKENS_OUT (1, bpt) or EXACT_BPT_IN_FOR_ONE_TOKEN_OUT (0, bpt, index).
        let one = self.rng.gen_bool(0.5);
        let index = self.rng.gen_range(0..pool.tokens.len());
        let user_data = if one {
            alloy_sol_types::SolValue::abi_encode_params(&(U256::ZERO, amount, U256::from(index)))
        } else {
            alloy_sol_types::SolValue::abi_encode_params(&(U256::from(1), amount))
        };
        let call = BalancerVault::exitPoolCall {
            poolId: pool.id,
            sender: who,
            recipient: who,
            request: IVault::ExitPoolRequest {
                assets: pool.tokens.iter().map(|x| self.tok(*x)).collect(),
                minAmountsOut: vec![U256::ZERO; pool.tokens.len()],
                userData: user_data.into(),
                toInternalBalance: false,
            },
        };
        let names = self.names(&pool.tokens);
        let how = if one { format!("all in {}", self.sym(pool.tokens[index])) } else { "proportional".to_owned() };
        let note = format!("Vault.exitPool([{names}], {} BPT, {how})", fmt_units(amount, 18));
        let ok = self.send(Kind::BalancerExit, self.user(user), self.w.a.balancer_vault, U256::ZERO, &call, note)?;
        if ok && all {
            self.bal_lp.swap_remove(k);
        }
        Ok(ok)
    }

    // ---- Uniswap v2 liquidity ----

    fn reserves(&self, pair: Address, token: Address) -> Result<(U256, U256), CorpusError> {
        let r = self.chain.view(pair, &UniswapV2Pair::getReservesCall {})?;
        let token0 = self.chain.view(pair, &UniswapV2Pair::token0Call {})?;
        let (r0, r1) = (U256::from(r._reserve0), U256::from(r._reserve1));
        Ok(if token0 == token { (r0, r1) } else { (r1, r0) })
    }

    fn v2_add(&mut self, user: usize, kind: Kind) -> Result<bool, CorpusError> {
        let who = self.addr(user);
        let router = self.w.a.v2_router;
        let deadline = self.deadline();
        let candidates: Vec<usize> = (0..self.w.pairs.len())
            .filter(|&i| {
                let p = self.w.pairs[i];
                (kind == Kind::V2AddLiquidityEth) == (p.a == WETH || p.b == WETH)
            })
            .collect();
        let Some(&pi) = candidates.choose(&mut self.rng) else { return Ok(false) };
        let pair = self.w.pairs[pi];
        let (ta, tb) = if pair.b == WETH { (pair.a, pair.b) } else { (pair.b, pair.a) };
        let bal_a = self.bal(ta, who)?;
        if bal_a.is_zero() {
            return Ok(false);
        }
        if let Some(done) = self.need_approval(user, self.tok(ta), router, kind)? {
            return Ok(done);
        }
        let (ra, rb) = self.reserves(pair.address, self.tok(ta))?;
        let amount_a = self.portion(bal_a);
        let amount_b = if ra.is_zero() { U256::ZERO } else { amount_a * rb / ra + U256::from(1) };
        if amount_a.is_zero() || amount_b.is_zero() {
            return Ok(false);
        }
        let ok = if kind == Kind::V2AddLiquidityEth {
            if amount_b > self.chain.balance(who) {
                return Ok(false);
            }
            let min_a = self.with_slippage(amount_a);
            let min_eth = self.with_slippage(amount_b);
            let call = UniswapV2Router02::addLiquidityETHCall {
                token: self.tok(ta),
                amountTokenDesired: amount_a,
                amountTokenMin: min_a,
                amountETHMin: min_eth,
                to: who,
                deadline,
            };
            let note = format!(
                "UniswapV2Router02.addLiquidityETH({}, {}) {{value: {}}}",
                self.sym(ta),
                self.fmt(ta, amount_a),
                fmt_units(amount_b, 18)
            );
            self.send(kind, self.user(user), router, amount_b, &call, note)?
        } else {
            if amount_b > self.bal(tb, who)? {
                return Ok(false);
            }
            if let Some(done) = self.need_approval(user, self.tok(tb), router, kind)? {
                return Ok(done);
            }
            let (min_a, min_b) = (self.with_slippage(amount_a), self.with_slippage(amount_b));
            let call = UniswapV2Router02::addLiquidityCall {
                tokenA: self.tok(ta),
                tokenB: self.tok(tb),
                amountADesired: amount_a,
                amountBDesired: amount_b,
                amountAMin: min_a,
                amountBMin: min_b,
                to: who,
                deadline,
            };
            let note = format!(
                "UniswapV2Router02.addLiquidity({}, {}, {}, {})",
                self.sym(ta),
                self.sym(tb),
                self.fmt(ta, amount_a),
                self.fmt(tb, amount_b)
            );
            self.send(kind, self.user(user), router, U256::ZERO, &call, note)?
        };
        if ok && !self.lp.contains(&(user, pi)) {
            self.lp.push((user, pi));
        }
        Ok(ok)
    }

    fn v2_remove(&mut self, _user: usize, kind: Kind) -> Result<bool, CorpusError> {
        if self.lp.is_empty() {
            return Ok(false);
        }
        let k = self.rng.gen_range(0..self.lp.len());
        let (user, pi) = self.lp[k];
        let who = self.addr(user);
        let pair = self.w.pairs[pi];
        let router = self.w.a.v2_router;
        let deadline = self.deadline();
        let held = self.erc20_bal(pair.address, who)?;
        if held.is_zero() {
            self.lp.swap_remove(k);
            return Ok(false);
        }
        let all = self.rng.gen_bool(0.4);
        let liquidity = if all { held } else { self.portion(held) };
        if liquidity.is_zero() {
            return Ok(false);
        }
        let total = self.chain.view(pair.address, &UniswapV2Pair::totalSupplyCall {})?;
        let (ra, rb) = self.reserves(pair.address, self.tok(pair.a))?;
        let (out_a, out_b) = (ra * liquidity / total, rb * liquidity / total);
        let (min_a, min_b) = (self.with_slippage(out_a), self.with_slippage(out_b));
        let eth = pair.a == WETH || pair.b == WETH;
        let (tok, tok_min, eth_min) = if pair.a == WETH { (pair.b, min_b, min_a) } else { (pair.a, min_a, min_b) };
        let note_tail = format!("{}/{}, {} LP", self.sym(pair.a), self.sym(pair.b), fmt_units(liquidity, 18));
        let ok = if kind == Kind::V2RemoveLiquidityWithPermit {
            let ds = self.chain.view(pair.address, &UniswapV2Pair::DOMAIN_SEPARATORCall {})?;
            let nonce = self.chain.view(pair.address, &UniswapV2Pair::noncesCall(who))?;
            let (v, r, s) = sign_permit(self.user(user), ds, router, liquidity, nonce, deadline)?;
            let data = if eth && self.rng.gen_bool(0.6) {
                UniswapV2Router02::removeLiquidityETHWithPermitCall {
                    token: self.tok(tok),
                    liquidity,
                    amountTokenMin: tok_min,
                    amountETHMin: eth_min,
                    to: who,
                    deadline,
                    approveMax: false,
                    v,
                    r,
                    s,
                }
                .abi_encode()
            } else {
                UniswapV2Router02::removeLiquidityWithPermitCall {
                    tokenA: self.tok(pair.a),
                    tokenB: self.tok(pair.b),
                    liquidity,
                    amountAMin: min_a,
                    amountBMin: min_b,
                    to: who,
                    deadline,
                    approveMax: false,
                    v,
                    r,
                    s,
                }
                .abi_encode()
            };
            self.send_raw(
                kind,
                self.user(user),
                router,
                U256::ZERO,
                data,
                format!("UniswapV2Router02.removeLiquidityWithPermit({note_tail})"),
            )?
        } else {
            if let Some(done) = self.need_approval(user, pair.address, router, kind)? {
                return Ok(done);
            }
            let data = if eth && self.rng.gen_bool(0.6) {
                UniswapV2Router02::removeLiquidityETHCall {
                    token: self.tok(tok),
                    liquidity,
                    amountTokenMin: tok_min,
                    amountETHMin: eth_min,
                    to: who,
                    deadline,
                }
                .abi_encode()
            } else {
                UniswapV2Router02::removeLiquidityCall {
                    tokenA: self.tok(pair.a),
                    tokenB: self.tok(pair.b),
                    liquidity,
                    amountAMin: min_a,
                    amountBMin: min_b,
                    to: who,
                    deadline,
                }
                .abi_encode()
            };
            self.send_raw(
                kind,
                self.user(user),
                router,
                U256::ZERO,
                data,
                format!("UniswapV2Router02.removeLiquidity({note_tail})"),
            )?
        };
        if ok && all {
            self.lp.swap_remove(k);
        }
        Ok(ok)
    }

    // ---- Uniswap v3 positions ----

    fn v3_mint(&mut self, user: usize) -> Result<bool, CorpusError> {
        let who = self.addr(user);
        let npm = self.w.a.npm;
        let deadline = self.deadline();
        let pi = self.rng.gen_range(0..self.w.pools.len());
        let pool = self.w.pools[pi];
        let slot = self.chain.view(pool.address, &UniswapV3Pool::slot0Call {})?;
        let tick = slot.tick.as_i32();
        let width = [2, 10, 30, 100, 400][self.rng.gen_range(0..5)] * pool.spacing;
        let lo = (tick - width).div_euclid(pool.spacing) * pool.spacing;
        let hi = (tick + width).div_euclid(pool.spacing) * pool.spacing + pool.spacing;
        // Amounts worth about the same on each side, from the user's holdings
        // (ETH for the WETH side).
        let avail = |s: &Self, t: usize| -> Result<U256, CorpusError> {
            if t == WETH {
                Ok(s.chain.balance(who))
            } else {
                s.bal(t, who)
            }
        };
        let (bal_a, bal_b) = (avail(self, pool.a)?, avail(self, pool.b)?);
        if bal_a.is_zero() || bal_b.is_zero() {
            return Ok(false);
        }
        let usd = self.usd(pool.a, bal_a).min(self.usd(pool.b, bal_b)) * log_uniform(&mut self.rng, 0.05, 0.5);
        let amount = |s: &Self, t: usize| -> U256 {
            let price = s.feeds.get(&t).map_or(s.w.tokens[t].usd, |p| f(*p) / 1e8);
            round_sig(u(usd / price * 10f64.powi(i32::from(s.w.tokens[t].decimals))), 3)
        };
        let (amt_a, amt_b) = (amount(self, pool.a), amount(self, pool.b));
        if amt_a.is_zero() || amt_b.is_zero() {
            return Ok(false);
        }
        for t in [pool.a, pool.b] {
            if t != WETH {
                if let Some(done) = self.need_approval(user, self.tok(t), npm, Kind::V3Mint)? {
                    return Ok(done);
                }
            }
        }
        let (Ok(tl), Ok(tu)) = (I24::try_from(lo), I24::try_from(hi)) else { return Ok(false) };
        let mint = NonfungiblePositionManager::mintCall {
            params: Npm::MintParams {
                token0: self.tok(pool.a),
                token1: self.tok(pool.b),
                fee: U24::from(pool.fee),
                tickLower: tl,
                tickUpper: tu,
                amount0Desired: amt_a,
                amount1Desired: amt_b,
                amount0Min: U256::ZERO,
                amount1Min: U256::ZERO,
                recipient: who,
                deadline,
            },
        };
        let eth = if pool.a == WETH {
            amt_a
        } else if pool.b == WETH {
            amt_b
        } else {
            U256::ZERO
        };
        let note = format!(
            "NonfungiblePositionManager.mint({}/{} {}, ticks {lo}..{hi}, {} + {})",
            self.sym(pool.a),
            self.sym(pool.b),
            pool.fee,
            self.fmt(pool.a, amt_a),
            self.fmt(pool.b, amt_b)
        );
        let out = if eth.is_zero() {
            self.send_out(Kind::V3Mint, self.user(user), npm, U256::ZERO, &mint, note)?
        } else {
            let call = NonfungiblePositionManager::multicallCall {
                data: vec![mint.abi_encode().into(), NonfungiblePositionManager::refundETHCall {}.abi_encode().into()],
            };
            self.send_out(Kind::V3Mint, self.user(user), npm, eth, &call, format!("multicall([{note}, refundETH()])"))?
                .and_then(|o| NonfungiblePositionManager::multicallCall::abi_decode_returns(&o).ok())
                .and_then(|r| r.first().cloned())
        };
        let Some(out) = out else { return Ok(false) };
        if let Ok(r) = NonfungiblePositionManager::mintCall::abi_decode_returns(&out) {
            self.positions.push((user, r.tokenId));
        }
        Ok(true)
    }

    fn v3_manage(&mut self, _user: usize, kind: Kind) -> Result<bool, CorpusError> {
        if self.positions.is_empty() {
            return Ok(false);
        }
        let k = self.rng.gen_range(0..self.positions.len());
        let (user, id) = self.positions[k];
        let who = self.addr(user);
        let npm = self.w.a.npm;
        let deadline = self.deadline();
        let Ok(pos) = self.chain.view(npm, &NonfungiblePositionManager::positionsCall { tokenId: id }) else {
            self.positions.swap_remove(k);
            return Ok(false);
        };
        let liquidity: u128 = pos.liquidity;
        let collect = NonfungiblePositionManager::collectCall {
            params: Npm::CollectParams { tokenId: id, recipient: who, amount0Max: u128::MAX, amount1Max: u128::MAX },
        };
        match kind {
            Kind::V3Collect => self.send(
                kind,
                self.user(user),
                npm,
                U256::ZERO,
                &collect,
                format!("NonfungiblePositionManager.collect(#{id}, MAX, MAX)"),
            ),
            Kind::V3Decrease | Kind::V3Close => {
                if liquidity == 0 {
                    return Ok(false);
                }
                let part = if kind == Kind::V3Close {
                    liquidity
                } else {
                    liquidity / [2u128, 3, 4, 10][self.rng.gen_range(0..4)]
                };
                let dec = NonfungiblePositionManager::decreaseLiquidityCall {
                    params: Npm::DecreaseLiquidityParams {
                        tokenId: id,
                        liquidity: part,
                        amount0Min: U256::ZERO,
                        amount1Min: U256::ZERO,
                        deadline,
                    },
                };
                if kind == Kind::V3Decrease {
                    let call = NonfungiblePositionManager::multicallCall {
                        data: vec![dec.abi_encode().into(), collect.abi_encode().into()],
                    };
                    return self.send(
                        kind,
                        self.user(user),
                        npm,
                        U256::ZERO,
                        &call,
                        format!(
                            "NonfungiblePositionManager.multicall([decreaseLiquidity(#{id}, {part}), collect(MAX)])"
                        ),
                    );
                }
                let burn = NonfungiblePositionManager::burnCall { tokenId: id };
                let call = NonfungiblePositionManager::multicallCall {
                    data: vec![dec.abi_encode().into(), collect.abi_encode().into(), burn.abi_encode().into()],
                };
                let ok = self.send(kind, self.user(user), npm, U256::ZERO, &call, format!("NonfungiblePositionManager.multicall([decreaseLiquidity(#{id}, all), collect(MAX), burn(#{id})])"))?;
                if ok {
                    self.positions.swap_remove(k);
                }
                Ok(ok)
            }
            _ => {
                let (a, b) = (
                    self.w.tokens.iter().position(|t| t.address == pos.token0),
                    self.w.tokens.iter().position(|t| t.address == pos.token1),
                );
                let (Some(a), Some(b)) = (a, b) else { return Ok(false) };
                let has = |s: &Self, t: usize| -> Result<U256, CorpusError> {
                    if t == WETH {
                        Ok(s.chain.balance(who))
                    } else {
                        s.bal(t, who)
                    }
                };
                let (ba, bb) = (has(self, a)?, has(self, b)?);
                let (amt_a, amt_b) = (round_sig(ba / U256::from(10), 2), round_sig(bb / U256::from(10), 2));
                if amt_a.is_zero() || amt_b.is_zero() {
                    return Ok(false);
                }
                let inc = NonfungiblePositionManager::increaseLiquidityCall {
                    params: Npm::IncreaseLiquidityParams {
                        tokenId: id,
                        amount0Desired: amt_a,
                        amount1Desired: amt_b,
                        amount0Min: U256::ZERO,
                        amount1Min: U256::ZERO,
                        deadline,
                    },
                };
                let eth = if a == WETH {
                    amt_a
                } else if b == WETH {
                    amt_b
                } else {
                    U256::ZERO
                };
                let note = format!(
                    "increaseLiquidity(#{id}, {} {}, {} {})",
                    self.fmt(a, amt_a),
                    self.sym(a),
                    self.fmt(b, amt_b),
                    self.sym(b)
                );
                if eth.is_zero() {
                    self.send(
                        kind,
                        self.user(user),
                        npm,
                        U256::ZERO,
                        &inc,
                        format!("NonfungiblePositionManager.{note}"),
                    )
                } else {
                    let call = NonfungiblePositionManager::multicallCall {
                        data: vec![
                            inc.abi_encode().into(),
                            NonfungiblePositionManager::refundETHCall {}.abi_encode().into(),
                        ],
                    };
                    self.send(
                        kind,
                        self.user(user),
                        npm,
                        eth,
                        &call,
                        format!("NonfungiblePositionManager.multicall([{note}, refundETH()])"),
                    )
                }
            }
        }
    }

    // ---- Aave v3 ----

    fn lending(&self) -> [usize; 5] {
        [WETH, USDC, WBTC, DAI, LINK]
    }

    fn reserve(&self, t: usize) -> Option<super::world::Reserve> {
        self.w.reserves.iter().find(|r| r.token == t).copied()
    }

    fn aave_supply(&mut self, user: usize, kind: Kind) -> Result<bool, CorpusError> {
        let who = self.addr(user);
        let pool = self.w.a.aave_pool;
        let among: Vec<usize> =
            if kind == Kind::AaveSupplyWithPermit { vec![USDC, WBTC, DAI, LINK] } else { self.lending().to_vec() };
        let held = self.holdings(who, &among)?;
        let Some(&(t, balance)) = held.choose(&mut self.rng) else { return Ok(false) };
        let amount = if self.rng.gen_bool(0.2) { balance } else { self.portion(balance) };
        if amount.is_zero() {
            return Ok(false);
        }
        let note = format!("Pool.supply({}, {})", self.sym(t), self.fmt(t, amount));
        let ok = if kind == Kind::AaveSupplyWithPermit {
            let token = self.tok(t);
            let ds = self.chain.view(token, &PermitToken::DOMAIN_SEPARATORCall {})?;
            let nonce = self.chain.view(token, &PermitToken::noncesCall { owner: who })?;
            let deadline = self.deadline();
            let (v, r, s) = sign_permit(self.user(user), ds, pool, amount, nonce, deadline)?;
            let call = Pool::supplyWithPermitCall {
                asset: token,
                amount,
                onBehalfOf: who,
                referralCode: 0,
                deadline,
                permitV: v,
                permitR: r,
                permitS: s,
            };
            self.send(
                kind,
                self.user(user),
                pool,
                U256::ZERO,
                &call,
                format!("Pool.supplyWithPermit({}, {})", self.sym(t), self.fmt(t, amount)),
            )?
        } else {
            if let Some(done) = self.need_approval(user, self.tok(t), pool, kind)? {
                return Ok(done);
            }
            let call = Pool::supplyCall { asset: self.tok(t), amount, onBehalfOf: who, referralCode: 0 };
            self.send(kind, self.user(user), pool, U256::ZERO, &call, note)?
        };
        if ok {
            self.suppliers.insert(user);
        }
        Ok(ok)
    }

    fn pick_from(&mut self, set: &BTreeSet<usize>) -> Option<usize> {
        if set.is_empty() {
            return None;
        }
        let k = self.rng.gen_range(0..set.len());
        set.iter().nth(k).copied()
    }

    fn aave_borrow(&mut self, user: usize) -> Result<bool, CorpusError> {
        let pool = self.w.a.aave_pool;
        let user = if self.rng.gen_bool(0.85) { self.pick_from(&self.suppliers.clone()).unwrap_or(user) } else { user };
        let who = self.addr(user);
        let data = self.chain.view(pool, &Pool::getUserAccountDataCall { user: who })?;
        if data.availableBorrowsBase.is_zero() {
            return Ok(false);
        }
        // Mostly stablecoins; sometimes the asset supplied (a loop).
        let supplied: Vec<usize> = self.collaterals(who)?.into_iter().map(|(t, _)| t).collect();
        let t = match supplied.choose(&mut self.rng) {
            Some(&t) if self.rng.gen_bool(0.2) => t,
            _ => *[USDC, USDC, DAI, WETH, WBTC, LINK].choose(&mut self.rng).unwrap_or(&USDC),
        };
        // Most borrow well within their limit; some go close to it.
        let share = if self.rng.gen_bool(0.3) {
            0.85 + 0.13 * self.rng.gen::<f64>()
        } else {
            0.1 + 0.6 * self.rng.gen::<f64>()
        };
        let price = self.feeds.get(&t).map_or(1.0, |p| f(*p));
        let amount = round_sig(
            u(f(data.availableBorrowsBase) * share / price * 10f64.powi(i32::from(self.w.tokens[t].decimals))),
            3,
        );
        if amount.is_zero() {
            return Ok(false);
        }
        let call = Pool::borrowCall {
            asset: self.tok(t),
            amount,
            interestRateMode: U256::from(2),
            referralCode: 0,
            onBehalfOf: who,
        };
        let note = format!("Pool.borrow({}, {}, variable)", self.sym(t), self.fmt(t, amount));
        let ok = self.send(Kind::AaveBorrow, self.user(user), pool, U256::ZERO, &call, note)?;
        if ok {
            self.borrowers.insert(user);
        }
        Ok(ok)
    }

    fn debts(&self, who: Address) -> Result<Vec<(usize, U256)>, CorpusError> {
        let mut out = Vec::new();
        for r in &self.w.reserves {
            let d = self.erc20_bal(r.debt_token, who)?;
            if !d.is_zero() {
                out.push((r.token, d));
            }
        }
        Ok(out)
    }

    fn collaterals(&self, who: Address) -> Result<Vec<(usize, U256)>, CorpusError> {
        let mut out = Vec::new();
        for r in &self.w.reserves {
            let d = self.erc20_bal(r.a_token, who)?;
            if !d.is_zero() {
                out.push((r.token, d));
            }
        }
        Ok(out)
    }

    fn aave_repay(&mut self, _user: usize, kind: Kind) -> Result<bool, CorpusError> {
        let Some(user) = self.pick_from(&self.borrowers.clone()) else { return Ok(false) };
        let who = self.addr(user);
        let pool = self.w.a.aave_pool;
        let mut debts = self.debts(who)?;
        if debts.is_empty() {
            self.borrowers.remove(&user);
            return Ok(false);
        }
        if kind == Kind::AaveRepayWithATokens {
            let held: Vec<usize> = self.collaterals(who)?.into_iter().map(|(t, _)| t).collect();
            debts.retain(|(t, _)| held.contains(t));
        }
        let Some(&(t, debt)) = debts.choose(&mut self.rng) else { return Ok(false) };
        let call_note;
        let data = if kind == Kind::AaveRepayWithATokens {
            let Some(r) = self.reserve(t) else { return Ok(false) };
            let a_bal = self.erc20_bal(r.a_token, who)?;
            if a_bal.is_zero() {
                return Ok(false);
            }
            let amount = if a_bal > debt && self.rng.gen_bool(0.5) { U256::MAX } else { self.portion(a_bal.min(debt)) };
            call_note = format!("Pool.repayWithATokens({}, {}, variable)", self.sym(t), self.fmt(t, amount));
            Pool::repayWithATokensCall { asset: self.tok(t), amount, interestRateMode: U256::from(2) }.abi_encode()
        } else {
            let held = self.bal(t, who)?;
            if held.is_zero() {
                return Ok(false);
            }
            if let Some(done) = self.need_approval(user, self.tok(t), pool, kind)? {
                return Ok(done);
            }
            let amount = if held > debt && self.rng.gen_bool(0.5) { U256::MAX } else { self.portion(held.min(debt)) };
            call_note = format!("Pool.repay({}, {}, variable)", self.sym(t), self.fmt(t, amount));
            Pool::repayCall { asset: self.tok(t), amount, interestRateMode: U256::from(2), onBehalfOf: who }
                .abi_encode()
        };
        self.send_raw(kind, self.user(user), pool, U256::ZERO, data, call_note)
    }

    fn aave_withdraw(&mut self, _user: usize) -> Result<bool, CorpusError> {
        let Some(user) = self.pick_from(&self.suppliers.clone()) else { return Ok(false) };
        let who = self.addr(user);
        let coll = self.collaterals(who)?;
        let Some(&(t, held)) = coll.choose(&mut self.rng) else {
            self.suppliers.remove(&user);
            return Ok(false);
        };
        let has_debt = self.borrowers.contains(&user);
        let amount = if !has_debt && self.rng.gen_bool(0.4) { U256::MAX } else { self.portion(held) };
        if amount.is_zero() {
            return Ok(false);
        }
        let call = Pool::withdrawCall { asset: self.tok(t), amount, to: who };
        let note = format!("Pool.withdraw({}, {})", self.sym(t), self.fmt(t, amount));
        self.send(Kind::AaveWithdraw, self.user(user), self.w.a.aave_pool, U256::ZERO, &call, note)
    }

    fn aave_toggle(&mut self, _user: usize) -> Result<bool, CorpusError> {
        let Some(user) = self.pick_from(&self.suppliers.clone()) else { return Ok(false) };
        let who = self.addr(user);
        let coll = self.collaterals(who)?;
        let Some(&(t, _)) = coll.choose(&mut self.rng) else { return Ok(false) };
        let on = self.rng.gen_bool(0.5);
        let call = Pool::setUserUseReserveAsCollateralCall { asset: self.tok(t), useAsCollateral: on };
        let note = format!("Pool.setUserUseReserveAsCollateral({}, {on})", self.sym(t));
        self.send(Kind::AaveCollateralToggle, self.user(user), self.w.a.aave_pool, U256::ZERO, &call, note)
    }

    // ---- ERC-4626 ----

    fn vault_in(&mut self, user: usize, kind: Kind) -> Result<bool, CorpusError> {
        let who = self.addr(user);
        let vi = self.rng.gen_range(0..self.w.vaults.len());
        let v = self.w.vaults[vi];
        let held = self.bal(v.asset, who)?;
        if held.is_zero() {
            return Ok(false);
        }
        if let Some(done) = self.need_approval(user, self.tok(v.asset), v.address, kind)? {
            return Ok(done);
        }
        let assets = self.portion(held);
        if assets.is_zero() {
            return Ok(false);
        }
        let ok = if kind == Kind::VaultMint {
            let shares = self.chain.view(v.address, &TokenVault::previewDepositCall { assets })?;
            let shares = round_sig(shares * U256::from(9) / U256::from(10), 3);
            let note = format!("TokenVault(v{}).mint({} shares)", self.sym(v.asset), fmt_units(shares, 18));
            self.send(
                kind,
                self.user(user),
                v.address,
                U256::ZERO,
                &TokenVault::mintCall { shares, receiver: who },
                note,
            )?
        } else {
            let note = format!("TokenVault(v{}).deposit({})", self.sym(v.asset), self.fmt(v.asset, assets));
            self.send(
                kind,
                self.user(user),
                v.address,
                U256::ZERO,
                &TokenVault::depositCall { assets, receiver: who },
                note,
            )?
        };
        if ok && !self.vault_holders.contains(&(user, vi)) {
            self.vault_holders.push((user, vi));
        }
        Ok(ok)
    }

    fn vault_out(&mut self, _user: usize, kind: Kind) -> Result<bool, CorpusError> {
        if self.vault_holders.is_empty() {
            return Ok(false);
        }
        let k = self.rng.gen_range(0..self.vault_holders.len());
        let (user, vi) = self.vault_holders[k];
        let who = self.addr(user);
        let v = self.w.vaults[vi];
        let shares = self.chain.view(v.address, &TokenVault::maxRedeemCall { owner: who })?;
        if shares.is_zero() {
            self.vault_holders.swap_remove(k);
            return Ok(false);
        }
        if kind == Kind::VaultRedeem {
            let all = self.rng.gen_bool(0.4);
            let s = if all { shares } else { self.portion(shares) };
            let note = format!("TokenVault(v{}).redeem({} shares)", self.sym(v.asset), fmt_units(s, 18));
            let ok = self.send(
                kind,
                self.user(user),
                v.address,
                U256::ZERO,
                &TokenVault::redeemCall { shares: s, receiver: who, owner: who },
                note,
            )?;
            if ok && all {
                self.vault_holders.swap_remove(k);
            }
            return Ok(ok);
        }
        let max = self.chain.view(v.address, &TokenVault::maxWithdrawCall { owner: who })?;
        let assets = self.portion(max);
        if assets.is_zero() {
            return Ok(false);
        }
        let note = format!("TokenVault(v{}).withdraw({})", self.sym(v.asset), self.fmt(v.asset, assets));
        self.send(
            kind,
            self.user(user),
            v.address,
            U256::ZERO,
            &TokenVault::withdrawCall { assets, receiver: who, owner: who },
            note,
        )
    }

    // ---- Safe ----

    /// `execTransaction` of `call` on Safe `si`, signed by `threshold`
    /// owners, submitted by one of them.
    fn safe_exec(
        &mut self,
        kind: Kind,
        si: usize,
        call: BatchCall,
        operation: u8,
        note: String,
    ) -> Result<bool, CorpusError> {
        let safe = self.safes[si].clone();
        let mut signers = safe.owners.clone();
        signers.shuffle(&mut self.rng);
        signers.truncate(safe.threshold);
        let nonce = self.chain.view(safe.address, &SafeL2::nonceCall {})?;
        let hash = self.chain.view(
            safe.address,
            &SafeL2::getTransactionHashCall {
                to: call.to,
                value: call.value,
                data: call.data.clone(),
                operation,
                safeTxGas: U256::ZERO,
                baseGas: U256::ZERO,
                gasPrice: U256::ZERO,
                gasToken: Address::ZERO,
                refundReceiver: Address::ZERO,
                _nonce: nonce,
            },
        )?;
        let owners: Vec<&Actor> = signers.iter().map(|i| &self.w.users[*i]).collect();
        let exec = SafeL2::execTransactionCall {
            to: call.to,
            value: call.value,
            data: call.data,
            operation,
            safeTxGas: U256::ZERO,
            baseGas: U256::ZERO,
            gasPrice: U256::ZERO,
            gasToken: Address::ZERO,
            refundReceiver: Address::ZERO,
            signatures: safe_signatures(&owners, hash)?,
        };
        let Some(&submitter) = signers.first() else { return Ok(false) };
        let note = format!("Safe {}-of-{} execTransaction: {note}", safe.threshold, safe.owners.len());
        self.send(kind, self.user(submitter), safe.address, U256::ZERO, &exec, note)
    }

    /// A MultiSend batch for a Safe to delegatecall: MultiSendCallOnly, or
    /// the original MultiSend (which could also delegatecall) if `full`.
    fn multisend(&self, calls: &[BatchCall], full: bool) -> BatchCall {
        BatchCall {
            to: if full { self.w.a.multisend } else { self.w.a.multisend_call_only },
            value: U256::ZERO,
            data: MultiSendCallOnly::multiSendCall { transactions: multisend_payload(calls) }.abi_encode().into(),
        }
    }

    fn safe_action(&mut self, kind: Kind) -> Result<bool, CorpusError> {
        if self.safes.is_empty() {
            return Ok(false);
        }
        let si = self.rng.gen_range(0..self.safes.len());
        let safe = self.safes[si].address;
        let usdc = self.tok(USDC);
        match kind {
            Kind::SafeEthTransfer => {
                let amount = self.portion(self.chain.balance(safe));
                if amount.is_zero() {
                    return Ok(false);
                }
                let to = self.rng.gen_range(0..self.w.users.len());
                let note = format!("send {} ETH to {}", fmt_units(amount, 18), self.user(to).role);
                self.safe_exec(kind, si, BatchCall { to: self.addr(to), value: amount, data: Bytes::new() }, 0, note)
            }
            Kind::SafeTokenTransfer => {
                let amount = self.portion(self.bal(USDC, safe)?);
                if amount.is_zero() {
                    return Ok(false);
                }
                let to = self.rng.gen_range(0..self.w.users.len());
                let data = PermitToken::transferCall { to: self.addr(to), value: amount }.abi_encode().into();
                let note = format!("USDC.transfer({}, {})", self.user(to).role, self.fmt(USDC, amount));
                self.safe_exec(kind, si, BatchCall { to: usdc, value: U256::ZERO, data }, 0, note)
            }
            Kind::SafeMultiSend => {
                // Payroll: a few payments in ETH and USDC in one batch.
                let (eth, usd) = (self.chain.balance(safe), self.bal(USDC, safe)?);
                let n = self.rng.gen_range(2..7);
                let mut calls = Vec::new();
                for _ in 0..n {
                    let to = self.rng.gen_range(0..self.w.users.len());
                    let to = self.addr(to);
                    if self.rng.gen_bool(0.5) {
                        let a = round_sig(eth / U256::from(4 * n), 2);
                        calls.push(BatchCall { to, value: a, data: Bytes::new() });
                    } else {
                        let a = round_sig(usd / U256::from(4 * n), 2);
                        calls.push(BatchCall {
                            to: usdc,
                            value: U256::ZERO,
                            data: PermitToken::transferCall { to, value: a }.abi_encode().into(),
                        });
                    }
                }
                let batch = self.multisend(&calls, false);
                self.safe_exec(kind, si, batch, 1, format!("MultiSendCallOnly.multiSend({n} payments)"))
            }
            Kind::SafeOwnerChange => {
                let owners = self.chain.view(safe, &SafeL2::getOwnersCall {})?;
                let info = self.safes[si].clone();
                let newcomer = self.rng.gen_range(0..self.w.users.len());
                if info.owners.contains(&newcomer) {
                    return Ok(false);
                }
                let r = self.rng.gen_range(0..3);
                let (data, note, owners_after, threshold_after) = if r == 0 && info.owners.len() < 7 {
                    let mut o = info.owners.clone();
                    o.push(newcomer);
                    (
                        SafeL2::addOwnerWithThresholdCall {
                            owner: self.addr(newcomer),
                            _threshold: U256::from(info.threshold),
                        }
                        .abi_encode(),
                        format!("addOwnerWithThreshold({}, {})", self.user(newcomer).role, info.threshold),
                        o,
                        info.threshold,
                    )
                } else if r == 1 || info.owners.len() == 1 {
                    // Replace the first owner in the Safe's list.
                    let Some(&old) = owners.first() else { return Ok(false) };
                    let prev = alloy_primitives::address!("0x0000000000000000000000000000000000000001");
                    let o: Vec<usize> =
                        info.owners.iter().map(|&x| if self.addr(x) == old { newcomer } else { x }).collect();
                    (
                        SafeL2::swapOwnerCall { prevOwner: prev, oldOwner: old, newOwner: self.addr(newcomer) }
                            .abi_encode(),
                        format!("swapOwner({})", self.user(newcomer).role),
                        o,
                        info.threshold,
                    )
                } else {
                    let t = if info.threshold < info.owners.len() { info.threshold + 1 } else { info.threshold - 1 };
                    (
                        SafeL2::changeThresholdCall { _threshold: U256::from(t) }.abi_encode(),
                        format!("changeThreshold({t})"),
                        info.owners.clone(),
                        t.max(1),
                    )
                };
                let ok =
                    self.safe_exec(kind, si, BatchCall { to: safe, value: U256::ZERO, data: data.into() }, 0, note)?;
                if ok {
                    self.safes[si].owners = owners_after;
                    self.safes[si].threshold = threshold_after;
                }
                Ok(ok)
            }
            Kind::SafeAddLiquidity => {
                let Some(pi) = self.v2_pair(USDC, WETH) else { return Ok(false) };
                let pair = self.w.pairs[pi];
                let (eth, usd) = (self.chain.balance(safe), self.bal(USDC, safe)?);
                let amount = round_sig(usd / U256::from(self.rng.gen_range(3u64..10)), 3);
                let (r_usdc, r_weth) = self.reserves(pair.address, usdc)?;
                if amount.is_zero() || r_usdc.is_zero() {
                    return Ok(false);
                }
                let eth_amount = amount * r_weth / r_usdc + U256::from(1);
                if eth_amount > eth {
                    return Ok(false);
                }
                let router = self.w.a.v2_router;
                let deadline = self.deadline();
                let calls = vec![
                    BatchCall {
                        to: usdc,
                        value: U256::ZERO,
                        data: PermitToken::approveCall { spender: router, value: amount }.abi_encode().into(),
                    },
                    BatchCall {
                        to: router,
                        value: eth_amount,
                        data: UniswapV2Router02::addLiquidityETHCall {
                            token: usdc,
                            amountTokenDesired: amount,
                            amountTokenMin: self.with_slippage(amount),
                            amountETHMin: self.with_slippage(eth_amount),
                            to: safe,
                            deadline,
                        }
                        .abi_encode()
                        .into(),
                    },
                ];
                let batch = self.multisend(&calls, true);
                let note = format!(
                    "MultiSend.multiSend([USDC.approve(router, {a}), addLiquidityETH(USDC, {a}) {{value: {}}}])",
                    fmt_units(eth_amount, 18),
                    a = self.fmt(USDC, amount)
                );
                let ok = self.safe_exec(kind, si, batch, 1, note)?;
                if ok && !self.safe_lp.contains(&(si, pi)) {
                    self.safe_lp.push((si, pi));
                }
                Ok(ok)
            }
            _ => {
                // Remove liquidity the pair's way: LP tokens to the pair and
                // burn, both in one MultiSend.
                let Some(&(si, pi)) = self.safe_lp.choose(&mut self.rng) else { return Ok(false) };
                let safe = self.safes[si].address;
                let pair = self.w.pairs[pi].address;
                let held = self.erc20_bal(pair, safe)?;
                let all = self.rng.gen_bool(0.5);
                let lp = if all { held } else { round_sig(held / U256::from(2), 3) };
                if lp.is_zero() {
                    self.safe_lp.retain(|x| *x != (si, pi));
                    return Ok(false);
                }
                let calls = vec![
                    BatchCall {
                        to: pair,
                        value: U256::ZERO,
                        data: UniswapV2Pair::transferCall { to: pair, value: lp }.abi_encode().into(),
                    },
                    BatchCall {
                        to: pair,
                        value: U256::ZERO,
                        data: UniswapV2Pair::burnCall { to: safe }.abi_encode().into(),
                    },
                ];
                let full = self.rng.gen_bool(0.5);
                let batch = self.multisend(&calls, full);
                let note = format!(
                    "{}.multiSend([pair.transfer(pair, {} LP), pair.burn(safe)])",
                    if full { "MultiSend" } else { "MultiSendCallOnly" },
                    fmt_units(lp, 18)
                );
                let ok = self.safe_exec(Kind::SafeBurnLp, si, batch, 1, note)?;
                if ok && all {
                    self.safe_lp.retain(|x| *x != (si, pi));
                }
                Ok(ok)
            }
        }
    }

    fn safe_create(&mut self, user: usize) -> Result<bool, CorpusError> {
        let mut owners = vec![user];
        let (n, threshold) = if self.rng.gen_bool(0.5) { (1, 1) } else { (3, 2) };
        while owners.len() < n {
            let o = self.other(user);
            if !owners.contains(&o) {
                owners.push(o);
            }
        }
        let init = SafeL2::setupCall {
            _owners: owners.iter().map(|o| self.addr(*o)).collect(),
            _threshold: U256::from(threshold),
            to: Address::ZERO,
            data: Bytes::new(),
            fallbackHandler: self.w.a.fallback_handler,
            paymentToken: Address::ZERO,
            payment: U256::ZERO,
            paymentReceiver: Address::ZERO,
        };
        let salt = U256::from(self.rng.gen::<u64>());
        let call = SafeProxyFactory::createProxyWithNonceCall {
            _singleton: self.w.a.safe_singleton,
            initializer: init.abi_encode().into(),
            saltNonce: salt,
        };
        let note = format!("SafeProxyFactory.createProxyWithNonce(SafeL2, {threshold}-of-{n})");
        let Some(out) =
            self.send_out(Kind::SafeCreate, self.user(user), self.w.a.safe_factory, U256::ZERO, &call, note)?
        else {
            return Ok(false);
        };
        if let Ok(address) = SafeProxyFactory::createProxyWithNonceCall::abi_decode_returns(&out) {
            self.safes.push(SafeInfo { address, owners, threshold });
        }
        Ok(true)
    }

    // ---- OP Stack bridge ----

    fn bridge_deposit(&mut self, user: usize) -> Result<bool, CorpusError> {
        let who = self.addr(user);
        let value = self.portion(self.chain.balance(who));
        if value.is_zero() {
            return Ok(false);
        }
        let to = if self.rng.gen_bool(0.8) {
            who
        } else {
            let o = self.other(user);
            self.addr(o)
        };
        let call = OptimismPortal::depositTransactionCall {
            _to: to,
            _value: value,
            _gasLimit: 100_000,
            _isCreation: false,
            _data: Bytes::new(),
        };
        let note = format!("OptimismPortal.depositTransaction({} ETH to L2)", fmt_units(value, 18));
        self.send(Kind::BridgeDeposit, self.user(user), self.w.a.portal, value, &call, note)
    }

    /// A user sends ETH home through L2's message passer: recorded here,
    /// proven and finalised on L1 later.
    fn l2_withdraw(&mut self) {
        let user = self.pick_user();
        let value = round_sig(u(log_uniform(&mut self.rng, 0.01, 50.0) * 1e18), 3);
        // Encoding.encodeVersionedNonce(n, 1).
        let nonce = (U256::from(1u64) << 240) | U256::from(self.l2_withdrawals.len() as u64);
        let who = self.addr(user);
        let hash = bedrock::withdrawal_hash(nonce, who, who, value, U256::from(100_000u64));
        self.l2_sent.push(hash);
        self.l2_withdrawals.push(L2Withdrawal {
            nonce,
            user,
            value,
            hash,
            leaf: self.l2_sent.len() - 1,
            proven: false,
            finalized: false,
        });
    }

    fn propose_output(&mut self) -> Result<bool, CorpusError> {
        let oracle = self.w.a.output_oracle;
        let next = self.chain.view(oracle, &L2OutputOracle::nextBlockNumberCall {})?;
        let (storage_root, _) = bedrock::storage_root_and_proof(&self.l2_sent, None);
        let state_root = B256::from(self.rng.gen::<[u8; 32]>());
        let block_hash = B256::from(self.rng.gen::<[u8; 32]>());
        let root = bedrock::output_root(state_root, storage_root, block_hash);
        let index = self.chain.view(oracle, &L2OutputOracle::nextOutputIndexCall {})?;
        let call = L2OutputOracle::proposeL2OutputCall {
            _outputRoot: root,
            _l2BlockNumber: next,
            _l1BlockHash: B256::ZERO,
            _l1BlockNumber: U256::ZERO,
        };
        let note = format!(
            "L2OutputOracle.proposeL2Output(output of L2 block {next}, {} withdrawals sent)",
            self.l2_sent.len()
        );
        let proposer = self.w.proposer.clone();
        if !self.send(Kind::ProposeOutput, &proposer, oracle, U256::ZERO, &call, note)? {
            return Ok(false);
        }
        self.outputs.push(Output { index, leaves: self.l2_sent.len(), state_root, block_hash });
        self.last_proposal = self.steps;
        Ok(true)
    }

    fn withdrawal_tx(&self, w: &L2Withdrawal) -> optimism_portal::Types::WithdrawalTransaction {
        let who = self.addr(w.user);
        optimism_portal::Types::WithdrawalTransaction {
            nonce: w.nonce,
            sender: who,
            target: who,
            value: w.value,
            gasLimit: U256::from(100_000u64),
            data: Bytes::new(),
        }
    }

    fn bridge_prove(&mut self, user: usize) -> Result<bool, CorpusError> {
        let Some(out) = self.outputs.last().copied() else { return Ok(false) };
        let ready: Vec<usize> = (0..self.l2_withdrawals.len())
            .filter(|&i| !self.l2_withdrawals[i].proven && self.l2_withdrawals[i].leaf < out.leaves)
            .collect();
        let Some(&i) = ready.choose(&mut self.rng) else { return Ok(false) };
        let w = self.l2_withdrawals[i].clone();
        let (storage_root, proof) = bedrock::storage_root_and_proof(&self.l2_sent[..out.leaves], Some(w.hash));
        let call = OptimismPortal::proveWithdrawalTransactionCall {
            _tx: self.withdrawal_tx(&w),
            _l2OutputIndex: out.index,
            _outputRootProof: optimism_portal::Types::OutputRootProof {
                version: B256::ZERO,
                stateRoot: out.state_root,
                messagePasserStorageRoot: storage_root,
                latestBlockhash: out.block_hash,
            },
            _withdrawalProof: proof,
        };
        // The withdrawer, or a relayer doing it for them.
        let sender = if self.rng.gen_bool(0.8) { w.user } else { user };
        let note = format!(
            "OptimismPortal.proveWithdrawalTransaction({} ETH to {}, output {})",
            fmt_units(w.value, 18),
            self.user(w.user).role,
            out.index
        );
        let ok = self.send(Kind::BridgeProve, self.user(sender), self.w.a.portal, U256::ZERO, &call, note)?;
        if ok {
            self.l2_withdrawals[i].proven = true;
        }
        Ok(ok)
    }

    fn bridge_finalize(&mut self, user: usize) -> Result<bool, CorpusError> {
        let ready: Vec<usize> = (0..self.l2_withdrawals.len())
            .filter(|&i| self.l2_withdrawals[i].proven && !self.l2_withdrawals[i].finalized)
            .collect();
        let Some(&i) = ready.choose(&mut self.rng) else { return Ok(false) };
        let w = self.l2_withdrawals[i].clone();
        let call = OptimismPortal::finalizeWithdrawalTransactionCall { _tx: self.withdrawal_tx(&w) };
        let sender = if self.rng.gen_bool(0.8) { w.user } else { user };
        let note = format!(
            "OptimismPortal.finalizeWithdrawalTransaction({} ETH to {})",
            fmt_units(w.value, 18),
            self.user(w.user).role
        );
        let ok = self.send(Kind::BridgeFinalize, self.user(sender), self.w.a.portal, U256::ZERO, &call, note)?;
        if ok {
            self.l2_withdrawals[i].finalized = true;
        }
        Ok(ok)
    }

    // ---- airdrop and governance ----

    fn claim(&mut self, user: usize) -> Result<bool, CorpusError> {
        let Some(ci) = self.unclaimed.pop() else { return Ok(false) };
        let c = &self.w.claims[ci];
        // Mostly the account itself; sometimes someone claims for it.
        let sender = if self.rng.gen_bool(0.85) { c.user } else { user };
        let call = MerkleDistributor::claimCall {
            index: c.claim.index,
            account: c.claim.account,
            amount: c.claim.amount,
            merkleProof: c.proof.clone(),
        };
        let note = format!(
            "MerkleDistributor.claim({}, {}, {} GOV, proof of {})",
            c.claim.index,
            self.user(c.user).role,
            fmt_units(c.claim.amount, 18),
            c.proof.len()
        );
        self.send(Kind::AirdropClaim, self.user(sender), self.w.a.distributor, U256::ZERO, &call, note)
    }

    fn delegate(&mut self, user: usize) -> Result<bool, CorpusError> {
        let who = self.addr(user);
        if self.bal(GOV, who)?.is_zero() {
            return Ok(false);
        }
        let to = if self.rng.gen_bool(0.6) || self.w.delegates.is_empty() {
            user
        } else {
            self.w.delegates[self.rng.gen_range(0..self.w.delegates.len())]
        };
        let note = format!("GOV.delegate({})", self.user(to).role);
        self.send(
            Kind::Delegate,
            self.user(user),
            self.tok(GOV),
            U256::ZERO,
            &VotesToken::delegateCall { delegatee: self.addr(to) },
            note,
        )
    }

    fn propose(&mut self) -> Result<bool, CorpusError> {
        if self.proposals.len() >= 3 || self.w.delegates.is_empty() {
            return Ok(false);
        }
        let proposer = self.w.delegates[self.rng.gen_range(0..self.w.delegates.len())];
        let grantee = self.rng.gen_range(0..self.w.users.len());
        let (gov, timelock) = (self.w.a.governor, self.w.a.timelock);
        let (target, value, data, what) = match self.rng.gen_range(0..6) {
            0 | 1 => {
                let a = round_sig(u(log_uniform(&mut self.rng, 5_000.0, 500_000.0) * 1e6), 2);
                (
                    self.tok(USDC),
                    U256::ZERO,
                    PermitToken::transferCall { to: self.addr(grantee), value: a }.abi_encode(),
                    format!("grant {} USDC to {}", self.fmt(USDC, a), self.user(grantee).role),
                )
            }
            2 => {
                let a = round_sig(u(log_uniform(&mut self.rng, 1.0, 100.0) * 1e18), 2);
                (
                    self.addr(grantee),
                    a,
                    Vec::new(),
                    format!("pay {} ETH to {}", fmt_units(a, 18), self.user(grantee).role),
                )
            }
            3 => {
                let a = round_sig(u(log_uniform(&mut self.rng, 10_000.0, 1_000_000.0) * 1e18), 2);
                (
                    self.tok(GOV),
                    U256::ZERO,
                    PermitToken::transferCall { to: self.addr(grantee), value: a }.abi_encode(),
                    format!("grant {} GOV to {}", fmt_units(a, 18), self.user(grantee).role),
                )
            }
            4 => {
                let p = self.rng.gen_range(40u32..60);
                (
                    gov,
                    U256::ZERO,
                    TimelockGovernor::setVotingPeriodCall { newVotingPeriod: p }.abi_encode(),
                    format!("set the voting period to {p} blocks"),
                )
            }
            _ => {
                let d = self.rng.gen_range(40u64..90);
                (
                    timelock,
                    U256::ZERO,
                    TimelockController::updateDelayCall { newDelay: U256::from(d) }.abi_encode(),
                    format!("set the timelock delay to {d} s"),
                )
            }
        };
        self.proposal_count += 1;
        let description = format!(
            "# Proposal {}: {what}\n\nRequested by {}.",
            self.rng.gen_range(1000u32..100_000),
            self.user(proposer).role
        );
        let (targets, values, calldatas) = (vec![target], vec![value], vec![Bytes::from(data)]);
        let call = TimelockGovernor::proposeCall {
            targets: targets.clone(),
            values: values.clone(),
            calldatas: calldatas.clone(),
            description: description.clone(),
        };
        let note = format!("TimelockGovernor.propose({what})");
        let Some(out) = self.send_out(Kind::Propose, self.user(proposer), gov, U256::ZERO, &call, note)? else {
            return Ok(false);
        };
        let Ok(id) = TimelockGovernor::proposeCall::abi_decode_returns(&out) else { return Ok(true) };
        self.proposals.push(Proposal {
            id,
            targets,
            values,
            calldatas,
            description_hash: keccak256(description.as_bytes()),
            what,
            voted: BTreeSet::new(),
        });
        Ok(true)
    }

    fn state(&self, id: U256) -> Result<u8, CorpusError> {
        self.chain.view(self.w.a.governor, &TimelockGovernor::stateCall { proposalId: id })
    }

    fn vote(&mut self, kind: Kind) -> Result<bool, CorpusError> {
        let mut active = Vec::new();
        for (k, p) in self.proposals.iter().enumerate() {
            if self.state(p.id)? == 1 {
                active.push(k);
            }
        }
        let Some(&k) = active.choose(&mut self.rng) else { return Ok(false) };
        let voters: Vec<usize> =
            self.w.delegates.iter().copied().filter(|v| !self.proposals[k].voted.contains(v)).collect();
        let Some(&voter) = voters.choose(&mut self.rng) else { return Ok(false) };
        let support: u8 = match self.rng.gen_range(0..10) {
            0 => 0,
            1 => 2,
            _ => 1,
        };
        let id = self.proposals[k].id;
        let what = self.proposals[k].what.clone();
        let ok = if kind == Kind::CastVoteWithReason {
            let reason = [
                "aligned with the roadmap",
                "treasury can afford it",
                "needs more discussion",
                "good for the protocol",
                "see forum thread",
            ][self.rng.gen_range(0..5)];
            let call = TimelockGovernor::castVoteWithReasonCall { proposalId: id, support, reason: reason.into() };
            self.send(
                kind,
                self.user(voter),
                self.w.a.governor,
                U256::ZERO,
                &call,
                format!("TimelockGovernor.castVoteWithReason({what}, {support}, {reason:?})"),
            )?
        } else {
            let call = TimelockGovernor::castVoteCall { proposalId: id, support };
            self.send(
                kind,
                self.user(voter),
                self.w.a.governor,
                U256::ZERO,
                &call,
                format!("TimelockGovernor.castVote({what}, {support})"),
            )?
        };
        if ok {
            self.proposals[k].voted.insert(voter);
        }
        Ok(ok)
    }

    fn queue_or_execute(&mut self, kind: Kind) -> Result<bool, CorpusError> {
        // States: 2 canceled, 3 defeated, 4 succeeded, 5 queued, 6 expired, 7 executed.
        let want = if kind == Kind::Queue { 4 } else { 5 };
        let mut found = None;
        let mut finished = Vec::new();
        for (k, p) in self.proposals.iter().enumerate() {
            let s = self.state(p.id)?;
            if matches!(s, 2 | 3 | 6 | 7) {
                finished.push(k);
            } else if s == want && found.is_none() {
                found = Some(k);
            }
        }
        for k in finished.into_iter().rev() {
            self.proposals.remove(k);
            found = found.map(|f| if f > k { f - 1 } else { f });
        }
        let Some(k) = found else { return Ok(false) };
        let p = self.proposals[k].clone();
        let sender = self.pick_user();
        if kind == Kind::Queue {
            let call = TimelockGovernor::queueCall {
                targets: p.targets,
                values: p.values,
                calldatas: p.calldatas,
                descriptionHash: p.description_hash,
            };
            return self.send(
                kind,
                self.user(sender),
                self.w.a.governor,
                U256::ZERO,
                &call,
                format!("TimelockGovernor.queue({})", p.what),
            );
        }
        let call = TimelockGovernor::executeCall {
            targets: p.targets,
            values: p.values,
            calldatas: p.calldatas,
            descriptionHash: p.description_hash,
        };
        self.send(
            kind,
            self.user(sender),
            self.w.a.governor,
            U256::ZERO,
            &call,
            format!("TimelockGovernor.execute({})", p.what),
        )
    }

    // ---- system actors ----

    fn system_turn(&mut self) -> Result<bool, CorpusError> {
        // Users withdraw on L2 now and then (no L1 transaction yet).
        if self.rng.gen_bool(0.01) {
            self.l2_withdraw();
        }
        if self.l2_sent.len() > self.outputs.last().map_or(0, |o| o.leaves)
            && self.steps > self.last_proposal + 20
            && self.rng.gen_bool(0.1)
            && self.propose_output()?
        {
            return Ok(true);
        }
        if let Some(p) = self.pending_feed {
            if self.set_feed(p)? {
                return Ok(true);
            }
        }
        if !self.candidates.is_empty() && self.rng.gen_bool(0.7) && self.liquidate()? {
            return Ok(true);
        }
        if self.rng.gen_bool(0.012) && self.market_move()? {
            return Ok(true);
        }
        if self.rng.gen_bool(0.08) && self.follow_markets()? {
            return Ok(true);
        }
        if !self.proposals.is_empty() && self.rng.gen_bool(0.1) && self.governance_turn()? {
            return Ok(true);
        }
        if self.rng.gen_bool(0.03) && self.arbitrage()? {
            return Ok(true);
        }
        if self.rng.gen_bool(0.004) && self.vault_yield()? {
            return Ok(true);
        }
        if self.rng.gen_bool(0.002) && self.keeper()? {
            return Ok(true);
        }
        if self.rng.gen_bool(0.003) && self.bot_withdraw()? {
            return Ok(true);
        }
        Ok(false)
    }

    /// Moves a proposal along: a delegate votes while it is active, anyone
    /// queues it once it succeeded and executes it once the timelock allows.
    fn governance_turn(&mut self) -> Result<bool, CorpusError> {
        let kind = match self.rng.gen_range(0..6) {
            0..=1 => Kind::CastVote,
            2 => Kind::CastVoteWithReason,
            3 | 4 => Kind::Queue,
            _ => Kind::Execute,
        };
        match kind {
            Kind::CastVote | Kind::CastVoteWithReason => self.vote(kind),
            _ => self.queue_or_execute(kind),
        }
    }

    /// Raw price of a v3 pool: token1 units per token0 unit.
    fn v3_price(&self, pool: Address) -> Result<f64, CorpusError> {
        let s = self.chain.view(pool, &UniswapV3Pool::slot0Call {})?;
        let sq = f(U256::from(s.sqrtPriceX96)) / 79_228_162_514_264_337_593_543_950_336.0;
        Ok(sq * sq)
    }

    /// USD price (float) of `t` on its deepest v3 pool against WETH or USDC.
    fn market_usd(&self, t: usize) -> Result<Option<f64>, CorpusError> {
        let eth_usd = {
            let p = self.w.pools[0];
            let raw = self.v3_price(p.address)?;
            let (da, db) = (self.w.tokens[p.a].decimals, self.w.tokens[p.b].decimals);
            let human = raw * 10f64.powi(i32::from(da) - i32::from(db));
            if p.a == WETH {
                human
            } else {
                1.0 / human
            }
        };
        if t == WETH {
            return Ok(Some(eth_usd));
        }
        let Some(p) = self.w.pools.iter().find(|p| (p.a == t && p.b == WETH) || (p.b == t && p.a == WETH)).copied()
        else {
            return Ok(None);
        };
        let raw = self.v3_price(p.address)?;
        let (da, db) = (self.w.tokens[p.a].decimals, self.w.tokens[p.b].decimals);
        let human = raw * 10f64.powi(i32::from(da) - i32::from(db));
        let in_eth = if p.a == t { human } else { 1.0 / human };
        Ok(Some(in_eth * eth_usd))
    }

    /// The oracle admin deploys a new feed when a market moved more than 1%
    /// from what the oracle reports.
    fn follow_markets(&mut self) -> Result<bool, CorpusError> {
        for t in [WETH, WBTC, LINK] {
            let Some(market) = self.market_usd(t)? else { continue };
            let current = self.feeds.get(&t).map_or(0.0, |p| f(*p) / 1e8);
            if current <= 0.0 || (market / current - 1.0).abs() < 0.015 {
                continue;
            }
            let answer = round_sig(u(market * 1e8), 5);
            let Ok(signed) = I256::try_from(answer) else { continue };
            let d = self.w.deployer.clone();
            let mut data = MockAggregator::BYTECODE.to_vec();
            data.extend_from_slice(&MockAggregator::constructorCall { initialAnswer: signed }.abi_encode());
            let aggregator = d.address().create(self.chain.state().nonce(d.address()));
            let note = format!("{}: deploy MockAggregator({}/USD {})", d.role, self.sym(t), fmt_units(answer, 8));
            if self.chain.try_send(Label::Benign, &d, TxKind::Create, U256::ZERO, data, note)?.is_ok() {
                *self.tally.entry(Kind::FeedDeploy).or_default() += 1;
                self.pending_feed = Some(PendingFeed { token: t, aggregator, answer });
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn set_feed(&mut self, p: PendingFeed) -> Result<bool, CorpusError> {
        self.pending_feed = None;
        let d = self.w.deployer.clone();
        let call = AaveOracle::setAssetSourcesCall { assets: vec![self.tok(p.token)], sources: vec![p.aggregator] };
        let note =
            format!("AaveOracle.setAssetSources([{}], [new feed at {}])", self.sym(p.token), fmt_units(p.answer, 8));
        if !self.send(Kind::FeedSet, &d, self.w.a.aave_oracle, U256::ZERO, &call, note)? {
            return Ok(false);
        }
        self.feeds.insert(p.token, p.answer);
        // Borrowers the move put under water.
        self.candidates.clear();
        let borrowers: Vec<usize> = self.borrowers.iter().copied().collect();
        for b in borrowers {
            let data = self.chain.view(self.w.a.aave_pool, &Pool::getUserAccountDataCall { user: self.addr(b) })?;
            if data.totalDebtBase.is_zero() {
                self.borrowers.remove(&b);
            } else if data.healthFactor < U256::from(HF_ONE) {
                self.candidates.push(b);
            }
        }
        Ok(true)
    }

    fn liquidate(&mut self) -> Result<bool, CorpusError> {
        let b = self.candidates.remove(0);
        let who = self.addr(b);
        let debts = self.debts(who)?;
        let colls = self.collaterals(who)?;
        let value = |s: &Self, (t, a): (usize, U256)| s.usd(t, a);
        let Some(&(debt_t, debt)) = debts.iter().max_by(|x, y| value(self, **x).total_cmp(&value(self, **y))) else {
            return Ok(false);
        };
        let Some(&(coll_t, _)) = colls.iter().max_by(|x, y| value(self, **x).total_cmp(&value(self, **y))) else {
            return Ok(false);
        };
        let pool = self.w.a.aave_pool;
        // A v3 pool or v2 pair to sell the collateral into, for a flash loan.
        let fee = self.v3_pools_of(coll_t, debt_t).first().map(|&i| self.w.pools[i].fee);
        let v2 = self.v2_pair(coll_t, debt_t).is_some();
        for div in [2u64, 4, 10] {
            let cover = round_sig(debt / U256::from(div), 3);
            if cover.is_zero() {
                return Ok(false);
            }
            let flash = (fee.is_some() || v2) && self.rng.gen_bool(0.5);
            if flash {
                let (bot, contract) =
                    self.w.flash_liquidators[self.rng.gen_range(0..self.w.flash_liquidators.len())].clone();
                let sell = match fee {
                    Some(fee) if !v2 || self.rng.gen_bool(0.5) => Venue::V3(fee),
                    _ => Venue::V2,
                };
                let call = FlashLiquidatorBot::runCall {
                    collateral: self.tok(coll_t),
                    debt: self.tok(debt_t),
                    user: who,
                    debtToCover: cover,
                    sell: venue!(flash_liquidator_bot, sell),
                };
                let note = format!(
                    "FlashLiquidatorBot.run({} collateral, {} {} debt of {}, sell on {})",
                    self.sym(coll_t),
                    self.fmt(debt_t, cover),
                    self.sym(debt_t),
                    self.user(b).role,
                    sell.name()
                );
                if self.send(Kind::FlashLiquidation, &bot, contract, U256::ZERO, &call, note)? {
                    return Ok(true);
                }
            }
            let bot = self.w.liquidators[self.rng.gen_range(0..self.w.liquidators.len())].clone();
            let call = Pool::liquidationCallCall {
                collateralAsset: self.tok(coll_t),
                debtAsset: self.tok(debt_t),
                user: who,
                debtToCover: cover,
                receiveAToken: self.rng.gen_bool(0.2),
            };
            let note = format!(
                "Pool.liquidationCall({}, {}, {}, {})",
                self.sym(coll_t),
                self.sym(debt_t),
                self.user(b).role,
                self.fmt(debt_t, cover)
            );
            if self.send(Kind::Liquidation, &bot, pool, U256::ZERO, &call, note)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// A trading desk makes a large v3 trade, mostly with its asset's trend.
    fn market_move(&mut self) -> Result<bool, CorpusError> {
        let t = [WETH, WETH, WBTC, LINK][self.rng.gen_range(0..4)];
        let trend = self.trend.get(&t).copied().unwrap_or(1.0);
        let buy = if self.rng.gen_bool(0.75) { trend > 0.0 } else { trend < 0.0 };
        if self.rng.gen_bool(0.05) {
            self.trend.insert(t, -trend);
        }
        let (quote, pool) = if t == WETH {
            (USDC, self.w.pools[0])
        } else {
            let Some(p) = self.w.pools.iter().find(|p| (p.a == t && p.b == WETH) || (p.b == t && p.a == WETH)).copied()
            else {
                return Ok(false);
            };
            (WETH, p)
        };
        let desk = self.w.desks[self.rng.gen_range(0..self.w.desks.len())].clone();
        let (tin, tout) = if buy { (quote, t) } else { (t, quote) };
        let usd = log_uniform(&mut self.rng, 100_000.0, 2_000_000.0);
        let price = self.feeds.get(&tin).map_or(self.w.tokens[tin].usd, |p| f(*p) / 1e8);
        let amount = round_sig(u(usd / price * 10f64.powi(i32::from(self.w.tokens[tin].decimals))), 3);
        let held = self.bal(tin, desk.address())?;
        if amount.is_zero() || amount > held {
            return Ok(false);
        }
        let p = ISwapRouter::ExactInputSingleParams {
            tokenIn: self.tok(tin),
            tokenOut: self.tok(tout),
            fee: U24::from(pool.fee),
            recipient: desk.address(),
            deadline: self.deadline(),
            amountIn: amount,
            amountOutMinimum: U256::ZERO,
            sqrtPriceLimitX96: U160::ZERO,
        };
        let note = format!(
            "SwapRouter.exactInputSingle({} {} -> {}, fee {}) - desk trade",
            self.fmt(tin, amount),
            self.sym(tin),
            self.sym(tout),
            pool.fee
        );
        self.send(
            Kind::MarketMove,
            &desk,
            self.w.a.v3_router,
            U256::ZERO,
            &SwapRouter::exactInputSingleCall { params: p },
            note,
        )
    }

    /// Every venue trading `t0`/`t1` (`t0` the lower address): its price
    /// (raw `t1` per raw `t0`), its swap fee and its `t1` holdings.
    fn venues(&self, t0: usize, t1: usize) -> Result<Vec<(Venue, f64, f64, U256)>, CorpusError> {
        let mut out = Vec::new();
        if let Some(pi) = self.v2_pair(t0, t1) {
            let (r0, r1) = self.reserves(self.w.pairs[pi].address, self.tok(t0))?;
            if !r0.is_zero() {
                out.push((Venue::V2, f(r1) / f(r0), 0.003, r1));
            }
        }
        for q in self.w.pools.iter().filter(|q| q.a == t0 && q.b == t1) {
            let held = self.erc20_bal(self.tok(t1), q.address)?;
            out.push((Venue::V3(q.fee), self.v3_price(q.address)?, f64::from(q.fee) / 1e6, held));
        }
        for bp in self.w.bal_pools.iter().filter(|bp| bp.tokens == [t0, t1]) {
            let pt = self.chain.view(self.w.a.balancer_vault, &BalancerVault::getPoolTokensCall { poolId: bp.id })?;
            let (b0, b1) = (f(pt.balances[0]) / f(bp.weights[0]), f(pt.balances[1]) / f(bp.weights[1]));
            if b0 > 0.0 {
                out.push((Venue::Balancer(bp.id), b1 / b0, bp.fee, pt.balances[1]));
            }
        }
        Ok(out)
    }

    /// A bot borrows (from Aave, or from the Balancer Vault when no
    /// Balancer pool is traded) and buys where a token is cheap and sells
    /// where it is dear, across Uniswap v2, v3 and Balancer.
    fn arbitrage(&mut self) -> Result<bool, CorpusError> {
        let mut pairs: BTreeSet<(usize, usize)> = BTreeSet::new();
        let order = |s: &Self, a: usize, b: usize| if s.tok(a) < s.tok(b) { (a, b) } else { (b, a) };
        for p in &self.w.pairs {
            pairs.insert(order(self, p.a, p.b));
        }
        let mut best: Option<(f64, usize, usize, Venue, Venue, U256, f64)> = None;
        for (t0, t1) in pairs {
            let v = self.venues(t0, t1)?;
            if v.len() < 2 {
                continue;
            }
            let lo = v.iter().min_by(|x, y| x.1.total_cmp(&y.1)).copied();
            let hi = v.iter().max_by(|x, y| x.1.total_cmp(&y.1)).copied();
            let (Some(lo), Some(hi)) = (lo, hi) else { continue };
            let gap = hi.1 / lo.1 - 1.0;
            if gap > lo.2 + hi.2 + 0.002 && best.as_ref().is_none_or(|b| gap > b.0) {
                best = Some((gap, t0, t1, lo.0, hi.0, lo.3.min(hi.3), hi.1));
            }
        }
        let Some((gap, t0, t1, lo, hi, depth1, hi_price)) = best else { return Ok(false) };
        let touches_balancer = matches!(lo, Venue::Balancer(_)) || matches!(hi, Venue::Balancer(_));
        let use_balancer = !touches_balancer && self.rng.gen_bool(0.4);
        let aave = |t: usize| self.reserve(t).is_some();
        let balancer_holds = |t: usize| self.w.bal_pools.iter().any(|bp| bp.tokens.contains(&t));
        let lends = |t: usize| if use_balancer { balancer_holds(t) } else { aave(t) };
        // Borrow token1 and buy token0 where it is cheapest, or borrow
        // token0 and buy token1 where token0 fetches the most.
        let (asset, other, buy, sell, amount) = if lends(t1) {
            (t1, t0, lo, hi, round_sig(u(f(depth1) * gap / 6.0), 3))
        } else if lends(t0) {
            let depth0 = u(f(depth1) / hi_price);
            (t0, t1, hi, lo, round_sig(u(f(depth0) * gap / 6.0), 3))
        } else {
            return Ok(false);
        };
        let mut amount = amount;
        for _ in 0..5 {
            if amount.is_zero() {
                return Ok(false);
            }
            let note = format!(
                "run(borrow {} {} from {}, buy {} on {}, sell on {})",
                self.fmt(asset, amount),
                self.sym(asset),
                if use_balancer { "the Balancer Vault" } else { "Aave" },
                self.sym(other),
                buy.name(),
                sell.name()
            );
            let (bot, contract, data) = if use_balancer {
                let (bot, c) = self.w.bal_arb_bots[self.rng.gen_range(0..self.w.bal_arb_bots.len())].clone();
                let call = BalancerFlashArbBot::runCall {
                    asset: self.tok(asset),
                    other: self.tok(other),
                    buy: venue!(balancer_flash_arb_bot, buy),
                    sell: venue!(balancer_flash_arb_bot, sell),
                    amount,
                    minProfit: U256::ZERO,
                };
                (bot, c, call.abi_encode())
            } else {
                let (bot, c) = self.w.arb_bots[self.rng.gen_range(0..self.w.arb_bots.len())].clone();
                let call = FlashArbBot::runCall {
                    asset: self.tok(asset),
                    other: self.tok(other),
                    buy: venue!(flash_arb_bot, buy),
                    sell: venue!(flash_arb_bot, sell),
                    amount,
                    minProfit: U256::ZERO,
                };
                (bot, c, call.abi_encode())
            };
            let kind = if use_balancer { Kind::BalancerFlashArbitrage } else { Kind::FlashArbitrage };
            let label = if use_balancer { "BalancerFlashArbBot" } else { "FlashArbBot" };
            if self.send_raw(kind, &bot, contract, U256::ZERO, data, format!("{label}.{note}"))? {
                return Ok(true);
            }
            amount = round_sig(amount / U256::from(2), 3);
        }
        Ok(false)
    }

    fn vault_yield(&mut self) -> Result<bool, CorpusError> {
        let v = self.w.vaults[self.rng.gen_range(0..self.w.vaults.len())];
        let total = self.chain.view(v.address, &TokenVault::totalAssetsCall {})?;
        let profit = round_sig(u(f(total) * log_uniform(&mut self.rng, 0.0001, 0.002)), 3);
        if profit.is_zero() {
            return Ok(false);
        }
        let s = self.w.strategist.clone();
        let call = PermitToken::transferCall { to: v.address, value: profit };
        let note = format!(
            "{}.transfer(v{} vault, {}) - strategy profit",
            self.sym(v.asset),
            self.sym(v.asset),
            self.fmt(v.asset, profit)
        );
        self.send(Kind::VaultYield, &s, self.tok(v.asset), U256::ZERO, &call, note)
    }

    fn keeper(&mut self) -> Result<bool, CorpusError> {
        let k = self.w.keeper.clone();
        let assets: Vec<Address> = self.lending().iter().map(|t| self.tok(*t)).collect();
        self.send(
            Kind::KeeperMintToTreasury,
            &k,
            self.w.a.aave_pool,
            U256::ZERO,
            &Pool::mintToTreasuryCall { assets },
            "Pool.mintToTreasury(all reserves)".into(),
        )
    }

    fn bot_withdraw(&mut self) -> Result<bool, CorpusError> {
        let bots: Vec<(Actor, Address)> =
            self.w.arb_bots.iter().chain(self.w.flash_liquidators.iter()).cloned().collect();
        let Some((bot, contract)) = bots.choose(&mut self.rng).cloned() else { return Ok(false) };
        for t in [USDC, WETH, DAI, WBTC, LINK, GOV] {
            let held = self.bal(t, contract)?;
            if self.usd(t, held) > 100.0 {
                let amount = round_sig(held * U256::from(9) / U256::from(10), 3);
                let call = FlashArbBot::withdrawCall { token: self.tok(t), to: bot.address(), amount };
                let note = format!("withdraw({}, bot, {}) - bot takes profits", self.sym(t), self.fmt(t, amount));
                return self.send(Kind::BotWithdraw, &bot, contract, U256::ZERO, &call, note);
            }
        }
        Ok(false)
    }
}

/// Checks the kinds' table: at least forty kinds, unique names.
#[cfg(test)]
mod tests {
    use super::Kind;

    #[test]
    fn kinds() {
        assert!(Kind::ALL.len() >= 40);
        let names: std::collections::BTreeSet<_> = Kind::ALL.iter().map(|(k, _)| k.name()).collect();
        assert_eq!(names.len(), Kind::ALL.len());
    }
}
