/// `swipc msg|shm|sem create [NAME]`: none (IPC_PRIVATE), --key, --ftok or a /name; the options of
/// the kind.
public struct CreateRequest: CommandRequest {
  /// msg, shm or sem: the command given; a /name makes it the POSIX kind.
  public var kind: IPCKind
  public var name: String?
  public var keys = KeySpec()
  public var mode = FileMode(0o600)
  public var exclusive: Bool?
  public var size: ByteCount?
  public var count: Int?
  public var value: Int?
  /// `--values 1,0,3`, parsed here so that its message names the list.
  public var values: String?
  public var maxBytes: ByteCount?
  public var maxMessages: Int?
  public var messageSize: Int?

  public init(kind: IPCKind) {
    self.kind = kind
  }

  public func validate() throws(SwipcError) -> CreatePlan {
    var target: ObjectTarget?
    if name != nil || keys.isGiven { target = try keys.target(name, kind: kind) }
    if case .key(let k) = target, k.isPrivate {
      throw .usage("key 0 is IPC_PRIVATE: leave out --key to create a private object")
    }
    if value != nil && values != nil { throw .usage("give --value or --values, not both") }
    var plan = CreatePlan(kind: kind, target: target)
    plan.mode = mode
    plan.exclusive = exclusive
    plan.size = size
    plan.count = count
    if let value { plan.values = [value] }
    if let values { plan.values = try parseValueList(values) }
    plan.maxBytes = maxBytes
    plan.maxMessages = maxMessages
    plan.messageSize = messageSize
    if case .id = target { throw .usage("create takes --key, --ftok or a /name, not an id") }

    let kind = plan.resolvedKind
    if kind.isSystemV, messageSize != nil || maxMessages != nil {
      throw .usage("--max-messages and --message-size apply to POSIX queues (/name); System V queues take --max-bytes")
    }
    if kind == .pmsg, maxBytes != nil {
      throw .usage("--max-bytes applies to System V queues; POSIX queues take --max-messages and --message-size")
    }
    if kind == .shm || kind == .pshm {
      guard let size else { throw .usage("shm create needs --size, e.g. --size 4K") }
      if kind == .shm && size.bytes == 0 { throw .usage("a System V segment needs a size of at least 1 byte (SHMMIN)") }
    } else if size != nil {
      throw .usage("--size applies to shared memory")
    }
    if kind != .sem && kind != .psem, count != nil || plan.values != nil {
      throw .usage("--count, --value and --values apply to semaphores")
    }
    if let count {
      guard count >= 1 else { throw .usage("invalid --count \(count): a set holds at least 1 semaphore") }
      if kind == .psem && count != 1 { throw .usage("a POSIX semaphore is a single semaphore: --count must be 1") }
    }
    if let values = plan.values {
      if let count, count != values.count, values.count != 1 {
        throw .usage("--count \(count) does not match the \(values.count) values given")
      }
      if kind == .psem && values.count != 1 { throw .usage("a POSIX semaphore has one value") }
      for v in values where v < 0 || v > (kind == .psem ? Int(Int32.max) : 32767) {
        throw .usage("invalid semaphore value \(v): values are 0 to \(kind == .psem ? "2147483647 (SEM_VALUE_MAX)" : "32767 (SEMVMX)")")
      }
    }
    if let m = maxMessages, m < 1 { throw .usage("invalid --max-messages \(m): at least 1") }
    if let m = messageSize, m < 1 { throw .usage("invalid --message-size \(m): at least 1") }
    return plan
  }
}
