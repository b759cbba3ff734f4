import Foundation
import Testing

/// Descriptors, attacked: those the closing thread of detached mqueue mounts has yet to close are
/// descriptors a listing cannot use, and a clean that runs out of them must not call what it could
/// not read gone. Nothing is raced: swipc waits at its prompt (under `script`) while the test
/// freezes a thread (a cgroup v1 freezer group holds a thread, not its process) or lowers its limit.
@Suite(
  "Attack 22: descriptors of the closing thread and of clean's second pass",
  .enabled(
    if: Harness.canUnshareAll && FileManager.default.isWritableFile(atPath: "/sys/fs/cgroup/freezer"),
    "needs unshare and a writable cgroup v1 freezer hierarchy"))
struct Attack22Tests {
  /// `atPrompt COUNT COMMAND`: runs COMMAND (a clean) on a terminal (script) and returns once it
  /// asks about COUNT objects: its pid in $sw, script's in $sp. `answer` says yes.
  static let prompt = """
    atPrompt() {
      in=$TD/in; mkfifo $in; out=$TD/out
      script -qfec "$2" /dev/null < $in > $out 2>&1 &
      sp=$!
      exec 5<>$in
      for i in $(seq 1200); do grep -q 'Remove th' $out && break; sleep 0.05; done
      grep -q "Remove these $1 objects" $out || { echo "no prompt"; cat $out; }
      sw=$(pgrep -f "^$S clean" | head -1)
    }
    answer() { echo y >&5; exec 5>&-; }

    """

  /// With `ulimit -n 120`, a `clean -A` of 80 namespaces' queues fits when each mount descriptor
  /// is closed at once (it needs fewer than 90). Handed to a closing thread that falls behind (a
  /// grace period per close, on a busy machine), up to 64 of them waited at once: the pass after
  /// the answer could not open the mqueue filesystems of later namespaces, and reported the
  /// confirmed queues as "no longer exists", with exit status 0, while they were all still there.
  @Test("clean -A removes every confirmed queue at a low ulimit -n while the closing thread is stalled")
  func stalledClosingThreadLowLimit() throws {
    let r = Harness.inNamespace(Self.prompt + """
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
      atPrompt 80 "ulimit -n 120; exec $S clean -A pmsg --all"
      for t in $(ls /proc/$sw/task); do [ $t = $sw ] || echo $t > $fz/tasks; done
      echo FROZEN > $fz/freezer.state
      for i in $(seq 200); do [ "$(cat $fz/freezer.state)" = FROZEN ] && break; sleep 0.05; done
      answer
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

  /// The pass after the answer decides again; when it cannot read a kind (here: out of
  /// descriptors, the limit lowered at the prompt so that not one more can be opened, which the
  /// queues' filesystem needs and System V queues do not), its confirmed objects of that kind were
  /// reported "no longer exists", its warning dropped as said before the question, and the
  /// command exited 0 with every queue still there.
  @Test("a kind the pass after the confirmation cannot read fails its confirmed objects, never calls them gone")
  func unreadKindAfterConfirmation() throws {
    let r = Harness.inNamespace(Self.prompt + """
      mount -t tmpfs -o size=16m tmpfs /mnt; TD=/mnt/tmp; mkdir -m 1777 $TD
      for m in $(awk '$3 == "mqueue" {print $2}' /proc/self/mounts); do umount "$m"; done
      mkdir $TD/mq; mount -t mqueue none $TD/mq
      for i in 1 2 3; do $S msg create /q$i --max-messages 1 --message-size 8 >/dev/null; $S msg create >/dev/null; done
      umount $TD/mq
      atPrompt 6 "exec $S clean msg pmsg --all"
      # The lowest free descriptor number: the limit, so that none can be opened any more.
      n=0; while [ -e /proc/$sw/fd/$n ]; do n=$((n+1)); done
      prlimit --pid $sw --nofile=$n:$n
      answer
      st=0; wait $sp || st=$?
      tr -d '\r' < $out | sed -n '/^Remove these/,$p' | grep pmsg; echo "status $st"; echo =====
      mount -t mqueue none $TD/mq; ls $TD/mq
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    try #require(p.count == 2, "\(r.stdout)")
    let rows = p[0].split(separator: "\n").filter { $0.contains("/q") }
    #expect(p[1] == "q1\nq2\nq3\n", "the queues are still there: \(p[1])")
    #expect(rows.count == 3 && rows.allSatisfy { $0.split(separator: " ").prefix(2) == ["failed", "pmsg"] && $0.hasSuffix("too many open files") }, "\(p[0])")
    #expect(!p[0].contains("no longer exists"), "\(p[0])")
    #expect(p[0].hasSuffix("status 1\n"), "\(p[0])")
  }
}
