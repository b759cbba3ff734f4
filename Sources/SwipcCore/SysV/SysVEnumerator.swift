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
    switch kind {
    case .msg: return messageQueues(into: &objects)
    case .sem: return semaphoreSets(into: &objects)
    default: return segments(into: &objects)
    }
  }

  /// Objects in use, from the highest used index of each kind: a capacity hint.
  static func estimate(_ kinds: [IPCKind]) -> Int {
    var total = 0
    if kinds.contains(.msg) { total += Int(max(swipc_msg_max_index() + 1, 0)) }
    if kinds.contains(.shm) { total += Int(max(swipc_shm_max_index() + 1, 0)) }
    if kinds.contains(.sem) { total += Int(max(swipc_sem_max_index() + 1, 0)) }
    return total
  }

  static func segments(into objects: inout [IPCObject]) -> Bool {
    let maxIndex = swipc_shm_max_index()
    guard maxIndex >= -1 else { return false }
    let command = swipc_shm_stat_any()
    let start = objects.count
    var ds = shmid_ds()
    var index: Int32 = 0
    while index <= maxIndex {
      defer { index += 1 }
      let id = shmctl(index, command, &ds)
      if id < 0 {
        if errno == EINVAL || errno == EIDRM { continue }
        return false
      }
      var o = object(.shm, id: id, perm: ds.shm_perm, changeTime: Int64(ds.shm_ctime))
      o.size = UInt64(ds.shm_segsz)
      o.cpid = ds.shm_cpid
      o.lpid = ds.shm_lpid
      o.nattch = UInt64(ds.shm_nattch)
      o.holders = Int(ds.shm_nattch)
      o.attachTime = Int64(ds.shm_atime)
      o.detachTime = Int64(ds.shm_dtime)
      objects.append(o)
    }
    return supported(maxIndex: maxIndex, found: objects.count - start)
  }

  static func messageQueues(into objects: inout [IPCObject]) -> Bool {
    let maxIndex = swipc_msg_max_index()
    guard maxIndex >= -1 else { return false }
    let command = swipc_msg_stat_any()
    let start = objects.count
    var ds = msqid_ds()
    var index: Int32 = 0
    while index <= maxIndex {
      defer { index += 1 }
      let id = msgctl(index, command, &ds)
      if id < 0 {
        if errno == EINVAL || errno == EIDRM { continue }  // an empty slot, or removed just now
        return false
      }
      var o = object(.msg, id: id, perm: ds.msg_perm, changeTime: Int64(ds.msg_ctime))
      o.size = UInt64(ds.__msg_cbytes)
      o.messages = UInt64(ds.msg_qnum)
      o.lspid = ds.msg_lspid
      o.lrpid = ds.msg_lrpid
      o.sendTime = Int64(ds.msg_stime)
      o.receiveTime = Int64(ds.msg_rtime)
      objects.append(o)
    }
    return supported(maxIndex: maxIndex, found: objects.count - start)
  }

  /// The highest index MSG_INFO/SEM_INFO report is in use; finding nothing at all there means
  /// the *_STAT_ANY command is unknown to this kernel (EINVAL for every slot), not an empty list.
  static func supported(maxIndex: Int32, found: Int) -> Bool {
    maxIndex < 0 || found > 0
  }

  static func semaphoreSets(into objects: inout [IPCObject]) -> Bool {
    let maxIndex = swipc_sem_max_index()
    guard maxIndex >= -1 else { return false }
    let start = objects.count
    var ds = semid_ds()
    var index: Int32 = 0
    while index <= maxIndex {
      defer { index += 1 }
      let id = swipc_semctl_stat_any(index, &ds)
      if id < 0 {
        if errno == EINVAL || errno == EIDRM { continue }
        return false
      }
      var o = object(.sem, id: id, perm: ds.sem_perm, changeTime: Int64(ds.sem_ctime))
      o.nsems = UInt32(ds.sem_nsems)
      o.operationTime = Int64(ds.sem_otime)
      objects.append(o)
    }
    return supported(maxIndex: maxIndex, found: objects.count - start)
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
