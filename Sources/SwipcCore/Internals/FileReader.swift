import CSwipc
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
        // Not append(contentsOf: repeatElement(...)): unspecialized (debug builds), it goes
        // element by element, 20 s for the 64 MiB of a hostile process's maps.
        let zeros = [UInt8](repeating: 0, count: min(max(capacity, buffer.count), limit - length))
        if buffer.isEmpty { buffer = zeros } else { buffer += zeros }
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

  /// Calls `body` with the name of every entry of a directory (`.` and `..` included).
  ///
  /// The corresponding C functions are `open` and `getdents64`: `opendir` also makes an `fstat`,
  /// which the scans of /proc, a directory per process, would pay thousands of times.
  static func forEachEntry(_ path: String, _ body: (UnsafeBufferPointer<UInt8>) -> Void) -> Result<Void, Errno> {
    let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else { return .failure(currentErrno) }
    defer { closeIgnoringErrors(fd) }
    return forEachEntry(descriptor: fd, body)
  }

  /// The same through an open directory, read from its current position; the caller closes it.
  static func forEachEntry(descriptor fd: Int32, _ body: (UnsafeBufferPointer<UInt8>) -> Void) -> Result<Void, Errno> {
    withUnsafeTemporaryAllocation(byteCount: 32768, alignment: 8) { buffer -> Result<Void, Errno> in
      let base = buffer.baseAddress!
      while true {
        let n = swipc_getdents64(fd, base, UInt(buffer.count))
        if n == 0 { return .success(()) }
        guard n > 0 else { return .failure(currentErrno) }
        // struct linux_dirent64: d_ino (8), d_off (8), d_reclen (2), d_type (1), d_name.
        var offset = 0
        while offset + 19 < n {
          let length = Int(base.loadUnaligned(fromByteOffset: offset + 16, as: UInt16.self))
          guard length > 19, offset + length <= n else { return .failure(.ioError) }
          let name = UnsafeRawBufferPointer(start: base + offset + 19, count: length - 19).bindMemory(to: UInt8.self)
          body(UnsafeBufferPointer(rebasing: name[..<(name.firstIndex(of: 0) ?? name.count)]))
          offset += length
        }
      }
    }
  }

  /// The names in a directory, without `.` and `..`.
  public static func list(_ path: String) -> Result<[String], Errno> {
    var names = [String]()
    return forEachEntry(path) { name in
      if !isDotOrDotDot(name) { names.append(String(decoding: name, as: UTF8.self)) }
    }.map { names }
  }

  /// `.` or `..`, which every directory lists.
  static func isDotOrDotDot(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
    name.count == 1 && name[0] == 46 || name.count == 2 && name[0] == 46 && name[1] == 46
  }

  /// The entries of a directory whose names are all digits (process ids in /proc); none when it
  /// cannot be listed (`numericEntriesResult` for a caller that must tell the two apart).
  public static func numericEntries(_ path: String) -> [Int32] {
    (try? numericEntriesResult(path).get()) ?? []
  }

  public static func numericEntriesResult(_ path: String) -> Result<[Int32], Errno> {
    var result = [Int32]()
    return forEachEntry(path) { name in
      var n: Int32 = 0
      for byte in name {
        guard byte >= 48 && byte <= 57, n < 100_000_000 else { return }
        n = n * 10 + Int32(byte - 48)
      }
      if !name.isEmpty { result.append(n) }
    }.map { result }
  }

  /// `lstat` or `stat` of a path.
  public static func status(_ path: String, followLinks: Bool = false) -> Result<stat, Errno> {
    var st = stat()
    let rc = followLinks ? stat(path, &st) : lstat(path, &st)
    return rc == 0 ? .success(st) : .failure(currentErrno)
  }
}
