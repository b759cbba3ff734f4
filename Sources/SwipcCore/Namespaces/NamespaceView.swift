import CSwipc
import Glibc
import SystemPackage

/// Which `/dev/shm` a view of another namespace uses for POSIX shared memory and semaphores.
public enum SharedMemoryChoice {
  /// The caller's own (`base.shm`).
  case own
  /// None: a pass that lists System V objects and queues only.
  case none
  /// A directory found beneath a process's root.
  case root(SharedMemoryRoot)
  /// The one that should have been used could not be opened, or is refused (with the reason).
  case missing(String, Errno, refusal: String? = nil)
}

extension IPCView {
  /// The view of another IPC namespace (or of the caller's own, as seen by a process in it):
  /// its System V and POSIX queue calls made by a thread that entered it, its queues through a
  /// private instance of its mqueue filesystem (fsopen and fsmount on that thread: nothing is
  /// mounted anywhere), its POSIX shared memory and semaphores in `shm`.
  ///
  /// - Parameters:
  ///   - base: the caller's own view: its /proc, and its directories when `namespace` is its own.
  ///   - visitor: when called on a visiting thread, the visitor: it enters the namespace itself,
  ///     and the view is good for this visit only. Else a thread is made for the view.
  public static func entering(
    _ namespace: IPCNamespace, base: IPCView, shm: SharedMemoryChoice, visitor: NamespaceVisitor? = nil
  ) -> Result<IPCView, SwipcError> {
    var view = base
    view.namespace = namespace.inode
    switch shm {
    case .own: break
    case .none: view.shm = .absent(label: "the /dev/shm of \(namespace.label)")
    case .root(let root):
      switch root.duplicate() {
      case .success(let fd): view.shm = .descriptor(OwnedDescriptor(fd), label: root.label, live: true)
      case .failure(let e):
        let label = root.label
        view.shm = ObjectDirectory(label: label) { .failed(path: label, e) }
      }
    case .missing(let label, let e, let refusal):
      view.shm = ObjectDirectory(label: label, refusal: refusal) { .failed(path: label, e) }
    }
    let mqueueLabel = "the mqueue filesystem of \(namespace.label)"
    if let visitor {
      switch visitor.enter(namespace) {
      case .failure(let e): return .failure(enterError(namespace, errno: e))
      case .success(let visit): view.executor = visit
      }
    }
    if namespace.isOwn {
      // Root lists this namespace's queues even where none is mounted.
      if !base.mqueue.exists, case .success(let fd) = view.executor.perform({ mqueueInstance() }) {
        view.mqueue = .descriptor(OwnedDescriptor(fd), label: mqueueLabel, live: true)
      }
      return .success(view)
    }
    if visitor == nil {
      switch namespace.open() {
      case .failure(let e): return .failure(enterError(namespace, errno: e))
      case .success(let fd):
        defer { closeIgnoringErrors(fd) }
        switch EnteredNamespace.enter(fd) {
        case .failure(let e): return .failure(enterError(namespace, errno: e))
        case .success(let entered): view.executor = entered
        }
      }
    }
    let executor = view.executor
    // Read by the thread that entered: /proc/sysvipc and the IPC sysctls show the namespace of
    // their reader.
    view.sysvipc = "/proc/sysvipc"
    view.sysctl = "/proc/sys"
    view.kernelSystemV = true
    switch executor.perform({ mqueueInstance() }) {
    case .success(let fd): view.mqueue = .descriptor(OwnedDescriptor(fd), label: mqueueLabel, live: true)
    case .failure(let e): view.mqueue = ObjectDirectory(label: mqueueLabel) { .failed(path: mqueueLabel, e) }
    }
    return .success(view)
  }

  /// A detached instance of the calling thread's namespace's mqueue filesystem.
  ///
  /// The corresponding C functions are `fsopen`, `fsconfig` and `fsmount`.
  static func mqueueInstance() -> Result<Int32, Errno> {
    let fd = swipc_open_mqueue_instance()
    return fd >= 0 ? .success(fd) : .failure(currentErrno)
  }

  static func enterError(_ namespace: IPCNamespace, errno: Errno) -> SwipcError {
    switch errno {
    case .notPermitted, .permissionDenied:
      return SwipcError(
        category: .permissionDenied, call: "setns", object: namespace.description, errno: errno,
        reason: "entering another IPC namespace needs CAP_SYS_ADMIN (run as root)")
    case .noSuchProcess, .noSuchFileOrDirectory:
      return SwipcError(
        category: .notFound, call: "setns", object: namespace.description, errno: errno,
        reason: "its process exited or left the namespace; run again")
    default:
      return SwipcError(call: "setns", object: namespace.description, errno: errno)
    }
  }
}
