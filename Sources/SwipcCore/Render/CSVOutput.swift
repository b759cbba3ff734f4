/// CSV (RFC 4180): one heading line, from the first group's columns (a CSV file has one), then a
/// line per record.
public struct CSVOutput: RecordWriter {
  public static let format = OutputFormat.csv
  let formatter: CellFormatter
  /// The output so far; a caller that writes it out as it goes may take and empty it.
  public var out: OutputBuffer
  var columnCount = 0
  var column = 0
  var headed = false

  public init(formatter: CellFormatter, capacity: Int = 4096) {
    self.formatter = formatter
    self.out = OutputBuffer(capacity: capacity)
  }

  public mutating func begin(_ columns: [OutputColumn], title: String?) {
    columnCount = columns.count
    column = 0
    guard !headed else { return }
    headed = true
    guard formatter.options.headings else { return }
    for (i, c) in columns.enumerated() {
      if i > 0 { out.write(byte: 44) }
      out.writeCSVField(c.heading)
    }
    out.newline()
  }

  public mutating func cell(_ value: CellValue) {
    if column > 0 { out.write(byte: 44) }
    out.writeCSVField(formatter.csvText(value))
    column += 1
    if column == columnCount {
      out.newline()
      column = 0
    }
  }

  public mutating func finish() -> OutputBuffer { out }
}
