/// `swipc shm write TARGET [TEXT...]` (only TEXT with --key or --ftok), or --file, or standard input.
public struct ShmWriteRequest: CommandRequest {
  public var arguments: [String] = []
  public var keys = KeySpec()
  public var offset: ByteCount?
  public var file: String?

  public init() {}

  public struct Plan {
    public var target: ObjectTarget
    /// TEXT joined by spaces; nil: --file or standard input.
    public var text: [UInt8]?
  }

  public func validate() throws(SwipcError) -> Plan {
    let target = try keys.target(keys.isGiven ? nil : arguments.first, kind: .shm)
    let text = keys.isGiven ? arguments : Array(arguments.dropFirst())
    if !text.isEmpty && file != nil { throw .usage("give TEXT or --file, not both") }
    return Plan(target: target, text: text.isEmpty ? nil : Array(text.joined(separator: " ").utf8))
  }
}
