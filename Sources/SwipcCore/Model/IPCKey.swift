import Glibc

/// A System V IPC key: the 32-bit value given to msgget, shmget and semget.
///
/// The kernel stores it as a signed `key_t` (/proc/sysvipc prints it with `%d`); people write it
/// in hex. Both views are kept consistent by storing the bit pattern.
public struct IPCKey: Hashable, Sendable, Comparable, CustomStringConvertible {
  /// The key's bits as the kernel's signed `key_t`.
  public var rawValue: Int32

  public init(rawValue: Int32) { self.rawValue = rawValue }
  public init(bitPattern: UInt32) { self.rawValue = Int32(bitPattern: bitPattern) }

  /// IPC_PRIVATE, the key of objects that have none.
  public static let `private` = IPCKey(rawValue: 0)

  public var isPrivate: Bool { rawValue == 0 }
  public var unsignedValue: UInt32 { UInt32(bitPattern: rawValue) }

  /// `0x0001e240`, as ipcs and lsipc print it.
  public var description: String { "0x" + hex(UInt64(unsignedValue), width: 8) }

  /// Parses `0x1a2b` (hex), `0755` (octal), `1234` (decimal) or a negative decimal as printed by
  /// /proc/sysvipc.
  ///
  /// - Throws: `SwipcError.usage` naming the text when it is not a 32-bit key.
  public init(parsing text: String) throws(SwipcError) {
    guard let value = IPCKey.parseNumber(text) else {
      throw .usage("invalid key '\(text)': expected hex (0x1a2b), octal (0755) or decimal")
    }
    self.init(bitPattern: value)
  }

  static func parseNumber(_ text: String) -> UInt32? {
    var digits = Substring(text)
    var negative = false
    if digits.hasPrefix("-") { negative = true; digits = digits.dropFirst() }
    var radix = 10
    if digits.hasPrefix("0x") || digits.hasPrefix("0X") {
      radix = 16; digits = digits.dropFirst(2)
    } else if digits.count > 1 && digits.hasPrefix("0") {
      radix = 8; digits = digits.dropFirst()
    }
    guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII }),
      let magnitude = UInt64(digits, radix: radix)
    else { return nil }
    if negative {
      guard radix == 10, magnitude <= 0x8000_0000 else { return nil }
      return UInt32(truncatingIfNeeded: -Int64(magnitude))
    }
    guard magnitude <= UInt64(UInt32.max) else { return nil }
    return UInt32(magnitude)
  }

  /// The key ftok(3) derives from a file and a project id.
  ///
  /// The corresponding C function is `ftok`.
  public static func ftok(path: String, project: UInt8) throws(SwipcError) -> IPCKey {
    guard project != 0 else {
      throw .usage("invalid ftok project id 0 for '\(path)': use 1 to 255")
    }
    let key = Glibc.ftok(path, Int32(project))
    if key == -1 {
      let err = currentErrno
      throw SwipcError(
        call: "ftok", object: "'\(path)'", errno: err,
        reason: err == .noSuchFileOrDirectory
          ? "no such file: ftok needs an existing path" : nil)
    }
    return IPCKey(rawValue: key)
  }

  /// Parses `PATH[:PROJ]` as given to `--ftok`; PROJ defaults to 1 and may be a number 1–255 or
  /// a single character.
  public static func ftok(spec: String) throws(SwipcError) -> IPCKey {
    var path = spec
    var project: UInt8 = 1
    if let colon = spec.lastIndex(of: ":") {
      let proj = String(spec[spec.index(after: colon)...])
      let candidate = String(spec[..<colon])
      if let n = UInt8(proj) {
        project = n; path = candidate
      } else if proj.utf8.count == 1, let c = proj.utf8.first {
        project = c; path = candidate
      } else if !proj.isEmpty && !proj.contains("/") {
        throw .usage("invalid ftok project '\(proj)' in '\(spec)': use a number 1-255 or one character")
      }
    }
    guard !path.isEmpty else { throw .usage("invalid --ftok '\(spec)': expected PATH[:PROJ]") }
    return try ftok(path: path, project: project)
  }

  public static func < (a: IPCKey, b: IPCKey) -> Bool { a.unsignedValue < b.unsignedValue }
}

/// A closed range of keys for `--key LOW-HIGH`, or a single key.
public struct IPCKeyRange: Hashable, Sendable {
  public var lower: IPCKey
  public var upper: IPCKey

  public init(_ key: IPCKey) { lower = key; upper = key }
  public init(lower: IPCKey, upper: IPCKey) { self.lower = lower; self.upper = upper }

  public func contains(_ key: IPCKey) -> Bool { lower <= key && key <= upper }

  /// Parses `KEY` or `LOW-HIGH`.
  public init(parsing text: String) throws(SwipcError) {
    // A leading '-' belongs to a negative decimal key, not to a range.
    let body = text.hasPrefix("-") ? text.dropFirst() : Substring(text)
    if let dash = body.firstIndex(of: "-") {
      let low = String(text[..<dash])
      let high = String(text[text.index(after: dash)...])
      guard let l = IPCKey.parseNumber(low), let h = IPCKey.parseNumber(high) else {
        throw .usage("invalid key range '\(text)': expected KEY or LOW-HIGH, e.g. 0x1000-0x1fff")
      }
      guard l <= h else {
        throw .usage("invalid key range '\(text)': the low end is above the high end")
      }
      self.init(lower: IPCKey(bitPattern: l), upper: IPCKey(bitPattern: h))
    } else {
      self.init(try IPCKey(parsing: text))
    }
  }
}

/// Lower-case hexadecimal, zero-padded to `width` digits.
@inline(__always)
func hex(_ value: UInt64, width: Int) -> String {
  let digits = String(value, radix: 16)
  return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
}
