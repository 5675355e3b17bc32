//! `InspectorRegistry::register`: the proof of possession is checked on-chain.

use alloy_primitives::{Address, Bytes, U256};
use alloy_sol_types::SolError;
use vigil_contracts::{g1_eip2537, g2_affine, InspectorRegistry as R};
use vigil_crypto::{PublicKey, SecretKey, Signature};

use crate::evm::{ether, Chain, Outcome, DEPLOYER};

const MIN_STAKE: u64 = 32;

fn key(i: u8) -> SecretKey {
    SecretKey::from_ikm(&[i; 32]).unwrap()
}

/// The registration call for `pk` with proof `pop` (both compressed).
fn register_call(pk: &[u8; 48], pop: &[u8; 96], peer: &str) -> R::registerCall {
    R::registerCall {
        pubkey: Bytes::copy_from_slice(pk),
        pubkeyPoint: Bytes::copy_from_slice(&g1_eip2537(pk).unwrap()),
        pop: Bytes::copy_from_slice(pop),
        popPoint: Bytes::copy_from_slice(&g2_affine(pop).unwrap()),
        peerId: peer.into(),
    }
}

fn honest_call(sk: &SecretKey) -> R::registerCall {
    register_call(&sk.public_key().to_bytes().0, &sk.prove_possession().to_bytes().0, "12D3KooWTest")
}

struct Setup {
    chain: Chain,
    registry: Address,
}

impl Setup {
    fn new() -> Self {
        let c = vigil_contracts::onchain::Contracts::deploy(ether(MIN_STAKE), 31337, 0).unwrap();
        Self { chain: Chain(c.chain), registry: c.registry }
    }

    fn register(&mut self, who: u8, call: &R::registerCall) -> Outcome {
        let from = Address::repeat_byte(who);
        self.chain.fund(from);
        self.chain.transact_from(from, ether(MIN_STAKE), self.registry, call)
    }
}

fn assert_reverts(out: &Outcome, selector: [u8; 4], name: &str) {
    assert!(!out.is_success(), "{name}: expected a revert");
    assert_eq!(&out.revert_data()[..4], &selector, "{name}: {out:?}");
}

#[test]
fn registers_with_a_valid_proof() {
    // Both values of the sign flag, for keys and for proofs, are exercised.
    let flags = |f: &dyn Fn(u8) -> u8| (0..4u8).map(|i| f(i) & 0x20).collect::<std::collections::BTreeSet<_>>().len();
    assert_eq!(flags(&|i| key(i).public_key().to_bytes().0[0]), 2);
    assert_eq!(flags(&|i| key(i).prove_possession().to_bytes().0[0]), 2);
    let mut s = Setup::new();
    for i in 0..4u8 {
        let out = s.register(i + 1, &honest_call(&key(i)));
        assert!(out.is_success(), "member {i}: {out:?}");
        if i == 0 {
            println!("register: {} gas", out.gas_used());
        }
    }
    assert_eq!(s.chain.call(s.registry, &R::operatorCountCall {}), U256::from(4));
    let op = s.chain.call(s.registry, &R::operatorAtCall { index: U256::from(2) });
    assert_eq!(op.owner, Address::repeat_byte(3));
    assert_eq!(op.stake, ether(MIN_STAKE));
    assert_eq!(op.pubkey.as_ref(), key(2).public_key().to_bytes().0.as_slice());
    assert_eq!(op.pop.as_ref(), key(2).prove_possession().to_bytes().0.as_slice());
    assert_eq!(op.peerId, "12D3KooWTest");
    let _ = DEPLOYER;
}

#[test]
fn proof_of_another_key_fails() {
    let mut s = Setup::new();
    let (attacker, victim) = (key(1), key(2));
    // The victim's key with the victim's proof, sent by the attacker, is
    // fine cryptographically: stealing a key's registration needs the key
    // not to be registered yet. A proof made by another key is not.
    let call =
        register_call(&attacker.public_key().to_bytes().0, &victim.prove_possession().to_bytes().0, "12D3KooWTest");
    assert_reverts(&s.register(9, &call), R::InvalidProofOfPossession::SELECTOR, "victim's proof");
    // A signature by the right key of the wrong message.
    let wrong = attacker.sign(b"not the key");
    let call = register_call(&attacker.public_key().to_bytes().0, &wrong.to_bytes().0, "12D3KooWTest");
    assert_reverts(&s.register(9, &call), R::InvalidProofOfPossession::SELECTOR, "signature of another message");
    assert_eq!(s.chain.call(s.registry, &R::operatorCountCall {}), U256::ZERO);
}

#[test]
fn rogue_key_fails() {
    let mut s = Setup::new();
    let (a, b) = (key(1), key(2));
    assert!(s.register(1, &honest_call(&a)).is_success());
    assert!(s.register(2, &honest_call(&b)).is_success());
    // A key built from the members' keys, with their proofs aggregated: no
    // one knows its secret, and the aggregate is not a proof for it.
    let rogue = PublicKey::aggregate([&a.public_key(), &b.public_key()]).unwrap();
    let pops = [a.prove_possession(), b.prove_possession()];
    let pop = Signature::aggregate(&pops).unwrap();
    let call = register_call(&rogue.to_bytes().0, &pop.to_bytes().0, "12D3KooWRogue");
    assert_reverts(&s.register(3, &call), R::InvalidProofOfPossession::SELECTOR, "rogue key");
}

#[test]
fn registration_checks() {
    let mut s = Setup::new();
    let sk = key(5);
    let good = honest_call(&sk);

    let mut flipped_sign = good.clone();
    let mut pk = flipped_sign.pubkey.to_vec();
    pk[0] ^= 0x20;
    flipped_sign.pubkey = pk.into();
    assert_reverts(&s.register(1, &flipped_sign), R::BadPublicKey::SELECTOR, "key sign flag");

    let mut other_point = good.clone();
    other_point.pubkeyPoint = Bytes::copy_from_slice(&g1_eip2537(&key(6).public_key().to_bytes().0).unwrap());
    assert_reverts(&s.register(1, &other_point), R::BadPublicKey::SELECTOR, "key point of another key");

    let mut short = good.clone();
    short.pubkey = short.pubkey.slice(..47);
    assert_reverts(&s.register(1, &short), R::BadPublicKey::SELECTOR, "short key");

    // Same x and sign flag, y off by one: not on the curve, which the
    // pairing precompile refuses.
    let mut off_curve = good.clone();
    let mut point = off_curve.pubkeyPoint.to_vec();
    point[127] ^= 1;
    off_curve.pubkeyPoint = point.into();
    assert_reverts(&s.register(1, &off_curve), R::PrecompileFailed::SELECTOR, "key off the curve");

    let mut pop_sign = good.clone();
    let mut pop = pop_sign.pop.to_vec();
    pop[0] ^= 0x20;
    pop_sign.pop = pop.into();
    assert_reverts(&s.register(1, &pop_sign), R::BadProofEncoding::SELECTOR, "proof sign flag");

    let mut no_peer = good.clone();
    no_peer.peerId = String::new();
    assert_reverts(&s.register(1, &no_peer), R::BadPeerId::SELECTOR, "empty peer id");

    let from = Address::repeat_byte(1);
    s.chain.fund(from);
    let low = s.chain.transact_from(from, ether(MIN_STAKE) - U256::from(1), s.registry, &good);
    assert_reverts(&low, R::StakeTooLow::SELECTOR, "stake below minimum");

    assert!(s.register(1, &good).is_success());
    assert_reverts(&s.register(1, &honest_call(&key(7))), R::AlreadyRegistered::SELECTOR, "same owner twice");
    assert_reverts(&s.register(2, &good), R::KeyAlreadyRegistered::SELECTOR, "same key twice");
}
