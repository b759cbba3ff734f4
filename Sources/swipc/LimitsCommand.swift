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

    @Argument(help: ArgumentHelp("Kinds to show: msg, shm, sem, pmsg, pshm, psem (default: all).", valueName: "type"), completion: LiveCompletion.kinds, transform: parsed(parseKind))
    var types: [IPCKind] = []

    @OptionGroup(title: "Output") var output: OutputOptions

    func validate() throws {
      try LimitsPlan.check(output.settings)
    }

    @OptionGroup(title: "Namespace") var namespaceOption: NamespaceOption

    func run() throws {
      try LimitsPlan(kinds: types, output: output.settings).run()
    }
  }
}

/// What `limits` was asked, checked before anything is read (see `ListPlan`).
struct LimitsPlan {
  var kinds: [IPCKind]
  var output: OutputSettings

  init(kinds: [IPCKind], output: OutputSettings) throws {
    try Self.check(output)
    self.kinds = kinds
    self.output = output
  }

  static func check(_ output: OutputSettings) throws {
    if output.columns != nil { throw ValidationError("-o/--columns applies to ls, not limits") }
  }

  func run() throws {
    var rows = LimitsReader.read(view: CommandView.current)
    if !kinds.isEmpty {
      let wanted = Set(kinds.flatMap { $0 == .psem ? [.psem, .pshm] : [$0] })
      rows = rows.filter { wanted.contains($0.kind) }
    }
    let renderer = LimitsRenderer(
      formatter: CellFormatter(options: output.renderOptions(now: Clock.now()), users: UserDirectory()))
    var out = OutputBuffer()
    switch output.format {
    case .table: renderer.table(rows, into: &out)
    case .csv: renderer.csv(rows, into: &out)
    case .json: renderer.json(rows, into: &out)
    case .prometheus:
      var writer = PrometheusWriter()
      renderer.prometheus(rows, into: &writer)
      out = writer.out
    }
    try Terminal.write(out)
  }
}
