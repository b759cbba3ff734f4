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
  /// The POSIX object's descriptor, kept open for `stream(_:to:)`, owned (and closed) by this
  /// mapping; -1 for none.
  var descriptor: Int32 = -1

  /// Attaches the object a target names: read-only (SHM_RDONLY, PROT_READ) or read-write.
  ///
  /// A POSIX object is opened through the view's shm directory descriptor, never through a
  /// symlink or anything but a regular file, and mapped after its size was taken from fstat of
  /// that descriptor. With `map` false a POSIX object is only opened, to be read with `read`.
  ///
  /// The corresponding C functions are `shmat`, `openat`, `fstat` and `mmap`.
  public init(
    target: ObjectTarget, readOnly: Bool, map: Bool = true, view: IPCView
  ) throws(SwipcError) {
    self.readOnly = readOnly
    let action = readOnly ? "read" : "write to"
    if case .name(let name) = target {
      isPOSIX = true
      label = "segment \(name.rawValue)"
      let opened = POSIXSharedMemory.directory(in: view).open()
        .flatMap { $0.open(POSIXSharedMemory.entry(name), flags: readOnly ? O_RDONLY : O_RDWR) }
      let file: POSIXDirectory.OpenFile
      switch consume opened {
      case .failure(let f): throw f.error(kind: .pshm, name: name, action: action)
      case .success(let f): file = f
      }
      let fileSize = file.size
      descriptor = file.takeDescriptor()
      guard fileSize <= Int64(Int.max / 2) else {
        throw SwipcError(category: .failed, call: "fstat", object: label, reason: "its size \(fileSize) is too large to map")
      }
      size = Int(fileSize)
      guard size > 0, map else {
        base = nil
        return
      }
      let protection = readOnly ? PROT_READ : PROT_READ | PROT_WRITE
      let address = mmap(nil, size, protection, MAP_SHARED, descriptor, 0)
      guard let address, address != MAP_FAILED else {
        throw SwipcError(call: "mmap", object: label, errno: currentErrno)
      }
      base = address
    } else {
      isPOSIX = false
      let id = try ObjectOperations.systemVID(kind: .shm, target: target, view: view)
      label = "segment \(id)"
      switch view.executor.perform({ SystemV.sharedMemoryStatus(id: id) }) {
      case .success(let ds): size = Int(ds.shm_segsz)
      case .failure(let e):
        throw ObjectOperations.systemVError(e, call: "shmctl(IPC_STAT)", kind: .shm, id: id, action: action)
      }
      let address = view.executor.perform { shmat(id, nil, readOnly ? SHM_RDONLY : 0) }
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

  /// Reads `count` bytes from `offset`, at most `chunk` at a time, and hands each piece to
  /// `body`: memory of a fixed size whatever the object's.
  ///
  /// A POSIX object is read with pread through its own descriptor: another process may truncate
  /// it at any time, which through the mapping would raise SIGBUS and here ends the read with an
  /// error. A System V segment (which cannot shrink) is read through /proc/self/map_files, as
  /// cat reads a file, where that is granted (CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN), else
  /// from the mapping a chunk at a time, each chunk's pages mapped in one call.
  ///
  /// The corresponding C function is `pread`.
  public func read(
    offset: Int, count: Int, chunk: Int, _ body: (UnsafeRawBufferPointer) throws(SwipcError) -> Void
  ) throws(SwipcError) {
    guard count > 0 else { return }
    let source = descriptor >= 0 ? descriptor : openSegmentFile()
    defer { if source >= 0 && source != descriptor { closeIgnoringErrors(source) } }
    guard source >= 0 else {
      guard let base else { return }
      var done = 0
      while done < count {
        let piece = UnsafeRawBufferPointer(start: base + offset + done, count: min(chunk, count - done))
        prefault(piece)
        try body(piece)
        done += piece.count
      }
      return
    }
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 4096)
    defer { buffer.deallocate() }
    var done = 0
    while done < count {
      let want = min(chunk, count - done)
      switch valueOrErrno({ pread(source, buffer, want, off_t(offset + done)) }) {
      case .failure(let e): throw SwipcError(call: "pread", object: label, errno: e)
      case .success(let n) where n < want:
        var st = stat()
        let now = fstat(source, &st) == 0 ? " (it now holds \(st.st_size) bytes)" : ""
        if n > 0 { try body(UnsafeRawBufferPointer(start: buffer, count: n)) }
        throw SwipcError(category: .failed, call: "pread", object: label,
          reason: "the segment ended early, at byte \(offset + done + n) of the \(offset + count) asked for: another process truncated it\(now)")
      case .success(let n):
        try body(UnsafeRawBufferPointer(start: buffer, count: n))
        done += n
      }
    }
  }

  /// Writes `count` bytes from `offset` to `fd`, a chunk at a time.
  ///
  /// Throws when reading fails, and when writing does (a full disk, a closed descriptor, a reader
  /// gone with SIGPIPE ignored).
  public func stream(offset: Int, count: Int, to fd: Int32) throws(SwipcError) {
    try read(offset: offset, count: count, chunk: 1 << 20) { piece throws(SwipcError) in
      try OutputWriter.write(piece, to: fd)
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

  /// The byte range from `offset` for `length` (nil: to the end), checked against the size.
  public func range(offset: Int, length: Int?) throws(SwipcError) -> (offset: Int, count: Int) {
    guard offset >= 0, offset <= size else {
      throw .usage("offset \(offset) is past the end of \(label) (size \(size) bytes)")
    }
    let count = length ?? (size - offset)
    guard count >= 0, count <= size - offset else {
      throw .usage("--length \(count) from offset \(offset) passes the end of \(label) (size \(size) bytes): at most \(size - offset)")
    }
    return (offset, count)
  }

  /// Copies `bytes` in at `offset`, or throws (writing nothing) when they would pass the end.
  ///
  /// A POSIX object is written with pwrite through its descriptor, not through the mapping: one
  /// that another process truncates meanwhile cannot raise SIGBUS here.
  ///
  /// The corresponding C function is `pwrite`.
  public func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(SwipcError) {
    guard offset >= 0, offset <= size, bytes.count <= size - offset else {
      throw SharedMemoryMapping.pastEnd(label: label, size: size, offset: offset, count: bytes.count)
    }
    guard bytes.count > 0, let source = bytes.baseAddress else { return }
    try reservePages(offset: offset, count: bytes.count)
    guard isPOSIX, descriptor >= 0 else {
      guard let base else { return }
      (base + offset).copyMemory(from: source, byteCount: bytes.count)
      return
    }
    var done = 0
    while done < bytes.count {
      switch valueOrErrno({ pwrite(descriptor, source + done, bytes.count - done, off_t(offset + done)) }) {
      case .failure(let e): throw SwipcError(call: "pwrite", object: label, errno: e)
      case .success(let n): done += n
      }
    }
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
  public static func reservePages(
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
