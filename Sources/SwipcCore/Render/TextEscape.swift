/// Text from other users (POSIX names, command lines, socket paths, user names) made safe for a
/// terminal, as `ls -b` shows names: control characters as C escapes (`\n`, `\t`) or octal
/// (`\033`), bytes that are not UTF-8 as octal (`\377`), a backslash as `\\`. Every text cell of
/// every table goes through here (`TableWriter.endCell`), so that no escape sequence or newline
/// another user chose reaches the terminal and no row can be forged. JSON and CSV have escaping
/// of their own and keep the text exact.
public enum TextEscape {
  /// Whether `bytes` hold anything `escape` changes: a control character, a backslash, or any
  /// byte from 0x80 (checked in full only then).
  public static func needsEscaping(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    var highBytes = false
    for b in bytes {
      if b < 0x20 || b == 0x7F || b == 0x5C { return true }
      if b >= 0x80 { highBytes = true }
    }
    guard highBytes else { return false }
    var i = 0
    while i < bytes.count {
      if bytes[i] < 0x80 {
        i += 1
        continue
      }
      guard let (scalar, length) = decode(bytes, at: i), !isControl(scalar) else { return true }
      i += length
    }
    return false
  }

  /// Appends `bytes` escaped to `out`.
  public static func escape(_ bytes: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
    var i = 0
    while i < bytes.count {
      let b = bytes[i]
      if b < 0x80 {
        switch b {
        case 0x07: out += [92, 97]  // \a
        case 0x08: out += [92, 98]  // \b
        case 0x09: out += [92, 116]  // \t
        case 0x0A: out += [92, 110]  // \n
        case 0x0B: out += [92, 118]  // \v
        case 0x0C: out += [92, 102]  // \f
        case 0x0D: out += [92, 114]  // \r
        case 0x5C: out += [92, 92]
        case 0..<0x20, 0x7F: octal(b, into: &out)
        default: out.append(b)
        }
        i += 1
        continue
      }
      // Controls (see isControl): octal, byte by byte.
      if let (scalar, length) = decode(bytes, at: i), !isControl(scalar) {
        out.append(contentsOf: bytes[i..<i + length])
        i += length
      } else if let (_, length) = decode(bytes, at: i) {
        for k in i..<i + length { octal(bytes[k], into: &out) }
        i += length
      } else {
        octal(b, into: &out)
        i += 1
      }
    }
  }

  /// `text` escaped, as a String.
  public static func escaped(_ text: String) -> String {
    var text = text
    return text.withUTF8 { raw in
      guard needsEscaping(raw) else { return String(decoding: raw, as: UTF8.self) }
      var out = [UInt8]()
      escape(raw, into: &out)
      return String(decoding: out, as: UTF8.self)
    }
  }

  /// Raw bytes (a name that need not be UTF-8) escaped, as a String.
  public static func escaped(bytes: [UInt8]) -> String {
    bytes.withUnsafeBufferPointer { raw in
      var out = [UInt8]()
      escape(raw, into: &out)
      return String(decoding: out, as: UTF8.self)
    }
  }

  /// C1 controls (U+0080 to U+009F), which act on terminals as ESC sequences do, and the
  /// bidirectional formatting characters, which reorder what follows them on the screen and so
  /// can make a row say something else than it holds.
  static func isControl(_ scalar: UInt32) -> Bool {
    switch scalar {
    case 0x80...0x9F, 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return true
    default: return false
    }
  }

  static func octal(_ b: UInt8, into out: inout [UInt8]) {
    out += [92, 48 + (b >> 6), 48 + (b >> 3 & 7), 48 + (b & 7)]
  }

  /// The scalar of the well-formed UTF-8 sequence at `i` (no overlong forms, no surrogates,
  /// nothing past U+10FFFF) and its length, or nil.
  static func decode(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int) -> (UInt32, Int)? {
    let b = bytes[i]
    let length: Int
    var scalar: UInt32
    switch b {
    case 0xC2...0xDF: (length, scalar) = (2, UInt32(b & 0x1F))
    case 0xE0...0xEF: (length, scalar) = (3, UInt32(b & 0x0F))
    case 0xF0...0xF4: (length, scalar) = (4, UInt32(b & 0x07))
    default: return nil
    }
    guard i + length <= bytes.count else { return nil }
    for k in 1..<length {
      let c = bytes[i + k]
      guard c & 0xC0 == 0x80 else { return nil }
      scalar = scalar << 6 | UInt32(c & 0x3F)
    }
    let minimum: UInt32 = length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000
    guard scalar >= minimum, scalar <= 0x10FFFF, !(0xD800...0xDFFF).contains(scalar) else { return nil }
    return (scalar, length)
  }
}
