import CSwipc
import Glibc

/// One kernel limit with its current use: a row of `swipc limits`.
public struct LimitRow: Sendable, Equatable {
  public enum Unit: String, Sendable { case count, bytes, pages }
  public var kind: IPCKind
  public var resource: String
  public var description: String
  /// nil when the limit could not be read (or has none).
  public var limit: UInt64?
  /// nil when the kernel keeps no such count, or it could not be read.
  public var used: UInt64?
  public var unit: Unit
  /// Where the limit comes from, for people who want to raise it.
  public var source: String
  /// Whether the limit is a kernel int that may be set below zero (`KernelLimits.isSigned`):
  /// `limit` holds its bits, and it is shown signed.
  public var signed = false

  /// The limit as the kernel states it, when it is below zero.
  public var negativeLimit: Int64? {
    guard signed, let limit, Int64(bitPattern: limit) < 0 else { return nil }
    return Int64(bitPattern: limit)
  }

  public var usePercent: Double? {
    guard let limit, let used, limit > 0, negativeLimit == nil else { return nil }
    return Double(used) / Double(limit) * 100
  }
}

/// What is in use against the System V limits: the counts ipcs -u shows.
public struct SystemVUsage: Sendable, Equatable {
  public var queues: UInt64?
  public var messages: UInt64?
  public var messageBytes: UInt64?
  public var segments: UInt64?
  public var pages: UInt64?
  public var residentPages: UInt64?
  public var swappedPages: UInt64?
  public var sets: UInt64?
  public var semaphores: UInt64?

  public init() {}

  /// The kernel's own counts for this IPC namespace (MSG_INFO, SHM_INFO, SEM_INFO): exact, and
  /// without reading every object's line of /proc.
  public static func fromKernel() -> SystemVUsage {
    var raw = swipc_ipc_usage()
    swipc_ipc_usage(&raw)
    func v(_ x: Int) -> UInt64? { x < 0 ? nil : UInt64(x) }
    var u = SystemVUsage()
    u.queues = v(raw.msg_queues)
    u.messages = v(raw.msg_headers)
    u.messageBytes = v(raw.msg_bytes)
    u.segments = v(raw.shm_segments)
    u.pages = v(raw.shm_pages)
    u.residentPages = v(raw.shm_rss_pages)
    u.swappedPages = v(raw.shm_swap_pages)
    u.sets = v(raw.sem_sets)
    u.semaphores = v(raw.sem_semaphores)
    return u
  }

  /// The same counts, added up from parsed records (for /proc text that is not this namespace's).
  public static func counting(_ snapshot: InventorySnapshot) -> SystemVUsage {
    let page = UInt64(pageSize)
    var u = SystemVUsage()
    let listed = { (k: IPCKind) in !snapshot.unavailable.contains(where: { $0.kind == k }) }
    let msg = snapshot.objects.filter { $0.kind == .msg }
    let shm = snapshot.objects.filter { $0.kind == .shm }
    let sem = snapshot.objects.filter { $0.kind == .sem }
    if listed(.msg) {
      u.queues = UInt64(msg.count)
      u.messages = msg.reduce(0) { $0 &+ ($1.messages ?? 0) }
      u.messageBytes = msg.reduce(0) { $0 &+ ($1.size ?? 0) }
    }
    if listed(.shm) {
      u.segments = UInt64(shm.count)
      u.pages = shm.reduce(0) { $0 &+ (($1.size ?? 0) + page - 1) / page }
      u.residentPages = shm.reduce(0) { $0 &+ ($1.rss ?? 0) / page }
      u.swappedPages = shm.reduce(0) { $0 &+ ($1.swap ?? 0) / page }
    }
    if listed(.sem) {
      u.sets = UInt64(sem.count)
      u.semaphores = sem.reduce(0) { $0 &+ UInt64($1.nsems ?? 0) }
    }
    return u
  }
}

/// Reads the limits of ipcs -l, ipcs -u and lsipc -g, and the POSIX limits in
/// /proc/sys/fs/mqueue, and sets current use against them from an inventory snapshot.
public enum LimitsReader {
  /// Parses a /proc/sys value: one unsigned decimal, or several separated by blanks.
  public static func parseValues(_ text: String) -> [UInt64]? {
    let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" })
    guard !words.isEmpty else { return nil }
    var values = [UInt64]()
    for w in words {
      if let v = UInt64(w) { values.append(v) } else if let s = Int64(w), s < 0 {
        values.append(UInt64(bitPattern: s))
      } else { return nil }
    }
    return values
  }

  /// Limits and use in the view's namespace: the kernel's counts when the view reads the
  /// kernel, otherwise counts from the records found in its fixture text.
  public static func read(view: IPCView) -> [LimitRow] {
    let live = view.kernelSystemV
    let kinds: [IPCKind] = live ? [.pmsg] : [.msg, .shm, .sem, .pmsg]
    let snapshot = Inventory(view: view).snapshot(kinds: kinds, scanHolders: false)
    let usage = live ? view.executor.perform { SystemVUsage.fromKernel() } : SystemVUsage.counting(snapshot)
    return read(view: view, usage: usage, snapshot: snapshot)
  }

  public static func read(view: IPCView, usage: SystemVUsage, snapshot: InventorySnapshot) -> [LimitRow] {
    func value(_ relative: String, _ index: Int = 0) -> UInt64? {
      view.kernelValue(relative, index: index)
    }
    let signed = { (index: Int) in KernelLimits.isSigned("kernel/sem", index: index) }
    let posixQueues: UInt64? = snapshot.unavailable.contains(where: { $0.kind == .pmsg })
      ? nil : UInt64(snapshot.objects.filter { $0.kind == .pmsg }.count)

    var rows: [LimitRow] = [
      LimitRow(kind: .msg, resource: "MSGMNI", description: "Number of message queues", limit: value("kernel/msgmni"), used: usage.queues, unit: .count, source: "/proc/sys/kernel/msgmni"),
      LimitRow(kind: .msg, resource: "MSGMAX", description: "Max size of message (bytes)", limit: value("kernel/msgmax"), used: nil, unit: .bytes, source: "/proc/sys/kernel/msgmax"),
      LimitRow(kind: .msg, resource: "MSGMNB", description: "Default max size of queue (bytes)", limit: value("kernel/msgmnb"), used: nil, unit: .bytes, source: "/proc/sys/kernel/msgmnb"),
      LimitRow(kind: .msg, resource: "MSGQUEUED", description: "Messages queued, all queues", limit: nil, used: usage.messages, unit: .count, source: "/proc/sysvipc/msg"),
      LimitRow(kind: .msg, resource: "MSGBYTES", description: "Bytes queued, all queues", limit: nil, used: usage.messageBytes, unit: .bytes, source: "/proc/sysvipc/msg"),
      LimitRow(kind: .shm, resource: "SHMMNI", description: "Shared memory segments", limit: value("kernel/shmmni"), used: usage.segments, unit: .count, source: "/proc/sys/kernel/shmmni"),
      LimitRow(kind: .shm, resource: "SHMALL", description: "Shared memory pages", limit: value("kernel/shmall"), used: usage.pages, unit: .pages, source: "/proc/sys/kernel/shmall"),
      LimitRow(kind: .shm, resource: "SHMMAX", description: "Max size of shared memory segment (bytes)", limit: value("kernel/shmmax"), used: nil, unit: .bytes, source: "/proc/sys/kernel/shmmax"),
      LimitRow(kind: .shm, resource: "SHMMIN", description: "Min size of shared memory segment (bytes)", limit: 1, used: nil, unit: .bytes, source: "kernel constant"),
      LimitRow(kind: .shm, resource: "SHMRSS", description: "Shared memory pages resident", limit: nil, used: usage.residentPages, unit: .pages, source: "/proc/sysvipc/shm"),
      LimitRow(kind: .shm, resource: "SHMSWAP", description: "Shared memory pages swapped", limit: nil, used: usage.swappedPages, unit: .pages, source: "/proc/sysvipc/shm"),
      LimitRow(kind: .sem, resource: "SEMMNI", description: "Number of semaphore identifiers", limit: value("kernel/sem", 3), used: usage.sets, unit: .count, source: "/proc/sys/kernel/sem (4th field)"),
      LimitRow(kind: .sem, resource: "SEMMNS", description: "Total number of semaphores", limit: value("kernel/sem", 1), used: usage.semaphores, unit: .count, source: "/proc/sys/kernel/sem (2nd field)", signed: signed(1)),
      LimitRow(kind: .sem, resource: "SEMMSL", description: "Max semaphores per semaphore set", limit: value("kernel/sem", 0), used: nil, unit: .count, source: "/proc/sys/kernel/sem (1st field)", signed: signed(0)),
      LimitRow(kind: .sem, resource: "SEMOPM", description: "Max number of operations per semop(2)", limit: value("kernel/sem", 2), used: nil, unit: .count, source: "/proc/sys/kernel/sem (3rd field)", signed: signed(2)),
      LimitRow(kind: .sem, resource: "SEMVMX", description: "Semaphore max value", limit: 32767, used: nil, unit: .count, source: "kernel constant"),
      LimitRow(kind: .pmsg, resource: "MQ_QUEUES_MAX", description: "POSIX message queues", limit: value("fs/mqueue/queues_max"), used: posixQueues, unit: .count, source: "/proc/sys/fs/mqueue/queues_max"),
      LimitRow(kind: .pmsg, resource: "MQ_MSG_MAX", description: "Max messages per POSIX queue", limit: value("fs/mqueue/msg_max"), used: nil, unit: .count, source: "/proc/sys/fs/mqueue/msg_max"),
      LimitRow(kind: .pmsg, resource: "MQ_MSGSIZE_MAX", description: "Max size of POSIX message (bytes)", limit: value("fs/mqueue/msgsize_max"), used: nil, unit: .bytes, source: "/proc/sys/fs/mqueue/msgsize_max"),
      LimitRow(kind: .pmsg, resource: "MQ_MSG_DEFAULT", description: "Default messages per POSIX queue", limit: value("fs/mqueue/msg_default"), used: nil, unit: .count, source: "/proc/sys/fs/mqueue/msg_default"),
      LimitRow(kind: .pmsg, resource: "MQ_MSGSIZE_DEFAULT", description: "Default size of POSIX message (bytes)", limit: value("fs/mqueue/msgsize_default"), used: nil, unit: .bytes, source: "/proc/sys/fs/mqueue/msgsize_default"),
    ]
    var rl = rlimit()
    if swipc_getrlimit_msgqueue(&rl) == 0 {
      rows.append(LimitRow(kind: .pmsg, resource: "MQ_BYTES", description: "POSIX queue bytes per user (RLIMIT_MSGQUEUE)", limit: rl.rlim_cur == rlim_t.max ? nil : UInt64(rl.rlim_cur), used: nil, unit: .bytes, source: "ulimit -q"))
    }
    var fs = statvfs()
    if case .success(let shm) = view.shm.open(), fstatvfs(shm.descriptor, &fs) == 0 {
      let total = UInt64(fs.f_blocks) * UInt64(fs.f_frsize)
      let free = UInt64(fs.f_bfree) * UInt64(fs.f_frsize)
      rows.append(LimitRow(kind: .pshm, resource: "PSHM_BYTES", description: "POSIX shared memory and semaphores (bytes)", limit: total, used: total - free, unit: .bytes, source: view.shm.label + " (tmpfs size)"))
    }
    return rows
  }
}
