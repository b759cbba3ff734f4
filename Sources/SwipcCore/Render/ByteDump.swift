/// Streaming dumps of raw bytes for `shm dump`: the layout of `hexdump -C`, and base64 wrapped
/// at 76 columns as coreutils `base64` writes it (so that `base64 -d` reads it back).
public enum ByteDump {
  public enum Format: String, Sendable, CaseIterable {
    case hex, raw, base64
  }

  /// How many bytes to hand each call of `write(_:into:)`: a multiple of 16 (hex lines) and of
  /// 57 (one base64 line), so that only the last chunk ends a line early. Small (57 KiB in, about
  /// 290 KiB of hex out): the memory of a dump stays the same whatever the segment's size.
  public static let chunkSize = 16 * 57 * 64

  /// `hexdump -C`: the offset, 16 bytes in two groups of 8, the printable ASCII between bars; a
  /// line equal to the one before is squeezed to `*`; the end offset closes the dump.
  public struct Hex {
    var offset: Int
    var previous: [UInt8] = []
    var squeezing = false

    /// - Parameter offset: the offset of the first byte, printed on the first line.
    public init(offset: Int) { self.offset = offset }

    static let digits = Array("0123456789abcdef".utf8)

    /// Appends the lines for `bytes`; every chunk but the last must be a multiple of 16 bytes.
    public mutating func write(_ bytes: UnsafeRawBufferPointer, into out: inout OutputBuffer) {
      var start = 0
      out.bytes.reserveCapacity(out.bytes.count + (bytes.count / 16 + 1) * 79)
      while start < bytes.count {
        let count = min(16, bytes.count - start)
        let line = UnsafeRawBufferPointer(rebasing: bytes[start..<start + count])
        if count == 16 && previous.count == 16 && line.elementsEqual(previous) {
          if !squeezing { out.write("*\n") }
          squeezing = true
        } else {
          squeezing = false
          writeLine(line, into: &out)
          previous.removeAll(keepingCapacity: true)
          previous.append(contentsOf: line)
        }
        offset += count
        start += count
      }
    }

    /// Appends the closing offset (nothing for an empty dump, as hexdump does).
    public mutating func finish(into out: inout OutputBuffer, wroteAnything: Bool) {
      guard wroteAnything else { return }
      writeOffset(into: &out)
      out.newline()
    }

    func writeOffset(into out: inout OutputBuffer) {
      let width = max(8, (Int.bitWidth - offset.leadingZeroBitCount + 3) / 4)
      for shift in stride(from: (width - 1) * 4, through: 0, by: -4) {
        out.write(byte: Hex.digits[(offset >> shift) & 15])
      }
    }

    func writeLine(_ line: UnsafeRawBufferPointer, into out: inout OutputBuffer) {
      writeOffset(into: &out)
      out.write(byte: 32)
      for i in 0..<16 {
        out.write(byte: 32)
        if i == 8 { out.write(byte: 32) }
        if i < line.count {
          out.write(byte: Hex.digits[Int(line[i] >> 4)])
          out.write(byte: Hex.digits[Int(line[i] & 15)])
        } else {
          out.write(byte: 32)
          out.write(byte: 32)
        }
      }
      out.write(byte: 32)
      out.write(byte: 32)
      out.write(byte: 124)
      for byte in line { out.write(byte: byte >= 0x20 && byte < 0x7f ? byte : 46) }
      out.write(byte: 124)
      out.newline()
    }
  }

  /// Base64 in lines of 76 characters, each ending in a newline; every chunk but the last must be
  /// a multiple of 57 bytes.
  public static func writeBase64(_ bytes: UnsafeRawBufferPointer, into out: inout OutputBuffer) {
    var start = 0
    while start < bytes.count {
      let count = min(57, bytes.count - start)
      Base64.encode(UnsafeRawBufferPointer(rebasing: bytes[start..<start + count]), into: &out)
      out.newline()
      start += count
    }
  }
}
