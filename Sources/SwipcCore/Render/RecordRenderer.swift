/// `ls pipe` and `ls sock`, whose rows are not IPC objects and have columns of their own. In JSON
/// each object starts with `type` (`pipe` or `sock`), which tables and CSV leave out.
public struct RecordRenderer: Rendering {
  public static let formats: [OutputFormat] = [.table, .json, .csv]

  public var columns: [OutputColumn]
  public var rows: [[CellValue]]
  /// The JSON `type` of every record.
  public var type: String

  public init(columns: [OutputColumn], rows: [[CellValue]], type: String) {
    self.columns = columns
    self.rows = rows
    self.type = type
  }

  static let typeColumn = OutputColumn("TYPE", key: "type")

  public func write(to writer: inout some RecordWriter) {
    let json = Swift.type(of: writer).format == .json
    writer.begin(json ? [Self.typeColumn] + columns : columns, title: nil)
    for row in rows {
      if json { writer.cell(.text(type)) }
      for value in row { writer.cell(value) }
    }
  }

  /// `ls pipe`: TYPE, INODE, READERS, WRITERS, PATH.
  public static func pipes(_ records: [PipeRecord]) -> RecordRenderer {
    RecordRenderer(
      columns: [
        OutputColumn("TYPE", key: "pipe_type"), OutputColumn("INODE", rightAligned: true),
        OutputColumn("READERS"), OutputColumn("WRITERS"), OutputColumn("PATH"),
      ],
      rows: records.map {
        [.text($0.isFIFO ? "fifo" : "pipe"), .uint($0.inode), .processes($0.readers), .processes($0.writers),
          $0.path.map { .text($0) } ?? .null]
      },
      type: "pipe")
  }

  /// `ls sock`: PATH, TYPE, STATE, INODE, PROCESSES.
  public static func sockets(_ records: [UnixSocketRecord]) -> RecordRenderer {
    RecordRenderer(
      columns: [
        OutputColumn("PATH"), OutputColumn("TYPE", key: "socket_type"), OutputColumn("STATE"),
        OutputColumn("INODE", rightAligned: true), OutputColumn("PROCESSES"),
      ],
      rows: records.map {
        [$0.path.map { .text($0) } ?? .null, .text($0.type), .text($0.state), .uint($0.inode), .processes($0.processes)]
      },
      type: "sock")
  }
}
