//! BLS primitives: signing a vote, verifying one signature, aggregating N
//! signatures, decoding (with the subgroup check).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use vigil_crypto::{SecretKey, Signature};
use vigil_types::{VoteKind, VoteMessage, B256};

fn msg() -> VoteMessage {
    VoteMessage { chain_id: 31337, epoch: 7, tx_hash: B256::repeat_byte(0x42), kind: VoteKind::Clean }
}

fn bench(c: &mut Criterion) {
    let sk = SecretKey::from_ikm(&[7; 32]).expect("ikm");
    let pk = sk.public_key();
    let m = msg();
    let sig = sk.sign_vote(&m);
    c.bench_function("vote_sign", |b| b.iter(|| sk.sign_vote(&m)));
    c.bench_function("vote_verify_single", |b| b.iter(|| assert!(sig.verify_vote(&pk, &m))));
    let bytes = sig.to_bytes();
    c.bench_function("signature_decode_subgroup_check", |b| b.iter(|| Signature::from_bytes(bytes.as_bytes())));
    let mut group = c.benchmark_group("aggregate_signatures");
    for n in [4usize, 64, 1024] {
        let sigs: Vec<Signature> =
            (0..n).map(|i| SecretKey::from_ikm(&[i as u8; 32]).expect("ikm").sign_vote(&m)).collect();
        group.bench_with_input(BenchmarkId::from_parameter(n), &sigs, |b, sigs| b.iter(|| Signature::aggregate(sigs)));
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
