#!/usr/bin/env python3
"""Splits a callgrind profile of the chaincode by component, with the kernel's share beside it.

    python3 bench/cpu-shares.py CALLGRIND_OUT TRANSACTIONS USER_US SYSTEM_US

CALLGRIND_OUT covers TRANSACTIONS transactions; USER_US and SYSTEM_US are the process's user and
system CPU time per transaction from a native run (/proc/PID/stat). Each function's own
instructions (not its callees') go to the crate that owns it: the crate its path starts with, or
for generic containers (drop_in_place, Vec growth, hash maps) the first other crate named in it. Prints
a markdown table: components by instructions per transaction, their share of user time, and the
share of the whole CPU time once the kernel's is counted.
"""

import re
import subprocess
import sys

COMPONENTS = [
    ("chaincode (asset code, serde_json)", {"asset_transfer_basic", "serde_json", "serde_core", "serde"}),
    ("shim (ccaas_shim, generated messages)", {"ccaas_shim", "ccaas_protos"}),
    ("prost (protobuf encoding)", {"prost", "tonic_prost"}),
    ("tonic, tower (gRPC)", {"tonic", "tower", "tower_layer", "tower_service", "axum", "axum_core", "matchit"}),
    ("h2, hyper (HTTP/2)", {"h2", "hyper", "hyper_util", "http", "http_body", "http_body_util", "httparse"}),
    ("tokio (runtime, sockets)", {"tokio", "mio", "tokio_util", "tokio_stream", "futures_util", "futures_core",
                                  "futures_channel", "futures_task", "pin_project_lite"}),
    ("bytes (buffers)", {"bytes"}),
    ("tracing", {"tracing", "tracing_core", "tracing_subscriber"}),
    ("TLS (rustls, ring)", {"rustls", "ring", "tokio_rustls"}),
]
CRATE_TO_COMPONENT = {crate: name for name, crates in COMPONENTS for crate in crates}
GENERIC_CRATES = {"core", "alloc", "std", "hashbrown", "slab"}
MALLOC = re.compile(r"^(malloc|free|realloc|calloc|cfree|_int_malloc|_int_free|_int_realloc|malloc_consolidate|"
                    r"unlink_chunk|tcache_\w+|__libc_\w*alloc|__libc_free|_int_memalign|sysmalloc|"
                    r"alloc_perturb|__rust_alloc|__rust_dealloc|__rust_realloc|__rdl_\w+)(\.\w+)*$")
MEMFN = re.compile(r"^_*(mem|str|wmem|wcs)\w*$")
CRATE = re.compile(r"([a-z_][a-z0-9_]*)::")


def component(function):
    if MALLOC.match(function):
        return "malloc, free (glibc)"
    if MEMFN.match(function):
        return "memcpy, memmove, memset (glibc)"
    crates = CRATE.findall(function)
    if not crates:
        return "other libc (syscall wrappers, start-up)"
    lead = crates[0]
    if lead in GENERIC_CRATES:
        lead = next((c for c in crates if c not in GENERIC_CRATES and c in CRATE_TO_COMPONENT), lead)
    return CRATE_TO_COMPONENT.get(lead, "std, core, alloc, other crates")


def self_costs(path):
    out = subprocess.run(["callgrind_annotate", "--inclusive=no", "--threshold=100", path],
                         capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        m = re.match(r"^\s*([\d,]+) \([\s\d.]+%\)\s+(?:\S*?):(.*?)(?: \[.*\])?$", line)
        if m and "PROGRAM TOTALS" not in line:
            yield int(m.group(1).replace(",", "")), m.group(2).strip()


def main():
    path, transactions, user_us, system_us = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
    totals = {}
    for cost, function in self_costs(path):
        name = component(function)
        totals[name] = totals.get(name, 0) + cost
    instructions = sum(totals.values())
    cpu = user_us + system_us
    print(f"CPU per transaction: {cpu:.1f} µs, of which kernel (system time) {system_us:.1f} µs "
          f"({100 * system_us / cpu:.0f}%) and user {user_us:.1f} µs; "
          f"user instructions per transaction: {instructions / transactions:,.0f}\n")
    print("| component | instructions/tx | share of user time | share of all CPU |")
    print("|---|---|---|---|")
    print(f"| kernel (system calls, TCP loopback) | - | - | {100 * system_us / cpu:.0f}% |")
    for name, cost in sorted(totals.items(), key=lambda kv: -kv[1]):
        share = cost / instructions
        print(f"| {name} | {cost / transactions:,.0f} | {100 * share:.1f}% | {100 * share * user_us / cpu:.1f}% |")


if __name__ == "__main__":
    main()
