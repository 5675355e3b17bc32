//! `QuarantineCourt`: every state change (Open -> Released | Upheld |
//! Expired, and reopening after Expired), every deadline (the last block a
//! ruling is accepted, the first block a dispute can expire), the bonds, and
//! every revert path.

use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::{SolError, SolEvent, SolValue};
use vigil_contracts::{
    evm::{ether, Chain, Outcome, DEPLOYER},
    QuarantineCourt as Q,
};

use crate::util::refusing_forwarder;

const ARBITER: Address = Address::repeat_byte(0xa1);
const TREASURY: Address = Address::repeat_byte(0x7e);
const SENDER: Address = Address::repeat_byte(0x5e);
const STRANGER: Address = Address::repeat_byte(0x99);
const MIN_BOND: u64 = 1;
const WINDOW: u64 = 100;
const OPENED_AT: u64 = 1_000;
const TX: B256 = B256::repeat_byte(0x42);
const EVIDENCE: B256 = B256::repeat_byte(0xe1);

// State values of `QuarantineCourt.State`.
const NONE: u8 = 0;
const OPEN: u8 = 1;
const RELEASED: u8 = 2;
const UPHELD: u8 = 3;
const EXPIRED: u8 = 4;

fn deploy_args(arbiter: Address, treasury: Address, window: u64) -> Vec<u8> {
    let mut code = Q::BYTECODE.to_vec();
    code.extend_from_slice(&(arbiter, treasury, ether(MIN_BOND), window).abi_encode_params());
    code
}

struct Court {
    chain: Chain,
    court: Address,
}

impl Court {
    fn new() -> Self {
        let mut chain = Chain::new();
        let court = chain.deploy(&deploy_args(ARBITER, TREASURY, WINDOW)).unwrap();
        for who in [ARBITER, TREASURY, SENDER, STRANGER, DEPLOYER] {
            chain.set_balance(who, ether(100));
        }
        chain.set_block_number(OPENED_AT);
        Self { chain, court }
    }

    fn send<C: alloy_sol_types::SolCall>(&mut self, from: Address, value: U256, call: &C) -> Outcome {
        self.chain.transact_from(from, value, self.court, call).unwrap()
    }

    /// Opens a dispute on `TX` from `SENDER` with a 2-ether bond; returns its id.
    fn open(&mut self) -> U256 {
        let out = self.send(SENDER, ether(2), &Q::openCall { txHash: TX, evidenceRef: EVIDENCE });
        assert!(out.is_success(), "{out:?}");
        let opened = out.logs().iter().find_map(|l| Q::DisputeOpened::decode_log(l).ok()).expect("DisputeOpened");
        assert_eq!((opened.txHash, opened.opener, opened.bond), (TX, SENDER, ether(2)));
        assert_eq!(opened.evidenceRef, EVIDENCE);
        assert_eq!(opened.deadline, self.chain.block_number() + WINDOW);
        opened.id
    }

    fn rule(&mut self, from: Address, id: U256, release: bool) -> Outcome {
        self.send(from, U256::ZERO, &Q::ruleCall { id, release })
    }

    fn expire(&mut self, id: U256) -> Outcome {
        self.send(STRANGER, U256::ZERO, &Q::expireCall { id })
    }

    fn state(&mut self) -> u8 {
        self.chain.call(self.court, &Q::stateOfCall { txHash: TX }).unwrap()
    }

    fn released(&mut self) -> bool {
        self.chain.call(self.court, &Q::isReleasedCall { txHash: TX }).unwrap()
    }

    fn claimable(&mut self, who: Address) -> U256 {
        self.chain.call(self.court, &Q::claimableCall { who }).unwrap()
    }

    fn withdraw(&mut self, who: Address) -> Outcome {
        self.send(who, U256::ZERO, &Q::withdrawCall {})
    }
}

#[track_caller]
fn assert_reverts(out: &Outcome, selector: [u8; 4], name: &str) {
    assert!(!out.is_success(), "{name}: expected a revert, got {out:?}");
    assert_eq!(&out.revert_data()[..4], &selector, "{name}: wrong revert {out:?}");
}

fn released_events(out: &Outcome) -> Vec<B256> {
    out.logs().iter().filter_map(|l| Q::Released::decode_log(l).ok()).map(|e| e.txHash).collect()
}

#[test]
fn released_on_the_last_block_of_the_window() {
    let mut c = Court::new();
    assert_eq!(c.state(), NONE);
    let id = c.open();
    assert_eq!(c.state(), OPEN);
    assert!(!c.released());
    let d = c.chain.call(c.court, &Q::disputeAtCall { id }).unwrap();
    assert_eq!((d.openedAt, d.deadline, d.bond), (OPENED_AT, OPENED_AT + WINDOW, ether(2)));

    c.chain.set_block_number(OPENED_AT + WINDOW); // the deadline itself is still in time
    assert_reverts(&c.expire(id), Q::DeadlineNotPassed::SELECTOR, "expire on the deadline block");
    let out = c.rule(ARBITER, id, true);
    assert!(out.is_success(), "{out:?}");
    assert_eq!(released_events(&out), vec![TX], "the gate's event, with the tx hash as topic");
    assert_eq!(out.logs()[0].topics()[1], TX);
    assert_eq!(c.state(), RELEASED);
    assert!(c.released());

    // The opener won: the bond is theirs to withdraw.
    assert_eq!(c.claimable(SENDER), ether(2));
    assert_eq!(c.claimable(TREASURY), U256::ZERO);
    let before = c.chain.balance(SENDER);
    assert!(c.withdraw(SENDER).is_success());
    assert_eq!(c.chain.balance(SENDER), before + ether(2));
    assert_reverts(&c.withdraw(SENDER), Q::NothingToWithdraw::SELECTOR, "withdraw twice");

    // Final: no second ruling, no expiry, no new dispute.
    assert_reverts(&c.rule(ARBITER, id, false), Q::NotOpen::SELECTOR, "rule again");
    c.chain.set_block_number(OPENED_AT + WINDOW + 1);
    assert_reverts(&c.expire(id), Q::NotOpen::SELECTOR, "expire a released dispute");
    let again = c.send(SENDER, ether(2), &Q::openCall { txHash: TX, evidenceRef: EVIDENCE });
    assert_reverts(&again, Q::DisputeExists::SELECTOR, "reopen a released tx");
}

#[test]
fn upheld_keeps_the_transaction_out_and_pays_the_treasury() {
    let mut c = Court::new();
    let id = c.open();
    c.chain.set_block_number(OPENED_AT + 1);
    let out = c.rule(ARBITER, id, false);
    assert!(out.is_success(), "{out:?}");
    assert!(released_events(&out).is_empty());
    assert!(out.logs().iter().any(|l| Q::Upheld::decode_log(l).is_ok()));
    assert_eq!(c.state(), UPHELD);
    assert!(!c.released());
    assert_eq!(c.claimable(SENDER), U256::ZERO);
    assert_eq!(c.claimable(TREASURY), ether(2));
    assert_reverts(&c.withdraw(SENDER), Q::NothingToWithdraw::SELECTOR, "the loser has nothing");
    let before = c.chain.balance(TREASURY);
    assert!(c.withdraw(TREASURY).is_success());
    assert_eq!(c.chain.balance(TREASURY), before + ether(2));
    assert_reverts(&c.rule(ARBITER, id, true), Q::NotOpen::SELECTOR, "release after upholding");
    let again = c.send(SENDER, ether(2), &Q::openCall { txHash: TX, evidenceRef: EVIDENCE });
    assert_reverts(&again, Q::DisputeExists::SELECTOR, "reopen an upheld tx");
}

#[test]
fn no_ruling_by_the_deadline_keeps_it_out_and_refunds_the_bond() {
    let mut c = Court::new();
    let id = c.open();
    c.chain.set_block_number(OPENED_AT + WINDOW + 1); // the first block after the deadline
    assert_reverts(&c.rule(ARBITER, id, true), Q::DeadlinePassed::SELECTOR, "release too late");
    assert_reverts(&c.rule(ARBITER, id, false), Q::DeadlinePassed::SELECTOR, "uphold too late");
    assert_eq!(c.state(), OPEN, "still open until someone expires it");
    assert!(!c.released(), "an unruled dispute keeps the transaction out");
    let out = c.expire(id);
    assert!(out.is_success(), "{out:?}");
    assert!(out.logs().iter().any(|l| Q::Expired::decode_log(l).is_ok()));
    assert!(released_events(&out).is_empty());
    assert_eq!(c.state(), EXPIRED);
    assert!(!c.released());
    assert_eq!(c.claimable(SENDER), ether(2), "no one lost a ruling: the bond goes back");
    assert_eq!(c.claimable(TREASURY), U256::ZERO);
    assert_reverts(&c.expire(id), Q::NotOpen::SELECTOR, "expire twice");

    // After an unruled dispute a new one may be opened, with its own window.
    let second = c.open();
    assert_eq!(second, U256::from(1));
    assert_eq!(c.state(), OPEN);
    c.chain.set_block_number(OPENED_AT + 2 * WINDOW + 1);
    assert!(c.rule(ARBITER, second, true).is_success());
    assert!(c.released());
    assert_eq!(c.claimable(SENDER), ether(4));
    let count = c.chain.call(c.court, &Q::disputeCountCall {}).unwrap();
    assert_eq!(count, U256::from(2));
}

#[test]
fn opening_checks() {
    let mut c = Court::new();
    let low = c.send(SENDER, ether(MIN_BOND) - U256::from(1), &Q::openCall { txHash: TX, evidenceRef: EVIDENCE });
    assert_reverts(&low, Q::BondTooLow::SELECTOR, "bond below minimum");
    let none = c.send(SENDER, ether(2), &Q::openCall { txHash: TX, evidenceRef: B256::ZERO });
    assert_reverts(&none, Q::NoEvidence::SELECTOR, "no evidence reference");
    // Exactly the minimum bond, opened by someone other than the sender.
    let at_min = c.send(STRANGER, ether(MIN_BOND), &Q::openCall { txHash: TX, evidenceRef: EVIDENCE });
    assert!(at_min.is_success(), "{at_min:?}");
    let dup = c.send(SENDER, ether(2), &Q::openCall { txHash: TX, evidenceRef: EVIDENCE });
    assert_reverts(&dup, Q::DisputeExists::SELECTOR, "second dispute while one is open");
    // Another transaction is independent.
    let other = c.send(SENDER, ether(2), &Q::openCall { txHash: B256::repeat_byte(0x43), evidenceRef: EVIDENCE });
    assert!(other.is_success());

    let nine = U256::from(9);
    assert_reverts(&c.rule(ARBITER, nine, true), Q::UnknownDispute::SELECTOR, "rule unknown");
    assert_reverts(&c.expire(nine), Q::UnknownDispute::SELECTOR, "expire unknown");
    let out = c.send(STRANGER, U256::ZERO, &Q::disputeAtCall { id: nine });
    assert_reverts(&out, Q::UnknownDispute::SELECTOR, "disputeAt unknown");
}

#[test]
fn only_the_arbiter_rules_and_governance_names_it() {
    let mut c = Court::new();
    let id = c.open();
    for who in [SENDER, STRANGER, DEPLOYER, TREASURY] {
        assert_reverts(&c.rule(who, id, true), Q::NotArbiter::SELECTOR, "rule by a non-arbiter");
    }
    let new_arbiter = Address::repeat_byte(0xa2);
    let set = Q::setArbiterCall { arbiter_: new_arbiter };
    assert_reverts(&c.send(ARBITER, U256::ZERO, &set), Q::NotGovernance::SELECTOR, "arbiter names itself");
    let zero = Q::setArbiterCall { arbiter_: Address::ZERO };
    assert_reverts(&c.send(DEPLOYER, U256::ZERO, &zero), Q::ZeroAddress::SELECTOR, "zero arbiter");
    assert!(c.send(DEPLOYER, U256::ZERO, &set).is_success());
    assert_eq!(c.chain.call(c.court, &Q::arbiterCall {}).unwrap(), new_arbiter);
    // The new arbiter rules on the dispute opened before the change; the old one no longer can.
    assert_reverts(&c.rule(ARBITER, id, true), Q::NotArbiter::SELECTOR, "former arbiter");
    c.chain.set_balance(new_arbiter, ether(1));
    assert!(c.rule(new_arbiter, id, true).is_success());

    // Governance hands over.
    let council = Address::repeat_byte(0xc0);
    let hand_over = Q::setGovernanceCall { governance_: council };
    assert_reverts(&c.send(STRANGER, U256::ZERO, &hand_over), Q::NotGovernance::SELECTOR, "governance by anyone");
    let zero = Q::setGovernanceCall { governance_: Address::ZERO };
    assert_reverts(&c.send(DEPLOYER, U256::ZERO, &zero), Q::ZeroAddress::SELECTOR, "zero governance");
    assert!(c.send(DEPLOYER, U256::ZERO, &hand_over).is_success());
    assert_reverts(&c.send(DEPLOYER, U256::ZERO, &set), Q::NotGovernance::SELECTOR, "former governance");
    c.chain.set_balance(council, ether(1));
    assert!(c.send(council, U256::ZERO, &Q::setArbiterCall { arbiter_: ARBITER }).is_success());
}

#[test]
fn constructor_checks() {
    let mut chain = Chain::new();
    assert!(chain.deploy(&deploy_args(Address::ZERO, TREASURY, WINDOW)).is_err(), "zero arbiter");
    assert!(chain.deploy(&deploy_args(ARBITER, Address::ZERO, WINDOW)).is_err(), "zero treasury");
    assert!(chain.deploy(&deploy_args(ARBITER, TREASURY, 0)).is_err(), "zero window");
    // The revert reasons, through a call that creates nothing but reports the data.
    let (out, _) = chain
        .run(DEPLOYER, U256::ZERO, alloy_primitives::TxKind::Create, deploy_args(ARBITER, TREASURY, 0).into())
        .unwrap();
    assert_reverts(&out, Q::ZeroWindow::SELECTOR, "zero window");
    let (out, _) = chain
        .run(DEPLOYER, U256::ZERO, alloy_primitives::TxKind::Create, deploy_args(Address::ZERO, TREASURY, 1).into())
        .unwrap();
    assert_reverts(&out, Q::ZeroAddress::SELECTOR, "zero arbiter");
}

#[test]
fn an_opener_refusing_ether_cannot_block_the_ruling() {
    let mut c = Court::new();
    let opener = c.chain.deploy(&refusing_forwarder(c.court)).unwrap();
    let open = Q::openCall { txHash: TX, evidenceRef: EVIDENCE };
    let out = c.chain.transact_from(SENDER, ether(2), opener, &open).unwrap();
    assert!(out.is_success(), "{out:?}");
    let d = c.chain.call(c.court, &Q::disputeAtCall { id: U256::ZERO }).unwrap();
    assert_eq!(d.opener, opener);
    // The ruling only credits the bond, so it goes through.
    assert!(c.rule(ARBITER, U256::ZERO, true).is_success());
    assert!(c.released());
    let out = c.chain.transact_from(SENDER, U256::ZERO, opener, &Q::withdrawCall {}).unwrap();
    assert_reverts(&out, Q::TransferFailed::SELECTOR, "withdraw to a contract refusing ether");
    assert_eq!(c.claimable(opener), ether(2), "the credit stays");
}
