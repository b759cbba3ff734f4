import ArgumentParser
import SwipcCore

extension Swipc {
  struct Show: RequestCommand {
    static let configuration = CommandConfiguration(
      commandName: "show",
      abstract: "Show everything about one object, including the processes that hold it.",
      discussion: """
        Shows what ipcs -i shows, plus: for shm the processes attached (from /proc/*/maps), for \
        sem each semaphore's value, last pid and waiters, for msg the byte limit and the commands \
        of the last sender and receiver, for POSIX objects the processes holding them open or \
        mapped. What cannot be read (permission) is named in a note.
        """)

    @Argument(help: ArgumentHelp("The kind: msg, shm, sem, pmsg, pshm or psem.", valueName: "type"), completion: LiveCompletion.kinds, transform: parsed(KindArgument.parse))
    var type: IPCKind

    @OptionGroup var target: TargetOptions
    @OptionGroup(title: "Output") var output: OutputOptions<DetailsRenderer>

    @OptionGroup(title: "Namespace") var namespaceOption: NamespaceOption

    var request: ShowRequest {
      var request = ShowRequest()
      (request.kind, request.target, request.keys, request.output) = (type, target.target, target.keys.spec, output.settings())
      return request
    }

    static func perform(_ plan: (target: ObjectTarget, kind: IPCKind), _ request: ShowRequest) throws {
      let (target, kind, output) = (plan.target, plan.kind, request.output)
      let view = CommandView.current
      let processes = ProcessTable(procDirectory: view.proc)
      let snapshot = Inventory(view: view).snapshot(kinds: [kind], scanHolders: kind.isPOSIX, processes: processes)
      let object = try ObjectDetails.locate(target, kind: kind, in: snapshot)
      let details = ObjectDetails.gather(object, processes: processes, holderIndex: snapshot.holderIndex, view: view)
      let formatter = CellFormatter(options: output.renderOptions(now: snapshot.now), users: UserDirectory())
      let renderer = DetailsRenderer(details, context: ColumnContext(
          now: snapshot.now, processes: processes,
          orphans: OrphanDetector(view: view, processes: processes, holderIndex: snapshot.holderIndex, now: snapshot.now)))
      try Terminal.write(try renderer.render(as: output.format, formatter: formatter))
    }
  }
}
