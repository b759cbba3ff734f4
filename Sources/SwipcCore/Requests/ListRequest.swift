/// `swipc ls [TYPE...]`: TYPE is kept as given, since `pipe` and `sock` are listed apart.
public struct ListRequest: CommandRequest {
  public var types: [String] = []
  public var filters = FilterSettings()
  public var output = OutputSettings()
  /// -N TARGET (the view the command works in) and -A (every namespace).
  public var namespace: String?
  public var allNamespaces = false
  /// --namespaces: the same as `ls ns`.
  public var namespaces = false

  public init() {}

  public func validate() throws(SwipcError) -> ListPlan {
    let scope = try NamespaceScope(namespace: namespace, all: allNamespaces)
    let types = namespaces ? self.types + ["ns"] : self.types
    if let stream = types.first(where: { $0 == "pipe" || $0 == "sock" || $0 == "ns" }) {
      guard types.count == 1 else { throw .usage("list '\(stream)' on its own: its columns differ from the other types'") }
      guard filters.isEmpty else { throw .usage("the filters apply to IPC objects, not to 'ls \(stream)'") }
      guard output.columns == nil else { throw .usage("-o/--columns applies to IPC objects; 'ls \(stream)' has fixed columns") }
      guard scope == .own else {
        throw .usage(stream == "ns"
          ? "'ls ns' lists every namespace: -N and -A do not apply"
          : "'ls \(stream)' lists what /proc shows, whatever the IPC namespace: -N and -A do not apply")
      }
      if stream == "ns" {
        try output.format.check(accepted: NamespaceSummaryRenderer.formats)
        return .namespaces(output: output)
      }
      try output.format.check(accepted: RecordRenderer.formats)
      return .streams(sockets: stream == "sock", output: output)
    }
    try output.format.check(accepted: ObjectListRenderer.formats)
    var kinds = [IPCKind]()
    for text in types { kinds.append(try KindArgument.parse(text)) }
    return .objects(
      kinds: KindArgument.distinct(kinds), filter: try filters.validate(), columns: try output.selectedColumns(),
      output: output, allNamespaces: scope == .all)
  }
}

/// What `ls` lists, checked.
public enum ListPlan {
  /// With `allNamespaces`, in every IPC namespace of the host.
  case objects(kinds: [IPCKind], filter: ObjectFilter, columns: [ObjectColumn]?, output: OutputSettings, allNamespaces: Bool = false)
  /// `ls pipe` and `ls sock`.
  case streams(sockets: Bool, output: OutputSettings)
  /// `ls ns`: the namespaces themselves.
  case namespaces(output: OutputSettings)
}

/// `swipc limits [TYPE...]`.
public struct LimitsRequest: CommandRequest {
  public var kinds: [IPCKind] = []
  public var output = OutputSettings()
  /// -N TARGET: the IPC namespace whose limits are read.
  public var namespace: String?

  public init() {}

  public func validate() throws(SwipcError) -> LimitsRequest {
    try output.format.check(accepted: LimitsRenderer.formats)
    return self
  }

  /// The kinds whose rows are shown: POSIX semaphores live in /dev/shm, so psem shows its limits.
  public var shownKinds: Set<IPCKind>? {
    kinds.isEmpty ? nil : Set(kinds.flatMap { $0 == .psem ? [.psem, .pshm] : [$0] })
  }
}

/// `swipc rm TYPE [TARGET...] [--key K]... [--ftok P]...`.
public struct RemoveRequest: CommandRequest {
  public var kind: IPCKind = .msg
  public var targets: [String] = []
  public var keys: [IPCKey] = []
  public var ftoks: [String] = []
  public var quiet = false
  /// -N TARGET: the IPC namespace to remove them in.
  public var namespace: String?

  public init() {}

  /// Every target, parsed before anything is removed: a usage error removes nothing.
  public func validate() throws(SwipcError) -> [ObjectTarget] {
    var result = [ObjectTarget]()
    for text in targets { result.append(try ObjectTarget(parsing: text, kind: kind)) }
    for k in keys {
      if k.isPrivate { throw .usage("key 0x00000000 is IPC_PRIVATE and names no single object: give the id instead") }
      result.append(.key(k))
    }
    for spec in ftoks { result.append(.key(try IPCKey.ftok(spec: spec))) }
    guard !result.isEmpty else { throw .usage("name at least one object to remove") }
    return result
  }
}

/// `swipc show TYPE TARGET`.
public struct ShowRequest: CommandRequest {
  public var kind: IPCKind = .msg
  public var target: String?
  public var keys = KeySpec()
  public var output = OutputSettings()

  public init() {}

  /// The object named, and the kind it is (a /name given to msg, shm or sem is POSIX).
  public func validate() throws(SwipcError) -> (target: ObjectTarget, kind: IPCKind) {
    try output.format.check(accepted: DetailsRenderer.formats)
    let target = try keys.target(self.target, kind: kind)
    return (target, target.resolvedKind(kind))
  }
}
