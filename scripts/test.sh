#!/usr/bin/env bash
# Runs every test of Vigil. Installs what the tests need first
# (scripts/setup.sh). Usage: scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

echo "== cargo test (workspace, all features)"
cargo test --workspace --all-features --locked

echo "== benches compile"
cargo check --workspace --benches --locked

echo "== contract artifacts match their sources (pinned solc)"
(cd contracts && node build.mjs --check && node build.mjs --root ../crates/corpus/contracts --check)
(cd testnet/clients && node compile.mjs --check)
(cd crates/corpus/protocols && node extract.mjs --check)

echo "== interop: certificates made by py_ecc, checked by vigil cert verify"
VIGIL_BIN=target/debug/vigil python3 node/tests/interop/pyecc_certs.py
