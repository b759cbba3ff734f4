import CSwipc
import Glibc
import SystemPackage

/// Runs a blocking system call (msgrcv, msgsnd, semop, mq_timedreceive, ...) so that it honours
/// a timeout and the interrupt signals (SIGINT, SIGTERM, SIGHUP, SIGQUIT), without busy waiting and without losing data.
///
/// The signal handlers only record the signal and are installed without SA_RESTART, so the call
/// returns EINTR — which means it transferred nothing. A signal that arrives between the check
/// and the call would leave it blocked, so while waiting an interval timer (SIGALRM) interrupts
/// it again: first at the deadline, then every `watchdog` interval (also when there is no
/// deadline). After each EINTR the loop checks for an interrupt and the deadline, and calls again.
public struct BlockingCall {
  /// How often a wait is re-interrupted to close that race.
  public static let watchdogMicroseconds = 250_000

  public enum Outcome<T> {
    case done(T)
    case failed(Errno)
    case timedOut
    /// An interrupt signal: its number.
    case interrupted(Int32)
  }

  /// The deadline, shared by copies of this call so that `restart()` reaches every loop using it.
  final class Clock {
    let timeout: Int64?
    var deadline: Int64?
    init(timeout: Int64?) {
      self.timeout = timeout
      deadline = timeout.map { BlockingCall.monotonicMicroseconds() + $0 }
    }
  }

  let clock: Clock
  var deadline: Int64? { clock.deadline }

  /// - Parameter timeout: nil to wait for ever (until a signal).
  public init(timeout: TimeSpan?) {
    swipc_install_wait_handlers()
    clock = Clock(timeout: timeout.map { $0.milliseconds * 1000 })
  }

  /// Starts the timeout again from now: an idle timeout, restarted whenever a transfer made
  /// progress (a message, some bytes), so that a steady stream is never cut off.
  public func restart() {
    if let timeout = clock.timeout { clock.deadline = BlockingCall.monotonicMicroseconds() + timeout }
  }

  /// The pending interrupt signal, checked between operations of a long transfer.
  public static var pendingInterrupt: Int32? {
    let sig = swipc_interrupt_signal()
    return sig == 0 ? nil : sig
  }

  /// Runs `call` (which returns -1 and sets errno on failure) until it succeeds, fails with an
  /// error other than EINTR, the deadline passes, or an interrupt signal arrives.
  ///
  /// `call(false)` must not block (IPC_NOWAIT, or a deadline already past): it is tried first, so
  /// that a transfer that can proceed costs one system call and no timer. Only when it would block
  /// (EAGAIN, ENOMSG, ETIMEDOUT) are the timers armed and `call(true)` made. With `wait: false`
  /// that first answer is final: `.timedOut` stands for "would block".
  ///
  /// - Parameter stillThere: asked at each wake-up of a wait (every watchdog interval): when it
  ///   says the object is gone, the wait ends with EIDRM. For objects whose removal does not wake
  ///   a waiter (mq_unlink).
  public func run<R: FixedWidthInteger>(
    wait: Bool = true, stillThere: (() -> Bool)? = nil, _ call: (_ blocking: Bool) -> R
  ) -> Outcome<R> {
    if let sig = BlockingCall.pendingInterrupt { return .interrupted(sig) }
    let first = call(false)
    if first != -1 { return .done(first) }
    let firstError = Errno(rawValue: errno)
    guard BlockingCall.wouldBlock(firstError) || firstError == .interrupted else { return .failed(firstError) }
    if !wait { return .timedOut }
    defer { swipc_set_alarm(0, 0) }
    while true {
      if let sig = BlockingCall.pendingInterrupt { return .interrupted(sig) }
      let now = BlockingCall.monotonicMicroseconds()
      if let deadline {
        let remaining = deadline - now
        if remaining <= 0 { return .timedOut }
        swipc_set_alarm(Int(min(remaining, Int64(BlockingCall.watchdogMicroseconds))), 20_000)
      } else {
        swipc_set_alarm(BlockingCall.watchdogMicroseconds, BlockingCall.watchdogMicroseconds)
      }
      let result = call(true)
      if result != -1 { return .done(result) }
      let err = Errno(rawValue: errno)
      // mq_timedreceive, mq_timedsend and sem_timedwait are given the real deadline too and may
      // report it first; semtimedop reports its relative timeout as EAGAIN: check the deadline.
      if err == .timedOut { return .timedOut }
      if err == .resourceTemporarilyUnavailable && deadline != nil { continue }
      if err != .interrupted { return .failed(err) }
      if let stillThere, !stillThere() { return .failed(.identifierRemoved) }
    }
  }

  /// Waits until `fd` is ready for `events` (POLLIN, POLLOUT), the deadline passes, or
  /// an interrupt signal arrives. poll sleeps at most a watchdog interval at a time, so that a signal
  /// landing just before it is seen soon.
  ///
  /// The corresponding C function is `poll`.
  public func poll(fd: Int32, events: Int16) -> Outcome<Int32> {
    while true {
      if let sig = BlockingCall.pendingInterrupt { return .interrupted(sig) }
      var slice = BlockingCall.watchdogMicroseconds
      if let deadline {
        let remaining = deadline - BlockingCall.monotonicMicroseconds()
        if remaining <= 0 { return .timedOut }
        slice = Int(min(remaining, Int64(slice)))
      }
      var entry = pollfd(fd: fd, events: events, revents: 0)
      let n = Glibc.poll(&entry, 1, Int32((slice + 999) / 1000))
      if n > 0 { return .done(Int32(entry.revents)) }
      if n < 0 && errno != EINTR { return .failed(currentErrno) }
    }
  }

  /// Runs a call on a non-blocking descriptor: when it would block (EAGAIN), waits with
  /// `poll(fd:events:)` and calls again.
  public func nonBlocking(fd: Int32, events: Int16, _ call: () -> Int) -> Outcome<Int> {
    while true {
      let r = call()
      if r >= 0 { return .done(r) }
      let e = currentErrno
      if e == .interrupted { continue }
      guard e == .resourceTemporarilyUnavailable || e == .nowInProgress else { return .failed(e) }
      switch poll(fd: fd, events: events) {
      case .done: continue
      case .timedOut: return .timedOut
      case .interrupted(let sig): return .interrupted(sig)
      case .failed(let e): return .failed(e)
      }
    }
  }

  static func wouldBlock(_ e: Errno) -> Bool {
    e == .resourceTemporarilyUnavailable || e == .noMessage || e == .timedOut
  }

  /// The deadline as CLOCK_REALTIME for mq_timedsend/mq_timedreceive (far in the future when
  /// there is none: the watchdog interrupts them anyway).
  public var realtimeDeadline: timespec {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    guard let deadline else { return timespec(tv_sec: now.tv_sec + 86_400 * 365, tv_nsec: 0) }
    let remaining = max(deadline - BlockingCall.monotonicMicroseconds(), 0)
    var total = Int64(now.tv_nsec) + (remaining % 1_000_000) * 1000
    var seconds = Int64(now.tv_sec) + remaining / 1_000_000
    if total >= 1_000_000_000 { total -= 1_000_000_000; seconds += 1 }
    return timespec(tv_sec: Int(seconds), tv_nsec: Int(total))
  }

  /// The time left until the deadline, for semtimedop; nil when there is none.
  public var remainingTimeout: timespec? {
    guard let deadline else { return nil }
    let remaining = max(deadline - BlockingCall.monotonicMicroseconds(), 0)
    return timespec(tv_sec: Int(remaining / 1_000_000), tv_nsec: Int(remaining % 1_000_000) * 1000)
  }

  static func monotonicMicroseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
  }
}
