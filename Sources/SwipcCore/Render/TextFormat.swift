import Glibc

/// Formatting shared by every renderer: sizes, times, permissions.
public enum TextFormat {
  /// A size as util-linux prints it: `0B`, `512B`, `4K`, `1.5M`, `16E` (powers of 1024, one
  /// decimal when it is not zero).
  /// A non-negative number with `digits` decimals (1 or 2), without Foundation: `12.3`.
  public static func fixed(_ value: Double, digits: Int) -> String {
    let scale: Double = digits == 1 ? 10 : digits == 2 ? 100 : 1000
    guard value.isFinite, value >= 0, value < 1e15 else { return "0" }
    let units = Int64((value * scale).rounded())
    let whole = units / Int64(scale)
    let frac = units % Int64(scale)
    let text = String(frac)
    return "\(whole)." + String(repeating: "0", count: digits - text.count) + text
  }

  public static func humanSize(_ bytes: UInt64) -> String {
    if bytes < 1024 { return "\(bytes)B" }
    let suffixes = ["K", "M", "G", "T", "P", "E"]
    var exponent = 0
    var whole = bytes
    var remainder: UInt64 = 0
    while whole >= 1024 && exponent < suffixes.count {
      remainder = whole & 1023
      whole >>= 10
      exponent += 1
    }
    // One decimal, rounded; 9.96 rounds to 10.
    var tenth = (remainder * 10 + 512) / 1024
    if tenth >= 10 { whole += 1; tenth = 0 }
    let text = tenth == 0 ? "\(whole)" : "\(whole).\(tenth)"
    return text + suffixes[exponent - 1]
  }

  /// RFC 3339 in UTC: `2026-11-25T20:02:13Z`; nil for a time outside the years 0000 to 9999,
  /// which RFC 3339 cannot write.
  public static func rfc3339(_ seconds: Int64) -> String? {
    var t = time_t(seconds)
    var parts = tm()
    guard gmtime_r(&t, &parts) != nil, (-1900...8099).contains(parts.tm_year) else { return nil }
    return "\(pad(Int(parts.tm_year) + 1900, 4))-\(pad(Int(parts.tm_mon) + 1, 2))-\(pad(Int(parts.tm_mday), 2))T"
      + "\(pad(Int(parts.tm_hour), 2)):\(pad(Int(parts.tm_min), 2)):\(pad(Int(parts.tm_sec), 2))Z"
  }

  private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

  /// A short local time for tables, as lsipc prints it: `20:02` today, `Nov25` this year,
  /// `2025-Nov25` before.
  public static func shortTime(_ seconds: Int64, now: Int64) -> String {
    var t = time_t(seconds)
    var n = time_t(now)
    var parts = tm()
    var today = tm()
    guard localtime_r(&t, &parts) != nil, localtime_r(&n, &today) != nil else { return String(seconds) }
    if parts.tm_year == today.tm_year && parts.tm_yday == today.tm_yday {
      return "\(pad(Int(parts.tm_hour), 2)):\(pad(Int(parts.tm_min), 2))"
    }
    let day = months[Int(parts.tm_mon)] + pad(Int(parts.tm_mday), 2)
    if parts.tm_year == today.tm_year { return day }
    return "\(Int(parts.tm_year) + 1900)-" + day
  }

  /// A full local time for `show`: `2026-11-25 20:02:13`.
  public static func fullTime(_ seconds: Int64) -> String {
    var t = time_t(seconds)
    var parts = tm()
    guard localtime_r(&t, &parts) != nil else { return String(seconds) }
    return "\(pad(Int(parts.tm_year) + 1900, 4))-\(pad(Int(parts.tm_mon) + 1, 2))-\(pad(Int(parts.tm_mday), 2)) "
      + "\(pad(Int(parts.tm_hour), 2)):\(pad(Int(parts.tm_min), 2)):\(pad(Int(parts.tm_sec), 2))"
  }

  /// `12.50%`: a percentage as tables show it.
  public static func percent(_ p: Double) -> String { fixed(p, digits: 2) + "%" }

  /// `rw-r--r--` for 0644.
  public static func symbolicPermissions(_ mode: UInt32) -> String {
    var s = [UInt8](repeating: UInt8(ascii: "-"), count: 9)
    let letters: [UInt8] = Array("rwxrwxrwx".utf8)
    for i in 0..<9 where mode & (0o400 >> UInt32(i)) != 0 { s[i] = letters[i] }
    return String(decoding: s, as: UTF8.self)
  }

  /// `0644`: permission bits in octal, always four digits.
  public static func octalPermissions(_ mode: UInt32) -> String {
    "0" + pad(String(mode & 0o777, radix: 8), 3)
  }

  static func pad(_ value: Int, _ width: Int) -> String { pad(String(value), width) }
  static func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
  }
}
