import ArgumentParser
import SwipcCore

extension Swipc {
  struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "show",
      abstract: "Show everything about one object, including the processes that hold it.",
      discussion: """
        Shows what ipcs -i shows, plus: for shm the processes attached (from /proc/*/maps), for \
        sem each semaphore's value, last pid and waiters, for msg the byte limit and the commands \
        of the last sender and receiver, for POSIX objects the processes holding them open or \
        mapped. What cannot be read (permission) is named in a note.
        """)

    @Argument(help: ArgumentHelp("The kind: msg, shm, sem, pmsg, pshm or psem.", valueName: "type"), completion: LiveCompletion.kinds, transform: parsed(parseKind))
    var type: IPCKind

    @OptionGroup var target: TargetOptions
    @OptionGroup(title: "Output") var output: OutputOptions<DetailsRenderer>

    func run() throws {
      let target = try self.target.resolve(kind: type)
      let kind = target.resolvedKind(type)
      let processes = ProcessTable()
      let snapshot = Inventory().snapshot(kinds: [kind], scanHolders: kind.isPOSIX, processes: processes)
      let object = try ObjectDetails.locate(target, kind: kind, in: snapshot)
      let details = ObjectDetails.gather(object, processes: processes, holderIndex: snapshot.holderIndex)
      let formatter = CellFormatter(options: output.renderOptions(now: snapshot.now), users: UserDirectory())
      let renderer = DetailsRenderer(details, context: ColumnContext(
          now: snapshot.now, processes: processes,
          orphans: OrphanDetector(processes: processes, holderIndex: snapshot.holderIndex, now: snapshot.now)))
      try Terminal.write(try renderer.render(as: output.format, formatter: formatter))
    }
  }
}
