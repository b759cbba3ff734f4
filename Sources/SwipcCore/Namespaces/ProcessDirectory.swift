import CSwipc
import Glibc
import SystemPackage

/// /proc/PID opened as a directory. Everything read through this descriptor belongs to the
/// process that had the pid when it was opened: once that process exits, reads fail (ESRCH or
/// ENOENT) instead of reaching a later process that was given the same pid.
public final class ProcessDirectory {
  public let pid: Int32
  public let descriptor: Int32

  /// The corresponding C function is `open` with `O_DIRECTORY`.
  public init(procDirectory: String, pid: Int32) throws(Errno) {
    let fd = Glibc.open("\(procDirectory)/\(pid)", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)
    guard fd >= 0 else { throw currentErrno }
    self.pid = pid
    descriptor = fd
  }

  deinit { closeIgnoringErrors(descriptor) }

  /// The inode of the process's namespace of `type` (`ipc`, `mnt`): what `ipc:[INODE]` shows.
  /// EACCES when the process is another user's and the caller may not inspect it.
  ///
  /// The corresponding C function is `readlinkat` of `ns/TYPE`. The link's text carries the inode
  /// and is checked as stat would be (ptrace read access); stat would follow the link into nsfs,
  /// which makes and frees an inode and a dentry on every call: `ls -A` asks for every process.
  public func namespaceInode(_ type: String) -> Result<UInt64, Errno> {
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { buffer -> Result<UInt64, Errno> in
      let n = readlinkat(descriptor, "ns/" + type, buffer.baseAddress!, 64)
      guard n >= 0 else { return .failure(currentErrno) }
      let text = UnsafeBufferPointer(rebasing: buffer[0..<n])
      // `TYPE:[DIGITS]`
      let prefix = type.utf8.count + 2
      guard n > prefix + 1, text[n - 1] == 93, text[prefix - 1] == 91, text[prefix - 2] == 58 else {
        return .failure(.invalidArgument)
      }
      var inode: UInt64 = 0
      for byte in text[prefix..<(n - 1)] {
        guard byte >= 48, byte <= 57, inode <= (UInt64.max - 9) / 10 else { return .failure(.invalidArgument) }
        inode = inode * 10 + UInt64(byte - 48)
      }
      return .success(inode)
    }
  }

  /// Opens the process's namespace of `type`, and keeps the descriptor only when it is the
  /// namespace `expected` and the process is still in it: a process that moved to another
  /// namespace (setns) between the scan and now is not followed there.
  public func openNamespace(_ type: String, expected: UInt64) -> Result<Int32, Errno> {
    let fd = openat(descriptor, "ns/" + type, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return .failure(currentErrno) }
    var st = stat()
    guard fstat(fd, &st) == 0, UInt64(st.st_ino) == expected, case .success(expected) = namespaceInode(type) else {
      closeIgnoringErrors(fd)
      return .failure(.noSuchProcess)
    }
    return .success(fd)
  }

  /// The process's root directory as an `O_PATH` descriptor: the start of a look-up that stays
  /// inside it (`openBeneathRoot`).
  public func openRoot() -> Result<Int32, Errno> {
    let fd = openat(descriptor, "root", SWIPC_O_PATH | O_DIRECTORY | O_CLOEXEC)
    return fd >= 0 ? .success(fd) : .failure(currentErrno)
  }

  /// The device and inode of the process's root directory (`root`, followed).
  public func rootIdentity() -> Result<POSIXDirectory.FileIdentity, Errno> {
    var st = stat()
    guard fstatat(descriptor, "root", &st, 0) == 0 else { return .failure(currentErrno) }
    return .success(POSIXDirectory.FileIdentity(st))
  }

  /// A small file of the process (`comm`, `cgroup`), read whole through the directory descriptor.
  public func read(_ name: String, limit: Int = 1 << 16) -> Result<[UInt8], Errno> {
    let fd = openat(descriptor, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW)
    guard fd >= 0 else { return .failure(currentErrno) }
    defer { closeIgnoringErrors(fd) }
    var bytes = [UInt8](repeating: 0, count: 4096)
    var length = 0
    while length < limit {
      if length == bytes.count { bytes.append(contentsOf: repeatElement(0, count: min(bytes.count, limit - length))) }
      let room = bytes.count - length
      let n = bytes.withUnsafeMutableBytes { raw in
        valueOrErrno { Glibc.read(fd, raw.baseAddress! + length, room) }
      }
      switch n {
      case .failure(let e): return .failure(e)
      case .success(0):
        bytes.removeLast(bytes.count - length)
        return .success(bytes)
      case .success(let k): length += k
      }
    }
    bytes.removeLast(bytes.count - length)
    return .success(bytes)
  }

  /// The command name (`comm`) as the kernel keeps it: up to 15 bytes the process chose itself.
  public var command: String? {
    guard case .success(var bytes) = read("comm", limit: 64) else { return nil }
    if bytes.last == 10 { bytes.removeLast() }
    return String(decoding: bytes, as: UTF8.self)
  }

  /// The container, pod, machine or unit the process's cgroups show.
  public var container: ContainerIdentity? {
    guard case .success(let bytes) = read("cgroup") else { return nil }
    return ContainerIdentity.recognize(cgroupText: String(decoding: bytes, as: UTF8.self))
  }
}
