import Foundation
import Testing

/// swipc bench, with small counts, in private IPC, mount, PID and network namespaces.
@Suite("Benchmark", .enabled(if: Harness.canUnshareNet, "needs unshare --ipc --mount --pid --net (root)"))
struct BenchTests {
  static let namespaces = Harness.privateNamespaces + ["--net"]
  /// Each test has a TMPDIR of its own, where the FIFO cells make their directories: the leftover
  /// count must not see those of a test running alongside.
  static let setup = """
    ip link set lo up; mount -t tmpfs none /dev/shm
    export TMPDIR=$(mktemp -d); trap 'rm -rf "$TMPDIR"' EXIT
    leftovers() { ipcs -a | awk 'NF && $1 ~ /^0x/' | wc -l; ls /dev/shm | wc -l; ls "$TMPDIR" | grep -c swipc-bench || true; pgrep -fc "[b]ench-peer" || true; }

    """

  func run(_ script: String, environment: [String: String] = [:]) -> Harness.Result {
    Harness.run(["unshare"] + Self.namespaces + ["bash", "-euo", "pipefail", "-c", Self.setup + script],
      environment: ["S": Harness.swipc, "H": Harness.helper].merging(environment) { a, _ in a })
  }

  @Test("every mechanism at two sizes: numbers for each, n/a above a limit, nothing left behind")
  func everyMechanism() throws {
    let r = run("""
      $S bench --sizes 64,16K --messages 300 --format json; echo =====
      leftovers; echo =====
      $S bench pipe msg --sizes 64,16K --messages 100; echo =====
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    let cells = try #require(Harness.json(p[0]) as? [[String: Any]])
    #expect(p[0].hasPrefix("[\n  {\"mechanism\":") && p[0].hasSuffix("}\n]\n"), "the array layout of every command: \(p[0].prefix(80))")
    #expect(cells.count == 22, "eleven mechanisms at two sizes")
    for cell in cells {
      let name = "\(cell["mechanism"] ?? "?") \(cell["size"] ?? "?")"
      if let skipped = cell["skipped"] as? String {
        let expected = (cell["mechanism"] as? String == "msg" || cell["mechanism"] as? String == "pmsg") && cell["size"] as? Int == 16384
          || cell["mechanism"] as? String == "shm-spin"
        #expect(expected, "\(name) skipped: \(skipped)")
      } else {
        let p50 = cell["p50_us"] as? Double ?? 0, p99 = cell["p99_us"] as? Double ?? 0
        #expect(p50 > 0 && p99 >= p50, "\(name): p50 \(p50), p99 \(p99)")
        #expect((cell["messages_per_s"] as? Int ?? 0) > 0 && (cell["mb_per_s"] as? Double ?? 0) > 0, "\(name)")
      }
    }
    let msg16 = cells.first { $0["mechanism"] as? String == "msg" && $0["size"] as? Int == 16384 }
    #expect(msg16?["skipped"] as? String == "n/a (limit 8192, MSGMAX)")
    #expect(p[1] == "0\n0\n0\n0\n", "no queue, segment, set, POSIX object, FIFO directory or peer is left")
    #expect(p[2].contains("64B messages") && p[2].contains("16K messages") && p[2].contains("█"))
    #expect(p[2].contains("n/a (limit 8192, MSGMAX)"))
  }

  @Test("the data path allocates nothing per message: allocations do not grow with --messages",
    .disabled(if: Harness.sanitizer != nil, "a sanitizer runtime owns malloc; LD_PRELOAD cannot count it"),
    .disabled(if: Harness.binaryIsStatic, "a static binary ignores LD_PRELOAD; the run against the debug build counts"))
  func noAllocationPerMessage() throws {
    // Next to the C helper (which makes .build/e2e).
    let library = URL(fileURLWithPath: Harness.helper).deletingLastPathComponent().path + "/malloccount-\(getpid()).so"
    let built = Harness.run(["cc", "-O2", "-shared", "-fPIC", "-o", library, Harness.packageRoot + "/Tests/Helpers/malloccount.c"])
    try #require(built.status == 0, "\(built.stderr)")
    defer { try? FileManager.default.removeItem(atPath: library) }
    let r = run("""
      for n in 500 10000; do
        LD_PRELOAD=$LIB $S bench pipe msg shm pshm unix-dgram --sizes 64,4K --messages $n --format csv 2>&1 >/dev/null | sort -k3 -n | awk '{ print $3 }' | tr '\\n' ' '
        echo
      done
      """, environment: ["LIB": library])
    try #require(r.status == 0, "\(r.stderr)")
    let runs = r.stdout.split(separator: "\n").map { $0.split(separator: " ").compactMap { Int($0) } }
    try #require(runs.count == 2)
    try #require(runs[0].count == 11, "a count from the parent and from each of ten peers (a static binary ignores LD_PRELOAD): \(r.stdout)")
    // 20 times the messages: the counts may differ by a few (wider numbers), not by thousands.
    for (small, large) in zip(runs[0], runs[1]) {
      #expect(abs(large - small) < 100, "allocations \(small) with 500 messages, \(large) with 10,000")
    }
  }

  @Test("SIGTERM, and a peer killed mid-run: every object is removed; exit 130 and 1")
  func cleanupOnSignals() throws {
    let r = run("""
      set +e
      $S bench shm --sizes 64 --messages 50000000 & b=$!
      for i in $(seq 100); do pgrep -f "[b]ench-peer" >/dev/null && break; sleep 0.05; done; sleep 0.2
      kill -TERM $b; wait $b; echo "terminated $?"; sleep 0.2; leftovers | tr '\\n' ' '; echo
      $S bench msg --sizes 64 --messages 50000000 & b=$!
      for i in $(seq 100); do pgrep -f "[b]ench-peer" >/dev/null && break; sleep 0.05; done; sleep 0.2
      pkill -KILL -f "[b]ench-peer"; wait $b; echo "peer killed $?"; leftovers | tr '\\n' ' '; echo
      """)
    try #require(r.status == 0, "\(r.stderr)")
    #expect(r.stdout == "terminated 130\n0 0 0 0 \npeer killed 1\n0 0 0 0 \n")
    #expect(r.stderr.contains("bench interrupted; every object it made was removed"))
    #expect(r.stderr.contains("the peer process exited"))
  }

  @Test("bench --help offers the formats its renderer declares, as every command's help does")
  func helpListsFormats() {
    let r = Harness.swipc(["bench", "--help"])
    let text = r.stdout.replacingOccurrences(of: "\n                          ", with: " ")
    #expect(text.contains("--format <format>       Output format: table, json or csv (default: table)."), "\(r.stdout)")
  }

  @Test("bad sizes and options are usage errors")
  func usage() throws {
    for args in [["--sizes", "0"], ["--sizes", "64,x"], ["--messages", "0"], ["nosuch"], ["--pin", "left"],
      ["--messages", "5", "--duration", "1s"], ["--format", "prometheus"], ["--format", "xml"]]
    {
      let r = Harness.swipc(["bench"] + args)
      #expect(r.status == 64, "\(args): \(r.stderr)")
      #expect(r.stderrLines.count == 1, "\(args): \(r.stderr)")
    }
  }
}
