/// The result of `swipc ls`: the matching objects, and what the user should be told about the rest.
public struct Listing {
  public var kinds: [IPCKind]
  public var objects: [IPCObject]
  public var now: Int64
  /// Lines for stderr: kinds not listed and why, /proc lines skipped.
  public var warnings: [String]
  /// Set when no requested kind could be listed at all: the command fails with this error.
  public var failure: SwipcError?
  /// Orphaned objects per kind, when asked for (Prometheus output).
  public var orphanCounts: [IPCKind: Int]?
  /// Objects per kind whose orphan state is unknown, counted with `orphanCounts`.
  public var unknownOrphanCounts: [IPCKind: Int]?
  /// The orphan detector used, when orphan states were asked for: the ORPHAN column reads it.
  public var detector: OrphanDetector?
  /// The namespaces the objects were found in, with --all-namespaces.
  public var namespaces: NamespaceLabels?

  /// Reads the inventory of `kinds` once and applies `filter`. Without `holders`, POSIX objects'
  /// holders are left for the caller to count (`Inventory.countHolders`); no filter may need them.
  public static func make(
    kinds: [IPCKind], filter: ObjectFilter, inventory: Inventory,
    processes: ProcessTable? = nil, countOrphans: Bool = false, orphanStates: Bool = false,
    segmentMemory: Bool = true, holders: Bool = true
  ) -> Listing {
    let processes = processes ?? ProcessTable(procDirectory: inventory.view.proc)
    let snapshot = inventory.snapshot(
      kinds: kinds, scanHolders: holders, processes: processes, segmentMemory: segmentMemory)
    var listing = Listing(kinds: kinds, objects: [], now: snapshot.now, warnings: [])
    for (kind, error) in snapshot.unavailable {
      listing.warnings.append("\(kind.title) not listed: \(error.reason ?? error.description)")
    }
    if snapshot.unavailable.count == kinds.count, let first = snapshot.unavailable.first {
      listing.failure = first.error
      listing.warnings.removeAll()
    }
    listing.warnings.append(contentsOf: snapshot.issues.map(\.description))
    let detector = (filter.orphaned || countOrphans || orphanStates)
      ? OrphanDetector(
        view: inventory.view, processes: processes, holderIndex: snapshot.holderIndex, minAge: filter.minAgeSeconds, now: snapshot.now,
        ignoreHidden: filter.ignoreHidden)
      : nil
    listing.detector = detector
    listing.objects = snapshot.objects
    if filter.orphaned, let detector {
      // Objects left out because their state cannot be known are counted, not hidden silently.
      var unknown = 0
      var reason = ""
      listing.objects.removeAll { object in
        guard filter.matchesStatically(object, now: snapshot.now) else { return true }
        let state = detector.state(of: object)
        if case .unknown(let why) = state {
          unknown += 1
          reason = why
        }
        return !state.isOrphaned
      }
      if unknown > 0 {
        listing.warnings.append(
          "\(unknown) object\(unknown == 1 ? "" : "s") not listed as orphaned: orphan state unknown (\(reason)); see -o ORPHAN")
      }
    } else if !filter.isEmpty {
      // In place: filter's growing copies of thousands of large records cost more than the test.
      listing.objects.removeAll { !filter.matchesStatically($0, now: snapshot.now) }
    }
    if countOrphans, let detector {
      var counts: [IPCKind: Int] = [:]
      var unknown: [IPCKind: Int] = [:]
      for o in listing.objects {
        switch detector.state(of: o) {
        case .orphaned: counts[o.kind, default: 0] += 1
        case .unknown: unknown[o.kind, default: 0] += 1
        case .notOrphaned, .recent: break
        }
      }
      listing.orphanCounts = counts
      listing.unknownOrphanCounts = unknown
    }
    return listing
  }
}
