/// `swipc ls`: IPC objects as records, and as Prometheus samples.
public struct ObjectListRenderer: Rendering {
  public static let formats: [OutputFormat] = [.table, .json, .csv, .prometheus]

  public var objects: [IPCObject]
  /// The kinds listed, in order: a table per kind, and zeros in Prometheus for a kind with none.
  public var kinds: [IPCKind]
  public var context: ColumnContext
  /// Columns chosen with `-o`; nil for each kind's defaults (table) or everything (JSON, CSV).
  public var columns: [ObjectColumn]?
  /// Per kind, the orphaned objects and those whose state is unknown, for Prometheus.
  public var orphaned: [IPCKind: Int]?
  public var unknownOrphans: [IPCKind: Int]?
  /// Columns put before the defaults when no -o was given (the namespace columns of -A).
  public var leadingColumns: [ObjectColumn] = []

  public init(
    objects: [IPCObject], kinds: [IPCKind], context: ColumnContext, columns: [ObjectColumn]?,
    orphaned: [IPCKind: Int]? = nil, unknownOrphans: [IPCKind: Int]? = nil
  ) {
    self.objects = objects
    self.kinds = kinds
    self.context = context
    self.columns = columns
    self.orphaned = orphaned
    self.unknownOrphans = unknownOrphans
  }

  static let typeColumn = ObjectColumn.named("TYPE")!

  /// A table per kind with that kind's columns, titled when there are several; CSV with one
  /// heading, TYPE then the union of the kinds' columns; JSON objects with `type` then the columns
  /// of their kind.
  public func write(to writer: inout some RecordWriter) {
    switch type(of: writer).format {
    case .table:
      for kind in kinds {
        let cols = columns ?? leadingColumns + ObjectColumn.defaults(for: kind)
        writer.begin(cols.map(\.output), title: kinds.count > 1 ? kind.title : nil)
        for object in objects where object.kind == kind { write(object, cols, to: &writer) }
      }
    default:
      var batches = self.batches(to: &writer)
      batches.write(objects, into: &writer)
    }
  }

  /// JSON and CSV records written batch after batch, as they come (a listing across namespaces
  /// writes each namespace's while the next is read): the same records `write(to:)` writes.
  public struct Batches {
    let renderer: ObjectListRenderer
    /// For JSON, the columns chosen with -o; nil for each kind's own.
    let chosen: [ObjectColumn]?
    var cols: [ObjectColumn]
    var current: IPCKind?

    // Concrete entry points: a caller in another module gets code specialised for its writer.
    public mutating func write(_ objects: [IPCObject], to writer: inout JSONOutput) { write(objects, into: &writer) }
    public mutating func write(_ objects: [IPCObject], to writer: inout CSVOutput) { write(objects, into: &writer) }

    mutating func write(_ objects: [IPCObject], into writer: inout some RecordWriter) {
      for object in objects {
        if type(of: writer).format != .csv, current != object.kind {
          current = object.kind
          cols = chosen ?? renderer.typed(renderer.leadingColumns + ObjectColumn.applicable(to: object.kind))
          writer.begin(cols.map(\.output), title: nil)
        }
        renderer.write(object, cols, to: &writer)
      }
    }
  }

  /// Starts writing batches: CSV has one heading, TYPE then the union of the kinds' columns; a
  /// JSON object has `type` then the columns of its kind.
  public func batches(to writer: inout some RecordWriter) -> Batches {
    guard type(of: writer).format == .csv else {
      return Batches(renderer: self, chosen: columns.map(typed), cols: [], current: nil)
    }
    var cols = columns ?? leadingColumns
    if columns == nil {
      for kind in kinds {
        for column in ObjectColumn.applicable(to: kind) where !cols.contains(where: { $0 === column }) {
          cols.append(column)
        }
      }
    }
    cols = typed(cols)
    writer.begin(cols.map(\.output), title: nil)
    return Batches(renderer: self, chosen: cols, cols: cols, current: nil)
  }

  /// TYPE first, once.
  func typed(_ cols: [ObjectColumn]) -> [ObjectColumn] {
    [Self.typeColumn] + cols.filter { $0 !== Self.typeColumn }
  }

  func write(_ object: IPCObject, _ cols: [ObjectColumn], to writer: inout some RecordWriter) {
    for column in cols { writer.cell(column.value(of: object, context: context)) }
  }

  public func metrics(into writer: inout PrometheusWriter, formatter: CellFormatter) {
    InventoryMetrics.write(
      objects, kinds: kinds, orphaned: orphaned, unknownOrphans: unknownOrphans, users: formatter.users,
      namespaces: context.namespaces, into: &writer)
  }
}
