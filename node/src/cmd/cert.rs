//! `vigil cert aggregate | verify`.

use crate::{cli::CertCommand, cmd::files};
use anyhow::Context;
use std::{path::Path, process::ExitCode};
use vigil_consensus::{
    verify_admission, verify_certificate, verify_inclusion, verify_inclusion_admission, CertificateError, VerifiedVote,
};
use vigil_crypto::Signature;
use vigil_types::{Certificate, Committee, InclusionProof, SignerBitmap, Vote};

pub fn run(cmd: CertCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        CertCommand::Aggregate { committee, votes } => aggregate(&committee, &votes),
        CertCommand::Verify { committee, cert, tx_hash, onchain: false } => {
            Ok(verify(&committee, &cert, tx_hash.as_deref()))
        }
        CertCommand::Verify { committee, cert, tx_hash, onchain: true } => {
            Ok(verify_onchain(&committee, &cert, tx_hash.as_deref()))
        }
    }
}

fn read_votes(path: &Path) -> anyhow::Result<Vec<Vote>> {
    let value: serde_json::Value = files::read_json(path, "JSON document")?;
    let parsed = if value.is_array() {
        serde_json::from_value::<Vec<Vote>>(value)
    } else {
        serde_json::from_value::<Vote>(value).map(|v| vec![v])
    };
    parsed.with_context(|| format!("{}: not a vote or an array of votes (DESIGN §4 JSON)", path.display()))
}

fn aggregate(committee_path: &Path, vote_paths: &[std::path::PathBuf]) -> anyhow::Result<ExitCode> {
    let committee = files::read_committee(committee_path)?;
    let mut votes = Vec::new();
    for p in vote_paths {
        votes.extend(read_votes(p)?);
    }
    let first = votes.first().context("no votes given")?.message();
    let mut verified: std::collections::BTreeMap<u32, VerifiedVote> = Default::default();
    for v in votes {
        anyhow::ensure!(
            v.message() == first,
            "vote of member {} is about a different (chain, epoch, transaction, kind) than the first vote",
            v.signer
        );
        let signer = v.signer;
        let vv = VerifiedVote::new(&committee, v).with_context(|| format!("vote of member {signer}"))?;
        verified.insert(signer, vv);
    }
    let signers = SignerBitmap::from_indexes(committee.len(), verified.keys().map(|&i| i as usize))?;
    let signature = Signature::aggregate(verified.values().map(VerifiedVote::signature)).context("no votes")?;
    let cert = Certificate {
        chain_id: first.chain_id,
        epoch: first.epoch,
        tx_hash: first.tx_hash,
        kind: first.kind,
        signers,
        signature: signature.to_bytes(),
    };
    // Refuses to print a certificate that would not verify (e.g. too little stake).
    verify_certificate(&committee, &cert).context("the votes do not make a valid certificate")?;
    println!("{}", serde_json::to_string_pretty(&cert)?);
    Ok(ExitCode::SUCCESS)
}

/// What `--cert` holds: a certificate (DESIGN §4) or a batch inclusion
/// proof (DESIGN §4b), told apart by the proof's `certificate` field.
enum Admits {
    Certificate(Certificate),
    Inclusion(InclusionProof),
}

fn read_admits(path: &Path) -> anyhow::Result<Admits> {
    let value: serde_json::Value = files::read_json(path, "certificate or inclusion proof (JSON)")?;
    if value.get("certificate").is_some() {
        let proof = serde_json::from_value(value)
            .with_context(|| format!("{}: not a valid inclusion proof (DESIGN §4b JSON)", path.display()))?;
        Ok(Admits::Inclusion(proof))
    } else {
        let cert = serde_json::from_value(value)
            .with_context(|| format!("{}: not a valid certificate (DESIGN §4 JSON)", path.display()))?;
        Ok(Admits::Certificate(cert))
    }
}

/// Prints `valid` or `invalid: <reason>`; every failure, including an
/// unreadable or malformed file, is exit status 1.
fn verify(committee_path: &Path, cert_path: &Path, tx_hash: Option<&str>) -> ExitCode {
    let result = (|| -> anyhow::Result<()> {
        let committee = files::read_committee(committee_path)?;
        let want = tx_hash.map(files::parse_tx_hash).transpose()?;
        match read_admits(cert_path)? {
            Admits::Certificate(cert) => {
                if let Some(want) = want.filter(|w| *w != cert.tx_hash) {
                    // Report the transaction mismatch before the signature.
                    verify_admission(&committee, &cert, want)?;
                }
                verify_certificate(&committee, &cert)?;
            }
            Admits::Inclusion(proof) => {
                // Name what failed: the path, or the batch certificate.
                let named = |e: CertificateError| match e {
                    CertificateError::Inclusion(_) | CertificateError::WrongTransaction { .. } => anyhow::anyhow!(e),
                    other => anyhow::anyhow!(other).context("batch certificate"),
                };
                if let Some(want) = want.filter(|w| *w != proof.tx_hash) {
                    verify_inclusion_admission(&committee, &proof, want, None).map_err(named)?;
                }
                verify_inclusion(&committee, &proof, None).map_err(named)?;
            }
        }
        Ok(())
    })();
    match result {
        Ok(()) => {
            println!("valid");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("invalid: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `verify` by the contracts in an in-memory revm: prints `valid` or
/// `invalid: <reason>` as [`verify`] does, then `gas: N` when `verify` was
/// called. The committee is checked by the registry (proofs of possession)
/// and the verifier, not off-chain; the expected transaction hash, which is
/// not part of the certificate check, is compared here.
fn verify_onchain(committee_path: &Path, cert_path: &Path, tx_hash: Option<&str>) -> ExitCode {
    let result = (|| -> anyhow::Result<vigil_contracts::onchain::Verdict> {
        let committee: Committee = files::read_json(committee_path, "committee (DESIGN §4 JSON)")?;
        let want = tx_hash.map(files::parse_tx_hash).transpose()?;
        match read_admits(cert_path)? {
            Admits::Certificate(cert) => {
                if let Some(want) = want {
                    anyhow::ensure!(
                        cert.tx_hash == want,
                        "certificate is for transaction {}, not {want}",
                        cert.tx_hash
                    );
                }
                vigil_contracts::onchain::verify_certificate(&committee, &cert).context("on-chain")
            }
            Admits::Inclusion(proof) => {
                if let Some(want) = want {
                    anyhow::ensure!(
                        proof.tx_hash == want,
                        "inclusion proof is for transaction {}, not {want}",
                        proof.tx_hash
                    );
                }
                vigil_contracts::onchain::verify_inclusion(&committee, &proof).context("on-chain")
            }
        }
    })();
    match result {
        Ok(verdict) => {
            match &verdict.rejection {
                None => println!("valid"),
                Some(reason) => eprintln!("invalid: on-chain: {reason}"),
            }
            println!("gas: {}", verdict.gas_used);
            if verdict.is_valid() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("invalid: {e:#}");
            ExitCode::FAILURE
        }
    }
}
