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
/// deadline and the interrupt signals honoured on the non-blocking side, optionally stopping after a
/// number of records (lines or NUL-terminated).
public enum StreamCopy {
  public struct Result: Sendable {
    public var bytes = 0
    public var records = 0
  }

  /// Copies until end of input, or until `count` records (each ending in `delimiter`) passed.
  ///
  /// With `recordWrites`, every write ends at a record boundary and holds at most that many
  /// bytes (PIPE_BUF for a FIFO): several writers' records then never interleave, since the
  /// kernel writes a pipe write of at most PIPE_BUF bytes whole. A longer record goes alone.
  ///
  /// The corresponding C functions are `read` and `write`.
  public static func copy(
    from input: StreamEnd, to output: StreamEnd, call: BlockingCall, delimiter: UInt8? = nil,
    count: Int? = nil, recordWrites: Int? = nil
  ) throws(SwipcError) -> Result {
    var result = Result()
    let capacity = 1 << 16
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    defer { buffer.deallocate() }
    let bytes = buffer.assumingMemoryBound(to: UInt8.self)
    var kept = 0  // the start of an unfinished record, carried to the front of the buffer
    var done = false
    while !done {
      let n = try read(input, into: buffer + kept, capacity: capacity - kept, call: call, copied: result.bytes)
      let filled = kept + n
      var take = filled
      var lastEnd = 0  // just past the last delimiter in the buffer
      if n == 0 {
        done = true
      } else if let delimiter {
        for i in kept..<filled where bytes[i] == delimiter {
          result.records += 1
          lastEnd = i + 1
          if let count, result.records == count {
            take = i + 1
            done = true
            break
          }
        }
        // Whole records only: an unfinished one waits for the rest of its bytes, unless it
        // fills the buffer by itself.
        if recordWrites != nil && !done { take = lastEnd > 0 ? lastEnd : (filled == capacity ? filled : 0) }
      }
      let chunk = UnsafeRawBufferPointer(start: buffer, count: take)
      if let limit = recordWrites, let delimiter {
        try writeRecords(chunk, delimiter: delimiter, limit: limit, to: output, call: call, copied: result.bytes)
      } else {
        try write(chunk, to: output, call: call, copied: result.bytes)
      }
      result.bytes += take
      kept = done ? 0 : filled - take
      if kept > 0 && take > 0 { buffer.copyMemory(from: buffer + take, byteCount: kept) }
    }
    return result
  }

  /// Writes whole records in writes of at most `limit` bytes (a longer record alone).
  static func writeRecords(
    _ chunk: UnsafeRawBufferPointer, delimiter: UInt8, limit: Int, to output: StreamEnd, call: BlockingCall,
    copied: Int
  ) throws(SwipcError) {
    var start = 0  // the first byte not yet written
    var end = 0  // just past the last whole record that fits in a write from `start`
    func flush(_ upTo: Int) throws(SwipcError) {
      guard upTo > start else { return }
      try write(UnsafeRawBufferPointer(rebasing: chunk[start..<upTo]), to: output, call: call, copied: copied + start)
      start = upTo
    }
    for i in 0..<chunk.count where chunk[i] == delimiter {
      if i + 1 - start > limit {
        try flush(end)
        if i + 1 - start > limit { try flush(i + 1) }
      }
      end = i + 1
    }
    try flush(end)
    try flush(chunk.count)  // a last record without its delimiter, at the end of input
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

  /// A call on a blocking descriptor: EINTR from a recorded interrupt signal ends it.
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
