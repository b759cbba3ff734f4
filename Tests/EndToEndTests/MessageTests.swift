import Foundation
import Testing

/// msg send and msg recv against a C client, in private namespaces.
@Suite("Messages: send and receive", .enabled(if: Harness.canUnshareAll, "needs unshare --ipc --mount --pid (root)"))
struct MessageTests {
  static let mqueue = "mkdir -p /dev/mqueue; mount -t mqueue none /dev/mqueue\n"

  /// Fills a fresh queue with types 4, 3, 2, 1 (texts "four"...) and prints its id.
  static let fourTypes = """
    fill() { q=$($H msg-create 0 0600); $H msg-send $q 4 four; $H msg-send $q 3 three; $H msg-send $q 2 two; $H msg-send $q 1 one; echo $q; }
    hex() { od -An -tx1 | tr -d ' \\n'; }

    """

  /// (swipc options, C msgrcv type, C flags): each rule on the same queue state.
  static let rules: [(String, Int, String)] = [
    ("--type 0", 0, "n"), ("--type 3", 3, "n"), ("--type 1", 1, "n"), ("--type -2", -2, "n"),
    ("--type -9", -9, "n"), ("--type 3 --except", 3, "ne"), ("--type 4 --except", 4, "ne"),
    ("--type 7", 7, "n"), ("--type -0", 0, "n"),
    ("--max-size 3", 0, "n3"), ("--max-size 3 --truncate", 0, "nt3"), ("--type 2 --max-size 2 --truncate", 2, "nt2"),
  ]

  @Test("the msgtyp rules, MSG_EXCEPT, E2BIG and --truncate match C msgrcv on the same queue", arguments: rules)
  func typeRules(options: String, type: Int, flags: String) throws {
    let maxSize = flags.filter(\.isNumber).isEmpty ? "8192" : flags.filter(\.isNumber)
    let r = Harness.inNamespace(Self.fourTypes + """
      a=$(fill); b=$(fill)
      set +e
      $S msg recv $a \(options) --nowait --format json; echo "status $?"; echo =====
      $H msg-recv $b \(type) \(maxSize) \(flags.filter { !$0.isNumber }); echo =====
      $S ls msg --format json -o ID,MSGS; echo =====
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    let c = p[1].trimmingCharacters(in: .whitespacesAndNewlines)
    let counts = (Harness.json(p[2]) as? [[String: Any]])?.map { $0["msgs"] as? Int } ?? []
    #expect(counts.count == 2 && counts[0] == counts[1], "both queues lose the same message (or none): \(counts)")
    if c == "ENOMSG" {
      #expect(p[0].hasSuffix("status 75\n") && r.stderr.contains("no message is waiting"))
    } else if c == "E2BIG" {
      #expect(p[0].hasSuffix("status 1\n") && r.stderr.contains("is larger than --max-size \(maxSize)"))
      // The message's own size, from MSG_COPY: "four", "three", "two" and "one" are 4, 5, 3, 3 bytes.
      #expect(r.stderr.contains("the next matching message of "), "\(r.stderr)")
    } else {
      let fields = c.split(separator: " ")
      let json = try #require(Harness.json(String(p[0].split(separator: "\n")[0])) as? [String: Any])
      #expect(json["type"] as? Int == Int(fields[0]))
      #expect(json["size"] as? Int == Int(fields[1]))
      let data = (json["data"] as? String ?? "").utf8.map { String(format: "%02x", $0) }.joined()
      #expect(data == (fields.count > 2 ? String(fields[2]) : ""))
    }
  }

  @Test("interop both ways: C sends, swipc receives; swipc sends, C receives (System V and POSIX)")
  func interop() throws {
    let r = Harness.inNamespace(Self.mqueue + """
      q=$($H msg-create 0 0600)
      $H msg-send $q 7 from-c; $S msg recv $q --format json; echo =====
      $S msg send $q --type 9 from swipc; $H msg-recv $q 0 8192 n; echo =====
      $H mq-create /q 10 256; $H mq-send /q 3 from-c; $S msg recv /q --format json; echo =====
      $S msg send /q --priority 4 from swipc; $H mq-recv /q; echo =====
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    #expect(p[0] == "{\"type\":7,\"size\":6,\"encoding\":\"utf-8\",\"data\":\"from-c\"}\n")
    #expect(p[1] == "9 10 " + Array("from swipc".utf8).map { String(format: "%02x", $0) }.joined() + "\n")
    #expect(p[2] == "{\"priority\":3,\"size\":6,\"encoding\":\"utf-8\",\"data\":\"from-c\"}\n")
    #expect(p[3].hasPrefix("4 10 "))
  }

  @Test("1,000 random binary messages, one per invocation, come back byte-identical (System V and POSIX)")
  func binaryRoundTrip() throws {
    let r = Harness.inNamespace(Self.mqueue + """
      q=$($S msg create); $S msg create /bin --max-messages 10 --message-size 8192 >/dev/null
      dir=$(mktemp -d); trap 'rm -rf $dir' EXIT
      python3 - "$dir" <<'PY'
      import os, random, sys
      rng = random.Random(7)
      for i in range(1000):
          size = rng.choice([0, 1, 2, 8191, 8192]) if i < 10 else rng.randint(0, 8192)
          data = bytes(rng.getrandbits(8) for _ in range(size))
          if i % 7 == 0: data = data.replace(b"\\0", b"") + b"\\0"  # NUL bytes at the end too
          open(os.path.join(sys.argv[1], "%04d" % i), "wb").write(data[:8192])
      PY
      $S msg recv $q --count 1000 --format json > $dir/sysv.json & a=$!
      $S msg recv /bin --count 1000 --format json > $dir/posix.json & b=$!
      for f in $dir/[0-9][0-9][0-9][0-9]; do
        $S msg send $q < $f
        $S msg send /bin < $f
      done
      wait $a $b
      python3 - "$dir" <<'PY'
      import base64, hashlib, json, os, sys
      d = sys.argv[1]
      want = [open(os.path.join(d, "%04d" % i), "rb").read() for i in range(1000)]
      print(hashlib.md5(b"".join(want)).hexdigest()); print("=====")
      for name in ("sysv.json", "posix.json"):
          got = []
          for line in open(os.path.join(d, name)):
              m = json.loads(line)
              data = base64.b64decode(m["data"]) if m["encoding"] == "base64" else m["data"].encode()
              assert len(data) == m["size"]
              got.append(data)
          print(hashlib.md5(b"".join(got)).hexdigest(), len(got), sum(a == b for a, b in zip(want, got))); print("=====")
      PY
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    let digest = p[0].trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(p[1] == "\(digest) 1000 1000\n", "System V: every message identical, in order")
    #expect(p[2] == "\(digest) 1000 1000\n", "POSIX: every message identical, in order")
  }

  @Test("100,000 lines in one --lines stream arrive intact and in order (System V and POSIX)")
  func lineStream() throws {
    let r = Harness.inNamespace(Self.mqueue + """
      q=$($S msg create)
      l=$(mktemp); trap 'rm -f $l' EXIT; seq 1 100000 | sed 's/$/ some text/' > $l
      md5sum < $l; echo =====
      $S msg send $q --lines < $l & $S msg recv $q --count 100000 --lines | md5sum; wait; echo =====
      $S msg create /lines >/dev/null  # before the receiver starts: it does not create
      $S msg send /lines --create --lines < $l & $S msg recv /lines --count 100000 --lines | md5sum; wait; echo =====
      printf 'a\\0b\\0' | $S msg send $q --null; $S msg recv $q --count 2 --format json; echo =====
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    #expect(p[1] == p[0] && p[2] == p[0])
    #expect(p[3] == "{\"type\":1,\"size\":1,\"encoding\":\"utf-8\",\"data\":\"a\"}\n{\"type\":1,\"size\":1,\"encoding\":\"utf-8\",\"data\":\"b\"}\n")
  }

  @Test("waiting: --nowait and --timeout exit 75 in time; SIGINT exits 130; a removed queue exits 66; full queue")
  func waiting() throws {
    let r = Harness.inNamespace(Self.mqueue + """
      set -m +e
      # Waits until PID sleeps in msgrcv (x86_64 70, aarch64 188): its signal handling is set up.
      case $(uname -m) in aarch64) rcv=188 ;; *) rcv=70 ;; esac
      blocked() { local i; for i in $(seq 500); do [ "$(cut -d' ' -f1 /proc/$1/syscall 2>/dev/null)" = $rcv ] && return 0; sleep 0.02; done; echo "pid $1 never blocked"; }
      q=$($S msg create)
      s=$(date +%s%N); $S msg recv $q --timeout 200ms; st=$?; e=$(date +%s%N); echo "status $st ms $(( (e - s) / 1000000 ))"; echo =====
      $S msg recv $q --nowait; echo "status $?"; echo =====
      $S msg recv $q & pid=$!; blocked $pid; kill -INT $pid; wait $pid; echo "status $?"; echo =====
      $S msg send $q kept; $S msg recv $q --count 2 & pid=$!; blocked $pid; kill -INT $pid; wait $pid; echo " status $?"; echo =====
      $S msg recv $q & pid=$!; blocked $pid; $S rm msg $q >/dev/null; wait $pid; echo "status $?"; echo =====
      f=$($S msg create --max-bytes 8); $S msg send $f 12345678; $S msg send $f x --nowait; echo "status $?"; echo =====
      $S msg send $f x --timeout 100ms; echo "status $?"; echo =====
      g=$($S msg create); head -c 9000 /dev/zero | $S msg send $g; echo "status $?"; echo =====
      $S msg create /small --max-messages 1 --message-size 16 >/dev/null; head -c 17 /dev/zero | $S msg send /small; echo "status $?"; echo =====
      $S msg send 999999 hi; echo "status $?"; echo =====
      $S msg send $f 123456789; echo "status $?"; echo =====
      nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
      nobody $S msg send $g hi; echo "status $?"; nobody $S msg recv $g --nowait; echo "status $?"; echo =====
      """)
    let p = Harness.sections(r.stdout)
    try #require(p.count >= 11, "\(r.stdout) \(r.stderr)")
    let timing = p[0].split(separator: " ")
    #expect(timing[1] == "75")
    let ms = Int(timing[3].trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    // The upper bound allows for a loaded machine's start-up; an ignored timeout would never end.
    #expect(ms >= 190 && ms < 1500, "timeout took \(ms) ms")
    #expect(p[1] == "status 75\n")
    #expect(p[2] == "status 130\n")
    #expect(p[3] == "kept status 130\n", "the message received before SIGINT is written")
    #expect(p[4] == "status 66\n" && r.stderr.contains("was removed while waiting"))
    #expect(p[5] == "status 75\n" && p[6] == "status 75\n")
    #expect(p[7] == "status 1\n" && r.stderr.contains("standard input: message of more than 8192 bytes exceeds MSGMAX (8192, /proc/sys/kernel/msgmax)"))
    #expect(p[8] == "status 1\n" && r.stderr.contains("exceeds the queue's message size (mq_msgsize 16)"))
    #expect(p[9] == "status 66\n")
    #expect(p[10] == "status 1\n" && r.stderr.contains("message of 9 bytes exceeds the queue's byte limit (msg_qbytes 8)"))
    #expect(p[11] == "status 77\nstatus 77\n" && r.stderr.contains("permission denied"))
  }
}
