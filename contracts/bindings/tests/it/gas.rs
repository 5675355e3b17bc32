//! Gas of on-chain certificate verification by committee size. Prints a
//! table (`cargo test -p vigil-contracts --test it gas -- --nocapture`).

use alloy_primitives::B256;
use vigil_types::VoteKind;

use crate::{
    evm::Chain,
    util::{verify_call, TestCommittee},
};

fn measure(n: usize, signers: usize) -> (u64, u64) {
    let tc = TestCommittee::new(n, |_| 32);
    let mut chain = Chain::new();
    let verifier = tc.deploy(&mut chain);
    let publish = chain.transact(verifier, &{
        let mut c = tc.publish_call();
        c.epoch += 1;
        c
    });
    assert!(publish.is_success());
    let signing: Vec<usize> = (0..signers).collect();
    let cert = tc.certificate(B256::repeat_byte(0x77), VoteKind::Clean, &signing);
    let out = chain.transact(verifier, &verify_call(&cert));
    assert!(out.is_success(), "n = {n}: {out:?}");
    (out.gas_used(), publish.gas_used())
}

#[test]
fn gas_by_committee_size() {
    let sizes = [4, 32, 128, 512];
    println!("| members | signers | verify (tx gas) | publishCommittee (tx gas) |");
    for n in sizes {
        let two_thirds = n * 2 / 3 + 1;
        for signers in [two_thirds, n] {
            let (verify, publish) = measure(n, signers);
            println!("| {n} | {signers} | {verify} | {publish} |");
            if n <= 128 {
                assert!(verify < 300_000, "n = {n}: {verify} gas");
            }
        }
    }
}

/// Gas of `verifyInclusion` (DESIGN §4b) by committee size and batch size:
/// the batch certificate costs what a certificate does, and each level of
/// the audit path one SHA-256 precompile call.
#[test]
fn gas_of_inclusion_proofs() {
    println!("| members | signers | batch | path | verifyInclusion (tx gas) |");
    for n in [4, 128] {
        let tc = TestCommittee::new(n, |_| 32);
        let mut chain = Chain::new();
        let verifier = tc.deploy(&mut chain);
        let signers: Vec<usize> = (0..n * 2 / 3 + 1).collect();
        for (count, index) in [(1, 0), (64, 17), (4096, 4095), (4096, 1234)] {
            let proof = tc.inclusion(count, index, &signers);
            let committee = vigil_consensus::VerifiedCommittee::new(tc.committee.clone()).unwrap();
            vigil_consensus::verify_inclusion(&committee, &proof, None).expect("valid off-chain");
            let call = vigil_contracts::onchain::verify_inclusion_call(&proof).unwrap();
            let out = chain.transact(verifier, &call);
            assert!(out.is_success(), "n = {n}, batch {count}: {out:?}");
            println!("| {n} | {} | {count} | {} | {} |", signers.len(), proof.path.len(), out.gas_used());
            // A flipped kind fails the path on-chain as off-chain.
            let mut flipped = proof.clone();
            flipped.kind = VoteKind::Malicious;
            let out = chain.transact(verifier, &vigil_contracts::onchain::verify_inclusion_call(&flipped).unwrap());
            assert!(!out.is_success());
            if n <= 128 {
                assert!(out.gas_used() < 300_000);
            }
        }
    }
}
