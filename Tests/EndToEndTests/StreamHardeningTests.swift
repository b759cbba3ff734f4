import Foundation
import Testing

/// FIFOs, sockets and message receiving under attack: paths swapped by another user while swipc
/// waits, forged socket rows, readers that leave, queues unlinked under a waiter. Each runs in
/// private IPC, mount, PID and network namespaces; another user's steps run as nobody.
@Suite("Streams under attack", .enabled(if: Harness.canUnshareNet, "needs unshare --ipc --mount --pid --net (root)"))
struct StreamHardeningTests {
  static let namespaces = Harness.privateNamespaces + ["--net"]
  static let setup = """
    ip link set lo up
    d=$(mktemp -d); chmod 755 $d; cd $d; trap 'cd /; rm -rf $d' EXIT
    nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
    # A directory that nobody owns, and root's private file next to it.
    mkdir pub; chown 65534:65534 pub; printf 'secret\\n' > secret; chmod 600 secret
    # Waits until process $1 sleeps in a kernel function matching $2: it is waiting for its peer,
    # past every check it makes of the path.
    sleeping_in() { for i in $(seq 2000); do grep -qE "$2" /proc/$1/wchan 2>/dev/null && return 0; sleep 0.01; done; echo "never slept in $2" >&2; return 1; }
    switches() { awk '/^voluntary_ctxt_switches/ { print $2 }' /proc/$1/status 2>/dev/null || echo 0; }
    # Waits until process $1 has gone round its wait $2 more times (each wake-up and sleep is a
    # voluntary switch), or has ended: whatever it does after a change has been done.
    rounds() {
      local start; start=$(switches $1)
      for i in $(seq 2000); do
        grep -q '^State:.*[ZX]' /proc/$1/status 2>/dev/null && return 0; [ -e /proc/$1 ] || return 0
        [ $(( $(switches $1) - start )) -ge $2 ] && return 0; sleep 0.01
      done; return 1
    }

    """

  func run(_ script: String) -> Harness.Result {
    Harness.inNamespace(Self.setup + script, namespaces: Self.namespaces)
  }

  @Test("pipe send as root: the FIFO swapped for a link to root's 0600 file while it waits; the file is untouched, the data goes to the FIFO it checked")
  func sendAfterSwap() throws {
    let r = run("""
      nobody mkfifo -m 0666 pub/f
      $S pipe send $d/pub/f PWNED --timeout 30s 2> send.err & p=$!
      sleeping_in $p wait_for_partner
      nobody mv pub/f pub/f.checked; nobody ln -s $d/secret pub/f
      rounds $p 3
      timeout -s KILL 10 cat pub/f.checked > got || true
      wait $p && echo "send 0" || echo "send $?"
      echo "secret: $(cat secret)"; echo "got: $(cat got)"
      """)
    try #require(r.status == 0, "\(r.stderr)")
    #expect(r.stdout == "send 0\nsecret: secret\ngot: PWNED\n", "\(r.stderr)")
  }

  @Test("pipe recv as root: the FIFO swapped for a link to root's 0600 file while it waits; nothing of the file is printed")
  func recvAfterSwap() throws {
    let r = run("""
      nobody mkfifo -m 0666 pub/f
      $S pipe recv $d/pub/f --timeout 30s > out 2> recv.err & p=$!
      sleeping_in $p 'wait_for_partner|poll'
      nobody mv pub/f pub/f.checked; nobody ln -s $d/secret pub/f
      rounds $p 3
      if [ -e /proc/$p ]; then echo hello | timeout -s KILL 10 tee pub/f.checked > /dev/null || true; fi
      wait $p && echo "recv 0" || echo "recv $?"
      echo "out: $(cat out)"
      """)
    try #require(r.status == 0, "\(r.stderr)")
    #expect(r.stdout == "recv 0\nout: hello\n", "\(r.stderr)")
  }

  @Test("pipe create keeps only your own FIFO with the mode asked; another user's, another mode, links and files are refused")
  func createRefuses() throws {
    let r = run("""
      set +e
      nobody mkfifo -m 0666 pub/theirs; $S pipe create $d/pub/theirs --mode 0600; echo "theirs $?"
      mkfifo -m 0644 mine; $S pipe create mine --mode 0600; echo "other-mode $?"
      mkfifo -m 0600 same; $S pipe create same --mode 0600; echo "same $?"; $S pipe create same; echo "default $?"
      ln -s $d/secret link; $S pipe create link; echo "link $?"
      nobody ln -s $d/made-by-link pub/dangling; $S pipe create $d/pub/dangling; echo "dangling $?"
      [ -e made-by-link ] && echo "followed the link"
      $S pipe create new --mode 0640; echo "new $?"
      stat -c '%F %a %U' pub/theirs mine new secret; echo "secret: $(cat secret)"
      """)
    try #require(r.status == 0, "\(r.stderr)")
    #expect(r.stdout == """
      theirs 1
      other-mode 1
      same 0
      default 0
      link 1
      dangling 1
      new 0
      fifo 666 nobody
      fifo 644 root
      fifo 640 root
      regular file 600 root
      secret: secret

      """)
    #expect(r.stderr.contains("a FIFO of uid 65534 (nobody) with mode 0666 already exists there; refusing to use another user's FIFO"))
    #expect(r.stderr.contains("your FIFO with mode 0644 already exists there, not 0600"))
    #expect(r.stderr.contains("a symbolic link already exists there; refusing to replace it"))
  }

  @Test("pipe recv --count takes no more than it prints: the rest stays in the FIFO for the next reader")
  func countIsBounded() throws {
    let r = run("""
      $S pipe create f
      exec 3<>f; printf 'ev%s\\n' $(seq 10) >&3
      $S pipe recv f --count 1 --timeout 5s; echo "first $?"
      $S pipe recv f --count 2 --timeout 5s; echo "next $?"
      printf 'a\\0b\\0c\\0' >&3
      $S pipe recv f --count 7 --timeout 5s; echo "rest $?"
      $S pipe recv f --null --count 1 --timeout 5s | od -An -c | tr -s ' '; $S pipe recv f --null --count 2 --timeout 5s | od -An -c | tr -s ' '
      """)
    try #require(r.status == 0, "\(r.stderr)")
    #expect(r.stdout == """
      ev1
      first 0
      ev2
      ev3
      next 0
      ev4
      ev5
      ev6
      ev7
      ev8
      ev9
      ev10
      rest 0
       a \\0
       b \\0 c \\0

      """)
  }

  @Test("msg recv --count 100 | head -1 takes at most two messages: the one printed and one in flight")
  func pipedReaderLeaves() throws {
    let r = run("""
      q=$($S msg create)
      for i in $(seq 100); do echo ev$i; done | $S msg send $q --lines
      for round in 1 2 3 4 5; do
        $S msg recv $q --lines --count 100 2>/dev/null | head -1 || true
        left=$(ipcs -q | awk -v id=$q '$2 == id { print $6 }')
        echo "left $left"; if [ "$left" -gt 0 ]; then $S msg recv $q --lines --count $left --nowait > /dev/null; fi
        for i in $(seq 100); do echo ev$i; done | $S msg send $q --lines
      done
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let lines = r.stdout.split(separator: "\n")
    try #require(lines.count == 10, "\(r.stdout)")
    for round in 0..<5 {
      #expect(lines[2 * round] == "ev1")
      let left = Int(lines[2 * round + 1].dropFirst(5)) ?? 0
      #expect(left >= 98, "round \(round + 1): \(100 - left) messages taken for one printed")
    }
  }

  @Test("--timeout is an idle timeout: msg recv --follow, msg recv --count, pipe recv keep going while data keeps coming")
  func idleTimeout() throws {
    // Each gap (0.8 s) is shorter than the timeout (2 s), the whole stream (2.4 s) longer.
    let r = run("""
      set +e
      q=$($S msg create)
      feed() { for i in 1 2 3 4; do $S msg send $q ev$i; for n in $(seq 500); do [ $(grep -c ev out 2>/dev/null || true) -ge $i ] && break; sleep 0.01; done; sleep 0.8; done; }
      : > out; $S msg recv $q --follow --lines --timeout 2s > out & p=$!; feed; wait $p; echo "follow $? $(tr '\\n' ' ' < out)"
      $S msg recv $q --lines --count 100 --nowait > /dev/null 2>&1
      : > out; $S msg recv $q --count 4 --lines --timeout 2s > out & p=$!; feed; wait $p; echo "count $? $(tr '\\n' ' ' < out)"
      $S pipe create f
      : > out; $S pipe recv f --timeout 2s > out & p=$!
      (for i in 1 2 3 4; do echo ev$i; for n in $(seq 500); do [ $(grep -c ev out 2>/dev/null || true) -ge $i ] && break; sleep 0.01; done; sleep 0.8; done) > f
      wait $p; echo "pipe $? $(tr '\\n' ' ' < out)"
      """)
    try #require(r.status == 0, "\(r.stderr)")
    #expect(r.stdout == "follow 0 ev1 ev2 ev3 ev4 \ncount 0 ev1 ev2 ev3 ev4 \npipe 0 ev1 ev2 ev3 ev4 \n", "\(r.stderr)")
  }

  @Test("a POSIX queue unlinked while msg recv waits ends it with 66")
  func unlinkedQueue() throws {
    let r = run("""
      m=$(mktemp -d); mount -t mqueue none $m; export SWIPC_MQUEUE_DIR=$m
      $S msg create /jobs > /dev/null
      $S msg recv /jobs --timeout 20s 2> err & p=$!
      sleeping_in $p wq_sleep
      rm $m/jobs
      wait $p && echo "recv 0" || echo "recv $?"; cat err
      """)
    try #require(r.status == 0, "\(r.stderr)")
    #expect(r.stdout == "recv 66\nswipc: mq_receive from queue /jobs: queue /jobs was removed while waiting\n")
  }

  @Test("ls sock: a path with a newline and a forged /proc/net/unix row in it is one socket, and no forged row appears")
  func forgedSocketRow() throws {
    let r = run("""
      python3 -c '
      import socket, sys, time
      s = socket.socket(socket.AF_UNIX)
      s.bind(sys.argv[1] + "/x\\n0000000000000000: 00000002 00000000 00010000 0001 01 99999 @forged")
      s.listen(); print("ready", flush=True); time.sleep(60)' $d > ready &
      for i in $(seq 500); do [ -s ready ] && break; sleep 0.01; done
      $S ls sock --format json
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let records = try #require(Harness.json(r.stdout) as? [[String: Any]], "\(r.stdout)")
    #expect(!records.contains { $0["inode"] as? Int == 99999 })
    #expect(!records.contains { $0["path"] as? String == "@forged" })
    let paths = records.compactMap { $0["path"] as? String }
    let ours = paths.filter { $0.hasSuffix("/x\n0000000000000000: 00000002 00000000 00010000 0001 01 99999 @forged") }
    #expect(ours.count == 1, "\(paths)")
  }

  @Test("ls sock lists all of 11,000 sockets (over 1 MiB of /proc/net/unix text), each exactly once")
  func manySockets() throws {
    let r = run("""
      python3 -c '
      import socket, time
      keep = []
      for i in range(11000):
          s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind("\\0swipc-load-%05d-%s" % (i, "x" * 48)); keep.append(s)
      print("ready", flush=True); time.sleep(120)' > ready &
      for i in $(seq 3000); do [ -s ready ] && break; sleep 0.02; done
      $S ls sock --format csv --no-headings > list; echo "status $?"
      grep -c '^@swipc-load-' list; grep '^@swipc-load-' list | cut -d, -f1 | sort -u | wc -l
      """)
    try #require(r.status == 0, "\(r.stderr)")
    #expect(r.stdout == "status 0\n11000\n11000\n", "\(r.stderr)")
  }

  @Test("ls pipe and ls sock read the holders from SWIPC_PROC_DIR; a FIFO planted in that tree does not hang them")
  func procFixture() throws {
    let r = run("""
      python3 -c '
      import os, socket, time
      s = socket.socket(socket.AF_UNIX); s.bind("\\0swipc-fixture"); s.listen()
      print(os.fstat(s.fileno()).st_ino, flush=True); time.sleep(60)' > ino &
      for i in $(seq 500); do [ -s ino ] && break; sleep 0.01; done
      fx=$d/proc; mkdir -p $fx/4242/fd $fx/4242/fdinfo $fx/4243/fd $fx/4243/fdinfo
      echo fake > $fx/4242/comm; ln -s 'pipe:[777]' $fx/4242/fd/3; printf 'pos:\\t0\\nflags:\\t01\\n' > $fx/4242/fdinfo/3
      ln -s "socket:[$(cat ino)]" $fx/4242/fd/4; printf 'flags:\\t02\\n' > $fx/4242/fdinfo/4
      mkfifo $fx/4243/comm $fx/4243/fdinfo/3; ln -s 'pipe:[778]' $fx/4243/fd/3
      export SWIPC_PROC_DIR=$fx
      timeout -s KILL 20 $S ls pipe --format json; echo "pipe $?"; echo =====
      timeout -s KILL 20 $S ls sock --format json; echo "sock $?"; echo =====
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    try #require(p.count >= 2, "\(r.stdout)")
    #expect(p[0].hasSuffix("pipe 0\n") && p[1].hasSuffix("sock 0\n"), "\(r.stdout) \(r.stderr)")
    let pipes = try #require(Harness.json(String(p[0].dropLast("pipe 0\n".count))) as? [[String: Any]], "\(p[0])")
    let fixture = try #require(pipes.first { $0["inode"] as? Int == 777 }, "\(pipes)")
    #expect((fixture["writers"] as? [[String: Any]])?.first?["command"] as? String == "fake")
    #expect((fixture["readers"] as? [[String: Any]])?.isEmpty == true)
    #expect(pipes.contains { $0["inode"] as? Int == 778 }, "the process whose comm is a FIFO is listed too")
    let sockets = try #require(Harness.json(String(p[1].dropLast("sock 0\n".count))) as? [[String: Any]], "\(p[1])")
    let held = try #require(sockets.first { $0["path"] as? String == "@swipc-fixture" }, "\(sockets)")
    let holders = (held["processes"] as? [[String: Any]] ?? []).compactMap { $0["pid"] as? Int }
    #expect(holders == [4242], "the holder comes from the fixture tree, not from /proc")
  }

  @Test("ls sock and ls pipe under hidepid=2, as nobody, say that other users' holders are hidden")
  func hiddenHolders() throws {
    let r = run("""
      mount -o remount,hidepid=2 /proc
      sleep 30 | sleep 30 &
      nobody $S ls sock > /dev/null; nobody $S ls pipe > /dev/null
      """)
    try #require(r.status == 0, "\(r.stderr)")
    #expect(r.stderr.contains("/proc hides other users' processes (hidepid): the holders shown are only those this user may see"), "\(r.stderr)")
    #expect(r.stderr.contains("/proc hides other users' processes (hidepid): the readers and writers shown are only those this user may see"), "\(r.stderr)")
  }

  @Test("sock listen removes a stale socket file only through its directory, never following a link; sock send never follows a link at the path")
  func socketLinks() throws {
    let r = run("""
      set +e
      # Root's own listener in a private directory, which nobody's link points at.
      mkdir priv; chmod 700 priv
      $S sock listen $d/priv/root.sock > root.out 2>/dev/null & l=$!
      for i in $(seq 500); do [ -S priv/root.sock ] && break; sleep 0.01; done
      nobody ln -s $d/priv/root.sock pub/s.sock
      $S sock send $d/pub/s.sock hello --timeout 5s; echo "send-link $?"
      $S sock listen $d/pub/s.sock --once; echo "listen-link $?"
      [ -L pub/s.sock ] && echo "link kept"; [ -S priv/root.sock ] && echo "root socket kept"
      kill -TERM $l; wait $l; echo "root got: [$(cat root.out)]"
      """)
    try #require(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("send-link 1\n"), "\(r.stdout) \(r.stderr)")
    #expect(r.stdout.contains("listen-link 1\n"), "\(r.stdout) \(r.stderr)")
    #expect(r.stdout.contains("link kept\nroot socket kept\nroot got: []\n"), "\(r.stdout) \(r.stderr)")
    #expect(r.stderr.contains("a symbolic link is there, not a socket (swipc does not follow symbolic links to sockets)"))
  }
}
