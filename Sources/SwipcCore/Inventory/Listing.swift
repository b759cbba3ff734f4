/// The result of `swipc ls`: the matching objects, and what the user should be told about the rest.
public struct Listing: Sendable {
  public var kinds: [IPCKind]
  public var objects: [IPCObject]
  public var now: Int64
  /// Lines for stderr: kinds not listed and why, /proc lines skipped.
  public var warnings: [String]
  /// Set when no requested kind could be listed at all: the command fails with this error.
  public var failure: SwipcError?
  /// Orphaned objects per kind, when asked for (Prometheus output).
  public var orphanCounts: [IPCKind: Int]?

  /// Reads the inventory of `kinds` once and applies `filter`.
  public static func make(
    kinds: [IPCKind], filter: ObjectFilter, inventory: Inventory? = nil,
    processes: ProcessTable? = nil, countOrphans: Bool = false, segmentMemory: Bool = true
  ) -> Listing {
    let inventory = inventory ?? Inventory(paths: .fromEnvironment(resolvingMqueue: kinds.contains(.pmsg)))
    let processes = processes ?? ProcessTable(procDirectory: inventory.paths.proc)
    let snapshot = inventory.snapshot(
      kinds: kinds, scanHolders: true, processes: processes, segmentMemory: segmentMemory)
    var listing = Listing(kinds: kinds, objects: [], now: snapshot.now, warnings: [])
    for (kind, error) in snapshot.unavailable {
      listing.warnings.append("\(kind.title) not listed: \(error.reason ?? error.description)")
    }
    if snapshot.unavailable.count == kinds.count, let first = snapshot.unavailable.first {
      listing.failure = first.error
      listing.warnings.removeAll()
    }
    listing.warnings.append(contentsOf: snapshot.issues.map(\.description))
    let detector = (filter.orphaned || countOrphans)
      ? OrphanDetector(processes: processes, holderIndex: snapshot.holderIndex) : nil
    if filter.isEmpty {
      listing.objects = snapshot.objects
    } else {
      // In place: filter's growing copies of thousands of large records cost more than the test.
      listing.objects = snapshot.objects
      listing.objects.removeAll { !filter.matches($0, now: snapshot.now, detector: detector) }
    }
    if countOrphans, let detector {
      var counts: [IPCKind: Int] = [:]
      for o in listing.objects where detector.isOrphaned(o) { counts[o.kind, default: 0] += 1 }
      listing.orphanCounts = counts
    }
    return listing
  }
}
