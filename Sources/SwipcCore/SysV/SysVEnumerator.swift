import CSwipc
import Glibc
import SystemPackage

/// Lists System V message queues and semaphore sets with one MSG_STAT_ANY / SEM_STAT_ANY call per
/// slot (Linux 4.17+), which reads no permission and formats no text: with thousands of objects it
/// costs a fraction of /proc/sysvipc, where the kernel prints every line. Shared memory is listed
/// the same way when its rss and swap are not needed: /proc/sysvipc/shm is the only place that
/// reports those.
///
/// Returns nil when the commands are not available (older kernels, a security module that denies
/// them), and the inventory then reads /proc as before.
enum SysVEnumerator {
  static func list(_ kind: IPCKind, into objects: inout [IPCObject]) -> Bool {
    forEach(kind) { objects.append($0) }
  }

  /// Reads every object of `kind` in the order of its index, handing each to `body` as soon as
  /// it is read: `clean` decides on and removes each one before reading the next. False for a
  /// kind that is not System V.
  static func forEach(_ kind: IPCKind, _ body: (IPCObject) -> Void) -> Bool {
    guard let backend = kind.systemVBackend else { return false }
    return backend.forEach(body)
  }

  /// Objects in use, from the highest used index of each kind: a capacity hint.
  static func estimate(_ kinds: [IPCKind]) -> Int {
    kinds.reduce(0) { total, kind in total + Int(max((kind.systemVBackend?.maxIndex() ?? -1) + 1, 0)) }
  }

  /// Calls `read` for every index up to `maxIndex`; nil with EINVAL or EIDRM is an empty slot (or
  /// one removed just now), nil with any other errno stops the scan as unsupported.
  static func scan(maxIndex: Int32, _ body: (IPCObject) -> Void, read: (Int32) -> IPCObject?) -> Bool {
    guard maxIndex >= -1 else { return false }
    var found = 0
    var index: Int32 = 0
    while index <= maxIndex {
      defer { index += 1 }
      guard let o = read(index) else {
        if errno == EINVAL || errno == EIDRM { continue }
        return false
      }
      found += 1
      body(o)
    }
    return supported(maxIndex: maxIndex, found: found)
  }

  /// The highest index MSG_INFO/SEM_INFO report is in use; finding nothing at all there means
  /// the *_STAT_ANY command is unknown to this kernel (EINVAL for every slot), not an empty list.
  static func supported(maxIndex: Int32, found: Int) -> Bool {
    maxIndex < 0 || found > 0
  }

  /// One object by id: IPC_STAT, or *_STAT_ANY where IPC_STAT needs a read permission the caller
  /// lacks (the index is the id's low bits; the id found there must be the same).
  static func object(kind: IPCKind, id: Int32) -> Result<IPCObject, Errno> {
    guard let backend = kind.systemVBackend else { return .failure(.invalidArgument) }
    return backend.object(id: id)
  }

  static func segment(id: Int32, _ ds: shmid_ds) -> IPCObject {
    var o = object(.shm, id: id, perm: ds.shm_perm, changeTime: Int64(ds.shm_ctime))
    o.size = UInt64(ds.shm_segsz)
    o.cpid = ds.shm_cpid
    o.lpid = ds.shm_lpid
    o.nattch = UInt64(ds.shm_nattch)
    o.holders = Int(clamping: ds.shm_nattch)
    o.attachTime = Int64(ds.shm_atime)
    o.detachTime = Int64(ds.shm_dtime)
    return o
  }

  static func queue(id: Int32, _ ds: msqid_ds) -> IPCObject {
    var o = object(.msg, id: id, perm: ds.msg_perm, changeTime: Int64(ds.msg_ctime))
    o.size = UInt64(ds.__msg_cbytes)
    o.messages = UInt64(ds.msg_qnum)
    o.lspid = ds.msg_lspid
    o.lrpid = ds.msg_lrpid
    o.sendTime = Int64(ds.msg_stime)
    o.receiveTime = Int64(ds.msg_rtime)
    return o
  }

  static func semaphoreSet(id: Int32, _ ds: semid_ds) -> IPCObject {
    var o = object(.sem, id: id, perm: ds.sem_perm, changeTime: Int64(ds.sem_ctime))
    o.nsems = UInt32(clamping: ds.sem_nsems)
    o.operationTime = Int64(ds.sem_otime)
    return o
  }

  static func object(_ kind: IPCKind, id: Int32, perm: ipc_perm, changeTime: Int64) -> IPCObject {
    var perm = perm
    var o = IPCObject(kind: kind, mode: UInt32(perm.mode) & 0o7777, uid: perm.uid, gid: perm.gid)
    o.id = id
    o.key = IPCKey(rawValue: swipc_ipc_perm_key(&perm))
    o.cuid = perm.cuid
    o.cgid = perm.cgid
    o.changeTime = changeTime
    return o
  }
}
