//! The JSON forms of DESIGN §4.

use serde_json::json;
use vigil_types::{Certificate, Committee, SignerBitmap, Vote};

const PK: &str = "0xa491d1b0ecd9bb917989f0e74f0dea0422eac4a873e5e2644f368dffb9a6e20fd6e10c1b77654d067c0618f6e5a7f79a";

fn sig(b: &str) -> String {
    format!("0x{}", b.repeat(96))
}

#[test]
fn vote_and_certificate_json_match_design() {
    let v = json!({"chain_id": 31337, "epoch": 7, "tx_hash": format!("0x{}", "ab".repeat(32)), "kind": "clean",
                   "signer": 3, "signature": sig("11")});
    let vote: Vote = serde_json::from_value(v.clone()).expect("vote");
    assert_eq!(serde_json::to_value(&vote).expect("json"), v);
    let c = json!({"chain_id": 31337, "epoch": 7, "tx_hash": format!("0x{}", "ab".repeat(32)), "kind": "malicious",
                   "signers": "0x0b01", "signature": sig("22")});
    let cert: Certificate = serde_json::from_value(c.clone()).expect("cert");
    assert_eq!(serde_json::to_value(&cert).expect("json"), c);
    assert_eq!(cert.signers.indexes().collect::<Vec<_>>(), vec![0, 1, 3, 8]);
}

#[test]
fn bitmap_rules() {
    let b = SignerBitmap::from_indexes(10, [0, 9]).expect("in range");
    assert_eq!(b.as_bytes(), &[0x01, 0x02]);
    assert!(b.check_for(10).is_ok());
    assert!(b.check_for(9).is_err(), "bit 9 is stray for 9 members");
    assert!(b.check_for(17).is_err(), "17 members need 3 bytes");
    assert!(SignerBitmap::from_indexes(10, [10]).is_err());
    assert!(SignerBitmap::empty(10).check_for(10).unwrap_err().to_string().contains("no signer"));
}

fn committee(stake: &str, extra: serde_json::Value) -> serde_json::Value {
    let mut c = json!({"chain_id": 31337, "epoch": 7, "ruleset": "vigil-rules/1", "threshold": {"num": 2, "den": 3},
        "members": [{"index": 0, "bls_pubkey": PK, "pop": sig("33"), "stake": stake, "peer_id": "12D3KooWabc"}]});
    for (k, v) in extra.as_object().expect("object") {
        c[k] = v.clone();
    }
    c
}

#[test]
fn committee_json_errors_say_what_is_wrong() {
    let ok = committee("32000000000000000000", json!({}));
    let c = Committee::from_json(&ok.to_string()).expect("valid");
    assert_eq!(serde_json::to_value(&c).expect("json"), ok);
    let cases = [
        (committee("32e18", json!({})), "not a decimal string"),
        (committee("032", json!({})), "leading zeros"),
        (committee("0", json!({})), "zero stake"),
        (committee("1", json!({"threshold": {"num": 1, "den": 3}})), "below 1/2"),
        (committee("1", json!({"threshold": {"num": 3, "den": 3}})), "must be below 1"),
        (committee("1", json!({"members": []})), "no members"),
        (committee("1", json!({"ruleset": ""})), "ruleset"),
        (committee("1", json!({"surprise": 1})), "unknown field"),
        (
            committee(
                "1",
                json!({"members": [{"index": 1, "bls_pubkey": PK, "pop": sig("33"), "stake": "1", "peer_id": "x"}]}),
            ),
            "index 1",
        ),
        (
            committee(
                "1",
                json!({"members": [{"index": 0, "bls_pubkey": "0x12", "pop": sig("33"), "stake": "1", "peer_id": "x"}]}),
            ),
            "expected 48 bytes",
        ),
    ];
    for (json, want) in cases {
        let err = Committee::from_json(&json.to_string()).unwrap_err();
        assert!(err.contains(want), "want {want:?} in {err:?}");
    }
}

#[test]
fn an_attestation_reads_back_as_the_form_it_was() {
    let cert = json!({ "chain_id": 31337, "epoch": 7, "tx_hash": format!("0x{}", "ab".repeat(32)), "kind": "clean",
        "signers": "0x07", "signature": sig("11") });
    let batch = json!({ "chain_id": 31337, "epoch": 7, "count": 3, "root": format!("0x{}", "cd".repeat(32)),
        "signers": "0x07", "signature": sig("22") });
    let proof = json!({ "certificate": batch, "index": 2, "tx_hash": format!("0x{}", "ef".repeat(32)),
        "kind": "malicious", "path": [format!("0x{}", "01".repeat(32))] });
    let a: vigil_types::Attestation = serde_json::from_value(cert.clone()).expect("certificate form");
    assert!(matches!(a, vigil_types::Attestation::Certificate(_)));
    assert_eq!(serde_json::to_value(&a).expect("json"), cert);
    assert_eq!((a.epoch(), a.kind()), (7, vigil_types::VoteKind::Clean));
    let p: vigil_types::Attestation = serde_json::from_value(proof.clone()).expect("inclusion form");
    assert!(matches!(p, vigil_types::Attestation::Inclusion(_)));
    assert_eq!(serde_json::to_value(&p).expect("json"), proof);
    assert_eq!((p.tx_hash(), p.kind()), (vigil_types::B256::repeat_byte(0xef), vigil_types::VoteKind::Malicious));
    // A batch certificate alone admits nothing: neither form.
    assert!(serde_json::from_value::<vigil_types::Attestation>(batch).is_err());
}
