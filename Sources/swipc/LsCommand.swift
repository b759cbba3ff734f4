import ArgumentParser
import SwipcCore

extension Swipc {
  struct Ls: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "ls",
      abstract: "List IPC objects, one row each.",
      discussion: """
        TYPE is msg, shm, sem (System V) or pmsg, pshm, psem (POSIX); the default is all six. \
        'ls pipe' lists pipes and FIFOs in use with their reader and writer processes; 'ls sock' \
        the unix sockets of this network namespace (sock_diag netlink, as ss reads them) with \
        the processes holding them (both from /proc/*/fd, or $SWIPC_PROC_DIR). \
        Listing reads /proc/sysvipc, /dev/shm and the mqueue filesystem, and needs no permission \
        on the objects. Columns for -o: \(ObjectColumn.catalog.map(\.name).joined(separator: ", ")).
        """)

    @Argument(help: ArgumentHelp("Kinds to list: msg, shm, sem, pmsg, pshm, psem (default: all); or pipe, or sock, alone.", valueName: "type"), completion: .list(IPCKind.allCases.map(\.rawValue) + ["pipe", "sock"]))
    var types: [String] = []

    @OptionGroup(title: "Filters") var filters: FilterOptions
    @OptionGroup(title: "Output") var output: OutputOptions<ObjectListRenderer>
    @OptionGroup(title: "Output") var columns: ColumnOption

    func run() throws {
      try ListPlan(types: types, filters: filters.settings, output: output.settings(columns: columns.columns)).run()
    }
  }
}

/// What `ls` was asked, checked: everything that can be refused is refused here, before anything is
/// read, so that `QuickPath` can hand a command line it cannot plan to argument-parser unchanged.
enum ListPlan {
  case objects(kinds: [IPCKind], filter: ObjectFilter, columns: [ObjectColumn]?, output: OutputSettings)
  /// `ls pipe` and `ls sock`.
  case streams(sockets: Bool, output: OutputSettings)

  init(types: [String], filters: FilterSettings, output: OutputSettings) throws {
    if let stream = types.first(where: { $0 == "pipe" || $0 == "sock" }) {
      guard types.count == 1 else { throw ValidationError("list '\(stream)' on its own: its columns differ from the other types'") }
      guard filters.isEmpty else { throw ValidationError("the filters apply to IPC objects, not to 'ls \(stream)'") }
      guard output.columns == nil else { throw ValidationError("-o/--columns applies to IPC objects; 'ls \(stream)' has fixed columns") }
      guard RecordRenderer.formats.contains(output.format) else {
        throw ValidationError("'ls \(stream)' writes \(OutputFormat.list(RecordRenderer.formats))")
      }
      self = .streams(sockets: stream == "sock", output: output)
      return
    }
    var kinds = [IPCKind]()
    for text in types {
      let kind = try parseKind(text)
      if !kinds.contains(kind) { kinds.append(kind) }
    }
    if kinds.isEmpty { kinds = IPCKind.allCases }
    self = .objects(kinds: kinds, filter: try filters.makeFilter(), columns: try output.selectedColumns(), output: output)
  }

  func run() throws {
    switch self {
    case .objects(let kinds, let filter, let columns, let output):
      try Self.listObjects(kinds: kinds, filter: filter, columns: columns, output: output)
    case .streams(let sockets, let output):
      try Self.listStreams(sockets: sockets, output: output)
    }
  }

  static func listObjects(kinds: [IPCKind], filter: ObjectFilter, columns: [ObjectColumn]?, output: OutputSettings) throws {
    let listing = Listing.make(
      kinds: kinds, filter: filter, countOrphans: output.format == .prometheus,
      orphanStates: columns?.contains { $0.name == "ORPHAN" } ?? false,
      segmentMemory: ObjectColumn.showsSegmentMemory(columns, format: output.format))
    if let failure = listing.failure { throw failure }
    for warning in listing.warnings { Terminal.warn(warning) }

    let renderer = ObjectListRenderer(
      objects: listing.objects, kinds: kinds,
      context: ColumnContext(now: listing.now, processes: ProcessTable(), orphans: listing.detector), columns: columns,
      orphaned: listing.orphanCounts, unknownOrphans: listing.unknownOrphanCounts)
    let formatter = CellFormatter(options: output.renderOptions(now: listing.now), users: UserDirectory())
    try Terminal.write(try renderer.render(as: output.format, formatter: formatter, capacity: 64 + listing.objects.count * 160))
  }

  /// `ls pipe` and `ls sock`: one pass over /proc/*/fd, then the records in the chosen format.
  static func listStreams(sockets: Bool, output: OutputSettings) throws {
    let scan = DescriptorScan.scan(procDirectory: InventoryPaths.fromEnvironment(resolvingMqueue: false).proc)
    let renderer = sockets ? RecordRenderer.sockets(try UnixSocketTable.read(scan: scan)) : RecordRenderer.pipes(scan.pipes)
    if scan.processesHidden {
      Terminal.warn("/proc hides other users' processes (hidepid): the \(sockets ? "holders" : "readers and writers") shown are only those this user may see")
    }
    if scan.uninspectable > 0 {
      Terminal.warn("\(scan.uninspectable) process\(scan.uninspectable == 1 ? "" : "es") could not be inspected (another user's; run as root to see \(sockets ? "which sockets they hold" : "their pipes"))")
    }
    let formatter = CellFormatter(options: output.renderOptions(now: 0), users: UserDirectory())
    try Terminal.write(try renderer.render(as: output.format, formatter: formatter, capacity: 64 + renderer.rows.count * 96))
  }
}
