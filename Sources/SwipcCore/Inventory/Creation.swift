import Glibc
import SystemPackage

/// A create request as `CreateRequest.validate()` checked it.
public struct CreatePlan: Sendable {
  public var kind: IPCKind
  /// nil: IPC_PRIVATE (System V only).
  public var target: ObjectTarget?
  public var mode: FileMode = FileMode(0o600)
  /// Fail if the object exists; nil means the default (true for POSIX names, false for keys).
  public var exclusive: Bool?
  public var size: ByteCount?
  public var count: Int?
  public var values: [Int]?
  public var maxBytes: ByteCount?
  public var maxMessages: Int?
  public var messageSize: Int?

  init(kind: IPCKind, target: ObjectTarget?) {
    self.kind = kind
    self.target = target
  }

  /// The kind actually created: a `/name` given to msg/shm/sem means the POSIX kind.
  public var resolvedKind: IPCKind { target?.resolvedKind(kind) ?? kind }
}

/// What was created: an id for System V, the name for POSIX.
public enum CreatedObject: Sendable, Equatable, CustomStringConvertible {
  case id(Int32)
  case name(POSIXName)
  public var description: String {
    switch self {
    case .id(let id): return String(id)
    case .name(let name): return name.rawValue
    }
  }
}

/// Creates objects, and explains failures with the limit that was hit.
public enum Creator {
  public static func create(_ request: CreatePlan) throws(SwipcError) -> CreatedObject {
    let kind = request.resolvedKind
    let mode = request.mode.rawValue
    switch request.target {
    case .name(let name):
      let exclusive = request.exclusive ?? true
      try createPOSIX(kind: kind, name: name, mode: mode, exclusive: exclusive, request: request)
      return .name(name)
    case .key(let key):
      return .id(try createSystemV(kind: kind, key: key, mode: mode, exclusive: request.exclusive ?? false, request: request))
    case .id, nil:
      return .id(try createSystemV(kind: kind, key: .private, mode: mode, exclusive: true, request: request))
    }
  }

  static func createSystemV(
    kind: IPCKind, key: IPCKey, mode: UInt32, exclusive: Bool, request: CreatePlan
  ) throws(SwipcError) -> Int32 {
    let count = request.count ?? request.values?.count ?? 1
    let size = Int(clamping: request.size?.bytes ?? 0)
    let call = kind == .msg ? "msgget" : kind == .shm ? "shmget" : "semget"
    let object = key.isPrivate ? "IPC_PRIVATE" : "key \(key)"
    let result = SystemV.get(kind: kind, key: key, mode: mode, create: true, exclusive: exclusive,
      size: size, count: Int32(clamping: count))
    let id: Int32, created: Bool
    switch result {
    case .success(let r): (id, created) = r
    case .failure(let e):
      // EINVAL here means a limit, not a missing object.
      throw SwipcError(category: e == .invalidArgument ? .failed : nil, call: call, object: object, errno: e,
        reason: explainGet(kind, e, size: size, count: count))
    }
    guard created else { return id }
    // Steps after creation: if one fails, remove what was made, so nothing is left half-done.
    func undo(_ error: SwipcError) -> SwipcError {
      _ = SystemV.remove(kind: kind, id: id)
      return error
    }
    if let maxBytes = request.maxBytes,
      case .failure(let e) = SystemV.setPermissions(kind: .msg, id: id, queueBytes: maxBytes.bytes)
    {
      throw undo(SwipcError(call: "msgctl(IPC_SET)", object: "queue \(id)", errno: e,
        reason: e == .notPermitted
          ? "--max-bytes \(maxBytes.bytes) is above \(KernelLimits.describe("MSGMNB", "kernel/msgmnb")), which needs CAP_SYS_RESOURCE; the queue was not created"
          : nil))
    }
    if kind == .sem, let values = request.values {
      let all = values.count == 1 ? [UInt16](repeating: UInt16(values[0]), count: count) : values.map { UInt16($0) }
      if case .failure(let e) = SystemV.setValues(id: id, all) {
        throw undo(SwipcError(call: "semctl(SETALL)", object: "semaphore set \(id)", errno: e))
      }
    }
    return id
  }

  static func explainGet(_ kind: IPCKind, _ e: Errno, size: Int, count: Int) -> String? {
    switch (kind, e) {
    case (_, .fileExists): return "already exists (drop --exclusive to use the existing one)"
    case (.msg, .noSpace): return "too many queues: the limit is \(KernelLimits.describe("MSGMNI", "kernel/msgmni"))"
    case (.shm, .noSpace):
      // ENOSPC is either limit; the kernel's own counts say which was hit.
      let usage = SystemVUsage.fromKernel()
      if let used = usage.segments, let limit = KernelLimits.value("kernel/shmmni"), used >= limit {
        return "too many segments: \(used) exist and the limit is \(KernelLimits.describe("SHMMNI", "kernel/shmmni"))"
      }
      let page = pageSize
      let pages = (size + page - 1) / page
      let inUse = usage.pages.map { ", \($0) in use" } ?? ""
      return "\(pages) more pages would pass \(KernelLimits.describe("SHMALL", "kernel/shmall")) pages\(inUse)"
    case (.shm, .invalidArgument):
      return "size \(size) is outside SHMMIN (1) to \(KernelLimits.describe("SHMMAX", "kernel/shmmax")), or a segment with this key exists and is smaller"
    case (.sem, .noSpace):
      let usage = SystemVUsage.fromKernel()
      if let used = usage.sets, let limit = KernelLimits.value("kernel/sem", index: 3), used >= limit {
        return "too many semaphore sets: \(used) exist and the limit is \(KernelLimits.describe("SEMMNI", "kernel/sem", index: 3))"
      }
      let inUse = usage.semaphores.map { ", \($0) in use" } ?? ""
      return "\(count) more semaphores would pass \(KernelLimits.describe("SEMMNS", "kernel/sem", index: 1))\(inUse)"
    case (.sem, .invalidArgument):
      return "\(count) semaphores is above \(KernelLimits.describe("SEMMSL", "kernel/sem", index: 0)), or a set with this key exists and is smaller"
    case (_, .noMemory): return "out of memory for a segment of \(size) bytes"
    default: return nil
    }
  }

  static func createPOSIX(
    kind: IPCKind, name: POSIXName, mode: UInt32, exclusive: Bool, request: CreatePlan
  ) throws(SwipcError) {
    switch kind {
    case .pmsg:
      if case .failure(let e) = POSIXObjects.createQueue(name, mode: mode, exclusive: exclusive,
        maxMessages: request.maxMessages, messageSize: request.messageSize)
      {
        throw SwipcError(category: e == .invalidArgument ? .failed : nil, call: "mq_open", object: name.rawValue,
          errno: e, reason: explainQueue(e, request))
      }
    case .pshm:
      if case .failure(let error) = POSIXObjects.createSharedMemory(name, mode: mode, exclusive: exclusive,
        size: request.size?.bytes ?? 0, paths: .fromEnvironment(resolvingMqueue: false))
      {
        var error = error
        if error.errno == .fileExists { error.reason = "already exists (drop --exclusive to use it; anyone can create names in /dev/shm, so check its owner)" }
        throw error
      }
    default:
      let value = UInt32(request.values?.first ?? 0)
      if case .failure(let error) = POSIXObjects.createSemaphore(name, mode: mode, exclusive: exclusive, value: value,
        paths: .fromEnvironment(resolvingMqueue: false))
      {
        var error = error
        if error.errno == .fileExists { error.reason = "already exists (drop --exclusive to use it)" }
        throw error
      }
    }
  }

  static func explainQueue(_ e: Errno, _ r: CreatePlan) -> String? {
    switch e {
    case .fileExists: return "already exists (drop --exclusive to use it)"
    case .invalidArgument:
      var asked: [String] = []
      if let m = r.maxMessages { asked.append("--max-messages \(m) (limit \(KernelLimits.describe("msg_max", "fs/mqueue/msg_max")))") }
      if let s = r.messageSize { asked.append("--message-size \(s) (limit \(KernelLimits.describe("msgsize_max", "fs/mqueue/msgsize_max")))") }
      return "the queue's size is refused: " + (asked.isEmpty ? "the defaults exceed the limits" : asked.joined(separator: ", "))
        + "; going above the limits needs CAP_SYS_RESOURCE, or raise them with sysctl"
    case .tooManyOpenFiles:
      return "the queue's memory would exceed RLIMIT_MSGQUEUE (ulimit -q) for this user"
    case .noSpace: return "too many queues: the limit is \(KernelLimits.describe("queues_max", "fs/mqueue/queues_max"))"
    default: return nil
    }
  }
}
