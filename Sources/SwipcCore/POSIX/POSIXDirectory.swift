import CSwipc
import Glibc
import SystemPackage

/// The directory that holds POSIX objects as files (the tmpfs behind shm_open(3), /dev/shm or
/// $SWIPC_SHM_DIR, for shared memory and `sem.NAME` semaphores; the mqueue mount for queues),
/// reached through one descriptor.
///
/// Every look-up, open and removal goes through that descriptor with `O_NOFOLLOW` or
/// `AT_SYMLINK_NOFOLLOW`, and whatever is opened is judged by `fstat` of its own descriptor: a
/// name another user swaps for a symlink, a FIFO or another file between a check and a use is
/// refused, never followed, and the listing, the check and the removal see the same directory
/// whatever the environment says.
public final class POSIXDirectory: Sendable {
  /// The directory as it was named, for messages.
  public let path: String
  private let owned: OwnedDescriptor
  /// The directory's descriptor, owned (and closed) by this value.
  public var descriptor: Int32 { owned.raw }

  /// Why an entry could not be opened, checked or removed.
  public enum Failure: Error, Equatable {
    /// The call failed with this errno (ENOENT: no such entry; ELOOP: the name is a symlink).
    case system(String, Errno)
    /// The entry is not a regular file (a FIFO, a directory, a device): no POSIX object.
    case notRegular(mode_t)
    /// The entry is a regular file of another size than the object needs (semaphores).
    case wrongSize(Int64, expected: Int)
    /// The name now refers to another file than the one that was checked.
    case changed
    /// The file has other names too (a hard link made to a file elsewhere): not changed.
    case linked(UInt64)
    /// The directory itself is not used, for this reason (swipc's decision, not the system's).
    case refused(directory: String, reason: String)
  }

  /// A device and inode number: which file a name referred to when it was checked.
  public struct FileIdentity: Hashable, Sendable {
    public var device: UInt64
    public var inode: UInt64
    public init(device: UInt64, inode: UInt64) {
      self.device = device
      self.inode = inode
    }
    public init(_ st: stat) { self.init(device: UInt64(st.st_dev), inode: UInt64(st.st_ino)) }
  }

  /// An entry opened and checked: its descriptor, closed when the value goes away, and its fstat.
  public struct OpenFile: ~Copyable {
    public let owned: OwnedDescriptor
    public let status: stat
    public var descriptor: Int32 { owned.raw }
    public var identity: FileIdentity { FileIdentity(status) }
    public var size: Int64 { Int64(status.st_size) }
    /// Hands the descriptor to a caller that becomes its owner.
    public consuming func takeDescriptor() -> Int32 { owned.take() }
  }

  /// A file `create` opened, and whether it made it.
  public struct Created: ~Copyable {
    public let file: OpenFile
    public let created: Bool
  }

  /// Opens `path` as a directory. The path itself is the operator's (a default or a variable
  /// they set), so a symlinked /dev/shm is followed; only the entries inside are untrusted.
  ///
  /// The corresponding C function is `open` with `O_DIRECTORY`.
  public init(path: String) throws(Failure) {
    self.path = path
    switch OwnedDescriptor.open(path, flags: O_RDONLY | O_DIRECTORY | O_CLOEXEC) {
    case .success(let fd): owned = fd
    case .failure(let e): throw .system("open", e)
    }
  }

  /// A directory already open (another namespace's mount); this value becomes its owner.
  public init(owning descriptor: consuming OwnedDescriptor, path: String) {
    self.path = path
    owned = descriptor
  }

  /// The entries' names as bytes (without `.` and `..`), in directory order.
  ///
  /// The corresponding C functions are `fdopendir` and `readdir`.
  public func entries() -> Result<[[UInt8]], Errno> {
    // fdopendir takes over the descriptor it is given: give it a fresh one on the same directory
    // (not a dup, whose offset would be shared between listings).
    let fd: OwnedDescriptor
    switch OwnedDescriptor.open(".", relativeTo: descriptor, flags: O_RDONLY | O_DIRECTORY | O_CLOEXEC) {
    case .success(let d): fd = d
    case .failure(let e): return .failure(e)
    }
    guard let dir = fdopendir(fd.raw) else { return .failure(currentErrno) }
    _ = fd.take()  // the stream owns it now; closedir closes it
    defer { closedir(dir) }
    var names = [[UInt8]]()
    while let entry = readdir(dir) {
      let name = withUnsafeBytes(of: &entry.pointee.d_name) { raw -> [UInt8] in
        let bytes = raw.bindMemory(to: UInt8.self)
        return Array(bytes[0..<(bytes.firstIndex(of: 0) ?? bytes.count)])
      }
      if name == [46] || name == [46, 46] { continue }
      names.append(name)
    }
    return .success(names)
  }

  /// fstatat of an entry, not following a symlink.
  public func status(_ entry: [UInt8]) -> Result<stat, Failure> {
    var st = stat()
    let rc = Self.withCString(entry) { fstatat(descriptor, $0, &st, AT_SYMLINK_NOFOLLOW) }
    return rc == 0 ? .success(st) : .failure(.system("fstatat", currentErrno))
  }

  /// Opens an entry with `O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC` added to `flags` (a symlink is
  /// refused with ELOOP, a FIFO cannot block), and keeps it only when fstat of the descriptor
  /// says it is a regular file (of `size` bytes when given).
  ///
  /// The corresponding C functions are `openat` and `fstat`.
  public func open(_ entry: [UInt8], flags: Int32, size: Int? = nil) -> Result<OpenFile, Failure> {
    let raw = Self.withCString(entry) { openat(descriptor, $0, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY) }
    guard raw >= 0 else { return .failure(.system("open", currentErrno)) }
    let fd = OwnedDescriptor(raw)
    var st = stat()
    if fstat(fd.raw, &st) != 0 { return .failure(.system("fstat", currentErrno)) }
    if st.st_mode & S_IFMT != S_IFREG { return .failure(.notRegular(st.st_mode)) }
    if let size, Int64(st.st_size) != Int64(size) { return .failure(.wrongSize(Int64(st.st_size), expected: size)) }
    return .success(OpenFile(owned: fd, status: st))
  }

  /// Changes the mode and/or owner of the regular file an entry names, through a descriptor of
  /// that file: root never changes a file it did not open and check. A file opened for reading
  /// takes fchmod/fchown; when reading is not permitted (an owner's 0200 object), an O_PATH
  /// descriptor is changed through /proc/self/fd, which names that inode and no path.
  ///
  /// The corresponding C functions are `openat`, `fstat`, `fchown`, `fchmod` and `chmod`.
  public func setPermissions(_ entry: [UInt8], mode: UInt32?, uid: UInt32?, gid: UInt32?) -> Result<Void, Failure> {
    var pathOnly = false
    let file: OpenFile
    switch open(entry, flags: O_RDONLY) {
    case .success(let f): file = f
    case .failure(.system(_, .permissionDenied)):
      pathOnly = true
      switch open(entry, flags: POSIXDirectory.pathOnly) {
      case .success(let f): file = f
      case .failure(let f): return .failure(f)
      }
    case .failure(let f): return .failure(f)
    }
    // shm_open, sem_open and mq_open make files with one name (none once unlinked); another user
    // who links a file of someone else's into the directory must not get root to change it.
    guard file.status.st_nlink <= 1 else { return .failure(.linked(UInt64(file.status.st_nlink))) }
    let procPath = "/proc/self/fd/\(file.descriptor)"
    if uid != nil || gid != nil {
      let (u, g) = (uid ?? UInt32.max, gid ?? UInt32.max)
      let rc = pathOnly ? fchownat(AT_FDCWD, procPath, u, g, 0) : fchown(file.descriptor, u, g)
      if rc != 0 { return .failure(.system("fchown", currentErrno)) }
    }
    if let mode {
      let rc = pathOnly ? chmod(procPath, mode_t(mode)) : fchmod(file.descriptor, mode_t(mode))
      if rc != 0 { return .failure(.system("fchmod", currentErrno)) }
    }
    return .success(())
  }

  /// Removes an entry, after checking through the directory's descriptor that it is a regular
  /// file and, when `expected` is given, the very file that was checked before (same device and
  /// inode). In a sticky directory such as /dev/shm only the file's owner (or root) can put
  /// another file under its name between that check and the unlink.
  ///
  /// The corresponding C functions are `fstatat` and `unlinkat`.
  public func unlink(_ entry: [UInt8], expected: FileIdentity? = nil) -> Result<Void, Failure> {
    let st: stat
    switch status(entry) {
    case .failure(let f): return .failure(f)
    case .success(let s): st = s
    }
    guard st.st_mode & S_IFMT == S_IFREG else { return .failure(.notRegular(st.st_mode)) }
    if let expected, FileIdentity(st) != expected { return .failure(.changed) }
    let rc = Self.withCString(entry) { unlinkat(descriptor, $0, 0) }
    return rc == 0 ? .success(()) : .failure(.system("unlinkat", currentErrno))
  }

  /// Creates a regular file under an entry with `mode` exactly (the umask cleared), never
  /// through a symlink (`O_EXCL` does not follow one; `O_NOFOLLOW` refuses one). When not
  /// `exclusive`, an entry that exists is opened instead, and kept only when fstat says it is a
  /// regular file with one name. Returns the file and whether it was made here.
  ///
  /// The corresponding C functions are `openat` and `fstat`.
  public func create(_ entry: [UInt8], mode: UInt32, exclusive: Bool) -> Result<Created, Failure> {
    // O_EXCL even when an existing entry would do: only then does the caller know whether it
    // made the file (and may size it, or remove it again on failure).
    for _ in 0..<8 {
      let flags = O_CREAT | O_EXCL | O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY
      let raw = POSIXObjects.withoutUmask { Self.withCString(entry) { openat(descriptor, $0, flags, mode_t(mode)) } }
      if raw >= 0 {
        let fd = OwnedDescriptor(raw)
        var st = stat()
        guard fstat(fd.raw, &st) == 0 else {
          let e = currentErrno
          _ = consume fd
          _ = unlink(entry)
          return .failure(.system("fstat", e))
        }
        return .success(Created(file: OpenFile(owned: fd, status: st), created: true))
      }
      let e = currentErrno
      guard e == .fileExists && !exclusive else { return .failure(.system("open", e)) }
      switch open(entry, flags: O_RDWR) {
      case .success(let file):
        guard file.status.st_nlink == 1 else { return .failure(.linked(UInt64(file.status.st_nlink))) }
        return .success(Created(file: file, created: false))
      case .failure(.system(_, .noSuchFileOrDirectory)): continue  // removed in between: create it
      case .failure(let f): return .failure(f)
      }
    }
    return .failure(.system("open", .fileExists))
  }

  /// Puts a file with `contents` and `mode` under an entry in one step, as glibc's sem_open does
  /// for a semaphore: the file is written while it has no name (O_TMPFILE; else under a random
  /// name of its own) and then linked into place, so no process ever opens it half-written. An
  /// entry that exists (a symlink too: linkat does not follow it) fails with EEXIST.
  ///
  /// The corresponding C functions are `openat` (O_TMPFILE), `pwrite`, `fchmod` and `linkat`.
  public func publish(_ entry: [UInt8], contents: [UInt8], mode: UInt32) -> Result<FileIdentity, Failure> {
    var temporary: [UInt8]? = nil
    var fd = POSIXObjects.withoutUmask { openat(descriptor, ".", Self.temporaryFile | O_RDWR | O_CLOEXEC, mode_t(mode)) }
    if fd < 0 {
      let e = currentErrno
      // Filesystems without O_TMPFILE refuse it with EOPNOTSUPP, or EISDIR on old kernels.
      guard e == .notSupported || e == .isDirectory || e == .invalidArgument else { return .failure(.system("open", e)) }
      for _ in 0..<8 {
        var random = SystemRandomNumberGenerator()
        let name = Array(".swipc-\(String(random.next() as UInt64, radix: 36))".utf8)
        let flags = O_CREAT | O_EXCL | O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY
        fd = POSIXObjects.withoutUmask { Self.withCString(name) { openat(descriptor, $0, flags, mode_t(mode)) } }
        if fd >= 0 { temporary = name; break }
        if currentErrno != .fileExists { return .failure(.system("open", currentErrno)) }
      }
      guard fd >= 0 else { return .failure(.system("open", .fileExists)) }
    }
    let file = OwnedDescriptor(fd)
    var st = stat()
    guard fstat(file.raw, &st) == 0 else { return .failure(.system("fstat", currentErrno)) }
    let identity = FileIdentity(st)
    // The random name is this process's own scratch file: removed whatever happens.
    defer { if let temporary { _ = unlink(temporary, expected: identity) } }
    let written = contents.withUnsafeBytes { raw -> Errno? in
      var done = 0
      while done < raw.count {
        let n = pwrite(file.raw, raw.baseAddress! + done, raw.count - done, off_t(done))
        if n < 0 {
          if currentErrno == .interrupted { continue }
          return currentErrno
        }
        done += n
      }
      return nil
    }
    if let written { return .failure(.system("write", written)) }
    guard fchmod(file.raw, mode_t(mode)) == 0 else { return .failure(.system("fchmod", currentErrno)) }
    // /proc/self/fd/N names the inode written here, whatever has happened to any name since.
    let rc = Self.withCString(entry) { linkat(AT_FDCWD, "/proc/self/fd/\(file.raw)", descriptor, $0, AT_SYMLINK_FOLLOW) }
    return rc == 0 ? .success(identity) : .failure(.system("linkat", currentErrno))
  }

  /// O_TMPFILE, which Glibc's module does not export.
  static let temporaryFile: Int32 = SWIPC_O_TMPFILE_BASE | O_DIRECTORY

  /// O_PATH, which Glibc's module does not export.
  static let pathOnly: Int32 = SWIPC_O_PATH

  static func withCString<T>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) -> T) -> T {
    (bytes + [0]).withUnsafeBufferPointer { raw in
      raw.withMemoryRebound(to: CChar.self) { body($0.baseAddress!) }
    }
  }
}

extension POSIXDirectory.Failure {
  /// The error a command reports for `name` of `kind`, after `action` (e.g. "read") failed.
  public func error(kind: IPCKind, name: POSIXName, action: String) -> SwipcError {
    switch self {
    case .system(let call, let e):
      if e == .tooManySymbolicLinkLevels {
        return SwipcError(category: .failed, call: call, object: name.rawValue,
          reason: "the name is a symbolic link, which is never followed: not a \(kind.title.dropLast())")
      }
      return ObjectOperations.posixError(e, call: call, kind: kind, name: name, action: action)
    case .notRegular(let mode):
      return SwipcError(category: .failed, call: "fstat", object: name.rawValue,
        reason: "it is \(POSIXDirectory.describe(mode)), not a regular file: not a \(kind.title.dropLast())")
    case .wrongSize(let size, let expected):
      return SwipcError(category: .failed, call: "fstat", object: name.rawValue,
        reason: "its file holds \(size) bytes, not the \(expected) of a semaphore (sem_t): not a semaphore swipc can use")
    case .changed:
      return SwipcError(category: .failed, call: "fstatat", object: name.rawValue,
        reason: "another file took its name since it was checked; nothing was done")
    case .linked(let links):
      return SwipcError(category: .failed, call: "fstat", object: name.rawValue,
        reason: "its file has \(links) names (a hard link, which no POSIX object has): nothing was changed")
    case .refused(let directory, let reason):
      return SwipcError(category: .permissionDenied, call: "", object: directory, reason: reason + "; \(name.rawValue): nothing was done")
    }
  }
}

extension POSIXDirectory {
  /// `a FIFO`, `a directory`… for messages about what stands under an object's name.
  static func describe(_ mode: mode_t) -> String {
    switch mode & S_IFMT {
    case S_IFIFO: return "a FIFO"
    case S_IFDIR: return "a directory"
    case S_IFLNK: return "a symbolic link"
    case S_IFSOCK: return "a socket"
    case S_IFCHR: return "a character device"
    case S_IFBLK: return "a block device"
    default: return "a special file"
    }
  }
}
