#!/usr/bin/env python3
"""Summarizes bench/compare.sh's JSON lines: medians per workload, concurrency and implementation,
and our figure divided by Go's (below 1: we use less, or are faster for latency)."""
import json
import statistics
import sys
from collections import defaultdict

runs = defaultdict(list)
rss = defaultdict(lambda: {"idle": [], "peak": []})
for line in open(sys.argv[1]):
    report = json.loads(line)
    impl = report["impl"]
    for level in report["levels"]:
        runs[(report["function"], level["concurrency"], impl)].append(level)
    if report.get("idle_rss_kib"):
        rss[impl]["idle"].append(report["idle_rss_kib"])
    if report.get("peak_rss_kib"):
        rss[impl]["peak"].append(report["peak_rss_kib"])

def median(levels, key):
    values = [level[key] for level in levels if level.get(key) is not None]
    return statistics.median(values) if values else float("nan")

print("| workload | c | ours tx/s | Go tx/s | ours p50 ms | Go p50 ms | ours p99 ms | Go p99 ms | p99 ours/Go "
      "| ours CPU µs/tx | Go CPU µs/tx | CPU ours/Go | errors |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for (function, concurrency) in sorted({(f, c) for (f, c, _) in runs}, key=lambda k: (k[0], k[1])):
    ours, go = runs[(function, concurrency, "ours")], runs[(function, concurrency, "go")]
    errors = sum(level["errors"] for level in ours + go)
    row = [function, concurrency,
           f"{median(ours, 'tps'):,.0f}", f"{median(go, 'tps'):,.0f}",
           f"{median(ours, 'p50_ms'):.3f}", f"{median(go, 'p50_ms'):.3f}",
           f"{median(ours, 'p99_ms'):.3f}", f"{median(go, 'p99_ms'):.3f}",
           f"{median(ours, 'p99_ms') / median(go, 'p99_ms'):.2f}",
           f"{median(ours, 'cpu_us_per_tx'):.1f}", f"{median(go, 'cpu_us_per_tx'):.1f}",
           f"**{median(ours, 'cpu_us_per_tx') / median(go, 'cpu_us_per_tx'):.2f}**", errors]
    print("| " + " | ".join(str(cell) for cell in row) + " |")
print()
for impl in ("ours", "go"):
    idle, peak = rss[impl]["idle"], rss[impl]["peak"]
    if idle and peak:
        print(f"{impl}: idle RSS median {statistics.median(idle) / 1024:.1f} MiB, "
              f"peak RSS max {max(peak) / 1024:.1f} MiB over {len(peak)} runs")
