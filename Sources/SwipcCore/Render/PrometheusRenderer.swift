/// The Prometheus text exposition format, for node_exporter's textfile collector.
public struct PrometheusWriter {
  public private(set) var out = OutputBuffer()
  private var declared: Set<String> = []

  public init() {}

  /// Writes one sample, with its HELP and TYPE lines the first time the metric appears.
  public mutating func sample(
    _ name: String, help: String, labels: [(String, String)] = [], value: Double, type: String = "gauge"
  ) {
    if !declared.contains(name) {
      declared.insert(name)
      out.write("# HELP \(name) \(help)\n# TYPE \(name) \(type)\n")
    }
    out.write(name)
    if !labels.isEmpty {
      out.write(byte: 123)
      for (i, (key, text)) in labels.enumerated() {
        if i > 0 { out.write(byte: 44) }
        out.write(key)
        out.write("=\"")
        for ch in text.utf8 {
          switch ch {
          case 92: out.write("\\\\")
          case 34: out.write("\\\"")
          case 10: out.write("\\n")
          // The format escapes nothing else: another control character (a machine's name may
          // hold any, written `\x1b` in its unit) would reach whoever reads the file on a
          // terminal as it is. It becomes U+FFFD.
          case 0..<32, 127: out.write("\u{FFFD}")
          default: out.write(byte: ch)
          }
        }
        out.write(byte: 34)
      }
      out.write(byte: 125)
    }
    out.write(byte: 32)
    out.write(PrometheusWriter.format(value))
    out.newline()
  }

  static func format(_ value: Double) -> String {
    if value.isNaN { return "NaN" }
    if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
    return String(value)
  }
}

/// Object counts and bytes per kind and owner, and orphaned objects per kind; with
/// `namespaces` (--all-namespaces), each sample also per IPC namespace, labelled `namespace` and
/// `container` (empty when none), so that an alert can name one pod's leak.
public enum InventoryMetrics {
  public static func write(
    _ objects: [IPCObject], kinds: [IPCKind], orphaned: [IPCKind: Int]?, unknownOrphans: [IPCKind: Int]? = nil,
    users: UserDirectory, namespaces: NamespaceLabels? = nil, into writer: inout PrometheusWriter
  ) {
    struct Group {
      var labels: [(String, String)]
      var objects: [IPCObject]
      var orphaned: [IPCKind: Int]?
      var unknown: [IPCKind: Int]?
    }
    var groups: [Group]
    if let namespaces {
      var byNamespace: [UInt64: [IPCObject]] = [:]
      for o in objects { byNamespace[o.namespace ?? 0, default: []].append(o) }
      let counting = orphaned != nil
      groups = namespaces.entries.map { entry in
        let mine = byNamespace[entry.inode] ?? []
        var orphans: [IPCKind: Int] = [:]
        var unknown: [IPCKind: Int] = [:]
        for o in mine {
          switch namespaces.orphanState(of: o) {
          case .orphaned: orphans[o.kind, default: 0] += 1
          case .unknown: unknown[o.kind, default: 0] += 1
          default: break
          }
        }
        return Group(
          labels: [("namespace", entry.label), ("container", entry.container ?? "")], objects: mine,
          orphaned: counting ? orphans : nil, unknown: counting ? unknown : nil)
      }
    } else {
      groups = [Group(labels: [], objects: objects, orphaned: orphaned, unknown: unknownOrphans)]
    }
    for group in groups {
      for kind in kinds {
        writer.sample("swipc_objects", help: "IPC objects of each kind.", labels: [("type", kind.rawValue)] + group.labels,
          value: Double(group.objects.filter { $0.kind == kind }.count))
      }
    }
    for group in groups {
      for kind in kinds {
        let bytes = group.objects.filter { $0.kind == kind }.reduce(UInt64(0)) { $0 &+ ($1.size ?? 0) }
        writer.sample("swipc_bytes", help: "Bytes held: segment sizes for shared memory, queued bytes for queues.",
          labels: [("type", kind.rawValue)] + group.labels, value: Double(bytes))
      }
    }
    let owners = groups.map { group -> [IPCKind: [UInt32: (Int, UInt64)]] in
      var byOwner: [IPCKind: [UInt32: (Int, UInt64)]] = [:]
      for o in group.objects {
        let current = byOwner[o.kind, default: [:]][o.uid] ?? (0, 0)
        byOwner[o.kind, default: [:]][o.uid] = (current.0 + 1, current.1 &+ (o.size ?? 0))
      }
      return byOwner
    }
    for (group, byOwner) in zip(groups, owners) {
      for kind in kinds {
        for (uid, entry) in (byOwner[kind] ?? [:]).sorted(by: { $0.key < $1.key }) {
          let owner = users.userName(uid) ?? String(uid)
          writer.sample("swipc_owner_objects", help: "IPC objects of each kind per owner.",
            labels: [("type", kind.rawValue), ("owner", owner), ("uid", String(uid))] + group.labels, value: Double(entry.0))
        }
      }
    }
    for (group, byOwner) in zip(groups, owners) {
      for kind in kinds {
        for (uid, entry) in (byOwner[kind] ?? [:]).sorted(by: { $0.key < $1.key }) {
          let owner = users.userName(uid) ?? String(uid)
          writer.sample("swipc_owner_bytes", help: "Bytes held per kind and owner.",
            labels: [("type", kind.rawValue), ("owner", owner), ("uid", String(uid))] + group.labels, value: Double(entry.1))
        }
      }
    }
    for group in groups {
      guard let orphaned = group.orphaned else { continue }
      for kind in kinds {
        writer.sample("swipc_orphaned_objects", help: "Objects no live process can be using (see swipc(1), --orphaned).",
          labels: [("type", kind.rawValue)] + group.labels, value: Double(orphaned[kind] ?? 0))
      }
    }
    for group in groups {
      guard let unknown = group.unknown else { continue }
      for kind in kinds {
        writer.sample("swipc_orphan_unknown_objects",
          help: "Objects whose orphan state is unknown: not every process that could use them could be examined.",
          labels: [("type", kind.rawValue)] + group.labels, value: Double(unknown[kind] ?? 0))
      }
    }
  }
}
