//! `vigil eval` on the public examples, broken fixtures, and JSON output.

use serde_json::Value;
use std::{path::Path, process::Command};

fn testdata() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/fixture/testdata")
}

fn eval(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_vigil")).arg("eval").args(args).output().expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn examples_are_judged_right_in_json() {
    let dir = testdata();
    let (code, stdout, stderr) = eval(&["--json", dir.to_str().expect("utf-8")]);
    assert_eq!(code, 0, "{stderr}");
    let v: Value = serde_json::from_str(&stdout).expect("one JSON document");
    let t = &v["totals"];
    assert_eq!(
        (t["tp"].as_u64(), t["fn"].as_u64(), t["fp"].as_u64(), t["tn"].as_u64()),
        (Some(1), Some(0), Some(0), Some(9))
    );
    assert!(t["latency_us_p50"].as_u64().is_some() && t["latency_us_p99"].as_u64().is_some());
    let fixtures = v["fixtures"].as_array().expect("array");
    assert_eq!(fixtures.len(), 2);
    let attack = fixtures
        .iter()
        .flat_map(|f| f["txs"].as_array().expect("txs").iter())
        .find(|t| t["label"] == "attack")
        .expect("one attack");
    assert_eq!(attack["decision"], "quarantine");
    assert_eq!(attack["index"], 7);
    assert!(attack["hash"].as_str().expect("hash").starts_with("0x"));
    assert!(!attack["reasons"].as_array().expect("reasons").is_empty());
}

#[test]
fn broken_fixtures_are_reported_and_the_rest_still_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("a-not-json.json"), "{ nope").expect("write");
    // The first sender has no ether in this copy: its deployment cannot run.
    let mut f: Value = serde_json::from_str(
        &std::fs::read_to_string(testdata().join("example-benign-vault-and-erc20.json")).expect("read"),
    )
    .expect("json");
    for (_, acct) in f["alloc"].as_object_mut().expect("alloc").iter_mut() {
        acct["balance"] = Value::String("0x0".into());
    }
    std::fs::write(dir.path().join("b-unfunded.json"), f.to_string()).expect("write");
    std::fs::copy(testdata().join("example-reentrancy-eth-vault-drain.json"), dir.path().join("c-good.json"))
        .expect("copy");

    let (code, stdout, _) = eval(&["--json", dir.path().to_str().expect("utf-8")]);
    assert_eq!(code, 0, "a completed run exits 0 whatever it found");
    let v: Value = serde_json::from_str(&stdout).expect("json");
    let fx = v["fixtures"].as_array().expect("array");
    assert!(fx[0]["error"]["reason"].as_str().expect("reason").contains("line 1"), "{}", fx[0]);
    assert_eq!(fx[1]["error"]["index"], 0, "{}", fx[1]);
    assert!(fx[1]["error"]["reason"].as_str().expect("reason").to_lowercase().contains("fund"), "{}", fx[1]);
    assert!(fx[2].get("error").is_none() && fx[2]["txs"].as_array().expect("txs").len() == 6);
    assert_eq!(v["totals"]["broken_fixtures"], 2);

    // The table names the broken fixtures too.
    let (code, table, _) = eval(&[dir.path().to_str().expect("utf-8")]);
    assert_eq!(code, 0);
    assert!(table.contains("BROKEN FIXTURE") && table.contains("tx 0:"), "{table}");
    assert!(table.contains("attacks quarantined 1 of 1"), "{table}");
}

#[test]
fn bad_arguments_and_policies_get_clear_errors() {
    let (code, _, stderr) = eval(&["/nonexistent/fixture.json"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("/nonexistent/fixture.json"), "{stderr}");
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = dir.path().join("policy.json");
    std::fs::write(&policy, r#"{"rules": [{"type": "max-outflow"}]}"#).expect("write");
    let (code, _, stderr) = eval(&["--policy", policy.to_str().expect("utf-8"), testdata().to_str().expect("utf-8")]);
    assert_eq!(code, 1);
    assert!(stderr.contains("policy") && stderr.contains("missing field"), "{stderr}");
}
