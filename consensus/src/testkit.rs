//! A committee whose secret keys are all known, for tests, benchmarks and
//! development chains (feature `testkit`). It signs whatever it is asked to:
//! never use it where the inspector network is what is being tested.

use std::sync::Arc;

use vigil_crypto::{SecretKey, Signature};
use vigil_types::{
    BatchCertificate, BatchLeaf, BatchMessage, BatchTree, BatchVote, Certificate, Committee, InclusionProof, Member,
    SignerBitmap, Stake, Threshold, VoteKind, VoteMessage, B256, U256,
};

use crate::VerifiedCommittee;

/// Keys and committee of a development committee.
#[derive(Debug)]
pub struct DevCommittee {
    /// Members' secret keys, by index.
    pub keys: Vec<SecretKey>,
    /// The committee, verified.
    pub committee: Arc<VerifiedCommittee>,
}

impl DevCommittee {
    /// `members` equal-stake members (1 ETH each in wei), keys derived from
    /// `seed`, two-thirds threshold.
    pub fn generate(chain_id: u64, epoch: u64, members: usize, seed: u64) -> Self {
        let keys: Vec<SecretKey> = (0..members)
            .map(|i| {
                let mut ikm = [0u8; 32];
                ikm[..8].copy_from_slice(&seed.to_be_bytes());
                ikm[8..16].copy_from_slice(&(i as u64).to_be_bytes());
                ikm[16..].copy_from_slice(b"vigil-dev-commit");
                #[allow(clippy::expect_used)]
                SecretKey::from_ikm(&ikm).expect("32-byte ikm")
            })
            .collect();
        let committee = Committee {
            chain_id,
            epoch,
            ruleset: "vigil-rules/1".into(),
            threshold: Threshold::TWO_THIRDS,
            members: keys
                .iter()
                .enumerate()
                .map(|(i, k)| Member {
                    index: i as u32,
                    bls_pubkey: k.public_key().to_bytes(),
                    pop: k.prove_possession().to_bytes(),
                    stake: Stake(U256::from(10u64).pow(U256::from(18))),
                    peer_id: format!("12D3KooWDevMember{i}"),
                })
                .collect(),
        };
        #[allow(clippy::expect_used)]
        let committee = Arc::new(VerifiedCommittee::new(committee).expect("generated committee is valid"));
        Self { keys, committee }
    }

    /// The committee's JSON form (DESIGN §4).
    pub fn committee(&self) -> &Committee {
        self.committee.committee()
    }

    /// A certificate of `kind` for `tx_hash` signed by the members in
    /// `signers`.
    pub fn certify_with(&self, tx_hash: B256, kind: VoteKind, signers: &[usize]) -> Certificate {
        let c = self.committee.committee();
        let msg = VoteMessage { chain_id: c.chain_id, epoch: c.epoch, tx_hash, kind };
        let sigs: Vec<Signature> = signers.iter().map(|i| self.keys[*i].sign_vote(&msg)).collect();
        #[allow(clippy::expect_used)]
        let signature = Signature::aggregate(&sigs).expect("at least one signer").to_bytes();
        #[allow(clippy::expect_used)]
        let signers = SignerBitmap::from_indexes(self.keys.len(), signers.iter().copied()).expect("indexes in range");
        Certificate { chain_id: c.chain_id, epoch: c.epoch, tx_hash, kind, signers, signature }
    }

    /// A batch of clean verdicts on `txs` and its batch certificate signed
    /// by the members in `signers` (DESIGN §4b).
    pub fn certify_batch(&self, txs: &[B256], signers: &[usize]) -> (BatchTree, BatchCertificate) {
        self.certify_leaves(txs.iter().map(|t| BatchLeaf { tx_hash: *t, kind: VoteKind::Clean }).collect(), signers)
    }

    /// A batch of these verdicts and its batch certificate signed by the
    /// members in `signers`.
    pub fn certify_leaves(&self, leaves: Vec<BatchLeaf>, signers: &[usize]) -> (BatchTree, BatchCertificate) {
        let c = self.committee.committee();
        #[allow(clippy::expect_used)]
        let tree = BatchTree::new(leaves).expect("1 to 4096 distinct transactions");
        let msg = BatchMessage { chain_id: c.chain_id, epoch: c.epoch, count: tree.count(), root: tree.root() };
        let sigs: Vec<Signature> = signers.iter().map(|i| self.keys[*i].sign(&msg.digest())).collect();
        #[allow(clippy::expect_used)]
        let signature = Signature::aggregate(&sigs).expect("at least one signer").to_bytes();
        #[allow(clippy::expect_used)]
        let signers = SignerBitmap::from_indexes(self.keys.len(), signers.iter().copied()).expect("indexes in range");
        let cert = BatchCertificate {
            chain_id: c.chain_id,
            epoch: c.epoch,
            count: msg.count,
            root: msg.root,
            signers,
            signature,
        };
        (tree, cert)
    }

    /// Member `signer`'s batch vote over `tree` (DESIGN §4b).
    pub fn batch_vote(&self, signer: usize, tree: &BatchTree) -> BatchVote {
        let c = self.committee.committee();
        let msg = BatchMessage { chain_id: c.chain_id, epoch: c.epoch, count: tree.count(), root: tree.root() };
        BatchVote {
            chain_id: c.chain_id,
            epoch: c.epoch,
            count: msg.count,
            root: msg.root,
            signer: signer as u32,
            signature: self.keys[signer].sign(&msg.digest()).to_bytes(),
        }
    }

    /// The inclusion proof of leaf `index` of a batch made by
    /// [`Self::certify_batch`].
    pub fn inclusion(&self, tree: &BatchTree, cert: &BatchCertificate, index: u32) -> InclusionProof {
        let leaf = tree.leaves()[index as usize];
        InclusionProof {
            certificate: cert.clone(),
            index,
            tx_hash: leaf.tx_hash,
            kind: leaf.kind,
            path: tree.path(index).unwrap_or_default(),
        }
    }

    /// A clean certificate for `tx_hash` signed by every member.
    pub fn certify(&self, tx_hash: B256) -> Certificate {
        let all: Vec<usize> = (0..self.keys.len()).collect();
        self.certify_with(tx_hash, VoteKind::Clean, &all)
    }
}
