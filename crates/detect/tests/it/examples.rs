//! The two public example fixtures are judged right, for the right reasons.

use crate::{judge_fixture, testdata};
use vigil_detect::{Engine, VerdictKind};
use vigil_fixture::Label;

#[test]
fn reentrancy_drain_is_malicious_and_deposits_are_clean() {
    let verdicts = judge_fixture(&Engine::default(), &testdata("example-reentrancy-eth-vault-drain.json"));
    assert!(!verdicts.is_empty());
    for (i, label, v) in verdicts {
        match label {
            Label::Attack => {
                assert_eq!(v.kind, VerdictKind::Malicious, "tx {i}: {v:#?}");
                let rules: Vec<_> = v.findings.iter().map(|f| f.rule).collect();
                assert!(rules.contains(&"reentrancy") && rules.contains(&"value-extraction"), "{rules:?}");
                // The sentence names the victim and the amount an operator can check.
                let msg = &v.findings.iter().find(|f| f.rule == "value-extraction").expect("finding").message;
                assert!(
                    msg.contains("0xDEB47dE12ffd4276E03f349273A68dFCb1dDDfbd") && msg.contains("60000000000000000000"),
                    "{msg}"
                );
            }
            _ => assert_eq!(v.kind, VerdictKind::Clean, "tx {i}: {v:#?}"),
        }
    }
}

#[test]
fn benign_vault_and_token_traffic_is_clean() {
    let verdicts = judge_fixture(&Engine::default(), &testdata("example-benign-vault-and-erc20.json"));
    assert!(!verdicts.is_empty());
    for (i, _, v) in verdicts {
        assert_eq!(v.kind, VerdictKind::Clean, "tx {i}: {v:#?}");
    }
}
