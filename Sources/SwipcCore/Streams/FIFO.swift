import CSwipc
import Glibc
import SystemPackage

/// Named pipes: creating them, and opening them with a timeout (a plain open of a FIFO with no
/// process at the other end waits for ever).
///
/// A FIFO's path may sit in a directory another user controls, who can swap it for a symbolic
/// link or another file at any moment. So the path is resolved exactly once, with O_PATH and
/// O_NOFOLLOW (which opens nothing and cannot block), and judged by fstat of that descriptor;
/// every later open — also each retry while waiting for the other end — goes through
/// /proc/self/fd/N, which reaches that inode and never the name again.
public enum FIFO {
  /// mkfifo with exactly `mode` (the umask is not applied).
  ///
  /// An existing FIFO is kept (returns false) only when it belongs to this user and, when
  /// `requireMode` is set, already has exactly `mode`: a FIFO that someone else made, or with other
  /// permissions, is refused rather than silently used, as is any other file (a symbolic link is
  /// never followed).
  ///
  /// The corresponding C function is `mkfifo`.
  public static func create(path: String, mode: UInt32, requireMode: Bool) throws(SwipcError) -> Bool {
    let result = POSIXObjects.withoutUmask { mkfifo(path, mode_t(mode)) }
    if result == 0 { return true }
    let e = currentErrno
    guard e == .fileExists else {
      throw SwipcError(category: e == .noSuchFileOrDirectory ? .notFound : e == .permissionDenied ? .permissionDenied : nil,
        call: "mkfifo", object: path, errno: e,
        reason: e == .noSuchFileOrDirectory ? "the directory does not exist" : nil)
    }
    let pin = Glibc.open(path, SWIPC_O_PATH | O_NOFOLLOW | O_CLOEXEC)
    var st = stat()
    guard pin >= 0, fstat(pin, &st) == 0 else {
      let e = currentErrno
      if pin >= 0 { closeIgnoringErrors(pin) }
      throw SwipcError(call: "mkfifo", object: path, errno: e, reason: "something exists there but cannot be examined (\(SwipcError.strerror(e)))")
    }
    closeIgnoringErrors(pin)
    guard st.st_mode & S_IFMT == S_IFIFO else {
      throw SwipcError(category: .failed, call: "mkfifo", object: path,
        reason: "\(describe(st.st_mode)) already exists there; refusing to replace it")
    }
    let existing = UInt32(st.st_mode) & 0o7777
    let owner = UserDirectory().userName(st.st_uid).map { "uid \(st.st_uid) (\($0))" } ?? "uid \(st.st_uid)"
    if st.st_uid != geteuid() {
      throw SwipcError(category: .failed, call: "mkfifo", object: path,
        reason: "a FIFO of \(owner) with mode \(octal(existing)) already exists there; refusing to use another user's FIFO (remove it, or use another path)")
    }
    if requireMode && existing != mode {
      throw SwipcError(category: .failed, call: "mkfifo", object: path,
        reason: "your FIFO with mode \(octal(existing)) already exists there, not \(octal(mode)); refusing to use it (chmod(1) it, or remove it)")
    }
    return false
  }

  /// Opens a FIFO for writing or reading, waiting (within the call's deadline) for a process to
  /// open the other end; the descriptor returned is non-blocking.
  ///
  /// Writing: an open with O_NONBLOCK fails with ENXIO while there is no reader, so the wait is a
  /// blocking open (of /proc/self/fd/N) that the call's timer interrupts. Reading: the open
  /// succeeds at once, and the wait is a poll until a writer has come.
  /// The corresponding C functions are `open`, `fstat` and `poll`.
  public static func open(path: String, forWriting: Bool, call: BlockingCall) throws(SwipcError) -> Int32 {
    let pin = Glibc.open(path, SWIPC_O_PATH | O_NOFOLLOW | O_CLOEXEC)
    if pin < 0 {
      let e = currentErrno
      throw SwipcError(category: e == .noSuchFileOrDirectory ? .notFound : e == .permissionDenied ? .permissionDenied : nil,
        call: "open", object: path, errno: e,
        reason: e == .noSuchFileOrDirectory ? "no such FIFO (create it with 'swipc pipe create \(path)')" : nil)
    }
    defer { closeIgnoringErrors(pin) }
    var st = stat()
    guard fstat(pin, &st) == 0 else { throw SwipcError(call: "fstat", object: path, errno: currentErrno) }
    guard st.st_mode & S_IFMT == S_IFIFO else {
      throw .usage("\(path) is \(describe(st.st_mode)), not a FIFO\(st.st_mode & S_IFMT == S_IFLNK ? " (swipc does not follow symbolic links to FIFOs)" : "")")
    }
    let pinned = "/proc/self/fd/\(pin)"
    let access = (forWriting ? O_WRONLY : O_RDONLY) | O_CLOEXEC | O_NOCTTY
    let peer = forWriting ? "reader" : "writer"
    let outcome = call.run { blocking -> Int32 in
      if blocking { return Glibc.open(pinned, access) }
      let fd = Glibc.open(pinned, access | O_NONBLOCK)
      if fd == -1 && errno == ENXIO { errno = EAGAIN }
      return fd
    }
    let fd: Int32
    switch outcome {
    case .done(let opened): fd = opened
    case .timedOut: throw timedOut(path, peer: peer)
    case .interrupted: throw interrupted(path, peer: peer)
    case .failed(.noSuchFileOrDirectory):
      throw SwipcError(category: .unavailable, call: "open", object: pinned,
        reason: "the FIFO \(path) is reopened through /proc/self/fd, so that a swapped path cannot redirect it: mount /proc")
    case .failed(let e):
      throw SwipcError(category: e == .permissionDenied ? .permissionDenied : nil, call: "open", object: "FIFO \(path)", errno: e)
    }
    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    if forWriting { return fd }
    // A reader that opened before any writer reads end of file at once: wait until a writer came
    // (poll reports nothing on such a descriptor until then).
    switch call.poll(fd: fd, events: Int16(POLLIN)) {
    case .done: return fd
    case .timedOut:
      closeIgnoringErrors(fd)
      throw timedOut(path, peer: peer)
    case .interrupted:
      closeIgnoringErrors(fd)
      throw interrupted(path, peer: peer)
    case .failed(let e):
      closeIgnoringErrors(fd)
      throw SwipcError(call: "poll", object: "FIFO \(path)", errno: e)
    }
  }

  static func timedOut(_ path: String, peer: String) -> SwipcError {
    SwipcError(category: .wouldBlock, call: "open", object: "FIFO \(path)", reason: "timed out: no \(peer) opened it")
  }

  static func interrupted(_ path: String, peer: String) -> SwipcError {
    SwipcError(category: .interrupted, call: "open", object: "FIFO \(path)", reason: "interrupted while waiting for a \(peer)")
  }

  static func octal(_ mode: UInt32) -> String {
    let digits = String(mode, radix: 8)
    return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
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
