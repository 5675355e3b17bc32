//! Certificate verification: bitmap -> signers' stake above the threshold ->
//! aggregate key (cached) -> one fast aggregate verify.

use crate::{committee::VerifiedCommittee, error::CertificateError};
use vigil_crypto::{batch_verify, PublicKey, Signature, SignatureSet};
use vigil_types::{Certificate, VoteKind, B256, U256};

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

/// Everything but the pairing: chain, epoch, bitmap, stake, signature
/// encoding. Returns what the pairing check needs.
fn precheck(
    committee: &VerifiedCommittee,
    cert: &Certificate,
) -> Result<(U256, PublicKey, Signature, [u8; 32]), CertificateError> {
    if cert.chain_id != committee.chain_id() {
        return Err(CertificateError::WrongChain { got: cert.chain_id, want: committee.chain_id() });
    }
    if cert.epoch != committee.epoch() {
        return Err(CertificateError::WrongEpoch { got: cert.epoch, want: committee.epoch() });
    }
    let signed = committee.bitmap_stake(&cert.signers)?;
    if !committee.passes_threshold(signed) {
        let t = committee.threshold();
        return Err(CertificateError::InsufficientStake {
            signed,
            total: committee.total_stake(),
            num: t.num,
            den: t.den,
        });
    }
    let sig = Signature::from_bytes(cert.signature.as_bytes())
        .map_err(|e| CertificateError::MalformedSignature(e.to_string()))?;
    let agg = committee.aggregate_key(&cert.signers).ok_or(CertificateError::Bitmap("names no signer".into()))?;
    Ok((signed, agg, sig, cert.message().digest()))
}

/// Verifies a certificate against the committee of its epoch.
pub fn verify_certificate(
    committee: &VerifiedCommittee,
    cert: &Certificate,
) -> Result<VerifiedCertificate, CertificateError> {
    let (signed, agg, sig, digest) = precheck(committee, cert)?;
    if !sig.verify(&agg, &digest) {
        return Err(CertificateError::BadSignature);
    }
    Ok(VerifiedCertificate { certificate: cert.clone(), signed_stake: signed })
}

/// What the gate asks: a valid certificate, for this transaction, saying
/// clean.
pub fn verify_admission(
    committee: &VerifiedCommittee,
    cert: &Certificate,
    tx_hash: B256,
) -> Result<VerifiedCertificate, CertificateError> {
    if cert.tx_hash != tx_hash {
        return Err(CertificateError::WrongTransaction { got: cert.tx_hash, want: tx_hash });
    }
    let v = verify_certificate(committee, cert)?;
    if cert.kind != VoteKind::Clean {
        return Err(CertificateError::NotClean(cert.kind));
    }
    Ok(v)
}

/// Verifies many certificates with one multi-pairing (random linear
/// combination). On success every certificate is valid. On failure, falls
/// back to one-by-one so each certificate gets its own result.
pub fn verify_certificates_batch<'a>(
    pairs: &[(&'a VerifiedCommittee, &'a Certificate)],
) -> Vec<Result<VerifiedCertificate, CertificateError>> {
    let prechecked: Vec<_> = pairs.iter().map(|(c, cert)| precheck(c, cert)).collect();
    let sets: Vec<SignatureSet<'_>> = prechecked
        .iter()
        .filter_map(|p| p.as_ref().ok())
        .map(|(_, agg, sig, digest)| SignatureSet { public_key: agg, message: digest, signature: sig })
        .collect();
    let all_ok = !sets.is_empty() && batch_verify(&sets);
    pairs
        .iter()
        .zip(prechecked)
        .map(|((_, cert), pre)| {
            let (signed, agg, sig, digest) = pre?;
            if all_ok || sig.verify(&agg, &digest) {
                Ok(VerifiedCertificate { certificate: (*cert).clone(), signed_stake: signed })
            } else {
                Err(CertificateError::BadSignature)
            }
        })
        .collect()
}
