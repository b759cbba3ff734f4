import ArgumentParser
import SwipcCore

extension Swipc {
  struct Rm: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "rm",
      abstract: "Remove the named objects; report each, and go on after a failure.",
      discussion: """
        TARGET is an id or a /name; --key and --ftok add objects by key. Exit status: the \
        failure's own status when one target was given, 1 when some of several failed.
        """)

    @Argument(help: ArgumentHelp("The kind: msg, shm, sem, pmsg, pshm or psem.", valueName: "type"), completion: LiveCompletion.kinds, transform: parsed(KindArgument.parse))
    var type: IPCKind

    @Argument(help: ArgumentHelp("Objects to remove: System V ids or POSIX /names.", valueName: "target"), completion: LiveCompletion.targets)
    var targets: [String] = []

    @Option(name: [.customShort("k"), .long], parsing: .unconditionalSingleValue, help: ArgumentHelp("Remove the System V object with this key; repeatable.", valueName: "key"), transform: parsed(IPCKey.init(parsing:)))
    var key: [IPCKey] = []

    @Option(help: ArgumentHelp("Remove the System V object with the ftok(3) key of PATH[:PROJ]; repeatable.", valueName: "path[:proj]"))
    var ftok: [String] = []

    @Flag(name: [.customShort("q"), .long], help: "Do not report removed objects on stdout (failures still go to stderr).")
    var quiet = false

    @OptionGroup(title: "Namespace") var namespaceOption: NamespaceOption

    var request: RemoveRequest {
      var request = RemoveRequest()
      (request.kind, request.targets, request.keys, request.ftoks, request.quiet) = (type, targets, key, ftok, quiet)
      request.namespace = namespaceOption.namespace
      return request
    }
  }

  struct Chmod: RequestCommand {
    static let configuration = CommandConfiguration(
      commandName: "chmod",
      abstract: "Change an object's permissions (IPC_SET for System V, the backing file for POSIX).")

    @Argument(help: ArgumentHelp("The kind: msg, shm, sem, pmsg, pshm or psem.", valueName: "type"), completion: LiveCompletion.kinds, transform: parsed(KindArgument.parse))
    var type: IPCKind

    @Argument(help: ArgumentHelp("TARGET (an id or /name) and MODE (octal, e.g. 600); MODE alone with --key or --ftok.", valueName: "target-and-mode"), completion: LiveCompletion.target)
    var arguments: [String] = []

    @OptionGroup var keys: KeyOptions

    @OptionGroup(title: "Namespace") var namespaceOption: NamespaceOption

    var request: ChmodRequest {
      var request = ChmodRequest(kind: type)
      (request.arguments, request.keys) = (arguments, keys.spec)
      return request
    }

    static func perform(_ plan: (ObjectTarget, FileMode), _ request: ChmodRequest) throws {
      try ObjectOperations.setPermissions(kind: request.kind, target: plan.0, mode: plan.1, uid: nil, gid: nil, view: CommandView.current)
    }
  }

  struct Chown: RequestCommand {
    static let configuration = CommandConfiguration(
      commandName: "chown",
      abstract: "Change an object's owner and group (IPC_SET for System V, the backing file for POSIX).")

    @Argument(help: ArgumentHelp("The kind: msg, shm, sem, pmsg, pshm or psem.", valueName: "type"), completion: LiveCompletion.kinds, transform: parsed(KindArgument.parse))
    var type: IPCKind

    @Argument(help: ArgumentHelp("TARGET (an id or /name) and OWNER (USER, USER:GROUP or :GROUP; names or ids); OWNER alone with --key or --ftok.", valueName: "target-and-owner"), completion: LiveCompletion.target)
    var arguments: [String] = []

    @OptionGroup var keys: KeyOptions

    @OptionGroup(title: "Namespace") var namespaceOption: NamespaceOption

    var request: ChownRequest {
      var request = ChownRequest(kind: type)
      (request.arguments, request.keys) = (arguments, keys.spec)
      return request
    }

    static func perform(_ plan: ChownRequest.Plan, _ request: ChownRequest) throws {
      try ObjectOperations.setPermissions(kind: request.kind, target: plan.target, mode: nil, uid: plan.uid, gid: plan.gid, view: CommandView.current)
    }
  }
}

extension Swipc.Rm: QuickCommand {
  static var path: [String] { ["rm"] }
  static var blankRequest: RemoveRequest { RemoveRequest() }
  static var table: QuickTable<RemoveRequest> {
    QuickTable(
      options: [
        .values("--key", short: "k", unconditional: true, \.keys, QuickValue.core(IPCKey.init(parsing:))),
        .values("--ftok", \.ftoks, QuickValue.text), .flag("--quiet", short: "q", \.quiet), QuickNamespace.option(\.namespace),
      ],
      positionals: { request, words in
        guard let type = words.first, let kind = try? KindArgument.parse(type) else { return false }
        (request.kind, request.targets) = (kind, Array(words.dropFirst()))
        return true
      })
  }

  /// Removes each target, reports each, and goes on after a failure.
  static func perform(_ targets: [ObjectTarget], _ request: RemoveRequest) throws {
    var failures: [SwipcError] = []
    var unwritten: Int32?
    let view = CommandView.current
    for target in targets {
      switch Result(catching: { () throws(SwipcError) in try ObjectOperations.remove(kind: request.kind, target: target, view: view) }) {
      case .success(let label):
        guard !request.quiet && unwritten == nil else { continue }
        unwritten = Array("removed \(label)\n".utf8).withUnsafeBytes { OutputWriter.writeAll($0, to: 1) }
      case .failure(let error):
        Terminal.warn(error.description)
        failures.append(error)
      }
    }
    if failures.count == 1 && targets.count == 1 { throw ExitCode(Terminal.exitStatus(for: failures[0].category)) }
    if !failures.isEmpty { throw ExitCode(1) }
    if let unwritten {
      throw OutputWriter.failure(fd: 1, errno: unwritten, consequence: "the objects were removed, but not every 'removed' line was written")
    }
  }
}
