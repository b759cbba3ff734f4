import Foundation
import Testing

/// The closing thread of detached mqueue mounts, attacked: descriptors it has yet to close are
/// descriptors the listing cannot use. The thread is held still, not raced: swipc waits at its
/// `clean -A` prompt (under `script`) while every thread but its main one is put in a frozen
/// cgroup v1 freezer group, which holds one thread and not its process.
@Suite(
  "Attack 22: closing thread",
  .enabled(
    if: Harness.canUnshareAll && FileManager.default.isWritableFile(atPath: "/sys/fs/cgroup/freezer"),
    "needs unshare and a writable cgroup v1 freezer hierarchy"))
struct Attack22Tests {
  /// With `ulimit -n 120`, a `clean -A` of 80 namespaces' queues fits when each mount descriptor
  /// is closed at once (it needs fewer than 90). Handed to a closing thread that falls behind (a
  /// grace period per close, on a busy machine), up to 64 of them waited at once: the pass after
  /// the answer could not open the mqueue filesystems of later namespaces, and reported the
  /// confirmed queues as "no longer exists", with exit status 0, while they were all still there.
  @Test("clean -A removes every confirmed queue at a low ulimit -n while the closing thread is stalled")
  func stalledClosingThreadLowLimit() throws {
    let r = Harness.inNamespace("""
      mount -t tmpfs -o size=16m tmpfs /mnt; TD=/mnt/tmp; mkdir -m 1777 $TD
      mount -t tmpfs -o size=16m tmpfs /dev/shm
      fz=/sys/fs/cgroup/freezer/swipc-test-$(cat /proc/sys/kernel/random/uuid)
      pids=()
      cleanup() {
        [ -d $fz ] && echo THAWED > $fz/freezer.state 2>/dev/null
        for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
        for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
        for i in $(seq 100); do rmdir $fz 2>/dev/null || true; [ -d $fz ] || break; sleep 0.1; done
      }
      trap cleanup EXIT
      mkdir $fz
      for i in $(seq 80); do
        f=$TD/r$i; mkfifo $f
        unshare --ipc --mount --propagation private --fork sh -c 'mkdir -p /dev/mqueue; mount -t mqueue none /dev/mqueue
          '$S' msg create /q --max-messages 1 --message-size 8 >/dev/null; umount /dev/mqueue; echo ok > $1; exec sleep 1000' x $f >/dev/null &
        pids+=($!)
        read -r -t 60 _ < $f; rm $f
      done
      in=$TD/in; mkfifo $in; out=$TD/out
      script -qfec "ulimit -n 120; exec $S clean -A pmsg --all" /dev/null < $in > $out 2>&1 &
      sp=$!
      exec 5<>$in
      for i in $(seq 1200); do grep -q 'Remove th' $out && break; sleep 0.05; done
      grep -q 'Remove these 80 objects' $out || { echo "no prompt"; cat $out; }
      sw=$(pgrep -f "^$S clean -A pmsg" | head -1)
      for t in $(ls /proc/$sw/task); do [ $t = $sw ] || echo $t > $fz/tasks; done
      echo FROZEN > $fz/freezer.state
      for i in $(seq 200); do [ "$(cat $fz/freezer.state)" = FROZEN ] && break; sleep 0.05; done
      echo y >&5; exec 5>&-
      # A frozen thread keeps its process from exiting: thawed once the main thread is done.
      for i in $(seq 1200); do
        { [ -d /proc/$sw ] && [ "$(awk '{print $3}' /proc/$sw/task/$sw/stat 2>/dev/null)" != Z ]; } || break; sleep 0.05
      done
      echo THAWED > $fz/freezer.state
      st=0; wait $sp || st=$?
      tr -d '\\r' < $out | grep -v '^would remove' | grep -v '^RESULT'; echo "status $st"; echo =====
      for p in "${pids[@]}"; do nsenter -t $(pgrep -P $p) -i $S ls pmsg --no-headings -o NAME; done | wc -l
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    try #require(p.count == 2, "\(r.stdout)")
    let removed = p[0].split(separator: "\n").filter { $0.hasPrefix("removed pmsg") }
    #expect(removed.count == 80, "\(p[0])")
    #expect(!p[0].contains("no longer exists") && !p[0].contains("too many open files"), "\(p[0])")
    #expect(p[0].hasSuffix("status 0\n"), "\(p[0])")
    #expect(p[1] == "0\n", "queues left: \(p[1])")
  }
}
