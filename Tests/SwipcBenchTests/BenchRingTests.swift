import Glibc
import Testing
@testable import SwipcBench

/// The rings of the shared-memory mechanisms, both sides in one process (two threads): every
/// message arrives, in order, none overwritten before it was read, whatever the slot count.
@Suite("bench rings")
struct BenchRingTests {
  /// Sends `count` messages whose bytes all hold the message's number, and checks them at the
  /// other end; the sender runs ahead as far as the ring lets it.
  func exchange(_ make: (UnsafeMutableRawPointer, RingLayout, Bool) -> BenchLink, header: Int, size: Int, slots: Int) throws -> [Int] {
    let layout = RingLayout(size: size, slots: slots, header: header)
    let segment = UnsafeMutableRawPointer.allocate(byteCount: layout.length, alignment: 64)
    segment.initializeMemory(as: UInt8.self, repeating: 0, count: layout.length)
    defer { segment.deallocate() }
    if header == 4 * 64 {
      for (i, value) in SemaphoreRingLink.initialValues(slots: slots).enumerated() {
        sem_init((segment + i * 64).assumingMemoryBound(to: sem_t.self), 1, UInt32(value))
      }
    }
    let count = RingReceiver.count
    let sender = make(segment, layout, true)
    let receiver = RingReceiver(make(segment, layout, false), size: size)
    var thread = pthread_t()
    pthread_create(&thread, nil, ringReceive, Unmanaged.passRetained(receiver).toOpaque())
    let buffer = BenchRingTests.buffer(of: sender)
    for i in 0..<count {
      for j in 0..<size { buffer[j] = UInt8(truncatingIfNeeded: i) }
      try sender.send(size)
    }
    pthread_join(thread, nil)
    return receiver.bad
  }

  static func buffer(of link: BenchLink) -> UnsafeMutablePointer<UInt8> {
    let raw = (link as? IndexRingLink)?.buffer ?? (link as! SemaphoreRingLink).buffer
    return raw.assumingMemoryBound(to: UInt8.self)
  }

  @Test("counter rings (shm-spin, shm-futex) and the sem_t ring (pshm) keep every message, in order",
    arguments: [(1, 1), (64, 1), (64, 2), (100, 7), (4096, 3)])
  func rings(size: Int, slots: Int) throws {
    for sleeps in [false, true] {
      let bad = try exchange({ IndexRingLink(segment: $0, layout: $1, client: $2, sleeps: sleeps) },
        header: IndexRingLink.header, size: size, slots: slots)
      #expect(bad.isEmpty, "\(sleeps ? "futex" : "spin") ring, \(size) bytes, \(slots) slots: wrong messages \(bad.prefix(5))")
    }
    let bad = try exchange({ SemaphoreRingLink(semaphores: .posixSpaced($0), base: $0, layout: $1, client: $2) },
      header: 4 * 64, size: size, slots: slots)
    #expect(bad.isEmpty, "sem_t ring, \(size) bytes, \(slots) slots: wrong messages \(bad.prefix(5))")
  }

  @Test("default slots hold 64 KiB, 2 to 1024; default messages move at most 256 MiB, at least 16")
  func defaults() {
    #expect(BenchRunner.defaultSlots(size: 64) == 1024 && BenchRunner.defaultSlots(size: 4096) == 16)
    #expect(BenchRunner.defaultSlots(size: 65536) == 2 && BenchRunner.defaultSlots(size: 16 << 20) == 2)
    #expect(BenchRunner.defaultMessages(size: 64) == 20_000 && BenchRunner.defaultMessages(size: 1 << 20) == 256)
    #expect(BenchRunner.defaultMessages(size: 16 << 20) == 16)
    #expect(BenchRunner.warmup(pings: 16) == 16 && BenchRunner.warmup(pings: 20_000) == 200)
  }
}

/// The receiving thread's side of a ring test.
final class RingReceiver: @unchecked Sendable {
  static let count = 3000
  let link: BenchLink
  let size: Int
  /// Numbers of the messages that arrived with wrong bytes.
  var bad: [Int] = []

  init(_ link: BenchLink, size: Int) {
    self.link = link
    self.size = size
  }
}

/// Receives every message and records those whose bytes are not all its number.
func ringReceive(_ raw: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
  let receiver = Unmanaged<RingReceiver>.fromOpaque(raw!).takeRetainedValue()
  let buffer = BenchRingTests.buffer(of: receiver.link)
  for i in 0..<RingReceiver.count {
    guard (try? receiver.link.receive(receiver.size)) != nil else {
      receiver.bad.append(i)
      continue
    }
    for j in 0..<receiver.size where buffer[j] != UInt8(truncatingIfNeeded: i) {
      receiver.bad.append(i)
      break
    }
  }
  return nil
}
