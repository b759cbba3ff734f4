import ArgumentParser
import CSwipc
import Glibc
import SwipcCore

/// Writing to stdout and stderr, and the one place that maps errors to exit statuses (docs/DESIGN.md, "Exit codes").
enum Terminal {
  /// Writes a command's output to standard output. A failed write throws: the output did not
  /// arrive, so the command must not exit 0 (util-linux's close_stdout does the same).
  /// `consequence` (made only on failure) says what the failure left undone or lost.
  static func write(_ buffer: OutputBuffer, consequence: @autoclosure () -> String? = nil) throws(SwipcError) {
    try write(output: buffer.bytes, consequence: consequence())
  }

  static func write(output bytes: [UInt8], consequence: @autoclosure () -> String? = nil) throws(SwipcError) {
    // withUnsafeBytes rethrows untyped errors: the errno comes out, the typed error is made here.
    if let e = bytes.withUnsafeBytes({ OutputWriter.writeAll($0, to: 1) }) {
      throw OutputWriter.failure(fd: 1, errno: e, consequence: consequence())
    }
  }

  /// Writes diagnostics to `fd` (standard error); a failure there has nowhere to be reported.
  static func write(fd: Int32, _ bytes: [UInt8]) {
    bytes.withUnsafeBytes { raw in _ = OutputWriter.writeAll(raw, to: fd) }
  }

  /// When `fd` is a pipe, raises its capacity (F_SETPIPE_SZ) towards `bytes`, at most
  /// /proc/sys/fs/pipe-max-size: a large transfer then takes a few wake-ups of the reader rather
  /// than one per 64 KiB. Silently leaves the pipe as it is when that fails.
  static func widenPipe(fd: Int32, toHold bytes: Int) {
    var st = stat()
    guard bytes > 65536, fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFIFO else { return }
    let limit = KernelLimits.value("fs/pipe-max-size").map { Int($0) } ?? 1 << 20
    _ = swipc_set_pipe_capacity(fd, Int32(clamping: min(bytes, limit)))
  }

  /// A progress line on stderr (a terminal), rewritten in place; nil clears it.
  static func progress(_ text: String?) {
    write(fd: 2, Array(("\r\u{1b}[K" + (text ?? "")).utf8))
  }

  /// One line on stderr, prefixed `swipc: `.
  /// Names and file contents quoted in it are other users' text: escaped as tables escape it, so
  /// that the line stays one line and sends nothing to the terminal.
  static func warn(_ message: String) {
    write(fd: 2, Array(("swipc: " + TextEscape.escaped(message) + "\n").utf8))
  }

  /// Asks a yes/no question on stderr and reads the answer from stdin (a terminal).
  static func confirm(_ question: String) -> Bool {
    write(fd: 2, Array(question.utf8))
    var answer = [UInt8]()
    var byte: UInt8 = 0
    while Glibc.read(0, &byte, 1) == 1 && byte != 10 { answer.append(byte) }
    let text = String(decoding: answer, as: UTF8.self).lowercased()
    return text == "y" || text == "yes"
  }

  static func exitStatus(for category: SwipcError.Category) -> Int32 {
    switch category {
    case .usage: return 64
    case .notFound: return 66
    case .unavailable: return 69
    case .wouldBlock: return 75
    case .permissionDenied: return 77
    case .interrupted: return 130
    case .failed: return 1
    }
  }

  /// Reports `error` and ends the process with its exit status.
  static func exit(for error: Error, command: ParsableCommand.Type) -> Never {
    if let error = error as? SwipcError {
      if error.category == .usage { usage(error.description) }
      warn(error.description)
      Glibc.exit(exitStatus(for: error.category))
    }
    if let code = error as? ExitCode { Glibc.exit(code.rawValue) }
    let code = command.exitCode(for: error)
    if code == .success {
      // --help, --version and the like: the full text is the output.
      do { try write(output: Array((command.fullMessage(for: error) + "\n").utf8)) } catch {
        warn(error.description)
        Glibc.exit(1)
      }
      Glibc.exit(0)
    }
    var message = command.message(for: error)
    if message.hasPrefix("Error: ") { message.removeFirst(7) }
    // argument-parser lists six or more choices one a line: keep them, on the one line.
    let lines = message.split(separator: "\n")
    let choices = lines.dropFirst().filter { $0.hasPrefix("  - ") }.map { "'\($0.dropFirst(4))'" }
    message = lines.first.map(String.init) ?? message
    if !choices.isEmpty && message.hasSuffix(" the following:") {
      message = message.dropLast(" the following:".count) + " " + choices.joined(separator: ", ") + "."
    }
    usage(message)
  }

  /// Every usage error, from either reader or from a request's `validate()`: one line that names
  /// the help of the deepest command given, and exit status 64.
  static func usage(_ message: String) -> Never {
    var path = ["swipc"]
    var commands = Swipc.configuration.subcommands
    for word in CommandLine.arguments.dropFirst() where !word.hasPrefix("-") {
      guard let sub = commands.first(where: { $0._commandName == word }) else { break }
      path.append(word)
      commands = sub.configuration.subcommands
    }
    warn(message + " (see '\(path.joined(separator: " ")) --help')")
    Glibc.exit(64)
  }
}
