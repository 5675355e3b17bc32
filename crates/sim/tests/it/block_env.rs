//! The block environment follows FORMAT.md replay rule 2.

use std::collections::BTreeMap;

use alloy_primitives::{Address, Bytes, B256, U256};
use vigil_fixture::{replay::block_hash, Fork, Genesis, GenesisAccount, GenesisBlock};
use vigil_sim::{Replay, StateView};

use crate::common::{call, ether, key, CHAIN_ID};

#[test]
fn replay_blocks_follow_the_rules() {
    // Stores TIMESTAMP, NUMBER, BLOCKHASH(NUMBER-1), BASEFEE, GASLIMIT,
    // COINBASE, PREVRANDAO, CHAINID in slots 0..=7.
    let code =
        alloy_primitives::hex::decode("4260005543600155600143034060025548600355456004554160055544600655466007550000")
            .unwrap();
    let probe = Address::repeat_byte(0x99);
    let user = key(1);
    let coinbase = Address::with_last_byte(0xcb);
    let genesis = Genesis {
        chain_id: CHAIN_ID,
        fork: Fork::Prague,
        block: GenesisBlock { timestamp: 1_000, gas_limit: 25_000_000, coinbase, base_fee: 7 },
        alloc: BTreeMap::from([
            (user.address(), GenesisAccount { balance: ether(1), ..Default::default() }),
            (probe, GenesisAccount { code: Bytes::from(code), nonce: 1, ..Default::default() }),
        ]),
    };
    let mut replay = Replay::new(&genesis).unwrap();
    for i in 0..3u64 {
        let tx = call(&user, i, probe, vec![], 300_000);
        let out = replay.execute_next(&tx).unwrap();
        assert!(out.result.is_success(), "{:?}", out.result);
        let slot = |n: u64| replay.state().storage(probe, U256::from(n)).unwrap();
        let number = i + 1;
        assert_eq!(slot(0), U256::from(1_000 + 2 * number), "timestamp");
        assert_eq!(slot(1), U256::from(number), "number");
        assert_eq!(B256::from(slot(2)), block_hash(number - 1), "blockhash");
        assert_eq!(slot(3), U256::from(7), "basefee");
        assert_eq!(slot(4), U256::from(25_000_000), "gaslimit");
        assert_eq!(Address::from_word(slot(5).into()), coinbase, "coinbase");
        assert_eq!(slot(6), U256::ZERO, "prevrandao");
        assert_eq!(slot(7), U256::from(CHAIN_ID), "chainid");
    }
    assert_eq!(replay.applied(), 3);
    assert_eq!(replay.next_block().number, 4);
}

#[test]
fn runs_prague_not_revms_default_osaka() {
    use revm::primitives::hardfork::SpecId;
    use vigil_sim::{execute, ExecResult};

    assert_eq!(crate::common::block().spec_id().unwrap(), SpecId::PRAGUE);
    assert_eq!(SpecId::default(), SpecId::OSAKA, "revm's default moved: re-read docs/decisions/0002");
    // CLZ (0x1e) arrives with Osaka: under Prague it is not an instruction.
    let k = key(2);
    let c = Address::repeat_byte(0x1e);
    let state = crate::common::state_with(&[k.address()], &[(c, vec![0x60, 0x01, 0x1e, 0x00])]);
    let out = execute(&state, &crate::common::block(), &call(&k, 0, c, vec![], 100_000)).unwrap();
    assert!(matches!(out.result, ExecResult::Halt { .. }), "{:?}", out.result);
}
