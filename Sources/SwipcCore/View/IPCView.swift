import CSwipc
import Glibc
import Synchronization
import SystemPackage

/// Runs the calls whose answer depends on the caller's IPC namespace: msgget/shmget/semget,
/// msgctl/shmctl/semctl (IPC_STAT, IPC_SET, IPC_RMID, *_STAT_ANY, *_INFO), mq_open/mq_unlink,
/// and reads of /proc/sysvipc and the IPC sysctls, which show the reader's namespace.
///
/// Backends never make such a call outside `perform`; a view of another namespace supplies an
/// executor that runs the body on a thread that has entered that namespace (setns(2) with
/// CLONE_NEWIPC), and no backend changes. `perform` must return only when `body` has finished.
/// Hot loops call `perform` once around the whole scan, not once per object.
public protocol NamespaceExecutor: Sendable {
  func perform<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T
}

/// The caller's own IPC namespace: the body runs inline.
public struct CurrentNamespace: NamespaceExecutor {
  public init() {}
  @inline(__always)
  public func perform<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T { try body() }
}

/// A directory of POSIX objects (the tmpfs of shm_open(3) and sem_open(3), or an mqueue mount),
/// opened at most once per view and then reached only through its descriptor: every listing,
/// check and removal of one command sees the same directory, whatever happens to its path.
///
/// It is made from a path (the operator's: a default or a variable they set; opened on first
/// use) or from a descriptor the view's builder already holds (for another namespace, a detached
/// mount of its mqueue or its /dev/shm, see fsmount(2)/open_tree(2)).
public final class ObjectDirectory: Sendable {
  /// What the directory turned out to be on first use.
  public enum Resolved: Sendable {
    /// Open; `live` says whether its names are objects of the view's namespace that its
    /// executor may mq_open (an mqueue mount of that namespace), not only files to read.
    case open(POSIXDirectory, live: Bool)
    /// There is none (no mqueue filesystem mounted).
    case absent
    /// It could not be opened.
    case failed(path: String, Errno)
  }

  /// A name for messages: the path, or what the descriptor stands for.
  public let label: String
  /// Why a directory that cannot be used is refused, when it is swipc's own decision rather
  /// than what the system said.
  public let refusal: String?
  private let resolve: @Sendable () -> Resolved
  private let cache = Mutex<Resolved?>(nil)

  /// A directory found by `resolve`, which runs once, on first use.
  public init(label: String, refusal: String? = nil, resolve: @escaping @Sendable () -> Resolved) {
    self.label = label
    self.refusal = refusal
    self.resolve = resolve
  }

  /// The directory at `path`, opened on first use.
  public static func path(_ path: String, live: Bool) -> ObjectDirectory {
    ObjectDirectory(label: path) {
      switch Result(catching: { () throws(POSIXDirectory.Failure) in try POSIXDirectory(path: path) }) {
      case .success(let directory): return .open(directory, live: live)
      case .failure(.system(_, let e)): return .failed(path: path, e)
      case .failure: return .failed(path: path, .invalidArgument)
      }
    }
  }

  /// A directory the caller already holds open; the view becomes its owner.
  public static func descriptor(_ fd: consuming OwnedDescriptor, label: String, live: Bool) -> ObjectDirectory {
    let directory = POSIXDirectory(owning: fd, path: label)
    return ObjectDirectory(label: label) { .open(directory, live: live) }
  }

  /// No such directory (nothing mounted).
  public static func absent(label: String) -> ObjectDirectory {
    ObjectDirectory(label: label) { .absent }
  }

  /// The directory, opened or found missing on the first call and the same on every later one.
  public var resolved: Resolved {
    cache.withLock { state in
      if let state { return state }
      let found = resolve()
      state = found
      return found
    }
  }

  /// The open directory, or the failure POSIX backends report (ENOENT when there is none).
  public func open() -> Result<POSIXDirectory, POSIXDirectory.Failure> {
    switch resolved {
    case .open(let directory, _): return .success(directory)
    case .absent: return .failure(.system("open", .noSuchFileOrDirectory))
    case .failed(let path, let e):
      if let refusal { return .failure(.refused(directory: path, reason: refusal)) }
      return .failure(.system("open", e))
    }
  }

  /// Whether there is a directory at all (an mqueue filesystem is mounted).
  public var exists: Bool {
    if case .absent = resolved { return false }
    return true
  }

  /// Whether names found here may be mq_open'ed by the view's executor.
  public var isLive: Bool {
    if case .open(_, let live) = resolved { return live }
    return false
  }
}

/// Which IPC objects a command sees and how it reaches them: built once per command at the entry
/// point and handed to every backend, so nothing below reads the environment.
///
/// The caller's own namespace is `IPCView.fromEnvironment()`. Another IPC namespace plugs in as
/// another value of this type, with no change to the backends:
/// - `executor`: one that runs each body on a thread that has setns(2)'ed into that namespace;
/// - `namespace`: that namespace's inode (from /proc/PID/ns/ipc), for messages and reports;
/// - `shm` and `mqueue`: `ObjectDirectory.descriptor(...)` of directories opened for that
///   namespace (its /dev/shm through /proc/PID/root, a detached mount of its mqueue);
/// - `proc`: the /proc that shows its processes (a container's pid namespace), for orphan checks;
/// - `sysvipc` and `sysctl` stay /proc/sysvipc and /proc/sys: read through the executor, they
///   show the namespace it has entered.
public struct IPCView: Sendable {
  /// The /proc whose processes hold or created objects (process scans, orphan checks).
  public var proc: String
  /// The sysctl tree for limits: /proc/sys, or fixture text.
  public var sysctl: String
  /// The directory of System V text listings: /proc/sysvipc, or fixture text.
  public var sysvipc: String
  /// Whether `sysvipc` and `sysctl` are the kernel's own, so System V objects may also be read,
  /// and removed, with calls (*_STAT_ANY, IPC_RMID) through `executor`. False for fixture text.
  public var kernelSystemV: Bool

  /// Whether calls are made by the calling thread, in its own IPC namespace.
  public var isCallersNamespace: Bool { executor is CurrentNamespace }
  /// Runs every call that depends on the IPC namespace.
  public var executor: any NamespaceExecutor
  /// The namespace's inode number (`ipc:[N]`), when it was named; nil for the caller's own.
  public var namespace: UInt64?
  /// POSIX shared memory and named semaphores (`sem.NAME`).
  public var shm: ObjectDirectory
  /// The mqueue filesystem of POSIX message queues.
  public var mqueue: ObjectDirectory

  public init(
    proc: String = "/proc", sysctl: String = "/proc/sys", sysvipc: String = "/proc/sysvipc",
    kernelSystemV: Bool? = nil, executor: any NamespaceExecutor = CurrentNamespace(), namespace: UInt64? = nil,
    shm: ObjectDirectory, mqueue: ObjectDirectory
  ) {
    self.proc = proc
    self.sysctl = sysctl
    self.sysvipc = sysvipc
    self.kernelSystemV = kernelSystemV ?? (sysvipc == "/proc/sysvipc")
    self.executor = executor
    self.namespace = namespace
    self.shm = shm
    self.mqueue = mqueue
  }

  /// The caller's own namespace, with each directory overridable through the environment so that
  /// tests can point swipc at fixture text or a private mount (documented in swipc(1)):
  /// SWIPC_PROC_DIR, SWIPC_SYSCTL_DIR, SWIPC_SYSVIPC_DIR, SWIPC_SHM_DIR, SWIPC_MQUEUE_DIR.
  /// Nothing is opened here; each directory is opened on its first use.
  public static func fromEnvironment() -> IPCView {
    func env(_ name: String) -> String? {
      guard let value = getenv(name), value.pointee != 0 else { return nil }
      return String(cString: value)
    }
    let mqueueOverride = env("SWIPC_MQUEUE_DIR")
    let mqueue = ObjectDirectory(label: mqueueOverride ?? "/dev/mqueue") {
      let path: String
      if let mqueueOverride {
        path = mqueueOverride
      } else if isMqueueFilesystem("/dev/mqueue") {
        path = "/dev/mqueue"
      } else if let mount = firstMqueueMount() {
        path = mount
      } else if let fd = ownMqueueInstance() {
        // Root lists its namespace's queues where none is mounted, as `-A` and `-N` do.
        return .open(POSIXDirectory(owning: OwnedDescriptor(fd), path: ownMqueueLabel), live: true)
      } else {
        return .absent
      }
      return ObjectDirectory.path(path, live: isMqueueFilesystem(path)).resolved
    }
    return IPCView(
      proc: env("SWIPC_PROC_DIR") ?? "/proc", sysctl: env("SWIPC_SYSCTL_DIR") ?? "/proc/sys",
      sysvipc: env("SWIPC_SYSVIPC_DIR") ?? "/proc/sysvipc",
      shm: .path(env("SWIPC_SHM_DIR") ?? "/dev/shm", live: true), mqueue: mqueue)
  }

  /// A view of fixture directories (tests): nothing in them is the kernel's.
  public static func fixture(
    proc: String, sysctl: String, sysvipc: String, shm: String, mqueue: String?
  ) -> IPCView {
    IPCView(
      proc: proc, sysctl: sysctl, sysvipc: sysvipc, kernelSystemV: false, shm: .path(shm, live: false),
      mqueue: mqueue.map { .path($0, live: false) } ?? .absent(label: "/dev/mqueue"))
  }

  /// A value from the sysctl tree (`kernel/msgmni`; `index` for files of several), read in the
  /// view's namespace.
  public func kernelValue(_ relative: String, index: Int = 0) -> UInt64? {
    executor.perform { KernelLimits.value(relative, index: index, sysctl: sysctl) }
  }

  /// What names the private instance of the caller's own mqueue filesystem in messages.
  static let ownMqueueLabel = "the mqueue filesystem of this IPC namespace"

  /// A private instance of the caller's own namespace's mqueue filesystem (`mqueueInstance`;
  /// root only, as fsmount needs CAP_SYS_ADMIN), or nil. Made only by a thread in the process's
  /// own IPC namespace: a directory resolved first by a thread that entered another must not
  /// show that namespace's queues as the caller's.
  static func ownMqueueInstance() -> Int32? {
    var process = stat(), thread = stat()
    guard stat("/proc/self/ns/ipc", &process) == 0, stat("/proc/thread-self/ns/ipc", &thread) == 0,
      process.st_ino == thread.st_ino, case .success(let fd) = mqueueInstance()
    else { return nil }
    return fd
  }

  /// statfs(2) reports the mqueue filesystem's magic number.
  static func isMqueueFilesystem(_ path: String) -> Bool {
    var fs = statfs()
    return statfs(path, &fs) == 0 && UInt(bitPattern: Int(fs.f_type)) == UInt(SWIPC_MQUEUE_MAGIC)
  }

  static func firstMqueueMount() -> String? {
    // Split as bytes, not Characters: every listing reads a host's whole mount table when no
    // mqueue filesystem is at /dev/mqueue.
    guard case .success(let table) = FileReader.read("/proc/self/mounts", limit: 1 << 20) else { return nil }
    for line in table.split(separator: 10) {
      let fields = line.split(separator: 32, maxSplits: 3, omittingEmptySubsequences: false)
      if fields.count >= 3 && fields[2].elementsEqual("mqueue".utf8) {
        let point = unescapeMountPath(String(decoding: fields[1], as: UTF8.self))
        if isMqueueFilesystem(point) { return point }
      }
    }
    return nil
  }

  /// /proc/self/mounts escapes blanks and backslashes as octal (`\040`).
  static func unescapeMountPath(_ text: String) -> String {
    EscapedText.decode(text, digits: 3, radix: 8)
  }

  /// The message that says how to make POSIX queues visible.
  public static let mqueueHint =
    "no mqueue filesystem is mounted; mount one with 'mkdir -p /dev/mqueue && mount -t mqueue none /dev/mqueue' or set SWIPC_MQUEUE_DIR"
}
