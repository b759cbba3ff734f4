import Glibc
import SystemPackage

/// The one error type of the core: what was attempted, on which object, and why.
///
/// Its `description` is the line the user sees, e.g.
/// `msgsnd to queue 32768: message of 9000 bytes exceeds MSGMAX (8192)`.
public struct SwipcError: Error, Sendable, CustomStringConvertible, Equatable {
  /// What kind of failure this is; the executable maps it to an exit status.
  public enum Category: Sendable, Equatable {
    /// Bad input from the user: an option, a value, a name.
    case usage
    /// The object does not exist (or was removed while waiting).
    case notFound
    /// The caller lacks permission.
    case permissionDenied
    /// The facility is not available (filesystem not mounted, kernel without the feature).
    case unavailable
    /// The call would block, or a timeout expired.
    case wouldBlock
    /// Interrupted by a signal.
    case interrupted
    /// Any other failure of a system call.
    case failed
  }

  public var category: Category
  /// The system call or operation, e.g. `msgctl(IPC_STAT)`; empty for usage errors.
  public var call: String
  /// The object, e.g. `queue 32768` or `/dev/shm/jobs`; empty when there is none.
  public var object: String
  public var errno: Errno?
  /// A sentence a person can act on; when nil, the errno's text is used.
  public var reason: String?

  public init(
    category: Category? = nil, call: String, object: String, errno: Errno? = nil,
    reason: String? = nil
  ) {
    self.call = call
    self.object = object
    self.errno = errno
    self.reason = reason
    self.category = category ?? SwipcError.category(for: errno)
  }

  /// A usage error: a bad option or value, detected before any work is done.
  public static func usage(_ message: String) -> SwipcError {
    SwipcError(category: .usage, call: "", object: "", reason: message)
  }

  /// The category an errno usually means.
  public static func category(for errno: Errno?) -> Category {
    switch errno {
    case .some(.noSuchFileOrDirectory), .some(.identifierRemoved), .some(.invalidArgument):
      // EINVAL is what msgctl/shmctl/semctl return for an id that does not exist.
      return .notFound
    case .some(.permissionDenied), .some(.notPermitted): return .permissionDenied
    case .some(.resourceTemporarilyUnavailable), .some(.noMessage), .some(.timedOut):
      return .wouldBlock
    case .some(.interrupted): return .interrupted
    case .some(.noFunction), .some(.notSupported): return .unavailable
    default: return .failed
    }
  }

  public var description: String {
    var text = call
    if !object.isEmpty { text += text.isEmpty ? object : (call.hasSuffix(" ") ? "" : " ") + object }
    let detail = reason ?? errno.map { SwipcError.explain($0) } ?? "failed"
    return text.isEmpty ? detail : text + ": " + detail
  }

  /// A short explanation of an errno with what to do, for the common cases. Root refused is
  /// not told to run as root.
  static func explain(_ errno: Errno, asRoot: Bool = geteuid() == 0) -> String {
    switch errno {
    case .permissionDenied, .notPermitted:
      return asRoot
        ? "permission denied (even to root: a capability this process lacks, or a security module)"
        : "permission denied (run as the object's owner or as root)"
    case .noSuchFileOrDirectory: return "no such object"
    case .identifierRemoved: return "the object was removed"
    default: return SwipcError.strerror(errno)
    }
  }

  static func strerror(_ errno: Errno) -> String {
    // Errno's description is its strerror text in lower case, e.g. "No such file or directory".
    let text = errno.description
    guard let first = text.first else { return text }
    return first.lowercased() + text.dropFirst()
  }
}
