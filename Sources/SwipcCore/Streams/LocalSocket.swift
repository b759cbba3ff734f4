import CSwipc
import Glibc
import SystemPackage

/// Who is at the other end of a connection or sent a datagram: SO_PEERCRED or SCM_CREDENTIALS
/// for unix sockets, the address for TCP.
public struct SocketPeer: Sendable, Equatable {
  public var pid: Int32?
  public var uid: UInt32?
  public var gid: UInt32?
  public var address: String?
}

/// A bound socket: `sock listen`. Removes the socket file it made when it is released.
public final class SocketListener {
  public let address: SocketAddress
  public let kind: SocketAddress.Kind
  let fd: Int32
  /// The directory of a path address, opened once (O_PATH): the stale file's check and removal,
  /// and the removal on exit, go through it, never through the path again.
  var directory: SocketDirectory?
  /// The inode of the socket file this listener made, to remove on exit only if still ours.
  var madeFile: (device: UInt64, inode: UInt64)?
  /// Set when a stale socket file was removed before binding.
  public private(set) var replacedStale = false

  /// Binds (and for stream and seqpacket, listens on) `address`. A socket file that is in the
  /// way is replaced only when it is a socket, owned by this user (or root runs this), and no
  /// one answers a connect on it; anything else is refused.
  ///
  /// The corresponding C functions are `socket`, `bind` and `listen`.
  public init(address: SocketAddress, kind: SocketAddress.Kind, mode: UInt32) throws(SwipcError) {
    self.address = address
    self.kind = kind
    if case .tcp = address, kind == .seqpacket {
      throw .usage("seqpacket sockets are unix sockets: use a path or @name, or --type stream|dgram for tcp:")
    }
    let fd = socket(address.family, kind.rawType | SocketAddress.Kind.flags, 0)
    guard fd >= 0 else { throw SwipcError(call: "socket", object: address.description, errno: currentErrno) }
    self.fd = fd
    if case .tcp = address {
      var one: Int32 = 1
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    }
    if address.isUnix && kind == .dgram {
      var one: Int32 = 1
      setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, socklen_t(MemoryLayout<Int32>.size))
    }
    if case .path(let path) = address {
      do throws(SwipcError) {
        let directory = try SocketDirectory(path: path)
        self.directory = directory
        try clearStale(path, in: directory)
      } catch {
        close(fd)
        throw error
      }
    }
    let bound = POSIXObjects.withMask(0o777 & ~mode) {
      address.withSockaddr { Glibc.bind(fd, $0, $1) }
    }
    guard bound == 0 else {
      let e = currentErrno
      close(fd)
      throw SwipcError(
        category: e == .permissionDenied ? .permissionDenied : e == .noSuchFileOrDirectory ? .notFound : .failed,
        call: "bind", object: address.description, errno: e,
        reason: e == .addressInUse ? "the address is in use: another process listens there"
          : e == .noSuchFileOrDirectory ? "the directory does not exist" : nil)
    }
    if let directory, let st = directory.status() { madeFile = (UInt64(st.st_dev), UInt64(st.st_ino)) }
    if kind != .dgram && Glibc.listen(fd, 128) != 0 {
      let e = currentErrno
      close(fd)
      throw SwipcError(call: "listen", object: address.description, errno: e)
    }
  }

  deinit {
    close(fd)
    if let made = madeFile, let directory { _ = directory.remove(device: made.device, inode: made.inode) }
  }

  /// The port a `tcp:HOST:0` listener was given, or nil.
  public var boundPort: UInt16? {
    guard case .tcp = address else { return nil }
    var addr = sockaddr_in()
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let r = withUnsafeMutablePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return r == 0 ? UInt16(bigEndian: addr.sin_port) : nil
  }

  func clearStale(_ path: String, in directory: SocketDirectory) throws(SwipcError) {
    guard let st = directory.status() else { return }
    guard st.st_mode & S_IFMT == S_IFSOCK else {
      throw SwipcError(category: .failed, call: "bind", object: path,
        reason: "\(FIFO.describe(st.st_mode)) is in the way; refusing to replace it")
    }
    guard st.st_uid == geteuid() || geteuid() == 0 else {
      throw SwipcError(category: .permissionDenied, call: "bind", object: path,
        reason: "a socket file of uid \(st.st_uid) is in the way; only its owner or root may replace it")
    }
    // Live if a connect of any type succeeds; stale only if every one is refused (or finds the
    // other type); anything else leaves it unknown, and it stays. The probe reaches the file
    // through the directory's descriptor where that fits in sun_path; the removal below checks
    // the inode in any case.
    let pinned = directory.pinnedPath
    let probeAddress = SocketAddress.path(pinned.utf8.count <= SocketAddress.maxPathLength ? pinned : path)
    for probeKind in SocketAddress.Kind.allCases {
      let probe = socket(AF_UNIX, probeKind.rawType | SocketAddress.Kind.flags, 0)
      guard probe >= 0 else { throw SwipcError(call: "socket", object: path, errno: currentErrno) }
      let r = probeAddress.withSockaddr { Glibc.connect(probe, $0, $1) }
      let e = currentErrno
      close(probe)
      if r == 0 || e == .resourceTemporarilyUnavailable || e == .nowInProgress {
        throw SwipcError(category: .failed, call: "bind", object: path,
          reason: "a process is listening on this socket (\(probeKind.rawValue)); refusing to take it over")
      }
      guard e == .connectionRefused || e == .protocolWrongTypeForSocket else {
        throw SwipcError(category: .failed, call: "connect to", object: path, errno: e,
          reason: "cannot tell whether a process listens on the socket file in the way (\(SwipcError.strerror(e))); it was left alone")
      }
    }
    guard directory.remove(device: UInt64(st.st_dev), inode: UInt64(st.st_ino)) else {
      throw SwipcError(category: .failed, call: "unlink", object: path,
        reason: "the stale socket file changed while it was checked, or cannot be removed (\(SwipcError.strerror(currentErrno))); nothing was removed")
    }
    replacedStale = true
  }

  /// Serves connections (stream, seqpacket) or datagrams until `count` of them (nil: until
  /// interrupted). Each one's data goes to `onData`; with `echo` it is sent back.
  ///
  /// - Returns: how many were served.
  /// The corresponding C functions are `accept4`, `recvmsg` and `send`.
  public func serve(
    count: Int?, echo: Bool, call: BlockingCall, onPeer: (SocketPeer) -> Void,
    onData: (UnsafeRawBufferPointer) throws(SwipcError) -> Void
  ) throws(SwipcError) -> Int {
    var served = 0
    let capacity = 1 << 18
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    defer { buffer.deallocate() }
    let label = "socket \(address)"
    while count.map({ served < $0 }) ?? true {
      if kind == .dgram {
        var peer = SocketPeer()
        let n = try receiveDatagram(buffer, capacity: capacity, peer: &peer, call: call)
        onPeer(peer)
        try onData(UnsafeRawBufferPointer(start: buffer, count: n))
        if echo, let reply = lastSender {
          _ = reply.withUnsafeBytes { raw in
            Glibc.sendto(fd, buffer, n, Int32(MSG_NOSIGNAL), raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(raw.count))
          }
        }
      } else {
        let outcome = call.nonBlocking(fd: fd, events: Int16(POLLIN)) {
          Int(swipc_accept(fd))
        }
        let connection = try SocketConnection.check(outcome, call: "accept on", label: label)
        defer { close(Int32(connection)) }
        onPeer(SocketConnection.peer(of: Int32(connection), family: address.family))
        let end = StreamEnd(fd: Int32(connection), nonBlocking: true, label: "connection on \(address)")
        while true {
          let n = try StreamCopy.read(end, into: buffer, capacity: capacity, call: call, copied: 0)
          if n == 0 { break }
          try onData(UnsafeRawBufferPointer(start: buffer, count: n))
          if echo {
            let sent = Result { () throws(SwipcError) in
              try StreamCopy.write(UnsafeRawBufferPointer(start: buffer, count: n), to: end, call: call, copied: 0)
            }
            if case .failure(let e) = sent, e.category == .interrupted || e.category == .wouldBlock { throw e }
          }
        }
      }
      served += 1
    }
    return served
  }

  var lastSender: [UInt8]?

  func receiveDatagram(_ buffer: UnsafeMutableRawPointer, capacity: Int, peer: inout SocketPeer, call: BlockingCall)
    throws(SwipcError) -> Int
  {
    var from = sockaddr_storage()
    var fromLength = socklen_t(0)
    var pid: Int32 = -1
    var uid: UInt32 = 0
    var gid: UInt32 = 0
    let outcome = call.nonBlocking(fd: fd, events: Int16(POLLIN)) {
      swipc_receive_datagram(fd, buffer, UInt(capacity), &from, &fromLength, &pid, &uid, &gid)
    }
    let n = try SocketConnection.check(outcome, call: "receive on", label: "socket \(address)")
    lastSender = fromLength > socklen_t(MemoryLayout<sa_family_t>.size)
      ? withUnsafeBytes(of: &from) { Array($0.prefix(Int(fromLength))) } : nil
    if address.isUnix {
      if pid >= 0 { peer = SocketPeer(pid: pid, uid: uid, gid: gid) }
    } else {
      peer.address = SocketConnection.describe(&from)
    }
    return n
  }
}

/// The client side: `sock send`.
public enum SocketConnection {
  /// Connects to `address` within the call's deadline; returns a non-blocking descriptor. A
  /// datagram client binds to an automatic abstract address first, so that a reply can reach it.
  ///
  /// The corresponding C functions are `socket`, `connect` and `getsockopt(SO_ERROR)`.
  public static func connect(to address: SocketAddress, kind: SocketAddress.Kind, call: BlockingCall)
    throws(SwipcError) -> Int32
  {
    // A path is resolved once, without following a link at its end, and must be a socket; the
    // connect then reaches that inode through /proc/self/fd (a link planted there by another
    // user cannot send this process's data, root's say, to a socket of their choosing).
    var pin: Int32 = -1
    defer { if pin >= 0 { closeIgnoringErrors(pin) } }
    var target = address
    if case .path(let path) = address {
      pin = Glibc.open(path, SWIPC_O_PATH | O_NOFOLLOW | O_CLOEXEC)
      guard pin >= 0 else {
        let e = currentErrno
        if e == .noSuchFileOrDirectory {
          throw SwipcError(category: .notFound, call: "connect to", object: path, reason: "no such socket")
        }
        throw SwipcError(call: "open", object: path, errno: e)
      }
      var st = stat()
      guard fstat(pin, &st) == 0 else { throw SwipcError(call: "fstat", object: path, errno: currentErrno) }
      guard st.st_mode & S_IFMT == S_IFSOCK else {
        throw SwipcError(category: .failed, call: "connect to", object: path,
          reason: "\(FIFO.describe(st.st_mode)) is there, not a socket\(st.st_mode & S_IFMT == S_IFLNK ? " (swipc does not follow symbolic links to sockets)" : "")")
      }
      target = .path("/proc/self/fd/\(pin)")
    }
    let fd = socket(address.family, kind.rawType | SocketAddress.Kind.flags, 0)
    guard fd >= 0 else { throw SwipcError(call: "socket", object: address.description, errno: currentErrno) }
    if kind == .dgram && address.isUnix {
      var local = sockaddr_un()
      local.sun_family = sa_family_t(AF_UNIX)
      _ = withUnsafePointer(to: &local) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sa_family_t>.size)) }
      }
    }
    var r = target.withSockaddr { Glibc.connect(fd, $0, $1) }
    var e = currentErrno
    if r != 0 && (e == .nowInProgress || e == .resourceTemporarilyUnavailable) {
      // In progress (TCP), or a unix listener's backlog is full: wait until writable.
      switch call.poll(fd: fd, events: Int16(POLLOUT)) {
      case .done:
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        if error == 0 { r = 0 } else { e = Errno(rawValue: error) }
        if error == EAGAIN {
          // The backlog was full when polled; one more plain attempt.
          r = target.withSockaddr { Glibc.connect(fd, $0, $1) }
          e = currentErrno
        }
      case .timedOut:
        close(fd)
        throw SwipcError(category: .wouldBlock, call: "connect to", object: address.description, reason: "timed out")
      case .interrupted:
        close(fd)
        throw SwipcError(category: .interrupted, call: "connect to", object: address.description, reason: "interrupted")
      case .failed(let pe): e = pe
      }
    }
    guard r == 0 else {
      close(fd)
      switch e {
      case .noSuchFileOrDirectory where pin >= 0:
        throw SwipcError(category: .unavailable, call: "connect to", object: address.description,
          reason: "the socket is reached through /proc/self/fd, so that a swapped path cannot redirect it: mount /proc")
      case .noSuchFileOrDirectory:
        throw SwipcError(category: .notFound, call: "connect to", object: address.description, reason: "no such socket")
      case .connectionRefused:
        throw SwipcError(category: .notFound, call: "connect to", object: address.description, reason: "nobody is listening there")
      case .permissionDenied, .notPermitted:
        throw SwipcError(category: .permissionDenied, call: "connect to", object: address.description,
          reason: "permission denied (a unix socket needs write permission on its file)")
      case .protocolWrongTypeForSocket:
        throw SwipcError(category: .failed, call: "connect to", object: address.description,
          reason: "the socket there is not a \(kind.rawValue) socket: give --type \(kind == .stream ? "dgram or seqpacket" : "stream or the other type")")
      default:
        throw SwipcError(call: "connect to", object: address.description, errno: e)
      }
    }
    return fd
  }

  static func check(_ outcome: BlockingCall.Outcome<Int>, call: String, label: String) throws(SwipcError) -> Int {
    switch outcome {
    case .done(let n): return n
    case .timedOut: throw SwipcError(category: .wouldBlock, call: call, object: label, reason: "timed out")
    case .interrupted: throw SwipcError(category: .interrupted, call: call, object: label, reason: "interrupted")
    case .failed(let e): throw SwipcError(call: call, object: label, errno: e)
    }
  }

  /// The credentials (unix) or address (TCP) of a connected socket's peer.
  ///
  /// The corresponding C function is `getsockopt(SO_PEERCRED)`.
  public static func peer(of fd: Int32, family: Int32) -> SocketPeer {
    if family == AF_UNIX {
      var pid: Int32 = 0
      var uid: UInt32 = 0
      var gid: UInt32 = 0
      guard swipc_peer_credentials(fd, &pid, &uid, &gid) == 0 else { return SocketPeer() }
      return SocketPeer(pid: pid, uid: uid, gid: gid)
    }
    var storage = sockaddr_storage()
    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
    let r = withUnsafeMutablePointer(to: &storage) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) }
    }
    return SocketPeer(address: r == 0 ? describe(&storage) : nil)
  }

  static func describe(_ storage: inout sockaddr_storage) -> String? {
    guard storage.ss_family == sa_family_t(AF_INET) else { return nil }
    return withUnsafeBytes(of: &storage) { raw in
      let a = raw.load(as: sockaddr_in.self)
      var text = [CChar](repeating: 0, count: 32)
      var address = a.sin_addr
      inet_ntop(AF_INET, &address, &text, 32)
      let host = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
      return "\(host):\(UInt16(bigEndian: a.sin_port))"
    }
  }
}

/// The directory of a socket path, opened once with O_PATH, and the file's name in it: what
/// `sock listen` checks and removes there goes through this descriptor, so a directory swapped
/// for a link after the check cannot redirect the removal, and a link at the name is never followed.
final class SocketDirectory {
  let fd: Int32
  let name: String

  init(path: String) throws(SwipcError) {
    let slash = path.lastIndex(of: "/")
    let dir = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
    name = slash.map { String(path[path.index(after: $0)...]) } ?? path
    guard !name.isEmpty, name != ".", name != ".." else {
      throw .usage("invalid socket path '\(path)': it must end in a file name")
    }
    let fd = open(dir, SWIPC_O_PATH | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else {
      let e = currentErrno
      throw SwipcError(category: e == .noSuchFileOrDirectory ? .notFound : nil, call: "open", object: dir, errno: e,
        reason: e == .noSuchFileOrDirectory ? "the directory does not exist" : nil)
    }
    self.fd = fd
  }

  deinit { closeIgnoringErrors(fd) }

  /// The file, reached through the directory's descriptor: `/proc/self/fd/N/NAME`.
  var pinnedPath: String { "/proc/self/fd/\(fd)/\(name)" }

  /// fstatat of the name without following a link; nil when nothing is there.
  func status() -> stat? {
    var st = stat()
    return fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? st : nil
  }

  /// Removes the name if it still is the socket file `device`/`inode`; false (errno set) if not.
  ///
  /// The corresponding C function is `unlinkat`.
  func remove(device: UInt64, inode: UInt64) -> Bool {
    guard let st = status(), st.st_mode & S_IFMT == S_IFSOCK, UInt64(st.st_dev) == device, UInt64(st.st_ino) == inode
    else {
      errno = ESTALE
      return false
    }
    return unlinkat(fd, name, 0) == 0
  }
}
