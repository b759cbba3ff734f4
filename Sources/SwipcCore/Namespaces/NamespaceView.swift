import Glibc
import SystemPackage

/// How the objects of one IPC namespace are reached: System V and POSIX queue calls made on a
/// thread inside it, its queues through a private instance of its mqueue filesystem, its POSIX
/// shared memory and semaphores through a `/dev/shm` opened beneath a process's root. What a
/// backend needs is handed to it as `InventoryPaths` that name those descriptors
/// (`/proc/self/fd/N`), so that every command works in the namespace unchanged.
public enum NamespaceView {
  /// Runs `body` with the namespace's paths: inline for the caller's own namespace, else on a
  /// thread that entered it.
  ///
  /// - Parameters:
  ///   - base: the caller's paths (its /proc; its own shm and mqueue directories when `namespace`
  ///     is its own).
  ///   - shm: the `/dev/shm` to use; nil leaves POSIX shared memory and semaphores unreachable
  ///     (for passes that list only System V objects and queues).
  public static func run<T>(
    in namespace: IPCNamespace, base: InventoryPaths, shm: SharedMemoryRoot?, _ body: @escaping (InventoryPaths) -> T
  ) -> Result<T, SwipcError> {
    if namespace.isOwn {
      var paths = base
      // Root lists this namespace's queues even where none is mounted.
      let instance = base.mqueue == nil ? try? MqueueInstance() : nil
      if let instance {
        paths.mqueue = instance.descriptorPath
        paths.mqueueIsLive = true
      }
      paths.shm = shm?.descriptorPath ?? unreachableShm(namespace)
      return withExtendedLifetime(instance) { .success(body(paths)) }
    }
    let descriptor: Int32
    switch namespace.process.openNamespace("ipc", expected: namespace.inode) {
    case .failure(let e): return .failure(enterError(namespace, call: "open", errno: e))
    case .success(let fd): descriptor = fd
    }
    defer { closeIgnoringErrors(descriptor) }
    let entered = NamespaceThread.run(entering: descriptor) { () -> T in
      let instance = try? MqueueInstance()
      var paths = base
      // The thread's own: /proc/sysvipc and the IPC sysctls show the namespace of the reader.
      paths.sysvipc = "/proc/sysvipc"
      paths.sysctl = "/proc/sys"
      paths.mqueue = instance?.descriptorPath
      paths.mqueueIsLive = instance != nil
      paths.shm = shm?.descriptorPath ?? unreachableShm(namespace)
      return withExtendedLifetime(instance) { body(paths) }
    }
    return entered.mapError { enterError(namespace, call: "setns", errno: $0) }
  }

  /// A path that names no directory, for a namespace whose /dev/shm was not found: POSIX shared
  /// memory there is reported missing, never looked for in the caller's /dev/shm.
  static func unreachableShm(_ namespace: IPCNamespace) -> String {
    "/proc/self/fd/-1/no-dev-shm-for-\(namespace.label)"
  }

  static func enterError(_ namespace: IPCNamespace, call: String, errno: Errno) -> SwipcError {
    switch errno {
    case .notPermitted, .permissionDenied:
      return SwipcError(
        category: .permissionDenied, call: call, object: namespace.description, errno: errno,
        reason: "entering another IPC namespace needs CAP_SYS_ADMIN (run as root)")
    case .noSuchProcess, .noSuchFileOrDirectory:
      return SwipcError(
        category: .notFound, call: call, object: namespace.description, errno: errno,
        reason: "pid \(namespace.pid) exited or left the namespace; run again")
    default:
      return SwipcError(call: call, object: namespace.description, errno: errno)
    }
  }
}
