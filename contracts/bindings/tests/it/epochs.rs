//! The registry's epoch lifecycle: snapshots (registration order, taken at
//! an epoch's first call, published to the verifier), top-up, exit through
//! unbonding, withdrawal, slashing during unbonding, the ruleset per epoch,
//! and the slasher's lookup through the snapshot. Every revert path of these
//! functions is exercised.

use alloy_primitives::{Address, Bytes, TxKind, B256, U256};
use alloy_sol_types::{SolConstructor, SolError};
use vigil_contracts::{
    evm::{ether, Outcome, DEPLOYER},
    onchain::{member_owner, signed_vote, Contracts, Params, EPOCH_LENGTH, RULESET, UNBONDING_PERIOD},
    CertificateVerifier as V, InspectorRegistry as R, Slasher as S,
};
use vigil_types::{SignatureBytes, Vote, VoteKind, VoteMessage};

use crate::util::{first, verify_call, TestCommittee, CHAIN_ID};

const STAKE: u64 = 32;
const REPORTER: Address = Address::repeat_byte(0xee);

#[track_caller]
fn assert_reverts(out: &Outcome, selector: [u8; 4], name: &str) {
    assert!(!out.is_success(), "{name}: expected a revert, got {out:?}");
    assert_eq!(&out.revert_data()[..4], &selector, "{name}: wrong revert {out:?}");
}

struct Setup {
    tc: TestCommittee,
    c: Contracts,
}

impl Setup {
    /// `n` members' keys (32 ether each); nothing registered, block 0.
    fn new(n: usize) -> Self {
        let tc = TestCommittee::new(n, |_| STAKE);
        let mut c = Contracts::deploy(ether(STAKE), CHAIN_ID, 1_000).unwrap();
        c.chain.set_balance(REPORTER, ether(1));
        Self { tc, c }
    }

    fn register(&mut self, i: usize) {
        let out = self.c.register(&self.tc.committee.members[i]).unwrap();
        assert!(out.is_success(), "register {i}: {out:?}");
    }

    fn enter(&mut self, epoch: u64) -> Outcome {
        let out = self.c.enter_epoch(epoch).unwrap();
        assert!(out.is_success(), "snapshot of epoch {epoch}: {out:?}");
        out
    }

    fn from(&mut self, i: usize, value: U256, call: &impl alloy_sol_types::SolCall) -> Outcome {
        let registry = self.c.registry;
        self.c.chain.transact_from(member_owner(i as u32), value, registry, call).unwrap()
    }

    /// The snapshot of `epoch`: (ruleset, total stake, operator indexes).
    fn snapshot(&mut self, epoch: u64) -> (String, U256, Vec<u32>) {
        let r = self.c.chain.call(self.c.registry, &R::committeeOfCall { epoch }).unwrap();
        (r.ruleset, r.totalStake, r.members)
    }

    /// The verifier's committee of `epoch`: (size, total stake).
    fn published(&mut self, epoch: u64) -> (u32, U256) {
        let r = self.c.chain.call(self.c.verifier, &V::committeeOfCall { epoch }).unwrap();
        (r.size, r.totalStake)
    }

    fn block(&mut self, n: u64) {
        self.c.chain.set_block_number(n);
    }

    fn vote(&self, key: usize, signer: u32, epoch: u64, kind: VoteKind) -> Vote {
        let msg = VoteMessage { chain_id: CHAIN_ID, epoch, tx_hash: B256::repeat_byte(0x42), kind };
        let signature = SignatureBytes(self.tc.keys[key].sign_vote(&msg).to_bytes().0);
        Vote { chain_id: CHAIN_ID, epoch, tx_hash: msg.tx_hash, kind, signer, signature }
    }

    /// Equivocation by the holder of key `key`, named as committee index `signer` of `epoch`.
    fn slash(&mut self, key: usize, signer: u32, epoch: u64) -> Outcome {
        let call = S::slashCall {
            a: signed_vote(&self.vote(key, signer, epoch, VoteKind::Clean)).unwrap(),
            b: signed_vote(&self.vote(key, signer, epoch, VoteKind::Malicious)).unwrap(),
        };
        self.c.chain.transact_from(REPORTER, U256::ZERO, self.c.slasher, &call).unwrap()
    }

    fn stake_of(&mut self, index: u32) -> U256 {
        self.c.chain.call(self.c.registry, &R::stakeOfCall { index: U256::from(index) }).unwrap()
    }
}

#[test]
fn snapshots_keep_registration_order_and_late_members_wait_an_epoch() {
    let mut s = Setup::new(4);
    for i in 0..3 {
        s.register(i);
    }
    // Epoch 0 began with nobody: its snapshot (taken by the first
    // registration) is empty and nothing was published.
    assert_eq!(s.snapshot(0), (RULESET.into(), U256::ZERO, vec![]));
    assert_eq!(s.published(0).0, 0);

    s.enter(1);
    assert_eq!(s.snapshot(1), (RULESET.into(), ether(3 * STAKE), vec![0, 1, 2]));
    assert_eq!(s.published(1), (3, ether(3 * STAKE)));
    // Member 3 registers in the middle of epoch 1: not in epoch 1's committee.
    s.block(EPOCH_LENGTH + EPOCH_LENGTH / 2);
    s.register(3);
    assert_eq!(s.snapshot(1).2, vec![0, 1, 2]);
    // Taking the snapshot again does nothing.
    let again = s.c.chain.call(s.c.registry, &R::snapshotCall {}).unwrap();
    assert_eq!((again.epoch, again.taken), (1, false));

    // The first call of epoch 2 (here a registration attempt that reverts
    // for its own reason) does not matter: `snapshot` takes it.
    s.block(2 * EPOCH_LENGTH);
    let taken = s.c.chain.call(s.c.registry, &R::snapshotCall {}).unwrap();
    assert_eq!((taken.epoch, taken.taken), (2, true));
    assert_eq!(s.snapshot(2).2, vec![0, 1, 2, 3]);
    assert_eq!(s.published(2), (4, ether(4 * STAKE)));
    assert_eq!(s.c.chain.call(s.c.registry, &R::currentEpochCall {}).unwrap(), 2);
    for pos in 0..4u32 {
        let op = s.c.chain.call(s.c.registry, &R::committeeMemberCall { epoch: 2, position: U256::from(pos) });
        assert_eq!(op.unwrap(), U256::from(pos));
    }
    let size = s.c.chain.call(s.c.registry, &R::committeeSizeCall { epoch: 2 }).unwrap();
    assert_eq!((size.taken, size.size), (true, U256::from(4)));
    let size = s.c.chain.call(s.c.registry, &R::committeeSizeCall { epoch: 3 }).unwrap();
    assert_eq!((size.taken, size.size), (false, U256::ZERO));

    // Revert paths of the snapshot views.
    let out = s.c.chain.transact(s.c.registry, &R::committeeOfCall { epoch: 3 }).unwrap();
    assert_reverts(&out, R::NoSnapshot::SELECTOR, "committeeOf without snapshot");
    let out = s.c.chain.transact(s.c.registry, &R::committeeMemberCall { epoch: 3, position: U256::ZERO }).unwrap();
    assert_reverts(&out, R::NoSnapshot::SELECTOR, "committeeMember without snapshot");
    let out = s.c.chain.transact(s.c.registry, &R::committeeMemberCall { epoch: 2, position: U256::from(4) }).unwrap();
    assert_reverts(&out, R::NotInCommittee::SELECTOR, "committeeMember past the end");
    // Only the registry publishes.
    let out = s.c.chain.transact(s.c.verifier, &s.tc.publish_call()).unwrap();
    assert_reverts(&out, V::NotPublisher::SELECTOR, "deployer publishing");
}

#[test]
fn a_certificate_verifies_against_the_published_snapshot() {
    let mut s = Setup::new(4);
    s.c.register_committee(&s.tc.committee).unwrap();
    s.c.publish_committee(&s.tc.committee).unwrap(); // epoch 7
    let epoch = s.tc.committee.epoch;
    let cert = s.tc.certificate(B256::repeat_byte(1), VoteKind::Clean, &first(3));
    assert!(s.c.verify(&cert).unwrap().is_valid());
    // Member 3 leaves during epoch 7: the committee of epoch 8 is 0, 1, 2.
    assert!(s.from(3, U256::ZERO, &R::exitCall {}).is_success());
    s.enter(epoch + 1);
    // The same keys as members 0..3 (keys are derived from the index).
    let mut next = TestCommittee::new(3, |_| STAKE);
    next.committee.epoch = epoch + 1;
    let cert = next.certificate(B256::repeat_byte(2), VoteKind::Clean, &first(3));
    assert!(next.verify_offchain(&cert));
    assert!(s.c.verify(&cert).unwrap().is_valid());
    // Two of three is not above 2/3; the old four-member bitmap does not fit.
    let two = next.certificate(B256::repeat_byte(2), VoteKind::Clean, &first(2));
    assert_eq!(s.c.verify(&two).unwrap().rejection.unwrap().split(' ').next(), Some("BelowThreshold"));
    let mut four = s.tc.certificate(B256::repeat_byte(2), VoteKind::Clean, &first(4));
    four.epoch = epoch + 1;
    let out = s.c.chain.transact(s.c.verifier, &verify_call(&four)).unwrap();
    assert_reverts(&out, V::StrayBitmapBit::SELECTOR, "four-member bitmap in a three-member epoch");
}

#[test]
fn top_up_counts_from_the_next_snapshot() {
    let mut s = Setup::new(3);
    for i in 0..3 {
        s.register(i);
    }
    s.enter(1);
    s.c.chain.set_balance(member_owner(1), ether(100));
    s.c.chain.set_balance(member_owner(2), ether(100));
    let out = s.from(1, ether(8), &R::topUpCall {});
    assert!(out.is_success(), "{out:?}");
    assert_eq!(s.stake_of(1), ether(STAKE + 8));
    assert_eq!(s.published(1).1, ether(3 * STAKE), "epoch 1 keeps its stakes");
    s.enter(2);
    assert_eq!(s.snapshot(2).1, ether(3 * STAKE + 8));
    assert_eq!(s.published(2).1, ether(3 * STAKE + 8));

    assert_reverts(&s.from(1, U256::ZERO, &R::topUpCall {}), R::ZeroTopUp::SELECTOR, "top-up of nothing");
    let stranger = Address::repeat_byte(0x77);
    s.c.chain.set_balance(stranger, ether(100));
    let out = s.c.chain.transact_from(stranger, ether(1), s.c.registry, &R::topUpCall {}).unwrap();
    assert_reverts(&out, R::NotRegistered::SELECTOR, "top-up by a stranger");
    assert!(s.from(2, U256::ZERO, &R::exitCall {}).is_success());
    assert_reverts(&s.from(2, ether(1), &R::topUpCall {}), R::Exiting::SELECTOR, "top-up while exiting");
    let out = s.c.chain.transact(s.c.registry, &R::operatorIndexCall { owner: stranger }).unwrap();
    assert_reverts(&out, R::NotRegistered::SELECTOR, "operatorIndex of a stranger");
    assert_eq!(s.c.chain.call(s.c.registry, &R::operatorIndexCall { owner: member_owner(2) }).unwrap(), U256::from(2));
}

#[test]
fn exit_unbonds_then_withdraws() {
    let mut s = Setup::new(3);
    for i in 0..3 {
        s.register(i);
    }
    s.enter(1);
    assert_reverts(&s.from(0, U256::ZERO, &R::withdrawCall {}), R::NotExiting::SELECTOR, "withdraw while active");
    let exit_block = EPOCH_LENGTH + 10;
    s.block(exit_block);
    let out = s.from(0, U256::ZERO, &R::exitCall {});
    assert!(out.is_success(), "{out:?}");
    assert_reverts(&s.from(0, U256::ZERO, &R::exitCall {}), R::Exiting::SELECTOR, "exit twice");
    assert_eq!(s.snapshot(1).2, vec![0, 1, 2], "still in the current epoch");
    s.enter(2);
    assert_eq!(s.snapshot(2).2, vec![1, 2], "gone from the next");
    assert_eq!(s.published(2), (2, ether(2 * STAKE)));

    let end = exit_block + UNBONDING_PERIOD;
    s.block(end - 1);
    let out = s.from(0, U256::ZERO, &R::withdrawCall {});
    assert_reverts(&out, R::StillUnbonding::SELECTOR, "withdraw a block early");
    assert_eq!(R::StillUnbonding::abi_decode(out.revert_data()).unwrap().withdrawableAt, end);
    s.block(end);
    let before = s.c.chain.balance(member_owner(0));
    assert!(s.from(0, U256::ZERO, &R::withdrawCall {}).is_success());
    assert_eq!(s.c.chain.balance(member_owner(0)), before + ether(STAKE));
    assert_eq!(s.stake_of(0), U256::ZERO);
    assert_reverts(&s.from(0, U256::ZERO, &R::withdrawCall {}), R::NothingToWithdraw::SELECTOR, "withdraw twice");
    let stranger = Address::repeat_byte(0x77);
    let out = s.c.chain.transact_from(stranger, U256::ZERO, s.c.registry, &R::exitCall {}).unwrap();
    assert_reverts(&out, R::NotRegistered::SELECTOR, "exit by a stranger");
    let out = s.c.chain.transact_from(stranger, U256::ZERO, s.c.registry, &R::withdrawCall {}).unwrap();
    assert_reverts(&out, R::NotRegistered::SELECTOR, "withdraw by a stranger");
}

#[test]
fn a_withdrawal_the_owner_refuses_reverts() {
    let mut s = Setup::new(1);
    // The owner is a contract that refuses ether: it registers through a
    // forwarder, so the forwarder is the owner.
    let forwarder = s.c.chain.deploy(&crate::util::refusing_forwarder(s.c.registry)).unwrap();
    s.c.chain.set_balance(DEPLOYER, ether(1_000));
    let m = &s.tc.committee.members[0];
    let call = vigil_contracts::onchain::register_call(&m.bls_pubkey.0, &m.pop.0, &m.peer_id).unwrap();
    assert!(s.c.chain.transact_from(DEPLOYER, ether(STAKE), forwarder, &call).unwrap().is_success());
    assert!(s.c.chain.transact(forwarder, &R::exitCall {}).unwrap().is_success());
    s.block(UNBONDING_PERIOD);
    let out = s.c.chain.transact(forwarder, &R::withdrawCall {}).unwrap();
    assert_reverts(&out, R::WithdrawFailed::SELECTOR, "owner refuses the stake");
}

#[test]
fn slashing_goes_through_the_snapshot_and_reaches_unbonding_stake() {
    let mut s = Setup::new(4);
    for i in 0..4 {
        s.register(i);
    }
    s.enter(1);
    // Operator 0 exits in epoch 1: epoch 2's committee is operators 1, 2, 3.
    assert!(s.from(0, U256::ZERO, &R::exitCall {}).is_success());
    s.enter(2);
    assert_eq!(s.snapshot(2).2, vec![1, 2, 3]);
    // Committee index 0 of epoch 2 is operator 1: its key, its stake.
    let out = s.slash(1, 0, 2);
    assert!(out.is_success(), "{out:?}");
    assert_eq!(s.stake_of(1), U256::ZERO);
    assert_eq!(s.stake_of(0), ether(STAKE), "the registry index is not the committee index");
    // Operator 0 equivocated in epoch 1 (index 0 there) and is unbonding: still slashable.
    let out = s.slash(0, 0, 1);
    assert!(out.is_success(), "{out:?}");
    assert_eq!(s.stake_of(0), U256::ZERO);
    s.block(EPOCH_LENGTH + UNBONDING_PERIOD);
    assert_reverts(&s.from(0, U256::ZERO, &R::withdrawCall {}), R::NothingToWithdraw::SELECTOR, "slashed stake");
    // Operator 3's key named as committee index 1 of epoch 2 (operator 2): bad signature.
    assert_reverts(&s.slash(3, 1, 2), S::BadSignature::SELECTOR, "key of another committee index");
    // An epoch without a snapshot; an index beyond the committee.
    assert_reverts(&s.slash(2, 1, 9), S::UnknownEpoch::SELECTOR, "epoch without snapshot");
    assert_reverts(&s.slash(3, 3, 2), S::UnknownSigner::SELECTOR, "index beyond epoch 2's committee");
    // The slashed operator leaves the next snapshot.
    s.enter(20);
    assert_eq!(s.snapshot(20).2, vec![2, 3]);
}

#[test]
fn ruleset_is_fixed_per_epoch_and_scheduled_ahead() {
    let mut s = Setup::new(2);
    s.register(0);
    let set = |s: &mut Setup, from: Address, epoch: u64, v: &str| {
        let call = R::setRulesetCall { fromEpoch: epoch, version: v.into() };
        s.c.chain.transact_from(from, U256::ZERO, s.c.registry, &call).unwrap()
    };
    let ruleset = |s: &mut Setup, epoch: u64| s.c.chain.call(s.c.registry, &R::rulesetOfCall { epoch }).unwrap();
    assert!(set(&mut s, DEPLOYER, 5, "v5").is_success());
    assert!(set(&mut s, DEPLOYER, 2, "v2").is_success(), "replaces what was scheduled from epoch 2 on");
    assert!(set(&mut s, DEPLOYER, 4, "v4").is_success());
    assert_eq!(ruleset(&mut s, 0), RULESET);
    assert_eq!(ruleset(&mut s, 1), RULESET);
    assert_eq!(ruleset(&mut s, 3), "v2");
    assert_eq!(ruleset(&mut s, 9), "v4");
    s.enter(2);
    assert_eq!(s.snapshot(2).0, "v2");
    assert_reverts(&set(&mut s, DEPLOYER, 2, "x"), R::EpochNotInFuture::SELECTOR, "the current epoch");
    assert_reverts(&set(&mut s, DEPLOYER, 1, "x"), R::EpochNotInFuture::SELECTOR, "a past epoch");
    assert_reverts(&set(&mut s, DEPLOYER, 3, ""), R::BadRuleset::SELECTOR, "empty version");
    let other = Address::repeat_byte(0x66);
    assert_reverts(&set(&mut s, other, 3, "x"), R::NotGovernance::SELECTOR, "not governance");
    assert_eq!(s.snapshot(2).0, "v2", "a started epoch keeps its ruleset");

    let hand = |s: &mut Setup, from: Address, to: Address| {
        s.c.chain.transact_from(from, U256::ZERO, s.c.registry, &R::setGovernanceCall { governance_: to }).unwrap()
    };
    assert_reverts(&hand(&mut s, other, other), R::NotGovernance::SELECTOR, "setGovernance by another");
    assert_reverts(&hand(&mut s, DEPLOYER, Address::ZERO), R::ZeroAddress::SELECTOR, "governance to zero");
    assert!(hand(&mut s, DEPLOYER, other).is_success());
    assert_eq!(s.c.chain.call(s.c.registry, &R::governanceCall {}).unwrap(), other);
    assert!(set(&mut s, other, 3, "v3").is_success());
    assert_reverts(&set(&mut s, DEPLOYER, 3, "x"), R::NotGovernance::SELECTOR, "old governance");
    s.enter(3);
    assert_eq!(s.snapshot(3).0, "v3");
}

#[test]
fn constructor_checks() {
    let base = Params::new(ether(STAKE), CHAIN_ID, 0);
    let deploy = |p: &Params| {
        let mut chain = vigil_contracts::evm::Chain::new();
        let mut code = R::BYTECODE.to_vec();
        code.extend_from_slice(
            &R::constructorCall {
                c: R::Config {
                    minStake: p.min_stake,
                    slasher: Address::repeat_byte(1),
                    verifier: Address::repeat_byte(2),
                    chainId: p.chain_id,
                    num: p.threshold.num,
                    den: p.threshold.den,
                    epochLength: p.epoch_length,
                    unbondingPeriod: p.unbonding_period,
                    disputeWindow: p.dispute_window,
                    ruleset: p.ruleset.clone(),
                },
            }
            .abi_encode(),
        );
        chain.run(DEPLOYER, U256::ZERO, TxKind::Create, Bytes::from(code)).unwrap().0
    };
    assert!(deploy(&base).is_success());
    type Case = (&'static str, fn(&mut Params), [u8; 4]);
    let cases: [Case; 6] = [
        ("zero epoch length", |p| p.epoch_length = 0, R::ZeroEpochLength::SELECTOR),
        ("unbonding = dispute window", |p| p.unbonding_period = p.dispute_window, R::UnbondingTooShort::SELECTOR),
        ("unbonding < dispute window", |p| p.dispute_window = p.unbonding_period + 1, R::UnbondingTooShort::SELECTOR),
        ("threshold below 1/2", |p| p.threshold.num = 1, R::BadThreshold::SELECTOR),
        ("threshold 1", |p| p.threshold.num = p.threshold.den, R::BadThreshold::SELECTOR),
        ("empty ruleset", |p| p.ruleset.clear(), R::BadRuleset::SELECTOR),
    ];
    for (name, edit, selector) in cases {
        let mut p = base.clone();
        edit(&mut p);
        assert_reverts(&deploy(&p), selector, name);
    }
    let mut zero_den = base.clone();
    zero_den.threshold.den = 0;
    zero_den.threshold.num = 0;
    assert_reverts(&deploy(&zero_den), R::BadThreshold::SELECTOR, "zero denominator");
    assert!(Contracts::deploy_with(&zero_den).is_err());
}

#[test]
fn snapshot_gas() {
    for n in [4usize, 32] {
        let mut s = Setup::new(n);
        for i in 0..n {
            s.register(i);
        }
        let out = s.enter(1);
        assert_eq!(s.published(1).0 as usize, n);
        println!("snapshot of {n} members: {} gas", out.gas_used());
    }
}
