use super::*;
use std::collections::BTreeMap;

use proptest::prelude::*;
use vigil_types::{BatchCertificate, BatchLeaf, BatchTree, SignatureBytes, SignerBitmap};

fn h(n: u64) -> B256 {
    B256::left_padding_from(&n.to_be_bytes())
}

fn addr(n: u8) -> Address {
    Address::repeat_byte(n)
}

fn open() -> (tempfile::TempDir, NodeStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = NodeStore::open(dir.path()).unwrap();
    (dir, store)
}

fn tx(n: u64, sender: Address) -> TxRecord {
    TxRecord {
        hash: h(n),
        raw: Bytes::from(vec![0x02, n as u8]),
        sender,
        nonce: n,
        received_ms: 1_000 + n,
        source: TxSource::Rpc,
    }
}

/// A transaction and this node's verdict on it.
type Judged = (TxRecord, VerdictRecord);

fn verdict(n: u64, sender: Address, touched: &[Address], block: u64, kind: VoteKind) -> Judged {
    (tx(n, sender), verdict_only(n, touched, block, kind))
}

fn verdict_only(n: u64, touched: &[Address], block: u64, kind: VoteKind) -> VerdictRecord {
    let mut touched = touched.to_vec();
    touched.sort();
    touched.dedup();
    VerdictRecord {
        tx_hash: h(n),
        kind,
        score: if kind == VoteKind::Malicious { 90 } else { 0 },
        alert: is_alert(n, kind),
        ruleset: "v1".into(),
        findings: if kind == VoteKind::Malicious {
            vec![
                FindingRecord {
                    rule: "flash-loan".into(),
                    severity: "high".into(),
                    addresses: touched.clone(),
                    message: "m".into(),
                },
                FindingRecord {
                    rule: "flash-loan".into(),
                    severity: "high".into(),
                    addresses: vec![],
                    message: "again".into(),
                },
                FindingRecord {
                    rule: "reentry".into(),
                    severity: "critical".into(),
                    addresses: vec![],
                    message: "r".into(),
                },
            ]
        } else {
            vec![]
        },
        summary: TraceSummary {
            to: touched.first().copied(),
            touched,
            calls: 3,
            logs: 1,
            gas_used: 21_000,
            success: true,
            revert_reason: None,
            created: vec![],
            ..TraceSummary::default()
        },
        block_number: block,
        judged_ms: 5_000 + n,
        elapsed_us: 700,
    }
}

/// Which of the test verdicts are alerts: clean ones whose number is 2 mod 5.
fn is_alert(n: u64, kind: VoteKind) -> bool {
    kind == VoteKind::Clean && n % 5 == 2
}

fn vote(n: u64, kind: VoteKind, epoch: u64, signer: u32) -> Vote {
    Vote { chain_id: 7, epoch, tx_hash: h(n), kind, signer, signature: SignatureBytes([signer as u8; 96]) }
}

fn cert(n: u64, kind: VoteKind) -> Certificate {
    Certificate {
        chain_id: 7,
        epoch: 1,
        tx_hash: h(n),
        kind,
        signers: SignerBitmap::from_bytes(vec![0b111]),
        signature: SignatureBytes([9; 96]),
    }
}

fn qrec(n: u64, since_ms: u64) -> QuarantineRecord {
    QuarantineRecord {
        tx_hash: h(n),
        reason: "certified malicious".into(),
        since_ms,
        block_number: 10,
        review: Review::default(),
    }
}

/// Stores the transaction and judges it (own vote as signer 0, epoch 1).
fn judge(s: &NodeStore, (t, v): &Judged) {
    s.put_tx(t).unwrap();
    s.put_verdict(v, &Vote { tx_hash: v.tx_hash, kind: v.kind, ..vote(0, v.kind, 1, 0) }).unwrap();
}

fn hashes(items: &[HistoryEntry]) -> Vec<B256> {
    items.iter().map(|e| e.tx_hash).collect()
}

/// Walks every page of a history query, `limit` at a time.
fn all_pages(s: &NodeStore, q: &HistoryQuery, limit: usize) -> Vec<HistoryEntry> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10_000 {
        let page = s.history(q, cursor.as_deref(), limit).unwrap();
        assert!(page.items.len() <= limit);
        out.extend(page.items);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return out,
        }
    }
    panic!("history paging did not end");
}

#[test]
fn records_round_trip() {
    let (_dir, s) = open();
    let t = tx(1, addr(0xaa));
    let v = verdict_only(1, &[addr(0xc1), addr(0xc2)], 10, VoteKind::Malicious);
    let own = vote(1, VoteKind::Malicious, 1, 0);
    let other = vote(1, VoteKind::Malicious, 1, 5);
    let c = cert(1, VoteKind::Malicious);
    let q = qrec(1, 9_000);
    assert!(s.put_tx(&t).unwrap());
    s.put_verdict(&v, &own).unwrap();
    assert!(s.put_vote(&other).unwrap());
    assert!(s.quarantine_certified(&q, &c).unwrap());

    assert_eq!(s.tx(h(1)).unwrap(), Some(t));
    assert_eq!(s.verdict(h(1)).unwrap(), Some(v));
    assert_eq!(s.votes(h(1)).unwrap(), vec![own, other]);
    assert_eq!(s.certificate(h(1)).unwrap(), Some(c.into()));
    assert_eq!(s.quarantine_record(h(1)).unwrap(), Some(q));
    assert_eq!(s.outcome(h(1)).unwrap(), Some(Outcome::Quarantined { reason: "certified malicious".into() }));
    assert_eq!(s.stats().unwrap(), StoreStats { txs: 1, verdicts: 1, votes: 2, certificates: 1, quarantined: 1 });

    // Nothing about an unknown transaction.
    assert_eq!(s.tx(h(2)).unwrap(), None);
    assert_eq!(s.verdict(h(2)).unwrap(), None);
    assert!(s.votes(h(2)).unwrap().is_empty());
    assert_eq!(s.outcome(h(2)).unwrap(), None);

    // A clean certificate certifies.
    s.put_certificate(&cert(3, VoteKind::Clean)).unwrap();
    assert_eq!(s.outcome(h(3)).unwrap(), Some(Outcome::Certified));
    // A malicious one alone does not decide.
    s.put_certificate(&cert(4, VoteKind::Malicious)).unwrap();
    assert_eq!(s.outcome(h(4)).unwrap(), None);
}

#[test]
fn record_json_forms() {
    assert_eq!(serde_json::to_string(&Outcome::Certified).unwrap(), r#"{"status":"certified"}"#);
    assert_eq!(
        serde_json::to_string(&Outcome::Quarantined { reason: "x".into() }).unwrap(),
        r#"{"status":"quarantined","reason":"x"}"#
    );
    assert_eq!(serde_json::to_string(&ReviewState::ConfirmedMalicious).unwrap(), r#""confirmed_malicious""#);
    assert_eq!(serde_json::to_string(&ReviewState::FalsePositive).unwrap(), r#""false_positive""#);
    assert_eq!(serde_json::to_string(&HistoryKind::Quarantined).unwrap(), r#""quarantined""#);
    assert_eq!(serde_json::to_string(&TxSource::Gossip).unwrap(), r#""gossip""#);
}

#[test]
fn puts_are_idempotent() {
    let (_dir, s) = open();
    let t = tx(1, addr(0xaa));
    assert!(s.put_tx(&t).unwrap());
    assert!(!s.put_tx(&TxRecord { source: TxSource::Gossip, ..t.clone() }).unwrap());
    assert_eq!(s.tx(h(1)).unwrap(), Some(t.clone()));

    let v = vote(1, VoteKind::Clean, 1, 3);
    assert!(s.put_vote(&v).unwrap());
    assert!(!s.put_vote(&v).unwrap());
    // Same key, other kind: the first stays.
    assert!(!s.put_vote(&vote(1, VoteKind::Malicious, 1, 3)).unwrap());
    assert_eq!(s.votes(h(1)).unwrap(), vec![v.clone()]);
    // Another epoch is another vote.
    assert!(s.put_vote(&vote(1, VoteKind::Clean, 2, 3)).unwrap());

    let verdict = (t.clone(), verdict_only(1, &[addr(0xc1)], 10, VoteKind::Clean));
    judge(&s, &verdict);
    judge(&s, &verdict);

    s.put_certificate(&cert(1, VoteKind::Clean)).unwrap();
    s.put_certificate(&cert(1, VoteKind::Clean)).unwrap();

    s.quarantine(&qrec(2, 100)).unwrap();
    s.review(h(2), ReviewState::FalsePositive, Some("op".into()), None, 200).unwrap();
    // Quarantining again keeps the record and its review.
    s.quarantine(&qrec(2, 300)).unwrap();
    let q = s.quarantine_record(h(2)).unwrap().unwrap();
    assert_eq!((q.since_ms, q.review.state), (100, ReviewState::FalsePositive));
    assert_eq!(s.quarantine_list(QuarantineFilter::default(), None, 10).unwrap().items.len(), 1);

    assert_eq!(s.stats().unwrap(), StoreStats { txs: 1, verdicts: 1, votes: 3, certificates: 1, quarantined: 1 });
    assert_eq!(all_pages(&s, &HistoryQuery::default(), 10).len(), 1);
}

#[test]
fn verdict_vote_and_indexes_land_together_and_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let v = verdict_only(1, &[addr(0xc1)], 42, VoteKind::Malicious);
    let own = vote(1, VoteKind::Malicious, 1, 0);
    {
        let s = NodeStore::open(dir.path()).unwrap();
        // No verdict before its transaction.
        let err = s.put_verdict(&v, &own).unwrap_err();
        assert!(matches!(err, NodeStoreError::UnknownTx(hash) if hash == h(1)), "{err}");
        assert_eq!(s.verdict(h(1)).unwrap(), None);
        s.put_tx(&tx(1, addr(0xaa))).unwrap();
        s.put_verdict(&v, &own).unwrap();
        // A mismatched vote writes nothing.
        let bad = verdict_only(2, &[], 43, VoteKind::Clean);
        s.put_tx(&tx(2, addr(0xbb))).unwrap();
        let err = s.put_verdict(&bad, &vote(1, VoteKind::Clean, 1, 0)).unwrap_err();
        assert!(matches!(err, NodeStoreError::VoteMismatch { .. }), "{err}");
        let err = s.put_verdict(&bad, &vote(2, VoteKind::Malicious, 1, 0)).unwrap_err();
        assert!(err.to_string().contains("does not match"), "{err}");
    }
    let s = NodeStore::open(dir.path()).unwrap();
    assert_eq!(s.verdict(h(1)).unwrap(), Some(v));
    assert_eq!(s.votes(h(1)).unwrap(), vec![own]);
    let block = s.history(&HistoryQuery { from_block: Some(42), to_block: Some(42), ..Default::default() }, None, 10);
    assert_eq!(hashes(&block.unwrap().items), [h(1)]);
    for a in [addr(0xaa), addr(0xc1)] {
        let page = s.history(&HistoryQuery { address: Some(a), ..Default::default() }, None, 10).unwrap();
        assert_eq!(hashes(&page.items), [h(1)], "address {a}");
    }
    assert_eq!(s.verdict(h(2)).unwrap(), None);
    assert!(s.votes(h(2)).unwrap().is_empty());
    assert_eq!(s.stats().unwrap(), StoreStats { txs: 2, verdicts: 1, votes: 1, certificates: 0, quarantined: 0 });
}

#[test]
fn history_by_address_matches_sender_touched_and_created() {
    let (_dir, s) = open();
    judge(&s, &verdict(1, addr(0xa1), &[addr(0xc1)], 10, VoteKind::Clean));
    judge(&s, &verdict(2, addr(0xa2), &[addr(0xc1), addr(0xc2)], 11, VoteKind::Malicious));
    judge(&s, &verdict(3, addr(0xa1), &[addr(0xc2)], 12, VoteKind::Clean));
    let mut created = verdict(4, addr(0xa3), &[], 13, VoteKind::Clean);
    created.1.summary.created = vec![addr(0xd1)];
    judge(&s, &created);
    // The sender calling a contract at its own address appears once.
    judge(&s, &verdict(5, addr(0xa3), &[addr(0xa3)], 14, VoteKind::Clean));

    let by = |a: Address| hashes(&all_pages(&s, &HistoryQuery { address: Some(a), ..Default::default() }, 10));
    assert_eq!(by(addr(0xa1)), [h(3), h(1)]);
    assert_eq!(by(addr(0xc1)), [h(2), h(1)]);
    assert_eq!(by(addr(0xc2)), [h(3), h(2)]);
    assert_eq!(by(addr(0xd1)), [h(4)]);
    assert_eq!(by(addr(0xa3)), [h(5), h(4)]);
    assert!(by(addr(0xee)).is_empty());

    let e = &s.history(&HistoryQuery { address: Some(addr(0xc1)), ..Default::default() }, None, 1).unwrap().items[0];
    assert_eq!(e.sender, addr(0xa2));
    assert_eq!(e.block_number, 11);
    assert_eq!(e.verdict, VoteKind::Malicious);
    assert_eq!(e.rules, ["flash-loan", "reentry"]);
    assert_eq!(e.judged_ms, 5_002);
}

#[test]
fn history_by_block_range_and_kind() {
    let (_dir, s) = open();
    for n in 0..20u64 {
        let kind = if n % 3 == 0 { VoteKind::Malicious } else { VoteKind::Clean };
        judge(&s, &verdict(n, addr(0xa0 + (n % 2) as u8), &[addr(0xc1)], 100 + n / 2, kind));
        match n % 4 {
            0 => s.put_certificate(&cert(n, VoteKind::Clean)).unwrap(),
            1 => s.quarantine(&qrec(n, n)).unwrap(),
            _ => {}
        }
    }
    let q = |from_block, to_block, kind| {
        let q = HistoryQuery { address: None, from_block, to_block, kind };
        all_pages(&s, &q, 3).iter().map(|e| (e.block_number, e.tx_hash)).collect::<Vec<_>>()
    };
    // Newest block first, then by hash.
    let all = q(None, None, None);
    assert_eq!(all.len(), 20);
    let mut sorted = all.clone();
    sorted.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    assert_eq!(all, sorted);
    assert_eq!(all[0], (109, h(18)));

    let range = q(Some(102), Some(104), None);
    assert_eq!(range.iter().map(|e| e.0).collect::<Vec<_>>(), [104, 104, 103, 103, 102, 102]);
    assert_eq!(q(Some(105), Some(104), None), []);
    assert_eq!(q(Some(150), None, None), []);
    assert_eq!(q(None, Some(100), None), [(100, h(0)), (100, h(1))]);

    let only = |kind, pred: &dyn Fn(u64) -> bool| {
        let got: BTreeSet<B256> = q(None, None, Some(kind)).into_iter().map(|e| e.1).collect();
        let want: BTreeSet<B256> = (0..20).filter(|n| pred(*n)).map(h).collect();
        assert_eq!(got, want, "{kind:?}");
    };
    only(HistoryKind::Malicious, &|n| n % 3 == 0);
    only(HistoryKind::Clean, &|n| n % 3 != 0);
    only(HistoryKind::Certified, &|n| n % 4 == 0);
    only(HistoryKind::Quarantined, &|n| n % 4 == 1);
    only(HistoryKind::Alert, &|n| n % 3 != 0 && n % 5 == 2);
    assert!(all_pages(&s, &HistoryQuery { kind: Some(HistoryKind::Alert), ..Default::default() }, 1)
        .iter()
        .all(|e| e.alert && e.verdict == VoteKind::Clean));

    // Kind and address and range together.
    let qa = HistoryQuery {
        address: Some(addr(0xa0)),
        from_block: Some(101),
        to_block: Some(108),
        kind: Some(HistoryKind::Malicious),
    };
    // Even n (sender 0xa0), n % 3 == 0, block 100 + n/2 in 101..=108: n = 6, 12.
    assert_eq!(hashes(&all_pages(&s, &qa, 1)), [h(12), h(6)]);
}

#[test]
fn paging_neither_skips_nor_repeats_with_inserts_between_pages() {
    let (_dir, s) = open();
    // Two transactions per block, blocks 10..=29.
    for n in 0..40u64 {
        judge(&s, &verdict(n, addr(0xa1), &[addr(0xc1)], 10 + n / 2, VoteKind::Clean));
    }
    for q in [HistoryQuery::default(), HistoryQuery { address: Some(addr(0xc1)), ..Default::default() }] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut next_new = 1_000u64;
        loop {
            let page = s.history(&q, cursor.as_deref(), 7).unwrap();
            seen.extend(page.items.iter().map(|e| (e.block_number, e.tx_hash)));
            let Some(c) = page.next_cursor else { break };
            cursor = Some(c);
            // New entries between pages: in a newer block, in the block of
            // the last item seen (before and after it by hash), and older.
            let last_block = seen.last().unwrap().0;
            for block in [99, last_block, last_block, 10] {
                judge(&s, &verdict(next_new, addr(0xa1), &[addr(0xc1)], block, VoteKind::Clean));
                next_new += 1;
            }
        }
        let unique: BTreeSet<_> = seen.iter().copied().collect();
        assert_eq!(unique.len(), seen.len(), "an entry was repeated");
        for n in 0..40u64 {
            assert!(unique.contains(&(10 + n / 2, h(n))), "entry {n} was skipped");
        }
        // Order holds across pages.
        assert!(seen.windows(2).all(|w| (u64::MAX - w[0].0, w[0].1) < (u64::MAX - w[1].0, w[1].1)));
    }
}

#[test]
fn bad_cursors_are_rejected() {
    let (_dir, s) = open();
    for n in 0..3 {
        judge(&s, &verdict(n, addr(0xa1), &[], 10, VoteKind::Clean));
    }
    let by_block = s.history(&HistoryQuery::default(), None, 1).unwrap().next_cursor.unwrap();
    let q_addr = HistoryQuery { address: Some(addr(0xa1)), ..Default::default() };
    let by_addr = s.history(&q_addr, None, 1).unwrap().next_cursor.unwrap();
    for (q, c) in [
        (&HistoryQuery::default(), "zz"),
        (&HistoryQuery::default(), "00"),
        (&q_addr, by_block.as_str()),
        (&HistoryQuery { address: Some(addr(0xa2)), ..Default::default() }, by_addr.as_str()),
    ] {
        let err = s.history(q, Some(c), 10).unwrap_err();
        assert!(matches!(err, NodeStoreError::InvalidCursor { .. }), "{c}: {err}");
    }
    assert!(s.quarantine_list(QuarantineFilter::default(), Some(&by_block), 10).is_err());
    // Limits are capped.
    assert_eq!(s.history(&HistoryQuery::default(), None, 0).unwrap().items.len(), 1);
    assert_eq!(s.history(&HistoryQuery::default(), None, usize::MAX).unwrap().items.len(), 3);
}

#[test]
fn quarantine_list_and_review_transitions() {
    let (_dir, s) = open();
    for n in 0..5u64 {
        s.quarantine(&qrec(n, 1_000 + n)).unwrap();
    }
    let list = |state: Option<ReviewState>, limit| {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = s.quarantine_list(QuarantineFilter { state }, cursor.as_deref(), limit).unwrap();
            out.extend(page.items.into_iter().map(|r| r.tx_hash));
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => return out,
            }
        }
    };
    assert_eq!(list(None, 2), [h(4), h(3), h(2), h(1), h(0)]);
    assert_eq!(list(Some(ReviewState::Open), 10), [h(4), h(3), h(2), h(1), h(0)]);

    let r = s.review(h(3), ReviewState::ConfirmedMalicious, Some("alice".into()), Some("drain".into()), 7).unwrap();
    assert_eq!(
        r.review,
        Review {
            state: ReviewState::ConfirmedMalicious,
            reviewer: Some("alice".into()),
            note: Some("drain".into()),
            at_ms: Some(7)
        }
    );
    s.review(h(1), ReviewState::FalsePositive, None, None, 8).unwrap();
    assert_eq!(list(Some(ReviewState::Open), 1), [h(4), h(2), h(0)]);
    assert_eq!(list(Some(ReviewState::ConfirmedMalicious), 1), [h(3)]);
    assert_eq!(list(Some(ReviewState::FalsePositive), 1), [h(1)]);
    assert_eq!(list(None, 3), [h(4), h(3), h(2), h(1), h(0)]);

    // A review can be corrected, and the queues follow.
    let r = s.review(h(3), ReviewState::FalsePositive, Some("bob".into()), None, 9).unwrap();
    assert_eq!(
        (r.review.state, r.review.reviewer.as_deref(), r.review.at_ms),
        (ReviewState::FalsePositive, Some("bob"), Some(9))
    );
    assert_eq!(s.quarantine_record(h(3)).unwrap(), Some(r));
    assert!(list(Some(ReviewState::ConfirmedMalicious), 1).is_empty());
    assert_eq!(list(Some(ReviewState::FalsePositive), 10), [h(3), h(1)]);
    // Outcome stays quarantined through reviews.
    assert!(matches!(s.outcome(h(3)).unwrap(), Some(Outcome::Quarantined { .. })));

    let err = s.review(h(99), ReviewState::FalsePositive, None, None, 1).unwrap_err();
    assert!(matches!(err, NodeStoreError::NotQuarantined(hash) if hash == h(99)), "{err}");
    assert!(err.to_string().contains("is not quarantined"));
    assert_eq!(s.quarantine_record(h(99)).unwrap(), None);
}

#[test]
fn rejudging_moves_index_entries() {
    let (_dir, s) = open();
    judge(&s, &verdict(1, addr(0xa1), &[addr(0xc1)], 10, VoteKind::Clean));
    judge(&s, &verdict(1, addr(0xa1), &[addr(0xc2)], 11, VoteKind::Clean));
    let by = |a: Option<Address>| hashes(&all_pages(&s, &HistoryQuery { address: a, ..Default::default() }, 10));
    assert_eq!(by(None), [h(1)]);
    assert!(by(Some(addr(0xc1))).is_empty());
    assert_eq!(by(Some(addr(0xc2))), [h(1)]);
    assert_eq!(s.stats().unwrap().verdicts, 1);
}

#[test]
fn the_alert_index_follows_rejudging_and_pruning() {
    let (_dir, s) = open();
    let alerts = || hashes(&all_pages(&s, &HistoryQuery { kind: Some(HistoryKind::Alert), ..Default::default() }, 10));
    // Transaction 2 is an alert (2 mod 5), 3 is not.
    judge(&s, &verdict(2, addr(0xa1), &[addr(0xc1)], 10, VoteKind::Clean));
    judge(&s, &verdict(3, addr(0xa1), &[addr(0xc1)], 10, VoteKind::Clean));
    assert_eq!(alerts(), [h(2)]);
    // Judged again without the alert: out of the index.
    let (_, mut v) = verdict(2, addr(0xa1), &[addr(0xc1)], 11, VoteKind::Clean);
    v.alert = false;
    s.put_verdict(&v, &Vote { tx_hash: v.tx_hash, kind: v.kind, ..vote(0, v.kind, 1, 0) }).unwrap();
    assert!(alerts().is_empty());
    // And back; then pruned with its block.
    judge(&s, &verdict(2, addr(0xa1), &[addr(0xc1)], 12, VoteKind::Clean));
    assert_eq!(alerts(), [h(2)]);
    assert_eq!(s.prune(13).unwrap(), 2);
    assert!(alerts().is_empty());
    let mut left = 0;
    s.store()
        .for_each(cf::ALERTS, |_, _| {
            left += 1;
            Ok(())
        })
        .unwrap();
    assert_eq!(left, 0);
}

#[test]
fn prune_removes_records_and_index_entries() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = NodeStore::open(dir.path()).unwrap();
        for n in 0..10u64 {
            let sender = addr(0xa1);
            s.put_tx(&tx(n, sender)).unwrap();
            judge(&s, &verdict(n, sender, &[addr(0xc1)], 100 + n, VoteKind::Malicious));
            s.put_vote(&vote(n, VoteKind::Malicious, 1, 4)).unwrap();
            assert!(s.quarantine_certified(&qrec(n, n), &cert(n, VoteKind::Malicious)).unwrap());
        }
        s.review(h(2), ReviewState::FalsePositive, None, None, 1).unwrap();
        assert_eq!(s.prune(0).unwrap(), 0);
        assert_eq!(s.prune(100).unwrap(), 0);
        // Quarantines nobody has reviewed are kept whatever their age.
        assert_eq!(s.prune(105).unwrap(), 1, "only the reviewed one of 0..5 goes");
        assert!(s.quarantine_record(h(0)).unwrap().is_some() && s.tx(h(0)).unwrap().is_some());
        assert_eq!(s.tx(h(2)).unwrap(), None);
        for n in [0, 1, 3, 4] {
            s.review(h(n), ReviewState::ConfirmedMalicious, None, None, 2).unwrap();
        }
        assert_eq!(s.prune(105).unwrap(), 4);
        assert_eq!(s.prune(105).unwrap(), 0);
    }
    let s = NodeStore::open(dir.path()).unwrap();
    for n in 0..5u64 {
        assert_eq!(s.tx(h(n)).unwrap(), None);
        assert_eq!(s.verdict(h(n)).unwrap(), None);
        assert!(s.votes(h(n)).unwrap().is_empty());
        assert_eq!(s.certificate(h(n)).unwrap(), None);
        assert_eq!(s.outcome(h(n)).unwrap(), None);
        assert_eq!(s.quarantine_record(h(n)).unwrap(), None);
    }
    for n in 5..10u64 {
        assert!(s.tx(h(n)).unwrap().is_some() && s.verdict(h(n)).unwrap().is_some());
        assert_eq!(s.votes(h(n)).unwrap().len(), 2);
    }
    let want: Vec<B256> = (5..10u64).rev().map(h).collect();
    for a in [None, Some(addr(0xa1)), Some(addr(0xc1))] {
        assert_eq!(hashes(&all_pages(&s, &HistoryQuery { address: a, ..Default::default() }, 2)), want);
    }
    let queue = s.quarantine_list(QuarantineFilter::default(), None, 100).unwrap().items;
    assert_eq!(queue.iter().map(|r| r.tx_hash).collect::<Vec<_>>(), want);
    assert!(s
        .quarantine_list(QuarantineFilter { state: Some(ReviewState::FalsePositive) }, None, 100)
        .unwrap()
        .items
        .is_empty());
    assert_eq!(s.stats().unwrap(), StoreStats { txs: 5, verdicts: 5, votes: 10, certificates: 5, quarantined: 5 });
    // Every index entry left points at a live verdict.
    for family in [cf::HISTORY_BLOCK, cf::HISTORY_ADDR, cf::QUARANTINE_IDX, cf::ALERTS] {
        let mut n = 0;
        s.store()
            .for_each(family, |_, _| {
                n += 1;
                Ok(())
            })
            .unwrap();
        let expected = match family {
            cf::HISTORY_BLOCK => 5,
            cf::HISTORY_ADDR => 10,
            cf::ALERTS => 0,
            _ => 10,
        };
        assert_eq!(n, expected, "{family}");
    }
}

/// One generated transaction: (sender index, touched mask, block, malicious, outcome 0 none / 1 certified / 2 quarantined).
type Gen = (u8, u8, u64, bool, u8);

fn gen_tx() -> impl Strategy<Value = Gen> {
    (0u8..3, 0u8..8, 0u64..12, any::<bool>(), 0u8..3)
}

fn gen_query() -> impl Strategy<Value = HistoryQuery> {
    let address = prop_oneof![Just(None), (0u8..6).prop_map(|i| Some(addr(0xa0 + i)))];
    let kind = prop_oneof![
        Just(None),
        Just(Some(HistoryKind::Clean)),
        Just(Some(HistoryKind::Malicious)),
        Just(Some(HistoryKind::Certified)),
        Just(Some(HistoryKind::Quarantined)),
        Just(Some(HistoryKind::Alert)),
    ];
    (address, proptest::option::of(0u64..12), proptest::option::of(0u64..12), kind)
        .prop_map(|(address, from_block, to_block, kind)| HistoryQuery { address, from_block, to_block, kind })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn paging_returns_exactly_the_matching_entries_once(
        txs in proptest::collection::vec(gen_tx(), 0..40),
        query in gen_query(),
        limit in 1usize..6,
    ) {
        let (_dir, s) = open();
        // Model: (inv block, hash) -> (sender, addresses, block, kind, outcome).
        let mut model = BTreeMap::new();
        for (n, (sender, mask, block, malicious, outcome)) in txs.iter().copied().enumerate() {
            let n = n as u64;
            let sender = addr(0xa0 + sender);
            // Contracts 0xa3..0xa5 (0xa0..0xa2 are senders).
            let touched: Vec<Address> = (0..3u8).filter(|i| mask & (1 << i) != 0).map(|i| addr(0xa3 + i)).collect();
            let kind = if malicious { VoteKind::Malicious } else { VoteKind::Clean };
            judge(&s, &verdict(n, sender, &touched, block, kind));
            match outcome {
                1 => s.put_certificate(&cert(n, VoteKind::Clean)).unwrap(),
                2 => { s.quarantine(&qrec(n, n)).unwrap(); }
                _ => {}
            }
            let mut addrs: BTreeSet<Address> = touched.into_iter().collect();
            addrs.insert(sender);
            model.insert((u64::MAX - block, h(n)), (addrs, block, kind, outcome, n));
        }
        let want: Vec<B256> = model
            .iter()
            .filter(|(_, (addrs, block, kind, outcome, hash_n))| {
                query.address.is_none_or(|a| addrs.contains(&a))
                    && query.from_block.is_none_or(|f| *block >= f)
                    && query.to_block.is_none_or(|t| *block <= t)
                    && match query.kind {
                        None => true,
                        Some(HistoryKind::Clean) => *kind == VoteKind::Clean,
                        Some(HistoryKind::Malicious) => *kind == VoteKind::Malicious,
                        Some(HistoryKind::Certified) => *outcome == 1,
                        Some(HistoryKind::Quarantined) => *outcome == 2,
                        Some(HistoryKind::Alert) => is_alert(*hash_n, *kind),
                    }
            })
            .map(|((_, hash), _)| *hash)
            .collect();
        let got = hashes(&all_pages(&s, &query, limit));
        prop_assert_eq!(got, want);
    }
}

/// The batch path's writes (DESIGN §4b): peers' transactions in one
/// write, verdicts without a vote, inclusion proofs with their outcomes,
/// and what a restarted node takes up again.
#[test]
fn batch_writes_and_the_transactions_a_restart_takes_up() {
    let (dir, s) = open();
    let sender = addr(1);
    // Clients' transactions 1..=3 and a peer's 4, 5 (one write, once).
    for n in 1..=3 {
        assert!(s.put_tx(&tx(n, sender)).unwrap());
    }
    let peer = |n| TxRecord { source: TxSource::Gossip, ..tx(n, sender) };
    assert_eq!(s.put_txs(&[peer(4), peer(5)]).unwrap(), 2);
    assert_eq!(s.put_txs(&[peer(5), peer(6)]).unwrap(), 1, "the stored one stays");
    // Verdicts signed in a batch carry no vote.
    let verdicts: Vec<(VerdictRecord, Option<Vote>)> =
        (1..=2).map(|n| (verdict_only(n, &[addr(9)], 7, VoteKind::Clean), None)).collect();
    assert!(s.put_verdicts(&verdicts).iter().all(Result::is_ok));
    assert_eq!(s.verdict(h(1)).unwrap().map(|v| v.kind), Some(VoteKind::Clean));
    assert!(s.votes(h(1)).unwrap().is_empty());
    // All three clients' transactions wait for a decision; the peers' are
    // not this node's to take up; an old one is outside the window.
    let undecided = |since| s.undecided_client_txs(since).unwrap().iter().map(|t| t.hash).collect::<Vec<_>>();
    assert_eq!(undecided(0), [h(1), h(2), h(3)]);
    assert_eq!(undecided(1_002), [h(2), h(3)]);
    // Transaction 1 is certified by a batch, 2 quarantined by it.
    let leaf = |n, kind| BatchLeaf { tx_hash: h(n), kind };
    let tree = BatchTree::new(vec![leaf(1, VoteKind::Clean), leaf(2, VoteKind::Malicious)]).unwrap();
    let cert = BatchCertificate {
        chain_id: 1,
        epoch: 1,
        count: 2,
        root: tree.root(),
        signers: SignerBitmap::from_indexes(4, [0, 1, 2]).unwrap(),
        signature: SignatureBytes([0; 96]),
    };
    let proofs: Vec<InclusionProof> = (0..2u32)
        .map(|i| {
            let l = tree.leaves()[i as usize];
            InclusionProof {
                certificate: cert.clone(),
                index: i,
                tx_hash: l.tx_hash,
                kind: l.kind,
                path: tree.path(i).unwrap(),
            }
        })
        .collect();
    s.put_inclusions(&proofs).unwrap();
    s.quarantine(&qrec(2, 9_000)).unwrap();
    assert_eq!(s.outcome(h(1)).unwrap(), Some(Outcome::Certified));
    assert_eq!(s.certificate(h(1)).unwrap(), Some(Attestation::Inclusion(proofs[0].clone())));
    assert_eq!(undecided(0), [h(3)]);
    // All of it survives a reopen.
    drop(s);
    let s = NodeStore::open(dir.path()).unwrap();
    assert_eq!(s.certificate(h(2)).unwrap(), Some(Attestation::Inclusion(proofs[1].clone())));
    assert_eq!(s.undecided_client_txs(0).unwrap().len(), 1);
    assert_eq!(s.stats().unwrap().txs, 6);
}
