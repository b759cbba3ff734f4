import ArgumentParser
import Glibc
import SwipcCore

/// The command lines people run in shell loops, from monitoring and from cron — `ls`, `limits`,
/// `msg|shm|sem create`, `rm` and `clean` — read without argument-parser.
///
/// argument-parser builds a command by reflection: for every property wrapper it instantiates
/// generic metadata and looks up protocol conformances, each lookup a scan of the binary's ~4,000
/// conformance records. That is about 2 ms of every start, more than `lsipc` or `ipcmk` take in
/// all. This reader takes only the plain forms (`--opt value`, `--opt=value`, `-o value`, flags,
/// positionals); as in argument-parser, a repeated option's last value counts (all of them for the
/// repeating ones), and of `--exclusive` and `--no-exclusive` the last. Every value must parse.
/// Anything else — help, completion requests, `--`, unknown options, grouped short flags, bad
/// values, a second positional — returns false before anything has run, and argument-parser
/// reads the command line as always, reporting its errors its own way. Both readers fill the same
/// settings and run the same plan, so the result cannot differ; `QuickPathTests` checks that,
/// option by option, against `SWIPC_PARSER=full`.
enum QuickPath {
  /// Runs `arguments` and returns true when it is a command line this reader takes; returns false,
  /// having done nothing, when argument-parser must read it. Errors of the command itself propagate.
  static func run(_ arguments: [String]) throws -> Bool {
    guard let command = arguments.first else { return false }
    switch command {
    case "ls":
      guard let plan = listPlan(arguments.dropFirst()) else { return false }
      try plan.run()
    case "limits":
      guard let line = QuickCommandLine(arguments.dropFirst(), options: outputOptions),
        let output = outputSettings(line, formats: LimitsRenderer.formats),
        let kinds = try? line.positionals.map({ try parseKind($0) })
      else { return false }
      try LimitsPlan(kinds: kinds, output: output).run()
    case "rm":
      guard let plan = removePlan(arguments.dropFirst()) else { return false }
      try plan.run()
    case "clean":
      guard let plan = cleanPlan(arguments.dropFirst()) else { return false }
      try plan.run()
    case "msg", "shm", "sem":
      guard arguments.count > 1, arguments[1] == "create",
        let request = createRequest(command, arguments.dropFirst(2))
      else { return false }
      try runCreate(request)
    default:
      return false
    }
    return true
  }

  static let outputOptions: [QuickCommandLine.Option] = [
    .init("--format"), .flag("--no-headings"), .flag("--bytes", short: "b"), .flag("--numeric", short: "n"),
  ]
  static let filterOptions: [QuickCommandLine.Option] = [
    .init("--owner"), .init("--creator"), .unconditional("--key", short: "k"), .init("--name"), .init("--older-than"), .init("--idle-for"),
    .init("--min-age"), .flag("--ignore-hidden"), .flag("--unattached"), .flag("--orphaned"), .flag("--removed"), .flag("--world-writable"), .flag("--world-readable"),
  ]
  static let createOptions: [QuickCommandLine.Option] = [
    .unconditional("--key", short: "k"), .init("--ftok"), .init("--mode"),
    .flag("--exclusive", inverse: "--no-exclusive"), .flag("--no-exclusive", inverse: "--exclusive"),
  ]
  static let kindCreateOptions: [String: [QuickCommandLine.Option]] = [
    "msg": [.init("--max-bytes"), .init("--max-messages"), .init("--message-size")],
    "shm": [.init("--size")],
    "sem": [.init("--count"), .init("--value"), .init("--values")],
  ]

  static let removeOptions: [QuickCommandLine.Option] = [
    .unconditional("--key", short: "k"), .init("--ftok"), .flag("--quiet", short: "q"),
  ]

  static func removePlan(_ arguments: ArraySlice<String>) -> RemovePlan? {
    guard let line = QuickCommandLine(arguments, options: removeOptions),
      let type = line.positionals.first, let kind = try? parseKind(type)
    else { return nil }
    var keys = [IPCKey](), ftoks = [String]()
    guard line.values("--key", into: &keys, { try? IPCKey(parsing: $0) }), line.values("--ftok", into: &ftoks, { $0 })
    else { return nil }
    return try? RemovePlan(
      kind: kind, targets: Array(line.positionals.dropFirst()), keys: keys, ftoks: ftoks, quiet: line.flag("--quiet"))
  }

  static let cleanOptions: [QuickCommandLine.Option] = filterOptions + [
    .flag("--all"), .flag("--all-users"), .flag("--dry-run"), .flag("--yes", short: "y"),
    .init("--format"), .flag("--bytes", short: "b"), .flag("--no-headings"),
  ]

  static func cleanPlan(_ arguments: ArraySlice<String>) -> CleanPlan? {
    var format = OutputFormat.table
    guard let line = QuickCommandLine(arguments, options: cleanOptions), let filters = filterSettings(line),
      line.value("--format", into: &format, { try? OutputFormat(parsing: $0, accepted: CleanReportRenderer.formats) }),
      let types = try? line.positionals.map({ try parseKind($0) })
    else { return nil }
    return try? CleanPlan(
      types: types, filters: filters, all: line.flag("--all"), allUsers: line.flag("--all-users"),
      dryRun: line.flag("--dry-run"), yes: line.flag("--yes"), format: format, bytes: line.flag("--bytes"),
      noHeadings: line.flag("--no-headings"))
  }

  /// The output options, or nil when --format is not one of `formats` (argument-parser says why).
  static func outputSettings(_ line: QuickCommandLine, formats: [OutputFormat]) -> OutputSettings? {
    var output = OutputSettings()
    guard
      line.value("--format", into: &output.format, { try? OutputFormat(parsing: $0, accepted: formats) }),
      line.value("--columns", into: &output.columns, { $0 })
    else { return nil }
    output.noHeadings = line.flag("--no-headings")
    output.bytes = line.flag("--bytes")
    output.numeric = line.flag("--numeric")
    return output
  }

  static func listPlan(_ arguments: ArraySlice<String>) -> ListPlan? {
    guard let line = QuickCommandLine(arguments, options: outputOptions + [.init("--columns", short: "o")] + filterOptions),
      let output = outputSettings(line, formats: ObjectListRenderer.formats), let filters = filterSettings(line)
    else { return nil }
    return try? ListPlan(types: line.positionals, filters: filters, output: output)
  }

  /// The filters shared by `ls` and `clean`, or nil when a value does not parse.
  static func filterSettings(_ line: QuickCommandLine) -> FilterSettings? {
    var filters = FilterSettings()
    guard
      line.values("--owner", into: &filters.owner, { $0 }),
      line.values("--creator", into: &filters.creator, { $0 }),
      line.values("--key", into: &filters.key, { try? IPCKeyRange(parsing: $0) }),
      line.values("--name", into: &filters.name, { $0 }),
      line.value("--older-than", into: &filters.olderThan, { try? TimeSpan(parsing: $0) }),
      line.value("--idle-for", into: &filters.idleFor, { try? TimeSpan(parsing: $0) }),
      line.value("--min-age", into: &filters.minAge, { try? TimeSpan(parsing: $0) })
    else { return nil }
    filters.unattached = line.flag("--unattached")
    filters.orphaned = line.flag("--orphaned")
    filters.ignoreHidden = line.flag("--ignore-hidden")
    filters.removed = line.flag("--removed")
    filters.worldWritable = line.flag("--world-writable")
    filters.worldReadable = line.flag("--world-readable")
    return filters
  }

  static func createRequest(_ kind: String, _ arguments: ArraySlice<String>) -> CreateRequest? {
    guard let line = QuickCommandLine(arguments, options: createOptions + (kindCreateOptions[kind] ?? [])),
      line.positionals.count <= 1
    else { return nil }
    var spec = CreateSpec(name: line.positionals.first)
    guard
      line.value("--key", into: &spec.keys.key, { try? IPCKey(parsing: $0) }),
      line.value("--ftok", into: &spec.keys.ftok, { $0 }),
      line.value("--mode", into: &spec.mode, { try? FileMode(parsing: $0) })
    else { return nil }
    if line.flag("--exclusive") { spec.exclusive = true }
    if line.flag("--no-exclusive") { spec.exclusive = false }
    switch kind {
    case "msg":
      var maxBytes: ByteCount?, maxMessages: Int?, messageSize: Int?
      guard
        line.value("--max-bytes", into: &maxBytes, { try? ByteCount(parsing: $0) }),
        line.value("--max-messages", into: &maxMessages, { Int($0) }),
        line.value("--message-size", into: &messageSize, { Int($0) })
      else { return nil }
      return try? spec.queue(maxBytes: maxBytes, maxMessages: maxMessages, messageSize: messageSize)
    case "shm":
      var size: ByteCount?
      guard line.value("--size", into: &size, { try? ByteCount(parsing: $0) }) else { return nil }
      return try? spec.segment(size: size)
    default:
      var count: Int?, value: Int?, values: String?
      guard
        line.value("--count", into: &count, { Int($0) }),
        line.value("--value", into: &value, { Int($0) }),
        line.value("--values", into: &values, { $0 })
      else { return nil }
      return try? spec.semaphore(count: count, value: value, values: values)
    }
  }
}

/// A command line split by a table of options, or nil when it has any form the table does not
/// describe. See `QuickPath`.
struct QuickCommandLine {
  struct Option {
    var name: String
    var short: Character?
    var takesValue = true
    /// The other spelling of an inverted flag: the later of the two counts.
    var inverse: String?
    /// Takes the next argument as its value even when it starts with '-', as argument-parser's
    /// `parsing: .unconditional` does: keys are signed (`--key -1`).
    var unconditional = false

    init(_ name: String, short: Character? = nil) {
      self.name = name
      self.short = short
    }

    /// An option whose value may start with '-'.
    static func unconditional(_ name: String, short: Character? = nil) -> Option {
      var option = Option(name, short: short)
      option.unconditional = true
      return option
    }

    static func flag(_ name: String, short: Character? = nil, inverse: String? = nil) -> Option {
      var option = Option(name, short: short)
      option.takesValue = false
      option.inverse = inverse
      return option
    }
  }

  private(set) var positionals: [String] = []
  private var given: [String: [String]] = [:]

  init?(_ arguments: ArraySlice<String>, options: [Option]) {
    var remaining = arguments[...]
    while let argument = remaining.popFirst() {
      guard argument.hasPrefix("-") else {
        positionals.append(argument)
        continue
      }
      var name = argument
      var inline: String?
      if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
        name = String(argument[..<equals])
        inline = String(argument[argument.index(after: equals)...])
      }
      let option: Option?
      if name.hasPrefix("--") {
        option = options.first { $0.name == name }
      } else if name.count == 2 {
        option = options.first { $0.short != nil && "-\($0.short!)" == name }
      } else {
        option = nil
      }
      guard let option else { return nil }
      if option.takesValue {
        if let inline {
          given[option.name, default: []].append(inline)
        } else {
          guard let value = remaining.popFirst(), option.unconditional || !value.hasPrefix("-") else { return nil }
          given[option.name, default: []].append(value)
        }
      } else {
        guard inline == nil else { return nil }
        given[option.name] = [""]
        if let inverse = option.inverse { given[inverse] = nil }
      }
    }
  }

  func flag(_ name: String) -> Bool { given[name] != nil }

  /// Stores the parsed value of `name` (its last) when it was given; false when it does not parse.
  func value<T>(_ name: String, into target: inout T, _ parse: (String) -> T?) -> Bool {
    guard let text = given[name]?.last else { return true }
    guard let value = parse(text) else { return false }
    target = value
    return true
  }

  func value<T>(_ name: String, into target: inout T?, _ parse: (String) -> T?) -> Bool {
    guard let text = given[name]?.last else { return true }
    guard let value = parse(text) else { return false }
    target = value
    return true
  }

  /// Stores every parsed value of a repeating option; false when one does not parse.
  func values<T>(_ name: String, into target: inout [T], _ parse: (String) -> T?) -> Bool {
    for text in given[name] ?? [] {
      guard let value = parse(text) else { return false }
      target.append(value)
    }
    return true
  }
}
