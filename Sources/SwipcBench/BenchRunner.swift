import CSwipc
import Glibc
import SwipcCore
import SystemPackage

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

  public init(mechanism: BenchMechanism, size: Int) {
    self.mechanism = mechanism
    self.size = size
  }
}

/// Runs cells: starts the peer (swipc itself, re-executed as the hidden `bench-peer` command),
/// which makes the cell's objects, measures, and leaves nothing behind.
public struct BenchRunner {
  public var pings: Int
  public var messages: Int
  public var pinning: BenchPinning
  /// Ring slots per direction for the shared-memory mechanisms; nil: `defaultSlots(size:)`.
  public var slots: Int?
  /// The executable to run as the peer.
  public var executable: String
  public let cpus: [Int32]

  public init(pings: Int, messages: Int, pinning: BenchPinning?, slots: Int? = nil, executable: String = "/proc/self/exe") {
    self.pings = pings
    self.messages = messages
    self.slots = slots
    self.executable = executable
    var list = [Int32](repeating: 0, count: 1024)
    let n = Int(swipc_usable_cpus(&list, 1024))
    cpus = Array(list.prefix(n))
    self.pinning = pinning ?? (cpus.count >= 2 ? .cross : .none)
  }

  /// Round trips before the timed ones, no more than the timed ones (16 MiB messages are slow).
  public static func warmup(pings: Int) -> Int { min(200, pings) }

  /// The round trips and one-way messages of a cell when --messages is not given: 20,000, or as
  /// many as move 256 MiB at bulk sizes (at least 16).
  public static func defaultMessages(size: Int) -> Int { min(20_000, max(16, (256 << 20) / max(size, 1))) }

  /// Slots per direction when --slots is not given: a ring of 64 KiB, as a pipe holds, so the
  /// sender runs ahead as far; at least 2 (so the two sides copy at the same time), at most 1024.
  public static func defaultSlots(size: Int) -> Int { min(1024, max(2, 65_536 / max(size, 1))) }

  /// The most --slots may be (System V semaphores count to SEMVMX, 32767).
  public static let maxSlots = 32_767

  /// The limit a size passes for a mechanism, as the table shows it, or nil.
  public func limit(_ mechanism: BenchMechanism, size: Int) -> String? {
    mechanism.entry.limit(cell(mechanism, size: size))
  }

  func cell(_ mechanism: BenchMechanism, size: Int) -> BenchCell {
    BenchCell(mechanism: mechanism, size: size, slots: mechanism.usesSlots ? slots ?? BenchRunner.defaultSlots(size: size) : 1)
  }

  /// Measures one cell.
  public func run(_ mechanism: BenchMechanism, size: Int) throws(SwipcError) -> BenchResult {
    var result = BenchResult(mechanism: mechanism, size: size)
    let entry = mechanism.entry
    let cell = cell(mechanism, size: size)
    if let limit = entry.limit(cell) {
      result.skipped = limit
      return result
    }
    if entry.needsTwoCPUs && (cpus.count < 2 || pinning == .same) {
      result.skipped = "skipped (spinning needs two CPUs; \(cpus.count < 2 ? "one is usable" : "--pin same"))"
      return result
    }
    swipc_install_bench_handlers(0)
    // A peer that died closes its channel: EPIPE and a clean stop, not death by SIGPIPE.
    signal(SIGPIPE, SIG_IGN)
    swipc_reset_child_exited()
    let side = BenchSide()
    defer { side.finish() }
    try entry.parent(cell, side)
    // The peer's handles come back through `control`; `done` tells the peer, by its end of file,
    // that the parent no longer uses the objects (or is dead), so the peer may remove them.
    var control: [Int32] = [-1, -1]
    var done: [Int32] = [-1, -1]
    guard swipc_pipe_cloexec(&control) == 0 else { throw cell.fail("pipe2") }
    defer { close(control[0]) }
    guard swipc_pipe_cloexec(&done) == 0 else {
      close(control[1])
      throw cell.fail("pipe2")
    }
    var doneOpen = true
    defer { if doneOpen { close(done[1]) } }
    BenchStop.pause(at: .spawn)
    let (ownCPU, peerCPU): (Int32, Int32) =
      switch pinning {
      case .none: (-1, -1)
      case .same: (cpus.first ?? -1, cpus.first ?? -1)
      case .cross: (cpus.first ?? -1, cpus.count > 1 ? cpus[1] : -1)
      }
    if ownCPU >= 0 { _ = swipc_pin_to_cpu(ownCPU) }
    let warmup = BenchRunner.warmup(pings: pings)
    let arguments = [executable, "bench-peer", mechanism.rawValue, String(size), String(cell.slots),
      String(pings + warmup), String(messages), String(peerCPU), String(getpid())]
    let pid: pid_t
    do {
      try BenchStop.check()
      pid = try spawn(arguments, descriptors: [control[1], done[0]] + side.descriptors)
    } catch {
      for fd in [control[1], done[0]] + side.descriptors { close(fd) }
      throw error
    }
    for fd in [control[1], done[0]] + side.descriptors { close(fd) }
    BenchStop.peer = pid
    defer { BenchStop.peer = 0 }
    var finished = false
    defer {
      if !finished {
        kill(pid, SIGTERM)
        kill(pid, SIGCONT)  // a stopped peer acts on SIGTERM only once continued
      }
      close(done[1])
      doneOpen = false
      var status: Int32 = 0
      while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
      // Killed (SIGKILL) before it could remove what it made: the ids it sent are removed here.
      if status & 0x7f != 0 && status & 0x7f != 0x7f {
        for action in side.ifPeerKilled { action() }
      }
    }
    // A second's watchdog: a blocking call that missed SIGCHLD or SIGINT returns EINTR soon.
    swipc_set_alarm(1_000_000, 1_000_000)
    defer { swipc_set_alarm(0, 0) }
    side.handles = try BenchStop.readLine(control[0])
    let link: BenchLink
    if let made = side.link { link = made } else { link = try entry.connectParent!(cell, side) }
    side.link = link

    let samples = UnsafeMutablePointer<UInt64>.allocate(capacity: max(pings, 1))
    defer { samples.deallocate() }
    for _ in 0..<warmup {
      try link.send(size)
      try link.receive(size)
    }
    try link.ping(size, count: pings, samples: samples)
    let start = BenchRunner.now()
    try link.send(size, count: messages)
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

  /// Starts the peer with `descriptors` as its 3, 4, ...
  func spawn(_ arguments: [String], descriptors: [Int32]) throws(SwipcError) -> pid_t {
    // Copies above 3...3+count first: a dup2 onto 4 must not replace a source still to be moved.
    let copies = descriptors.map { fcntl($0, F_DUPFD_CLOEXEC, Int32(3 + descriptors.count)) }
    defer { for fd in copies where fd >= 0 { close(fd) } }
    guard !copies.contains(-1) else { throw SwipcError(call: "fcntl(F_DUPFD)", object: "bench peer", errno: Errno(rawValue: errno)) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    for (i, fd) in copies.enumerated() { posix_spawn_file_actions_adddup2(&actions, fd, Int32(3 + i)) }
    var pid: pid_t = 0
    let r = ChildProcess.withCStrings(arguments) { argv in posix_spawn(&pid, argv[0]!, &actions, nil, argv, environ) }
    guard r == 0 else { throw SwipcError(call: "posix_spawn", object: "bench peer", errno: Errno(rawValue: r)) }
    return pid
  }
}

/// The peer side of a cell: `swipc bench-peer MECHANISM SIZE SLOTS PINGS MESSAGES CPU PARENT`,
/// with the parent's pipe for the handles as descriptor 3 and the parent's `done` pipe as 4. It
/// makes the cell's objects, sends their handles, answers every ping, takes the stream of
/// messages, sends one acknowledgement, waits for the parent to let go (end of file on 4) and
/// removes what it made; also when the parent dies (PR_SET_PDEATHSIG sends it SIGTERM).
public enum BenchPeer {
  /// Whether the error the peer failed with went to the parent, which prints it.
  public nonisolated(unsafe) static var reported = false

  public static func run(_ arguments: [String]) throws(SwipcError) {
    guard arguments.count == 7, let mechanism = BenchMechanism(rawValue: arguments[0]),
      let size = Int(arguments[1]), size >= 1, let slots = Int(arguments[2]), slots >= 1,
      let pings = Int(arguments[3]), let messages = Int(arguments[4]), let cpu = Int32(arguments[5]),
      let parent = pid_t(arguments[6])
    else { throw .usage("bench-peer is run by 'swipc bench' itself") }
    swipc_install_bench_handlers(1)
    // The handles go to a parent that may be dead: EPIPE, not death by SIGPIPE before cleanup.
    signal(SIGPIPE, SIG_IGN)
    // Gone before PR_SET_PDEATHSIG took effect: no signal will come.
    guard getppid() == parent else {
      throw SwipcError(category: .interrupted, call: "", object: "bench peer", reason: "the parent is gone")
    }
    if cpu >= 0 { _ = swipc_pin_to_cpu(cpu) }
    swipc_set_alarm(1_000_000, 1_000_000)
    defer { swipc_set_alarm(0, 0) }
    let cell = BenchCell(mechanism: mechanism, size: size, slots: slots)
    let entry = mechanism.entry
    let side = BenchSide()
    defer { side.finish() }
    do throws(SwipcError) {
      try entry.peer(cell, side)
    } catch {
      // The parent reports it, as its one line: the peer says nothing on stderr.
      if error.category != .interrupted, (try? BenchStop.writeError(3, error)) != nil { reported = true }
      throw error
    }
    BenchStop.pause(at: .created)
    try BenchStop.check()
    try BenchStop.writeLine(3, side.handles)
    close(3)
    let link: BenchLink
    if let made = side.link { link = made } else { link = try entry.connectPeer!(cell, side) }
    side.link = link
    if pings > 0 {
      try link.receive(size)
      // The parent sent it, so it holds every object: their names can go.
      side.bothHold()
      BenchStop.pause(at: .connected)
      try BenchStop.check()
      try link.send(size)
    }
    try link.pong(size, count: max(pings, 1) - 1)
    try link.receive(size, count: messages)
    try link.send(size)
    var byte: UInt8 = 0
    while try BenchStop.retry("read", { Int(read(4, &byte, 1)) }) > 0 {}
  }
}
