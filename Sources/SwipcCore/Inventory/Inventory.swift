import Glibc
import SystemPackage

/// Everything the inventory found for a set of kinds, read in one pass.
public struct InventorySnapshot: Sendable {
  public var objects: [IPCObject] = []
  /// Kinds that could not be listed, with the reason (e.g. mqueue not mounted).
  public var unavailable: [(kind: IPCKind, error: SwipcError)] = []
  /// Lines of /proc text that were skipped.
  public var issues: [ParseIssue] = []
  /// The time the snapshot was taken (seconds since the epoch).
  public var now: Int64 = 0
  /// Holders of POSIX objects and segments, when they were scanned.
  public var holderIndex: HolderIndex?
}

/// Reads the objects of the requested kinds: /proc/sysvipc for System V, /dev/shm and the mqueue
/// filesystem for POSIX. Never needs permission on the objects themselves to list them.
public struct Inventory {
  public var view: IPCView

  public init(view: IPCView) {
    self.view = view
  }

  /// Lists the objects of `kinds`.
  ///
  /// - Parameters:
  ///   - scanHolders: find the processes holding POSIX objects (one pass over /proc/*/fd and
  ///     /proc/*/maps); done only when POSIX objects were found.
  ///   - processes: the process table used for the scan.
  ///   - segmentMemory: read the rss and swap of System V segments, which only
  ///     /proc/sysvipc/shm reports and which make it the slowest source; without it, segments are
  ///     listed through SHM_STAT_ANY like queues and semaphore sets.
  public func snapshot(
    kinds: [IPCKind], scanHolders: Bool = true, processes: ProcessTable? = nil,
    segmentMemory: Bool = true
  ) -> InventorySnapshot {
    var snapshot = InventorySnapshot()
    snapshot.now = Clock.now()
    // One pass per file, parsed in place; the records of every kind go into one array, sized
    // once (records are large, and moving thousands of them costs more than parsing them).
    view.executor.perform { readSystemV(kinds: kinds, segmentMemory: segmentMemory, into: &snapshot) }
    readPOSIX(kinds: kinds, into: &snapshot)
    // pshm and psem come from one directory; put every kind in its place, by id or name within.
    let inOrder = { (a: IPCObject, b: IPCObject) -> Bool in
      if a.kind != b.kind { return a.kind < b.kind }
      if let x = a.id, let y = b.id { return x < y }
      guard let x = a.name, let y = b.name else { return a.name == nil && b.name != nil }
      return x < y
    }
    if !snapshot.objects.isSorted(by: inOrder) { snapshot.objects.sort(by: inOrder) }
    if scanHolders { findHolders(processes: processes, in: &snapshot) }
    return snapshot
  }

  /// The System V kinds among `kinds`; runs inside the view's namespace.
  func readSystemV(kinds: [IPCKind], segmentMemory: Bool, into snapshot: inout InventorySnapshot) {
    snapshot.objects.reserveCapacity(SysVEnumerator.estimate(kinds) + 16)
    let buffer = FileReader.Buffer()
    let live = view.kernelSystemV
    for kind in IPCKind.systemV where kinds.contains(kind) {
      let path = view.sysvipc + "/" + kind.rawValue
      let start = snapshot.objects.count
      if live && (kind != .shm || !segmentMemory) && SysVEnumerator.list(kind, into: &snapshot.objects) {
        if !snapshot.objects[start...].isSorted(by: { $0.id! < $1.id! }) {
          snapshot.objects[start...].sort { $0.id! < $1.id! }
        }
        continue
      }
      snapshot.objects.removeSubrange(start...)
      let read = FileReader.withContents(of: path, using: buffer) { text in
        SysVProcParser.parse(text, kind: kind, source: path, into: &snapshot.objects)
      }
      switch read {
      case .failure(let e):
        snapshot.unavailable.append(
          (kind, SwipcError(
            category: e == .noSuchFileOrDirectory ? .unavailable : nil, call: "open", object: path,
            errno: e,
            reason: e == .noSuchFileOrDirectory
              ? "not found: this kernel has no System V IPC (CONFIG_SYSVIPC) or /proc is not mounted"
              : nil)))
      case .success(let issues):
        snapshot.issues.append(contentsOf: issues)
        if !snapshot.objects[start...].isSorted(by: { $0.id! < $1.id! }) {
          snapshot.objects[start...].sort { $0.id! < $1.id! }
        }
      }
    }
  }

  /// The POSIX kinds among `kinds`, through the view's directories.
  func readPOSIX(kinds: [IPCKind], into snapshot: inout InventorySnapshot) {
    let posixFileKinds = Set(kinds.filter { $0 == .pshm || $0 == .psem })
    if kinds.contains(.pmsg) {
      switch view.mqueue.resolved {
      case .open(let directory, let live):
        // Inside the namespace: the listing mq_opens the names it finds.
        switch view.executor.perform({ POSIXReader.messageQueues(in: directory, canOpen: live) }) {
        case .failure(let e):
          snapshot.unavailable.append((.pmsg, SwipcError(call: "opendir", object: directory.path, errno: e)))
        case .success(let objects): snapshot.objects.append(contentsOf: objects)
        }
      case .failed(let path, let e):
        snapshot.unavailable.append(
          (.pmsg, SwipcError(
            category: e == .noSuchFileOrDirectory || e == .notDirectory ? .unavailable : nil,
            call: "opendir", object: path, errno: e,
            reason: e == .noSuchFileOrDirectory ? "not found: " + IPCView.mqueueHint : nil)))
      case .absent:
        snapshot.unavailable.append(
          (.pmsg, SwipcError(
            category: .unavailable, call: "", object: "POSIX message queues",
            reason: IPCView.mqueueHint)))
      }
    }
    if !posixFileKinds.isEmpty {
      let listed = view.shm.open().mapError { failure -> Errno in
        if case .system(_, let e) = failure { return e }
        if case .refused = failure { return .notPermitted }
        return .notDirectory
      }.flatMap { POSIXReader.sharedMemoryAndSemaphores(in: $0, kinds: posixFileKinds) }
      switch listed {
      case .failure(let e):
        let error = SwipcError(
          category: e == .noSuchFileOrDirectory ? .unavailable : nil, call: "opendir",
          object: view.shm.label, errno: e,
          reason: view.shm.refusal ?? (e == .noSuchFileOrDirectory ? "not found: no tmpfs for POSIX shared memory is mounted there" : nil))
        for kind in posixFileKinds.sorted() { snapshot.unavailable.append((kind, error)) }
      case .success(let objects): snapshot.objects.append(contentsOf: objects)
      }
    }
  }

  /// The processes holding the POSIX objects found: one pass over /proc of the view.
  func findHolders(processes: ProcessTable?, in snapshot: inout InventorySnapshot) {
    let files = Self.heldFiles(snapshot.objects)
    if !files.isEmpty {
      let table = processes ?? ProcessTable(procDirectory: view.proc)
      let mapped = snapshot.objects.contains { $0.kind == .pshm || $0.kind == .psem }
      let index = table.scanHolders(files: files, segments: false, mappings: mapped)
      snapshot.holderIndex = index
      Self.countHolders(index, in: &snapshot.objects)
    }
  }

  /// The files of the POSIX objects among `objects`, whose holders a scan of /proc finds.
  public static func heldFiles(_ objects: [IPCObject]) -> Set<HolderIndex.FileID> {
    Set(objects.compactMap { o -> HolderIndex.FileID? in
      guard o.kind.isPOSIX, let d = o.device, let i = o.inode else { return nil }
      return HolderIndex.FileID(device: d, inode: i)
    })
  }

  /// Each POSIX object's holders as `index` found them: a count only where every process could be
  /// seen, or a count above zero (at least that many; more may hide in processes not inspected).
  public static func countHolders(_ index: HolderIndex, in objects: inout [IPCObject]) {
    for i in objects.indices where objects[i].kind.isPOSIX {
      if index.uninspectable == 0 && index.unresolved == 0 {
        objects[i].holders = index.holders(of: objects[i])?.count
      } else if let count = index.holders(of: objects[i])?.count, count > 0 {
        objects[i].holders = count
      }
    }
  }
}

extension Collection {
  /// Whether every element is in order: one pass, so that already-ordered /proc text is not sorted
  /// (and its large records not moved) again.
  func isSorted(by areInIncreasingOrder: (Element, Element) -> Bool) -> Bool {
    var previous = startIndex
    guard previous != endIndex else { return true }
    var i = index(after: previous)
    while i != endIndex {
      if areInIncreasingOrder(self[i], self[previous]) { return false }
      previous = i
      i = index(after: i)
    }
    return true
  }
}

/// Wall-clock seconds, without Foundation.
public enum Clock {
  public static func now() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec)
  }
}
