#!/usr/bin/env bash
# Where a transaction's CPU goes in our chaincode (the static asset-transfer-basic, as
# `ccaas-deploy build-static` builds it): the kernel's share from the process's system time over a
# native run, and the user time split by component from callgrind's instruction counts.
# A benchmark, not a test: CI never runs it. Needs valgrind, python3 and ss (iproute2).
#
#   bash bench/profile.sh [FUNCTION (ReadAsset)] [CONCURRENCY (16)] [TRANSACTIONS (50000)]
set -euo pipefail
cd "$(dirname "$0")/.."
function=${1:-ReadAsset} concurrency=${2:-16} transactions=${3:-50000}
assets=1000
[ "$function" = GetAllAssets ] && assets=200
. bench/lib.sh
binary=$(build_ours)
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT

drive() {
  RUST_LOG=warn target/release/ccaas-peer --address "127.0.0.1:$1" --connect-timeout 60s bench --function "$function" \
    --concurrency "$concurrency" --transactions "$2" --assets "$assets" > /dev/null
}
# Fields 14 and 15 of /proc/PID/stat: user and system time in clock ticks.
ticks() { awk '{print $14, $15}' "/proc/$1/stat"; }

# Native: user and system time per transaction, after a warm-up.
serve 17781 "$work/native.log" "$binary"
pid=$!
drive 17781 2000
read -r user0 system0 < <(ticks "$pid")
drive 17781 "$transactions"
read -r user1 system1 < <(ticks "$pid")
kill -INT "$pid"
wait "$pid" || true
hz=$(getconf CLK_TCK)
user_us=$(python3 -c "print(($user1 - $user0) * 1e6 / $hz / $transactions)")
system_us=$(python3 -c "print(($system1 - $system0) * 1e6 / $hz / $transactions)")

# callgrind: instructions of a tenth as many transactions, counted after the same warm-up.
serve 17782 "$work/callgrind.log" valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$work/callgrind.out" "$binary"
pid=$!
drive 17782 2000
callgrind_control --instr=on "$pid" > /dev/null
drive 17782 $((transactions / 10))
kill -INT "$pid"
wait "$pid" || true
echo "$function at concurrency $concurrency:"
python3 bench/cpu-shares.py "$work/callgrind.out" $((transactions / 10)) "$user_us" "$system_us"
