#!/usr/bin/env bash
# make bench: swipc against util-linux, side by side, alternating runs, medians and ratios.
# Needs root (private IPC namespaces): the objects it makes never touch the host's.
set -euo pipefail
cd "$(dirname "$0")/.."
SWIPC=$(realpath "${1:-./swipc}")
RUNS=${RUNS:-41}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -O2 -o "$work/timecmp" Benchmarks/timecmp.c
cc -O2 -o "$work/ipchelper" Tests/Helpers/ipchelper.c
export SWIPC RUNS T="$work/timecmp" H="$work/ipchelper"

if ! unshare --ipc true 2>/dev/null; then
  echo "make bench needs private IPC namespaces (run as root): skipped" >&2
  exit 0
fi

echo "swipc $($SWIPC --version) on $(nproc) CPUs, $RUNS alternating runs per row, median wall time"
printf '%-44s %12s %12s %8s\n' "comparison (A vs B)" "A" "B" "A/B"

# Listing with no objects: start-up dominates.
unshare --ipc bash -c '
  $T $RUNS "empty: swipc ls  vs  lsipc" -- $SWIPC ls -- lsipc
  $T $RUNS "empty: swipc ls msg shm sem  vs  ipcs -a" -- $SWIPC ls msg shm sem -- ipcs -a
'

# Listing 6,000 objects: 2,000 of each System V kind.
unshare --ipc bash -c '
  $H fill 2000
  $T $RUNS "6000: swipc ls msg shm sem  vs  ipcs -a" -- $SWIPC ls msg shm sem -- ipcs -a
  $T $RUNS "6000: swipc ls shm  vs  lsipc -m" -- $SWIPC ls shm -- lsipc -m
  $T $RUNS "6000: swipc ls msg --format json  vs  lsipc -q --json" -- $SWIPC ls msg --format json -- lsipc -q --json
  $T $RUNS "6000: swipc ls sem  vs  lsipc -s" -- $SWIPC ls sem -- lsipc -s
  $T $RUNS "6000: swipc limits  vs  lsipc -g" -- $SWIPC limits -- lsipc -g
'
echo "Targets (issue 2): 6000 ls/ipcs <= 0.30; per kind <= 1.00; empty ls/lsipc <= 1.50"
