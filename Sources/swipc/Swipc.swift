import ArgumentParser
import Glibc
import SwipcCore

@main
struct Swipc: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "swipc",
    abstract: "List, create, use, inspect and clean up Linux IPC objects: System V and POSIX queues, shared memory and semaphores; FIFOs and local sockets.",
    discussion: """
      Objects are named by a System V id (123), --key KEY, --ftok PATH[:PROJ], or a POSIX /name.
      Exit status: 0 success, 1 failure, 64 usage error, 66 no such object, 69 facility \
      unavailable, 75 would block or timed out, 77 permission denied, 130 interrupted.
      """,
    version: SwipcVersion.string,
    subcommands: [Ls.self, Show.self, Limits.self, Msg.self, Shm.self, Sem.self, Pipe.self, Sock.self, Rm.self, Chmod.self, Chown.self, Clean.self, Bench.self, BenchPeerCommand.self])

  /// Parses, runs, and turns every error into one line on stderr and the documented exit status.
  static func main() {
    // Nothing can be reported when even /dev/null cannot be opened: fail, as any failure does.
    guard StandardDescriptors.ensureOpen() else { Glibc.exit(1) }
    let arguments = Array(CommandLine.arguments.dropFirst())
    do {
      try requireUTF8Arguments()
      if try quickPath(arguments) { return }
      var command = try parseAsRoot(arguments)
      try CommandView.select(for: command)
      try command.run()
    } catch {
      Terminal.exit(for: error, command: Self.self)
    }
  }
}

extension Swipc {
  /// Swift repairs bytes that are not UTF-8 when it makes `CommandLine.arguments`: a name or path
  /// given in another encoding would silently become a different one. Refuse it instead.
  static func requireUTF8Arguments() throws(SwipcError) {
    for i in 1..<Int(CommandLine.argc) {
      guard let raw = CommandLine.unsafeArgv[i], String(validatingCString: raw) == nil else { continue }
      throw .usage("argument \(i) is not valid UTF-8: swipc takes names, paths and text arguments in UTF-8 (pipe other bytes through standard input)")
    }
  }
}

extension Swipc {
  /// Runs the command line through `QuickPath` when it takes it. SWIPC_PARSER=full turns the quick
  /// path off and SWIPC_PARSER=quick makes a command line it does not take fail (exit 70), so that
  /// tests can compare the two readers and know which one ran.
  static func quickPath(_ arguments: [String]) throws -> Bool {
    let mode = getenv("SWIPC_PARSER").map { String(cString: $0) }
    if mode == "full" { return false }
    if try QuickPath.run(arguments) { return true }
    if mode == "quick" {
      Terminal.warn("SWIPC_PARSER=quick: the quick path does not take this command line")
      Glibc.exit(70)
    }
    return false
  }
}

enum SwipcVersion {
  static let string = "0.1.0"
}
