import ArgumentParser
import Glibc
import SwipcCore

/// --timeout and --nowait: how long a blocking command waits.
struct WaitOptions: ParsableArguments {
  @Flag(help: "Do not wait: exit 75 at once when the call would block.")
  var nowait = false

  @Option(help: ArgumentHelp("Give up after this long (500ms, 2s, 1m) and exit 75; default: wait until interrupted.", valueName: "duration"), transform: parsed(TimeSpan.init(parsing:)))
  var timeout: TimeSpan?

  var settings: WaitSettings { WaitSettings(nowait: nowait, timeout: timeout) }
}

/// --lines and --null: one message per line or per NUL-terminated record.
struct RecordOptions: ParsableArguments {
  @Flag(help: "One message per line (without its newline).")
  var lines = false

  @Flag(help: "One message per NUL-terminated record.")
  var null = false

  var settings: RecordSettings { RecordSettings(lines: lines, null: null) }
  /// The delimiter, once `settings.validate()` has passed.
  var delimiter: UInt8? { lines ? 10 : null ? 0 : nil }
}

/// Maps an interrupt signal (SIGINT, SIGTERM, SIGHUP, SIGQUIT) that ended a transfer to exit status 130 after what was done is kept.
func exitInterrupted() -> ExitCode { ExitCode(130) }

/// Runs a transfer; an interrupt (SIGINT, SIGTERM, SIGHUP, SIGQUIT) is reported in one line and exits 130.
func interruptible(_ body: () throws(SwipcError) -> Void) throws {
  // Result(catching:) rather than do/catch: Swift 6.3 crashes compiling a typed-throws catch.
  let result = Result { () throws(SwipcError) in try body() }
  if case .failure(let error) = result, error.category == .interrupted {
    Terminal.warn(error.description)
    throw exitInterrupted()
  }
  try result.get()
}

extension Swipc.Msg {
  struct Send: RequestCommand {
    static let configuration = CommandConfiguration(
      commandName: "send",
      abstract: "Send a message: TEXT arguments joined by spaces, or standard input.",
      discussion: """
        TARGET is a System V id, --key/--ftok, or a POSIX /name. Without TEXT, standard input \
        is one message (binary safe), or with --lines/--null one message per record, streamed. \
        Exit status: 75 when the queue is full with --nowait or --timeout; 130 when interrupted.
        """)

    @Argument(help: ArgumentHelp("TARGET then TEXT...; only TEXT with --key or --ftok.", valueName: "target-and-text"), completion: LiveCompletion.target)
    var arguments: [String] = []

    @OptionGroup var keys: KeyOptions

    @Option(help: ArgumentHelp("System V message type, at least 1 (default 1).", valueName: "n"))
    var type: Int?

    @Option(help: ArgumentHelp("POSIX message priority, 0 to 32767 (default 0).", valueName: "n"))
    var priority: Int?

    @OptionGroup var records: RecordOptions
    @OptionGroup var wait: WaitOptions

    @Flag(help: "Create the queue (mode 0600) if it does not exist.")
    var create = false

    @OptionGroup(title: "Namespace") var namespaceOption: NamespaceOption

    var request: SendRequest {
      var request = SendRequest()
      (request.arguments, request.keys, request.type, request.priority) = (arguments, keys.spec, type, priority)
      (request.records, request.wait, request.create) = (records.settings, wait.settings, create)
      return request
    }

    static func perform(_ plan: SendRequest.Plan, _ request: SendRequest) throws {
      let endpoint = try MessageQueueEndpoint(kind: .msg, target: plan.target, forSending: true, create: request.create, view: CommandView.current)
      let reader = plan.text == nil
        ? RecordReader(fd: 0, delimiter: plan.delimiter, limit: endpoint.maxMessageSize, limitName: endpoint.limitName)
        : nil
      try interruptible { () throws(SwipcError) in
        _ = try MessageTransfer.send(to: endpoint, text: plan.text, reader: reader, type: plan.typeOrPriority,
          wait: !request.wait.nowait, call: BlockingCall(timeout: request.wait.timeout))
      }
    }
  }

  struct Recv: RequestCommand {
    static let configuration = CommandConfiguration(
      commandName: "recv",
      abstract: "Receive messages and write them to standard output.",
      discussion: """
        One message's raw bytes by default; with --lines or --null one record per message; with \
        --format json one JSON object per line (type or priority, size, encoding, data). System \
        V --type: 0 the first message, N the first of type N, -N the first of the lowest type \
        at most N. Exit status: 75 when nothing arrived in time (--nowait, --timeout) or fewer \
        than --count; 66 when the queue is removed while waiting; 130 when interrupted.
        """)

    @Argument(help: ArgumentHelp("The queue: a System V id or a POSIX /name (or --key, --ftok).", valueName: "target"), completion: LiveCompletion.target)
    var target: String?

    @OptionGroup var keys: KeyOptions

    @Option(parsing: .unconditional, help: ArgumentHelp("System V: 0 any (default), N type N, -N lowest type at most N.", valueName: "n"))
    var type: Int?

    @Flag(help: "System V: the first message not of --type N (MSG_EXCEPT).")
    var except = false

    @Flag(help: "System V: cut a message longer than --max-size instead of failing (MSG_NOERROR).")
    var truncate = false

    @Option(help: ArgumentHelp("System V: the largest message to accept in bytes (default: any the queue holds).", valueName: "bytes"), transform: parsed(ByteCount.init(parsing:)))
    var maxSize: ByteCount?

    @Option(help: ArgumentHelp("Receive this many messages (default 1).", valueName: "n"))
    var count: Int?

    @Flag(help: "Keep receiving until interrupted (or --timeout passes with nothing new).")
    var follow = false

    @OptionGroup var records: RecordOptions
    @OptionGroup var wait: WaitOptions

    @Option(help: "Output format: raw (default) or json (one object per line).")
    var format: ReceiveRequest.Format = .raw

    @OptionGroup(title: "Namespace") var namespaceOption: NamespaceOption

    var request: ReceiveRequest {
      var request = ReceiveRequest()
      (request.target, request.keys, request.type, request.except, request.truncate) = (target, keys.spec, type, except, truncate)
      (request.maxSize, request.count, request.follow, request.format) = (maxSize, count, follow, format)
      (request.records, request.wait) = (records.settings, wait.settings)
      return request
    }

    static func perform(_ plan: ReceiveRequest.Plan, _ request: ReceiveRequest) throws {
      let endpoint = try MessageQueueEndpoint(kind: .msg, target: plan.target, forSending: false, create: false,
        receiveLimit: request.maxSize.map { Int(clamping: $0.bytes) }, view: CommandView.current)
      let (delimiter, posix, wait) = (plan.delimiter, plan.posix, request.wait)
      var out = OutputBuffer(capacity: endpoint.maxMessageSize + 64)
      // Receiving takes the message out of the queue: its output is its only copy. So standard
      // output is checked first, and when it is a pipe, again before each message: once the reader
      // has gone (`| head -1`), no further message is taken. Into a pipe, the next message is taken
      // only once the reader has read the previous one (the pipe is shrunk to a page, writable
      // only when empty), so a reader that leaves loses at most what it read and did not use and
      // the one message in flight. A write that fails all the same says the message is lost,
      // rather than dying of SIGPIPE.
      try OutputWriter.requireWritable(1, consequence: "nothing was received from \(endpoint.label)")
      let piped = OutputWriter.isPipeOrSocket(1)
      if piped { signal(SIGPIPE, SIG_IGN) }
      let paced = piped && (plan.count ?? 2) > 1 && OutputWriter.holdOnePage(1)
      var first = true
      var lines = MessageLines(posix: posix)
      let result = try MessageTransfer.receive(
        from: endpoint, type: request.type ?? 0, except: request.except, truncate: request.truncate, count: plan.count,
        wait: !wait.nowait, call: BlockingCall(timeout: wait.timeout),
        ready: { () throws(SwipcError) in
          let consequence = "no further message was taken from \(endpoint.label)"
          if paced && !first { try OutputWriter.waitUntilTaken(1, consequence: consequence) }
          first = false
          if piped { try OutputWriter.requireReader(1, consequence: consequence) }
        }
      ) { message throws(SwipcError) in
        out.bytes.removeAll(keepingCapacity: true)
        if request.format == .json {
          lines.write(message.bytes, type: message.type, into: &out)
        } else {
          out.bytes.append(contentsOf: message.bytes)
          if let delimiter { out.write(byte: delimiter) }
        }
        try Terminal.write(out, consequence: "a message taken from \(endpoint.label) could not be written and is no longer in the queue")
      }
      switch result.end {
      case .complete: return
      case .interrupted:
        Terminal.warn("\(endpoint.label): interrupted after \(result.received) messages")
        throw exitInterrupted()
      case .empty(let error):
        if request.follow && result.received > 0 { return }
        if wait.nowait && request.count == nil && !request.follow && result.received > 0 { return }
        throw error
      }
    }
  }
}

extension ReceiveRequest.Format: ExpressibleByArgument {}
