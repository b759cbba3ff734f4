import CSwipc
import Glibc
import SystemPackage

/// Running the COMMAND of `shm attach` and `sem run`: in a child process that swipc waits for
/// (passing SIGINT, SIGTERM, SIGHUP and SIGQUIT on to it), or in swipc's own process through exec.
public enum ChildProcess {
  /// How a command ended, as a shell reports it: its exit status, or 128 + the signal.
  public static func shellStatus(_ waitStatus: Int32) -> Int32 {
    let signal = waitStatus & 0x7f
    if signal == 0 { return (waitStatus >> 8) & 0xff }
    return 128 + signal
  }

  /// Starts `arguments` (searched in PATH) with swipc's descriptors, environment and signal mask.
  ///
  /// The corresponding C function is `posix_spawnp`.
  public static func spawn(_ arguments: [String]) throws(SwipcError) -> pid_t {
    precondition(!arguments.isEmpty)
    var pid: pid_t = 0
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    // The interrupt signals go back to their default actions in the child, unless ignored on entry
    // (exec resets handled signals anyway; this also covers the moment before it).
    var defaults = sigset_t()
    sigemptyset(&defaults)
    sigaddset(&defaults, SIGALRM)
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    // The mask swipc was given, but never with the signals it passes on blocked: a parent that
    // runs swipc from a thread blocking them (test runners, some runtimes) would otherwise leave
    // a forwarded SIGINT pending in the child for ever.
    var mask = sigset_t()
    sigprocmask(SIG_BLOCK, nil, &mask)
    for signal in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGALRM] { sigdelset(&mask, signal) }
    posix_spawnattr_setsigmask(&attributes, &mask)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
    let result = withCStrings(arguments) { argv in
      posix_spawnp(&pid, argv[0]!, nil, &attributes, argv, environ)
    }
    guard result == 0 else { throw cannotRun(arguments[0], Errno(rawValue: result)) }
    return pid
  }

  /// Waits for `pid` to end, passing each SIGINT, SIGTERM, SIGHUP or SIGQUIT swipc receives on to it, and returns
  /// its status as a shell reports it.
  ///
  /// The corresponding C function is `waitpid`.
  public static func wait(for pid: pid_t) -> Int32 {
    swipc_install_wait_handlers()
    var forwarded: Int32 = 0
    var status: Int32 = 0
    // A signal that lands between the check and waitpid would not interrupt it: the watchdog
    // interrupts waitpid again so that the check runs.
    swipc_set_alarm(BlockingCall.watchdogMicroseconds, BlockingCall.watchdogMicroseconds)
    defer { swipc_set_alarm(0, 0) }
    while true {
      let signal = swipc_interrupt_signal()
      if signal != 0 && signal != forwarded {
        kill(pid, signal)
        forwarded = signal
      }
      let r = waitpid(pid, &status, 0)
      if r == pid { return shellStatus(status) }
      if r == -1 && errno != EINTR { return 1 }
    }
  }

  /// Replaces swipc with `arguments`; returns only when exec fails, with the error, or when an
  /// interrupt signal came first (an error of category `.interrupted`: COMMAND was not run).
  ///
  /// The corresponding C function is `execvp`.
  public static func exec(_ arguments: [String]) -> SwipcError {
    precondition(!arguments.isEmpty)
    swipc_set_alarm(0, 0)
    let pending = swipc_prepare_exec()
    if pending != 0 {
      return SwipcError(category: .interrupted, call: "exec", object: "'\(arguments[0])'",
        reason: "interrupted by signal \(pending) before it ran")
    }
    _ = withCStrings(arguments) { argv in execvp(argv[0]!, argv) }
    return cannotRun(arguments[0], currentErrno)
  }

  /// The status a shell gives a command it cannot run: 127 not found, 126 found but not run.
  public static func failureStatus(of error: SwipcError) -> Int32 {
    error.errno == .noSuchFileOrDirectory ? 127 : 126
  }

  static func cannotRun(_ command: String, _ e: Errno) -> SwipcError {
    SwipcError(category: .failed, call: "exec", object: "'\(command)'",
      errno: e,
      reason: e == .noSuchFileOrDirectory
        ? "command not found (check the name and PATH)"
        : "cannot run it: \(SwipcError.strerror(e))")
  }

  public static func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    pointers.append(nil)
    defer { for p in pointers { free(p) } }
    return body(pointers)
  }
}
