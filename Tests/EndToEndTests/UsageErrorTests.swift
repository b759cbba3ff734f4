import Testing

/// Every usage error has one layout, whichever reader read the line and wherever the rule lives
/// (argument-parser, a request's `validate()`, the core): one line on stderr, `swipc: MESSAGE (see
/// 'swipc CMD [SUB] --help')` naming the help of the deepest command given, nothing on stdout,
/// exit 64. Each line here is refused before any object is looked at.
@Suite("One layout for every usage error")
struct UsageErrorTests {
  static let lines: [(arguments: [String], help: String)] = [
    (["ls", "bogus"], "swipc ls"),
    (["ls", "--min-age", "1m"], "swipc ls"),
    (["ls", "--format", "yaml"], "swipc ls"),
    (["limits", "-o", "KEY"], "swipc limits"),
    (["rm", "shm"], "swipc rm"),
    (["rm", "shm", "x"], "swipc rm"),
    (["shm", "create", "--size", "4K", "--key", "0"], "swipc shm create"),
    (["shm", "create"], "swipc shm create"),
    (["sem", "create", "--values", "1,x"], "swipc sem create"),
    (["msg", "send", "1", "--type", "0", "hi"], "swipc msg send"),
    (["msg", "recv", "1", "--count", "0"], "swipc msg recv"),
    (["msg", "recv", "1", "--lines", "--null"], "swipc msg recv"),
    (["show", "shm", "1", "--format", "csv"], "swipc show"),
    (["show", "shm"], "swipc show"),
    (["chmod", "shm", "1", "999"], "swipc chmod"),
    (["clean", "--all", "--dry-run", "--yes"], "swipc clean"),
    (["clean", "--all"], "swipc clean"),
    (["bogus"], "swipc"),
  ]

  @Test("one line naming the command's help, exit 64, with either reader", arguments: ["full", "default"])
  func layout(parser: String) {
    for (arguments, help) in Self.lines {
      let r = Harness.swipc(arguments, environment: parser == "full" ? ["SWIPC_PARSER": "full"] : [:])
      #expect(r.status == 64, "\(arguments): \(r.stderr)")
      #expect(r.stdout.isEmpty, "\(arguments)")
      #expect(r.stderr.hasPrefix("swipc: "), "\(arguments): \(r.stderr)")
      #expect(r.stderr.hasSuffix(" (see '\(help) --help')\n"), "\(arguments): \(r.stderr)")
      #expect(r.stderr.filter { $0 == "\n" }.count == 1, "\(arguments): \(r.stderr)")
    }
  }
}
