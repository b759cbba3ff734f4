#!/usr/bin/env bash
# make bench: swipc against util-linux, side by side, alternating runs, medians and ratios.
# Needs root (private IPC and mount namespaces): the objects it makes never touch the host's.
set -euo pipefail
cd "$(dirname "$0")/.."
SWIPC=$(realpath "${1:-./swipc}")
RUNS=${RUNS:-41}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -O2 -o "$work/timecmp" Benchmarks/timecmp.c
cc -O2 -o "$work/ipchelper" Tests/Helpers/ipchelper.c
cc -O2 -o "$work/msgref" Benchmarks/msgref.c
cc -O2 -o "$work/benchref" Benchmarks/benchref.c
export SWIPC RUNS T="$work/timecmp" H="$work/ipchelper" M="$work/msgref" W="$work"

# Every block runs in IPC and mount namespaces of its own, with its own tmpfs on /dev/shm and its
# own mqueue filesystem: nothing it lists, creates or removes (clean --all included) is the host's.
private() {
  unshare --ipc --mount bash -c 'mkdir -p /dev/mqueue; mount -t mqueue none /dev/mqueue
    mount -t tmpfs -o size=512M none /dev/shm
    '"$1"
}

if ! unshare --ipc --mount true 2>/dev/null; then
  echo "make bench needs private IPC and mount namespaces (run as root): skipped" >&2
  exit 0
fi

echo "swipc $($SWIPC --version) on $(nproc) CPUs, $RUNS alternating runs per row, median wall time"
printf '%-44s %12s %12s %8s\n' "comparison (A vs B)" "A" "B" "A/B"

# Listing with no objects: start-up dominates.
private '
  $T $RUNS "empty: swipc ls  vs  lsipc" -- $SWIPC ls -- lsipc
  $T $RUNS "empty: swipc ls msg shm sem  vs  ipcs -a" -- $SWIPC ls msg shm sem -- ipcs -a
'

# Listing 6,000 objects: 2,000 of each System V kind.
private '
  $H fill 2000
  $T $RUNS "6000: swipc ls msg shm sem  vs  ipcs -a" -- $SWIPC ls msg shm sem -- ipcs -a
  $T $RUNS "6000: swipc ls shm  vs  lsipc -m" -- $SWIPC ls shm -- lsipc -m
  $T $RUNS "6000: swipc ls msg --format json  vs  lsipc -q --json" -- $SWIPC ls msg --format json -- lsipc -q --json
  $T $RUNS "6000: swipc ls sem  vs  lsipc -s" -- $SWIPC ls sem -- lsipc -s
  $T $RUNS "6000: swipc limits  vs  lsipc -g" -- $SWIPC limits -- lsipc -g
'
# Removing 6,000 objects: one swipc clean (which reads, checks and removes each object and
# writes its report) against ipcrm -a, which also lists and removes, and against one ipcrm with
# every id (ids pinned to 0..1999 per kind by the helper, so its command line is the same for
# every run).
private '
  args=""; for i in $(seq 0 1999); do args="$args -q $i -m $i -s $i"; done
  $T $(( RUNS / 4 + 3 )) "6000: swipc clean --all --yes  vs  ipcrm -a" \
    "ipcrm -a 2>/dev/null; $H fill-fixed 2000" -- $SWIPC clean --all --yes -- ipcrm -a
  $T $(( RUNS / 4 + 3 )) "6000: swipc clean --all --yes  vs  ipcrm (all ids)" \
    "ipcrm -a 2>/dev/null; $H fill-fixed 2000" -- $SWIPC clean --all --yes -- ipcrm $args
'

# Creating 1,000 segments from a shell loop: start-up cost per call.
private '
  $T 5 "1000x: swipc shm create  vs  ipcmk -M (shell loop)" "ipcrm -a 2>/dev/null" \
    -- sh -c "for i in \$(seq 1000); do $SWIPC shm create --size 4K >/dev/null; done" \
    -- sh -c "for i in \$(seq 1000); do ipcmk -M 4K >/dev/null; done"
'
# Streaming 1,000,000 lines of 64 bytes into a System V queue drained by a C receiver: swipc msg
# send --lines against the C reference sender (Benchmarks/msgref.c), same receiver, same queue.
private '
  awk "BEGIN { for (i = 0; i < 1000000; i++) printf \"%063d\\n\", i }" > $W/lines
  q=$($SWIPC msg create --max-bytes 16K)
  $T 5 "1M x 64B: swipc msg send --lines  vs  C msgsnd loop" \
    -- sh -c "$M drain $q 1000000 & $SWIPC msg send $q --lines < $W/lines; wait" \
    -- sh -c "$M drain $q 1000000 & $M send $q < $W/lines; wait"
'
# Dumping a 64 MiB System V segment and a 64 MiB POSIX object to a pipe, against cat of a 64 MiB
# file in /dev/shm (a private tmpfs here) to the same kind of pipe.
private '
  head -c 64M /dev/urandom > /dev/shm/file64
  id=$($SWIPC shm create --size 64M); $SWIPC shm write $id --file /dev/shm/file64
  $SWIPC shm create /seg64 --size 64M >/dev/null; $SWIPC shm write /seg64 --file /dev/shm/file64
  $SWIPC shm dump $id --format raw | cmp -s - /dev/shm/file64 || { echo "shm dump differs" >&2; exit 1; }
  $T $RUNS "64M: swipc shm dump (System V) | cat  vs  cat file | cat" \
    -- sh -c "$SWIPC shm dump $id --format raw | cat >/dev/null" -- sh -c "cat /dev/shm/file64 | cat >/dev/null"
  $T $RUNS "64M: swipc shm dump /seg64 | cat  vs  cat file | cat" \
    -- sh -c "$SWIPC shm dump /seg64 --format raw | cat >/dev/null" -- sh -c "cat /dev/shm/file64 | cat >/dev/null"
'
# swipc bench against the C reference, every mechanism and size, alternating rounds.
echo
echo "swipc bench vs C reference (Benchmarks/benchref.c), $(nproc) CPUs, pinned cross, medians of ${BENCH_ROUNDS:-5} alternating rounds"
private 'python3 Benchmarks/benchcmp.py "$SWIPC" "$W/benchref" "${BENCH_ROUNDS:-5}" "${BENCH_MESSAGES:-auto}" "${BENCH_MECHANISMS:-}" "${BENCH_SIZES:-}"'
# ls -A across 40 namespaces, against the nsenter+lsipc loop and its own C reference.
echo
RUNS=${NAMESPACE_RUNS:-21} bash Benchmarks/namespaces.sh "$SWIPC"
echo
echo "Targets (issue 2): 6000 ls/ipcs <= 0.30; per kind <= 1.00; empty ls/lsipc <= 1.50"
echo "Targets: clean/ipcrm -a <= 1.00, clean/ipcrm (all ids) <= 1.25; create loop swipc/ipcmk <= 1.50"
echo "Targets (issue 4): msg send --lines time / C time <= 1.25 (rate >= 0.8x C)"
echo "Targets (issue 5): shm dump time / cat time <= 1.11 (speed >= 0.9x cat)"
echo "Targets (issue 7): p50 swipc/C <= 1.05; 64B msg/s swipc/C >= 0.90; 4K and 64K >= 0.95; shm-spin p50 <= 1.5"
echo "Targets (issue 19): every cell p50 <= 1.05, msg/s >= 0.95; 64B shm/pshm x8 msg/s >= 0.90; bulk shared/kernel copy >= 2.0"
echo "Targets (issue 18): 40 ns x 100, ls -A --format json / nsenter+lsipc loop <= 0.10; host only, ls -A / ls <= 1.20"
