import CSwipc
import Glibc

/// Where the inventory reads from. Each directory can be overridden through the environment so
/// that tests can point swipc at fixture text or at a private mount (documented in swipc(1)).
public struct InventoryPaths: Sendable, Equatable {
  /// /proc/sysvipc, or $SWIPC_SYSVIPC_DIR.
  public var sysvipc: String
  /// /dev/shm, or $SWIPC_SHM_DIR.
  public var shm: String
  /// The mqueue mount point: $SWIPC_MQUEUE_DIR, else /dev/mqueue, else the first mqueue mount in
  /// /proc/self/mounts; nil when none is mounted.
  public var mqueue: String?
  /// Whether `mqueue` is a real mqueue filesystem (so names found there can be mq_open'ed).
  public var mqueueIsLive: Bool
  /// /proc for process scans, or $SWIPC_PROC_DIR.
  public var proc: String
  /// /proc/sys for limits, or $SWIPC_SYSCTL_DIR.
  public var sysctl: String

  public init(
    sysvipc: String = "/proc/sysvipc", shm: String = "/dev/shm", mqueue: String? = "/dev/mqueue",
    mqueueIsLive: Bool = true, proc: String = "/proc", sysctl: String = "/proc/sys"
  ) {
    self.sysvipc = sysvipc
    self.shm = shm
    self.mqueue = mqueue
    self.mqueueIsLive = mqueueIsLive
    self.proc = proc
    self.sysctl = sysctl
  }

  /// The paths in force for this process: defaults, overridden by SWIPC_* variables.
  ///
  /// - Parameter resolvingMqueue: look for the mqueue mount (a statfs, and a read of
  ///   /proc/self/mounts when /dev/mqueue is not one); listings without POSIX queues skip it.
  public static func fromEnvironment(resolvingMqueue: Bool = true) -> InventoryPaths {
    func env(_ name: String) -> String? {
      guard let value = getenv(name), value.pointee != 0 else { return nil }
      return String(cString: value)
    }
    var paths = InventoryPaths(
      sysvipc: env("SWIPC_SYSVIPC_DIR") ?? "/proc/sysvipc", shm: env("SWIPC_SHM_DIR") ?? "/dev/shm",
      mqueue: nil, mqueueIsLive: false, proc: env("SWIPC_PROC_DIR") ?? "/proc",
      sysctl: env("SWIPC_SYSCTL_DIR") ?? "/proc/sys")
    if !resolvingMqueue {
      // Left unresolved on purpose.
    } else if let dir = env("SWIPC_MQUEUE_DIR") {
      paths.mqueue = dir
      paths.mqueueIsLive = isMqueueFilesystem(dir)
    } else if isMqueueFilesystem("/dev/mqueue") {
      paths.mqueue = "/dev/mqueue"
      paths.mqueueIsLive = true
    } else if let mount = firstMqueueMount() {
      paths.mqueue = mount
      paths.mqueueIsLive = true
    }
    return paths
  }

  /// statfs(2) reports the mqueue filesystem's magic number.
  static func isMqueueFilesystem(_ path: String) -> Bool {
    var fs = statfs()
    return statfs(path, &fs) == 0 && UInt(bitPattern: Int(fs.f_type)) == UInt(SWIPC_MQUEUE_MAGIC)
  }

  static func firstMqueueMount() -> String? {
    guard let text = FileReader.readText("/proc/self/mounts") else { return nil }
    for line in text.split(separator: "\n") {
      let fields = line.split(separator: " ")
      if fields.count >= 3 && fields[2] == "mqueue" {
        let point = unescapeMountPath(String(fields[1]))
        if isMqueueFilesystem(point) { return point }
      }
    }
    return nil
  }

  /// /proc/self/mounts escapes blanks and backslashes as octal (`\040`).
  static func unescapeMountPath(_ text: String) -> String {
    guard text.contains("\\") else { return text }
    var out = [UInt8]()
    let bytes = Array(text.utf8)
    var i = 0
    while i < bytes.count {
      if bytes[i] == 92, i + 3 < bytes.count,
        let v = UInt8(String(decoding: bytes[(i + 1)...(i + 3)], as: UTF8.self), radix: 8)
      {
        out.append(v)
        i += 4
      } else {
        out.append(bytes[i])
        i += 1
      }
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// The message that says how to make POSIX queues visible.
  public static let mqueueHint =
    "no mqueue filesystem is mounted; mount one with 'mkdir -p /dev/mqueue && mount -t mqueue none /dev/mqueue' or set SWIPC_MQUEUE_DIR"
}
