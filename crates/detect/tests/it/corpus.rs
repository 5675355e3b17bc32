//! The project's corpus: every attack quarantined, every benign transaction
//! admitted, and freshly generated background traffic (a seed the rules were
//! not tuned on) admitted in full.

use crate::judge_fixture;
use std::path::Path;
use vigil_detect::{Engine, VerdictKind};
use vigil_fixture::Label;

fn corpus(kind: &str) -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/fixtures").join(kind);
    let mut v: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    v.sort();
    v
}

#[test]
fn every_attack_is_quarantined_with_reasons() {
    let engine = Engine::default();
    let files = corpus("attack");
    assert!(files.len() >= 12, "the corpus has 12 attack classes");
    let mut missed = Vec::new();
    for path in files {
        for (i, label, v) in judge_fixture(&engine, &path) {
            let ok = match label {
                Label::Attack => v.kind == VerdictKind::Malicious && !v.reasons().is_empty(),
                _ => v.kind == VerdictKind::Clean,
            };
            if !ok {
                missed.push(format!("{} tx {i} ({label:?}): {:?}", path.display(), v.reasons()));
            }
        }
    }
    assert!(missed.is_empty(), "wrong verdicts:\n{}", missed.join("\n"));
}

#[test]
fn every_hard_benign_transaction_is_admitted() {
    let engine = Engine::default();
    let files = corpus("benign");
    assert!(files.len() >= 12, "the corpus has 12 hard benign scenarios");
    let mut flagged = Vec::new();
    for path in files {
        for (i, _, v) in judge_fixture(&engine, &path) {
            if v.kind != VerdictKind::Clean {
                flagged.push(format!("{} tx {i}: {:?}", path.display(), v.reasons()));
            }
        }
    }
    assert!(flagged.is_empty(), "false positives:\n{}", flagged.join("\n"));
}

#[test]
fn fresh_background_traffic_is_admitted() {
    let config =
        vigil_corpus::background::Config { txs: 1500, seed: 20261125, per_fixture: 1500, accounts: 200, jobs: 1 };
    let bg = vigil_corpus::background::Background::new(config).expect("world");
    let file = bg.fixture(0).expect("fixture");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bg.json");
    std::fs::write(&path, &file.text).expect("write");
    let verdicts = judge_fixture(&Engine::default(), &path);
    assert_eq!(verdicts.len(), 1500);
    let flagged: Vec<_> = verdicts.iter().filter(|(_, _, v)| v.kind != VerdictKind::Clean).collect();
    assert!(flagged.is_empty(), "false positives in background traffic: {flagged:#?}");
}
