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

  public var usePercent: Double? {
    guard let limit, let used, limit > 0 else { return nil }
    return Double(used) / Double(limit) * 100
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

  public static func read(paths: InventoryPaths, snapshot: InventorySnapshot) -> [LimitRow] {
    func value(_ relative: String, _ index: Int = 0) -> UInt64? {
      guard let text = FileReader.readText(paths.sysctl + "/" + relative),
        let values = parseValues(text), index < values.count
      else { return nil }
      return values[index]
    }
    let objects = snapshot.objects
    func count(_ kind: IPCKind) -> UInt64? {
      if snapshot.unavailable.contains(where: { $0.kind == kind }) { return nil }
      return UInt64(objects.filter { $0.kind == kind }.count)
    }
    let msg = objects.filter { $0.kind == .msg }
    let shm = objects.filter { $0.kind == .shm }
    let sem = objects.filter { $0.kind == .sem }
    let page = UInt64(max(sysconf(Int32(_SC_PAGESIZE)), 1))
    let shmPages = shm.reduce(UInt64(0)) { $0 &+ (($1.size ?? 0) + page - 1) / page }
    let rssPages = shm.reduce(UInt64(0)) { $0 &+ ($1.rss ?? 0) / page }
    let swapPages = shm.reduce(UInt64(0)) { $0 &+ ($1.swap ?? 0) / page }
    let sysvOK = { (k: IPCKind) in !snapshot.unavailable.contains(where: { $0.kind == k }) }

    var rows: [LimitRow] = [
      LimitRow(kind: .msg, resource: "MSGMNI", description: "Number of message queues", limit: value("kernel/msgmni"), used: count(.msg), unit: .count, source: "/proc/sys/kernel/msgmni"),
      LimitRow(kind: .msg, resource: "MSGMAX", description: "Max size of message (bytes)", limit: value("kernel/msgmax"), used: nil, unit: .bytes, source: "/proc/sys/kernel/msgmax"),
      LimitRow(kind: .msg, resource: "MSGMNB", description: "Default max size of queue (bytes)", limit: value("kernel/msgmnb"), used: nil, unit: .bytes, source: "/proc/sys/kernel/msgmnb"),
      LimitRow(kind: .msg, resource: "MSGQUEUED", description: "Messages queued, all queues", limit: nil, used: sysvOK(.msg) ? msg.reduce(0) { $0 &+ ($1.messages ?? 0) } : nil, unit: .count, source: "/proc/sysvipc/msg"),
      LimitRow(kind: .msg, resource: "MSGBYTES", description: "Bytes queued, all queues", limit: nil, used: sysvOK(.msg) ? msg.reduce(0) { $0 &+ ($1.size ?? 0) } : nil, unit: .bytes, source: "/proc/sysvipc/msg"),
      LimitRow(kind: .shm, resource: "SHMMNI", description: "Shared memory segments", limit: value("kernel/shmmni"), used: count(.shm), unit: .count, source: "/proc/sys/kernel/shmmni"),
      LimitRow(kind: .shm, resource: "SHMALL", description: "Shared memory pages", limit: value("kernel/shmall"), used: sysvOK(.shm) ? shmPages : nil, unit: .pages, source: "/proc/sys/kernel/shmall"),
      LimitRow(kind: .shm, resource: "SHMMAX", description: "Max size of shared memory segment (bytes)", limit: value("kernel/shmmax"), used: nil, unit: .bytes, source: "/proc/sys/kernel/shmmax"),
      LimitRow(kind: .shm, resource: "SHMMIN", description: "Min size of shared memory segment (bytes)", limit: 1, used: nil, unit: .bytes, source: "kernel constant"),
      LimitRow(kind: .shm, resource: "SHMRSS", description: "Shared memory pages resident", limit: nil, used: sysvOK(.shm) ? rssPages : nil, unit: .pages, source: "/proc/sysvipc/shm"),
      LimitRow(kind: .shm, resource: "SHMSWAP", description: "Shared memory pages swapped", limit: nil, used: sysvOK(.shm) ? swapPages : nil, unit: .pages, source: "/proc/sysvipc/shm"),
      LimitRow(kind: .sem, resource: "SEMMNI", description: "Number of semaphore identifiers", limit: value("kernel/sem", 3), used: count(.sem), unit: .count, source: "/proc/sys/kernel/sem (4th field)"),
      LimitRow(kind: .sem, resource: "SEMMNS", description: "Total number of semaphores", limit: value("kernel/sem", 1), used: sysvOK(.sem) ? sem.reduce(0) { $0 &+ UInt64($1.nsems ?? 0) } : nil, unit: .count, source: "/proc/sys/kernel/sem (2nd field)"),
      LimitRow(kind: .sem, resource: "SEMMSL", description: "Max semaphores per semaphore set", limit: value("kernel/sem", 0), used: nil, unit: .count, source: "/proc/sys/kernel/sem (1st field)"),
      LimitRow(kind: .sem, resource: "SEMOPM", description: "Max number of operations per semop(2)", limit: value("kernel/sem", 2), used: nil, unit: .count, source: "/proc/sys/kernel/sem (3rd field)"),
      LimitRow(kind: .sem, resource: "SEMVMX", description: "Semaphore max value", limit: 32767, used: nil, unit: .count, source: "kernel constant"),
      LimitRow(kind: .pmsg, resource: "MQ_QUEUES_MAX", description: "POSIX message queues", limit: value("fs/mqueue/queues_max"), used: count(.pmsg), unit: .count, source: "/proc/sys/fs/mqueue/queues_max"),
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
    if statvfs(paths.shm, &fs) == 0 {
      let total = UInt64(fs.f_blocks) * UInt64(fs.f_frsize)
      let free = UInt64(fs.f_bfree) * UInt64(fs.f_frsize)
      rows.append(LimitRow(kind: .pshm, resource: "PSHM_BYTES", description: "POSIX shared memory and semaphores (bytes)", limit: total, used: total - free, unit: .bytes, source: paths.shm + " (tmpfs size)"))
    }
    return rows
  }
}
