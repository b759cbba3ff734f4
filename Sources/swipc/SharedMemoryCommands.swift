import ArgumentParser
import CSwipc
import Glibc
import SwipcCore

extension ByteDump.Format: ExpressibleByArgument {}

extension Swipc.Shm {
  struct Write: RequestCommand {
    static let configuration = CommandConfiguration(
      commandName: "write",
      abstract: "Write TEXT, a file or standard input into a shared memory segment.",
      discussion: """
        TARGET is a System V id, --key/--ftok, or a POSIX /name. TEXT arguments are joined by \
        spaces (no newline is added); without TEXT, --file or standard input is written, binary \
        safe. Input that would pass the end of the segment is refused with exit status 64 and \
        nothing is written.
        """)

    @Argument(help: ArgumentHelp("TARGET then TEXT...; only TEXT with --key or --ftok.", valueName: "target-and-text"), completion: LiveCompletion.target)
    var arguments: [String] = []

    @OptionGroup var keys: KeyOptions

    @Option(parsing: .unconditional, help: ArgumentHelp("Where to start writing, in bytes from the start (default 0; units as for --size).", valueName: "offset"), transform: parsed(ByteCount.init(parsing:)))
    var offset: ByteCount?

    @Option(help: ArgumentHelp("Write this file's contents.", valueName: "path"), completion: .file())
    var file: String?

    @OptionGroup(title: "Namespace") var namespaceOption: NamespaceOption

    var request: ShmWriteRequest {
      var request = ShmWriteRequest()
      (request.arguments, request.keys, request.offset, request.file) = (arguments, keys.spec, offset, file)
      return request
    }

    static func perform(_ plan: ShmWriteRequest.Plan, _ request: ShmWriteRequest) throws {
      // A POSIX object is written through its descriptor, never mapped: it may shrink meanwhile.
      let mapping = try SharedMemoryMapping(target: plan.target, readOnly: false, map: false, view: CommandView.current)
      let start = Int(clamping: request.offset?.bytes ?? 0)
      let room = try mapping.room(from: start)
      if let bytes = plan.text {
        try bytes.withUnsafeBytes { raw in try mapping.write(raw, at: start) }
        return
      }
      let file = request.file
      var fd: Int32 = 0
      if let file {
        fd = open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
          let e = errno
          throw SwipcError(category: e == ENOENT ? .notFound : e == EACCES ? .permissionDenied : nil,
            call: "open", object: file, errno: .init(rawValue: e))
        }
        var status = stat()
        if fstat(fd, &status) == 0 && status.st_mode & S_IFMT == S_IFDIR {
          close(fd)
          throw SwipcError.usage("--file \(file) is a directory: give a file, or the data on standard input")
        }
      }
      defer { if file != nil { close(fd) } }
      let source = file ?? "standard input"
      let reader = RecordReader(fd: fd, delimiter: nil, limit: room,
        overflow: mapping.tooMuchInput(from: start, source: source), source: source)
      try reader.forEach { bytes, _ throws(SwipcError) in try mapping.write(bytes, at: start) }
    }
  }

  struct Dump: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "dump",
      abstract: "Write a shared memory segment's bytes to standard output.",
      discussion: """
        The segment is attached read-only. --format hex is the layout of 'hexdump -C' (offsets \
        from the start of the segment; '*' for repeated lines), raw the bytes themselves, base64 \
        lines of 76 characters as base64(1) writes them. The default is hex on a terminal, raw \
        otherwise.
        """)

    @OptionGroup var target: TargetOptions

    @Option(parsing: .unconditional, help: ArgumentHelp("Start this many bytes into the segment (default 0).", valueName: "offset"), transform: parsed(ByteCount.init(parsing:)))
    var offset: ByteCount?

    @Option(parsing: .unconditional, help: ArgumentHelp("Dump this many bytes (default: to the end).", valueName: "length"), transform: parsed(ByteCount.init(parsing:)))
    var length: ByteCount?

    @Option(help: "Output format: hex, raw or base64 (default: hex on a terminal, else raw).")
    var format: ByteDump.Format?

    @OptionGroup(title: "Namespace") var namespaceOption: NamespaceOption

    func run() throws {
      // A POSIX object is read through its descriptor, never mapped: it may shrink meanwhile.
      let mapping = try SharedMemoryMapping(target: target.resolve(kind: .shm), readOnly: true, map: false, view: CommandView.current)
      let (start, count) = try mapping.range(offset: Int(clamping: offset?.bytes ?? 0), length: length.map { Int(clamping: $0.bytes) })
      let format = self.format ?? (isatty(1) == 1 ? .hex : .raw)
      Terminal.widenPipe(fd: 1, toHold: count)
      if format == .raw {
        try mapping.stream(offset: start, count: count, to: 1)
        return
      }
      var hex = ByteDump.Hex(offset: start)
      var out = OutputBuffer(capacity: ByteDump.chunkSize * 5)
      try mapping.read(offset: start, count: count, chunk: ByteDump.chunkSize) { chunk throws(SwipcError) in
        out.bytes.removeAll(keepingCapacity: true)
        if format == .hex { hex.write(chunk, into: &out) } else { ByteDump.writeBase64(chunk, into: &out) }
        try Terminal.write(out)
      }
      if format == .hex {
        out.bytes.removeAll(keepingCapacity: true)
        hex.finish(into: &out, wroteAnything: count > 0)
        try Terminal.write(out)
      }
    }
  }

  struct Attach: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "attach",
      abstract: "Stay attached to a shared memory segment while COMMAND runs, or until a signal.",
      discussion: """
        Attaches (shmat, or shm_open and mmap for a /name) and says so on standard error. With \
        '-- COMMAND...', runs COMMAND, detaches when it exits and exits with its status \
        (SIGINT, SIGTERM, SIGHUP and SIGQUIT are passed on to it, and the attach is held until it \
        exits). Without COMMAND, holds the attach until one of those signals, then detaches and \
        exits 0.
        """)

    @OptionGroup var target: TargetOptions

    @Flag(help: "Attach read-only (SHM_RDONLY, PROT_READ): needs only read permission.")
    var readonly = false

    @Argument(parsing: .postTerminator, help: ArgumentHelp("The command to run while attached, after '--'.", valueName: "command"))
    var command: [String] = []

    @OptionGroup(title: "Namespace") var namespaceOption: NamespaceOption

    func run() throws {
      let mapping = try SharedMemoryMapping(target: target.resolve(kind: .shm), readOnly: readonly, view: CommandView.current)
      let address = mapping.base.map { "0x" + String(UInt(bitPattern: $0), radix: 16) } ?? "(nothing mapped: size 0)"
      Terminal.warn("attached \(mapping.label) \(readonly ? "read-only" : "read-write") at \(address) (\(mapping.size) bytes) in pid \(getpid()); "
        + (command.isEmpty ? "SIGINT (Ctrl-C), SIGTERM, SIGHUP or SIGQUIT detaches" : "detaches when \(command[0]) exits"))
      let status = try runHolding(command)
      withExtendedLifetime(mapping) {}
      if status != 0 { throw ExitCode(status) }
    }
  }
}

/// Runs `command` in a child and returns its status as a shell reports it (126 or 127 when it
/// cannot be run); with no command, waits for an interrupt signal and returns 0. What the caller
/// holds stays held until this returns.
func runHolding(_ command: [String]) throws -> Int32 {
  guard !command.isEmpty else {
    _ = swipc_wait_for_interrupt()
    return 0
  }
  let spawned = Result { () throws(SwipcError) in try ChildProcess.spawn(command) }
  switch spawned {
  case .success(let pid): return ChildProcess.wait(for: pid)
  case .failure(let error):
    Terminal.warn(error.description)
    return ChildProcess.failureStatus(of: error)
  }
}
