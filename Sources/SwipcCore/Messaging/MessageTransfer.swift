/// The loops of `msg send` and `msg recv`, over an endpoint; output is handed to the caller.
public enum MessageTransfer {
  /// Sends `text` as one message, or every record of `reader`.
  ///
  /// - Returns: The number of messages sent.
  /// - Throws: The first failure, with the number already sent in its reason.
  public static func send(
    to endpoint: MessageQueueEndpoint, text: [UInt8]?, reader: RecordReader?, type: Int, wait: Bool,
    call: BlockingCall
  ) throws(SwipcError) -> Int {
    if let text {
      let result = text.withUnsafeBytes { raw in
        Result { () throws(SwipcError) in try endpoint.send(raw, type: type, wait: wait, call: call) }
      }
      try result.get()
      return 1
    }
    var sent = 0
    do throws(SwipcError) {
      try reader!.forEach { record, _ throws(SwipcError) in
        try endpoint.send(record, type: type, wait: wait, call: call)
        sent += 1
        call.restart()
      }
    } catch {
      var error = error
      if sent > 0 { error.reason = (error.reason ?? error.description) + " (\(sent) messages were sent before)" }
      throw error
    }
    return sent
  }

  /// How a receiving loop ended.
  public enum End: Equatable {
    /// Received what was asked.
    case complete
    /// Stopped early: the queue was empty (--nowait) or stayed empty (--timeout).
    case empty(SwipcError)
    case interrupted
  }

  /// Receives up to `count` messages (nil: until interrupted or empty), handing each to `output`.
  /// `ready` runs before each receive and throws to stop before another message is taken. The
  /// call's timeout applies to each message: it starts again after every one.
  public static func receive(
    from endpoint: MessageQueueEndpoint, type: Int, except: Bool, truncate: Bool, count: Int?,
    wait: Bool, call: BlockingCall, ready: () throws(SwipcError) -> Void = {},
    output: (MessageQueueEndpoint.Received) throws(SwipcError) -> Void
  ) throws(SwipcError) -> (received: Int, end: End) {
    var received = 0
    while count.map({ received < $0 }) ?? true {
      try ready()
      let message: MessageQueueEndpoint.Received
      do throws(SwipcError) {
        message = try endpoint.receive(type: type, except: except, truncate: truncate, wait: wait, call: call)
      } catch {
        switch error.category {
        case .wouldBlock: return (received, .empty(error))
        case .interrupted: return (received, .interrupted)
        default: throw error
        }
      }
      try output(message)
      received += 1
      call.restart()
    }
    return (received, .complete)
  }
}
