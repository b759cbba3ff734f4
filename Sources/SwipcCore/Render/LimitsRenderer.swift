/// `swipc limits`: a row per limit, and Prometheus samples.
public struct LimitsRenderer: Rendering {
  public static let formats: [OutputFormat] = [.table, .json, .csv, .prometheus]

  public var rows: [LimitRow]

  public init(_ rows: [LimitRow]) { self.rows = rows }

  func amount(_ value: UInt64?, _ unit: LimitRow.Unit) -> CellValue {
    guard let value else { return .null }
    return unit == .bytes ? .bytes(value) : .uint(value)
  }

  static let type = OutputColumn("TYPE")
  static let resource = OutputColumn("RESOURCE")
  static let description = OutputColumn("DESCRIPTION")
  static let limit = OutputColumn("LIMIT", rightAligned: true)
  static let used = OutputColumn("USED", rightAligned: true)
  static let usePercent = OutputColumn("USE%", key: "use_percent", rightAligned: true)
  static let unit = OutputColumn("UNIT")
  static let source = OutputColumn("SOURCE")
  /// Tables show what people read; CSV and JSON add the kind, unit and source.
  static let tableColumns = [resource, description, limit, used, usePercent]
  static let dataColumns = [type, resource, description, limit, used, usePercent, unit, source]

  public func write(to writer: inout some RecordWriter) {
    let table = Swift.type(of: writer).format == .table
    writer.begin(table ? Self.tableColumns : Self.dataColumns, title: nil)
    for r in rows {
      if !table { writer.cell(.text(r.kind.rawValue)) }
      writer.cell(.text(r.resource))
      writer.cell(.text(r.description))
      writer.cell(r.negativeLimit.map { .int($0) } ?? amount(r.limit, r.unit))
      writer.cell(amount(r.used, r.unit))
      writer.cell(r.usePercent.map { .percent($0) } ?? .null)
      if !table {
        writer.cell(.text(r.unit.rawValue))
        writer.cell(.text(r.source))
      }
    }
  }

  public func metrics(into writer: inout PrometheusWriter, formatter: CellFormatter) {
    for r in rows where r.limit != nil {
      writer.sample("swipc_limit", help: "Kernel limit for IPC objects.", labels: [("type", r.kind.rawValue), ("resource", r.resource), ("unit", r.unit.rawValue)], value: r.negativeLimit.map(Double.init) ?? Double(r.limit!))
    }
    for r in rows where r.used != nil {
      writer.sample("swipc_limit_used", help: "Current use against a kernel limit.", labels: [("type", r.kind.rawValue), ("resource", r.resource), ("unit", r.unit.rawValue)], value: Double(r.used!))
    }
    for r in rows where r.usePercent != nil {
      writer.sample("swipc_limit_use_ratio", help: "Current use divided by the limit (0 to 1).", labels: [("type", r.kind.rawValue), ("resource", r.resource)], value: r.usePercent! / 100)
    }
  }
}
