import Foundation
import Testing

/// Faults of the kind an unattended tool meets: signals during every blocking command, objects
/// removed under a waiter, limits lowered until the kernel says no (ENOSPC), a full /dev/shm.
@Suite("Faults")
struct FaultTests {
  /// `status NAME` after each blocking command was interrupted, then what it left behind.
  @Test("SIGINT during every blocking command: 130 (or 0 where stopping is the point), nothing taken or held",
    .enabled(if: Harness.canUnshareNet))
  func interruptEveryBlockingCommand() {
    let r = Harness.inNamespace("""
      set -m +e
      ip link set lo up; mount -t tmpfs none /dev/shm
      d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
      # Interrupts $! once it sleeps in the kernel, then prints its status and its stderr's lines.
      interrupt() {
        local p=$! name=$1
        for _ in $(seq 200); do [ "$(cut -d' ' -f3 /proc/$p/stat 2>/dev/null)" = S ] && break; sleep 0.01; done
        sleep 0.2; kill -INT $p; wait $p; echo "$name $? $(wc -l < $d/err)"
      }
      q=$($S msg create); $S msg recv $q 2>$d/err & interrupt msg-recv
      f=$($S msg create --max-bytes 8); $S msg send $f 12345678; $S msg send $f more 2>$d/err & interrupt msg-send-full
      $S msg create /pq --max-messages 1 --message-size 16 >/dev/null; $S msg recv /pq 2>$d/err & interrupt pmsg-recv
      $S msg send /pq one; $S msg send /pq two 2>$d/err & interrupt pmsg-send-full
      s=$($S sem create --value 0); $S sem wait $s 2>$d/err & interrupt sem-wait
      $S sem run $s -- touch $d/ran 2>$d/err & interrupt sem-run-waiting
      z=$($S sem create --value 1); $S sem wait $z --zero 2>$d/err & interrupt sem-wait-zero
      $S sem create /ps --value 0 >/dev/null; $S sem wait /ps 2>$d/err & interrupt psem-wait
      m=$($S shm create --size 4K); $S shm attach $m 2>$d/err & interrupt shm-attach
      $S shm attach $m -- sleep 100 2>$d/err & interrupt shm-attach-command
      mkfifo $d/fifo; $S pipe send $d/fifo x 2>$d/err & interrupt pipe-send-no-reader
      $S pipe recv $d/fifo 2>$d/err & interrupt pipe-recv-no-writer
      $S sock listen $d/sock 2>$d/err & interrupt sock-listen
      python3 -c 'import socket,sys,time; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(); c=s.accept(); time.sleep(100)' $d/mute &
      mute=$!; for _ in $(seq 100); do [ -S $d/mute ] && break; sleep 0.02; done
      $S sock send $d/mute --reply hello 2>$d/err & interrupt sock-send-reply; kill $mute
      $S bench pipe fifo msg --messages 100000000 >/dev/null 2>$d/err & interrupt bench
      echo "=== left behind"
      $S ls msg -o ID,MSGS --no-headings | tr '\\n' ' '; echo
      $S sem get $s --format json; $S sem get $z --format json; $S sem get /ps
      $S show shm $m --format json | jq -c '[.nattch, (.holder_processes | length)]'
      ls $d | tr '\\n' ' '; echo; ls /dev/shm | tr '\\n' ' '; echo
      ipcs -q | grep -c '^0x' ; ipcs -s | grep -c '^0x'; ipcs -m | grep -c '^0x'
      pgrep -c -x swipc || true
      """, namespaces: Harness.privateNamespaces + ["--net"])
    #expect(r.status == 0, "\(r.stderr)")
    let parts = r.stdout.components(separatedBy: "=== left behind\n")
    let statuses = Dictionary(uniqueKeysWithValues: parts[0].split(separator: "\n").compactMap { line -> (String, [Int])? in
      let f = line.split(separator: " ")
      guard f.count == 3 else { return nil }
      return (String(f[0]), [Int(f[1]) ?? -1, Int(f[2]) ?? -1])
    })
    let expected: [(String, Int, Int)] = [
      ("msg-recv", 130, 1), ("msg-send-full", 130, 1), ("pmsg-recv", 130, 1), ("pmsg-send-full", 130, 1),
      ("sem-wait", 130, 1), ("sem-run-waiting", 130, 1), ("sem-wait-zero", 130, 1), ("psem-wait", 130, 1),
      // attach holds until a signal, by design; with a command, the command gets the SIGINT.
      ("shm-attach", 0, 1), ("shm-attach-command", 130, 1),
      ("pipe-send-no-reader", 130, 1), ("pipe-recv-no-writer", 130, 1),
      // a listener serves until it is stopped, by design.
      ("sock-listen", 0, 1), ("sock-send-reply", 130, 1), ("bench", 130, 1),
    ]
    for (name, status, lines) in expected {
      #expect(statuses[name] == [status, lines], "\(name): \(statuses[name] ?? []) (status, stderr lines)")
    }
    guard parts.count == 2 else { return }
    let left = parts[1].split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    #expect(left[0] == "0 0 1 1 ", "queues: the first empty, the full one still holds its message: \(left[0])")
    #expect(left[1].contains(#""value":0,"ncount":0,"zcount":0"#), "sem wait and sem run took nothing and left no waiter: \(left[1])")
    #expect(left[2].contains(#""value":1,"ncount":0,"zcount":0"#), "no zero-waiter left: \(left[2])")
    #expect(left[3] == "0", "the POSIX semaphore was not taken")
    #expect(left[4] == "[0,0]", "the segment is detached: \(left[4])")
    #expect(!left[5].contains("sock") && !left[5].contains("ran"), "no socket file left, the command under sem run never ran: \(left[5])")
    #expect(left[6] == "sem.ps ", "bench removed its POSIX objects: \(left[6])")
    #expect(left[7] == "2" && left[8] == "2" && left[9] == "1", "bench removed its System V objects: \(left[7...9])")
    #expect(left[10] == "0", "no swipc process left (bench peers included)")
  }

  @Test("an object removed under a waiter: 66 with a message naming it", .enabled(if: Harness.canUnshareAll))
  func removedWhileWaiting() {
    let r = Harness.inNamespace("""
      set -m +e
      q=$($S msg create); $S msg recv $q & p=$!; sleep 0.3; $S rm msg $q >/dev/null; wait $p; echo "msg-recv $?"
      s=$($S sem create --value 0); $S sem wait $s & p=$!; sleep 0.3; $S rm sem $s >/dev/null; wait $p; echo "sem-wait $?"
      s=$($S sem create --value 0); $S sem run $s -- true & p=$!; sleep 0.3; $S rm sem $s >/dev/null; wait $p; echo "sem-run $?"
      """)
    #expect(r.stdout == "msg-recv 66\nsem-wait 66\nsem-run 66\n", "\(r.stdout)\(r.stderr)")
    #expect(r.stderr.contains("was removed while waiting"))
  }

  @Test("limits lowered in a private namespace: exit 1, the limit named with its value and file, nothing made",
    .enabled(if: Harness.canUnshareAll))
  func limitsReached() {
    let r = Harness.inNamespace("""
      set +e
      mount -t tmpfs -o size=64k none /dev/shm
      echo 1 > /proc/sys/kernel/msgmni; $S msg create >/dev/null; $S msg create; echo "msgmni $?"
      echo 1 > /proc/sys/kernel/shmmni; $S shm create --size 4K >/dev/null; $S shm create --size 4K; echo "shmmni $?"
      echo 4096 > /proc/sys/kernel/shmmni; echo 8192 > /proc/sys/kernel/shmall; $S shm create --size 64M; echo "shmall $?"
      echo "250 32000 32 1" > /proc/sys/kernel/sem; $S sem create >/dev/null; $S sem create; echo "semmni $?"
      echo "250 2 32 128" > /proc/sys/kernel/sem; $S sem create --count 3; echo "semmns $?"
      echo 1 > /proc/sys/fs/mqueue/queues_max; $S msg create /a >/dev/null; $S msg create /b; echo "queues_max $?"
      $S shm create /big --size 1M >/dev/null; head -c 200K /dev/zero | tr '\\0' x | $S shm write /big; echo "dev-shm-full $?"
      $S bench pshm --sizes 64K --messages 10 >/dev/null; echo "bench-dev-shm-full $?"
      echo "objects $(ipcs -q | grep -c '^0x') $(ipcs -m | grep -c '^0x') $(ipcs -s | grep -c '^0x') $(ls /dev/shm | tr '\\n' ' ')"
      """)
    let out = r.stdout.split(separator: "\n").map(String.init)
    #expect(out == ["msgmni 1", "shmmni 1", "shmall 1", "semmni 1", "semmns 1", "queues_max 1", "dev-shm-full 1",
      "bench-dev-shm-full 1", "objects 1 1 1 big "], "\(r.stdout)\(r.stderr)")
    let errors = r.stderr.split(separator: "\n").map(String.init)
    #expect(errors.count == 8, "one line per failure: \(r.stderr)")
    for needle in ["MSGMNI (1, /proc/sys/kernel/msgmni)", "SHMMNI (1, /proc/sys/kernel/shmmni)",
      "SHMALL (8192, /proc/sys/kernel/shmall)", "SEMMNI (1, /proc/sys/kernel/sem field 4)",
      "SEMMNS (2, /proc/sys/kernel/sem field 2)", "queues_max (1, /proc/sys/fs/mqueue/queues_max)",
      "shm write: nothing was written", "no room for 262400 bytes in /dev/shm"]
    {
      let words = needle.hasPrefix("shm write: ") ? ["/big", "nothing was written"] : [needle]
      #expect(errors.contains { line in words.allSatisfy { line.contains($0) } }, "no error names \(needle): \(r.stderr)")
    }
  }

  /// util-linux reports a failed write to standard output (close_stdout); swipc does too, and where
  /// its output is the only record of what it did, it checks first or undoes what it can.
  @Test("standard output full or closed: exit 1, one line saying what was done, nothing lost unsaid",
        .enabled(if: Harness.canUnshareAll))
  func unwritableOutput() throws {
    let r = Harness.inNamespace(LifecycleTests.posixMounts + """
      exec 3>&1; e=$(mktemp); trap 'rm -f "$e"' EXIT
      t() { rc=0; eval "$1" 2>$e || rc=$?; echo "$rc $(wc -l <$e) $(cat $e)" >&3; }
      count() { echo "left $(ipcs -q | grep -c '^0x') $(ipcs -m | grep -c '^0x') $(ipcs -s | grep -c '^0x') $(ls /dev/shm | wc -l)"; }
      q=$($S msg create); $S msg send $q first; $S msg send $q second
      t "$S msg recv $q --nowait >&-"; t "$S msg recv $q --nowait 1</dev/null"
      t "{ sleep 0.3; $S msg recv $q --count 2 --nowait; } | true"; $S ls msg -o MSGS --no-headings; echo =====
      t "$S msg recv $q --nowait >/dev/full"; $S ls msg -o MSGS --no-headings; $S msg recv $q --nowait || true; echo; echo =====
      t "$S shm create --size 4K >/dev/full"; t "$S shm create /swq.seg --size 4K >/dev/full"; t "$S sem create >&-"; count; echo =====
      t "$S ls >/dev/full"; t "$S ls msg --format json >&-"; t "$S limits >/dev/full"; t "$S show msg $q >/dev/full"
      t "$S --help >/dev/full"; echo =====
      d=$($S shm create --size 4K); $S shm write $d first
      t "$S shm dump $d >/dev/full"; t "$S shm dump $d --format raw >/dev/full"; echo =====
      t "$S clean --all --yes >&-"; count; t "$S clean --all --dry-run >/dev/full"; echo =====
      t "$S rm shm $d >/dev/full"; count; t "$S clean --all --yes >/dev/full"; count; echo =====
      w=$(mktemp -d); echo $w; $S pipe create $w/fifo; t "$S pipe recv $w/fifo --nowait >&-"; t "$S sock listen $w/sock --once >&-"
      ls $w; rm -rf $w; echo =====
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout).map { $0.split(separator: "\n").map(String.init) }
    // Closed, read-only, or a pipe whose reader is gone: checked before receiving, so both
    // messages are still queued.
    #expect(p[0] == [
      "1 1 swipc: write to standard output: bad file descriptor: nothing was received from queue 0",
      "1 1 swipc: write to standard output: bad file descriptor: nothing was received from queue 0",
      "1 1 swipc: write to standard output: broken pipe: nothing was received from queue 0", "2",
    ])
    // A full disk shows only when writing: the message taken is reported lost; the next one is intact.
    #expect(p[1] == [
      "1 1 swipc: write to standard output: no space left on device: a message taken from queue 0 could not be written and is no longer in the queue",
      "1", "second",
    ])
    #expect(p[2] == [
      "1 1 swipc: write to standard output: no space left on device: 0 was created and, as its id or name could not be printed, removed again",
      "1 1 swipc: write to standard output: no space left on device: /swq.seg was created and, as its id or name could not be printed, removed again",
      "1 1 swipc: write to standard output: bad file descriptor: nothing was created (the new id or name could not be printed)",
      "left 1 0 0 0",
    ])
    let full = "1 1 swipc: write to standard output: no space left on device"
    #expect(p[3] == [full, "1 1 swipc: write to standard output: bad file descriptor", full, full, full])
    #expect(p[4] == [full, full])
    #expect(p[5] == [
      "1 1 swipc: write to standard output: bad file descriptor: nothing was removed (the report could not be written)",
      "left 1 1 0 0", full,
    ])
    #expect(p[6] == [
      "1 1 swipc: write to standard output: no space left on device: the objects were removed, but not every 'removed' line was written",
      "left 1 0 0 0",
      "1 1 swipc: write to standard output: no space left on device: 1 of 1 selected objects were removed, but the report was not written",
      "left 0 0 0 0",
    ])
    // What a FIFO or socket delivers is gone once read: neither is read, nor the socket made.
    let w = p[7].first ?? ""
    #expect(p[7] == [
      w, "1 1 swipc: write to standard output: bad file descriptor: nothing was read from FIFO \(w)/fifo",
      "1 1 swipc: write to standard output: bad file descriptor: not listening on \(w)/sock, as what arrives could not be written",
      "fifo",
    ])
  }
}
