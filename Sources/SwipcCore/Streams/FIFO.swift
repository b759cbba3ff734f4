import CSwipc
import Glibc
import SystemPackage

/// Named pipes: creating them, and opening them with a timeout (a plain open of a FIFO with no
/// process at the other end waits for ever).
public enum FIFO {
  /// mkfifo with exactly `mode` (the umask is not applied). An existing FIFO is left as it is
  /// (returns false); any other existing file is refused.
  ///
  /// The corresponding C function is `mkfifo`.
  public static func create(path: String, mode: UInt32) throws(SwipcError) -> Bool {
    let result = POSIXObjects.withoutUmask { mkfifo(path, mode_t(mode)) }
    if result == 0 { return true }
    let e = currentErrno
    if e == .fileExists {
      var st = stat()
      if lstat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFIFO { return false }
      throw SwipcError(category: .failed, call: "mkfifo", object: path,
        reason: "\(describe(st.st_mode)) already exists there; refusing to replace it")
    }
    throw SwipcError(category: e == .noSuchFileOrDirectory ? .notFound : nil, call: "mkfifo", object: path, errno: e,
      reason: e == .noSuchFileOrDirectory ? "the directory does not exist" : nil)
  }

  /// Opens a FIFO for writing or reading, waiting (within the call's deadline) for a process to
  /// open the other end; the descriptor returned is non-blocking.
  ///
  /// Writing: open with O_NONBLOCK fails with ENXIO while there is no reader, and a blocking
  /// open waits; the wait is a blocking open that the call's timer interrupts.
  /// The corresponding C function is `open`.
  public static func open(path: String, forWriting: Bool, call: BlockingCall) throws(SwipcError) -> Int32 {
    var st = stat()
    if stat(path, &st) != 0 {
      let e = currentErrno
      throw SwipcError(category: e == .noSuchFileOrDirectory ? .notFound : nil, call: "open", object: path, errno: e,
        reason: e == .noSuchFileOrDirectory ? "no such FIFO (create it with 'swipc pipe create \(path)')" : nil)
    }
    guard st.st_mode & S_IFMT == S_IFIFO else {
      throw .usage("\(path) is \(describe(st.st_mode)), not a FIFO")
    }
    let access = (forWriting ? O_WRONLY : O_RDONLY) | O_CLOEXEC
    let outcome = call.run { blocking -> Int32 in
      if blocking { return Glibc.open(path, access) }
      if forWriting {
        let fd = Glibc.open(path, access | O_NONBLOCK)
        if fd == -1 && errno == ENXIO { errno = EAGAIN }
        return fd
      }
      // A reader's non-blocking open succeeds with no writer: wait in a blocking open instead.
      errno = EAGAIN
      return -1
    }
    let peer = forWriting ? "reader" : "writer"
    switch outcome {
    case .done(let fd):
      _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
      return fd
    case .timedOut:
      throw SwipcError(category: .wouldBlock, call: "open", object: "FIFO \(path)",
        reason: "timed out: no \(peer) opened it")
    case .interrupted:
      throw SwipcError(category: .interrupted, call: "open", object: "FIFO \(path)", reason: "interrupted while waiting for a \(peer)")
    case .failed(let e):
      throw SwipcError(category: e == .permissionDenied ? .permissionDenied : nil, call: "open", object: "FIFO \(path)", errno: e)
    }
  }

  static func describe(_ mode: mode_t) -> String {
    switch mode & S_IFMT {
    case S_IFREG: return "a regular file"
    case S_IFDIR: return "a directory"
    case S_IFLNK: return "a symbolic link"
    case S_IFSOCK: return "a socket"
    case S_IFIFO: return "a FIFO"
    case S_IFCHR, S_IFBLK: return "a device"
    default: return "a file"
    }
  }
}
