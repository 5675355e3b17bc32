//! The on-chain hash to G2 equals blst's (vigil-crypto's) point for point.

use alloy_primitives::Bytes;
use vigil_contracts::{g2_affine_to_eip2537, CertificateVerifier};
use vigil_crypto::{hash::hash_to_g2, DST_POP, DST_SIGN};

use crate::evm::Chain;

#[test]
fn hash_to_g2_matches_blst() {
    let mut chain = Chain::new();
    let verifier = chain.deploy(&crate::util::verifier_code(crate::evm::DEPLOYER));
    let long = vec![0xa5u8; 300];
    let messages: Vec<&[u8]> = vec![b"", b"abc", &[0u8; 32], &[0xffu8; 32], b"vigil/vote/v1", &long];
    for dst in [DST_SIGN, DST_POP, b"QUUX-V01-CS02-with-BLS12381G2_XMD:SHA-256_SSWU_RO_".as_slice()] {
        for msg in &messages {
            let got = chain.call(
                verifier,
                &CertificateVerifier::hashToG2Call {
                    message: Bytes::copy_from_slice(msg),
                    dst: Bytes::copy_from_slice(dst),
                },
            );
            let want = g2_affine_to_eip2537(&hash_to_g2(msg, dst));
            assert_eq!(got.as_ref(), want.as_slice(), "msg {} bytes, dst {}", msg.len(), String::from_utf8_lossy(dst));
        }
    }
}

#[test]
fn vote_digest_matches() {
    let mut chain = Chain::new();
    let verifier = chain.deploy(&crate::util::verifier_code(crate::evm::DEPLOYER));
    let msg = vigil_types::VoteMessage {
        chain_id: 31337,
        epoch: 9,
        tx_hash: alloy_primitives::B256::repeat_byte(0x42),
        kind: vigil_types::VoteKind::Malicious,
    };
    let got = chain.call(
        verifier,
        &CertificateVerifier::voteDigestCall {
            chainId: msg.chain_id,
            epoch: msg.epoch,
            txHash: msg.tx_hash,
            kind: msg.kind.as_byte(),
        },
    );
    assert_eq!(got.0, msg.digest());
}
