//! The Ethereum BLS test suite, run in full. Every `.json` file under
//! `tests/vectors/bls12-381` must be handled by a runner below; a file in a
//! folder no runner reads fails the test.

use serde_json::Value;
use std::path::{Path, PathBuf};
use vigil_crypto::{batch_verify, hash::hash_to_g2, PublicKey, SecretKey, Signature, SignatureSet};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/bls12-381")
}

fn hex_bytes(v: &Value) -> Vec<u8> {
    let s = v.as_str().expect("hex string");
    hex::decode(s.trim_start_matches("0x")).expect("valid hex in vector")
}

fn pk(v: &Value) -> Option<PublicKey> {
    PublicKey::from_bytes(&hex_bytes(v)).ok()
}

fn sig(v: &Value) -> Option<Signature> {
    Signature::from_bytes(&hex_bytes(v)).ok()
}

fn pks(v: &Value) -> Option<Vec<PublicKey>> {
    v.as_array().expect("array").iter().map(pk).collect()
}

/// Runs one case; returns `Err` with a message when our output differs.
fn run_case(kind: &str, input: &Value, output: &Value) -> Result<(), String> {
    let got: Value = match kind {
        "sign" => match SecretKey::from_bytes(&hex_bytes(&input["privkey"])) {
            Ok(sk) => Value::String(sk.sign(&hex_bytes(&input["message"])).to_bytes().to_hex()),
            Err(_) => Value::Null,
        },
        "verify" => {
            let ok = match (pk(&input["pubkey"]), sig(&input["signature"])) {
                (Some(p), Some(s)) => s.verify(&p, &hex_bytes(&input["message"])),
                _ => false,
            };
            Value::Bool(ok)
        }
        "aggregate" => {
            let sigs: Option<Vec<Signature>> = input.as_array().expect("array").iter().map(sig).collect();
            match sigs.and_then(|s| Signature::aggregate(&s)) {
                Some(agg) => Value::String(agg.to_bytes().to_hex()),
                None => Value::Null,
            }
        }
        "fast_aggregate_verify" => {
            let ok = match (pks(&input["pubkeys"]), sig(&input["signature"])) {
                (Some(p), Some(s)) => s.fast_aggregate_verify(&p, &hex_bytes(&input["message"])),
                _ => false,
            };
            Value::Bool(ok)
        }
        "aggregate_verify" => {
            let msgs: Vec<Vec<u8>> = input["messages"].as_array().expect("array").iter().map(hex_bytes).collect();
            let refs: Vec<&[u8]> = msgs.iter().map(Vec::as_slice).collect();
            let ok = match (pks(&input["pubkeys"]), sig(&input["signature"])) {
                (Some(p), Some(s)) => s.aggregate_verify(&p, &refs),
                _ => false,
            };
            Value::Bool(ok)
        }
        "batch_verify" => {
            let msgs: Vec<Vec<u8>> = input["messages"].as_array().expect("array").iter().map(hex_bytes).collect();
            let sigs: Option<Vec<Signature>> = input["signatures"].as_array().expect("array").iter().map(sig).collect();
            let ok = match (pks(&input["pubkeys"]), sigs) {
                (Some(p), Some(s)) if p.len() == s.len() && p.len() == msgs.len() => {
                    let sets: Vec<SignatureSet<'_>> = (0..p.len())
                        .map(|i| SignatureSet { public_key: &p[i], message: &msgs[i], signature: &s[i] })
                        .collect();
                    batch_verify(&sets)
                }
                _ => false,
            };
            Value::Bool(ok)
        }
        "hash_to_G2" => {
            let msg = input["msg"].as_str().expect("msg");
            let dst = b"QUUX-V01-CS02-with-BLS12381G2_XMD:SHA-256_SSWU_RO_";
            let [x0, x1, y0, y1] = hash_to_g2(msg.as_bytes(), dst);
            serde_json::json!({
                "x": format!("0x{},0x{}", hex::encode(x0), hex::encode(x1)),
                "y": format!("0x{},0x{}", hex::encode(y0), hex::encode(y1)),
            })
        }
        "deserialization_G1" => Value::Bool(vigil_crypto::is_valid_g1_point(&hex_bytes(&input["pubkey"]))),
        "deserialization_G2" => Value::Bool(vigil_crypto::is_valid_g2_point(&hex_bytes(&input["signature"]))),
        other => return Err(format!("no runner for folder {other:?}")),
    };
    if &got == output {
        Ok(())
    } else {
        Err(format!("expected {output}, got {got}"))
    }
}

/// Files that are documentation, not vectors.
const DOCS: &[&str] = &["SOURCE.md"];

#[test]
fn ethereum_bls_vectors_all_pass_and_all_are_read() {
    let mut failures = Vec::new();
    let mut unread = Vec::new();
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    let mut stack = vec![root()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("vector folder exists") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
            if dir == root() && DOCS.contains(&name.as_str()) {
                continue;
            }
            let kind = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
            if dir.parent() != Some(root().as_path()) || !name.ends_with(".json") {
                unread.push(path.display().to_string());
                continue;
            }
            let case: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("read vector"))
                .unwrap_or_else(|e| panic!("{}: not JSON: {e}", path.display()));
            match run_case(&kind, &case["input"], &case["output"]) {
                Ok(()) => *counts.entry(kind).or_default() += 1,
                Err(e) if e.starts_with("no runner") => unread.push(path.display().to_string()),
                Err(e) => failures.push(format!("{}: {e}", path.display())),
            }
        }
    }
    assert!(unread.is_empty(), "vector files no runner read: {unread:#?}");
    assert!(failures.is_empty(), "failing vectors: {failures:#?}");
    // Every operation of the suite is present and exercised.
    for kind in [
        "sign",
        "verify",
        "aggregate",
        "fast_aggregate_verify",
        "aggregate_verify",
        "batch_verify",
        "hash_to_G2",
        "deserialization_G1",
        "deserialization_G2",
    ] {
        assert!(counts.get(kind).copied().unwrap_or(0) > 0, "no vectors ran for {kind}");
    }
    let total: usize = counts.values().sum();
    assert_eq!(total, 104, "vector count changed: {counts:?}");
}

#[test]
fn a_vector_in_an_unknown_folder_is_reported_unread() {
    let input = serde_json::json!({"x": 1});
    let err = run_case("sign_with_extra_steps", &input, &Value::Null).unwrap_err();
    assert!(err.starts_with("no runner"), "{err}");
}
