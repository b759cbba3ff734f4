/// `swipc chmod TYPE TARGET MODE` (MODE alone with --key or --ftok).
public struct ChmodRequest: CommandRequest {
  public var kind: IPCKind
  public var arguments: [String] = []
  public var keys = KeySpec()

  public init(kind: IPCKind) { self.kind = kind }

  public func validate() throws(SwipcError) -> (ObjectTarget, FileMode) {
    let (target, text) = try keys.targetAndValue(arguments, kind: kind, valueName: "MODE", example: "32768 600 or /name 600")
    return (target, try FileMode(parsing: text))
  }
}

/// `swipc chown TYPE TARGET OWNER` (OWNER alone with --key or --ftok).
public struct ChownRequest: CommandRequest {
  public var kind: IPCKind
  public var arguments: [String] = []
  public var keys = KeySpec()

  public init(kind: IPCKind) { self.kind = kind }

  public struct Plan {
    public var target: ObjectTarget
    public var uid: UInt32?
    public var gid: UInt32?
  }

  public func validate() throws(SwipcError) -> Plan {
    let (target, owner) = try keys.targetAndValue(
      arguments, kind: kind, valueName: "OWNER", example: "32768 alice:staff or /name alice")
    let parts = owner.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
    let uid = parts[0].isEmpty ? nil : try UserDirectory.resolveUser(parts[0])
    let gid = parts.count > 1 && !parts[1].isEmpty ? try UserDirectory.resolveGroup(parts[1]) : nil
    guard uid != nil || gid != nil else { throw .usage("invalid owner '\(owner)': expected USER, USER:GROUP or :GROUP") }
    return Plan(target: target, uid: uid, gid: gid)
  }
}
