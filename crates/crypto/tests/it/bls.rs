//! Properties of signing, aggregation and batch verification.

use vigil_crypto::{batch_verify, NodeIdentity, PublicKey, SecretKey, Signature, SignatureSet};
use vigil_types::{VoteKind, VoteMessage, B256};

fn key(i: u8) -> SecretKey {
    SecretKey::from_ikm(&[i; 32]).expect("32 bytes of ikm")
}

fn msg(kind: VoteKind) -> VoteMessage {
    VoteMessage { chain_id: 31337, epoch: 7, tx_hash: B256::repeat_byte(0xab), kind }
}

#[test]
fn vote_signature_binds_every_field() {
    let sk = key(1);
    let m = msg(VoteKind::Clean);
    let sig = sk.sign_vote(&m);
    assert!(sig.verify_vote(&sk.public_key(), &m));
    for other in [
        VoteMessage { chain_id: 1, ..m },
        VoteMessage { epoch: 8, ..m },
        VoteMessage { tx_hash: B256::repeat_byte(0xac), ..m },
        m.opposite(),
    ] {
        assert!(!sig.verify_vote(&sk.public_key(), &other), "{other:?}");
    }
    assert!(!sig.verify_vote(&key(2).public_key(), &m));
}

#[test]
fn proof_of_possession_is_bound_to_its_key_and_dst() {
    let (a, b) = (key(1), key(2));
    assert!(a.public_key().verify_possession(&a.prove_possession()));
    assert!(!b.public_key().verify_possession(&a.prove_possession()));
    // A plain signature of the key bytes (signature DST) is not a PoP.
    let wrong_dst = a.sign(a.public_key().to_bytes().as_bytes());
    assert!(!a.public_key().verify_possession(&wrong_dst));
}

#[test]
fn fast_aggregate_verify_needs_exactly_the_signers() {
    let keys: Vec<SecretKey> = (1..=5).map(key).collect();
    let m = msg(VoteKind::Clean).digest();
    let sigs: Vec<Signature> = keys.iter().map(|k| k.sign(&m)).collect();
    let agg = Signature::aggregate(&sigs).expect("non-empty");
    let pks: Vec<PublicKey> = keys.iter().map(SecretKey::public_key).collect();
    assert!(agg.fast_aggregate_verify(&pks, &m));
    assert!(!agg.fast_aggregate_verify(&pks[..4], &m));
    assert!(!agg.fast_aggregate_verify(&[], &m));
    assert!(Signature::aggregate(&[]).is_none());
}

#[test]
fn batch_verify_rejects_a_batch_with_one_bad_set() {
    let keys: Vec<SecretKey> = (1..=8).map(key).collect();
    let msgs: Vec<[u8; 32]> = (0..8u8).map(|i| [i; 32]).collect();
    let pks: Vec<PublicKey> = keys.iter().map(SecretKey::public_key).collect();
    let mut sigs: Vec<Signature> = keys.iter().zip(&msgs).map(|(k, m)| k.sign(m)).collect();
    let sets = |sigs: &[Signature]| -> bool {
        let s: Vec<SignatureSet<'_>> =
            (0..8).map(|i| SignatureSet { public_key: &pks[i], message: &msgs[i], signature: &sigs[i] }).collect();
        batch_verify(&s)
    };
    assert!(sets(&sigs));
    // Swapping two valid signatures keeps their sum: a naive sum check would pass.
    sigs.swap(2, 3);
    assert!(!sets(&sigs));
    assert!(!batch_verify(&[]));
}

#[test]
fn malformed_bytes_give_errors_not_panics() {
    for bad in [&[][..], &[0u8; 47][..], &[0xffu8; 48][..], &[0u8; 49][..]] {
        assert!(PublicKey::from_bytes(bad).is_err());
    }
    for bad in [&[][..], &[0u8; 95][..], &[0xffu8; 96][..]] {
        assert!(Signature::from_bytes(bad).is_err());
    }
    assert!(SecretKey::from_bytes(&[0u8; 32]).is_err());
    assert!(SecretKey::from_bytes(&[0xffu8; 32]).is_err());
    assert!(SecretKey::from_ikm(&[1u8; 31]).is_err());
}

#[test]
fn node_identity_round_trips_through_its_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("p2p.key");
    let id = NodeIdentity::generate();
    id.write(&path).expect("write");
    assert!(id.write(&path).is_err(), "an existing key file is never overwritten");
    let back = NodeIdentity::read(&path).expect("read");
    assert_eq!(id.peer_id().expect("peer id"), back.peer_id().expect("peer id"));
    assert!(id.peer_id().expect("peer id").to_string().starts_with("12D3KooW"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777, 0o600);
    }
    std::fs::write(dir.path().join("bad.key"), "not hex").expect("write");
    let err = NodeIdentity::read(&dir.path().join("bad.key")).unwrap_err().to_string();
    assert!(err.contains("64 hex digits"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_batch_verifier_answers_each_check_and_batches_a_queue() {
    use vigil_crypto::{BatchVerifier, SignatureCheck};
    let verifier = BatchVerifier::start("test-verifier", 16, 256);
    let checks: Vec<(SignatureCheck, bool)> = (0..40u8)
        .map(|i| {
            let sk = key(i + 1);
            let m = VoteMessage { tx_hash: B256::repeat_byte(i), ..msg(VoteKind::Clean) };
            // Every seventh is signed by another key.
            let signer = if i % 7 == 3 { key(200) } else { key(i + 1) };
            let check =
                SignatureCheck { public_key: sk.public_key(), digest: m.digest(), signature: signer.sign_vote(&m) };
            (check, i % 7 != 3)
        })
        .collect();
    let answers = futures::future::join_all(checks.iter().map(|(c, _)| verifier.verify(c.clone()))).await;
    for ((check, genuine), answer) in checks.iter().zip(&answers) {
        match answer {
            Ok(valid) => {
                assert!(genuine, "a forged signature passed");
                assert_eq!(valid.check(), check, "the proof names another check");
            }
            Err(_) => assert!(!genuine, "a genuine signature failed"),
        }
    }
    let stats = verifier.stats();
    assert_eq!(stats.checks(), 40);
    // 40 checks queued at once while the thread verifies the first: they
    // go in batches, and batches holding a forgery were redone one by one.
    assert!(stats.batches() < 40, "no batching: {} rounds", stats.batches());
    assert!(stats.failed_batches() >= 1);
}
