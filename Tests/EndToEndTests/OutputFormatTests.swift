import Foundation
import Testing

/// --format and the output options as each command declares them: its help offers only what it
/// accepts, anything else is a usage error, and JSON arrays have one layout.
@Suite("Output formats per command")
struct OutputFormatTests {
  /// The `--format` help line of a command, and whether its help offers -o/--columns.
  func help(_ command: [String]) -> (format: String, columns: Bool) {
    let r = Harness.swipc(command + ["--help"])
    let text = r.stdout.replacingOccurrences(of: "\n                          ", with: " ")
    let line = text.split(separator: "\n").first { $0.hasPrefix("  --format <format>") }.map(String.init) ?? ""
    return (line, text.contains("--columns"))
  }

  @Test("help lists only the formats and options a command accepts")
  func helpListsAccepted() {
    let show = help(["show"])
    #expect(show.format.contains("Output format: table or json (default: table)."), "\(show.format)")
    #expect(!show.columns, "show refuses -o/--columns, so its help does not offer it")
    let clean = help(["clean"])
    #expect(clean.format.contains("Output format: table or json (default: table)."), "\(clean.format)")
    let limits = help(["limits"])
    #expect(limits.format.contains("Output format: table, json, csv or prometheus"), "\(limits.format)")
    #expect(!limits.columns, "limits refuses -o/--columns, so its help does not offer it")
    let ls = help(["ls"])
    #expect(ls.format.contains("Output format: table, json, csv or prometheus"), "\(ls.format)")
    #expect(ls.columns)
  }

  static let refused: [[String]] = [
    ["show", "shm", "0", "--format", "csv"], ["show", "shm", "0", "--format", "prometheus"], ["show", "shm", "0", "-o", "ID"],
    ["limits", "-o", "ID"], ["limits", "--columns=ID"], ["limits", "--format", "xml"], ["ls", "--format", "xml"],
    ["ls", "pipe", "--format", "prometheus"], ["ls", "sock", "--format", "prometheus"],
    ["clean", "--all", "--dry-run", "--format", "csv"], ["clean", "--all", "--dry-run", "--format", "prometheus"],
  ]

  @Test("a format or option a command does not take is a usage error (64) on one line, with either argument reader", arguments: refused)
  func refusedFormats(arguments: [String]) {
    for parser in ["", "full"] {
      let r = Harness.swipc(arguments, environment: parser.isEmpty ? [:] : ["SWIPC_PARSER": parser])
      #expect(r.status == 64, "\(arguments) \(parser): \(r.stderr)")
      #expect(r.stdout.isEmpty && r.stderrLines.count == 1, "\(arguments) \(parser): \(r.stderr)")
    }
  }

  @Test("ls pipe, ls and limits write JSON arrays in one layout: an object a line, indented by two",
    .enabled(if: Harness.canUnshareAll, "needs unshare --ipc --mount --pid (root)"))
  func oneJSONLayout() throws {
    let r = Harness.inNamespace("""
      d=$(mktemp -d); trap 'rm -rf $d' EXIT
      mkfifo $d/f; sleep 30 < $d/f & exec 3>$d/f
      $S shm create --size 4096 >/dev/null; $S shm create --size 4096 >/dev/null
      $S ls pipe --format json; echo =====
      $S ls shm --format json; echo =====
      $S limits msg --format json; echo =====
      kill %1
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    try #require(p.count >= 3)
    for (name, text) in zip(["ls pipe", "ls shm", "limits"], p) {
      let lines = text.split(separator: "\n")
      #expect(lines.count >= 3 && lines.first == "[" && lines.last == "]", "\(name): \(text)")
      #expect(lines.dropFirst().dropLast().allSatisfy { $0.hasPrefix("  {") && ($0.hasSuffix("},") || $0.hasSuffix("}")) }, "\(name): \(text)")
      #expect(Harness.json(text) is [[String: Any]], "\(name): \(text)")
    }
  }
}
