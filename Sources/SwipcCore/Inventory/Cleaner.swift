import Glibc
import SystemPackage

/// What became of one object selected by `swipc clean`.
public enum CleanResult: Sendable, Equatable {
  case removed
  case wouldRemove
  /// Not removed on purpose (it changed or vanished since it was listed).
  case skipped(String)
  /// The removal was attempted and failed.
  case failed(SwipcError)
}

/// A clean report: the selected objects and, in the same order, what became of each. The objects
/// are the selection's own array, not copies: a report of thousands of objects copies none.
public struct CleanReport: Sendable {
  public var objects: [IPCObject]
  public var results: [CleanResult]

  public var hasFailures: Bool {
    results.contains { if case .failed = $0 { return true } else { return false } }
  }
}

/// What `swipc clean` is asked to do (SPEC §5).
public struct CleanRequest: Sendable {
  public var kinds: [IPCKind]
  public var filter: ObjectFilter
  /// Select every object of the kinds (explicitly, since no filter at all is refused).
  public var all = false
  /// Include objects of other users (neither owned nor created by the caller).
  public var allUsers = false
  public var dryRun = false
  /// The calling user: root's clean touches root's objects only, unless asked.
  public var caller: UInt32 = getuid()

  public init(kinds: [IPCKind], filter: ObjectFilter) {
    self.kinds = kinds
    self.filter = filter
  }

  public func validate() throws(SwipcError) {
    if filter.isEmpty && !all {
      throw .usage("clean needs a filter (e.g. --orphaned, --older-than 7d) or --all to select every object")
    }
  }
}

/// Safe filtered removal: select, then re-check each object just before removing it.
public enum Cleaner {
  /// The objects the request selects, in listing order, and warnings for stderr.
  public static func select(_ request: CleanRequest, inventory: Inventory? = nil) throws(SwipcError)
    -> (objects: [IPCObject], warnings: [String])
  {
    try request.validate()
    let listing = Listing.make(kinds: request.kinds, filter: request.filter, inventory: inventory, segmentMemory: false)
    if let failure = listing.failure { throw failure }
    // Arrays of thousands of records are filtered only when something is left out: each copy
    // of them is megabytes of fresh pages.
    var objects = listing.objects
    if !objects.allSatisfy({ isCallers($0, request) }) { objects.removeAll { !isCallers($0, request) } }
    return (objects, listing.warnings)
  }

  /// Another user's object is selected only with --all-users or when --owner names its owner.
  static func isCallers(_ object: IPCObject, _ request: CleanRequest) -> Bool {
    request.allUsers || object.uid == request.caller || object.cuid == request.caller
      || request.filter.owners.contains(object.uid)
  }

  /// Removes the selected objects, each after checking that it is still the object that was
  /// listed: same id, key, creator and change time (System V), or same file, owner and change
  /// time (POSIX). Goes on after a failure. The results are in the order of `objects`.
  public static func execute(
    _ objects: [IPCObject], dryRun: Bool, paths: InventoryPaths = .fromEnvironment()
  ) -> CleanReport {
    var results = [CleanResult](repeating: .wouldRemove, count: objects.count)
    if !dryRun {
      // By index: enumerating would copy each large record.
      for i in objects.indices { results[i] = checkAndRemove(objects[i], paths: paths) }
    }
    return CleanReport(objects: objects, results: results)
  }

  /// Checks that `object` is still the one listed, then removes it.
  static func checkAndRemove(_ object: IPCObject, paths: InventoryPaths) -> CleanResult {
    if let reason = changedSinceListing(object, paths: paths) { return .skipped(reason) }
    let target: ObjectTarget = object.name.map { .name($0) } ?? .id(object.id!)
    let expected = object.device.flatMap { d in object.inode.map { POSIXDirectory.FileIdentity(device: d, inode: $0) } }
    switch Result(catching: { () throws(SwipcError) in
      try ObjectOperations.remove(kind: object.kind, target: target, paths: paths, expected: expected)
    }) {
    case .success: return .removed
    case .failure(let error) where error.category == .notFound: return .skipped("no longer exists")
    case .failure(let error): return .failed(error)
    }
  }

  /// Why the object may no longer be the one listed, or nil when it is unchanged.
  static func changedSinceListing(_ listed: IPCObject, paths: InventoryPaths) -> String? {
    if let id = listed.id {
      switch SystemV.permissions(kind: listed.kind, id: id) {
      case .failure(.invalidArgument), .failure(.identifierRemoved): return "no longer exists"
      case .failure(let e): return "cannot re-check it before removal (\(SwipcError.strerror(e)))"
      case .success(let now):
        if now.key != listed.key { return "changed since it was listed: key is now \(now.key)" }
        if now.cuid != listed.cuid { return "changed since it was listed: creator is now uid \(now.cuid)" }
        if now.changeTime != (listed.changeTime ?? 0) { return "changed since it was listed: change time differs" }
        return nil
      }
    }
    guard let name = listed.name,
      let directory = try? POSIXDirectory(kind: listed.kind, paths: paths)
    else {
      return "cannot re-check it before removal"
    }
    switch directory.status(POSIXDirectory.entry(kind: listed.kind, name)) {
    case .failure(.system(_, .noSuchFileOrDirectory)): return "no longer exists"
    case .failure(.system(_, let e)): return "cannot re-check it before removal (\(SwipcError.strerror(e)))"
    case .failure: return "cannot re-check it before removal"
    case .success(let st):
      if UInt64(st.st_ino) != listed.inode || UInt64(st.st_dev) != listed.device {
        return "changed since it was listed: a different object has the name now"
      }
      if st.st_uid != listed.uid { return "changed since it was listed: owner is now uid \(st.st_uid)" }
      if Int64(st.st_ctim.tv_sec) != (listed.changeTime ?? 0) { return "changed since it was listed: change time differs" }
      return nil
    }
  }
}
