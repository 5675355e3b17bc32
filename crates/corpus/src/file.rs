//! Writing a fixture as `vigil-fixture/1` JSON, byte for byte the same on
//! every run: fields in the order FORMAT.md shows them, `alloc` sorted by
//! address, quantities as `0x` hex.

use std::collections::BTreeMap;

use alloy_primitives::hex;
use serde::Serialize;
use vigil_fixture::Genesis;

use crate::{chain::TxRecord, CorpusError};

#[derive(Serialize)]
struct FileJson<'a> {
    format: &'static str,
    name: &'a str,
    description: &'a str,
    chain_id: u64,
    fork: &'static str,
    genesis: GenesisJson,
    alloc: BTreeMap<String, AccountJson>,
    txs: Vec<TxJson<'a>>,
}

#[derive(Serialize)]
struct GenesisJson {
    timestamp: u64,
    gas_limit: u64,
    coinbase: String,
    base_fee: u64,
}

#[derive(Serialize)]
struct AccountJson {
    balance: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    storage: BTreeMap<String, String>,
}

#[derive(Serialize)]
struct TxJson<'a> {
    raw: String,
    label: &'static str,
    note: &'a str,
}

/// The text of a fixture file.
pub(crate) fn to_json(
    name: &str,
    description: &str,
    genesis: &Genesis,
    txs: &[TxRecord],
) -> Result<String, CorpusError> {
    let alloc = genesis
        .alloc
        .iter()
        .map(|(address, account)| {
            let json = AccountJson {
                balance: format!("{:#x}", account.balance),
                nonce: (account.nonce != 0).then_some(account.nonce),
                code: (!account.code.is_empty()).then(|| hex::encode_prefixed(&account.code)),
                storage: account.storage.iter().map(|(k, v)| (format!("{k:#066x}"), format!("{v:#066x}"))).collect(),
            };
            (format!("{address:#x}"), json)
        })
        .collect();
    let file = FileJson {
        format: vigil_fixture::FORMAT,
        name,
        description,
        chain_id: genesis.chain_id,
        fork: genesis.fork.as_str(),
        genesis: GenesisJson {
            timestamp: genesis.block.timestamp,
            gas_limit: genesis.block.gas_limit,
            coinbase: format!("{:#x}", genesis.block.coinbase),
            base_fee: genesis.block.base_fee,
        },
        alloc,
        txs: txs
            .iter()
            .map(|t| TxJson { raw: hex::encode_prefixed(&t.raw), label: t.label.as_str(), note: &t.note })
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&file).map_err(|e| CorpusError::Json(e.to_string()))?;
    text.push('\n');
    Ok(text)
}
