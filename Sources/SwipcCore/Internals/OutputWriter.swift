import CSwipc
import Glibc
import SystemPackage

/// Writing a command's output to a descriptor, and the error when that fails.
public enum OutputWriter {
  /// Writes all of `bytes` to `fd`, again after EINTR and short writes; returns the errno of a
  /// failed write, or nil when everything was written.
  public static func writeAll(_ bytes: UnsafeRawBufferPointer, to fd: Int32) -> Int32? {
    var done = 0
    while done < bytes.count {
      switch valueOrErrno({ Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done) }) {
      case .failure(let e): return e.rawValue
      case .success(let n): done += n
      }
    }
    return nil
  }

  /// Writes all of `bytes` to `fd`, or throws the failure, with `consequence` (made only then)
  /// saying what it left undone or lost.
  public static func write(
    _ bytes: UnsafeRawBufferPointer, to fd: Int32, consequence: @autoclosure () -> String? = nil
  ) throws(SwipcError) {
    if let e = writeAll(bytes, to: fd) { throw failure(fd: fd, errno: e, consequence: consequence()) }
  }

  /// The error for a failed write to `fd`; `consequence` says what the failure left undone or lost.
  public static func failure(fd: Int32, errno: Int32, consequence: String? = nil) -> SwipcError {
    let e = Errno(rawValue: errno)
    return SwipcError(
      category: .failed, call: "write", object: fd == 1 ? "to standard output" : "to descriptor \(fd)", errno: e,
      reason: consequence.map { SwipcError.strerror(e) + ": " + $0 })
  }

  /// Throws when `fd` is closed, not open for writing, or a pipe or socket nobody reads any more:
  /// checked before a command takes or makes something whose only record would be its output (a
  /// received message, a new id).
  public static func requireWritable(_ fd: Int32, consequence: String) throws(SwipcError) {
    let flags = fcntl(fd, F_GETFL)
    if flags < 0 { throw failure(fd: fd, errno: errno, consequence: consequence) }
    if flags & O_ACCMODE == O_RDONLY { throw failure(fd: fd, errno: EBADF, consequence: consequence) }
    try requireReader(fd, consequence: consequence)
  }

  /// Whether writes to `fd` can go to a pipe or socket, whose reader may leave; a file's cannot.
  public static func isPipeOrSocket(_ fd: Int32) -> Bool {
    var st = stat()
    guard fstat(fd, &st) == 0 else { return false }
    return st.st_mode & S_IFMT == S_IFIFO || st.st_mode & S_IFMT == S_IFSOCK
  }

  /// Shrinks the pipe `fd` to one page, so that it is writable (POLLOUT) only once its reader has
  /// taken everything written: `waitUntilTaken` can then pace a command that takes records
  /// (messages) out of a queue to its reader. False when `fd` is not a pipe or cannot be resized.
  ///
  /// The corresponding C function is `fcntl(F_SETPIPE_SZ)`.
  public static func holdOnePage(_ fd: Int32) -> Bool {
    var st = stat()
    guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFIFO else { return false }
    return swipc_set_pipe_capacity(fd, Int32(pageSize)) >= 0
  }

  /// Waits until the reader of a pipe made by `holdOnePage` has taken what was written, or has
  /// gone (the next `requireReader` says so); throws when SIGINT or SIGTERM arrives meanwhile.
  public static func waitUntilTaken(_ fd: Int32, consequence: String) throws(SwipcError) {
    switch BlockingCall(timeout: nil).poll(fd: fd, events: Int16(POLLOUT)) {
    case .done, .failed, .timedOut: return
    case .interrupted:
      throw SwipcError(category: .interrupted, call: "write", object: "to standard output",
        reason: "interrupted while waiting for the reader; \(consequence)")
    }
  }

  /// Throws when `fd` is a pipe or socket whose reader has gone (`head` exited, say): a write would
  /// fail with EPIPE. One poll(2), without waiting.
  public static func requireReader(_ fd: Int32, consequence: String) throws(SwipcError) {
    var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
    if poll(&p, 1, 0) == 1 && p.revents & Int16(POLLERR | POLLHUP) != 0 {
      throw failure(fd: fd, errno: EPIPE, consequence: consequence)
    }
  }
}
