import Glibc
import Testing
@testable import SwipcBench

/// The loops a link runs a phase with (`ping`, `pong`, `send(_:count:)`, `receive(_:count:)`),
/// each side on a thread of its own: each moves exactly its count, leaves the link where a
/// single `send` or `receive` goes on from, and times every round trip.
@Suite("bench loops")
struct BenchLoopTests {
  static let pings = 1500
  static let messages = 2500

  /// Runs a cell's phases as the runner and the peer do (a message, the round trips, the stream,
  /// one acknowledgement), then one last message with its own bytes each way, which arrives
  /// intact only if both sides' counters and slots agree after the loops.
  func phases(_ make: (UnsafeMutableRawPointer, RingLayout, Bool) -> BenchLink, header: Int, size: Int, slots: Int) throws {
    let layout = RingLayout(size: size, slots: slots, header: header)
    let segment = UnsafeMutableRawPointer.allocate(byteCount: layout.length, alignment: 64)
    segment.initializeMemory(as: UInt8.self, repeating: 0, count: layout.length)
    if header == 4 * 64 {
      for (i, value) in SemaphoreRingLink.initialValues(slots: slots).enumerated() {
        sem_init((segment + i * 64).assumingMemoryBound(to: sem_t.self), 1, UInt32(value))
      }
    }
    let samples = UnsafeMutablePointer<UInt64>.allocate(capacity: BenchLoopTests.pings)
    samples.initialize(repeating: .max, count: BenchLoopTests.pings)
    let client = make(segment, layout, true), peer = make(segment, layout, false)
    let clientBuffer = BenchRingTests.buffer(of: client), peerBuffer = BenchRingTests.buffer(of: peer)
    var last: [UInt8] = []
    let sides = [
      LoopSide {
        try client.send(size)
        try client.ping(size, count: BenchLoopTests.pings, samples: samples)
        try client.send(size, count: BenchLoopTests.messages)
        try client.receive(size)
        for j in 0..<size { clientBuffer[j] = 0xA5 }
        try client.send(size)
        try client.receive(size)
      },
      LoopSide {
        try peer.receive(size)
        try peer.pong(size, count: BenchLoopTests.pings)
        try peer.receive(size, count: BenchLoopTests.messages)
        try peer.send(size)
        try peer.receive(size)
        last = Array(UnsafeBufferPointer(start: peerBuffer, count: size))
        for j in 0..<size { peerBuffer[j] = 0x5A }
        try peer.send(size)
      },
    ]
    // A side that waits for a message the other never sends spins or sleeps for ever: give up
    // after a while, and leave the memory to the stuck threads.
    guard LoopSide.finish(sides, seconds: 60) else {
      Issue.record("a side is still waiting after 60 s: a loop moved more or fewer messages than its count")
      return
    }
    defer {
      segment.deallocate()
      samples.deallocate()
    }
    let failures = sides.compactMap(\.failure)
    #expect(failures.isEmpty, "\(failures)")
    let intact = last.count == size && last.allSatisfy { $0 == 0xA5 }
    #expect(intact, "the message after the loops arrived as \(last.prefix(8))")
    let replied = (0..<size).allSatisfy { clientBuffer[$0] == 0x5A }
    #expect(replied, "the reply after the loops arrived as \(clientBuffer[0])")
    let times = UnsafeBufferPointer(start: samples, count: BenchLoopTests.pings)
    let timed = times.allSatisfy { $0 < 10_000_000_000 }
    #expect(timed, "a round trip left untimed, or timed over 10 s")
  }

  @Test("counter rings (shm-spin, shm-futex) and the sem_t ring (pshm) run every phase's loop to its count",
    arguments: [(64, 1024), (64, 1), (100, 7), (4096, 2)])
  func loops(size: Int, slots: Int) throws {
    for sleeps in [false, true] {
      try phases({ IndexRingLink(segment: $0, layout: $1, client: $2, sleeps: sleeps) },
        header: IndexRingLink.header, size: size, slots: slots)
    }
    try phases({ SemaphoreRingLink(semaphores: .posixSpaced($0), base: $0, layout: $1, client: $2) },
      header: 4 * 64, size: size, slots: slots)
  }
}

/// One side of a loop test, run on a thread of its own; posts `done` when it returns.
final class LoopSide: @unchecked Sendable {
  let body: () throws -> Void
  var failure: String?
  /// Allocated, not a stored `sem_t`: sem_post and sem_wait need its one address.
  let done = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)

  init(_ body: @escaping () throws -> Void) {
    self.body = body
    sem_init(done, 0, 0)
  }

  /// Starts every side and waits for all of them, at most `seconds`; whether all returned.
  static func finish(_ sides: [LoopSide], seconds: Int) -> Bool {
    for side in sides {
      var thread = pthread_t()
      pthread_create(&thread, nil, { raw in
        let side = Unmanaged<LoopSide>.fromOpaque(raw!).takeRetainedValue()
        do { try side.body() } catch { side.failure = "\(error)" }
        sem_post(side.done)
        return nil
      }, Unmanaged.passRetained(side).toOpaque())
      pthread_detach(thread)
    }
    var deadline = timespec()
    clock_gettime(CLOCK_REALTIME, &deadline)
    deadline.tv_sec += seconds
    for side in sides {
      while sem_timedwait(side.done, &deadline) != 0 {
        if errno != EINTR { return false }
      }
    }
    return true
  }
}
