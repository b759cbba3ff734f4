import Glibc
import SystemPackage

/// A file descriptor with one owner, closed exactly once: when the owner goes away, or when it
/// hands the number over with `take()`. It cannot be copied, so no second owner can close it
/// again (or close a number the kernel has since given to another file).
public struct OwnedDescriptor: ~Copyable, Sendable {
  /// The descriptor number, for calls that borrow it.
  public let raw: Int32

  /// Takes ownership of `raw`, which must be open.
  public init(_ raw: Int32) { self.raw = raw }

  /// Opens `path` relative to the directory `directory` (`AT_FDCWD` for the working directory).
  ///
  /// The corresponding C function is `openat`.
  public static func open(_ path: String, relativeTo directory: Int32 = AT_FDCWD, flags: Int32, mode: mode_t = 0)
    -> Result<OwnedDescriptor, Errno>
  {
    let fd = openat(directory, path, flags, mode)
    return fd >= 0 ? .success(OwnedDescriptor(fd)) : .failure(currentErrno)
  }

  /// Gives the number to a caller that becomes its owner (fdopendir, which closes it itself).
  public consuming func take() -> Int32 {
    let fd = raw
    discard self
    return fd
  }

  deinit { closeIgnoringErrors(raw) }
}
