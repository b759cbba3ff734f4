/// Aligned columns of text: the table format of every command.
///
/// Cells are kept in one byte buffer with their end offsets, so a table of thousands of rows costs
/// no allocation per cell.
public struct TableWriter {
  public var headers: [String]
  public var rightAligned: [Bool]
  /// The cells' bytes; a renderer writes a cell here, then calls `endCell()`.
  public var cells = OutputBuffer(capacity: 1 << 16)
  private var ends: [Int] = []
  private var widths: [Int]
  private var cellStart = 0

  public init(headers: [String], rightAligned: [Bool]) {
    self.headers = headers
    self.rightAligned = rightAligned
    self.widths = [Int](repeating: 0, count: headers.count)
  }

  /// Closes the cell written into `cells` since the last call.
  public mutating func endCell() {
    let end = cells.bytes.count
    let width = cells.bytes.withUnsafeBufferPointer { bytes in
      var width = 0
      for i in cellStart..<end where bytes[i] & 0xC0 != 0x80 { width += 1 }
      return width
    }
    let column = ends.count % headers.count
    if width > widths[column] { widths[column] = width }
    ends.append(end)
    cellStart = end
  }

  public mutating func add(_ row: [String]) {
    for cell in row {
      cells.write(cell)
      endCell()
    }
  }

  /// Writes the table; the last column is never padded, so long commands are never cut.
  public func write(to out: inout OutputBuffer, headings: Bool) {
    let columns = headers.count
    var widths = self.widths
    if headings { for (i, h) in headers.enumerated() { widths[i] = max(widths[i], TextWidth.of(h)) } }
    out.bytes.reserveCapacity(out.bytes.count + ends.count * 2 + cells.bytes.count + widths.reduce(0, +) * (ends.count / max(columns, 1) + 1))
    func pad(_ n: Int) { for _ in 0..<max(n, 0) { out.bytes.append(32) } }
    if headings {
      for (i, h) in headers.enumerated() {
        if i > 0 { out.bytes.append(32) }
        let last = i == columns - 1
        if rightAligned[i] { pad(widths[i] - TextWidth.of(h)) }
        out.write(h)
        if !rightAligned[i] && !last { pad(widths[i] - TextWidth.of(h)) }
      }
      out.newline()
    }
    var start = 0
    for (n, end) in ends.enumerated() {
      let i = n % columns
      if i > 0 { out.bytes.append(32) }
      let last = i == columns - 1
      var width = 0
      for b in cells.bytes[start..<end] where b & 0xC0 != 0x80 { width += 1 }
      if rightAligned[i] { pad(widths[i] - width) }
      out.bytes.append(contentsOf: cells.bytes[start..<end])
      if !rightAligned[i] && !last { pad(widths[i] - width) }
      if last { out.newline() }
      start = end
    }
  }
}
