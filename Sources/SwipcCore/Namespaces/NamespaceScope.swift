/// Which IPC namespaces a command acts in: the caller's own, one named with `--namespace`, or
/// every one (`--all-namespaces`, for ls and clean).
public enum NamespaceScope: Sendable, Equatable {
  case own
  case one(String)
  case all

  /// The scope the options ask for; both at once is a usage error.
  public init(namespace: String?, all: Bool) throws(SwipcError) {
    switch (namespace, all) {
    case (.some, true): throw .usage("give --namespace or --all-namespaces, not both")
    case (.some(let target), false): self = .one(target)
    case (nil, true): self = .all
    case (nil, false): self = .own
    }
  }
}

/// A row of `swipc ls --namespaces`: one IPC namespace, what it belongs to, and what it holds.
public struct NamespaceSummary {
  public var entry: NamespaceLabels.Entry
  /// Objects and bytes per kind; nil where the namespace could not be entered.
  public var objects: [IPCKind: Int]?
  public var bytes: [IPCKind: UInt64]?

  /// One row per namespace of `listing` (made with --all-namespaces), then one per namespace
  /// that was skipped, with its counts unknown.
  public static func rows(_ listing: Listing, skipped: [IPCNamespace]) -> [NamespaceSummary] {
    guard let labels = listing.namespaces else { return [] }
    var objects: [UInt64: [IPCKind: Int]] = [:]
    var bytes: [UInt64: [IPCKind: UInt64]] = [:]
    for o in listing.objects {
      let ns = o.namespace ?? 0
      objects[ns, default: [:]][o.kind, default: 0] += 1
      bytes[ns, default: [:]][o.kind, default: 0] &+= o.size ?? 0
    }
    var rows = labels.entries.map { entry in
      NamespaceSummary(entry: entry, objects: objects[entry.inode] ?? [:], bytes: bytes[entry.inode] ?? [:])
    }
    for namespace in skipped where labels.entry(namespace.inode) == nil {
      rows.append(NamespaceSummary(entry: NamespaceLabels.Entry(namespace), objects: nil, bytes: nil))
    }
    return rows
  }
}
