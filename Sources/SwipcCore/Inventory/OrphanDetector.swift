import Glibc

/// Decides whether an object is orphaned: no live process can be using it (SPEC §5).
///
/// The rules are conservative; unknown is never orphaned:
/// - shm: no attach, and every recorded pid (creator, last attach/detach) is gone;
/// - msg: every recorded pid (last sender, last receiver) is gone and no process is blocked in
///   msgsnd/msgrcv on it (seen in /proc/PID/syscall where readable);
/// - sem: every semaphore's last pid is gone and no process waits (GETNCNT, GETZCNT); needs read
///   permission on the set, otherwise unknown;
/// - POSIX: no process holds it open or mapped, and every process could be inspected.
/// A pid of 0 means "unknown" and never counts as gone; an object with no recorded pid at all is
/// not orphaned.
public final class OrphanDetector {
  let processes: ProcessTable
  private var holderIndex: HolderIndex?
  private var blockedOnQueue: Set<Int32>?

  public init(processes: ProcessTable, holderIndex: HolderIndex? = nil) {
    self.processes = processes
    self.holderIndex = holderIndex
  }

  public func isOrphaned(_ object: IPCObject) -> Bool {
    switch object.kind {
    case .shm:
      guard object.nattch == 0 else { return false }
      return allGone(object.recordedPIDs)
    case .msg:
      guard allGone(object.recordedPIDs), let id = object.id else { return false }
      return !queuesWithBlockedProcesses().contains(id)
    case .sem:
      guard let id = object.id, let count = object.nsems,
        case .success(let states) = SystemV.semaphores(id: id, count: Int(count))
      else { return false }
      guard states.allSatisfy({ $0.waitingForIncrease == 0 && $0.waitingForZero == 0 }) else {
        return false
      }
      return allGone(states.map { $0.lastPid }.filter { $0 > 0 })
    case .pmsg, .pshm, .psem:
      let index = posixHolders()
      guard index.uninspectable == 0, let holders = index.holders(of: object) else { return false }
      return holders.isEmpty
    }
  }

  /// True when there is at least one known pid and every known pid is gone.
  func allGone(_ pids: [Int32]) -> Bool {
    let known = pids.filter { $0 > 0 }
    return !known.isEmpty && known.allSatisfy { !processes.isAlive($0) }
  }

  func posixHolders() -> HolderIndex {
    if let holderIndex { return holderIndex }
    // Every file in /dev/shm and the mqueue mount is of interest: scan for all of them at once.
    let paths = InventoryPaths.fromEnvironment()
    let snapshot = Inventory(paths: paths).snapshot(kinds: IPCKind.posix, scanHolders: true, processes: processes)
    let index = snapshot.holderIndex ?? HolderIndex()
    holderIndex = index
    return index
  }

  /// The msqids that some process is blocked on in msgsnd or msgrcv, from /proc/PID/syscall.
  func queuesWithBlockedProcesses() -> Set<Int32> {
    if let blockedOnQueue { return blockedOnQueue }
    var ids = Set<Int32>()
    for pid in FileReader.numericEntries(processes.procDirectory) {
      guard let text = FileReader.readText("\(processes.procDirectory)/\(pid)/syscall") else { continue }
      let fields = text.split(separator: " ")
      guard fields.count >= 2, let number = Int(fields[0]),
        number == SyscallNumbers.msgsnd || number == SyscallNumbers.msgrcv,
        let arg = UInt64(fields[1].dropFirst(2), radix: 16)
      else { continue }
      ids.insert(Int32(truncatingIfNeeded: arg))
    }
    blockedOnQueue = ids
    return ids
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
