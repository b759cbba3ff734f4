/// What one command was asked, as its readers (argument-parser or the fast reader) filled it in:
/// raw enough that both readers fill it the same way, typed where a value parses on its own.
///
/// `validate()` is the one place the command's rules live. It refuses what cannot be done before
/// anything is read, created or removed, and returns the checked form the command runs on, so
/// that nothing is checked or resolved twice (docs/DESIGN.md, "Requests").
public protocol CommandRequest: Sendable {
  associatedtype Plan
  func validate() throws(SwipcError) -> Plan
}

/// --key and --ftok: naming a System V object by key (docs/DESIGN.md, "Naming").
public struct KeySpec: Sendable {
  public var key: IPCKey?
  public var ftok: String?

  public init(key: IPCKey? = nil, ftok: String? = nil) {
    self.key = key
    self.ftok = ftok
  }

  public var isGiven: Bool { key != nil || ftok != nil }

  /// The key given, if any; both forms at once are a usage error.
  public func resolve() throws(SwipcError) -> IPCKey? {
    if key != nil && ftok != nil { throw .usage("give --key or --ftok, not both") }
    if let key { return key }
    if let ftok { return try IPCKey.ftok(spec: ftok) }
    return nil
  }

  /// The target named by a positional TARGET or by these options; exactly one is needed.
  public func target(_ positional: String?, kind: IPCKind) throws(SwipcError) -> ObjectTarget {
    let given = (positional != nil ? 1 : 0) + (key != nil ? 1 : 0) + (ftok != nil ? 1 : 0)
    guard given == 1 else {
      throw .usage(given == 0
        ? "name the object: an id, a /name, --key KEY or --ftok PATH"
        : "name the object one way only: an id or /name, --key, or --ftok")
    }
    if let key = try resolve() { return .key(key) }
    return try ObjectTarget(parsing: positional!, kind: kind)
  }

  /// `TARGET VALUE` or, with --key/--ftok, `VALUE` alone: chmod, chown and sem init.
  public func targetAndValue(_ arguments: [String], kind: IPCKind, valueName: String, example: String)
    throws(SwipcError) -> (ObjectTarget, String)
  {
    let expected = isGiven ? 1 : 2
    guard arguments.count == expected else {
      throw .usage(isGiven ? "expected \(valueName) alone after --key/--ftok" : "expected TARGET \(valueName), e.g. \(example)")
    }
    return (try target(isGiven ? nil : arguments[0], kind: kind), arguments[expected - 1])
  }
}

/// The TYPE arguments of ls, limits, rm and clean.
public enum KindArgument {
  /// Parses one TYPE, with a message that lists the valid types.
  public static func parse(_ text: String) throws(SwipcError) -> IPCKind {
    guard let kind = IPCKind(rawValue: text) else {
      if text == "pipe" || text == "sock" {
        throw .usage("type '\(text)' is listed by 'swipc ls \(text)' alone; here use msg, shm, sem, pmsg, pshm or psem")
      }
      throw .usage("unknown type '\(text)': use msg, shm, sem, pmsg, pshm or psem")
    }
    return kind
  }

  /// The kinds given, each once in the order first given; all six when none is.
  public static func distinct(_ kinds: [IPCKind]) -> [IPCKind] {
    var result = [IPCKind]()
    for kind in kinds where !result.contains(kind) { result.append(kind) }
    return result.isEmpty ? IPCKind.allCases : result
  }
}

/// `--values 1,0,3`: one value per semaphore.
public func parseValueList(_ text: String) throws(SwipcError) -> [Int] {
  var result = [Int]()
  for item in text.split(separator: ",", omittingEmptySubsequences: false) {
    guard let v = Int(item.trimmingBlanks()) else {
      throw .usage("invalid --values '\(text)': expected numbers separated by commas, e.g. 1,0,3")
    }
    result.append(v)
  }
  return result
}

extension Substring {
  public func trimmingBlanks() -> String {
    var s = self
    while s.first == " " { s = s.dropFirst() }
    while s.last == " " { s = s.dropLast() }
    return String(s)
  }
}
