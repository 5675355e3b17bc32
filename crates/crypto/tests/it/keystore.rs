//! EIP-2335 keystores: the EIP's own test cases, round trips and bad input.

use std::path::Path;
use vigil_crypto::{keystore::normalize_password, CryptoError, Kdf, Keystore, SecretKey};

const EIP_PASSWORD: &str = "𝔱𝔢𝔰𝔱𝔭𝔞𝔰𝔰𝔴𝔬𝔯𝔡🔑";
const EIP_SECRET: &str = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f";

fn vector(name: &str) -> Keystore {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/eip2335").join(name);
    Keystore::read(&path).expect("vector parses")
}

#[test]
fn eip2335_password_normalization() {
    assert_eq!(hex::encode(normalize_password(EIP_PASSWORD).as_slice()), "7465737470617373776f7264f09f9491");
    assert_eq!(normalize_password("a\u{7f}b\u{1}c\u{85}").as_slice(), b"abc");
}

#[test]
fn eip2335_test_cases_decrypt_to_the_stated_secret() {
    for name in ["scrypt.json", "pbkdf2.json"] {
        let ks = vector(name);
        let sk = ks.decrypt(EIP_PASSWORD).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(hex::encode(sk.to_bytes().as_slice()), EIP_SECRET, "{name}");
        assert!(matches!(ks.decrypt("testpassword"), Err(CryptoError::WrongPassword)), "{name}");
    }
}

#[test]
fn encrypting_with_the_eip_parameters_reproduces_the_eip_file() {
    let sk = SecretKey::from_bytes(&hex::decode(EIP_SECRET).expect("hex")).expect("secret");
    let want = vector("pbkdf2.json");
    let salt: [u8; 32] = hex::decode("d4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3")
        .expect("hex")
        .try_into()
        .expect("32");
    let iv: [u8; 16] = hex::decode("264daa3f303d7259501c93d997d84fe6").expect("hex").try_into().expect("16");
    let got = Keystore::encrypt_with(&sk, EIP_PASSWORD, Kdf::Pbkdf2 { c: 262144 }, &salt, &iv, want.uuid, "")
        .expect("encrypt");
    assert_eq!(got.crypto.checksum.message, want.crypto.checksum.message);
    assert_eq!(got.crypto.cipher.message, want.crypto.cipher.message);
    assert_eq!(got.pubkey, want.pubkey);
}

#[test]
fn round_trip_with_a_fresh_key() {
    let sk = SecretKey::generate();
    let ks = Keystore::encrypt(&sk, "correct horse", Kdf::Scrypt { log_n: 10 }, "test").expect("encrypt");
    let back = Keystore::from_json(&ks.to_json()).expect("parse").decrypt("correct horse").expect("decrypt");
    assert_eq!(back.public_key(), sk.public_key());
}

#[test]
fn malformed_keystores_say_what_is_wrong() {
    let good = vector("pbkdf2.json").to_json();
    let cases: Vec<(String, &str)> = vec![
        ("{".into(), "not a valid EIP-2335 keystore"),
        (good.replace("\"version\": 4", "\"version\": 3"), "version 3 is not supported"),
        (good.replace("hmac-sha256", "hmac-sha512"), "prf"),
        (good.replace("aes-128-ctr", "aes-256-gcm"), "cipher"),
        (good.replace("\"function\": \"pbkdf2\"", "\"function\": \"argon2\""), "kdf \"argon2\""),
        (good.replace("264daa3f303d7259501c93d997d84fe6", "264daa"), "iv must be 16 bytes"),
        (good.replace("\"c\": 262144", "\"c\": 0"), "out of the accepted range"),
    ];
    for (json, want) in cases {
        let err = match Keystore::from_json(&json) {
            Err(e) => e.to_string(),
            Ok(ks) => ks.decrypt(EIP_PASSWORD).err().map(|e| e.to_string()).unwrap_or_default(),
        };
        assert!(err.contains(want), "want {want:?} in {err:?}");
    }
}
