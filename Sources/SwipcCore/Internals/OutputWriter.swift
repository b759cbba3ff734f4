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

  /// The error for a failed write to `fd`; `consequence` says what the failure left undone or lost.
  public static func failure(fd: Int32, errno: Int32, consequence: String? = nil) -> SwipcError {
    let e = Errno(rawValue: errno)
    return SwipcError(
      category: .failed, call: "write", object: fd == 1 ? "to standard output" : "to descriptor \(fd)", errno: e,
      reason: consequence.map { SwipcError.strerror(e) + ": " + $0 })
  }

  /// Throws when `fd` is closed or not open for writing: checked before a command takes or makes
  /// something whose only record would be its output (a received message, a new id).
  public static func requireWritable(_ fd: Int32, consequence: String) throws(SwipcError) {
    let flags = fcntl(fd, F_GETFL)
    if flags < 0 { throw failure(fd: fd, errno: errno, consequence: consequence) }
    if flags & O_ACCMODE == O_RDONLY { throw failure(fd: fd, errno: EBADF, consequence: consequence) }
  }
}
