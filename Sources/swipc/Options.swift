import ArgumentParser
import SwipcCore

/// Turns a core parse that throws `SwipcError` into an ArgumentParser transform, so that a bad
/// value is a usage error (exit 64) that says what was wrong.
func parsed<T>(_ parse: @escaping @Sendable (String) throws(SwipcError) -> T) -> @Sendable (String) throws -> T {
  { text in
    do throws(SwipcError) { return try parse(text) } catch { throw ValidationError(error.description) }
  }
}

extension OutputFormat: ExpressibleByArgument {}

extension IPCKind: ExpressibleByArgument {
  public init?(argument: String) { self.init(rawValue: argument) }
}

/// Parses TYPE arguments with a message that lists the valid types.
@Sendable func parseKind(_ text: String) throws(SwipcError) -> IPCKind {
  guard let kind = IPCKind(rawValue: text) else {
    if text == "pipe" || text == "sock" {
      throw .usage("type '\(text)' is listed by 'swipc ls \(text)' alone; here use msg, shm, sem, pmsg, pshm or psem")
    }
    throw .usage("unknown type '\(text)': use msg, shm, sem, pmsg, pshm or psem")
  }
  return kind
}

/// --format for a command whose output `R` renders: its help lists only the formats `R` has, and
/// any other is a usage error.
struct FormatOption<R: Rendering>: ParsableArguments {
  @Option(
    help: ArgumentHelp("Output format: \(OutputFormat.list(R.formats)) (default: table).", valueName: "format"),
    completion: .list(R.formats.map(\.rawValue)),
    transform: parsed { [formats = R.formats] (text) throws(SwipcError) in try OutputFormat(parsing: text, accepted: formats) })
  var format: OutputFormat = .table
}

/// --format, --no-headings, --bytes, --numeric: shared by ls, show and limits.
struct OutputOptions<R: Rendering>: ParsableArguments {
  @OptionGroup var formatOption: FormatOption<R>

  @Flag(help: "Do not print heading lines.")
  var noHeadings = false

  @Flag(name: [.customShort("b"), .long], help: "Print sizes in bytes rather than in human-readable units such as 4K.")
  var bytes = false

  @Flag(name: [.customShort("n"), .long], help: "Print user and group ids and octal permissions rather than names.")
  var numeric = false

  var format: OutputFormat { formatOption.format }

  func settings(columns: String? = nil) -> OutputSettings {
    OutputSettings(format: format, columns: columns, noHeadings: noHeadings, bytes: bytes, numeric: numeric)
  }

  func renderOptions(now: Int64) -> RenderOptions { settings().renderOptions(now: now) }
}

/// -o/--columns: `ls` alone chooses columns.
struct ColumnOption: ParsableArguments {
  @Option(name: [.customShort("o"), .long], help: "Comma-separated columns to show, e.g. -o KEY,ID,OWNER,SIZE (see 'swipc ls --help' for the list).")
  var columns: String?
}

/// The values of the output options, however they were parsed (argument-parser or `QuickPath`).
struct OutputSettings {
  var format: OutputFormat = .table
  var columns: String?
  var noHeadings = false
  var bytes = false
  var numeric = false

  /// The columns named with -o, validated against the catalog. A column named twice (in any
  /// case: `id,ID`) is shown once, where it is first named: a JSON object has each key once.
  func selectedColumns() throws -> [ObjectColumn]? {
    guard let columns else { return nil }
    var result = [ObjectColumn]()
    for name in columns.split(separator: ",", omittingEmptySubsequences: false) {
      let trimmed = name.trimmingBlanks()
      guard let column = ObjectColumn.named(trimmed) else {
        throw ValidationError(
          "unknown column '\(trimmed)' in -o; available: \(ObjectColumn.catalog.map(\.name).joined(separator: ","))")
      }
      if !result.contains(where: { $0.name == column.name }) { result.append(column) }
    }
    return result
  }

  func renderOptions(now: Int64) -> RenderOptions {
    RenderOptions(exactBytes: bytes, numeric: numeric, headings: !noHeadings, now: now)
  }
}

/// The filters shared by ls and clean (docs/DESIGN.md, "Cleanup rules").
struct FilterOptions: ParsableArguments {
  @Option(help: ArgumentHelp("Only objects owned by this user (name or uid); repeatable.", valueName: "user"))
  var owner: [String] = []

  @Option(help: ArgumentHelp("Only objects created by this user (name or uid); repeatable.", valueName: "user"))
  var creator: [String] = []

  @Option(name: [.customShort("k"), .long], parsing: .unconditionalSingleValue, help: ArgumentHelp("Only System V objects with this key or key range: 0x1a2b, 0x1000-0x1fff; repeatable.", valueName: "key"), transform: parsed(IPCKeyRange.init(parsing:)))
  var key: [IPCKeyRange] = []

  @Option(help: ArgumentHelp("Only POSIX objects whose name matches this glob, e.g. 'jobs*' or '/app.*'; repeatable.", valueName: "glob"))
  var name: [String] = []

  @Option(help: ArgumentHelp("Only objects created or changed at least this long ago: 30s, 10m, 2h, 7d.", valueName: "duration"), transform: parsed(TimeSpan.init(parsing:)))
  var olderThan: TimeSpan?

  @Option(help: ArgumentHelp("Only objects with no send, receive, attach or operation for this long: 30s, 10m, 2h, 7d.", valueName: "duration"), transform: parsed(TimeSpan.init(parsing:)))
  var idleFor: TimeSpan?

  @Flag(help: "Only shared memory that no process has attached (shm) or open or mapped (pshm).")
  var unattached = false

  @Flag(help: "Only objects no live process can be using (see ORPHANED in swipc(1)); unknown is never orphaned.")
  var orphaned = false

  @Option(help: ArgumentHelp("With --orphaned: how long after its creation or last change an object can count as orphaned (default 1m).", valueName: "duration"), transform: parsed(TimeSpan.init(parsing:)))
  var minAge: TimeSpan?

  @Flag(help: "With --orphaned: count processes swipc cannot see or examine (another PID namespace, hidepid, unreadable /proc entries) as using nothing. Only where every user of the objects is visible, as inside a container; never on a shared host.")
  var ignoreHidden = false

  @Flag(help: "Only segments marked for removal that are still attached (status dest).")
  var removed = false

  @Flag(help: "Only objects any user may write (mode o+w): an audit.")
  var worldWritable = false

  @Flag(help: "Only objects any user may read (mode o+r): an audit.")
  var worldReadable = false

  var settings: FilterSettings {
    FilterSettings(
      owner: owner, creator: creator, key: key, name: name, olderThan: olderThan, idleFor: idleFor,
      unattached: unattached, orphaned: orphaned, minAge: minAge, ignoreHidden: ignoreHidden, removed: removed,
      worldWritable: worldWritable, worldReadable: worldReadable)
  }
}

/// The values of the filter options, however they were parsed (argument-parser or `QuickPath`).
struct FilterSettings {
  var owner: [String] = []
  var creator: [String] = []
  var key: [IPCKeyRange] = []
  var name: [String] = []
  var olderThan: TimeSpan?
  var idleFor: TimeSpan?
  var unattached = false
  var orphaned = false
  var minAge: TimeSpan?
  var ignoreHidden = false
  var removed = false
  var worldWritable = false
  var worldReadable = false

  /// Whether no filter was given (--min-age only qualifies --orphaned).
  var isEmpty: Bool {
    owner.isEmpty && creator.isEmpty && key.isEmpty && name.isEmpty && olderThan == nil && idleFor == nil
      && !unattached && !orphaned && !removed && !worldWritable && !worldReadable
  }

  func makeFilter() throws -> ObjectFilter {
    var filter = ObjectFilter()
    do {
      for o in owner { filter.owners.insert(try UserDirectory.resolveUser(o)) }
      for c in creator { filter.creators.insert(try UserDirectory.resolveUser(c)) }
    } catch { throw ValidationError(error.description) }
    filter.keys = key
    for glob in name {
      guard !glob.isEmpty, !glob.dropFirst().contains("/") else {
        throw ValidationError("invalid --name '\(glob)': a POSIX name glob has at most a leading slash")
      }
      filter.nameGlobs.append(glob)
    }
    filter.olderThan = olderThan
    filter.idleFor = idleFor
    filter.unattached = unattached
    filter.orphaned = orphaned
    if minAge != nil && !orphaned { throw ValidationError("--min-age goes with --orphaned") }
    filter.minAge = minAge
    if ignoreHidden && !orphaned { throw ValidationError("--ignore-hidden goes with --orphaned") }
    filter.ignoreHidden = ignoreHidden
    filter.removed = removed
    filter.worldWritable = worldWritable
    filter.worldReadable = worldReadable
    return filter
  }
}

/// --key and --ftok: naming a System V object by key (docs/DESIGN.md, "Naming").
struct KeyOptions: ParsableArguments {
  @Option(name: [.customShort("k"), .long], parsing: .unconditional, help: ArgumentHelp("The System V key: 0x1a2b, decimal (negative too: -1) or octal 0755.", valueName: "key"), transform: parsed(IPCKey.init(parsing:)))
  var key: IPCKey?

  @Option(help: ArgumentHelp("The System V key made by ftok(3) from an existing file and a project id (default 1).", valueName: "path[:proj]"), completion: .file())
  var ftok: String?

  var spec: KeySpec { KeySpec(key: key, ftok: ftok) }
  var isGiven: Bool { spec.isGiven }
  func target(_ positional: String?, kind: IPCKind) throws -> ObjectTarget { try spec.target(positional, kind: kind) }
}

/// The values of --key and --ftok, however they were parsed (argument-parser or `QuickPath`).
struct KeySpec {
  var key: IPCKey?
  var ftok: String?

  var isGiven: Bool { key != nil || ftok != nil }

  /// The key given, if any; both forms at once are a usage error.
  func resolve() throws -> IPCKey? {
    if key != nil && ftok != nil { throw ValidationError("give --key or --ftok, not both") }
    if let key { return key }
    if let ftok { return try IPCKey.ftok(spec: ftok) }
    return nil
  }

  /// The target named by a positional TARGET or by these options; exactly one is needed.
  func target(_ positional: String?, kind: IPCKind) throws -> ObjectTarget {
    let given = (positional != nil ? 1 : 0) + (key != nil ? 1 : 0) + (ftok != nil ? 1 : 0)
    guard given == 1 else {
      throw ValidationError(given == 0
        ? "name the object: an id, a /name, --key KEY or --ftok PATH"
        : "name the object one way only: an id or /name, --key, or --ftok")
    }
    if let key = try resolve() { return .key(key) }
    return try ObjectTarget(parsing: positional!, kind: kind)
  }
}

/// How a command names one object: TARGET (id or /name), --key or --ftok (docs/DESIGN.md, "Naming").
struct TargetOptions: ParsableArguments {
  @Argument(help: ArgumentHelp("The object: a System V id (decimal) or a POSIX /name.", valueName: "target"), completion: LiveCompletion.target)
  var target: String?

  @OptionGroup var keys: KeyOptions

  func resolve(kind: IPCKind) throws -> ObjectTarget {
    try keys.target(target, kind: kind)
  }
}

/// `TARGET VALUE` or, with --key/--ftok, `VALUE` alone: chmod and chown.
func splitTargetAndValue(_ arguments: [String], keys: KeyOptions, kind: IPCKind, valueName: String) throws
  -> (ObjectTarget, String)
{
  let expected = keys.isGiven ? 1 : 2
  guard arguments.count == expected else {
    throw ValidationError(keys.isGiven
      ? "expected \(valueName) alone after --key/--ftok"
      : "expected TARGET \(valueName), e.g. 32768 \(valueName == "MODE" ? "600" : "alice:staff") or /name \(valueName == "MODE" ? "600" : "alice")")
  }
  let target = try keys.target(keys.isGiven ? nil : arguments[0], kind: kind)
  return (target, arguments[expected - 1])
}

/// `--values 1,0,3`: one value per semaphore.
func parseValueList(_ text: String) throws -> [Int] {
  try text.split(separator: ",", omittingEmptySubsequences: false).map { item in
    guard let v = Int(item.trimmingBlanks()) else {
      throw ValidationError("invalid --values '\(text)': expected numbers separated by commas, e.g. 1,0,3")
    }
    return v
  }
}

extension Substring {
  func trimmingBlanks() -> String {
    var s = self
    while s.first == " " { s = s.dropFirst() }
    while s.last == " " { s = s.dropLast() }
    return String(s)
  }
}
