import Glibc
import SystemPackage

/// Everything `swipc show` knows about one object: its inventory row, plus what only a closer look
/// gives (holders, semaphore values, the queue's byte limit), and notes on what could not be read.
public struct ObjectDetails: Sendable {
  public var object: IPCObject
  /// Processes attached (shm) or holding it open or mapped (POSIX); nil for kinds with no such view.
  public var holders: [Holder]?
  /// System V semaphores, one per member of the set; nil when not readable.
  public var semaphores: [SemaphoreState]?
  /// msg_qbytes: the queue's byte limit (IPC_STAT, needs read permission).
  public var queueByteLimit: UInt64?
  /// Commands of the processes behind the recorded pids, while they still run.
  public var commands: [Int32: String] = [:]
  /// Sentences about what is missing and why.
  public var notes: [String] = []

  /// Finds the object a target names among a snapshot's objects.
  ///
  /// - Throws: `SwipcError` with category `.notFound` when nothing matches, `.usage` for key 0.
  public static func locate(
    _ target: ObjectTarget, kind: IPCKind, in snapshot: InventorySnapshot
  ) throws(SwipcError) -> IPCObject {
    let kind = target.resolvedKind(kind)
    if let failure = snapshot.unavailable.first(where: { $0.kind == kind }) { throw failure.error }
    switch target {
    case .id(let id):
      guard kind.isSystemV else { throw .usage("\(kind.rawValue) objects are named /name, not by id") }
      if let o = snapshot.objects.first(where: { $0.kind == kind && $0.id == id }) { return o }
      throw SwipcError(category: .notFound, call: "", object: "\(kind.noun) \(id)",
        reason: "no such \(kind.title.dropLast()) (see 'swipc ls \(kind.rawValue)')")
    case .key(let key):
      guard kind.isSystemV else { throw .usage("\(kind.rawValue) objects are named /name, not by key") }
      if key.isPrivate {
        throw .usage("key 0x00000000 is IPC_PRIVATE and names no single object: give the id instead")
      }
      if let o = snapshot.objects.first(where: { $0.kind == kind && $0.key == key }) { return o }
      throw SwipcError(category: .notFound, call: "", object: "key \(key)",
        reason: "no \(kind.title.dropLast()) has this key (see 'swipc ls \(kind.rawValue)')")
    case .name(let name):
      if let o = snapshot.objects.first(where: { $0.kind == kind && $0.name == name }) { return o }
      throw SwipcError(category: .notFound, call: "", object: name.rawValue,
        reason: "no such \(kind.title.dropLast()) (see 'swipc ls \(kind.rawValue)')")
    }
  }

  /// Gathers the details of an object found by `locate`.
  public static func gather(
    _ object: IPCObject, processes: ProcessTable, holderIndex: HolderIndex? = nil, view: IPCView
  ) -> ObjectDetails {
    var details = ObjectDetails(object: object)
    let label = object.label
    func denied(_ what: String, _ call: String, _ e: Errno) {
      let why = e == .permissionDenied || e == .notPermitted
        ? "permission denied (needs read permission on the object, or root)" : SwipcError.strerror(e)
      details.notes.append("\(what) not shown: \(call) on \(label): \(why)")
    }
    for pid in object.recordedPIDs {
      if let command = processes.command(of: pid) { details.commands[pid] = command }
    }
    switch object.kind {
    case .msg:
      switch view.executor.perform({ SystemV.messageQueueStatus(id: object.id!) }) {
      case .success(let ds): details.queueByteLimit = UInt64(ds.msg_qbytes)
      case .failure(let e): denied("queue byte limit (msg_qbytes)", "msgctl(IPC_STAT)", e)
      }
    case .sem:
      switch view.executor.perform({ SystemV.semaphores(id: object.id!, count: Int(object.nsems ?? 0)) }) {
      case .success(let states):
        details.semaphores = states
        for s in states where s.lastPid > 0 {
          if let command = processes.command(of: s.lastPid) { details.commands[s.lastPid] = command }
        }
      case .failure(let e): denied("semaphore values", "semctl(GETVAL)", e)
      }
    case .shm, .pmsg, .pshm, .psem:
      let index: HolderIndex
      if let holderIndex, object.kind != .shm {
        index = holderIndex
      } else {
        var files = Set<HolderIndex.FileID>()
        if let d = object.device, let i = object.inode { files.insert(.init(device: d, inode: i)) }
        index = processes.scanHolders(files: files, segments: object.kind == .shm)
      }
      details.holders = (index.holders(of: object) ?? []).sorted { $0.pid < $1.pid }
      if index.uninspectable > 0 {
        let n = index.uninspectable
        details.notes.append(
          "\(n) process\(n == 1 ? "" : "es") could not be inspected (\(uninspectableReason(toSee: "them"))); "
            + "holders among them are not shown")
      }
      if let reason = index.unresolvedReason { details.notes.append(reason + "; they are not shown") }
      if object.kind == .shm, let n = object.nattch, Int(clamping: n) != details.holders?.count, index.uninspectable == 0 {
        details.notes.append("the kernel counts \(n) attaches; \(details.holders?.count ?? 0) found in /proc/*/maps (processes in other PID namespaces are not visible)")
      }
      if object.kind == .pmsg && object.maxMessages == nil {
        details.notes.append("queue attributes not shown: mq_open on \(label) failed (needs read permission)")
      }
      if object.kind == .psem && object.value == nil {
        details.notes.append("value not shown: reading \(label) needs read permission")
      }
    }
    return details
  }
}
