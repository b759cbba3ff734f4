import Glibc
import SystemPackage

/// What became of one object selected by `swipc clean`.
public enum CleanResult: Sendable, Equatable {
  case removed
  case wouldRemove
  /// Not removed on purpose: it changed since it was shown, or its orphan state is not known.
  case skipped(String)
  /// The removal was attempted and failed (boxed: rare, and thousands of results are kept).
  indirect case failed(SwipcError)
}

/// A clean report: a row per selected object and, in the same order, what became of each.
public struct CleanReport: Sendable {
  /// What a report shows of an object: a fraction of the object's record, since a report of
  /// thousands of rows is the normal case for a cleanup.
  public struct Row: Sendable {
    public var kind: IPCKind
    public var id: Int32?
    public var key: IPCKey?
    public var name: POSIXName?
    public var uid: UInt32
    public var size: UInt64?
    /// The IPC namespace it was found in, with --all-namespaces.
    public var namespace: UInt64?

    init(_ o: IPCObject) {
      kind = o.kind; id = o.id; key = o.key; name = o.name; uid = o.uid; size = o.size; namespace = o.namespace
    }
  }

  public var rows: [Row] = []
  public var results: [CleanResult] = []
  /// The objects that would be removed, whole, when kept for a confirmation: what a person
  /// confirms at the prompt, and what the pass after the answer compares against.
  public var candidates: [IPCObject] = []
  var keepsCandidates = false
  /// Lines for stderr: kinds that could not be read, and why.
  public var warnings: [String] = []
  /// Set when no kind asked for could be read at all (as `ls` would fail): the command fails
  /// with it, rather than report an empty cleanup as done.
  public var failure: SwipcError?
  /// The errors of the kinds that could not be read, for `failure`.
  var unread: [SwipcError] = []
  /// Why each kind that could not be read, or whose directory could not be opened, was not: a
  /// confirmed object of such a kind that is not met again is not known to be gone.
  var unreadKinds: [IPCKind: SwipcError] = [:]
  /// The namespaces of a clean across namespaces (--all-namespaces), for the report's columns.
  public var namespaces: NamespaceLabels?

  public init() {}

  public var hasFailures: Bool {
    results.contains { if case .failed = $0 { return true } else { return false } }
  }

  public var removedCount: Int { results.lazy.filter { $0 == .removed }.count }

  mutating func append(_ object: IPCObject, _ result: CleanResult) {
    rows.append(Row(object))
    results.append(result)
    if keepsCandidates && result == .wouldRemove { candidates.append(object) }
  }
}

/// What `swipc clean` selects, as `CleanRequest.validate()` checked it.
public struct CleanSelection: Sendable {
  public var kinds: [IPCKind]
  public var filter: ObjectFilter
  /// Include objects of other users (neither owned nor created by the caller).
  public var allUsers = false
  public var dryRun = false
  /// In every IPC namespace of the host (`NamespacedCleaner`), each by the rules of this one.
  public var allNamespaces = false
  /// The calling user: root's clean touches root's objects only, unless asked.
  public var caller: UInt32 = getuid()

  init(kinds: [IPCKind], filter: ObjectFilter) {
    self.kinds = kinds
    self.filter = filter
  }

  /// Another user's object is selected only with --all-users or when --owner names its owner.
  func isCallers(_ object: IPCObject) -> Bool {
    allUsers || object.uid == caller || object.cuid == caller || filter.owners.contains(object.uid)
  }
}

/// Safe filtered removal, in one pass per object: read it, apply every rule of the request to what
/// was just read, remove it. Nothing is decided on a listing made earlier.
///
/// System V objects are read by index with *_STAT_ANY and removed by the id that call returned;
/// POSIX objects are judged by fstatat and removed by unlinkat through one descriptor of their
/// directory, after checking that the name still leads to the same file.
public struct Cleaner {
  public var request: CleanSelection
  public var view: IPCView
  let processes: ProcessTable
  /// The objects a person confirmed at the prompt, by the place they were shown in: only these
  /// may be removed, and only while their identity is unchanged. nil: no confirmation (--yes,
  /// --dry-run).
  var approved: [ObjectSlot: IPCObject]?

  public init(_ request: CleanSelection, view: IPCView) {
    self.request = request
    self.view = view
    self.processes = ProcessTable(procDirectory: view.proc)
  }

  /// Removes (or, with `remove: false`, reports what would be removed) every object the request
  /// selects. With `confirmed`, only objects of that earlier report's candidates are removed, each
  /// only if it is still the object that was shown and still matches.
  ///
  /// - Parameter forConfirmation: keep the candidates whole, for a question and a second pass.
  public func run(remove: Bool, confirmed: CleanReport? = nil, forConfirmation: Bool = false) throws(SwipcError)
    -> CleanReport
  {
    var pass = self
    if let confirmed {
      pass.approved = Dictionary(confirmed.candidates.map { (ObjectSlot($0), $0) }, uniquingKeysWith: { a, _ in a })
    }
    return pass.sweep(remove: remove, keepCandidates: forConfirmation)
  }

  func sweep(remove: Bool, keepCandidates: Bool) -> CleanReport {
    var report = CleanReport()
    report.keepsCandidates = keepCandidates
    report.rows.reserveCapacity(view.executor.perform { SysVEnumerator.estimate(request.kinds) } + 16)
    report.results.reserveCapacity(report.rows.capacity)
    let now = Clock.now()
    // Processes are examined now, after any confirmation: a process that started to use an
    // object while the question was on the screen is seen.
    let detector = request.filter.orphaned
      ? OrphanDetector(
        view: view, processes: processes, minAge: request.filter.minAgeSeconds, now: now, ignoreHidden: request.filter.ignoreHidden) : nil
    for kind in IPCKind.systemV where request.kinds.contains(kind) {
      // One pass in the view's namespace: every object is read, judged and removed there.
      if let e = view.executor.perform({ sweepSystemV(kind, now: now, detector: detector, remove: remove, into: &report) }) {
        report.warnings.append("\(kind.title) not cleaned: reading /proc/sysvipc/\(kind.rawValue) failed (\(SwipcError.strerror(e)))")
        let error = SwipcError(
          category: e == .noSuchFileOrDirectory ? .unavailable : nil, call: "read", object: "/proc/sysvipc/\(kind.rawValue)", errno: e)
        report.unread.append(error)
        report.unreadKinds[kind] = error
      }
    }
    let posixKinds = request.kinds.filter(\.isPOSIX)
    if !posixKinds.isEmpty {
      sweepPOSIX(posixKinds, now: now, detector: detector, remove: remove, into: &report)
    }
    if report.unread.count == request.kinds.count, let first = report.unread.first {
      report.failure = first
      report.warnings.removeAll()
    }
    if let approved {
      // What was confirmed and not met again is gone.
      let met = Set(report.rows.map(ObjectSlot.init))
      for (slot, object) in approved.sorted(by: { $0.value.label < $1.value.label }) where !met.contains(slot) {
        report.append(object, report.unreadKinds[object.kind].map { .failed($0) } ?? .skipped("no longer exists"))
      }
    }
    return report
  }

  /// Decides on one object just read: nil when it is not selected at all.
  func decide(_ object: IPCObject, now: Int64, detector: OrphanDetector?) -> CleanResult? {
    if let approved {
      // Only what was shown at the prompt may go; a different object in its place is reported.
      guard let shown = approved[ObjectSlot(object)] else { return nil }
      let (was, now) = (ObjectIdentity(shown), ObjectIdentity(object))
      if was != now { return .skipped("changed since it was shown: " + was.difference(from: now)) }
    }
    let confirming = approved != nil
    guard request.isCallers(object) else { return confirming ? .skipped("no longer the caller's") : nil }
    if let test = request.filter.failedTest(object, now: now) {
      return confirming ? .skipped("no longer matches \(test.rawValue)") : nil
    }
    if let detector {
      switch detector.state(of: object) {
      case .orphaned: break
      case .notOrphaned(let why): return confirming ? .skipped("no longer orphaned: \(why)") : nil
      case .recent(let why): return .skipped("not orphaned yet: \(why)")
      case .unknown(let why): return .skipped("orphan state unknown: \(why)")
      }
    }
    return .wouldRemove
  }

  /// One pass over the System V objects of `kind`; the errno when they could not be read at all.
  func sweepSystemV(
    _ kind: IPCKind, now: Int64, detector: OrphanDetector?, remove: Bool, into report: inout CleanReport
  ) -> Errno? {
    func handle(_ object: IPCObject) {
      guard let decision = decide(object, now: now, detector: detector) else { return }
      report.append(object, remove && decision == .wouldRemove ? removeSystemV(object) : decision)
    }
    let start = report.rows.count
    // The kernel, never SWIPC_SYSVIPC_DIR's fixture text: what is removed must be what was read.
    if SysVEnumerator.forEach(kind, handle) { return nil }
    // Without *_STAT_ANY: the ids from /proc/sysvipc, each read again by IPC_STAT just before
    // it is judged.
    var listed = [IPCObject]()
    let source = "/proc/sysvipc/" + kind.rawValue
    let read = FileReader.withContents(of: source, using: FileReader.Buffer()) { text in
      SysVProcParser.parse(text, kind: kind, source: source, into: &listed)
    }
    if case .failure(let e) = read { return e }
    let seen = Set(report.rows[start...].compactMap(\.id))
    for entry in listed {
      guard let id = entry.id, !seen.contains(id), case .success(let object) = SysVEnumerator.object(kind: kind, id: id)
      else { continue }
      handle(object)
    }
    return nil
  }

  func removeSystemV(_ object: IPCObject) -> CleanResult {
    guard let id = object.id else { return .skipped("has no id") }
    guard let backend = object.kind.systemVBackend else { return .skipped("not a System V object") }
    switch backend.remove(id: id) {
    case .success: return .removed
    case .failure(.invalidArgument), .failure(.identifierRemoved): return .skipped("no longer exists")
    case .failure(let e):
      return .failed(ObjectOperations.systemVError(e, call: object.kind.removeCall, kind: object.kind, id: id, action: "remove"))
    }
  }

  /// POSIX objects: the names come from a listing of their directories; each is judged on a
  /// fresh fstatat through the directory's descriptor and removed through the same descriptor,
  /// once the name still leads to that file.
  func sweepPOSIX(
    _ kinds: [IPCKind], now: Int64, detector: OrphanDetector?, remove: Bool, into report: inout CleanReport
  ) {
    let scanHolders = request.filter.orphaned || request.filter.unattached
    let snapshot = Inventory(view: view).snapshot(kinds: kinds, scanHolders: scanHolders, processes: processes)
    for (kind, error) in snapshot.unavailable {
      report.warnings.append("\(kind.title) not cleaned: \(error.reason ?? error.description)")
      report.unread.append(error)
      report.unreadKinds[kind] = error
    }
    var warned = IPCKindSet()
    for listed in snapshot.objects {
      guard let name = listed.name, let backend = listed.kind.posixBackend else { continue }
      let kind = listed.kind
      let directory: POSIXDirectory
      switch backend.directory(in: view).open() {
      case .success(let d): directory = d
      case .failure(let f):
        if !warned.contains(kind) {
          warned.insert(IPCKindSet([kind]))
          let error = f.error(kind: kind, name: name, action: "remove")
          report.warnings.append("\(kind.title) not cleaned: \(error.description)")
          report.unreadKinds[kind] = error
        }
        continue
      }
      let entry = backend.entry(name)
      guard case .success(let st) = directory.status(entry), st.st_mode & S_IFMT == S_IFREG else { continue }
      var object = POSIXReader.fileObject(kind: kind, name: entry[backend.entryPrefix.count...], st)
      object.size = kind == .pshm ? UInt64(st.st_size) : listed.size
      object.value = listed.value
      object.messages = listed.messages
      if let index = snapshot.holderIndex { object.holders = index.holders(of: object)?.count }
      guard let decision = decide(object, now: now, detector: detector) else { continue }
      guard remove && decision == .wouldRemove else {
        report.append(object, decision)
        continue
      }
      let result: CleanResult
      switch directory.unlink(entry, expected: POSIXDirectory.FileIdentity(st)) {
      case .success: result = .removed
      case .failure(.system(_, .noSuchFileOrDirectory)): result = .skipped("no longer exists")
      case .failure(.changed), .failure(.notRegular):
        result = .skipped("changed while it was checked: its name now leads to another file")
      case .failure(let f): result = .failed(f.error(kind: kind, name: name, action: "remove"))
      }
      report.append(object, result)
    }
  }
}

/// The place an object was shown in: its kind and id (System V) or name (POSIX).
struct ObjectSlot: Hashable {
  var kind: IPCKind
  var id: Int32?
  var name: POSIXName?

  init(_ o: IPCObject) {
    kind = o.kind; id = o.id; name = o.name
  }

  init(_ row: CleanReport.Row) {
    kind = row.kind; id = row.id; name = row.name
  }
}

/// What must be unchanged for an object to still be the one that was shown: its kind and id or
/// name, and for System V its key, owner, creator, mode, creator pid and change time; for POSIX
/// objects the file (device and inode), owner, mode and change time.
struct ObjectIdentity: Hashable {
  var kind: IPCKind
  var id: Int32?
  var name: POSIXName?
  var key: IPCKey?
  var uid: UInt32, gid: UInt32, cuid: UInt32?, cgid: UInt32?
  var mode: UInt32
  var cpid: Int32?
  var changeTime: Int64?
  var device: UInt64?, inode: UInt64?

  init(_ o: IPCObject) {
    kind = o.kind; id = o.id; name = o.name; key = o.key
    uid = o.uid; gid = o.gid; cuid = o.cuid; cgid = o.cgid
    mode = o.mode & 0o777; cpid = o.cpid; changeTime = o.changeTime
    device = o.device; inode = o.inode
  }

  /// The first field that differs, for a report.
  func difference(from now: ObjectIdentity) -> String {
    if key != now.key { return "its key is now \(now.key.map { "\($0)" } ?? "none")" }
    if uid != now.uid { return "its owner is now uid \(now.uid)" }
    if gid != now.gid { return "its group is now gid \(now.gid)" }
    if cuid != now.cuid || cgid != now.cgid { return "its creator is now uid \(now.cuid ?? 0)" }
    if mode != now.mode { return "its mode is now \(String(now.mode, radix: 8))" }
    if cpid != now.cpid { return "its creator pid is now \(now.cpid ?? 0)" }
    if device != now.device || inode != now.inode { return "its name now leads to another file" }
    if changeTime != now.changeTime { return "its change time differs (changed or written since)" }
    return "it is another object"
  }
}
