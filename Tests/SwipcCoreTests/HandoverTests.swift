import Glibc
import Testing
@testable import SwipcCore

@Suite("Hand-over between threads")
struct HandoverTests {
  /// A consumer that has seen the end may ask again (the visiting thread drains the namespaces the
  /// scan found after it stopped reading ahead, whether or not it already saw the end): it must get
  /// nil, not wait for an item that will never come.
  @Test("items in order, then nil however often asked, on the thread that closed it or another", .timeLimit(.minutes(1)))
  func endIsRepeated() throws {
    let handover = Handover<Int>()
    for i in 1...3 { handover.put(i) }
    #expect(!handover.isClosed)
    handover.close()
    #expect(handover.isClosed)
    #expect([handover.next(), handover.next(), handover.next()] == [1, 2, 3])
    #expect(handover.next() == nil)
    #expect(handover.next() == nil)

    // The same across threads: a consumer that took everything, end included, asks once more.
    final class Box: @unchecked Sendable { var taken: [Int] = []; var again: Int?? = .none }
    let across = Handover<Int>()
    let box = Box()
    var thread = pthread_t()
    let context = Unmanaged.passRetained(Pair(across, box) as AnyObject).toOpaque()
    try #require(pthread_create(&thread, nil, { raw in
      let pair = Unmanaged<AnyObject>.fromOpaque(raw!).takeRetainedValue() as! Pair<Handover<Int>, Box>
      while let i = pair.first.next() { pair.second.taken.append(i) }
      pair.second.again = .some(pair.first.next())
      return nil
    }, context) == 0)
    for i in 1...100 { across.put(i) }
    across.close()
    pthread_join(thread, nil)
    #expect(box.taken == Array(1...100))
    #expect(box.again == .some(nil))
  }

  final class Pair<A, B>: @unchecked Sendable {
    let first: A
    let second: B
    init(_ first: A, _ second: B) {
      self.first = first
      self.second = second
    }
  }
}
