/// One IPC object as the inventory sees it: a row of `swipc ls`.
///
/// A single flat record serves every kind so that filters and renderers are written once; fields
/// that do not apply to a kind are nil. Times are seconds since the epoch, nil for "never" (the
/// kernel's 0). Listings hold thousands of these, so optional numbers are stored without their
/// optional tag (0 or an out-of-range value stands for nil), which halves their size.
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
  public var changeTime: Int64? {
    get { _changeTime == 0 ? nil : _changeTime }
    set { _changeTime = newValue ?? 0 }
  }
  private var _changeTime: Int64 = 0

  /// Bytes: segment size (shm, pshm), bytes queued (msg, pmsg).
  public var size: UInt64? {
    get { _size == .max ? nil : _size }
    set { _size = newValue ?? .max }
  }
  private var _size: UInt64 = .max
  /// Messages queued (msg; pmsg when the queue could be opened).
  public var messages: UInt64? {
    get { _messages == .max ? nil : _messages }
    set { _messages = newValue ?? .max }
  }
  private var _messages: UInt64 = .max
  /// System V: last sender and receiver; shm: creator and last attach/detach.
  public var lspid: Int32?
  public var lrpid: Int32?
  public var cpid: Int32?
  public var lpid: Int32?
  public var sendTime: Int64? {
    get { _sendTime == 0 ? nil : _sendTime }
    set { _sendTime = newValue ?? 0 }
  }
  private var _sendTime: Int64 = 0
  public var receiveTime: Int64? {
    get { _receiveTime == 0 ? nil : _receiveTime }
    set { _receiveTime = newValue ?? 0 }
  }
  private var _receiveTime: Int64 = 0
  public var nattch: UInt64? {
    get { _nattch == .max ? nil : _nattch }
    set { _nattch = newValue ?? .max }
  }
  private var _nattch: UInt64 = .max
  public var attachTime: Int64? {
    get { _attachTime == 0 ? nil : _attachTime }
    set { _attachTime = newValue ?? 0 }
  }
  private var _attachTime: Int64 = 0
  public var detachTime: Int64? {
    get { _detachTime == 0 ? nil : _detachTime }
    set { _detachTime = newValue ?? 0 }
  }
  private var _detachTime: Int64 = 0
  /// shm: resident and swapped bytes, where the kernel reports them.
  public var rss: UInt64? {
    get { _rss == .max ? nil : _rss }
    set { _rss = newValue ?? .max }
  }
  private var _rss: UInt64 = .max
  public var swap: UInt64? {
    get { _swap == .max ? nil : _swap }
    set { _swap = newValue ?? .max }
  }
  private var _swap: UInt64 = .max
  /// sem: number of semaphores in the set; time of the last semop.
  public var nsems: UInt32?
  public var operationTime: Int64? {
    get { _operationTime == 0 ? nil : _operationTime }
    set { _operationTime = newValue ?? 0 }
  }
  private var _operationTime: Int64 = 0
  /// pmsg: queue attributes, when the queue could be opened.
  public var maxMessages: Int64? {
    get { _maxMessages == .min ? nil : _maxMessages }
    set { _maxMessages = newValue ?? .min }
  }
  private var _maxMessages: Int64 = .min
  public var messageSize: Int64? {
    get { _messageSize == .min ? nil : _messageSize }
    set { _messageSize = newValue ?? .min }
  }
  private var _messageSize: Int64 = .min
  /// pmsg: the process registered for notification (0: none).
  public var notifyPid: Int32?
  /// psem: the semaphore's value, when the object could be read.
  public var value: Int64? {
    get { _value == .min ? nil : _value }
    set { _value = newValue ?? .min }
  }
  private var _value: Int64 = .min
  /// POSIX objects: last modification of the backing file.
  public var modifyTime: Int64? {
    get { _modifyTime == 0 ? nil : _modifyTime }
    set { _modifyTime = newValue ?? 0 }
  }
  private var _modifyTime: Int64 = 0
  /// POSIX objects: the backing file's device and inode, used to find its holders.
  public var device: UInt64? {
    get { _device == .max ? nil : _device }
    set { _device = newValue ?? .max }
  }
  private var _device: UInt64 = .max
  public var inode: UInt64? {
    get { _inode == .max ? nil : _inode }
    set { _inode = newValue ?? .max }
  }
  private var _inode: UInt64 = .max
  /// Processes using the object (attached, open or mapped); nil where unknown.
  public var holders: Int?
  /// The inode of the IPC namespace it was listed in, with --all-namespaces (never 0 for a namespace).
  public var namespace: UInt64? {
    get { _namespace == 0 ? nil : _namespace }
    set { _namespace = newValue ?? 0 }
  }
  private var _namespace: UInt64 = 0

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
