#!/usr/bin/env bash
# CPU per certified transaction, per process of a `vigil bench` testnet.
#
#   scripts/cpu-per-tx.sh RATE [DURATION]
#
# Runs `vigil bench --rate RATE --duration DURATION` (release build), waits
# until the load is on, then reads utime + stime of every testnet process
# from /proc over 10 s and divides by the certificates node 0 saw in those
# 10 s. Prints one line per process and the total. Linux only.
set -euo pipefail
cd "$(dirname "$0")/.."
rate=${1:?usage: scripts/cpu-per-tx.sh RATE [DURATION]}
duration=${2:-30}
data=$(mktemp -d /tmp/vigil-cpu.XXXXXX)
base=26545
metrics="http://127.0.0.1:$((base + 100))/metrics"
bin=target/release/vigil
[ -x "$bin" ] || cargo build --release -p vigil-node

"$bin" bench --rate "$rate" --duration "$duration" --data "$data" --base-port "$base" > "$data.out" 2>&1 &
bench=$!
trap 'kill $bench 2>/dev/null || true; rm -rf "$data" "$data.out"' EXIT
for _ in $(seq 1 120); do
  sleep 1
  curl -sf "$metrics" | grep -q 'stage="inspect"' && break
done
sleep 5
hz=$(getconf CLK_TCK)
snap() {
  # DATA/pids.json names every process the testnet started.
  python3 -c '
import json, sys
for p in json.load(open(sys.argv[1])):
    if p["name"] == "testnet":
        continue
    try:
        f = open("/proc/%d/stat" % p["pid"]).read().rsplit(")", 1)[1].split()
    except OSError:
        continue
    print(p["name"], int(f[11]) + int(f[12]))
' "$data/pids.json" | sort
}
certs() { curl -s "$metrics" | awk '/^vigil_node_certificates_total/ {s += $2} END {print s}'; }
c0=$(certs); snap > "$data.s0"; sleep 10; snap > "$data.s1"; c1=$(certs)
n=$((c1 - c0))
echo "certificates at node 0 in 10 s: $n"
join "$data.s0" "$data.s1" | awk -v n="$n" -v hz="$hz" '
  { ms = ($3 - $2) * 1000 / hz; tot += ms
    printf "%-12s %6.1f%% of a core  %6.2f ms/tx\n", $1, ms / 100, (n > 0 ? ms / n : 0) }
  END { printf "%-12s %6.2f ms/tx\n", "total", (n > 0 ? tot / n : 0) }'
rm -f "$data.s0" "$data.s1"
wait $bench || true
