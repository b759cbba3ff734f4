/// Permission bits given on the command line in octal: `600`, `0640`, `0o644`.
///
/// Only the nine permission bits are accepted: IPC objects have no setuid, setgid or sticky bit.
public struct FileMode: Hashable, Sendable, CustomStringConvertible {
  public var rawValue: UInt32

  public init(_ rawValue: UInt32) { self.rawValue = rawValue & 0o777 }

  public init(parsing text: String) throws(SwipcError) {
    var digits = Substring(text)
    if digits.hasPrefix("0o") { digits = digits.dropFirst(2) }
    guard !digits.isEmpty, digits.count <= 4, digits.allSatisfy({ ("0"..."7").contains($0) }),
      let value = UInt32(digits, radix: 8)
    else {
      throw .usage("invalid mode '\(text)': expected octal permissions such as 600 or 0640")
    }
    guard value <= 0o777 else {
      throw .usage("invalid mode '\(text)': only permission bits (at most 0777) apply to IPC objects")
    }
    rawValue = value
  }

  public var description: String { TextFormat.octalPermissions(rawValue) }
}
