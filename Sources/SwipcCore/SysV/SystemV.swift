import CSwipc
import Glibc
import SystemPackage

/// The state of one semaphore in a System V set.
public struct SemaphoreState: Sendable, Equatable {
  public var index: Int
  public var value: Int32
  /// The pid of the last process that operated on it (0: none yet).
  public var lastPid: Int32
  /// Processes waiting for the value to increase (GETNCNT) and to become zero (GETZCNT).
  public var waitingForIncrease: Int32
  public var waitingForZero: Int32
}

/// The System V syscall layer: thin, typed wrappers over msgctl, shmctl and semctl.
public enum SystemV {
  /// msgctl(IPC_STAT): needs read permission on the queue.
  ///
  /// The corresponding C function is `msgctl`.
  public static func messageQueueStatus(id: Int32) -> Result<msqid_ds, Errno> {
    var ds = msqid_ds()
    return valueOrErrno { msgctl(id, IPC_STAT, &ds) }.map { _ in ds }
  }

  /// shmctl(IPC_STAT): needs read permission on the segment.
  ///
  /// The corresponding C function is `shmctl`.
  public static func sharedMemoryStatus(id: Int32) -> Result<shmid_ds, Errno> {
    var ds = shmid_ds()
    return valueOrErrno { shmctl(id, IPC_STAT, &ds) }.map { _ in ds }
  }

  /// Value, last pid and waiter counts of every semaphore in a set (GETVAL, GETPID, GETNCNT,
  /// GETZCNT); needs read permission.
  public static func semaphores(id: Int32, count: Int) -> Result<[SemaphoreState], Errno> {
    var states = [SemaphoreState]()
    // `count` may come from /proc text: reserve no more than a set can hold (semop numbers its
    // semaphores with an unsigned short); the kernel's answer ends the loop for a set that is smaller.
    states.reserveCapacity(min(max(count, 0), Int(UInt16.max) + 1))
    for index in 0..<max(count, 0) {
      guard let n = Int32(exactly: index) else { return .failure(.outOfRange) }
      func get(_ cmd: Int32) -> Result<Int32, Errno> {
        valueOrErrno { swipc_semctl_cmd(id, n, cmd) }
      }
      switch (get(swipc_getval()), get(swipc_getpid()), get(swipc_getncnt()), get(swipc_getzcnt())) {
      case (.success(let v), .success(let p), .success(let nc), .success(let zc)):
        states.append(SemaphoreState(index: index, value: v, lastPid: p, waitingForIncrease: nc, waitingForZero: zc))
      case (.failure(let e), _, _, _), (_, .failure(let e), _, _), (_, _, .failure(let e), _),
        (_, _, _, .failure(let e)):
        return .failure(e)
      }
    }
    return .success(states)
  }
}

extension SystemV {
  /// msgget, shmget or semget with IPC_CREAT, optionally IPC_EXCL.
  ///
  /// - Returns: The id, and whether this call created the object.
  /// The corresponding C functions are `msgget`, `shmget` and `semget`.
  static func get(
    kind: IPCKind, key: IPCKey, mode: UInt32, create: Bool, exclusive: Bool, size: Int = 0,
    count: Int32 = 0
  ) -> Result<(id: Int32, created: Bool), Errno> {
    func call(_ flags: Int32) -> Result<Int32, Errno> {
      valueOrErrno {
        switch kind {
        case .msg: return msgget(key.rawValue, flags)
        case .shm: return shmget(key.rawValue, size, flags)
        default: return semget(key.rawValue, count, flags)
        }
      }
    }
    let base = Int32(bitPattern: mode & 0o777)
    if !create { return call(0).map { ($0, false) } }
    if key.isPrivate { return call(base | IPC_CREAT).map { ($0, true) } }
    switch call(base | IPC_CREAT | IPC_EXCL) {
    case .success(let id): return .success((id, true))
    case .failure(.fileExists) where !exclusive: return call(base).map { ($0, false) }
    case .failure(let e): return .failure(e)
    }
  }

  /// IPC_RMID on a queue, segment or set.
  ///
  /// The corresponding C functions are `msgctl`, `shmctl` and `semctl`.
  public static func remove(kind: IPCKind, id: Int32) -> Result<Void, Errno> {
    valueOrErrno {
      switch kind {
      case .msg: return msgctl(id, IPC_RMID, nil)
      case .shm: return shmctl(id, IPC_RMID, nil)
      default: return swipc_semctl_rmid(id)
      }
    }.map { _ in () }
  }

  /// *_STAT_ANY takes an index, not an id, and returns the id found there: the index is the id's
  /// low bits (15 of them, or 24 with ipcmni_extend); the id must come back unchanged.
  static func statAny(id: Int32, _ call: (Int32) -> Int32) -> Result<Int32, Errno> {
    for mask: Int32 in [0x7fff, 0xff_ffff] {
      let got = call(id & mask)
      if got == id { return .success(id) }
      if got == -1 && errno != EINVAL { return .failure(currentErrno) }
    }
    return .failure(.invalidArgument)
  }

  /// IPC_SET of owner and permissions, keeping what is not given. For a queue, `queueBytes` sets
  /// msg_qbytes.
  ///
  /// The corresponding C functions are `msgctl`, `shmctl` and `semctl` with IPC_SET.
  public static func setPermissions(
    kind: IPCKind, id: Int32, mode: UInt32? = nil, uid: UInt32? = nil, gid: UInt32? = nil,
    queueBytes: UInt64? = nil
  ) -> Result<Void, Errno> {
    func apply(_ perm: inout ipc_perm) {
      if let mode { perm.mode = (mode & 0o777) | (perm.mode & ~0o777) }
      if let uid { perm.uid = uid }
      if let gid { perm.gid = gid }
    }
    switch kind {
    case .msg:
      var ds = msqid_ds()
      // IPC_STAT needs read permission, which the owner may have removed; the *_STAT_ANY
      // fallback gives the same fields.
      if case .failure(let e) = valueOrErrno({ msgctl(id, IPC_STAT, &ds) }) {
        guard e == .permissionDenied, case .success = statAny(id: id, { msgctl($0, swipc_msg_stat_any(), &ds) })
        else { return .failure(e) }
      }
      apply(&ds.msg_perm)
      if let queueBytes { ds.msg_qbytes = msglen_t(queueBytes) }
      return valueOrErrno { msgctl(id, IPC_SET, &ds) }.map { _ in () }
    case .shm:
      var ds = shmid_ds()
      if case .failure(let e) = valueOrErrno({ shmctl(id, IPC_STAT, &ds) }) {
        guard e == .permissionDenied, case .success = statAny(id: id, { shmctl($0, swipc_shm_stat_any(), &ds) })
        else { return .failure(e) }
      }
      apply(&ds.shm_perm)
      return valueOrErrno { shmctl(id, IPC_SET, &ds) }.map { _ in () }
    default:
      var ds = semid_ds()
      if case .failure(let e) = valueOrErrno({ swipc_semctl_stat(id, &ds) }) {
        guard e == .permissionDenied, case .success = statAny(id: id, { swipc_semctl_stat_any($0, &ds) })
        else { return .failure(e) }
      }
      apply(&ds.sem_perm)
      return valueOrErrno { swipc_semctl_set(id, &ds) }.map { _ in () }
    }
  }

  /// SETALL on a new set.
  public static func setValues(id: Int32, _ values: [UInt16]) -> Result<Void, Errno> {
    var copy = values
    return valueOrErrno { swipc_semctl_setall(id, &copy) }.map { _ in () }
  }
}
