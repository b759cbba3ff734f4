import Glibc
import SystemPackage

/// POSIX message queues: files of the view's mqueue filesystem.
public enum POSIXMessageQueues: POSIXBackend {
  public static let removeCall = "unlinkat"
  public static let setCall = "fchmod"
  public static let entryPrefix: [UInt8] = []
  public static func directory(in view: IPCView) -> ObjectDirectory { view.mqueue }

  public static func create(_ name: POSIXName, mode: UInt32, exclusive: Bool, request: CreatePlan, view: IPCView)
    throws(SwipcError)
  {
    if case .failure(let e) = POSIXObjects.createQueue(name, mode: mode, exclusive: exclusive,
      maxMessages: request.maxMessages, messageSize: request.messageSize, view: view)
    {
      throw SwipcError(category: e == .invalidArgument ? .failed : nil, call: "mq_open", object: name.rawValue,
        errno: e, reason: Creator.explainQueue(e, request, view: view))
    }
  }
}

/// POSIX shared memory: files of the view's shm directory.
public enum POSIXSharedMemory: POSIXBackend {
  public static let removeCall = "unlinkat"
  public static let setCall = "fchmod"
  public static let entryPrefix: [UInt8] = []
  public static func directory(in view: IPCView) -> ObjectDirectory { view.shm }

  public static func create(_ name: POSIXName, mode: UInt32, exclusive: Bool, request: CreatePlan, view: IPCView)
    throws(SwipcError)
  {
    if case .failure(let error) = POSIXObjects.createSharedMemory(name, mode: mode, exclusive: exclusive,
      size: request.size?.bytes ?? 0, view: view)
    {
      var error = error
      if error.errno == .fileExists { error.reason = "already exists (drop --exclusive to use it; anyone can create names in /dev/shm, so check its owner)" }
      throw error
    }
  }
}

/// POSIX named semaphores: glibc's `sem.NAME` files of the view's shm directory.
public enum POSIXSemaphores: POSIXBackend {
  public static let removeCall = "unlinkat"
  public static let setCall = "fchmod"
  public static let entryPrefix: [UInt8] = Array("sem.".utf8)
  public static func directory(in view: IPCView) -> ObjectDirectory { view.shm }

  public static func create(_ name: POSIXName, mode: UInt32, exclusive: Bool, request: CreatePlan, view: IPCView)
    throws(SwipcError)
  {
    let value = UInt32(request.values?.first ?? 0)
    if case .failure(let error) = POSIXObjects.createSemaphore(name, mode: mode, exclusive: exclusive, value: value,
      view: view)
    {
      var error = error
      if error.errno == .fileExists { error.reason = "already exists (drop --exclusive to use it)" }
      throw error
    }
  }
}
