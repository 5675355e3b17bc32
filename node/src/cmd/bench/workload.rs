//! The benchmark's traffic: ETH transfers, token transfers and swaps on
//! the demo world's AMM (the WETH/GEM pair behind its `SwapRouter`), sent
//! from the testnet's benchmark accounts.
//!
//! ```text
//! prepare: the demo world's first setup transactions (deploy WETH, tokens,
//!          factory, router; add WETH/GEM liquidity), through the gate,
//!          each waited for; skipped when the router already has code
//! sender's first transaction:  swap ETH -> GEM (so it holds GEM)
//! then, in turn:               ETH transfer, GEM transfer, swap
//! ```

use alloy_primitives::{Address, U256};
use alloy_sol_types::SolCall;
use anyhow::Context;
use serde_json::Value;
use std::time::Duration;
use vigil_settlement::rpc::Client;

use crate::cmd::testnet::{call_tx, WORLD};

alloy_sol_types::sol! {
    function swapExactETHForTokens(uint256 amountOutMin, address[] path, address to) external payable returns (uint256[] amounts);
    function transfer(address to, uint256 amount) external returns (bool);
}

/// The note of the last world transaction the benchmark needs.
const LAST_SETUP_NOTE: &str = "deployer: SwapRouter.addLiquidity(WETH, GEM";

/// What one benchmark transaction does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// 1 wei to a sink address.
    Transfer,
    /// A little GEM to a sink address.
    TokenTransfer,
    /// 0.001 ETH swapped for GEM through the router.
    Swap,
}

impl Kind {
    /// Every kind, in report order.
    pub const ALL: [Kind; 3] = [Kind::Transfer, Kind::TokenTransfer, Kind::Swap];

    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Transfer => "eth_transfer",
            Kind::TokenTransfer => "token_transfer",
            Kind::Swap => "swap",
        }
    }

    /// The kind of a sender's transaction with `nonce` (the sender's
    /// `index` staggers the rotation across senders).
    pub fn of(index: usize, nonce: u64) -> Self {
        if nonce == 0 {
            return Kind::Swap;
        }
        Self::ALL[(index + nonce as usize) % Self::ALL.len()]
    }
}

/// The contracts the benchmark trades on.
#[derive(Debug, Clone, Copy)]
pub struct Market {
    weth: Address,
    gem: Address,
    router: Address,
}

impl Market {
    /// Deploys the part of the demo world the benchmark trades on (sent to
    /// `gate`, waited for on `devnet`), unless it is there already.
    pub async fn prepare(devnet: &Client, gate: &Client) -> anyhow::Result<Self> {
        let world: Value = serde_json::from_str(WORLD)?;
        let txs = world["txs"].as_array().context("world txs")?;
        let last = txs
            .iter()
            .position(|t| t["note"].as_str().is_some_and(|n| n.starts_with(LAST_SETUP_NOTE)))
            .context("the demo world has no WETH/GEM liquidity")?;
        let mut setup = Vec::with_capacity(last + 1);
        let (mut weth, mut gem, mut router) = (None, None, None);
        for t in &txs[..=last] {
            let raw = alloy_primitives::hex::decode(t["raw"].as_str().context("world tx raw")?)?;
            let tx = vigil_types::Transaction::decode(&raw)?;
            let created = tx.sender().create(tx.nonce());
            match t["note"].as_str().unwrap_or("") {
                "deployer: deploy WETH()" => weth = Some(created),
                n if n.starts_with("deployer: deploy Token(\"Gem\"") => gem = Some(created),
                n if n.starts_with("deployer: deploy SwapRouter(") => router = Some(created),
                _ => {}
            }
            setup.push(raw);
        }
        let market = Self {
            weth: weth.context("no WETH deployment in the world")?,
            gem: gem.context("no GEM deployment in the world")?,
            router: router.context("no SwapRouter deployment in the world")?,
        };
        if !devnet.code(market.router).await?.is_empty() {
            return Ok(market);
        }
        eprintln!("vigil bench: deploying the AMM the benchmark trades on ({} transactions)", setup.len());
        for raw in &setup {
            let hash = gate.send_raw(raw).await?;
            let receipt = devnet.wait_receipt(hash, Duration::from_secs(60), Duration::from_millis(25)).await?;
            anyhow::ensure!(receipt.succeeded(), "setup transaction {hash} failed");
        }
        Ok(market)
    }

    /// A signed transaction of `kind` from `signer` with `nonce`.
    pub fn transaction(
        &self,
        kind: Kind,
        signer: &alloy_signer_local::PrivateKeySigner,
        chain_id: u64,
        nonce: u64,
        sink: Address,
    ) -> anyhow::Result<Vec<u8>> {
        match kind {
            Kind::Transfer => call_tx(signer, chain_id, nonce, sink, U256::from(1), Vec::new(), 21_000),
            Kind::TokenTransfer => {
                let input = transferCall { to: sink, amount: U256::from(1_000_000_000_000u64) }.abi_encode();
                call_tx(signer, chain_id, nonce, self.gem, U256::ZERO, input, 80_000)
            }
            Kind::Swap => {
                let input = swapExactETHForTokensCall {
                    amountOutMin: U256::from(1),
                    path: vec![self.weth, self.gem],
                    to: signer.address(),
                }
                .abi_encode();
                let value = U256::from(1_000_000_000_000_000u64);
                call_tx(signer, chain_id, nonce, self.router, value, input, 250_000)
            }
        }
    }
}
