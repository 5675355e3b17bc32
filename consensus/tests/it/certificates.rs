//! Certificate verification: every rejection has its own reason.

use crate::common::{setup, tx, vote, CHAIN, EPOCH};
use vigil_consensus::{
    verify_admission, verify_certificate, verify_certificates_batch, AggregationPool, CertificateError, CommitteeError,
    Decision, PoolConfig, PoolEvent, VerifiedCommittee,
};
use vigil_crypto::Signature;
use vigil_types::{Certificate, SignerBitmap, VoteKind, VoteMessage};

/// A certificate signed by `signers` (no pool involved).
fn cert_by(keys: &[vigil_crypto::SecretKey], n: usize, signers: &[usize], msg: VoteMessage) -> Certificate {
    let sigs: Vec<Signature> = signers.iter().map(|&i| keys[i].sign_vote(&msg)).collect();
    Certificate {
        chain_id: msg.chain_id,
        epoch: msg.epoch,
        tx_hash: msg.tx_hash,
        kind: msg.kind,
        signers: SignerBitmap::from_indexes(n, signers.iter().copied()).expect("in range"),
        signature: Signature::aggregate(&sigs).expect("non-empty").to_bytes(),
    }
}

#[test]
fn rejections_each_have_their_own_reason() {
    // Stakes 10,10,10,10,20 (total 60): 40 is exactly 2/3.
    let s = setup(1, &[10, 10, 10, 10, 20]);
    let c = &s.committee;
    let msg = VoteMessage { chain_id: CHAIN, epoch: EPOCH, tx_hash: tx(1), kind: VoteKind::Clean };
    let good = cert_by(&s.keys, 5, &[0, 1, 2, 4], msg);
    assert!(verify_certificate(c, &good).is_ok());
    assert!(verify_admission(c, &good, tx(1)).is_ok());

    let mut tampered = good.clone();
    tampered.signature = s.keys[0].sign_vote(&msg).to_bytes();
    let mut undecodable = good.clone();
    undecodable.signature.0[5] ^= 0x40;
    let wrong_chain = cert_by(&s.keys, 5, &[0, 1, 2, 4], VoteMessage { chain_id: 1, ..msg });
    let wrong_epoch = cert_by(&s.keys, 5, &[0, 1, 2, 4], VoteMessage { epoch: 8, ..msg });
    let at_threshold = cert_by(&s.keys, 5, &[0, 1, 4], msg);
    let mut stray = good.clone();
    stray.signers = SignerBitmap::from_bytes(vec![0b1001_0111]);
    let mut long = good.clone();
    long.signers = SignerBitmap::from_bytes(vec![0b0001_0111, 0]);
    let mut moved = good.clone();
    moved.tx_hash = tx(2);

    let reasons: Vec<(String, CertificateError)> = vec![
        ("tampered".into(), verify_certificate(c, &tampered).unwrap_err()),
        ("undecodable".into(), verify_certificate(c, &undecodable).unwrap_err()),
        ("chain".into(), verify_certificate(c, &wrong_chain).unwrap_err()),
        ("epoch".into(), verify_certificate(c, &wrong_epoch).unwrap_err()),
        ("threshold".into(), verify_certificate(c, &at_threshold).unwrap_err()),
        ("stray".into(), verify_certificate(c, &stray).unwrap_err()),
        ("length".into(), verify_certificate(c, &long).unwrap_err()),
        ("tx".into(), verify_admission(c, &moved, tx(1)).unwrap_err()),
    ];
    assert!(matches!(reasons[0].1, CertificateError::BadSignature));
    assert!(matches!(reasons[1].1, CertificateError::MalformedSignature(_)));
    assert!(matches!(reasons[2].1, CertificateError::WrongChain { got: 1, want: CHAIN }));
    assert!(matches!(reasons[3].1, CertificateError::WrongEpoch { got: 8, want: EPOCH }));
    assert!(matches!(reasons[4].1, CertificateError::InsufficientStake { .. }));
    assert!(matches!(reasons[7].1, CertificateError::WrongTransaction { .. }));
    let texts: std::collections::HashSet<String> = reasons.iter().map(|(_, e)| e.to_string()).collect();
    assert_eq!(texts.len(), reasons.len(), "reasons must differ: {reasons:#?}");
    // A moved tx hash without an expected hash still fails (signature).
    assert!(matches!(verify_certificate(c, &moved), Err(CertificateError::BadSignature)));
}

#[test]
fn committee_with_a_bad_proof_of_possession_is_refused() {
    let s = setup(2, &[1, 1, 1]);
    let mut json = s.committee.committee().clone();
    json.members[1].pop = s.keys[2].prove_possession().to_bytes();
    assert_eq!(VerifiedCommittee::new(json).unwrap_err(), CommitteeError::InvalidPop { index: 1 });

    // A rogue key (-pk0 + own) cannot come with a valid proof: we can only
    // offer the PoP of some key we hold, which is for another key.
    let mut json = s.committee.committee().clone();
    json.members[2].bls_pubkey = s.keys[0].public_key().to_bytes();
    assert!(VerifiedCommittee::new(json).is_err());
}

#[test]
fn batch_verification_agrees_with_single_verification() {
    let s = setup(3, &[5, 5, 5, 5]);
    let certs: Vec<Certificate> = (0..16)
        .map(|i| {
            let msg = VoteMessage { chain_id: CHAIN, epoch: EPOCH, tx_hash: tx(i), kind: VoteKind::Clean };
            cert_by(&s.keys, 4, &[0, 1, 3], msg)
        })
        .collect();
    let pairs: Vec<_> = certs.iter().map(|c| (s.committee.as_ref(), c)).collect();
    assert!(verify_certificates_batch(&pairs).iter().all(Result::is_ok));
    let mut bad = certs.clone();
    bad[9].signature = certs[8].signature;
    let pairs: Vec<_> = bad.iter().map(|c| (s.committee.as_ref(), c)).collect();
    let results = verify_certificates_batch(&pairs);
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r.is_ok(), i != 9, "certificate {i}: {r:?}");
    }
}

#[test]
fn pool_certificates_verify() {
    let s = setup(4, &[3, 3, 3, 3]);
    let mut pool = AggregationPool::new(PoolConfig::default());
    pool.add_committee(s.committee.clone());
    let mut cert = None;
    for i in 0..4 {
        for ev in pool.insert(vote(&s.keys, i, tx(9), VoteKind::Clean), 0).expect("accepted") {
            if let PoolEvent::Decided { decision: Decision::Certified(c), .. } = ev {
                cert = Some(c);
            }
        }
    }
    let cert = cert.expect("three of four equal members certify");
    assert_eq!(cert.certificate().signers.count(), 3, "certified as soon as the threshold passed");
    assert!(verify_certificate(&s.committee, cert.certificate()).is_ok());
}

#[test]
fn a_pending_certificate_completes_only_with_its_own_valid_signature() {
    let s = setup(3, &[1, 1, 1, 1]);
    let c = &s.committee;
    let msg = |n| VoteMessage { chain_id: CHAIN, epoch: EPOCH, tx_hash: tx(n), kind: VoteKind::Clean };
    let a = vigil_consensus::prepare_admission(c, &cert_by(&s.keys, 4, &[0, 1, 2], msg(1)), tx(1)).expect("a");
    let b = vigil_consensus::prepare_certificate(c, &cert_by(&s.keys, 4, &[0, 1, 3], msg(2))).expect("b");
    let valid_b = b.check().clone().verify();
    assert!(valid_b.is_ok());
    assert!(matches!(a.clone().complete(valid_b.clone()), Err(CertificateError::BadSignature)));
    assert!(b.complete(valid_b).is_ok());
    let valid_a = a.check().clone().verify();
    assert_eq!(a.complete(valid_a).expect("its own check").certificate().tx_hash, tx(1));
    // A malicious certificate for the admission: the signature is checked
    // first, then the kind.
    let mal = VoteMessage { kind: VoteKind::Malicious, ..msg(4) };
    let pending = vigil_consensus::prepare_admission(c, &cert_by(&s.keys, 4, &[0, 1, 2], mal), tx(4)).expect("p");
    let outcome = pending.check().clone().verify();
    assert!(matches!(pending.complete(outcome), Err(CertificateError::NotClean(VoteKind::Malicious))));
}

/// DESIGN §4b: a batch certificate is checked exactly as a certificate, and
/// an inclusion proof admits its one transaction: the path first, then the
/// certificate (or the verifier's cached copy of it).
#[test]
fn inclusion_proofs_admit_exactly_their_transaction() {
    use vigil_consensus::{verify_batch_certificate, verify_inclusion, verify_inclusion_admission};
    use vigil_types::{BatchCertificate, BatchLeaf, BatchMessage, BatchTree, InclusionProof};

    let s = setup(1, &[10, 10, 10, 10, 20]);
    let c = &s.committee;
    let leaves: Vec<BatchLeaf> = (1..=6)
        .map(|i| BatchLeaf { tx_hash: tx(i), kind: if i == 4 { VoteKind::Malicious } else { VoteKind::Clean } })
        .collect();
    let tree = BatchTree::new(leaves.clone()).expect("a batch");
    let sign = |signers: &[usize], msg: BatchMessage| BatchCertificate {
        chain_id: msg.chain_id,
        epoch: msg.epoch,
        count: msg.count,
        root: msg.root,
        signers: SignerBitmap::from_indexes(5, signers.iter().copied()).expect("in range"),
        signature: Signature::aggregate(&signers.iter().map(|&i| s.keys[i].sign(&msg.digest())).collect::<Vec<_>>())
            .expect("non-empty")
            .to_bytes(),
    };
    let msg = BatchMessage { chain_id: CHAIN, epoch: EPOCH, count: tree.count(), root: tree.root() };
    let cert = sign(&[0, 1, 2, 4], msg);
    let proof = |i: u32| InclusionProof {
        certificate: cert.clone(),
        index: i,
        tx_hash: leaves[i as usize].tx_hash,
        kind: leaves[i as usize].kind,
        path: tree.path(i).expect("in range"),
    };
    let verified = verify_batch_certificate(c, &cert).expect("valid batch certificate");
    for i in 0..tree.count() {
        let v = verify_inclusion(c, &proof(i), None).expect("valid proof");
        assert_eq!((v.tx_hash(), v.kind()), (leaves[i as usize].tx_hash, leaves[i as usize].kind));
        assert_eq!(verify_inclusion(c, &proof(i), Some(&verified)).expect("cached").signed_stake(), v.signed_stake());
    }
    assert!(verify_inclusion_admission(c, &proof(0), tx(1), None).is_ok());
    assert!(matches!(
        verify_inclusion_admission(c, &proof(3), tx(4), None),
        Err(CertificateError::NotClean(VoteKind::Malicious))
    ));
    assert!(matches!(
        verify_inclusion_admission(c, &proof(0), tx(2), None),
        Err(CertificateError::WrongTransaction { .. })
    ));

    let mut flipped = proof(3);
    flipped.kind = VoteKind::Clean;
    assert!(matches!(verify_inclusion(c, &flipped, Some(&verified)), Err(CertificateError::Inclusion(_))));
    let mut moved = proof(1);
    moved.index = 2;
    assert!(matches!(verify_inclusion(c, &moved, None), Err(CertificateError::Inclusion(_))));
    // A count the signers did not sign: the path may fit, the signature does not.
    let mut recounted = proof(0);
    recounted.certificate.count += 2;
    assert!(matches!(verify_inclusion(c, &recounted, Some(&verified)), Err(CertificateError::BadSignature)));
    // Stake exactly at two thirds (40 of 60), and another epoch's committee.
    let at = InclusionProof { certificate: sign(&[0, 1, 4], msg), ..proof(0) };
    assert!(matches!(verify_inclusion(c, &at, None), Err(CertificateError::InsufficientStake { .. })));
    let other =
        InclusionProof { certificate: sign(&[0, 1, 2, 4], BatchMessage { epoch: EPOCH + 1, ..msg }), ..proof(0) };
    assert!(matches!(verify_inclusion(c, &other, None), Err(CertificateError::WrongEpoch { .. })));
}

/// DESIGN §4b equivocation: a member's clean vote on a transaction and its
/// batch vote whose leaf for that transaction says malicious (or two batch
/// leaves) prove it signed both ways; a statement that does not hold is
/// named.
#[test]
fn a_vote_and_a_batch_leaf_that_disagree_are_evidence() {
    use vigil_consensus::{verify_statement_evidence, EvidenceError};
    use vigil_types::{
        BatchLeaf, BatchMessage, BatchStatement, BatchTree, BatchVote, Statement, StatementEvidence, Vote, Wire,
    };

    let s = setup(1, &[10, 10, 10, 10, 20]);
    let c = &s.committee;
    let batch = |signer: usize, key: usize, bad: u64| {
        let leaves: Vec<BatchLeaf> = (1..=5)
            .map(|i| BatchLeaf { tx_hash: tx(i), kind: if i == bad { VoteKind::Malicious } else { VoteKind::Clean } })
            .collect();
        let tree = BatchTree::new(leaves).expect("batch");
        let msg = BatchMessage { chain_id: CHAIN, epoch: EPOCH, count: tree.count(), root: tree.root() };
        let vote = BatchVote {
            chain_id: CHAIN,
            epoch: EPOCH,
            count: msg.count,
            root: msg.root,
            signer: signer as u32,
            signature: s.keys[key].sign(&msg.digest()).to_bytes(),
        };
        (tree, vote)
    };
    let leaf = |tree: &BatchTree, vote: &BatchVote, i: u32| {
        let l = tree.leaves()[i as usize];
        Statement::Batch(BatchStatement {
            batch_vote: vote.clone(),
            index: i,
            tx_hash: l.tx_hash,
            kind: l.kind,
            path: tree.path(i).expect("in range"),
        })
    };
    let clean_vote = |signer: u32| {
        let msg = VoteMessage { chain_id: CHAIN, epoch: EPOCH, tx_hash: tx(3), kind: VoteKind::Clean };
        Statement::Vote(Vote {
            chain_id: CHAIN,
            epoch: EPOCH,
            tx_hash: tx(3),
            kind: VoteKind::Clean,
            signer,
            signature: s.keys[signer as usize].sign_vote(&msg).to_bytes(),
        })
    };

    // Member 2 voted clean on tx 3, and signed a batch that calls it malicious.
    let (tree, vote) = batch(2, 2, 3);
    let evidence = StatementEvidence::new(leaf(&tree, &vote, 2), clean_vote(2)).expect("they conflict");
    assert!(verify_statement_evidence(c, &evidence).is_ok());
    assert_eq!(StatementEvidence::decode(&evidence.encode()).expect("decodes"), evidence);
    let json = serde_json::to_string(&evidence).expect("json");
    assert_eq!(serde_json::from_str::<StatementEvidence>(&json).expect("parses"), evidence);

    // Two batches that disagree on tx 3.
    let (other_tree, other_vote) = batch(2, 2, 0);
    let both = StatementEvidence::new(leaf(&tree, &vote, 2), leaf(&other_tree, &other_vote, 2)).expect("conflict");
    assert!(verify_statement_evidence(c, &both).is_ok());

    // A leaf of another transaction, or of the same kind, is no conflict.
    assert!(StatementEvidence::new(leaf(&tree, &vote, 1), clean_vote(2)).is_err());
    assert!(StatementEvidence::new(leaf(&other_tree, &other_vote, 2), clean_vote(2)).is_err());
    // A batch vote signed by member 1 but claiming member 2.
    let (forged_tree, forged) = batch(2, 1, 3);
    let e = StatementEvidence::new(leaf(&forged_tree, &forged, 2), clean_vote(2)).expect("shape");
    assert!(matches!(verify_statement_evidence(c, &e), Err(EvidenceError::BadStatement { which: "malicious", .. })));
    // A path that does not lead to the signed root.
    let Statement::Batch(mut moved) = leaf(&tree, &vote, 2) else { unreachable!() };
    moved.path[0] = tx(9);
    let e = StatementEvidence::new(Statement::Batch(moved), clean_vote(2)).expect("shape");
    let err = verify_statement_evidence(c, &e).expect_err("bad path");
    assert!(err.to_string().contains("audit path"), "{err}");
}
