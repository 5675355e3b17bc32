//! The `QuarantineCourt` over JSON-RPC: opening a dispute on a quarantined
//! transaction, the arbiter's ruling, a dispute's state, and the
//! `Released(txHash)` events the gate acts on.

use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::SolEvent;
use vigil_contracts::QuarantineCourt as Q;

use crate::{rpc::Client, wallet::Wallet, SettlementError};

/// A `QuarantineCourt` at an address.
#[derive(Debug, Clone)]
pub struct Court {
    client: Client,
    address: Address,
}

/// A dispute just opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// Its id.
    pub id: u64,
    /// The last block at which the arbiter may rule.
    pub deadline: u64,
    /// The opening transaction.
    pub tx: B256,
}

/// One dispute as the court stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisputeInfo {
    /// Its id.
    pub id: u64,
    /// The disputed transaction.
    pub tx_hash: B256,
    /// The evidence reference.
    pub evidence: B256,
    /// Who opened it.
    pub opener: Address,
    /// The bond, in wei.
    pub bond: U256,
    /// Block it was opened in.
    pub opened_at: u64,
    /// Last block a ruling is accepted.
    pub deadline: u64,
    /// `open`, `released`, `upheld` or `expired`.
    pub state: &'static str,
}

/// A `Released(txHash)` event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Release {
    /// The released transaction.
    pub tx_hash: B256,
    /// The block of the ruling.
    pub block: u64,
}

fn state_name(state: u8) -> &'static str {
    match state {
        0 => "none",
        1 => "open",
        2 => "released",
        3 => "upheld",
        4 => "expired",
        _ => "unknown",
    }
}

impl Court {
    /// The court at `address`, reached through `client`.
    pub fn new(client: Client, address: Address) -> Self {
        Self { client, address }
    }

    /// Its address.
    pub fn address(&self) -> Address {
        self.address
    }

    /// The endpoint.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Opens a dispute on `tx_hash` with `bond` wei and the evidence
    /// reference `evidence` (the quarantine record's hash or content id).
    pub async fn open(
        &self,
        wallet: &Wallet,
        tx_hash: B256,
        evidence: B256,
        bond: U256,
    ) -> Result<Opened, SettlementError> {
        let receipt =
            wallet.transact(self.address, bond, &Q::openCall { txHash: tx_hash, evidenceRef: evidence }).await?;
        let opened = receipt
            .logs
            .iter()
            .filter(|l| l.address == self.address)
            .find_map(|l| Q::DisputeOpened::decode_raw_log(l.topics.iter().copied(), &l.data).ok())
            .ok_or_else(|| {
                SettlementError::Invalid(format!(
                    "dispute {} opened but logged no DisputeOpened",
                    receipt.transaction_hash
                ))
            })?;
        Ok(Opened {
            id: u64::try_from(opened.id).unwrap_or(u64::MAX),
            deadline: opened.deadline,
            tx: receipt.transaction_hash,
        })
    }

    /// The arbiter's ruling on dispute `id`: `release` admits the
    /// transaction, otherwise the quarantine is upheld.
    pub async fn rule(&self, wallet: &Wallet, id: u64, release: bool) -> Result<B256, SettlementError> {
        let receipt = wallet.transact(self.address, U256::ZERO, &Q::ruleCall { id: U256::from(id), release }).await?;
        Ok(receipt.transaction_hash)
    }

    /// Dispute `id`.
    pub async fn dispute(&self, id: u64) -> Result<DisputeInfo, SettlementError> {
        let d = self.client.view(self.address, &Q::disputeAtCall { id: U256::from(id) }).await?;
        Ok(DisputeInfo {
            id,
            tx_hash: d.txHash,
            evidence: d.evidenceRef,
            opener: d.opener,
            bond: d.bond,
            opened_at: d.openedAt,
            deadline: d.deadline,
            state: state_name(d.state),
        })
    }

    /// The latest dispute on `tx_hash`, if any (found through its
    /// `DisputeOpened` logs from `from_block`).
    pub async fn latest_dispute(&self, tx_hash: B256, from_block: u64) -> Result<Option<DisputeInfo>, SettlementError> {
        let head = self.client.block_number().await?;
        let logs = self
            .client
            .logs_topics(self.address, &[Some(Q::DisputeOpened::SIGNATURE_HASH), None, Some(tx_hash)], from_block, head)
            .await?;
        let Some(last) = logs.last() else { return Ok(None) };
        let opened = Q::DisputeOpened::decode_raw_log(last.topics.iter().copied(), &last.data)
            .map_err(|e| SettlementError::Decode { what: "DisputeOpened log".into(), reason: e.to_string() })?;
        self.dispute(u64::try_from(opened.id).unwrap_or(u64::MAX)).await.map(Some)
    }

    /// `Released` events in blocks `from..=to`, in chain order.
    pub async fn releases(&self, from: u64, to: u64) -> Result<Vec<Release>, SettlementError> {
        let logs = self.client.logs(self.address, Q::Released::SIGNATURE_HASH, None, from, to).await?;
        logs.iter()
            .map(|l| {
                let e = Q::Released::decode_raw_log(l.topics.iter().copied(), &l.data).map_err(|e| {
                    SettlementError::Decode {
                        what: format!("Released log in transaction {}", l.transaction_hash),
                        reason: e.to_string(),
                    }
                })?;
                Ok(Release { tx_hash: e.txHash, block: l.block_number })
            })
            .collect()
    }
}
