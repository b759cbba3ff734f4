/// The text a file of the mqueue filesystem reads as:
/// `QSIZE:129        NOTIFY:0     SIGNO:0     NOTIFY_PID:0`.
public struct MQueueStatus: Sendable, Equatable {
  /// Bytes of message data queued (plus the kernel's per-message overhead on some versions).
  public var queuedBytes: UInt64
  public var notify: Int32
  public var signal: Int32
  public var notifyPid: Int32

  /// Parses the status text: a pure function; nil when QSIZE is missing or malformed.
  public init?(parsing text: String) {
    var values: [Substring: Int64] = [:]
    for field in text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }) {
      guard let colon = field.firstIndex(of: ":") else { return nil }
      guard let v = Int64(field[field.index(after: colon)...]) else { return nil }
      values[field[..<colon]] = v
    }
    guard let qsize = values["QSIZE"], qsize >= 0 else { return nil }
    queuedBytes = UInt64(qsize)
    notify = Int32(clamping: values["NOTIFY"] ?? 0)
    signal = Int32(clamping: values["SIGNO"] ?? 0)
    notifyPid = Int32(clamping: values["NOTIFY_PID"] ?? 0)
  }
}
