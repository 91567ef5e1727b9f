#!/usr/bin/env bash
# Our asset-transfer-basic example against the official Go shim's asset-transfer-basic, side by
# side under the same load: ReadAsset, CreateAsset and GetAllAssets over 200 assets, at
# concurrency 1, 16 and 64, alternating the two chaincodes round by round. Prints a markdown table
# of medians and ratios (tx/s, p50, p99, chaincode CPU µs per transaction from /proc/PID/stat,
# idle VmRSS and peak VmHWM). A benchmark, not a test: CI never runs it.
#
#   BASELINES=DIR bench/compare.sh [ROUNDS (3)] [DURATION per run (4s)]
#
# DIR holds go-asset-cc-v2shim.xz: fabric-samples' asset-transfer-basic on the Go shim v2.3.0,
# serving CCaaS with CHAINCODE_SERVER_ADDRESS and CHAINCODE_ID. Needs xz and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
duration=${2:-4s}
baselines=${BASELINES:?set BASELINES to the folder holding go-asset-cc-v2shim.xz}

cargo build --release --locked -p ccaas-testkit -p asset-transfer-basic
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
xz -dc "$baselines/go-asset-cc-v2shim.xz" > "$work/go-asset-cc"
chmod +x "$work/go-asset-cc"
declare -A binary=([ours]=target/release/asset-transfer-basic [go]="$work/go-asset-cc")
results="$work/results.jsonl"

echo "machine: $(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg); $rounds rounds of $duration" >&2
for workload in ReadAsset CreateAsset GetAllAssets; do
  assets=1000
  [ "$workload" = GetAllAssets ] && assets=200
  for concurrency in 1 16 64; do
    for round in $(seq "$rounds"); do
      for impl in ours go; do
        printf '%s c=%s round %s: %s\n' "$workload" "$concurrency" "$round" "$impl" >&2
        RUST_LOG=warn target/release/ccaas-peer bench --function "$workload" --concurrency "$concurrency" \
          --duration "$duration" --assets "$assets" --spawn "${binary[$impl]}" --output json |
          python3 -c 'import json, sys; r = json.load(sys.stdin); r["impl"] = sys.argv[1]; print(json.dumps(r))' "$impl" \
          >> "$results"
      done
    done
  done
done
python3 bench/summarize.py "$results"
