import Foundation
import Testing

@Suite("Exit statuses and error lines")
struct ExitStatusTests {
  static let cases: [(arguments: [String], environment: [String: String], status: Int32)] = [
    (["ls", "--bogus"], [:], 64),
    (["ls", "bogus"], [:], 64),
    (["ls", "--format", "yaml"], [:], 64),
    (["ls", "-o", "KEY,NOPE"], [:], 64),
    (["ls", "--older-than", "5x"], [:], 64),
    (["ls", "--idle-for", ""], [:], 64),
    (["ls", "--key", "0x2000-0x1000"], [:], 64),
    (["ls", "--key", "zz"], [:], 64),
    (["ls", "--owner", "no-such-user-swipc"], [:], 64),
    (["ls", "--name", "a/b"], [:], 64),
    (["show", "shm"], [:], 64),
    (["show", "shm", "1", "--key", "0x1"], [:], 64),
    (["show", "shm", "--key", "0"], [:], 64),
    (["show", "shm", "--key", "0x"], [:], 64),
    (["show", "shm", "-5"], [:], 64),
    (["show", "pshm", "/a/b"], [:], 64),
    (["show", "pshm", "/.."], [:], 64),
    (["show", "bogus", "1"], [:], 64),
    (["show", "shm", "1", "--format", "csv"], [:], 64),
    (["show", "shm", "--ftok", "/etc/passwd:0"], [:], 64),
    (["limits", "-o", "KEY"], [:], 64),
    (["frobnicate"], [:], 64),
    (["show", "shm", "2147483647"], [:], 66),
    (["show", "msg", "2147483647"], [:], 66),
    (["show", "sem", "2147483647", "--format", "json"], [:], 66),
    (["show", "msg", "--key", "0x7ffe5a1c"], [:], 66),
    (["show", "msg", "--ftok", "/nonexistent/swipc"], [:], 66),
    (["show", "pshm", "/swipc-test-no-such-object"], [:], 66),
    (["show", "psem", "/swipc-test-no-such-object"], [:], 66),
    (["ls", "pmsg"], ["SWIPC_MQUEUE_DIR": "/nonexistent/mqueue"], 69),
    (["show", "pmsg", "/jobs"], ["SWIPC_MQUEUE_DIR": "/nonexistent/mqueue"], 69),
    (["ls", "msg"], ["SWIPC_SYSVIPC_DIR": "/nonexistent/sysvipc"], 69),
    (["ls", "msg", "shm", "sem"], ["SWIPC_SYSVIPC_DIR": "/nonexistent/sysvipc"], 69),
  ]

  @Test("each failure exits with the documented status and one line on stderr", arguments: cases)
  func failure(arguments: [String], environment: [String: String], status: Int32) {
    let r = Harness.swipc(arguments, environment: environment)
    #expect(r.status == status, "swipc \(arguments.joined(separator: " ")): \(r.stderr)")
    #expect(r.stderrLines.count == 1, "one line: \(r.stderr)")
    #expect(r.stderr.hasPrefix("swipc: "))
    #expect(!r.stderr.contains("Fatal error") && !r.stderr.contains("Stack dump"))
    #expect(r.stdout.isEmpty)
  }

  @Test("help and version succeed on stdout")
  func helpAndVersion() {
    for args in [["--help"], ["ls", "--help"], ["show", "--help"], ["limits", "--help"], ["--version"]] {
      let r = Harness.swipc(args)
      #expect(r.status == 0 && !r.stdout.isEmpty && r.stderr.isEmpty, "\(args)")
    }
  }

  @Test("an unmounted mqueue filesystem is said once, and the rest is listed")
  func mqueueWarning() {
    let r = Harness.swipc(["ls", "--format", "json"], environment: ["SWIPC_MQUEUE_DIR": "/nonexistent/mqueue"])
    #expect(r.status == 0)
    #expect(r.stderrLines.count == 1 && r.stderr.contains("mount -t mqueue"))
    #expect(Harness.json(r.stdout) is [Any])
  }

  @Test("a malformed /proc line is reported by number and the rest listed")
  func malformedFixture() throws {
    let dir = NSTemporaryDirectory() + "swipc-fixture-\(getpid())"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try """
             key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime
             119          0   600          3     0     0     0     0          0 1795637821
      this line is broken
             120          1   600          1     0     0     0     0          0 1795637821

      """.write(toFile: dir + "/sem", atomically: true, encoding: .utf8)
    let r = Harness.swipc(["ls", "sem", "--format", "json"], environment: ["SWIPC_SYSVIPC_DIR": dir])
    #expect(r.status == 0)
    #expect(r.stderrLines.count == 1 && r.stderr.contains("line 3"))
    let rows = Harness.json(r.stdout) as? [[String: Any]]
    #expect(rows?.compactMap { $0["id"] as? Int } == [0, 1])
  }
}
