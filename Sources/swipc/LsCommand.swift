import ArgumentParser
import SwipcCore

extension Swipc {
  struct Ls: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "ls",
      abstract: "List IPC objects, one row each.",
      discussion: """
        TYPE is msg, shm, sem (System V) or pmsg, pshm, psem (POSIX); the default is all six. \
        Listing reads /proc/sysvipc, /dev/shm and the mqueue filesystem, and needs no permission \
        on the objects. Columns for -o: \(ObjectColumn.catalog.map(\.name).joined(separator: ", ")).
        """)

    @Argument(help: ArgumentHelp("Kinds to list: msg, shm, sem, pmsg, pshm, psem (default: all).", valueName: "type"), transform: parsed(parseKind))
    var types: [IPCKind] = []

    @OptionGroup(title: "Filters") var filters: FilterOptions
    @OptionGroup(title: "Output") var output: OutputOptions

    func run() throws {
      var kinds = [IPCKind]()
      for kind in (types.isEmpty ? IPCKind.allCases : types) where !kinds.contains(kind) { kinds.append(kind) }
      let filter = try filters.makeFilter()
      let columns = try output.selectedColumns()
      let listing = Listing.make(
        kinds: kinds, filter: filter, countOrphans: output.format == .prometheus,
        segmentMemory: ObjectColumn.showsSegmentMemory(columns, format: output.format))
      if let failure = listing.failure { throw failure }
      for warning in listing.warnings { Terminal.warn(warning) }

      let users = UserDirectory()
      let formatter = CellFormatter(options: output.renderOptions(now: listing.now), users: users)
      let renderer = ObjectListRenderer(
        formatter: formatter, context: ColumnContext(now: listing.now, processes: ProcessTable()),
        columns: columns)
      var out = OutputBuffer(capacity: 64 + listing.objects.count * 160)
      switch output.format {
      case .table: renderer.table(listing.objects, kinds: kinds, into: &out)
      case .csv: renderer.csv(listing.objects, kinds: kinds, into: &out)
      case .json: renderer.json(listing.objects, into: &out)
      case .prometheus:
        var writer = PrometheusWriter()
        InventoryMetrics.write(listing.objects, kinds: kinds, orphaned: listing.orphanCounts, users: users, into: &writer)
        out = writer.out
      }
      Terminal.write(out)
    }
  }
}
