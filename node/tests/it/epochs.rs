//! Live epoch changes, every piece a real process on real sockets: a
//! settlement devnet with epochs of four blocks holds the registry, a
//! `vigil gate run --registry.*` and a `vigil node run --registry.*` start
//! on the registry's committee, then the registry changes under them
//! (a member joins, later the node's own operator exits, each fixed by
//! `vigil committee snapshot`) and both follow without a restart: the gate
//! admits the new committee's certificates and refuses a stale epoch's,
//! the node answers the new committee on `vigil_committee`, votes with the
//! new epoch (again for a transaction left undecided in the old one) and
//! stops voting when its key leaves it, and a `vigil devnet run
//! --admission certified --registry.*` moves its admission the same way.
//! A gate frozen (SIGSTOP) while epochs pass finds, once resumed, the newest
//! snapshot behind a current epoch that has none. The settlement chain
//! going away stops neither gate nor node; the watcher warns once per
//! distinct error and keeps retrying.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use alloy_primitives::{B256, U256};
use alloy_signer_local::PrivateKeySigner;
use serde_json::{json, Value};
use vigil_crypto::{SecretKey, Signature};
use vigil_settlement::{registry::Registry, rpc::Client, wallet::Wallet};
use vigil_types::{Certificate, PublicKeyBytes, SignatureBytes, SignerBitmap, VoteKind, VoteMessage};

use crate::support::{
    account, block_number, deploy_contracts, free_ports, generate_keys, key_file, settlement_devnet, signed_tx,
    vigil_ok, Proc, Rpc,
};

const SETTLE_CHAIN: u64 = 7071;
const CHAIN: u64 = 31337;
const EPOCH_LENGTH: u64 = 4;
const ETHER: u64 = 1_000_000_000_000_000_000;

/// A clean certificate of `epoch` for `tx_hash`, signed by `signers`
/// (index in the committee, key) of a committee of `size` members.
fn certify(epoch: u64, tx_hash: B256, size: usize, signers: &[(u32, &SecretKey)]) -> Certificate {
    let msg = VoteMessage { chain_id: CHAIN, epoch, tx_hash, kind: VoteKind::Clean };
    let sigs: Vec<Signature> = signers.iter().map(|(_, k)| k.sign_vote(&msg)).collect();
    Certificate {
        chain_id: CHAIN,
        epoch,
        tx_hash,
        kind: VoteKind::Clean,
        signers: SignerBitmap::from_indexes(size, signers.iter().map(|(i, _)| *i as usize)).unwrap(),
        signature: Signature::aggregate(&sigs).unwrap().to_bytes(),
    }
}

/// Polls `probe` until it returns `Some`, failing after `within` with
/// `what` and the logs of `procs`.
async fn eventually<T, F, Fut>(what: &str, within: Duration, procs: &[&Proc], mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        if start.elapsed() > within {
            let logs: String = procs.iter().map(|p| format!("--- {}:\n{}\n", p.log.display(), p.log())).collect();
            panic!("{what}: not within {within:?}\n{logs}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[test]
fn a_running_gate_and_node_follow_the_registrys_epochs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    runtime.block_on(async {
        let _whole = crate::support::whole_network().await;
        scenario(dir.path()).await
    });
}

async fn scenario(dir: &Path) {
    let [settle_port, upstream_port, gate_port, node_port, devnet_port] = free_ports(5)[..] else { unreachable!() };
    let deployer = account(0xd1);
    let operators: Vec<PrivateKeySigner> = (0..5).map(|i| account(0xa0 + i)).collect();
    let mut settle_accounts = vec![deployer.address()];
    settle_accounts.extend(operators.iter().map(|k| k.address()));
    let (mut settle_proc, settle) =
        settlement_devnet(dir, "settlement", SETTLE_CHAIN, &settle_accounts, settle_port).await;
    // Senders of the inspected chain: one transaction each, judged in
    // epochs e1, e2 and (not judged) e3.
    let users: Vec<PrivateKeySigner> = (0..3).map(|i| account(0xb0 + i)).collect();
    let user_accounts: Vec<_> = users.iter().map(|u| u.address()).collect();
    let (_upstream_proc, upstream) = settlement_devnet(dir, "upstream", CHAIN, &user_accounts, upstream_port).await;
    let to = Some(alloy_primitives::Address::repeat_byte(0x42));

    // --- The contracts, epochs of four blocks (a block per transaction). ---
    let addresses = dir.join("addresses.json");
    let (_, deployed) = deploy_contracts(
        &settle.url,
        SETTLE_CHAIN,
        &key_file(dir, "deployer-deploy.key", &deployer),
        CHAIN,
        EPOCH_LENGTH,
        &addresses,
    );
    let registry_address = deployed["registry"].as_str().unwrap().to_owned();
    let client = Client::new(settle.url.clone());
    let registry = Registry::new(client.clone(), registry_address.parse().unwrap());
    let wallet = |i: usize| {
        let (client, key) = (client.clone(), operators[i].clone());
        async move { Wallet::connect(client, key).await.unwrap() }
    };
    let deployer_key = key_file(dir, "deployer.key", &deployer);
    // `vigil committee snapshot` until the registry is in an epoch after
    // `block`'s and at least `at_least`; that epoch (each call is a
    // transaction, so a block).
    let snapshot_after = |block: u64, at_least: u64| loop {
        let out: Value = serde_json::from_str(&vigil_ok(&[
            "committee",
            "snapshot",
            "--rpc",
            &settle.url,
            "--registry",
            &registry_address,
            "--key-file",
            &deployer_key,
        ]))
        .unwrap();
        let epoch = out["epoch"].as_u64().unwrap();
        if epoch > block / EPOCH_LENGTH && epoch >= at_least {
            return epoch;
        }
    };

    // --- Members: three keys held here (10 ether each) and the node's
    // keystore (1 ether): the three alone pass two thirds. ---
    let keys: Vec<SecretKey> = (1u8..=4).map(|i| SecretKey::from_ikm(&[i; 32]).unwrap()).collect();
    let mut last_block = 0;
    for (i, k) in keys[..3].iter().enumerate() {
        let reg = registry
            .register(
                &wallet(i).await,
                &k.public_key().to_bytes().0,
                &k.prove_possession().to_bytes().0,
                &format!("12D3KooWEpochMember{i}"),
                U256::from(10 * ETHER),
            )
            .await
            .unwrap();
        assert_eq!(reg.index, i as u64);
        last_block = reg.block;
    }
    let pw = dir.join("pw");
    std::fs::write(&pw, "test password\n").unwrap();
    let node_keys = dir.join("node-keys");
    let member = generate_keys(&node_keys, &pw);
    let node_pk: PublicKeyBytes = serde_json::from_value(member["bls_pubkey"].clone()).unwrap();
    let node_pop: SignatureBytes = serde_json::from_value(member["pop"].clone()).unwrap();
    let reg = registry
        .register(&wallet(3).await, &node_pk.0, &node_pop.0, member["peer_id"].as_str().unwrap(), U256::from(ETHER))
        .await
        .unwrap();
    assert_eq!(reg.index, 3);
    last_block = last_block.max(reg.block);
    let e1 = snapshot_after(last_block, 0);

    // --- A gate and a node reading the registry, polling it every 200 ms. ---
    let registry_flags = |poll: &str| -> Vec<String> {
        ["--registry.rpc", &settle.url, "--registry.address", &registry_address, "--registry.poll-ms", poll]
            .map(String::from)
            .to_vec()
    };
    let mut gate_args: Vec<String> =
        ["--log.filter", "info,vigil_settlement=debug", "gate", "run", "--upstream", &upstream.url]
            .map(String::from)
            .to_vec();
    gate_args.extend(registry_flags("200"));
    gate_args.extend(
        ["--data", dir.join("gate-data").to_str().unwrap(), "--rpc.addr", &format!("127.0.0.1:{gate_port}")]
            .map(String::from),
    );
    let mut gate_proc = Proc::vigil(&gate_args, dir.join("gate.log"));
    let gate = Rpc::new(format!("http://127.0.0.1:{gate_port}"));
    gate.wait_up(&mut gate_proc, Duration::from_secs(30)).await;

    let mut node_args: Vec<String> = [
        "--log.filter",
        "info,vigil_settlement=debug,vigil_inspector::pipeline=debug",
        "node",
        "run",
        "--keys",
        node_keys.to_str().unwrap(),
        "--data",
        dir.join("node-data").to_str().unwrap(),
        "--chain.mode",
        "rpc",
        "--chain.rpc",
        &upstream.url,
        "--rpc.addr",
        &format!("127.0.0.1:{node_port}"),
        "--password-file",
        pw.to_str().unwrap(),
        // One node cannot certify alone: its transactions stay undecided
        // (not quarantined) across the epoch change.
        "--deadline-ms",
        "600000",
    ]
    .map(String::from)
    .to_vec();
    node_args.extend(registry_flags("200"));
    let mut node_proc = Proc::vigil(&node_args, dir.join("node.log"));
    let node = Rpc::new(format!("http://127.0.0.1:{node_port}"));
    node.wait_up(&mut node_proc, Duration::from_secs(60)).await;

    // A devnet with certified admission, its committees from the registry.
    let mut devnet_args: Vec<String> = [
        "--log.filter",
        "info,vigil_settlement=debug",
        "devnet",
        "run",
        "--admission",
        "certified",
        "--genesis",
        dir.join("upstream-genesis.json").to_str().unwrap(),
        "--data",
        dir.join("certified-devnet-data").to_str().unwrap(),
        "--rpc.addr",
        &format!("127.0.0.1:{devnet_port}"),
    ]
    .map(String::from)
    .to_vec();
    devnet_args.extend(registry_flags("200"));
    let mut devnet_proc = Proc::vigil(&devnet_args, dir.join("certified-devnet.log"));
    let devnet = Rpc::new(format!("http://127.0.0.1:{devnet_port}"));
    devnet.wait_up(&mut devnet_proc, Duration::from_secs(30)).await;
    let devnet_epoch = || async { devnet.result("vigil_devnetInfo", json!([])).await["epoch"].as_u64().unwrap() };
    assert_eq!(devnet_epoch().await, e1);

    let gate_epoch = || async { gate.result("vigil_gateInfo", json!([])).await["epoch"].as_u64().unwrap() };
    assert_eq!(gate_epoch().await, e1);
    let committee = node.result("vigil_committee", json!([])).await;
    assert_eq!((committee["epoch"].as_u64(), committee["members"].as_array().unwrap().len()), (Some(e1), 4));
    assert_eq!(node.result("vigil_nodeInfo", json!([])).await["signer_index"], 3);

    // The node votes in e1 as member 3.
    let (raw, carried) = signed_tx(&users[0], CHAIN, 0, to, 1, vec![]);
    assert_eq!(node.result("eth_sendRawTransaction", json!([raw])).await, json!(carried));
    let votes_of = |hash: B256| {
        let node = &node;
        async move {
            let v = node.call("vigil_getVerdict", json!([hash])).await;
            v["result"]["votes"].as_array().cloned().unwrap_or_default()
        }
    };
    let vote = eventually("the node votes in e1", Duration::from_secs(30), &[&node_proc], || async {
        votes_of(carried).await.first().cloned()
    })
    .await;
    assert_eq!((vote["epoch"].as_u64(), vote["signer"].as_u64()), (Some(e1), Some(3)), "{vote}");

    let held = [(0u32, &keys[0]), (1, &keys[1]), (2, &keys[2])];
    let h1 = B256::repeat_byte(0x11);
    let old = certify(e1, h1, 4, &held);
    let accepted = gate.result("vigil_submitCertificate", json!([old])).await;
    assert_eq!(accepted["status"], "awaiting_transaction", "{accepted}");

    // --- A fifth member joins (10 ether); the snapshot two or more epochs
    // later includes it. ---
    let joined = registry
        .register(
            &wallet(4).await,
            &keys[3].public_key().to_bytes().0,
            &keys[3].prove_possession().to_bytes().0,
            "12D3KooWEpochMember4",
            U256::from(10 * ETHER),
        )
        .await
        .unwrap();
    assert_eq!(joined.index, 4);
    let e2 = snapshot_after(joined.block, e1 + 2);

    eventually("the gate moves to the new epoch", Duration::from_secs(20), &[&gate_proc], || async {
        (gate_epoch().await == e2).then_some(())
    })
    .await;
    eventually("the node moves to the new epoch", Duration::from_secs(20), &[&node_proc], || async {
        let c = node.result("vigil_committee", json!([])).await;
        (c["epoch"].as_u64() == Some(e2)).then_some(())
    })
    .await;
    let committee = node.result("vigil_committee", json!([])).await;
    let members = committee["members"].as_array().unwrap();
    assert_eq!(members.len(), 5, "{committee}");
    assert_eq!(members[4]["bls_pubkey"], json!(keys[3].public_key().to_bytes()), "{committee}");
    let info = node.result("vigil_nodeInfo", json!([])).await;
    assert_eq!((info["epoch"].as_u64(), info["signer_index"].as_u64()), (Some(e2), Some(3)), "{info}");

    // The transaction left undecided in e1 is voted again in e2 (its e1
    // votes went with e1), same verdict.
    let again =
        eventually("the node re-votes the undecided transaction", Duration::from_secs(20), &[&node_proc], || async {
            votes_of(carried).await.into_iter().find(|v| v["epoch"].as_u64() == Some(e2))
        })
        .await;
    assert_eq!((again["signer"].as_u64(), &again["kind"]), (Some(3), &vote["kind"]), "{again}");
    // A new transaction is voted in the new epoch, with the node's index there.
    let (raw, judged) = signed_tx(&users[1], CHAIN, 0, to, 1, vec![]);
    assert_eq!(node.result("eth_sendRawTransaction", json!([raw])).await, json!(judged));
    let vote = eventually("the node votes in the new epoch", Duration::from_secs(30), &[&node_proc], || async {
        votes_of(judged).await.first().cloned()
    })
    .await;
    assert_eq!((vote["epoch"].as_u64(), vote["signer"].as_u64()), (Some(e2), Some(3)), "{vote}");

    // The new committee's certificate is admitted: the new member counts
    // (index 4 does not exist in the committee of e1).
    let with_new = [(0u32, &keys[0]), (1, &keys[1]), (4, &keys[3])];
    let h2 = B256::repeat_byte(0x22);
    let accepted = gate.result("vigil_submitCertificate", json!([certify(e2, h2, 5, &with_new)])).await;
    assert_eq!(accepted["status"], "awaiting_transaction", "{accepted}");
    // Epoch e1 is two or more epochs back: stale, though it was admitted before.
    let h3 = B256::repeat_byte(0x33);
    let (_, e) = gate.error("vigil_submitCertificate", json!([certify(e1, h3, 4, &held)])).await;
    assert!(e.contains(&format!("certificate epoch {e1} is not accepted in epoch {e2}")), "{e}");

    // The certified devnet follows too.
    eventually("the devnet moves to the new epoch", Duration::from_secs(20), &[&devnet_proc], || async {
        (devnet_epoch().await == e2).then_some(())
    })
    .await;
    devnet.result("vigil_submitCertificate", json!([certify(e2, h2, 5, &with_new)])).await;
    let (_, e) = devnet.error("vigil_submitCertificate", json!([certify(e1, h3, 4, &held)])).await;
    assert!(e.contains(&format!("certificate epoch {e1} is not accepted in epoch {e2}")), "{e}");

    // --- The node's operator exits: the next snapshot leaves it out, the
    // node stops voting and keeps serving. ---
    let exited = wallet(3)
        .await
        .transact(registry.address(), U256::ZERO, &vigil_contracts::InspectorRegistry::exitCall {})
        .await
        .unwrap();
    let e3 = snapshot_after(exited.block_number, e2 + 1);
    let info = eventually("the node leaves the committee", Duration::from_secs(20), &[&node_proc], || async {
        let info = node.result("vigil_nodeInfo", json!([])).await;
        (info["epoch"].as_u64() == Some(e3)).then_some(info)
    })
    .await;
    assert!(info["signer_index"].is_null(), "{info}");
    eventually("the node says it stops voting", Duration::from_secs(5), &[&node_proc], || async {
        node_proc.log().contains("NOT in the committee").then_some(())
    })
    .await;
    // A transaction now is taken (RPC keeps serving) but not judged.
    let (raw, unjudged) = signed_tx(&users[2], CHAIN, 0, to, 1, vec![]);
    assert_eq!(node.result("eth_sendRawTransaction", json!([raw])).await, json!(unjudged));
    eventually("the node skips judging", Duration::from_secs(10), &[&node_proc], || async {
        let log = node_proc.log();
        log.lines()
            .any(|l| l.contains("not a committee member: not judging") && l.contains(&unjudged.to_string()))
            .then_some(())
    })
    .await;
    assert!(node.call("vigil_getVerdict", json!([unjudged])).await.get("error").is_some(), "no verdict, no vote");
    eventually("the gate follows", Duration::from_secs(20), &[&gate_proc], || async {
        (gate_epoch().await == e3).then_some(())
    })
    .await;
    // The exited member's slot is gone: the fifth member is index 3 now.
    let now = [(0u32, &keys[0]), (1, &keys[1]), (3, &keys[3])];
    let h4 = B256::repeat_byte(0x44);
    let accepted = gate.result("vigil_submitCertificate", json!([certify(e3, h4, 4, &now)])).await;
    assert_eq!(accepted["status"], "awaiting_transaction", "{accepted}");

    // --- A watcher that missed epochs (the gate, frozen with SIGSTOP)
    // finds the newest snapshot behind an epoch that has none. ---
    let signal = |sig: &str, proc: &Proc| {
        let ok = std::process::Command::new("kill").args([sig, &proc.child.id().to_string()]).status().unwrap();
        assert!(ok.success(), "kill {sig}");
    };
    signal("-STOP", &gate_proc);
    let e4 = snapshot_after(0, e3 + 2);
    // Plain transfers (no registry call, so no snapshot) into the next epoch.
    let mut nonce = {
        let n = settle.result("eth_getTransactionCount", json!([deployer.address(), "pending"])).await;
        u64::from_str_radix(n.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
    };
    while block_number(&settle).await / EPOCH_LENGTH <= e4 {
        let (raw, hash) = signed_tx(&deployer, SETTLE_CHAIN, nonce, to, 1, vec![]);
        settle.result("eth_sendRawTransaction", json!([raw])).await;
        eventually("the transfer is mined", Duration::from_secs(10), &[&settle_proc], || async {
            (!settle.result("eth_getTransactionReceipt", json!([hash])).await.is_null()).then_some(())
        })
        .await;
        nonce += 1;
    }
    signal("-CONT", &gate_proc);
    eventually("the gate catches up to the newest snapshot", Duration::from_secs(20), &[&gate_proc], || async {
        (gate_epoch().await == e4).then_some(())
    })
    .await;
    let h5 = B256::repeat_byte(0x55);
    let accepted = gate.result("vigil_submitCertificate", json!([certify(e4, h5, 4, &now)])).await;
    assert_eq!(accepted["status"], "awaiting_transaction", "{accepted}");

    // --- The settlement chain goes away: both keep serving, warn once,
    // and keep retrying (debug lines). ---
    settle_proc.kill9();
    let warning = "cannot read the registry's committee; keeping the held one, will retry";
    for (name, proc) in [("gate", &gate_proc), ("node", &node_proc)] {
        eventually(&format!("the {name} retries the registry"), Duration::from_secs(20), &[proc], || async {
            let log = proc.log();
            (log.matches("registry still unreadable").count() >= 2).then_some(())
        })
        .await;
        let log = proc.log();
        assert_eq!(log.matches(warning).count(), 1, "one warning per distinct error ({name}):\n{log}");
    }
    assert!(gate_proc.running() && node_proc.running());
    assert_eq!(gate_epoch().await, e4);
    assert_eq!(node.result("vigil_committee", json!([])).await["epoch"].as_u64(), Some(e4));
}
