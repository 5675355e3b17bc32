//! The `InspectorRegistry` over JSON-RPC: registering a node's keys with
//! its stake, taking an epoch's snapshot, and reading an epoch's committee
//! in the DESIGN §4 form.
//!
//! ```text
//! committeeOf(epoch) ─> ruleset, total stake, operator indexes (committee order)
//! operatorAt(i)      ─> key, proof of possession, peer id
//! Registered / ToppedUp / Slashed / Withdrawn logs up to the epoch's SnapshotTaken log
//!                    ─> each member's stake when the snapshot was taken
//!                       (checked: they sum to the snapshot's total stake)
//! ```
//!
//! Stakes come from the event history because the registry keeps only
//! current stakes and the verifier keeps the snapshot's stakes in code it
//! does not expose (docs/decisions/0010-settlement-client.md).

use std::collections::HashMap;

use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::SolEvent;
use vigil_contracts::{onchain::register_call, InspectorRegistry as R};
use vigil_types::{Committee, Member, PublicKeyBytes, SignatureBytes, Stake, Threshold};

use crate::{
    rpc::{Client, RpcLog},
    wallet::Wallet,
    SettlementError,
};

/// An `InspectorRegistry` at an address.
#[derive(Debug, Clone)]
pub struct Registry {
    client: Client,
    address: Address,
}

/// What a successful registration did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// The operator index (registration order).
    pub index: u64,
    /// The account that owns the operator.
    pub owner: Address,
    /// The registration transaction.
    pub tx: B256,
    /// Its block.
    pub block: u64,
    /// The first epoch whose committee can include it.
    pub first_epoch: u64,
}

fn topic_of(n: u64) -> B256 {
    B256::from(U256::from(n))
}

impl Registry {
    /// The registry at `address`, reached through `client`.
    pub fn new(client: Client, address: Address) -> Self {
        Self { client, address }
    }

    /// Its address.
    pub fn address(&self) -> Address {
        self.address
    }

    /// The epoch of the settlement chain's latest block.
    pub async fn current_epoch(&self) -> Result<u64, SettlementError> {
        self.client.view(self.address, &R::currentEpochCall {}).await
    }

    /// Blocks per epoch.
    pub async fn epoch_length(&self) -> Result<u64, SettlementError> {
        self.client.view(self.address, &R::epochLengthCall {}).await
    }

    /// The chain whose transactions the committees screen.
    pub async fn inspected_chain_id(&self) -> Result<u64, SettlementError> {
        self.client.view(self.address, &R::chainIdCall {}).await
    }

    /// Registers `wallet`'s account as an operator with `stake` wei, the
    /// compressed BLS key, its proof of possession (checked on-chain) and
    /// the libp2p peer id.
    pub async fn register(
        &self,
        wallet: &Wallet,
        pubkey: &[u8; 48],
        pop: &[u8; 96],
        peer_id: &str,
        stake: U256,
    ) -> Result<Registration, SettlementError> {
        let call = register_call(pubkey, pop, peer_id).map_err(|e| {
            SettlementError::Invalid(format!("the key or proof of possession does not decompress: {e}"))
        })?;
        let receipt = wallet.transact(self.address, stake, &call).await?;
        let registered = receipt
            .logs
            .iter()
            .filter(|l| l.address == self.address)
            .find_map(|l| R::Registered::decode_raw_log(l.topics.iter().copied(), &l.data).ok())
            .ok_or_else(|| {
                SettlementError::Invalid(format!(
                    "registration {} succeeded but logged no Registered event",
                    receipt.transaction_hash
                ))
            })?;
        let epoch_length = self.epoch_length().await?;
        Ok(Registration {
            index: u64::try_from(registered.index).unwrap_or(u64::MAX),
            owner: registered.owner,
            tx: receipt.transaction_hash,
            block: receipt.block_number,
            first_epoch: receipt.block_number / epoch_length.max(1) + 1,
        })
    }

    /// Sends `snapshot()`: the current epoch's committee is recorded (and
    /// published to the verifier) unless it already was. Returns the epoch
    /// and whether this call took it.
    pub async fn snapshot(&self, wallet: &Wallet) -> Result<(u64, bool), SettlementError> {
        let receipt = wallet.transact(self.address, U256::ZERO, &R::snapshotCall {}).await?;
        let taken = receipt
            .logs
            .iter()
            .filter(|l| l.address == self.address)
            .find_map(|l| R::SnapshotTaken::decode_raw_log(l.topics.iter().copied(), &l.data).ok());
        let epoch_length = self.epoch_length().await?;
        match taken {
            Some(t) => Ok((t.epoch, true)),
            None => Ok((receipt.block_number / epoch_length.max(1), false)),
        }
    }

    /// The newest epoch whose snapshot was taken and is not empty (from
    /// the `SnapshotTaken` logs since `from_block`), if any.
    pub async fn latest_snapshot_epoch(&self, from_block: u64) -> Result<Option<u64>, SettlementError> {
        let head = self.client.block_number().await?;
        let logs = self.client.logs(self.address, R::SnapshotTaken::SIGNATURE_HASH, None, from_block, head).await?;
        let mut latest = None;
        for l in &logs {
            let e = R::SnapshotTaken::decode_raw_log(l.topics.iter().copied(), &l.data).map_err(|e| {
                SettlementError::Decode {
                    what: format!("SnapshotTaken log in {}", l.transaction_hash),
                    reason: e.to_string(),
                }
            })?;
            if e.size > U256::ZERO {
                latest = latest.max(Some(e.epoch));
            }
        }
        Ok(latest)
    }

    /// The committee of `epoch` as the registry's snapshot recorded it, in
    /// the DESIGN §4 form. `from_block` is where the registry's history
    /// starts (its deployment block; 0 scans from genesis).
    pub async fn committee(&self, epoch: u64, from_block: u64) -> Result<Committee, SettlementError> {
        let snap = match self.client.view(self.address, &R::committeeOfCall { epoch }).await {
            Ok(s) => s,
            Err(SettlementError::Reverted { reason, .. }) if reason.starts_with("NoSnapshot") => {
                let current = self.current_epoch().await?;
                let hint = if epoch == current {
                    "any registry write in the epoch (register, topUp, exit) takes it, or `vigil committee snapshot` \
                     (which sends snapshot())"
                } else if epoch > current {
                    "it has not begun yet"
                } else {
                    "nothing called the registry during that epoch, so it has no committee"
                };
                return Err(SettlementError::NoCommittee {
                    epoch,
                    reason: format!(
                        "epoch {epoch} has no snapshot in the registry at {} (current epoch {current}): {hint}",
                        self.address
                    ),
                });
            }
            Err(e) => return Err(e),
        };
        if snap.members.is_empty() {
            return Err(SettlementError::NoCommittee {
                epoch,
                reason: format!("the snapshot of epoch {epoch} is empty: no operator was active when it was taken"),
            });
        }
        let chain_id = self.client.view(self.address, &R::chainIdCall {}).await?;
        let num = self.client.view(self.address, &R::thresholdNumCall {}).await?;
        let den = self.client.view(self.address, &R::thresholdDenCall {}).await?;
        let stakes = self.snapshot_stakes(epoch, from_block).await?;

        let mut members = Vec::with_capacity(snap.members.len());
        let mut total = U256::ZERO;
        for (position, &op_index) in snap.members.iter().enumerate() {
            let op = self.client.view(self.address, &R::operatorAtCall { index: U256::from(op_index) }).await?;
            let bad = |what: &str| {
                SettlementError::Invalid(format!(
                    "operator {op_index} has a {what} of the wrong length in the registry"
                ))
            };
            let pubkey: [u8; 48] = op.pubkey.as_ref().try_into().map_err(|_| bad("public key"))?;
            let pop: [u8; 96] = op.pop.as_ref().try_into().map_err(|_| bad("proof of possession"))?;
            let stake = stakes.get(&u64::from(op_index)).copied().unwrap_or_default();
            total = total.saturating_add(stake);
            members.push(Member {
                index: u32::try_from(position).unwrap_or(u32::MAX),
                bls_pubkey: PublicKeyBytes(pubkey),
                pop: SignatureBytes(pop),
                stake: Stake(stake),
                peer_id: op.peerId,
            });
        }
        if total != snap.totalStake {
            return Err(SettlementError::Invalid(format!(
                "the members' stakes replayed from the registry's events from block {from_block} sum to {total}, \
                 the snapshot of epoch {epoch} says {}: the scan missed history (pass the registry's deployment \
                 block, or 0, as the first block)",
                snap.totalStake
            )));
        }
        let committee =
            Committee { chain_id, epoch, ruleset: snap.ruleset, threshold: Threshold { num, den }, members };
        committee
            .check()
            .map_err(|e| SettlementError::Invalid(format!("the registry's committee of epoch {epoch}: {e}")))?;
        Ok(committee)
    }

    /// Every operator's stake at the moment the snapshot of `epoch` was
    /// taken, replayed from the registry's events.
    async fn snapshot_stakes(&self, epoch: u64, from_block: u64) -> Result<HashMap<u64, U256>, SettlementError> {
        let epoch_length = self.epoch_length().await?;
        let head = self.client.block_number().await?;
        let first = epoch.saturating_mul(epoch_length).max(from_block);
        let last = epoch.saturating_add(1).saturating_mul(epoch_length).saturating_sub(1).min(head);
        let taken = self
            .client
            .logs(self.address, R::SnapshotTaken::SIGNATURE_HASH, Some(topic_of(epoch)), first, last)
            .await?;
        let at = taken.first().ok_or_else(|| {
            SettlementError::Invalid(format!(
                "the registry has a snapshot of epoch {epoch} but the node returned no SnapshotTaken log for it in \
                 blocks {first}..={last}"
            ))
        })?;
        let cut = (at.block_number, at.log_index);
        let mut history: Vec<RpcLog> = Vec::new();
        for topic in [
            R::Registered::SIGNATURE_HASH,
            R::ToppedUp::SIGNATURE_HASH,
            R::Slashed::SIGNATURE_HASH,
            R::Withdrawn::SIGNATURE_HASH,
        ] {
            let logs = self.client.logs(self.address, topic, None, from_block, at.block_number).await?;
            history.extend(logs.into_iter().filter(|l| (l.block_number, l.log_index) < cut));
        }
        history.sort_by_key(|l| (l.block_number, l.log_index));
        let mut stakes = HashMap::new();
        let decode = |l: &RpcLog, what: &str, e: alloy_sol_types::Error| SettlementError::Decode {
            what: format!("{what} log in transaction {}", l.transaction_hash),
            reason: e.to_string(),
        };
        for l in &history {
            let topics = l.topics.iter().copied();
            let (index, stake) = match l.topics.first().copied() {
                Some(t) if t == R::Registered::SIGNATURE_HASH => {
                    let e = R::Registered::decode_raw_log(topics, &l.data).map_err(|e| decode(l, "Registered", e))?;
                    (e.index, e.stake)
                }
                Some(t) if t == R::ToppedUp::SIGNATURE_HASH => {
                    let e = R::ToppedUp::decode_raw_log(topics, &l.data).map_err(|e| decode(l, "ToppedUp", e))?;
                    (e.index, e.stake)
                }
                Some(t) if t == R::Slashed::SIGNATURE_HASH => {
                    let e = R::Slashed::decode_raw_log(topics, &l.data).map_err(|e| decode(l, "Slashed", e))?;
                    (e.index, U256::ZERO)
                }
                _ => {
                    let e = R::Withdrawn::decode_raw_log(topics, &l.data).map_err(|e| decode(l, "Withdrawn", e))?;
                    (e.index, U256::ZERO)
                }
            };
            stakes.insert(u64::try_from(index).unwrap_or(u64::MAX), stake);
        }
        Ok(stakes)
    }
}
