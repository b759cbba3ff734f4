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
  public static func sharedMemoryAndSemaphores(in directory: String, kinds: Set<IPCKind>)
    -> Result<[IPCObject], Errno>
  {
    let files: [(name: String, path: String, status: stat)]
    switch regularFiles(in: directory) {
    case .failure(let e): return .failure(e)
    case .success(let f): files = f
    }
    var objects = [IPCObject]()
    for (entry, path, st) in files {
      let isSemaphore = entry.hasPrefix("sem.") && entry.utf8.count > 4
      let kind: IPCKind = isSemaphore ? .psem : .pshm
      guard kinds.contains(kind) else { continue }
      var object = fileObject(kind: kind, name: isSemaphore ? String(entry.dropFirst(4)) : entry, st)
      if isSemaphore {
        object.value = semaphoreValue(path: path)
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
  /// - Parameter canOpen: whether `directory` is this IPC namespace's mqueue filesystem, so that
  ///   mq_open(3) of a name found there opens the same queue (to read its attributes).
  public static func messageQueues(in directory: String, canOpen: Bool) -> Result<[IPCObject], Errno> {
    let files: [(name: String, path: String, status: stat)]
    switch regularFiles(in: directory) {
    case .failure(let e): return .failure(e)
    case .success(let f): files = f
    }
    var objects = [IPCObject]()
    for (entry, path, st) in files {
      var object = fileObject(kind: .pmsg, name: entry, st)
      if let text = FileReader.readText(path), let status = MQueueStatus(parsing: text) {
        object.size = status.queuedBytes
        object.notifyPid = status.notifyPid
      }
      if canOpen, let attributes = queueAttributes(name: "/" + entry) {
        object.maxMessages = Int64(attributes.mq_maxmsg)
        object.messageSize = Int64(attributes.mq_msgsize)
        object.messages = UInt64(attributes.mq_curmsgs)
      }
      objects.append(object)
    }
    objects.sort { $0.name! < $1.name! }
    return .success(objects)
  }

  /// The regular files of a directory, with their lstat: only those are objects; anything else
  /// found there (directories, symlinks) is skipped.
  static func regularFiles(in directory: String) -> Result<[(name: String, path: String, status: stat)], Errno> {
    FileReader.list(directory).map { names in
      names.compactMap { name in
        let path = directory + "/" + name
        guard case .success(let st) = FileReader.status(path), st.st_mode & S_IFMT == S_IFREG else { return nil }
        return (name, path, st)
      }
    }
  }

  static func fileObject(kind: IPCKind, name: String, _ st: stat) -> IPCObject {
    var object = IPCObject(kind: kind, mode: UInt32(st.st_mode & 0o7777), uid: st.st_uid, gid: st.st_gid)
    object.name = POSIXName(entry: name)
    object.changeTime = Int64(st.st_ctim.tv_sec)
    object.modifyTime = Int64(st.st_mtim.tv_sec)
    object.accessTime = Int64(st.st_atim.tv_sec)
    object.device = UInt64(st.st_dev)
    object.inode = UInt64(st.st_ino)
    return object
  }

  /// The value of a glibc named semaphore: the low 32 bits of the first 64-bit word of `sem_t`
  /// (the high half counts waiters). nil when the file cannot be read.
  static func semaphoreValue(path: String) -> Int64? {
    let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
    guard fd >= 0 else { return nil }
    defer { closeIgnoringErrors(fd) }
    var word: UInt64 = 0
    let n = withUnsafeMutableBytes(of: &word) { pread(fd, $0.baseAddress, 8, 0) }
    guard n == 8 else { return nil }
    return Int64(UInt32(truncatingIfNeeded: UInt64(littleEndian: word)) & 0x7fff_ffff)
  }

  /// mq_getattr(3) of a queue opened read-only (which neither consumes nor notifies).
  static func queueAttributes(name: String) -> mq_attr? {
    let mqd = swipc_mq_open(name, O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0, nil)
    guard mqd != -1 else { return nil }
    defer { mq_close(mqd) }
    var attributes = mq_attr()
    return mq_getattr(mqd, &attributes) == 0 ? attributes : nil
  }
}
