import CSwipc
import Glibc
import SystemPackage

/// The mechanisms `swipc bench` measures.
public enum BenchMechanism: String, CaseIterable, Sendable {
  case pipe, fifo, msg, pmsg, shm, pshm
  case shmSpin = "shm-spin"
  case unixStream = "unix-stream"
  case unixDgram = "unix-dgram"
  case tcp
}

/// How the two processes are placed on CPUs.
public enum BenchPinning: String, Sendable, CaseIterable {
  case same, cross, none
}

/// One measured cell: a mechanism at one message size.
public struct BenchResult: Sendable {
  public var mechanism: BenchMechanism
  public var size: Int
  /// Round-trip latency in nanoseconds (ping-pong), median and 99th percentile.
  public var p50: UInt64 = 0
  public var p99: UInt64 = 0
  /// One-way throughput.
  public var bytesPerSecond: Double = 0
  public var messagesPerSecond: Double = 0
  /// Why the cell was not measured ("n/a (limit 8192, MSGMAX)"), or nil.
  public var skipped: String?
}

/// What the parent made for one cell: the resources, the peer's arguments and descriptors, and
/// how to connect and clean up.
final class BenchChannel {
  var link: BenchLink?
  var peerArguments: [String] = []
  /// Descriptors the peer gets as 3, 4, ...
  var peerDescriptors: [Int32] = []
  /// Runs after the peer started (FIFO opens, TCP accept) and returns the parent's link.
  var connect: (() throws(SwipcError) -> BenchLink)?
  var cleanups: [() -> Void] = []

  deinit {
    link = nil
    for c in cleanups.reversed() { c() }
  }
}

/// Runs cells: prepares a channel, starts the peer (swipc itself, re-executed as the hidden
/// `bench-peer` command), measures, and removes every object it made.
public struct BenchRunner {
  public var pings: Int
  public var messages: Int
  public var pinning: BenchPinning
  /// The executable to run as the peer.
  public var executable: String
  public let cpus: [Int32]

  public init(pings: Int, messages: Int, pinning: BenchPinning?, executable: String = "/proc/self/exe") {
    self.pings = pings
    self.messages = messages
    self.executable = executable
    var list = [Int32](repeating: 0, count: 1024)
    let n = Int(swipc_usable_cpus(&list, 1024))
    cpus = Array(list.prefix(n))
    self.pinning = pinning ?? (cpus.count >= 2 ? .cross : .none)
  }

  public static let warmup = 200
  nonisolated(unsafe) static var serial = 0

  /// The limit a size passes for a mechanism, as the table shows it, or nil.
  public static func limit(_ mechanism: BenchMechanism, size: Int) -> String? {
    switch mechanism {
    case .msg:
      let msgmax = Int(KernelLimits.value("kernel/msgmax") ?? 8192)
      let msgmnb = Int(KernelLimits.value("kernel/msgmnb") ?? 16384)
      if size > msgmax { return "n/a (limit \(msgmax), MSGMAX)" }
      if size > msgmnb { return "n/a (limit \(msgmnb), MSGMNB)" }
    case .pmsg:
      let max = Int(KernelLimits.value("fs/mqueue/msgsize_max") ?? 8192)
      if size > max { return "n/a (limit \(max), msgsize_max)" }
    case .unixDgram:
      let max = Int(KernelLimits.value("net/core/wmem_max") ?? 212_992) - 1024
      if size > max { return "n/a (limit \(max), wmem_max)" }
    default: break
    }
    return nil
  }

  /// Measures one cell.
  public func run(_ mechanism: BenchMechanism, size: Int) throws(SwipcError) -> BenchResult {
    var result = BenchResult(mechanism: mechanism, size: size)
    if let limit = BenchRunner.limit(mechanism, size: size) {
      result.skipped = limit
      return result
    }
    if mechanism == .shmSpin && (cpus.count < 2 || pinning == .same) {
      result.skipped = "skipped (spinning needs two CPUs; \(cpus.count < 2 ? "one is usable" : "--pin same"))"
      return result
    }
    swipc_install_bench_handlers(0)
    swipc_reset_child_exited()
    let channel = try BenchRunner.prepare(mechanism, size: size)
    let (ownCPU, peerCPU): (Int32, Int32) =
      switch pinning {
      case .none: (-1, -1)
      case .same: (cpus.first ?? -1, cpus.first ?? -1)
      case .cross: (cpus.first ?? -1, cpus.count > 1 ? cpus[1] : -1)
      }
    if ownCPU >= 0 { _ = swipc_pin_to_cpu(ownCPU) }
    let arguments = [executable, "bench-peer", mechanism.rawValue, String(size), String(pings + BenchRunner.warmup),
      String(messages), String(peerCPU)] + channel.peerArguments
    let pid = try spawn(arguments, descriptors: channel.peerDescriptors)
    BenchStop.peer = pid
    defer { BenchStop.peer = 0 }
    for fd in channel.peerDescriptors { close(fd) }
    var finished = false
    defer {
      if !finished { kill(pid, SIGTERM) }
      var status: Int32 = 0
      while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    }
    // A second's watchdog: a blocking call that missed SIGCHLD or SIGINT returns EINTR soon.
    swipc_set_alarm(1_000_000, 1_000_000)
    defer { swipc_set_alarm(0, 0) }
    let link: BenchLink
    if let made = channel.link { link = made } else { link = try channel.connect!() }
    channel.link = link

    let samples = UnsafeMutablePointer<UInt64>.allocate(capacity: max(pings, 1))
    defer { samples.deallocate() }
    for _ in 0..<BenchRunner.warmup {
      try link.send(size)
      try link.receive(size)
    }
    // A signal that lands between two calls interrupts none of them: look at the flags every
    // so often as well (a load; nothing on the data path changes).
    for i in 0..<pings {
      if i & 1023 == 0 { try BenchStop.check() }
      let start = BenchRunner.now()
      try link.send(size)
      try link.receive(size)
      samples[i] = BenchRunner.now() - start
    }
    let start = BenchRunner.now()
    for i in 0..<messages {
      if i & 1023 == 0 { try BenchStop.check() }
      try link.send(size)
    }
    try link.receive(size)
    let elapsed = Double(BenchRunner.now() - start) / 1e9
    finished = true

    // qsort sorts in place without allocating (an unspecialized Swift sort allocates in debug).
    qsort(samples, pings, MemoryLayout<UInt64>.size) { a, b in
      let x = a!.load(as: UInt64.self), y = b!.load(as: UInt64.self)
      return x < y ? -1 : x > y ? 1 : 0
    }
    let sorted = UnsafeBufferPointer(start: samples, count: pings)
    result.p50 = pings > 0 ? sorted[pings / 2] : 0
    result.p99 = pings > 0 ? sorted[min(pings - 1, pings * 99 / 100)] : 0
    result.messagesPerSecond = Double(messages) / elapsed
    result.bytesPerSecond = Double(messages) * Double(size) / elapsed
    return result
  }

  @inline(__always)
  static func now() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
  }

  func spawn(_ arguments: [String], descriptors: [Int32]) throws(SwipcError) -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    for (i, fd) in descriptors.enumerated() { posix_spawn_file_actions_adddup2(&actions, fd, Int32(3 + i)) }
    var pid: pid_t = 0
    let r = ChildProcess.withCStrings(arguments) { argv in posix_spawn(&pid, argv[0]!, &actions, nil, argv, environ) }
    guard r == 0 else { throw SwipcError(call: "posix_spawn", object: "bench peer", errno: Errno(rawValue: r)) }
    return pid
  }

  /// Makes the objects of one cell.
  static func prepare(_ mechanism: BenchMechanism, size: Int) throws(SwipcError) -> BenchChannel {
    let channel = BenchChannel()
    serial += 1
    let unique = "swipc-bench-\(getpid())-\(serial)"
    func fail(_ call: String) -> SwipcError { SwipcError(call: call, object: "bench \(mechanism.rawValue)", errno: currentErrno) }
    switch mechanism {
    case .pipe:
      var toPeer: [Int32] = [0, 0]
      var toClient: [Int32] = [0, 0]
      guard swipc_pipe_cloexec(&toPeer) == 0, swipc_pipe_cloexec(&toClient) == 0 else { throw fail("pipe2") }
      channel.link = StreamLink(input: toClient[0], output: toPeer[1], capacity: size)
      channel.peerDescriptors = [toPeer[0], toClient[1]]
    case .unixStream, .unixDgram:
      var pair: [Int32] = [0, 0]
      let type: Int32 = (mechanism == .unixStream ? 1 : 2) | 0o2000000  // SOCK_CLOEXEC
      guard socketpair(AF_UNIX, type, 0, &pair) == 0 else { throw fail("socketpair") }
      if mechanism == .unixDgram {
        var buffer = Int32(min(size * 4 + 4096, 212_992))
        for fd in pair {
          setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer, socklen_t(MemoryLayout<Int32>.size))
          setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, socklen_t(MemoryLayout<Int32>.size))
        }
        channel.link = DatagramLink(fd: pair[0], capacity: size)
      } else {
        channel.link = StreamLink(input: pair[0], output: pair[0], capacity: size)
      }
      channel.peerDescriptors = [pair[1]]
    case .fifo:
      // In $TMPDIR when it is set, as mkdtemp(1) and other tools do.
      let tmp = getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
      var template = Array("\(tmp)/\(unique)-XXXXXX".utf8CString)
      guard let made = mkdtemp(&template) else { throw fail("mkdtemp") }
      let dir = String(cString: made)
      let a = dir + "/to-peer", b = dir + "/to-client"
      guard mkfifo(a, 0o600) == 0, mkfifo(b, 0o600) == 0 else { throw fail("mkfifo") }
      channel.cleanups.append { unlink(a); unlink(b); rmdir(dir) }
      channel.peerArguments = [a, b]
      channel.connect = { () throws(SwipcError) in
        let output = try BenchStop.retry("open") { Int(open(a, O_WRONLY | O_CLOEXEC)) }
        let input = try BenchStop.retry("open") { Int(open(b, O_RDONLY | O_CLOEXEC)) }
        return StreamLink(input: Int32(input), output: Int32(output), capacity: size)
      }
    case .msg:
      let id = msgget(IPC_PRIVATE, IPC_CREAT | 0o600)
      guard id >= 0 else { throw fail("msgget") }
      channel.cleanups.append { _ = msgctl(id, IPC_RMID, nil) }
      channel.link = SysVQueueLink(id: id, outType: 1, inType: 2, capacity: size)
      channel.peerArguments = [String(id)]
    case .pmsg:
      var attributes = mq_attr()
      attributes.mq_maxmsg = min(10, Int(KernelLimits.value("fs/mqueue/msg_max") ?? 10))
      attributes.mq_msgsize = max(size, 1)
      var queues: [mqd_t] = []
      for name in ["/\(unique)-a", "/\(unique)-b"] {
        let q = swipc_mq_open(name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0o600, &attributes)
        guard q != -1 else {
          let e = fail("mq_open")
          for q in queues { mq_close(q) }
          throw e
        }
        channel.cleanups.append { mq_unlink(name) }
        queues.append(q)
      }
      channel.link = POSIXQueueLink(output: queues[0], input: queues[1], capacity: max(size, 1))
      channel.peerArguments = ["/\(unique)-a", "/\(unique)-b"]
    case .shm:
      let id = shmget(IPC_PRIVATE, 2 * max(size, 1), IPC_CREAT | 0o600)
      guard id >= 0 else { throw fail("shmget") }
      channel.cleanups.append { _ = shmctl(id, IPC_RMID, nil) }
      let sem = semget(IPC_PRIVATE, 4, IPC_CREAT | 0o600)
      guard sem >= 0 else { throw fail("semget") }
      channel.cleanups.append { _ = swipc_semctl_rmid(sem) }
      var values: [UInt16] = [0, 1, 0, 1]
      guard swipc_semctl_setall(sem, &values) == 0 else { throw fail("semctl(SETALL)") }
      guard let base = shmat(id, nil, 0), base != UnsafeMutableRawPointer(bitPattern: -1) else { throw fail("shmat") }
      channel.cleanups.append { _ = shmdt(base) }
      channel.link = SharedMemoryLink(semaphores: .systemV(id: sem), slots: base, capacity: max(size, 1), client: true)
      channel.peerArguments = [String(id), String(sem)]
    case .pshm, .shmSpin:
      let name = "/\(unique)"
      let header = mechanism == .pshm ? 4 * 64 : SpinLink.headerSize()
      let length = header + 2 * max(size, 1)
      let fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0o600)
      guard fd >= 0 else { throw fail("shm_open") }
      channel.cleanups.append { shm_unlink(name) }
      defer { close(fd) }
      guard ftruncate(fd, off_t(length)) == 0 else { throw fail("ftruncate") }
      // Pages allocated now: a full /dev/shm is ENOSPC here, not SIGBUS on the first store.
      try SharedMemoryMapping.reservePages(fd, offset: 0, count: length, object: "bench \(mechanism.rawValue)")
      guard let base = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), base != MAP_FAILED else {
        throw fail("mmap")
      }
      channel.cleanups.append { munmap(base, length) }
      if mechanism == .pshm {
        // Each sem_t on a cache line of its own: 4 x 64 bytes hold 4 sem_t of 32 bytes.
        precondition(MemoryLayout<sem_t>.stride <= 64)
        for (i, value) in [0, 1, 0, 1].enumerated() {
          sem_init((base + i * 64).assumingMemoryBound(to: sem_t.self), 1, UInt32(value))
        }
        channel.link = PosixSharedMemory.link(base: base, capacity: max(size, 1), client: true)
      } else {
        channel.link = SpinLink(segment: base, capacity: max(size, 1), client: true)
      }
      channel.peerArguments = [name, String(length)]
    case .tcp:
      let listener = socket(AF_INET, 1 | 0o2000000, 0)
      guard listener >= 0 else { throw fail("socket") }
      channel.cleanups.append { close(listener) }
      let address = SocketAddress.tcp(host: "127.0.0.1", port: 0)
      guard address.withSockaddr({ bind(listener, $0, $1) }) == 0, listen(listener, 1) == 0 else { throw fail("bind") }
      var bound = sockaddr_in()
      var length = socklen_t(MemoryLayout<sockaddr_in>.size)
      _ = withUnsafeMutablePointer(to: &bound) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
      }
      channel.peerArguments = [String(UInt16(bigEndian: bound.sin_port))]
      channel.connect = { () throws(SwipcError) in
        let fd = Int32(try BenchStop.retry("accept") { Int(accept(listener, nil, nil)) })
        PosixSharedMemory.noDelay(fd)
        return StreamLink(input: fd, output: fd, capacity: size)
      }
    }
    return channel
  }
}

/// Helpers shared by the two sides.
enum PosixSharedMemory {
  /// The link over a POSIX segment whose first 256 bytes hold four `sem_t`, 64 bytes apart.
  static func link(base: UnsafeMutableRawPointer, capacity: Int, client: Bool) -> BenchLink {
    SharedMemoryLink(semaphores: .posixSpaced(base), slots: base + 4 * 64, capacity: capacity, client: client)
  }

  static func noDelay(_ fd: Int32) {
    var one: Int32 = 1
    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
  }
}

/// The peer side of a cell: `swipc bench-peer MECHANISM SIZE PINGS MESSAGES CPU ARGS...`.
/// It answers every ping, takes the stream of messages, and sends one acknowledgement.
public enum BenchPeer {
  public static func run(_ arguments: [String]) throws(SwipcError) {
    guard arguments.count >= 5, let mechanism = BenchMechanism(rawValue: arguments[0]),
      let size = Int(arguments[1]), let pings = Int(arguments[2]), let messages = Int(arguments[3]),
      let cpu = Int32(arguments[4])
    else { throw .usage("bench-peer is run by 'swipc bench' itself") }
    let extra = Array(arguments.dropFirst(5))
    swipc_install_bench_handlers(1)
    if getppid() == 1 { throw SwipcError(category: .failed, call: "", object: "bench peer", reason: "the parent is gone") }
    if cpu >= 0 { _ = swipc_pin_to_cpu(cpu) }
    swipc_set_alarm(1_000_000, 1_000_000)
    defer { swipc_set_alarm(0, 0) }
    let link = try makeLink(mechanism, size: size, extra)
    for i in 0..<pings {
      if i & 1023 == 0 { try BenchStop.check() }
      try link.receive(size)
      try link.send(size)
    }
    for i in 0..<messages {
      if i & 1023 == 0 { try BenchStop.check() }
      try link.receive(size)
    }
    try link.send(size)
  }

  static func makeLink(_ mechanism: BenchMechanism, size: Int, _ extra: [String]) throws(SwipcError) -> BenchLink {
    func fail(_ call: String) -> SwipcError { SwipcError(call: call, object: "bench peer", errno: currentErrno) }
    func argument(_ i: Int) throws(SwipcError) -> String {
      guard i < extra.count else { throw .usage("bench-peer: missing argument") }
      return extra[i]
    }
    let capacity = max(size, 1)
    switch mechanism {
    case .pipe: return StreamLink(input: 3, output: 4, capacity: capacity)
    case .unixStream: return StreamLink(input: 3, output: 3, capacity: capacity)
    case .unixDgram: return DatagramLink(fd: 3, capacity: capacity)
    case .fifo:
      let a = try argument(0), b = try argument(1)
      let input = try BenchStop.retry("open") { Int(open(a, O_RDONLY | O_CLOEXEC)) }
      let output = try BenchStop.retry("open") { Int(open(b, O_WRONLY | O_CLOEXEC)) }
      return StreamLink(input: Int32(input), output: Int32(output), capacity: capacity)
    case .msg:
      guard let id = Int32(try argument(0)) else { throw .usage("bench-peer: bad id") }
      return SysVQueueLink(id: id, outType: 2, inType: 1, capacity: capacity)
    case .pmsg:
      let input = swipc_mq_open(try argument(0), O_RDONLY | O_CLOEXEC, 0, nil)
      guard input != -1 else { throw fail("mq_open") }
      let output = swipc_mq_open(try argument(1), O_WRONLY | O_CLOEXEC, 0, nil)
      guard output != -1 else { throw fail("mq_open") }
      return POSIXQueueLink(output: output, input: input, capacity: capacity)
    case .shm:
      guard let id = Int32(try argument(0)), let sem = Int32(try argument(1)) else { throw .usage("bench-peer: bad id") }
      guard let base = shmat(id, nil, 0), base != UnsafeMutableRawPointer(bitPattern: -1) else { throw fail("shmat") }
      return SharedMemoryLink(semaphores: .systemV(id: sem), slots: base, capacity: capacity, client: false)
    case .pshm, .shmSpin:
      guard let length = Int(try argument(1)) else { throw .usage("bench-peer: bad length") }
      let fd = shm_open(try argument(0), O_RDWR | O_CLOEXEC, 0)
      guard fd >= 0 else { throw fail("shm_open") }
      defer { close(fd) }
      guard let base = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), base != MAP_FAILED else {
        throw fail("mmap")
      }
      return mechanism == .pshm
        ? PosixSharedMemory.link(base: base, capacity: capacity, client: false)
        : SpinLink(segment: base, capacity: capacity, client: false)
    case .tcp:
      guard let port = UInt16(try argument(0)) else { throw .usage("bench-peer: bad port") }
      let fd = socket(AF_INET, 1 | 0o2000000, 0)
      guard fd >= 0 else { throw fail("socket") }
      let address = SocketAddress.tcp(host: "127.0.0.1", port: port)
      _ = try BenchStop.retry("connect") { Int(address.withSockaddr { connect(fd, $0, $1) }) }
      PosixSharedMemory.noDelay(fd)
      return StreamLink(input: fd, output: fd, capacity: capacity)
    }
  }
}
