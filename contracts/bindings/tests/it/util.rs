//! Committees and certificates built with vigil-crypto keys, and their
//! on-chain forms.

use alloy_primitives::{Address, B256, U256};
use vigil_consensus::VerifiedCommittee;
use vigil_contracts::{g1_eip2537, CertificateVerifier};
use vigil_crypto::{SecretKey, Signature};
use vigil_types::{
    Certificate, Committee, Member, PublicKeyBytes, SignatureBytes, SignerBitmap, Stake, Threshold, VoteKind,
    VoteMessage,
};

use alloy_sol_types::SolValue;

use crate::evm::{ether, Chain, DEPLOYER};

pub const CHAIN_ID: u64 = 31337;
pub const EPOCH: u64 = 7;

/// A committee with its secret keys.
pub struct TestCommittee {
    pub keys: Vec<SecretKey>,
    pub committee: Committee,
}

impl TestCommittee {
    /// `n` members; member `i` has key `ikm = [i; 32]`-derived and stake `stakes(i)` ether.
    pub fn new(n: usize, stakes: impl Fn(usize) -> u64) -> Self {
        let keys: Vec<SecretKey> = (0..n)
            .map(|i| {
                let mut ikm = [0u8; 32];
                ikm[..8].copy_from_slice(&(i as u64).to_be_bytes());
                ikm[31] = 0x5a;
                SecretKey::from_ikm(&ikm).unwrap()
            })
            .collect();
        let members = keys
            .iter()
            .enumerate()
            .map(|(i, k)| Member {
                index: i as u32,
                bls_pubkey: PublicKeyBytes(k.public_key().to_bytes().0),
                pop: SignatureBytes(k.prove_possession().to_bytes().0),
                stake: Stake(ether(stakes(i))),
                peer_id: format!("12D3KooWTest{i}"),
            })
            .collect();
        let committee = Committee {
            chain_id: CHAIN_ID,
            epoch: EPOCH,
            ruleset: "vigil-rules/1".into(),
            threshold: Threshold::TWO_THIRDS,
            members,
        };
        Self { keys, committee }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// The `publishCommittee` call for this committee.
    pub fn publish_call(&self) -> CertificateVerifier::publishCommitteeCall {
        let mut keys = Vec::with_capacity(self.len() * 128);
        for m in &self.committee.members {
            keys.extend_from_slice(&g1_eip2537(&m.bls_pubkey.0).unwrap());
        }
        CertificateVerifier::publishCommitteeCall {
            epoch: self.committee.epoch,
            chainId: self.committee.chain_id,
            num: self.committee.threshold.num,
            den: self.committee.threshold.den,
            keys: keys.into(),
            stakes: self.committee.members.iter().map(|m| m.stake.0).collect(),
        }
    }

    /// Deploys a verifier whose publisher is [`DEPLOYER`] and publishes this
    /// committee in it.
    pub fn deploy(&self, chain: &mut Chain) -> Address {
        let verifier = chain.deploy(&verifier_code(DEPLOYER));
        let out = chain.transact(verifier, &self.publish_call());
        assert!(out.is_success(), "publishCommittee failed: {out:?}");
        verifier
    }

    /// A certificate of `kind` about `tx_hash` signed by `signers`.
    pub fn certificate(&self, tx_hash: B256, kind: VoteKind, signers: &[usize]) -> Certificate {
        let msg = VoteMessage { chain_id: self.committee.chain_id, epoch: self.committee.epoch, tx_hash, kind };
        let sigs: Vec<Signature> = signers.iter().map(|&i| self.keys[i].sign_vote(&msg)).collect();
        let signature = Signature::aggregate(&sigs).unwrap();
        Certificate {
            chain_id: msg.chain_id,
            epoch: msg.epoch,
            tx_hash,
            kind,
            signers: SignerBitmap::from_indexes(self.len(), signers.iter().copied()).unwrap(),
            signature: SignatureBytes(signature.to_bytes().0),
        }
    }

    /// A batch of `count` verdicts (clean), its certificate signed by
    /// `signers`, and the inclusion proof of leaf `index` (DESIGN §4b).
    pub fn inclusion(&self, count: usize, index: u32, signers: &[usize]) -> vigil_types::InclusionProof {
        use vigil_types::{BatchCertificate, BatchLeaf, BatchMessage, BatchTree};
        let leaves = (0..count)
            .map(|i| BatchLeaf {
                tx_hash: B256::left_padding_from(&(i as u64 + 1).to_be_bytes()),
                kind: VoteKind::Clean,
            })
            .collect();
        let tree = BatchTree::new(leaves).unwrap();
        let msg = BatchMessage {
            chain_id: self.committee.chain_id,
            epoch: self.committee.epoch,
            count: tree.count(),
            root: tree.root(),
        };
        let sigs: Vec<Signature> = signers.iter().map(|&i| self.keys[i].sign(&msg.digest())).collect();
        let certificate = BatchCertificate {
            chain_id: msg.chain_id,
            epoch: msg.epoch,
            count: msg.count,
            root: msg.root,
            signers: SignerBitmap::from_indexes(self.len(), signers.iter().copied()).unwrap(),
            signature: SignatureBytes(Signature::aggregate(&sigs).unwrap().to_bytes().0),
        };
        let leaf = tree.leaves()[index as usize];
        vigil_types::InclusionProof {
            certificate,
            index,
            tx_hash: leaf.tx_hash,
            kind: leaf.kind,
            path: tree.path(index).unwrap(),
        }
    }

    /// The off-chain answer (`vigil cert verify`).
    pub fn verify_offchain(&self, cert: &Certificate) -> bool {
        let committee = VerifiedCommittee::new(self.committee.clone()).unwrap();
        vigil_consensus::verify_certificate(&committee, cert).is_ok()
    }
}

/// The creation code of a `CertificateVerifier` whose publisher is `publisher`.
pub fn verifier_code(publisher: Address) -> Vec<u8> {
    let mut code = CertificateVerifier::BYTECODE.to_vec();
    code.extend_from_slice(&publisher.abi_encode());
    code
}

/// The `verify` call for a certificate.
pub fn verify_call(cert: &Certificate) -> CertificateVerifier::verifyCall {
    vigil_contracts::onchain::verify_call(cert).unwrap()
}

/// The first `k` members.
pub fn first(k: usize) -> Vec<usize> {
    (0..k).collect()
}

#[allow(dead_code)]
pub fn u(n: u64) -> U256 {
    U256::from(n)
}

/// A contract that forwards its calldata and value to `target` (returning
/// or reverting as it does) and reverts on plain ether transfers (empty
/// calldata): a caller that refuses payment.
pub fn refusing_forwarder(target: Address) -> Vec<u8> {
    let mut runtime = vec![0x36, 0x15, 0x60, 51, 0x57, 0x36, 0x5f, 0x5f, 0x37, 0x5f, 0x5f, 0x36, 0x5f, 0x34, 0x73];
    runtime.extend_from_slice(target.as_slice());
    runtime.extend_from_slice(&[
        0x5a, 0xf1, 0x3d, 0x5f, 0x5f, 0x3e, 0x60, 47, 0x57, 0x3d, 0x5f, 0xfd, 0x5b, 0x3d, 0x5f, 0xf3, 0x5b, 0x5f, 0x5f,
        0xfd,
    ]);
    assert_eq!(runtime.len(), 55);
    let mut code = vec![0x60, 55, 0x80, 0x60, 9, 0x5f, 0x39, 0x5f, 0xf3];
    code.extend_from_slice(&runtime);
    code
}
