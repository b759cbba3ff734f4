import CSwipc
import Glibc
import SystemPackage

/// A `/dev/shm` found in some process's root, opened once: POSIX shared memory and semaphores
/// belong to the directory they are files in, not to an IPC namespace.
public final class SharedMemoryRoot {
  /// The directory's device and inode: two processes see the same `/dev/shm` when these agree.
  public let identity: POSIXDirectory.FileIdentity
  public let descriptor: Int32
  /// Where it was found, for messages: `/proc/PID/root/dev/shm`, or the caller's own directory.
  public let label: String

  init(descriptor: Int32, identity: POSIXDirectory.FileIdentity, label: String) {
    self.descriptor = descriptor
    self.identity = identity
    self.label = label
  }

  deinit { closeIgnoringErrors(descriptor) }

  /// `dev/shm` under a process's root, resolved as if that root were `/` (RESOLVE_IN_ROOT):
  /// a symlink a container planted there, absolute or `..`, stays inside the container's tree.
  ///
  /// Only in a mount namespace owned by the caller's own user namespace: in one a less privileged
  /// user made (unshare -Urm), `dev/shm` can be a bind mount of any directory that user can
  /// reach, such as /etc, whose root-owned files would pass for root's shared memory. EPERM else.
  ///
  /// The corresponding C functions are `ioctl` (NS_GET_USERNS) and `openat2`.
  static func open(in process: ProcessDirectory) -> Result<SharedMemoryRoot, Errno> {
    let mount = openat(process.descriptor, "ns/mnt", O_RDONLY | O_CLOEXEC)
    guard mount >= 0 else { return .failure(currentErrno) }
    defer { closeIgnoringErrors(mount) }
    var mountStat = stat()
    guard fstat(mount, &mountStat) == 0 else { return .failure(currentErrno) }
    let owner = swipc_namespace_owner(mount)
    guard owner >= 0 else { return .failure(currentErrno) }
    var ownerStat = stat()
    let ownerRead = fstat(owner, &ownerStat) == 0
    closeIgnoringErrors(owner)
    var own = stat()
    guard ownerRead, stat("/proc/self/ns/user", &own) == 0, ownerStat.st_ino == own.st_ino, ownerStat.st_dev == own.st_dev
    else { return .failure(.notPermitted) }
    let root: Int32
    switch process.openRoot() {
    case .failure(let e): return .failure(e)
    case .success(let fd): root = fd
    }
    defer { closeIgnoringErrors(root) }
    let fd = swipc_open_beneath_root(root, "dev/shm", O_RDONLY | O_DIRECTORY)
    guard fd >= 0 else { return .failure(currentErrno) }
    // The root opened was that of the mount namespace checked, not one the process moved to since.
    guard case .success(UInt64(mountStat.st_ino)) = process.namespaceInode("mnt") else {
      closeIgnoringErrors(fd)
      return .failure(.noSuchProcess)
    }
    return describe(fd, label: "/proc/\(process.pid)/root/dev/shm")
  }

  /// Whether the directory has no entry but `.` and `..` (or cannot be read), read through a
  /// new open file, so that the descriptor's own position is left where it is.
  var isEmpty: Bool {
    let fd = openat(descriptor, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else { return true }
    defer { closeIgnoringErrors(fd) }
    var empty = true
    _ = FileReader.forEachEntry(descriptor: fd) { name in
      if !FileReader.isDotOrDotDot(name) { empty = false }
    }
    return empty
  }

  /// A descriptor of its own for a view, which closes it.
  func duplicate() -> Result<Int32, Errno> {
    let fd = fcntl(descriptor, F_DUPFD_CLOEXEC, 0)
    return fd >= 0 ? .success(fd) : .failure(currentErrno)
  }

  /// The caller's own shm directory (`/dev/shm` or `$SWIPC_SHM_DIR`), as the other commands open it.
  static func open(path: String) -> Result<SharedMemoryRoot, Errno> {
    let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else { return .failure(currentErrno) }
    return describe(fd, label: path)
  }

  static func describe(_ fd: Int32, label: String) -> Result<SharedMemoryRoot, Errno> {
    var st = stat()
    guard fstat(fd, &st) == 0 else {
      let e = currentErrno
      closeIgnoringErrors(fd)
      return .failure(e)
    }
    return .success(SharedMemoryRoot(descriptor: fd, identity: .init(st), label: label))
  }

}

/// One IPC namespace found among the host's processes.
public final class IPCNamespace {
  /// The namespace's inode: `ipc:[INODE]`.
  public let inode: UInt64
  /// Processes seen in it.
  public internal(set) var processCount = 0
  /// The process that stands for it (the lowest pid seen in it), kept open: the namespace is
  /// entered through this process's `ns/ipc`, and its `/dev/shm` found through its root. nil
  /// for a namespace named by a file (a bind mount) that no process is in.
  public let process: ProcessDirectory?
  /// The `ns/ipc` file the user named, when the namespace was named by a path.
  let file: Int32?
  /// Read when first asked (a listing with no object of this namespace never shows it): its
  /// process's cgroup file is slow to make and to parse.
  public private(set) lazy var container: ContainerIdentity? =
    inode == IPCNamespace.initialInode ? nil : process?.container
  /// `docker/0123456789ab`: the container's name, made once for every row that shows it.
  public private(set) lazy var containerName: String? = container?.name
  /// The representative process's command name, for a namespace that belongs to no container.
  public private(set) lazy var command: String? = process?.command
  /// Whether this is the caller's own IPC namespace (entered by nobody: the calls are made inline).
  public let isOwn: Bool
  /// The `/dev/shm` directories counted here: each found first (lowest pid) among this
  /// namespace's processes, so that a directory shared by several namespaces is listed once.
  public internal(set) var sharedMemory: [SharedMemoryRoot] = []

  init(inode: UInt64, process: ProcessDirectory?, isOwn: Bool, file: Int32? = nil) {
    self.inode = inode
    self.process = process
    self.isOwn = isOwn
    self.file = file
  }

  deinit { if let file { closeIgnoringErrors(file) } }

  public var pid: Int32? { process?.pid }

  /// A descriptor of the namespace, checked to be this one: through the representative's
  /// `ns/ipc` (a process that has moved to another namespace since the scan is not followed), or
  /// a duplicate of the file the user named.
  public func open() -> Result<Int32, Errno> {
    if let file {
      let fd = fcntl(file, F_DUPFD_CLOEXEC, 0)
      return fd >= 0 ? .success(fd) : .failure(currentErrno)
    }
    guard let process else { return .failure(.noSuchProcess) }
    return process.openNamespace("ipc", expected: inode)
  }

  /// `ipc:[4026532301]`, as /proc/PID/ns/ipc reads.
  public var label: String { "ipc:[\(inode)]" }

  /// The label and the container or command, for messages: `ipc:[4026532301] (docker/0123456789ab)`.
  public var description: String {
    // Both are other users' text (a machine's name, a command), left raw: the line that shows
    // it is escaped once, whole, where it is written.
    label + " (" + (container?.name ?? command ?? pid.map { "pid \($0)" } ?? "no process") + ")"
  }

  /// PROC_IPC_INIT_INO (include/linux/proc_ns.h): the IPC namespace the kernel makes at boot,
  /// the host's: whatever pid 1's cgroup says, it is no container.
  public static let initialInode: UInt64 = 0xEFFF_FFFF
}

/// Every IPC namespace of the processes in /proc, read once: for each, how many processes are in
/// it and one of them, kept open by its /proc directory.
public struct NamespaceScan {
  /// The caller's namespace first, then in the order of their representative pids.
  public var namespaces: [IPCNamespace] = []
  /// Processes whose namespaces could not be read (another user's, without CAP_SYS_PTRACE).
  public var uninspectable = 0
  /// `/dev/shm` directories left out because their mount namespace belongs to another user
  /// namespace (a rootless container's, or one any user made), where they can be bind mounts of
  /// anything that user can reach.
  public var foreignSharedMemory = 0
  /// Processes and `/dev/shm` directories that could not be opened for want of descriptors or
  /// memory (a low `ulimit -n` against many namespaces), and the first such error: their
  /// namespaces or directories are missing, which must not pass for none.
  public var unopened = 0
  public var unopenedError: Errno?
  /// The caller's own IPC namespace (that of the calling thread).
  public var own: UInt64 = 0

  /// Whether any namespace but the caller's was found: only then is one entered.
  public var hasOthers: Bool { namespaces.contains { !$0.isOwn } }

  /// Scans `procDirectory`; with `sharedMemory`, also finds each mount namespace's `/dev/shm`
  /// (the caller's own from `ownShm`).
  public static func scan(procDirectory: String, sharedMemory: Bool = true, ownShm: String = "/dev/shm") -> NamespaceScan {
    var scanner = Scanner(procDirectory: procDirectory, sharedMemory: sharedMemory, ownShm: ownShm)
    return scanner.finish()
  }

  /// The scan, a process at a time: each namespace can be used as soon as it is found, in pid
  /// order, while the scan goes on. Only its inode, process and file are settled then; its
  /// process count and `/dev/shm` directories are not, until `finish`.
  struct Scanner {
    let procDirectory: String
    let sharedMemory: Bool
    private var scan = NamespaceScan()
    // Arrays searched in order: a host has few namespaces and mount points of view, and a set
    // or dictionary of a type of swipc's own costs more to set up at run time (its metadata)
    // than such searches, which `ls -A` pays on every run.
    private struct Place: Equatable {
      var mount: UInt64
      var root: POSIXDirectory.FileIdentity
    }
    private var places: [Place] = []
    private var directories: [POSIXDirectory.FileIdentity] = []
    private var ownRoot: SharedMemoryRoot?
    private var pids: [Int32]
    private var nextPid = 0

    init(procDirectory: String, sharedMemory: Bool = true, ownShm: String = "/dev/shm") {
      self.procDirectory = procDirectory
      self.sharedMemory = sharedMemory
      scan.own = NamespaceScan.ownNamespaceInode() ?? 0
      // The caller's own directory is counted first, in its own namespace: the one it would list
      // without --all-namespaces.
      if sharedMemory, case .success(let root) = SharedMemoryRoot.open(path: ownShm) {
        directories.append(root.identity)
        ownRoot = root
        // A process in the caller's mount namespace, with its root, sees that very /dev/shm: it
        // need not be opened again for each of them (most of a host's processes).
        var mount = stat(), rootStat = stat()
        if ownShm == "/dev/shm", stat("/proc/self/ns/mnt", &mount) == 0, stat("/proc/self/root", &rootStat) == 0 {
          places.append(Place(mount: UInt64(mount.st_ino), root: .init(rootStat)))
        }
      }
      pids = FileReader.numericEntries(procDirectory).sorted()
    }

    private mutating func unopened(_ e: Errno) {
      guard e == .tooManyOpenFiles || e == .tooManyOpenFilesInSystem || e == .noMemory else { return }
      scan.unopened += 1
      if scan.unopenedError == nil { scan.unopenedError = e }
    }

    /// Goes on until the next namespace not seen before, which it returns; nil at the end.
    mutating func next() -> IPCNamespace? {
      while nextPid < pids.count {
        let pid = pids[nextPid]
        nextPid += 1
        if let new = look(at: pid) { return new }
      }
      return nil
    }

    /// One process: counted in its namespace, its `/dev/shm` found; the namespace when it is new.
    private mutating func look(at pid: Int32) -> IPCNamespace? {
      let process: ProcessDirectory
      do throws(Errno) {
        process = try ProcessDirectory(procDirectory: procDirectory, pid: pid)
      } catch {
        unopened(error)
        return nil
      }
      let inode: UInt64
      switch process.namespaceInode("ipc") {
      case .success(let i): inode = i
      case .failure(.permissionDenied), .failure(.notPermitted):
        scan.uninspectable += 1
        return nil
      case .failure(let e):
        unopened(e)
        return nil  // exited, or a zombie (which has no namespaces left)
      }
      let namespace: IPCNamespace
      var new: IPCNamespace?
      if let known = scan.namespaces.last(where: { $0.inode == inode }) {
        namespace = known
      } else {
        namespace = IPCNamespace(inode: inode, process: process, isOwn: inode == scan.own)
        scan.namespaces.append(namespace)
        new = namespace
      }
      namespace.processCount += 1
      // A /dev/shm is found once per mount namespace and root (a chrooted process in the same
      // mount namespace sees another one).
      guard sharedMemory, case .success(let mount) = process.namespaceInode("mnt"),
        case .success(let rootIdentity) = process.rootIdentity(),
        !places.contains(Place(mount: mount, root: rootIdentity))
      else { return new }
      places.append(Place(mount: mount, root: rootIdentity))
      switch SharedMemoryRoot.open(in: process) {
      case .failure(.notPermitted): scan.foreignSharedMemory += 1
      case .failure(let e): unopened(e)
      case .success(let root):
        // The root was that of the mount namespace scanned: not one the process moved to since.
        guard case .success(mount) = process.namespaceInode("mnt"), !directories.contains(root.identity)
        else { return new }
        directories.append(root.identity)
        namespace.sharedMemory.append(root)
      }
      return new
    }

    /// The rest of the scan, and the namespaces in their order: the caller's first, then by pid.
    mutating func finish() -> NamespaceScan {
      while next() != nil {}
      var own: IPCNamespace?
      if let i = scan.namespaces.firstIndex(where: { $0.isOwn }) {
        own = scan.namespaces.remove(at: i)
      } else if let me = try? ProcessDirectory(procDirectory: "/proc", pid: getpid()) {
        // A /proc that does not show this process (another PID namespace's, a fixture).
        own = IPCNamespace(inode: scan.own, process: me, isOwn: true)
        own?.processCount = 1
      }
      if let own {
        if let ownRoot { own.sharedMemory.insert(ownRoot, at: 0) }
        scan.namespaces.insert(own, at: 0)
      }
      return scan
    }
  }

  /// The calling thread's IPC namespace (a thread that entered another one reads that one).
  public static func ownNamespaceInode() -> UInt64? {
    var st = stat()
    return stat("/proc/thread-self/ns/ipc", &st) == 0 ? UInt64(st.st_ino) : nil
  }
}
