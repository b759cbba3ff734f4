import ArgumentParser
import Glibc
import SwipcCore

extension SocketAddress.Kind: ExpressibleByArgument {}

extension Swipc {
  struct Sock: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "sock", abstract: "Unix and loopback TCP sockets: listen and send.",
      subcommands: [Listen.self, Send.self])

    struct Listen: RequestCommand {
      static let configuration = CommandConfiguration(
        commandName: "listen",
        abstract: "Listen on ADDRESS and write what arrives to standard output.",
        discussion: """
          ADDRESS is a path, @name (abstract, no file) or tcp:HOST:PORT (port 0: any free one). \
          Says on standard error where it listens. A socket file in the way is replaced only \
          when it is a socket of yours and nothing answers a connect on it; a live socket or \
          any other file is refused. The socket file is removed on exit. Without --once or \
          --count it serves until SIGINT, SIGTERM, SIGHUP or SIGQUIT, then exits 0.
          """)

      @Argument(help: ArgumentHelp("A path, @name or tcp:HOST:PORT.", valueName: "address"), transform: parsed(SocketAddress.init(parsing:)))
      var address: SocketAddress

      @Option(name: .customLong("type"), help: "stream (default), dgram or seqpacket.")
      var kind: SocketAddress.Kind = .stream

      @Flag(help: "Serve one connection (or datagram), then exit.")
      var once = false

      @Option(help: ArgumentHelp("Serve N connections (or datagrams), then exit.", valueName: "n"))
      var count: Int?

      @Flag(help: "Say each peer's pid, uid and gid (SO_PEERCRED, SCM_CREDENTIALS) or TCP address on standard error.")
      var peer = false

      @Flag(help: "Send back what each peer sends.")
      var echo = false

      @Option(help: ArgumentHelp("Permissions of the socket file in octal (default 0600).", valueName: "mode"), transform: parsed(FileMode.init(parsing:)))
      var mode: FileMode = FileMode(0o600)

      var request: SocketListenRequest {
        var request = SocketListenRequest(address: address)
        (request.kind, request.once, request.count, request.peer, request.echo, request.mode) = (kind, once, count, peer, echo, mode)
        return request
      }

      static func perform(_ limit: Int?, _ request: SocketListenRequest) throws {
        let (address, kind, peer) = (request.address, request.kind, request.peer)
        try OutputWriter.requireWritable(1, consequence: "not listening on \(address), as what arrives could not be written")
        signal(SIGPIPE, SIG_IGN)
        let listener = try SocketListener(address: address, kind: kind, mode: request.mode.rawValue)
        if listener.replacedStale { Terminal.warn("\(address): removed a stale socket file nobody listened on") }
        var shown = address.description
        if case .tcp(let host, _) = address, let port = listener.boundPort { shown = "tcp:\(host):\(port)" }
        Terminal.warn("listening on \(shown) (\(kind.rawValue))")
        let processes = ProcessTable()
        let served = Result { () throws(SwipcError) in
          try listener.serve(count: limit, echo: request.echo, call: BlockingCall(timeout: nil),
            onPeer: { who in
              guard peer else { return }
              if let pid = who.pid {
                Terminal.warn("peer pid=\(pid) uid=\(who.uid ?? 0) gid=\(who.gid ?? 0) command=\(processes.command(of: pid) ?? "?")")
              } else {
                Terminal.warn("peer \(who.address ?? "unknown")")
              }
            },
            onData: { bytes throws(SwipcError) in
              try OutputWriter.write(bytes, to: 1, consequence: "data received on \(address) was not written")
            })
        }
        if case .failure(let error) = served, error.category == .interrupted {
          if limit == nil { return }
          Terminal.warn(error.description)
          throw exitInterrupted()
        }
        _ = try served.get()
      }
    }

    struct Send: RequestCommand {
      static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send TEXT (joined by spaces) or standard input to a socket.",
        discussion: """
          stream: the bytes, then end of data; dgram and seqpacket: one message. With --reply, \
          waits for the answer (until the peer closes a stream, or one message) and writes it \
          to standard output. --timeout covers the connect, the sending and the reply: exit 75. \
          Exit 66 when no socket is there or nobody listens.
          """)

      @Argument(help: ArgumentHelp("ADDRESS then TEXT...", valueName: "address-and-text"))
      var arguments: [String] = []

      @Option(name: .customLong("type"), help: "stream (default), dgram or seqpacket.")
      var kind: SocketAddress.Kind = .stream

      @Flag(help: "Wait for the reply and write it to standard output.")
      var reply = false

      @OptionGroup var wait: WaitOptions

      var request: SocketSendRequest {
        var request = SocketSendRequest()
        (request.arguments, request.kind, request.reply, request.wait) = (arguments, kind, reply, wait.settings)
        return request
      }

      static func perform(_ plan: SocketSendRequest.Plan, _ request: SocketSendRequest) throws {
        signal(SIGPIPE, SIG_IGN)
        let (address, kind, reply) = (plan.address, request.kind, request.reply)
        let call = request.wait.streamCall
        let fd = try SocketConnection.connect(to: address, kind: kind, call: call)
        defer { close(fd) }
        let end = StreamEnd(fd: fd, nonBlocking: true, label: "socket \(address)")
        let out = StreamEnd(fd: 1, nonBlocking: false, label: "standard output")
        let text = plan.text
        try interruptible { () throws(SwipcError) in
          if kind == .stream && text == nil {
            _ = try StreamCopy.copy(from: StreamEnd(fd: 0, nonBlocking: false, label: "standard input"), to: end, call: call)
          } else {
            var message = text ?? []
            if text == nil {
              let reader = RecordReader(fd: 0, delimiter: nil, limit: 212_992, limitName: "the largest message swipc sends (208 KiB)")
              try reader.forEach { bytes, _ in message = Array(bytes) }
            }
            try message.withUnsafeBytes { raw in
              Result { () throws(SwipcError) in try StreamCopy.write(raw, to: end, call: call, copied: 0) }
            }.get()
          }
          guard reply else { return }
          if kind != .dgram { shutdown(fd, Int32(SHUT_WR)) }
          if kind == .dgram {
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: 1 << 18, alignment: 16)
            defer { buffer.deallocate() }
            let n = try StreamCopy.read(end, into: buffer, capacity: 1 << 18, call: call, copied: 0)
            try StreamCopy.write(UnsafeRawBufferPointer(start: buffer, count: n), to: out, call: call, copied: 0)
          } else {
            _ = try StreamCopy.copy(from: end, to: out, call: call)
          }
        }
      }
    }
  }
}
