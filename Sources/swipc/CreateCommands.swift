import ArgumentParser
import SwipcCore

/// Naming a new object: none (IPC_PRIVATE), --key, --ftok or a /name; and --mode, --exclusive.
struct CreateTargetOptions: ParsableArguments {
  @Argument(help: ArgumentHelp("A POSIX /name to create; without it a System V object is made, private unless --key or --ftok is given.", valueName: "name"))
  var name: String?

  @OptionGroup var keys: KeyOptions

  @Option(help: ArgumentHelp("Permissions in octal (default 0600; never world-writable unless asked).", valueName: "mode"), transform: parsed(FileMode.init(parsing:)))
  var mode: FileMode = FileMode(0o600)

  @Flag(inversion: .prefixedNo, help: "Fail if the object exists (default for POSIX names, which defeats names pre-created in /dev/shm by another user; default off for keys).")
  var exclusive: Bool?

  var spec: CreateSpec { CreateSpec(name: name, keys: keys.spec, mode: mode, exclusive: exclusive) }
}

/// The values of the create options, however they were parsed (argument-parser or `QuickPath`).
struct CreateSpec {
  var name: String?
  var keys = KeySpec()
  var mode = FileMode(0o600)
  var exclusive: Bool?

  func request(kind: IPCKind) throws -> CreateRequest {
    var target: ObjectTarget?
    if name != nil || keys.isGiven { target = try keys.target(name, kind: kind) }
    if case .key(let k) = target, k.isPrivate {
      throw ValidationError("key 0 is IPC_PRIVATE: leave out --key to create a private object")
    }
    var request = CreateRequest(kind: kind, target: target)
    request.mode = mode
    request.exclusive = exclusive
    return request
  }

  /// `msg create`: System V --max-bytes, POSIX --max-messages and --message-size.
  func queue(maxBytes: ByteCount?, maxMessages: Int?, messageSize: Int?) throws -> CreateRequest {
    var request = try self.request(kind: .msg)
    request.maxBytes = maxBytes
    request.maxMessages = maxMessages
    request.messageSize = messageSize
    return request
  }

  /// `shm create --size`.
  func segment(size: ByteCount?) throws -> CreateRequest {
    var request = try self.request(kind: .shm)
    request.size = size
    return request
  }

  /// `sem create`: --count, and --value or --values.
  func semaphore(count: Int?, value: Int?, values: String?) throws -> CreateRequest {
    var request = try self.request(kind: .sem)
    if value != nil && values != nil { throw ValidationError("give --value or --values, not both") }
    request.count = count
    if let value { request.values = [value] }
    if let values { request.values = try parseValueList(values) }
    return request
  }
}

/// Runs a create request and prints the id or name alone, so that `id=$(swipc shm create ...)` works.
/// The id is the only record of a new System V object made with IPC_PRIVATE: when it cannot be
/// written, the object is removed again rather than left behind unnamed.
func runCreate(_ request: CreateRequest) throws {
  try OutputWriter.requireWritable(1, consequence: "nothing was created (the new id or name could not be printed)")
  let view = CommandView.current
  let created = try Creator.create(request, view: view)
  var out = OutputBuffer()
  out.write(created.description)
  out.newline()
  guard let e = out.bytes.withUnsafeBytes({ OutputWriter.writeAll($0, to: 1) }) else { return }
  let target: ObjectTarget = switch created {
  case .id(let id): .id(id)
  case .name(let name): .name(name)
  }
  let undone = (try? ObjectOperations.remove(kind: request.resolvedKind, target: target, view: view)) != nil
  throw OutputWriter.failure(
    fd: 1, errno: e,
    consequence: undone
      ? "\(created) was created and, as its id or name could not be printed, removed again"
      : "\(created) was created but its id or name could not be printed; remove it with 'swipc rm'")
}

extension Swipc {
  struct Msg: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "msg", abstract: "Message queues: System V (id, key) and POSIX (/name).",
      subcommands: [Create.self, Send.self, Recv.self])

    struct Create: ParsableCommand {
      static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a message queue; print its id (System V) or name (POSIX).")

      @OptionGroup var target: CreateTargetOptions

      @Option(help: ArgumentHelp("System V: the queue's byte limit (msg_qbytes), e.g. 64K; above MSGMNB needs CAP_SYS_RESOURCE.", valueName: "size"), transform: parsed(ByteCount.init(parsing:)))
      var maxBytes: ByteCount?

      @Option(help: ArgumentHelp("POSIX: how many messages the queue holds (default /proc/sys/fs/mqueue/msg_default).", valueName: "n"))
      var maxMessages: Int?

      @Option(help: ArgumentHelp("POSIX: the largest message in bytes (default /proc/sys/fs/mqueue/msgsize_default).", valueName: "bytes"))
      var messageSize: Int?

      @OptionGroup(title: "Namespace") var namespaceOption: NamespaceOption

      func run() throws {
        try runCreate(target.spec.queue(maxBytes: maxBytes, maxMessages: maxMessages, messageSize: messageSize))
      }
    }
  }

  struct Shm: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "shm", abstract: "Shared memory: System V segments (id, key) and POSIX objects (/name).",
      subcommands: [Create.self, Write.self, Dump.self, Attach.self])

    struct Create: ParsableCommand {
      static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a shared memory segment; print its id (System V) or name (POSIX).")

      @OptionGroup var target: CreateTargetOptions

      @Option(help: ArgumentHelp("Size: 4096, 4K, 4KiB, 1M (powers of 1024; KB, MB are powers of 1000). Required.", valueName: "size"), transform: parsed(ByteCount.init(parsing:)))
      var size: ByteCount?

      @OptionGroup(title: "Namespace") var namespaceOption: NamespaceOption

      func run() throws {
        try runCreate(target.spec.segment(size: size))
      }
    }
  }

  struct Sem: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "sem", abstract: "Semaphores: System V sets (id, key) and POSIX named semaphores (/name).",
      subcommands: [Create.self, Init.self, Get.self, Wait.self, Post.self, Run.self])

    struct Create: ParsableCommand {
      static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a semaphore set (System V) or a named semaphore (POSIX); print its id or name.")

      @OptionGroup var target: CreateTargetOptions

      @Option(help: ArgumentHelp("System V: semaphores in the set (default 1, or the number of --values).", valueName: "n"))
      var count: Int?

      @Option(help: ArgumentHelp("Initial value of every semaphore (default 0).", valueName: "n"))
      var value: Int?

      @Option(help: ArgumentHelp("Initial values, one per semaphore: 1,0,3.", valueName: "list"))
      var values: String?

      @OptionGroup(title: "Namespace") var namespaceOption: NamespaceOption

      func run() throws {
        try runCreate(target.spec.semaphore(count: count, value: value, values: values))
      }
    }
  }
}
