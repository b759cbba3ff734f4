import CSwipc
import Glibc
import SystemPackage

/// Resolves a target to the object's id (System V) and removes or changes it.
public enum ObjectOperations {
  /// The System V id a target names: itself, or the id behind a key (msgget/shmget/semget with
  /// no flags, which needs no permission).
  public static func systemVID(kind: IPCKind, target: ObjectTarget, view: IPCView) throws(SwipcError) -> Int32 {
    guard let backend = kind.systemVBackend else { throw .usage("\(kind.rawValue) objects are named by /name, not by id or key") }
    switch target {
    case .id(let id): return id
    case .key(let key):
      if key.isPrivate {
        throw .usage("key 0x00000000 is IPC_PRIVATE and names no single object: give the id instead")
      }
      switch view.executor.perform({ backend.get(key: key, mode: 0, create: false, exclusive: false) }) {
      case .success(let r): return r.id
      case .failure(let e):
        throw SwipcError(category: e == .noSuchFileOrDirectory ? .notFound : nil,
          call: "", object: "key \(key)",
          reason: e == .noSuchFileOrDirectory ? "no \(kind.title.dropLast()) has this key" : SwipcError.strerror(e))
      }
    case .name: throw .usage("\(kind.rawValue) objects are named by id or key, not by /name")
    }
  }

  static func systemVError(_ e: Errno, call: String, kind: IPCKind, id: Int32, action: String) -> SwipcError {
    let object = "\(kind.noun) \(id)"
    switch e {
    case .invalidArgument, .identifierRemoved:
      return SwipcError(category: .notFound, call: call, object: object,
        reason: "no such \(kind.title.dropLast()) (see 'swipc ls \(kind.rawValue)')")
    case .notPermitted, .permissionDenied:
      return SwipcError(category: .permissionDenied, call: call, object: object,
        reason: "permission denied: only its owner, its creator or root may \(action) it")
    default: return SwipcError(call: call, object: object, errno: e)
    }
  }

  static func posixError(_ e: Errno, call: String, kind: IPCKind, name: POSIXName, action: String) -> SwipcError {
    switch e {
    case .noSuchFileOrDirectory:
      return SwipcError(category: .notFound, call: call, object: name.rawValue,
        reason: "no such \(kind.title.dropLast()) (see 'swipc ls \(kind.rawValue)')")
    case .notPermitted, .permissionDenied:
      return SwipcError(category: .permissionDenied, call: call, object: name.rawValue,
        reason: "permission denied: only its owner or root may \(action) it")
    default: return SwipcError(call: call, object: name.rawValue, errno: e)
    }
  }

  /// Removes one object: IPC_RMID; unlinkat through the directory's descriptor for POSIX objects
  /// (the view's directory, checked to be the file `expected` names when given), or mq_unlink
  /// for a queue where no mqueue filesystem is mounted.
  ///
  /// - Returns: A label for the report, e.g. `shm 32768` or `pshm /cache`.
  public static func remove(
    kind: IPCKind, target: ObjectTarget, view: IPCView,
    expected: POSIXDirectory.FileIdentity? = nil
  ) throws(SwipcError) -> String {
    let kind = target.resolvedKind(kind)
    if case .name(let name) = target {
      // A queue goes through the mqueue directory that `ls` lists (SWIPC_MQUEUE_DIR may be another
      // namespace's); mq_unlink, which knows only the namespace's own, where none is mounted.
      if kind == .pmsg && !view.mqueue.exists {
        if case .failure(let e) = view.executor.perform({ POSIXObjects.unlinkQueue(name) }) {
          throw posixError(e, call: "mq_unlink", kind: kind, name: name, action: "remove")
        }
      } else {
        guard let backend = kind.posixBackend else { throw .usage("\(kind.rawValue) objects are named by id or key, not by /name") }
        let result = backend.directory(in: view).open()
          .flatMap { $0.unlink(backend.entry(name), expected: expected) }
        if case .failure(let f) = result { throw f.error(kind: kind, name: name, action: "remove") }
      }
      return "\(kind.rawValue) \(name.rawValue)"
    }
    let id = try systemVID(kind: kind, target: target, view: view)
    guard let backend = kind.systemVBackend else { throw .usage("\(kind.rawValue) objects are named by /name") }
    if case .failure(let e) = view.executor.perform({ backend.remove(id: id) }) {
      throw systemVError(e, call: backend.removeCall, kind: kind, id: id, action: "remove")
    }
    return "\(kind.rawValue) \(id)"
  }

  /// Changes permissions and/or owner: IPC_SET for System V; for POSIX objects the file behind
  /// the name, opened through its directory's descriptor and changed through its own.
  public static func setPermissions(
    kind: IPCKind, target: ObjectTarget, mode: FileMode?, uid: UInt32?, gid: UInt32?, view: IPCView
  ) throws(SwipcError) {
    let kind = target.resolvedKind(kind)
    let action = mode != nil ? "change the permissions of" : "change the owner of"
    if case .name(let name) = target {
      if kind == .pmsg && !view.mqueue.exists {
        if case .failure(let e) = view.executor.perform({ POSIXObjects.setQueuePermissions(name, mode: mode?.rawValue, uid: uid, gid: gid) }) {
          throw posixError(e, call: mode != nil ? "fchmod" : "fchown", kind: kind, name: name, action: action)
        }
        return
      }
      guard let backend = kind.posixBackend else { throw .usage("\(kind.rawValue) objects are named by id or key, not by /name") }
      let result = backend.directory(in: view).open()
        .flatMap { $0.setPermissions(backend.entry(name), mode: mode?.rawValue, uid: uid, gid: gid) }
      if case .failure(let f) = result { throw f.error(kind: kind, name: name, action: action) }
      return
    }
    let id = try systemVID(kind: kind, target: target, view: view)
    guard let backend = kind.systemVBackend else { throw .usage("\(kind.rawValue) objects are named by /name") }
    if case .failure(let e) = view.executor.perform({ backend.setPermissions(id: id, mode: mode?.rawValue, uid: uid, gid: gid) }) {
      throw systemVError(e, call: backend.setCall, kind: kind, id: id, action: action)
    }
  }
}

extension POSIXObjects {
  /// fchmod/fchown through a queue descriptor, for when no mqueue filesystem is mounted (needs
  /// read permission to open it).
  static func setQueuePermissions(_ name: POSIXName, mode: UInt32?, uid: UInt32?, gid: UInt32?)
    -> Result<Void, Errno>
  {
    let mqd = swipc_mq_open(name.rawValue, O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0, nil)
    guard mqd != -1 else { return .failure(currentErrno) }
    defer { mq_close(mqd) }
    if uid != nil || gid != nil, fchown(mqd, uid ?? UInt32.max, gid ?? UInt32.max) != 0 {
      return .failure(currentErrno)
    }
    if let mode, fchmod(mqd, mode_t(mode)) != 0 { return .failure(currentErrno) }
    return .success(())
  }
}
