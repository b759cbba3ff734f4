import ArgumentParser
import SwipcCore

extension Swipc {
  struct Limits: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "limits",
      abstract: "Show kernel limits for every kind, with current use and percent used.",
      discussion: """
        Covers ipcs -l, ipcs -u and lsipc -g, plus the POSIX limits in /proc/sys/fs/mqueue, \
        RLIMIT_MSGQUEUE and the size of /dev/shm.
        """)

    @Argument(help: ArgumentHelp("Kinds to show: msg, shm, sem, pmsg, pshm, psem (default: all).", valueName: "type"), completion: LiveCompletion.kinds, transform: parsed(KindArgument.parse))
    var types: [IPCKind] = []

    @OptionGroup(title: "Output") var output: OutputOptions<LimitsRenderer>

    @OptionGroup(title: "Namespace") var namespaceOption: NamespaceOption

    var request: LimitsRequest {
      var request = LimitsRequest()
      (request.kinds, request.output) = (types, output.settings())
      request.namespace = namespaceOption.namespace
      return request
    }
  }
}

extension Swipc.Limits: QuickCommand {
  static var path: [String] { ["limits"] }
  static var blankRequest: LimitsRequest { LimitsRequest() }
  static var table: QuickTable<LimitsRequest> {
    QuickTable(
      options: QuickGroups.output(LimitsRenderer.self).map { $0.within(\.output) } + [QuickNamespace.option(\.namespace)],
      positionals: QuickPositionals.kinds(\.kinds))
  }

  static func perform(_ request: LimitsRequest, _: LimitsRequest) throws {
    let output = request.output
    var rows = LimitsReader.read(view: CommandView.current)
    if let wanted = request.shownKinds { rows = rows.filter { wanted.contains($0.kind) } }
    let formatter = CellFormatter(options: output.renderOptions(now: Clock.now()), users: UserDirectory())
    try Terminal.write(try LimitsRenderer(rows).render(as: output.format, formatter: formatter))
  }
}
