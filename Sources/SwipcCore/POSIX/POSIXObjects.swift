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
    _ name: POSIXName, mode: UInt32, exclusive: Bool, maxMessages: Int?, messageSize: Int?
  ) -> Result<Void, Errno> {
    var attributes = mq_attr()
    let custom = maxMessages != nil || messageSize != nil
    if custom {
      attributes.mq_maxmsg = maxMessages ?? Int(KernelLimits.value("fs/mqueue/msg_default") ?? 10)
      attributes.mq_msgsize = messageSize ?? Int(KernelLimits.value("fs/mqueue/msgsize_default") ?? 8192)
    }
    let flags = O_CREAT | O_RDONLY | O_CLOEXEC | (exclusive ? O_EXCL : 0)
    let mqd = withoutUmask {
      withUnsafePointer(to: &attributes) { swipc_mq_open(name.rawValue, flags, mode_t(mode), custom ? $0 : nil) }
    }
    guard mqd != -1 else { return .failure(currentErrno) }
    mq_close(mqd)
    return .success(())
  }

  /// shm_open with O_CREAT, then ftruncate to `size`; a new object that cannot be sized is
  /// removed again, so nothing is left half-made.
  ///
  /// The corresponding C functions are `shm_open` and `ftruncate`.
  public static func createSharedMemory(
    _ name: POSIXName, mode: UInt32, exclusive: Bool, size: UInt64
  ) -> Result<Bool, SwipcError> {
    let flags = O_CREAT | O_RDWR | O_CLOEXEC | O_NOFOLLOW | (exclusive ? O_EXCL : 0)
    var fd = withoutUmask { shm_open(name.rawValue, flags, mode_t(mode)) }
    var created = true
    if fd == -1 && errno == EEXIST && !exclusive {
      fd = shm_open(name.rawValue, O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0)
      created = false
    }
    guard fd != -1 else { return .failure(SwipcError(call: "shm_open", object: name.rawValue, errno: currentErrno)) }
    defer { closeIgnoringErrors(fd) }
    if created, case .failure(let e) = valueOrErrno({ ftruncate(fd, off_t(size)) }) {
      shm_unlink(name.rawValue)
      return .failure(SwipcError(call: "ftruncate", object: name.rawValue, errno: e,
        reason: e == .fileTooLarge || e == .invalidArgument
          ? "size \(size) is too large for /dev/shm (see 'df /dev/shm')" : nil))
    }
    return .success(created)
  }

  /// sem_open with O_CREAT and an initial value.
  ///
  /// The corresponding C function is `sem_open`.
  public static func createSemaphore(_ name: POSIXName, mode: UInt32, exclusive: Bool, value: UInt32)
    -> Result<Void, Errno>
  {
    let flags = O_CREAT | (exclusive ? O_EXCL : 0)
    let sem = withoutUmask { swipc_sem_open(name.rawValue, flags, mode_t(mode), value) }
    guard let sem else { return .failure(currentErrno) }
    sem_close(sem)
    return .success(())
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

  /// `MSGMNI (32000, /proc/sys/kernel/msgmni)`.
  static func describe(_ name: String, _ relative: String, index: Int = 0) -> String {
    let field = index > 0 ? " field \(index + 1)" : ""
    if let v = value(relative, index: index) { return "\(name) (\(v), /proc/sys/\(relative)\(field))" }
    return "\(name) (/proc/sys/\(relative)\(field))"
  }
}
