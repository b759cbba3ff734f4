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
    var t = TableWriter(headers: ["RESULT", "TYPE", "ID", "KEY", "NAME", "OWNER", "SIZE", "REASON"],
      rightAligned: [false, false, true, false, false, false, true, false])
    // Cells are written in place, as `ls` writes them: thousands of rows are the normal case.
    func cell(_ value: CellValue) {
      formatter.writeTable(value, into: &t.cells)
      t.endCell()
    }
    for n in report.objects.indices {
      let o = report.objects[n]
      let (result, reason) = CleanReportRenderer.result(report.results[n])
      cell(.text(result))
      cell(.text(o.kind.rawValue))
      cell(o.id.map { .int(Int64($0)) } ?? .null)
      cell(o.key.map { .key($0) } ?? .null)
      cell(o.name.map { .name($0) } ?? .null)
      cell(.user(o.uid))
      cell(o.size.map { .bytes($0) } ?? .null)
      cell(.text(reason ?? ""))
    }
    t.write(to: &out, headings: formatter.options.headings)
  }

  public func json(_ report: CleanReport, into out: inout OutputBuffer) {
    out.write(byte: 91)
    for n in report.objects.indices {
      let o = report.objects[n]
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
      out.write(",\"result\":")
      out.writeJSONString(result)
      out.write(",\"reason\":")
      formatter.writeJSON(reason.map { .text($0) } ?? .null, to: &out)
      out.write(byte: 125)
    }
    out.write(report.objects.isEmpty ? "]\n" : "\n]\n")
  }
}
