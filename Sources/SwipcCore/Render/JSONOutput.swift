import Glibc

/// JSON: a record is an object, its columns' keys in order; values as `CellFormatter.writeJSON`
/// writes them. Every command's JSON comes from here, in one of three layouts.
public struct JSONOutput: RecordWriter {
  public static let format = OutputFormat.json

  public enum Layout: Sendable {
    /// `[` and `]` on lines of their own, each object on a line indented by two spaces, `[]`
    /// when there is none: `ls`, `clean`, `limits`.
    case array
    /// One object and a newline: `show`, `sem get`.
    case object
    /// An object a line, with no enclosing array (JSON Lines): `msg recv`.
    case lines
  }

  let formatter: CellFormatter
  let layout: Layout
  /// The output so far; a caller that writes each record at once (`msg recv`) may take and empty it.
  public var out: OutputBuffer
  var columns: [OutputColumn] = []
  /// Every column's `"key":`, end to end, and where each ends: a cell copies no column.
  var keys: [UInt8] = []
  var keyEnds: [Int] = []
  var column = 0
  var records = 0
  /// Per column, the last value written and what was written for it, key included: the records
  /// of a listing repeat most of their values (owner, permissions, times, namespace), and copying
  /// those bytes costs less than writing them again.
  var lastValues: [CellValue?] = []
  /// Those bytes, a slot of `memoSlot` per column, and how many there are (a longer cell is not
  /// kept): one array, not one per column, whose every use would cost a retain and a release.
  var memo: [UInt8] = []
  var memoLengths: [Int] = []
  static let memoSlot = 64

  public init(formatter: CellFormatter, layout: Layout, capacity: Int = 4096) {
    self.formatter = formatter
    self.layout = layout
    self.out = OutputBuffer(capacity: capacity)
  }

  public mutating func begin(_ columns: [OutputColumn], title: String?) {
    self.columns = columns
    keys.removeAll(keepingCapacity: true)
    keyEnds.removeAll(keepingCapacity: true)
    for c in columns {
      keys += c.jsonKey
      keyEnds.append(keys.count)
    }
    column = 0
    lastValues = Array(repeating: nil, count: columns.count)
    memoLengths = Array(repeating: 0, count: columns.count)
    if memo.count < columns.count * Self.memoSlot { memo = Array(repeating: 0, count: columns.count * Self.memoSlot) }
  }

  public mutating func cell(_ value: CellValue) {
    if column == 0 {
      if layout == .array { out.write(records == 0 ? "[\n  " : ",\n  ") }
      out.write(byte: 123)
    } else {
      out.write(byte: 44)
    }
    let slot = column * Self.memoSlot
    if let last = lastValues[column], last.writesAs(value) {
      let length = memoLengths[column]
      memo.withUnsafeBufferPointer { out.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: $0[slot..<(slot + length)])) }
    } else {
      let cellStart = out.bytes.count
      let start = column == 0 ? 0 : keyEnds[column - 1]
      let end = keyEnds[column]
      keys.withUnsafeBufferPointer { out.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: $0[start..<end])) }
      formatter.writeJSON(value, to: &out)
      if case .name(let name) = value { formatter.writeExactBytes(of: name, key: columns[column].key, to: &out) }
      let length = out.bytes.count - cellStart
      if length <= Self.memoSlot {
        lastValues[column] = value
        memoLengths[column] = length
        out.bytes.withUnsafeBufferPointer { written in
          memo.withUnsafeMutableBufferPointer { kept in
            kept.baseAddress!.advanced(by: slot).update(from: written.baseAddress!.advanced(by: cellStart), count: length)
          }
        }
      } else {
        lastValues[column] = nil
      }
    }
    column += 1
    if column == columns.count {
      out.write(byte: 125)
      if layout != .array { out.newline() }
      column = 0
      records += 1
    }
  }

  public mutating func finish() -> OutputBuffer {
    if layout == .array { out.write(records == 0 ? "[]\n" : "\n]\n") }
    return out
  }
}

extension CellValue {
  /// Whether `other` is written with the same bytes: `==` is not enough, as equal strings may
  /// differ in bytes (`é` precomposed and `e` with a combining accent: two creators' command
  /// lines) and equal doubles print apart (0.0 and -0.0).
  func writesAs(_ other: CellValue) -> Bool {
    switch (self, other) {
    case (.text(let a), .text(let b)): return Self.sameBytes(a, b)
    case (.list(let a), .list(let b)): return a.elementsEqual(b) { Self.sameBytes($0, $1) }
    case (.processes(let a), .processes(let b)):
      return a.elementsEqual(b) { $0.pid == $1.pid && Self.sameBytes($0.name, $1.name) }
    case (.array(let a), .array(let b)): return a.elementsEqual(b) { $0.writesAs($1) }
    case (.fields(let a), .fields(let b)):
      return a.elementsEqual(b) { Self.sameBytes($0.key, $1.key) && $0.value.writesAs($1.value) }
    case (.percent(let a), .percent(let b)): return a.bitPattern == b.bitPattern
    case (.fixed(let a, let x), .fixed(let b, let y)): return a.bitPattern == b.bitPattern && x == y
    default:
      // Every other case holds numbers or exact bytes (a POSIX name is equal by its bytes).
      return self == other
    }
  }

  /// Byte equality by one comparison of memory where both strings have contiguous UTF-8 (native
  /// strings do), element by element otherwise.
  static func sameBytes(_ a: String, _ b: String) -> Bool {
    let same = a.utf8.withContiguousStorageIfAvailable { x in
      b.utf8.withContiguousStorageIfAvailable { y in
        x.count == y.count && (x.count == 0 || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0)
      }
    }
    if let same, let same { return same }
    return a.utf8.elementsEqual(b.utf8)
  }
}
