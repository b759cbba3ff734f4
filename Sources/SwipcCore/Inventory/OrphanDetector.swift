import CSwipc
import Glibc

/// Whether an object is orphaned, and if not, why not.
public enum OrphanState: Sendable, Equatable {
  /// No live process can be using it: every process that could was seen, and none does.
  case orphaned
  /// Some process uses it, or nothing shows that it was ever used.
  case notOrphaned(String)
  /// Younger than the grace period (`--min-age`): created now, perhaps used later.
  case recent(String)
  /// swipc could not see every process that might hold or wait on it.
  case unknown(String)

  public var isOrphaned: Bool { self == .orphaned }

  /// The word shown in the ORPHAN column and the JSON `orphan` field.
  public var word: String {
    switch self {
    case .orphaned: return "yes"
    case .notOrphaned: return "no"
    case .recent: return "recent"
    case .unknown: return "unknown"
    }
  }

  public var reason: String? {
    switch self {
    case .orphaned: return nil
    case .notOrphaned(let why), .recent(let why), .unknown(let why): return why
    }
  }
}

/// What this process can see of the others: the conditions under which a scan of /proc finds
/// every process that could use an object. Read once per command.
public struct ProcessVisibility: Sendable, Equatable {
  /// Why some processes are invisible, or nil when every one can be seen.
  public var blindSpot: String?
  /// Running in a child PID namespace: a pid the kernel records as 0 may be a process outside it.
  public var childPIDNamespace: Bool

  /// The pid namespace the kernel creates at boot has this fixed inode number
  /// (PROC_PID_INIT_INO in include/linux/proc_ns.h).
  static let initialPIDNamespace: UInt64 = 0xEFFF_FFFC
  static let capSysPtrace = 19
  /// PROC_SUPER_MAGIC (include/uapi/linux/magic.h).
  static let procSuperMagic: UInt = 0x9FA0

  public init(blindSpot: String?, childPIDNamespace: Bool = false) {
    self.blindSpot = blindSpot
    self.childPIDNamespace = childPIDNamespace
  }

  /// Examines the pid namespace, the /proc mount's options and this process's capabilities.
  public static func current(procDirectory: String) -> ProcessVisibility {
    // The processes scanned must be this PID namespace's: a proc filesystem whose `self` is us.
    var fs = statfs()
    let ownPID = FileReader.readLink(procDirectory + "/self").flatMap { Int32($0) }
    if statfs(procDirectory, &fs) != 0 || UInt(bitPattern: Int(fs.f_type)) != procSuperMagic || ownPID != getpid() {
      return ProcessVisibility(
        blindSpot: "\(procDirectory) is not the proc filesystem of this PID namespace: its processes are not the ones that could use the objects")
    }
    var st = stat()
    if stat("/proc/self/ns/pid", &st) == 0, UInt64(st.st_ino) != initialPIDNamespace {
      return ProcessVisibility(
        blindSpot: "swipc runs in a child PID namespace: processes outside it cannot be seen (run it from the host)",
        childPIDNamespace: true)
    }
    if let hidepid = hidePIDOption(procDirectory: procDirectory), !canSeeHiddenProcesses() {
      return ProcessVisibility(
        blindSpot: "\(procDirectory) is mounted with hidepid=\(hidepid): other users' processes are hidden (run as root)")
    }
    return ProcessVisibility(blindSpot: nil)
  }

  /// The hidepid= (or subset=pid) option of the proc mount at `procDirectory`, unless it is off.
  static func hidePIDOption(procDirectory: String) -> String? {
    guard let text = FileReader.readText("/proc/self/mountinfo") else { return nil }
    var found: String?
    // The last mount at that point is the one in force.
    for line in text.split(separator: "\n") {
      let fields = line.split(separator: " ")
      guard fields.count >= 10, IPCView.unescapeMountPath(String(fields[4])) == procDirectory,
        let dash = fields.firstIndex(of: "-"), fields.index(after: dash) < fields.endIndex,
        fields[fields.index(after: dash)] == "proc", let options = fields.last
      else { continue }
      found = nil
      for option in options.split(separator: ",") {
        if option.hasPrefix("hidepid="), option != "hidepid=0", option != "hidepid=off" {
          found = String(option.dropFirst(8))
        }
      }
    }
    return found
  }

  /// Root with CAP_SYS_PTRACE sees every process whatever hidepid says.
  static func canSeeHiddenProcesses() -> Bool {
    guard let status = FileReader.readText("/proc/self/status") else { return false }
    for line in status.split(separator: "\n") where line.hasPrefix("CapEff:") {
      guard let mask = UInt64(line.dropFirst(7).trimmingBlanksSubstring(), radix: 16) else { return false }
      return mask & (1 << UInt64(capSysPtrace)) != 0
    }
    return false
  }
}

/// Decides whether objects are orphaned: no live process can be using them.
///
/// The rules are conservative; what cannot be known is `unknown`, never orphaned:
/// - shm: no attach, and every recorded pid (creator, last attach/detach) is gone;
/// - msg: at least one process has used it, every recorded pid (last sender, last receiver) is
///   gone, and no thread of this IPC namespace is blocked in msgsnd or msgrcv on it (every
///   thread's /proc/PID/task/TID/syscall read);
/// - sem: at least one semop was made, every semaphore's last pid is gone and no process waits
///   (GETNCNT, GETZCNT, which need read permission on the set);
/// - POSIX: no process holds it open or mapped, and every process could be inspected.
/// Attach counts and semaphore waiters are counted by the kernel over every namespace; queue
/// waiters and POSIX holders only by a scan of /proc, so those are unknown when some processes
/// cannot be seen (a child PID namespace, hidepid, unreadable entries), unless `ignoreHidden`
/// says that what cannot be seen uses nothing. In a child PID namespace the kernel records a
/// process outside it as pid 0, so a 0 there is unknown too. An object younger than `minAge` is
/// `recent`.
public final class OrphanDetector {
  /// Where POSIX objects are found when their holders must be scanned here.
  let view: IPCView
  let processes: ProcessTable
  public let visibility: ProcessVisibility
  /// Seconds since creation (or last change) within which an object is never orphaned.
  public var minAge: Int64
  public var now: Int64
  /// Decide from the processes that can be examined (`--ignore-hidden`): for a namespace whose
  /// every process is visible, as in a container, never for a shared host.
  public var ignoreHidden: Bool
  private var holderIndex: HolderIndex?
  private var waiters: QueueWaiters?

  public init(
    view: IPCView, processes: ProcessTable, holderIndex: HolderIndex? = nil, minAge: Int64 = ObjectFilter.defaultMinAge,
    now: Int64 = Clock.now(), ignoreHidden: Bool = false, visibility: ProcessVisibility? = nil
  ) {
    self.ignoreHidden = ignoreHidden
    self.view = view
    self.processes = processes
    self.holderIndex = holderIndex
    self.minAge = minAge
    self.now = now
    self.visibility = visibility ?? .current(procDirectory: processes.procDirectory)
  }

  /// What to do about processes that cannot be examined: as root, nothing more can be done.
  static var advice: String { geteuid() == 0 ? "" : " (run as root)" }

  public func isOrphaned(_ object: IPCObject) -> Bool { state(of: object) == .orphaned }

  public func state(of object: IPCObject) -> OrphanState {
    let state = usage(of: object)
    guard state == .orphaned else { return state }
    if let changed = object.changeTime, now.subtractingClamped(changed) < minAge {
      // No exact age here: the same object gives the same reason from one second to the next.
      return .recent("created or changed less than --min-age \(TimeSpan(seconds: minAge)) ago")
    }
    return .orphaned
  }

  func usage(of object: IPCObject) -> OrphanState {
    switch object.kind {
    case .shm:
      if let n = object.nattch, n > 0 { return .notOrphaned("attached by \(n) process\(n == 1 ? "" : "es")") }
      return recordedPIDsGone(recordedPIDs(of: object), never: "no process has attached it")
    case .msg:
      let recorded = recordedPIDsGone(recordedPIDs(of: object), never: "no process has sent or received on it")
      guard recorded == .orphaned, let id = object.id else { return recorded }
      let waiters = queueWaiters()
      if waiters.queues.contains(id) { return .notOrphaned("a process is blocked in msgsnd or msgrcv on it") }
      if let failure = waiters.failure { return .unknown(failure) }
      if let blindSpot = visibility.blindSpot ?? waiters.blindSpot, !ignoreHidden { return .unknown(blindSpot) }
      return .orphaned
    case .sem:
      guard let id = object.id, let count = object.nsems else { return .unknown("its semaphores could not be read") }
      guard object.operationTime != nil else { return .notOrphaned("no semop has been made on it") }
      switch view.executor.perform({ SystemV.semaphores(id: id, count: Int(count)) }) {
      case .failure(let e):
        return .unknown("its waiters cannot be counted (semctl GETNCNT: \(SwipcError.strerror(e)))")
      case .success(let states):
        if states.contains(where: { $0.waitingForIncrease > 0 || $0.waitingForZero > 0 }) {
          return .notOrphaned("a process waits in semop on it")
        }
        return recordedPIDsGone(states.map { $0.lastPid }, never: "no process has operated on it")
      }
    case .pmsg, .pshm, .psem:
      let index = posixHolders()
      guard let holders = index.holders(of: object) else { return .unknown("its file could not be identified") }
      if let first = holders.first { return .notOrphaned("held by pid \(first.pid) (\(first.access.rawValue))") }
      if let reason = index.unresolvedReason { return .unknown(reason) }
      if let blindSpot = visibility.blindSpot, !ignoreHidden { return .unknown(blindSpot) }
      if index.uninspectable > 0 && !ignoreHidden {
        return .unknown("\(index.uninspectable) process\(index.uninspectable == 1 ? "" : "es") could not be inspected\(OrphanDetector.advice)")
      }
      return .orphaned
    }
  }

  /// The pids the kernel must have recorded for what the object's times show happened, 0 where
  /// it recorded none (a process outside this PID namespace).
  func recordedPIDs(of o: IPCObject) -> [Int32] {
    switch o.kind {
    case .shm:
      return [o.cpid ?? 0] + (o.attachTime != nil || o.detachTime != nil ? [o.lpid ?? 0] : [])
    case .msg:
      return (o.sendTime != nil ? [o.lspid ?? 0] : []) + (o.receiveTime != nil ? [o.lrpid ?? 0] : [])
    case .sem, .pmsg, .pshm, .psem:
      return o.recordedPIDs
    }
  }

  /// Orphaned when at least one pid was recorded and every recorded pid is gone.
  func recordedPIDsGone(_ pids: [Int32], never: String) -> OrphanState {
    let known = pids.filter { $0 > 0 }
    if visibility.childPIDNamespace && !ignoreHidden && known.count < pids.count {
      return .unknown("a recorded pid is 0: a process outside this PID namespace")
    }
    if known.isEmpty { return .notOrphaned(never) }
    if let live = known.first(where: { processes.isAlive($0) && isInNamespace($0) }) { return .notOrphaned("pid \(live) is alive") }
    return .orphaned
  }

  /// The IPC namespace whose objects are judged: the view's, else the caller's own.
  lazy var namespace: UInt64? = view.namespace ?? NamespaceScan.ownNamespaceInode()

  /// Whether a live process is in the objects' namespace: one in another cannot use them (its
  /// pid may have been reused there). setns moves one thread, so any thread in it counts; one
  /// whose threads' namespaces cannot all be read might be in it.
  func isInNamespace(_ pid: Int32) -> Bool {
    guard processes.procDirectory == "/proc", let namespace else { return true }
    let tasks = FileReader.numericEntries("/proc/\(pid)/task")
    guard !tasks.isEmpty else { return true }
    for tid in tasks {
      guard case .success(let st) = FileReader.status("/proc/\(pid)/task/\(tid)/ns/ipc", followLinks: true),
        UInt64(st.st_ino) != namespace
      else { return true }
    }
    return false
  }

  func posixHolders() -> HolderIndex {
    if let holderIndex { return holderIndex }
    // Every file in /dev/shm and the mqueue mount is of interest: scan for all of them at once.
    let snapshot = Inventory(view: view).snapshot(kinds: IPCKind.posix, scanHolders: true, processes: processes)
    let index = snapshot.holderIndex ?? HolderIndex()
    holderIndex = index
    return index
  }

  func queueWaiters() -> QueueWaiters {
    if let waiters { return waiters }
    let found = QueueWaiters.scan(procDirectory: processes.procDirectory, namespace: namespace)
    waiters = found
    return found
  }
}

/// The System V queues that some thread of this IPC namespace is blocked on, from every thread's
/// /proc/PID/task/TID/syscall.
struct QueueWaiters {
  var queues = Set<Int32>()
  /// Why some thread could not be examined, or nil when every one was.
  var blindSpot: String?
  /// Why no process could be examined at all, which `--ignore-hidden` does not waive.
  var failure: String?

  static func scan(procDirectory: String, namespace ownNamespace: UInt64?) -> QueueWaiters {
    var result = QueueWaiters()
    var unreadable = 0
    let pids: [Int32]
    switch FileReader.numericEntriesResult(procDirectory) {
    case .success(let listed): pids = listed
    case .failure(let e):
      result.failure = "\(procDirectory) could not be listed (\(SwipcError.strerror(e)))"
      return result
    }
    for pid in pids {
      let tasks = FileReader.numericEntries("\(procDirectory)/\(pid)/task")
      // A process that exits during the scan has no tasks left to wait on anything.
      for tid in tasks {
        let base = "\(procDirectory)/\(pid)/task/\(tid)"
        guard let namespace = namespaceInode(base + "/ns/ipc") else {
          if FileReader.status(base).isSuccess { unreadable += 1 }
          continue
        }
        guard namespace == ownNamespace else { continue }
        guard let text = FileReader.readText(base + "/syscall") else {
          if FileReader.status(base).isSuccess { unreadable += 1 }
          continue
        }
        if let id = blockedQueue(syscallLine: text) { result.queues.insert(id) }
      }
    }
    if unreadable > 0 {
      result.blindSpot = "\(unreadable) thread\(unreadable == 1 ? "" : "s") could not be examined for waiters\(OrphanDetector.advice)"
    }
    return result
  }

  /// The inode of a namespace link (`ipc:[4026531839]`), by stat of the link's target.
  static func namespaceInode(_ path: String) -> UInt64? {
    var st = stat()
    return stat(path, &st) == 0 ? UInt64(st.st_ino) : nil
  }

  /// The msqid of a /proc/PID/syscall line of a thread in msgsnd or msgrcv, else nil.
  static func blockedQueue(syscallLine text: String) -> Int32? {
    let fields = text.split(separator: " ")
    guard fields.count >= 2, let number = Int(fields[0]),
      number == SyscallNumbers.msgsnd || number == SyscallNumbers.msgrcv,
      fields[1].hasPrefix("0x"), let arg = UInt64(fields[1].dropFirst(2), radix: 16)
    else { return nil }
    return Int32(truncatingIfNeeded: arg)
  }
}

/// System call numbers as /proc/PID/syscall reports them.
enum SyscallNumbers {
  #if arch(x86_64)
  static let msgsnd = 69
  static let msgrcv = 70
  #elseif arch(arm64)
  static let msgsnd = 189
  static let msgrcv = 188
  #else
  static let msgsnd = -1
  static let msgrcv = -1
  #endif
}

extension Result {
  var isSuccess: Bool { if case .success = self { return true } else { return false } }
}

extension Int64 {
  /// `self - other`, held at the bounds instead of trapping: times read from /proc can be anything.
  func subtractingClamped(_ other: Int64) -> Int64 {
    let (value, overflow) = subtractingReportingOverflow(other)
    return overflow ? (other < 0 ? .max : .min) : value
  }
}

extension Substring {
  func trimmingBlanksSubstring() -> Substring {
    var s = self
    while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
    while let l = s.last, l == " " || l == "\t" || l == "\n" { s = s.dropLast() }
    return s
  }
}
