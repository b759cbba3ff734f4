import Glibc

/// The filters shared by `ls` and `clean` (SPEC §5). An object matches when it passes every
/// filter that is set; a filter that does not apply to a kind excludes objects of that kind
/// (`--unattached` selects only shared memory, `--name` only POSIX objects).
public struct ObjectFilter: Sendable {
  public var owners: Set<UInt32> = []
  public var creators: Set<UInt32> = []
  public var keys: [IPCKeyRange] = []
  public var nameGlobs: [String] = []
  public var olderThan: TimeSpan?
  public var idleFor: TimeSpan?
  public var unattached = false
  public var orphaned = false
  public var removed = false
  public var worldWritable = false
  public var worldReadable = false

  public init() {}

  /// Whether no filter at all is set.
  public var isEmpty: Bool {
    owners.isEmpty && creators.isEmpty && keys.isEmpty && nameGlobs.isEmpty && olderThan == nil
      && idleFor == nil && !unattached && !orphaned && !removed && !worldWritable && !worldReadable
  }

  /// Checks every filter except `--orphaned`, which needs process information.
  public func matchesStatically(_ object: IPCObject, now: Int64) -> Bool {
    if !owners.isEmpty && !owners.contains(object.uid) { return false }
    if !creators.isEmpty && !creators.contains(object.cuid ?? object.uid) { return false }
    if !keys.isEmpty {
      guard let key = object.key, keys.contains(where: { $0.contains(key) }) else { return false }
    }
    if !nameGlobs.isEmpty {
      guard let name = object.name, nameGlobs.contains(where: { ObjectFilter.glob($0, matches: name) })
      else { return false }
    }
    if let olderThan {
      guard let changed = object.changeTime, TimeSpan.seconds(from: changed, to: now) >= olderThan.seconds else { return false }
    }
    if let idleFor {
      let since = [object.lastActivity, object.changeTime].compactMap { $0 }.max()
      guard let since, TimeSpan.seconds(from: since, to: now) >= idleFor.seconds else { return false }
    }
    if unattached {
      switch object.kind {
      case .shm: guard object.nattch == 0 else { return false }
      case .pshm: guard object.holders == 0 else { return false }
      default: return false
      }
    }
    if removed && !object.isMarkedForRemoval { return false }
    if worldWritable && object.mode & 0o002 == 0 { return false }
    if worldReadable && object.mode & 0o004 == 0 { return false }
    return true
  }

  /// Applies every filter; `--orphaned` asks `detector`.
  public func matches(_ object: IPCObject, now: Int64, detector: OrphanDetector?) -> Bool {
    guard matchesStatically(object, now: now) else { return false }
    if orphaned { return detector?.isOrphaned(object) ?? false }
    return true
  }

  /// A glob as fnmatch(3) reads it, against the name with its slash (`/jobs*`) or, for a pattern
  /// that does not start with a slash, without it (`jobs*`).
  public static func glob(_ pattern: String, matches name: POSIXName) -> Bool {
    let subject = pattern.hasPrefix("/") ? name.rawValue : name.bareName
    return fnmatch(pattern, subject, 0) == 0
  }
}
