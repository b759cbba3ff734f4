import CSwipc
import Glibc
import SystemPackage

/// A shared memory object mapped into this process: a System V segment through shmat, or a POSIX
/// object through shm_open and mmap. Detached (shmdt, munmap) when released.
///
/// While it lives, the segment's nattch counts this process (System V), or /proc/PID/maps lists
/// the object (POSIX): `swipc show` reports it as a holder.
public final class SharedMemoryMapping {
  /// The first byte of the object; nil when it has size 0 (POSIX objects can: nothing to map).
  public let base: UnsafeMutableRawPointer?
  /// The object's size in bytes.
  public let size: Int
  public let readOnly: Bool
  /// How messages name the object: `segment 32768` or `segment /cache`.
  public let label: String
  let isPOSIX: Bool
  /// The POSIX object's descriptor, kept open for `stream(_:to:)`.
  var descriptor: Int32 = -1

  /// Attaches the object a target names: read-only (SHM_RDONLY, PROT_READ) or read-write.
  ///
  /// The corresponding C functions are `shmat`, `shm_open`, `fstat` and `mmap`.
  public init(target: ObjectTarget, readOnly: Bool) throws(SwipcError) {
    self.readOnly = readOnly
    let action = readOnly ? "read" : "write to"
    if case .name(let name) = target {
      isPOSIX = true
      label = "segment \(name.rawValue)"
      let fd = shm_open(name.rawValue, (readOnly ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOFOLLOW, 0)
      guard fd != -1 else {
        throw ObjectOperations.posixError(currentErrno, call: "shm_open", kind: .pshm, name: name, action: action)
      }
      descriptor = fd
      var st = stat()
      if case .failure(let e) = valueOrErrno({ fstat(fd, &st) }) {
        throw SwipcError(call: "fstat", object: label, errno: e)
      }
      size = Int(st.st_size)
      guard size > 0 else {
        base = nil
        return
      }
      let protection = readOnly ? PROT_READ : PROT_READ | PROT_WRITE
      let address = mmap(nil, size, protection, MAP_SHARED, fd, 0)
      guard let address, address != MAP_FAILED else {
        throw SwipcError(call: "mmap", object: label, errno: currentErrno)
      }
      base = address
    } else {
      isPOSIX = false
      let id = try ObjectOperations.systemVID(kind: .shm, target: target)
      label = "segment \(id)"
      switch SystemV.sharedMemoryStatus(id: id) {
      case .success(let ds): size = Int(ds.shm_segsz)
      case .failure(let e):
        throw ObjectOperations.systemVError(e, call: "shmctl(IPC_STAT)", kind: .shm, id: id, action: action)
      }
      let address = shmat(id, nil, readOnly ? SHM_RDONLY : 0)
      guard let address, address != UnsafeMutableRawPointer(bitPattern: -1) else {
        let e = currentErrno
        throw ObjectOperations.systemVError(e, call: "shmat", kind: .shm, id: id,
          action: readOnly ? "attach" : "attach read-write")
      }
      base = address
    }
  }

  deinit {
    if descriptor >= 0 { closeIgnoringErrors(descriptor) }
    guard let base else { return }
    if isPOSIX { munmap(base, size) } else { shmdt(base) }
  }

  /// Writes `range` (part of this mapping) to `fd`.
  ///
  /// Reading the object through a descriptor, as cat reads a file, is faster than through the
  /// mapping, whose every page would have to be mapped first: a POSIX object is read through its
  /// own descriptor, a System V segment through /proc/self/map_files (which needs
  /// CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN); otherwise the mapping is written a chunk at a
  /// time, each chunk's pages mapped in one call just before it is written.
  ///
  /// Throws when reading fails, and when writing does (a full disk, a closed descriptor, a reader
  /// gone with SIGPIPE ignored).
  /// The corresponding C functions are `pread` and `write`.
  public func stream(_ range: UnsafeRawBufferPointer, to fd: Int32) throws(SwipcError) {
    guard let base, let start = range.baseAddress, range.count > 0 else { return }
    let offset = start - UnsafeRawPointer(base)
    let chunk = 1 << 20
    let source = descriptor >= 0 ? descriptor : openSegmentFile()
    defer { if source >= 0 && source != descriptor { closeIgnoringErrors(source) } }
    guard source >= 0 else {
      var done = 0
      while done < range.count {
        let piece = UnsafeRawBufferPointer(rebasing: range[done..<min(done + chunk, range.count)])
        prefault(piece)
        try OutputWriter.write(piece, to: fd)
        done += piece.count
      }
      return
    }
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 4096)
    defer { buffer.deallocate() }
    var done = 0
    while done < range.count {
      let want = min(chunk, range.count - done)
      switch valueOrErrno({ pread(source, buffer, want, off_t(offset + done)) }) {
      case .failure(let e): throw SwipcError(call: "read", object: label, errno: e)
      case .success(0): throw SwipcError(call: "read", object: label, reason: "the segment ended early")
      case .success(let n):
        try OutputWriter.write(UnsafeRawBufferPointer(start: buffer, count: n), to: fd)
        done += n
      }
    }
  }

  /// A descriptor for a System V segment's backing file, or -1 where /proc does not grant it.
  func openSegmentFile() -> Int32 {
    guard let base, !isPOSIX else { return -1 }
    let page = pageSize
    let start = UInt(bitPattern: base)
    let end = start + UInt((size + page - 1) / page * page)
    let path = "/proc/self/map_files/" + String(start, radix: 16) + "-" + String(end, radix: 16)
    return open(path, O_RDONLY | O_CLOEXEC)
  }

  /// Maps the pages of `range` in one call (MADV_POPULATE_READ, Linux 5.14) rather than one
  /// page fault per page while they are read; a no-op where the kernel lacks it.
  ///
  /// The corresponding C function is `madvise`.
  public func prefault(_ range: UnsafeRawBufferPointer) {
    guard let start = range.baseAddress, range.count > 0 else { return }
    let page = pageSize
    let aligned = UInt(bitPattern: start) & ~UInt(page - 1)
    let length = Int(UInt(bitPattern: start) - aligned) + range.count
    _ = madvise(UnsafeMutableRawPointer(bitPattern: aligned), length, 22)  // MADV_POPULATE_READ
  }

  /// The bytes from `offset` for `length` (nil: to the end), checked against the size.
  public func range(offset: Int, length: Int?) throws(SwipcError) -> UnsafeRawBufferPointer {
    guard offset >= 0, offset <= size else {
      throw .usage("offset \(offset) is past the end of \(label) (size \(size) bytes)")
    }
    let count = length ?? (size - offset)
    guard count >= 0, count <= size - offset else {
      throw .usage("--length \(count) from offset \(offset) passes the end of \(label) (size \(size) bytes): at most \(size - offset)")
    }
    return UnsafeRawBufferPointer(start: base.map { $0 + offset }, count: count)
  }

  /// Copies `bytes` in at `offset`, or throws (writing nothing) when they would pass the end.
  public func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(SwipcError) {
    guard offset >= 0, offset <= size, bytes.count <= size - offset else {
      throw SharedMemoryMapping.pastEnd(label: label, size: size, offset: offset, count: bytes.count)
    }
    guard bytes.count > 0, let base, let source = bytes.baseAddress else { return }
    try reservePages(offset: offset, count: bytes.count)
    (base + offset).copyMemory(from: source, byteCount: bytes.count)
  }

  func reservePages(offset: Int, count: Int) throws(SwipcError) {
    guard isPOSIX, descriptor >= 0 else { return }
    try SharedMemoryMapping.reservePages(descriptor, offset: offset, count: count, object: label,
      afterFailure: "; nothing was written")
  }

  /// A POSIX object is a file in a tmpfs that may be smaller than the object (ftruncate makes a
  /// sparse file): storing into a page the filesystem cannot supply raises SIGBUS. Allocating
  /// the pages first turns that into ENOSPC before a byte is stored.
  ///
  /// The corresponding C function is `posix_fallocate`.
  static func reservePages(
    _ fd: Int32, offset: Int, count: Int, object: String, afterFailure: String = ""
  ) throws(SwipcError) {
    let e = posix_fallocate(fd, off_t(offset), off_t(count))
    guard e != 0 else { return }
    throw SwipcError(category: .failed, call: "posix_fallocate", object: object, errno: Errno(rawValue: e),
      reason: e == ENOSPC ? "no room for \(count) bytes in /dev/shm (see 'df /dev/shm')\(afterFailure)" : nil)
  }

  /// The room from `offset` to the end, or the error for an offset past it.
  public func room(from offset: Int) throws(SwipcError) -> Int {
    guard offset >= 0, offset <= size else {
      throw .usage("offset \(offset) is past the end of \(label) (size \(size) bytes); nothing was written")
    }
    return size - offset
  }

  static func pastEnd(label: String, size: Int, offset: Int, count: Int) -> SwipcError {
    .usage("\(count) bytes at offset \(offset) would pass the end of \(label) (size \(size) bytes, room for \(max(size - offset, 0))); nothing was written")
  }

  /// The error for input longer than the room from `offset` (known only to be more than it).
  public func tooMuchInput(from offset: Int, source: String) -> SwipcError {
    .usage("\(source) holds more than the \(size - offset) bytes from offset \(offset) to the end of \(label) (size \(size) bytes); nothing was written")
  }
}
