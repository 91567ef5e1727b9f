#!/usr/bin/env bash
# How long a chaincode takes to build: cold debug, release and `ccaas-deploy build-static` builds of
# asset-transfer-basic, a chaincode crate made by `ccaas-deploy new` outside the workspace, and the
# incremental rebuilds after a one-line change to the contract; with the number of crates in the
# chaincode's tree and the slowest units on the critical path of its cold debug build. Each figure is
# the median of ROUNDS runs; every cold build gets a fresh CARGO_TARGET_DIR, with the registry cache
# warm (`cargo fetch` first). Given several revisions, they take turns build by build, so one run
# compares them side by side on the same machine state.
# A benchmark, not a test: CI never runs it.
#
#   bench/build-time.sh [ROUNDS (2)] [REV...]
#
# A REV is any git revision of this repository, checked out into a scratch worktree; with none, the
# working tree as it is. Example, before vs after: bench/build-time.sh 2 HEAD~5 HEAD
# Subsets: MEASURE="debug release static new incremental" (the default: all of them).
# Prints a markdown table on stdout; progress on stderr. Needs python3 and git.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2}
shift || true
revs=("$@")
read -ra measures <<< "${MEASURE:-debug release static new incremental}"
work=$(mktemp -d "${TMPDIR:-/tmp}/build-time.XXXXXX")
workspace=$PWD
cleanup() {
  for dir in "$work"/src-*; do
    [ -d "$dir" ] && [ "$dir" != "$workspace" ] && git -C "$workspace" worktree remove --force "$dir" 2>/dev/null
  done
  rm -rf "$work"
}
trap cleanup EXIT
log() { printf '[build-time %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
wants() { [[ " ${measures[*]} " == *" $1 "* ]]; }

# The sources of each revision.
labels=()
declare -A src
if [ ${#revs[@]} -eq 0 ]; then
  labels=(working-tree)
  src[working-tree]=$workspace
else
  for rev in "${revs[@]}"; do
    label=$(git rev-parse --short "$rev")
    labels+=("$label")
    src[$label]=$work/src-$label
    git worktree add --detach --quiet "${src[$label]}" "$rev"
  done
fi
# build-static and new come from this working tree's ccaas-deploy for every revision (not timed).
log "ccaas-deploy for build-static and new (not timed)"
cargo build --locked -q -p ccaas-deploy
deploy=$workspace/target/debug/ccaas-deploy
for label in "${labels[@]}"; do
  (cd "${src[$label]}" && cargo fetch --locked >/dev/null 2>&1)
done

results=$work/results.tsv
: > "$results"
# Each figure also goes to stderr as it is measured (a long run can be read before it ends).
record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" | tee -a "$results" >&2; }

# seconds COMMAND...: runs COMMAND (output to the log), prints its wall time and the CPU time (user +
# system) of the command and all its children, in seconds: "WALL CPU". On a busy machine the wall time
# grows with the load and the CPU time much less, so the CPU time is the steadier figure to compare.
seconds() {
  python3 - "$work/commands.log" "$@" <<'PY' || { log "failed: $* (see below)"; tail -30 "$work/commands.log" >&2; exit 1; }
import resource, subprocess, sys, time
log, command = sys.argv[1], sys.argv[2:]
start = time.monotonic()
with open(log, "a") as out:
    status = subprocess.call(command, stdout=out, stderr=out)
wall = time.monotonic() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{wall:.1f} {usage.ru_utime + usage.ru_stime:.1f}")
sys.exit(status)
PY
}

# record_build LABEL MEASURE "WALL CPU": both figures of one build.
record_build() {
  record "$1" "$2" "${3% *}"
  record "$1" "$2, CPU" "${3#* }"
}

# The one-line change: a string in the contract that no test depends on, changed and put back.
contract() { echo "$1/examples/asset-transfer-basic/src/lib.rs"; }
touch_contract() {
  local file
  file=$(contract "$1")
  printf '\n// build-time.sh: a one-line change %s\n' "$(date +%s%N)" >> "$file"
}
restore_contract() { (cd "$1" && git checkout --quiet -- examples/asset-transfer-basic/src/lib.rs); }

for round in $(seq "$rounds"); do
  for label in "${labels[@]}"; do
    dir=${src[$label]}
    target=$work/target-$label
    if wants debug || wants incremental; then
      rm -rf "$target"
      log "$label round $round: cold debug build"
      t=$(cd "$dir" && seconds env CARGO_TARGET_DIR="$target" cargo build --locked -p asset-transfer-basic --timings)
      wants debug && record_build "$label" "cold debug build" "$t"
      [ "$round" -eq 1 ] && cp "$target/cargo-timings/cargo-timing.html" "$work/timing-$label.html"
      if wants incremental; then
        touch_contract "$dir"
        t=$(cd "$dir" && seconds env CARGO_TARGET_DIR="$target" cargo build --locked -p asset-transfer-basic)
        record_build "$label" "incremental debug rebuild" "$t"
        restore_contract "$dir"
      fi
    fi
    if wants release || wants incremental; then
      rm -rf "$target"
      log "$label round $round: cold release build"
      t=$(cd "$dir" && seconds env CARGO_TARGET_DIR="$target" cargo build --locked --release -p asset-transfer-basic)
      wants release && record_build "$label" "cold release build" "$t"
      if wants incremental; then
        touch_contract "$dir"
        t=$(cd "$dir" && seconds env CARGO_TARGET_DIR="$target" cargo build --locked --release -p asset-transfer-basic)
        record_build "$label" "incremental release rebuild" "$t"
        restore_contract "$dir"
      fi
    fi
    if wants static; then
      rm -rf "$target"
      log "$label round $round: cold build-static"
      t=$(cd "$dir" && seconds env CARGO_TARGET_DIR="$target" "$deploy" build-static -p asset-transfer-basic)
      record_build "$label" "cold build-static" "$t"
    fi
    # A crate from `new` depends on the revision's shim: measured where that revision has `new`.
    if wants new && [ -e "$dir/deploy/src/new/Cargo.toml.tmpl" ]; then
      rm -rf "$target" "$work/new-$label"
      "$deploy" new my-chaincode --path "$dir" --dir "$work/new-$label" >/dev/null
      log "$label round $round: cold debug build of a crate made by ccaas-deploy new"
      t=$(cd "$work/new-$label" && seconds env CARGO_TARGET_DIR="$target" cargo build --offline)
      record_build "$label" "cold debug build, crate from \`new\`" "$t"
    fi
    rm -rf "$target"
  done
done

for label in "${labels[@]}"; do
  crates=$(cd "${src[$label]}" && cargo tree --locked -p asset-transfer-basic -e normal,build --prefix none |
    sed 's/ (\*)//;s/ (proc-macro)//' | sort -u | wc -l)
  record "$label" "crates in the chaincode's tree" "$crates"
done

python3 - "$results" "$work" "${labels[@]}" <<'EOF'
import json, re, statistics, sys
from collections import defaultdict
results, work, labels = sys.argv[1], sys.argv[2], sys.argv[3:]
values = defaultdict(list)
order = []
for line in open(results):
    label, metric, value = line.rstrip("\n").split("\t")
    values[(label, metric)].append(float(value))
    if metric not in order:
        order.append(metric)
def show(v, metric):
    return str(int(v)) if metric.startswith("crates") else f"{v:.1f} s"
print("| measure | " + " | ".join(labels) + (" | ratio (last / first) |" if len(labels) > 1 else " |"))
print("|---" * (len(labels) + 1 + (len(labels) > 1)) + "|")
for metric in order:
    row = []
    medians = []
    for label in labels:
        v = values.get((label, metric))
        if v:
            m = statistics.median(v)
            medians.append(m)
            runs = "" if metric.startswith("crates") else f" ({', '.join(f'{x:.1f}' for x in v)})"
            row.append(show(m, metric) + runs)
        else:
            medians.append(None)
            row.append("n/a")
    ratio = ""
    if len(labels) > 1:
        first, last = medians[0], medians[-1]
        ratio = f" {last / first:.2f} |" if first and last is not None else " n/a |"
    print(f"| {metric} | " + " | ".join(row) + " |" + ratio)

# The critical path of each cold debug build: from the unit that finished last, back through the
# unit whose completion unlocked it, as cargo's --timings report records them.
for label in labels:
    try:
        html = open(f"{work}/timing-{label}.html").read()
    except FileNotFoundError:
        continue
    units = json.loads(re.search(r"const UNIT_DATA = (\[.*?\]);", html, re.S).group(1))
    by_index = {u["i"]: u for u in units}
    unlocked_by = {}
    for u in units:
        for j in u.get("unblocked_units", []) + u.get("unblocked_rmeta_units", []):
            unlocked_by.setdefault(j, u["i"])
    unit = max(units, key=lambda u: u["start"] + u["duration"])
    path = []
    while unit is not None:
        path.append(unit)
        parent = unlocked_by.get(unit["i"])
        unit = by_index.get(parent) if parent is not None else None
    total = path[0]["start"] + path[0]["duration"]
    print(f"\nCritical path of the cold debug build, {label} ({total:.1f} s, last unit first):")
    for u in path:
        target = u.get("target", "").strip()
        print(f"- {u['name']} {u['version']}{(' ' + target) if target else ''}: {u['duration']:.1f} s "
              f"(from {u['start']:.1f} s)")
    slowest = sorted(units, key=lambda u: -u["duration"])[:8]
    print(f"Slowest units, {label}: " + ", ".join(f"{u['name']}{(' ' + u.get('target','').strip()) if u.get('target','').strip() else ''} {u['duration']:.1f} s" for u in slowest))
EOF
