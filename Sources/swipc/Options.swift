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
    var f = FilterSettings()
    (f.owner, f.creator, f.key, f.name, f.olderThan, f.idleFor) = (owner, creator, key, name, olderThan, idleFor)
    (f.unattached, f.orphaned, f.minAge, f.ignoreHidden) = (unattached, orphaned, minAge, ignoreHidden)
    (f.removed, f.worldWritable, f.worldReadable) = (removed, worldWritable, worldReadable)
    return f
  }
}

/// --key and --ftok: naming a System V object by key (docs/DESIGN.md, "Naming").
struct KeyOptions: ParsableArguments {
  @Option(name: [.customShort("k"), .long], parsing: .unconditional, help: ArgumentHelp("The System V key: 0x1a2b, decimal (negative too: -1) or octal 0755.", valueName: "key"), transform: parsed(IPCKey.init(parsing:)))
  var key: IPCKey?

  @Option(help: ArgumentHelp("The System V key made by ftok(3) from an existing file and a project id (default 1).", valueName: "path[:proj]"), completion: .file())
  var ftok: String?

  var spec: KeySpec { KeySpec(key: key, ftok: ftok) }
}

/// How a command names one object: TARGET (id or /name), --key or --ftok (docs/DESIGN.md, "Naming").
struct TargetOptions: ParsableArguments {
  @Argument(help: ArgumentHelp("The object: a System V id (decimal) or a POSIX /name.", valueName: "target"), completion: LiveCompletion.target)
  var target: String?

  @OptionGroup var keys: KeyOptions

  func resolve(kind: IPCKind) throws -> ObjectTarget {
    try keys.spec.target(target, kind: kind)
  }
}
