#!/usr/bin/env bash
# Soak: one chaincode process (the static asset-transfer-basic, as `ccaas-deploy build-static`
# builds it) serves TRANSACTIONS ReadAsset and then TRANSACTIONS CreateAsset at concurrency 16
# while its VmRSS is sampled every second. Prints the samples' summary: the resident set at the
# start of each phase, at its end, its range over the second half, and the process's peak.
# A benchmark, not a test: CI never runs it. Needs python3 and ss (iproute2).
#
#   bash bench/soak.sh [TRANSACTIONS per workload (1000000)]
set -euo pipefail
cd "$(dirname "$0")/.."
transactions=${1:-1000000}
. bench/lib.sh
binary=$(build_ours)
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
port=17791
serve "$port" "$work/server.log" "$binary"
pid=$!
for function in ReadAsset CreateAsset; do
  echo "$function $transactions transactions at concurrency 16" >&2
  ( while sleep 1; do awk -v f="$function" '/^VmRSS/ {print f, $2}' "/proc/$pid/status"; done ) > "$work/$function.rss" &
  sampler=$!
  RUST_LOG=warn target/release/ccaas-peer --address "127.0.0.1:$port" bench --function "$function" \
    --concurrency 16 --transactions "$transactions" --assets 1000 --output json > "$work/$function.json"
  kill "$sampler"
done
peak=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
python3 - "$work" "$peak" <<'PY'
import json, sys
work, peak = sys.argv[1], int(sys.argv[2])
print("| workload | tx/s | errors | RSS after 1 s | RSS at the end | range over the second half | samples |")
print("|---|---|---|---|---|---|---|")
for function in ("ReadAsset", "CreateAsset"):
    level = json.load(open(f"{work}/{function}.json"))["levels"][0]
    rss = [int(line.split()[1]) for line in open(f"{work}/{function}.rss")]
    if not rss:
        sys.exit(f"{function} ended within a second, before its RSS was sampled: run more transactions")
    half = rss[len(rss) // 2:]
    mib = lambda kib: f"{kib / 1024:.2f} MiB"
    print(f"| {function}, {level['transactions']:,} at concurrency 16 | {level['tps']:,.0f} | {level['errors']} | "
          f"{mib(rss[0])} | {mib(rss[-1])} | {mib(min(half))} - {mib(max(half))} | {len(rss)} |")
print(f"\nPeak (VmHWM) over both: {peak / 1024:.2f} MiB")
PY
kill -INT "$pid"
wait "$pid" || true
