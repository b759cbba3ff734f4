import CSwipc
import Glibc
import SystemPackage

/// One side of a benchmark channel: sends and receives messages of a given size from buffers it
/// owns, so that the data path allocates nothing.
public protocol BenchLink: AnyObject {
  func send(_ size: Int) throws(SwipcError)
  func receive(_ size: Int) throws(SwipcError)
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

/// Shared memory with one slot each way and a semaphore hand-off: System V semaphores (semop)
/// or POSIX `sem_t`s in the segment. Semaphores: 0 to-peer full, 1 to-peer empty, 2 to-client
/// full, 3 to-client empty. A message is copied into the slot and out of it.
final class SharedMemoryLink: BenchLink {
  enum Semaphores {
    case systemV(id: Int32)
    /// Four `sem_t`, 64 bytes apart (each on a cache line of its own).
    case posixSpaced(UnsafeMutableRawPointer)
  }

  let semaphores: Semaphores
  let outSlot: UnsafeMutableRawPointer
  let inSlot: UnsafeMutableRawPointer
  let outFull: Int
  let outEmpty: Int
  let inFull: Int
  let inEmpty: Int
  let buffer: UnsafeMutableRawPointer

  /// - Parameter slots: the two slots, to-peer first; `client` is the side that sends first.
  init(semaphores: Semaphores, slots: UnsafeMutableRawPointer, capacity: Int, client: Bool) {
    self.semaphores = semaphores
    let toPeer = slots
    let toClient = slots + capacity
    outSlot = client ? toPeer : toClient
    inSlot = client ? toClient : toPeer
    (outFull, outEmpty, inFull, inEmpty) = client ? (0, 1, 2, 3) : (2, 3, 0, 1)
    buffer = BenchStop.messageBuffer(capacity)
  }

  deinit { buffer.deallocate() }

  @inline(__always)
  func wait(_ index: Int) throws(SwipcError) {
    switch semaphores {
    case .systemV(let id):
      var op = sembuf(sem_num: UInt16(index), sem_op: -1, sem_flg: 0)
      _ = try BenchStop.retry("semop") { Int(semop(id, &op, 1)) }
    case .posixSpaced(let base):
      let sem = (base + index * 64).assumingMemoryBound(to: sem_t.self)
      _ = try BenchStop.retry("sem_wait") { Int(sem_wait(sem)) }
    }
  }

  @inline(__always)
  func post(_ index: Int) throws(SwipcError) {
    switch semaphores {
    case .systemV(let id):
      var op = sembuf(sem_num: UInt16(index), sem_op: 1, sem_flg: 0)
      _ = try BenchStop.retry("semop") { Int(semop(id, &op, 1)) }
    case .posixSpaced(let base):
      let sem = (base + index * 64).assumingMemoryBound(to: sem_t.self)
      _ = try BenchStop.retry("sem_post") { Int(sem_post(sem)) }
    }
  }

  func send(_ size: Int) throws(SwipcError) {
    try wait(outEmpty)
    outSlot.copyMemory(from: buffer, byteCount: size)
    try post(outFull)
  }

  func receive(_ size: Int) throws(SwipcError) {
    try wait(inFull)
    buffer.copyMemory(from: inSlot, byteCount: size)
    try post(inEmpty)
  }
}

/// Shared memory with spinning: a sequence word per direction, stored with release and loaded
/// with acquire; a waiter spins with `pause`, and yields the CPU after a while.
final class SpinLink: BenchLink {
  let outSequence: UnsafeMutablePointer<UInt32>
  let outAck: UnsafeMutablePointer<UInt32>
  let inSequence: UnsafeMutablePointer<UInt32>
  let inAck: UnsafeMutablePointer<UInt32>
  let outSlot: UnsafeMutableRawPointer
  let inSlot: UnsafeMutableRawPointer
  let buffer: UnsafeMutableRawPointer
  var sent: UInt32 = 0
  var received: UInt32 = 0

  /// Layout: four words on their own cache lines (to-peer seq, to-peer ack, to-client seq,
  /// to-client ack), then the to-peer slot and the to-client slot.
  static func headerSize() -> Int { 4 * 64 }

  init(segment: UnsafeMutableRawPointer, capacity: Int, client: Bool) {
    let words = (0..<4).map { (segment + $0 * 64).assumingMemoryBound(to: UInt32.self) }
    let slots = segment + SpinLink.headerSize()
    outSequence = client ? words[0] : words[2]
    outAck = client ? words[1] : words[3]
    inSequence = client ? words[2] : words[0]
    inAck = client ? words[3] : words[1]
    outSlot = client ? slots : slots + capacity
    inSlot = client ? slots + capacity : slots
    buffer = BenchStop.messageBuffer(capacity)
  }

  deinit { buffer.deallocate() }

  @inline(__always)
  func spin(until condition: () -> Bool) throws(SwipcError) {
    var spins = 0
    while !condition() {
      spins += 1
      if spins < 20_000 {
        swipc_cpu_relax()
      } else {
        sched_yield()
        if spins & 1023 == 0 { try BenchStop.check() }
      }
    }
  }

  func send(_ size: Int) throws(SwipcError) {
    let sent = self.sent
    try spin { swipc_atomic_load(outAck) == sent }  // the slot is free
    outSlot.copyMemory(from: buffer, byteCount: size)
    self.sent = sent &+ 1
    swipc_atomic_store(outSequence, self.sent)
  }

  func receive(_ size: Int) throws(SwipcError) {
    let expected = received &+ 1
    try spin { swipc_atomic_load(inSequence) == expected }
    buffer.copyMemory(from: inSlot, byteCount: size)
    received = expected
    swipc_atomic_store(inAck, expected)
  }
}
