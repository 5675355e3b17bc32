//! Protection policies: parsing errors and enforcement.

use crate::{judge_fixture, testdata};
use vigil_detect::{Engine, Policies, VerdictKind};
use vigil_fixture::Label;

#[test]
fn malformed_policies_say_what_is_wrong() {
    let cases = [
        ("{", "not valid"),
        (r#"{"version": 2, "rules": []}"#, "version 2"),
        (
            r#"{"rules": [{"type": "max-outflow", "contract": "0x00000000000000000000000000000000000000aa", "asset": "native", "max": "1e18"}]}"#,
            "rules[0].max",
        ),
        (
            r#"{"rules": [{"type": "allowed-callers", "contract": "0x00000000000000000000000000000000000000aa", "selector": "0x1234", "callers": ["0x00000000000000000000000000000000000000bb"]}]}"#,
            "rules[0].selector",
        ),
        (
            r#"{"rules": [{"type": "allowed-callers", "contract": "0x00000000000000000000000000000000000000aa", "selector": "0x12345678", "callers": []}]}"#,
            "callers",
        ),
        (r#"{"rules": [{"type": "teleport"}]}"#, "teleport"),
        (r#"{"rules": [{"type": "max-outflow", "contract": "0x1", "asset": "native", "max": "1"}]}"#, "not valid"),
    ];
    for (json, want) in cases {
        let err = Policies::from_json(json).unwrap_err().to_string();
        assert!(err.contains(want), "want {want:?} in {err:?}");
    }
}

#[test]
fn a_max_outflow_policy_stops_a_withdrawal_the_builtin_rules_allow() {
    // In the benign example, a user withdraws 5 ETH from the vault: clean by
    // the built-in rules, but the protocol caps outflow at 1 ETH per transaction.
    let fixture = vigil_fixture::Fixture::load(testdata("example-benign-vault-and-erc20.json")).expect("fixture");
    let deploy = &fixture.txs[0].tx;
    let vault = deploy.sender().create(deploy.nonce());
    let policy = format!(
        r#"{{"protocol": "example vault", "rules": [{{"type": "max-outflow", "contract": "{vault}", "asset": "native", "max": "1000000000000000000"}}]}}"#
    );
    let engine = Engine::new(Policies::from_json(&policy).expect("valid"));
    let verdicts = judge_fixture(&engine, &testdata("example-benign-vault-and-erc20.json"));
    let flagged: Vec<_> = verdicts.iter().filter(|(_, _, v)| v.kind == VerdictKind::Malicious).collect();
    assert!(!flagged.is_empty(), "the capped withdrawal is stopped");
    for (_, label, v) in &flagged {
        assert_eq!(*label, Label::Benign);
        assert!(
            v.findings.iter().any(|f| f.rule == "protocol-policy" && f.message.contains("example vault")),
            "{v:#?}"
        );
    }
}

#[test]
fn a_policy_may_alert_instead_of_quarantine_and_raise_its_alerts_to_quarantine() {
    let fixture = vigil_fixture::Fixture::load(testdata("example-benign-vault-and-erc20.json")).expect("fixture");
    let deploy = &fixture.txs[0].tx;
    let vault = deploy.sender().create(deploy.nonce());
    let cap = |extra: &str| {
        format!(
            r#"{{"protocol": "example vault", "rules": [{{"type": "max-outflow", "contract": "{vault}", "asset": "native", "max": "1000000000000000000", "on_break": "alert"}}{extra}]}}"#
        )
    };
    // The cap broken on alert: admitted, with an alert naming the protocol.
    let engine = Engine::new(Policies::from_json(&cap("")).expect("valid"));
    let verdicts = judge_fixture(&engine, &testdata("example-benign-vault-and-erc20.json"));
    let alerted: Vec<_> = verdicts.iter().filter(|(_, _, v)| v.is_alert()).collect();
    assert!(!alerted.is_empty(), "the capped withdrawal raises an alert");
    assert!(verdicts.iter().all(|(_, _, v)| v.kind == VerdictKind::Clean));
    // The same protocol asks for its alerts to be quarantined.
    let raise = format!(r#", {{"type": "quarantine-alerts", "contract": "{vault}"}}"#);
    let engine = Engine::new(Policies::from_json(&cap(&raise)).expect("valid"));
    let verdicts = judge_fixture(&engine, &testdata("example-benign-vault-and-erc20.json"));
    let held: Vec<_> = verdicts.iter().filter(|(_, _, v)| v.kind == VerdictKind::Malicious).collect();
    assert_eq!(held.len(), alerted.len(), "{verdicts:#?}");
    assert!(held.iter().all(|(_, _, v)| v.findings.iter().any(|f| f.message.contains("asks that alerts"))));
    // An unknown action is refused.
    let bad = cap("").replace(r#""on_break": "alert""#, r#""on_break": "shrug""#);
    assert!(Policies::from_json(&bad).unwrap_err().to_string().contains("shrug"));
}
