import Glibc
import SystemPackage

/// Small, allocation-conscious file and directory access used by the /proc and /dev readers.
///
/// Foundation is deliberately not used: it costs start-up time that a `swipc ls` in a shell loop
/// would pay on every call.
public enum FileReader {
  /// Reads a whole file (including /proc files, whose size stat reports as 0).
  ///
  /// Opened with O_NONBLOCK: a FIFO planted where a file was expected (a fixture tree, a hostile
  /// /proc look-alike) reads as empty or fails instead of blocking the command.
  ///
  /// The corresponding C functions are `open` and `read`.
  public static func read(_ path: String, limit: Int = 64 << 20) -> Result<[UInt8], Errno> {
    let fd: Int32
    switch valueOrErrno({ open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK) }) {
    case .failure(let e): return .failure(e)
    case .success(let v): fd = v
    }
    defer { closeIgnoringErrors(fd) }
    var buffer = [UInt8]()
    var st = stat()
    // /proc files report size 0; start with a chunk and double, reading straight into the array.
    var capacity = 65536
    if fstat(fd, &st) == 0, st.st_size > 0 { capacity = min(Int(st.st_size) + 1, limit) }
    var length = 0
    while length < limit {
      if length == buffer.count {
        buffer.append(contentsOf: repeatElement(0, count: min(max(capacity, buffer.count), limit - length)))
      }
      let room = buffer.count - length
      let result = buffer.withUnsafeMutableBytes { raw in
        valueOrErrno { Glibc.read(fd, raw.baseAddress! + length, room) }
      }
      switch result {
      case .failure(let e): return .failure(e)
      case .success(let n):
        if n == 0 {
          buffer.removeLast(buffer.count - length)
          return .success(buffer)
        }
        length += n
      }
    }
    buffer.removeLast(buffer.count - length)
    return .success(buffer)
  }

  /// Memory for `withContents` that outlives one file, so that reading several large /proc files
  /// touches (and page-faults) the same pages once.
  public final class Buffer {
    fileprivate var base: UnsafeMutableRawPointer?
    fileprivate var capacity = 0
    public init() {}
    deinit { free(base) }
  }

  /// Reads a whole file into memory that is neither zero-filled nor copied, and lends it to
  /// `body`; for /proc text that is parsed once and dropped.
  ///
  /// The corresponding C functions are `open`, `read` and `realloc`.
  public static func withContents<T>(
    of path: String, using buffer: Buffer = Buffer(), _ body: (UnsafeBufferPointer<UInt8>) -> T
  ) -> Result<T, Errno> {
    let fd: Int32
    switch valueOrErrno({ open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK) }) {
    case .failure(let e): return .failure(e)
    case .success(let v): fd = v
    }
    defer { closeIgnoringErrors(fd) }
    if buffer.base == nil {
      buffer.capacity = 1 << 16
      guard let base = malloc(buffer.capacity) else { return .failure(.noMemory) }
      buffer.base = base
    }
    var length = 0
    while true {
      if length == buffer.capacity {
        guard let grown = realloc(buffer.base, buffer.capacity * 2) else { return .failure(.noMemory) }
        buffer.base = grown
        buffer.capacity *= 2
      }
      let base = buffer.base!
      switch valueOrErrno({ Glibc.read(fd, base + length, buffer.capacity - length) }) {
      case .failure(let e): return .failure(e)
      case .success(0):
        let bytes = UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: length)
        return .success(body(bytes))
      case .success(let n): length += n
      }
    }
  }

  /// Reads a whole small file as text, or nil when it cannot be read.
  /// The target of a symbolic link, nil when it cannot be read.
  static func readLink(_ path: String) -> String? {
    try? readLinkResult(path).get()
  }

  static func readLinkResult(_ path: String) -> Result<String, Errno> {
    var buffer = [CChar](repeating: 0, count: 4097)
    let n = readlink(path, &buffer, 4096)
    guard n >= 0 else { return .failure(currentErrno) }
    return .success(String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self))
  }

  public static func readText(_ path: String) -> String? {
    guard case .success(let bytes) = read(path, limit: 1 << 20) else { return nil }
    return String(decoding: bytes, as: UTF8.self)
  }

  /// The names in a directory, without `.` and `..`.
  ///
  /// The corresponding C functions are `opendir` and `readdir`.
  public static func list(_ path: String) -> Result<[String], Errno> {
    guard let dir = opendir(path) else { return .failure(currentErrno) }
    defer { closedir(dir) }
    var names = [String]()
    while let entry = readdir(dir) {
      let name = withUnsafeBytes(of: &entry.pointee.d_name) { raw -> String in
        let bytes = raw.bindMemory(to: UInt8.self)
        let length = bytes.firstIndex(of: 0) ?? bytes.count
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[0..<length]), as: UTF8.self)
      }
      if name == "." || name == ".." { continue }
      names.append(name)
    }
    return .success(names)
  }

  /// The entries of a directory whose names are all digits (process ids in /proc).
  public static func numericEntries(_ path: String) -> [Int32] {
    guard let dir = opendir(path) else { return [] }
    defer { closedir(dir) }
    var result = [Int32]()
    while let entry = readdir(dir) {
      let value: Int32? = withUnsafeBytes(of: &entry.pointee.d_name) { raw in
        var n: Int32 = 0
        var any = false
        for byte in raw {
          if byte == 0 { break }
          guard byte >= 48 && byte <= 57, n < 100_000_000 else { return nil }
          n = n * 10 + Int32(byte - 48)
          any = true
        }
        return any ? n : nil
      }
      if let value { result.append(value) }
    }
    return result
  }

  /// `lstat` or `stat` of a path.
  public static func status(_ path: String, followLinks: Bool = false) -> Result<stat, Errno> {
    var st = stat()
    let rc = followLinks ? stat(path, &st) : lstat(path, &st)
    return rc == 0 ? .success(st) : .failure(currentErrno)
  }
}
