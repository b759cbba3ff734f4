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
        the processes holding them (both from /proc/*/fd, or $SWIPC_PROC_DIR). 'ls ns' (or \
        --namespaces) lists the IPC namespaces of the host with their containers and objects. \
        Listing reads /proc/sysvipc, /dev/shm and the mqueue filesystem, and needs no permission \
        on the objects. Columns for -o: \(ObjectColumn.catalog.map(\.name).joined(separator: ", ")).
        """)

    @Argument(help: ArgumentHelp("Kinds to list: msg, shm, sem, pmsg, pshm, psem (default: all); or pipe, sock or ns, alone.", valueName: "type"), completion: .list(IPCKind.allCases.map(\.rawValue) + ["pipe", "sock", "ns"]))
    var types: [String] = []

    @OptionGroup(title: "Filters") var filters: FilterOptions
    @OptionGroup(title: "Output") var output: OutputOptions<ObjectListRenderer>
    @OptionGroup(title: "Output") var columns: ColumnOption

    @OptionGroup(title: "Namespace") var namespaceOption: NamespaceOption
    @OptionGroup(title: "Namespace") var allNamespaces: AllNamespacesOption

    @Flag(help: "List the IPC namespaces themselves: namespace, container, a pid, processes, objects and bytes per type (as 'ls ns').")
    var namespaces = false

    var request: ListRequest {
      var request = ListRequest()
      (request.types, request.filters, request.output) = (types, filters.settings, output.settings(columns: columns.columns))
      (request.namespace, request.allNamespaces, request.namespaces) = (namespaceOption.namespace, allNamespaces.allNamespaces, namespaces)
      return request
    }
  }
}

extension Swipc.Ls: QuickCommand {
  static var path: [String] { ["ls"] }
  static var blankRequest: ListRequest { ListRequest() }
  static var table: QuickTable<ListRequest> {
    QuickTable(
      options: QuickGroups.filters.map { $0.within(\.filters) }
        + (QuickGroups.output(ObjectListRenderer.self) + [QuickGroups.columns]).map { $0.within(\.output) } + [
          QuickNamespace.option(\.namespace), .flag("--all-namespaces", short: "A", \.allNamespaces), .flag("--namespaces", \.namespaces),
        ],
      positionals: { request, words in
        request.types = words
        return true
      })
  }

  static func perform(_ plan: ListPlan, _ request: ListRequest) throws {
    switch plan {
    case .objects(let kinds, let filter, let columns, let output, let all):
      try listObjects(kinds: kinds, filter: filter, columns: columns, output: output, allNamespaces: all)
    case .streams(let sockets, let output):
      try listStreams(sockets: sockets, output: output)
    case .namespaces(let output):
      try listNamespaces(output: output)
    }
  }

  static func listObjects(
    kinds: [IPCKind], filter: ObjectFilter, columns: [ObjectColumn]?, output: OutputSettings, allNamespaces: Bool
  ) throws {
    let orphanStates = columns?.contains { $0.name == "ORPHAN" } ?? false
    let segmentMemory = ObjectColumn.showsSegmentMemory(columns, format: output.format)
    if allNamespaces, output.format == .json || output.format == .csv,
      AllNamespaces.canStream(filter: filter, orphanStates: orphanStates)
    {
      return try streamObjects(kinds: kinds, filter: filter, columns: columns, output: output, segmentMemory: segmentMemory)
    }
    let listing: Listing
    if allNamespaces {
      let (all, skipped) = AllNamespaces(base: .fromEnvironment()).listing(
        kinds: kinds, filter: filter, orphanStates: orphanStates || output.format == .prometheus, segmentMemory: segmentMemory)
      listing = all
      if let warning = skipped.warning { Terminal.warn(warning) }
    } else {
      listing = Listing.make(
        kinds: kinds, filter: filter, inventory: Inventory(view: CommandView.current), countOrphans: output.format == .prometheus,
        orphanStates: orphanStates, segmentMemory: segmentMemory)
    }
    if let failure = listing.failure { throw failure }
    for warning in listing.warnings { Terminal.warn(warning) }

    var renderer = ObjectListRenderer(
      objects: listing.objects, kinds: kinds,
      context: ColumnContext(now: listing.now, processes: ProcessTable(), orphans: listing.detector, namespaces: listing.namespaces),
      columns: columns, orphaned: listing.orphanCounts, unknownOrphans: listing.unknownOrphanCounts)
    if allNamespaces { renderer.leadingColumns = ObjectColumn.namespaceColumns }
    let formatter = CellFormatter(options: output.renderOptions(now: listing.now), users: UserDirectory())
    // A JSON record with every column and the namespace's runs to about 350 bytes: reserving
    // that much spares copies of the growing buffer, and pages never written cost nothing.
    try Terminal.write(try renderer.render(as: output.format, formatter: formatter, capacity: 64 + listing.objects.count * 400))
  }

  /// `ls -A` as JSON or CSV, where no decision rests on holders: each namespace's records are
  /// written while the next namespace is read.
  static func streamObjects(
    kinds: [IPCKind], filter: ObjectFilter, columns: [ObjectColumn]?, output: OutputSettings, segmentMemory: Bool
  ) throws {
    let labels = NamespaceLabels()
    let now = Clock.now()
    var renderer = ObjectListRenderer(
      objects: [], kinds: kinds, context: ColumnContext(now: now, processes: ProcessTable(), namespaces: labels), columns: columns)
    renderer.leadingColumns = ObjectColumn.namespaceColumns
    let formatter = CellFormatter(options: output.renderOptions(now: now), users: UserDirectory())
    // Written out whenever a namespace's records take the buffer past a pipe's worth, and the
    // buffer kept: a buffer for the whole listing would take a page fault for every 4 KiB written.
    // Records are written only for namespaces that were listed, so a listing that fails (none
    // could be) has written nothing before its error.
    let flushSize = 1 << 16
    let asJSON = output.format == .json
    var json = JSONOutput(formatter: formatter, layout: .array, capacity: asJSON ? 2 * flushSize : 0)
    var csv = CSVOutput(formatter: formatter, capacity: asJSON ? 0 : 2 * flushSize)
    var writeFailure: SwipcError?
    func flush(_ out: inout OutputBuffer) {
      guard out.bytes.count >= flushSize else { return }
      if writeFailure == nil {
        do throws(SwipcError) { try Terminal.write(out) } catch { writeFailure = error }
      }
      out.bytes.removeAll(keepingCapacity: true)
    }
    var batches = asJSON ? renderer.batches(to: &json) : renderer.batches(to: &csv)
    let (summary, skipped) = AllNamespaces.stream(
      base: .fromEnvironment(), kinds: kinds, filter: filter, segmentMemory: segmentMemory, labels: labels, now: now
    ) { objects in
      if asJSON {
        batches.write(objects, to: &json)
        flush(&json.out)
      } else {
        batches.write(objects, to: &csv)
        flush(&csv.out)
      }
    }
    if let warning = skipped.warning { Terminal.warn(warning) }
    if let failure = summary.failure { throw failure }
    for warning in summary.warnings { Terminal.warn(warning) }
    if let writeFailure { throw writeFailure }
    try Terminal.write(asJSON ? json.finish() : csv.finish())
  }

  /// `ls ns`: every namespace, with what it holds.
  static func listNamespaces(output: OutputSettings) throws {
    let (listing, skipped) = AllNamespaces(base: .fromEnvironment()).listing(
      kinds: IPCKind.allCases, filter: ObjectFilter(), orphanStates: false, segmentMemory: false)
    if let warning = skipped.warning { Terminal.warn(warning) }
    let rows = NamespaceSummary.rows(listing, skipped: skipped.namespaces)
    let formatter = CellFormatter(options: output.renderOptions(now: listing.now), users: UserDirectory())
    try Terminal.write(try NamespaceSummaryRenderer(rows).render(as: output.format, formatter: formatter, capacity: 64 + rows.count * 160))
  }

  /// `ls pipe` and `ls sock`: one pass over /proc/*/fd, then the records in the chosen format.
  static func listStreams(sockets: Bool, output: OutputSettings) throws {
    let scan = DescriptorScan.scan(procDirectory: IPCView.fromEnvironment().proc)
    let renderer = sockets ? RecordRenderer.sockets(try UnixSocketTable.read(scan: scan)) : RecordRenderer.pipes(scan.pipes)
    if scan.processesHidden {
      Terminal.warn("/proc hides other users' processes (hidepid): the \(sockets ? "holders" : "readers and writers") shown are only those this user may see")
    }
    if scan.uninspectable > 0 {
      Terminal.warn("\(scan.uninspectable) process\(scan.uninspectable == 1 ? "" : "es") could not be inspected (\(uninspectableReason(toSee: sockets ? "which sockets they hold" : "their pipes")))")
    }
    let formatter = CellFormatter(options: output.renderOptions(now: 0), users: UserDirectory())
    try Terminal.write(try renderer.render(as: output.format, formatter: formatter, capacity: 64 + renderer.rows.count * 96))
  }
}
