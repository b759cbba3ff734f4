import ArgumentParser
import Glibc
import SwipcCore

/// --timeout and --nowait: how long a blocking command waits.
struct WaitOptions: ParsableArguments {
  @Flag(help: "Do not wait: exit 75 at once when the call would block.")
  var nowait = false

  @Option(help: ArgumentHelp("Give up after this long (500ms, 2s, 1m) and exit 75; default: wait until interrupted.", valueName: "duration"), transform: parsed(TimeSpan.init(parsing:)))
  var timeout: TimeSpan?

  func validate() throws {
    if nowait && timeout != nil { throw ValidationError("give --nowait or --timeout, not both") }
  }

  var call: BlockingCall { BlockingCall(timeout: timeout) }
}

/// --lines and --null: one message per line or per NUL-terminated record.
struct RecordOptions: ParsableArguments {
  @Flag(help: "One message per line (without its newline).")
  var lines = false

  @Flag(help: "One message per NUL-terminated record.")
  var null = false

  func validate() throws {
    if lines && null { throw ValidationError("give --lines or --null, not both") }
  }

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
  struct Send: ParsableCommand {
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

    func run() throws {
      let target = try keys.target(keys.isGiven ? nil : arguments.first, kind: .msg)
      let text = keys.isGiven ? arguments : Array(arguments.dropFirst())
      if !text.isEmpty && records.delimiter != nil {
        throw ValidationError("--lines and --null read standard input; give TEXT or those, not both")
      }
      let posix = target.resolvedKind(.msg) == .pmsg
      if posix && type != nil { throw ValidationError("--type applies to System V queues; POSIX queues take --priority") }
      if !posix && priority != nil { throw ValidationError("--priority applies to POSIX queues; System V queues take --type") }
      let value = posix ? (priority ?? 0) : (type ?? 1)
      if !posix && value < 1 { throw ValidationError("invalid --type \(value): a System V message type is at least 1") }
      if posix && !(0...32767).contains(value) { throw ValidationError("invalid --priority \(value): 0 to 32767") }

      let endpoint = try MessageQueueEndpoint(kind: .msg, target: target, forSending: true, create: create)
      let reader = text.isEmpty
        ? RecordReader(fd: 0, delimiter: records.delimiter, limit: endpoint.maxMessageSize, limitName: endpoint.limitName)
        : nil
      let bytes = text.isEmpty ? nil : Array(text.joined(separator: " ").utf8)
      try interruptible { () throws(SwipcError) in
        _ = try MessageTransfer.send(to: endpoint, text: bytes, reader: reader, type: value,
          wait: !wait.nowait, call: wait.call)
      }
    }
  }

  struct Recv: ParsableCommand {
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
    var format: MessageFormat = .raw

    enum MessageFormat: String, ExpressibleByArgument { case raw, json }

    func validate() throws {
      if let count, count < 1 { throw ValidationError("invalid --count \(count): at least 1") }
      if count != nil && follow { throw ValidationError("give --count or --follow, not both") }
      if format == .json && records.delimiter != nil { throw ValidationError("--format json writes one line per message; --lines and --null do not apply") }
      if except && (type ?? 0) <= 0 { throw ValidationError("--except needs a positive --type") }
    }

    func run() throws {
      let target = try keys.target(self.target, kind: .msg)
      let posix = target.resolvedKind(.msg) == .pmsg
      if posix && (type != nil || except || truncate || maxSize != nil) {
        throw ValidationError("--type, --except, --truncate and --max-size apply to System V queues; POSIX queues deliver by priority")
      }
      let endpoint = try MessageQueueEndpoint(kind: .msg, target: target, forSending: false, create: false,
        receiveLimit: maxSize.map { Int(clamping: $0.bytes) })
      let delimiter = records.delimiter
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
      let paced = piped && (follow || (count ?? 1) > 1) && OutputWriter.holdOnePage(1)
      var first = true
      var lines = MessageLines(posix: posix)
      let result = try MessageTransfer.receive(
        from: endpoint, type: type ?? 0, except: except, truncate: truncate, count: follow ? nil : (count ?? 1),
        wait: !wait.nowait, call: wait.call,
        ready: { () throws(SwipcError) in
          let consequence = "no further message was taken from \(endpoint.label)"
          if paced && !first { try OutputWriter.waitUntilTaken(1, consequence: consequence) }
          first = false
          if piped { try OutputWriter.requireReader(1, consequence: consequence) }
        }
      ) { message throws(SwipcError) in
        out.bytes.removeAll(keepingCapacity: true)
        if format == .json {
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
        if follow && result.received > 0 { return }
        if wait.nowait && count == nil && !follow && result.received > 0 { return }
        throw error
      }
    }
  }
}
