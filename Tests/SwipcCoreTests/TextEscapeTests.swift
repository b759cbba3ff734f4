import Testing
@testable import SwipcCore

@Suite("Table text escaping (ls -b style)")
struct TextEscapeTests {
  static func escape(_ bytes: [UInt8]) -> String {
    bytes.withUnsafeBufferPointer { raw in
      var out = [UInt8]()
      TextEscape.escape(raw, into: &out)
      return String(decoding: out, as: UTF8.self)
    }
  }

  @Test("control characters, backslash and bytes that are not UTF-8", arguments: [
    (Array("plain".utf8), "plain"),
    (Array("e\u{1b}[2J".utf8), "e\\033[2J"),
    (Array("a\nb\tc\r".utf8), "a\\nb\\tc\\r"),
    (Array("back\\slash".utf8), "back\\\\slash"),
    ([0x78, 0xFF], "x\\377"),
    ([0x7F, 0x00], "\\177\\000"),
    (Array("caf\u{e9} \u{1F600}".utf8), "caf\u{e9} \u{1F600}"),
    ([0xC2, 0x9B, 0x32, 0x4A], "\\302\\2332J"),  // C1 CSI
    ([0xC0, 0xAF], "\\300\\257"),  // overlong '/'
    ([0xED, 0xA0, 0x80], "\\355\\240\\200"),  // a surrogate
    ([0xE2, 0x82], "\\342\\202"),  // cut short
  ])
  func escapes(bytes: [UInt8], expected: String) {
    #expect(Self.escape(bytes) == expected)
    let needs = bytes.withUnsafeBufferPointer { TextEscape.needsEscaping($0) }
    #expect(needs == (Self.escape(bytes) != String(decoding: bytes, as: UTF8.self)))
  }

  @Test("every table cell is escaped, and widths count the escaped text")
  func tableCells() {
    var table = TableWriter(headers: ["A", "B"], rightAligned: [false, false])
    table.add(["x\ny", "z"])
    table.cells.bytes.append(contentsOf: [0x61, 0xFF])
    table.endCell()
    table.add(["\u{1b}"])
    var out = OutputBuffer()
    table.write(to: &out, headings: true)
    #expect(String(decoding: out.bytes, as: UTF8.self) == "A     B\nx\\ny  z\na\\377 \\033\n")
  }

  @Test("names keep their bytes: equal only when the bytes are, ordered by bytes")
  func namesAreBytes() {
    let a = POSIXName(entry: [0x78, 0xFE]), b = POSIXName(entry: [0x78, 0xFF])
    #expect(a != b)
    #expect(a.rawValue == b.rawValue)
    #expect(a < b)
    #expect(!a.isValidUTF8)
    #expect(ObjectFilter.glob("x*", matches: a))
    #expect(ObjectFilter.glob("/x?", matches: b))
  }
}
