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

  /// SETALL on a new set.
  public static func setValues(id: Int32, _ values: [UInt16]) -> Result<Void, Errno> {
    var copy = values
    return valueOrErrno { swipc_semctl_setall(id, &copy) }.map { _ in () }
  }
}
