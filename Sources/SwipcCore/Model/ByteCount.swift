/// A size given on the command line: `4096`, `4K`, `4KiB`, `1M`, `2G`. K, M, G, T and their
/// `iB` spellings are powers of 1024 (as ipcmk reads them); `KB`, `MB`, `GB`, `TB` are powers of
/// 1000.
public struct ByteCount: Hashable, Sendable, Comparable, CustomStringConvertible {
  public var bytes: UInt64

  public init(_ bytes: UInt64) { self.bytes = bytes }

  public init(parsing text: String) throws(SwipcError) {
    let invalid = SwipcError.usage(
      "invalid size '\(text)': expected a number with an optional unit (K, M, G, T, KiB, MB, ...), e.g. 4096, 4K, 1MiB")
    let digits = text.prefix { $0.isASCII && $0.isNumber }
    guard !digits.isEmpty, let number = UInt64(digits) else { throw invalid }
    let unit = text.dropFirst(digits.count)
    let factor: UInt64
    switch unit {
    case "", "B": factor = 1
    case "K", "k", "KiB", "kiB": factor = 1 << 10
    case "M", "MiB": factor = 1 << 20
    case "G", "GiB": factor = 1 << 30
    case "T", "TiB": factor = 1 << 40
    case "KB", "kB": factor = 1000
    case "MB": factor = 1_000_000
    case "GB": factor = 1_000_000_000
    case "TB": factor = 1_000_000_000_000
    default: throw invalid
    }
    let (product, overflow) = number.multipliedReportingOverflow(by: factor)
    guard !overflow, product <= UInt64(Int64.max) else { throw .usage("invalid size '\(text)': too large") }
    bytes = product
  }

  public var description: String { TextFormat.humanSize(bytes) }
  public static func < (a: ByteCount, b: ByteCount) -> Bool { a.bytes < b.bytes }
}
