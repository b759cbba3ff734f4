import Foundation
import Testing

@testable import swipc
import SwipcCore

/// Every option the fast reader takes must be one argument-parser declares for that command, with
/// the same names, arity, repetition and parsing, and the other way round: an option added to one
/// reader and not the other fails here. The declarations are read from
/// `swipc --experimental-dump-help` of the debug build of this same source; nothing needs root.
@Suite("The fast reader's tables match argument-parser's options")
struct QuickTableTests {
  static let binary: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path + "/.build/debug/swipc"
  }()

  static func dumpHelp() throws -> [String: Any] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = ["--experimental-dump-help"]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let json = try JSONSerialization.jsonObject(with: data) as? [String: Any]
    return try #require(json?["command"] as? [String: Any])
  }

  /// One option, described the same way from either side.
  static func signature(long: String?, short: String?, takesValue: Bool, repeats: Bool, unconditional: Bool) -> String {
    "\(long ?? "-") short=\(short ?? "-") \(takesValue ? "option" : "flag")\(repeats ? " repeating" : "")\(unconditional ? " unconditional" : "")"
  }

  /// The options argument-parser declares for the command at `path`, without help and version.
  static func declared(_ command: [String: Any], path: [String]) throws -> [String] {
    var command = command
    for name in path {
      let subs = command["subcommands"] as? [[String: Any]] ?? []
      command = try #require(subs.first { $0["commandName"] as? String == name }, "no command \(path)")
    }
    var result = [String]()
    for argument in command["arguments"] as? [[String: Any]] ?? [] where argument["kind"] as? String != "positional" {
      let names = argument["names"] as? [[String: Any]] ?? []
      func name(_ kind: String) -> String? {
        names.first { $0["kind"] as? String == kind }.flatMap { $0["name"] as? String }
      }
      let long = name("long").map { "--" + $0 }
      if long == "--help" || long == "--version" { continue }
      let isFlag = argument["kind"] as? String == "flag"
      result.append(signature(
        long: long, short: name("short"), takesValue: !isFlag, repeats: !isFlag && argument["isRepeating"] as? Bool == true,
        unconditional: argument["parsingStrategy"] as? String == "unconditional"))
    }
    return result.sorted()
  }

  static func tabled<C: QuickCommand>(_ command: C.Type) -> [String] {
    C.table.options.map {
      signature(long: $0.long, short: $0.short.map(String.init), takesValue: $0.takesValue, repeats: $0.repeats, unconditional: $0.unconditional)
    }.sorted()
  }

  @Test("every quick command's table declares exactly argument-parser's options")
  func tablesMatchDeclarations() throws {
    let root = try Self.dumpHelp()
    #expect(QuickPath.commands.count == 7)
    for command in QuickPath.commands {
      let declared = try Self.declared(root, path: command.path)
      #expect(!declared.isEmpty, "\(command.path)")
      #expect(Self.tabled(command) == declared, "\(command.path): fast reader vs argument-parser")
    }
  }

  @Test("a table reads every spelling into the request argument-parser fills")
  func readsSpellings() throws {
    let line = ["--owner", "root", "--owner=nobody", "-k", "-1", "--format=json", "-o", "ID", "-b", "msg", "shm"]
    let request = try #require(Swipc.Ls.table.read(line[...], into: Swipc.Ls.blankRequest))
    let parsed = try Swipc.Ls.parse(line)
    #expect(request.filters.owner == parsed.request.filters.owner)
    #expect(request.filters.key == parsed.request.filters.key)
    #expect(request.output.format == parsed.request.output.format && request.output.format == .json)
    #expect(request.output.columns == parsed.request.output.columns && request.output.bytes)
    #expect(request.types == parsed.request.types)
  }

  @Test("forms the table does not describe are left to argument-parser", arguments: [
    ["--bogus"], ["-bn"], ["--format"], ["--format", "yaml"], ["--bytes=yes"], ["-k=0x1"], ["--", "msg"], ["-"],
    ["--key", "0x2000-0x1000"], ["--help"], ["--columns="],
  ])
  func declines(_ line: [String]) {
    #expect(Swipc.Ls.table.read(line[...], into: Swipc.Ls.blankRequest) == nil)
  }

  @Test("--exclusive and --no-exclusive: the later counts, as in argument-parser")
  func invertedFlag() throws {
    for (line, expected) in [(["--exclusive", "--no-exclusive"], false), (["--no-exclusive", "--exclusive"], true)] {
      let request = try #require(Swipc.Shm.Create.table.read(line[...], into: Swipc.Shm.Create.blankRequest))
      #expect(request.exclusive == expected)
      #expect(try Swipc.Shm.Create.parse(line).request.exclusive == expected)
    }
  }
}
