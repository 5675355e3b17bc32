//! The everyday protocols issue 14 found missing from the background world,
//! deployed and funded as setup after the core world: the ORB token (EIP-2612
//! permits) with its DEX A pair, a liquidity zap, a Merkle airdrop, streaming
//! reward farms funded by keeper upkeeps, an auto-compounding vault, a
//! descending-price sale that refunds over-payment, vesting wallets, a
//! timelock that administers a role-run treasury, an owner-run grants
//! treasury behind a proxy, a canonical bridge whose withdrawals are proven
//! against posted roots, an m-of-n attested bridge, a keeper registry behind
//! an upgradeable proxy, and liquidators who repay from their own wallets.
//!
//! Every payout these protocols make is authorized the way real ones are: by
//! a proof, a signature of stored signers, a stored role, a schedule, or the
//! caller's own shares; nothing in them is a bug.

use alloy_primitives::{aliases::U96, keccak256, Address, Bytes, B256, U256};
use alloy_sol_types::{SolCall, SolConstructor, SolValue};
use rand::{seq::SliceRandom, Rng};
use rand_chacha::ChaCha8Rng;
use vigil_fixture::Label;

use super::{merkle::MerkleTree, world::Addrs};
use crate::det::{log_uniform, round_sig};
use crate::{
    contracts::{
        keeper_registry_v2::KeeperRegistryV2, keeper_registry_v3::KeeperRegistryV3, AttestedBridge, AutoCompounder,
        ERC1967Proxy, KeeperRegistryV1, LiquidityZap, MerkleDistributor, PermitToken, RewardDripper, RoleTreasury,
        RootBridge, StreamingRewards, SwapRouter, Timelock, TokenSale, Treasury, VestingWallet,
    },
    scenarios::{amt, eth, frac, steps::add_liquidity, Sc},
    Actor, CorpusError, GENESIS_TIMESTAMP,
};

/// This chain's bridge domain and the remote chain's.
pub(crate) const LOCAL_DOMAIN: u32 = 2;
pub(crate) const REMOTE_DOMAIN: u32 = 1;
/// Seconds a posted withdrawal root waits before its withdrawals finalize.
pub(crate) const CHALLENGE_PERIOD: u64 = 60;
/// Seconds between reward drips (the upkeeps' interval).
pub(crate) const DRIP_INTERVAL: u64 = 600;
/// The timelock's minimum delay, seconds.
pub(crate) const TIMELOCK_DELAY: u64 = 120;
/// Leaves of the airdrop tree (the world's users and other recipients).
const AIRDROP_LEAVES: usize = 4096;

/// The accounts the new protocols need, in genesis order, with their ETH.
pub(crate) const ROLES: [(&str, u64); 23] = [
    ("root-poster", 0),
    ("relayer-1", 1),
    ("relayer-2", 1),
    ("attester-1", 0),
    ("attester-2", 0),
    ("attester-3", 0),
    ("attester-4", 0),
    ("attester-5", 0),
    ("attester-6", 0),
    ("council", 1),
    ("treasurer-1", 0),
    ("treasurer-2", 0),
    ("treasurer-3", 0),
    ("keeper-1", 0),
    ("keeper-2", 0),
    ("keeper-3", 0),
    ("keeper-ops", 0),
    ("registry-admin", 0),
    ("fee-collector", 0),
    ("sale-beneficiary", 0),
    ("harvester", 0),
    ("liquidator-3", 1),
    ("liquidator-4", 1),
];
/// Owners the grants treasury passes between (genesis accounts too).
pub(crate) const GRANTS_OWNERS: [&str; 3] = ["grants-owner-1", "grants-owner-2", "grants-owner-3"];

/// The new protocols' system accounts.
#[derive(Debug, Clone)]
pub(crate) struct Roles {
    pub(crate) root_poster: Actor,
    pub(crate) relayers: Vec<Actor>,
    /// Attesters 1–5 sign at first; the owner later swaps one for number 6.
    pub(crate) attesters: Vec<Actor>,
    /// The timelock's proposer (a multisig's signer in real life).
    pub(crate) council: Actor,
    pub(crate) treasurers: Vec<Actor>,
    pub(crate) keepers: Vec<Actor>,
    /// Keeper 3's payee.
    pub(crate) keeper_ops: Actor,
    pub(crate) registry_admin: Actor,
    pub(crate) fee_collector: Actor,
    pub(crate) sale_beneficiary: Actor,
    pub(crate) harvester: Actor,
    /// Liquidators who repay from their own wallets.
    pub(crate) liquidators: Vec<Actor>,
    pub(crate) grants_owners: Vec<Actor>,
}

impl Roles {
    /// Takes the accounts of [`ROLES`] then [`GRANTS_OWNERS`], in that order.
    pub(crate) fn from_genesis(mut list: Vec<Actor>) -> Result<Self, CorpusError> {
        if list.len() != ROLES.len() + GRANTS_OWNERS.len() {
            return Err(CorpusError::InvalidArgument("role accounts".into()));
        }
        let grants_owners = list.split_off(ROLES.len());
        let mut it = list.into_iter();
        let mut next = |n: usize| -> Vec<Actor> { it.by_ref().take(n).collect() };
        let one = |mut v: Vec<Actor>| v.pop().ok_or_else(|| CorpusError::InvalidArgument("role accounts".into()));
        Ok(Self {
            root_poster: one(next(1))?,
            relayers: next(2),
            attesters: next(6),
            council: one(next(1))?,
            treasurers: next(3),
            keepers: next(3),
            keeper_ops: one(next(1))?,
            registry_admin: one(next(1))?,
            fee_collector: one(next(1))?,
            sale_beneficiary: one(next(1))?,
            harvester: one(next(1))?,
            liquidators: next(2),
            grants_owners,
        })
    }

    /// The payee of keeper `k`.
    pub(crate) fn keeper_payee(&self, k: usize) -> &Actor {
        if k == 2 {
            &self.keeper_ops
        } else {
            &self.keepers[k]
        }
    }
}

/// Addresses of the new protocols.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FamAddrs {
    pub(crate) orb: Address,
    /// DEX A's WETH/ORB pair.
    pub(crate) pair_wo: Address,
    pub(crate) zap: Address,
    pub(crate) airdrop: Address,
    /// ORB staked for ORB.
    pub(crate) farm_orb: Address,
    /// WETH/ORB LP staked for ORB.
    pub(crate) farm_lp: Address,
    pub(crate) dripper_orb: Address,
    pub(crate) dripper_lp: Address,
    pub(crate) compounder: Address,
    pub(crate) sale: Address,
    pub(crate) timelock: Address,
    pub(crate) role_treasury: Address,
    /// The grants treasury's proxy (a `Treasury` behind an `ERC1967Proxy`).
    pub(crate) grants: Address,
    pub(crate) root_bridge: Address,
    pub(crate) attested: Address,
    /// The keeper registry's proxy.
    pub(crate) registry: Address,
    /// The registry implementation the admin upgrades to during traffic.
    pub(crate) registry_next: Address,
}

/// One withdrawal initiated on the remote chain, to be finalized here.
#[derive(Debug, Clone)]
pub(crate) struct Withdrawal {
    pub(crate) nonce: u64,
    pub(crate) sender: Address,
    /// The user it pays.
    pub(crate) recipient: usize,
    pub(crate) recipient_address: Address,
    /// ETH is the zero address.
    pub(crate) token: Address,
    pub(crate) amount: U256,
    pub(crate) relayer_fee: U256,
}

impl Withdrawal {
    /// The contract's struct.
    pub(crate) fn sol(&self) -> RootBridge::Withdrawal {
        RootBridge::Withdrawal {
            nonce: self.nonce,
            sender: self.sender,
            recipient: self.recipient_address,
            token: self.token,
            amount: self.amount,
            relayerFee: self.relayer_fee,
        }
    }

    /// `RootBridge.withdrawalLeaf`: keccak256(abi.encode(remote, local, withdrawal)).
    pub(crate) fn leaf(&self) -> B256 {
        keccak256((REMOTE_DOMAIN, LOCAL_DOMAIN, self.sol()).abi_encode_params())
    }
}

/// A batch of withdrawals whose root the root poster posted.
#[derive(Debug, Clone)]
pub(crate) struct Batch {
    pub(crate) id: u64,
    /// Timestamp of the block that posted it.
    pub(crate) posted_at: u64,
    pub(crate) withdrawals: Vec<Withdrawal>,
    pub(crate) tree: MerkleTree,
}

impl Batch {
    pub(crate) fn new(id: u64, posted_at: u64, withdrawals: Vec<Withdrawal>) -> Self {
        let tree = MerkleTree::new(withdrawals.iter().map(Withdrawal::leaf).collect());
        Self { id, posted_at, withdrawals, tree }
    }
}

/// The airdrop's leaves and tree.
#[derive(Debug, Clone)]
pub(crate) struct Airdrop {
    /// (account, amount) by leaf index.
    pub(crate) leaves: Vec<(Address, U256)>,
    pub(crate) tree: MerkleTree,
    /// The leaf index of each user.
    pub(crate) user_leaf: Vec<usize>,
}

/// `keccak256(abi.encodePacked(uint256 index, address account, uint256 amount))`.
pub(crate) fn airdrop_leaf(index: usize, account: Address, amount: U256) -> B256 {
    let mut buf = Vec::with_capacity(84);
    buf.extend_from_slice(&U256::from(index).to_be_bytes::<32>());
    buf.extend_from_slice(account.as_slice());
    buf.extend_from_slice(&amount.to_be_bytes::<32>());
    keccak256(buf)
}

/// A vesting wallet and the user it vests for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Vesting {
    pub(crate) beneficiary: usize,
    pub(crate) wallet: Address,
}

/// The new protocols after setup.
#[derive(Debug, Clone)]
pub(crate) struct Families {
    pub(crate) a: FamAddrs,
    pub(crate) roles: Roles,
    pub(crate) airdrop: Airdrop,
    pub(crate) vesting: Vec<Vesting>,
    /// Batches posted in setup.
    pub(crate) batches: Vec<Batch>,
    /// The next remote withdrawal nonce.
    pub(crate) next_remote_nonce: u64,
    /// EIP-712 domain separators read from the chain.
    pub(crate) orb_domain: B256,
    pub(crate) attested_domain: B256,
    /// Users who start with LP tokens of a DEX A pair.
    pub(crate) lp_holders: Vec<usize>,
    /// Users who start with ORB.
    pub(crate) orb_holders: Vec<usize>,
}

/// Draws `n` withdrawals from the remote chain to random users, nonces from
/// `first_nonce`: USD, WETH or ETH, amounts people move, a relayer fee of
/// about 0.2%.
pub(crate) fn remote_withdrawals(
    rng: &mut ChaCha8Rng,
    users: &[Actor],
    core: &Addrs,
    first_nonce: u64,
    n: usize,
) -> Vec<Withdrawal> {
    (0..n)
        .map(|k| {
            let recipient = rng.gen_range(0..users.len());
            let (token, lo, hi) = match rng.gen_range(0..3) {
                0 => (core.usd, 20.0, 50_000.0),
                1 => (core.weth, 0.01, 25.0),
                _ => (Address::ZERO, 0.01, 25.0),
            };
            let amount = round_sig(U256::from((log_uniform(rng, lo, hi) * 1e18) as u128), 3);
            let relayer_fee = round_sig(amount / U256::from(500), 2);
            let sender = if rng.gen_bool(0.8) {
                users[recipient].address()
            } else {
                Address::from_slice(&keccak256(format!("remote-sender/{first_nonce}/{k}"))[12..])
            };
            Withdrawal {
                nonce: first_nonce + k as u64,
                sender,
                recipient,
                recipient_address: users[recipient].address(),
                token,
                amount,
                relayer_fee,
            }
        })
        .collect()
}

/// `RootBridge.postRoot(id, root, count)` by the root poster.
pub(crate) fn post_root_call(batch: &Batch) -> RootBridge::postRootCall {
    RootBridge::postRootCall {
        batchId: U256::from(batch.id),
        root: batch.tree.root(),
        count: batch.withdrawals.len() as u32,
    }
}

/// The EIP-712 digest of an attested release.
pub(crate) fn release_digest(domain: B256, r: &AttestedBridge::Release) -> B256 {
    let typehash = keccak256("Release(uint32 origin,uint64 nonce,address token,address recipient,uint256 amount)");
    let struct_hash = keccak256((typehash, r.origin, r.nonce, r.token, r.recipient, r.amount).abi_encode_params());
    typed_data_hash(domain, struct_hash)
}

/// The EIP-712 digest of an EIP-2612 permit.
pub(crate) fn permit_digest(
    domain: B256,
    owner: Address,
    spender: Address,
    value: U256,
    nonce: U256,
    deadline: U256,
) -> B256 {
    let typehash = keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");
    typed_data_hash(domain, keccak256((typehash, owner, spender, value, nonce, deadline).abi_encode_params()))
}

fn typed_data_hash(domain: B256, struct_hash: B256) -> B256 {
    let mut buf = Vec::with_capacity(66);
    buf.extend_from_slice(b"\x19\x01");
    buf.extend_from_slice(domain.as_slice());
    buf.extend_from_slice(struct_hash.as_slice());
    keccak256(buf)
}

/// `(v, r, s)` of a 65-byte `r ‖ s ‖ v` signature.
pub(crate) fn split_signature(sig: &[u8]) -> (u8, B256, B256) {
    (sig[64], B256::from_slice(&sig[..32]), B256::from_slice(&sig[32..64]))
}

/// An address the airdrop pays that is nobody in the world (claims it never
/// makes are part of every real airdrop).
fn outsider(world: &str, i: usize) -> Address {
    Address::from_slice(&keccak256(format!("vigil-corpus/{world}/airdrop-recipient/{i}"))[12..])
}

/// An amount of about `lo`..`hi` whole tokens, `sig` significant digits.
fn tokens(rng: &mut ChaCha8Rng, lo: f64, hi: f64, sig: u32) -> U256 {
    round_sig(U256::from(log_uniform(rng, lo, hi) as u128) * eth(1), sig)
}

/// Deploys, funds and configures the new protocols (all `setup`).
pub(crate) fn build(
    sc: &mut Sc,
    core: &Addrs,
    users: &[Actor],
    roles: Roles,
    rng: &mut ChaCha8Rng,
) -> Result<Families, CorpusError> {
    let d = sc.d.clone();
    let world = sc.chain.name().to_owned();

    // ORB and its DEX A pair (1 ORB ≈ 1 USD).
    let orb = sc.deploy(
        Label::Setup,
        &d,
        "ORB",
        &PermitToken::BYTECODE,
        PermitToken::constructorCall { name_: "Orbit".into(), symbol_: "ORB".into(), decimals_: 18 }.abi_encode(),
        "PermitToken(\"Orbit\", \"ORB\", 18)",
    )?;
    sc.setup(
        &d,
        orb,
        PermitToken::mintCall { to: d.address(), amount: eth(100_000_000) },
        "ORB.mint(deployer, 100000000e18)",
    )?;
    sc.wrap(Label::Setup, &d, core.weth, eth(5_000))?;
    sc.approve(Label::Setup, &d, orb, core.router)?;
    add_liquidity(sc, &d, core.router, core.weth, orb, eth(2_000), eth(4_000_000))?;
    let factory = sc.chain.view(core.router, &SwapRouter::factoryCall {})?;
    let pair_wo = sc.pair(factory, core.weth, orb, "Pair(WETH/ORB)")?;
    let zap = sc.deploy(
        Label::Setup,
        &d,
        "LiquidityZap",
        &LiquidityZap::BYTECODE,
        LiquidityZap::constructorCall { weth_: core.weth }.abi_encode(),
        "LiquidityZap(WETH)",
    )?;

    // Earlier activity: some users hold LP tokens of a DEX A pair, some ORB.
    let pairs = [core.pair_wu, core.pair_wg, core.pair_ws, core.pair_ug, pair_wo];
    let mut lp = Vec::new();
    for pair in pairs {
        lp.push(sc.bal(pair, d.address())?);
    }
    let mut lp_holders = Vec::new();
    let mut orb_holders = Vec::new();
    for (i, user) in users.iter().enumerate() {
        if rng.gen_bool(0.1) {
            let k = rng.gen_range(0..pairs.len());
            let amount = round_sig(lp[k] / U256::from(10_000) * U256::from((log_uniform(rng, 1.0, 60.0)) as u64), 3);
            sc.transfer(Label::Setup, &d, pairs[k], user.address(), amount)?;
            lp_holders.push(i);
        }
        if rng.gen_bool(0.12) {
            let amount = tokens(rng, 100.0, 200_000.0, 2);
            sc.transfer(Label::Setup, &d, orb, user.address(), amount)?;
            orb_holders.push(i);
        }
    }

    // The airdrop: every user has a leaf, among thousands.
    let n_leaves = AIRDROP_LEAVES.max(users.len() + 1024);
    let mut slots: Vec<usize> = (0..n_leaves).collect();
    slots.shuffle(rng);
    let mut leaves: Vec<(Address, U256)> = (0..n_leaves).map(|i| (outsider(&world, i), U256::ZERO)).collect();
    let mut user_leaf = vec![0; users.len()];
    for (u, user) in users.iter().enumerate() {
        user_leaf[u] = slots[u];
        leaves[slots[u]].0 = user.address();
    }
    for leaf in &mut leaves {
        leaf.1 = tokens(rng, 50.0, 20_000.0, 2);
    }
    let tree = MerkleTree::new(leaves.iter().enumerate().map(|(i, (a, x))| airdrop_leaf(i, *a, *x)).collect());
    let total = leaves.iter().fold(U256::ZERO, |s, (_, x)| s + *x);
    let airdrop = sc.deploy(
        Label::Setup,
        &d,
        "MerkleDistributor",
        &MerkleDistributor::BYTECODE,
        MerkleDistributor::constructorCall {
            token_: orb,
            merkleRoot_: tree.root(),
            endTime_: U256::from(GENESIS_TIMESTAMP + 365 * 86_400),
        }
        .abi_encode(),
        &format!("MerkleDistributor(ORB, {}, 1 year) - {n_leaves} leaves", tree.root()),
    )?;
    sc.transfer(Label::Setup, &d, orb, airdrop, total)?;
    let airdrop_data = Airdrop { leaves, tree, user_leaf };

    // Treasuries: a timelock run by the council (anyone executes), a
    // role-run treasury it administers, an owner-run grants treasury.
    let timelock = sc.deploy(
        Label::Setup,
        &d,
        "Timelock",
        &Timelock::BYTECODE,
        Timelock::constructorCall {
            minDelay_: U256::from(TIMELOCK_DELAY),
            proposers: vec![roles.council.address()],
            executors: vec![Address::ZERO],
            admin: Address::ZERO,
        }
        .abi_encode(),
        &format!("Timelock({TIMELOCK_DELAY}, [council], [anyone], none)"),
    )?;
    let role_treasury = sc.deploy(
        Label::Setup,
        &d,
        "RoleTreasury",
        &RoleTreasury::BYTECODE,
        RoleTreasury::constructorCall { admin: d.address() }.abi_encode(),
        "RoleTreasury(deployer)",
    )?;
    let treasurer_role = keccak256("TREASURER_ROLE");
    sc.setup(
        &d,
        role_treasury,
        RoleTreasury::grantRoleCall { role: treasurer_role, account: roles.treasurers[0].address() },
        "RoleTreasury.grantRole(TREASURER_ROLE, treasurer-1)",
    )?;
    for (token, limit, what) in [
        (Address::ZERO, eth(20), "ETH"),
        (core.usd, eth(50_000), "USD"),
        (core.weth, eth(20), "WETH"),
        (orb, eth(100_000), "ORB"),
    ] {
        sc.setup(
            &d,
            role_treasury,
            RoleTreasury::setPaymentLimitCall { token, limit },
            &format!("RoleTreasury.setPaymentLimit({what}, {})", amt(limit)),
        )?;
    }
    sc.setup(
        &d,
        role_treasury,
        RoleTreasury::grantRoleCall { role: B256::ZERO, account: timelock },
        "RoleTreasury.grantRole(DEFAULT_ADMIN_ROLE, Timelock)",
    )?;
    sc.setup(
        &d,
        role_treasury,
        RoleTreasury::renounceRoleCall { role: B256::ZERO },
        "RoleTreasury.renounceRole(DEFAULT_ADMIN_ROLE)",
    )?;
    let treasury_impl = sc.deploy(Label::Setup, &d, "Treasury", &Treasury::BYTECODE, Vec::new(), "Treasury()")?;
    let init = Treasury::initializeCall { owner_: roles.grants_owners[0].address() }.abi_encode();
    let grants = sc.deploy(
        Label::Setup,
        &d,
        "GrantsTreasury",
        &ERC1967Proxy::BYTECODE,
        ERC1967Proxy::constructorCall { implementation: treasury_impl, data: init.into() }.abi_encode(),
        "ERC1967Proxy(Treasury, ⟨Treasury.initialize(grants-owner-1)⟩)",
    )?;
    for (to, what) in [(timelock, "Timelock"), (role_treasury, "RoleTreasury"), (grants, "GrantsTreasury")] {
        let value = match what {
            "Timelock" => eth(500),
            "RoleTreasury" => eth(300),
            _ => eth(100),
        };
        sc.send_eth(Label::Setup, &d, to, value, &format!("send {} ETH to {what}", amt(value)))?;
    }
    for (token, to, amount) in [
        (core.usd, timelock, eth(1_000_000)),
        (orb, timelock, eth(2_000_000)),
        (core.usd, role_treasury, eth(2_000_000)),
        (orb, role_treasury, eth(3_000_000)),
        (core.weth, role_treasury, eth(500)),
        (core.usd, grants, eth(500_000)),
    ] {
        sc.transfer(Label::Setup, &d, token, to, amount)?;
    }

    // Farms streaming ORB, their keeper-funded drippers, the compounder.
    let mut farms = Vec::new();
    for (staked, name, per_drip) in
        [(orb, "StreamingRewards(ORB)", 20_000u64), (pair_wo, "StreamingRewards(WETH/ORB)", 30_000)]
    {
        let farm = sc.deploy(
            Label::Setup,
            &d,
            name,
            &StreamingRewards::BYTECODE,
            StreamingRewards::constructorCall {
                stakingToken_: staked,
                rewardsToken_: orb,
                rewardsDistribution_: d.address(),
                rewardsDuration_: U256::from(3_600),
            }
            .abi_encode(),
            &format!("{name}: StreamingRewards({}, ORB, deployer, 3600)", sc.nm(staked)),
        )?;
        let dripper = sc.deploy(
            Label::Setup,
            &d,
            &format!("RewardDripper({})", sc.nm(staked)),
            &RewardDripper::BYTECODE,
            RewardDripper::constructorCall {
                pool_: farm,
                interval_: U256::from(DRIP_INTERVAL),
                amountPerDrip_: eth(per_drip),
            }
            .abi_encode(),
            &format!("RewardDripper({name}, {DRIP_INTERVAL}, {per_drip}e18)"),
        )?;
        sc.setup(
            &d,
            farm,
            StreamingRewards::setRewardsDistributionCall { distribution: dripper },
            "StreamingRewards.setRewardsDistribution(RewardDripper)",
        )?;
        sc.transfer(Label::Setup, &d, orb, dripper, eth(5_000_000))?;
        farms.push((farm, dripper));
    }
    let (farm_orb, dripper_orb) = farms[0];
    let (farm_lp, dripper_lp) = farms[1];
    sc.approve(Label::Setup, &d, pair_wo, farm_lp)?;
    let pol = round_sig(sc.bal(pair_wo, d.address())? / U256::from(4), 3);
    sc.setup(
        &d,
        farm_lp,
        StreamingRewards::stakeCall { amount: pol },
        &format!("StreamingRewards(WETH/ORB).stake({})", amt(pol)),
    )?;
    for dripper in [dripper_orb, dripper_lp] {
        sc.setup(
            &d,
            dripper,
            RewardDripper::performUpkeepCall::new((Bytes::new(),)),
            "RewardDripper.performUpkeep(0x) - first period",
        )?;
    }
    let compounder = sc.deploy(
        Label::Setup,
        &d,
        "AutoCompounder",
        &AutoCompounder::BYTECODE,
        AutoCompounder::constructorCall {
            farm_: farm_orb,
            feeRecipient_: role_treasury,
            callFeeBps_: U256::from(50),
            performanceFeeBps_: U256::from(450),
            name_: "Compounding ORB".into(),
            symbol_: "cORB".into(),
        }
        .abi_encode(),
        "AutoCompounder(StreamingRewards(ORB), RoleTreasury, 50, 450, \"Compounding ORB\", \"cORB\")",
    )?;
    sc.approve(Label::Setup, &d, orb, compounder)?;
    sc.setup(&d, compounder, AutoCompounder::depositCall { amount: eth(50_000) }, "AutoCompounder.deposit(50000e18)")?;

    // The sale: 0.0006 ETH per ORB falling to 0.0003 over three hours
    // (the pair starts at 0.0005).
    let sale = sc.deploy(
        Label::Setup,
        &d,
        "TokenSale",
        &TokenSale::BYTECODE,
        TokenSale::constructorCall {
            token_: orb,
            startPrice_: frac(6, 10_000),
            floorPrice_: frac(3, 10_000),
            startTime_: GENESIS_TIMESTAMP,
            decayPeriod_: 3 * 3_600,
            maxPerAccount_: eth(250_000),
            beneficiary_: roles.sale_beneficiary.address(),
        }
        .abi_encode(),
        "TokenSale(ORB, 0.0006e18, 0.0003e18, genesis, 10800, 250000e18, sale-beneficiary)",
    )?;
    sc.transfer(Label::Setup, &d, orb, sale, eth(10_000_000))?;

    // Vesting: a few users (team, investors) vest ORB, some USD too.
    let mut vesting = Vec::new();
    let n_vesting = (users.len() / 24).clamp(4, 16).min(users.len());
    let mut who: Vec<usize> = (0..users.len()).collect();
    who.shuffle(rng);
    for &beneficiary in who.iter().take(n_vesting) {
        let start = GENESIS_TIMESTAMP - 3_600 + rng.gen_range(0..90) * 60;
        let duration = rng.gen_range(2..=12) * 3_600;
        let cliff = [0u64, 0, 600, 1_800][rng.gen_range(0..4)];
        let role = users[beneficiary].role.clone();
        let wallet = sc.deploy(
            Label::Setup,
            &d,
            &format!("VestingWallet({role})"),
            &VestingWallet::BYTECODE,
            VestingWallet::constructorCall {
                beneficiary: users[beneficiary].address(),
                start_: start,
                duration_: duration,
                cliff_: cliff,
            }
            .abi_encode(),
            &format!("VestingWallet({role}, {start}, {duration}, {cliff})"),
        )?;
        sc.transfer(Label::Setup, &d, orb, wallet, tokens(rng, 10_000.0, 500_000.0, 2))?;
        if rng.gen_bool(0.3) {
            sc.transfer(Label::Setup, &d, core.usd, wallet, tokens(rng, 5_000.0, 200_000.0, 2))?;
        }
        vesting.push(Vesting { beneficiary, wallet });
    }

    // The canonical bridge: roles, liquidity from earlier deposits, and a
    // first batch of withdrawals posted.
    let root_bridge = sc.deploy(
        Label::Setup,
        &d,
        "RootBridge",
        &RootBridge::BYTECODE,
        RootBridge::constructorCall {
            localDomain_: LOCAL_DOMAIN,
            remoteDomain_: REMOTE_DOMAIN,
            challengePeriod_: U256::from(CHALLENGE_PERIOD),
            depositFeeBps_: U256::from(10),
            admin: d.address(),
        }
        .abi_encode(),
        &format!("RootBridge({LOCAL_DOMAIN}, {REMOTE_DOMAIN}, {CHALLENGE_PERIOD}, 10, deployer)"),
    )?;
    for (role, who, what) in [
        ("ROOT_POSTER_ROLE", roles.root_poster.address(), "root-poster"),
        ("FEE_COLLECTOR_ROLE", roles.fee_collector.address(), "fee-collector"),
    ] {
        sc.setup(
            &d,
            root_bridge,
            RootBridge::grantRoleCall { role: keccak256(role), account: who },
            &format!("RootBridge.grantRole({role}, {what})"),
        )?;
    }
    for token in [core.usd, core.weth] {
        sc.approve(Label::Setup, &d, token, root_bridge)?;
    }
    for (token, amount, what) in [(core.usd, eth(5_000_000), "USD"), (core.weth, eth(1_500), "WETH")] {
        sc.setup(
            &d,
            root_bridge,
            RootBridge::depositCall { token, amount, recipient: d.address() },
            &format!("RootBridge.deposit({what}, {}, deployer)", amt(amount)),
        )?;
    }
    sc.setup_v(
        &d,
        root_bridge,
        eth(2_000),
        RootBridge::depositETHCall { recipient: d.address() },
        "RootBridge.depositETH(deployer) {value: 2000e18}",
    )?;
    let first = remote_withdrawals(rng, users, core, 0, 48);
    let next_remote_nonce = first.len() as u64;
    let posted_at = sc.chain.block().timestamp;
    let batch = Batch::new(0, posted_at, first);
    let check = sc.chain.view(root_bridge, &RootBridge::withdrawalLeafCall { w: batch.withdrawals[0].sol() })?;
    sc.check(check == batch.withdrawals[0].leaf(), || "RootBridge leaf differs from the generator's".into())?;
    sc.setup(
        &roles.root_poster,
        root_bridge,
        post_root_call(&batch),
        &format!("RootBridge.postRoot(0, {}, {})", batch.tree.root(), batch.withdrawals.len()),
    )?;

    // The attested bridge: five attesters, three must sign.
    let attesters: Vec<Address> = roles.attesters[..5].iter().map(Actor::address).collect();
    let attested = sc.deploy(
        Label::Setup,
        &d,
        "AttestedBridge",
        &AttestedBridge::BYTECODE,
        AttestedBridge::constructorCall {
            remoteDomain_: REMOTE_DOMAIN,
            attesters_: attesters,
            threshold_: U256::from(3),
        }
        .abi_encode(),
        &format!("AttestedBridge({REMOTE_DOMAIN}, [attester-1 … attester-5], 3)"),
    )?;
    for token in [core.usd, core.weth, orb] {
        sc.approve(Label::Setup, &d, token, attested)?;
    }
    for (token, amount, what) in
        [(core.usd, eth(3_000_000), "USD"), (core.weth, eth(1_000), "WETH"), (orb, eth(1_000_000), "ORB")]
    {
        sc.setup(
            &d,
            attested,
            AttestedBridge::lockCall { token, amount, recipient: d.address() },
            &format!("AttestedBridge.lock({what}, {}, deployer)", amt(amount)),
        )?;
    }
    let attested_domain = sc.chain.view(attested, &AttestedBridge::DOMAIN_SEPARATORCall {})?;
    let probe = AttestedBridge::Release {
        origin: REMOTE_DOMAIN,
        nonce: 1,
        token: core.usd,
        recipient: d.address(),
        amount: eth(1),
    };
    let onchain = sc.chain.view(attested, &AttestedBridge::releaseDigestCall { r: probe.clone() })?;
    sc.check(onchain == release_digest(attested_domain, &probe), || {
        "AttestedBridge digest differs from the generator's".into()
    })?;

    // The keeper registry behind a proxy: version 1, keepers, the drippers'
    // upkeeps funded in USD, then upgraded to version 2.
    let v1 =
        sc.deploy(Label::Setup, &d, "KeeperRegistryV1", &KeeperRegistryV1::BYTECODE, Vec::new(), "KeeperRegistryV1()")?;
    let v2 =
        sc.deploy(Label::Setup, &d, "KeeperRegistryV2", &KeeperRegistryV2::BYTECODE, Vec::new(), "KeeperRegistryV2()")?;
    let v3 =
        sc.deploy(Label::Setup, &d, "KeeperRegistryV3", &KeeperRegistryV3::BYTECODE, Vec::new(), "KeeperRegistryV3()")?;
    let init = KeeperRegistryV1::initializeCall {
        owner_: roles.registry_admin.address(),
        paymentToken_: core.usd,
        flatFee_: U96::from(5u64 * 10u64.pow(16)),
        feePerGas_: U96::from(10u64.pow(12)),
        premiumBps_: 2_000,
    }
    .abi_encode();
    let registry = sc.deploy(
        Label::Setup,
        &d,
        "KeeperRegistry",
        &ERC1967Proxy::BYTECODE,
        ERC1967Proxy::constructorCall { implementation: v1, data: init.into() }.abi_encode(),
        "ERC1967Proxy(KeeperRegistryV1, ⟨initialize(registry-admin, USD, 0.05e18, 1e12, 2000)⟩)",
    )?;
    let admin = roles.registry_admin.clone();
    sc.setup(
        &admin,
        registry,
        KeeperRegistryV1::setKeepersCall {
            keepers_: roles.keepers.iter().map(Actor::address).collect(),
            payees: (0..roles.keepers.len()).map(|k| roles.keeper_payee(k).address()).collect(),
        },
        "KeeperRegistry.setKeepers([keeper-1, keeper-2, keeper-3], [keeper-1, keeper-2, keeper-ops])",
    )?;
    for (dripper, what) in [(dripper_orb, "RewardDripper(ORB)"), (dripper_lp, "RewardDripper(WETH/ORB)")] {
        sc.setup(
            &admin,
            registry,
            KeeperRegistryV1::registerUpkeepCall { target: dripper, executeGas: 300_000, admin: d.address() },
            &format!("KeeperRegistry.registerUpkeep({what}, 300000, deployer)"),
        )?;
    }
    sc.approve(Label::Setup, &d, core.usd, registry)?;
    for id in 0..2u64 {
        sc.setup(
            &d,
            registry,
            KeeperRegistryV1::addFundsCall { id: U256::from(id), amount: U96::from(20_000u128 * 10u128.pow(18)) },
            &format!("KeeperRegistry.addFunds({id}, 20000e18)"),
        )?;
    }
    sc.setup(
        &admin,
        registry,
        KeeperRegistryV1::upgradeToAndCallCall { newImplementation: v2, data: Bytes::new() },
        "KeeperRegistry.upgradeToAndCall(KeeperRegistryV2, 0x)",
    )?;

    // Liquidators who repay from their own wallets.
    for liq in &roles.liquidators {
        for (token, amount) in [(core.usd, eth(2_000_000)), (core.weth, eth(500)), (core.gem, eth(1_000_000))] {
            sc.transfer(Label::Setup, &d, token, liq.address(), amount)?;
        }
        for token in [core.usd, core.weth, core.gem] {
            sc.approve(Label::Setup, liq, token, core.pool)?;
        }
    }

    let a = FamAddrs {
        orb,
        pair_wo,
        zap,
        airdrop,
        farm_orb,
        farm_lp,
        dripper_orb,
        dripper_lp,
        compounder,
        sale,
        timelock,
        role_treasury,
        grants,
        root_bridge,
        attested,
        registry,
        registry_next: v3,
    };
    let orb_domain = sc.chain.view(orb, &PermitToken::DOMAIN_SEPARATORCall {})?;
    Ok(Families {
        a,
        roles,
        airdrop: airdrop_data,
        vesting,
        batches: vec![batch],
        next_remote_nonce,
        orb_domain,
        attested_domain,
        lp_holders,
        orb_holders,
    })
}

#[cfg(test)]
mod tests {
    use alloy_primitives::address;

    use super::*;

    #[test]
    fn airdrop_leaf_is_abi_encode_packed() {
        let account = address!("0x00000000000000000000000000000000000000aa");
        let amount = U256::from(1_234u64);
        let packed = (U256::from(7u64), account, amount).abi_encode_packed();
        assert_eq!(packed.len(), 84);
        assert_eq!(airdrop_leaf(7, account, amount), keccak256(packed));
    }

    #[test]
    fn withdrawal_leaf_is_abi_encode_of_the_domains_and_the_struct() {
        let w = Withdrawal {
            nonce: 3,
            sender: address!("0x00000000000000000000000000000000000000bb"),
            recipient: 0,
            recipient_address: address!("0x00000000000000000000000000000000000000cc"),
            token: Address::ZERO,
            amount: U256::from(5u64),
            relayer_fee: U256::from(1u64),
        };
        // Eight static words, no offsets.
        let mut words = Vec::new();
        for word in [
            U256::from(REMOTE_DOMAIN),
            U256::from(LOCAL_DOMAIN),
            U256::from(3u64),
            U256::from_be_slice(w.sender.as_slice()),
            U256::from_be_slice(w.recipient_address.as_slice()),
            U256::ZERO,
            U256::from(5u64),
            U256::from(1u64),
        ] {
            words.extend_from_slice(&word.to_be_bytes::<32>());
        }
        assert_eq!(w.leaf(), keccak256(words));
    }

    #[test]
    fn signatures_split_into_v_r_s() {
        let mut sig = vec![1u8; 32];
        sig.extend_from_slice(&[2u8; 32]);
        sig.push(27);
        let (v, r, s) = split_signature(&sig);
        assert_eq!((v, r, s), (27, B256::repeat_byte(1), B256::repeat_byte(2)));
    }
}
