//! `vigil keys generate | show | pop`.

use crate::cli::{KdfChoice, KeysCommand, PasswordArgs};
use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::{path::Path, process::ExitCode};
use vigil_crypto::{identity::write_secret_file, keystore::read_password, Kdf, Keystore, NodeIdentity, SecretKey};
use vigil_types::{PublicKeyBytes, SignatureBytes};

/// Environment variable holding the keystore password when no file is given.
pub const PASSWORD_ENV: &str = "VIGIL_KEYSTORE_PASSWORD";
const KEYSTORE_FILE: &str = "bls-keystore.json";
const P2P_FILE: &str = "p2p.key";
const MEMBER_FILE: &str = "member.json";

/// The public data a registry needs about an inspector.
#[derive(Debug, Serialize, Deserialize)]
pub struct MemberInfo {
    /// BLS public key.
    pub bls_pubkey: PublicKeyBytes,
    /// Proof of possession.
    pub pop: SignatureBytes,
    /// libp2p peer id.
    pub peer_id: String,
}

pub fn run(cmd: KeysCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        KeysCommand::Generate { dir, password, kdf, kdf_cost } => generate(&dir, &password, kdf, kdf_cost),
        KeysCommand::Show { dir } => show(&dir),
        KeysCommand::Operator { out } => {
            let key = vigil_crypto::OperatorKey::generate();
            key.write(&out)?;
            println!("{}", key.public());
            eprintln!("operator key written to {}; give the gate `--operator-key {}`", out.display(), key.public());
            Ok(ExitCode::SUCCESS)
        }
        KeysCommand::Pop { dir, password } => {
            let sk = load_secret(&dir, &password)?;
            println!("{}", sk.prove_possession().to_bytes());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Creates a key directory: BLS keystore, libp2p key, member.json; prints
/// the member data.
pub fn generate(dir: &Path, password: &PasswordArgs, kdf: KdfChoice, cost: Option<u32>) -> anyhow::Result<ExitCode> {
    let info = create(dir, password, kdf, cost)?;
    println!("{}", serde_json::to_string_pretty(&info)?);
    Ok(ExitCode::SUCCESS)
}

/// Creates a key directory and returns what the registry needs.
pub fn create(dir: &Path, password: &PasswordArgs, kdf: KdfChoice, cost: Option<u32>) -> anyhow::Result<MemberInfo> {
    let pw = read_password(password.password_file.as_deref(), PASSWORD_ENV)?;
    let kdf = match (kdf, cost) {
        (KdfChoice::Scrypt, None) => Kdf::DEFAULT,
        (KdfChoice::Scrypt, Some(c)) => {
            let log_n = u8::try_from(c).ok().filter(|n| (1..=20).contains(n));
            Kdf::Scrypt { log_n: log_n.context("--kdf-cost for scrypt is log2(n), 1 to 20")? }
        }
        (KdfChoice::Pbkdf2, c) => Kdf::Pbkdf2 { c: c.unwrap_or(262_144) },
    };
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for f in [KEYSTORE_FILE, P2P_FILE, MEMBER_FILE] {
        let p = dir.join(f);
        anyhow::ensure!(!p.exists(), "{} already exists; refusing to overwrite a key", p.display());
    }
    let sk = SecretKey::generate();
    let identity = NodeIdentity::generate();
    let keystore = Keystore::encrypt(&sk, &pw, kdf, "vigil inspector BLS key")?;
    write_secret_file(&dir.join(KEYSTORE_FILE), keystore.to_json().as_bytes())?;
    identity.write(&dir.join(P2P_FILE))?;
    let info = MemberInfo {
        bls_pubkey: sk.public_key().to_bytes(),
        pop: sk.prove_possession().to_bytes(),
        peer_id: identity.peer_id()?.to_string(),
    };
    let json = serde_json::to_string_pretty(&info)?;
    std::fs::write(dir.join(MEMBER_FILE), format!("{json}\n"))
        .with_context(|| format!("cannot write {}", dir.join(MEMBER_FILE).display()))?;
    Ok(info)
}

fn show(dir: &Path) -> anyhow::Result<ExitCode> {
    let keystore = Keystore::read(&dir.join(KEYSTORE_FILE))?;
    let identity = NodeIdentity::read(&dir.join(P2P_FILE))?;
    let info: MemberInfo = crate::cmd::files::read_json(&dir.join(MEMBER_FILE), "member file")?;
    let stated = format!("{}", info.bls_pubkey);
    anyhow::ensure!(
        stated.trim_start_matches("0x") == keystore.pubkey.trim_start_matches("0x"),
        "{}: public key differs from the keystore's",
        dir.join(MEMBER_FILE).display()
    );
    let pk = vigil_crypto::PublicKey::from_bytes(info.bls_pubkey.as_bytes())?;
    let pop = vigil_crypto::Signature::from_bytes(info.pop.as_bytes())?;
    anyhow::ensure!(
        pk.verify_possession(&pop),
        "{}: proof of possession does not verify",
        dir.join(MEMBER_FILE).display()
    );
    anyhow::ensure!(identity.peer_id()?.to_string() == info.peer_id, "{}: peer id differs from p2p.key", dir.display());
    println!("{}", serde_json::to_string_pretty(&info)?);
    Ok(ExitCode::SUCCESS)
}

/// Decrypts the BLS key of a key directory.
pub fn load_secret(dir: &Path, password: &PasswordArgs) -> anyhow::Result<SecretKey> {
    let keystore = Keystore::read(&dir.join(KEYSTORE_FILE))?;
    let pw = read_password(password.password_file.as_deref(), PASSWORD_ENV)?;
    Ok(keystore.decrypt(&pw)?)
}

/// The libp2p peer id of a key directory (from its p2p.key).
pub fn peer_id(dir: &Path) -> anyhow::Result<String> {
    let identity = NodeIdentity::read(&dir.join(P2P_FILE))?;
    Ok(identity.peer_id()?.to_string())
}
