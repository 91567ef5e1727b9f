#!/usr/bin/env bash
# What the shim's metrics cost a transaction, counted in instructions (callgrind), which unlike CPU
# time does not move with the machine's load: the static asset-transfer-basic built as for its image,
# without the `metrics` feature, against the same built with it and serving its metrics
# (CHAINCODE_METRICS_ADDRESS). bench/compare.sh IMPLS="ours metrics" measures the CPU time.
# A benchmark, not a test: CI never runs it. Needs valgrind and ss (iproute2).
#
#   bash bench/metrics-cost.sh [TRANSACTIONS (5000)] [WORKLOADS ("ReadAsset CreateAsset")]
set -euo pipefail
cd "$(dirname "$0")/.."
transactions=${1:-5000}
read -ra workloads <<< "${2:-ReadAsset CreateAsset}"
. bench/lib.sh
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
# Copies: both builds write the same path.
cp "$(build_ours)" "$work/off"
cp "$(build_ours --features ccaas-shim/metrics)" "$work/on"

port=17791
for workload in "${workloads[@]}"; do
  for build in off on; do
    address=
    [ "$build" = on ] && address=127.0.0.1:0
    port=$((port + 1))
    CHAINCODE_METRICS_ADDRESS=$address serve "$port" "$work/$build.log" \
      valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$work/$build.$workload.out" "$work/$build"
    pid=$!
    drive() {
      RUST_LOG=warn target/release/ccaas-peer --address "127.0.0.1:$port" --connect-timeout 60s bench \
        --function "$workload" --concurrency 16 --transactions "$1" --assets 1000 > /dev/null
    }
    drive 1000
    callgrind_control --instr=on "$pid" > /dev/null
    drive "$transactions"
    kill -INT "$pid"
    wait "$pid" || true
    total=$(awk '/^(summary|totals):/ {print $2; exit}' "$work/$build.$workload.out")
    echo "$workload, metrics $build: $((total / transactions)) instructions per transaction"
  done
done
