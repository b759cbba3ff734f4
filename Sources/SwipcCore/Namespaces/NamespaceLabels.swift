/// What the rows of a listing across namespaces say about each namespace: its label, container
/// and a process in it; and the orphan states decided inside each namespace (a semaphore's
/// waiters can only be counted there, so the state is read there, not when a row is written).
/// Filled while the listing is made, on one thread, and only read once it is handed on.
public final class NamespaceLabels: @unchecked Sendable {
  public struct Entry {
    public var inode: UInt64
    /// `ipc:[INODE]`.
    public var label: String
    /// The namespace, which reads its container and command when first asked.
    let namespace: IPCNamespace
    /// `docker/0123456789ab`, `k8s/POD/ID`…; nil for none.
    public var container: String? { namespace.containerName }
    /// A process in the namespace.
    public var pid: Int32?
    /// That process's command name.
    public var command: String? { namespace.command }
    /// Processes seen in the namespace.
    public var processes: Int

    init(_ namespace: IPCNamespace) {
      self.namespace = namespace
      inode = namespace.inode
      label = namespace.label
      pid = namespace.pid
      processes = namespace.processCount
    }
  }

  /// The namespaces in the order they were listed.
  public private(set) var entries: [Entry] = []
  private var orphanStates: [Slot: OrphanState] = [:]

  public init() {}

  struct Slot: Hashable {
    var namespace: UInt64
    var kind: IPCKind
    var id: Int32?
    var name: POSIXName?
    var device: UInt64?
    /// Two directories on one filesystem (a bind mount of a subdirectory) may hold files of one name.
    var inode: UInt64?
  }

  public func add(_ namespace: IPCNamespace) {
    guard index(of: namespace.inode) == nil else { return }
    entries.append(Entry(namespace))
  }

  public func entry(_ inode: UInt64?) -> Entry? {
    guard let inode, let i = index(of: inode) else { return nil }
    return entries[i]
  }

  /// The last one found is asked for again row after row (a listing holds each namespace's rows
  /// together), and a host has few namespaces: a search, which costs no run-time setup as a
  /// dictionary keyed by inode does on every run.
  private var lastFound = 0

  private func index(of inode: UInt64) -> Int? {
    if lastFound < entries.count, entries[lastFound].inode == inode { return lastFound }
    for i in entries.indices where entries[i].inode == inode {
      lastFound = i
      return i
    }
    return nil
  }

  func slot(_ o: IPCObject) -> Slot {
    Slot(namespace: o.namespace ?? 0, kind: o.kind, id: o.id, name: o.name, device: o.device, inode: o.kind.isPOSIX ? o.inode : nil)
  }

  func record(_ state: OrphanState, of object: IPCObject) { orphanStates[slot(object)] = state }

  /// The orphan state decided for `object` in its namespace, when one was.
  public func orphanState(of object: IPCObject) -> OrphanState? { orphanStates[slot(object)] }
}
