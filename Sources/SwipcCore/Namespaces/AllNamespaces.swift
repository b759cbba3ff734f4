import Glibc
import SystemPackage

/// `ls --all-namespaces` and `clean --all-namespaces`: every IPC namespace of the host, each
/// listed or cleaned by the same code as the caller's own, from inside it.
///
/// System V objects and POSIX queues are read in each IPC namespace (a thread that entered it);
/// POSIX shared memory and semaphores in each distinct `/dev/shm` (whatever namespaces share it),
/// counted in the namespace of the first process found with it. Orphan states are decided inside
/// the namespace, counting only its own processes.
public struct AllNamespaces {
  public var scan: NamespaceScan
  public var base: IPCView

  public init(base: IPCView) {
    self.init(base: base, scan: NamespaceScan.scan(procDirectory: base.proc, ownShm: base.shm.label))
  }

  init(base: IPCView, scan: NamespaceScan) {
    self.base = base
    self.scan = scan
  }

  /// Namespaces that could not be entered, and the line that says so once.
  public struct Skipped {
    public var namespaces: [IPCNamespace] = []
    public var errors: [SwipcError] = []
    public var uninspectable = 0
    /// `/dev/shm` directories of mount namespaces owned by other user namespaces.
    public var foreignSharedMemory = 0
    /// Processes and `/dev/shm` directories the scan could not open, and why.
    public var unopened = 0
    public var unopenedError: Errno?

    init(_ scan: NamespaceScan) {
      uninspectable = scan.uninspectable
      foreignSharedMemory = scan.foreignSharedMemory
      unopened = scan.unopened
      unopenedError = scan.unopenedError
    }

    /// One line for stderr, or nil when nothing was left out.
    public var warning: String? {
      var parts = [String]()
      if !namespaces.isEmpty {
        let reason = errors.first?.reason ?? errors.first?.description ?? ""
        parts.append("\(namespaces.count) namespace\(namespaces.count == 1 ? "" : "s") skipped (\(reason))")
      }
      if uninspectable > 0 {
        let why = uninspectableReason(toSee: "them")
        parts.append("\(uninspectable) process\(uninspectable == 1 ? "" : "es") could not be examined, so their namespaces are not listed (\(why))")
      }
      if foreignSharedMemory > 0 {
        parts.append(
          "\(foreignSharedMemory) /dev/shm director\(foreignSharedMemory == 1 ? "y" : "ies") not listed: \(foreignSharedMemory == 1 ? "its mount namespace belongs" : "their mount namespaces belong") to another user namespace (a rootless container's), where a bind mount can pass any directory off as /dev/shm (list one from inside: nsenter -t PID -U -m swipc ls pshm psem)")
      }
      if unopened > 0 {
        let why = unopenedError.map { SwipcError.strerror($0) } ?? "out of resources"
        parts.append(
          "\(unopened) process\(unopened == 1 ? "" : "es") or /dev/shm director\(unopened == 1 ? "y" : "ies") could not be opened (\(why)), so their namespaces or objects may be missing (raise the limit: ulimit -n)")
      }
      return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }

    /// Whether the caller lacks the privilege (rather than a process having exited).
    public var forLackOfPrivilege: Bool { errors.contains { $0.category == .permissionDenied } }
  }

  /// POSIX shared memory and semaphores are files of a `/dev/shm`; every other kind lives in an
  /// IPC namespace. (A switch, not a set: a set of a type of swipc's own costs a run-time lookup.)
  static func inDirectory(_ kind: IPCKind) -> Bool {
    switch kind {
    case .pshm, .psem: return true
    case .msg, .shm, .sem, .pmsg: return false
    }
  }

  /// Every object of `kinds` in every namespace that matches `filter`.
  public func listing(
    kinds: [IPCKind], filter: ObjectFilter, orphanStates: Bool, segmentMemory: Bool,
    labels: NamespaceLabels = NamespaceLabels(), now: Int64 = Clock.now()
  ) -> (listing: Listing, skipped: Skipped) {
    var merged = Listing(kinds: kinds, objects: [], now: now, warnings: [])
    merged.namespaces = labels
    var outcome = PartOutcome()
    // The holders of every namespace's POSIX objects come from one scan of /proc, unless a
    // decision rests on them: a file made after that scan must then have unknown holders, never none.
    let processes = ProcessTable(procDirectory: base.proc)
    processes.remembersHolders = !filter.orphaned && !filter.unattached && !orphanStates
    let skipped = NamespaceVisitor.run(needed: scan.hasOthers) { visitor in
      pass(
        kinds: kinds, filter: filter, processes: processes, orphanStates: orphanStates, segmentMemory: segmentMemory,
        visitor: visitor, visited: labels.add
      ) { part, namespace, states in
        outcome.take(part, namespace, into: &merged.warnings)
        // Its name is read now, while its process is most likely still there to tell it.
        if !part.objects.isEmpty { _ = namespace.containerName }
        let start = merged.objects.count
        merged.objects.append(contentsOf: part.objects)
        for i in start..<merged.objects.count {
          merged.objects[i].namespace = namespace.inode
          if let states { labels.record(states[i - start], of: merged.objects[i]) }
        }
      }
    }
    merged.failure = outcome.failure
    return (merged, skipped)
  }

  /// The same listing for output written as it is read (ls -A as JSON or CSV, with no orphan
  /// decisions), made while the namespaces are still being found: the visiting thread reads each
  /// namespace's System V objects and queues as the scan of /proc on the caller's thread finds it;
  /// once the scan is over, it hands over each namespace's objects in the listing's order (the
  /// caller's namespace first, each `/dev/shm` after the namespace it is counted in), and `consume`
  /// gets them on the caller's thread while the next ones are read, their holders counted there
  /// from one scan of /proc. `labels` learns each namespace before its objects reach `consume`.
  /// What the listing says besides its objects (warnings, failure) is returned once it is over.
  /// Until the scan finds a namespace other than the caller's there is nothing to read meanwhile:
  /// with the caller's alone, the listing is `listing`'s, handed to `consume` once.
  public static func stream(
    base: IPCView, kinds: [IPCKind], filter: ObjectFilter, segmentMemory: Bool, labels: NamespaceLabels, now: Int64,
    consume: (inout [IPCObject]) -> Void
  ) -> (listing: Listing, skipped: Skipped) {
    precondition(canStream(filter: filter, orphanStates: false), "holders are counted after the filter")
    let scanned = Scanned(NamespaceScan.Scanner(procDirectory: base.proc, ownShm: base.shm.label))
    var first: [IPCNamespace] = []
    while let namespace = scanned.scanner.next() {
      first.append(namespace)
      if !namespace.isOwn { break }
    }
    guard first.contains(where: { !$0.isOwn }) else {
      var (listing, skipped) = AllNamespaces(base: base, scan: scanned.scanner.finish()).listing(
        kinds: kinds, filter: filter, orphanStates: false, segmentMemory: segmentMemory, labels: labels, now: now)
      consume(&listing.objects)
      listing.objects = []
      return (listing, skipped)
    }
    var summary = Listing(kinds: kinds, objects: [], now: now, warnings: [])
    summary.namespaces = labels
    enum Item {
      case namespace(IPCNamespace)
      case part(Listing, IPCNamespace)
    }
    let handover = Handover<Item>()
    // Namespaces as the scan finds them, for the visiting thread to read ahead; closed when the
    // scan, left in `scanned`, is over.
    let found = Handover<IPCNamespace>()
    for namespace in first { found.put(namespace) }
    var skipped: Skipped?
    let processes = ProcessTable(procDirectory: base.proc)
    processes.remembersHolders = true
    // Before the visiting thread opens any queue: those are swipc's own, no holder's.
    processes.ignoresLaterOwnFiles()
    var outcome = PartOutcome()
    NamespaceVisitor.run(
      needed: true,
      { visitor in
        defer { handover.close() }
        var early: [NamespacePart] = []
        if visitor == nil {
          // No thread: nothing to overlap, the scan first.
          scanned.scan = scanned.scanner.finish()
        } else {
          // Only while the scan goes on: after it, the pass reads the rest in the listing's order,
          // handing each over as it is read.
          let inNamespace = kinds.filter { !inDirectory($0) }
          while !inNamespace.isEmpty, !found.isClosed, let namespace = found.next() {
            early.append(namespacePart(
              namespace, base: base, kinds: inNamespace, filter: filter, processes: nil, orphanStates: false,
              segmentMemory: segmentMemory, visitor: visitor))
            // Read here, while its process is most likely still there, and before the namespace
            // is handed over: from then on only the caller's thread touches it.
            _ = namespace.containerName
          }
          // The scan is over once its hand-over is closed.
          while found.next() != nil {}
        }
        skipped = AllNamespaces(base: base, scan: scanned.scan!).pass(
          kinds: kinds, filter: filter, processes: nil, orphanStates: false, segmentMemory: segmentMemory,
          visitor: visitor, early: early,
          visited: { namespace in
            _ = namespace.containerName
            handover.put(.namespace(namespace))
          }
        ) { part, namespace, _ in handover.put(.part(part, namespace)) }
      },
      meanwhile: {
        if scanned.scan == nil {
          while let namespace = scanned.scanner.next() { found.put(namespace) }
          let done = scanned.scanner.finish()
          scanned.scan = done
          found.close()
          // While the other namespaces are read: the scan of every process's files that the
          // first holder count would make, with their maps only where there are files to map.
          let mappable = kinds.contains { inDirectory($0) }
            && done.namespaces.contains { $0.sharedMemory.contains { !$0.isEmpty } }
          processes.scanAllHoldersAhead(mappings: mappable)
        }
        while let item = handover.next() {
          switch item {
          case .namespace(let namespace): labels.add(namespace)
          case .part(var part, let namespace):
            outcome.take(part, namespace, into: &summary.warnings)
            let files = Inventory.heldFiles(part.objects)
            if !files.isEmpty {
              // Maps are read only once a part holds files that can be mapped, as `Inventory` does.
              let mapped = part.objects.contains { $0.kind == .pshm || $0.kind == .psem }
              Inventory.countHolders(processes.scanHolders(files: files, segments: false, mappings: mapped), in: &part.objects)
            }
            for i in part.objects.indices { part.objects[i].namespace = namespace.inode }
            consume(&part.objects)
          }
        }
      })
    summary.failure = outcome.failure
    return (summary, skipped ?? Skipped(NamespaceScan()))
  }

  /// The scan, made on the caller's thread and handed to the visiting thread (through `Handover`'s
  /// ordering: written before the hand-over of namespaces is closed, read after).
  private final class Scanned: @unchecked Sendable {
    var scanner: NamespaceScan.Scanner
    var scan: NamespaceScan?

    init(_ scanner: NamespaceScan.Scanner) { self.scanner = scanner }
  }

  /// Whether a listing may be streamed: holders are counted after the filter there, so no
  /// decision may rest on them (`--orphaned`, `--unattached`, orphan states).
  public static func canStream(filter: ObjectFilter, orphanStates: Bool) -> Bool {
    !orphanStates && !filter.orphaned && !filter.unattached
  }

  /// What the parts of a pass said: warnings named by namespace, and the failure of a listing
  /// none of whose parts could be read.
  struct PartOutcome {
    var listed = 0
    var firstFailure: SwipcError?

    mutating func take(_ part: Listing, _ namespace: IPCNamespace, into warnings: inout [String]) {
      for warning in part.warnings { warnings.append(namespace.description + ": " + warning) }
      if let error = part.failure {
        firstFailure = firstFailure ?? error
        warnings.append(namespace.description + ": " + error.description)
      } else {
        listed += 1
      }
    }

    var failure: SwipcError? { listed == 0 ? firstFailure : nil }
  }

  /// The pass over every namespace: System V objects and POSIX queues from inside each one, then
  /// the files of each of its `/dev/shm` directories. `visited` hears of each namespace listed
  /// before its parts reach `take`. Runs inside `NamespaceVisitor.run`, on its `visitor`. Without
  /// `processes`, holders are not counted.
  private func pass(
    kinds: [IPCKind], filter: ObjectFilter, processes: ProcessTable?, orphanStates: Bool, segmentMemory: Bool,
    visitor: NamespaceVisitor?, early: [NamespacePart] = [], visited: (IPCNamespace) -> Void,
    take: (Listing, IPCNamespace, [OrphanState]?) -> Void
  ) -> Skipped {
    var skipped = Skipped(scan)
    let inNamespace = kinds.filter { !Self.inDirectory($0) }
    let inDirectory = kinds.filter(Self.inDirectory)
    let holders = processes != nil
      for namespace in scan.namespaces {
        if !inNamespace.isEmpty {
          let read = early.first { $0.namespace === namespace } ?? Self.namespacePart(
            namespace, base: base, kinds: inNamespace, filter: filter, processes: processes, orphanStates: orphanStates,
            segmentMemory: segmentMemory, visitor: visitor)
          if let error = read.error {
            skipped.namespaces.append(namespace)
            skipped.errors.append(error)
            continue
          }
          guard let part = read.listing else { continue }
          visited(namespace)
          take(part, namespace, read.states)
        }
        guard !inDirectory.isEmpty else { continue }
        visited(namespace)
        for root in namespace.sharedMemory {
          // POSIX files need no namespace: the caller's view, with this directory.
          var view = base
          view.namespace = namespace.inode
          guard case .success(let fd) = root.duplicate() else { continue }
          view.shm = .descriptor(OwnedDescriptor(fd), label: root.label, live: true)
          let (part, states) = Self.list(
            kinds: inDirectory, filter: filter, view: view, processes: processes, orphanStates: orphanStates,
            segmentMemory: false, holders: holders)
          take(part, namespace, states)
        }
      }
    return skipped
  }

  /// A namespace's System V objects and POSIX queues, read from inside it, or why it could not be
  /// entered. (A struct, not a Result of a tuple: the run-time set-up of such a generic type costs
  /// `ls -A` of one namespace a tenth of a millisecond.)
  struct NamespacePart {
    let namespace: IPCNamespace
    var listing: Listing?
    var states: [OrphanState]?
    /// Set when `listing` is nil.
    var error: SwipcError?
  }

  private static func namespacePart(
    _ namespace: IPCNamespace, base: IPCView, kinds: [IPCKind], filter: ObjectFilter, processes: ProcessTable?, orphanStates: Bool,
    segmentMemory: Bool, visitor: NamespaceVisitor?
  ) -> NamespacePart {
    switch IPCView.entering(namespace, base: base, shm: .none, visitor: visitor) {
    case .failure(let error): return NamespacePart(namespace: namespace, error: error)
    case .success(let view):
      let (listing, states) = list(
        kinds: kinds, filter: filter, view: view, processes: processes, orphanStates: orphanStates,
        segmentMemory: segmentMemory, holders: processes != nil)
      return NamespacePart(namespace: namespace, listing: listing, states: states)
    }
  }

  /// One namespace's (or one directory's) listing, with the orphan state of each object when asked.
  static func list(
    kinds: [IPCKind], filter: ObjectFilter, view: IPCView, processes: ProcessTable?, orphanStates: Bool, segmentMemory: Bool,
    holders: Bool
  ) -> (Listing, [OrphanState]?) {
    let listing = Listing.make(
      kinds: kinds, filter: filter, inventory: Inventory(view: view), processes: processes, orphanStates: orphanStates,
      segmentMemory: segmentMemory, holders: holders)
    guard orphanStates, let detector = listing.detector else { return (listing, nil) }
    return (listing, listing.objects.map { detector.state(of: $0) })
  }
}

/// `clean --all-namespaces`: the rules of `clean`, applied by one `Cleaner` per namespace (and
/// per `/dev/shm`) from inside it; a confirmation covers them all, and the pass after it removes
/// in each place only what was shown from that place.
public struct NamespacedCleaner {
  public var request: CleanSelection
  public var namespaces: AllNamespaces

  public init(_ request: CleanSelection, base: IPCView) {
    self.request = request
    namespaces = AllNamespaces(base: base)
  }

  public func run(remove: Bool, confirmed: CleanReport? = nil, forConfirmation: Bool = false) throws(SwipcError)
    -> (report: CleanReport, skipped: AllNamespaces.Skipped)
  {
    let labels = NamespaceLabels()
    var merged = CleanReport()
    merged.namespaces = labels
    var skipped = AllNamespaces.Skipped(namespaces.scan)
    let inNamespace = request.kinds.filter { !AllNamespaces.inDirectory($0) }
    let inDirectory = request.kinds.filter(AllNamespaces.inDirectory)
    var read = 0
    var failure: SwipcError?
    func take(_ part: CleanReport, _ namespace: IPCNamespace) {
      for warning in part.warnings { merged.warnings.append(namespace.description + ": " + warning) }
      if let error = part.failure {
        failure = failure ?? error
        merged.warnings.append(namespace.description + ": " + error.description)
      } else {
        read += 1
      }
      for (row, result) in zip(part.rows, part.results) {
        var row = row
        row.namespace = namespace.inode
        merged.rows.append(row)
        merged.results.append(result)
      }
      for var object in part.candidates {
        object.namespace = namespace.inode
        merged.candidates.append(object)
      }
    }
    // What was confirmed in one place: the candidates of this namespace and these kinds (and,
    // for files, of this directory's filesystem).
    func confirmedPart(_ namespace: IPCNamespace, kinds: [IPCKind], device: UInt64?) -> CleanReport? {
      guard var part = confirmed else { return nil }
      part.candidates = part.candidates.filter {
        $0.namespace == namespace.inode && kinds.contains($0.kind) && (device == nil || $0.device == device)
      }
      return part
    }
    try NamespaceVisitor.run(needed: namespaces.scan.hasOthers) { (visitor) throws(SwipcError) in
    for namespace in namespaces.scan.namespaces {
      if !inNamespace.isEmpty {
        var sub = request
        sub.kinds = inNamespace
        let approved = confirmedPart(namespace, kinds: inNamespace, device: nil)
        switch IPCView.entering(namespace, base: namespaces.base, shm: .none, visitor: visitor) {
        case .failure(let error):
          skipped.namespaces.append(namespace)
          skipped.errors.append(error)
          continue
        case .success(let view):
          let part = try Cleaner(sub, view: view).run(remove: remove, confirmed: approved, forConfirmation: forConfirmation)
          labels.add(namespace)
          take(part, namespace)
        }
      }
      guard !inDirectory.isEmpty else { continue }
      labels.add(namespace)
      for root in namespace.sharedMemory {
        var sub = request
        sub.kinds = inDirectory
        var view = namespaces.base
        view.namespace = namespace.inode
        guard case .success(let fd) = root.duplicate() else { continue }
        view.shm = .descriptor(OwnedDescriptor(fd), label: root.label, live: true)
        let part = try Cleaner(sub, view: view).run(
          remove: remove, confirmed: confirmedPart(namespace, kinds: inDirectory, device: root.identity.device),
          forConfirmation: forConfirmation)
        take(part, namespace)
      }
    }
    }
    if read == 0, let failure { merged.failure = failure }
    return (merged, skipped)
  }
}
