import CSwipc
import Glibc
import SystemPackage

/// Runs work inside another IPC namespace on a thread made for that work alone.
///
/// setns(2) with CLONE_NEWIPC changes the namespace of the calling thread only. Entering on a
/// fresh thread that ends with the work keeps swipc's main thread, every other thread and every
/// child swipc starts from them in the namespace they were in; nothing is ever entered back or
/// left behind. The mount table is never touched: the namespace's POSIX queues are reached
/// through a detached instance of its mqueue filesystem made on that thread.
public enum NamespaceThread {
  /// Enters the namespace `descriptor` (an open `ns/ipc` file) on a new thread, runs `body` there
  /// and waits for it. Fails with setns's errno (EPERM without CAP_SYS_ADMIN) before running it.
  ///
  /// While it waits, the calling thread blocks the interrupt signals, so that a SIGINT reaches
  /// the thread doing the work and interrupts its blocking call as it would on the main thread.
  public static func run<T>(entering descriptor: Int32, _ body: @escaping () -> T) -> Result<T, Errno> {
    var result: Result<T, Errno> = .failure(.noSuchProcess)
    let work = Work {
      guard swipc_setns_ipc(descriptor) == 0 else {
        result = .failure(currentErrno)
        return
      }
      result = .success(body())
    }
    withExtendedLifetime(work) {
      var thread = pthread_t()
      let unmanaged = Unmanaged.passRetained(work)
      let rc = pthread_create(&thread, nil, { raw in
        Unmanaged<Work>.fromOpaque(raw!).takeRetainedValue().run()
        return nil
      }, unmanaged.toOpaque())
      guard rc == 0 else {
        unmanaged.release()
        result = .failure(Errno(rawValue: rc))
        return
      }
      var interrupts = sigset_t()
      var previous = sigset_t()
      swipc_interrupt_signals(&interrupts)
      pthread_sigmask(SIG_BLOCK, &interrupts, &previous)
      pthread_join(thread, nil)
      pthread_sigmask(SIG_SETMASK, &previous, nil)
    }
    return result
  }

  final class Work: @unchecked Sendable {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
  }
}

/// A private instance of the calling thread's IPC namespace's mqueue filesystem: a directory
/// descriptor that lists and removes that namespace's POSIX queues without mounting anything.
/// Needs CAP_SYS_ADMIN (fsopen), so only root gets queues where none is mounted.
public final class MqueueInstance {
  public let descriptor: Int32

  /// The corresponding C functions are `fsopen`, `fsconfig` and `fsmount`.
  public init() throws(Errno) {
    let fd = swipc_open_mqueue_instance()
    guard fd >= 0 else { throw currentErrno }
    descriptor = fd
  }

  deinit { closeIgnoringErrors(descriptor) }

  /// A path that opens this directory from any thread of this process.
  public var descriptorPath: String { "/proc/self/fd/\(descriptor)" }
}
