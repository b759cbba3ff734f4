/// Aligned columns of text: the table format of every command.
///
/// Cells are kept in one byte buffer with their end offsets, so a table of thousands of rows costs
/// no allocation per cell.
public struct TableWriter {
  public var headers: [String]
  public var rightAligned: [Bool]
  /// The cells' bytes; a renderer writes a cell here, then calls `endCell()`.
  public var cells = OutputBuffer(capacity: 1 << 16)
  /// Where each cell ends in `cells`. 32 bits: a listing of 6,000 objects has 50,000 cells.
  private var ends: [UInt32] = []
  private var widths: [Int]
  private var cellStart = 0
  private var column = 0

  public init(headers: [String], rightAligned: [Bool]) {
    self.headers = headers
    self.rightAligned = rightAligned
    self.widths = [Int](repeating: 0, count: headers.count)
  }

  /// Closes the cell written into `cells` since the last call, escaping what it holds for a
  /// terminal (`TextEscape`): every cell of every table passes here.
  public mutating func endCell() {
    let start = cellStart
    let unsafe = cells.bytes.withUnsafeBufferPointer { TextEscape.needsEscaping(UnsafeBufferPointer(rebasing: $0[start...])) }
    if unsafe {
      var escaped = [UInt8]()
      cells.bytes.withUnsafeBufferPointer { TextEscape.escape(UnsafeBufferPointer(rebasing: $0[start...]), into: &escaped) }
      cells.bytes.replaceSubrange(start..., with: escaped)
    }
    let end = cells.bytes.count
    let width = cells.bytes.withUnsafeBufferPointer { TextWidth.of(UnsafeBufferPointer(rebasing: $0[cellStart..<end])) }
    if width > widths[column] { widths[column] = width }
    ends.append(UInt32(truncatingIfNeeded: end))
    cellStart = end
    column = column + 1 == widths.count ? 0 : column + 1
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
    if headings {
      for (i, h) in headers.enumerated() { widths[i] = max(widths[i], TextWidth.of(h)) }
      for (i, h) in headers.enumerated() {
        if i > 0 { out.bytes.append(32) }
        let pad = widths[i] - TextWidth.of(h)
        if rightAligned[i] { out.bytes.append(contentsOf: repeatElement(32, count: pad)) }
        out.write(h)
        if !rightAligned[i] && i < columns - 1 { out.bytes.append(contentsOf: repeatElement(32, count: pad)) }
      }
      out.newline()
    }
    guard !ends.isEmpty else { return }
    // The body goes straight into memory sized for its longest possible form: every cell's bytes,
    // and per row at most the sum of the widths in padding plus a separator or newline per cell.
    let rows = (ends.count + columns - 1) / columns
    let bound = cells.bytes.count + rows * (widths.reduce(0, +) + columns)
    let base = out.bytes.count
    out.bytes.append(contentsOf: repeatElement(0, count: bound))
    let written = out.bytes.withUnsafeMutableBufferPointer { destination in
      cells.bytes.withUnsafeBufferPointer { source in
        ends.withUnsafeBufferPointer { ends in
          widths.withUnsafeBufferPointer { widths in
            rightAligned.withUnsafeBufferPointer { rightAligned in
              var at = base
              var start = 0
              var i = 0
              for end in ends {
                let end = Int(end)
                let cell = UnsafeBufferPointer(rebasing: source[start..<end])
                let pad = widths[i] - TextWidth.of(cell)
                let last = i == columns - 1
                if i > 0 {
                  destination[at] = 32
                  at += 1
                }
                if rightAligned[i] && pad > 0 {
                  (destination.baseAddress! + at).initialize(repeating: 32, count: pad)
                  at += pad
                }
                if !cell.isEmpty {
                  (destination.baseAddress! + at).update(from: cell.baseAddress!, count: cell.count)
                  at += cell.count
                }
                if last {
                  destination[at] = 10
                  at += 1
                  i = 0
                } else {
                  if !rightAligned[i] && pad > 0 {
                    (destination.baseAddress! + at).initialize(repeating: 32, count: pad)
                    at += pad
                  }
                  i += 1
                }
                start = end
              }
              return at
            }
          }
        }
      }
    }
    out.bytes.removeLast(out.bytes.count - written)
  }
}

/// The table format: one `TableWriter` per group of records, a title above each group that has one.
public struct TableOutput: RecordWriter {
  public static let format = OutputFormat.table
  let formatter: CellFormatter
  var out: OutputBuffer
  var table: TableWriter?
  var groups = 0

  public init(formatter: CellFormatter, capacity: Int = 4096) {
    self.formatter = formatter
    self.out = OutputBuffer(capacity: capacity)
  }

  public mutating func begin(_ columns: [OutputColumn], title: String?) {
    flush()
    if let title {
      if groups > 0 { out.newline() }
      out.write("------ \(title) ------\n")
    }
    groups += 1
    table = TableWriter(headers: columns.map(\.heading), rightAligned: columns.map(\.rightAligned))
  }

  public mutating func cell(_ value: CellValue) {
    formatter.writeTable(value, into: &table!.cells)
    table!.endCell()
  }

  mutating func flush() {
    table?.write(to: &out, headings: formatter.options.headings)
    table = nil
  }

  public mutating func finish() -> OutputBuffer {
    flush()
    return out
  }
}
