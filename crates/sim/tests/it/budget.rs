//! Budget exhaustion is an outcome, reported promptly and precisely.

use std::time::Duration;

use alloy_primitives::Address;
use revm::context::result::{HaltReason, OutOfGasError};
use vigil_sim::{execute, simulate, trace::FrameStatus, Budget, BudgetKind, ExecResult};

use crate::common::{block, call, call_all_gas, key, state_with};

/// `JUMPDEST PUSH1 0 JUMP`: loops until out of gas.
const LOOP: [u8; 4] = [0x5b, 0x60, 0x00, 0x56];
const TX_GAS: u64 = 29_000_000;

fn looper() -> Address {
    Address::repeat_byte(0x10)
}

#[test]
fn infinite_loop_stops_at_gas_budget() {
    let k = key(1);
    let state = state_with(&[k.address()], &[(looper(), LOOP.to_vec())]);
    let tx = call(&k, 0, looper(), vec![], TX_GAS);
    let budget = Budget { max_gas: 1_000_000, max_wall_time: Duration::from_secs(60) };
    let out = simulate(&state, &block(), &tx, &budget).unwrap();
    match out.result {
        ExecResult::BudgetExceeded { kind: BudgetKind::Gas, gas_used, .. } => {
            // Stopped at the first instruction past the budget.
            assert!((1_000_000..1_000_010).contains(&gas_used), "{gas_used}");
        }
        other => panic!("expected a gas budget stop, got {other:?}"),
    }
    assert!(out.changes.is_empty());
    assert_eq!(out.trace.frames.len(), 1);
    assert_eq!(out.trace.frames[0].status, FrameStatus::Halt);
}

#[test]
fn gas_budget_counts_gas_held_by_callers() {
    // The loop runs in a child frame: the gas its caller kept back (1/64)
    // still counts as unused, so the stop is as precise as at depth 0.
    let k = key(2);
    let outer = Address::repeat_byte(0x20);
    let state = state_with(
        &[k.address()],
        &[(outer, [call_all_gas(looper()), vec![0x00]].concat()), (looper(), LOOP.to_vec())],
    );
    let tx = call(&k, 0, outer, vec![], TX_GAS);
    let budget = Budget { max_gas: 2_000_000, max_wall_time: Duration::from_secs(60) };
    let out = simulate(&state, &block(), &tx, &budget).unwrap();
    match out.result {
        ExecResult::BudgetExceeded { kind: BudgetKind::Gas, gas_used, .. } => {
            assert!((2_000_000..2_000_010).contains(&gas_used), "{gas_used}");
        }
        other => panic!("expected a gas budget stop, got {other:?}"),
    }
    // Both frames were stopped; the caller did not get to run on.
    assert_eq!(out.trace.frames.len(), 2);
    assert!(out.trace.frames.iter().all(|f| f.status == FrameStatus::Halt));
}

#[test]
fn infinite_loop_stops_at_wall_time_budget() {
    let k = key(3);
    let state = state_with(&[k.address()], &[(looper(), LOOP.to_vec())]);
    let tx = call(&k, 0, looper(), vec![], TX_GAS);
    let budget = Budget { max_gas: u64::MAX, max_wall_time: Duration::from_millis(2) };
    let out = simulate(&state, &block(), &tx, &budget).unwrap();
    match out.result {
        ExecResult::BudgetExceeded { kind: BudgetKind::WallTime, gas_used, elapsed } => {
            assert!(gas_used < TX_GAS, "ran to the end: {gas_used}");
            assert!(elapsed >= Duration::from_millis(2));
            // Generous: a loaded CI machine, a debug build.
            assert!(elapsed < Duration::from_secs(2), "stopped late: {elapsed:?}");
        }
        other => panic!("expected a wall-time stop, got {other:?}"),
    }
    assert!(out.changes.is_empty());
}

#[test]
fn without_budget_the_loop_runs_out_of_gas() {
    let k = key(4);
    let state = state_with(&[k.address()], &[(looper(), LOOP.to_vec())]);
    let tx = call(&k, 0, looper(), vec![], 1_000_000);
    let plain = execute(&state, &block(), &tx).unwrap();
    assert_eq!(
        plain.result,
        ExecResult::Halt { gas_used: 1_000_000, reason: HaltReason::OutOfGas(OutOfGasError::Basic) }
    );
    // A budget above the transaction's own limit changes nothing.
    let traced = simulate(&state, &block(), &tx, &Budget::default()).unwrap();
    assert_eq!(traced.result, plain.result);
    assert_eq!(traced.changes, plain.changes);
}
