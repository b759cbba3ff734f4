import Foundation
import Testing

/// SIGHUP and SIGQUIT end every command that holds something as SIGTERM does, leaving nothing
/// taken, attached or behind; POSIX semaphores change by N units all or nothing; extreme numbers
/// in /proc/sysvipc are shown, filtered and rendered without a crash.
@Suite("Signals, all-or-nothing semaphores and extreme numbers", .enabled(if: Harness.canUnshareAll, "needs unshare --ipc --mount --pid (root)"))
struct SignalAndArithmeticTests {
  /// `blocked PID CALL` waits until PID sleeps in that system call (read from /proc/PID/syscall,
  /// which names a call only while the process is inside it): by then swipc has set up its signal
  /// handling and holds what it holds. `set -m` gives background jobs their own process group, so
  /// that they do not start with SIGINT and SIGQUIT ignored, as a script's background jobs do.
  static let setup = """
    set -m
    mount -t tmpfs none /dev/shm
    d=$(mktemp -d); trap 'rm -rf $d' EXIT
    case $(uname -m) in
      aarch64) declare -A nr=([msgrcv]=188 [semtimedop]=192 [futex]=98 [openat]=56 [poll]=73 [sigsuspend]=133 [wait4]=260) ;;
      *) declare -A nr=([msgrcv]=70 [semtimedop]=220 [futex]=202 [openat]=257 [poll]=7 [sigsuspend]=130 [wait4]=61) ;;
    esac
    blocked() { local i; for i in $(seq 500); do [ "$(cut -d' ' -f1 /proc/$1/syscall 2>/dev/null)" = "${nr[$2]}" ] && return 0; sleep 0.02; done; echo "pid $1 never blocked in $2"; return 1; }
    # Waits until file $1 exists (a marker written by a COMMAND).
    marker() { local i; for i in $(seq 500); do [ -e "$1" ] && return 0; sleep 0.02; done; echo "no marker $1"; return 1; }
    # Waits (at most 10 s) for PID to end and returns its status; one still running is killed,
    # so that a signal that was not acted on fails the test rather than hanging it.
    ended() { local i; for i in $(seq 500); do kill -0 $1 2>/dev/null || break; sleep 0.02; done; if kill -0 $1 2>/dev/null; then echo -n "still running: "; kill -KILL $1; fi; wait $1; }
    # The 64-bit word of a POSIX semaphore: value in the low 32 bits, waiters in the high 32.
    semword() { od -An -tx8 -N8 /dev/shm/sem.${1#/} | tr -d ' '; }

    """

  @Test("sem run (POSIX): SIGHUP and SIGQUIT reach COMMAND, swipc waits for it, then posts; exit status is COMMAND's")
  func posixSemRun() throws {
    let r = Harness.inNamespace(Self.setup + """
      set +e
      $S sem create /p --value 1 >/dev/null
      for sig in HUP QUIT; do
        rm -f $d/ready $d/got
        $S sem run /p -- sh -c "trap 'echo $sig > $d/got; exit 3' $sig; touch $d/ready; while :; do sleep 0.02; done" & h=$!
        marker $d/ready; blocked $h wait4
        echo "held: $($S sem get /p)"
        kill -$sig $h; ended $h; echo "$sig status $?"; cat $d/got; echo "after: $($S sem get /p)"
      done
      """)
    try #require(r.status == 0, "\(r.stdout)\(r.stderr)")
    #expect(r.stdout == "held: 0\nHUP status 3\nHUP\nafter: 1\nheld: 0\nQUIT status 3\nQUIT\nafter: 1\n")
  }

  @Test("sem run (System V): COMMAND is swipc's process; SIGHUP reaches it and the kernel undoes the take")
  func systemVSemRun() throws {
    let r = Harness.inNamespace(Self.setup + """
      set +e
      s=$($S sem create --value 1)
      $S sem run $s -- sh -c "trap 'echo HUP > $d/got; exit 3' HUP; touch $d/ready; while :; do sleep 0.02; done" & h=$!
      marker $d/ready; echo "held: $($S sem get $s)"
      kill -HUP $h; ended $h; echo "status $?"; cat $d/got; echo "after: $($S sem get $s)"
      """)
    try #require(r.status == 0, "\(r.stdout)\(r.stderr)")
    #expect(r.stdout == "held: 0\nstatus 3\nHUP\nafter: 1\n")
  }

  @Test("shm attach: SIGHUP and SIGQUIT reach COMMAND while the segment stays attached; without COMMAND they detach and exit 0")
  func shmAttach() throws {
    let r = Harness.inNamespace(Self.setup + """
      set +e
      i=$($S shm create --size 4K)
      # COMMAND: on the signal, records the segment's attach count (swipc's attach), then exits 4.
      printf '%s\n' "trap '$S ls shm -o nattch --no-headings | tr -cd 0-9 > $d/got; exit 4' \\$1" "touch $d/ready" 'while :; do sleep 0.02; done' > $d/cmd.sh
      for sig in HUP QUIT; do
        rm -f $d/ready $d/got
        $S shm attach $i -- sh $d/cmd.sh $sig 2>/dev/null & h=$!
        marker $d/ready; blocked $h wait4
        kill -$sig $h; ended $h; echo "$sig status $?"; echo "nattch while COMMAND handled it: $(cat $d/got)"
        echo "after: $($S ls shm -o nattch --no-headings | tr -d ' ')"
        $S shm attach $i 2>/dev/null & h=$!; blocked $h sigsuspend
        echo "attached: $($S ls shm -o nattch --no-headings | tr -d ' ')"
        kill -$sig $h; ended $h; echo "$sig plain status $?"; echo "after: $($S ls shm -o nattch --no-headings | tr -d ' ')"
      done
      """)
    try #require(r.status == 0, "\(r.stdout)\(r.stderr)")
    let expected = ["HUP", "QUIT"].map { sig in
      "\(sig) status 4\nnattch while COMMAND handled it: 1\nafter: 0\nattached: 1\n\(sig) plain status 0\nafter: 0\n"
    }
    #expect(r.stdout == expected.joined())
  }

  @Test("sock listen: SIGHUP and SIGQUIT remove the socket file and exit 0")
  func sockListen() throws {
    let r = Harness.inNamespace(Self.setup + """
      set +e
      for sig in HUP QUIT; do
        $S sock listen $d/s.sock 2>/dev/null & h=$!; blocked $h poll
        [ -S $d/s.sock ] && echo "listening"
        kill -$sig $h; ended $h; echo "$sig status $?"
        [ -e $d/s.sock ] && echo "socket file left" || echo "socket file gone"
      done
      """)
    try #require(r.status == 0, "\(r.stdout)\(r.stderr)")
    #expect(r.stdout == "listening\nHUP status 0\nsocket file gone\nlistening\nQUIT status 0\nsocket file gone\n")
  }

  @Test("msg recv, pipe recv, pipe send and sem wait: SIGHUP and SIGQUIT exit 130 with nothing taken")
  func waits() throws {
    let r = Harness.inNamespace(Self.setup + """
      set +e
      q=$($S msg create); s=$($S sem create --value 1); mkfifo $d/f; $S sem create /p --value 1 >/dev/null
      for sig in HUP QUIT; do
        $S msg recv $q 2>/dev/null & h=$!; blocked $h msgrcv; kill -$sig $h; ended $h; echo "msg recv $sig $?"
        $S pipe recv $d/f 2>/dev/null & h=$!; blocked $h poll; kill -$sig $h; ended $h; echo "pipe recv $sig $?"
        $S pipe send $d/f hello 2>/dev/null & h=$!; blocked $h openat; kill -$sig $h; ended $h; echo "pipe send $sig $?"
        $S sem wait $s --by 2 2>/dev/null & h=$!; blocked $h semtimedop; kill -$sig $h; ended $h; echo "sem wait $sig $? value $($S sem get $s)"
        $S sem wait /p --by 2 2>/dev/null & h=$!; blocked $h futex; kill -$sig $h; ended $h; echo "psem wait $sig $? word $(semword /p)"
      done
      $S msg send $q kept; $S msg recv $q --nowait; echo
      """)
    try #require(r.status == 0, "\(r.stdout)\(r.stderr)")
    let expected = ["HUP", "QUIT"].map { sig in
      "msg recv \(sig) 130\npipe recv \(sig) 130\npipe send \(sig) 130\nsem wait \(sig) 130 value 1\npsem wait \(sig) 130 word 0000000000000001\n"
    }
    #expect(r.stdout == expected.joined() + "kept\n")
  }

  @Test("bench: SIGHUP ends it with 130 and removes every object it made")
  func bench() throws {
    let r = Harness.inNamespace(Self.setup + """
      set +e
      export TMPDIR=$d
      $S bench msg --messages 100000000 >/dev/null 2>&1 & h=$!
      for i in $(seq 500); do [ -n "$($S ls msg --no-headings)" ] && break; sleep 0.02; done
      echo "queues while running: $($S ls msg --no-headings | wc -l)"
      kill -HUP $h; ended $h; echo "status $?"
      echo "queues after: $($S ls msg --no-headings | wc -l)"
      """)
    try #require(r.status == 0, "\(r.stdout)\(r.stderr)")
    #expect(r.stdout == "queues while running: 1\nstatus 130\nqueues after: 0\n")
  }

  @Test("POSIX sem wait --by N never holds part of N: a blocked waiter leaves the value as it was; a failed --nowait changes nothing")
  func posixWaitAllOrNothing() throws {
    let r = Harness.inNamespace(Self.setup + """
      set +e
      $S sem create /p --value 1 >/dev/null
      $S sem wait /p --by 3 & w=$!; blocked $w futex
      echo "while waiting: $($H psem-get /p)"
      $S sem post /p; blocked $w futex; echo "after one post: $($H psem-get /p)"
      $S sem post /p; wait $w; echo "woken $? value $($H psem-get /p) word $(semword /p)"
      # A C process in sem_wait behind a waiter for 3: the unit posted is the C process's.
      $S sem wait /p --by 3 & w=$!; blocked $w futex; $H psem-wait /p > $d/c & c=$!; blocked $c futex
      $H psem-post /p >/dev/null; ended $c; echo "C waiter $? $(cat $d/c) value $($H psem-get /p)"
      $S sem post /p --by 3; wait $w; echo "waiter for 3: $? value $($H psem-get /p) word $(semword /p)"
      $S sem create /big --value 30000000 >/dev/null
      $S sem wait /big --by 40000000 --nowait 2>$d/err & w=$!
      seen=30000000; while kill -0 $w 2>/dev/null; do v=$($H psem-get /big); [ "$v" != 30000000 ] && seen=$v; done
      wait $w; echo "nowait $? seen $seen value $($H psem-get /big)"; cat $d/err
      $S sem wait /big --by 2147483648 --nowait; echo "too many $?"
      """)
    try #require(r.status == 0, "\(r.stdout)\(r.stderr)")
    #expect(r.stdout == """
      while waiting: 1
      after one post: 2
      woken 0 value 0 word 0000000000000000
      C waiter 0 done value 0
      waiter for 3: 0 value 0 word 0000000000000000
      nowait 75 seen 30000000 value 30000000
      swipc: sem_wait on semaphore /big: would block: the value is below 40000000 (--nowait)
      too many 64

      """)
  }

  @Test("POSIX sem init sets the value in one step, and sem init and post --by wake C processes blocked in sem_wait")
  func posixInitAndWake() throws {
    let r = Harness.inNamespace(Self.setup + """
      set +e
      $S sem create /p --value 5 >/dev/null
      $S sem init /p 2147483647 & w=$!
      seen=5; while kill -0 $w 2>/dev/null; do v=$($H psem-get /p); [ "$v" != 5 ] && { seen=$v; break; }; done
      ended $w; echo "init $? first change seen ${seen/#5/none} value $($H psem-get /p)"
      $S sem post /p; echo "post past max $? value $($H psem-get /p)"
      $S sem init /p 0
      $H psem-wait /p > $d/c1 & c1=$!; $H psem-wait /p > $d/c2 & c2=$!; blocked $c1 futex; blocked $c2 futex
      $S sem init /p 3; wait $c1 $c2; cat $d/c1 $d/c2; echo "after init 3: $($H psem-get /p) word $(semword /p)"
      $S sem init /p 0
      $H psem-wait /p > $d/c1 & c1=$!; $H psem-wait /p > $d/c2 & c2=$!; blocked $c1 futex; blocked $c2 futex
      $S sem post /p --by 2; wait $c1 $c2; cat $d/c1 $d/c2; echo "after post --by 2: $($H psem-get /p)"
      """)
    try #require(r.status == 0, "\(r.stdout)\(r.stderr)")
    let firstLine = r.stdout.split(separator: "\n").first.map(String.init) ?? ""
    // The value goes from 5 to 2147483647 in one step: a change seen on the way is the final value.
    #expect(firstLine == "init 0 first change seen 2147483647 value 2147483647" || firstLine == "init 0 first change seen none value 2147483647")
    #expect(r.stdout.split(separator: "\n").dropFirst().joined(separator: "\n") + "\n" == """
      post past max 1 value 2147483647
      done
      done
      after init 3: 1 word 0000000000000001
      done
      done
      after post --by 2: 0

      """)
  }

  @Test("-o names a column once; bench names the mechanisms it knows; --key -1 and -k -1 are the negative key in every command")
  func smallerItems() throws {
    let r = Harness.inNamespace(Self.setup + """
      set +e
      $S shm create --key=-1 --size 4K >/dev/null; echo "create $?"
      $S ls shm -o id,ID,id --format json --no-headings; echo "ls columns $?"
      $S shm create --key -3 --size 4K >/dev/null; echo "create -3 $?"
      $S ls shm -o id,ID,Id,key --format json --key -1; echo "ls $?"
      SWIPC_PARSER=full $S ls shm -o id,ID,id --no-headings -k -1; echo "ls full $?"
      $S shm write -k -1 hello; $S shm dump --key -1 --length 5 --format raw; echo " dump $?"
      $S chmod shm -k -1 640; $S show shm --key -1 --format json | grep -o '"perms":"[0-7]*"'
      s=$($S sem create -k -2 --value 1); $S sem post -k -2 --by 2; $S sem get --key -2; $S sem wait -k -2 --by 3 --nowait; echo "sem $?"
      $S rm shm -k -1 -k -3; echo "rm $?"; SWIPC_PARSER=full $S rm sem --key -2; echo "rm full $?"
      $S bench foo; echo "bench $?"
      """)
    try #require(r.status == 0, "\(r.stdout)\(r.stderr)")
    #expect(r.stdout == """
      create 0
      [
        {"type":"shm","id":0}
      ]
      ls columns 0
      create -3 0
      [
        {"type":"shm","id":0,"key":"0xffffffff"}
      ]
      ls 0
      0
      ls full 0
      hello dump 0
      "perms":"0640"
      3
      sem 0
      removed shm 0
      removed shm 1
      rm 0
      removed sem 0
      rm full 0
      bench 64

      """)
    let bench = try #require(r.stderrLines.last { $0.contains("foo") })
    #expect(bench.contains("'pipe', 'fifo', 'msg', 'pmsg', 'shm', 'pshm', 'shm-spin', 'shm-futex', 'unix-stream', 'unix-dgram', 'tcp'"), "\(bench)")
    #expect(r.stderrLines.filter { $0.contains("foo") }.count == 1)
  }

  /// /proc/sysvipc files with times at the 64-bit extremes, sizes and counts at UInt64.max and a
  /// set claiming 4294967295 semaphores.
  static let extremeFixture = """
    f=$d/sysvipc; mkdir $f
    echo '       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap' > $f/shm
    echo '1 1 600 4096 100 100 0 0 0 0 0 -9223372036854775807 -9223372036854775807 -9223372036854775807 0 0' >> $f/shm
    echo '2 2 600 18446744073709551615 100 100 18446744073709551615 0 0 0 0 9223372036854775807 18446744073709551615 9223372036854775807 18446744073709551615 18446744073709551615' >> $f/shm
    echo '       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      stime      rtime      ctime' > $f/msg
    echo '3 3 600 18446744073709551615 18446744073709551615 0 0 0 0 0 0 -9223372036854775807 -9223372036854775808 -1' >> $f/msg
    echo '       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime' > $f/sem
    echo '4 4 600 4294967295 0 0 0 0 -9223372036854775807 9223372036854775807' >> $f/sem
    export SWIPC_SYSVIPC_DIR=$f SWIPC_MQUEUE_DIR=$d/none
    """

  @Test("ls, show, --older-than and --idle-for with extreme times and counts in /proc/sysvipc: no crash, times out of RFC 3339's range are null")
  func extremeProcValues() throws {
    let r = Harness.inNamespace(Self.setup + Self.extremeFixture + """

      set +e
      for args in "ls" "ls --format csv" "ls --format prometheus" "show shm 1" "show shm 2" "show sem 4" "show msg 3 --format json" \\
        "ls --older-than 1s -o id" "ls --idle-for 1w -o id" "clean shm --older-than 1d --dry-run" "ls --older-than 0s --format csv -o id,age" \\
        "ls shm -o id,orphan" "clean shm --orphaned --dry-run"; do
        $S $args >/dev/null 2>$d/err; echo "$args: $?"; grep -c -e 'Fatal error' -e 'Current stack trace' $d/err
      done
      echo =====
      $S ls --format json 2>/dev/null; echo =====
      $S ls shm --older-than 1d -o id --no-headings 2>/dev/null; echo =====
      $S ls shm --idle-for 1d -o id --no-headings 2>/dev/null
      """)
    try #require(r.status == 0, "\(r.stdout)\(r.stderr)")
    let p = Harness.sections(r.stdout)
    try #require(p.count == 4, "\(r.stdout)")
    for line in p[0].split(separator: "\n") where line.contains(":") {
      #expect(line.hasSuffix(": 0"), "\(line)")
    }
    #expect(!p[0].split(separator: "\n").contains { $0 != "0" && !$0.contains(":") }, "a crash was reported: \(p[0])")
    let records = try #require(Harness.json(p[1]) as? [[String: Any]], "\(p[1])")
    let byID = Dictionary(uniqueKeysWithValues: records.compactMap { r in (r["id"] as? Int).map { ($0, r) } })
    #expect(byID[1]?["ctime"] is NSNull && byID[1]?["attach"] is NSNull)
    #expect(byID[1]?["age"] as? Int64 == Int64.max)
    #expect(byID[3]?["recv"] is NSNull && byID[3]?["ctime"] as? String == "1969-12-31T23:59:59Z")
    #expect(byID[4]?["nsems"] as? Int == 4_294_967_295)
    #expect(p[2] == "1\n")
    #expect(p[3] == "1\n")
  }
}
