import CSwipc
import Glibc
import SystemPackage

/// An open semaphore: a System V set (every semaphore in it, by index) or a POSIX named
/// semaphore (one value, index 0). Reads, sets, waits on and posts them.
public final class SemaphoreHandle {
  /// SEMVMX: the largest value a System V semaphore holds (a kernel constant, not a sysctl).
  public static let systemVMaximum = 32767
  /// SEM_VALUE_MAX of glibc: the largest value of a POSIX semaphore.
  public static let posixMaximum = Int(Int32.max)

  enum Backend {
    case systemV(id: Int32)
    case posix(UnsafeMutablePointer<sem_t>)
  }

  let backend: Backend
  let view: IPCView
  /// How messages name it: `semaphore set 5` or `semaphore /jobs`.
  public let label: String

  /// Opens the semaphore a target names (System V: id, key; POSIX: /name).
  ///
  /// A POSIX semaphore is what glibc's sem_open maps: the file `sem.NAME` in the shm directory
  /// of the view. It is opened through the directory's descriptor, never through a symlink,
  /// checked by fstat to be a regular file of exactly sizeof(sem_t) bytes (a shorter one would
  /// raise SIGBUS when touched), and mapped shared.
  ///
  /// The corresponding C functions are `semget`, `openat`, `fstat` and `mmap`.
  public init(target: ObjectTarget, view: IPCView) throws(SwipcError) {
    self.view = view
    if case .name(let name) = target {
      let size = MemoryLayout<sem_t>.size
      let opened = POSIXSemaphores.directory(in: view).open()
        .flatMap { $0.open(POSIXSemaphores.entry(name), flags: O_RDWR, size: size) }
      let file: POSIXDirectory.OpenFile
      switch consume opened {
      case .failure(let f): throw f.error(kind: .psem, name: name, action: "use")
      case .success(let f): file = f
      }
      let address = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, file.descriptor, 0)
      guard let address, address != MAP_FAILED else {
        throw SwipcError(call: "mmap", object: "semaphore \(name.rawValue)", errno: currentErrno)
      }
      backend = .posix(address.bindMemory(to: sem_t.self, capacity: 1))
      label = "semaphore \(name.rawValue)"
    } else {
      let id = try ObjectOperations.systemVID(kind: .sem, target: target, view: view)
      backend = .systemV(id: id)
      label = "semaphore set \(id)"
    }
  }

  deinit {
    if case .posix(let sem) = backend { munmap(sem, MemoryLayout<sem_t>.size) }
  }

  public var isPOSIX: Bool {
    if case .posix = backend { return true }
    return false
  }

  public var maximum: Int { isPOSIX ? SemaphoreHandle.posixMaximum : SemaphoreHandle.systemVMaximum }

  /// The number of semaphores: the set's sem_nsems (read through SEM_STAT_ANY when only alter
  /// permission is granted), or 1.
  public func count() throws(SwipcError) -> Int {
    guard case .systemV(let id) = backend else { return 1 }
    var ds = semid_ds()
    let result = view.executor.perform {
      let result = valueOrErrno { swipc_semctl_stat(id, &ds) }
      guard case .failure(.permissionDenied) = result else { return result }
      return SystemV.statAny(id: id) { swipc_semctl_stat_any($0, &ds) }
    }
    if case .failure(let e) = result { throw error(e, call: "semctl(IPC_STAT)", action: "read") }
    return Int(ds.sem_nsems)
  }

  /// Every semaphore's state: value, last pid and waiters (POSIX: the value alone).
  ///
  /// The corresponding C functions are `semctl` (GETVAL, GETPID, GETNCNT, GETZCNT) and
  /// `sem_getvalue`.
  public func states() throws(SwipcError) -> [SemaphoreState] {
    switch backend {
    case .posix(let sem):
      var value: Int32 = 0
      if case .failure(let e) = valueOrErrno({ sem_getvalue(sem, &value) }) {
        throw SwipcError(call: "sem_getvalue", object: label, errno: e)
      }
      return [SemaphoreState(index: 0, value: value, lastPid: 0, waitingForIncrease: 0, waitingForZero: 0)]
    case .systemV(let id):
      let n = try count()
      switch view.executor.perform({ SystemV.semaphores(id: id, count: n) }) {
      case .success(let states): return states
      case .failure(let e): throw error(e, call: "semctl(GETVAL)", action: "read")
      }
    }
  }

  /// Sets one semaphore (SETVAL), or a POSIX semaphore in one atomic step that wakes its waiters.
  ///
  /// The corresponding C function is `semctl` (SETVAL).
  public func setValue(_ value: Int, index: Int) throws(SwipcError) {
    try checkValue(value)
    switch backend {
    case .systemV(let id):
      try checkIndex(index)
      if case .failure(let e) = view.executor.perform({ valueOrErrno { swipc_semctl_setval(id, Int32(index), Int32(value)) } }) {
        throw error(e, call: "semctl(SETVAL)", action: "set")
      }
    case .posix(let sem):
      try checkIndex(index)
      try requireKnownLayout(toChange: "set")
      if case .failure(let e) = valueOrErrno({ swipc_psem_set(sem, UInt32(value)) }) {
        throw SwipcError(call: "sem_post", object: label, errno: e)
      }
    }
  }

  /// Sets every semaphore of a System V set at once (SETALL); `values` has one per semaphore.
  public func setValues(_ values: [Int]) throws(SwipcError) {
    guard case .systemV(let id) = backend else {
      if values.count == 1 { return try setValue(values[0], index: 0) }
      throw .usage("\(label) is a single POSIX semaphore: give one value, not --values")
    }
    let n = try count()
    guard values.count == n else {
      throw .usage("--values gives \(values.count) value\(values.count == 1 ? "" : "s") but \(label) has \(n) semaphore\(n == 1 ? "" : "s")")
    }
    for value in values { try checkValue(value) }
    if case .failure(let e) = view.executor.perform({ SystemV.setValues(id: id, values.map { UInt16($0) }) }) {
      throw error(e, call: "semctl(SETALL)", action: "set")
    }
  }

  /// The operations of `wait`/`post`: take `by` (P), give `by` (V), or wait for zero.
  public enum Operation: Sendable, Equatable {
    case take(Int)
    case give(Int)
    case waitForZero
  }

  /// Performs one operation on semaphore `index`, all or nothing: System V in one atomic semop
  /// (with SEM_UNDO when `undo`); POSIX in one compare-and-swap of the value, a wait sleeping
  /// until the value is at least `by` (see `requireKnownLayout`).
  ///
  /// The corresponding C functions are `semtimedop` and, for POSIX, `futex`.
  public func perform(_ operation: Operation, index: Int, undo: Bool, wait: Bool, call: BlockingCall)
    throws(SwipcError)
  {
    if case .take(let n) = operation, n < 1 { throw .usage("invalid --by \(n): at least 1") }
    if case .give(let n) = operation, n < 1 { throw .usage("invalid --by \(n): at least 1") }
    switch backend {
    case .systemV(let id):
      if case .take(let n) = operation, n > SemaphoreHandle.systemVMaximum {
        throw .usage("--by \(n) exceeds SEMVMX \(SemaphoreHandle.systemVMaximum), the most a System V semaphore holds")
      }
      if case .give(let n) = operation, n > SemaphoreHandle.systemVMaximum {
        throw .usage("--by \(n) exceeds SEMVMX \(SemaphoreHandle.systemVMaximum), the most a System V semaphore holds")
      }
      if index < 0 || index > Int(UInt16.max) { try checkIndex(index) }
      let delta: Int
      switch operation {
      case .take(let n): delta = -n
      case .give(let n): delta = n
      case .waitForZero: delta = 0
      }
      var op = sembuf(sem_num: UInt16(clamping: index), sem_op: Int16(clamping: delta),
        sem_flg: Int16(undo ? SEM_UNDO : 0))
      // semop finds the id in the calling thread's namespace, and keeps SEM_UNDO there too.
      let outcome: BlockingCall.Outcome<Int32> = view.executor.perform {
        // A give never blocks: made even after an interrupt, as the release that follows COMMAND.
        if case .give = operation {
          op.sem_flg |= Int16(IPC_NOWAIT)
          return swipc_semtimedop(id, &op, 1, nil) == 0 ? .done(0) : .failed(currentErrno)
        }
        return call.run(wait: wait) { blocking in
          op.sem_flg = Int16(undo ? SEM_UNDO : 0) | Int16(blocking ? 0 : IPC_NOWAIT)
          if !blocking { return swipc_semtimedop(id, &op, 1, nil) }
          guard var timeout = call.remainingTimeout else { return swipc_semtimedop(id, &op, 1, nil) }
          return swipc_semtimedop(id, &op, 1, &timeout)
        }
      }
      try check(outcome, operation: operation, index: index, call: "semop on", wait: wait)
    case .posix(let sem):
      try checkIndex(index)
      switch operation {
      case .waitForZero:
        throw .usage("waiting for zero (--zero) applies to System V semaphores; \(label) is POSIX")
      case .give(let n):
        try checkPOSIXAmount(n)
        try requireKnownLayout(toChange: "post to")
        if swipc_psem_give(sem, UInt32(n)) != 0 {
          let e = currentErrno
          throw SwipcError(call: "sem_post", object: label, errno: e,
            reason: e == .overflow ? "posting \(n) would pass SEM_VALUE_MAX (\(SemaphoreHandle.posixMaximum)); the value is unchanged" : nil)
        }
      case .take(let n):
        try checkPOSIXAmount(n)
        try requireKnownLayout(toChange: "wait on")
        try check(take(n, from: sem, wait: wait, call: call), operation: operation, index: index, call: "sem_wait on", wait: wait)
      }
    }
  }

  /// Takes `n` units at once: at once when there are enough, else (when `wait`) counted as a
  /// waiter, as sem_wait is, until there are.
  func take(_ n: Int, from sem: UnsafeMutablePointer<sem_t>, wait: Bool, call: BlockingCall) -> BlockingCall.Outcome<Int32> {
    let units = UInt32(n)
    if swipc_psem_take(sem, units) == 0 { return .done(0) }
    if !wait { return .timedOut }
    swipc_psem_add_waiter(sem)
    defer { swipc_psem_remove_waiter(sem) }
    return call.run { blocking in
      if !blocking { return swipc_psem_take(sem, units) }
      guard var timeout = call.remainingTimeout else { return swipc_psem_wait_registered(sem, units, nil) }
      return swipc_psem_wait_registered(sem, units, &timeout)
    }
  }

  func checkPOSIXAmount(_ n: Int) throws(SwipcError) {
    guard n <= SemaphoreHandle.posixMaximum else {
      throw .usage("--by \(n) exceeds SEM_VALUE_MAX \(SemaphoreHandle.posixMaximum), the most a POSIX semaphore holds")
    }
  }

  /// Changing a POSIX semaphore by several units at once relies on glibc's 64-bit sem_t layout,
  /// checked once at run time; refused, with nothing changed, where it differs.
  func requireKnownLayout(toChange action: String) throws(SwipcError) {
    guard case .posix(let sem) = backend, swipc_psem_layout_known(sem) == 0 else { return }
    throw SwipcError(category: .unavailable, call: action, object: label,
      reason: "this C library's sem_t is not glibc's 64-bit layout, which swipc needs to change the value atomically (use a swipc built with glibc); nothing was changed")
  }

  func check(_ outcome: BlockingCall.Outcome<Int32>, operation: Operation, index: Int, call: String, wait: Bool)
    throws(SwipcError)
  {
    let which = isPOSIX ? label : "semaphore \(index) of \(label.dropFirst("semaphore ".count))"
    switch outcome {
    case .done: return
    case .timedOut:
      var what: String
      switch operation {
      case .take(let n): what = wait ? "timed out: the value stayed below \(n)" : "would block: the value is below \(n)"
      case .waitForZero: what = wait ? "timed out: the value did not reach 0" : "would block: the value is not 0"
      case .give: what = "would block"
      }
      if !wait { what += " (--nowait)" }
      throw SwipcError(category: .wouldBlock, call: call, object: which, reason: what)
    case .interrupted:
      throw SwipcError(category: .interrupted, call: call, object: which, reason: "interrupted; nothing was taken")
    case .failed(let e):
      switch e {
      case .identifierRemoved:
        throw SwipcError(category: .notFound, call: call, object: which, reason: "\(label) was removed while waiting")
      case .fileTooLarge:
        let n = (try? self.count()).map { "it has \($0) (indexes 0 to \($0 - 1))" } ?? "it has fewer"
        throw .usage("--index \(index) is out of range for \(label): \(n)")
      case .outOfRange:
        let current = (try? states()).flatMap { $0.indices.contains(index) ? Int($0[index].value) : nil }
        if case .give(let n) = operation, let current {
          throw SwipcError(category: .failed, call: call, object: which,
            reason: "value \(current + n) exceeds SEMVMX \(SemaphoreHandle.systemVMaximum) (the value is \(current)); nothing was changed")
        }
        throw SwipcError(category: .failed, call: call, object: which,
          reason: "the value or its SEM_UNDO adjustment would pass SEMVMX \(SemaphoreHandle.systemVMaximum); nothing was changed")
      default:
        throw error(e, call: call, action: "operate on")
      }
    }
  }

  func checkValue(_ value: Int) throws(SwipcError) {
    guard value >= 0 else { throw .usage("invalid value \(value): a semaphore's value is at least 0") }
    guard value <= maximum else {
      throw .usage(isPOSIX
        ? "value \(value) exceeds SEM_VALUE_MAX \(maximum)"
        : "value \(value) exceeds SEMVMX \(maximum), the largest value of a System V semaphore")
    }
  }

  func checkIndex(_ index: Int) throws(SwipcError) {
    guard !isPOSIX else {
      if index != 0 { throw .usage("--index applies to System V sets; \(label) is a single POSIX semaphore") }
      return
    }
    let n = try count()
    guard index >= 0, index < n else {
      throw .usage("--index \(index) is out of range for \(label): it has \(n) semaphore\(n == 1 ? "" : "s") (indexes 0 to \(n - 1))")
    }
  }

  func error(_ e: Errno, call: String, action: String) -> SwipcError {
    guard case .systemV(let id) = backend else { return SwipcError(call: call, object: label, errno: e) }
    if e == .permissionDenied || e == .notPermitted {
      let needs = action == "read" ? "read" : "write (alter)"
      return SwipcError(category: .permissionDenied, call: call, object: label,
        reason: "permission denied: \(action) needs \(needs) permission on the set (see 'swipc show sem \(id)')")
    }
    return ObjectOperations.systemVError(e, call: call, kind: .sem, id: id, action: action)
  }
}
