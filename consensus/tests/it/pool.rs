//! Aggregation pool behaviour: optimistic aggregation, quarantine,
//! equivocation, bounds.

use crate::common::{setup, tx, vote, CHAIN, EPOCH};
use vigil_consensus::{AggregationPool, Decision, PoolConfig, PoolEvent, QuarantineReason, VoteRejection};
use vigil_types::{SignatureBytes, Vote, VoteKind};

fn pool(s: &crate::common::Setup, config: PoolConfig) -> AggregationPool {
    let mut p = AggregationPool::new(config);
    p.add_committee(s.committee.clone());
    p
}

#[test]
fn a_bad_vote_in_the_aggregate_is_found_and_named() {
    let s = setup(10, &[1, 1, 1, 1, 1]);
    let mut p = pool(&s, PoolConfig::default());
    let h = tx(1);
    // Member 2 sends a signature over another transaction.
    let mut forged = vote(&s.keys, 2, tx(2), VoteKind::Clean);
    forged.tx_hash = h;
    let mut events = Vec::new();
    for v in [vote(&s.keys, 0, h, VoteKind::Clean), forged, vote(&s.keys, 1, h, VoteKind::Clean)] {
        events.extend(p.insert(v, 0).expect("structurally fine"));
    }
    // 3 of 5 do not pass 2/3: nothing verified yet.
    assert!(events.is_empty(), "{events:?}");
    events.extend(p.insert(vote(&s.keys, 3, h, VoteKind::Clean), 1).expect("fine"));
    assert!(events.iter().any(|e| matches!(e, PoolEvent::BadVote { signer: 2, .. })), "{events:?}");
    assert!(!events.iter().any(|e| matches!(e, PoolEvent::Decided { .. })), "3 good of 5 is not enough: {events:?}");
    events = p.insert(vote(&s.keys, 4, h, VoteKind::Clean), 2).expect("fine");
    let cert = events.iter().find_map(|e| match e {
        PoolEvent::Decided { decision: Decision::Certified(c), .. } => Some(c.certificate().clone()),
        _ => None,
    });
    let cert = cert.expect("4 honest of 5 certify");
    assert!(!cert.signers.contains(2));
    // Member 2's real vote is still welcome after its forged one was dropped.
    assert!(p.insert(vote(&s.keys, 2, h, VoteKind::Clean), 3).is_ok());
}

#[test]
fn malicious_stake_quarantines_and_equivocation_yields_evidence() {
    let s = setup(11, &[1, 1, 1, 1]);
    let mut p = pool(&s, PoolConfig::default());
    let h = tx(3);
    let ev = p.insert(vote(&s.keys, 0, h, VoteKind::Malicious), 0).expect("ok");
    assert!(ev.is_empty());
    let ev = p.insert(vote(&s.keys, 1, h, VoteKind::Malicious), 0).expect("ok");
    // 2 of 4 malicious: 2/4 clean at most, not above 2/3.
    assert!(matches!(
        ev.as_slice(),
        [PoolEvent::Decided { decision: Decision::Quarantined(QuarantineReason::MaliciousStake { .. }), .. }]
    ));
    let ev = p.insert(vote(&s.keys, 1, h, VoteKind::Clean), 1).expect("ok");
    let evidence = ev.iter().find_map(|e| match e {
        PoolEvent::Equivocation(ev) => Some(ev.evidence().clone()),
        _ => None,
    });
    let evidence = evidence.expect("member 1 signed both ways");
    assert_eq!(evidence.signer(), 1);
    assert!(vigil_consensus::verify_evidence(&s.committee, &evidence).is_ok());
}

#[test]
fn deadline_quarantines_and_duplicates_are_refused() {
    let s = setup(12, &[1, 1, 1, 1]);
    let mut p = pool(&s, PoolConfig { max_transactions: 10, deadline_ms: 100 });
    let h = tx(4);
    p.insert(vote(&s.keys, 0, h, VoteKind::Clean), 1000).expect("ok");
    assert_eq!(
        p.insert(vote(&s.keys, 0, h, VoteKind::Clean), 1001).unwrap_err(),
        VoteRejection::Duplicate { index: 0, kind: VoteKind::Clean }
    );
    assert_eq!(p.next_deadline(), Some(1100));
    assert!(p.tick(1099).is_empty());
    let ev = p.tick(1100);
    assert!(matches!(
        ev.as_slice(),
        [PoolEvent::Decided { decision: Decision::Quarantined(QuarantineReason::Deadline { .. }), .. }]
    ));
    assert!(p.tick(5000).is_empty(), "a decision is final");
}

#[test]
fn structural_rejections() {
    let s = setup(13, &[1, 1, 1]);
    let mut p = pool(&s, PoolConfig::default());
    let good = vote(&s.keys, 0, tx(5), VoteKind::Clean);
    type Expect = fn(&VoteRejection) -> bool;
    let cases: Vec<(Vote, Expect)> = vec![
        (Vote { chain_id: 1, ..good.clone() }, |r| matches!(r, VoteRejection::WrongChain { .. })),
        (Vote { epoch: EPOCH + 5, ..good.clone() }, |r| matches!(r, VoteRejection::EpochOutsideWindow { .. })),
        (Vote { signer: 3, ..good.clone() }, |r| matches!(r, VoteRejection::UnknownSigner { index: 3, .. })),
        (Vote { signature: SignatureBytes([0xff; 96]), ..good.clone() }, |r| {
            matches!(r, VoteRejection::MalformedSignature { .. })
        }),
        (Vote { kind: VoteKind::Malicious, ..good.clone() }, |r| matches!(r, VoteRejection::BadSignature { index: 0 })),
    ];
    for (v, is_expected) in cases {
        let err = p.insert(v.clone(), 0).unwrap_err();
        assert!(is_expected(&err), "{v:?} gave {err:?}");
    }
    assert_eq!(good.chain_id, CHAIN);
}

#[test]
fn memory_is_bounded_and_oldest_goes_first() {
    let s = setup(14, &[1, 1, 1]);
    let mut p = pool(&s, PoolConfig { max_transactions: 3, deadline_ms: 1000 });
    let mut evicted = Vec::new();
    for i in 0..10 {
        for e in p.insert(vote(&s.keys, 0, tx(i), VoteKind::Clean), i).expect("ok") {
            if let PoolEvent::Evicted { tx_hash, .. } = e {
                evicted.push(tx_hash);
            }
        }
        assert!(p.len() <= 3);
    }
    assert_eq!(evicted, (0..7).map(tx).collect::<Vec<_>>());
}

#[test]
fn the_epoch_window_is_current_and_next() {
    use std::sync::Arc;
    use vigil_consensus::VerifiedCommittee;
    let s = setup(15, &[1, 1, 1]);
    // Committees for epochs 6, 7 and 8 (same members).
    let mut p = AggregationPool::new(PoolConfig::default());
    for e in [EPOCH - 1, EPOCH, EPOCH + 1] {
        let mut c = s.committee.committee().clone();
        c.epoch = e;
        p.add_committee(Arc::new(VerifiedCommittee::new(c).expect("valid")));
    }
    let vote_at = |e: u64| {
        let msg = vigil_types::VoteMessage { chain_id: CHAIN, epoch: e, tx_hash: tx(9), kind: VoteKind::Clean };
        Vote {
            chain_id: CHAIN,
            epoch: e,
            tx_hash: tx(9),
            kind: VoteKind::Clean,
            signer: 0,
            signature: s.keys[0].sign_vote(&msg).to_bytes(),
        }
    };
    p.set_current_epoch(EPOCH);
    assert_eq!(p.insert(vote_at(EPOCH - 1), 0).unwrap_err(), VoteRejection::EpochOutsideWindow { epoch: EPOCH - 1 });
    assert!(p.insert(vote_at(EPOCH), 0).is_ok());
    assert!(p.insert(vote_at(EPOCH + 1), 0).is_ok());
    assert_eq!(p.insert(vote_at(EPOCH + 2), 0).unwrap_err(), VoteRejection::EpochOutsideWindow { epoch: EPOCH + 2 });
    // What a node re-votes when it moves on: the old epoch's undecided ones.
    assert_eq!(p.undecided(EPOCH), vec![tx(9)]);
    assert!(p.undecided(EPOCH + 2).is_empty());
    // Moving on drops the old epoch's transactions.
    p.set_current_epoch(EPOCH + 1);
    assert_eq!(p.len(), 1);
    assert!(p.undecided(EPOCH).is_empty());
    assert_eq!(p.undecided(EPOCH + 1), vec![tx(9)]);
}

#[test]
fn a_certificate_verified_elsewhere_decides_without_further_verification() {
    let s = setup(12, &[1, 1, 1, 1]);
    let h = tx(5);
    // Pool A forms the certificate from three votes.
    let mut a = pool(&s, PoolConfig::default());
    let mut events = Vec::new();
    for i in 0..3 {
        events.extend(a.insert(vote(&s.keys, i, h, VoteKind::Clean), 0).expect("fine"));
    }
    let cert = events
        .into_iter()
        .find_map(|e| match e {
            PoolEvent::Decided { decision: Decision::Certified(c), .. } => Some(c),
            _ => None,
        })
        .expect("3 of 4 certify");
    // Pool B takes it as its decision: later votes, even a forged one that
    // would fail an aggregate check, decide nothing more, and the deadline
    // does not quarantine.
    let mut b = pool(&s, PoolConfig { deadline_ms: 100, ..PoolConfig::default() });
    assert!(b.record_certificate(cert.clone(), 0));
    assert!(matches!(b.decision(EPOCH, &h), Some(Decision::Certified(_))));
    assert!(!b.record_certificate(cert.clone(), 1), "already decided");
    let mut forged = vote(&s.keys, 3, tx(6), VoteKind::Clean);
    forged.tx_hash = h;
    for v in [vote(&s.keys, 0, h, VoteKind::Clean), forged] {
        assert!(b.insert(v, 2).expect("structurally fine").is_empty());
    }
    assert!(b.tick(1_000).is_empty());
    // A quarantined transaction stays quarantined.
    let mut c = pool(&s, PoolConfig { deadline_ms: 100, ..PoolConfig::default() });
    c.insert(vote(&s.keys, 0, h, VoteKind::Clean), 0).expect("fine");
    assert_eq!(c.tick(100).len(), 1);
    assert!(!c.record_certificate(cert, 200));
    assert!(matches!(c.decision(EPOCH, &h), Some(Decision::Quarantined(_))));
}

fn certified(events: &[PoolEvent]) -> Option<vigil_types::Certificate> {
    events.iter().find_map(|e| match e {
        PoolEvent::Decided { decision: Decision::Certified(c), .. } => Some(c.certificate().clone()),
        _ => None,
    })
}

#[test]
fn deferred_votes_count_only_once_their_aggregate_verifies() {
    let s = setup(20, &[1, 1, 1, 1]);
    let mut p = pool(&s, PoolConfig::default());
    let h = tx(20);
    for i in 0..2 {
        let ins = p.insert_deferred(vote(&s.keys, i, h, VoteKind::Clean), 0).expect("fine");
        assert!(ins.claim.is_none() && ins.events.is_empty(), "2 of 4 cannot pass 2/3: {ins:?}");
    }
    let ins = p.insert_deferred(vote(&s.keys, 2, h, VoteKind::Clean), 1).expect("fine");
    assert!(ins.events.is_empty(), "nothing counts before the aggregate is verified: {:?}", ins.events);
    let claim = ins.claim.expect("3 of 4 pending: a claim");
    assert_eq!(claim.tx_hash(), h);
    // The fourth vote waits while the claim is out: no second claim.
    let ins = p.insert_deferred(vote(&s.keys, 3, h, VoteKind::Clean), 2).expect("fine");
    assert!(ins.claim.is_none() && ins.events.is_empty(), "{ins:?}");
    // The same vote again while it is in the claim is a duplicate.
    let again = p.insert_deferred(vote(&s.keys, 1, h, VoteKind::Clean), 2);
    assert!(matches!(again, Err(VoteRejection::Duplicate { index: 1, .. })), "{again:?}");
    assert!(p.decision(EPOCH, &h).is_none());
    let outcome = claim.check().clone().verify();
    let done = p.complete(claim, outcome, 3);
    let cert = certified(&done.events).expect("a verified aggregate of 3 of 4 certifies");
    assert_eq!(cert.signers.count(), 3);
    assert!(done.claim.is_none(), "decided: the waiting fourth vote needs no claim");
}

#[test]
fn a_failed_claim_settles_each_vote_alone_and_names_the_forger() {
    let s = setup(21, &[1, 1, 1, 1]);
    let mut p = pool(&s, PoolConfig::default());
    let h = tx(21);
    let mut forged = vote(&s.keys, 1, tx(22), VoteKind::Clean);
    forged.tx_hash = h;
    p.insert_deferred(vote(&s.keys, 0, h, VoteKind::Clean), 0).expect("fine");
    p.insert_deferred(forged, 0).expect("structurally fine");
    let claim = p.insert_deferred(vote(&s.keys, 2, h, VoteKind::Clean), 0).expect("fine").claim.expect("claim");
    let outcome = claim.check().clone().verify();
    assert!(outcome.is_err(), "an aggregate with a forged signature fails");
    let done = p.complete(claim, outcome, 1);
    assert!(done.events.iter().any(|e| matches!(e, PoolEvent::BadVote { signer: 1, .. })), "{:?}", done.events);
    assert!(certified(&done.events).is_none(), "2 good of 4 do not certify");
    // Member 3's vote brings the verified stake to 3 of 4: a new claim of
    // its vote alone, then the certificate without member 1.
    let claim = p.insert_deferred(vote(&s.keys, 3, h, VoteKind::Clean), 2).expect("fine").claim.expect("claim");
    let outcome = claim.check().clone().verify();
    let cert = certified(&p.complete(claim, outcome, 3).events).expect("certified");
    assert!(!cert.signers.contains(1) && cert.signers.count() == 3, "{cert:?}");
}

#[test]
fn a_valid_signature_of_another_claim_does_not_complete_this_one() {
    let s = setup(22, &[1, 1, 1, 1]);
    let mut p = pool(&s, PoolConfig::default());
    let (a, b) = (tx(30), tx(31));
    let mut forged = vote(&s.keys, 2, tx(32), VoteKind::Clean);
    forged.tx_hash = a;
    p.insert_deferred(vote(&s.keys, 0, a, VoteKind::Clean), 0).expect("fine");
    p.insert_deferred(vote(&s.keys, 1, a, VoteKind::Clean), 0).expect("fine");
    let claim_a = p.insert_deferred(forged, 0).expect("fine").claim.expect("claim on a");
    for i in 0..2 {
        p.insert_deferred(vote(&s.keys, i, b, VoteKind::Clean), 0).expect("fine");
    }
    let claim_b = p.insert_deferred(vote(&s.keys, 2, b, VoteKind::Clean), 0).expect("fine").claim.expect("claim on b");
    let valid_b = claim_b.check().clone().verify();
    assert!(valid_b.is_ok());
    // Claim a, answered with b's valid signature: its votes are checked
    // one by one, and the forged one is found.
    let done = p.complete(claim_a, valid_b, 1);
    assert!(done.events.iter().any(|e| matches!(e, PoolEvent::BadVote { signer: 2, tx_hash } if *tx_hash == a)));
    assert!(p.decision(EPOCH, &a).is_none());
}
