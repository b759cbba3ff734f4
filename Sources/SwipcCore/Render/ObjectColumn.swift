/// A column of `swipc ls`: its name (also the JSON key, in lower case), the kinds it applies to,
/// and how to read its value from an object. Adding a column is adding an entry to `catalog`: the
/// table, CSV and JSON writers, `-o` and its help take it from there.
///
/// A class, not a struct: a listing reads a column for every row, and a struct copy would retain
/// each of its strings every time.
public final class ObjectColumn: Sendable {
  public let name: String
  public let help: String
  public let kinds: IPCKindSet
  public let rightAligned: Bool
  /// Its heading and JSON key (the name in lower case) for the writers.
  public let output: OutputColumn
  let value: @Sendable (IPCObject, ColumnContext) -> CellValue

  init(
    name: String, help: String, kinds: IPCKindSet, rightAligned: Bool,
    value: @escaping @Sendable (IPCObject, ColumnContext) -> CellValue
  ) {
    self.name = name
    self.help = help
    self.kinds = kinds
    self.rightAligned = rightAligned
    self.output = OutputColumn(name, rightAligned: rightAligned)
    self.value = value
  }

  public func value(of object: IPCObject, context: ColumnContext) -> CellValue {
    kinds.contains(object.kind) ? value(object, context) : .null
  }
}

/// What column values may look up: the time, the commands of processes, orphan states.
public struct ColumnContext {
  public var now: Int64
  public var processes: ProcessTable
  public var orphans: OrphanDetector?
  /// The namespaces of a listing across namespaces (--all-namespaces).
  public var namespaces: NamespaceLabels?

  public init(now: Int64, processes: ProcessTable, orphans: OrphanDetector? = nil, namespaces: NamespaceLabels? = nil) {
    self.now = now
    self.processes = processes
    self.orphans = orphans
    self.namespaces = namespaces
  }
}

extension ObjectColumn {
  static let all = IPCKindSet.all
  static let sysv = IPCKindSet.systemV
  static let posix = IPCKindSet.posix

  static func pid(_ p: Int32?) -> CellValue { p.map { .int(Int64($0)) } ?? .null }
  static func count(_ n: UInt64?) -> CellValue { n.map { .int(Int64(clamping: $0)) } ?? .null }

  /// Every column, in the order `-o` help lists them.
  public static let catalog: [ObjectColumn] = [
    ObjectColumn(name: "TYPE", help: "kind of object (msg, shm, sem, pmsg, pshm, psem)", kinds: all, rightAligned: false) { o, _ in .text(o.kind.rawValue) },
    ObjectColumn(name: "KEY", help: "System V key", kinds: sysv, rightAligned: false) { o, _ in o.key.map { .key($0) } ?? .null },
    ObjectColumn(name: "ID", help: "System V id", kinds: sysv, rightAligned: true) { o, _ in o.id.map { .int(Int64($0)) } ?? .null },
    ObjectColumn(name: "NAME", help: "POSIX name", kinds: posix, rightAligned: false) { o, _ in o.name.map { .name($0) } ?? .null },
    ObjectColumn(name: "PERMS", help: "permissions", kinds: all, rightAligned: false) { o, _ in .perms(o.permissions) },
    ObjectColumn(name: "OWNER", help: "owner's user name (uid when it has none)", kinds: all, rightAligned: false) { o, _ in .user(o.uid) },
    ObjectColumn(name: "UID", help: "owner's uid", kinds: all, rightAligned: true) { o, _ in .int(Int64(o.uid)) },
    ObjectColumn(name: "GROUP", help: "owner's group name", kinds: all, rightAligned: false) { o, _ in .group(o.gid) },
    ObjectColumn(name: "GID", help: "owner's gid", kinds: all, rightAligned: true) { o, _ in .int(Int64(o.gid)) },
    ObjectColumn(name: "CUSER", help: "creator's user name", kinds: sysv, rightAligned: false) { o, _ in o.cuid.map { .user($0) } ?? .null },
    ObjectColumn(name: "CUID", help: "creator's uid", kinds: sysv, rightAligned: true) { o, _ in o.cuid.map { .int(Int64($0)) } ?? .null },
    ObjectColumn(name: "CGROUP", help: "creator's group name", kinds: sysv, rightAligned: false) { o, _ in o.cgid.map { .group($0) } ?? .null },
    ObjectColumn(name: "CGID", help: "creator's gid", kinds: sysv, rightAligned: true) { o, _ in o.cgid.map { .int(Int64($0)) } ?? .null },
    ObjectColumn(name: "SIZE", help: "segment size in bytes", kinds: IPCKindSet([.shm, .pshm]), rightAligned: true) { o, _ in o.size.map { .bytes($0) } ?? .null },
    ObjectColumn(name: "USEDBYTES", help: "bytes queued", kinds: IPCKindSet([.msg, .pmsg]), rightAligned: true) { o, _ in o.size.map { .bytes($0) } ?? .null },
    ObjectColumn(name: "MSGS", help: "messages queued", kinds: IPCKindSet([.msg, .pmsg]), rightAligned: true) { o, _ in count(o.messages) },
    ObjectColumn(name: "MAXMSG", help: "POSIX queue capacity in messages", kinds: IPCKindSet([.pmsg]), rightAligned: true) { o, _ in o.maxMessages.map { .int($0) } ?? .null },
    ObjectColumn(name: "MSGSIZE", help: "POSIX queue's largest message in bytes", kinds: IPCKindSet([.pmsg]), rightAligned: true) { o, _ in o.messageSize.map { .bytes(UInt64($0)) } ?? .null },
    ObjectColumn(name: "NSEMS", help: "semaphores in the set", kinds: IPCKindSet([.sem]), rightAligned: true) { o, _ in o.nsems.map { .int(Int64($0)) } ?? .null },
    ObjectColumn(name: "VALUE", help: "POSIX semaphore's value", kinds: IPCKindSet([.psem]), rightAligned: true) { o, _ in o.value.map { .int($0) } ?? .null },
    ObjectColumn(name: "NATTCH", help: "processes attached", kinds: IPCKindSet([.shm]), rightAligned: true) { o, _ in count(o.nattch) },
    ObjectColumn(name: "STATUS", help: "dest (removed, still attached) and locked", kinds: IPCKindSet([.shm]), rightAligned: false) { o, _ in
      .list((o.isMarkedForRemoval ? ["dest"] : []) + (o.isLocked ? ["locked"] : []))
    },
    ObjectColumn(name: "HOLDERS", help: "processes holding it attached, open or mapped, where known", kinds: IPCKindSet([.shm, .pmsg, .pshm, .psem]), rightAligned: true) { o, _ in o.holders.map { .int(Int64($0)) } ?? .null },
    ObjectColumn(name: "CTIME", help: "time of creation or last change", kinds: all, rightAligned: false) { o, _ in .time(o.changeTime) },
    ObjectColumn(name: "SEND", help: "time of the last message sent", kinds: IPCKindSet([.msg]), rightAligned: false) { o, _ in .time(o.sendTime) },
    ObjectColumn(name: "RECV", help: "time of the last message received", kinds: IPCKindSet([.msg]), rightAligned: false) { o, _ in .time(o.receiveTime) },
    ObjectColumn(name: "ATTACH", help: "time of the last attach", kinds: IPCKindSet([.shm]), rightAligned: false) { o, _ in .time(o.attachTime) },
    ObjectColumn(name: "DETACH", help: "time of the last detach", kinds: IPCKindSet([.shm]), rightAligned: false) { o, _ in .time(o.detachTime) },
    ObjectColumn(name: "OTIME", help: "time of the last semaphore operation", kinds: IPCKindSet([.sem]), rightAligned: false) { o, _ in .time(o.operationTime) },
    ObjectColumn(name: "MTIME", help: "time the POSIX object was last modified", kinds: posix, rightAligned: false) { o, _ in .time(o.modifyTime) },
    ObjectColumn(name: "LSPID", help: "pid of the last sender", kinds: IPCKindSet([.msg]), rightAligned: true) { o, _ in pid(o.lspid) },
    ObjectColumn(name: "LRPID", help: "pid of the last receiver", kinds: IPCKindSet([.msg]), rightAligned: true) { o, _ in pid(o.lrpid) },
    ObjectColumn(name: "CPID", help: "pid of the creator", kinds: IPCKindSet([.shm]), rightAligned: true) { o, _ in pid(o.cpid) },
    ObjectColumn(name: "LPID", help: "pid of the last attach or detach", kinds: IPCKindSet([.shm]), rightAligned: true) { o, _ in pid(o.lpid) },
    ObjectColumn(name: "NOTIFYPID", help: "pid registered for mq_notify (0: none)", kinds: IPCKindSet([.pmsg]), rightAligned: true) { o, _ in pid(o.notifyPid) },
    ObjectColumn(name: "RSS", help: "resident bytes", kinds: IPCKindSet([.shm]), rightAligned: true) { o, _ in o.rss.map { .bytes($0) } ?? .null },
    ObjectColumn(name: "SWAP", help: "swapped bytes", kinds: IPCKindSet([.shm]), rightAligned: true) { o, _ in o.swap.map { .bytes($0) } ?? .null },
    ObjectColumn(name: "AGE", help: "time since creation or last change", kinds: all, rightAligned: true) { o, c in o.changeTime.map { .seconds(c.now.subtractingClamped($0)) } ?? .null },
    ObjectColumn(name: "LAST", help: "time of the last use (send, receive, attach, operation)", kinds: all, rightAligned: false) { o, _ in .time(o.lastActivity) },
    ObjectColumn(name: "ORPHAN", help: "yes, no, recent (within --min-age) or unknown (not every process could be seen); on request", kinds: all, rightAligned: false) { o, c in
      if let state = c.namespaces?.orphanState(of: o) { return .text(state.word) }
      return c.orphans.map { .text($0.state(of: o).word) } ?? .null
    },
    ObjectColumn(name: "NAMESPACE", help: "the IPC namespace it was found in, ipc:[INODE] (with -A)", kinds: all, rightAligned: false) { o, c in
      c.namespaces?.entry(o.namespace).map { .text($0.label) } ?? .null
    },
    ObjectColumn(name: "CONTAINER", help: "the container or pod of that namespace, where one is recognised (with -A)", kinds: all, rightAligned: false) { o, c in
      c.namespaces?.entry(o.namespace)?.container.map { .text($0) } ?? .null
    },
    ObjectColumn(name: "PID", help: "a process in that namespace (with -A)", kinds: all, rightAligned: true) { o, c in
      c.namespaces?.entry(o.namespace)?.pid.map { .int(Int64($0)) } ?? .null
    },
    ObjectColumn(name: "COMMAND", help: "creator's command line, while it runs", kinds: IPCKindSet([.shm]), rightAligned: false) { o, c in
      o.cpid.flatMap { c.processes.command(of: $0) }.map { .text($0) } ?? .null
    },
  ]

  /// Columns shown only when named with -o (ORPHAN costs a scan of every process), or, for the
  /// namespace columns, by default with --all-namespaces.
  public static let onRequest: Set<String> = ["ORPHAN", "NAMESPACE", "CONTAINER", "PID"]

  /// The columns --all-namespaces puts before each kind's own.
  public static let namespaceColumns: [ObjectColumn] = ["NAMESPACE", "CONTAINER", "PID"].map { named($0)! }

  private static let applicableByKind: [[ObjectColumn]] = IPCKind.allCases.map { kind in
    catalog.filter { $0.kinds.contains(kind) && !onRequest.contains($0.name) }
  }
  private static let defaultsByKind: [[ObjectColumn]] = IPCKind.allCases.map(makeDefaults)

  public static func named(_ name: String) -> ObjectColumn? {
    let upper = name.uppercased()
    return catalog.first { $0.name == upper }
  }

  /// The columns a table shows for a kind by default: lsipc's, plus age, last use and holders.
  public static func defaults(for kind: IPCKind) -> [ObjectColumn] { defaultsByKind[kind.order] }

  private static func makeDefaults(_ kind: IPCKind) -> [ObjectColumn] {
    let names: [String]
    switch kind {
    case .msg: names = ["KEY", "ID", "PERMS", "OWNER", "USEDBYTES", "MSGS", "LSPID", "LRPID", "AGE", "LAST"]
    case .shm: names = ["KEY", "ID", "PERMS", "OWNER", "SIZE", "NATTCH", "STATUS", "CTIME", "CPID", "LPID", "AGE", "LAST", "COMMAND"]
    case .sem: names = ["KEY", "ID", "PERMS", "OWNER", "NSEMS", "AGE", "LAST"]
    case .pmsg: names = ["NAME", "PERMS", "OWNER", "USEDBYTES", "MSGS", "HOLDERS", "AGE", "LAST"]
    case .pshm: names = ["NAME", "PERMS", "OWNER", "SIZE", "HOLDERS", "AGE", "LAST"]
    case .psem: names = ["NAME", "PERMS", "OWNER", "VALUE", "HOLDERS", "AGE", "LAST"]
    }
    return names.map { named($0)! }
  }

  /// Whether output with these columns (nil: a format's default) shows segment rss or swap,
  /// which only the slowest source reports.
  public static func showsSegmentMemory(_ columns: [ObjectColumn]?, format: OutputFormat) -> Bool {
    if let columns { return columns.contains { $0.name == "RSS" || $0.name == "SWAP" } }
    return format == .json || format == .csv
  }

  /// Every column that applies to a kind: what JSON shows by default.
  public static func applicable(to kind: IPCKind) -> [ObjectColumn] { applicableByKind[kind.order] }
}
