//! From a decoded Vigil transaction to revm's transaction environment.

use alloy_consensus::TxEnvelope;
use alloy_primitives::TxKind;
use revm::{context::TxEnv, context_interface::either::Either};
use vigil_types::tx::Transaction;

use crate::SimError;

/// revm's [`TxEnv`] for a transaction of any type Vigil accepts.
///
/// | type | gas price field | priority fee | extra |
/// | --- | --- | --- | --- |
/// | legacy (0) | `gas_price` | none | chain id optional (pre-EIP-155) |
/// | EIP-2930 (1) | `gas_price` | none | access list |
/// | EIP-1559 (2) | `max_fee_per_gas` | `max_priority_fee_per_gas` | access list |
/// | EIP-7702 (4) | `max_fee_per_gas` | `max_priority_fee_per_gas` | access list, signed authorizations (revm recovers their authorities) |
///
/// The caller is the sender [`Transaction::decode`] recovered.
pub fn tx_env(tx: &Transaction) -> Result<TxEnv, SimError> {
    let caller = tx.sender();
    let env = match tx.envelope() {
        TxEnvelope::Legacy(signed) => {
            let t = signed.tx();
            TxEnv {
                tx_type: 0,
                caller,
                gas_limit: t.gas_limit,
                gas_price: t.gas_price,
                kind: t.to,
                value: t.value,
                data: t.input.clone(),
                nonce: t.nonce,
                chain_id: t.chain_id,
                gas_priority_fee: None,
                ..TxEnv::default()
            }
        }
        TxEnvelope::Eip2930(signed) => {
            let t = signed.tx();
            TxEnv {
                tx_type: 1,
                caller,
                gas_limit: t.gas_limit,
                gas_price: t.gas_price,
                kind: t.to,
                value: t.value,
                data: t.input.clone(),
                nonce: t.nonce,
                chain_id: Some(t.chain_id),
                access_list: t.access_list.clone(),
                gas_priority_fee: None,
                ..TxEnv::default()
            }
        }
        TxEnvelope::Eip1559(signed) => {
            let t = signed.tx();
            TxEnv {
                tx_type: 2,
                caller,
                gas_limit: t.gas_limit,
                gas_price: t.max_fee_per_gas,
                kind: t.to,
                value: t.value,
                data: t.input.clone(),
                nonce: t.nonce,
                chain_id: Some(t.chain_id),
                access_list: t.access_list.clone(),
                gas_priority_fee: Some(t.max_priority_fee_per_gas),
                ..TxEnv::default()
            }
        }
        TxEnvelope::Eip7702(signed) => {
            let t = signed.tx();
            TxEnv {
                tx_type: 4,
                caller,
                gas_limit: t.gas_limit,
                gas_price: t.max_fee_per_gas,
                kind: TxKind::Call(t.to),
                value: t.value,
                data: t.input.clone(),
                nonce: t.nonce,
                chain_id: Some(t.chain_id),
                access_list: t.access_list.clone(),
                gas_priority_fee: Some(t.max_priority_fee_per_gas),
                authorization_list: t.authorization_list.iter().cloned().map(Either::Left).collect(),
                ..TxEnv::default()
            }
        }
        TxEnvelope::Eip4844(_) => return Err(SimError::UnsupportedTxType(3)),
    };
    Ok(env)
}
