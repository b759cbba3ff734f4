import Glibc

/// Standard input, output and error as the rest of swipc expects them.
public enum StandardDescriptors {
  /// Opens each of descriptors 0, 1 and 2 that is closed on /dev/null, before anything else
  /// opens a file: otherwise the next open would take its number, and a notice meant for stderr
  /// (`2>&-`) would be written into a shared memory object or a queue opened as descriptor 2.
  ///
  /// Each is opened the wrong way round (stdin write-only, stdout and stderr read-only), so that
  /// it still behaves as closed: reads and writes fail with EBADF, and a command that must not
  /// take a message it cannot print still refuses to (`OutputWriter.requireWritable`).
  ///
  /// - Returns: false when one could not be opened (then swipc must not go on).
  /// The corresponding C functions are `fcntl(F_GETFD)` and `open`.
  @discardableResult
  public static func ensureOpen() -> Bool {
    for fd: Int32 in 0...2 where fcntl(fd, F_GETFD) == -1 && errno == EBADF {
      // open returns the lowest free number: this one, since every lower one is open.
      let opened = open("/dev/null", fd == 0 ? O_WRONLY : O_RDONLY)
      if opened != fd {
        if opened >= 0 { close(opened) }
        return false
      }
    }
    return true
  }
}
