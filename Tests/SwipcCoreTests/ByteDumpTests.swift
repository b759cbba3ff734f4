import Testing
@testable import SwipcCore

@Suite("shm dump formats")
struct ByteDumpTests {
  func hex(_ bytes: [UInt8], offset: Int = 0, chunk: Int = ByteDump.chunkSize) -> String {
    var dump = ByteDump.Hex(offset: offset)
    var out = OutputBuffer()
    bytes.withUnsafeBytes { raw in
      var start = 0
      while start < raw.count {
        let end = min(start + chunk, raw.count)
        dump.write(UnsafeRawBufferPointer(rebasing: raw[start..<end]), into: &out)
        start = end
      }
    }
    dump.finish(into: &out, wroteAnything: !bytes.isEmpty)
    return String(decoding: out.bytes, as: UTF8.self)
  }

  @Test("hex: the layout of hexdump -C, with partial last lines")
  func hexLayout() {
    // Expected texts are what util-linux hexdump -C prints for the same bytes.
    #expect(hex([0x0f]) == "00000000  0f                                                |.|\n00000001\n")
    #expect(hex(Array("hello world\n".utf8)) ==
      "00000000  68 65 6c 6c 6f 20 77 6f  72 6c 64 0a              |hello world.|\n0000000c\n")
    #expect(hex(Array(0x41...0x49)) ==
      "00000000  41 42 43 44 45 46 47 48  49                       |ABCDEFGHI|\n00000009\n")
    #expect(hex([]) == "")
  }

  @Test("hex: repeated full lines become '*', also across chunks; offsets start where asked")
  func hexSqueeze() {
    let bytes = [UInt8](repeating: 0x61, count: 68) + [0x62]
    let expected = """
      00000003  61 61 61 61 61 61 61 61  61 61 61 61 61 61 61 61  |aaaaaaaaaaaaaaaa|
      *
      00000043  61 61 61 61 62                                    |aaaab|
      00000048

      """
    #expect(hex(bytes, offset: 3) == expected)
    #expect(hex(bytes, offset: 3, chunk: 16) == expected)
    let zeros = hex([UInt8](repeating: 0, count: 64))
    #expect(zeros == "00000000  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|\n*\n00000040\n")
    // A differing line ends the squeeze; an equal line after it is printed again.
    let mixed = [UInt8](repeating: 0, count: 32) + [UInt8](repeating: 1, count: 16) + [UInt8](repeating: 0, count: 16)
    #expect(hex(mixed).split(separator: "\n").count == 5)
  }

  @Test("hex: bytes outside 0x20...0x7e show as dots")
  func hexPrintable() {
    let line = hex([0x1f, 0x20, 0x7e, 0x7f, 0x80, 0xff])
    #expect(line.hasSuffix("|. ~...|\n00000006\n"))
  }

  @Test("base64: lines of 76 characters, as coreutils base64 writes them")
  func base64Lines() {
    var out = OutputBuffer()
    let bytes = [UInt8](0..<200)
    bytes.withUnsafeBytes { raw in
      ByteDump.writeBase64(UnsafeRawBufferPointer(rebasing: raw[0..<114]), into: &out)
      ByteDump.writeBase64(UnsafeRawBufferPointer(rebasing: raw[114..<200]), into: &out)
    }
    let lines = String(decoding: out.bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
    #expect(lines.map(\.count) == [76, 76, 76, 40, 0])
    #expect(lines[0].hasPrefix("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4"))
  }
}
