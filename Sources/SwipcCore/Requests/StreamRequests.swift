/// The wait of a stream command, which has no non-blocking call to make: --nowait is a timeout of nothing.
extension WaitSettings {
  public var streamCall: BlockingCall { BlockingCall(timeout: nowait ? TimeSpan(milliseconds: 0) : timeout) }
}

/// `swipc pipe send PATH [TEXT...]`.
public struct PipeSendRequest: CommandRequest {
  public var arguments: [String] = []
  public var records = RecordSettings()
  public var count: Int?
  public var wait = WaitSettings()

  public init() {}

  public struct Plan {
    public var path: String
    /// TEXT with its newline; nil: copy standard input.
    public var text: [UInt8]?
    /// The record delimiter of standard input: --lines, --null, or lines for --count alone.
    public var delimiter: UInt8?
    /// Whether whole records are written at once (--lines, --null).
    public var recordWrites: Bool
  }

  public func validate() throws(SwipcError) -> Plan {
    let delimiter = try records.validate()
    try wait.validate()
    guard let path = arguments.first else { throw .usage("name the FIFO: swipc pipe send PATH [TEXT...]") }
    if let count, count < 1 { throw .usage("invalid --count \(count): at least 1") }
    if arguments.count > 1 && (count != nil || delimiter != nil) {
      throw .usage("--lines, --null and --count read standard input; give TEXT or those, not both")
    }
    let text = arguments.count > 1 ? Array((arguments.dropFirst().joined(separator: " ") + "\n").utf8) : nil
    return Plan(path: path, text: text, delimiter: delimiter ?? (count != nil ? 10 : nil), recordWrites: delimiter != nil)
  }
}

/// `swipc pipe recv PATH`.
public struct PipeReceiveRequest: CommandRequest {
  public var path = ""
  public var records = RecordSettings()
  public var count: Int?
  public var wait = WaitSettings()

  public init() {}

  /// The record delimiter: --lines, --null, or lines for --count alone; nil copies bytes.
  public func validate() throws(SwipcError) -> UInt8? {
    let delimiter = try records.validate()
    try wait.validate()
    if let count, count < 1 { throw .usage("invalid --count \(count): at least 1") }
    return count != nil || delimiter != nil ? (delimiter ?? 10) : nil
  }
}

/// `swipc sock listen ADDRESS`.
public struct SocketListenRequest: CommandRequest {
  public var address: SocketAddress
  public var kind: SocketAddress.Kind = .stream
  public var once = false
  public var count: Int?
  public var peer = false
  public var echo = false
  public var mode = FileMode(0o600)

  public init(address: SocketAddress) { self.address = address }

  /// How many connections (or datagrams) to serve; nil: until interrupted.
  public func validate() throws(SwipcError) -> Int? {
    if let count, count < 1 { throw .usage("invalid --count \(count): at least 1") }
    if once && count != nil { throw .usage("give --once or --count, not both") }
    return once ? 1 : count
  }
}

/// `swipc sock send ADDRESS [TEXT...]`.
public struct SocketSendRequest: CommandRequest {
  public var arguments: [String] = []
  public var kind: SocketAddress.Kind = .stream
  public var reply = false
  public var wait = WaitSettings()

  public init() {}

  public struct Plan {
    public var address: SocketAddress
    /// TEXT joined by spaces; nil: standard input.
    public var text: [UInt8]?
  }

  public func validate() throws(SwipcError) -> Plan {
    try wait.validate()
    guard let first = arguments.first else { throw .usage("name the socket: swipc sock send ADDRESS [TEXT...]") }
    let address = try SocketAddress(parsing: first)
    return Plan(address: address, text: arguments.count > 1 ? Array(arguments.dropFirst().joined(separator: " ").utf8) : nil)
  }
}
