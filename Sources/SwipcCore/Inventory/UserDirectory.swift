import CSwipc
import Glibc

/// User and group names, each looked up once per id (ipcs reads /etc/passwd once per object).
///
/// A class so that one cache serves every renderer and filter in a command.
///
/// In the static release build, names come from /etc/passwd and /etc/group only: glibc cannot load
/// the NSS modules that other sources need (LDAP, systemd) into a static executable, and the one
/// Debian configures crashes there. Ids without an entry there print as numbers.
public final class UserDirectory {
  private var users: [UInt32: String?] = [:]
  private var groups: [UInt32: String?] = [:]

  public init() { _ = UserDirectory.filesOnly }

  /// Whether lookups are limited to the files (set up once, before the first lookup).
  public static let filesOnly: Bool = swipc_restrict_nss_if_static() != 0

  /// The user name of `uid`, or nil when there is no passwd entry.
  ///
  /// The corresponding C function is `getpwuid_r`.
  public func userName(_ uid: UInt32) -> String? {
    if let cached = users[uid] { return cached }
    var entry = passwd()
    var result: UnsafeMutablePointer<passwd>?
    var buffer = [CChar](repeating: 0, count: 4096)
    var name: String?
    while true {
      let rc = getpwuid_r(uid, &entry, &buffer, buffer.count, &result)
      if rc == ERANGE && buffer.count < 1 << 20 { buffer = [CChar](repeating: 0, count: buffer.count * 4); continue }
      if rc == 0, let result { name = String(cString: result.pointee.pw_name) }
      break
    }
    users[uid] = name
    return name
  }

  /// The group name of `gid`, or nil when there is no group entry.
  ///
  /// The corresponding C function is `getgrgid_r`.
  public func groupName(_ gid: UInt32) -> String? {
    if let cached = groups[gid] { return cached }
    var entry = group()
    var result: UnsafeMutablePointer<group>?
    var buffer = [CChar](repeating: 0, count: 4096)
    var name: String?
    while true {
      let rc = getgrgid_r(gid, &entry, &buffer, buffer.count, &result)
      if rc == ERANGE && buffer.count < 1 << 20 { buffer = [CChar](repeating: 0, count: buffer.count * 4); continue }
      if rc == 0, let result { name = String(cString: result.pointee.gr_name) }
      break
    }
    groups[gid] = name
    return name
  }

  /// The uid a `USER|UID` argument names.
  public static func resolveUser(_ text: String) throws(SwipcError) -> UInt32 {
    _ = filesOnly
    if !text.isEmpty, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) {
      guard let uid = UInt32(text) else { throw .usage("invalid user id '\(text)': out of range") }
      try refuseUnchangedMarker(uid, "user id")
      return uid
    }
    guard !text.isEmpty, let entry = getpwnam(text) else {
      throw .usage("unknown user '\(text)': give a user name or a numeric uid")
    }
    return entry.pointee.pw_uid
  }

  /// The gid a `GROUP|GID` argument names.
  public static func resolveGroup(_ text: String) throws(SwipcError) -> UInt32 {
    _ = filesOnly
    if !text.isEmpty, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) {
      guard let gid = UInt32(text) else { throw .usage("invalid group id '\(text)': out of range") }
      try refuseUnchangedMarker(gid, "group id")
      return gid
    }
    guard !text.isEmpty, let entry = getgrnam(text) else {
      throw .usage("unknown group '\(text)': give a group name or a numeric gid")
    }
    return entry.pointee.gr_gid
  }

  /// (uid_t)-1 and (gid_t)-1 tell chown(2) to leave the id unchanged: they name no user or group.
  static func refuseUnchangedMarker(_ id: UInt32, _ what: String) throws(SwipcError) {
    guard id == UInt32.max else { return }
    throw .usage("invalid \(what) \(id): it is (\(what == "user id" ? "uid_t" : "gid_t"))-1, which chown(2) reads as 'leave unchanged'; give a real id")
  }
}
