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

    @OptionGroup(title: "Output") var output: OutputOptions<LimitsRenderer>

    func run() throws {
      try LimitsPlan(kinds: types, output: output.settings()).run()
    }
  }
}

/// What `limits` was asked, checked before anything is read (see `ListPlan`).
struct LimitsPlan {
  var kinds: [IPCKind]
  var output: OutputSettings

  init(kinds: [IPCKind], output: OutputSettings) {
    self.kinds = kinds
    self.output = output
  }

  func run() throws {
    var rows = LimitsReader.read(paths: .fromEnvironment())
    if !kinds.isEmpty {
      let wanted = Set(kinds.flatMap { $0 == .psem ? [.psem, .pshm] : [$0] })
      rows = rows.filter { wanted.contains($0.kind) }
    }
    let formatter = CellFormatter(options: output.renderOptions(now: Clock.now()), users: UserDirectory())
    try Terminal.write(try LimitsRenderer(rows).render(as: output.format, formatter: formatter))
  }
}
