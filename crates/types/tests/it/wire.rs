//! Canonical encodings: decode then encode gives the same bytes, arbitrary
//! bytes never panic, bounds hold.

use arbitrary::{Arbitrary, Unstructured};
use proptest::prelude::*;
use vigil_types::{
    BatchCertificate, BatchProposal, BatchVote, Certificate, Committee, EquivocationEvidence, InclusionProof,
    StatementEvidence, TxAnnouncement, Vote, Wire,
};

/// Every byte string either fails to decode or re-encodes to itself.
fn canonical<T: Wire>(bytes: &[u8]) {
    if let Ok(v) = T::decode(bytes) {
        assert_eq!(v.encode(), bytes, "{}: non-canonical bytes accepted", T::NAME);
    }
}

/// Every value round-trips through its encoding.
fn round_trip<T: Wire + for<'a> Arbitrary<'a> + PartialEq + std::fmt::Debug>(seed: &[u8], valid: fn(&T) -> bool) {
    let mut u = Unstructured::new(seed);
    // Only values that satisfy the type's rules have an encoding to speak of.
    if let Some(v) = T::arbitrary(&mut u).ok().filter(valid) {
        let bytes = v.encode();
        if bytes.len() <= T::MAX_SIZE {
            match T::decode(&bytes) {
                Ok(back) => assert_eq!(back, v),
                Err(e) => panic!("{}: a valid value failed to decode: {e}", T::NAME),
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn arbitrary_bytes_are_canonical_or_rejected(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        canonical::<Vote>(&bytes);
        canonical::<Certificate>(&bytes);
        canonical::<EquivocationEvidence>(&bytes);
        canonical::<TxAnnouncement>(&bytes);
        canonical::<Committee>(&bytes);
        canonical::<BatchVote>(&bytes);
        canonical::<BatchCertificate>(&bytes);
        canonical::<InclusionProof>(&bytes);
        canonical::<StatementEvidence>(&bytes);
        canonical::<BatchProposal>(&bytes);
    }

    #[test]
    fn values_round_trip(seed in proptest::collection::vec(any::<u8>(), 0..2048)) {
        round_trip::<Vote>(&seed, |_| true);
        round_trip::<Certificate>(&seed, |_| true);
        round_trip::<EquivocationEvidence>(&seed, |_| true);
        round_trip::<TxAnnouncement>(&seed, |t| !t.raw.is_empty());
        round_trip::<Committee>(&seed, |c| c.check().is_ok());
        round_trip::<BatchVote>(&seed, |v| (1..=4096).contains(&v.count));
        round_trip::<BatchCertificate>(&seed, |c| (1..=4096).contains(&c.count));
        round_trip::<InclusionProof>(&seed, |p| (1..=4096).contains(&p.certificate.count));
        round_trip::<BatchProposal>(&seed, |b| b.txs.iter().all(|t| !t.is_empty()));
    }

    #[test]
    fn flipping_any_byte_of_a_vote_changes_or_breaks_it(seed in proptest::collection::vec(any::<u8>(), 200..400), pos in 0usize..150, bit in 0u8..8) {
        let Ok(v) = Vote::arbitrary(&mut Unstructured::new(&seed)) else { return Ok(()) };
        let mut bytes = v.encode();
        bytes[pos] ^= 1 << bit;
        if let Ok(w) = Vote::decode(&bytes) { prop_assert_ne!(w, v) }
    }
}

#[test]
fn specific_rejections_name_the_problem() {
    let vote = Vote {
        chain_id: 1,
        epoch: 2,
        tx_hash: Default::default(),
        kind: vigil_types::VoteKind::Clean,
        signer: 3,
        signature: vigil_types::SignatureBytes([0; 96]),
    };
    let bytes = vote.encode();
    assert_eq!(bytes.len(), Vote::ENCODED_LEN);
    let mut v2 = bytes.clone();
    v2[0] = 2;
    assert!(Vote::decode(&v2).unwrap_err().to_string().contains("unknown version 2"));
    let mut long = bytes.clone();
    long.push(0);
    assert!(Vote::decode(&long).unwrap_err().to_string().contains("over the 150 byte limit"));
    assert!(Vote::decode(&bytes[..100]).unwrap_err().to_string().contains("truncated in field `signature`"));
    let mut kind = bytes.clone();
    kind[49] = 7;
    assert!(Vote::decode(&kind).unwrap_err().to_string().contains("kind byte 7"));
    // A certificate bitmap longer than any committee.
    let mut cert = vec![1u8];
    cert.extend_from_slice(&[0; 8 + 8 + 32 + 1]);
    cert.extend_from_slice(&600u16.to_be_bytes());
    assert!(Certificate::decode(&cert).unwrap_err().to_string().contains("field `signers` is 600 bytes"));
    // A transaction announcement over the transaction size limit.
    let mut ann = vec![1u8];
    ann.extend_from_slice(&(200_000u32).to_be_bytes());
    assert!(TxAnnouncement::decode(&ann).unwrap_err().to_string().contains("over its 131072 byte limit"));
    // A batch proposal with no transaction, or more than a batch holds.
    let mut empty = vec![1u8];
    empty.extend_from_slice(&1u64.to_be_bytes());
    empty.extend_from_slice(&0u16.to_be_bytes());
    assert!(BatchProposal::decode(&empty).unwrap_err().to_string().contains("0 transactions, outside 1 to 1024"));
    let mut many = empty.clone();
    many[9..11].copy_from_slice(&1025u16.to_be_bytes());
    assert!(BatchProposal::decode(&many).unwrap_err().to_string().contains("1025 transactions"));
    // Evidence with votes in the wrong order is not canonical.
    let clean = vote.clone();
    let mal = Vote { kind: vigil_types::VoteKind::Malicious, ..vote.clone() };
    let ev = EquivocationEvidence::new(mal.clone(), clean.clone()).expect("conflicting");
    assert_eq!(ev.clean(), &clean);
    let mut swapped = vec![1u8];
    swapped.extend(mal.encode());
    swapped.extend(clean.encode());
    assert!(EquivocationEvidence::decode(&swapped).unwrap_err().to_string().contains("canonical order"));
    assert!(EquivocationEvidence::new(clean.clone(), clean).is_err());
}
