#!/usr/bin/env bash
# make bench, namespaces: `swipc ls -A --format json` over 40 IPC namespaces of 100 objects each
# against the loop operators run today (nsenter into each namespace, lsipc --json there), and, with
# only the caller's namespace, `ls -A` against plain `ls`. Medians of alternating runs (timecmp).
# The C reference (nsref.c) does the same job as directly as single-threaded C can: what the
# kernel work alone costs, and so how far below the loop any listing can go; its output is
# checked against swipc's first, so that its ratio compares like with like. `nsref -j 2` splits
# the same work over two processes: what two cores can give, measured.
# Needs root: everything runs in private PID, IPC and mount namespaces whose processes, objects and
# mounts all end with them; the host's namespaces are never listed.
set -euo pipefail
cd "$(dirname "$0")/.."
SWIPC=$(realpath "${1:-./swipc}")
RUNS=${RUNS:-21}
NAMESPACES=${NAMESPACES:-40}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -O2 -o "$work/timecmp" Benchmarks/timecmp.c
cc -O2 -o "$work/ipchelper" Tests/Helpers/ipchelper.c
cc -O2 -o "$work/nsref" Benchmarks/nsref.c
export SWIPC RUNS NAMESPACES T="$work/timecmp" H="$work/ipchelper" R="$work/nsref" W="$work"

if ! unshare --ipc --mount --pid --fork --mount-proc true 2>/dev/null; then
  echo "the namespace benchmark needs private PID, IPC and mount namespaces (run as root): skipped" >&2
  exit 0
fi

unshare --ipc --mount --pid --fork --mount-proc --propagation private bash -c '
  set -euo pipefail
  mount -t tmpfs -o size=64m none /dev/shm
  printf "%-52s %12s %12s %8s\n" "comparison (A vs B)" "A" "B" "A/B"
  $T $RUNS "host only: swipc ls -A  vs  swipc ls" -- $SWIPC ls -A -- $SWIPC ls
  $T $RUNS "host only: swipc ls -A --format json  vs  ls --format json" -- $SWIPC ls -A --format json -- $SWIPC ls --format json
  # A host has hundreds of processes: ls -A looks at each one (its ns/ipc, ns/mnt and root), as
  # lsns does, and that, not the listing, is what it costs over ls.
  sleepers=""
  for n in $(seq 300); do sleep 100000 & sleepers="$sleepers $!"; done
  $T $RUNS "host only, 300 processes: swipc ls -A  vs  swipc ls" -- $SWIPC ls -A -- $SWIPC ls
  $T $RUNS "host only, 300 processes: swipc ls -A  vs  lsns -t ipc" -- $SWIPC ls -A -- lsns -t ipc
  { kill $sleepers; wait $sleepers; } 2>/dev/null || true
  pids=""
  for n in $(seq $NAMESPACES); do
    mkfifo $W/ready
    # 33 of each System V kind and a POSIX queue: 100 objects, in a namespace kept by a sleeper.
    unshare --ipc --mount --propagation private --fork bash -c "mount -t tmpfs -o size=1m none /dev/shm
      $H fill 33; $SWIPC msg create /q --max-messages 1 --message-size 64 >/dev/null; echo > \$1; exec sleep 100000" x $W/ready &
    pids="$pids $!"
    read -r _ < $W/ready; rm $W/ready
  done
  objects=$($SWIPC ls -A --format json | grep -c "\"namespace\":\"ipc:")
  echo "($NAMESPACES namespaces, $objects objects listed by swipc ls -A)"
  $SWIPC ls -A --format json > $W/swipc.json
  $R > $W/nsref.json
  python3 Benchmarks/nsrefcheck.py $W/swipc.json $W/nsref.json || true
  $R -j 2 > $W/nsref2.json
  python3 Benchmarks/nsrefcheck.py $W/nsref.json $W/nsref2.json "C reference -j 2 output agrees with its single process one" || true
  $T $RUNS "$NAMESPACES ns x 100: swipc ls -A --format json  vs  nsenter+lsipc loop" \
    -- $SWIPC ls -A --format json \
    -- sh -c "for p in $pids; do nsenter -t \$p -i lsipc --json; done"
  $T $RUNS "$NAMESPACES ns x 100: swipc ls -A --format json  vs  C reference" \
    -- $SWIPC ls -A --format json \
    -- $R
  $T $RUNS "$NAMESPACES ns x 100: C reference  vs  nsenter+lsipc loop" \
    -- $R \
    -- sh -c "for p in $pids; do nsenter -t \$p -i lsipc --json; done"
  $T $RUNS "$NAMESPACES ns x 100: C reference -j 2  vs  C reference" -- $R -j 2 -- $R
  $T $RUNS "$NAMESPACES ns x 100: C reference -j 2  vs  nsenter+lsipc loop" \
    -- $R -j 2 \
    -- sh -c "for p in $pids; do nsenter -t \$p -i lsipc --json; done"
  $T $RUNS "$NAMESPACES ns x 100: swipc ls -A --format json  vs  nsenter+lsipc -q -m -s" \
    -- $SWIPC ls -A --format json \
    -- sh -c "for p in $pids; do nsenter -t \$p -i lsipc -q --json; nsenter -t \$p -i lsipc -m --json; nsenter -t \$p -i lsipc -s --json; done"
  $T $RUNS "$NAMESPACES ns x 100: swipc ls -A msg shm sem --format json  vs  loop" \
    -- $SWIPC ls -A msg shm sem --format json \
    -- sh -c "for p in $pids; do nsenter -t \$p -i lsipc --json; done"
  for p in $pids; do kill -KILL $p; done
'
