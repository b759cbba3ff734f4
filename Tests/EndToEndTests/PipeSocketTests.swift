import Foundation
import Testing

/// pipe create/send/recv, sock listen/send, ls pipe and ls sock, in private IPC, mount, PID and
/// network namespaces (only loopback exists there).
@Suite("Pipes and sockets", .enabled(if: Harness.canUnshareNet, "needs unshare --ipc --mount --pid --net (root)"))
struct PipeSocketTests {
  static let namespaces = Harness.privateNamespaces + ["--net"]
  static let setup = """
    ip link set lo up
    d=$(mktemp -d); cd $d; trap 'cd /; rm -rf $d' EXIT
    # Waits until a socket is listening at $1 (a path or @name) in this namespace.
    listening() { for i in $(seq 200); do $S ls sock --format csv --no-headings | grep -q "^$1,.*,listen," && return 0; sleep 0.02; done; return 1; }

    """

  func run(_ script: String) -> Harness.Result {
    Harness.inNamespace(Self.setup + script, namespaces: Self.namespaces)
  }

  @Test("a FIFO with no reader: pipe send --timeout 200ms exits 75 within 400 ms; recv likewise; then a round trip")
  func fifoTimeouts() throws {
    let r = run("""
      set +e
      $S pipe create f --mode 0640; stat -c '%F %a' f
      $S pipe create f; echo "again $?"
      touch plain; $S pipe create plain; echo "plain $?"
      start=$(date +%s%N); $S pipe send f --timeout 200ms hello; rc=$?; end=$(date +%s%N)
      echo "send $rc $(( (end - start) / 1000000 < 400 ))"
      start=$(date +%s%N); $S pipe recv f --timeout 200ms; rc=$?; end=$(date +%s%N)
      echo "recv $rc $(( (end - start) / 1000000 < 400 ))"
      $S pipe send f hello world & $S pipe recv f --timeout 5s; wait; echo "text $?"
      seq 100 | $S pipe send f & $S pipe recv f --count 3 --timeout 5s; echo "count $?"; wait
      $S pipe send plain x; echo "not-fifo $?"; $S pipe recv missing; echo "missing $?"
      $S pipe recv f 2>/dev/null & p=$!; sleep 0.2; kill -TERM $p; wait $p; echo "interrupted $?"
      """)
    try #require(r.status == 0, "\(r.stderr)")
    #expect(r.stdout == """
      fifo 640
      again 0
      plain 1
      send 75 1
      recv 75 1
      hello world
      text 0
      1
      2
      3
      count 0
      not-fifo 64
      missing 66
      interrupted 130

      """)
    #expect(r.stderr.contains("open FIFO f: timed out: no reader opened it"))
    #expect(r.stderr.contains("mkfifo plain: a regular file already exists there; refusing to replace it"))
  }

  @Test("ls pipe: a process holding both ends of a pipe, and a FIFO's reader and writer, with correct pids")
  func listPipes() throws {
    let r = run("""
      python3 -c 'import os, sys, time; r, w = os.pipe(); print(os.getpid(), os.fstat(r).st_ino, flush=True); time.sleep(30)' > both & 
      for i in $(seq 100); do [ -s both ] && break; sleep 0.05; done
      read both_pid both_inode < both
      $S pipe create ff; (exec 3>ff; sleep 30) & sleep 30 < ff & reader=$!
      for i in $(seq 100); do $S ls pipe --format csv | grep -q ',/.*ff$' && break; sleep 0.05; done
      writer=$(pgrep -f '^sleep 30$' | grep -v "^$reader$" | head -1)
      echo "$both_pid $both_inode $reader"; echo =====
      $S ls pipe --format json; echo =====
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    let ids = p[0].split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    try #require(ids.count == 3)
    let records = try #require(Harness.json(p[1]) as? [[String: Any]])
    func pids(_ record: [String: Any], _ key: String) -> Set<Int> {
      Set((record[key] as? [[String: Any]] ?? []).compactMap { $0["pid"] as? Int })
    }
    let both = try #require(records.first { $0["inode"] as? Int == ids[1] }, "the python pipe is listed")
    #expect(both["type"] as? String == "pipe" && both["pipe_type"] as? String == "pipe")
    #expect(pids(both, "readers") == [ids[0]] && pids(both, "writers") == [ids[0]])
    #expect(both["path"] is NSNull)
    let fifo = try #require(records.first { ($0["path"] as? String)?.hasSuffix("/ff") == true }, "the FIFO is listed")
    #expect(fifo["pipe_type"] as? String == "fifo")
    #expect(pids(fifo, "readers") == [ids[2]])
    #expect(pids(fifo, "writers").count == 1 && !pids(fifo, "writers").contains(ids[2]))
  }

  @Test("ls pipe as nobody says how many processes it could not inspect")
  func uninspectable() throws {
    let r = run("""
      sleep 30 | sleep 30 &
      setpriv --reuid=65534 --regid=65534 --clear-groups $S ls pipe > /dev/null
      """)
    try #require(r.status == 0, "\(r.stderr)")
    #expect(r.stderr.contains("could not be inspected (another user's; run as root to see their pipes)"), "\(r.stderr)")
  }

  static let roundTrips: [(String, String)] = [
    ("stream", "path"), ("stream", "abstract"), ("stream", "tcp"),
    ("dgram", "path"), ("dgram", "abstract"), ("dgram", "tcp"),
    ("seqpacket", "path"), ("seqpacket", "abstract"),
  ]

  @Test("sock listen --once --echo --peer and sock send --reply round-trip; --peer names the sender's real pid", arguments: roundTrips)
  func roundTrip(type: String, address: String) throws {
    let a = address == "path" ? "$d/s.sock" : address == "abstract" ? "@swipc-test" : "tcp:127.0.0.1:7001"
    let r = run("""
      $S sock listen \(a) --type \(type) --once --echo --peer > got 2> log & l=$!
      for i in $(seq 200); do grep -q listening log && break; sleep 0.02; done
      $S sock send \(a) --type \(type) --reply --timeout 5s "hello \(type)" > reply & s=$!
      wait $s; echo "send $?"; wait $l; echo "listen $?"
      echo "sender $s"; cat got; echo; cat reply; echo; grep -o 'peer [^ ]*' log || true
      [ -e $d/s.sock ] && echo "socket file left" || true
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    try #require(lines.count >= 6, "\(r.stdout)")
    #expect(lines[0] == "send 0" && lines[1] == "listen 0")
    #expect(lines[3] == "hello \(type)", "the listener wrote what came")
    #expect(lines[4] == "hello \(type)", "the echo came back")
    let sender = lines[2].replacingOccurrences(of: "sender ", with: "")
    if address == "tcp" {
      #expect(lines[5].hasPrefix("peer 127.0.0.1:"))
    } else {
      #expect(lines[5] == "peer pid=\(sender)", "SO_PEERCRED/SCM_CREDENTIALS give the sender's pid")
    }
    #expect(!r.stdout.contains("socket file left"), "the listener removes its socket file")
  }

  @Test("a stale socket file is recovered; a live one is not stolen; other files are refused")
  func staleAndLive() throws {
    let r = run("""
      set +e
      $S sock listen $d/live.sock 2>/dev/null > live.out & live=$!
      listening $d/live.sock
      $S sock listen $d/mode.sock --mode 0660 --once 2>/dev/null & m=$!; listening $d/mode.sock
      stat -c 'mode %a' $d/mode.sock; $S sock send $d/mode.sock >/dev/null; wait $m
      stat -c 'default %a' $d/live.sock
      $S sock listen $d/live.sock --once; echo "live $?"
      $S sock send $d/live.sock still here; echo "send $?"
      $S sock listen $d/stale.sock 2>/dev/null & s=$!; listening $d/stale.sock; kill -KILL $s; wait $s
      [ -S $d/stale.sock ] && echo "stale file left"
      $S sock send $d/stale.sock x; echo "refused $?"
      $S sock listen $d/stale.sock --once & l=$!; listening $d/stale.sock
      $S sock send $d/stale.sock recovered; wait $l; echo " recovered $?"
      touch $d/plain; $S sock listen $d/plain --once; echo "plain $?"; [ -f $d/plain ] && echo "plain kept"
      $S sock send $d/missing.sock x; echo "missing $?"
      $S sock send $d/live.sock --type dgram x; echo "wrong-type $?"
      kill -TERM $live; wait $live; echo "live ended $?"; [ -e $d/live.sock ] || echo "live removed"
      echo "live got: $(cat live.out)"
      """)
    try #require(r.status == 0, "\(r.stderr)")
    #expect(r.stdout == """
      mode 660
      default 600
      live 1
      send 0
      stale file left
      refused 66
      recovered recovered 0
      plain 1
      plain kept
      missing 66
      wrong-type 1
      live ended 0
      live removed
      live got: still here

      """)
    #expect(r.stderr.contains("a process is listening on this socket (stream); refusing to take it over"))
    #expect(r.stderr.contains("removed a stale socket file nobody listened on"))
    #expect(r.stderr.contains("nobody is listening there"))
  }

  @Test("ls sock agrees with ss -xlp on the listening sockets the test made")
  func agreesWithSS() throws {
    let r = run("""
      $S sock listen $d/a.sock 2>/dev/null & $S sock listen @swipc-abs --type seqpacket 2>/dev/null &
      $S sock listen $d/g.sock --type dgram 2>/dev/null &
      listening $d/a.sock; listening @swipc-abs
      for i in $(seq 100); do $S ls sock --format csv | grep -q "^$d/g.sock," && break; sleep 0.02; done
      ss -xlpn | awk 'NR > 1 { print $5, $6, $NF }' | sort; echo =====
      $S ls sock --format json; echo =====
      kill %1 %2 %3; wait
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    // ss: "PATH INODE users:(("swipc",pid=N,fd=3))"
    var fromSS: [String: (inode: Int, pid: Int)] = [:]
    for line in p[0].split(separator: "\n") {
      let f = line.split(separator: " ")
      guard f.count == 3, let inode = Int(f[1]),
        let pidText = f[2].split(separator: "pid=").last?.split(separator: ",").first, let pid = Int(pidText)
      else { continue }
      fromSS[String(f[0])] = (inode, pid)
    }
    let records = try #require(Harness.json(p[1]) as? [[String: Any]])
    let listening = records.filter { $0["state"] as? String == "listen" || $0["socket_type"] as? String == "dgram" && $0["path"] is String }
    var checked = 0
    for record in listening {
      guard let path = record["path"] as? String, let expected = fromSS[path] else { continue }
      #expect(record["inode"] as? Int == expected.inode, "inode of \(path)")
      let pids = (record["processes"] as? [[String: Any]] ?? []).compactMap { $0["pid"] as? Int }
      #expect(pids == [expected.pid], "holder of \(path)")
      checked += 1
    }
    #expect(checked == 3, "all three sockets seen by both: ss \(fromSS), swipc \(listening)")
    let types = Dictionary(uniqueKeysWithValues: listening.compactMap { r in (r["path"] as? String).map { ($0, r["socket_type"] as? String ?? "") } })
    #expect(types["@swipc-abs"] == "seqpacket")
    #expect(types.first { $0.key.hasSuffix("/g.sock") }?.value == "dgram")
  }
}
