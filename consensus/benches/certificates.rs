//! Certificate verification against committees of 4 to 1024 members (all
//! but a quarter signing), cold (aggregate key computed) and warm (cached);
//! batch verification of 64 certificates.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use vigil_consensus::{verify_certificate, verify_certificates_batch, VerifiedCommittee};
use vigil_crypto::{SecretKey, Signature};
use vigil_types::{Certificate, Committee, Member, SignerBitmap, Stake, Threshold, VoteKind, VoteMessage, B256, U256};

fn committee(n: usize) -> (Vec<SecretKey>, VerifiedCommittee) {
    let keys: Vec<SecretKey> = (0..n)
        .map(|i| {
            let mut ikm = [0u8; 32];
            ikm[..8].copy_from_slice(&(i as u64).to_be_bytes());
            SecretKey::from_ikm(&ikm).expect("ikm")
        })
        .collect();
    let c = Committee {
        chain_id: 31337,
        epoch: 7,
        ruleset: "vigil-rules/1".into(),
        threshold: Threshold::TWO_THIRDS,
        members: keys
            .iter()
            .enumerate()
            .map(|(i, k)| Member {
                index: i as u32,
                bls_pubkey: k.public_key().to_bytes(),
                pop: k.prove_possession().to_bytes(),
                stake: Stake(U256::from(32u64)),
                peer_id: format!("peer{i}"),
            })
            .collect(),
    };
    (keys, VerifiedCommittee::new(c).expect("valid"))
}

/// A certificate signed by the first `n - n/4` members (above 2/3).
fn certificate(keys: &[SecretKey], tx: u64) -> Certificate {
    let n = keys.len();
    let signers: Vec<usize> = (0..n - n / 4).collect();
    let msg = VoteMessage {
        chain_id: 31337,
        epoch: 7,
        tx_hash: B256::left_padding_from(&tx.to_be_bytes()),
        kind: VoteKind::Clean,
    };
    let sigs: Vec<Signature> = signers.iter().map(|&i| keys[i].sign_vote(&msg)).collect();
    Certificate {
        chain_id: 31337,
        epoch: 7,
        tx_hash: msg.tx_hash,
        kind: VoteKind::Clean,
        signers: SignerBitmap::from_indexes(n, signers).expect("in range"),
        signature: Signature::aggregate(&sigs).expect("non-empty").to_bytes(),
    }
}

fn bench(c: &mut Criterion) {
    let mut cold = c.benchmark_group("certificate_verify_cold");
    let mut setups = Vec::new();
    for n in [4usize, 16, 64, 256, 1024] {
        let (keys, com) = committee(n);
        let cert = certificate(&keys, 1);
        cold.bench_with_input(BenchmarkId::from_parameter(n), &(&com, &cert), |b, (com, cert)| {
            b.iter(|| {
                // Bypass the cache: sum the keys every time.
                let agg = com.aggregate_key_uncached(&cert.signers).expect("signers");
                let sig = Signature::from_bytes(cert.signature.as_bytes()).expect("sig");
                assert!(com.passes_threshold(com.bitmap_stake(&cert.signers).expect("bitmap")));
                assert!(sig.verify(&agg, &cert.message().digest()));
            })
        });
        setups.push((n, keys, com, cert));
    }
    cold.finish();
    let mut warm = c.benchmark_group("certificate_verify_warm");
    for (n, _, com, cert) in &setups {
        warm.bench_with_input(BenchmarkId::from_parameter(n), &(com, cert), |b, (com, cert)| {
            b.iter(|| assert!(verify_certificate(com, cert).is_ok()))
        });
    }
    warm.finish();

    let (keys, com) = committee(64);
    let certs: Vec<Certificate> = (0..64).map(|i| certificate(&keys, i)).collect();
    let pairs: Vec<_> = certs.iter().map(|c| (&com, c)).collect();
    c.bench_function("batch_verify_64_certificates_committee_64", |b| {
        b.iter(|| assert!(verify_certificates_batch(&pairs).iter().all(Result::is_ok)))
    });
    c.bench_function("verify_64_certificates_one_by_one_committee_64", |b| {
        b.iter(|| assert!(certs.iter().all(|c| verify_certificate(&com, c).is_ok())))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
