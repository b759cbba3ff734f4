/// Renders `swipc limits` in every format.
public struct LimitsRenderer {
  public var formatter: CellFormatter

  public init(formatter: CellFormatter) { self.formatter = formatter }

  func amount(_ value: UInt64?, _ unit: LimitRow.Unit) -> CellValue {
    guard let value else { return .null }
    return unit == .bytes ? .bytes(value) : .int(Int64(clamping: value))
  }

  static func percent(_ p: Double?) -> String {
    guard let p else { return "-" }
    return TextFormat.fixed(p, digits: 2) + "%"
  }

  public func table(_ rows: [LimitRow], into out: inout OutputBuffer) {
    var t = TableWriter(headers: ["RESOURCE", "DESCRIPTION", "LIMIT", "USED", "USE%"],
      rightAligned: [false, false, true, true, true])
    for r in rows {
      var limit = formatter.tableText(amount(r.limit, r.unit))
      // Integers above Int64 (SHMALL's default) print exactly.
      if r.unit != .bytes, let l = r.limit, l > UInt64(Int64.max) { limit = String(l) }
      t.add([r.resource, r.description, limit, formatter.tableText(amount(r.used, r.unit)), LimitsRenderer.percent(r.usePercent)])
    }
    t.write(to: &out, headings: formatter.options.headings)
  }

  public func csv(_ rows: [LimitRow], into out: inout OutputBuffer) {
    if formatter.options.headings { out.write("TYPE,RESOURCE,DESCRIPTION,LIMIT,USED,USE%,UNIT,SOURCE\n") }
    for r in rows {
      let fields = [r.kind.rawValue, r.resource, r.description, r.limit.map { String($0) } ?? "",
        r.used.map { String($0) } ?? "", r.usePercent.map { String($0) } ?? "", r.unit.rawValue, r.source]
      for (i, f) in fields.enumerated() {
        if i > 0 { out.write(byte: 44) }
        out.writeCSVField(f)
      }
      out.newline()
    }
  }

  public func json(_ rows: [LimitRow], into out: inout OutputBuffer) {
    out.write(byte: 91)
    for (n, r) in rows.enumerated() {
      out.write(n == 0 ? "\n  {" : ",\n  {")
      out.write("\"type\":\"\(r.kind.rawValue)\",\"resource\":")
      out.writeJSONString(r.resource)
      out.write(",\"description\":")
      out.writeJSONString(r.description)
      out.write(",\"limit\":\(r.limit.map { String($0) } ?? "null"),\"used\":\(r.used.map { String($0) } ?? "null")")
      out.write(",\"use_percent\":")
      if let p = r.usePercent { out.write(String((p * 10000).rounded() / 10000)) } else { out.write("null") }
      out.write(",\"unit\":\"\(r.unit.rawValue)\",\"source\":")
      out.writeJSONString(r.source)
      out.write(byte: 125)
    }
    out.write(rows.isEmpty ? "]\n" : "\n]\n")
  }

  public func prometheus(_ rows: [LimitRow], into writer: inout PrometheusWriter) {
    for r in rows where r.limit != nil {
      writer.sample("swipc_limit", help: "Kernel limit for IPC objects.", labels: [("type", r.kind.rawValue), ("resource", r.resource), ("unit", r.unit.rawValue)], value: Double(r.limit!))
    }
    for r in rows where r.used != nil {
      writer.sample("swipc_limit_used", help: "Current use against a kernel limit.", labels: [("type", r.kind.rawValue), ("resource", r.resource), ("unit", r.unit.rawValue)], value: Double(r.used!))
    }
    for r in rows where r.usePercent != nil {
      writer.sample("swipc_limit_use_ratio", help: "Current use divided by the limit (0 to 1).", labels: [("type", r.kind.rawValue), ("resource", r.resource)], value: r.usePercent! / 100)
    }
  }
}
