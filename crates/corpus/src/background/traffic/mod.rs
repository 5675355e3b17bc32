//! Ordinary traffic: users, keepers and bots acting on the world, one
//! transaction per step, every one executed before it is emitted.
//!
//! Each step first gives the system actors their turn (the feed owner
//! reports a moved price, a bot arbitrages DEX A against DEX B or liquidates
//! an account a price move made unhealthy, the staking owner funds a round;
//! then the role holders of the everyday protocols: the root poster posts a
//! batch of withdrawals, relayers finalize and relay them, keepers perform
//! due upkeeps, a harvester harvests, treasurers pay, the council schedules
//! and executes timelock operations, fee recipients collect, admins rotate
//! roles and upgrade the keeper registry), then picks a user and an action
//! kind by weight and builds the action from the chain's current state
//! (balances, reserves, positions, read with view calls). An action whose
//! dry run fails is dropped and another is tried; one that needs an approval
//! first emits the approval and comes back later.
//!
//! Every emitted transaction is counted under a kind name ([`Tally`]), so a
//! run can show that each kind really occurs.
//!
//! The actions live by area: `tokens` (transfers, allowances, permits),
//! `dex` (swaps, liquidity, zaps, the stable pool), `lending` (the lending
//! pool, the native-ETH market, liquidations), `vaults` (the vault and the
//! compounder), `items` (NFTs and game items), `claims` (staking, vouchers,
//! the airdrop, vesting, farms, the sale), `bridge` (both bridges' deposits,
//! roots, finalizations and releases), `roles` (treasuries, the timelock,
//! keepers, fees, upgrades) and `system` (the system actors' turn).

mod bridge;
mod claims;
mod dex;
mod items;
mod lending;
mod roles;
mod system;
mod tokens;
mod vaults;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use alloy_primitives::{Address, Bytes, TxKind, B256, U256};
use alloy_sol_types::SolCall;
use rand::{seq::SliceRandom, Rng};
use rand_chacha::ChaCha8Rng;
use vigil_fixture::Label;

use super::{families::Batch, world::World, Tally};
pub(crate) use crate::det::round_sig;
use crate::det::{f, u};
use crate::{
    chain::Chain,
    contracts::{Pair, SwapRouter, Token},
    keys::Actor,
    CorpusError,
};

/// 10^18.
const E18: u128 = 1_000_000_000_000_000_000;

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
    // The everyday shapes of issue 14.
    ZapRemove,
    ZapOut,
    ZapMulticall,
    AirdropClaim,
    BridgeFinalize,
    AttestedRelease,
    RootDeposit,
    VestingRelease,
    FarmStake,
    FarmWithdraw,
    FarmClaim,
    PermitPay,
    CompounderDeposit,
    CompounderWithdraw,
    SaleBuy,
}

/// Relative frequency of each kind.
const WEIGHTS: [(Kind, u32); 56] = [
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
    (Kind::ZapRemove, 2),
    (Kind::ZapOut, 1),
    (Kind::ZapMulticall, 1),
    (Kind::AirdropClaim, 1),
    (Kind::BridgeFinalize, 1),
    (Kind::AttestedRelease, 1),
    (Kind::RootDeposit, 1),
    (Kind::VestingRelease, 1),
    (Kind::FarmStake, 2),
    (Kind::FarmWithdraw, 1),
    (Kind::FarmClaim, 1),
    (Kind::PermitPay, 1),
    (Kind::CompounderDeposit, 1),
    (Kind::CompounderWithdraw, 1),
    (Kind::SaleBuy, 1),
];

impl Kind {
    /// The kind's name in the tally.
    fn name(self) -> &'static str {
        match self {
            Kind::EthTransfer => "eth-transfer",
            Kind::Wrap => "wrap",
            Kind::Unwrap => "unwrap",
            Kind::TokenTransfer => "token-transfer",
            Kind::AllowFriend => "allow-friend",
            Kind::BuyWithEth => "buy-with-eth",
            Kind::SellForEth => "sell-for-eth",
            Kind::SwapExactIn => "swap-exact-in",
            Kind::SwapExactOut => "swap-exact-out",
            Kind::SwapOnB => "swap-on-b",
            Kind::AggregatorSwap => "aggregator-swap",
            Kind::Multicall => "multicall",
            Kind::AddLiquidity => "add-liquidity",
            Kind::RemoveLiquidity => "remove-liquidity",
            Kind::LendSupply => "lend-supply",
            Kind::LendWithdraw => "lend-withdraw",
            Kind::LendBorrow => "lend-borrow",
            Kind::LendRepay => "lend-repay",
            Kind::EthSupply => "eth-market-supply",
            Kind::EthWithdraw => "eth-market-withdraw",
            Kind::EthCollateral => "eth-market-collateral",
            Kind::EthBorrow => "eth-market-borrow",
            Kind::EthRepay => "eth-market-repay",
            Kind::EthWithdrawCollateral => "eth-market-withdraw-collateral",
            Kind::VaultDeposit => "vault-deposit",
            Kind::VaultRedeem => "vault-redeem",
            Kind::VaultWithdraw => "vault-withdraw",
            Kind::NftMint => "nft-mint",
            Kind::NftTransfer => "nft-transfer",
            Kind::ItemBuy => "item-buy",
            Kind::ItemSell => "item-sell",
            Kind::ItemTransfer => "item-transfer",
            Kind::StableExchange => "stable-exchange",
            Kind::StableAdd => "stable-add",
            Kind::StableRemove => "stable-remove",
            Kind::Stake => "stake",
            Kind::Unstake => "unstake",
            Kind::Claim => "round-claim",
            Kind::Voucher => "voucher",
            Kind::BridgeSend => "bridge-send",
            Kind::Whale => "whale",
            Kind::ZapRemove => "zap-remove",
            Kind::ZapOut => "zap-out",
            Kind::ZapMulticall => "zap-multicall",
            Kind::AirdropClaim => "airdrop-claim",
            Kind::BridgeFinalize => "bridge-finalize",
            Kind::AttestedRelease => "attested-release",
            Kind::RootDeposit => "root-deposit",
            Kind::VestingRelease => "vesting-release",
            Kind::FarmStake => "farm-stake",
            Kind::FarmWithdraw => "farm-withdraw",
            Kind::FarmClaim => "farm-claim",
            Kind::PermitPay => "permit",
            Kind::CompounderDeposit => "compounder-deposit",
            Kind::CompounderWithdraw => "compounder-withdraw",
            Kind::SaleBuy => "sale-buy",
        }
    }
}

/// The kinds of transaction added for issue 14's five families and the
/// other everyday shapes, as they appear in a [`Tally`]: users' actions and
/// the role holders' turns.
pub(crate) const FAMILY_KINDS: [&str; 37] = [
    // 1. LP tokens sent to the pair and burned, through a helper.
    "zap-remove",
    "zap-out",
    "zap-multicall",
    // 2. Payouts authorized by a proof or by signatures.
    "airdrop-claim",
    "airdrop-claim-for",
    "root-post",
    "bridge-finalize",
    "bridge-finalize-relayed",
    "attested-release",
    "attested-release-relayed",
    "attester-rotation",
    "root-deposit",
    // 3. Withdrawals gated by a stored role.
    "treasurer-pay",
    "treasurer-payroll",
    "timelock-schedule-grant",
    "timelock-execute-grant",
    "timelock-schedule-rotation",
    "timelock-execute-rotation",
    "grants-pay",
    "grants-owner-rotation",
    // 4. Liquidations repaid from the liquidator's wallet.
    "eoa-liquidation",
    // 5. Keeper and harvest bounties, through an upgraded proxy.
    "harvest",
    "keeper-upkeep",
    "keeper-payment",
    "registry-upgrade",
    // 6. Vesting, streaming rewards, fees, permits, refunds.
    "vesting-release",
    "farm-stake",
    "farm-stake-permit",
    "farm-withdraw",
    "farm-claim",
    "compounder-deposit",
    "compounder-withdraw",
    "fee-collect",
    "permit",
    "permit-transfer-from",
    "sale-buy",
    "sale-proceeds",
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
    Orb,
    Farm,
    Compounder,
}

impl Kind {
    /// The position an action needs, if any.
    fn needs(self) -> Option<Pos> {
        Some(match self {
            Kind::RemoveLiquidity | Kind::ZapRemove | Kind::ZapOut | Kind::ZapMulticall => Pos::Lp,
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
            Kind::FarmStake | Kind::CompounderDeposit | Kind::PermitPay => Pos::Orb,
            Kind::FarmWithdraw | Kind::FarmClaim => Pos::Farm,
            Kind::CompounderWithdraw => Pos::Compounder,
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
            Kind::AirdropClaim | Kind::SaleBuy | Kind::VestingRelease => Pos::Orb,
            Kind::FarmStake => Pos::Farm,
            Kind::CompounderDeposit => Pos::Compounder,
            _ => return None,
        })
    }
}

/// A liquidation the last feed update made possible.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    borrower: usize,
}

/// What a scheduled timelock operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OpKind {
    /// Pays user `0` from the timelock's funds.
    Grant(usize),
    /// Makes treasurer `0` the role treasury's only treasurer.
    Rotate(usize),
}

/// A timelock operation the council scheduled.
#[derive(Debug, Clone)]
struct TimelockOp {
    kind: OpKind,
    targets: Vec<Address>,
    values: Vec<U256>,
    payloads: Vec<Bytes>,
    salt: B256,
    /// Timestamp from which it may run.
    ready_at: u64,
    what: String,
}

/// State of the everyday protocols within one fixture.
#[derive(Debug, Clone)]
struct Fam {
    /// Airdrop leaves claimed.
    claimed: BTreeSet<usize>,
    /// Posted withdrawal batches and the withdrawals finalized, as
    /// (batch index, position).
    batches: Vec<Batch>,
    finalized: BTreeSet<(usize, usize)>,
    next_remote_nonce: u64,
    /// The next attested release's nonce.
    attested_nonce: u64,
    /// The attested bridge's current attesters (indexes into the roles'
    /// attesters).
    attesters: Vec<usize>,
    /// Permits submitted whose spender has yet to pull: (owner, spender,
    /// amount).
    permits: VecDeque<(usize, usize, U256)>,
    ops: Vec<TimelockOp>,
    /// The role treasury's treasurer, and whether a rotation is scheduled.
    treasurer: usize,
    rotating: bool,
    /// The grants treasury's owner.
    grants_owner: usize,
    /// The step at which the registry admin upgrades the registry.
    upgrade_at: usize,
    upgraded: bool,
    /// When each dripper's upkeep is next due.
    drip_due: [u64; 2],
    /// Timelock salts used.
    salt: u64,
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
    /// The kind the transaction being built is counted under.
    tag: &'static str,
    /// Transactions emitted, by kind.
    tally: Tally,
    /// Steps taken.
    steps: usize,
    fam: Fam,
}

impl<'w> Traffic<'w> {
    pub(crate) fn new(w: &'w World, chain: Chain, mut rng: ChaCha8Rng) -> Result<Self, CorpusError> {
        let f = &w.f;
        let mut drip_due = [0u64; 2];
        for (due, dripper) in drip_due.iter_mut().zip([f.a.dripper_orb, f.a.dripper_lp]) {
            let last = chain.view(dripper, &crate::contracts::RewardDripper::lastDripCall {})?;
            *due = last.saturating_to::<u64>() + super::families::DRIP_INTERVAL;
        }
        let fam = Fam {
            claimed: BTreeSet::new(),
            batches: f.batches.clone(),
            finalized: BTreeSet::new(),
            next_remote_nonce: f.next_remote_nonce,
            attested_nonce: 1,
            attesters: (0..5).collect(),
            permits: VecDeque::new(),
            ops: Vec::new(),
            treasurer: 0,
            rotating: false,
            grants_owner: 0,
            upgrade_at: rng.gen_range(20..600),
            upgraded: false,
            drip_due,
            salt: 0,
        };
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
        let mut positions: BTreeMap<Pos, Vec<usize>> = BTreeMap::new();
        positions.insert(Pos::Lp, f.lp_holders.clone());
        positions.insert(Pos::Orb, f.orb_holders.clone());
        positions.insert(Pos::Farm, Vec::new());
        Ok(Self {
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
            positions,
            approval_emitted: false,
            activity,
            tag: "eth-transfer",
            tally: Tally::default(),
            steps: 0,
            fam,
        })
    }

    /// A user, by activity.
    fn pick_user(&mut self) -> usize {
        let total = self.activity.last().copied().unwrap_or(0.0);
        let r = self.rng.gen::<f64>() * total;
        self.activity.partition_point(|c| *c <= r).min(self.w.users.len().saturating_sub(1))
    }

    /// The chain with everything emitted so far, and the tally of what.
    pub(crate) fn finish(self) -> (Chain, Tally) {
        (self.chain, self.tally)
    }

    /// Emits exactly one benign transaction.
    pub(crate) fn step(&mut self) -> Result<(), CorpusError> {
        self.steps += 1;
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
            self.tag = Kind::EthTransfer.name();
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
        self.tag = kind.name();
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
            Kind::ZapRemove => self.zap_remove(user),
            Kind::ZapOut => self.zap_out(user),
            Kind::ZapMulticall => self.zap_multicall(user),
            Kind::AirdropClaim => self.airdrop_claim(user),
            Kind::BridgeFinalize => self.bridge_finalize(user),
            Kind::AttestedRelease => self.attested_release(user, None),
            Kind::RootDeposit => self.root_deposit(user),
            Kind::VestingRelease => self.vesting_release(user),
            Kind::FarmStake => self.farm_stake(user),
            Kind::FarmWithdraw => self.farm_withdraw(user),
            Kind::FarmClaim => self.farm_claim(user),
            Kind::PermitPay => self.permit_pay(user),
            Kind::CompounderDeposit => self.compounder_deposit(user),
            Kind::CompounderWithdraw => self.compounder_withdraw(user),
            Kind::SaleBuy => self.sale_buy(user),
        }
    }

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
        let f = &self.w.f.a;
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
            (f.orb, "ORB"),
            (f.pair_wo, "Pair(WETH/ORB)"),
            (f.zap, "LiquidityZap"),
            (f.airdrop, "MerkleDistributor"),
            (f.farm_orb, "StreamingRewards(ORB)"),
            (f.farm_lp, "StreamingRewards(WETH/ORB)"),
            (f.compounder, "AutoCompounder"),
            (f.sale, "TokenSale"),
            (f.timelock, "Timelock"),
            (f.role_treasury, "RoleTreasury"),
            (f.grants, "GrantsTreasury"),
            (f.root_bridge, "RootBridge"),
            (f.attested, "AttestedBridge"),
            (f.registry, "KeeperRegistry"),
            (Address::ZERO, "ETH"),
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
        self.emit(from, to, value, call.abi_encode().into(), note).map(|sent| sent.is_some())
    }

    /// Sends `data` from `from` if it succeeds, counting it under the
    /// current tag; its return data if emitted.
    fn emit(
        &mut self,
        from: &Actor,
        to: Address,
        value: U256,
        data: Bytes,
        note: String,
    ) -> Result<Option<Bytes>, CorpusError> {
        let note = format!("{}: {note}", from.role);
        match self.chain.try_send(Label::Benign, from, TxKind::Call(to), value, data, note)? {
            Ok(sent) => {
                self.tally.add(self.tag, 1);
                Ok(Some(sent.output))
            }
            Err(_) => Ok(None),
        }
    }

    /// [`Traffic::send`] counted under `tag` (a system actor's turn).
    fn send_as<C: SolCall>(
        &mut self,
        tag: &'static str,
        from: &Actor,
        to: Address,
        value: U256,
        call: &C,
        note: String,
    ) -> Result<bool, CorpusError> {
        self.tag = tag;
        self.send(from, to, value, call, note)
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
        let tag = std::mem::replace(&mut self.tag, "approval");
        let ok = self.send(from, token, U256::ZERO, &Token::approveCall { spender, amount: U256::MAX }, note)?;
        self.tag = tag;
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
        let share = crate::det::log_uniform(&mut self.rng, 0.01, 0.6);
        round_sig(u(f(balance) * share), 3)
    }

    /// The tokens (WETH, USD, GEM, STK, ORB) `user` holds, with balances.
    fn holdings(&self, user: usize) -> Result<Vec<(Address, U256)>, CorpusError> {
        let a = &self.w.a;
        let who = self.addr(user);
        let mut out = Vec::new();
        for token in [a.weth, a.usd, a.gem, a.stk, self.w.f.a.orb] {
            let b = self.bal(token, who)?;
            if !b.is_zero() {
                out.push((token, b));
            }
        }
        Ok(out)
    }

    /// A path from `from` to `to` through DEX A's pairs (WETH/USD, WETH/GEM,
    /// WETH/STK, USD/GEM, WETH/ORB), sometimes the long way round.
    fn path(&mut self, from: Address, to: Address) -> Vec<Address> {
        let a = self.w.a;
        let orb = self.w.f.a.orb;
        if from == orb || to == orb {
            // ORB trades only against WETH.
            return if from == a.weth || to == a.weth { vec![from, to] } else { vec![from, a.weth, to] };
        }
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
    fn everyday_kinds_are_rarer_than_swaps_and_transfers_but_present() {
        let total: u32 = WEIGHTS.iter().map(|(_, w)| w).sum();
        let share = |kind: Kind| {
            let w = WEIGHTS.iter().find(|(k, _)| *k == kind).map_or(0, |(_, w)| *w);
            f64::from(w) / f64::from(total)
        };
        for (kind, _) in WEIGHTS {
            if FAMILY_KINDS.contains(&kind.name()) {
                let s = share(kind);
                assert!((0.003..=0.02).contains(&s), "{kind:?} is {:.2}% of the user actions", 100.0 * s);
                assert!(s < share(Kind::SwapExactIn) && s < share(Kind::TokenTransfer), "{kind:?}");
            }
        }
    }

    #[test]
    fn kind_names_are_distinct() {
        let names: BTreeSet<&str> = WEIGHTS.iter().map(|(k, _)| k.name()).collect();
        assert_eq!(names.len(), WEIGHTS.len());
        let family: BTreeSet<&str> = FAMILY_KINDS.iter().copied().collect();
        assert_eq!(family.len(), FAMILY_KINDS.len());
        // Every user kind issue 14 added is counted under its own name.
        for kind in [Kind::ZapRemove, Kind::AirdropClaim, Kind::FarmStake, Kind::PermitPay, Kind::SaleBuy] {
            assert!(family.contains(kind.name()), "{kind:?}");
        }
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
