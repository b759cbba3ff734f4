#!/usr/bin/env python3
"""make bench, issue 7: swipc bench against the C reference (Benchmarks/benchref.c), cell by cell.

Runs swipc and C alternately (A B A B ...) for ROUNDS rounds per cell and prints the medians and
the ratios swipc/C: round-trip p50 (lower is better) and messages/s (higher is better).
Usage: benchcmp.py SWIPC BENCHREF [ROUNDS] [MESSAGES] [MECHANISM,...]"""
import csv
import statistics
import subprocess
import sys

swipc, ref = sys.argv[1], sys.argv[2]
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
messages = sys.argv[4] if len(sys.argv) > 4 else "20000"
mechanisms = ["pipe", "fifo", "msg", "pmsg", "shm", "pshm", "shm-spin", "unix-stream", "unix-dgram", "tcp"]
if len(sys.argv) > 5:
    mechanisms = sys.argv[5].split(",")
sizes = [64, 4096, 65536]


def cell(command):
    out = next(csv.reader([subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()]))
    if out[2] == "":
        return None, out[6]
    return (float(out[2]), float(out[5])), None


print(f"{'cell':24} {'p50 swipc':>10} {'p50 C':>8} {'ratio':>6}   {'msg/s swipc':>12} {'msg/s C':>10} {'ratio':>6}")
for size in sizes:
    for m in mechanisms:
        a, b = [], []
        note = None
        for _ in range(rounds):
            r, note = cell([swipc, "bench", m, "--sizes", str(size), "--messages", messages, "--format", "csv", "--no-headings"])
            if r is None:
                break
            a.append(r)
            r2, _ = cell([ref, m, str(size), messages])
            b.append(r2)
        name = f"{m} {size}B"
        if note:
            print(f"{name:24} {note}")
            continue
        pa, pb = statistics.median(x[0] for x in a), statistics.median(x[0] for x in b)
        ma, mb = statistics.median(x[1] for x in a), statistics.median(x[1] for x in b)
        print(f"{name:24} {pa:10.2f} {pb:8.2f} {pa / pb:6.2f}   {ma:12.0f} {mb:10.0f} {ma / mb:6.2f}", flush=True)
