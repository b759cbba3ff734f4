/// --nowait and --timeout: how long a blocking command waits.
public struct WaitSettings: Sendable {
  public var nowait = false
  public var timeout: TimeSpan?

  public init(nowait: Bool = false, timeout: TimeSpan? = nil) {
    self.nowait = nowait
    self.timeout = timeout
  }

  public func validate() throws(SwipcError) {
    if nowait && timeout != nil { throw .usage("give --nowait or --timeout, not both") }
  }
}

/// --lines and --null: one message per line or per NUL-terminated record.
public struct RecordSettings: Sendable {
  public var lines = false
  public var null = false

  public init(lines: Bool = false, null: Bool = false) {
    self.lines = lines
    self.null = null
  }

  /// The record delimiter, or nil for one message of all the input.
  public func validate() throws(SwipcError) -> UInt8? {
    if lines && null { throw .usage("give --lines or --null, not both") }
    return lines ? 10 : null ? 0 : nil
  }
}

/// `swipc msg send TARGET [TEXT...]` (only TEXT with --key or --ftok).
public struct SendRequest: CommandRequest {
  public var arguments: [String] = []
  public var keys = KeySpec()
  public var type: Int?
  public var priority: Int?
  public var records = RecordSettings()
  public var wait = WaitSettings()
  public var create = false

  public init() {}

  public struct Plan {
    public var target: ObjectTarget
    /// The message given as arguments; nil: read standard input.
    public var text: [UInt8]?
    public var delimiter: UInt8?
    /// The System V type or the POSIX priority.
    public var typeOrPriority: Int
  }

  public func validate() throws(SwipcError) -> Plan {
    let delimiter = try records.validate()
    try wait.validate()
    let target = try keys.target(keys.isGiven ? nil : arguments.first, kind: .msg)
    let text = keys.isGiven ? arguments : Array(arguments.dropFirst())
    if !text.isEmpty && delimiter != nil {
      throw .usage("--lines and --null read standard input; give TEXT or those, not both")
    }
    let posix = target.resolvedKind(.msg) == .pmsg
    if posix && type != nil { throw .usage("--type applies to System V queues; POSIX queues take --priority") }
    if !posix && priority != nil { throw .usage("--priority applies to POSIX queues; System V queues take --type") }
    let value = posix ? (priority ?? 0) : (type ?? 1)
    if !posix && value < 1 { throw .usage("invalid --type \(value): a System V message type is at least 1") }
    if posix && !(0...32767).contains(value) { throw .usage("invalid --priority \(value): 0 to 32767") }
    return Plan(
      target: target, text: text.isEmpty ? nil : Array(text.joined(separator: " ").utf8), delimiter: delimiter,
      typeOrPriority: value)
  }
}

/// `swipc msg recv TARGET`.
public struct ReceiveRequest: CommandRequest {
  public enum Format: String, CaseIterable, Sendable { case raw, json }

  public var target: String?
  public var keys = KeySpec()
  public var type: Int?
  public var except = false
  public var truncate = false
  public var maxSize: ByteCount?
  public var count: Int?
  public var follow = false
  public var records = RecordSettings()
  public var wait = WaitSettings()
  public var format: Format = .raw

  public init() {}

  public struct Plan {
    public var target: ObjectTarget
    public var posix: Bool
    public var delimiter: UInt8?
    /// How many messages to take; nil: until interrupted (--follow).
    public var count: Int?
  }

  public func validate() throws(SwipcError) -> Plan {
    let delimiter = try records.validate()
    try wait.validate()
    if let count, count < 1 { throw .usage("invalid --count \(count): at least 1") }
    if count != nil && follow { throw .usage("give --count or --follow, not both") }
    if format == .json && delimiter != nil { throw .usage("--format json writes one line per message; --lines and --null do not apply") }
    if except && (type ?? 0) <= 0 { throw .usage("--except needs a positive --type") }
    let target = try keys.target(self.target, kind: .msg)
    let posix = target.resolvedKind(.msg) == .pmsg
    if posix && (type != nil || except || truncate || maxSize != nil) {
      throw .usage("--type, --except, --truncate and --max-size apply to System V queues; POSIX queues deliver by priority")
    }
    return Plan(target: target, posix: posix, delimiter: delimiter, count: follow ? nil : (count ?? 1))
  }
}
