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
  /// What the caller and the thread share; the thread holds only this, so the executor can go.
  private let channel = Channel()
  private let serial = Mutex<Void>(())

  /// The job handed over and the two semaphores that order the hand-over.
  final class Channel: @unchecked Sendable {
    let request = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)
    let done = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)
    /// Written by the caller before posting `request`, read by the thread after waiting on it.
    var job: (() -> Void)?
    /// Why the thread could not enter the namespace.
    var entered: Errno?

    init() {
      sem_init(request, 0, 0)
      sem_init(done, 0, 0)
    }

    deinit {
      sem_destroy(request)
      sem_destroy(done)
      request.deallocate()
      done.deallocate()
    }

    /// The thread: the first job enters the namespace; a thread that could not enter it runs
    /// nothing else. No job means stop.
    func loop() {
      while true {
        while sem_wait(request) != 0 {}
        guard runJob() else { return }
        let failed = entered != nil
        sem_post(done)
        if failed { return }
      }
    }

    /// Runs and drops the job, so that nothing of it is left on the thread once `done` is posted.
    @inline(never)
    func runJob() -> Bool {
      guard let job else { return false }
      self.job = nil
      job()
      return true
    }
  }

  /// Starts the thread and has it enter the namespace `descriptor` (an open `ns/ipc` file);
  /// fails with setns's errno (EPERM without CAP_SYS_ADMIN), and then no thread is left.
  public static func enter(_ descriptor: Int32) -> Result<EnteredNamespace, Errno> {
    let executor = EnteredNamespace()
    let channel = executor.channel
    channel.job = { if swipc_setns_ipc(descriptor) != 0 { channel.entered = currentErrno } }
    let unmanaged = Unmanaged.passRetained(channel)
    let rc = pthread_create(&executor.thread, nil, { raw in
      Unmanaged<Channel>.fromOpaque(raw!).takeRetainedValue().loop()
      return nil
    }, unmanaged.toOpaque())
    guard rc == 0 else {
      unmanaged.release()
      channel.job = nil
      return .failure(Errno(rawValue: rc))
    }
    executor.wake()
    if let e = channel.entered {
      pthread_join(executor.thread, nil)
      executor.joined = true
      return .failure(e)
    }
    return .success(executor)
  }

  private var joined = false

  private init() {}

  deinit {
    guard !joined else { return }
    channel.job = nil
    sem_post(channel.request)
    pthread_join(thread, nil)
  }

  /// Hands the current job to the thread and waits for it. Meanwhile the calling thread blocks
  /// the interrupt signals, so that a SIGINT reaches the thread doing the work and interrupts its
  /// blocking call (msgrcv, semop) as it would on the main thread.
  private func wake() {
    var interrupts = sigset_t()
    var previous = sigset_t()
    swipc_interrupt_signals(&interrupts)
    pthread_sigmask(SIG_BLOCK, &interrupts, &previous)
    sem_post(channel.request)
    while sem_wait(channel.done) != 0 {}
    pthread_sigmask(SIG_SETMASK, &previous, nil)
  }

  public func perform<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
    // A body that itself performs (a backend calling another) is already in the namespace.
    if pthread_equal(pthread_self(), thread) != 0 { return try body() }
    var result: Result<T, E>?
    withoutActuallyEscaping(body) { escapable in
      serial.withLock { _ in
        channel.job = { result = Result(catching: escapable) }
        wake()
      }
    }
    return try result!.get()
  }
}
