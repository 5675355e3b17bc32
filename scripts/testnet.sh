#!/usr/bin/env bash
# The local testnet with the attack-stopping demo, from a fresh clone:
# installs the system libraries the build links (Debian's RocksDB), builds
# `vigil` (release), and runs `vigil testnet up --demo` (devnet, 4 inspector
# nodes, gate; the DeFi world built through the network, steady benign
# traffic, 13 attacks stopped). Ctrl-C stops everything.
# Extra arguments go to `vigil testnet up` (e.g. --data DIR, --nodes N).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --build-only
cargo build --release --locked -p vigil-node
exec target/release/vigil testnet up --demo "$@"
