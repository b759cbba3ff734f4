import CSwipc
import Glibc
import Synchronization
import SystemPackage

/// A `NamespaceExecutor` for another IPC namespace: a thread made for one view, which enters the
/// namespace once (setns(2) with CLONE_NEWIPC) and then runs every body the view's backends give
/// it, until the view is gone.
///
/// setns changes the namespace of the calling thread only: swipc's main thread, every other
/// thread and every child started from them stay where they were, and nothing is ever entered
/// back or left behind. The mount table is never touched.
public final class EnteredNamespace: NamespaceExecutor, @unchecked Sendable {
  private var thread = pthread_t()
  private let request = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)
  private let done = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)
  /// The body to run next; set by `perform` under `serial`, read by the thread between the
  /// semaphores, which order the two.
  private var job: (() -> Void)?
  private var entered: Errno?
  private let serial = Mutex<Void>(())

  /// Starts the thread and has it enter the namespace `descriptor` (an open `ns/ipc` file);
  /// fails with setns's errno (EPERM without CAP_SYS_ADMIN) and no thread left running.
  public static func enter(_ descriptor: Int32) -> Result<EnteredNamespace, Errno> {
    let executor = EnteredNamespace()
    executor.job = { if swipc_setns_ipc(descriptor) != 0 { executor.entered = currentErrno } }
    let unmanaged = Unmanaged.passRetained(Box(executor))
    let rc = pthread_create(&executor.thread, nil, { raw in
      let executor = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue().executor
      executor.loop()
      return nil
    }, unmanaged.toOpaque())
    guard rc == 0 else {
      unmanaged.release()
      return .failure(Errno(rawValue: rc))
    }
    executor.started = true
    executor.wake()
    if let e = executor.entered {
      executor.stop()
      return .failure(e)
    }
    return .success(executor)
  }

  /// The executor, without a reference from its own thread (which would keep it alive for ever).
  final class Box {
    unowned let executor: EnteredNamespace
    init(_ executor: EnteredNamespace) { self.executor = executor }
  }

  private var started = false
  private var stopping = false

  private init() {
    sem_init(request, 0, 0)
    sem_init(done, 0, 0)
  }

  deinit {
    if started && !stopping { stop() }
    sem_destroy(request)
    sem_destroy(done)
    request.deallocate()
    done.deallocate()
  }

  private func stop() {
    stopping = true
    job = nil
    sem_post(request)
    pthread_join(thread, nil)
  }

  private func loop() {
    // The first job enters the namespace; a thread that could not enter it runs nothing else.
    while true {
      while sem_wait(request) != 0 {}
      guard runJob() else { return }
      let failed = entered != nil
      sem_post(done)
      if failed { return }
    }
  }

  /// Runs and drops the job, so that nothing of it is left on this thread once `done` is posted.
  @inline(never)
  private func runJob() -> Bool {
    guard let job = self.job else { return false }
    self.job = nil
    job()
    return true
  }

  /// Hands the current job to the thread and waits for it. Meanwhile the calling thread blocks
  /// the interrupt signals, so that a SIGINT reaches the thread doing the work and interrupts its
  /// blocking call (msgrcv, semop) as it would on the main thread.
  private func wake() {
    var interrupts = sigset_t()
    var previous = sigset_t()
    swipc_interrupt_signals(&interrupts)
    pthread_sigmask(SIG_BLOCK, &interrupts, &previous)
    sem_post(request)
    while sem_wait(done) != 0 {}
    pthread_sigmask(SIG_SETMASK, &previous, nil)
  }

  public func perform<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
    // A body that itself performs (a backend calling another) is already in the namespace.
    if pthread_equal(pthread_self(), thread) != 0 { return try body() }
    var result: Result<T, E>?
    withoutActuallyEscaping(body) { escapable in
      serial.withLock { _ in
        job = { result = Result(catching: escapable) }
        wake()
      }
    }
    return try result!.get()
  }
}
