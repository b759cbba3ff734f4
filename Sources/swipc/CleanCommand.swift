import ArgumentParser
import Glibc
import SwipcCore

extension Swipc {
  struct Clean: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "clean",
      abstract: "Remove every object that matches the filters, safely; for people and cron jobs.",
      discussion: """
        Never removes: anything without a filter (ask with --all); objects of other users, root \
        included, unless --owner names them or --all-users is given; anything without --yes \
        (--dry-run shows what would go; on a terminal it asks; in a script it refuses); an object \
        that changed since it was listed (id, key, creator, change time are checked again just \
        before each removal). Reports every object removed or skipped and why. Exit status: 0 \
        when every selected object was removed or skipped as changed (or none matched), 1 when \
        any removal failed.
        """)

    @Argument(help: ArgumentHelp("Kinds to clean: msg, shm, sem, pmsg, pshm, psem (default: all).", valueName: "type"), completion: LiveCompletion.kinds, transform: parsed(parseKind))
    var types: [IPCKind] = []

    @OptionGroup(title: "Filters") var filters: FilterOptions

    @Flag(help: "Select every object of the kinds given (clean refuses to run with no filter otherwise).")
    var all = false

    @Flag(help: "Include objects of other users (neither owned nor created by you); root's clean touches root's objects only without it.")
    var allUsers = false

    @Flag(help: "Show what would be removed; remove nothing.")
    var dryRun = false

    @Flag(name: [.customShort("y"), .long], help: "Remove without asking (required when not on a terminal).")
    var yes = false

    @Option(help: "Report format: table or json (default: table).")
    var format: OutputFormat = .table

    @Flag(name: [.customShort("b"), .long], help: "Print sizes in bytes rather than in human-readable units.")
    var bytes = false

    @Flag(help: "Do not print the heading line of the table.")
    var noHeadings = false

    @OptionGroup(title: "Namespace") var namespaceOption: NamespaceOption
    @OptionGroup(title: "Namespace") var allNamespaces: AllNamespacesOption

    func run() throws {
      try CleanPlan(
        types: types, filters: filters.settings, all: all, allUsers: allUsers, dryRun: dryRun, yes: yes,
        format: format, bytes: bytes, noHeadings: noHeadings,
        scope: try NamespaceScope(namespace: namespaceOption.namespace, all: allNamespaces.allNamespaces)
      ).run()
    }
  }
}

/// What `clean` was asked, checked: everything that can be refused is refused here, before anything
/// is read or removed, so that `QuickPath` can hand a command line it cannot plan to argument-parser.
struct CleanPlan {
  var request: CleanRequest
  var yes: Bool
  var format: OutputFormat
  var bytes: Bool
  var noHeadings: Bool
  /// Every IPC namespace (-A): one cleaner per namespace, from inside it.
  var allNamespaces: Bool

  init(
    types: [IPCKind], filters: FilterSettings, all: Bool, allUsers: Bool, dryRun: Bool, yes: Bool,
    format: OutputFormat, bytes: Bool, noHeadings: Bool, scope: NamespaceScope = .own
  ) throws {
    if format == .csv || format == .prometheus { throw ValidationError("clean reports as table or json") }
    if dryRun && yes { throw ValidationError("give --dry-run or --yes, not both") }
    var kinds = [IPCKind]()
    for kind in (types.isEmpty ? IPCKind.allCases : types) where !kinds.contains(kind) { kinds.append(kind) }
    request = CleanRequest(kinds: kinds, filter: try filters.makeFilter())
    request.all = all
    request.allUsers = allUsers
    request.dryRun = dryRun
    do { try request.validate() } catch { throw ValidationError(error.description) }
    if !dryRun && !yes && isatty(0) == 0 {
      throw ValidationError("refusing to remove without --yes when not on a terminal; use --dry-run to see what would be removed")
    }
    self.yes = yes
    self.format = format
    self.bytes = bytes
    self.noHeadings = noHeadings
    allNamespaces = scope == .all
  }

  func run() throws {
    let sweep = try sweeper()
    let formatter = CellFormatter(
      options: RenderOptions(exactBytes: bytes, headings: !noHeadings, now: Clock.now()), users: UserDirectory())
    let renderer = CleanReportRenderer(formatter: formatter)
    var confirmed: CleanReport?
    if !request.dryRun && !yes {
      // On a terminal: show what would go, and ask. What is removed after the answer is decided
      // again, object by object, and only among what was shown.
      let preview = try sweep(false, nil, true)
      for warning in preview.warnings { Terminal.warn(warning) }
      let count = preview.candidates.count
      if count == 0 {
        try write(preview, renderer: renderer, removing: false)
        return
      }
      var table = OutputBuffer()
      renderer.table(preview, into: &table)
      Terminal.write(fd: 2, table.bytes)
      guard Terminal.confirm(count == 1 ? "Remove this object? [y/N] " : "Remove these \(count) objects? [y/N] ") else {
        Terminal.warn("nothing removed")
        throw ExitCode(1)
      }
      confirmed = preview
    }
    if !request.dryRun {
      try OutputWriter.requireWritable(1, consequence: "nothing was removed (the report could not be written)")
    }
    let report = try sweep(!request.dryRun, confirmed, false)
    if confirmed == nil { for warning in report.warnings { Terminal.warn(warning) } }
    try write(report, renderer: renderer, removing: !request.dryRun)
    if report.hasFailures { throw ExitCode(1) }
  }

  /// One pass of the cleaner: over the command's view, or over every namespace (whose skipped
  /// ones are named once, on the first pass).
  func sweeper() throws -> (_ remove: Bool, _ confirmed: CleanReport?, _ forConfirmation: Bool) throws -> CleanReport {
    guard allNamespaces else {
      let cleaner = Cleaner(request, view: CommandView.current)
      return { remove, confirmed, forConfirmation in
        try cleaner.run(remove: remove, confirmed: confirmed, forConfirmation: forConfirmation)
      }
    }
    let cleaner = NamespacedCleaner(request, base: .fromEnvironment())
    var warned = false
    return { remove, confirmed, forConfirmation in
      let (report, skipped) = try cleaner.run(remove: remove, confirmed: confirmed, forConfirmation: forConfirmation)
      if !warned, let warning = skipped.warning { Terminal.warn(warning) }
      warned = true
      return report
    }
  }

  func write(_ report: CleanReport, renderer: CleanReportRenderer, removing: Bool) throws {
    var out = OutputBuffer(capacity: 128 + report.rows.count * 64)
    if format == .json { renderer.json(report, into: &out) } else { renderer.table(report, into: &out) }
    try Terminal.write(
      out,
      consequence: removing
        ? "\(report.removedCount) of \(report.rows.count) selected objects were removed, but the report was not written"
        : nil)
  }
}
