/// Renders `swipc ls --namespaces`: one row per IPC namespace, as a table, CSV or JSON.
public struct NamespaceSummaryRenderer {
  public var formatter: CellFormatter

  public init(formatter: CellFormatter) { self.formatter = formatter }

  /// The leading columns, then objects (and bytes, for kinds that hold bytes) per kind.
  static let headers: [String] = ["NAMESPACE", "CONTAINER", "PID", "COMMAND", "PROCS"]
    + IPCKind.allCases.flatMap { kind in
      [kind.rawValue.uppercased()] + (kind.holdsBytes ? [kind.rawValue.uppercased() + "BYTES"] : [])
    }

  func cells(_ row: NamespaceSummary) -> [CellValue] {
    var cells: [CellValue] = [
      .text(row.entry.label), row.entry.container.map { .text($0) } ?? .null,
      row.entry.pid.map { .int(Int64($0)) } ?? .null, row.entry.command.map { .text($0) } ?? .null,
      .int(Int64(row.entry.processes)),
    ]
    for kind in IPCKind.allCases {
      cells.append(row.objects.map { .int(Int64($0[kind] ?? 0)) } ?? .null)
      if kind.holdsBytes { cells.append(row.bytes.map { .bytes($0[kind] ?? 0) } ?? .null) }
    }
    return cells
  }

  public func table(_ rows: [NamespaceSummary], into out: inout OutputBuffer) {
    let headers = Self.headers
    var t = TableWriter(headers: headers, rightAligned: headers.map { !["NAMESPACE", "CONTAINER", "COMMAND"].contains($0) })
    for row in rows {
      for cell in cells(row) {
        formatter.writeTable(cell, into: &t.cells)
        t.endCell()
      }
    }
    t.write(to: &out, headings: formatter.options.headings)
  }

  public func csv(_ rows: [NamespaceSummary], into out: inout OutputBuffer) {
    if formatter.options.headings {
      out.write(Self.headers.joined(separator: ","))
      out.newline()
    }
    for row in rows {
      for (i, cell) in cells(row).enumerated() {
        if i > 0 { out.write(byte: 44) }
        out.writeCSVField(formatter.csvText(cell))
      }
      out.newline()
    }
  }

  /// `{"namespace":"ipc:[N]","container":…,"pid":…,"command":…,"processes":N,
  /// "objects":{"msg":N,…},"bytes":{"msg":N,…}}`; objects and bytes null where the namespace
  /// could not be entered.
  public func json(_ rows: [NamespaceSummary], into out: inout OutputBuffer) {
    out.write(byte: 91)
    for (n, row) in rows.enumerated() {
      let c = cells(row)
      out.write(n == 0 ? "\n  {\"namespace\":" : ",\n  {\"namespace\":")
      formatter.writeJSON(c[0], to: &out)
      out.write(",\"container\":")
      formatter.writeJSON(c[1], to: &out)
      out.write(",\"pid\":")
      formatter.writeJSON(c[2], to: &out)
      out.write(",\"command\":")
      formatter.writeJSON(c[3], to: &out)
      out.write(",\"processes\":")
      formatter.writeJSON(c[4], to: &out)
      for (field, values) in [("objects", row.objects.map { $0.mapValues { UInt64($0) } }), ("bytes", row.bytes)] {
        out.write(",\"\(field)\":")
        guard let values else {
          out.write("null")
          continue
        }
        out.write(byte: 123)
        let kinds = IPCKind.allCases.filter { field == "objects" || $0.holdsBytes }
        for (i, kind) in kinds.enumerated() {
          out.write(i == 0 ? "\"" : ",\"")
          out.write(kind.rawValue)
          out.write("\":")
          out.write(uint: values[kind] ?? 0)
        }
        out.write(byte: 125)
      }
      out.write(byte: 125)
    }
    out.write(rows.isEmpty ? "]\n" : "\n]\n")
  }
}

extension IPCKind {
  /// Whether objects of this kind hold bytes (segments, queues): semaphores hold none.
  var holdsBytes: Bool { self != .sem && self != .psem }
}
