import CSwipc
import Glibc
import SwipcCore
import SystemPackage

/// The mechanisms `swipc bench` measures, in the order the table lists them.
public enum BenchMechanism: String, CaseIterable, Sendable {
  case pipe, fifo, msg, pmsg, shm, pshm
  case shmSpin = "shm-spin"
  case shmFutex = "shm-futex"
  case unixStream = "unix-stream"
  case unixDgram = "unix-dgram"
  case tcp

  /// Whether `--slots` sizes its rings.
  public var usesSlots: Bool { entry.usesSlots }

  var entry: BenchMechanismEntry { BenchMechanismEntry.table[self]! }
}

/// One cell's shape, as both processes see it.
struct BenchCell {
  var mechanism: BenchMechanism
  var size: Int
  /// Ring slots per direction (1 for mechanisms without rings).
  var slots: Int

  var capacity: Int { max(size, 1) }
  /// Names of the peer's objects: each cell has a peer process of its own.
  var unique: String { "swipc-bench-\(getpid())" }

  func fail(_ call: String) -> SwipcError {
    SwipcError(call: call, object: "bench \(mechanism.rawValue)", errno: Errno(rawValue: errno))
  }
}

/// What one process holds for a cell. The peer makes every object that outlives a process (so
/// that, with PR_SET_PDEATHSIG, whatever kills the parent finds a peer that removes them); the
/// parent makes only descriptors.
final class BenchSide {
  var link: BenchLink?
  /// Peer to parent: the ids and names of the peer's objects, sent as one line.
  var handles: [String] = []
  /// Parent to peer: descriptors the peer gets as `peerDescriptor`, ... (3 is the line of
  /// handles, 4 the parent's `done` pipe).
  var descriptors: [Int32] = []
  static let peerDescriptor: Int32 = 5
  /// Peer: run once the parent sent its first message, so holds every object: names go then.
  var onceBothHold: [() -> Void] = []
  /// Run when the side is done, last first.
  var cleanups: [() -> Void] = []
  /// Parent: what to remove when the peer was killed (SIGKILL) before it could.
  var ifPeerKilled: [() -> Void] = []

  func bothHold() {
    for action in onceBothHold { action() }
    onceBothHold = []
  }

  /// Closes the link and runs what is left to do; called once, explicitly (not from deinit, which
  /// may run as soon as the last use of the side, before the messages are through).
  func finish() {
    link = nil
    bothHold()
    for cleanup in cleanups.reversed() { cleanup() }
    cleanups = []
  }
}

/// One row of the table of mechanisms: how each process makes its side of a cell. Adding a
/// mechanism is a case of `BenchMechanism` and a row here (and its counterpart in
/// Benchmarks/benchref.c).
struct BenchMechanismEntry {
  typealias Make = (BenchCell, BenchSide) throws(SwipcError) -> Void
  typealias Connect = (BenchCell, BenchSide) throws(SwipcError) -> BenchLink

  var usesSlots = false
  var needsTwoCPUs = false
  /// The limit a cell passes, as the table shows it ("n/a (limit 8192, MSGMAX)"), or nil.
  var limit: (BenchCell) -> String? = { _ in nil }
  /// Parent, before the peer starts: descriptors only; may set the parent's link.
  var parent: Make = { _, _ in }
  /// Peer, first: makes the objects, fills `handles`; may set the peer's link.
  var peer: Make = { _, _ in }
  /// Parent, with the peer's `handles`: opens or attaches what the peer made.
  var connectParent: Connect? = nil
  /// Peer, after sending its handles: the opens that wait for the parent.
  var connectPeer: Connect? = nil

  // Built once and never changed.
  nonisolated(unsafe) static let table: [BenchMechanism: BenchMechanismEntry] = [
    .pipe: BenchMechanismEntry(parent: { cell, side throws(SwipcError) in
      var toPeer: [Int32] = [0, 0]
      var toClient: [Int32] = [0, 0]
      guard swipc_pipe_cloexec(&toPeer) == 0 else { throw cell.fail("pipe2") }
      guard swipc_pipe_cloexec(&toClient) == 0 else {
        let e = cell.fail("pipe2")
        close(toPeer[0]); close(toPeer[1])
        throw e
      }
      side.link = StreamLink(input: toClient[0], output: toPeer[1], capacity: cell.capacity)
      side.descriptors = [toPeer[0], toClient[1]]
    }, peer: { cell, side in side.link = StreamLink(input: BenchSide.peerDescriptor, output: BenchSide.peerDescriptor + 1, capacity: cell.capacity) }),

    .fifo: BenchMechanismEntry(peer: { cell, side throws(SwipcError) in
      // In $TMPDIR when it is set, as mkdtemp(1) and other tools do.
      let tmp = getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
      var template = Array("\(tmp)/\(cell.unique)-XXXXXX".utf8CString)
      guard let made = mkdtemp(&template) else { throw cell.fail("mkdtemp") }
      let dir = String(cString: made)
      let a = dir + "/to-peer", b = dir + "/to-client"
      side.onceBothHold.append { unlink(a); unlink(b); rmdir(dir) }
      guard mkfifo(a, 0o600) == 0, mkfifo(b, 0o600) == 0 else { throw cell.fail("mkfifo") }
      side.handles = [a, b]
    }, connectParent: { cell, side throws(SwipcError) in
      let output = try BenchStop.retry("open") { Int(open(side.handles[0], O_WRONLY | O_CLOEXEC | O_NOFOLLOW)) }
      let input = try BenchStop.retry("open") { Int(open(side.handles[1], O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) }
      return StreamLink(input: Int32(input), output: Int32(output), capacity: cell.capacity)
    }, connectPeer: { cell, side throws(SwipcError) in
      let input = try BenchStop.retry("open") { Int(open(side.handles[0], O_RDONLY | O_CLOEXEC)) }
      let output = try BenchStop.retry("open") { Int(open(side.handles[1], O_WRONLY | O_CLOEXEC)) }
      side.bothHold()  // both opens returned: the parent has both ends too
      return StreamLink(input: Int32(input), output: Int32(output), capacity: cell.capacity)
    }),

    .msg: BenchMechanismEntry(limit: { cell in
      let msgmax = Int(KernelLimits.value("kernel/msgmax") ?? 8192)
      let msgmnb = Int(KernelLimits.value("kernel/msgmnb") ?? 16384)
      if cell.size > msgmax { return "n/a (limit \(msgmax), MSGMAX)" }
      if cell.size > msgmnb { return "n/a (limit \(msgmnb), MSGMNB)" }
      return nil
    }, peer: { cell, side throws(SwipcError) in
      let id = msgget(IPC_PRIVATE, IPC_CREAT | 0o600)
      guard id >= 0 else { throw cell.fail("msgget") }
      side.cleanups.append { _ = msgctl(id, IPC_RMID, nil) }
      side.handles = [String(id)]
      side.link = SysVQueueLink(id: id, outType: 2, inType: 1, capacity: cell.capacity)
    }, connectParent: { cell, side throws(SwipcError) in
      let id = try BenchMechanismEntry.number(side.handles, 0)
      side.ifPeerKilled.append { _ = msgctl(id, IPC_RMID, nil) }
      return SysVQueueLink(id: id, outType: 1, inType: 2, capacity: cell.capacity)
    }),

    .pmsg: BenchMechanismEntry(limit: { cell in
      let max = Int(KernelLimits.value("fs/mqueue/msgsize_max") ?? 8192)
      return cell.size > max ? "n/a (limit \(max), msgsize_max)" : nil
    }, peer: { cell, side throws(SwipcError) in
      var attributes = mq_attr()
      attributes.mq_maxmsg = min(10, Int(KernelLimits.value("fs/mqueue/msg_max") ?? 10))
      attributes.mq_msgsize = cell.capacity
      var queues: [mqd_t] = []
      for name in ["/\(cell.unique)-a", "/\(cell.unique)-b"] {
        let q = swipc_mq_open(name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0o600, &attributes)
        guard q != -1 else {
          let e = cell.fail("mq_open")
          for q in queues { mq_close(q) }
          throw e
        }
        side.onceBothHold.append { mq_unlink(name) }
        queues.append(q)
        side.handles.append(name)
      }
      side.link = POSIXQueueLink(output: queues[1], input: queues[0], capacity: cell.capacity)
    }, connectParent: { cell, side throws(SwipcError) in
      let output = swipc_mq_open(side.handles[0], O_WRONLY | O_CLOEXEC, 0, nil)
      guard output != -1 else { throw cell.fail("mq_open") }
      let input = swipc_mq_open(side.handles[1], O_RDONLY | O_CLOEXEC, 0, nil)
      guard input != -1 else {
        let e = cell.fail("mq_open")
        mq_close(output)
        throw e
      }
      return POSIXQueueLink(output: output, input: input, capacity: cell.capacity)
    }),

    .shm: BenchMechanismEntry(usesSlots: true, limit: { cell in
      let length = RingLayout(size: cell.size, slots: cell.slots, header: 0).length
      let shmmax = Int(clamping: KernelLimits.value("kernel/shmmax") ?? UInt64(Int.max))
      return length > shmmax ? "n/a (limit \(shmmax), SHMMAX)" : nil
    }, peer: { cell, side throws(SwipcError) in
      let layout = RingLayout(size: cell.size, slots: cell.slots, header: 0)
      let id = shmget(IPC_PRIVATE, layout.length, IPC_CREAT | 0o600)
      guard id >= 0 else { throw cell.fail("shmget") }
      let base = shmat(id, nil, 0)
      // Marked for removal at once: it goes with the last detach, whoever dies; Linux still
      // lets the parent attach it by id while the peer holds it.
      _ = shmctl(id, IPC_RMID, nil)
      guard let base, base != UnsafeMutableRawPointer(bitPattern: -1) else { throw cell.fail("shmat") }
      side.cleanups.append { _ = shmdt(base) }
      let sem = semget(IPC_PRIVATE, 4, IPC_CREAT | 0o600)
      guard sem >= 0 else { throw cell.fail("semget") }
      side.cleanups.append { _ = swipc_semctl_rmid(sem) }
      var values = SemaphoreRingLink.initialValues(slots: cell.slots).map { UInt16($0) }
      guard swipc_semctl_setall(sem, &values) == 0 else { throw cell.fail("semctl(SETALL)") }
      side.handles = [String(id), String(sem)]
      side.link = SemaphoreRingLink(semaphores: .systemV(id: sem), base: base, layout: layout, client: false)
    }, connectParent: { cell, side throws(SwipcError) in
      let id = try BenchMechanismEntry.number(side.handles, 0), sem = try BenchMechanismEntry.number(side.handles, 1)
      side.ifPeerKilled.append { _ = swipc_semctl_rmid(sem) }
      guard let base = shmat(id, nil, 0), base != UnsafeMutableRawPointer(bitPattern: -1) else { throw cell.fail("shmat") }
      side.cleanups.append { _ = shmdt(base) }
      let layout = RingLayout(size: cell.size, slots: cell.slots, header: 0)
      return SemaphoreRingLink(semaphores: .systemV(id: sem), base: base, layout: layout, client: true)
    }),

    .pshm: posixSegment(header: 4 * 64, sleeps: nil),
    .shmSpin: posixSegment(header: IndexRingLink.header, sleeps: false),
    .shmFutex: posixSegment(header: IndexRingLink.header, sleeps: true),

    .unixStream: BenchMechanismEntry(parent: { cell, side throws(SwipcError) in
      let pair = try socketPair(cell, type: BenchSocket.stream)
      side.link = StreamLink(input: pair[0], output: pair[0], capacity: cell.capacity)
      side.descriptors = [pair[1]]
    }, peer: { cell, side in side.link = StreamLink(input: BenchSide.peerDescriptor, output: BenchSide.peerDescriptor, capacity: cell.capacity) }),

    .unixDgram: BenchMechanismEntry(limit: { cell in
      let max = BenchSocket.bufferLimit - 1024
      return cell.size > max ? "n/a (limit \(max), wmem_max)" : nil
    }, parent: { cell, side throws(SwipcError) in
      let pair = try socketPair(cell, type: BenchSocket.datagram)
      // Room for a few datagrams (the kernel doubles what it is given), as far as wmem_max allows.
      var buffer = Int32(min(cell.size * 4 + 4096, BenchSocket.bufferLimit))
      for fd in pair {
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, socklen_t(MemoryLayout<Int32>.size))
      }
      side.link = DatagramLink(fd: pair[0], capacity: cell.capacity)
      side.descriptors = [pair[1]]
    }, peer: { cell, side in side.link = DatagramLink(fd: BenchSide.peerDescriptor, capacity: cell.capacity) }),

    .tcp: BenchMechanismEntry(parent: { cell, side throws(SwipcError) in
      let (mine, peers) = try BenchSocket.loopbackPair(cell)
      side.link = StreamLink(input: mine, output: mine, capacity: cell.capacity)
      side.descriptors = [peers]
    }, peer: { cell, side in side.link = StreamLink(input: BenchSide.peerDescriptor, output: BenchSide.peerDescriptor, capacity: cell.capacity) }),
  ]

  /// pshm (a ring with `sem_t`s in the header), shm-spin and shm-futex (rings with counters):
  /// a POSIX object made by the peer and unlinked once the parent has it mapped.
  static func posixSegment(header: Int, sleeps: Bool?) -> BenchMechanismEntry {
    func link(_ base: UnsafeMutableRawPointer, _ cell: BenchCell, client: Bool) -> BenchLink {
      let layout = RingLayout(size: cell.size, slots: cell.slots, header: header)
      guard let sleeps else {
        return SemaphoreRingLink(semaphores: .posixSpaced(base), base: base, layout: layout, client: client)
      }
      return IndexRingLink(segment: base, layout: layout, client: client, sleeps: sleeps)
    }
    func map(_ fd: Int32, _ length: Int, _ cell: BenchCell, _ side: BenchSide) throws(SwipcError) -> UnsafeMutableRawPointer {
      guard let base = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), base != MAP_FAILED else {
        throw cell.fail("mmap")
      }
      side.cleanups.append { munmap(base, length) }
      return base
    }
    return BenchMechanismEntry(usesSlots: true, needsTwoCPUs: sleeps == false, peer: { cell, side throws(SwipcError) in
      let name = "/\(cell.unique)"
      let length = RingLayout(size: cell.size, slots: cell.slots, header: header).length
      let fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0o600)
      guard fd >= 0 else { throw cell.fail("shm_open") }
      side.onceBothHold.append { shm_unlink(name) }
      defer { close(fd) }
      guard ftruncate(fd, off_t(length)) == 0 else { throw cell.fail("ftruncate") }
      // Pages allocated now: a full /dev/shm is ENOSPC here, not SIGBUS on the first store.
      try SharedMemoryMapping.reservePages(fd, offset: 0, count: length, object: "bench \(cell.mechanism.rawValue)")
      let base = try map(fd, length, cell, side)
      if sleeps == nil {
        // Each sem_t on a cache line of its own: 4 x 64 bytes hold 4 sem_t of 32 bytes.
        precondition(MemoryLayout<sem_t>.stride <= 64)
        for (i, value) in SemaphoreRingLink.initialValues(slots: cell.slots).enumerated() {
          sem_init((base + i * 64).assumingMemoryBound(to: sem_t.self), 1, UInt32(value))
        }
      }
      side.handles = [name, String(length)]
      side.link = link(base, cell, client: false)
    }, connectParent: { cell, side throws(SwipcError) in
      let length = try BenchMechanismEntry.number(side.handles, 1)
      let fd = shm_open(side.handles[0], O_RDWR | O_CLOEXEC, 0)
      guard fd >= 0 else { throw cell.fail("shm_open") }
      defer { close(fd) }
      // The object the peer made: ours and of the size it said, not one put in its place.
      var status = stat()
      guard fstat(fd, &status) == 0, status.st_uid == geteuid(), status.st_size == off_t(length) else {
        throw SwipcError(category: .failed, call: "shm_open", object: side.handles[0],
          reason: "not the object the bench peer made (owner or size differ); run bench again")
      }
      return link(try map(fd, Int(length), cell, side), cell, client: true)
    })
  }

  /// A number among the peer's handles.
  static func number(_ handles: [String], _ i: Int) throws(SwipcError) -> Int32 {
    guard i < handles.count, let n = Int32(handles[i]) else {
      throw SwipcError(category: .failed, call: "", object: "bench peer", reason: "the peer sent no usable id; run bench again")
    }
    return n
  }

  static func socketPair(_ cell: BenchCell, type: Int32) throws(SwipcError) -> [Int32] {
    var pair: [Int32] = [0, 0]
    guard socketpair(AF_UNIX, type | BenchSocket.closeOnExec, 0, &pair) == 0 else { throw cell.fail("socketpair") }
    return pair
  }
}

/// Socket constants Glibc's module leaves as enums Swift does not import as Int32.
enum BenchSocket {
  static let stream: Int32 = 1  // SOCK_STREAM
  static let datagram: Int32 = 2  // SOCK_DGRAM
  static let closeOnExec: Int32 = 0o2000000  // SOCK_CLOEXEC

  /// The largest socket buffer an unprivileged SO_SNDBUF gets.
  static var bufferLimit: Int { Int(KernelLimits.value("net/core/wmem_max") ?? 212_992) }

  /// A connected TCP pair over 127.0.0.1, made before the peer starts: the parent connects to
  /// its own listener and accepts until the connection it accepts is its own (a local user may
  /// connect to the port first), so that no other process can be the peer.
  static func loopbackPair(_ cell: BenchCell) throws(SwipcError) -> (Int32, Int32) {
    let listener = socket(AF_INET, stream | closeOnExec, 0)
    guard listener >= 0 else { throw cell.fail("socket") }
    defer { close(listener) }
    guard SocketAddress.tcp(host: "127.0.0.1", port: 0).withSockaddr({ bind(listener, $0, $1) }) == 0,
      listen(listener, 8) == 0
    else { throw cell.fail("bind") }
    func address(_ fd: Int32, peer: Bool) -> sockaddr_in {
      var a = sockaddr_in()
      var l = socklen_t(MemoryLayout<sockaddr_in>.size)
      _ = withUnsafeMutablePointer(to: &a) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { peer ? getpeername(fd, $0, &l) : getsockname(fd, $0, &l) }
      }
      return a
    }
    let port = UInt16(bigEndian: address(listener, peer: false).sin_port)
    let client = socket(AF_INET, stream | closeOnExec, 0)
    guard client >= 0 else { throw cell.fail("socket") }
    do throws(SwipcError) {
      _ = try BenchStop.retry("connect") {
        Int(SocketAddress.tcp(host: "127.0.0.1", port: port).withSockaddr { connect(client, $0, $1) })
      }
    } catch {
      close(client)
      throw error
    }
    let own = address(client, peer: false)
    while true {
      let accepted: Int
      do throws(SwipcError) { accepted = try BenchStop.retry("accept") { Int(accept(listener, nil, nil)) } } catch {
        close(client)
        throw error
      }
      let from = address(Int32(accepted), peer: true)
      if from.sin_port == own.sin_port && from.sin_addr.s_addr == own.sin_addr.s_addr {
        noDelay(client)
        noDelay(Int32(accepted))
        return (client, Int32(accepted))
      }
      close(Int32(accepted))
    }
  }

  static func noDelay(_ fd: Int32) {
    var one: Int32 = 1
    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
  }
}
