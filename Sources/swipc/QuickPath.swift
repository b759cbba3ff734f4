import SwipcCore

/// The command lines people run in shell loops, from monitoring and from cron — `ls`, `limits`,
/// `msg|shm|sem create`, `rm` and `clean` — read without argument-parser.
///
/// argument-parser builds a command by reflection: for every property wrapper it instantiates
/// generic metadata and looks up protocol conformances, each lookup a scan of the binary's ~4,000
/// conformance records. That is about 2 ms of every start, more than `lsipc` or `ipcmk` take in
/// all. This reader takes only the plain forms (`--opt value`, `--opt=value`, `-o value`, flags,
/// positionals), driven by the command's `QuickTable`; as in argument-parser, options are applied
/// in order, so a repeated option's last value counts (all of them for the repeating ones). Every
/// value must parse. Anything else — help, completion requests, `--`, unknown options, grouped
/// short flags, bad values, a second positional — returns false before anything has run, and
/// argument-parser reads the command line as always, reporting its errors its own way. A command
/// line read here runs exactly as argument-parser's would: the same request, validated by the same
/// `validate()`, run by the same `perform`. `QuickTableTests` checks every table against the
/// options argument-parser declares; `QuickPathTests` runs both readers side by side.
enum QuickPath {
  /// The commands read here.
  static var commands: [any QuickCommand.Type] { [
    Swipc.Ls.self, Swipc.Limits.self, Swipc.Rm.self, Swipc.Clean.self,
    Swipc.Msg.Create.self, Swipc.Shm.Create.self, Swipc.Sem.Create.self,
  ] }

  /// Runs `arguments` and returns true when it is a command line this reader takes; returns false,
  /// having done nothing, when argument-parser must read it. Errors of the command itself propagate.
  static func run(_ arguments: [String]) throws -> Bool {
    for command in commands where arguments.starts(with: command.path) {
      return try attempt(command, arguments.dropFirst(command.path.count))
    }
    return false
  }

  static func attempt<C: QuickCommand>(_ command: C.Type, _ arguments: ArraySlice<String>) throws -> Bool {
    guard let request = C.table.read(arguments, into: C.blankRequest) else { return false }
    try CommandView.select((request as? NamespacedRequest)?.namespace)
    try C.run(request)
    return true
  }
}

/// A command the fast reader can read: its path (`["msg", "create"]`), its table, and the request
/// before any argument is applied.
protocol QuickCommand: RequestCommand {
  static var path: [String] { get }
  static var table: QuickTable<Request> { get }
  static var blankRequest: Request { get }
}

/// The options and positionals of one command, each declared once: its name(s), where its value
/// goes in the request, and how the value parses.
struct QuickTable<Request> {
  var options: [QuickOption<Request>]
  /// Stores the positionals; false when they are not a form argument-parser would accept as is.
  var positionals: (inout Request, [String]) -> Bool

  /// The request filled by `arguments`, or nil when they have any form the table does not describe.
  func read(_ arguments: ArraySlice<String>, into blank: Request) -> Request? {
    var request = blank
    var positional = [String]()
    var remaining = arguments[...]
    while let argument = remaining.popFirst() {
      guard argument.hasPrefix("-") else {
        positional.append(argument)
        continue
      }
      var name = argument
      var inline: String?
      if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
        name = String(argument[..<equals])
        inline = String(argument[argument.index(after: equals)...])
      }
      guard let option = option(named: name) else { return nil }
      var text = ""
      if option.takesValue {
        if let inline {
          // argument-parser reads `--opt=` as a missing value.
          guard !inline.isEmpty else { return nil }
          text = inline
        } else {
          guard let value = remaining.popFirst(), option.unconditional || !value.hasPrefix("-") else { return nil }
          text = value
        }
      } else if inline != nil {
        return nil
      }
      guard option.apply(&request, text) else { return nil }
    }
    return positionals(&request, positional) ? request : nil
  }

  /// The option `--long` or `-s` names. A loop over indices, not `first(where:)`: this code is
  /// generic over the request, and a generic call through Sequence makes the runtime look up
  /// Array's conformance among every conformance of the static binary, which costs more than the
  /// whole command line.
  func option(named name: String) -> QuickOption<Request>? {
    let long = name.hasPrefix("--")
    guard long || name.count == 2 else { return nil }
    for i in options.indices {
      if long ? options[i].long == name : options[i].short.map({ "-\($0)" == name }) ?? false { return options[i] }
    }
    return nil
  }
}

/// One option of a `QuickTable`.
struct QuickOption<Request> {
  var long: String
  var short: Character?
  var takesValue: Bool
  /// Every value counts (a repeatable option), rather than the last.
  var repeats = false
  /// Takes the next argument as its value even when it starts with '-', as argument-parser's
  /// `parsing: .unconditional` does: keys are signed (`--key -1`).
  var unconditional: Bool
  /// Stores the value (ignored by flags); false when it does not parse.
  var apply: (inout Request, String) -> Bool

  /// A flag: sets `path` to `value` (an inverted pair, `--exclusive`/`--no-exclusive`, is two flags
  /// on one path: the later counts).
  static func flag<V>(_ long: String, short: Character? = nil, _ path: WritableKeyPath<Request, V>, _ value: V) -> Self {
    Self(long: long, short: short, takesValue: false, unconditional: false) { request, _ in
      request[keyPath: path] = value
      return true
    }
  }

  static func flag(_ long: String, short: Character? = nil, _ path: WritableKeyPath<Request, Bool>) -> Self {
    flag(long, short: short, path, true)
  }

  /// An option with one value: the last given counts.
  static func value<V>(
    _ long: String, short: Character? = nil, unconditional: Bool = false, _ path: WritableKeyPath<Request, V>,
    _ parse: @escaping (String) -> V?
  ) -> Self {
    Self(long: long, short: short, takesValue: true, unconditional: unconditional) { request, text in
      guard let value = parse(text) else { return false }
      request[keyPath: path] = value
      return true
    }
  }

  /// An option with one value and no default.
  static func optional<V>(
    _ long: String, short: Character? = nil, unconditional: Bool = false, _ path: WritableKeyPath<Request, V?>,
    _ parse: @escaping (String) -> V?
  ) -> Self {
    value(long, short: short, unconditional: unconditional, path) { text in parse(text).map { .some($0) } }
  }

  /// A repeatable option: every value counts.
  static func values<V>(
    _ long: String, short: Character? = nil, unconditional: Bool = false, _ path: WritableKeyPath<Request, [V]>,
    _ parse: @escaping (String) -> V?
  ) -> Self {
    Self(long: long, short: short, takesValue: true, repeats: true, unconditional: unconditional) { request, text in
      guard let value = parse(text) else { return false }
      request[keyPath: path].append(value)
      return true
    }
  }

  /// The same option on a part of a larger request (shared groups: filters, output, keys).
  func within<Outer>(_ part: WritableKeyPath<Outer, Request>) -> QuickOption<Outer> {
    let apply = self.apply
    return QuickOption<Outer>(long: long, short: short, takesValue: takesValue, repeats: repeats, unconditional: unconditional) {
      outer, text in apply(&outer[keyPath: part], text)
    }
  }
}

/// Value parsers for the tables: nil when the text does not parse.
enum QuickValue {
  static func text(_ s: String) -> String? { s }
  static func int(_ s: String) -> Int? { Int(s) }
  /// A core parser, as argument-parser's transforms use it (`parsed`).
  static func core<T>(_ parse: @escaping (String) throws(SwipcError) -> T) -> (String) -> T? {
    { text in try? parse(text) }
  }
}

/// The tables of the option groups several commands share, declared once.
enum QuickGroups {
  /// The output options of a command whose output `R` renders: a format `R` does not write is
  /// left to argument-parser, which refuses it (see `FormatOption`).
  static func output<R: Rendering>(_: R.Type) -> [QuickOption<OutputSettings>] { [
    .value("--format", \.format, { try? OutputFormat(parsing: $0, accepted: R.formats) }),
    .flag("--no-headings", \.noHeadings), .flag("--bytes", short: "b", \.bytes), .flag("--numeric", short: "n", \.numeric),
  ] }
  /// `ls` alone chooses columns.
  static var columns: QuickOption<OutputSettings> { .optional("--columns", short: "o", \.columns, QuickValue.text) }
  static var filters: [QuickOption<FilterSettings>] { [
    .values("--owner", \.owner, QuickValue.text), .values("--creator", \.creator, QuickValue.text),
    .values("--key", short: "k", unconditional: true, \.key, QuickValue.core(IPCKeyRange.init(parsing:))),
    .values("--name", \.name, QuickValue.text),
    .optional("--older-than", \.olderThan, QuickValue.core(TimeSpan.init(parsing:))),
    .optional("--idle-for", \.idleFor, QuickValue.core(TimeSpan.init(parsing:))),
    .optional("--min-age", \.minAge, QuickValue.core(TimeSpan.init(parsing:))),
    .flag("--ignore-hidden", \.ignoreHidden), .flag("--unattached", \.unattached), .flag("--orphaned", \.orphaned),
    .flag("--removed", \.removed), .flag("--world-writable", \.worldWritable), .flag("--world-readable", \.worldReadable),
  ] }
  static var keys: [QuickOption<KeySpec>] { [
    .optional("--key", short: "k", unconditional: true, \.key, QuickValue.core(IPCKey.init(parsing:))),
    .optional("--ftok", \.ftok, QuickValue.text),
  ] }
}

/// Positional forms shared by the tables.
enum QuickPositionals {
  /// TYPE...: every one must parse.
  static func kinds<R>(_ path: WritableKeyPath<R, [IPCKind]>) -> (inout R, [String]) -> Bool {
    { request, words in
      for word in words {
        guard let kind = try? KindArgument.parse(word) else { return false }
        request[keyPath: path].append(kind)
      }
      return true
    }
  }
}
