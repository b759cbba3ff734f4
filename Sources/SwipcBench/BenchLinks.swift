import CSwipc
import Glibc
import SwipcCore
import SystemPackage

/// One side of a benchmark channel: sends and receives messages of a given size from buffers it
/// owns, so that the data path allocates nothing.
public protocol BenchLink: AnyObject {
  func send(_ size: Int) throws(SwipcError)
  func receive(_ size: Int) throws(SwipcError)
  /// `count` messages one way, as the throughput phase sends and receives them; `count` round
  /// trips (send, then receive the reply), each one's time in nanoseconds into `samples`, and the
  /// other side's `count` replies (receive, then send back), as the latency phase makes them.
  /// Loops of their own in each link, so that the fastest rings (tens of millions of messages a
  /// second, a round trip in 0.2 µs) are not measured through a dynamic call per message, which
  /// the C reference does not make.
  func send(_ size: Int, count: Int) throws(SwipcError)
  func receive(_ size: Int, count: Int) throws(SwipcError)
  func ping(_ size: Int, count: Int, samples: UnsafeMutablePointer<UInt64>) throws(SwipcError)
  func pong(_ size: Int, count: Int) throws(SwipcError)
}

extension BenchLink {
  /// A signal that lands between two calls interrupts none of them: the flags are looked at
  /// every so often as well (a load; nothing on the data path changes).
  @inline(__always)
  func repeating(_ count: Int, _ body: (Int) throws(SwipcError) -> Void) throws(SwipcError) {
    for i in 0..<count {
      if i & 1023 == 0 { try BenchStop.check() }
      try body(i)
    }
  }

  /// Runs `body` `count` times, each run's time in nanoseconds into `samples`.
  @inline(__always)
  func timing(_ count: Int, into samples: UnsafeMutablePointer<UInt64>, _ body: () throws(SwipcError) -> Void) throws(SwipcError) {
    try repeating(count) { (i) throws(SwipcError) in
      let start = BenchRunner.now()
      try body()
      samples[i] = BenchRunner.now() &- start
    }
  }

  public func send(_ size: Int, count: Int) throws(SwipcError) { try repeating(count) { (_) throws(SwipcError) in try send(size) } }
  public func receive(_ size: Int, count: Int) throws(SwipcError) {
    try repeating(count) { (_) throws(SwipcError) in try receive(size) }
  }
  public func ping(_ size: Int, count: Int, samples: UnsafeMutablePointer<UInt64>) throws(SwipcError) {
    try timing(count, into: samples) { () throws(SwipcError) in
      try send(size)
      try receive(size)
    }
  }
  public func pong(_ size: Int, count: Int) throws(SwipcError) {
    try repeating(count) { (_) throws(SwipcError) in
      try receive(size)
      try send(size)
    }
  }
}

/// The stop conditions every blocking call of a benchmark checks when it returns EINTR.
enum BenchStop {
  /// The running cell's peer; SIGCHLD from any other child (a sanitizer's symbolizer, say) is
  /// not the peer's end.
  nonisolated(unsafe) static var peer: pid_t = 0

  static func check() throws(SwipcError) {
    if swipc_interrupt_signal() != 0 {
      throw SwipcError(category: .interrupted, call: "", object: "bench", reason: "interrupted")
    }
    if swipc_child_exited() != 0 {
      guard peerFailed() else {
        // Running, or done: a peer that exits 0 has sent its last message, which is in the
        // channel even when the SIGCHLD that came with it interrupted the call (a unix stream
        // read returns EINTR then): the call is retried and gets it.
        swipc_reset_child_exited()
        return
      }
      throw SwipcError(category: .failed, call: "", object: "bench", reason: "the peer process exited")
    }
  }

  /// Whether the peer ended before finishing (killed, or an error status), without reaping it
  /// (the runner waits for it).
  ///
  /// The corresponding C function is `waitid`.
  static func peerFailed() -> Bool {
    guard peer > 0 else { return true }
    var info = siginfo_t()
    guard waitid(P_PID, id_t(peer), &info, WEXITED | WNOHANG | WNOWAIT) == 0 else { return true }
    guard info._sifields._sigchld.si_pid == peer else { return false }
    return !(info.si_code == CLD_EXITED && info._sifields._sigchld.si_status == 0)
  }

  /// A zeroed, cache-line aligned buffer for one message, allocated once per link.
  static func messageBuffer(_ capacity: Int) -> UnsafeMutableRawPointer {
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(capacity, 1), alignment: 64)
    buffer.initializeMemory(as: UInt8.self, repeating: 0, count: max(capacity, 1))
    return buffer
  }

  /// Points where SWIPC_BENCH_STOP=POINT makes a process stop itself (SIGSTOP), so a test can
  /// kill `bench` at exactly that moment: `spawn`, the parent before it starts the peer; `created`,
  /// the peer with its objects made, not yet sent; `connected`, the peer after the first message.
  enum Point: String {
    case spawn, created, connected
  }

  static func pause(at point: Point) {
    guard let wanted = getenv("SWIPC_BENCH_STOP"), String(cString: wanted) == point.rawValue else { return }
    raise(SIGSTOP)
  }

  /// Writes the peer's handles: each followed by a NUL (a path may hold any other byte), then a
  /// newline that says the list is whole.
  static func writeLine(_ fd: Int32, _ handles: [String]) throws(SwipcError) {
    var bytes: [UInt8] = []
    for h in handles { bytes += Array(h.utf8) + [0] }
    bytes.append(10)
    var done = 0
    while done < bytes.count {
      let from = done
      done += try retry("write") { bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + from, $0.count - from) } }
    }
  }

  /// The categories in the order `writeError` numbers them.
  static let categories: [SwipcError.Category] = [.usage, .notFound, .permissionDenied, .unavailable, .wouldBlock, .interrupted, .failed]

  /// Sends the error the peer failed with instead of handles: 0x01, its category's number, its
  /// line, a newline.
  static func writeError(_ fd: Int32, _ error: SwipcError) throws(SwipcError) {
    let number = categories.firstIndex(of: error.category) ?? categories.count - 1
    try writeLine(fd, ["\u{1}\(number)" + String(error.description.map { $0 == "\n" || $0 == "\0" ? " " : $0 })])
  }

  /// Reads the peer's handles up to end of file; a list without its newline is a peer that died,
  /// and an error line is the peer's error, thrown here.
  static func readLine(_ fd: Int32) throws(SwipcError) -> [String] {
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
      let n = try retry("read") { chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) } }
      if n == 0 { break }
      bytes += chunk[0..<n]
      guard bytes.count <= 1 << 16 else { break }
    }
    guard bytes.last == 10 else {
      throw SwipcError(category: .failed, call: "", object: "bench", reason: "the peer process exited")
    }
    let handles = bytes.dropLast().split(separator: 0, omittingEmptySubsequences: false).dropLast().map {
      String(decoding: $0, as: UTF8.self)
    }
    if handles.count == 1, let first = handles[0].utf8.first, first == 1 {
      let text = handles[0].dropFirst()
      let number = text.first?.wholeNumberValue ?? categories.count - 1
      throw SwipcError(category: categories[min(number, categories.count - 1)], call: "", object: "", reason: String(text.dropFirst()))
    }
    return handles
  }

  /// Runs a call until it succeeds, retrying on EINTR after checking the stop conditions.
  @inline(__always)
  static func retry(_ name: String, _ call: () -> Int) throws(SwipcError) -> Int {
    while true {
      let r = call()
      if r >= 0 { return r }
      let e = errno
      if e == EINTR {
        try check()
        continue
      }
      throw SwipcError(call: name, object: "bench", errno: Errno(rawValue: e))
    }
  }
}

/// Pipes, FIFOs, stream sockets: a byte stream, so a message is read until all its bytes came.
final class StreamLink: BenchLink {
  let input: Int32
  let output: Int32
  let buffer: UnsafeMutableRawPointer

  init(input: Int32, output: Int32, capacity: Int) {
    self.input = input
    self.output = output
    buffer = BenchStop.messageBuffer(capacity)
  }

  deinit {
    buffer.deallocate()
    close(input)
    if output != input { close(output) }
  }

  func send(_ size: Int) throws(SwipcError) {
    var done = 0
    while done < size {
      done += try BenchStop.retry("write") { Glibc.write(output, buffer + done, size - done) }
    }
  }

  func receive(_ size: Int) throws(SwipcError) {
    var done = 0
    while done < size {
      let n = try BenchStop.retry("read") { Glibc.read(input, buffer + done, size - done) }
      if n == 0 { throw SwipcError(category: .failed, call: "read", object: "bench", reason: "the peer closed the channel") }
      done += n
    }
  }
}

/// A datagram socket pair: one send, one receive per message.
final class DatagramLink: BenchLink {
  let fd: Int32
  let buffer: UnsafeMutableRawPointer

  init(fd: Int32, capacity: Int) {
    self.fd = fd
    buffer = BenchStop.messageBuffer(capacity)
  }

  deinit {
    buffer.deallocate()
    close(fd)
  }

  func send(_ size: Int) throws(SwipcError) {
    _ = try BenchStop.retry("send") { Glibc.send(fd, buffer, size, 0) }
  }

  func receive(_ size: Int) throws(SwipcError) {
    _ = try BenchStop.retry("recv") { Glibc.recv(fd, buffer, size, 0) }
  }
}

/// A System V queue: messages to the peer are type 1, replies type 2.
final class SysVQueueLink: BenchLink {
  let id: Int32
  let outType: Int
  let inType: Int
  let buffer: UnsafeMutableRawPointer

  init(id: Int32, outType: Int, inType: Int, capacity: Int) {
    self.id = id
    self.outType = outType
    self.inType = inType
    buffer = BenchStop.messageBuffer(MemoryLayout<Int>.size + capacity)
  }

  deinit { buffer.deallocate() }

  func send(_ size: Int) throws(SwipcError) {
    buffer.storeBytes(of: outType, as: Int.self)
    _ = try BenchStop.retry("msgsnd") { Int(msgsnd(id, buffer, size, 0)) }
  }

  func receive(_ size: Int) throws(SwipcError) {
    _ = try BenchStop.retry("msgrcv") { msgrcv(id, buffer, size, inType, 0) }
  }
}

/// Two POSIX queues, one each way.
final class POSIXQueueLink: BenchLink {
  let output: mqd_t
  let input: mqd_t
  let capacity: Int
  let buffer: UnsafeMutableRawPointer

  init(output: mqd_t, input: mqd_t, capacity: Int) {
    self.output = output
    self.input = input
    self.capacity = capacity
    buffer = BenchStop.messageBuffer(capacity)
  }

  deinit {
    buffer.deallocate()
    mq_close(output)
    mq_close(input)
  }

  func send(_ size: Int) throws(SwipcError) {
    let text = buffer.assumingMemoryBound(to: CChar.self)
    _ = try BenchStop.retry("mq_send") { Int(mq_send(output, text, size, 0)) }
  }

  func receive(_ size: Int) throws(SwipcError) {
    let text = buffer.assumingMemoryBound(to: CChar.self)
    _ = try BenchStop.retry("mq_receive") { mq_receive(input, text, capacity, nil) }
  }
}

/// Where the two rings of a shared-memory cell lie in its segment: `header` bytes, then per
/// direction (to the peer first) `slots` slots of the message size rounded up to a cache line, so
/// that two slots never share one.
struct RingLayout {
  let size: Int
  let slots: Int
  let header: Int

  var stride: Int { (max(size, 1) + 63) & ~63 }
  var length: Int { header + 2 * slots * stride }

  func ring(_ base: UnsafeMutableRawPointer, toPeer: Bool) -> UnsafeMutableRawPointer {
    base + header + (toPeer ? 0 : slots * stride)
  }
}

/// A ring of slots each way, with two counting semaphores per direction: free slots and full
/// slots, as in the textbook producer and consumer, so a message costs one semaphore operation
/// per side. Semaphores 0 to-peer full, 1 to-peer free, 2 to-client full, 3 to-client free.
final class SemaphoreRingLink: BenchLink {
  enum Semaphores {
    case systemV(id: Int32)
    /// Four `sem_t`, 64 bytes apart (each on a cache line of its own).
    case posixSpaced(UnsafeMutableRawPointer)
  }

  /// The initial values: no full slot, every slot free.
  static func initialValues(slots: Int) -> [Int] { [0, slots, 0, slots] }

  let semaphores: Semaphores
  let outRing: UnsafeMutableRawPointer
  let inRing: UnsafeMutableRawPointer
  let stride: Int
  let slots: Int
  let outFull: Int
  let outFree: Int
  let inFull: Int
  let inFree: Int
  let buffer: UnsafeMutableRawPointer
  var outSlot = 0
  var inSlot = 0

  /// `client` is the side that sends first (the parent).
  init(semaphores: Semaphores, base: UnsafeMutableRawPointer, layout: RingLayout, client: Bool) {
    self.semaphores = semaphores
    outRing = layout.ring(base, toPeer: client)
    inRing = layout.ring(base, toPeer: !client)
    stride = layout.stride
    slots = layout.slots
    (outFull, outFree, inFull, inFree) = client ? (0, 1, 2, 3) : (2, 3, 0, 1)
    buffer = BenchStop.messageBuffer(layout.size)
  }

  deinit { buffer.deallocate() }

  @inline(__always)
  func change(_ index: Int, by delta: Int16) throws(SwipcError) {
    switch semaphores {
    case .systemV(let id):
      var op = sembuf(sem_num: UInt16(index), sem_op: delta, sem_flg: 0)
      _ = try BenchStop.retry("semop") { Int(semop(id, &op, 1)) }
    case .posixSpaced(let base):
      let sem = (base + index * 64).assumingMemoryBound(to: sem_t.self)
      if delta < 0 {
        _ = try BenchStop.retry("sem_wait") { Int(sem_wait(sem)) }
      } else {
        _ = try BenchStop.retry("sem_post") { Int(sem_post(sem)) }
      }
    }
  }

  func send(_ size: Int) throws(SwipcError) {
    try change(outFree, by: -1)
    (outRing + outSlot * stride).copyMemory(from: buffer, byteCount: size)
    outSlot = outSlot + 1 == slots ? 0 : outSlot + 1
    try change(outFull, by: 1)
  }

  func receive(_ size: Int) throws(SwipcError) {
    try change(inFull, by: -1)
    buffer.copyMemory(from: inRing + inSlot * stride, byteCount: size)
    inSlot = inSlot + 1 == slots ? 0 : inSlot + 1
    try change(inFree, by: 1)
  }
}

/// A single-producer, single-consumer ring each way, synchronised by two counters in the
/// segment (messages written, messages read) and no kernel object. A side that finds the ring
/// full (or empty) spins; `shm-spin` then yields the CPU, `shm-futex` raises its "asleep" flag
/// and sleeps in FUTEX_WAIT on the other side's counter, and a side wakes the other only when
/// that flag is up, so a ring that keeps moving makes no system call.
final class IndexRingLink: BenchLink {
  /// Per direction, four words on cache lines of their own: written, read, reader asleep,
  /// writer asleep.
  static let header = 2 * 4 * 64
  /// How long a futex side spins before it sleeps: about the cost of the wake-up it saves.
  static let futexSpins = 100
  static let yieldSpins = 20_000

  struct Direction {
    let written: UnsafeMutablePointer<UInt32>
    let read: UnsafeMutablePointer<UInt32>
    let readerAsleep: UnsafeMutablePointer<UInt32>
    let writerAsleep: UnsafeMutablePointer<UInt32>
    let ring: UnsafeMutableRawPointer

    init(_ base: UnsafeMutableRawPointer, layout: RingLayout, toPeer: Bool) {
      let words = base + (toPeer ? 0 : 4 * 64)
      written = words.assumingMemoryBound(to: UInt32.self)
      read = (words + 64).assumingMemoryBound(to: UInt32.self)
      readerAsleep = (words + 128).assumingMemoryBound(to: UInt32.self)
      writerAsleep = (words + 192).assumingMemoryBound(to: UInt32.self)
      ring = layout.ring(base, toPeer: toPeer)
    }
  }

  let out: Direction
  let input: Direction
  let sleeps: Bool
  let stride: Int
  let slots: UInt32
  let buffer: UnsafeMutableRawPointer
  /// This side's own counters: the only writer of `out.written` and `input.read`.
  var written: UInt32 = 0
  var read: UInt32 = 0
  /// Slot indexes kept apart from the counters, which wrap at 2^32 (not a multiple of `slots`).
  var outSlot = 0
  var inSlot = 0

  init(segment: UnsafeMutableRawPointer, layout: RingLayout, client: Bool, sleeps: Bool) {
    out = Direction(segment, layout: layout, toPeer: client)
    input = Direction(segment, layout: layout, toPeer: !client)
    self.sleeps = sleeps
    stride = layout.stride
    slots = UInt32(layout.slots)
    buffer = BenchStop.messageBuffer(layout.size)
  }

  deinit { buffer.deallocate() }

  /// Waits until `ready` holds for the other side's counter `word`.
  @inline(__always)
  func wait(on word: UnsafeMutablePointer<UInt32>, asleep flag: UnsafeMutablePointer<UInt32>,
    until ready: (UInt32) -> Bool) throws(SwipcError)
  {
    var spins = 0
    while !ready(swipc_atomic_load(word)) {
      spins += 1
      if !sleeps {
        if spins < IndexRingLink.yieldSpins {
          swipc_cpu_relax()
        } else {
          sched_yield()
          if spins & 1023 == 0 { try BenchStop.check() }
        }
        continue
      }
      if spins < IndexRingLink.futexSpins {
        swipc_cpu_relax()
        continue
      }
      // Flag first, then look again: the other side stores its counter and then loads the flag,
      // so one of the two sees the other's store (both sequentially consistent).
      swipc_atomic_store_sc(flag, 1)
      let seen = swipc_atomic_load_sc(word)
      if !ready(seen) && swipc_futex_wait(word, seen) != 0 && errno == EINTR {
        swipc_atomic_store(flag, 0)
        try BenchStop.check()
      }
      swipc_atomic_store(flag, 0)
    }
  }

  @inline(__always)
  func publish(_ word: UnsafeMutablePointer<UInt32>, _ value: UInt32, wake flag: UnsafeMutablePointer<UInt32>) {
    if sleeps {
      swipc_atomic_store_sc(word, value)
      if swipc_atomic_load_sc(flag) != 0 { swipc_futex_wake(word) }
    } else {
      swipc_atomic_store(word, value)
    }
  }

  // `send` and `receive` are forced inline: left to itself the optimiser calls one out-of-line
  // copy per message from the loops below, and with two CPUs the spinning sender sets the pace,
  // so every instruction a message costs it (a call, a stack frame, spills) is throughput lost;
  // in a round trip they stand between seeing the other side's counter and publishing our own.
  @inline(__always)
  func send(_ size: Int) throws(SwipcError) {
    let n = written, slots = self.slots
    try wait(on: out.read, asleep: out.writerAsleep) { n &- $0 < slots }
    (out.ring + outSlot * stride).copyMemory(from: buffer, byteCount: size)
    outSlot = outSlot + 1 == Int(slots) ? 0 : outSlot + 1
    written = n &+ 1
    publish(out.written, written, wake: out.readerAsleep)
  }

  @inline(__always)
  func receive(_ size: Int) throws(SwipcError) {
    let n = read
    try wait(on: input.written, asleep: input.readerAsleep) { $0 != n }
    buffer.copyMemory(from: input.ring + inSlot * stride, byteCount: size)
    inSlot = inSlot + 1 == Int(slots) ? 0 : inSlot + 1
    read = n &+ 1
    publish(input.read, read, wake: input.writerAsleep)
  }

  // The same loops as the protocol's, in this final class: `send` and `receive` inline into them,
  // where the protocol's call them through the witness table.
  func send(_ size: Int, count: Int) throws(SwipcError) { try repeating(count) { (_) throws(SwipcError) in try send(size) } }
  func receive(_ size: Int, count: Int) throws(SwipcError) {
    try repeating(count) { (_) throws(SwipcError) in try receive(size) }
  }
  func ping(_ size: Int, count: Int, samples: UnsafeMutablePointer<UInt64>) throws(SwipcError) {
    try timing(count, into: samples) { () throws(SwipcError) in
      try send(size)
      try receive(size)
    }
  }
  func pong(_ size: Int, count: Int) throws(SwipcError) {
    try repeating(count) { (_) throws(SwipcError) in
      try receive(size)
      try send(size)
    }
  }
}
