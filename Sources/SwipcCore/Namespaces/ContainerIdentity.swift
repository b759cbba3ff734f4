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

  public init(runtime: Runtime, id: String, pod: String? = nil) {
    self.runtime = runtime
    self.id = id
    self.pod = pod
  }

  /// How a container is shown and named: `docker/0123456789ab`, `k8s/POD-UID/0123456789ab`,
  /// `machine/NAME`, `unit/NAME.service`; container ids shortened to 12 digits as `docker ps` does.
  public var name: String {
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
    for line in cgroupText.split(separator: "\n") {
      // hierarchy-ID:controller-list:path; the path may itself hold colons.
      let fields = line.split(separator: Character(":"), maxSplits: 2, omittingEmptySubsequences: false)
      guard fields.count == 3, let found = recognize(path: fields[2]) else { continue }
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

  /// One cgroup path.
  public static func recognize(path: Substring) -> ContainerIdentity? {
    let parts = path.split(separator: Character("/")).map(String.init)
    var pod: String?
    var container: ContainerIdentity?
    var machine: ContainerIdentity?
    var unit: ContainerIdentity?
    var underSystemSlice = false
    for (i, part) in parts.enumerated() {
      let previous = i > 0 ? parts[i - 1] : ""
      if let uid = podUID(part) {
        pod = uid
        continue
      }
      if let found = scopedContainer(part) {
        container = found
        continue
      }
      if isContainerID(part) {
        if previous == "docker" {
          container = ContainerIdentity(runtime: .docker, id: part)
        } else if pod != nil, podUID(previous) != nil {
          container = ContainerIdentity(runtime: .kubernetes, id: part)
        } else if previous == "libpod_parent" {
          container = ContainerIdentity(runtime: .podman, id: part)
        }
        continue
      }
      if previous == "machine.slice", part.hasPrefix("machine-"), part.hasSuffix(".scope") {
        machine = ContainerIdentity(runtime: .machine, id: unescapeUnit(String(part.dropFirst(8).dropLast(6))))
        continue
      }
      if part.hasPrefix("systemd-nspawn@"), part.hasSuffix(".service") {
        machine = ContainerIdentity(runtime: .machine, id: unescapeUnit(String(part.dropFirst(15).dropLast(8))))
        continue
      }
      if part == "system.slice" || (underSystemSlice && part.hasPrefix("system-") && part.hasSuffix(".slice")) {
        underSystemSlice = true
        continue
      }
      if underSystemSlice, unit == nil, part.hasSuffix(".service") || part.hasSuffix(".scope") {
        unit = ContainerIdentity(runtime: .unit, id: unescapeUnit(part))
      }
      underSystemSlice = false
    }
    if var container {
      if let pod {
        // Whatever runtime runs it, a pod's container is named by its pod.
        container.pod = pod
        container.runtime = .kubernetes
      }
      return container
    }
    if let pod { return ContainerIdentity(runtime: .kubernetes, id: "", pod: pod) }
    return machine ?? unit
  }

  /// `docker-ID.scope`, `cri-containerd-ID.scope`, `crio-ID.scope` (also without `.scope`, as
  /// CRI-O's cgroupfs driver names them), `libpod-ID.scope`; podman's and CRI-O's monitors
  /// (`libpod-conmon-ID.scope`, `crio-conmon-ID.scope`) are no containers.
  static func scopedContainer(_ part: String) -> ContainerIdentity? {
    var text = Substring(part)
    if text.hasSuffix(".scope") { text = text.dropLast(6) }
    let prefixes: [(String, Runtime)] = [("docker-", .docker), ("cri-containerd-", .containerd), ("crio-", .crio), ("libpod-", .podman)]
    for (prefix, runtime) in prefixes where text.hasPrefix(prefix) {
      let id = String(text.dropFirst(prefix.count))
      guard isContainerID(id) else { return nil }
      return ContainerIdentity(runtime: runtime, id: id)
    }
    return nil
  }

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
