#!/usr/bin/env python3
"""Summarizes bench/compare.sh's runs (files IMPL.*.json, one `ccaas-peer bench --output json`
report each): medians per workload, concurrency and implementation, and our figure divided by
Go's and Node's (below 1: we use less, or are faster for latency); then memory."""
import json
import os
import statistics
import sys
from collections import defaultdict

IMPLS = ["ours", "before", "metrics", "go", "node"]
NAMES = {"ours": "ours", "before": "ours before", "metrics": "ours with metrics", "go": "Go", "node": "Node"}
WORKLOADS = ["ReadAsset", "CreateAsset", "InitLedger", "GetAllAssets"]
LABELS = {"InitLedger": "InitLedger (6 writes)", "GetAllAssets": "GetAllAssets (200 assets)"}
TARGET_PEAK_MIB = 8

runs = defaultdict(list)  # (function, concurrency, impl) -> levels
idle = defaultdict(list)  # impl -> idle VmRSS KiB
peak = defaultdict(list)  # (function, concurrency, impl) -> VmHWM KiB
for path in sys.argv[1:]:
    impl = os.path.basename(path).split(".")[0]
    text = open(path).read()
    if not text.strip():
        print(f"warning: {os.path.basename(path)} is empty (the run failed)", file=sys.stderr)
        continue
    report = json.loads(text)
    for level in report["levels"]:
        runs[(report["function"], level["concurrency"], impl)].append(level)
        if report.get("peak_rss_kib"):
            peak[(report["function"], level["concurrency"], impl)].append(report["peak_rss_kib"])
    if report.get("idle_rss_kib"):
        idle[impl].append(report["idle_rss_kib"])

impls = [i for i in IMPLS if any(key[2] == i for key in runs)]
others = [i for i in impls if i != "ours"] if "ours" in impls else []
keys = sorted({(f, c) for (f, c, _) in runs}, key=lambda k: (WORKLOADS.index(k[0]) if k[0] in WORKLOADS else 99, k))

def median(function, concurrency, impl, key):
    values = [level[key] for level in runs[(function, concurrency, impl)] if level.get(key) is not None]
    return statistics.median(values) if values else float("nan")

def ratio(a, b):
    return f"{a / b:.2f}" if b else "-"

header = ["workload", "c"]
for metric in ("tx/s", "p50 ms", "p99 ms"):
    header += [f"{NAMES[i]} {metric}" for i in impls]
header += [f"p99 ours/{NAMES[o]}" for o in others]
header += [f"{NAMES[i]} CPU µs/tx" for i in impls]
header += [f"CPU ours/{NAMES[o]}" for o in others]
header += ["errors (" + "/".join(NAMES[i] for i in impls) + ")"]
print("| " + " | ".join(header) + " |")
print("|" + "---|" * len(header))
for function, c in keys:
    m = {(i, k): median(function, c, i, k) for i in impls for k in ("tps", "p50_ms", "p99_ms", "cpu_us_per_tx")}
    row = [LABELS.get(function, function), c]
    row += [f"{m[(i, 'tps')]:,.0f}" for i in impls]
    row += [f"{m[(i, 'p50_ms')]:.3f}" for i in impls]
    row += [f"{m[(i, 'p99_ms')]:.3f}" for i in impls]
    row += [ratio(m[("ours", "p99_ms")], m[(o, "p99_ms")]) for o in others]
    row += [f"{m[(i, 'cpu_us_per_tx')]:.1f}" for i in impls]
    row += [f"**{ratio(m[('ours', 'cpu_us_per_tx')], m[(o, 'cpu_us_per_tx')])}**" for o in others]
    row += ["/".join(str(sum(level["errors"] for level in runs[(function, c, i)])) for i in impls)]
    print("| " + " | ".join(str(cell) for cell in row) + " |")

print()
mib = lambda kib: f"{kib / 1024:.1f}"
for impl in impls:
    peaks = [kib for (_, _, i), values in peak.items() if i == impl for kib in values]
    if idle[impl] and peaks:
        print(f"{NAMES[impl]}: idle RSS median {mib(statistics.median(idle[impl]))} MiB over {len(idle[impl])} runs, "
              f"peak RSS max {mib(max(peaks))} MiB")

# Peak (VmHWM, max over rounds) of each workload at the highest concurrency run.
top = max(c for _, c in keys) if keys else None
functions = [f for f, c in keys if c == top]
if functions:
    print(f"\nPeak RSS (VmHWM) in MiB at concurrency {top}, max over rounds (target: ≤ {TARGET_PEAK_MIB} MiB):\n")
    print("| workload | " + " | ".join(NAMES[i] for i in impls) + " |")
    print("|" + "---|" * (len(impls) + 1))
    for function in functions:
        cells = [mib(max(peak[(function, top, i)])) if peak[(function, top, i)] else "-" for i in impls]
        print(f"| {LABELS.get(function, function)} | " + " | ".join(cells) + " |")
