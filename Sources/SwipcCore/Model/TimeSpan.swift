/// A length of time given on the command line: `500ms`, `30s`, `2m`, `1h`, `7d`, `1w`, or a
/// bare number of seconds; units may be combined (`1h30m`).
public struct TimeSpan: Hashable, Sendable, Comparable, CustomStringConvertible {
  public var milliseconds: Int64

  public init(milliseconds: Int64) { self.milliseconds = milliseconds }
  /// Saturates at the largest and smallest span rather than overflowing.
  public init(seconds: Int64) {
    let (product, overflow) = seconds.multipliedReportingOverflow(by: 1000)
    milliseconds = overflow ? (seconds < 0 ? .min : .max) : product
  }

  public var seconds: Int64 { milliseconds / 1000 }

  private static let units: [(String, Int64)] = [
    ("ms", 1), ("s", 1000), ("sec", 1000), ("m", 60_000), ("min", 60_000), ("h", 3_600_000),
    ("d", 86_400_000), ("w", 604_800_000),
  ]

  public init(parsing text: String) throws(SwipcError) {
    let invalid = SwipcError.usage(
      "invalid duration '\(text)': expected a number with a unit (ms, s, m, h, d, w), e.g. 500ms, 2m, 1h30m")
    let bytes = Array(text.utf8)
    guard !bytes.isEmpty else { throw invalid }
    var total: Int64 = 0
    var i = 0
    while i < bytes.count {
      var number: Int64 = 0
      let start = i
      while i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 {
        let (m, o1) = number.multipliedReportingOverflow(by: 10)
        let (a, o2) = m.addingReportingOverflow(Int64(bytes[i] - 48))
        guard !o1, !o2 else { throw invalid }
        number = a
        i += 1
      }
      guard i > start else { throw invalid }
      let unitStart = i
      while i < bytes.count, bytes[i] >= 97, bytes[i] <= 122 { i += 1 }
      let unit = String(decoding: bytes[unitStart..<i], as: UTF8.self)
      let factor: Int64
      if unit.isEmpty {
        guard i == bytes.count, unitStart == bytes.count, total == 0 else { throw invalid }
        factor = 1000
      } else if let f = TimeSpan.units.first(where: { $0.0 == unit })?.1 {
        factor = f
      } else {
        throw invalid
      }
      let (product, o1) = number.multipliedReportingOverflow(by: factor)
      let (sum, o2) = total.addingReportingOverflow(product)
      guard !o1, !o2, sum <= Int64(Int32.max) * 1000 else {
        throw .usage("invalid duration '\(text)': too long")
      }
      total = sum
    }
    milliseconds = total
  }

  /// Compact text: `1d4h`, `3h12m`, `5m20s`, `42s`, `250ms`.
  public var description: String {
    if milliseconds < 1000 && milliseconds > 0 { return "\(milliseconds)ms" }
    return TimeSpan.compact(seconds: seconds)
  }

  /// The two largest units of a number of seconds, as the AGE column shows it.
  public static func compact(seconds: Int64) -> String {
    let s = max(seconds, 0)
    let d = s / 86400, h = (s % 86400) / 3600, m = (s % 3600) / 60, sec = s % 60
    if d > 0 { return h > 0 ? "\(d)d\(h)h" : "\(d)d" }
    if h > 0 { return m > 0 ? "\(h)h\(m)m" : "\(h)h" }
    if m > 0 { return sec > 0 ? "\(m)m\(sec)s" : "\(m)m" }
    return "\(sec)s"
  }

  public static func < (a: TimeSpan, b: TimeSpan) -> Bool { a.milliseconds < b.milliseconds }
}
