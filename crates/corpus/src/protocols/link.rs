//! Library linking for Aave's `Pool` and `PoolConfigurator`: their creation
//! code as shipped has `__$…$__` placeholders where the libraries'
//! addresses go; the artifact's `linkReferences` say where. The world
//! deploys each library, then patches the placeholders with its address.

use std::collections::BTreeMap;

use alloy_primitives::{hex, Address};
use serde::Deserialize;

use crate::CorpusError;

/// `Pool`'s artifact.
pub(crate) const POOL: &str = include_str!("../../protocols/artifacts/aave-core-v3/Pool.json");
/// `PoolConfigurator`'s artifact.
pub(crate) const POOL_CONFIGURATOR: &str = include_str!("../../protocols/artifacts/aave-core-v3/PoolConfigurator.json");

/// The libraries, in an order where each one's own libraries come before it
/// (`FlashLoanLogic` links `BorrowLogic`).
pub(crate) const POOL_LIBRARIES: [&str; 8] = [
    "SupplyLogic",
    "BorrowLogic",
    "LiquidationLogic",
    "EModeLogic",
    "BridgeLogic",
    "PoolLogic",
    "FlashLoanLogic",
    "ConfiguratorLogic",
];

fn library_artifact(name: &str) -> Option<&'static str> {
    Some(match name {
        "SupplyLogic" => include_str!("../../protocols/artifacts/aave-core-v3/SupplyLogic.json"),
        "BorrowLogic" => include_str!("../../protocols/artifacts/aave-core-v3/BorrowLogic.json"),
        "LiquidationLogic" => include_str!("../../protocols/artifacts/aave-core-v3/LiquidationLogic.json"),
        "EModeLogic" => include_str!("../../protocols/artifacts/aave-core-v3/EModeLogic.json"),
        "BridgeLogic" => include_str!("../../protocols/artifacts/aave-core-v3/BridgeLogic.json"),
        "PoolLogic" => include_str!("../../protocols/artifacts/aave-core-v3/PoolLogic.json"),
        "FlashLoanLogic" => include_str!("../../protocols/artifacts/aave-core-v3/FlashLoanLogic.json"),
        "ConfiguratorLogic" => include_str!("../../protocols/artifacts/aave-core-v3/ConfiguratorLogic.json"),
        _ => return None,
    })
}

#[derive(Deserialize)]
struct Artifact {
    #[serde(rename = "contractName")]
    name: String,
    bytecode: String,
    #[serde(rename = "linkReferences")]
    links: BTreeMap<String, BTreeMap<String, Vec<Offset>>>,
}

#[derive(Deserialize)]
struct Offset {
    start: usize,
    length: usize,
}

fn bad(what: String) -> CorpusError {
    CorpusError::InvalidArgument(format!("artifact: {what}"))
}

/// The creation code of `artifact` with every library placeholder replaced
/// by the library's address from `libraries` (by library name).
pub(crate) fn linked_code(artifact: &str, libraries: &BTreeMap<String, Address>) -> Result<Vec<u8>, CorpusError> {
    let a: Artifact = serde_json::from_str(artifact).map_err(|e| bad(e.to_string()))?;
    let mut text = a.bytecode.trim_start_matches("0x").to_owned();
    for libs in a.links.values() {
        for (lib, offsets) in libs {
            let address = libraries.get(lib).ok_or_else(|| bad(format!("{} links {lib}, not deployed", a.name)))?;
            let hex_address = hex::encode(address.as_slice());
            for o in offsets {
                let range = 2 * o.start..2 * (o.start + o.length);
                if o.length != 20 || text.get(range.clone()).is_none_or(|p| !p.starts_with("__$")) {
                    return Err(bad(format!("{}: no placeholder of {lib} at {}", a.name, o.start)));
                }
                text.replace_range(range, &hex_address);
            }
        }
    }
    hex::decode(&text).map_err(|e| bad(format!("{}: {e}", a.name)))
}

/// A library's creation code, itself linked.
pub(crate) fn library_code(name: &str, libraries: &BTreeMap<String, Address>) -> Result<Vec<u8>, CorpusError> {
    linked_code(library_artifact(name).ok_or_else(|| bad(format!("unknown library {name}")))?, libraries)
}
