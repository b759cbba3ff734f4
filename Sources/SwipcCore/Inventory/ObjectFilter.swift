import Glibc

/// The filters shared by `ls` and `clean` (docs/DESIGN.md, "Cleanup rules"). An object matches when it passes every
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

  /// The grace period of `--orphaned` when `--min-age` is not given: one minute, so that an
  /// object created now and used a moment later is never removed in between.
  public static let defaultMinAge: Int64 = 60

  /// `--min-age`: how old an object must be before it can count as orphaned.
  public var minAge: TimeSpan?
  public var minAgeSeconds: Int64 { minAge?.seconds ?? ObjectFilter.defaultMinAge }
  /// `--ignore-hidden`: processes that cannot be seen or examined count as using nothing.
  public var ignoreHidden = false

  /// The filters `matchesStatically` applies, named for a report of why an object no longer
  /// matches.
  public enum Test: String, Sendable {
    case owner = "--owner", creator = "--creator", key = "--key", name = "--name"
    case olderThan = "--older-than", idleFor = "--idle-for", unattached = "--unattached"
    case removed = "--removed", worldWritable = "--world-writable", worldReadable = "--world-readable"
  }

  /// The first filter other than `--orphaned` that the object fails, or nil when it passes them.
  public func failedTest(_ object: IPCObject, now: Int64) -> Test? {
    if !owners.isEmpty && !owners.contains(object.uid) { return .owner }
    if !creators.isEmpty && !creators.contains(object.cuid ?? object.uid) { return .creator }
    if !keys.isEmpty {
      guard let key = object.key, keys.contains(where: { $0.contains(key) }) else { return .key }
    }
    if !nameGlobs.isEmpty {
      guard let name = object.name, nameGlobs.contains(where: { ObjectFilter.glob($0, matches: name) })
      else { return .name }
    }
    if let olderThan {
      guard let changed = object.changeTime, now.subtractingClamped(changed) >= olderThan.seconds else {
        return .olderThan
      }
    }
    if let idleFor {
      let since = [object.lastActivity, object.changeTime].compactMap { $0 }.max()
      guard let since, now.subtractingClamped(since) >= idleFor.seconds else { return .idleFor }
    }
    if unattached {
      switch object.kind {
      case .shm: guard object.nattch == 0 else { return .unattached }
      case .pshm: guard object.holders == 0 else { return .unattached }
      case .msg, .sem, .pmsg, .psem: return .unattached
      }
    }
    if removed && !object.isMarkedForRemoval { return .removed }
    if worldWritable && object.mode & 0o002 == 0 { return .worldWritable }
    if worldReadable && object.mode & 0o004 == 0 { return .worldReadable }
    return nil
  }

  /// Checks every filter except `--orphaned`, which needs process information.
  public func matchesStatically(_ object: IPCObject, now: Int64) -> Bool {
    failedTest(object, now: now) == nil
  }

  /// Applies every filter; `--orphaned` asks `detector`.
  public func matches(_ object: IPCObject, now: Int64, detector: OrphanDetector?) -> Bool {
    guard matchesStatically(object, now: now) else { return false }
    if orphaned { return detector?.isOrphaned(object) ?? false }
    return true
  }

  /// A glob as fnmatch(3) reads it, against the name with its slash (`/jobs*`) or, for a pattern
  /// that does not start with a slash, without it (`jobs*`). The name's exact bytes are matched,
  /// so that `*` matches a name that is not UTF-8 too.
  public static func glob(_ pattern: String, matches name: POSIXName) -> Bool {
    let subject = pattern.hasPrefix("/") ? name.bytes : Array(name.bareBytes)
    return (subject + [0]).withUnsafeBufferPointer { raw in
      raw.withMemoryRebound(to: CChar.self) { fnmatch(pattern, $0.baseAddress!, 0) == 0 }
    }
  }
}
