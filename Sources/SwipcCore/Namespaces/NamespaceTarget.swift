import CSwipc
import Glibc
import SystemPackage

/// What `--namespace TARGET` names: a pid, `ipc:[INODE]`, a path to an `ns/ipc` file (or a bind
/// mount of one), or a container as `swipc ls --namespaces` shows it (its name, its full or
/// short id, a pod's uid, a machine's or unit's name).
public enum NamespaceTarget {
  /// The view of the namespace `text` names, made from the caller's own `base`: calls made in
  /// that namespace, its POSIX shared memory and semaphores in the `/dev/shm` its process sees.
  public static func view(_ text: String, base: IPCView) throws(SwipcError) -> IPCView {
    let (namespace, shm) = try resolve(text, procDirectory: base.proc)
    return try IPCView.entering(namespace, base: base, shm: shm).get()
  }

  public static func resolve(_ text: String, procDirectory: String) throws(SwipcError) -> (IPCNamespace, SharedMemoryChoice) {
    guard !text.isEmpty else { throw .usage("--namespace needs a pid, ipc:[INODE], a path to an ns/ipc file or a container name") }
    let own = NamespaceScan.ownNamespaceInode() ?? 0
    if let pid = Int32(text), pid > 0 {
      let process: ProcessDirectory
      do { process = try ProcessDirectory(procDirectory: procDirectory, pid: pid) } catch {
        throw SwipcError(category: .notFound, call: "open", object: "\(procDirectory)/\(pid)", errno: error,
          reason: "no process \(pid) (see 'swipc ls --namespaces')")
      }
      switch process.namespaceInode("ipc") {
      case .failure(let e):
        throw SwipcError(category: e == .permissionDenied || e == .notPermitted ? .permissionDenied : .notFound,
          call: "stat", object: "\(procDirectory)/\(pid)/ns/ipc", errno: e,
          reason: e == .permissionDenied || e == .notPermitted
            ? "another user's process: naming or entering its namespace needs root" : "process \(pid) exited")
      case .success(let inode):
        return (IPCNamespace(inode: inode, process: process, isOwn: inode == own), sharedMemory(of: process))
      }
    }
    if let inode = parseLabel(text) {
      let scan = NamespaceScan.scan(procDirectory: procDirectory, sharedMemory: false)
      guard let namespace = scan.namespaces.first(where: { $0.inode == inode }) else {
        throw SwipcError(category: .notFound, call: "", object: text,
          reason: "no process is in this IPC namespace\(scan.uninspectable > 0 ? " that this user may examine (run as root)" : "") (see 'swipc ls --namespaces'; a namespace without processes is named by a path to a bind mount of it)")
      }
      return (namespace, namespace.process.map(sharedMemory(of:)) ?? .none)
    }
    // Container names hold slashes (`docker/0123456789ab`): only a path that says it is one is
    // opened, so a name is never looked up in a working directory another user may own.
    if text.hasPrefix("/") || text.hasPrefix("./") || text.hasPrefix("../") {
      return try file(text, procDirectory: procDirectory, own: own)
    }
    return try container(text, procDirectory: procDirectory)
  }

  /// `ipc:[4026532301]` (as /proc/PID/ns/ipc reads) or `ipc:4026532301`.
  static func parseLabel(_ text: String) -> UInt64? {
    guard text.hasPrefix("ipc:") else { return nil }
    var digits = Substring(text.dropFirst(4))
    if digits.hasPrefix("["), digits.hasSuffix("]") { digits = digits.dropFirst().dropLast() }
    return UInt64(digits)
  }

  static func sharedMemory(of process: ProcessDirectory) -> SharedMemoryChoice {
    switch SharedMemoryRoot.open(in: process) {
    case .success(let root): return .root(root)
    case .failure(.notPermitted):
      return .missing(
        "/proc/\(process.pid)/root/dev/shm", .notPermitted,
        refusal: "not used: its mount namespace belongs to another user namespace, where a bind mount can pass any directory off as /dev/shm (run swipc inside it: nsenter -t \(process.pid) -U -m swipc ...)")
    case .failure(let e): return .missing("/proc/\(process.pid)/root/dev/shm", e)
    }
  }

  /// A namespace file: opened once, checked to be an IPC namespace, entered by that descriptor.
  static func file(_ path: String, procDirectory: String, own: UInt64) throws(SwipcError) -> (IPCNamespace, SharedMemoryChoice) {
    let fd = try openNamespaceFile(path)
    var st = stat()
    guard fstat(fd, &st) == 0, swipc_namespace_type(fd) == SWIPC_CLONE_NEWIPC else {
      closeIgnoringErrors(fd)
      throw SwipcError(category: .usage, call: "ioctl(NS_GET_NSTYPE)", object: path,
        reason: "not an IPC namespace file: name /proc/PID/ns/ipc or a bind mount of one")
    }
    let inode = UInt64(st.st_ino)
    // Its /dev/shm is that of a process in it, when there is one.
    let scan = NamespaceScan.scan(procDirectory: procDirectory, sharedMemory: false)
    let process = scan.namespaces.first(where: { $0.inode == inode })?.process
    let namespace = IPCNamespace(inode: inode, process: process, isOwn: inode == own, file: fd)
    return (namespace, process.map(sharedMemory(of:)) ?? .missing("the /dev/shm of \(namespace.label)", .noSuchProcess))
  }

  /// `path` opened for reading, one component at a time. A symbolic link is followed only when
  /// proc's (/proc/self, /proc/PID/ns/ipc) or root's or the caller's: one another user put in a
  /// directory of theirs could send root into any namespace, a container's included. Only a file
  /// of the namespace filesystem is opened for reading, never a device or a FIFO.
  static func openNamespaceFile(_ path: String) throws(SwipcError) -> Int32 {
    let nsfsMagic: UInt = 0x6E73_6673  // NSFS_MAGIC (include/uapi/linux/magic.h)
    func failure(_ e: Errno) -> SwipcError { SwipcError(call: "open", object: path, errno: e) }
    var current = Glibc.open(path.hasPrefix("/") ? "/" : ".", SWIPC_O_PATH | O_DIRECTORY | O_CLOEXEC)
    guard current >= 0 else { throw failure(currentErrno) }
    defer { closeIgnoringErrors(current) }
    var components = path.split(separator: "/").map(String.init)
    var links = 0
    while !components.isEmpty {
      let name = components.removeFirst()
      if name == "." { continue }
      var next = openat(current, name, SWIPC_O_PATH | O_NOFOLLOW | O_CLOEXEC)
      guard next >= 0 else { throw failure(currentErrno) }
      var st = stat()
      var fs = statfs()
      guard fstat(next, &st) == 0, fstatfs(next, &fs) == 0 else {
        closeIgnoringErrors(next)
        throw failure(currentErrno)
      }
      if st.st_mode & S_IFMT == S_IFLNK {
        links += 1
        let onProc = UInt(bitPattern: Int(fs.f_type)) == ProcessVisibility.procSuperMagic
        guard links <= 40, onProc || st.st_uid == 0 || st.st_uid == geteuid() else {
          closeIgnoringErrors(next)
          if links > 40 { throw failure(.tooManySymbolicLinkLevels) }
          throw SwipcError(category: .permissionDenied, call: "open", object: path,
            reason: "the symbolic link '\(name)' on the way belongs to uid \(st.st_uid), who may point it at any namespace: name the namespace file itself or /proc/PID/ns/ipc")
        }
        if onProc {
          // Proc's links (a namespace, a process) are the kernel's: followed by the kernel.
          let followed = openat(current, name, SWIPC_O_PATH | O_CLOEXEC)
          closeIgnoringErrors(next)
          guard followed >= 0 else { throw failure(currentErrno) }
          next = followed
        } else {
          // Another link's text is walked here, so that each link on the way is judged.
          var target = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
          let n = readlinkat(next, "", &target, target.count - 1)
          closeIgnoringErrors(next)
          guard n > 0 else { throw failure(n == 0 ? .noSuchFileOrDirectory : currentErrno) }
          let text = String(decoding: target[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
          components = text.split(separator: "/").map(String.init) + components
          if text.hasPrefix("/") {
            let root = Glibc.open("/", SWIPC_O_PATH | O_DIRECTORY | O_CLOEXEC)
            guard root >= 0 else { throw failure(currentErrno) }
            closeIgnoringErrors(current)
            current = root
          }
          continue
        }
      }
      closeIgnoringErrors(current)
      current = next
    }
    var fs = statfs()
    guard fstatfs(current, &fs) == 0, UInt(bitPattern: Int(fs.f_type)) == nsfsMagic else {
      throw SwipcError(category: .usage, call: "statfs", object: path,
        reason: "not an IPC namespace file: name /proc/PID/ns/ipc or a bind mount of one")
    }
    // Reopened for reading through the descriptor, not the path: what was judged is what is read.
    let fd = Glibc.open("/proc/self/fd/\(current)", O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)
    guard fd >= 0 else { throw failure(currentErrno) }
    return fd
  }

  /// A container, pod, machine or unit, as `ls --namespaces` names it: one namespace, or an error
  /// that lists the candidates.
  static func container(_ text: String, procDirectory: String) throws(SwipcError) -> (IPCNamespace, SharedMemoryChoice) {
    let scan = NamespaceScan.scan(procDirectory: procDirectory, sharedMemory: false)
    let matches = scan.namespaces.filter { namespace in
      guard let c = namespace.container else { return false }
      if text == c.name { return true }
      // A user's own container is named only in full, with its user: its id may be a copy.
      guard c.user == nil else { return false }
      if text == c.id || text == c.pod { return true }
      // A container id by a prefix of at least 4 digits, as docker accepts one.
      return c.runtime != .machine && c.runtime != .unit && text.utf8.count >= 4 && c.id.hasPrefix(text)
    }
    guard let first = matches.first else {
      throw SwipcError(category: .notFound, call: "", object: text,
        reason: "no IPC namespace of a container, pod, machine or unit by that name or id\(scan.uninspectable > 0 ? " among the processes this user may examine (run as root)" : "") (see 'swipc ls --namespaces')")
    }
    guard matches.count == 1 else {
      throw .usage("--namespace '\(text)' names \(matches.count) namespaces: \(matches.map(\.description).joined(separator: ", ")); give a longer id or ipc:[INODE]")
    }
    return (first, first.process.map(sharedMemory(of:)) ?? .none)
  }
}
