/// How a command names one object: a System V id or key, or a POSIX name (docs/DESIGN.md, "Naming").
public enum ObjectTarget: Hashable, Sendable, CustomStringConvertible {
  case id(Int32)
  case key(IPCKey)
  case name(POSIXName)

  /// Parses a positional TARGET: a decimal id or a `/name`.
  public init(parsing text: String, kind: IPCKind? = nil) throws(SwipcError) {
    if text.hasPrefix("/") {
      self = .name(try POSIXName(parsing: text, kind: kind.map { $0.posixCounterpart }))
      return
    }
    guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let id = Int32(text) else {
      throw .usage(
        "invalid target '\(text)': expected a System V id (decimal), --key KEY, --ftok PATH or a /name")
    }
    self = .id(id)
  }

  /// The kind actually meant: a `/name` given to `msg`, `shm` or `sem` means the POSIX kind.
  public func resolvedKind(_ kind: IPCKind) -> IPCKind {
    if case .name = self { return kind.posixCounterpart }
    return kind
  }

  public var description: String {
    switch self {
    case .id(let id): return String(id)
    case .key(let key): return "key " + key.description
    case .name(let name): return name.rawValue
    }
  }
}
