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
  public static func create(_ request: CreatePlan, view: IPCView) throws(SwipcError) -> CreatedObject {
    let kind = request.resolvedKind
    let mode = request.mode.rawValue
    switch (request.target, kind.backend) {
    case (.name(let name), .posix(let backend)):
      try backend.create(name, mode: mode, exclusive: request.exclusive ?? true, request: request, view: view)
      return .name(name)
    case (.key(let key), .systemV(let backend)):
      return .id(try createSystemV(backend, key: key, mode: mode, exclusive: request.exclusive ?? false, request: request, view: view))
    case (.id, .systemV(let backend)), (nil, .systemV(let backend)):
      return .id(try createSystemV(backend, key: .private, mode: mode, exclusive: true, request: request, view: view))
    case (_, .posix), (.name, .systemV):
      throw .usage("\(kind.rawValue) objects are created by /name")
    }
  }

  static func createSystemV<Backend: SystemVBackend>(
    _ backend: Backend.Type, key: IPCKey, mode: UInt32, exclusive: Bool, request: CreatePlan, view: IPCView
  ) throws(SwipcError) -> Int32 {
    let kind = request.resolvedKind
    let count = request.count ?? request.values?.count ?? 1
    let size = Int(clamping: request.size?.bytes ?? 0)
    let object = key.isPrivate ? "IPC_PRIVATE" : "key \(key)"
    let result = view.executor.perform {
      backend.get(key: key, mode: mode, create: true, exclusive: exclusive, size: size, count: Int32(clamping: count))
    }
    let id: Int32, created: Bool
    switch result {
    case .success(let r): (id, created) = r
    case .failure(let e):
      // EINVAL here means a limit, not a missing object.
      throw SwipcError(category: e == .invalidArgument ? .failed : nil, call: backend.getCall, object: object, errno: e,
        reason: explainGet(kind, e, size: size, count: count, view: view))
    }
    guard created else { return id }
    // Steps after creation: if one fails, remove what was made, so nothing is left half-done.
    func undo(_ error: SwipcError) -> SwipcError {
      _ = view.executor.perform { backend.remove(id: id) }
      return error
    }
    if let maxBytes = request.maxBytes,
      case .failure(let e) = view.executor.perform({ SystemVMessageQueues.setQueueBytes(id: id, maxBytes.bytes) })
    {
      throw undo(SwipcError(call: "msgctl(IPC_SET)", object: "queue \(id)", errno: e,
        reason: e == .notPermitted
          ? "--max-bytes \(maxBytes.bytes) is above \(KernelLimits.describe("MSGMNB", "kernel/msgmnb", view: view)), which needs CAP_SYS_RESOURCE; the queue was not created"
          : nil))
    }
    if kind == .sem, let values = request.values {
      let all = values.count == 1 ? [UInt16](repeating: UInt16(values[0]), count: count) : values.map { UInt16($0) }
      if case .failure(let e) = view.executor.perform({ SystemV.setValues(id: id, all) }) {
        throw undo(SwipcError(call: "semctl(SETALL)", object: "semaphore set \(id)", errno: e))
      }
    }
    return id
  }

  static func explainGet(_ kind: IPCKind, _ e: Errno, size: Int, count: Int, view: IPCView) -> String? {
    switch (kind, e) {
    case (_, .fileExists): return "already exists (drop --exclusive to use the existing one)"
    case (.msg, .noSpace): return "too many queues: the limit is \(KernelLimits.describe("MSGMNI", "kernel/msgmni", view: view))"
    case (.shm, .noSpace):
      // ENOSPC is either limit; the kernel's own counts say which was hit.
      let usage = view.executor.perform { SystemVUsage.fromKernel() }
      if let used = usage.segments, let limit = view.kernelValue("kernel/shmmni"), used >= limit {
        return "too many segments: \(used) exist and the limit is \(KernelLimits.describe("SHMMNI", "kernel/shmmni", view: view))"
      }
      let page = pageSize
      let pages = (size + page - 1) / page
      let inUse = usage.pages.map { ", \($0) in use" } ?? ""
      return "\(pages) more pages would pass \(KernelLimits.describe("SHMALL", "kernel/shmall", view: view)) pages\(inUse)"
    case (.shm, .invalidArgument):
      return "size \(size) is outside SHMMIN (1) to \(KernelLimits.describe("SHMMAX", "kernel/shmmax", view: view)), or a segment with this key exists and is smaller"
    case (.sem, .noSpace):
      let usage = view.executor.perform { SystemVUsage.fromKernel() }
      if let used = usage.sets, let limit = view.kernelValue("kernel/sem", index: 3), used >= limit {
        return "too many semaphore sets: \(used) exist and the limit is \(KernelLimits.describe("SEMMNI", "kernel/sem", index: 3, view: view))"
      }
      let inUse = usage.semaphores.map { ", \($0) in use" } ?? ""
      return "\(count) more semaphores would pass \(KernelLimits.describe("SEMMNS", "kernel/sem", index: 1, view: view))\(inUse)"
    case (.sem, .invalidArgument):
      return "\(count) semaphores is above \(KernelLimits.describe("SEMMSL", "kernel/sem", index: 0, view: view)), or a set with this key exists and is smaller"
    case (_, .noMemory): return "out of memory for a segment of \(size) bytes"
    default: return nil
    }
  }

  static func explainQueue(_ e: Errno, _ r: CreatePlan, view: IPCView) -> String? {
    switch e {
    case .fileExists: return "already exists (drop --exclusive to use it)"
    case .invalidArgument:
      var asked: [String] = []
      if let m = r.maxMessages { asked.append("--max-messages \(m) (limit \(KernelLimits.describe("msg_max", "fs/mqueue/msg_max", view: view)))") }
      if let s = r.messageSize { asked.append("--message-size \(s) (limit \(KernelLimits.describe("msgsize_max", "fs/mqueue/msgsize_max", view: view)))") }
      return "the queue's size is refused: " + (asked.isEmpty ? "the defaults exceed the limits" : asked.joined(separator: ", "))
        + "; going above the limits needs CAP_SYS_RESOURCE, or raise them with sysctl"
    case .tooManyOpenFiles:
      return "the queue's memory would exceed RLIMIT_MSGQUEUE (ulimit -q) for this user"
    case .noSpace: return "too many queues: the limit is \(KernelLimits.describe("queues_max", "fs/mqueue/queues_max", view: view))"
    default: return nil
    }
  }
}
