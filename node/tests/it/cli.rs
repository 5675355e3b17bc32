//! Drives `vigil keys | vote | cert` as an operator's script would.

use serde_json::{json, Value};
use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

fn vigil(args: &[&str], password_file: Option<&Path>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vigil"));
    cmd.args(args).env_remove("VIGIL_KEYSTORE_PASSWORD");
    if let Some(p) = password_file {
        cmd.arg("--password-file").arg(p);
    }
    cmd.output().expect("vigil runs")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout.clone()).expect("utf-8")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

struct Net {
    dir: tempfile::TempDir,
    password: PathBuf,
    keys: Vec<PathBuf>,
    committee: PathBuf,
}

/// Four inspectors with stakes 10, 10, 10, 20 (total 50: 40 > 2/3, 30 is not).
fn net() -> Net {
    let dir = tempfile::tempdir().expect("tempdir");
    let password = dir.path().join("pw");
    std::fs::write(&password, "hunter2\n").expect("write");
    let mut keys = Vec::new();
    let mut members = Vec::new();
    for (i, stake) in ["10", "10", "10", "20"].iter().enumerate() {
        let k = dir.path().join(format!("node{i}"));
        let d = k.to_str().expect("utf-8");
        let member: Value = serde_json::from_str(&ok(&vigil(
            &["keys", "generate", "--dir", d, "--kdf", "scrypt", "--kdf-cost", "10"],
            Some(&password),
        )))
        .expect("member JSON");
        members.push(json!({
            "index": i, "bls_pubkey": member["bls_pubkey"], "pop": member["pop"],
            "stake": format!("{stake}000000000000000000"), "peer_id": member["peer_id"],
        }));
        keys.push(k);
    }
    let committee = dir.path().join("committee.json");
    let c = json!({"chain_id": 31337, "epoch": 7, "ruleset": "vigil-rules/1",
                   "threshold": {"num": 2, "den": 3}, "members": members});
    std::fs::write(&committee, c.to_string()).expect("write");
    Net { dir, password, keys, committee }
}

const TX: &str = "0x1111111111111111111111111111111111111111111111111111111111111111";

fn sign(n: &Net, i: usize, kind: &str) -> PathBuf {
    let out = vigil(
        &[
            "vote",
            "sign",
            "--keys",
            n.keys[i].to_str().expect("utf-8"),
            "--chain-id",
            "31337",
            "--epoch",
            "7",
            "--tx-hash",
            TX,
            "--kind",
            kind,
            "--committee",
            n.committee.to_str().expect("utf-8"),
        ],
        Some(&n.password),
    );
    let vote: Value = serde_json::from_str(&ok(&out)).expect("vote JSON");
    assert_eq!(vote["signer"], i);
    let path = n.dir.path().join(format!("vote{i}-{kind}.json"));
    std::fs::write(&path, vote.to_string()).expect("write");
    path
}

#[test]
fn keys_votes_and_certificates_end_to_end() {
    let n = net();
    let s = |p: &Path| p.to_str().expect("utf-8").to_string();
    // keys show needs no password and agrees with generate.
    let shown: Value =
        serde_json::from_str(&ok(&vigil(&["keys", "show", "--dir", &s(&n.keys[0])], None))).expect("json");
    assert!(shown["peer_id"].as_str().expect("str").starts_with("12D3KooW"));
    let pop = ok(&vigil(&["keys", "pop", "--dir", &s(&n.keys[0])], Some(&n.password)));
    assert_eq!(pop.trim(), shown["pop"].as_str().expect("str"));

    let votes: Vec<PathBuf> = [0, 1, 3].iter().map(|&i| sign(&n, i, "clean")).collect();
    let mut args = vec!["cert".to_string(), "aggregate".into(), "--committee".into(), s(&n.committee)];
    args.extend(votes.iter().map(|p| s(p)));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let cert_json = ok(&vigil(&argv, None));
    let cert: Value = serde_json::from_str(&cert_json).expect("cert JSON");
    assert_eq!(cert["signers"], "0x0b");
    let cert_path = n.dir.path().join("cert.json");
    std::fs::write(&cert_path, &cert_json).expect("write");

    let verify = |cert: &Path, extra: &[&str]| {
        let mut a = vec![
            "cert",
            "verify",
            "--committee",
            n.committee.to_str().expect("utf-8"),
            "--cert",
            cert.to_str().expect("utf-8"),
        ];
        a.extend_from_slice(extra);
        vigil(&a, None)
    };
    let out = verify(&cert_path, &[]);
    assert_eq!(ok(&out).trim(), "valid");
    assert_eq!(ok(&verify(&cert_path, &["--tx-hash", TX])).trim(), "valid");

    // Tampered variants: exit 1 and a one-line reason each.
    let variants: Vec<(&str, Value, &str)> = vec![
        ("epoch", json!({"epoch": 8}), "epoch 8"),
        ("chain", json!({"chain_id": 1}), "chain 1"),
        ("stray bit", json!({"signers": "0x8b"}), "stray high bit"),
        ("too little stake", json!({"signers": "0x07"}), "does not exceed the threshold"),
        ("not hex", json!({"signature": "0xzz"}), "not a valid certificate"),
    ];
    for (name, patch, want) in variants {
        let mut c = cert.clone();
        for (k, v) in patch.as_object().expect("object") {
            c[k] = v.clone();
        }
        let p = n.dir.path().join(format!("cert-{name}.json"));
        std::fs::write(&p, c.to_string()).expect("write");
        let out = verify(&p, &[]);
        assert_eq!(out.status.code(), Some(1), "{name}");
        let err = stderr(&out);
        assert!(err.starts_with("invalid: ") && err.contains(want) && err.trim().lines().count() == 1, "{name}: {err}");
    }
    let out = verify(&cert_path, &["--tx-hash", "0x2222222222222222222222222222222222222222222222222222222222222222"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("certificate is for transaction"), "{}", stderr(&out));

    // Two of four votes (30 of 50) cannot make a certificate.
    let out = vigil(&["cert", "aggregate", "--committee", &s(&n.committee), &s(&votes[0]), &s(&votes[1])], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("does not exceed the threshold"), "{}", stderr(&out));
    // Mixed verdicts are refused.
    let bad = sign(&n, 2, "malicious");
    let out = vigil(&["cert", "aggregate", "--committee", &s(&n.committee), &s(&votes[0]), &s(&bad)], None);
    assert!(stderr(&out).contains("different"), "{}", stderr(&out));
}

/// `cert verify --onchain` runs the contracts in revm and must give the
/// off-chain answer, plus the gas of `verify`.
#[test]
fn onchain_verification_agrees_with_offchain() {
    let n = net();
    let s = |p: &Path| p.to_str().expect("utf-8").to_string();
    let votes: Vec<PathBuf> = [0, 1, 3].iter().map(|&i| sign(&n, i, "clean")).collect();
    let mut args = vec!["cert".to_string(), "aggregate".into(), "--committee".into(), s(&n.committee)];
    args.extend(votes.iter().map(|p| s(p)));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let cert_json = ok(&vigil(&argv, None));
    let cert: Value = serde_json::from_str(&cert_json).expect("cert JSON");
    let vote0: Value = serde_json::from_str(&std::fs::read_to_string(&votes[0]).expect("read")).expect("vote");

    let verify = |committee: &Path, cert: &Path, onchain: bool| {
        let mut a = vec!["cert", "verify", "--committee", committee.to_str().expect("utf-8")];
        a.extend(["--cert", cert.to_str().expect("utf-8")]);
        if onchain {
            a.push("--onchain");
        }
        vigil(&a, None)
    };
    let gas = |out: &Output| -> u64 {
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let line = stdout.lines().find_map(|l| l.strip_prefix("gas: ")).unwrap_or_else(|| panic!("no gas: {stdout}"));
        line.parse().expect("gas is a number")
    };

    let variants: Vec<(&str, Value, Option<&str>)> = vec![
        ("valid", json!({}), None),
        ("epoch", json!({"epoch": 8}), Some("UnknownEpoch")),
        ("too little stake", json!({"signers": "0x07"}), Some("BelowThreshold")),
        ("stray bit", json!({"signers": "0x8b"}), Some("StrayBitmapBit")),
        ("tampered signature", json!({"signature": vote0["signature"]}), Some("BadSignature")),
    ];
    for (name, patch, want) in variants {
        let mut c = cert.clone();
        for (k, v) in patch.as_object().expect("object") {
            c[k] = v.clone();
        }
        let p = n.dir.path().join(format!("onchain-{name}.json"));
        std::fs::write(&p, c.to_string()).expect("write");
        let off = verify(&n.committee, &p, false);
        let on = verify(&n.committee, &p, true);
        assert_eq!(on.status.code(), off.status.code(), "{name}: on-chain and off-chain disagree: {}", stderr(&on));
        // A valid check pays for hashing to G2 and a pairing; a revert
        // before them costs little more than the transaction.
        let g = gas(&on);
        let range = if want.is_none() || name == "tampered signature" { 150_000..400_000 } else { 21_000..150_000 };
        assert!(range.contains(&g), "{name}: gas {g}");
        match want {
            None => {
                assert_eq!(ok(&off).trim(), "valid");
                assert_eq!(ok(&on).lines().next(), Some("valid"), "{name}");
            }
            Some(reason) => {
                assert_eq!(on.status.code(), Some(1), "{name}");
                let err = stderr(&on);
                assert!(
                    err.starts_with("invalid: ") && err.contains(reason) && err.trim().lines().count() == 1,
                    "{name}: {err}"
                );
            }
        }
    }

    // A committee whose member 0 carries member 1's proof of possession:
    // refused off-chain, and by the registry on-chain (no `verify`, no gas).
    let mut committee: Value =
        serde_json::from_str(&std::fs::read_to_string(&n.committee).expect("read")).expect("json");
    committee["members"][0]["pop"] = committee["members"][1]["pop"].clone();
    let bad_committee = n.dir.path().join("committee-bad-pop.json");
    std::fs::write(&bad_committee, committee.to_string()).expect("write");
    let cert_path = n.dir.path().join("onchain-valid.json");
    assert_eq!(verify(&bad_committee, &cert_path, false).status.code(), Some(1));
    let on = verify(&bad_committee, &cert_path, true);
    assert_eq!(on.status.code(), Some(1));
    assert!(stderr(&on).contains("InvalidProofOfPossession"), "{}", stderr(&on));
}

#[test]
fn bad_input_gets_a_clear_error_not_a_panic() {
    let n = net();
    let s = |p: &Path| p.to_str().expect("utf-8").to_string();
    // Wrong password.
    let wrong = n.dir.path().join("wrong");
    std::fs::write(&wrong, "nope").expect("write");
    let out = vigil(&["keys", "pop", "--dir", &s(&n.keys[0])], Some(&wrong));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("wrong password"), "{}", stderr(&out));
    // No password at all.
    let out = vigil(&["keys", "pop", "--dir", &s(&n.keys[0])], None);
    assert!(stderr(&out).contains("VIGIL_KEYSTORE_PASSWORD"), "{}", stderr(&out));
    // Refuses to overwrite keys.
    let out = vigil(&["keys", "generate", "--dir", &s(&n.keys[0])], Some(&n.password));
    assert!(stderr(&out).contains("refusing to overwrite"), "{}", stderr(&out));
    // Corrupt keystore.
    std::fs::write(n.keys[1].join("bls-keystore.json"), "{\"version\": 4").expect("write");
    let out = vigil(&["keys", "pop", "--dir", &s(&n.keys[1])], Some(&n.password));
    assert!(stderr(&out).contains("keystore"), "{}", stderr(&out));
    // Malformed committee and certificate files.
    let junk = n.dir.path().join("junk.json");
    std::fs::write(&junk, "[1, 2").expect("write");
    let out = vigil(&["cert", "verify", "--committee", &s(&junk), "--cert", &s(&junk)], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("invalid: ") && stderr(&out).contains("not a valid committee"),
        "{}",
        stderr(&out)
    );
    let out = vigil(&["cert", "verify", "--committee", &s(&n.committee), "--cert", "/nonexistent"], None);
    assert!(stderr(&out).contains("cannot open /nonexistent"), "{}", stderr(&out));
    // Bad arguments: usage error (2), never a panic.
    for args in [
        vec![
            "vote",
            "sign",
            "--keys",
            "x",
            "--chain-id",
            "abc",
            "--epoch",
            "1",
            "--tx-hash",
            TX,
            "--kind",
            "clean",
            "--signer",
            "0",
        ],
        vec![
            "vote",
            "sign",
            "--keys",
            "x",
            "--chain-id",
            "1",
            "--epoch",
            "1",
            "--tx-hash",
            TX,
            "--kind",
            "dirty",
            "--signer",
            "0",
        ],
        vec!["cert", "verify", "--committee", "x"],
    ] {
        let out = vigil(&args, None);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).contains("panicked"));
    }
    let out = vigil(
        &[
            "vote",
            "sign",
            "--keys",
            &s(&n.keys[0]),
            "--chain-id",
            "1",
            "--epoch",
            "1",
            "--tx-hash",
            "0x12",
            "--kind",
            "clean",
            "--signer",
            "0",
        ],
        Some(&n.password),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--tx-hash"), "{}", stderr(&out));
}
