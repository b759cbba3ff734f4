import CSwipc
import Glibc
import Synchronization
import SystemPackage

/// A thread of swipc's own that runs the jobs handed to it, one at a time, while the caller waits.
/// setns(2) with CLONE_NEWIPC changes the namespace of the calling thread only, so a namespace is
/// entered on such a thread: swipc's main thread, every other thread and every child started from
/// them stay where they were, and nothing is ever entered back or left behind. The mount table is
/// never touched.
final class WorkerThread: @unchecked Sendable {
  private var thread = pthread_t()
  /// What the caller and the thread share; the thread holds only this, so the worker can go.
  private let channel = Channel()
  private let serial = Mutex<Void>(())

  /// The job handed over and the two semaphores that order the hand-over.
  final class Channel: @unchecked Sendable {
    let request = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)
    let done = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)
    /// Written by the caller before posting `request`, read by the thread after waiting on it.
    var job: (() -> Void)?

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

    /// The thread: runs jobs until it is handed none. It takes the interrupt signals and the
    /// watchdog's SIGALRM (see `BlockingCall`) even when swipc was started with them blocked.
    func loop() {
      var signals = WorkerThread.handedOver
      pthread_sigmask(SIG_UNBLOCK, &signals, nil)
      while true {
        while sem_wait(request) != 0 {}
        guard runJob() else { return }
        sem_post(done)
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

  /// A new thread, in the caller's namespaces; fails with pthread_create's error.
  static func start() -> Result<WorkerThread, Errno> {
    let worker = WorkerThread()
    let unmanaged = Unmanaged.passRetained(worker.channel)
    let rc = pthread_create(&worker.thread, nil, { raw in
      Unmanaged<Channel>.fromOpaque(raw!).takeRetainedValue().loop()
      return nil
    }, unmanaged.toOpaque())
    guard rc == 0 else {
      unmanaged.release()
      worker.started = false
      return .failure(Errno(rawValue: rc))
    }
    return .success(worker)
  }

  private var started = true

  private init() {}

  deinit {
    guard started else { return }
    channel.job = nil
    sem_post(channel.request)
    pthread_join(thread, nil)
  }

  /// Whether the caller is this thread.
  var isCurrent: Bool { pthread_equal(pthread_self(), thread) != 0 }

  /// The interrupt signals and SIGALRM: while the thread works, they are its to take.
  static var handedOver: sigset_t {
    var set = sigset_t()
    swipc_interrupt_signals(&set)
    sigaddset(&set, SIGALRM)
    return set
  }

  /// Hands the current job to the thread and waits for it. Meanwhile the calling thread blocks
  /// the interrupt signals and SIGALRM, so that a SIGINT, and the watchdog that closes the race
  /// before a blocking call, reach the thread doing the work and interrupt its call (msgrcv,
  /// semop) as they would on the main thread.
  /// `meanwhile` runs on the calling thread between the two, with the same signals blocked.
  private func wake(meanwhile: () -> Void) {
    var interrupts = WorkerThread.handedOver
    var previous = sigset_t()
    pthread_sigmask(SIG_BLOCK, &interrupts, &previous)
    sem_post(channel.request)
    meanwhile()
    while sem_wait(channel.done) != 0 {}
    pthread_sigmask(SIG_SETMASK, &previous, nil)
  }

  /// Runs `body` on the thread (inline when already on it) and returns what it returned;
  /// `meanwhile` runs on the calling thread while the thread works (after `body`, when inline).
  func perform<T, E: Error>(_ body: () throws(E) -> T, meanwhile: () -> Void = {}) throws(E) -> T {
    if isCurrent {
      defer { meanwhile() }
      return try body()
    }
    var result: Result<T, E>?
    withoutActuallyEscaping(body) { escapable in
      serial.withLock { _ in
        channel.job = { result = Result(catching: escapable) }
        wake(meanwhile: meanwhile)
      }
    }
    return try result!.get()
  }
}

/// A `NamespaceExecutor` for one other IPC namespace: a thread made for one view, which enters
/// the namespace once and then runs every body the view's backends give it, until the view is gone.
public final class EnteredNamespace: NamespaceExecutor, @unchecked Sendable {
  private let worker: WorkerThread

  private init(worker: WorkerThread) { self.worker = worker }

  /// Starts the thread and has it enter the namespace `descriptor` (an open `ns/ipc` file);
  /// fails with setns's errno (EPERM without CAP_SYS_ADMIN), and then no thread is left.
  public static func enter(_ descriptor: Int32) -> Result<EnteredNamespace, Errno> {
    switch WorkerThread.start() {
    case .failure(let e): return .failure(e)
    case .success(let worker):
      let failure: Errno? = worker.perform { swipc_setns_ipc(descriptor) == 0 ? nil : currentErrno }
      if let failure { return .failure(failure) }
      return .success(EnteredNamespace(worker: worker))
    }
  }

  public func perform<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
    try worker.perform(body)
  }
}

/// One thread that visits many IPC namespaces in turn (`ls` and `clean --all-namespaces`): the
/// whole pass runs on it, and it enters each namespace as the pass comes to it, so that a pass over
/// N namespaces costs one thread and one hand-over rather than N of each.
///
/// It starts in the caller's namespaces and is never in two at once: a view made for one visit
/// is used only during that visit (`VisitedNamespace` checks it).
public final class NamespaceVisitor: @unchecked Sendable {
  fileprivate let worker: WorkerThread
  /// The namespace the thread is in; nil until it first leaves the caller's.
  private var current: UInt64?
  /// Counts the visits, so that a view can tell whether its visit is the current one.
  fileprivate private(set) var visit = 0

  private init(worker: WorkerThread) { self.worker = worker }

  /// Runs `body` on a visiting thread, given that thread; or on the caller's, given nil, when
  /// there is no other namespace to visit (`needed` false) or no thread can be started (each
  /// namespace then gets a thread of its own).
  ///
  /// `meanwhile` runs on the caller's thread while the pass runs (after it, without a thread of
  /// its own): it may take what the pass hands over, as long as it returns once the pass is done.
  public static func run<T, E: Error>(
    needed: Bool = true, _ body: (NamespaceVisitor?) throws(E) -> T, meanwhile: () -> Void = {}
  ) throws(E) -> T {
    guard needed, case .success(let worker) = WorkerThread.start() else {
      defer { meanwhile() }
      return try body(nil)
    }
    // Made here, on the caller's thread: a thread made by the visiting one would start in the
    // namespace it visits.
    swipc_start_closing_thread()
    let visitor = NamespaceVisitor(worker: worker)
    return try worker.perform({ () throws(E) -> T in try body(visitor) }, meanwhile: meanwhile)
  }

  /// On the visiting thread: moves it into `namespace`, unless it is there (the caller's own, or
  /// the last one entered), and returns the executor of this visit.
  func enter(_ namespace: IPCNamespace) -> Result<VisitedNamespace, Errno> {
    guard worker.isCurrent else { return .failure(.invalidArgument) }
    visit += 1
    if current != namespace.inode && !(current == nil && namespace.isOwn) {
      switch namespace.open() {
      case .failure(let e): return .failure(e)
      case .success(let fd):
        defer { closeIgnoringErrors(fd) }
        guard swipc_setns_ipc(fd) == 0 else {
          let e = currentErrno
          // A failed setns leaves the thread where it was, in no namespace a view may assume.
          current = .max
          return .failure(e)
        }
        current = namespace.inode
      }
    }
    return .success(VisitedNamespace(visitor: self, visit: visit))
  }
}

/// The executor of one visit: bodies run inline on the visiting thread, which is in the namespace.
public struct VisitedNamespace: NamespaceExecutor, @unchecked Sendable {
  let visitor: NamespaceVisitor
  let visit: Int

  public func perform<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
    // A view kept past its visit would act in whatever namespace the thread has moved to.
    precondition(visitor.worker.isCurrent && visitor.visit == visit, "a namespace view used after its visit")
    return try body()
  }
}

/// Items handed from one thread to another as they are made, in order, until `close`: the visiting
/// thread's parts of a listing, to the thread that writes them.
final class Handover<Item>: @unchecked Sendable {
  /// A pthread mutex rather than `Mutex`: contended, `Mutex` hands over in the kernel (a futex),
  /// where ThreadSanitizer sees no ordering, reports a race on `items` and fails the run.
  private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
  private var items: [Item?] = []
  private var first = 0
  private var closed = false
  /// Posted once per item and once on close.
  private let ready = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)

  init() {
    sem_init(ready, 0, 0)
    pthread_mutex_init(lock, nil)
  }

  deinit {
    sem_destroy(ready)
    ready.deallocate()
    pthread_mutex_destroy(lock)
    lock.deallocate()
  }

  private func locked<T>(_ body: () -> T) -> T {
    pthread_mutex_lock(lock)
    defer { pthread_mutex_unlock(lock) }
    return body()
  }

  func put(_ item: Item) {
    locked { items.append(item) }
    sem_post(ready)
  }

  func close() {
    locked { closed = true }
    sem_post(ready)
  }

  /// Whether `close` was called (items may still wait to be taken).
  var isClosed: Bool { locked { closed } }

  /// The next item, waiting for it; nil once closed and all taken, however often asked then.
  func next() -> Item? {
    if locked({ closed && first == items.count }) { return nil }
    while sem_wait(ready) != 0 {}
    return locked {
      guard first < items.count else { return nil }
      // Taken out, so that the consumer holds the only copy of what it changes.
      defer { first += 1 }
      return items[first].take()
    }
  }
}
