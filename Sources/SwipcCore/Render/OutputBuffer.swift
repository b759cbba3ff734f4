import Glibc

/// Bytes collected for one write(2) to stdout, with JSON and CSV escaping.
public struct OutputBuffer: Sendable {
  public var bytes: [UInt8] = []

  public init(capacity: Int = 4096) { bytes.reserveCapacity(capacity) }

  @inline(__always) public mutating func write(_ text: String) { bytes.append(contentsOf: text.utf8) }
  @inline(__always) public mutating func write(byte: UInt8) { bytes.append(byte) }
  @inline(__always) public mutating func newline() { bytes.append(10) }

  /// A decimal integer, written without making a String.
  public mutating func write(int value: Int64) {
    if value < 0 {
      bytes.append(45)
      write(uint: value == Int64.min ? UInt64(Int64.max) + 1 : UInt64(-value))
    } else {
      write(uint: UInt64(value))
    }
  }

  public mutating func write(uint value: UInt64) {
    if value < 10 { bytes.append(48 + UInt8(value)); return }
    var digits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)  // 32 bytes of scratch
    let count = withUnsafeMutableBytes(of: &digits) { raw -> Int in
      var v = value
      var i = 32
      while v > 0 {
        i -= 1
        raw[i] = 48 + UInt8(v % 10)
        v /= 10
      }
      bytes.append(contentsOf: raw[i..<32])
      return 32 - i
    }
    _ = count
  }

  /// `0x` and eight lower-case hex digits, as keys print.
  public mutating func write(key: IPCKey) {
    bytes.append(48)
    bytes.append(120)
    let v = key.unsignedValue
    for shift in stride(from: 28, through: 0, by: -4) {
      bytes.append(OutputBuffer.hexDigit(UInt8((v >> UInt32(shift)) & 15)))
    }
  }

  /// `rw-r--r--`.
  public mutating func write(symbolicPermissions mode: UInt32) {
    let letters: StaticString = "rwxrwxrwx"
    for i in 0..<9 {
      bytes.append(mode & (0o400 >> UInt32(i)) != 0 ? letters.utf8Start[i] : 45)
    }
  }

  /// `0644`.
  public mutating func write(octalPermissions mode: UInt32) {
    bytes.append(48)
    for shift in [6, 3, 0] { bytes.append(48 + UInt8((mode >> UInt32(shift)) & 7)) }
  }

  /// A JSON string literal.
  public mutating func writeJSONString(_ text: String) {
    bytes.append(34)
    if text.utf8.allSatisfy({ $0 >= 32 && $0 != 34 && $0 != 92 && $0 != 127 }) {
      bytes.append(contentsOf: text.utf8)
      bytes.append(34)
      return
    }
    for byte in text.utf8 {
      switch byte {
      case 34: bytes.append(92); bytes.append(34)
      case 92: bytes.append(92); bytes.append(92)
      case 10: bytes.append(92); bytes.append(110)
      case 13: bytes.append(92); bytes.append(114)
      case 9: bytes.append(92); bytes.append(116)
      case 0..<32, 127:
        bytes.append(contentsOf: Array("\\u00".utf8))
        bytes.append(OutputBuffer.hexDigit(byte >> 4))
        bytes.append(OutputBuffer.hexDigit(byte & 15))
      default: bytes.append(byte)
      }
    }
    bytes.append(34)
  }

  /// A CSV field, quoted when it holds a comma, quote or line break (RFC 4180).
  public mutating func writeCSVField(_ text: String) {
    if text.utf8.contains(where: { $0 == 44 || $0 == 34 || $0 == 10 || $0 == 13 }) {
      bytes.append(34)
      for byte in text.utf8 {
        if byte == 34 { bytes.append(34) }
        bytes.append(byte)
      }
      bytes.append(34)
    } else {
      write(text)
    }
  }

  static func hexDigit(_ v: UInt8) -> UInt8 { v < 10 ? 48 + v : 87 + v }
}

/// Display width of table text: one column per character, which holds for the ASCII and Latin
/// text that names, commands and paths use here.
enum TextWidth {
  static func of(_ text: String) -> Int {
    var text = text
    return text.withUTF8 { of($0) }
  }

  /// The width of UTF-8 bytes: their count less their continuation bytes.
  @inline(__always) static func of(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
    var width = bytes.count
    for byte in bytes where byte & 0xC0 == 0x80 { width -= 1 }
    return width
  }
}
