/// What a process belongs to, recognised from the cgroup paths in /proc/PID/cgroup: a container,
/// a Kubernetes pod, a systemd-nspawn machine or a systemd unit.
///
/// Recognition is by the shapes container managers give their cgroups, in cgroup v1 lines
/// (`4:memory:/docker/ID`) and v2 lines (`0::/system.slice/docker-ID.scope`), wherever in the
/// tree they sit (a nested engine puts its own under another's). The text is another user's to
/// choose (a container's root can make any cgroup below its own), so a name is only ever shown,
/// escaped, and matched whole by `--namespace`; it is never a path swipc opens.
public struct ContainerIdentity: Sendable, Equatable, Hashable {
  public enum Runtime: String, Sendable {
    case docker, kubernetes = "k8s", crio, containerd = "cri-containerd", podman, machine, unit
  }

  public var runtime: Runtime
  /// The container id (64 hex digits), the machine's name or the unit's name.
  public var id: String
  /// The Kubernetes pod's uid, when the container is in a pod.
  public var pod: String?
  /// `user-UID` when found below that user's own systemd manager: a rootless container, whose
  /// name that user chose and may have copied from another one.
  public var user: String?

  public init(runtime: Runtime, id: String, pod: String? = nil, user: String? = nil) {
    self.runtime = runtime
    self.id = id
    self.pod = pod
    self.user = user
  }

  /// How a container is shown and named: `docker/0123456789ab`, `k8s/POD-UID/0123456789ab`,
  /// `machine/NAME`, `unit/NAME.service`; container ids shortened to 12 digits as `docker ps` does.
  /// A rootless one is prefixed with its user: `user-1000/podman/0123456789ab`.
  public var name: String { (user.map { $0 + "/" } ?? "") + ownName }

  var ownName: String {
    switch runtime {
    case .kubernetes: return "k8s/" + (pod ?? "?") + (id.isEmpty ? "" : "/" + Self.short(id))
    case .machine, .unit: return runtime.rawValue + "/" + id
    default: return runtime.rawValue + "/" + Self.short(id)
    }
  }

  static func short(_ id: String) -> String { String(id.prefix(12)) }

  /// The most specific identity any line of `cgroupText` shows: a container before a machine,
  /// a machine before a unit.
  public static func recognize(cgroupText: String) -> ContainerIdentity? {
    var best: ContainerIdentity?
    // By bytes: the file has a line per hierarchy, read for every namespace `ls -A` lists.
    for line in cgroupText.utf8.split(separator: 10) {
      // hierarchy-ID:controller-list:path; the path may itself hold colons.
      guard let first = line.firstIndex(of: 58), let second = line[line.index(after: first)...].firstIndex(of: 58)
      else { continue }
      let path = line[line.index(after: second)...]
      // The root cgroup (most of a host's hierarchies) names nothing.
      guard path.count > 1, let found = recognize(path: Substring(path)) else { continue }
      if best == nil || found.rank > best!.rank { best = found }
    }
    return best
  }

  var rank: Int {
    switch runtime {
    case .unit: return 0
    case .machine: return 1
    case .kubernetes: return id.isEmpty ? 2 : 4
    default: return pod == nil ? 3 : 4
    }
  }

  /// One cgroup path: the outermost identity on it. A cgroup is made by whoever manages its
  /// parent, and a container's root may make any cgroup below its own: an identity below another
  /// one (`/docker/X/docker/Y`) may be a forgery of another container's name, so the outer one
  /// is the container. Below a user's delegated subtree (`user@UID.service`), the names are that
  /// user's to choose: the identity carries the user.
  public static func recognize(path: Substring) -> ContainerIdentity? {
    let parts = path.split(separator: Character("/")).map(String.init)
    var pod: String?
    var user: String?
    var underSystemSlice = false
    for (i, part) in parts.enumerated() {
      let previous = i > 0 ? parts[i - 1] : ""
      if user == nil, let uid = delegatedUser(part) {
        user = uid
        continue
      }
      if let uid = podUID(part) {
        if pod == nil { pod = uid }
        continue
      }
      var found = scopedContainer(part)
      if found == nil, isContainerID(part) {
        if previous == "docker" {
          found = ContainerIdentity(runtime: .docker, id: part)
        } else if pod != nil, podUID(previous) != nil {
          found = ContainerIdentity(runtime: .kubernetes, id: part)
        } else if previous == "libpod_parent" {
          found = ContainerIdentity(runtime: .podman, id: part)
        }
      }
      if found == nil, previous == "machine.slice", part.hasPrefix("machine-"), part.hasSuffix(".scope") {
        found = ContainerIdentity(runtime: .machine, id: unescapeUnit(String(part.dropFirst(8).dropLast(6))))
      }
      if found == nil, part.hasPrefix("systemd-nspawn@"), part.hasSuffix(".service") {
        found = ContainerIdentity(runtime: .machine, id: unescapeUnit(String(part.dropFirst(15).dropLast(8))))
      }
      if var found {
        if let pod, found.runtime != .machine {
          // Whatever runtime runs it, a pod's container is named by its pod.
          found.pod = pod
          found.runtime = .kubernetes
        }
        found.user = user
        return found
      }
      if pod != nil { continue }
      if part == "system.slice" || (underSystemSlice && part.hasPrefix("system-") && part.hasSuffix(".slice")) {
        underSystemSlice = true
        continue
      }
      if underSystemSlice, part.hasSuffix(".service") || part.hasSuffix(".scope") {
        return ContainerIdentity(runtime: .unit, id: unescapeUnit(part), user: user)
      }
      underSystemSlice = false
    }
    if let pod { return ContainerIdentity(runtime: .kubernetes, id: "", pod: pod, user: user) }
    return nil
  }

  /// `user@1000.service`, systemd's per-user manager, which owns (and may delegate) what is below it.
  static func delegatedUser(_ part: String) -> String? {
    guard part.hasPrefix("user@"), part.hasSuffix(".service") else { return nil }
    let uid = part.dropFirst(5).dropLast(8)
    guard !uid.isEmpty, uid.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
    return "user-" + uid
  }

  /// `docker-ID.scope`, `cri-containerd-ID.scope`, `crio-ID.scope` (also without `.scope`, as
  /// CRI-O's cgroupfs driver names them), `libpod-ID.scope`; podman's and CRI-O's monitors
  /// (`libpod-conmon-ID.scope`, `crio-conmon-ID.scope`) are no containers.
  static func scopedContainer(_ part: String) -> ContainerIdentity? {
    var text = Substring(part)
    if text.hasSuffix(".scope") { text = text.dropLast(6) }
    for (prefix, runtime) in scopePrefixes where text.hasPrefix(prefix) {
      let id = String(text.dropFirst(prefix.count))
      guard isContainerID(id) else { return nil }
      return ContainerIdentity(runtime: runtime, id: id)
    }
    return nil
  }

  static let scopePrefixes: [(String, Runtime)] = [
    ("docker-", .docker), ("cri-containerd-", .containerd), ("crio-", .crio), ("libpod-", .podman),
  ]

  /// A pod's uid from `pod<UID>` (cgroupfs driver) or `kubepods[-QOS]-pod<UID_WITH_UNDERSCORES>.slice`
  /// (systemd driver), written with dashes.
  static func podUID(_ part: String) -> String? {
    var text = Substring(part)
    if text.hasPrefix("kubepods-"), text.hasSuffix(".slice"), let last = text.dropLast(6).split(separator: "-").last {
      // The uid's own dashes are underscores here, so the pod is the last dash-separated part.
      text = last
    }
    guard text.hasPrefix("pod") else { return nil }
    let uid = String(text.dropFirst(3)).replacingUnderscores()
    guard uid.count == 36, uid.utf8.allSatisfy({ isHexDigit($0) || $0 == 45 }) else { return nil }
    return uid
  }

  /// A container id: 64 lower-case hex digits.
  static func isContainerID<S: StringProtocol>(_ text: S) -> Bool {
    text.utf8.count == 64 && text.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
  }

  static func isHexDigit(_ c: UInt8) -> Bool {
    (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70)
  }

  /// systemd escapes unit names' bytes as `\xNN` (a dash in a machine's name is `\x2d`).
  static func unescapeUnit(_ text: String) -> String {
    EscapedText.decode(text, marker: 120, digits: 2, radix: 16)
  }
}

extension String {
  fileprivate func replacingUnderscores() -> String {
    String(decoding: utf8.map { $0 == 95 ? 45 : $0 }, as: UTF8.self)
  }
}
