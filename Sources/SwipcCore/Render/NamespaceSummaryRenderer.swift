/// `swipc ls --namespaces`: one record per IPC namespace.
public struct NamespaceSummaryRenderer: Rendering {
  public static let formats: [OutputFormat] = [.table, .json, .csv]

  public var rows: [NamespaceSummary]

  public init(_ rows: [NamespaceSummary]) { self.rows = rows }

  static let namespace = OutputColumn("NAMESPACE")
  static let container = OutputColumn("CONTAINER")
  static let pid = OutputColumn("PID", rightAligned: true)
  static let command = OutputColumn("COMMAND")
  static let processes = OutputColumn("PROCS", key: "processes", rightAligned: true)
  static let objects = OutputColumn("OBJECTS", key: "objects")
  static let bytes = OutputColumn("BYTES", key: "bytes")
  /// Kinds whose objects hold bytes (segments, queues); semaphores hold none.
  static let byteKinds = IPCKind.allCases.filter { $0 != .sem && $0 != .psem }
  /// Tables and CSV: a column of objects per kind, and of bytes for kinds that hold bytes.
  static let flatColumns: [OutputColumn] = [namespace, container, pid, command, processes]
    + IPCKind.allCases.flatMap { kind in
      [OutputColumn(kind.rawValue.uppercased(), rightAligned: true)]
        + (byteKinds.contains(kind) ? [OutputColumn(kind.rawValue.uppercased() + "BYTES", rightAligned: true)] : [])
    }
  /// JSON: `objects` and `bytes` are objects keyed by kind, null where the namespace could not be
  /// entered.
  static let jsonColumns = [namespace, container, pid, command, processes, objects, bytes]

  public func write(to writer: inout some RecordWriter) {
    let json = Swift.type(of: writer).format == .json
    writer.begin(json ? Self.jsonColumns : Self.flatColumns, title: nil)
    for row in rows {
      writer.cell(.text(row.entry.label))
      writer.cell(row.entry.container.map { .text($0) } ?? .null)
      writer.cell(row.entry.pid.map { .int(Int64($0)) } ?? .null)
      writer.cell(row.entry.command.map { .text($0) } ?? .null)
      writer.cell(.int(Int64(row.entry.processes)))
      if json {
        writer.cell(row.objects.map { counts in
          .fields(IPCKind.allCases.map { .init($0.rawValue, .int(Int64(counts[$0] ?? 0))) })
        } ?? .null)
        writer.cell(row.bytes.map { bytes in
          .fields(Self.byteKinds.map { .init($0.rawValue, .uint(bytes[$0] ?? 0)) })
        } ?? .null)
      } else {
        for kind in IPCKind.allCases {
          writer.cell(row.objects.map { .int(Int64($0[kind] ?? 0)) } ?? .null)
          if Self.byteKinds.contains(kind) { writer.cell(row.bytes.map { .bytes($0[kind] ?? 0) } ?? .null) }
        }
      }
    }
  }
}
