//! Deploying Vigil's contracts on a settlement chain, in the order the
//! registry expects (registry, then its slasher and verifier at the
//! addresses it was given, then the court), and the addresses file that
//! records where they are.

use std::path::Path;

use alloy_primitives::{Address, U256};
use serde::{Deserialize, Serialize};
use tracing::info;
use vigil_contracts::onchain::{court_code, registry_code, slasher_code, verifier_code, Params};

use crate::{wallet::Wallet, SettlementError};

/// The court's deployment parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourtParams {
    /// Who rules on disputes.
    pub arbiter: Address,
    /// Receives the bonds of upheld disputes.
    pub treasury: Address,
    /// Least bond, in wei.
    pub min_bond: U256,
}

/// Where the contracts are: the addresses file `vigil contracts deploy`
/// writes and the other commands read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deployment {
    /// The settlement chain's id (`eth_chainId` of the chain they live on).
    pub settlement_chain_id: u64,
    /// The chain whose transactions the committees screen.
    pub inspected_chain_id: u64,
    /// Who deployed them (the registry's and the court's governance).
    pub deployer: Address,
    /// Block of the first deployment transaction: where event scans start.
    pub deployed_at_block: u64,
    /// `InspectorRegistry`.
    pub registry: Address,
    /// `Slasher`.
    pub slasher: Address,
    /// `CertificateVerifier`.
    pub verifier: Address,
    /// `QuarantineCourt`.
    pub court: Address,
}

impl Deployment {
    /// Reads an addresses file.
    pub fn load(path: &Path) -> Result<Self, SettlementError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| SettlementError::Invalid(format!("addresses file {}: {e}", path.display())))?;
        serde_json::from_str(&text)
            .map_err(|e| SettlementError::Invalid(format!("addresses file {}: {e}", path.display())))
    }
}

/// Deploys registry, slasher, verifier and court from `wallet`'s account,
/// which becomes their governance. The registry's dispute window is the
/// court's window (`params.dispute_window`), so that its unbonding period
/// provably outlasts a dispute.
pub async fn deploy(wallet: &Wallet, params: &Params, court: &CourtParams) -> Result<Deployment, SettlementError> {
    let client = wallet.client();
    let deployer = wallet.address();
    let nonce = client.next_nonce(deployer).await?;
    let first_block = client.block_number().await?;
    let (slasher_at, verifier_at) = (deployer.create(nonce + 1), deployer.create(nonce + 2));
    let registry = wallet.deploy("deploying InspectorRegistry", registry_code(params, slasher_at, verifier_at)).await?;
    info!(target: "vigil_settlement", %registry, "InspectorRegistry deployed");
    let slasher = wallet.deploy("deploying Slasher", slasher_code(params, registry)).await?;
    let verifier = wallet.deploy("deploying CertificateVerifier", verifier_code(registry)).await?;
    if (slasher, verifier) != (slasher_at, verifier_at) {
        return Err(SettlementError::Invalid(format!(
            "slasher and verifier landed at {slasher}, {verifier}, not at {slasher_at}, {verifier_at} as the registry \
             was told: another transaction from {deployer} interleaved; deploy again from an account nothing else uses"
        )));
    }
    let court_at = wallet
        .deploy(
            "deploying QuarantineCourt",
            court_code(court.arbiter, court.treasury, court.min_bond, params.dispute_window),
        )
        .await?;
    info!(target: "vigil_settlement", %slasher, %verifier, court = %court_at, "contracts deployed");
    Ok(Deployment {
        settlement_chain_id: wallet.chain_id(),
        inspected_chain_id: params.chain_id,
        deployer,
        deployed_at_block: first_block,
        registry,
        slasher,
        verifier,
        court: court_at,
    })
}
