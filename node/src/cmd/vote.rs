//! `vigil vote sign`.

use crate::{
    cli::{KindArg, VoteCommand},
    cmd::{files, keys::load_secret},
};
use anyhow::Context;
use std::process::ExitCode;
use vigil_types::{Vote, VoteKind, VoteMessage};

pub fn run(cmd: VoteCommand) -> anyhow::Result<ExitCode> {
    let VoteCommand::Sign { keys, password, chain_id, epoch, tx_hash, kind, signer, committee } = cmd;
    let tx_hash = files::parse_tx_hash(&tx_hash)?;
    let sk = load_secret(&keys, &password)?;
    let signer = match (signer, committee) {
        (Some(i), _) => i,
        (None, Some(path)) => {
            let c = files::read_committee(&path)?;
            let pk = sk.public_key().to_bytes();
            let m = c.committee().members.iter().find(|m| m.bls_pubkey == pk);
            m.map(|m| m.index).with_context(|| format!("{}: this key is not a member", path.display()))?
        }
        (None, None) => anyhow::bail!("give --signer INDEX or --committee FILE"),
    };
    let kind = match kind {
        KindArg::Clean => VoteKind::Clean,
        KindArg::Malicious => VoteKind::Malicious,
    };
    let msg = VoteMessage { chain_id, epoch, tx_hash, kind };
    let vote = Vote { chain_id, epoch, tx_hash, kind, signer, signature: sk.sign_vote(&msg).to_bytes() };
    println!("{}", serde_json::to_string_pretty(&vote)?);
    Ok(ExitCode::SUCCESS)
}
