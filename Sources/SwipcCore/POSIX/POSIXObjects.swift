import CSwipc
import Glibc
import SystemPackage

/// Creation, removal and permission changes of POSIX objects.
public enum POSIXObjects {
  /// Runs `body` with the umask cleared, so that a mode asked for is the mode the object gets
  /// (mq_open, shm_open and sem_open all apply the umask).
  static func withoutUmask<T>(_ body: () -> T) -> T { withMask(0, body) }

  /// Runs `body` with the umask set to `mask` (bind(2) of a unix socket takes its file's mode
  /// from the umask alone).
  static func withMask<T>(_ mask: UInt32, _ body: () -> T) -> T {
    let old = umask(mode_t(mask))
    defer { umask(old) }
    return body()
  }

  /// mq_open with O_CREAT: a new queue with the given capacity (nil: the kernel's defaults).
  ///
  /// The corresponding C function is `mq_open`.
  public static func createQueue(
    _ name: POSIXName, mode: UInt32, exclusive: Bool, maxMessages: Int?, messageSize: Int?, view: IPCView
  ) -> Result<Void, Errno> {
    var attributes = mq_attr()
    let custom = maxMessages != nil || messageSize != nil
    if custom {
      attributes.mq_maxmsg = maxMessages ?? Int(view.kernelValue("fs/mqueue/msg_default") ?? 10)
      attributes.mq_msgsize = messageSize ?? Int(view.kernelValue("fs/mqueue/msgsize_default") ?? 8192)
    }
    let flags = O_CREAT | O_RDONLY | O_CLOEXEC | (exclusive ? O_EXCL : 0)
    let mqd = view.executor.perform {
      withoutUmask {
        withUnsafePointer(to: &attributes) { swipc_mq_open(name.rawValue, flags, mode_t(mode), custom ? $0 : nil) }
      }
    }
    guard mqd != -1 else { return .failure(currentErrno) }
    mq_close(mqd)
    return .success(())
  }

  /// What shm_open with O_CREAT does, through the view's shm directory (so `SWIPC_SHM_DIR` is
  /// honoured as by every other command): a new file `NAME` of `mode`, then
  /// ftruncate to `size`. A new object that cannot be sized is removed again (the very file made
  /// here), so nothing is left half-made; an existing one (not `exclusive`) is used as it is.
  ///
  /// - Returns: Whether the object was made here.
  ///
  /// The corresponding C functions are `openat`, `fstat`, `ftruncate` and `unlinkat`.
  public static func createSharedMemory(
    _ name: POSIXName, mode: UInt32, exclusive: Bool, size: UInt64, view: IPCView
  ) -> Result<Bool, SwipcError> {
    let directory: POSIXDirectory
    switch shmDirectory(.pshm, for: name, view: view) {
    case .success(let d): directory = d
    case .failure(let e): return .failure(e)
    }
    let entry = POSIXSharedMemory.entry(name)
    let made: POSIXDirectory.Created
    switch directory.create(entry, mode: mode, exclusive: exclusive) {
    case .success(let m): made = m
    case .failure(.system("open", let e)) where e != .tooManySymbolicLinkLevels:
      return .failure(SwipcError(call: "shm_open", object: name.rawValue, errno: e))
    case .failure(let f): return .failure(f.error(kind: .pshm, name: name, action: "use"))
    }
    let file = made.file
    guard made.created else { return .success(false) }
    let sized = size > UInt64(Int64.max) ? .failure(.fileTooLarge) : valueOrErrno({ ftruncate(file.descriptor, off_t(size)) })
    guard case .failure(let e) = sized else { return .success(true) }
    let undone = if case .success = directory.unlink(entry, expected: file.identity) {
      "nothing was created"
    } else {
      "the new empty object could not be removed again: remove it with 'swipc rm pshm \(name.rawValue)'"
    }
    let tooLarge = e == .fileTooLarge || e == .invalidArgument || e == .noSpace
    return .failure(SwipcError(call: "ftruncate", object: name.rawValue, errno: e,
      reason: (tooLarge ? "size \(size) is too large for \(view.shm.label) (see 'df \(view.shm.label)' and 'ulimit -f')" : SwipcError.strerror(e)) + "; " + undone))
  }

  /// What sem_open with O_CREAT does, through the shm directory's descriptor: a sem_t made by
  /// sem_init (shared between processes) with `value`, published whole as `sem.NAME`, so neither
  /// this nor any other process maps a half-made semaphore. When not `exclusive`, an existing
  /// semaphore (a regular file of sizeof(sem_t) bytes) is used as it is.
  ///
  /// The corresponding C functions are `sem_init`, `openat` (O_TMPFILE), `pwrite` and `linkat`.
  public static func createSemaphore(
    _ name: POSIXName, mode: UInt32, exclusive: Bool, value: UInt32, view: IPCView
  ) -> Result<Void, SwipcError> {
    let directory: POSIXDirectory
    switch shmDirectory(.psem, for: name, view: view) {
    case .success(let d): directory = d
    case .failure(let e): return .failure(e)
    }
    var sem = sem_t()
    guard sem_init(&sem, 1, value) == 0 else {
      return .failure(SwipcError(call: "sem_init", object: name.rawValue, errno: currentErrno))
    }
    let contents = withUnsafeBytes(of: &sem) { Array($0) }
    let entry = POSIXSemaphores.entry(name)
    for _ in 0..<8 {
      switch directory.publish(entry, contents: contents, mode: mode) {
      case .success: return .success(())
      case .failure(.system(_, .fileExists)) where !exclusive:
        switch directory.open(entry, flags: O_RDWR, size: contents.count) {
        case .success(let file):
          // A hard link another user made to someone else's file is not a semaphore to adopt.
          guard file.status.st_nlink == 1 else {
            return .failure(POSIXDirectory.Failure.linked(UInt64(file.status.st_nlink)).error(kind: .psem, name: name, action: "use"))
          }
          return .success(())
        case .failure(.system(_, .noSuchFileOrDirectory)): continue  // removed in between: make it
        case .failure(let f): return .failure(f.error(kind: .psem, name: name, action: "use"))
        }
      case .failure(.system(let call, let e)) where call == "open" || call == "linkat":
        return .failure(SwipcError(call: "sem_open", object: name.rawValue, errno: e))
      case .failure(let f): return .failure(f.error(kind: .psem, name: name, action: "create"))
      }
    }
    return .failure(SwipcError(call: "sem_open", object: name.rawValue, errno: .fileExists))
  }

  /// The shm directory that creation goes through; when it cannot be opened, an error that
  /// names it, as `SWIPC_SHM_DIR` may have moved it.
  static func shmDirectory(_ kind: IPCKind, for name: POSIXName, view: IPCView) -> Result<POSIXDirectory, SwipcError> {
    view.shm.open().mapError { error in
      guard case .system(let call, let e) = error else { return error.error(kind: kind, name: name, action: "create") }
      return SwipcError(category: e == .noSuchFileOrDirectory ? .failed : nil, call: call, object: view.shm.label, errno: e,
        reason: "cannot open the directory of POSIX shared memory and semaphores (SWIPC_SHM_DIR, default /dev/shm): \(name.rawValue) was not created")
    }
  }

  /// mq_unlink of a queue: queues are removed by name in this IPC namespace's mqueue
  /// filesystem, exactly as listed (the bytes of the name).
  public static func unlinkQueue(_ name: POSIXName) -> Result<Void, Errno> {
    valueOrErrno { name.withCString { mq_unlink($0) } }.map { _ in () }
  }
}

/// Values from /proc/sys, for error messages that name the limit that was hit.
public enum KernelLimits {
  public static func value(_ relative: String, index: Int = 0, sysctl: String = "/proc/sys") -> UInt64? {
    guard let text = FileReader.readText(sysctl + "/" + relative),
      let values = LimitsReader.parseValues(text), index < values.count
    else { return nil }
    return values[index]
  }

  /// Whether a value is a kernel int that root may set below zero in an IPC namespace of its own
  /// (SEMMSL, SEMMNS and SEMOPM: the kernel then allows nothing); `value` gives its bits.
  public static func isSigned(_ relative: String, index: Int = 0) -> Bool {
    relative == "kernel/sem" && index < 3
  }

  /// `MSGMNI (32000, /proc/sys/kernel/msgmni)`, as the view's namespace has it.
  static func describe(_ name: String, _ relative: String, index: Int = 0, view: IPCView) -> String {
    let field = index > 0 ? " field \(index + 1)" : ""
    if let v = view.kernelValue(relative, index: index) {
      let shown = isSigned(relative, index: index) ? String(Int64(bitPattern: v)) : String(v)
      return "\(name) (\(shown), /proc/sys/\(relative)\(field))"
    }
    return "\(name) (/proc/sys/\(relative)\(field))"
  }
}
