//! `Slasher::slash`: equivocation evidence built the way vigil-consensus
//! builds it (`EquivocationEvidence` of two signed votes), checked on-chain,
//! the signer's stake slashed in the registry, the reporter rewarded. Every
//! revert path of `slash` (and of the registry's `slash`) is exercised.

use alloy_primitives::{Address, Bytes, B256, U256};
use alloy_sol_types::{SolCall, SolError, SolEvent};
use vigil_consensus::{verify_evidence, VerifiedCommittee};
use vigil_contracts::{
    evm::{ether, Outcome},
    onchain::{signed_vote, slash_call, Contracts},
    InspectorRegistry as R, Slasher as S,
};
use vigil_crypto::SecretKey;
use vigil_types::{EquivocationEvidence, SignatureBytes, Vote, VoteKind, VoteMessage};

use crate::util::{refusing_forwarder, TestCommittee, CHAIN_ID, EPOCH};

const TX: B256 = B256::repeat_byte(0x42);
const REWARD_BPS: u64 = 1_000; // 10 %
const STAKE: u64 = 32;
const REPORTER: Address = Address::repeat_byte(0xee);

struct Setup {
    tc: TestCommittee,
    c: Contracts,
}

impl Setup {
    /// Four members of 32 ether each, registered in index order.
    fn new() -> Self {
        let tc = TestCommittee::new(4, |_| STAKE);
        let mut c = Contracts::deploy(ether(STAKE), CHAIN_ID, REWARD_BPS).unwrap();
        c.register_committee(&tc.committee).unwrap();
        // The committee of EPOCH: the snapshot at its first block.
        c.publish_committee(&tc.committee).unwrap();
        c.chain.set_balance(REPORTER, ether(1));
        Self { tc, c }
    }

    fn vote(&self, signer: u32, kind: VoteKind) -> Vote {
        self.vote_on(signer, CHAIN_ID, EPOCH, TX, kind)
    }

    fn vote_on(&self, signer: u32, chain_id: u64, epoch: u64, tx_hash: B256, kind: VoteKind) -> Vote {
        vote_by(&self.tc.keys[signer as usize], signer, chain_id, epoch, tx_hash, kind)
    }

    /// Equivocation evidence against `signer`, checked off-chain first.
    fn evidence(&self, signer: u32) -> EquivocationEvidence {
        let ev = EquivocationEvidence::new(self.vote(signer, VoteKind::Clean), self.vote(signer, VoteKind::Malicious))
            .unwrap();
        let committee = VerifiedCommittee::new(self.tc.committee.clone()).unwrap();
        verify_evidence(&committee, &ev).expect("off-chain check accepts the evidence");
        ev
    }

    fn slash(&mut self, call: &S::slashCall) -> Outcome {
        self.c.chain.transact_from(REPORTER, U256::ZERO, self.c.slasher, call).unwrap()
    }

    fn stake_of(&mut self, index: u32) -> U256 {
        self.c.chain.call(self.c.registry, &R::stakeOfCall { index: U256::from(index) }).unwrap()
    }
}

fn vote_by(sk: &SecretKey, signer: u32, chain_id: u64, epoch: u64, tx_hash: B256, kind: VoteKind) -> Vote {
    let msg = VoteMessage { chain_id, epoch, tx_hash, kind };
    Vote { chain_id, epoch, tx_hash, kind, signer, signature: SignatureBytes(sk.sign_vote(&msg).to_bytes().0) }
}

fn call_of(a: &Vote, b: &Vote) -> S::slashCall {
    S::slashCall { a: signed_vote(a).unwrap(), b: signed_vote(b).unwrap() }
}

#[track_caller]
fn assert_reverts(out: &Outcome, selector: [u8; 4], name: &str) {
    assert!(!out.is_success(), "{name}: expected a revert, got {out:?}");
    assert_eq!(&out.revert_data()[..4], &selector, "{name}: wrong revert {out:?}");
}

#[test]
fn slashes_the_signer_and_rewards_the_reporter() {
    let mut s = Setup::new();
    let ev = s.evidence(2);
    let before = s.c.chain.balance(REPORTER);
    let out = s.slash(&slash_call(&ev).unwrap());
    assert!(out.is_success(), "{out:?}");
    println!("slash: {} gas", out.gas_used());
    let (amount, reward) = match &out {
        Outcome::Success { output, .. } => {
            let r = S::slashCall::abi_decode_returns(output).unwrap();
            (r.amount, r.reward)
        }
        Outcome::Revert { .. } => unreachable!(),
    };
    assert_eq!(amount, ether(STAKE));
    assert_eq!(reward, ether(STAKE) * U256::from(REWARD_BPS) / U256::from(10_000));
    assert_eq!(s.c.chain.balance(REPORTER), before + reward);
    assert_eq!(s.stake_of(2), U256::ZERO);
    assert_eq!(s.stake_of(1), ether(STAKE), "other members keep their stake");
    let burned = s.c.chain.call(s.c.registry, &R::burnedCall {}).unwrap();
    assert_eq!(burned, amount - reward);
    let id =
        s.c.chain
            .call(s.c.slasher, &S::evidenceIdCall { chainId_: CHAIN_ID, epoch: EPOCH, txHash: TX, signer: 2 })
            .unwrap();
    assert!(s.c.chain.call(s.c.slasher, &S::usedCall { id }).unwrap());

    // Votes given malicious first are the same evidence the other way round.
    let swapped = call_of(&s.vote(3, VoteKind::Malicious), &s.vote(3, VoteKind::Clean));
    assert!(s.slash(&swapped).is_success());
    assert_eq!(s.stake_of(3), U256::ZERO);
    let _ = (R::Slashed::SIGNATURE, S::Equivocation::SIGNATURE);
}

#[test]
fn the_same_evidence_is_refused_twice() {
    let mut s = Setup::new();
    let call = slash_call(&s.evidence(1)).unwrap();
    assert!(s.slash(&call).is_success());
    assert_reverts(&s.slash(&call), S::EvidenceUsed::SELECTOR, "same evidence again");
    let swapped = S::slashCall { a: call.b.clone(), b: call.a.clone() };
    assert_reverts(&s.slash(&swapped), S::EvidenceUsed::SELECTOR, "same evidence, votes swapped");
    // A second conflict of the already slashed signer: nothing left to take.
    let tx2 = B256::repeat_byte(0x43);
    let other = call_of(
        &s.vote_on(1, CHAIN_ID, EPOCH, tx2, VoteKind::Clean),
        &s.vote_on(1, CHAIN_ID, EPOCH, tx2, VoteKind::Malicious),
    );
    assert_reverts(&s.slash(&other), R::NothingToSlash::SELECTOR, "signer already slashed");
}

#[test]
fn votes_that_do_not_conflict_are_refused() {
    let mut s = Setup::new();
    let clean = s.vote(0, VoteKind::Clean);
    let mal = s.vote(0, VoteKind::Malicious);

    // vigil-types refuses to build these as evidence; the contract refuses them too.
    assert!(EquivocationEvidence::new(clean.clone(), clean.clone()).is_err());
    assert_reverts(&s.slash(&call_of(&clean, &clean)), S::SameKind::SELECTOR, "two clean votes");
    assert_reverts(&s.slash(&call_of(&mal, &mal)), S::SameKind::SELECTOR, "two malicious votes");

    let mut bad_kind = call_of(&clean, &mal);
    bad_kind.b.kind = 2;
    assert_reverts(&s.slash(&bad_kind), S::BadKind::SELECTOR, "kind 2");

    let other_signer = s.vote(1, VoteKind::Malicious);
    assert!(EquivocationEvidence::new(clean.clone(), other_signer.clone()).is_err());
    assert_reverts(&s.slash(&call_of(&clean, &other_signer)), S::DifferentSigners::SELECTOR, "different signers");

    let other_tx = s.vote_on(0, CHAIN_ID, EPOCH, B256::repeat_byte(0x99), VoteKind::Malicious);
    assert!(EquivocationEvidence::new(clean.clone(), other_tx.clone()).is_err());
    assert_reverts(&s.slash(&call_of(&clean, &other_tx)), S::DifferentTransactions::SELECTOR, "different tx");

    let other_epoch = s.vote_on(0, CHAIN_ID, EPOCH + 1, TX, VoteKind::Malicious);
    assert_reverts(&s.slash(&call_of(&clean, &other_epoch)), S::DifferentEpochs::SELECTOR, "different epoch");

    let other_chain = s.vote_on(0, CHAIN_ID + 1, EPOCH, TX, VoteKind::Malicious);
    assert_reverts(&s.slash(&call_of(&clean, &other_chain)), S::DifferentChains::SELECTOR, "different chain");

    // A real conflict, validly signed, about a chain this slasher does not judge.
    let foreign = call_of(
        &s.vote_on(0, CHAIN_ID + 1, EPOCH, TX, VoteKind::Clean),
        &s.vote_on(0, CHAIN_ID + 1, EPOCH, TX, VoteKind::Malicious),
    );
    assert_reverts(&s.slash(&foreign), S::WrongChain::SELECTOR, "another chain's votes");
    assert_eq!(s.stake_of(0), ether(STAKE), "nothing was slashed");
}

#[test]
fn unknown_signers_and_bad_signatures_are_refused() {
    let mut s = Setup::new();
    // Index 4 is not registered (its key signs validly).
    let stranger = SecretKey::from_ikm(&[0x77; 32]).unwrap();
    let unknown = call_of(
        &vote_by(&stranger, 4, CHAIN_ID, EPOCH, TX, VoteKind::Clean),
        &vote_by(&stranger, 4, CHAIN_ID, EPOCH, TX, VoteKind::Malicious),
    );
    assert_reverts(&s.slash(&unknown), S::UnknownSigner::SELECTOR, "unregistered index");

    let clean = s.vote(0, VoteKind::Clean);
    let mal = s.vote(0, VoteKind::Malicious);

    // Member 1's votes presented as member 0's: framing someone else.
    let mut framed_clean = s.vote(1, VoteKind::Clean);
    framed_clean.signer = 0;
    let out = s.slash(&call_of(&framed_clean, &mal));
    assert_reverts(&out, S::BadSignature::SELECTOR, "clean vote signed by another member");
    assert_eq!(S::BadSignature::abi_decode(out.revert_data()).unwrap().kind, 0);

    // The malicious vote's signature is member 0's, but over another message.
    let mut wrong_msg = mal.clone();
    wrong_msg.signature = s.vote_on(0, CHAIN_ID, EPOCH, B256::repeat_byte(0x55), VoteKind::Malicious).signature;
    let out = s.slash(&call_of(&clean, &wrong_msg));
    assert_reverts(&out, S::BadSignature::SELECTOR, "malicious vote over another message");
    assert_eq!(S::BadSignature::abi_decode(out.revert_data()).unwrap().kind, 1);

    // The identity as a signature.
    let mut identity = call_of(&clean, &mal);
    identity.b.signature = Bytes::from(vec![0u8; 192]);
    assert_reverts(&s.slash(&identity), S::BadSignature::SELECTOR, "identity signature");

    let mut short = call_of(&clean, &mal);
    short.a.signature = short.a.signature.slice(..191);
    assert_reverts(&s.slash(&short), S::BadSignatureLength::SELECTOR, "191-byte signature");

    // Not on the curve: the pairing precompile refuses it.
    let mut off_curve = call_of(&clean, &mal);
    let mut sig = off_curve.a.signature.to_vec();
    sig[191] ^= 1;
    off_curve.a.signature = sig.into();
    assert_reverts(&s.slash(&off_curve), S::PrecompileFailed::SELECTOR, "signature off the curve");

    assert_eq!(s.stake_of(0), ether(STAKE), "nothing was slashed");
    // After all that, the genuine evidence still works.
    assert!(s.slash(&call_of(&clean, &mal)).is_success());
}

#[test]
fn only_the_slasher_slashes_and_the_share_is_bounded() {
    let mut s = Setup::new();
    let direct = R::slashCall { index: U256::from(0), reporter: REPORTER, rewardBps: U256::ZERO };
    let out = s.c.chain.transact_from(REPORTER, U256::ZERO, s.c.registry, &direct).unwrap();
    assert_reverts(&out, R::NotSlasher::SELECTOR, "registry.slash by anyone");
    let out = s.c.chain.transact(s.c.registry, &direct).unwrap();
    assert_reverts(&out, R::NotSlasher::SELECTOR, "registry.slash by the deployer");

    let slasher = s.c.slasher;
    let as_slasher = |s: &mut Setup, call: &R::slashCall| {
        s.c.chain.set_balance(slasher, ether(1));
        s.c.chain.transact_from(slasher, U256::ZERO, s.c.registry, call).unwrap()
    };
    // Sent from the slasher's address (what the Slasher contract does after its checks).
    let unknown = R::slashCall { index: U256::from(9), reporter: REPORTER, rewardBps: U256::ZERO };
    assert_reverts(&as_slasher(&mut s, &unknown), R::UnknownOperator::SELECTOR, "unknown operator");
    let too_much = R::slashCall { index: U256::from(0), reporter: REPORTER, rewardBps: U256::from(10_001) };
    assert_reverts(&as_slasher(&mut s, &too_much), R::BadRewardShare::SELECTOR, "reward over 100 %");
    let out = s.c.chain.transact(s.c.registry, &R::stakeOfCall { index: U256::from(9) }).unwrap();
    assert_reverts(&out, R::UnknownOperator::SELECTOR, "stakeOf unknown");
    let out = s.c.chain.transact(s.c.registry, &R::pubkeyPointOfCall { index: U256::from(9) }).unwrap();
    assert_reverts(&out, R::UnknownOperator::SELECTOR, "pubkeyPointOf unknown");

    // A reward share above 100 % cannot be configured.
    let deploy = Contracts::deploy(ether(STAKE), CHAIN_ID, 10_001);
    assert!(deploy.is_err(), "slasher with a 100.01 % reward deployed");
}

#[test]
fn a_reporter_refusing_the_reward_reverts_the_slash() {
    let mut s = Setup::new();
    let forwarder = s.c.chain.deploy(&refusing_forwarder(s.c.slasher)).unwrap();
    let call = slash_call(&s.evidence(0)).unwrap();
    let out = s.c.chain.transact_from(REPORTER, U256::ZERO, forwarder, &call).unwrap();
    assert_reverts(&out, R::RewardTransferFailed::SELECTOR, "reporter refuses ether");
    assert_eq!(R::RewardTransferFailed::abi_decode(out.revert_data()).unwrap().reporter, forwarder);
    assert_eq!(s.stake_of(0), ether(STAKE), "the slash was rolled back");
    // The same evidence from a reporter that accepts it still works.
    assert!(s.slash(&call).is_success());
}

/// DESIGN §4b on-chain: a member's clean vote and its batch whose leaf for
/// the same transaction says malicious are slashable (`slashStatements`),
/// as vigil-consensus judges them; a tampered path, a batch signed by
/// another key, or a conflict already slashed through votes is refused.
#[test]
fn a_vote_and_a_batch_leaf_that_disagree_slash_the_signer() {
    use vigil_consensus::verify_statement_evidence;
    use vigil_contracts::onchain::slash_statements_call;
    use vigil_types::{BatchLeaf, BatchMessage, BatchStatement, BatchTree, BatchVote, Statement, StatementEvidence};

    let mut s = Setup::new();
    let batch = |s: &Setup, signer: u32, key: usize| {
        let leaves: Vec<BatchLeaf> = [B256::repeat_byte(1), TX, B256::repeat_byte(3)]
            .into_iter()
            .map(|tx_hash| BatchLeaf {
                tx_hash,
                kind: if tx_hash == TX { VoteKind::Malicious } else { VoteKind::Clean },
            })
            .collect();
        let tree = BatchTree::new(leaves).unwrap();
        let msg = BatchMessage { chain_id: CHAIN_ID, epoch: EPOCH, count: tree.count(), root: tree.root() };
        let vote = BatchVote {
            chain_id: CHAIN_ID,
            epoch: EPOCH,
            count: msg.count,
            root: msg.root,
            signer,
            signature: SignatureBytes(s.tc.keys[key].sign(&msg.digest()).to_bytes().0),
        };
        Statement::Batch(BatchStatement {
            batch_vote: vote,
            index: 1,
            tx_hash: TX,
            kind: VoteKind::Malicious,
            path: tree.path(1).unwrap(),
        })
    };
    let committee = VerifiedCommittee::new(s.tc.committee.clone()).unwrap();

    // Member 1 signed a batch calling TX malicious under member 2's index.
    let forged = StatementEvidence::new(Statement::Vote(s.vote(2, VoteKind::Clean)), batch(&s, 2, 1)).unwrap();
    assert!(verify_statement_evidence(&committee, &forged).is_err());
    let out =
        s.c.chain.transact_from(REPORTER, U256::ZERO, s.c.slasher, &slash_statements_call(&forged).unwrap()).unwrap();
    assert_reverts(&out, S::BadSignature::SELECTOR, "batch signed by another key");

    // A path that does not lead to the signed root.
    let Statement::Batch(mut moved) = batch(&s, 2, 2) else { unreachable!() };
    moved.path[0] = B256::repeat_byte(9);
    let moved = StatementEvidence::new(Statement::Vote(s.vote(2, VoteKind::Clean)), Statement::Batch(moved)).unwrap();
    assert!(verify_statement_evidence(&committee, &moved).is_err());
    let out =
        s.c.chain.transact_from(REPORTER, U256::ZERO, s.c.slasher, &slash_statements_call(&moved).unwrap()).unwrap();
    assert_reverts(&out, S::BadInclusionPath::SELECTOR, "tampered path");

    // The real conflict: accepted off-chain and on-chain, the stake taken.
    let ev = StatementEvidence::new(Statement::Vote(s.vote(2, VoteKind::Clean)), batch(&s, 2, 2)).unwrap();
    verify_statement_evidence(&committee, &ev).expect("off-chain check accepts it");
    let before = s.stake_of(2);
    let out = s.c.chain.transact_from(REPORTER, U256::ZERO, s.c.slasher, &slash_statements_call(&ev).unwrap()).unwrap();
    assert!(out.is_success(), "{out:?}");
    println!("slashStatements (vote + batch leaf of 3): {} gas", out.gas_used());
    assert!(before > U256::ZERO && s.stake_of(2).is_zero());
    // The same conflict through its two votes is already used.
    assert_reverts(&s.slash(&slash_call(&s.evidence(2)).unwrap()), S::EvidenceUsed::SELECTOR, "votes after batch");
}
