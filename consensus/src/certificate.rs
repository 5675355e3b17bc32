//! Certificate verification: bitmap -> signers' stake above the threshold ->
//! aggregate key (cached) -> one fast aggregate verify.

use crate::{committee::VerifiedCommittee, error::CertificateError};
use vigil_crypto::{batch_verify, InvalidSignature, Signature, SignatureCheck, SignatureSet, ValidSignature};
use vigil_types::{
    Attestation, BatchCertificate, BatchTree, Certificate, InclusionProof, SignatureBytes, SignerBitmap, VoteKind,
    B256, U256,
};

/// A certificate checked against its committee. Only this type may reach
/// the gate's admission decision or storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCertificate {
    certificate: Certificate,
    signed_stake: U256,
}

impl VerifiedCertificate {
    /// The certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// Stake of its signers.
    pub fn signed_stake(&self) -> U256 {
        self.signed_stake
    }

    /// Unwraps.
    pub fn into_inner(self) -> Certificate {
        self.certificate
    }

    /// Marks a certificate built by the pool from verified votes.
    pub(crate) fn from_verified_parts(certificate: Certificate, signed_stake: U256) -> Self {
        Self { certificate, signed_stake }
    }
}

/// A certificate that passed every check but the pairing: chain, epoch,
/// bitmap, stake, signature encoding (and, for an admission, the
/// transaction). [`Self::verify`] does the pairing here;
/// [`Self::complete`] takes the result of a [`vigil_crypto::BatchVerifier`]
/// run on [`Self::check`].
#[derive(Debug, Clone)]
pub struct PendingCertificate {
    certificate: Certificate,
    signed_stake: U256,
    check: SignatureCheck,
    must_be_clean: bool,
}

impl PendingCertificate {
    /// The certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// The pairing check left to do: the aggregate key of the signers, the
    /// vote digest, the aggregate signature.
    pub fn check(&self) -> &SignatureCheck {
        &self.check
    }

    /// Does the pairing here.
    pub fn verify(self) -> Result<VerifiedCertificate, CertificateError> {
        let outcome = self.check.clone().verify();
        self.complete(outcome)
    }

    /// Finishes with the outcome of verifying [`Self::check`] elsewhere. A
    /// valid signature of some other check is refused.
    pub fn complete(
        self,
        outcome: Result<ValidSignature, InvalidSignature>,
    ) -> Result<VerifiedCertificate, CertificateError> {
        match outcome {
            Ok(valid) if *valid.check() == self.check => {}
            _ => return Err(CertificateError::BadSignature),
        }
        if self.must_be_clean && self.certificate.kind != VoteKind::Clean {
            return Err(CertificateError::NotClean(self.certificate.kind));
        }
        Ok(VerifiedCertificate { certificate: self.certificate, signed_stake: self.signed_stake })
    }
}

/// Everything but the pairing: chain, epoch, bitmap, stake, signature
/// encoding.
pub fn prepare_certificate(
    committee: &VerifiedCommittee,
    cert: &Certificate,
) -> Result<PendingCertificate, CertificateError> {
    let (signed_stake, check) =
        prepare_signed(committee, cert.chain_id, cert.epoch, &cert.signers, &cert.signature, cert.message().digest())?;
    Ok(PendingCertificate { certificate: cert.clone(), signed_stake, check, must_be_clean: false })
}

/// The checks a certificate and a batch certificate share (DESIGN §4,
/// §4b): chain, epoch, bitmap, stake strictly above the threshold, the
/// signature's encoding; returns the signed stake and the pairing left.
fn prepare_signed(
    committee: &VerifiedCommittee,
    chain_id: u64,
    epoch: u64,
    signers: &SignerBitmap,
    signature: &SignatureBytes,
    digest: [u8; 32],
) -> Result<(U256, SignatureCheck), CertificateError> {
    if chain_id != committee.chain_id() {
        return Err(CertificateError::WrongChain { got: chain_id, want: committee.chain_id() });
    }
    if epoch != committee.epoch() {
        return Err(CertificateError::WrongEpoch { got: epoch, want: committee.epoch() });
    }
    let signed = committee.bitmap_stake(signers)?;
    if !committee.passes_threshold(signed) {
        let t = committee.threshold();
        return Err(CertificateError::InsufficientStake {
            signed,
            total: committee.total_stake(),
            num: t.num,
            den: t.den,
        });
    }
    let signature =
        Signature::from_bytes(signature.as_bytes()).map_err(|e| CertificateError::MalformedSignature(e.to_string()))?;
    let public_key = committee.aggregate_key(signers).ok_or(CertificateError::Bitmap("names no signer".into()))?;
    Ok((signed, SignatureCheck { public_key, digest, signature }))
}

/// A batch certificate checked against its committee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedBatchCertificate {
    certificate: BatchCertificate,
    signed_stake: U256,
}

impl VerifiedBatchCertificate {
    /// A batch certificate whose aggregate signature was checked (or is
    /// the aggregate of checked votes) and whose signers hold `signed_stake`.
    pub(crate) fn new(certificate: BatchCertificate, signed_stake: U256) -> Self {
        Self { certificate, signed_stake }
    }

    /// The batch certificate a verified inclusion proof carried.
    pub(crate) fn from_inclusion(v: &VerifiedInclusion) -> Self {
        Self { certificate: v.proof.certificate.clone(), signed_stake: v.signed_stake }
    }

    /// The batch certificate.
    pub fn certificate(&self) -> &BatchCertificate {
        &self.certificate
    }

    /// Stake of its signers.
    pub fn signed_stake(&self) -> U256 {
        self.signed_stake
    }
}

/// A batch certificate that passed every check but the pairing (as
/// [`PendingCertificate`] for §4 certificates).
#[derive(Debug, Clone)]
pub struct PendingBatchCertificate {
    certificate: BatchCertificate,
    signed_stake: U256,
    check: SignatureCheck,
}

impl PendingBatchCertificate {
    /// The batch certificate.
    pub fn certificate(&self) -> &BatchCertificate {
        &self.certificate
    }

    /// The pairing check left to do.
    pub fn check(&self) -> &SignatureCheck {
        &self.check
    }

    /// Finishes with the outcome of verifying [`Self::check`] elsewhere (a
    /// [`vigil_crypto::BatchVerifier`]). A valid signature of some other
    /// check is refused.
    pub fn complete(
        self,
        outcome: Result<ValidSignature, InvalidSignature>,
    ) -> Result<VerifiedBatchCertificate, CertificateError> {
        match outcome {
            Ok(valid) if *valid.check() == self.check => {
                Ok(VerifiedBatchCertificate { certificate: self.certificate, signed_stake: self.signed_stake })
            }
            _ => Err(CertificateError::BadSignature),
        }
    }
}

/// Everything of [`verify_batch_certificate`] but the pairing.
pub fn prepare_batch_certificate(
    committee: &VerifiedCommittee,
    cert: &BatchCertificate,
) -> Result<PendingBatchCertificate, CertificateError> {
    let (signed_stake, check) =
        prepare_signed(committee, cert.chain_id, cert.epoch, &cert.signers, &cert.signature, cert.message().digest())?;
    Ok(PendingBatchCertificate { certificate: cert.clone(), signed_stake, check })
}

/// Verifies a batch certificate exactly as a certificate (DESIGN §4b):
/// stake of the bitmap strictly above the threshold, one fast aggregate
/// verify over the batch digest.
pub fn verify_batch_certificate(
    committee: &VerifiedCommittee,
    cert: &BatchCertificate,
) -> Result<VerifiedBatchCertificate, CertificateError> {
    let pending = prepare_batch_certificate(committee, cert)?;
    let outcome = pending.check.clone().verify();
    pending.complete(outcome)
}

/// An inclusion proof whose path leads to the root of a valid batch
/// certificate: the batch's verdict on one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedInclusion {
    proof: InclusionProof,
    signed_stake: U256,
}

impl VerifiedInclusion {
    /// The proof.
    pub fn proof(&self) -> &InclusionProof {
        &self.proof
    }

    /// The transaction it is about.
    pub fn tx_hash(&self) -> B256 {
        self.proof.tx_hash
    }

    /// The batch's verdict on it.
    pub fn kind(&self) -> VoteKind {
        self.proof.kind
    }

    /// Stake of the batch certificate's signers.
    pub fn signed_stake(&self) -> U256 {
        self.signed_stake
    }
}

/// Verifies an inclusion proof: the audit path first (hashing only), then
/// the batch certificate. `verified` is a batch certificate already
/// verified for this root (a verifier's cache), which saves the pairing.
pub fn verify_inclusion(
    committee: &VerifiedCommittee,
    proof: &InclusionProof,
    verified: Option<&VerifiedBatchCertificate>,
) -> Result<VerifiedInclusion, CertificateError> {
    proof.check_path().map_err(|e| CertificateError::Inclusion(e.to_string()))?;
    let signed_stake = match verified {
        Some(v) if v.certificate == proof.certificate => v.signed_stake,
        _ => verify_batch_certificate(committee, &proof.certificate)?.signed_stake,
    };
    Ok(VerifiedInclusion { proof: proof.clone(), signed_stake })
}

/// The inclusion proofs of every leaf of `tree`, whose batch certificate
/// `verified` is (DESIGN §4b): the tree must have the certificate's root
/// and count. Hashing only; the pairing was paid once for the batch.
pub fn batch_inclusions(
    verified: &VerifiedBatchCertificate,
    tree: &BatchTree,
) -> Result<Vec<VerifiedInclusion>, CertificateError> {
    let cert = verified.certificate();
    if tree.root() != cert.root || tree.count() != cert.count {
        return Err(CertificateError::Inclusion(format!(
            "the transactions make root {} over {} leaves, the certificate signs root {} over {}",
            tree.root(),
            tree.count(),
            cert.root,
            cert.count
        )));
    }
    Ok(tree
        .leaves()
        .iter()
        .enumerate()
        .map(|(i, leaf)| VerifiedInclusion {
            proof: InclusionProof {
                certificate: cert.clone(),
                index: i as u32,
                tx_hash: leaf.tx_hash,
                kind: leaf.kind,
                path: tree.path(i as u32).unwrap_or_default(),
            },
            signed_stake: verified.signed_stake,
        })
        .collect())
}

/// A verified §4 certificate or §4b inclusion proof: what decides one
/// transaction wherever either is accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifiedAttestation {
    /// A certificate on the transaction.
    Certificate(VerifiedCertificate),
    /// A leaf of a certified batch.
    Inclusion(VerifiedInclusion),
}

impl VerifiedAttestation {
    /// The transaction decided.
    pub fn tx_hash(&self) -> B256 {
        match self {
            Self::Certificate(c) => c.certificate().tx_hash,
            Self::Inclusion(i) => i.tx_hash(),
        }
    }

    /// The verdict.
    pub fn kind(&self) -> VoteKind {
        match self {
            Self::Certificate(c) => c.certificate().kind,
            Self::Inclusion(i) => i.kind(),
        }
    }

    /// The attestation as data.
    pub fn into_inner(self) -> Attestation {
        match self {
            Self::Certificate(c) => Attestation::Certificate(c.into_inner()),
            Self::Inclusion(i) => Attestation::Inclusion(i.proof),
        }
    }
}

impl From<VerifiedCertificate> for VerifiedAttestation {
    fn from(c: VerifiedCertificate) -> Self {
        Self::Certificate(c)
    }
}

impl From<VerifiedInclusion> for VerifiedAttestation {
    fn from(i: VerifiedInclusion) -> Self {
        Self::Inclusion(i)
    }
}

/// What the gate asks of a proof: valid, for this transaction, clean (that
/// it says clean is checked last, so a forgery is named as such).
pub fn verify_inclusion_admission(
    committee: &VerifiedCommittee,
    proof: &InclusionProof,
    tx_hash: B256,
    verified: Option<&VerifiedBatchCertificate>,
) -> Result<VerifiedInclusion, CertificateError> {
    if proof.tx_hash != tx_hash {
        return Err(CertificateError::WrongTransaction { got: proof.tx_hash, want: tx_hash });
    }
    let v = verify_inclusion(committee, proof, verified)?;
    if v.kind() != VoteKind::Clean {
        return Err(CertificateError::NotClean(v.kind()));
    }
    Ok(v)
}

/// What the gate asks, but the pairing: a certificate for this transaction
/// that will be valid; that it says clean is checked after the signature
/// (a forged certificate is named as such whatever it says).
pub fn prepare_admission(
    committee: &VerifiedCommittee,
    cert: &Certificate,
    tx_hash: B256,
) -> Result<PendingCertificate, CertificateError> {
    if cert.tx_hash != tx_hash {
        return Err(CertificateError::WrongTransaction { got: cert.tx_hash, want: tx_hash });
    }
    let mut pending = prepare_certificate(committee, cert)?;
    pending.must_be_clean = true;
    Ok(pending)
}

/// Verifies a certificate against the committee of its epoch.
pub fn verify_certificate(
    committee: &VerifiedCommittee,
    cert: &Certificate,
) -> Result<VerifiedCertificate, CertificateError> {
    prepare_certificate(committee, cert)?.verify()
}

/// What the gate asks: a valid certificate, for this transaction, saying
/// clean.
pub fn verify_admission(
    committee: &VerifiedCommittee,
    cert: &Certificate,
    tx_hash: B256,
) -> Result<VerifiedCertificate, CertificateError> {
    prepare_admission(committee, cert, tx_hash)?.verify()
}

/// Verifies many certificates with one multi-pairing (random linear
/// combination). On success every certificate is valid. On failure, falls
/// back to one-by-one so each certificate gets its own result.
pub fn verify_certificates_batch<'a>(
    pairs: &[(&'a VerifiedCommittee, &'a Certificate)],
) -> Vec<Result<VerifiedCertificate, CertificateError>> {
    let prepared: Vec<_> = pairs.iter().map(|(c, cert)| prepare_certificate(c, cert)).collect();
    let sets: Vec<SignatureSet<'_>> = prepared
        .iter()
        .filter_map(|p| p.as_ref().ok())
        .map(|p| SignatureSet {
            public_key: &p.check.public_key,
            message: &p.check.digest,
            signature: &p.check.signature,
        })
        .collect();
    let all_ok = !sets.is_empty() && batch_verify(&sets);
    prepared
        .into_iter()
        .map(|pending| {
            let pending = pending?;
            if all_ok {
                Ok(VerifiedCertificate { certificate: pending.certificate, signed_stake: pending.signed_stake })
            } else {
                pending.verify()
            }
        })
        .collect()
}
