/// Table, CSV and JSON of simple records: `ls pipe` and `ls sock`, whose rows are not IPC
/// objects and have columns of their own.
public struct RecordRenderer {
  public enum Field: Sendable {
    case text(String?)
    case number(UInt64)
    case processes([ProcessRef])
  }

  public struct Column: Sendable {
    public var heading: String
    public var jsonKey: String
    public var rightAligned: Bool
  }

  public var columns: [Column]
  /// The JSON `type` of each record (e.g. `pipe`, `fifo`, `sock`) comes first in its object.
  public var headings: Bool

  public init(columns: [Column], headings: Bool) {
    self.columns = columns
    self.headings = headings
  }

  /// `4321:bash,4400:cat`; `-` for none.
  static func text(_ field: Field) -> String {
    switch field {
    case .text(let t): return t ?? "-"
    case .number(let n): return String(n)
    case .processes(let list):
      return list.isEmpty ? "-" : list.map { "\($0.pid):\($0.name)" }.joined(separator: ",")
    }
  }

  public func table(_ rows: [[Field]], into out: inout OutputBuffer) {
    var t = TableWriter(headers: columns.map(\.heading), rightAligned: columns.map(\.rightAligned))
    for row in rows { t.add(row.map(RecordRenderer.text)) }
    t.write(to: &out, headings: headings)
  }

  public func csv(_ rows: [[Field]], into out: inout OutputBuffer) {
    if headings {
      out.write(columns.map(\.heading).joined(separator: ","))
      out.newline()
    }
    for row in rows {
      for (i, field) in row.enumerated() {
        if i > 0 { out.write(byte: 44) }
        if case .text(nil) = field { continue }
        out.writeCSVField(RecordRenderer.text(field))
      }
      out.newline()
    }
  }

  /// An array of objects: `[{"type":"pipe","inode":123,...}]`.
  public func json(_ rows: [[Field]], types: [String], into out: inout OutputBuffer) {
    out.write(byte: 91)
    for (r, row) in rows.enumerated() {
      out.write(r == 0 ? "\n{\"type\":" : ",\n{\"type\":")
      out.writeJSONString(types[r])
      for (i, field) in row.enumerated() {
        out.write(",\"\(columns[i].jsonKey)\":")
        switch field {
        case .text(let t):
          if let t { out.writeJSONString(t) } else { out.write("null") }
        case .number(let n): out.write(uint: n)
        case .processes(let list):
          out.write(byte: 91)
          for (k, p) in list.enumerated() {
            if k > 0 { out.write(byte: 44) }
            out.write("{\"pid\":")
            out.write(int: Int64(p.pid))
            out.write(",\"command\":")
            out.writeJSONString(p.name)
            out.write(byte: 125)
          }
          out.write(byte: 93)
        }
      }
      out.write(byte: 125)
    }
    out.write(rows.isEmpty ? "]\n" : "\n]\n")
  }
}

extension RecordRenderer {
  public typealias Rendering = (renderer: RecordRenderer, rows: [[Field]], types: [String])

  /// `ls pipe`: TYPE, INODE, READERS, WRITERS, PATH.
  public static func pipes(_ records: [PipeRecord], headings: Bool) -> Rendering {
    let renderer = RecordRenderer(columns: [
      Column(heading: "TYPE", jsonKey: "pipe_type", rightAligned: false),
      Column(heading: "INODE", jsonKey: "inode", rightAligned: true),
      Column(heading: "READERS", jsonKey: "readers", rightAligned: false),
      Column(heading: "WRITERS", jsonKey: "writers", rightAligned: false),
      Column(heading: "PATH", jsonKey: "path", rightAligned: false),
    ], headings: headings)
    let rows: [[Field]] = records.map {
      [.text($0.isFIFO ? "fifo" : "pipe"), .number($0.inode), .processes($0.readers), .processes($0.writers), .text($0.path)]
    }
    return (renderer, rows, records.map { _ in "pipe" })
  }

  /// `ls sock`: PATH, TYPE, STATE, INODE, PROCESSES.
  public static func sockets(_ records: [UnixSocketRecord], headings: Bool) -> Rendering {
    let renderer = RecordRenderer(columns: [
      Column(heading: "PATH", jsonKey: "path", rightAligned: false),
      Column(heading: "TYPE", jsonKey: "socket_type", rightAligned: false),
      Column(heading: "STATE", jsonKey: "state", rightAligned: false),
      Column(heading: "INODE", jsonKey: "inode", rightAligned: true),
      Column(heading: "PROCESSES", jsonKey: "processes", rightAligned: false),
    ], headings: headings)
    let rows: [[Field]] = records.map {
      [.text($0.path), .text($0.type), .text($0.state), .number($0.inode), .processes($0.processes)]
    }
    return (renderer, rows, records.map { _ in "sock" })
  }
}
