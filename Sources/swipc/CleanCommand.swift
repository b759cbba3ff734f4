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

    @Argument(help: ArgumentHelp("Kinds to clean: msg, shm, sem, pmsg, pshm, psem (default: all).", valueName: "type"), completion: LiveCompletion.kinds, transform: parsed(KindArgument.parse))
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

    @OptionGroup var format: FormatOption<CleanReportRenderer>

    @Flag(name: [.customShort("b"), .long], help: "Print sizes in bytes rather than in human-readable units.")
    var bytes = false

    @Flag(help: "Do not print the heading line of the table.")
    var noHeadings = false

    @OptionGroup(title: "Namespace") var namespaceOption: NamespaceOption
    @OptionGroup(title: "Namespace") var allNamespaces: AllNamespacesOption

    var request: CleanRequest {
      var request = CleanRequest.interactive()
      (request.namespace, request.allNamespaces) = (namespaceOption.namespace, allNamespaces.allNamespaces)
      (request.kinds, request.filters, request.all, request.allUsers) = (types, filters.settings, all, allUsers)
      (request.dryRun, request.yes, request.format, request.bytes, request.noHeadings) = (dryRun, yes, format.format, bytes, noHeadings)
      return request
    }
  }
}

extension CleanRequest {
  /// A request that may ask when standard input is a terminal.
  static func interactive() -> CleanRequest {
    var request = CleanRequest()
    request.canAsk = isatty(0) != 0
    return request
  }
}

extension Swipc.Clean: QuickCommand {
  static var path: [String] { ["clean"] }
  static var blankRequest: CleanRequest { .interactive() }
  static var table: QuickTable<CleanRequest> {
    QuickTable(
      options: QuickGroups.filters.map { $0.within(\.filters) } + [
        .flag("--all", \.all), .flag("--all-users", \.allUsers), .flag("--dry-run", \.dryRun), .flag("--yes", short: "y", \.yes),
        .value("--format", \.format, { try? OutputFormat(parsing: $0, accepted: CleanReportRenderer.formats) }),
        .flag("--bytes", short: "b", \.bytes), .flag("--no-headings", \.noHeadings),
        QuickNamespace.option(\.namespace), .flag("--all-namespaces", short: "A", \.allNamespaces),
      ],
      positionals: QuickPositionals.kinds(\.kinds))
  }

  static func perform(_ selection: CleanSelection, _ request: CleanRequest) throws {
    let sweep = sweeper(selection)
    let formatter = CellFormatter(
      options: RenderOptions(exactBytes: request.bytes, headings: !request.noHeadings, now: Clock.now()), users: UserDirectory())
    var confirmed: CleanReport?
    if request.asks {
      // On a terminal: show what would go, and ask. What is removed after the answer is decided
      // again, object by object, and only among what was shown.
      let preview = try sweep(false, nil, true)
      if let failure = preview.failure { throw failure }
      for warning in preview.warnings { Terminal.warn(warning) }
      let count = preview.candidates.count
      if count == 0 {
        try write(preview, formatter: formatter, format: request.format, removing: false)
        return
      }
      Terminal.write(fd: 2, try CleanReportRenderer(preview).render(as: .table, formatter: formatter).bytes)
      guard Terminal.confirm(count == 1 ? "Remove this object? [y/N] " : "Remove these \(count) objects? [y/N] ") else {
        Terminal.warn("nothing removed")
        throw ExitCode(1)
      }
      confirmed = preview
    }
    if !selection.dryRun {
      try OutputWriter.requireWritable(1, consequence: "nothing was removed (the report could not be written)")
    }
    let report = try sweep(!selection.dryRun, confirmed, false)
    if let failure = report.failure { throw failure }
    if confirmed == nil { for warning in report.warnings { Terminal.warn(warning) } }
    try write(report, formatter: formatter, format: request.format, removing: !selection.dryRun)
    if report.hasFailures { throw ExitCode(1) }
  }

  /// One pass of the cleaner: over the command's view, or over every namespace (whose skipped
  /// ones are named once, on the first pass).
  static func sweeper(_ selection: CleanSelection) -> (_ remove: Bool, _ confirmed: CleanReport?, _ forConfirmation: Bool) throws -> CleanReport {
    guard selection.allNamespaces else {
      let cleaner = Cleaner(selection, view: CommandView.current)
      return { remove, confirmed, forConfirmation in
        try cleaner.run(remove: remove, confirmed: confirmed, forConfirmation: forConfirmation)
      }
    }
    let cleaner = NamespacedCleaner(selection, base: .fromEnvironment())
    var warned = false
    return { remove, confirmed, forConfirmation in
      let (report, skipped) = try cleaner.run(remove: remove, confirmed: confirmed, forConfirmation: forConfirmation)
      if !warned, let warning = skipped.warning { Terminal.warn(warning) }
      warned = true
      return report
    }
  }

  static func write(_ report: CleanReport, formatter: CellFormatter, format: OutputFormat, removing: Bool) throws {
    let out = try CleanReportRenderer(report).render(as: format, formatter: formatter, capacity: 128 + report.rows.count * 64)
    try Terminal.write(
      out,
      consequence: removing
        ? "\(report.removedCount) of \(report.rows.count) selected objects were removed, but the report was not written"
        : nil)
  }
}
