/// One IPC object as the inventory sees it: a row of `swipc ls`.
///
/// A single flat record serves every kind so that filters and renderers are written once; fields
/// that do not apply to a kind are nil. Times are seconds since the epoch, nil for "never".
public struct IPCObject: Sendable, Equatable {
  public var kind: IPCKind
  /// System V id (nil for POSIX objects).
  public var id: Int32?
  /// System V key (nil for POSIX objects).
  public var key: IPCKey?
  /// POSIX name (nil for System V objects).
  public var name: POSIXName?
  /// The mode as the kernel reports it: permission bits, plus SHM_DEST (01000) and SHM_LOCKED
  /// (02000) for System V shared memory.
  public var mode: UInt32
  public var uid: UInt32
  public var gid: UInt32
  /// Creator uid and gid (System V only; POSIX objects record none).
  public var cuid: UInt32?
  public var cgid: UInt32?
  /// Creation or last IPC_SET / chmod time.
  public var changeTime: Int64?

  /// Bytes: segment size (shm, pshm), bytes queued (msg, pmsg).
  public var size: UInt64?
  /// Messages queued (msg; pmsg when the queue could be opened).
  public var messages: UInt64?
  /// System V: last sender and receiver; shm: creator and last attach/detach.
  public var lspid: Int32?
  public var lrpid: Int32?
  public var cpid: Int32?
  public var lpid: Int32?
  public var sendTime: Int64?
  public var receiveTime: Int64?
  public var nattch: UInt64?
  public var attachTime: Int64?
  public var detachTime: Int64?
  /// shm: resident and swapped bytes, where the kernel reports them.
  public var rss: UInt64?
  public var swap: UInt64?
  /// sem: number of semaphores in the set; time of the last semop.
  public var nsems: UInt32?
  public var operationTime: Int64?
  /// pmsg: queue attributes, when the queue could be opened.
  public var maxMessages: Int64?
  public var messageSize: Int64?
  /// pmsg: the process registered for notification (0: none).
  public var notifyPid: Int32?
  /// psem: the semaphore's value, when the object could be read.
  public var value: Int64?
  /// POSIX objects: last modification and access of the backing file.
  public var modifyTime: Int64?
  public var accessTime: Int64?
  /// POSIX objects: the backing file's device and inode, used to find its holders.
  public var device: UInt64?
  public var inode: UInt64?
  /// Processes using the object (attached, open or mapped); nil where unknown.
  public var holders: Int?

  public init(kind: IPCKind, mode: UInt32 = 0, uid: UInt32 = 0, gid: UInt32 = 0) {
    self.kind = kind
    self.mode = mode
    self.uid = uid
    self.gid = gid
  }

  public static let shmDestBit: UInt32 = 0o1000
  public static let shmLockedBit: UInt32 = 0o2000

  /// Permission bits only.
  public var permissions: UInt32 { mode & 0o777 }
  /// shm segment marked for removal (removed while still attached).
  public var isMarkedForRemoval: Bool { kind == .shm && mode & IPCObject.shmDestBit != 0 }
  /// shm segment locked in memory (SHM_LOCK).
  public var isLocked: Bool { kind == .shm && mode & IPCObject.shmLockedBit != 0 }

  /// The time of the last use: send/receive, attach/detach, semop, or file modification.
  public var lastActivity: Int64? {
    let candidates: [Int64?]
    switch kind {
    case .msg: candidates = [sendTime, receiveTime]
    case .shm: candidates = [attachTime, detachTime]
    case .sem: candidates = [operationTime]
    case .pmsg, .pshm, .psem: candidates = [modifyTime]
    }
    return candidates.compactMap { $0 }.max()
  }

  /// A short description for messages: `queue 32768`, `segment /cache`.
  public var label: String {
    if let name { return "\(kind.noun) \(name.rawValue)" }
    return "\(kind.noun) \(id ?? -1)"
  }

  /// The process ids the kernel recorded for this object (System V), zeros excluded.
  public var recordedPIDs: [Int32] {
    [lspid, lrpid, cpid, lpid].compactMap { $0 }.filter { $0 > 0 }
  }
}
