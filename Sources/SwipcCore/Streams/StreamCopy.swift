import CSwipc
import Glibc
import SystemPackage

/// One end of a byte stream copy: a descriptor, and whether it is non-blocking (then waits honour
/// the deadline and signals) or blocking (standard input and output).
public struct StreamEnd {
  public var fd: Int32
  public var nonBlocking: Bool
  /// How errors name it: `FIFO /tmp/jobs`, `standard input`.
  public var label: String

  public init(fd: Int32, nonBlocking: Bool, label: String) {
    self.fd = fd
    self.nonBlocking = nonBlocking
    self.label = label
  }
}

/// Copying a byte stream between descriptors for `pipe send/recv` and `sock send/listen`, with a
/// deadline and SIGINT/SIGTERM honoured on the non-blocking side, optionally stopping after a
/// number of records (lines or NUL-terminated).
public enum StreamCopy {
  public struct Result: Sendable {
    public var bytes = 0
    public var records = 0
  }

  /// Copies until end of input, or until `count` records (each ending in `delimiter`) passed.
  ///
  /// The corresponding C functions are `read` and `write`.
  public static func copy(
    from input: StreamEnd, to output: StreamEnd, call: BlockingCall, delimiter: UInt8? = nil,
    count: Int? = nil
  ) throws(SwipcError) -> Result {
    var result = Result()
    let capacity = 1 << 16
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    defer { buffer.deallocate() }
    while count.map({ result.records < $0 }) ?? true {
      let n = try read(input, into: buffer, capacity: capacity, call: call, copied: result.bytes)
      if n == 0 { break }
      var take = n
      if let delimiter {
        let bytes = buffer.assumingMemoryBound(to: UInt8.self)
        for i in 0..<n where bytes[i] == delimiter {
          result.records += 1
          if let count, result.records == count {
            take = i + 1
            break
          }
        }
      }
      try write(UnsafeRawBufferPointer(start: buffer, count: take), to: output, call: call, copied: result.bytes)
      result.bytes += take
    }
    return result
  }

  /// One read: 0 at end of input.
  public static func read(
    _ end: StreamEnd, into buffer: UnsafeMutableRawPointer, capacity: Int, call: BlockingCall, copied: Int
  ) throws(SwipcError) -> Int {
    let outcome: BlockingCall.Outcome<Int>
    if end.nonBlocking {
      outcome = call.nonBlocking(fd: end.fd, events: Int16(POLLIN)) { Glibc.read(end.fd, buffer, capacity) }
    } else {
      outcome = blocking { Glibc.read(end.fd, buffer, capacity) }
    }
    return try check(outcome, end: end, reading: true, copied: copied)
  }

  /// Writes all of `bytes`.
  public static func write(_ bytes: UnsafeRawBufferPointer, to end: StreamEnd, call: BlockingCall, copied: Int)
    throws(SwipcError)
  {
    var done = 0
    while done < bytes.count {
      let rest = bytes.count - done
      let base = bytes.baseAddress! + done
      let outcome: BlockingCall.Outcome<Int>
      if end.nonBlocking {
        outcome = call.nonBlocking(fd: end.fd, events: Int16(POLLOUT)) { Glibc.write(end.fd, base, rest) }
      } else {
        outcome = blocking { Glibc.write(end.fd, base, rest) }
      }
      done += try check(outcome, end: end, reading: false, copied: copied + done)
    }
  }

  /// A call on a blocking descriptor: EINTR from a recorded SIGINT/SIGTERM ends it.
  static func blocking(_ call: () -> Int) -> BlockingCall.Outcome<Int> {
    while true {
      if let sig = BlockingCall.pendingInterrupt { return .interrupted(sig) }
      let r = call()
      if r >= 0 { return .done(r) }
      if errno != EINTR { return .failed(currentErrno) }
    }
  }

  static func check(_ outcome: BlockingCall.Outcome<Int>, end: StreamEnd, reading: Bool, copied: Int)
    throws(SwipcError) -> Int
  {
    let call = reading ? "read from" : "write to"
    switch outcome {
    case .done(let n): return n
    case .timedOut:
      throw SwipcError(category: .wouldBlock, call: call, object: end.label,
        reason: "timed out after \(copied) bytes")
    case .interrupted:
      throw SwipcError(category: .interrupted, call: call, object: end.label, reason: "interrupted after \(copied) bytes")
    case .failed(.brokenPipe), .failed(.connectionReset):
      throw SwipcError(category: .failed, call: call, object: end.label,
        reason: "the other end closed it after \(copied) bytes")
    case .failed(let e):
      throw SwipcError(call: call, object: end.label, errno: e)
    }
  }
}
