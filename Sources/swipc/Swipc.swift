import ArgumentParser
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
    let arguments = Array(CommandLine.arguments.dropFirst())
    do {
      var command = try parseAsRoot(arguments)
      try command.run()
    } catch {
      Terminal.exit(for: error, command: Self.self)
    }
  }
}

enum SwipcVersion {
  static let string = "0.1.0"
}
