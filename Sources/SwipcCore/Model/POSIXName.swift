/// The name of a POSIX message queue, shared memory object or named semaphore: `/name`.
public struct POSIXName: Hashable, Sendable, Comparable, CustomStringConvertible {
  /// The name with its leading slash.
  public let rawValue: String

  /// NAME_MAX: the longest name the filesystems behind POSIX objects accept. Semaphores are stored
  /// as `sem.NAME` in /dev/shm, so their names may be four bytes shorter.
  public static let maxLength = 255

  /// Validates `/name`: exactly one leading slash, no other slash, not `.` or `..`, no NUL, at
  /// most NAME_MAX bytes after the slash (NAME_MAX - 4 for semaphores).
  public init(parsing text: String, kind: IPCKind? = nil) throws(SwipcError) {
    guard text.hasPrefix("/") else {
      throw .usage("invalid POSIX name '\(text)': it must start with '/', e.g. /jobs")
    }
    let body = text.utf8.dropFirst()
    guard !body.isEmpty else { throw .usage("invalid POSIX name '/': a name is needed after the slash") }
    guard !body.contains(UInt8(ascii: "/")) else {
      throw .usage("invalid POSIX name '\(text)': only the leading slash is allowed")
    }
    guard !body.contains(0) else { throw .usage("invalid POSIX name: it contains a NUL byte") }
    let bodyText = String(text.dropFirst())
    guard bodyText != "." && bodyText != ".." else {
      throw .usage("invalid POSIX name '\(text)': '.' and '..' are not names")
    }
    let limit = kind == .psem ? POSIXName.maxLength - 4 : POSIXName.maxLength
    guard body.count <= limit else {
      throw .usage("invalid POSIX name: \(body.count) bytes after the slash, at most \(limit) allowed")
    }
    rawValue = text
  }

  /// A name read from a directory entry; such names are valid by construction.
  init(entry: String) { rawValue = "/" + entry }

  /// The name without its slash, as stored in /dev/shm or the mqueue filesystem.
  public var bareName: String { String(rawValue.dropFirst()) }
  public var description: String { rawValue }
  public static func < (a: POSIXName, b: POSIXName) -> Bool { a.rawValue < b.rawValue }
}
