import CSwipc
import Glibc
import SystemPackage

/// Lists POSIX objects: shared memory and named semaphores from the tmpfs behind shm_open(3)
/// (/dev/shm), message queues from the mqueue filesystem.
public enum POSIXReader {
  /// Shared memory objects and named semaphores (`sem.NAME`) in `directory`.
  ///
  /// Only regular files are objects; anything else in the directory is skipped. A semaphore's
  /// value is read from the first word of its file (glibc's `sem_t`), which needs read permission;
  /// without it the value is unknown (nil), never a guess.
  public static func sharedMemoryAndSemaphores(in dir: POSIXDirectory, kinds: Set<IPCKind>)
    -> Result<[IPCObject], Errno>
  {
    let files: [(name: [UInt8], status: stat)]
    switch regularFiles(in: dir) {
    case .failure(let e): return .failure(e)
    case .success(let f): files = f
    }
    var objects = [IPCObject]()
    let prefix = POSIXSemaphores.entryPrefix
    for (entry, st) in files {
      let isSemaphore = entry.starts(with: prefix) && entry.count > prefix.count
      let kind: IPCKind = isSemaphore ? .psem : .pshm
      guard kinds.contains(kind) else { continue }
      var object = fileObject(kind: kind, name: isSemaphore ? entry.dropFirst(prefix.count) : entry[...], st)
      if isSemaphore {
        object.value = semaphoreValue(entry, in: dir)
      } else {
        object.size = UInt64(st.st_size)
      }
      objects.append(object)
    }
    objects.sort { $0.name! < $1.name! }
    return .success(objects)
  }

  /// Message queues in a mounted mqueue filesystem.
  ///
  /// - Parameter canOpen: whether `dir` is the mqueue filesystem of the IPC namespace this runs
  ///   in, so that mq_open(3) of a name found there opens the same queue (to read its attributes).
  public static func messageQueues(in dir: POSIXDirectory, canOpen: Bool)
    -> Result<[IPCObject], Errno>
  {
    let files: [(name: [UInt8], status: stat)]
    switch regularFiles(in: dir) {
    case .failure(let e): return .failure(e)
    case .success(let f): files = f
    }
    var objects = [IPCObject]()
    for (entry, st) in files {
      var object = fileObject(kind: .pmsg, name: entry[...], st)
      if case .success(let file) = dir.open(entry, flags: O_RDONLY) {
        var text = [UInt8](repeating: 0, count: 256)
        let n = text.withUnsafeMutableBytes { pread(file.descriptor, $0.baseAddress, $0.count, 0) }
        if n > 0, let status = MQueueStatus(parsing: String(decoding: text[0..<n], as: UTF8.self)) {
          object.size = status.queuedBytes
          object.notifyPid = status.notifyPid
        }
      }
      if canOpen, let name = object.name, let attributes = queueAttributes(name) {
        object.maxMessages = Int64(attributes.mq_maxmsg)
        object.messageSize = Int64(attributes.mq_msgsize)
        object.messages = UInt64(attributes.mq_curmsgs)
      }
      objects.append(object)
    }
    objects.sort { $0.name! < $1.name! }
    return .success(objects)
  }

  /// The regular files of a directory, with their fstatat: only those are objects; anything else
  /// found there (directories, symlinks) is skipped.
  static func regularFiles(in directory: POSIXDirectory) -> Result<[(name: [UInt8], status: stat)], Errno> {
    directory.entries().map { names in
      names.compactMap { name in
        guard case .success(let st) = directory.status(name), st.st_mode & S_IFMT == S_IFREG else { return nil }
        return (name, st)
      }
    }
  }

  static func fileObject(kind: IPCKind, name: ArraySlice<UInt8>, _ st: stat) -> IPCObject {
    var object = IPCObject(kind: kind, mode: UInt32(st.st_mode & 0o7777), uid: st.st_uid, gid: st.st_gid)
    object.name = POSIXName(entry: name)
    // A queue's change time moves at every read of its status file (the kernel's mqueue_read_file
    // sets it), by swipc's own listing too: its last send, receive or creation (mtime) stands in.
    object.changeTime = Int64(kind == .pmsg ? st.st_mtim.tv_sec : st.st_ctim.tv_sec)
    object.modifyTime = Int64(st.st_mtim.tv_sec)
    object.device = UInt64(st.st_dev)
    object.inode = UInt64(st.st_ino)
    return object
  }

  /// The value of a glibc named semaphore: the low 32 bits of the first 64-bit word of `sem_t`
  /// (the high half counts waiters). nil when the file cannot be read or is no `sem_t`.
  static func semaphoreValue(_ entry: [UInt8], in directory: POSIXDirectory) -> Int64? {
    guard case .success(let file) = directory.open(entry, flags: O_RDONLY, size: MemoryLayout<sem_t>.size)
    else { return nil }
    var word: UInt64 = 0
    let n = withUnsafeMutableBytes(of: &word) { pread(file.descriptor, $0.baseAddress, 8, 0) }
    guard n == 8 else { return nil }
    return Int64(UInt32(truncatingIfNeeded: UInt64(littleEndian: word)) & 0x7fff_ffff)
  }

  /// mq_getattr(3) of a queue opened read-only (which neither consumes nor notifies).
  static func queueAttributes(_ name: POSIXName) -> mq_attr? {
    let mqd = name.withCString { swipc_mq_open($0, O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0, nil) }
    guard mqd != -1 else { return nil }
    defer { mq_close(mqd) }
    var attributes = mq_attr()
    return mq_getattr(mqd, &attributes) == 0 ? attributes : nil
  }
}
