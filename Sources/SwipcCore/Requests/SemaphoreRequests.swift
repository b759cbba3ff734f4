/// `swipc sem init TARGET VALUE`, or `TARGET --values LIST` (only VALUE, or nothing, with --key/--ftok).
public struct SemInitRequest: CommandRequest {
  public var arguments: [String] = []
  public var keys = KeySpec()
  public var index = 0
  public var values: String?

  public init() {}

  public struct Plan {
    public var target: ObjectTarget
    public enum Setting { case one(Int), all([Int]) }
    public var setting: Setting
  }

  public func validate() throws(SwipcError) -> Plan {
    let expected = (keys.isGiven ? 0 : 1) + (values == nil ? 1 : 0)
    guard arguments.count == expected else {
      throw .usage(values == nil
        ? "expected TARGET VALUE, e.g. 'swipc sem init 32768 1' (or VALUE alone after --key/--ftok)"
        : "--values replaces VALUE: give TARGET alone (or nothing after --key/--ftok)")
    }
    let target = try keys.target(keys.isGiven ? nil : arguments[0], kind: .sem)
    if let values { return Plan(target: target, setting: .all(try parseValueList(values))) }
    guard let value = Int(arguments[expected - 1]) else {
      let maximum = target.resolvedKind(.sem) == .psem ? SemaphoreHandle.posixMaximum : SemaphoreHandle.systemVMaximum
      throw .usage("invalid value '\(arguments[expected - 1])': expected a number from 0 to \(maximum)")
    }
    return Plan(target: target, setting: .one(value))
  }
}

/// What `sem wait`, `sem post` and `sem run` share: the semaphore and --index.
public struct SemaphoreOperand: Sendable {
  public var target: String?
  public var keys = KeySpec()
  public var index = 0

  public init(target: String? = nil, keys: KeySpec = KeySpec(), index: Int = 0) {
    (self.target, self.keys, self.index) = (target, keys, index)
  }

  /// The semaphore named; --undo (SEM_UNDO) exists only for System V.
  func resolve(undo: Bool) throws(SwipcError) -> ObjectTarget {
    let target = try keys.target(self.target, kind: .sem)
    if undo && target.resolvedKind(.sem) == .psem {
      throw .usage("--undo applies to System V semaphores; POSIX semaphores have no undo")
    }
    return target
  }
}

/// `swipc sem wait TARGET`: take (or, --zero, wait for zero).
public struct SemWaitRequest: CommandRequest {
  public var semaphore = SemaphoreOperand()
  public var by = 1
  public var zero = false
  public var undo = false
  public var wait = WaitSettings()

  public init() {}

  public func validate() throws(SwipcError) -> ObjectTarget {
    try wait.validate()
    if zero && by != 1 { throw .usage("--zero waits for 0 and takes nothing: --by does not apply") }
    return try semaphore.resolve(undo: undo)
  }
}

/// `swipc sem post TARGET`.
public struct SemPostRequest: CommandRequest {
  public var semaphore = SemaphoreOperand()
  public var by = 1
  public var undo = false

  public init() {}

  public func validate() throws(SwipcError) -> ObjectTarget { try semaphore.resolve(undo: undo) }
}

/// `swipc sem run TARGET -- COMMAND...`.
public struct SemRunRequest: CommandRequest {
  public var semaphore = SemaphoreOperand()
  public var wait = WaitSettings()
  public var command: [String] = []

  public init() {}

  public func validate() throws(SwipcError) -> ObjectTarget {
    try wait.validate()
    if command.isEmpty { throw .usage("give the command to run after '--', e.g. swipc sem run 32768 -- ./job.sh") }
    return try semaphore.resolve(undo: false)
  }
}
