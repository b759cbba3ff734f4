import ArgumentParser
import Glibc
import SwipcCore

/// --index: which semaphore of a System V set.
struct IndexOption: ParsableArguments {
  @Option(name: [.customShort("i"), .long], parsing: .unconditional, help: ArgumentHelp("Which semaphore of a System V set, from 0 (default 0).", valueName: "i"))
  var index: Int = 0
}

/// --undo: SEM_UNDO, for System V semaphores only.
struct UndoOption: ParsableArguments {
  @Flag(help: "System V: SEM_UNDO; the kernel reverses the change when the process exits.")
  var undo = false
}

extension TargetOptions {
  /// The semaphore these options and --index name, for a request to check.
  func semaphore(_ which: IndexOption) -> SemaphoreOperand {
    SemaphoreOperand(target: target, keys: keys.spec, index: which.index)
  }
}

/// Runs a semaphore operation with the wait options.
func operate(_ operation: SemaphoreHandle.Operation, on semaphore: SemaphoreHandle, index: Int, undo: Bool, wait: WaitSettings)
  throws
{
  try semaphore.perform(operation, index: index, undo: undo, wait: !wait.nowait, call: BlockingCall(timeout: wait.timeout))
}

extension Swipc.Sem {
  struct Init: RequestCommand {
    static let configuration = CommandConfiguration(
      commandName: "init",
      abstract: "Set a semaphore's value (SETVAL), or every value of a set with --values (SETALL).",
      discussion: """
        A POSIX semaphore is set in one atomic step that wakes its waiters. Values run from 0 \
        to SEMVMX (32767) for System V, to SEM_VALUE_MAX (2147483647) for POSIX.
        """)

    @Argument(help: ArgumentHelp("TARGET then VALUE; only VALUE with --key or --ftok; TARGET alone with --values.", valueName: "target-and-value"), completion: LiveCompletion.target)
    var arguments: [String] = []

    @OptionGroup var keys: KeyOptions
    @OptionGroup var which: IndexOption

    @Option(help: ArgumentHelp("One value per semaphore of the set, e.g. 1,0,3.", valueName: "list"))
    var values: String?

    @OptionGroup(title: "Namespace") var namespaceOption: NamespaceOption

    var request: SemInitRequest {
      var request = SemInitRequest()
      (request.arguments, request.keys, request.index, request.values) = (arguments, keys.spec, which.index, values)
      return request
    }

    static func perform(_ plan: SemInitRequest.Plan, _ request: SemInitRequest) throws {
      let semaphore = try SemaphoreHandle(target: plan.target, view: CommandView.current)
      switch plan.setting {
      case .all(let values): try semaphore.setValues(values)
      case .one(let value): try semaphore.setValue(value, index: request.index)
      }
    }
  }

  struct Get: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "get",
      abstract: "Print semaphore values: one line per semaphore of the set, or --index I alone.",
      discussion: """
        --format json adds, for System V, each semaphore's last pid and the processes waiting \
        for an increase (ncount) and for zero (zcount).
        """)

    @OptionGroup var target: TargetOptions

    @Option(name: [.customShort("i"), .long], parsing: .unconditional, help: ArgumentHelp("Only this semaphore of a System V set.", valueName: "i"))
    var index: Int?

    @Option(help: "Output format: plain (default, one value a line) or json.")
    var format: ValueFormat = .plain

    enum ValueFormat: String, ExpressibleByArgument { case plain, json }

    @OptionGroup(title: "Namespace") var namespaceOption: NamespaceOption

    func run() throws {
      let target = try self.target.resolve(kind: .sem)
      let view = CommandView.current
      let semaphore = try SemaphoreHandle(target: target, view: view)
      var states = try semaphore.states()
      if let index {
        guard states.indices.contains(index) else {
          throw SwipcError.usage("--index \(index) is out of range for \(semaphore.label): it has \(states.count) semaphore\(states.count == 1 ? "" : "s")")
        }
        states = [states[index]]
      }
      var out = OutputBuffer()
      if format == .json {
        var name: POSIXName?
        if case .name(let n) = target { name = n }
        let renderer = SemaphoreValuesRenderer(
          name: name, id: name == nil ? try ObjectOperations.systemVID(kind: .sem, target: target, view: view) : nil, states: states)
        out = try renderer.render(as: .json, formatter: CellFormatter(options: RenderOptions(), users: UserDirectory()))
      } else {
        for s in states {
          out.write(int: Int64(s.value))
          out.newline()
        }
      }
      try Terminal.write(out)
    }
  }

  struct Wait: RequestCommand {
    static let configuration = CommandConfiguration(
      commandName: "wait",
      abstract: "Take a semaphore (P): wait until it can be lowered by --by, then lower it.",
      discussion: """
        System V: one atomic semop; with --undo the kernel gives the amount back when this \
        process's holder exits (so use it with 'sem run', not alone). --zero waits until the \
        value is 0 instead. POSIX: --by N takes N units at once, or waits until there are N; \
        it never takes part of them. Exit status: 75 with --nowait or --timeout when the value \
        stayed too low; 66 when the set is removed while waiting; 130 when interrupted by \
        SIGINT, SIGTERM, SIGHUP or SIGQUIT (nothing taken).
        """)

    @OptionGroup var target: TargetOptions
    @OptionGroup var which: IndexOption

    @Option(parsing: .unconditional, help: ArgumentHelp("Lower the value by this much (default 1).", valueName: "n"))
    var by: Int = 1

    @Flag(help: "System V: wait until the value is 0 (a semop of 0) rather than lowering it.")
    var zero = false

    @OptionGroup var undo: UndoOption

    @OptionGroup var wait: WaitOptions

    var request: SemWaitRequest {
      var request = SemWaitRequest()
      (request.semaphore, request.by, request.zero, request.undo, request.wait) = (target.semaphore(which), by, zero, undo.undo, wait.settings)
      return request
    }

    @OptionGroup(title: "Namespace") var namespaceOption: NamespaceOption

    static func perform(_ plan: ObjectTarget, _ request: SemWaitRequest) throws {
      let semaphore = try SemaphoreHandle(target: plan, view: CommandView.current)
      try operate(request.zero ? .waitForZero : .take(request.by), on: semaphore, index: request.semaphore.index,
        undo: request.undo, wait: request.wait)
    }
  }

  struct Post: RequestCommand {
    static let configuration = CommandConfiguration(
      commandName: "post",
      abstract: "Give a semaphore (V): raise it by --by, waking waiters.",
      discussion: """
        Fails with nothing changed when the value would pass SEMVMX (32767) for System V or \
        SEM_VALUE_MAX for POSIX.
        """)

    @OptionGroup var target: TargetOptions
    @OptionGroup var which: IndexOption

    @Option(parsing: .unconditional, help: ArgumentHelp("Raise the value by this much (default 1).", valueName: "n"))
    var by: Int = 1

    @OptionGroup var undo: UndoOption

    @OptionGroup(title: "Namespace") var namespaceOption: NamespaceOption

    var request: SemPostRequest {
      var request = SemPostRequest()
      (request.semaphore, request.by, request.undo) = (target.semaphore(which), by, undo.undo)
      return request
    }

    static func perform(_ plan: ObjectTarget, _ request: SemPostRequest) throws {
      let semaphore = try SemaphoreHandle(target: plan, view: CommandView.current)
      try semaphore.perform(.give(request.by), index: request.semaphore.index, undo: request.undo, wait: true, call: BlockingCall(timeout: nil))
    }
  }

  struct Run: RequestCommand {
    static let configuration = CommandConfiguration(
      commandName: "run",
      abstract: "Take a semaphore, run COMMAND, give it back: a cross-process mutex for scripts.",
      discussion: """
        Like flock(1), but for a semaphore, which also counts: a set initialised to 3 lets three \
        commands run at once. System V: the semaphore is taken with SEM_UNDO and COMMAND runs \
        in swipc's own process (exec), so the kernel gives it back when COMMAND exits, however \
        it exits (even killed with SIGKILL). POSIX: COMMAND runs in a child and swipc posts \
        after it exits, passing SIGINT, SIGTERM, SIGHUP and SIGQUIT on to it; a POSIX semaphore \
        has no undo, so if swipc itself is killed with SIGKILL the semaphore stays taken. With \
        --namespace, a System V semaphore is taken with SEM_UNDO by swipc's thread in that \
        namespace and COMMAND runs in a child in the caller's namespace; killed, swipc still \
        gives it back. Exit \
        status: COMMAND's; 75 when --nowait or --timeout gave up; 126/127 when COMMAND cannot \
        be run; 130 when interrupted while waiting.
        """)

    @OptionGroup var target: TargetOptions
    @OptionGroup var which: IndexOption
    @OptionGroup var wait: WaitOptions

    @Argument(parsing: .postTerminator, help: ArgumentHelp("The command to run while holding the semaphore, after '--'.", valueName: "command"))
    var command: [String] = []

    var request: SemRunRequest {
      var request = SemRunRequest()
      (request.semaphore, request.wait, request.command) = (target.semaphore(which), wait.settings, command)
      return request
    }

    @OptionGroup(title: "Namespace") var namespaceOption: NamespaceOption

    static func perform(_ plan: ObjectTarget, _ request: SemRunRequest) throws {
      let (command, index) = (request.command, request.semaphore.index)
      let semaphore = try SemaphoreHandle(target: plan, view: CommandView.current)
      let undo = !semaphore.isPOSIX
      try operate(.take(1), on: semaphore, index: index, undo: undo, wait: request.wait)
      // In another namespace the semaphore was taken by the thread that entered it, and the
      // adjustment is that thread's: exec would end the thread and give the semaphore back before
      // COMMAND starts. COMMAND runs in a child instead; killed, swipc still gives it back.
      if undo && CommandView.current.isCallersNamespace {
        // The SEM_UNDO adjustment survives exec and is applied when COMMAND's process exits.
        let error = ChildProcess.exec(command)
        try? semaphore.perform(.give(1), index: index, undo: true, wait: true, call: BlockingCall(timeout: nil))
        Terminal.warn(error.description)
        if error.category == .interrupted { throw exitInterrupted() }
        throw ExitCode(ChildProcess.failureStatus(of: error))
      }
      let status = try runHolding(command)
      try semaphore.perform(.give(1), index: index, undo: undo, wait: true, call: BlockingCall(timeout: nil))
      if status != 0 { throw ExitCode(status) }
    }
  }
}
