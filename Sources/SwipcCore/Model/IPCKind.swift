/// A kind of IPC object, as named on the command line.
public enum IPCKind: String, CaseIterable, Sendable, Hashable, Comparable {
  case msg, shm, sem, pmsg, pshm, psem

  /// The System V kinds, in the order ipcs lists them.
  public static let systemV: [IPCKind] = [.msg, .shm, .sem]
  /// The POSIX kinds.
  public static let posix: [IPCKind] = [.pmsg, .pshm, .psem]

  public var isSystemV: Bool {
    switch self {
    case .msg, .shm, .sem: return true
    case .pmsg, .pshm, .psem: return false
    }
  }
  public var isPOSIX: Bool { !isSystemV }

  /// The POSIX kind a System V type name means when it is given a `/name`.
  public var posixCounterpart: IPCKind { systemVBackend?.posixCounterpart ?? self }

  /// A title for table sections, as ipcs prints them.
  public var title: String {
    switch self {
    case .msg: return "System V message queues"
    case .shm: return "System V shared memory segments"
    case .sem: return "System V semaphore sets"
    case .pmsg: return "POSIX message queues"
    case .pshm: return "POSIX shared memory objects"
    case .psem: return "POSIX named semaphores"
    }
  }

  /// A short noun for messages: "queue 32768", "segment 5".
  public var noun: String {
    switch self {
    case .msg, .pmsg: return "queue"
    case .shm, .pshm: return "segment"
    case .sem: return "semaphore set"
    case .psem: return "semaphore"
    }
  }

  /// The listing order: System V kinds first, as ipcs lists them.
  public var order: Int {
    switch self {
    case .msg: return 0
    case .shm: return 1
    case .sem: return 2
    case .pmsg: return 3
    case .pshm: return 4
    case .psem: return 5
    }
  }

  public static func < (a: IPCKind, b: IPCKind) -> Bool { a.order < b.order }
}

/// A set of kinds as a bitmask: membership is one AND, which matters per cell of a large listing.
public struct IPCKindSet: OptionSet, Sendable, Hashable {
  public let rawValue: UInt8
  public init(rawValue: UInt8) { self.rawValue = rawValue }
  public init(_ kinds: [IPCKind]) {
    self.init(rawValue: kinds.reduce(0) { $0 | (1 << UInt8($1.order)) })
  }
  public func contains(_ kind: IPCKind) -> Bool { rawValue & (1 << UInt8(kind.order)) != 0 }

  public static let all = IPCKindSet(IPCKind.allCases)
  public static let systemV = IPCKindSet(IPCKind.systemV)
  public static let posix = IPCKindSet(IPCKind.posix)
}
