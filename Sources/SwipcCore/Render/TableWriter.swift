/// Aligned columns of text: the table format of every command.
public struct TableWriter {
  public var headers: [String]
  public var rightAligned: [Bool]
  public var rows: [[String]] = []

  public init(headers: [String], rightAligned: [Bool]) {
    self.headers = headers
    self.rightAligned = rightAligned
  }

  public mutating func add(_ row: [String]) { rows.append(row) }

  /// Writes the table; the last column is never padded, so long commands are never cut.
  public func write(to out: inout OutputBuffer, headings: Bool) {
    var widths = headings ? headers.map(TextWidth.of) : [Int](repeating: 0, count: headers.count)
    for row in rows {
      for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], TextWidth.of(cell)) }
    }
    func line(_ cells: [String]) {
      for (i, cell) in cells.enumerated() {
        if i > 0 { out.write(byte: 32) }
        let last = i == cells.count - 1
        if last && !rightAligned[i] { out.write(cell) } else {
          out.write(padded: cell, width: widths[i], right: rightAligned[i])
        }
      }
      out.newline()
    }
    if headings { line(headers) }
    for row in rows { line(row) }
  }
}
