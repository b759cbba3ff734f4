import CSwipc
import Glibc
import SystemPackage

/// An open message queue, System V or POSIX, with one preallocated buffer: sending and receiving
/// allocate nothing per message.
public final class MessageQueueEndpoint {
  enum Backend {
    case systemV(id: Int32)
    case posix(mqd: mqd_t, name: POSIXName)
  }

  let backend: Backend
  let view: IPCView
  /// The largest message this endpoint sends or receives.
  public let maxMessageSize: Int
  /// `long mtype` followed by the text, as msgsnd/msgrcv want it; POSIX uses the text part only.
  let buffer: UnsafeMutableRawPointer
  public let label: String
  /// Set when the queue's msg_qbytes, not MSGMAX, bounds what can be sent.
  var queueByteLimit: Int?

  /// Opens (or with `create`, creates with mode 0600) the queue a target names.
  ///
  /// - Parameter receiveLimit: for receiving, the largest message to accept (nil: any message
  ///   the queue can hold).
  public init(
    kind: IPCKind, target: ObjectTarget, forSending: Bool, create: Bool, receiveLimit: Int? = nil, view: IPCView
  ) throws(SwipcError) {
    self.view = view
    let kind = target.resolvedKind(kind)
    switch target {
    case .name(let name):
      var flags = (forSending ? O_WRONLY : O_RDONLY) | O_CLOEXEC
      if create { flags |= O_CREAT }
      let mqd = view.executor.perform { POSIXObjects.withoutUmask { swipc_mq_open(name.rawValue, flags, 0o600, nil) } }
      guard mqd != -1 else {
        let e = currentErrno
        throw ObjectOperations.posixError(e, call: "mq_open", kind: .pmsg, name: name,
          action: forSending ? "send to" : "receive from")
      }
      var attributes = mq_attr()
      mq_getattr(mqd, &attributes)
      backend = .posix(mqd: mqd, name: name)
      // mq_receive insists on a buffer of at least mq_msgsize.
      maxMessageSize = Int(attributes.mq_msgsize)
      label = "queue \(name.rawValue)"
    default:
      precondition(kind == .msg)
      let id: Int32
      if create, case .key(let key) = target, !key.isPrivate {
        switch view.executor.perform({ SystemVMessageQueues.get(key: key, mode: 0o600, create: true, exclusive: false) }) {
        case .success(let r): id = r.id
        case .failure(let e): throw SwipcError(call: "msgget", object: "key \(key)", errno: e)
        }
      } else {
        id = try ObjectOperations.systemVID(kind: .msg, target: target, view: view)
      }
      backend = .systemV(id: id)
      label = "queue \(id)"
      if forSending {
        // A message larger than the queue's byte limit would wait for ever: check both limits
        // (msg_qbytes needs read permission; a write-only sender gets MSGMAX alone).
        let msgmax = Int(view.kernelValue("kernel/msgmax") ?? 8192)
        if case .success(let ds) = view.executor.perform({ SystemV.messageQueueStatus(id: id) }), Int(ds.msg_qbytes) < msgmax {
          maxMessageSize = Int(ds.msg_qbytes)
          queueByteLimit = Int(ds.msg_qbytes)
        } else {
          maxMessageSize = msgmax
        }
      } else {
        // A queued message is never larger than the queue's byte limit.
        let qbytes: Int
        switch view.executor.perform({ SystemV.messageQueueStatus(id: id) }) {
        case .success(let ds): qbytes = Int(ds.msg_qbytes)
        case .failure(let e):
          throw ObjectOperations.systemVError(e, call: "msgctl(IPC_STAT)", kind: .msg, id: id, action: "receive from")
        }
        maxMessageSize = receiveLimit ?? max(qbytes, Int(view.kernelValue("kernel/msgmax") ?? 8192))
      }
    }
    buffer = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<Int>.size + max(maxMessageSize, 1), alignment: 16)
  }

  deinit {
    if case .posix(let mqd, _) = backend { mq_close(mqd) }
    buffer.deallocate()
  }

  /// The view's mqueue directory, when it is the filesystem of this queue (looked for when a
  /// receive first waits), and the queue's inode there.
  lazy var naming: (directory: POSIXDirectory, inode: UInt64)? = {
    guard case .posix(let mqd, _) = backend, view.mqueue.isLive, case .success(let directory) = view.mqueue.open()
    else { return nil }
    var ds = stat()
    var qs = stat()
    guard fstat(directory.descriptor, &ds) == 0, fstat(mqd, &qs) == 0, ds.st_dev == qs.st_dev else { return nil }
    return (directory, UInt64(qs.st_ino))
  }()

  /// Whether a POSIX queue's name still names the queue this endpoint opened. mq_unlink does not
  /// wake a waiting receiver, so a wait asks this each time it wakes: through the mqueue
  /// directory's descriptor (never opening the name again), comparing inodes. True when it
  /// cannot tell (no mqueue mount in this namespace).
  ///
  /// The corresponding C functions are `fstat` and `fstatat`.
  func stillNamed() -> Bool {
    guard case .posix(_, let name) = backend, let naming else { return true }
    // The name's exact bytes, as the directory lists them (a name need not be UTF-8).
    switch naming.directory.status(POSIXMessageQueues.entry(name)) {
    case .success(let st): return UInt64(st.st_ino) == naming.inode
    case .failure(.system(_, let e)): return e != .noSuchFileOrDirectory
    case .failure: return true
    }
  }

  public var isPOSIX: Bool {
    if case .posix = backend { return true }
    return false
  }

  /// Sends one message.
  ///
  /// - Parameters:
  ///   - type: System V message type (at least 1), or POSIX priority.
  ///   - wait: block while the queue is full (else `.wouldBlock`).
  /// The corresponding C functions are `msgsnd` and `mq_timedsend`.
  public func send(_ bytes: UnsafeRawBufferPointer, type: Int, wait: Bool, call: BlockingCall) throws(SwipcError) {
    let size = bytes.count
    if size > maxMessageSize { throw tooLarge(size) }
    let outcome: BlockingCall.Outcome<Int32>
    switch backend {
    case .systemV(let id):
      buffer.storeBytes(of: type, as: Int.self)
      if size > 0 { (buffer + MemoryLayout<Int>.size).copyMemory(from: bytes.baseAddress!, byteCount: size) }
      outcome = call.run(wait: wait) { blocking in
        msgsnd(id, buffer, size, blocking ? 0 : IPC_NOWAIT)
      }
    case .posix(let mqd, _):
      let base = bytes.baseAddress?.assumingMemoryBound(to: CChar.self) ?? UnsafePointer(buffer.assumingMemoryBound(to: CChar.self))
      outcome = call.run(wait: wait, stillThere: stillNamed) { blocking in
        var deadline = blocking ? call.realtimeDeadline : timespec()
        return mq_timedsend(mqd, base, size, UInt32(type), &deadline)
      }
    }
    switch outcome {
    case .done: return
    case .timedOut:
      throw SwipcError(category: .wouldBlock, call: callName(send: true), object: label,
        reason: wait ? "timed out: the queue stayed full" : "the queue is full")
    case .interrupted: throw SwipcError(category: .interrupted, call: callName(send: true), object: label, reason: "interrupted")
    case .failed(let e): throw failure(e, send: true, size: size)
    }
  }

  /// One received message: its type (System V) or priority (POSIX), and its bytes, valid until
  /// the next call.
  public struct Received {
    public var type: Int
    public var bytes: UnsafeRawBufferPointer
  }

  /// Receives one message. System V `type`: 0 the first message, N > 0 the first of type N (with
  /// `except`, the first not of type N), N < 0 the first of the lowest type at most |N|.
  ///
  /// The corresponding C functions are `msgrcv` and `mq_timedreceive`.
  public func receive(type: Int, except: Bool, truncate: Bool, wait: Bool, call: BlockingCall)
    throws(SwipcError) -> Received
  {
    let text = buffer + MemoryLayout<Int>.size
    switch backend {
    case .systemV(let id):
      var flags: Int32 = 0
      if except { flags |= SWIPC_MSG_EXCEPT }
      if truncate { flags |= MSG_NOERROR }
      let outcome = call.run(wait: wait) { blocking in
        msgrcv(id, buffer, maxMessageSize, type, flags | (blocking ? 0 : IPC_NOWAIT))
      }
      switch outcome {
      case .done(let n):
        return Received(type: buffer.load(as: Int.self), bytes: UnsafeRawBufferPointer(start: text, count: n))
      case .timedOut: throw emptyError(wait: wait)
      case .interrupted: throw SwipcError(category: .interrupted, call: "msgrcv", object: label, reason: "interrupted")
      case .failed(.argListTooLong):
        let size = view.executor.perform { MessageQueueEndpoint.sizeOfNextMessage(id: id, type: type, except: except) }
          .map { "of \($0) bytes is larger than" } ?? "is larger than"
        throw SwipcError(category: .failed, call: "msgrcv from", object: label,
          reason: "the next matching message \(size) --max-size \(maxMessageSize); it stays in the queue: use --truncate or a larger --max-size")
      case .failed(let e): throw failure(e, send: false, size: 0)
      }
    case .posix(let mqd, _):
      var priority: UInt32 = 0
      let outcome = call.run(wait: wait, stillThere: stillNamed) { blocking in
        var deadline = blocking ? call.realtimeDeadline : timespec()
        return mq_timedreceive(mqd, text.assumingMemoryBound(to: CChar.self), maxMessageSize, &priority, &deadline)
      }
      switch outcome {
      case .done(let n): return Received(type: Int(priority), bytes: UnsafeRawBufferPointer(start: text, count: n))
      case .timedOut: throw emptyError(wait: wait)
      case .interrupted: throw SwipcError(category: .interrupted, call: "mq_timedreceive", object: label, reason: "interrupted")
      case .failed(let e): throw failure(e, send: false, size: 0)
      }
    }
  }

  /// The size of the message msgrcv would take next, found by peeking at each queued message with
  /// MSG_COPY (Linux 3.8 with CONFIG_CHECKPOINT_RESTORE) and applying the msgtyp rules; nil where
  /// MSG_COPY is not available.
  static func sizeOfNextMessage(id: Int32, type: Int, except: Bool) -> Int? {
    guard case .success(let ds) = SystemV.messageQueueStatus(id: id) else { return nil }
    let capacity = max(Int(ds.msg_qbytes), 1)
    let scratch = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<Int>.size + capacity, alignment: 16)
    defer { scratch.deallocate() }
    var queued: [(type: Int, size: Int)] = []
    for index in 0..<Int(ds.msg_qnum) {
      let n = msgrcv(id, scratch, capacity, index, SWIPC_MSG_COPY | IPC_NOWAIT)
      guard n >= 0 else { return nil }
      queued.append((scratch.load(as: Int.self), n))
    }
    if type == 0 { return queued.first?.size }
    if type > 0 { return queued.first { except ? $0.type != type : $0.type == type }?.size }
    let eligible = queued.filter { $0.type <= -type }
    guard let lowest = eligible.map(\.type).min() else { return nil }
    return eligible.first { $0.type == lowest }?.size
  }

  func callName(send: Bool) -> String {
    switch backend {
    case .systemV: return send ? "msgsnd to" : "msgrcv from"
    case .posix: return send ? "mq_send to" : "mq_receive from"
    }
  }

  func emptyError(wait: Bool) -> SwipcError {
    SwipcError(category: .wouldBlock, call: callName(send: false), object: label,
      reason: wait ? "timed out: no message arrived" : "no message is waiting")
  }

  /// The limit on a message's size, named as errors name it.
  public var limitName: String {
    switch backend {
    case .systemV:
      if let queueByteLimit { return "the queue's byte limit (msg_qbytes \(queueByteLimit))" }
      return KernelLimits.describe("MSGMAX", "kernel/msgmax", view: view)
    case .posix: return "the queue's message size (mq_msgsize \(maxMessageSize))"
    }
  }

  func tooLarge(_ size: Int) -> SwipcError {
    SwipcError(category: .failed, call: callName(send: true), object: label,
      reason: "message of \(size) bytes exceeds \(limitName)")
  }

  func failure(_ e: Errno, send: Bool, size: Int) -> SwipcError {
    let call = callName(send: send)
    switch e {
    case .identifierRemoved:
      return SwipcError(category: .notFound, call: call, object: label, reason: "\(label) was removed while waiting")
    case .invalidArgument:
      if case .systemV(let id) = backend {
        return ObjectOperations.systemVError(e, call: call, kind: .msg, id: id, action: send ? "send to" : "receive from")
      }
      return SwipcError(category: .failed, call: call, object: label, errno: e)
    case .messageTooLong: return tooLarge(size)
    case .permissionDenied, .notPermitted:
      return SwipcError(category: .permissionDenied, call: call, object: label,
        reason: "permission denied (needs \(send ? "write" : "read") permission on the queue)")
    case .badFileDescriptor:
      return SwipcError(category: .permissionDenied, call: call, object: label, reason: "not opened for \(send ? "writing" : "reading")")
    default: return SwipcError(call: call, object: label, errno: e)
    }
  }
}
