import Glibc
import SystemPackage

/// Runs a libc call that returns -1 and sets errno on failure, turning the failure into an `Errno`.
///
/// - Parameters:
///   - retryOnInterrupt: Retry the call when it fails with EINTR. Pass `false` for calls that
///     must honour a timeout or a signal (msgrcv, semop) and handle EINTR themselves.
///   - body: The call.
/// - Returns: The call's non-negative result.
@inline(__always)
internal func valueOrErrno<I: FixedWidthInteger>(
  retryOnInterrupt: Bool = true, _ body: () -> I
) -> Result<I, Errno> {
  while true {
    let result = body()
    if result == -1 {
      let err = Errno(rawValue: errno)
      if retryOnInterrupt && err == .interrupted { continue }
      return .failure(err)
    }
    return .success(result)
  }
}

/// The current value of errno as an `Errno`.
@inline(__always)
internal var currentErrno: Errno { Errno(rawValue: errno) }

/// Closes a descriptor without retrying on EINTR: on Linux the descriptor is released even then,
/// and a retry could close a descriptor another thread has just been given.
@inline(__always)
internal func closeIgnoringErrors(_ fd: Int32) {
  _ = Glibc.close(fd)
}

/// The size of a memory page in bytes (sysconf(_SC_PAGESIZE), at least 1).
internal let pageSize: Int = max(Int(sysconf(Int32(_SC_PAGESIZE))), 1)
