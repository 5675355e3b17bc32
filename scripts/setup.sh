#!/usr/bin/env bash
# Installs what Vigil's build and tests need on a fresh Debian machine with a
# Rust toolchain (rustup), Python 3 and Node.js:
#   - Debian: librocksdb-dev (RocksDB 7.8, linked instead of building the
#     bundled C++ sources) and libclang-dev (bindgen for librocksdb-sys);
#   - PyPI: py_ecc (independent BLS implementation for the interop test),
#     pinned in node/tests/interop/requirements.txt;
#   - npm: the pinned solc compiler (contracts/package-lock.json), which
#     builds both Vigil's own contracts and the detection corpus contracts;
#     the genuine protocol packages the corpus's real-protocol world deploys
#     (Uniswap, Aave, Safe, OpenZeppelin…) with their solc
#     (crates/corpus/protocols/package-lock.json), for its artifact check;
#     viem, ws and Hardhat (testnet/clients/package-lock.json): the real
#     wallet library and the third-party node the tests talk to;
#     js-libp2p with @chainsafe/libp2p-gossipsub (testnet/interop/
#     package-lock.json): the JS peer of the gossip interop test;
#     playwright-core (testnet/dashboard/package-lock.json), which drives
#   - Debian's chromium (/usr/bin/chromium) in the dashboard's browser
#     test; playwright never downloads a browser of its own.
# Idempotent: re-running skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
# --build-only: just what building `vigil` needs (the Debian packages).
build_only=false
[ "${1:-}" = "--build-only" ] && build_only=true

if ! command -v cargo >/dev/null; then
  echo "setup: cargo not found; install Rust with rustup first (https://rustup.rs)" >&2
  exit 1
fi

need_apt=()
for pkg in librocksdb-dev libclang-dev; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
# The dashboard's browser test (not needed to build).
if ! $build_only; then
  dpkg -s chromium >/dev/null 2>&1 || need_apt+=(chromium)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${need_apt[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if $build_only; then
  exit 0
fi

if ! python3 -c 'import py_ecc' 2>/dev/null; then
  echo "setup: installing Python packages (py_ecc)"
  python3 -m pip install --quiet --disable-pip-version-check -r node/tests/interop/requirements.txt
fi

if [ ! -d contracts/node_modules ]; then
  echo "setup: installing the pinned solc (npm ci in contracts/)"
  (cd contracts && npm ci --silent --no-audit --no-fund)
fi

if [ ! -d crates/corpus/protocols/node_modules ]; then
  echo "setup: installing the pinned protocol packages (npm ci in crates/corpus/protocols)"
  (cd crates/corpus/protocols && npm ci --silent --no-audit --no-fund)
fi

if [ ! -d testnet/clients/node_modules ]; then
  echo "setup: installing the pinned JS clients (npm ci in testnet/clients: viem, ws, hardhat)"
  (cd testnet/clients && npm ci --silent --no-audit --no-fund)
fi

if [ ! -d testnet/dashboard/node_modules ]; then
  echo "setup: installing the pinned playwright-core (npm ci in testnet/dashboard; it uses Debian's chromium)"
  (cd testnet/dashboard && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --silent --no-audit --no-fund)
fi

if [ ! -d testnet/interop/node_modules ]; then
  echo "setup: installing the pinned js-libp2p peer (npm ci in testnet/interop: libp2p, gossipsub)"
  (cd testnet/interop && npm ci --silent --no-audit --no-fund)
fi
