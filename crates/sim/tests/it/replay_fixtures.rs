//! The spec's example fixtures, replayed by FORMAT.md's rules, and what the
//! trace shows about them.

use alloy_primitives::{address, keccak256, Address, I256, U256};
use vigil_fixture::{Fixture, Label};
use vigil_sim::{
    execute, simulate,
    trace::{StorageOp, TokenEventKind},
    Budget, ExecResult, Replay, SimError, SimOutcome, StateView,
};

use crate::common::{ether, fixture};

const BENIGN: &str = "example-benign-vault-and-erc20.json";
const REENTRANCY: &str = "example-reentrancy-eth-vault-drain.json";

/// Replays every transaction, checking that traced and plain execution
/// agree and that each succeeds (rule 3), and returns the traced outcomes.
fn replay_all(f: &Fixture) -> Vec<SimOutcome> {
    let mut replay = Replay::new(&f.genesis).unwrap();
    let mut outcomes = Vec::new();
    for t in &f.txs {
        let block = replay.next_block();
        assert_eq!(block.number, t.index as u64 + 1);
        assert_eq!(block.timestamp, f.genesis.block.timestamp + 2 * (t.index as u64 + 1));
        let plain = execute(replay.state(), &block, &t.tx).unwrap();
        let traced = replay.simulate_and_apply(&t.tx, &Budget::default()).unwrap();
        assert_eq!(traced.result, plain.result, "tx {} ({})", t.index, t.note);
        assert_eq!(traced.changes, plain.changes, "tx {} ({})", t.index, t.note);
        assert!(
            traced.result.is_success(),
            "{} tx {} ({}) did not succeed: {:?} {:?}",
            t.label,
            t.index,
            t.note,
            traced.result,
            traced.result.revert_reason()
        );
        let root = traced.trace.root().unwrap();
        assert_eq!(root.caller, t.tx.sender());
        assert!(!root.reverted);
        outcomes.push(traced);
    }
    assert_eq!(replay.applied(), f.txs.len());
    outcomes
}

fn created(out: &SimOutcome) -> Address {
    match out.result {
        ExecResult::Success { created: Some(a), .. } => a,
        ref other => panic!("not a creation: {other:?}"),
    }
}

const WITHDRAW_ALL: [u8; 4] = [0x85, 0x38, 0x28, 0xb6];

#[test]
fn reentrancy_fixture_replays_and_shows_reentry() {
    let f = fixture(REENTRANCY);
    let outs = replay_all(&f);
    let bank = created(&outs[0]);
    assert_eq!(bank, address!("0xdeb47de12ffd4276e03f349273a68dfcb1dddfbd"));
    let drainer = created(&outs[6]);

    // No benign or setup transaction re-enters anything.
    for (t, out) in f.txs.iter().zip(&outs) {
        if t.label != Label::Attack {
            assert!(out.trace.reentries.is_empty(), "tx {} re-enters", t.index);
        }
    }

    let attack = &outs[7].trace;
    assert_eq!(f.txs[7].label, Label::Attack);
    // withdrawAll() is entered again and again while the bank's first
    // withdrawAll frame is still active.
    let bank_reentries: Vec<_> = attack.reentries.iter().filter(|r| r.address == bank).collect();
    assert!(bank_reentries.len() >= 5, "{:?}", attack.reentries);
    for r in &bank_reentries {
        let new = attack.frame(r.frame).unwrap();
        let active = attack.frame(r.active).unwrap();
        assert_eq!(new.callee, bank);
        assert_eq!(new.selector, Some(WITHDRAW_ALL));
        assert_eq!(new.caller, drainer);
        assert_eq!(active.callee, bank);
        assert!(active.id < new.id && active.depth < new.depth);
        assert_eq!(new.reentered, Some(r.active));
    }
    let withdraw_frames = attack.frames.iter().filter(|f| f.callee == bank && f.selector == Some(WITHDRAW_ALL)).count();
    assert_eq!(withdraw_frames, bank_reentries.len() + 1);

    // The bank is emptied: 60 ETH of deposits (10 + 20 + 30 - 10 + 10) gone;
    // the attacker's 1 ETH deposit went in and out within the transaction.
    let change = attack.balance_changes[&bank];
    assert_eq!(change.before, ether(60));
    assert_eq!(change.after, U256::ZERO);
    assert_eq!(attack.balance_delta(bank), -I256::try_from(ether(60)).unwrap());
    let attacker = f.txs[7].tx.sender();
    let gained = attack.balance_delta(attacker) + attack.balance_delta(drainer);
    assert!(gained > I256::try_from(ether(59)).unwrap(), "{gained}");

    // The bank's balance mapping: every re-entrant withdrawal read the
    // attacker's (drainer's) non-zero balance before any write zeroed it.
    let drainer_slot = U256::from_be_bytes(keccak256([drainer.into_word().0, [0u8; 32]].concat()).0);
    let reads = attack
        .storage
        .iter()
        .filter(|s| s.address == bank && s.slot == drainer_slot)
        .filter(|s| matches!(s.op, StorageOp::Read { value } if value == ether(1)))
        .count();
    assert!(reads > bank_reentries.len(), "{reads}");
}

/// Solidity's slot of `mapping(address => uint256)` at position `p`.
fn mapping_slot(holder: Address, p: u64) -> U256 {
    let mut buf = [0u8; 64];
    buf[12..32].copy_from_slice(holder.as_slice());
    buf[32..].copy_from_slice(&U256::from(p).to_be_bytes::<32>());
    U256::from_be_bytes(keccak256(buf).0)
}

#[test]
fn benign_fixture_token_deltas_match_balance_storage() {
    let f = fixture(BENIGN);
    let outs = replay_all(&f);
    assert!(outs.iter().all(|o| o.trace.reentries.is_empty()));
    let token = created(&outs[1]);

    let mut checked = 0;
    for (t, out) in f.txs.iter().zip(&outs) {
        let trace = &out.trace;
        for (holding, flow) in &trace.token_flows {
            assert_eq!(holding.token, token, "tx {}", t.index);
            if holding.holder == Address::ZERO || flow.net().is_zero() {
                continue;
            }
            // Find the balance slot among the token's committed writes and
            // check that it moved by exactly the event-derived amount.
            let matched = (0..16u64).find_map(|p| {
                let slot = mapping_slot(holding.holder, p);
                let writes: Vec<(U256, U256)> = trace
                    .committed_writes()
                    .filter(|w| w.address == token && w.slot == slot)
                    .map(|w| match w.op {
                        StorageOp::Write { old, new } => (old, new),
                        StorageOp::Read { .. } => unreachable!(),
                    })
                    .collect();
                let (first, last) = (writes.first()?, writes.last()?);
                Some((first.0, last.1))
            });
            let (old, new) =
                matched.unwrap_or_else(|| panic!("tx {}: no balance slot for {}", t.index, holding.holder));
            let moved = I256::try_from(new).unwrap() - I256::try_from(old).unwrap();
            assert_eq!(moved, flow.net(), "tx {} holder {}", t.index, holding.holder);
            checked += 1;
        }
    }
    assert!(checked >= 4, "only {checked} holdings checked");

    // The plain transfer of 1250 EXT (the last transaction).
    let last = &outs[6].trace;
    let transfers: Vec<_> = last
        .token_events
        .iter()
        .filter_map(|e| match e.kind {
            TokenEventKind::Erc20Transfer { from, to, amount } => Some((from, to, amount)),
            _ => None,
        })
        .collect();
    assert_eq!(transfers.len(), 1);
    let (from, to, amount) = transfers[0];
    assert_eq!(from, f.txs[6].tx.sender());
    assert_eq!(last.token_delta(token, from), -I256::try_from(amount).unwrap());
    assert_eq!(last.token_delta(token, to), I256::try_from(amount).unwrap());
    assert!(amount % U256::from(1250u64) == U256::ZERO, "{amount}");

    // The withdrawal sends the user's 5 ETH back from the vault.
    let withdraw = &outs[5].trace;
    let bank = created(&outs[0]);
    let payout: Vec<_> = withdraw.frames.iter().filter(|fr| fr.caller == bank && fr.value > U256::ZERO).collect();
    assert_eq!(payout.len(), 1);
    assert_eq!(payout[0].value, ether(5));
    assert_eq!(payout[0].callee, f.txs[5].tx.sender());
}

#[test]
fn final_state_is_consistent() {
    let f = fixture(REENTRANCY);
    let mut replay = Replay::new(&f.genesis).unwrap();
    for t in &f.txs {
        replay.execute_next(&t.tx).unwrap();
    }
    let bank = address!("0xdeb47de12ffd4276e03f349273a68dfcb1dddfbd");
    assert_eq!(replay.state().balance(bank), U256::ZERO);
    assert!(!replay.state().code(bank).is_empty());
    // Nonces advanced for every sender.
    let attacker = f.txs[7].tx.sender();
    assert_eq!(replay.state().nonce(attacker), 2);
    assert_eq!(replay.state().account(attacker).unwrap().unwrap().nonce, 2);
}

#[test]
fn broken_fixture_replay_says_which_tx() {
    // A fixture that parses but cannot replay: a deposit repeated with the
    // same nonce (rule 3: the replay tool must say so).
    let text = std::fs::read_to_string(crate::common::testdata(REENTRANCY)).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let dup = v["txs"][1].clone();
    v["txs"].as_array_mut().unwrap().insert(2, dup);
    let f = Fixture::from_json_str(&v.to_string()).unwrap();
    let mut replay = Replay::new(&f.genesis).unwrap();
    let mut failure = None;
    for t in &f.txs {
        if let Err(e) = replay.execute_next(&t.tx) {
            failure = Some((t.index, e));
            break;
        }
    }
    let (index, err) = failure.expect("the broken fixture replayed");
    assert_eq!(index, 2);
    assert!(matches!(err, SimError::InvalidTransaction(_)), "{err:?}");
    assert!(err.to_string().contains("nonce"), "{err}");
    // Nothing was applied for the failed transaction.
    assert_eq!(replay.applied(), 2);
}

#[test]
fn simulation_does_not_modify_state() {
    let f = fixture(REENTRANCY);
    let replay = Replay::new(&f.genesis).unwrap();
    let before = replay.state().clone();
    let out = simulate(replay.state(), &replay.next_block(), &f.txs[0].tx, &Budget::default()).unwrap();
    assert!(out.result.is_success());
    assert_eq!(format!("{:?}", replay.state()), format!("{before:?}"));
    assert_eq!(replay.state().nonce(f.txs[0].tx.sender()), 0);
}
