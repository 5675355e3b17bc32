//! Committees and votes for tests.

use std::sync::Arc;
use vigil_consensus::VerifiedCommittee;
use vigil_crypto::SecretKey;
use vigil_types::{Committee, Member, Stake, Threshold, Vote, VoteKind, VoteMessage, B256, U256};

pub struct Setup {
    pub keys: Vec<SecretKey>,
    pub committee: Arc<VerifiedCommittee>,
}

pub const CHAIN: u64 = 31337;
pub const EPOCH: u64 = 7;

pub fn key(seed: u64, i: usize) -> SecretKey {
    let mut ikm = [0u8; 32];
    ikm[..8].copy_from_slice(&seed.to_be_bytes());
    ikm[8..16].copy_from_slice(&(i as u64).to_be_bytes());
    SecretKey::from_ikm(&ikm).expect("ikm is 32 bytes")
}

pub fn committee_json(keys: &[SecretKey], stakes: &[u64]) -> Committee {
    Committee {
        chain_id: CHAIN,
        epoch: EPOCH,
        ruleset: "vigil-rules/1".into(),
        threshold: Threshold::TWO_THIRDS,
        members: keys
            .iter()
            .zip(stakes)
            .enumerate()
            .map(|(i, (k, s))| Member {
                index: i as u32,
                bls_pubkey: k.public_key().to_bytes(),
                pop: k.prove_possession().to_bytes(),
                stake: Stake(U256::from(*s) * U256::from(10u64).pow(U256::from(18))),
                peer_id: format!("12D3KooWTest{i}"),
            })
            .collect(),
    }
}

pub fn setup(seed: u64, stakes: &[u64]) -> Setup {
    let keys: Vec<SecretKey> = (0..stakes.len()).map(|i| key(seed, i)).collect();
    let committee = Arc::new(VerifiedCommittee::new(committee_json(&keys, stakes)).expect("valid committee"));
    Setup { keys, committee }
}

pub fn tx(n: u64) -> B256 {
    B256::left_padding_from(&n.to_be_bytes())
}

pub fn vote(keys: &[SecretKey], signer: usize, tx_hash: B256, kind: VoteKind) -> Vote {
    let msg = VoteMessage { chain_id: CHAIN, epoch: EPOCH, tx_hash, kind };
    Vote {
        chain_id: CHAIN,
        epoch: EPOCH,
        tx_hash,
        kind,
        signer: signer as u32,
        signature: keys[signer].sign_vote(&msg).to_bytes(),
    }
}
