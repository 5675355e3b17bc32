//! Reading the JSON files the commands take, with errors that name the file.

use anyhow::Context;
use std::path::Path;
use vigil_consensus::VerifiedCommittee;
use vigil_types::Committee;

/// Largest JSON input read (a 4096-member committee is about 1.5 MB).
const MAX_JSON_FILE: u64 = 16 * 1024 * 1024;

/// Reads a file (or stdin for `-`) as text, bounded in size.
pub fn read_text(path: &Path) -> anyhow::Result<String> {
    use std::io::Read;
    let mut text = String::new();
    if path == Path::new("-") {
        std::io::stdin().take(MAX_JSON_FILE).read_to_string(&mut text).context("reading stdin")?;
    } else {
        let f = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        f.take(MAX_JSON_FILE + 1)
            .read_to_string(&mut text)
            .with_context(|| format!("cannot read {}", path.display()))?;
        anyhow::ensure!(text.len() as u64 <= MAX_JSON_FILE, "{}: larger than {MAX_JSON_FILE} bytes", path.display());
    }
    Ok(text)
}

/// Parses a JSON file into `T`.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> anyhow::Result<T> {
    let text = read_text(path)?;
    serde_json::from_str(&text).with_context(|| format!("{}: not a valid {what}", path.display()))
}

/// Reads a committee and checks it fully (structure, keys, proofs of possession).
pub fn read_committee(path: &Path) -> anyhow::Result<VerifiedCommittee> {
    let committee: Committee = read_json(path, "committee (DESIGN §4 JSON)")?;
    VerifiedCommittee::new(committee).with_context(|| format!("{}: invalid committee", path.display()))
}

/// Parses a `0x` transaction hash.
pub fn parse_tx_hash(s: &str) -> anyhow::Result<vigil_types::B256> {
    let bytes = vigil_types::bytes::parse_hex_fixed::<32>(s).map_err(|e| anyhow::anyhow!("--tx-hash: {e}"))?;
    Ok(vigil_types::B256::from(bytes))
}
