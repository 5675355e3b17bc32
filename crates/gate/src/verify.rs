//! Certificate checks for the gate: [`Admission`] for clean verdicts, the
//! same chain, window and committee checks for malicious ones (which
//! quarantine instead of admitting).

use vigil_consensus::{
    prepare_certificate, window::certificate_epoch_accepted, Admission, AdmissionError, CertificateError,
    PendingCertificate, VerifiedCertificate,
};
use vigil_types::{Certificate, VoteKind};

/// Verifies `cert` against its own transaction hash: it may arrive before
/// the transaction, and the gate keys it by that hash.
pub fn verify(admission: &Admission, cert: &Certificate) -> Result<VerifiedCertificate, AdmissionError> {
    Ok(prepare(admission, cert)?.verify()?)
}

/// [`verify`] but the pairing, which the caller hands to its
/// [`vigil_crypto::BatchVerifier`].
pub fn prepare(admission: &Admission, cert: &Certificate) -> Result<PendingCertificate, AdmissionError> {
    match cert.kind {
        VoteKind::Clean => admission.prepare(cert.tx_hash, cert),
        VoteKind::Malicious => {
            let want = admission.chain_id();
            if cert.chain_id != want {
                return Err(AdmissionError::WrongChain { got: cert.chain_id, want });
            }
            let current = admission.current_epoch();
            if !certificate_epoch_accepted(current, cert.epoch) {
                return Err(AdmissionError::EpochNotAccepted {
                    got: cert.epoch,
                    current,
                    min: current.saturating_sub(1),
                });
            }
            let committee = admission.committee(cert.epoch).ok_or(AdmissionError::NoCommittee { epoch: cert.epoch })?;
            Ok(prepare_certificate(committee, cert)?)
        }
    }
}

/// A short label for the metrics' `reason`.
pub fn reason_label(e: &AdmissionError) -> &'static str {
    match e {
        AdmissionError::WrongChain { .. } => "wrong_chain",
        AdmissionError::EpochNotAccepted { .. } => "epoch_not_accepted",
        AdmissionError::NoCommittee { .. } => "no_committee",
        AdmissionError::Certificate(c) => match c {
            CertificateError::WrongChain { .. } => "wrong_chain",
            CertificateError::WrongEpoch { .. } | CertificateError::EpochOutsideWindow { .. } => "wrong_epoch",
            CertificateError::WrongTransaction { .. } => "wrong_transaction",
            CertificateError::Bitmap(_) => "bad_bitmap",
            CertificateError::InsufficientStake { .. } => "insufficient_stake",
            CertificateError::MalformedSignature(_) => "malformed_signature",
            CertificateError::BadSignature => "bad_signature",
            CertificateError::NotClean(_) => "not_clean",
            CertificateError::Inclusion(_) => "bad_inclusion_path",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_consensus::testkit::DevCommittee;
    use vigil_types::B256;

    fn admission(dev: &[&DevCommittee]) -> Admission {
        let mut a = Admission::new(31337);
        for d in dev {
            a.insert_committee(d.committee().clone()).unwrap();
        }
        a
    }

    #[test]
    fn table() {
        let e1 = DevCommittee::generate(31337, 1, 4, 1);
        let e2 = DevCommittee::generate(31337, 2, 4, 2);
        let e3 = DevCommittee::generate(31337, 3, 4, 3);
        let other_chain = DevCommittee::generate(10, 3, 4, 3);
        let stranger = DevCommittee::generate(31337, 3, 4, 99);
        let a = admission(&[&e1, &e2, &e3]);
        let h = B256::repeat_byte(1);
        let mut tampered = e3.certify(h);
        tampered.tx_hash = B256::repeat_byte(2);
        let cases: Vec<(&str, Certificate, Result<(), &str>)> = vec![
            ("clean, current epoch", e3.certify(h), Ok(())),
            ("clean, previous epoch", e2.certify(h), Ok(())),
            ("malicious", e3.certify_with(h, VoteKind::Malicious, &[0, 1, 2]), Ok(())),
            ("stale epoch", e1.certify(h), Err("epoch_not_accepted")),
            ("other chain", other_chain.certify(h), Err("wrong_chain")),
            ("wrong keys", stranger.certify(h), Err("bad_signature")),
            ("tampered field", tampered, Err("bad_signature")),
            ("2 of 4 signers", e3.certify_with(h, VoteKind::Clean, &[0, 1]), Err("insufficient_stake")),
            ("malicious, stale", e1.certify_with(h, VoteKind::Malicious, &[0, 1, 2]), Err("epoch_not_accepted")),
            ("malicious, too little", e3.certify_with(h, VoteKind::Malicious, &[0]), Err("insufficient_stake")),
        ];
        for (name, cert, want) in cases {
            let got = verify(&a, &cert).map(|_| ()).map_err(|e| reason_label(&e));
            assert_eq!(got, want, "{name}");
        }
    }
}
