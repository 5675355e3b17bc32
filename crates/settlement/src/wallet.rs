//! Transactions from a local secp256k1 key: nonce, fees and gas asked of
//! the chain, an EIP-1559 transaction signed here (the key never leaves the
//! process), sent, and its receipt awaited. A transaction that would revert
//! is refused before it is sent, with the contract's named error.

use std::{path::Path, time::Duration};

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, TxKind, B256, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use tracing::info;

use crate::{
    revert::decode_revert,
    rpc::{CallOutcome, Client, Receipt},
    SettlementError,
};

/// Reads a secp256k1 private key file: 32 bytes as hex (64 digits, `0x`
/// optional), surrounding whitespace ignored.
pub fn load_key(path: &Path) -> Result<PrivateKeySigner, SettlementError> {
    let err = |reason: String| SettlementError::KeyFile { path: path.display().to_string(), reason };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    let hex = text.trim();
    let hex = hex.strip_prefix("0x").unwrap_or(hex);
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(err("expected a private key: 64 hex digits (32 bytes), optionally 0x-prefixed".into()));
    }
    let bytes: B256 = hex.parse().map_err(|_| err("not hex".into()))?;
    PrivateKeySigner::from_bytes(&bytes).map_err(|e| err(format!("not a valid secp256k1 key: {e}")))
}

/// How a [`Wallet`] waits for inclusion.
#[derive(Debug, Clone, Copy)]
pub struct Inclusion {
    /// Give up waiting for the receipt after this long.
    pub timeout: Duration,
    /// Ask for the receipt this often.
    pub poll: Duration,
}

impl Default for Inclusion {
    fn default() -> Self {
        Self { timeout: Duration::from_secs(60), poll: Duration::from_millis(200) }
    }
}

/// An account on the settlement chain that signs its own transactions.
#[derive(Debug, Clone)]
pub struct Wallet {
    client: Client,
    signer: PrivateKeySigner,
    chain_id: u64,
    inclusion: Inclusion,
}

impl Wallet {
    /// A wallet of `signer` on the chain `client` serves (its `eth_chainId`
    /// is asked once and put in every transaction).
    pub async fn connect(client: Client, signer: PrivateKeySigner) -> Result<Self, SettlementError> {
        let chain_id = client.chain_id().await?;
        Ok(Self { client, signer, chain_id, inclusion: Inclusion::default() })
    }

    /// Waits for inclusion as `inclusion` says.
    pub fn with_inclusion(mut self, inclusion: Inclusion) -> Self {
        self.inclusion = inclusion;
        self
    }

    /// The account's address.
    pub fn address(&self) -> Address {
        self.signer.address()
    }

    /// The chain it sends to.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The endpoint.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Sends a transaction (`to: None` creates a contract) and waits for its
    /// receipt. `what` names the operation in errors. Refused before sending
    /// when `eth_estimateGas` says it reverts; a transaction that reverts
    /// once included is an error too.
    pub async fn send(
        &self,
        what: &str,
        to: Option<Address>,
        value: U256,
        data: Vec<u8>,
    ) -> Result<Receipt, SettlementError> {
        let from = self.address();
        let estimate = match self.client.estimate_gas(from, to, value, &data).await? {
            CallOutcome::Ok(gas) => gas,
            CallOutcome::Reverted(data) => {
                return Err(SettlementError::Reverted { what: what.into(), reason: decode_revert(&data) })
            }
        };
        // Headroom: state can change between the estimate and inclusion (a
        // registry write that lands first in a new epoch pays for the
        // epoch's snapshot).
        let gas_limit = estimate.saturating_add(estimate / 2).saturating_add(50_000);
        let tip = self.client.max_priority_fee().await?;
        let price = self.client.gas_price().await?;
        let nonce = self.client.next_nonce(from).await?;
        let tx = TxEip1559 {
            chain_id: self.chain_id,
            nonce,
            gas_limit,
            max_fee_per_gas: price.saturating_mul(2).saturating_add(tip),
            max_priority_fee_per_gas: tip,
            to: to.map_or(TxKind::Create, TxKind::Call),
            value,
            input: data.clone().into(),
            ..Default::default()
        };
        let signature = self
            .signer
            .sign_hash_sync(&tx.signature_hash())
            .map_err(|e| SettlementError::Invalid(format!("{what}: signing failed: {e}")))?;
        let envelope: TxEnvelope = tx.into_signed(signature).into();
        let hash = self.client.send_raw(&envelope.encoded_2718()).await?;
        info!(target: "vigil_settlement", %hash, %from, nonce, gas_limit, what, "transaction sent");
        let receipt = self.client.wait_receipt(hash, self.inclusion.timeout, self.inclusion.poll).await?;
        if !receipt.succeeded() {
            // Replay it as a call for the reason (best effort: state moved on).
            let reason = match (to, self.client.call(Some(from), to.unwrap_or_default(), value, &data).await) {
                (Some(_), Ok(CallOutcome::Reverted(d))) => decode_revert(&d),
                _ => format!("reverted in block {} after {} gas", receipt.block_number, receipt.gas_used),
            };
            return Err(SettlementError::Reverted { what: format!("{what} (transaction {hash})"), reason });
        }
        Ok(receipt)
    }

    /// Sends a contract call.
    pub async fn transact<C: alloy_sol_types::SolCall>(
        &self,
        to: Address,
        value: U256,
        call: &C,
    ) -> Result<Receipt, SettlementError> {
        let what = C::SIGNATURE.split('(').next().unwrap_or(C::SIGNATURE).to_string();
        self.send(&what, Some(to), value, call.abi_encode()).await
    }

    /// Deploys `code` (creation code with constructor arguments appended);
    /// the new contract's address.
    pub async fn deploy(&self, what: &str, code: Vec<u8>) -> Result<Address, SettlementError> {
        let receipt = self.send(what, None, U256::ZERO, code).await?;
        receipt.contract_address.ok_or_else(|| {
            SettlementError::Invalid(format!(
                "{what}: the receipt of {} names no created contract",
                receipt.transaction_hash
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_files_are_hex_or_a_clear_error() {
        let dir = std::env::temp_dir().join(format!("vigil-settlement-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good");
        std::fs::write(&good, "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80\n").unwrap();
        let want: Address = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266".parse().unwrap();
        assert_eq!(load_key(&good).unwrap().address(), want);
        let bad = dir.join("bad");
        std::fs::write(&bad, "hello").unwrap();
        let e = load_key(&bad).unwrap_err().to_string();
        assert!(e.contains("64 hex digits"), "{e}");
        let e = load_key(&dir.join("missing")).unwrap_err().to_string();
        assert!(e.starts_with("key file"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
