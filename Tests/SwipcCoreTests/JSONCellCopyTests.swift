import Testing
@testable import SwipcCore

/// JSON copies a cell's bytes from the record before when its value repeats. Values that Swift
/// calls equal but that are written with other bytes must still be written afresh.
@Suite("JSON cells copied from the record before")
struct JSONCellCopyTests {
  static var formatter: CellFormatter { CellFormatter(options: RenderOptions(), users: UserDirectory()) }

  /// The records written one after the other, and each written alone.
  static func written(_ rows: [[CellValue]]) -> (together: [UInt8], alone: [UInt8]) {
    let columns = rows[0].indices.map { OutputColumn("C\($0)") }
    var together = JSONOutput(formatter: formatter, layout: .lines)
    together.begin(columns, title: nil)
    var alone: [UInt8] = []
    for row in rows {
      for value in row { together.cell(value) }
      var one = JSONOutput(formatter: formatter, layout: .lines)
      one.begin(columns, title: nil)
      for value in row { one.cell(value) }
      alone += one.finish().bytes
    }
    return (together.finish().bytes, alone)
  }

  /// Two creators' command lines, `café` precomposed and with a combining accent, are equal
  /// Strings: the second record showed the first's bytes.
  @Test("canonically equal but different text is written with its own bytes")
  func canonicallyEqualText() {
    let precomposed = "caf\u{E9} -c x", combining = "cafe\u{301} -c x"
    #expect(precomposed == combining)  // the premise: Swift's String equality
    let rows: [[CellValue]] = [
      [.text(precomposed), .list([precomposed]), .processes([ProcessRef(pid: 1, name: precomposed)])],
      [.text(combining), .list([combining]), .processes([ProcessRef(pid: 1, name: combining)])],
      [.array([.text(precomposed)]), .fields([.init("k", .text(precomposed))]), .fields([.init("\u{E9}", .null)])],
      [.array([.text(combining)]), .fields([.init("k", .text(combining))]), .fields([.init("e\u{301}", .null)])],
    ]
    let (together, alone) = Self.written(rows)
    #expect(together == alone, "\(String(decoding: together, as: UTF8.self))")
    #expect(together.count == alone.count)
  }

  /// 0.0 and -0.0 are equal and print apart, also inside an array or an object.
  @Test("a nested negative zero is written as such after a zero")
  func nestedNegativeZero() {
    let rows: [[CellValue]] = [
      [.array([.percent(0.0)]), .fields([.init("f", .fixed(0.0, digits: 2))])],
      [.array([.percent(-0.0)]), .fields([.init("f", .fixed(-0.0, digits: 2))])],
    ]
    let (together, alone) = Self.written(rows)
    #expect(together == alone, "\(String(decoding: together, as: UTF8.self))")
  }

  /// The copy still happens for values written with the same bytes (the point of it), which
  /// the written records show only as unchanged output.
  @Test("values repeated byte for byte compare as written alike")
  func repeatedValues() {
    let values: [CellValue] = [
      .text("caf\u{E9}"), .list(["a"]), .processes([ProcessRef(pid: 2, name: "sh")]), .percent(12.5),
      .fixed(1.25, digits: 2), .name(POSIXName(entry: [0xFF])), .user(0), .array([.int(1)]),
      .fields([.init("k", .bool(true))]),
    ]
    for value in values { #expect(value.writesAs(value), "\(value)") }
    #expect(!CellValue.fixed(1.25, digits: 2).writesAs(.fixed(1.25, digits: 3)))
    #expect(!CellValue.text("a").writesAs(.int(1)))
  }
}
