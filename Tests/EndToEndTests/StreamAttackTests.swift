import Foundation
import Testing

/// `ls -A` as JSON or CSV, whose records are written while the visiting thread reads the next
/// namespace, attacked: its holder counts must be the table's. Each test runs in private IPC,
/// mount and PID namespaces with their own /proc, /dev/shm and mqueue; every process a test starts
/// dies with its PID namespace. Readiness is signalled through FIFOs, never by sleeping.
@Suite("ls -A streamed, attacked", .enabled(if: Harness.canUnshareAll, "needs unshare"))
struct StreamAttackTests {
  static let setup = NamespaceAttackTests.setup + """
    mkdir -p /dev/mqueue; mount -t mqueue none /dev/mqueue
    # Another IPC namespace with a queue, so that the visiting thread enters it and opens its queue.
    f=$(ready)
    unshare --ipc --mount --propagation private sh -c 'mount -t mqueue none /dev/mqueue; '"$S"' msg create /other >/dev/null; echo ok > "$1"; exec sleep 1000' x $f &
    read -r -t 60 _ < $f
    $S shm create /held --size 4K >/dev/null; $S msg create /heldq >/dev/null
    # One line per object, the columns $COLS, sorted, from the table, CSV and JSON.
    COLS=TYPE,NAME,HOLDERS
    table() { "$@" -o $COLS --no-headings | grep -v '^---' | tr -s ' ' | sed '/^$/d' | sort; }
    csv() { "$@" -o $COLS --no-headings --format csv | tr ',' ' ' | sort; }
    json() {
      "$@" -o $COLS --format json \\
        | python3 -c 'import json,sys; c=sys.argv[1].lower().split(","); [print(*(r[k] for k in c)) for r in json.load(sys.stdin)]' $COLS | sort
    }

    """

  /// The holder scan leaves out what swipc's visiting thread opens. A process started with a
  /// descriptor of a queue or a shared memory object (a job's wrapper that `exec`s swipc) holds it
  /// whatever swipc then opens: the table, plain `ls` and every release before the streamed output
  /// count it; the streamed JSON and CSV said no process held the object.
  @Test("a descriptor swipc inherited counts as a holder in the streamed JSON and CSV, as in the table")
  func inheritedDescriptorIsAHolder() throws {
    let r = Harness.inNamespace(Self.setup + """
      for f in table csv json; do
        $f bash -c 'exec 3</dev/shm/held 4</dev/mqueue/heldq; exec "$@"' x $S ls -A pshm pmsg; echo =====
      done
      for f in table csv json; do $f $S ls -A pshm pmsg; echo =====; done
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    try #require(p.count == 7, "\(r.stdout)")
    #expect(p[0] == "pmsg /heldq 1\npmsg /other 0\npshm /held 1\n", "table: \(p[0])")
    #expect(p[1] == p[0], "CSV: \(p[1]) table: \(p[0])")
    #expect(p[2] == p[0], "JSON: \(p[2]) table: \(p[0])")
    // Without the descriptors, no process holds them: swipc's own opening of each is never counted.
    #expect(p[3] == "pmsg /heldq 0\npmsg /other 0\npshm /held 0\n", "table: \(p[3])")
    #expect(p[4] == p[3], "CSV: \(p[4])")
    #expect(p[5] == p[3], "JSON: \(p[5])")
  }

  /// SWIPC_PROC_DIR names the /proc of a child PID namespace (a container's), which does not show
  /// swipc: its `self` link leads nowhere. The holder of an object there whose pid in that
  /// namespace is swipc's own pid number (set with ns_last_pid on both sides) was taken for swipc
  /// and left out of the streamed JSON and CSV, which then said no process held the object.
  @Test("with the /proc of a child PID namespace, the process there with swipc's pid number still counts as a holder")
  func holderWithSwipcsPidInAnotherProc() throws {
    let r = Harness.inNamespace(Self.setup + """
      f=$(ready)
      unshare --pid --fork --mount-proc bash -c '
        echo 499 > /proc/sys/kernel/ns_last_pid
        bash -c "exec 3</dev/shm/held 4</dev/mqueue/heldq; echo \\$\\$ > $1; exec sleep 1000" x "$1" &
        wait' x $f &
      child=$!
      read -r -t 60 H < $f
      init=$(cut -d' ' -f1 /proc/$child/task/$child/children)
      export SWIPC_PROC_DIR=/proc/$init/root/proc
      echo "holder $H"; echo =====
      for f in table csv json; do
        echo 499 > /proc/sys/kernel/ns_last_pid
        $f sh -c 'echo "swipc $$" >&2; exec "$@"' x $S ls -A pshm pmsg 2>>$TD/pids; echo =====
      done
      cat $TD/pids
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    try #require(p.count == 5, "\(r.stdout)")
    // The race made deterministic: the holder and each swipc have one pid number.
    try #require(p[0] == "holder 500\n" && p[4] == "swipc 500\nswipc 500\nswipc 500\n", "\(r.stdout)")
    // That /proc shows no other IPC namespace than this one.
    #expect(p[1] == "pmsg /heldq 1\npshm /held 1\n", "table: \(p[1])")
    #expect(p[2] == p[1], "CSV: \(p[2]) table: \(p[1])")
    #expect(p[3] == p[1], "JSON: \(p[3]) table: \(p[1])")
  }

  static let hasStrace = FileManager.default.isExecutableFile(atPath: "/usr/bin/strace")

  /// swipc runs out of descriptors (or memory) as it opens a holder's /proc/PID/fd or maps: with
  /// `ls -A` streamed, its visiting thread holds descriptors while the main thread scans, so a
  /// tight `ulimit -n` gets there. The failure was read as the process having exited: the object
  /// was shown with no holder, and `clean --orphaned` removed it while it was in use. Made
  /// deterministic by strace failing those opens with EMFILE, for the holder's paths only.
  @Test("a holder whose /proc entries swipc lacks the descriptors to read leaves holders unknown, and clean leaves its objects",
    .enabled(if: hasStrace, "needs strace"))
  func holderUnreadableForLackOfDescriptors() throws {
    let r = Harness.inNamespace(Self.setup + """
      f=$(ready)
      bash -c 'exec 3</dev/shm/held 4</dev/mqueue/heldq; echo $$ > $1; exec sleep 1000' x $f &
      read -r -t 60 H < $f
      short() { strace -f -qq -o /dev/null -P /proc/$H/fd -P /proc/$H/maps -e trace=openat,open -e inject=openat:error=EMFILE "$@"; }
      for f in table csv json; do $f short $S ls -A pshm pmsg; echo =====; done
      json short $S ls pshm pmsg; echo =====
      short $S clean pshm pmsg --orphaned --min-age 0s --ignore-hidden --yes > $TD/clean.out 2>&1 || echo "clean exit $?"
      ls /dev/shm /dev/mqueue | grep held || true; echo =====
      cat $TD/clean.out
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    try #require(p.count == 6, "\(r.stdout)")
    // What that process holds is unknown, so no count of holders is exact, the other namespace's too.
    #expect(p[0] == "pmsg /heldq -\npmsg /other -\npshm /held -\n", "table: \(p[0])")
    #expect(p[1] == "pmsg /heldq \npmsg /other \npshm /held \n", "CSV: \(p[1])")
    #expect(p[2] == "pmsg /heldq None\npmsg /other None\npshm /held None\n", "JSON: \(p[2])")
    #expect(p[3] == "pmsg /heldq None\npshm /held None\n", "ls: \(p[3])")
    #expect(p[4] == "heldq\nheld\n", "clean removed objects in use: \(p[4]) \(p[5])")
    #expect(p[5].contains("skipped pmsg") && p[5].contains("skipped pshm") && p[5].contains("out of descriptors"), "\(p[5])")
  }

  /// The visiting thread hands each namespace's parts to the main thread under a lock. Under
  /// ThreadSanitizer (`make check`), a lock handed over in the kernel orders nothing it can see:
  /// runs over several namespaces reported a race on the hand-over queue and exited 66. Runs with
  /// any build: each must exit 0 with nothing on stderr, and give the objects the table gives.
  @Test("ls -A as JSON and CSV over several namespaces, again and again: exit 0, nothing on stderr, the table's objects")
  func repeatedStreamsAreClean() throws {
    let r = Harness.inNamespace(Self.setup + """
      for i in 1 2 3 4; do
        f=$(ready)
        unshare --ipc --mount --propagation private bash -c 'mount -t tmpfs tmpfs /dev/shm; mount -t mqueue none /dev/mqueue
          for j in 1 2 3; do
            '"$S"' msg create /q$j --max-messages 2 --message-size 64 >/dev/null; '"$S"' shm create /m$j --size 4K >/dev/null
            '"$S"' sem create /s$j >/dev/null; '"$S"' msg create >/dev/null
          done
          exec 3</dev/mqueue/q1 4</dev/shm/m1; echo ok > "$1"; exec sleep 1000' x $f &
        read -r -t 60 _ < $f
      done
      # Holders are left out: under ThreadSanitizer, a run now and then finds some unknown (the
      # scan is then unresolved; why is still open).
      COLS=TYPE,NAMESPACE,NAME
      table $S ls -A pmsg pshm psem | tee $TD/table; echo =====
      for n in $(seq 20); do
        for f in json csv; do
          $f $S ls -A pmsg pshm psem > $TD/out 2> $TD/err || echo "exit $?"
          cat $TD/err; cmp -s $TD/out $TD/table || { echo "$f differs:"; cat $TD/out; }
        done
      done
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    try #require(p.count == 2, "\(r.stdout)")
    // Four namespaces of 3 queues, 3 shared memory objects and 3 semaphores each, besides the setup's.
    #expect(p[0].split(separator: "\n").count == 4 * 9 + 3, "\(p[0])")
    #expect(p[1] == "", "runs that failed, wrote to stderr or differed from the table: \(p[1])")
  }
}
