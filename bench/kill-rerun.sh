#!/usr/bin/env bash
# Kill-and-rerun: `ccaas-deploy lifecycle` (fabric-testbed) and `ccaas-deploy up` (fabric-testbed,
# k8s-testbed, docker-registry and the node simulator), each killed with SIGKILL RUNS times after
# a random delay between 0 and the duration of one uninterrupted run, then run again plainly. The
# tests (deploy/tests/testbed/races.rs, deploy/tests/k8s/kill_rerun.rs) assert that every re-run
# exits 0 and leaves the channel, the registry and the cluster as one uninterrupted run does, and
# that a further run has nothing to do; this prints their tables (the ones in docs/reliability.md).
# CI runs the same tests with 3 kills each. Needs the testbeds (see the tests' support modules).
#
#   bash bench/kill-rerun.sh [RUNS (20)] [SEED (the clock)]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
report=$(mktemp)
trap 'rm -f "$report"' EXIT
export CCAAS_KILL_RUNS=$runs CCAAS_KILL_REPORT=$report
if [ -n "${2:-}" ]; then export CCAAS_KILL_SEED=$2; fi
cargo test --locked -p ccaas-deploy --test testbed races::lifecycle_killed -- --nocapture >&2
cargo test --locked -p ccaas-deploy --test k8s kill_rerun -- --nocapture >&2
cat "$report"
