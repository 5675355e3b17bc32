#[test]
fn world_builds() {
    let n = vigil_corpus::protocols::smoke(1, 300).unwrap();
    eprintln!("setup txs: {n}");
}
