//! Random committees and certificates, valid and invalid: the contract
//! accepts exactly what vigil-consensus' `verify_certificate` accepts.

use alloy_primitives::B256;
use rand::{seq::SliceRandom, Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vigil_consensus::VerifiedCommittee;
use vigil_types::{SignerBitmap, VoteKind};

use crate::{
    evm::Chain,
    util::{verify_call, TestCommittee},
};

#[test]
fn contract_agrees_with_offchain_verification() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let (mut accepted, mut rejected) = (0, 0);
    for _ in 0..16 {
        let n = rng.gen_range(1..=40);
        let stakes: Vec<u64> = (0..n).map(|_| rng.gen_range(1..=100)).collect();
        let tc = TestCommittee::new(n, |i| stakes[i]);
        let committee = VerifiedCommittee::new(tc.committee.clone()).unwrap();
        let mut chain = Chain::new();
        let verifier = tc.deploy(&mut chain);
        for _ in 0..8 {
            let tx = B256::from(rng.gen::<[u8; 32]>());
            let kind = if rng.gen_bool(0.8) { VoteKind::Clean } else { VoteKind::Malicious };
            let mut members: Vec<usize> = (0..n).collect();
            members.shuffle(&mut rng);
            // Mostly near or above the threshold, sometimes anywhere.
            let k = if rng.gen_bool(0.7) { rng.gen_range((n * 2 / 3).max(1)..=n) } else { rng.gen_range(1..=n) };
            let mut cert = tc.certificate(tx, kind, &members[..k]);
            match rng.gen_range(0..8) {
                0 => cert.tx_hash = B256::from(rng.gen::<[u8; 32]>()),
                1 => cert.kind = cert.kind.opposite(),
                2 => {
                    let other = tc.certificate(B256::ZERO, kind, &members[..k]);
                    cert.signature = other.signature;
                }
                3 if k < n => {
                    // Claim one more signer than signed.
                    let mut claimed = members[..=k].to_vec();
                    claimed.sort_unstable();
                    cert.signers = SignerBitmap::from_indexes(n, claimed).unwrap();
                }
                4 if n % 8 != 0 => {
                    let mut bytes = cert.signers.as_bytes().to_vec();
                    *bytes.last_mut().unwrap() |= 0x80;
                    cert.signers = SignerBitmap::from_bytes(bytes);
                }
                _ => {}
            }
            let offchain = vigil_consensus::verify_certificate(&committee, &cert).is_ok();
            let onchain = chain.transact(verifier, &verify_call(&cert)).is_success();
            assert_eq!(onchain, offchain, "n = {n}, signers = {k}: {cert:?}");
            if offchain {
                accepted += 1;
            } else {
                rejected += 1;
            }
        }
    }
    println!("differential: {accepted} accepted, {rejected} rejected, all agreeing");
    assert!(accepted >= 10 && rejected >= 10, "accepted {accepted}, rejected {rejected}");
}
