/// Text in which bytes are written as escapes: a backslash, an optional marker, then a fixed number
/// of digits (`\040` in /proc/self/mounts, `\x2d` in systemd unit names). Anything else, including
/// a backslash not followed by that form, is kept as it is.
enum EscapedText {
  static func decode(_ text: String, marker: UInt8? = nil, digits: Int, radix: UInt8) -> String {
    guard text.utf8.contains(92) else { return text }
    let bytes = Array(text.utf8)
    let start = marker == nil ? 1 : 2
    var out = [UInt8]()
    out.reserveCapacity(bytes.count)
    var i = 0
    while i < bytes.count {
      if bytes[i] == 92, i + start + digits <= bytes.count, marker.map({ bytes[i + 1] == $0 }) ?? true,
        let value = number(bytes[(i + start)..<(i + start + digits)], radix: radix)
      {
        out.append(value)
        i += start + digits
      } else {
        out.append(bytes[i])
        i += 1
      }
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// The byte the digits spell, or nil when one is not a digit of `radix` or the value passes 255.
  static func number(_ digits: ArraySlice<UInt8>, radix: UInt8) -> UInt8? {
    var value = 0
    for c in digits {
      let d: UInt8
      switch c {
      case 48...57: d = c - 48
      case 97...102: d = c - 87
      case 65...70: d = c - 55
      default: return nil
      }
      guard d < radix else { return nil }
      value = value * Int(radix) + Int(d)
    }
    return value <= 255 ? UInt8(value) : nil
  }
}
