/// What `swipc clean` did to each selected object.
public struct CleanReportRenderer: Rendering {
  public static let formats: [OutputFormat] = [.table, .json]

  public var report: CleanReport

  public init(_ report: CleanReport) { self.report = report }

  static func result(_ r: CleanResult) -> (String, String?) {
    switch r {
    case .removed: return ("removed", nil)
    case .wouldRemove: return ("would remove", nil)
    case .skipped(let why): return ("skipped", why)
    case .failed(let error): return ("failed", error.reason ?? error.description)
    }
  }

  static let result = OutputColumn("RESULT")
  static let type = OutputColumn("TYPE")
  static let id = OutputColumn("ID", rightAligned: true)
  static let key = OutputColumn("KEY")
  static let name = OutputColumn("NAME")
  static let owner = OutputColumn("OWNER")
  static let uid = OutputColumn("UID", rightAligned: true)
  static let size = OutputColumn("SIZE", rightAligned: true)
  static let reason = OutputColumn("REASON")
  static let namespace = OutputColumn("NAMESPACE")
  static let container = OutputColumn("CONTAINER")
  static let pid = OutputColumn("PID", rightAligned: true)
  /// A table leads with the result and ends with the reason; JSON keeps the object's fields first.
  /// A clean across namespaces (-A) names each object's namespace and container (and, in JSON, a
  /// process in it) before the result.
  static func columns(table: Bool, namespaces: Bool) -> [OutputColumn] {
    table
      ? [result, type, id, key, name, owner, size] + (namespaces ? [namespace, container] : []) + [reason]
      : [type, id, key, name, owner, uid, size] + (namespaces ? [namespace, container, pid] : []) + [result, reason]
  }

  public func write(to writer: inout some RecordWriter) {
    let table = Swift.type(of: writer).format == .table
    let namespaces = report.namespaces
    writer.begin(Self.columns(table: table, namespaces: namespaces != nil), title: nil)
    for n in report.rows.indices {
      let o = report.rows[n]
      let (result, reason) = Self.result(report.results[n])
      if table { writer.cell(.text(result)) }
      writer.cell(.text(o.kind.rawValue))
      writer.cell(o.id.map { .int(Int64($0)) } ?? .null)
      writer.cell(o.key.map { .key($0) } ?? .null)
      writer.cell(o.name.map { .name($0) } ?? .null)
      writer.cell(.user(o.uid))
      if !table { writer.cell(.int(Int64(o.uid))) }
      writer.cell(o.size.map { .bytes($0) } ?? .null)
      if let namespaces {
        let entry = namespaces.entry(o.namespace)
        writer.cell(entry.map { .text($0.label) } ?? .null)
        writer.cell(entry?.container.map { .text($0) } ?? .null)
        if !table { writer.cell(entry?.pid.map { .int(Int64($0)) } ?? .null) }
      }
      // A table leaves the reason of a removal blank; JSON says null.
      if table {
        writer.cell(.text(reason ?? ""))
      } else {
        writer.cell(.text(result))
        writer.cell(reason.map { .text($0) } ?? .null)
      }
    }
  }
}
