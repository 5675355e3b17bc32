//! Vigil's contracts deployed in an in-memory [`Chain`]: the registry (with
//! its slasher) and the certificate verifier, a committee registered and
//! published through them, and certificates checked on-chain. This is what
//! `vigil cert verify --onchain` runs.
//!
//! ```text
//! Committee JSON --register_committee--> InspectorRegistry.register (PoP checked on-chain), per member,
//!                                        in an epoch before the committee's
//!                --publish_committee---> block = first block of the committee's epoch,
//!                                        InspectorRegistry.snapshot -> CertificateVerifier.publishCommittee
//! Certificate   --verify---------------> CertificateVerifier.verify -> Verdict { valid | revert reason, gas }
//! ```

use alloy_primitives::{Address, Bytes, U256};
use alloy_sol_types::{SolConstructor, SolInterface, SolValue};
use vigil_types::{
    Certificate, Committee, EquivocationEvidence, InclusionProof, Member, Statement, StatementEvidence, Threshold, Vote,
};

use crate::{
    evm::{Chain, EvmError, Outcome, DEPLOYER},
    g1_eip2537, g2_affine, CertificateVerifier, InspectorRegistry, PointError, Slasher,
};

/// Why the contracts could not be set up or called.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OnchainError {
    /// The EVM failed to run a transaction.
    #[error(transparent)]
    Evm(#[from] EvmError),
    /// A compressed point does not decompress.
    #[error(transparent)]
    Point(#[from] PointError),
    /// The registry refused a member.
    #[error("member {index}: registration reverted: {reason}")]
    Registration {
        /// The member's committee index.
        index: u32,
        /// The decoded revert.
        reason: String,
    },
    /// The committee file is malformed (member order, duplicate keys, peer
    /// ids, ...: what `Committee::check` checks, which is not the contracts'
    /// business).
    #[error("invalid committee: {0}")]
    Structure(String),
    /// The verifier refused the committee.
    #[error("publishing the committee reverted: {0}")]
    Publication(String),
}

/// The on-chain answer about a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// `None` when `verify` returned, else the decoded revert reason.
    pub rejection: Option<String>,
    /// Gas of the `verify` transaction (21,000 intrinsic gas and calldata
    /// included).
    pub gas_used: u64,
}

impl Verdict {
    /// Whether the contract accepted the certificate.
    pub fn is_valid(&self) -> bool {
        self.rejection.is_none()
    }
}

/// The owner account a committee member registers from: derived from its
/// index, so that every member has its own.
pub fn member_owner(index: u32) -> Address {
    let mut a = [0u8; 20];
    a[0] = 0x10;
    a[16..].copy_from_slice(&index.to_be_bytes());
    Address::from(a)
}

/// Blocks per epoch of [`Params::new`].
pub const EPOCH_LENGTH: u64 = 100;
/// The court's dispute window assumed by [`Params::new`], in blocks.
pub const DISPUTE_WINDOW: u64 = 50;
/// Unbonding period of [`Params::new`], in blocks (longer than the dispute
/// window, as the registry requires).
pub const UNBONDING_PERIOD: u64 = 2 * EPOCH_LENGTH;
/// Ruleset version of [`Params::new`].
pub const RULESET: &str = "vigil-rules/1";

/// Deployment parameters of [`Contracts`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    /// Least stake to register.
    pub min_stake: U256,
    /// The chain the committees screen (and the slasher judges).
    pub chain_id: u64,
    /// Share of a slashed stake paid to the reporter, in basis points.
    pub reward_bps: u64,
    /// Certificate threshold.
    pub threshold: Threshold,
    /// Blocks per epoch.
    pub epoch_length: u64,
    /// Blocks between `exit` and `withdraw`.
    pub unbonding_period: u64,
    /// The court's dispute window (the unbonding period must exceed it).
    pub dispute_window: u64,
    /// Ruleset version from epoch 0.
    pub ruleset: String,
}

impl Params {
    /// `min_stake`, `chain_id`, `reward_bps`; threshold 2/3, [`EPOCH_LENGTH`],
    /// [`UNBONDING_PERIOD`], [`DISPUTE_WINDOW`], [`RULESET`].
    pub fn new(min_stake: U256, chain_id: u64, reward_bps: u64) -> Self {
        Self {
            min_stake,
            chain_id,
            reward_bps,
            threshold: Threshold::TWO_THIRDS,
            epoch_length: EPOCH_LENGTH,
            unbonding_period: UNBONDING_PERIOD,
            dispute_window: DISPUTE_WINDOW,
            ruleset: RULESET.into(),
        }
    }
}

/// Registry, slasher and verifier deployed in one in-memory chain.
#[derive(Debug)]
pub struct Contracts {
    /// The chain they live in.
    pub chain: Chain,
    /// `InspectorRegistry` (the verifier's publisher).
    pub registry: Address,
    /// `Slasher` (the registry's slasher).
    pub slasher: Address,
    /// `CertificateVerifier`.
    pub verifier: Address,
    /// Blocks per epoch.
    pub epoch_length: u64,
}

impl Contracts {
    /// Deploys the registry with `min_stake` and the other parameters of
    /// [`Params::new`], its slasher for votes about `chain_id` paying
    /// `reward_bps` of a slashed stake to the reporter, and the verifier.
    pub fn deploy(min_stake: U256, chain_id: u64, reward_bps: u64) -> Result<Self, OnchainError> {
        Self::deploy_with(&Params::new(min_stake, chain_id, reward_bps))
    }

    /// Deploys registry, slasher and verifier with `params`, at block 0.
    pub fn deploy_with(params: &Params) -> Result<Self, OnchainError> {
        let mut chain = Chain::new();
        // The registry names its slasher and its verifier, deployed right after it.
        let nonce = chain.nonce(DEPLOYER);
        let (slasher_at, verifier_at) = (DEPLOYER.create(nonce + 1), DEPLOYER.create(nonce + 2));
        let registry = chain.deploy(&registry_code(params, slasher_at, verifier_at))?;
        let slasher = chain.deploy(&slasher_code(params, registry))?;
        let verifier = chain.deploy(&verifier_code(registry))?;
        if (slasher, verifier) != (slasher_at, verifier_at) {
            return Err(EvmError::Rejected(format!(
                "slasher and verifier deployed at {slasher}, {verifier}, expected {slasher_at}, {verifier_at}"
            ))
            .into());
        }
        Ok(Self { chain, registry, slasher, verifier, epoch_length: params.epoch_length })
    }

    /// Moves the chain to the first block of `epoch` (a later epoch than
    /// the current one) and takes the epoch's snapshot, which publishes the
    /// committee to the verifier. Returns the `snapshot` transaction.
    pub fn enter_epoch(&mut self, epoch: u64) -> Result<Outcome, OnchainError> {
        let first = epoch
            .checked_mul(self.epoch_length)
            .ok_or_else(|| OnchainError::Publication(format!("epoch {epoch} is beyond the chain's block numbers")))?;
        if first <= self.chain.block_number() {
            return Err(OnchainError::Publication(format!(
                "the chain is at block {}, past the first block of epoch {epoch}",
                self.chain.block_number()
            )));
        }
        self.chain.set_block_number(first);
        Ok(self.chain.transact(self.registry, &InspectorRegistry::snapshotCall {})?)
    }

    /// Registers `member` from [`member_owner`] with its stake, key and
    /// proof of possession (checked by the registry).
    pub fn register(&mut self, member: &Member) -> Result<Outcome, OnchainError> {
        let owner = member_owner(member.index);
        let balance = self.chain.balance(owner);
        self.chain.set_balance(
            owner,
            balance.saturating_add(member.stake.0).saturating_add(U256::from(10u64).pow(U256::from(18))),
        );
        let call = register_call(&member.bls_pubkey.0, &member.pop.0, &member.peer_id)?;
        Ok(self.chain.transact_from(owner, member.stake.0, self.registry, &call)?)
    }

    /// Registers every member of `committee` in index order; the first
    /// refusal is an error.
    pub fn register_committee(&mut self, committee: &Committee) -> Result<(), OnchainError> {
        for m in &committee.members {
            let out = self.register(m)?;
            if !out.is_success() {
                return Err(OnchainError::Registration {
                    index: m.index,
                    reason: revert_reason::<InspectorRegistry::InspectorRegistryErrors>(out.revert_data()),
                });
            }
        }
        Ok(())
    }

    /// Publishes `committee`, whose members were registered (in index
    /// order) in an earlier epoch: enters `committee.epoch`, whose snapshot
    /// the registry publishes to the verifier, and checks that the snapshot
    /// has the committee's size.
    pub fn publish_committee(&mut self, committee: &Committee) -> Result<(), OnchainError> {
        let out = self.enter_epoch(committee.epoch)?;
        if !out.is_success() {
            return Err(OnchainError::Publication(revert_reason::<CertificateVerifier::CertificateVerifierErrors>(
                out.revert_data(),
            )));
        }
        let size = self.chain.call(self.registry, &InspectorRegistry::committeeSizeCall { epoch: committee.epoch })?;
        if size.size != U256::from(committee.members.len()) {
            return Err(OnchainError::Publication(format!(
                "the snapshot of epoch {} has {} members, the committee {}",
                committee.epoch,
                size.size,
                committee.members.len()
            )));
        }
        Ok(())
    }

    /// Sends `verify` for `cert` and reports the verdict and its gas.
    pub fn verify(&mut self, cert: &Certificate) -> Result<Verdict, OnchainError> {
        let out = self.chain.transact(self.verifier, &verify_call(cert)?)?;
        let rejection = (!out.is_success())
            .then(|| revert_reason::<CertificateVerifier::CertificateVerifierErrors>(out.revert_data()));
        Ok(Verdict { rejection, gas_used: out.gas_used() })
    }

    /// Sends `verifyInclusion` for `proof` and reports the verdict and its gas.
    pub fn verify_inclusion(&mut self, proof: &InclusionProof) -> Result<Verdict, OnchainError> {
        let out = self.chain.transact(self.verifier, &verify_inclusion_call(proof)?)?;
        let rejection = (!out.is_success())
            .then(|| revert_reason::<CertificateVerifier::CertificateVerifierErrors>(out.revert_data()));
        Ok(Verdict { rejection, gas_used: out.gas_used() })
    }
}

/// `cert` checked against `committee` entirely on-chain: deploy the
/// contracts (threshold and ruleset of the committee), register every member
/// in epoch 0 (proofs of possession checked by the registry), enter the
/// committee's epoch (the registry's snapshot publishes it), call `verify`. Only the committee's
/// structure is checked off-chain first (`Committee::check`: index order,
/// distinct keys, strings); keys and proofs of possession are checked by the
/// contracts. One known difference from the off-chain check: the verifier
/// refuses committees whose total stake reaches 2^192 wei; and a committee
/// of epoch 0 cannot exist on-chain (members registered during an epoch
/// join from the next one).
pub fn verify_certificate(committee: &Committee, cert: &Certificate) -> Result<Verdict, OnchainError> {
    deployed_for(committee)?.verify(cert)
}

/// `proof` checked against `committee` entirely on-chain, as
/// [`verify_certificate`] does for a certificate: `verifyInclusion` checks
/// the audit path, then the batch certificate.
pub fn verify_inclusion(committee: &Committee, proof: &InclusionProof) -> Result<Verdict, OnchainError> {
    deployed_for(committee)?.verify_inclusion(proof)
}

/// The contracts deployed for `committee`, which is registered and published
/// as its epoch's committee.
fn deployed_for(committee: &Committee) -> Result<Contracts, OnchainError> {
    committee.check().map_err(|e| OnchainError::Structure(e.to_string()))?;
    if committee.epoch == 0 {
        return Err(OnchainError::Publication("epoch 0 has no committee on-chain: members join from epoch 1".into()));
    }
    let min_stake = committee.members.iter().map(|m| m.stake.0).min().unwrap_or_default();
    let mut params = Params::new(min_stake, committee.chain_id, 0);
    params.threshold = committee.threshold;
    params.ruleset = committee.ruleset.clone();
    let mut contracts = Contracts::deploy_with(&params)?;
    contracts.register_committee(committee)?;
    contracts.publish_committee(committee)?;
    Ok(contracts)
}

/// Creation code of the `InspectorRegistry` with its constructor
/// arguments: `params`, and the addresses its `Slasher` and
/// `CertificateVerifier` will have (they are deployed right after it, in
/// that order, and take its address; the deployer precomputes them from its
/// nonce).
pub fn registry_code(params: &Params, slasher_at: Address, verifier_at: Address) -> Vec<u8> {
    let mut code = InspectorRegistry::BYTECODE.to_vec();
    code.extend_from_slice(
        &InspectorRegistry::constructorCall {
            c: InspectorRegistry::Config {
                minStake: params.min_stake,
                slasher: slasher_at,
                verifier: verifier_at,
                chainId: params.chain_id,
                num: params.threshold.num,
                den: params.threshold.den,
                epochLength: params.epoch_length,
                unbondingPeriod: params.unbonding_period,
                disputeWindow: params.dispute_window,
                ruleset: params.ruleset.clone(),
            },
        }
        .abi_encode(),
    );
    code
}

/// Creation code of the `Slasher` of `registry` (chain and reward share
/// from `params`).
pub fn slasher_code(params: &Params, registry: Address) -> Vec<u8> {
    let mut code = Slasher::BYTECODE.to_vec();
    code.extend_from_slice(&(registry, params.chain_id, U256::from(params.reward_bps)).abi_encode_params());
    code
}

/// Creation code of the `CertificateVerifier` whose publisher is `registry`.
pub fn verifier_code(registry: Address) -> Vec<u8> {
    let mut code = CertificateVerifier::BYTECODE.to_vec();
    code.extend_from_slice(&registry.abi_encode());
    code
}

/// Creation code of the `QuarantineCourt`: `arbiter` rules, `treasury`
/// receives the bonds of upheld disputes, bonds of at least `min_bond` wei,
/// `window` blocks to rule. The deployer becomes its governance.
pub fn court_code(arbiter: Address, treasury: Address, min_bond: U256, window: u64) -> Vec<u8> {
    let mut code = crate::QuarantineCourt::BYTECODE.to_vec();
    code.extend_from_slice(&(arbiter, treasury, min_bond, window).abi_encode_params());
    code
}

/// The `register` call for a compressed key and proof of possession.
pub fn register_call(
    pubkey: &[u8; 48],
    pop: &[u8; 96],
    peer_id: &str,
) -> Result<InspectorRegistry::registerCall, PointError> {
    Ok(InspectorRegistry::registerCall {
        pubkey: Bytes::copy_from_slice(pubkey),
        pubkeyPoint: Bytes::copy_from_slice(&g1_eip2537(pubkey)?),
        pop: Bytes::copy_from_slice(pop),
        popPoint: Bytes::copy_from_slice(&g2_affine(pop)?),
        peerId: peer_id.into(),
    })
}

/// The `publishCommittee` call for `committee`.
pub fn publish_call(committee: &Committee) -> Result<CertificateVerifier::publishCommitteeCall, PointError> {
    let mut keys = Vec::with_capacity(committee.members.len() * 128);
    for m in &committee.members {
        keys.extend_from_slice(&g1_eip2537(&m.bls_pubkey.0)?);
    }
    Ok(CertificateVerifier::publishCommitteeCall {
        epoch: committee.epoch,
        chainId: committee.chain_id,
        num: committee.threshold.num,
        den: committee.threshold.den,
        keys: keys.into(),
        stakes: committee.members.iter().map(|m| m.stake.0).collect(),
    })
}

/// The `verify` call for a certificate.
pub fn verify_call(cert: &Certificate) -> Result<CertificateVerifier::verifyCall, PointError> {
    Ok(CertificateVerifier::verifyCall {
        chainId: cert.chain_id,
        epoch: cert.epoch,
        txHash: cert.tx_hash,
        kind: cert.kind.as_byte(),
        signers: Bytes::copy_from_slice(cert.signers.as_bytes()),
        signature: Bytes::copy_from_slice(&g2_affine(&cert.signature.0)?),
    })
}

/// The `verifyInclusion` call for an inclusion proof.
pub fn verify_inclusion_call(proof: &InclusionProof) -> Result<CertificateVerifier::verifyInclusionCall, PointError> {
    let c = &proof.certificate;
    Ok(CertificateVerifier::verifyInclusionCall {
        cert: CertificateVerifier::BatchCertificate {
            chainId: c.chain_id,
            epoch: c.epoch,
            count: c.count,
            root: c.root,
            signers: Bytes::copy_from_slice(c.signers.as_bytes()),
            signature: Bytes::copy_from_slice(&g2_affine(&c.signature.0)?),
        },
        index: proof.index,
        txHash: proof.tx_hash,
        kind: proof.kind.as_byte(),
        path: proof.path.clone(),
    })
}

/// A vote in the form `Slasher.slash` takes.
pub fn signed_vote(vote: &Vote) -> Result<Slasher::SignedVote, PointError> {
    Ok(Slasher::SignedVote {
        chainId: vote.chain_id,
        epoch: vote.epoch,
        txHash: vote.tx_hash,
        kind: vote.kind.as_byte(),
        signer: vote.signer,
        signature: Bytes::copy_from_slice(&g2_affine(&vote.signature.0)?),
    })
}

/// A statement (DESIGN §4b) in the form `Slasher.slashStatements` takes.
pub fn signed_statement(statement: &Statement) -> Result<Slasher::Statement, PointError> {
    Ok(match statement {
        Statement::Vote(v) => Slasher::Statement {
            chainId: v.chain_id,
            epoch: v.epoch,
            txHash: v.tx_hash,
            kind: v.kind.as_byte(),
            signer: v.signer,
            count: 0,
            root: Default::default(),
            index: 0,
            path: Vec::new(),
            signature: Bytes::copy_from_slice(&g2_affine(&v.signature.0)?),
        },
        Statement::Batch(b) => Slasher::Statement {
            chainId: b.batch_vote.chain_id,
            epoch: b.batch_vote.epoch,
            txHash: b.tx_hash,
            kind: b.kind.as_byte(),
            signer: b.batch_vote.signer,
            count: b.batch_vote.count,
            root: b.batch_vote.root,
            index: b.index,
            path: b.path.clone(),
            signature: Bytes::copy_from_slice(&g2_affine(&b.batch_vote.signature.0)?),
        },
    })
}

/// The `slashStatements` call for statement evidence (clean first).
pub fn slash_statements_call(evidence: &StatementEvidence) -> Result<Slasher::slashStatementsCall, PointError> {
    Ok(Slasher::slashStatementsCall {
        a: signed_statement(evidence.clean())?,
        b: signed_statement(evidence.malicious())?,
    })
}

/// The `slash` call for equivocation evidence (clean vote first).
pub fn slash_call(evidence: &EquivocationEvidence) -> Result<Slasher::slashCall, PointError> {
    Ok(Slasher::slashCall { a: signed_vote(evidence.clean())?, b: signed_vote(evidence.malicious())? })
}

/// A contract's custom error, decoded (`Name { field: value, .. }`), or the
/// raw revert data when it is not one of `E`.
pub fn revert_reason<E: SolInterface + std::fmt::Debug>(data: &[u8]) -> String {
    match E::abi_decode(data) {
        Ok(e) => {
            // `Variant(Variant { .. })` -> `Variant { .. }`
            let s = format!("{e:?}");
            match (s.find('('), s.ends_with(')')) {
                (Some(open), true) => s[open + 1..s.len() - 1].to_string(),
                _ => s,
            }
        }
        Err(_) if data.is_empty() => "reverted without data".into(),
        Err(_) => format!("reverted with 0x{}", alloy_primitives::hex::encode(data)),
    }
}
