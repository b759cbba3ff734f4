/// Renders what `swipc clean` did to each selected object, as a table or JSON.
public struct CleanReportRenderer {
  public var formatter: CellFormatter

  public init(formatter: CellFormatter) { self.formatter = formatter }

  static func result(_ r: CleanResult) -> (String, String?) {
    switch r {
    case .removed: return ("removed", nil)
    case .wouldRemove: return ("would remove", nil)
    case .skipped(let why): return ("skipped", why)
    case .failed(let error): return ("failed", error.reason ?? error.description)
    }
  }

  public func table(_ report: CleanReport, into out: inout OutputBuffer) {
    let namespaces = report.namespaces
    var t = TableWriter(
      headers: ["RESULT", "TYPE", "ID", "KEY", "NAME", "OWNER", "SIZE"] + (namespaces != nil ? ["NAMESPACE", "CONTAINER"] : []) + ["REASON"],
      rightAligned: [false, false, true, false, false, false, true] + (namespaces != nil ? [false, false] : []) + [false])
    t.cells.bytes.reserveCapacity(report.rows.count * 48)
    // Cells are written in place, words and owner names as bytes made once: a report of thousands
    // of rows is the normal case for a cleanup.
    let kinds = IPCKind.allCases.map { Array($0.rawValue.utf8) }
    var owners: [UInt32: [UInt8]] = [:]
    func cell(_ value: CellValue) {
      formatter.writeTable(value, into: &t.cells)
      t.endCell()
    }
    func cell(bytes: [UInt8]) {
      t.cells.bytes.append(contentsOf: bytes)
      t.endCell()
    }
    for n in report.rows.indices {
      let o = report.rows[n]
      let result = report.results[n]
      cell(bytes: CleanReportRenderer.words[result.wordIndex])
      cell(bytes: kinds[o.kind.order])
      cell(o.id.map { .int(Int64($0)) } ?? .null)
      cell(o.key.map { .key($0) } ?? .null)
      cell(o.name.map { .name($0) } ?? .null)
      if let owner = owners[o.uid] {
        cell(bytes: owner)
      } else {
        let start = t.cells.bytes.count
        formatter.writeTable(.user(o.uid), into: &t.cells)
        owners[o.uid] = Array(t.cells.bytes[start...])
        t.endCell()
      }
      cell(o.size.map { .bytes($0) } ?? .null)
      if let namespaces {
        let entry = namespaces.entry(o.namespace)
        cell(entry.map { .text($0.label) } ?? .null)
        cell(entry?.container.map { .text($0) } ?? .null)
      }
      switch result {
      case .removed, .wouldRemove: t.endCell()
      case .skipped, .failed: cell(.text(CleanReportRenderer.result(result).1 ?? ""))
      }
    }
    t.write(to: &out, headings: formatter.options.headings)
  }

  /// The RESULT words as bytes, in the order of `CleanResult.wordIndex`.
  static let words: [[UInt8]] = ["removed", "would remove", "skipped", "failed"].map { Array($0.utf8) }

  public func json(_ report: CleanReport, into out: inout OutputBuffer) {
    out.write(byte: 91)
    for n in report.rows.indices {
      let o = report.rows[n]
      let (result, reason) = CleanReportRenderer.result(report.results[n])
      out.write(n == 0 ? "\n  {\"type\":\"" : ",\n  {\"type\":\"")
      out.write(o.kind.rawValue)
      out.write("\",\"id\":")
      formatter.writeJSON(o.id.map { .int(Int64($0)) } ?? .null, to: &out)
      out.write(",\"key\":")
      formatter.writeJSON(o.key.map { .key($0) } ?? .null, to: &out)
      out.write(",\"name\":")
      formatter.writeJSON(o.name.map { .name($0) } ?? .null, to: &out)
      if let name = o.name { out.writeNameBase64(name) }
      out.write(",\"owner\":")
      formatter.writeJSON(.user(o.uid), to: &out)
      out.write(",\"uid\":")
      out.write(uint: UInt64(o.uid))
      out.write(",\"size\":")
      formatter.writeJSON(o.size.map { .bytes($0) } ?? .null, to: &out)
      if let namespaces = report.namespaces {
        let entry = namespaces.entry(o.namespace)
        out.write(",\"namespace\":")
        formatter.writeJSON(entry.map { .text($0.label) } ?? .null, to: &out)
        out.write(",\"container\":")
        formatter.writeJSON(entry?.container.map { .text($0) } ?? .null, to: &out)
        out.write(",\"pid\":")
        formatter.writeJSON(entry?.pid.map { .int(Int64($0)) } ?? .null, to: &out)
      }
      out.write(",\"result\":")
      out.writeJSONString(result)
      out.write(",\"reason\":")
      formatter.writeJSON(reason.map { .text($0) } ?? .null, to: &out)
      out.write(byte: 125)
    }
    out.write(report.rows.isEmpty ? "]\n" : "\n]\n")
  }
}

extension CleanResult {
  var wordIndex: Int {
    switch self {
    case .removed: return 0
    case .wouldRemove: return 1
    case .skipped: return 2
    case .failed: return 3
    }
  }
}
