/// Renders a list of objects as a table, CSV or JSON.
public struct ObjectListRenderer {
  public var formatter: CellFormatter
  public var context: ColumnContext
  /// Columns chosen with `-o`; nil for each kind's defaults (table) or everything (JSON, CSV).
  public var columns: [ObjectColumn]?
  /// Columns put before the defaults when no -o was given (the namespace columns of -A).
  public var leadingColumns: [ObjectColumn] = []

  public init(formatter: CellFormatter, context: ColumnContext, columns: [ObjectColumn]?) {
    self.formatter = formatter
    self.context = context
    self.columns = columns
  }

  /// A table per kind, each with its own columns; a title above each when there are several.
  public func table(_ objects: [IPCObject], kinds: [IPCKind], into out: inout OutputBuffer) {
    for (n, kind) in kinds.enumerated() {
      let cols = columns ?? leadingColumns + ObjectColumn.defaults(for: kind)
      if kinds.count > 1 {
        if n > 0 { out.newline() }
        out.write("------ \(kind.title) ------\n")
      }
      var table = TableWriter(headers: cols.map(\.name), rightAligned: cols.map(\.rightAligned))
      for object in objects where object.kind == kind {
        for column in cols {
          formatter.writeTable(column.value(of: object, context: context), into: &table.cells)
          table.endCell()
        }
      }
      table.write(to: &out, headings: formatter.options.headings)
    }
  }

  /// One header line, TYPE first, then the union of the kinds' columns.
  public func csv(_ objects: [IPCObject], kinds: [IPCKind], into out: inout OutputBuffer) {
    var cols = columns ?? []
    if columns == nil {
      for kind in kinds {
        for column in ObjectColumn.applicable(to: kind) where !cols.contains(where: { $0.name == column.name }) {
          cols.append(column)
        }
      }
      cols.removeAll { $0.name == "TYPE" }
      cols = leadingColumns + cols
    }
    let all = [ObjectColumn.named("TYPE")!] + cols.filter { $0.name != "TYPE" }
    if formatter.options.headings {
      for (i, c) in all.enumerated() {
        if i > 0 { out.write(byte: 44) }
        out.write(c.name)
      }
      out.newline()
    }
    for object in objects {
      for (i, c) in all.enumerated() {
        if i > 0 { out.write(byte: 44) }
        out.writeCSVField(formatter.csvText(c.value(of: object, context: context)))
      }
      out.newline()
    }
  }

  /// A JSON array, one object per IPC object; `[]` when there are none.
  public func json(_ objects: [IPCObject], into out: inout OutputBuffer) {
    out.write(byte: 91)
    for (n, object) in objects.enumerated() {
      out.write(n == 0 ? "\n  " : ",\n  ")
      writeJSONObject(object, into: &out)
    }
    out.write(objects.isEmpty ? "]\n" : "\n]\n")
  }

  /// One object's fields as a JSON object: `type` first, then its columns.
  public func writeJSONObject(_ object: IPCObject, into out: inout OutputBuffer) {
    let cols = columns ?? leadingColumns + ObjectColumn.applicable(to: object.kind)
    out.write("{\"type\":\"")
    out.write(object.kind.rawValue)
    out.write(byte: 34)
    for column in cols where column.name != "TYPE" {
      out.bytes.append(contentsOf: column.jsonPrefix)
      formatter.writeJSON(column.value(of: object, context: context), to: &out)
      if column.name == "NAME", let name = object.name { out.writeNameBase64(name) }
    }
    out.write(byte: 125)
  }
}

extension OutputBuffer {
  /// `,"name_base64":"…"` after a `name` that is not UTF-8, whose JSON text cannot hold it
  /// exactly: the base64 of the name's bytes, with its slash.
  public mutating func writeNameBase64(_ name: POSIXName) {
    guard !name.isValidUTF8 else { return }
    write(",\"name_base64\":\"")
    name.bytes.withUnsafeBytes { Base64.encode($0, into: &self) }
    write(byte: 34)
  }
}
