//! The testnet's settlement chain: a second devnet (`--admission open`)
//! holding Vigil's contracts. On first start the contracts are deployed
//! from development account 0 (governance and arbiter), every node is
//! registered with 32 ether from its own operator account, the next epoch's
//! snapshot is taken, and its committee is fetched from the registry into
//! `DATA/committee.json`, the file the devnet, the nodes and the gate load.
//! `DATA/contracts.json` records the addresses; a second `up` reuses them.

use std::path::Path;

use alloy_primitives::U256;
use anyhow::Context;
use vigil_contracts::onchain::Params;
use vigil_settlement::{
    deploy::{deploy, CourtParams, Deployment},
    registry::Registry,
    rpc::Client,
    wallet::Wallet,
};
use vigil_types::Threshold;

use super::{layout::settlement_account, Layout};
use crate::cli::PasswordArgs;

/// Settlement-chain blocks per epoch. The settlement devnet seals a block
/// only when it has transactions, so epochs advance with registry traffic.
pub const EPOCH_LENGTH: u64 = 4;
/// The court's window, in blocks.
pub const DISPUTE_WINDOW: u64 = 1_000;

/// Deploys and registers on first use (then writes `contracts.json` and
/// `committee.json`); afterwards reads `contracts.json`.
pub async fn prepare(layout: &Layout) -> anyhow::Result<Deployment> {
    let path = layout.root.join("contracts.json");
    if path.exists() {
        return Ok(Deployment::load(&path)?);
    }
    let client = Client::new(layout.settlement_url());
    let (governance, _) = settlement_account(0);
    let wallet = Wallet::connect(client.clone(), governance).await?;
    let params = Params {
        min_stake: ether(1),
        chain_id: layout.chain_id,
        reward_bps: 1_000,
        threshold: Threshold::TWO_THIRDS,
        epoch_length: EPOCH_LENGTH,
        unbonding_period: 2 * DISPUTE_WINDOW,
        dispute_window: DISPUTE_WINDOW,
        ruleset: vigil_detect::RULESET_VERSION.into(),
    };
    let court =
        CourtParams { arbiter: wallet.address(), treasury: wallet.address(), min_bond: ether(1) / U256::from(10) };
    let deployment = deploy(&wallet, &params, &court).await.context("deploying the contracts")?;
    let registry = Registry::new(client.clone(), deployment.registry);
    let password = PasswordArgs { password_file: Some(layout.root.join("password")) };
    let mut last_block = 0;
    for i in 0..layout.nodes {
        let (operator, _) = settlement_account(i + 1);
        let operator = Wallet::connect(client.clone(), operator).await?;
        let keys = layout.root.join(format!("node{i}"));
        let done = crate::cmd::settlement::register_node(&registry, &operator, &keys, &password, ether(32))
            .await
            .with_context(|| format!("registering node {i}"))?;
        last_block = last_block.max(done["block"].as_u64().unwrap_or_default());
    }
    // Into the epoch after the registrations, and take its snapshot: each
    // snapshot() is a transaction, so a block, so the chain moves on.
    let epoch = loop {
        let (epoch, _) = registry.snapshot(&wallet).await.context("taking the committee's snapshot")?;
        if epoch > last_block / EPOCH_LENGTH {
            break epoch;
        }
    };
    let committee = registry.committee(epoch, deployment.deployed_at_block).await?;
    write(&layout.root.join("committee.json"), &serde_json::to_string_pretty(&committee)?)?;
    write(&path, &serde_json::to_string_pretty(&deployment)?)?;
    Ok(deployment)
}

fn ether(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18))
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, format!("{text}\n")).with_context(|| format!("writing {}", path.display()))
}
