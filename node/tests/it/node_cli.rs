//! `vigil node init` and the config file of `vigil node run`.

use std::process::Command;

fn vigil(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_vigil")).args(args).output().expect("vigil runs")
}

#[test]
fn init_writes_keys_and_a_config_that_run_reads() {
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "pw\n").unwrap();
    let node = dir.path().join("n");
    let args = ["node", "init", "--dir", node.to_str().unwrap(), "--password-file", pw.to_str().unwrap()];
    let out = vigil(&[&args[..], &["--kdf", "pbkdf2", "--kdf-cost", "2"]].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for f in ["bls-keystore.json", "p2p.key", "member.json", "config.toml"] {
        assert!(node.join(f).exists(), "{f} missing");
    }
    // A second init refuses to overwrite keys.
    let again = vigil(&[&args[..], &["--kdf", "pbkdf2", "--kdf-cost", "2"]].concat());
    assert!(!again.status.success());

    // The template parses; what it points at does not exist yet: a clear error naming the file.
    let config = node.join("config.toml");
    let out = vigil(&["node", "run", "--config", config.to_str().unwrap(), "--password-file", pw.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("genesis.json"), "{err}");

    // An unknown key is refused with its name.
    std::fs::write(&config, format!("{}\nbogus_key = 1\n", std::fs::read_to_string(&config).unwrap())).unwrap();
    let out = vigil(&["node", "run", "--config", config.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("bogus_key"), "{err}");

    // Without a config, a missing setting is named.
    let out = vigil(&["node", "run", "--keys", node.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("missing setting `data`"), "{err}");
}
