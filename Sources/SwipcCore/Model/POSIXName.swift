/// The name of a POSIX message queue, shared memory object or named semaphore: `/name`.
///
/// Names are bytes: one found in a directory need not be UTF-8, and two names that differ only in
/// such bytes are two objects. `bytes` is the identity; `rawValue` is text for messages (invalid
/// bytes replaced by U+FFFD), never a way back to the object.
public struct POSIXName: Hashable, Sendable, Comparable, CustomStringConvertible {
  /// The name with its leading slash, as text.
  public let rawValue: String
  /// The exact bytes of the name with its leading slash.
  public let bytes: [UInt8]

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
    bytes = Array(text.utf8)
  }

  /// A name read from a directory entry (the bytes after the slash); such names are valid by
  /// construction, whatever their encoding.
  public init<Bytes: Collection<UInt8>>(entry: Bytes) {
    bytes = [UInt8(ascii: "/")] + entry
    rawValue = String(decoding: bytes, as: UTF8.self)
  }

  /// A name read from a directory entry that is known to be text.
  init(entry: String) { self.init(entry: Array(entry.utf8)) }

  /// Whether the bytes are UTF-8, so that `rawValue` is the name exactly.
  public var isValidUTF8: Bool { String(validating: bytes, as: UTF8.self) != nil }

  /// The name without its slash, as stored in /dev/shm or the mqueue filesystem.
  public var bareName: String { String(rawValue.dropFirst()) }
  /// The exact bytes without the slash.
  public var bareBytes: ArraySlice<UInt8> { bytes.dropFirst() }
  public var description: String { rawValue }

  /// Runs `body` with the exact name (with its slash) as a C string.
  public func withCString<T>(_ body: (UnsafePointer<CChar>) -> T) -> T {
    (bytes + [0]).withUnsafeBufferPointer { raw in
      raw.withMemoryRebound(to: CChar.self) { body($0.baseAddress!) }
    }
  }

  public static func == (a: POSIXName, b: POSIXName) -> Bool { a.bytes == b.bytes }
  public func hash(into hasher: inout Hasher) { hasher.combine(bytes) }
  public static func < (a: POSIXName, b: POSIXName) -> Bool { a.bytes.lexicographicallyPrecedes(b.bytes) }
}
