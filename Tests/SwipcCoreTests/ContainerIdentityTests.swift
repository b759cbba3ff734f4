import Glibc
import SystemPackage
import Testing

@testable import SwipcCore

/// Container recognition from /proc/PID/cgroup text, one real-world shape per case, and the
/// pieces of namespace handling that need no privilege.
@Suite("Namespaces: containers from cgroup paths, targets, process directories")
struct ContainerIdentityTests {
  static let id = "9ec39b91f3d70e1beff50a308f77067065ea6be0d91a3378375056cd4422cf3d"
  static let pod = "5759a1ae-36ca-48a8-b20a-b0b5c8a90fb8"
  static let other = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

  static let shapes: [(String, String?)] = [
    // Docker, cgroupfs driver (v1) and systemd driver (v1 and v2).
    ("4:memory:/docker/\(id)\n1:name=systemd:/docker/\(id)\n", "docker/9ec39b91f3d7"),
    ("10:devices:/system.slice/docker-\(id).scope\n", "docker/9ec39b91f3d7"),
    ("0::/system.slice/docker-\(id).scope\n", "docker/9ec39b91f3d7"),
    // Docker nested under another tree (docker-in-docker, a test's own prefix).
    ("9:pids:/swipc-test-1/docker/\(id)\n", "docker/9ec39b91f3d7"),
    // Kubernetes: cgroupfs driver, with and without a QoS level, and systemd driver per runtime.
    ("9:pids:/kubepods/besteffort/pod\(pod)/\(id)\n", "k8s/\(pod)/9ec39b91f3d7"),
    ("9:pids:/kubepods/pod\(pod)/\(id)\n", "k8s/\(pod)/9ec39b91f3d7"),
    ("0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod\(pod.replacingUnderscoresForTest()).slice/cri-containerd-\(id).scope\n", "k8s/\(pod)/9ec39b91f3d7"),
    ("0::/kubepods.slice/kubepods-pod\(pod.replacingUnderscoresForTest()).slice/crio-\(id).scope\n", "k8s/\(pod)/9ec39b91f3d7"),
    ("12:hugetlb:/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod\(pod.replacingUnderscoresForTest()).slice/docker-\(id).scope\n", "k8s/\(pod)/9ec39b91f3d7"),
    // A pod's own cgroup, without a container.
    ("0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod\(pod.replacingUnderscoresForTest()).slice\n", "k8s/\(pod)"),
    // CRI-O and containerd outside Kubernetes; CRI-O's cgroupfs name has no .scope.
    ("0::/machine.slice/crio-\(id).scope\n", "crio/9ec39b91f3d7"),
    ("0::/crio-\(id)\n", "crio/9ec39b91f3d7"),
    ("0::/system.slice/system-getty.slice/cri-containerd-\(id).scope\n", "cri-containerd/9ec39b91f3d7"),
    // Podman: systemd scope (crun adds /container), cgroupfs parent; its monitor is no container.
    ("0::/machine.slice/libpod-\(id).scope/container\n", "podman/9ec39b91f3d7"),
    ("0::/libpod_parent/libpod-\(id)\n", "podman/9ec39b91f3d7"),
    ("0::/libpod_parent/\(id)\n", "podman/9ec39b91f3d7"),
    ("0::/machine.slice/libpod-conmon-\(id).scope\n", nil),
    ("0::/system.slice/crio-conmon-\(id).scope\n", "unit/crio-conmon-\(id).scope"),
    // systemd-nspawn and machined, with systemd's escaping of a dash.
    ("0::/machine.slice/machine-web\\x2d1.scope/payload\n", "machine/web-1"),
    ("1:name=systemd:/machine.slice/systemd-nspawn@build.service/payload\n", "machine/build"),
    // Plain systemd units, also in a sub-slice.
    ("0::/system.slice/postgresql.service\n", "unit/postgresql.service"),
    ("0::/system.slice/system-getty.slice/getty@tty1.service\n", "unit/getty@tty1.service"),
    // The outermost container on a path is the one: below it, the container's own root may make
    // cgroups named after any other container (a forgery of its name), or run its own engine.
    ("0::/docker/\(id)/docker/\(other)\n", "docker/9ec39b91f3d7"),
    ("9:pids:/kubepods/besteffort/pod\(pod)/\(id)/docker/\(other)\n", "k8s/\(pod)/9ec39b91f3d7"),
    ("0::/system.slice/docker-\(id).scope/system.slice/docker-\(other).scope\n", "docker/9ec39b91f3d7"),
    ("0::/machine.slice/machine-web.scope/payload/docker/\(other)\n", "machine/web"),
    ("0::/system.slice/ci-runner.service/docker/\(other)\n", "unit/ci-runner.service"),
    // Below a user's own systemd manager, the user chose the name: it carries the user.
    ("0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-\(id).scope/container\n", "user-1000/podman/9ec39b91f3d7"),
    ("0::/user.slice/user-1000.slice/user@1000.service/app.slice/docker-\(id).scope\n", "user-1000/docker/9ec39b91f3d7"),
    ("0::/user.slice/user-1000.slice/user@1000.service/app.slice/foo.service\n", nil),
    // A container id wins over a unit on another line.
    ("1:name=systemd:/system.slice/containerd.service\n0::/docker/\(id)\n", "docker/9ec39b91f3d7"),
    // Nothing recognisable: a login session, the root, a short or upper-case id, garbage.
    ("0::/user.slice/user-1000.slice/session-3.scope\n", nil),
    ("0::/\n", nil),
    ("0::/docker/abc123\n", nil),
    ("0::/docker/\(id.uppercased())\n", nil),
    ("no colons here\n::\n", nil),
  ]

  @Test("cgroup shapes of Docker, Kubernetes, CRI-O, containerd, Podman, nspawn and systemd units", arguments: shapes)
  func recognise(_ shape: (String, String?)) {
    #expect(ContainerIdentity.recognize(cgroupText: shape.0)?.name == shape.1, "\(shape.0)")
  }

  @Test("a container's own id and pod are kept whole for --namespace")
  func identityFields() throws {
    let found = try #require(ContainerIdentity.recognize(cgroupText: "9:pids:/kubepods/burstable/pod\(Self.pod)/\(Self.id)\n"))
    #expect(found.runtime == .kubernetes && found.id == Self.id && found.pod == Self.pod)
  }

  @Test("ipc:[INODE] and ipc:INODE name a namespace; nothing else does", arguments: [
    ("ipc:[4026532301]", UInt64?(4026532301)), ("ipc:4026532301", 4026532301), ("ipc:[x]", nil), ("mnt:[4026532301]", nil),
    ("4026532301", nil), ("ipc:[]", nil),
  ])
  func labels(_ c: (String, UInt64?)) {
    #expect(NamespaceTarget.parseLabel(c.0) == c.1)
  }

  @Test("--namespace and --all-namespaces exclude each other")
  func scope() throws {
    #expect(try NamespaceScope(namespace: nil, all: false) == .own)
    #expect(try NamespaceScope(namespace: "42", all: false) == .one("42"))
    #expect(try NamespaceScope(namespace: nil, all: true) == .all)
    #expect(throws: SwipcError.self) { try NamespaceScope(namespace: "42", all: true) }
  }

  @Test("a process directory is kept only for the namespace it was found in")
  func namespaceCheckedThroughTheDescriptor() throws {
    let me = try ProcessDirectory(procDirectory: "/proc", pid: getpid())
    let inode = try me.namespaceInode("ipc").get()
    let fd = try me.openNamespace("ipc", expected: inode).get()
    close(fd)
    #expect(throws: Errno.self) { try me.openNamespace("ipc", expected: inode &+ 1).get() }
  }

  @Test("a /proc directory opened before its process exits never reads a later process with the pid")
  func exitedProcess() throws {
    let child = fork()
    if child == 0 { _exit(0) }
    let directory = try ProcessDirectory(procDirectory: "/proc", pid: child)
    var status: Int32 = 0
    _ = waitpid(child, &status, 0)
    #expect(throws: Errno.self) { try directory.namespaceInode("ipc").get() }
    #expect(directory.command == nil)
  }
}

extension String {
  /// A pod uid as systemd's cgroup driver writes it, dashes as underscores.
  fileprivate func replacingUnderscoresForTest() -> String {
    String(decoding: utf8.map { $0 == 45 ? 95 : $0 }, as: UTF8.self)
  }
}
