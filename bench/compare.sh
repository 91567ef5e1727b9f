#!/usr/bin/env bash
# Our asset-transfer-basic example against the official Go shim's and the official Node shim's
# asset-transfer-basic, side by side under the same load: ReadAsset, CreateAsset, InitLedger (6
# writes) and GetAllAssets over 200 assets, at concurrency 1, 16 and 64, the chaincodes taking
# turns round by round. Prints a markdown table of medians and ratios (tx/s, p50, p99, chaincode
# CPU µs per transaction from /proc/PID/stat) and the idle VmRSS and peak VmHWM of each.
# A benchmark, not a test: CI never runs it.
#
#   BASELINES=DIR bench/compare.sh [ROUNDS (3)] [DURATION per run (4s)]
#
# DIR holds go-asset-cc-v2shim.xz: fabric-samples' asset-transfer-basic on the Go shim v2.3.0,
# serving CCaaS with CHAINCODE_SERVER_ADDRESS and CHAINCODE_ID. The Node chaincode is
# bench/node-asset (fabric-shim 2.5.x, installed here by `npm ci` into a scratch copy). Subsets:
# IMPLS="ours go node", WORKLOADS="ReadAsset CreateAsset InitLedger GetAllAssets",
# CONCURRENCY="1 16 64" (those are the defaults). Needs python3, and xz for Go, npm for Node.
# IMPLS may add `before`: ours built the same way from the revision BEFORE=REV (a scratch worktree,
# its hot code laid out by that revision's own list),
# for a side-by-side check that a change costs no CPU or memory; and `metrics`: ours built with the
# shim's `metrics` feature and serving its metrics (CHAINCODE_METRICS_ADDRESS), for the cost of
# metrics against `ours` (IMPLS="ours metrics").
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
duration=${2:-4s}
read -ra impls <<< "${IMPLS:-ours go node}"
read -ra workloads <<< "${WORKLOADS:-ReadAsset CreateAsset InitLedger GetAllAssets}"
read -ra concurrencies <<< "${CONCURRENCY:-1 16 64}"

# Ours is built by `ccaas-deploy build-static`, as for its container image (Go's is static too).
. bench/lib.sh
work=$(mktemp -d)
trap 'git worktree remove --force "$work/before" 2>/dev/null; rm -rf "$work"' EXIT
# A copy: the `metrics` build writes the same path.
cp "$(build_ours)" "$work/ours"
declare -A binary=([ours]=$work/ours)
for impl in "${impls[@]}"; do
  case $impl in
    ours) ;;
    metrics)
      cp "$(build_ours --features ccaas-shim/metrics)" "$work/ours-metrics"
      binary[metrics]=$work/ours-metrics ;;
    go)
      baselines=${BASELINES:?set BASELINES to the folder holding go-asset-cc-v2shim.xz}
      xz -dc "$baselines/go-asset-cc-v2shim.xz" > "$work/go-asset-cc"
      chmod +x "$work/go-asset-cc"
      binary[go]="$work/go-asset-cc" ;;
    node)
      cp -r bench/node-asset "$work/node-asset"
      rm -rf "$work/node-asset/node_modules"
      (cd "$work/node-asset" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error) >&2
      binary[node]="$work/node-asset/serve" ;;
    before)
      rev=${BEFORE:?set BEFORE to the revision to compare ours with}
      git worktree add --detach --quiet "$work/before" "$rev"
      # Laid out with that revision's own hot-function list (this tree's names other functions).
      hot_list=$work/before/deploy/src/oci/hot_functions.txt
      [ -e "$hot_list" ] || hot_list=$work/before/deploy/src/hot_functions.txt
      layout=(--no-layout)
      [ -e "$hot_list" ] && layout=(--hot-functions "$hot_list")
      binary[before]=$(CARGO_TARGET_DIR=$work/before-target target/debug/ccaas-deploy build-static \
        -p asset-transfer-basic --manifest-path "$work/before/Cargo.toml" "${layout[@]}" --output json |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["binary"])') ;;
    *) echo "unknown implementation $impl: use ours, before, metrics, go or node" >&2; exit 2 ;;
  esac
done
mkdir "$work/runs"

echo "machine: $(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg); $rounds rounds of $duration" >&2
for workload in "${workloads[@]}"; do
  assets=1000
  [ "$workload" = GetAllAssets ] && assets=200
  for concurrency in "${concurrencies[@]}"; do
    for round in $(seq "$rounds"); do
      # Each round starts with the next chaincode, so none always runs first.
      for k in "${!impls[@]}"; do
        impl=${impls[(k + round) % ${#impls[@]}]}
        printf '%s c=%s round %s: %s\n' "$workload" "$concurrency" "$round" "$impl" >&2
        # One file per run, named IMPL.*; the exit status is 1 when a transaction failed, which
        # the table shows as errors.
        # Only `metrics` serves them (on a free port; nothing scrapes during the run).
        metrics_address=
        [ "$impl" = metrics ] && metrics_address=127.0.0.1:0
        CHAINCODE_METRICS_ADDRESS=$metrics_address RUST_LOG=warn target/release/ccaas-peer bench --function "$workload" --concurrency "$concurrency" \
          --duration "$duration" --assets "$assets" --spawn "${binary[$impl]}" --output json \
          > "$work/runs/$impl.$workload.$concurrency.$round.json" || echo "  ($impl: exit status $?)" >&2
      done
    done
  done
done
python3 bench/summarize.py "$work"/runs/*.json
