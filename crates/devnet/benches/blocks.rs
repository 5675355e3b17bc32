//! Devnet block execution throughput: seal one block of N certified
//! transactions (ETH transfers from N distinct senders), including
//! execution in revm, the state root, and the synced RocksDB batch.
//!
//! `cargo bench -p vigil-devnet --bench blocks`; tx/s = N / time per block.

use std::sync::Arc;

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{keccak256, Address, TxKind, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use vigil_devnet::{chain::Chain, store::cf};
use vigil_fixture::Genesis;
use vigil_store::Store;
use vigil_types::tx::Transaction;

const CHAIN: u64 = 7;

fn genesis(accounts: &[Address]) -> Genesis {
    let alloc: serde_json::Map<String, serde_json::Value> =
        accounts.iter().map(|a| (a.to_string(), serde_json::json!({ "balance": "0x3635c9adc5dea00000" }))).collect();
    let json = serde_json::json!({
        "chain_id": CHAIN, "fork": "prague",
        "genesis": { "timestamp": 1_700_000_000u64, "gas_limit": 60_000_000u64,
                     "coinbase": "0x000000000000000000000000000000000000c0de", "base_fee": 1_000_000_000u64 },
        "alloc": alloc,
    });
    Genesis::from_json_str(&json.to_string()).unwrap()
}

fn transfers(keys: &[PrivateKeySigner], nonce: u64) -> Vec<Transaction> {
    keys.iter()
        .enumerate()
        .map(|(i, k)| {
            let t = TxEip1559 {
                chain_id: CHAIN,
                nonce,
                gas_limit: 21_000,
                max_fee_per_gas: 10_000_000_000,
                max_priority_fee_per_gas: 1_000_000_000,
                to: TxKind::Call(Address::with_last_byte(i as u8)),
                value: U256::from(1),
                ..Default::default()
            };
            let sig = k.sign_hash_sync(&t.signature_hash()).unwrap();
            let env: TxEnvelope = t.into_signed(sig).into();
            Transaction::decode(&env.encoded_2718()).unwrap()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("devnet_block");
    group.sample_size(20);
    for n in [100usize, 500, 1000] {
        let keys: Vec<PrivateKeySigner> =
            (0..n).map(|i| PrivateKeySigner::from_bytes(&keccak256((i as u64).to_be_bytes())).unwrap()).collect();
        let addresses: Vec<Address> = keys.iter().map(|k| k.address()).collect();
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path(), cf::ALL).unwrap());
        let mut chain = Chain::open(store, genesis(&addresses)).unwrap();
        let mut nonce = 0u64;
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(format!("{n}_transfers"), |b| {
            b.iter_batched(
                || {
                    let txs = transfers(&keys, nonce);
                    nonce += 1;
                    txs
                },
                |txs| {
                    let built = chain.build_block(&txs, 0, |_, _, _| {}).unwrap();
                    assert_eq!(built.block.transactions.len(), n);
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
