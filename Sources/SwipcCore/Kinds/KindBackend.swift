import CSwipc
import Glibc
import SystemPackage

/// The calls that make one kind of object: one conforming type per kind, registered in
/// `IPCKind.backend`. Code that acts on objects asks the kind for its backend instead of
/// switching on kinds, so a new kind is a new conforming type and a new case there; the
/// compiler then lists every exhaustive switch that must say something about it.
public protocol KindBackend: Sendable {
  /// The call that removes one object, for messages: `msgctl(IPC_RMID)`, `unlinkat`.
  static var removeCall: String { get }
  /// The call that changes owner and mode, for messages: `msgctl(IPC_SET)`, `fchmod`.
  static var setCall: String { get }
}

/// A System V kind: objects named by id (or by key through the kind's *get call), read, changed
/// and removed with the *ctl calls of one family. Every call runs in the namespace of the
/// caller's view (callers wrap them in `view.executor.perform`).
public protocol SystemVBackend: KindBackend {
  /// The kind's status record (`msqid_ds`, `shmid_ds`, `semid_ds`).
  associatedtype Status
  /// The *get call, for messages.
  static var getCall: String { get }
  /// The POSIX kind a `/name` given to this kind's commands means.
  static var posixCounterpart: IPCKind { get }
  /// An all-zero status record.
  static func blankStatus() -> Status
  /// msgget/shmget/semget: an id, or -1 with errno.
  static func get(_ key: key_t, size: Int, count: Int32, flags: Int32) -> Int32
  /// IPC_STAT of an id into `ds`: 0, or -1 with errno.
  static func stat(_ id: Int32, _ ds: inout Status) -> Int32
  /// *_STAT_ANY of an index into `ds` (no permission needed): the id found there, or -1.
  static func statAny(_ index: Int32, _ ds: inout Status) -> Int32
  /// IPC_SET from `ds`: 0, or -1 with errno.
  static func set(_ id: Int32, _ ds: inout Status) -> Int32
  /// IPC_RMID: 0, or -1 with errno.
  static func removeID(_ id: Int32) -> Int32
  /// The highest index in use (*_INFO), -1 for none, below -1 when unknown.
  static func maxIndex() -> Int32
  /// Changes the owner and permissions inside a status record.
  static func withPermissions(_ ds: inout Status, _ body: (inout ipc_perm) -> Void)
  /// The listing record of the object `ds` describes.
  static func object(id: Int32, _ ds: Status) -> IPCObject
}

/// A POSIX kind: objects named `/name`, kept as files in one directory of the view, listed,
/// checked and removed through that directory's descriptor.
public protocol POSIXBackend: KindBackend {
  /// What glibc puts before the name in the directory (`sem.` for semaphores).
  static var entryPrefix: [UInt8] { get }
  /// The directory of the view that holds this kind's objects.
  static func directory(in view: IPCView) -> ObjectDirectory
  /// Creates the object `name` as `request` says (mode, exclusivity, size, value).
  static func create(_ name: POSIXName, mode: UInt32, exclusive: Bool, request: CreatePlan, view: IPCView)
    throws(SwipcError)
}

extension IPCKind {
  /// A kind's backend, by family.
  public enum Backend: Sendable {
    case systemV(any SystemVBackend.Type)
    case posix(any POSIXBackend.Type)
  }

  /// The registry of backends: the one place that says which type carries out each kind.
  public var backend: Backend {
    switch self {
    case .msg: return .systemV(SystemVMessageQueues.self)
    case .shm: return .systemV(SystemVSharedMemory.self)
    case .sem: return .systemV(SystemVSemaphores.self)
    case .pmsg: return .posix(POSIXMessageQueues.self)
    case .pshm: return .posix(POSIXSharedMemory.self)
    case .psem: return .posix(POSIXSemaphores.self)
    }
  }

  /// The backend, whatever its family.
  public var anyBackend: any KindBackend.Type {
    switch backend {
    case .systemV(let b): return b
    case .posix(let b): return b
    }
  }

  /// The System V backend; nil for a POSIX kind.
  public var systemVBackend: (any SystemVBackend.Type)? {
    if case .systemV(let b) = backend { return b }
    return nil
  }

  /// The POSIX backend; nil for a System V kind.
  public var posixBackend: (any POSIXBackend.Type)? {
    if case .posix(let b) = backend { return b }
    return nil
  }

  /// The call that removes an object of this kind, for messages.
  var removeCall: String { anyBackend.removeCall }
}

extension SystemVBackend {
  /// *get with IPC_CREAT, optionally IPC_EXCL, or a plain look-up of a key (`create` false).
  ///
  /// - Returns: The id, and whether this call created the object.
  static func get(
    key: IPCKey, mode: UInt32, create: Bool, exclusive: Bool, size: Int = 0, count: Int32 = 0
  ) -> Result<(id: Int32, created: Bool), Errno> {
    func call(_ flags: Int32) -> Result<Int32, Errno> {
      valueOrErrno { get(key.rawValue, size: size, count: count, flags: flags) }
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

  /// IPC_RMID.
  static func remove(id: Int32) -> Result<Void, Errno> {
    valueOrErrno { removeID(id) }.map { _ in () }
  }

  /// IPC_STAT, or *_STAT_ANY where IPC_STAT needs a read permission the caller lacks (the
  /// owner may have removed it): the same fields either way.
  static func status(id: Int32) -> Result<Status, Errno> {
    var ds = blankStatus()
    let result = valueOrErrno { stat(id, &ds) }
    if case .failure(let e) = result {
      guard e == .permissionDenied, case .success = SystemV.statAny(id: id, { statAny($0, &ds) }) else {
        return .failure(e)
      }
    }
    return .success(ds)
  }

  /// One object by id (see `status(id:)`).
  static func object(id: Int32) -> Result<IPCObject, Errno> {
    status(id: id).map { object(id: id, $0) }
  }

  /// IPC_SET of owner and permissions, keeping what is not given.
  static func setPermissions(id: Int32, mode: UInt32?, uid: UInt32?, gid: UInt32?) -> Result<Void, Errno> {
    update(id: id) { ds in
      withPermissions(&ds) { perm in
        if let mode { perm.mode = (mode & 0o777) | (perm.mode & ~0o777) }
        if let uid { perm.uid = uid }
        if let gid { perm.gid = gid }
      }
    }
  }

  /// IPC_SET of the status record as read now, after `change`.
  static func update(id: Int32, _ change: (inout Status) -> Void) -> Result<Void, Errno> {
    var ds: Status
    switch status(id: id) {
    case .success(let s): ds = s
    case .failure(let e): return .failure(e)
    }
    change(&ds)
    return valueOrErrno { set(id, &ds) }.map { _ in () }
  }

  /// Reads every object in the order of its index with *_STAT_ANY, handing each to `body` as
  /// soon as it is read. False when the command is not available (see `SysVEnumerator.scan`).
  static func forEach(_ body: (IPCObject) -> Void) -> Bool {
    SysVEnumerator.scan(maxIndex: maxIndex(), body) { index in
      var ds = blankStatus()
      let id = statAny(index, &ds)
      return id < 0 ? nil : object(id: id, ds)
    }
  }
}

extension POSIXBackend {
  /// The directory entry behind a name.
  public static func entry(_ name: POSIXName) -> [UInt8] {
    entryPrefix.isEmpty ? Array(name.bareBytes) : entryPrefix + name.bareBytes
  }
}

/// System V message queues.
public enum SystemVMessageQueues: SystemVBackend {
  public static let getCall = "msgget"
  public static let removeCall = "msgctl(IPC_RMID)"
  public static let setCall = "msgctl(IPC_SET)"
  public static let posixCounterpart = IPCKind.pmsg
  public static func blankStatus() -> msqid_ds { msqid_ds() }
  public static func get(_ key: key_t, size: Int, count: Int32, flags: Int32) -> Int32 { msgget(key, flags) }
  public static func stat(_ id: Int32, _ ds: inout msqid_ds) -> Int32 { msgctl(id, IPC_STAT, &ds) }
  public static func statAny(_ index: Int32, _ ds: inout msqid_ds) -> Int32 { msgctl(index, swipc_msg_stat_any(), &ds) }
  public static func set(_ id: Int32, _ ds: inout msqid_ds) -> Int32 { msgctl(id, IPC_SET, &ds) }
  public static func removeID(_ id: Int32) -> Int32 { msgctl(id, IPC_RMID, nil) }
  public static func maxIndex() -> Int32 { swipc_msg_max_index() }
  public static func withPermissions(_ ds: inout msqid_ds, _ body: (inout ipc_perm) -> Void) { body(&ds.msg_perm) }
  public static func object(id: Int32, _ ds: msqid_ds) -> IPCObject { SysVEnumerator.queue(id: id, ds) }

  /// IPC_SET of msg_qbytes: the most bytes the queue holds.
  static func setQueueBytes(id: Int32, _ bytes: UInt64) -> Result<Void, Errno> {
    update(id: id) { $0.msg_qbytes = msglen_t(bytes) }
  }
}

/// System V shared memory segments.
public enum SystemVSharedMemory: SystemVBackend {
  public static let getCall = "shmget"
  public static let removeCall = "shmctl(IPC_RMID)"
  public static let setCall = "shmctl(IPC_SET)"
  public static let posixCounterpart = IPCKind.pshm
  public static func blankStatus() -> shmid_ds { shmid_ds() }
  public static func get(_ key: key_t, size: Int, count: Int32, flags: Int32) -> Int32 { shmget(key, size, flags) }
  public static func stat(_ id: Int32, _ ds: inout shmid_ds) -> Int32 { shmctl(id, IPC_STAT, &ds) }
  public static func statAny(_ index: Int32, _ ds: inout shmid_ds) -> Int32 { shmctl(index, swipc_shm_stat_any(), &ds) }
  public static func set(_ id: Int32, _ ds: inout shmid_ds) -> Int32 { shmctl(id, IPC_SET, &ds) }
  public static func removeID(_ id: Int32) -> Int32 { shmctl(id, IPC_RMID, nil) }
  public static func maxIndex() -> Int32 { swipc_shm_max_index() }
  public static func withPermissions(_ ds: inout shmid_ds, _ body: (inout ipc_perm) -> Void) { body(&ds.shm_perm) }
  public static func object(id: Int32, _ ds: shmid_ds) -> IPCObject { SysVEnumerator.segment(id: id, ds) }
}

/// System V semaphore sets.
public enum SystemVSemaphores: SystemVBackend {
  public static let getCall = "semget"
  public static let removeCall = "semctl(IPC_RMID)"
  public static let setCall = "semctl(IPC_SET)"
  public static let posixCounterpart = IPCKind.psem
  public static func blankStatus() -> semid_ds { semid_ds() }
  public static func get(_ key: key_t, size: Int, count: Int32, flags: Int32) -> Int32 { semget(key, count, flags) }
  public static func stat(_ id: Int32, _ ds: inout semid_ds) -> Int32 { swipc_semctl_stat(id, &ds) }
  public static func statAny(_ index: Int32, _ ds: inout semid_ds) -> Int32 { swipc_semctl_stat_any(index, &ds) }
  public static func set(_ id: Int32, _ ds: inout semid_ds) -> Int32 { swipc_semctl_set(id, &ds) }
  public static func removeID(_ id: Int32) -> Int32 { swipc_semctl_rmid(id) }
  public static func maxIndex() -> Int32 { swipc_sem_max_index() }
  public static func withPermissions(_ ds: inout semid_ds, _ body: (inout ipc_perm) -> Void) { body(&ds.sem_perm) }
  public static func object(id: Int32, _ ds: semid_ds) -> IPCObject { SysVEnumerator.semaphoreSet(id: id, ds) }
}
