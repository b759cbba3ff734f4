import Glibc
import SystemPackage

/// Reads a descriptor as one record or as records separated by a byte (`\n`, NUL), streaming:
/// memory stays one chunk plus the longest record, whatever the input's length.
public struct RecordReader {
  public let fd: Int32
  /// nil: the whole input is one record.
  public let delimiter: UInt8?
  /// A record longer than this is an error (the queue could not take it anyway).
  public let limit: Int
  /// The limit as the error names it, e.g. `MSGMAX (8192, /proc/sys/kernel/msgmax)`.
  public let limitName: String

  /// The error for input longer than `limit`, when the default (naming a message) does not fit.
  let overflow: SwipcError?
  /// What `fd` is, for errors: `standard input` or a file's path.
  public let source: String

  public init(
    fd: Int32, delimiter: UInt8?, limit: Int, limitName: String? = nil, overflow: SwipcError? = nil,
    source: String = "standard input"
  ) {
    self.fd = fd
    self.source = source
    self.delimiter = delimiter
    self.limit = limit
    self.limitName = limitName ?? "the limit of \(limit) bytes"
    self.overflow = overflow
  }

  /// Calls `body` with each record (without its delimiter) and its 1-based number. A final record
  /// without a delimiter counts; an empty input has no records when split, one empty record whole.
  ///
  /// The corresponding C function is `read`.
  public func forEach(_ body: (UnsafeRawBufferPointer, Int) throws(SwipcError) -> Void) throws(SwipcError) {
    var capacity = max(65536, limit + 1)
    var storage = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    defer { storage.deallocate() }
    var filled = 0
    var number = 0
    var eof = false
    func record(_ range: Range<Int>) -> UnsafeRawBufferPointer {
      UnsafeRawBufferPointer(start: storage + range.lowerBound, count: range.count)
    }
    while true {
      if !eof {
        if filled == capacity {
          guard delimiter != nil else { throw recordTooLong(number + 1) }
          let grown = UnsafeMutableRawPointer.allocate(byteCount: capacity * 2, alignment: 16)
          grown.copyMemory(from: storage, byteCount: filled)
          storage.deallocate()
          storage = grown
          capacity *= 2
        }
        let room = capacity - filled
        let base = storage + filled
        switch valueOrErrno({ Glibc.read(fd, base, room) }) {
        case .failure(let e): throw SwipcError(call: "read", object: source, errno: e)
        case .success(0): eof = true
        case .success(let k): filled += k
        }
      }
      guard let delimiter else {
        if eof {
          if filled > limit { throw recordTooLong(1) }
          try body(record(0..<filled), 1)
          return
        }
        continue
      }
      // Hand out every complete record in the buffer, then keep the partial tail.
      let bytes = storage.assumingMemoryBound(to: UInt8.self)
      var start = 0
      var i = 0
      while i < filled {
        if bytes[i] == delimiter {
          number += 1
          if i - start > limit { throw recordTooLong(number) }
          try body(record(start..<i), number)
          start = i + 1
        }
        i += 1
      }
      if eof {
        if start < filled {
          number += 1
          if filled - start > limit { throw recordTooLong(number) }
          try body(record(start..<filled), number)
        }
        return
      }
      if start > 0 {
        if filled > start { storage.copyMemory(from: storage + start, byteCount: filled - start) }
        filled -= start
      }
      if filled > limit { throw recordTooLong(number + 1) }
    }
  }

  func recordTooLong(_ number: Int) -> SwipcError {
    if let overflow { return overflow }
    let what = delimiter == 10 ? "line \(number) of \(source)" : delimiter == nil ? source : "record \(number) of \(source)"
    return SwipcError(category: .failed, call: "", object: what,
      reason: "message of more than \(limit) bytes exceeds \(limitName)")
  }
}
