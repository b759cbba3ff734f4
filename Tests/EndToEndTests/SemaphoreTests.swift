import Foundation
import Testing

/// sem init, get, wait, post and run against a C client, in private namespaces.
@Suite("Semaphores: init, get, wait, post, run", .enabled(if: Harness.canUnshareAll, "needs unshare --ipc --mount --pid (root)"))
struct SemaphoreTests {
  static let setup = """
    mount -t tmpfs none /dev/shm
    d=$(mktemp -d); trap 'rm -rf $d' EXIT
    # Waits until semaphore $2 of set $1 has $3 processes waiting to take it (GETNCNT).
    waiters() { for i in $(seq 200); do [ "$($S sem get $1 --index $2 --format json | grep -o '"ncount":[0-9]*')" = "\\"ncount\\":$3" ] && return 0; sleep 0.02; done; return 1; }

    """

  @Test("values set by swipc are seen by C and the other way round (System V and POSIX)")
  func valuesInterop() throws {
    let r = Harness.inNamespace(Self.setup + """
      s=$($S sem create --count 3)
      $S sem init $s 7 --index 1; $H sem-get $s 1; echo =====
      $S sem init $s --values 1,0,32767; for i in 0 1 2; do $H sem-get $s $i; done; echo =====
      $H sem-set $s 2 42; $S sem get $s; echo =====
      $S sem get $s --index 2 --format json; echo =====
      $H psem-create /p 3; $S sem get /p; $S sem init /p 9; $H psem-get /p; $H psem-post /p >/dev/null; $S sem get /p --format json; echo =====
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    #expect(p[0] == "7\n")
    #expect(p[1] == "1\n0\n32767\n")
    #expect(p[2] == "1\n0\n42\n")
    let json = try #require(Harness.json(p[3]) as? [String: Any])
    #expect(json["type"] as? String == "sem")
    let first = try #require((json["semaphores"] as? [[String: Any]])?.first)
    #expect(first["semnum"] as? Int == 2 && first["value"] as? Int == 42 && first["ncount"] as? Int == 0)
    #expect(first["pid"] as? Int != nil)
    #expect(p[4] == "3\n9\n{\"type\":\"psem\",\"name\":\"/p\",\"semaphores\":[{\"semnum\":0,\"value\":10}]}\n")
  }

  @Test("a C process blocked in semop (and in sem_wait) is woken by swipc sem post; swipc sem wait is woken by C")
  func wakeups() throws {
    let r = Harness.inNamespace(Self.setup + """
      s=$($S sem create --count 2)
      $H sem-op $s 1 -2 > $d/c1 & c=$!
      waiters $s 1 1
      $S sem post $s --index 1; sleep 0.1; cat $d/c1; echo "after one post: $($H sem-get $s 1)"
      $S sem post $s --index 1; wait $c; cat $d/c1; $H sem-get $s 1; echo =====
      $S sem wait $s --by 3 & w=$!
      waiters $s 0 1
      $H sem-op $s 0 3 >/dev/null; wait $w; echo "swipc woke: $?"; $H sem-get $s 0; echo =====
      $H psem-create /p 0; $H psem-wait /p > $d/c2 & c=$!
      sleep 0.2; $S sem post /p; wait $c; cat $d/c2; $S sem get /p; echo =====
      $S sem wait $s --index 1 --zero & w=$!; sleep 0.2; $H sem-set $s 1 0; wait $w; echo "zero $?"; echo =====
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    #expect(p[0] == "after one post: 1\ndone\n0\n")
    #expect(p[1] == "swipc woke: 0\n0\n")
    #expect(p[2] == "done\n0\n")
    #expect(p[3] == "zero 0\n")
  }

  @Test("would block, timeout, removal while waiting, interrupt and range errors: exit status and one clear line")
  func errors() throws {
    let r = Harness.inNamespace(Self.setup + """
      set +e
      s=$($S sem create --count 2)
      $S sem wait $s --nowait; echo "nowait $?"
      start=$(date +%s%N); $S sem wait $s --timeout 300ms; echo "timeout $?"; end=$(date +%s%N)
      [ $(( (end - start) / 1000000 )) -ge 280 ] && echo waited
      $S sem init $s 40000; echo "init-range $?"
      $S sem init $s 32767 --index 1; $S sem post $s --index 1; echo "post-range $?"; $H sem-get $s 1
      $S sem post $s --by 40000; echo "by-range $?"
      $S sem wait $s --index 2; echo "index $?"
      $S sem init $s --values 1,2,3; echo "values-count $?"
      $S sem wait $s --index 1 --zero --nowait; echo "zero-nowait $?"
      $S sem wait $s & w=$!; waiters $s 0 1; kill -TERM $w; wait $w; echo "interrupted $?"
      waiters $s 0 0 && echo "no waiter left"; $H sem-get $s 0
      $S sem wait $s & w=$!; waiters $s 0 1; $H rm sem $s; wait $w; echo "removed $?"
      $S sem get 999999; echo "missing $?"
      $S sem create /p >/dev/null; $S sem wait /p --by 3 --timeout 200ms & w=$!; sleep 0.05; $S sem post /p --by 2; wait $w; echo "posix-partial $?"; $S sem get /p
      $S sem wait /p --undo; echo "posix-undo $?"
      """)
    try #require(r.status == 0, "\(r.stderr)")
    #expect(r.stdout == """
      nowait 75
      timeout 75
      waited
      init-range 64
      post-range 1
      32767
      by-range 64
      index 64
      values-count 64
      zero-nowait 75
      interrupted 130
      no waiter left
      0
      removed 66
      missing 66
      posix-partial 75
      2
      posix-undo 64

      """)
    let lines = r.stderrLines
    #expect(lines.contains("swipc: value 40000 exceeds SEMVMX 32767, the largest value of a System V semaphore (see 'swipc sem init --help')"))
    #expect(lines.contains { $0.contains("value 32768 exceeds SEMVMX 32767 (the value is 32767); nothing was changed") })
    #expect(lines.contains { $0.contains("--index 2 is out of range for semaphore set 0: it has 2") })
    #expect(lines.contains { $0.contains("was removed while waiting") })
    #expect(lines.contains { $0.contains("interrupted; nothing was taken") })
    #expect(lines.contains { $0.contains("timed out: the value stayed below 1") })
    #expect(!r.stderr.contains("Fatal error") && !r.stderr.contains("backtrace"))
  }

  @Test("mutual exclusion: 8 processes x 200 sem run around read-increment-write count exactly 1,600")
  func mutualExclusion() throws {
    let r = Harness.inNamespace(Self.setup + """
      s=$($S sem create --value 1); echo 0 > $d/count; export d
      for w in 1 2 3 4 5 6 7 8; do
        ( for i in $(seq 200); do $S sem run $s -- sh -c 'n=$(cat $d/count); echo $((n + 1)) > $d/count'; done ) &
      done
      wait; cat $d/count; $S sem get $s
      """)
    try #require(r.status == 0, "\(r.stderr)")
    #expect(r.stdout == "1600\n1\n")
  }

  @Test("sem run: COMMAND's status; a holder killed with SIGKILL releases (System V); POSIX posts after COMMAND")
  func runHolder() throws {
    let r = Harness.inNamespace(Self.setup + """
      set +e
      s=$($S sem create --value 1)
      $S sem run $s -- sh -c 'exit 5'; echo "status $?"; $S sem get $s
      $S sem run $s -- /nonexistent/command; echo "missing $?"; $S sem get $s
      $S sem run $s -- sleep 60 & h=$!
      for i in $(seq 100); do [ "$($S sem get $s)" = 0 ] && break; sleep 0.05; done; echo "held: $($S sem get $s)"
      $S sem run $s --nowait -- true; echo "busy $?"
      kill -KILL $h; wait $h; echo "killed $?"; $S sem get $s
      $S sem run $s --timeout 2s -- true; echo "after kill $?"; echo =====
      $S sem create /p --value 1 >/dev/null
      $S sem run /p -- sh -c 'exit 6'; echo "status $?"; $S sem get /p
      $S sem run /p -- sleep 60 & h=$!; sleep 0.3; echo "held: $($S sem get /p)"
      kill -TERM $h; wait $h; echo "terminated $?"; $S sem get /p
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    #expect(p[0] == "status 5\n1\nmissing 127\n1\nheld: 0\nbusy 75\nkilled 137\n1\nafter kill 0\n")
    #expect(p[1] == "status 6\n1\nheld: 0\nterminated 143\n1\n")
  }

  @Test("a user without alter permission gets exit 77 and the value is unchanged")
  func permissions() throws {
    let r = Harness.inNamespace(Self.setup + """
      set +e
      s=$($S sem create --value 1 --mode 0644)
      setpriv --reuid=65534 --regid=65534 --clear-groups $S sem get $s; echo "get $?"
      setpriv --reuid=65534 --regid=65534 --clear-groups $S sem post $s; echo "post $?"
      setpriv --reuid=65534 --regid=65534 --clear-groups $S sem run $s -- true; echo "run $?"
      $S sem get $s
      """)
    try #require(r.status == 0, "\(r.stderr)")
    #expect(r.stdout == "1\nget 0\npost 77\nrun 77\n1\n")
  }
}
