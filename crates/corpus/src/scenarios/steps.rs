//! Deployment and protocol steps that several scenarios (and the
//! background world) share.

use alloy_primitives::{keccak256, Address, Bytes, B256, U256};
use alloy_sol_types::{SolConstructor, SolValue};
use vigil_fixture::Label;

use super::{amt, eth, Base, Sc};
use crate::{
    contracts::{
        BridgeInbox, BridgedToken, GameItems, ItemPool, LendingPool, ManualFeed, MintingBridge, PairFactory,
        PriceOracle, StableEthPool, StakingRewards, SwapRouter, Vault,
    },
    keys::Actor,
    CorpusError,
};

/// Deploys a contract whose constructor takes no arguments.
pub(crate) fn deploy_plain(sc: &mut Sc, from: &Actor, name: &str, code: &Bytes) -> Result<Address, CorpusError> {
    sc.deploy(Label::Setup, from, name, code, Vec::new(), &format!("{name}()"))
}

/// `router.addLiquidity(a, b, amount_a, amount_b, 0, 0, deployer)` by the deployer.
pub(crate) fn add_liquidity(
    sc: &mut Sc,
    from: &Actor,
    router: Address,
    a: Address,
    b: Address,
    amount_a: U256,
    amount_b: U256,
) -> Result<(), CorpusError> {
    let note = format!(
        "{}.addLiquidity({}, {}, {}, {}, 0, 0, {})",
        sc.nm(router),
        sc.nm(a),
        sc.nm(b),
        amt(amount_a),
        amt(amount_b),
        from.role
    );
    sc.setup(
        from,
        router,
        SwapRouter::addLiquidityCall {
            tokenA: a,
            tokenB: b,
            amountADesired: amount_a,
            amountBDesired: amount_b,
            amountAMin: U256::ZERO,
            amountBMin: U256::ZERO,
            to: from.address(),
        },
        &note,
    )?;
    Ok(())
}

pub(crate) fn price_oracle(sc: &mut Sc, weth: Address) -> Result<Address, CorpusError> {
    let d = sc.d.clone();
    sc.deploy(
        Label::Setup,
        &d,
        "PriceOracle",
        &PriceOracle::BYTECODE,
        PriceOracle::constructorCall { baseAsset_: weth }.abi_encode(),
        "PriceOracle(WETH)",
    )
}

pub(crate) fn manual_feed(sc: &mut Sc, name: &str, answer: U256) -> Result<Address, CorpusError> {
    let d = sc.d.clone();
    let answer = alloy_primitives::I256::try_from(answer).map_err(|e| sc.fail(e.to_string()))?;
    sc.deploy(
        Label::Setup,
        &d,
        name,
        &ManualFeed::BYTECODE,
        ManualFeed::constructorCall { initialAnswer: answer }.abi_encode(),
        &format!("ManualFeed({})", amt(answer.into_raw())),
    )
}

pub(crate) fn lending_pool(sc: &mut Sc, oracle: Address) -> Result<Address, CorpusError> {
    let d = sc.d.clone();
    sc.deploy(
        Label::Setup,
        &d,
        "LendingPool",
        &LendingPool::BYTECODE,
        LendingPool::constructorCall { oracle_: oracle }.abi_encode(),
        "LendingPool(PriceOracle)",
    )
}

/// `LendingPool.listMarket(...)` by the deployer, as `setup`.
pub(crate) fn list_market(
    sc: &mut Sc,
    pool: Address,
    asset: Address,
    cf: u16,
    rf: u16,
    rate: u128,
    seed: U256,
) -> Result<(), CorpusError> {
    let d = sc.d.clone();
    let note = format!("LendingPool.listMarket({}, {cf}, {rf}, {rate}, {})", sc.nm(asset), amt(seed));
    sc.setup(
        &d,
        pool,
        LendingPool::listMarketCall {
            asset,
            collateralFactorBps: cf,
            reserveFactorBps: rf,
            borrowRatePerBlock: rate,
            seedAmount: seed,
        },
        &note,
    )?;
    Ok(())
}

/// `LendingPool.supply(asset, amount, from)`.
pub(crate) fn supply(
    sc: &mut Sc,
    label: Label,
    from: &Actor,
    pool: Address,
    asset: Address,
    amount: U256,
) -> Result<(), CorpusError> {
    let note = format!("LendingPool.supply({}, {}, {})", sc.nm(asset), amt(amount), from.role);
    let call = LendingPool::supplyCall { asset, amount, onBehalfOf: from.address() };
    match label {
        Label::Setup => sc.setup(from, pool, call, &note)?,
        _ => sc.benign(from, pool, call, &note)?,
    };
    Ok(())
}

/// `LendingPool.borrow(asset, amount, from, from)`, benign.
pub(crate) fn borrow(
    sc: &mut Sc,
    from: &Actor,
    pool: Address,
    asset: Address,
    amount: U256,
) -> Result<(), CorpusError> {
    let note = format!("LendingPool.borrow({}, {}, {}, {})", sc.nm(asset), amt(amount), from.role, from.role);
    sc.benign(
        from,
        pool,
        LendingPool::borrowCall { asset, amount, account: from.address(), receiver: from.address() },
        &note,
    )?;
    Ok(())
}

pub(crate) fn vault(sc: &mut Sc, usd: Address) -> Result<Address, CorpusError> {
    let d = sc.d.clone();
    sc.deploy(
        Label::Setup,
        &d,
        "Vault",
        &Vault::BYTECODE,
        Vault::constructorCall { asset_: usd, name_: "Vault Dollar".into(), symbol_: "vUSD".into() }.abi_encode(),
        "Vault(USD, \"Vault Dollar\", \"vUSD\")",
    )
}

pub(crate) fn stable_pool(sc: &mut Sc, seth: Address) -> Result<Address, CorpusError> {
    let d = sc.d.clone();
    sc.deploy(
        Label::Setup,
        &d,
        "StableEthPool",
        &StableEthPool::BYTECODE,
        StableEthPool::constructorCall {
            coin1_: seth,
            amplification: U256::from(100),
            name_: "ETH/sETH StableSwap LP".into(),
            symbol_: "ethsETH-LP".into(),
        }
        .abi_encode(),
        "StableEthPool(sETH, 100, \"ETH/sETH StableSwap LP\", \"ethsETH-LP\")",
    )
}

pub(crate) fn staking(sc: &mut Sc, stk: Address, weth: Address) -> Result<Address, CorpusError> {
    let d = sc.d.clone();
    sc.deploy(
        Label::Setup,
        &d,
        "StakingRewards",
        &StakingRewards::BYTECODE,
        StakingRewards::constructorCall { stakingToken_: stk, rewardToken_: weth }.abi_encode(),
        "StakingRewards(STK, WETH)",
    )
}

pub(crate) fn game_items(sc: &mut Sc) -> Result<Address, CorpusError> {
    let d = sc.d.clone();
    sc.deploy(
        Label::Setup,
        &d,
        "GameItems",
        &GameItems::BYTECODE,
        GameItems::constructorCall { uri_: "https://game.invalid/items/{id}.json".into() }.abi_encode(),
        "GameItems(\"https://game.invalid/items/{id}.json\")",
    )
}

/// `GameItems` with `minted` of items 1, 2 and 3 for the deployer, and an
/// `ItemPool` for item 1 seeded by the deployer with `pool_items` items and
/// up to `pool_weth` WETH (the deployer holds the WETH already). Returns
/// `(items, pool)`.
pub(crate) fn seeded_item_pool(
    sc: &mut Sc,
    weth: Address,
    minted: [u64; 3],
    pool_items: u64,
    pool_weth: U256,
) -> Result<(Address, Address), CorpusError> {
    let d = sc.d.clone();
    let items = game_items(sc)?;
    sc.setup(
        &d,
        items,
        GameItems::mintBatchCall {
            to: d.address(),
            ids: vec![U256::from(1), U256::from(2), U256::from(3)],
            amounts: minted.iter().map(|m| U256::from(*m)).collect(),
        },
        &format!("GameItems.mintBatch(deployer, [1, 2, 3], [{}, {}, {}])", minted[0], minted[1], minted[2]),
    )?;
    let pool = item_pool(sc, items, weth)?;
    sc.setup(
        &d,
        items,
        GameItems::setApprovalForAllCall { operator: pool, approved: true },
        "GameItems.setApprovalForAll(ItemPool, true)",
    )?;
    sc.approve(Label::Setup, &d, weth, pool)?;
    sc.setup(
        &d,
        pool,
        ItemPool::addLiquidityCall { itemAmount: U256::from(pool_items), maxWeth: pool_weth },
        &format!("ItemPool.addLiquidity({pool_items}, {})", amt(pool_weth)),
    )?;
    Ok((items, pool))
}

/// DEX B: a second `PairFactory`/`SwapRouter` deployment, approved and
/// seeded by the deployer with `weth_amount` WETH and `usd_amount` USD.
/// Returns `(factory_b, router_b)`.
pub(crate) fn second_dex(
    sc: &mut Sc,
    weth: Address,
    usd: Address,
    weth_amount: U256,
    usd_amount: U256,
) -> Result<(Address, Address), CorpusError> {
    let d = sc.d.clone();
    let factory_b = deploy_plain(sc, &d, "PairFactoryB", &PairFactory::BYTECODE)?;
    let router_b = sc.deploy(
        Label::Setup,
        &d,
        "SwapRouterB",
        &SwapRouter::BYTECODE,
        SwapRouter::constructorCall { factory_: factory_b, weth_: weth }.abi_encode(),
        "SwapRouter(PairFactoryB, WETH)",
    )?;
    sc.approve(Label::Setup, &d, weth, router_b)?;
    sc.approve(Label::Setup, &d, usd, router_b)?;
    add_liquidity(sc, &d, router_b, weth, usd, weth_amount, usd_amount)?;
    Ok((factory_b, router_b))
}

pub(crate) fn item_pool(sc: &mut Sc, items: Address, weth: Address) -> Result<Address, CorpusError> {
    let d = sc.d.clone();
    sc.deploy(
        Label::Setup,
        &d,
        "ItemPool",
        &ItemPool::BYTECODE,
        ItemPool::constructorCall { items_: items, itemId_: U256::from(1), weth_: weth }.abi_encode(),
        "ItemPool(GameItems, 1, WETH)",
    )
}

pub(crate) fn bridge(sc: &mut Sc, validator: Address, root: B256) -> Result<Address, CorpusError> {
    let d = sc.d.clone();
    sc.deploy(
        Label::Setup,
        &d,
        "BridgeInbox",
        &BridgeInbox::BYTECODE,
        BridgeInbox::constructorCall { localDomain_: 2, remoteDomain_: 1, validator_: validator, committedRoot_: root }
            .abi_encode(),
        &format!("BridgeInbox(2, 1, bridgeValidator, {root})"),
    )
}

/// A6 and B10's deposits: per user, USD from the deployer, then wrap,
/// approve both tokens and `send` both.
pub(crate) fn lock_in_bridge(
    sc: &mut Sc,
    b: &Base,
    inbox: Address,
    users: [(&Actor, u64, u64); 3],
) -> Result<(), CorpusError> {
    let d = sc.d.clone();
    for (user, weth_amount, usd_amount) in users {
        sc.transfer(Label::Setup, &d, b.usd, user.address(), eth(usd_amount))?;
        sc.wrap(Label::Benign, user, b.weth, eth(weth_amount))?;
        sc.approve(Label::Benign, user, b.weth, inbox)?;
        sc.approve(Label::Benign, user, b.usd, inbox)?;
        for (token, amount, what) in [(b.weth, eth(weth_amount), "WETH"), (b.usd, eth(usd_amount), "USD")] {
            sc.benign(
                user,
                inbox,
                BridgeInbox::sendCall { token, amount, recipient: user.address() },
                &format!("BridgeInbox.send({what}, {}, {}) - bridge {what} out", amt(amount), user.role),
            )?;
        }
    }
    Ok(())
}

/// A13 and B13's wrapped-token bridge: `MintingBridge(2, 1, validators)`,
/// `BridgedToken("Bridged Ether", "bETH", 18, MintingBridge)` and
/// `MintingBridge.setToken(BridgedToken)`, all by the deployer. Returns the
/// bridge and the token.
pub(crate) fn minting_bridge(sc: &mut Sc, validators: &[&Actor]) -> Result<(Address, Address), CorpusError> {
    let d = sc.d.clone();
    let names = validators.iter().map(|v| v.role.as_str()).collect::<Vec<_>>().join(", ");
    let bridge = sc.deploy(
        Label::Setup,
        &d,
        "MintingBridge",
        &MintingBridge::BYTECODE,
        MintingBridge::constructorCall {
            localDomain_: 2,
            remoteDomain_: 1,
            validators_: validators.iter().map(|v| v.address()).collect(),
        }
        .abi_encode(),
        &format!("MintingBridge(2, 1, [{names}])"),
    )?;
    let token = sc.deploy(
        Label::Setup,
        &d,
        "bETH",
        &BridgedToken::BYTECODE,
        BridgedToken::constructorCall {
            name_: "Bridged Ether".into(),
            symbol_: "bETH".into(),
            decimals_: 18,
            bridge_: bridge,
        }
        .abi_encode(),
        "BridgedToken(\"Bridged Ether\", \"bETH\", 18, MintingBridge)",
    )?;
    sc.setup(&d, bridge, MintingBridge::setTokenCall { token_: token }, "MintingBridge.setToken(bETH)")?;
    Ok((bridge, token))
}

/// `MintingBridge.receiveMessage(message, index, signature)` for the inbound
/// message `abi.encode(uint32 1, uint32 2, uint64 nonce, recipient, amount)`,
/// signed (EIP-191 over keccak256(message)) by `validator`, the bridge's
/// validator number `index`; benign, sent by `from`.
pub(crate) fn mint_with_signature(
    sc: &mut Sc,
    from: &Actor,
    bridge: Address,
    (validator, index): (&Actor, u8),
    nonce: u64,
    recipient: Address,
    amount: U256,
) -> Result<(), CorpusError> {
    let message = (1u32, 2u32, nonce, recipient, amount).abi_encode_params();
    let signature = validator.personal_sign(keccak256(&message))?;
    let note = format!(
        "MintingBridge.receiveMessage(message{nonce} = ({}, {}), {index}, {} signature) - mint bETH for a message from \
         the remote chain",
        sc.nm(recipient),
        amt(amount),
        validator.role
    );
    sc.benign(
        from,
        bridge,
        MintingBridge::receiveMessageCall {
            message: message.into(),
            validatorIndex: index,
            signature: signature.into(),
        },
        &note,
    )?;
    Ok(())
}
