//! `CertificateVerifier::verify` against vigil-consensus' `verify_certificate`:
//! each case must get the same answer on-chain and off-chain, and the
//! contract must revert with the expected reason.

use alloy_primitives::{Bytes, B256};
use alloy_sol_types::SolError;
use vigil_contracts::CertificateVerifier as V;
use vigil_types::{Certificate, SignatureBytes, SignerBitmap, VoteKind};

use crate::{
    evm::Chain,
    util::{first, verify_call, TestCommittee, CHAIN_ID, EPOCH},
};

const TX: B256 = B256::repeat_byte(0x11);

/// Runs `cert` on-chain and off-chain; `want` is `None` for valid, or the
/// selector of the expected revert.
fn check(name: &str, tc: &TestCommittee, cert: &Certificate, want: Option<[u8; 4]>) {
    let mut chain = Chain::new();
    let verifier = tc.deploy(&mut chain);
    let out = chain.transact(verifier, &verify_call(cert));
    let offchain = tc.verify_offchain(cert);
    match want {
        None => {
            assert!(out.is_success(), "{name}: expected valid, got {out:?}");
            assert!(offchain, "{name}: off-chain disagrees (rejects)");
        }
        Some(selector) => {
            assert!(!out.is_success(), "{name}: expected a revert");
            assert_eq!(&out.revert_data()[..4], &selector, "{name}: wrong revert {out:?}");
            assert!(!offchain, "{name}: off-chain disagrees (accepts)");
        }
    }
    let valid = chain.call(verifier, &V::isValidCall::from(verify_call(cert).into_tuple()));
    assert_eq!(valid, want.is_none(), "{name}: isValid");
}

trait IntoTuple {
    fn into_tuple(self) -> (u64, u64, B256, u8, Bytes, Bytes);
}

impl IntoTuple for V::verifyCall {
    fn into_tuple(self) -> (u64, u64, B256, u8, Bytes, Bytes) {
        (self.chainId, self.epoch, self.txHash, self.kind, self.signers, self.signature)
    }
}

#[test]
fn valid_certificates_verify() {
    let four = TestCommittee::new(4, |_| 32);
    check("3 of 4", &four, &four.certificate(TX, VoteKind::Clean, &first(3)), None);
    check("4 of 4", &four, &four.certificate(TX, VoteKind::Clean, &first(4)), None);
    check("malicious 3 of 4", &four, &four.certificate(TX, VoteKind::Malicious, &[0, 2, 3]), None);

    let big = TestCommittee::new(32, |_| 32);
    check("22 of 32", &big, &big.certificate(TX, VoteKind::Clean, &first(22)), None);
    check("32 of 32", &big, &big.certificate(TX, VoteKind::Clean, &first(32)), None);
    let scattered: Vec<usize> = (0..32).filter(|i| i % 4 != 1).collect();
    check("24 of 32 scattered", &big, &big.certificate(TX, VoteKind::Clean, &scattered), None);

    // One whale: a single signer is the smaller side, so the keys of the
    // signers are summed directly rather than subtracted from the total.
    let whale = TestCommittee::new(5, |i| if i == 0 { 1000 } else { 1 });
    check("whale alone", &whale, &whale.certificate(TX, VoteKind::Clean, &[0]), None);
    check("whale and one", &whale, &whale.certificate(TX, VoteKind::Clean, &[0, 4]), None);
}

#[test]
fn invalid_certificates_fail() {
    let four = TestCommittee::new(4, |_| 32);
    let good = four.certificate(TX, VoteKind::Clean, &first(3));

    let mut tampered = good.clone();
    tampered.signature = four.certificate(B256::repeat_byte(0x12), VoteKind::Clean, &first(3)).signature;
    check("tampered signature", &four, &tampered, Some(V::BadSignature::SELECTOR));

    let mut wrong_tx = good.clone();
    wrong_tx.tx_hash = B256::repeat_byte(0x12);
    check("wrong tx hash", &four, &wrong_tx, Some(V::BadSignature::SELECTOR));

    let mut wrong_kind = good.clone();
    wrong_kind.kind = VoteKind::Malicious;
    check("wrong kind", &four, &wrong_kind, Some(V::BadSignature::SELECTOR));

    let mut wrong_signers = good.clone();
    wrong_signers.signers = SignerBitmap::from_indexes(4, [0, 1, 3]).unwrap();
    check("bitmap names other signers", &four, &wrong_signers, Some(V::BadSignature::SELECTOR));

    let mut stray = good.clone();
    stray.signers = SignerBitmap::from_bytes(vec![0b0001_0111]);
    check("stray bitmap bit", &four, &stray, Some(V::StrayBitmapBit::SELECTOR));

    let mut long = good.clone();
    long.signers = SignerBitmap::from_bytes(vec![0b0000_0111, 0]);
    check("bitmap too long", &four, &long, Some(V::BitmapLength::SELECTOR));

    let mut none = good.clone();
    none.signers = SignerBitmap::from_bytes(vec![0]);
    check("no signers", &four, &none, Some(V::NoSigners::SELECTOR));

    check("2 of 4", &four, &four.certificate(TX, VoteKind::Clean, &first(2)), Some(V::BelowThreshold::SELECTOR));

    // Exactly two thirds is not enough.
    let six = TestCommittee::new(6, |_| 10);
    check("exactly 2/3", &six, &six.certificate(TX, VoteKind::Clean, &first(4)), Some(V::BelowThreshold::SELECTOR));
    check("just above 2/3", &six, &six.certificate(TX, VoteKind::Clean, &first(5)), None);
    let big = TestCommittee::new(32, |_| 32);
    check("21 of 32", &big, &big.certificate(TX, VoteKind::Clean, &first(21)), Some(V::BelowThreshold::SELECTOR));
    let whale = TestCommittee::new(5, |i| if i == 0 { 1000 } else { 1 });
    check(
        "four small of whale",
        &whale,
        &whale.certificate(TX, VoteKind::Clean, &[1, 2, 3, 4]),
        Some(V::BelowThreshold::SELECTOR),
    );

    let mut other_chain = good.clone();
    other_chain.chain_id = CHAIN_ID + 1;
    check("wrong chain", &four, &other_chain, Some(V::WrongChain::SELECTOR));

    let mut other_epoch = good.clone();
    other_epoch.epoch = EPOCH + 1;
    check("unknown epoch", &four, &other_epoch, Some(V::UnknownEpoch::SELECTOR));
}

#[test]
fn malformed_signatures_revert() {
    let four = TestCommittee::new(4, |_| 32);
    let good = four.certificate(TX, VoteKind::Clean, &first(3));
    let mut chain = Chain::new();
    let verifier = four.deploy(&mut chain);

    let mut identity = verify_call(&good);
    identity.signature = Bytes::from(vec![0u8; 192]);
    let out = chain.transact(verifier, &identity);
    assert_eq!(&out.revert_data()[..4], &V::IdentitySignature::SELECTOR);
    // The compressed identity signature is also refused off-chain.
    let mut c = good.clone();
    c.signature = SignatureBytes({
        let mut b = [0u8; 96];
        b[0] = 0xc0;
        b
    });
    assert!(!four.verify_offchain(&c));

    let mut off_curve = verify_call(&good);
    let mut raw = off_curve.signature.to_vec();
    raw[100] ^= 1;
    off_curve.signature = raw.into();
    let out = chain.transact(verifier, &off_curve);
    assert_eq!(&out.revert_data()[..4], &V::PrecompileFailed::SELECTOR);

    let mut short = verify_call(&good);
    short.signature = Bytes::from(vec![1u8; 96]);
    assert!(!chain.transact(verifier, &short).is_success());

    let mut bad_kind = verify_call(&good);
    bad_kind.kind = 2;
    let out = chain.transact(verifier, &bad_kind);
    assert_eq!(&out.revert_data()[..4], &V::BadKind::SELECTOR);
}

#[test]
fn publishing_is_checked() {
    let four = TestCommittee::new(4, |_| 32);
    let mut chain = Chain::new();
    let verifier = four.deploy(&mut chain);
    let again = chain.transact(verifier, &four.publish_call());
    assert_eq!(&again.revert_data()[..4], &V::CommitteeExists::SELECTOR);

    let (chain_id, size, num, den, total) = {
        let r = chain.call(verifier, &V::committeeOfCall { epoch: EPOCH });
        (r.chainId, r.size, r.num, r.den, r.totalStake)
    };
    assert_eq!((chain_id, size, num, den), (CHAIN_ID, 4, 2, 3));
    assert_eq!(total, four.committee.total_stake());

    type Edit = Box<dyn Fn(&mut V::publishCommitteeCall)>;
    let cases: Vec<(&str, Edit)> = vec![
        (
            "no members",
            Box::new(|c| {
                c.keys = Bytes::new();
                c.stakes.clear();
            }),
        ),
        ("keys length", Box::new(|c| c.keys = c.keys.slice(..c.keys.len() - 1))),
        ("threshold below half", Box::new(|c| (c.num, c.den) = (1, 3))),
        ("threshold one", Box::new(|c| (c.num, c.den) = (3, 3))),
        ("zero stake", Box::new(|c| c.stakes[1] = alloy_primitives::U256::ZERO)),
        ("total stake", Box::new(|c| c.stakes[1] = alloy_primitives::U256::from(1) << 192)),
        (
            "key off curve",
            Box::new(|c| {
                let mut k = c.keys.to_vec();
                k[127] ^= 1;
                c.keys = k.into();
            }),
        ),
    ];
    for (name, edit) in cases {
        let mut call = four.publish_call();
        call.epoch = EPOCH + 1;
        edit(&mut call);
        let out = chain.transact(verifier, &call);
        assert_eq!(&out.revert_data()[..4], &V::BadCommittee::SELECTOR, "{name}: {out:?}");
    }
}
