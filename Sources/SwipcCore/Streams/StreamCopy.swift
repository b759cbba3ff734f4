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
    // With --count, a pipe's bytes after the last record wanted stay in it for the next reader.
    let lookahead = count != nil && delimiter != nil ? Lookahead(input) : nil
    var kept = 0  // the start of an unfinished record, carried to the front of the buffer
    var done = false
    while !done {
      let n: Int
      if let lookahead, let count, let delimiter {
        n = try lookahead.read(into: buffer + kept, capacity: capacity - kept, records: count - result.records,
          delimiter: delimiter, call: call, copied: result.bytes)
      } else {
        n = try read(input, into: buffer + kept, capacity: capacity - kept, call: call, copied: result.bytes)
      }
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
    let n = try check(outcome, end: end, reading: true, copied: copied)
    if n > 0 { call.restart() }
    return n
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
      call.restart()
    }
  }

  /// Reads from a pipe no further than the end of the records still wanted: tee(2) copies what is
  /// waiting into a private pipe without taking it, and only the bytes up to the last wanted
  /// delimiter are then read. Nil when the input is not a pipe (nothing to look ahead in).
  final class Lookahead {
    let input: StreamEnd
    let peek: (read: Int32, write: Int32)
    let room: Int

    init?(_ input: StreamEnd) {
      var st = stat()
      guard fstat(input.fd, &st) == 0, st.st_mode & S_IFMT == S_IFIFO else { return nil }
      var fds: [Int32] = [-1, -1]
      guard swipc_pipe_nonblocking(&fds) == 0 else { return nil }
      self.input = input
      peek = (fds[0], fds[1])
      room = Int(max(swipc_pipe_capacity(fds[1]), 4096))
    }

    deinit {
      closeIgnoringErrors(peek.read)
      closeIgnoringErrors(peek.write)
    }

    /// Like `StreamCopy.read`, but returns at most up to the end of the `records`-th delimiter.
    func read(
      into buffer: UnsafeMutableRawPointer, capacity: Int, records: Int, delimiter: UInt8, call: BlockingCall,
      copied: Int
    ) throws(SwipcError) -> Int {
      let length = min(capacity, room)
      let outcome: BlockingCall.Outcome<Int>
      if input.nonBlocking {
        outcome = call.nonBlocking(fd: input.fd, events: Int16(POLLIN)) {
          swipc_tee(input.fd, peek.write, UInt(length), 1)
        }
      } else {
        outcome = StreamCopy.blocking { swipc_tee(input.fd, peek.write, UInt(length), 0) }
      }
      let peeked = try StreamCopy.check(outcome, end: input, reading: true, copied: copied)
      if peeked == 0 { return 0 }
      // The private pipe holds exactly the copy: read it whole (it never blocks).
      var have = 0
      while have < peeked {
        let r = Glibc.read(peek.read, buffer + have, peeked - have)
        if r > 0 { have += r } else if r < 0 && errno == EINTR { continue } else { break }
      }
      var take = max(have, 1)
      var found = 0
      let bytes = buffer.assumingMemoryBound(to: UInt8.self)
      for i in 0..<have where bytes[i] == delimiter {
        found += 1
        if found == records {
          take = i + 1
          break
        }
      }
      // Now take those bytes out of the input (the same bytes: this is its only reader, or the
      // others' reads are theirs to race).
      return try StreamCopy.read(input, into: buffer, capacity: take, call: call, copied: copied)
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
