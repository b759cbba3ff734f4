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

    @OptionGroup var format: FormatOption<CleanReportRenderer>

    @Flag(name: [.customShort("b"), .long], help: "Print sizes in bytes rather than in human-readable units.")
    var bytes = false

    @Flag(help: "Do not print the heading line of the table.")
    var noHeadings = false

    func run() throws {
      try CleanPlan(
        types: types, filters: filters.settings, all: all, allUsers: allUsers, dryRun: dryRun, yes: yes,
        format: format.format, bytes: bytes, noHeadings: noHeadings
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

  init(
    types: [IPCKind], filters: FilterSettings, all: Bool, allUsers: Bool, dryRun: Bool, yes: Bool,
    format: OutputFormat, bytes: Bool, noHeadings: Bool
  ) throws {
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
  }

  func run() throws {
    let cleaner = Cleaner(request)
    let formatter = CellFormatter(
      options: RenderOptions(exactBytes: bytes, headings: !noHeadings, now: Clock.now()), users: UserDirectory())
    var confirmed: CleanReport?
    if !request.dryRun && !yes {
      // On a terminal: show what would go, and ask. What is removed after the answer is decided
      // again, object by object, and only among what was shown.
      let preview = try cleaner.run(remove: false, forConfirmation: true)
      for warning in preview.warnings { Terminal.warn(warning) }
      let count = preview.candidates.count
      if count == 0 {
        try write(preview, formatter: formatter, removing: false)
        return
      }
      Terminal.write(fd: 2, try CleanReportRenderer(preview).render(as: .table, formatter: formatter).bytes)
      guard Terminal.confirm(count == 1 ? "Remove this object? [y/N] " : "Remove these \(count) objects? [y/N] ") else {
        Terminal.warn("nothing removed")
        throw ExitCode(1)
      }
      confirmed = preview
    }
    if !request.dryRun {
      try OutputWriter.requireWritable(1, consequence: "nothing was removed (the report could not be written)")
    }
    let report = try cleaner.run(remove: !request.dryRun, confirmed: confirmed)
    if confirmed == nil { for warning in report.warnings { Terminal.warn(warning) } }
    try write(report, formatter: formatter, removing: !request.dryRun)
    if report.hasFailures { throw ExitCode(1) }
  }

  func write(_ report: CleanReport, formatter: CellFormatter, removing: Bool) throws {
    let out = try CleanReportRenderer(report).render(as: format, formatter: formatter, capacity: 128 + report.rows.count * 64)
    try Terminal.write(
      out,
      consequence: removing
        ? "\(report.removedCount) of \(report.rows.count) selected objects were removed, but the report was not written"
        : nil)
  }
}
