import ArgumentParser
import Glibc
import SwipcCore

extension Swipc {
  struct Pipe: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "pipe", abstract: "Named pipes (FIFOs): create, send and receive with timeouts.",
      subcommands: [Create.self, Send.self, Recv.self])

    struct Create: ParsableCommand {
      static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a FIFO (mkfifo); an existing FIFO is kept only if it is yours (with --mode, only if it has that mode).",
        discussion: """
          Anything else at PATH is refused with exit 1: another user's FIFO, your FIFO with other \
          permissions than --mode, any other file; a symbolic link is never followed.
          """)

      @Argument(help: ArgumentHelp("The FIFO's path.", valueName: "path"), completion: .file())
      var path: String

      @Option(help: ArgumentHelp("Permissions in octal (default 0600); an existing FIFO must already have them.", valueName: "mode"), transform: parsed(FileMode.init(parsing:)))
      var mode: FileMode?

      func run() throws {
        _ = try FIFO.create(path: path, mode: mode?.rawValue ?? 0o600, requireMode: mode != nil)
      }
    }

    struct Send: RequestCommand {
      static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Write TEXT (with a newline, as echo does) or standard input into a FIFO.",
        discussion: """
          Waits for a reader to open the FIFO, then writes. --timeout is an idle timeout: exit \
          75 when no reader came, or nothing could be written, for that long (it starts again \
          whenever bytes are written). Exit 1 when the reader closes the FIFO before everything \
          was written.
          """)

      @Argument(help: ArgumentHelp("PATH then TEXT...", valueName: "path-and-text"), completion: .file())
      var arguments: [String] = []

      @OptionGroup var records: RecordOptions

      @Option(help: ArgumentHelp("Send only the first N lines (or NUL records) of standard input.", valueName: "n"))
      var count: Int?

      @OptionGroup var wait: WaitOptions

      var request: PipeSendRequest {
        var request = PipeSendRequest()
        (request.arguments, request.records, request.count, request.wait) = (arguments, records.settings, count, wait.settings)
        return request
      }

      static func perform(_ plan: PipeSendRequest.Plan, _ request: PipeSendRequest) throws {
        signal(SIGPIPE, SIG_IGN)
        let path = plan.path
        let call = request.wait.streamCall
        let fd = try FIFO.open(path: path, forWriting: true, call: call)
        defer { close(fd) }
        let output = StreamEnd(fd: fd, nonBlocking: true, label: "FIFO \(path)")
        try interruptible { () throws(SwipcError) in
          if let text = plan.text {
            try text.withUnsafeBytes { raw in
              Result { () throws(SwipcError) in try StreamCopy.write(raw, to: output, call: call, copied: 0) }
            }.get()
          } else {
            // --lines/--null: whole records per write, at most PIPE_BUF each, so that the
            // records of several writers never interleave.
            _ = try StreamCopy.copy(from: StreamEnd(fd: 0, nonBlocking: false, label: "standard input"), to: output,
              call: call, delimiter: plan.delimiter, count: request.count,
              recordWrites: plan.recordWrites ? Int(PIPE_BUF) : nil)
          }
        }
      }
    }

    struct Recv: RequestCommand {
      static let configuration = CommandConfiguration(
        commandName: "recv",
        abstract: "Read from a FIFO to standard output, until every writer closes it or --count records.",
        discussion: """
          Waits for a writer to open the FIFO. --timeout is an idle timeout: exit 75 when no \
          writer came, or nothing arrived, for that long (it starts again whenever bytes \
          arrive; what arrived before is written). --count N stops after N lines (or NUL \
          records with --null) and takes no byte past the Nth from the FIFO: the rest stays \
          there for the next reader.
          """)

      @Argument(help: ArgumentHelp("The FIFO's path.", valueName: "path"), completion: .file())
      var path: String

      @OptionGroup var records: RecordOptions

      @Option(help: ArgumentHelp("Stop after N lines (or NUL records with --null).", valueName: "n"))
      var count: Int?

      @OptionGroup var wait: WaitOptions

      var request: PipeReceiveRequest {
        var request = PipeReceiveRequest()
        (request.path, request.records, request.count, request.wait) = (path, records.settings, count, wait.settings)
        return request
      }

      static func perform(_ delimiter: UInt8?, _ request: PipeReceiveRequest) throws {
        let path = request.path
        // What is read from the FIFO is gone from it: its output is its only copy.
        try OutputWriter.requireWritable(1, consequence: "nothing was read from FIFO \(path)")
        let call = request.wait.streamCall
        let fd = try FIFO.open(path: path, forWriting: false, call: call)
        defer { close(fd) }
        let input = StreamEnd(fd: fd, nonBlocking: true, label: "FIFO \(path)")
        try interruptible { () throws(SwipcError) in
          _ = try StreamCopy.copy(from: input, to: StreamEnd(fd: 1, nonBlocking: false, label: "standard output"),
            call: call, delimiter: delimiter, count: request.count)
        }
      }
    }
  }
}
