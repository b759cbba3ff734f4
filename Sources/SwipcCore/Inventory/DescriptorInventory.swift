import CSwipc
import Glibc
import SystemPackage

/// A process using a pipe or socket: its pid and name (/proc/PID/comm).
public struct ProcessRef: Sendable, Hashable, Comparable {
  public var pid: Int32
  public var name: String

  public static func < (a: ProcessRef, b: ProcessRef) -> Bool { a.pid < b.pid }
}

/// A pipe or FIFO in use, with the processes holding its read and write ends.
public struct PipeRecord: Sendable, Equatable {
  public var isFIFO: Bool
  public var inode: UInt64
  /// The FIFO's path; nil for an anonymous pipe.
  public var path: String?
  public var readers: [ProcessRef] = []
  public var writers: [ProcessRef] = []
}

/// A unix socket (from sock_diag netlink), with the processes that hold it.
public struct UnixSocketRecord: Sendable, Equatable {
  /// A path, `@name` for an abstract address, or nil when unbound.
  public var path: String?
  /// `stream`, `dgram`, `seqpacket` (or the number the kernel gave).
  public var type: String
  /// `listen`, `unconnected`, `connecting`, `connected` or `disconnecting`.
  public var state: String
  public var inode: UInt64
  public var processes: [ProcessRef] = []

  public init(path: String?, type: String, state: String, inode: UInt64, processes: [ProcessRef] = []) {
    self.path = path
    self.type = type
    self.state = state
    self.inode = inode
    self.processes = processes
  }
}

/// What one pass over /proc/*/fd found: pipes, FIFOs and socket holders.
public struct DescriptorScan: Sendable {
  public var pipes: [PipeRecord] = []
  /// Socket inode to the processes that hold it.
  public var socketHolders: [UInt64: [ProcessRef]] = [:]
  /// Processes whose descriptors could not be read or followed (see `uninspectableReason`).
  public var uninspectable = 0
  /// Whether /proc hides other users' processes altogether (mounted with hidepid): their
  /// descriptors are not even counted in `uninspectable`.
  public var processesHidden = false

  /// Reads every process's descriptors once: `pipe:[N]` links are anonymous pipes, links to
  /// files that stat as FIFOs are named pipes, `socket:[N]` links are sockets. The access mode
  /// in /proc/PID/fdinfo/FD says which end a process holds.
  ///
  /// The corresponding C functions are `readlink` and `stat`.
  public static func scan(procDirectory: String = "/proc") -> DescriptorScan {
    var result = DescriptorScan()
    // Process 1 always exists in a pid namespace; not seeing it in a real /proc means hidepid.
    if procDirectory == "/proc", case .failure(.noSuchFileOrDirectory) = FileReader.status("/proc/1") {
      result.processesHidden = true
    }
    var pipes: [String: PipeRecord] = [:]
    var order: [String] = []
    for pid in FileReader.numericEntries(procDirectory) {
      let base = "\(procDirectory)/\(pid)"
      var name: String?
      func process() -> ProcessRef {
        if name == nil { name = FileReader.readText(base + "/comm")?.trimmingNewline() ?? "?" }
        return ProcessRef(pid: pid, name: name!)
      }
      // Whether the descriptors of one table could all be followed.
      func read(table: String) -> Bool {
        let fds: [String]
        switch FileReader.list(table + "/fd") {
        case .success(let list): fds = list
        case .failure(let e): return e != .permissionDenied && e != .notPermitted
        }
        for fd in fds {
          let link: String
          switch FileReader.readLinkResult(table + "/fd/" + fd) {
          case .success(let text): link = text
          case .failure(let e) where e == .permissionDenied || e == .notPermitted:
            // Listed but not followed (it holds capabilities this process lacks): unknown.
            return false
          case .failure: continue  // closed since the listing
          }
          if let inode = bracketed(link, prefix: "socket:[") {
            let p = process()
            if !(result.socketHolders[inode]?.contains(p) ?? false) { result.socketHolders[inode, default: []].append(p) }
            continue
          }
          var key: String
          var record: PipeRecord
          if let inode = bracketed(link, prefix: "pipe:[") {
            key = "pipe:\(inode)"
            record = PipeRecord(isFIFO: false, inode: inode, path: nil)
          } else if link.hasPrefix("/"), case .success(let st) = FileReader.status(table + "/fd/" + fd, followLinks: true),
            st.st_mode & S_IFMT == S_IFIFO
          {
            key = "fifo:\(st.st_dev):\(st.st_ino)"
            record = PipeRecord(isFIFO: true, inode: UInt64(st.st_ino), path: link)
          } else {
            continue
          }
          if let existing = pipes[key] { record = existing } else { order.append(key) }
          let mode = accessMode(table + "/fdinfo/" + fd)
          let p = process()
          if mode != O_WRONLY && !record.readers.contains(p) { record.readers.append(p) }
          if mode != O_RDONLY && !record.writers.contains(p) { record.writers.append(p) }
          pipes[key] = record
        }
        return true
      }
      var readable = read(table: base)
      // Threads' own tables are only worth comparing when the process's could be read.
      if readable {
        let threads = ProcessTable.otherThreads(pid: pid, base: base)
        for table in ProcessTable.threadTables(pid: pid, base: base, threads: threads) where !read(table: table) {
          readable = false
          break
        }
      }
      if !readable { result.uninspectable += 1 }
    }
    result.pipes = order.map { pipes[$0]! }
    return result
  }

  static func bracketed(_ link: String, prefix: String) -> UInt64? {
    guard link.hasPrefix(prefix), link.hasSuffix("]") else { return nil }
    return UInt64(link.dropFirst(prefix.count).dropLast())
  }

  /// O_RDONLY, O_WRONLY or O_RDWR of the descriptor whose fdinfo file this is; O_RDWR (counted
  /// as both ends) when it cannot be read.
  static func accessMode(_ path: String) -> Int32 {
    FileReader.readText(path).flatMap(accessMode(fdinfo:)) ?? O_RDWR
  }

  /// The access mode from the `flags:` line (octal) of fdinfo text: a pure function, nil when the
  /// line is missing or malformed.
  public static func accessMode(fdinfo text: String) -> Int32? {
    for line in text.split(separator: "\n") where line.hasPrefix("flags:") {
      if let flags = Int32(line.dropFirst(6).trimmingCharacters(), radix: 8) { return flags & O_ACCMODE }
    }
    return nil
  }
}

/// The unix sockets of this network namespace, read through sock_diag netlink (what `ss -x`
/// reads): binary records, so a path is data however it is spelled (a newline in it cannot make a
/// row of its own), and a dump of any size arrives in batches (no cap on how many).
public enum UnixSocketTable {
  /// How a batch of netlink messages ended.
  public enum Batch: Equatable {
    /// More batches follow.
    case more
    /// NLMSG_DONE: the dump is complete.
    case done
    /// NLMSG_ERROR from the kernel, or a message cut short.
    case failed(Errno)
  }

  /// The attributes asked for: the address (type, state and inode always come).
  static let show = UInt32(UDIAG_SHOW_NAME)

  /// The dump request: a netlink header, then `struct unix_diag_req` for every socket state.
  static func request(sequence: UInt32) -> [UInt8] {
    var bytes = [UInt8]()
    func put<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
    put(UInt32(16 + 24))
    put(UInt16(SOCK_DIAG_BY_FAMILY))
    put(UInt16(NLM_F_REQUEST | NLM_F_ROOT | NLM_F_MATCH))
    put(sequence)
    put(UInt32(0))
    put(UInt8(AF_UNIX))
    put(UInt8(0))
    put(UInt16(0))
    put(UInt32.max)  // udiag_states: every state
    put(UInt32(0))  // udiag_ino: any
    put(show)
    put(UInt32.max)
    put(UInt32.max)
    return bytes
  }

  /// Parses one batch of netlink messages into `records`: a pure function of the bytes, which
  /// may come from the kernel or from anyone (each length is checked against what is there).
  public static func parse(netlink bytes: UnsafeRawBufferPointer, into records: inout [UnixSocketRecord]) -> Batch {
    var offset = 0
    while bytes.count - offset >= 16 {
      let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
      let type = Int32(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt16.self)))
      guard length >= 16, length <= bytes.count - offset else { return .failed(.badMessage) }
      let payload = UnsafeRawBufferPointer(rebasing: bytes[(offset + 16)..<(offset + length)])
      switch type {
      case NLMSG_DONE: return .done
      case NLMSG_ERROR:
        guard payload.count >= 4 else { return .failed(.badMessage) }
        let code = Int32(littleEndian: payload.loadUnaligned(as: Int32.self))
        if code == 0 { return .done }
        return .failed(code < 0 && code > Int32.min ? Errno(rawValue: -code) : .badMessage)
      case Int32(SOCK_DIAG_BY_FAMILY):
        if let record = parseSocket(payload) { records.append(record) }
      default: break
      }
      offset += min((length + 3) & ~3, bytes.count - offset)
    }
    return offset == bytes.count ? .more : .failed(.badMessage)
  }

  /// One `struct unix_diag_msg` and its attributes; nil when too short to be one.
  static func parseSocket(_ payload: UnsafeRawBufferPointer) -> UnixSocketRecord? {
    guard payload.count >= 16, payload[0] == UInt8(AF_UNIX) else { return nil }
    let type = payload[1]
    let state = payload[2]
    let inode = UInt64(UInt32(littleEndian: payload.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
    var record = UnixSocketRecord(
      path: nil, type: type == 1 ? "stream" : type == 2 ? "dgram" : type == 5 ? "seqpacket" : String(type),
      state: stateName(state), inode: inode)
    var offset = 16
    while payload.count - offset >= 4 {
      let length = Int(UInt16(littleEndian: payload.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
      let kind = Int(UInt16(littleEndian: payload.loadUnaligned(fromByteOffset: offset + 2, as: UInt16.self)) & 0x3FFF)
      guard length >= 4, length <= payload.count - offset else { break }
      let value = UnsafeRawBufferPointer(rebasing: payload[(offset + 4)..<(offset + length)])
      switch kind {
      case 0: record.path = addressText(value)  // UNIX_DIAG_NAME
      default: break
      }
      offset += min((length + 3) & ~3, payload.count - offset)
    }
    return record
  }

  /// A path (trailing NULs dropped), or `@name` for an abstract address (its NULs shown as `@`,
  /// as /proc/net/unix and ss show them); nil for none.
  static func addressText(_ value: UnsafeRawBufferPointer) -> String? {
    guard let first = value.first else { return nil }
    if first == 0 {
      return "@" + String(decoding: value.dropFirst().map { $0 == 0 ? UInt8(ascii: "@") : $0 }, as: UTF8.self)
    }
    let end = value.firstIndex(of: 0) ?? value.count
    return end == 0 ? nil : String(decoding: UnsafeRawBufferPointer(rebasing: value[0..<end]), as: UTF8.self)
  }

  /// The kernel keeps a unix socket's state in TCP terms.
  static func stateName(_ state: UInt8) -> String {
    switch state {
    case 10: return "listen"  // TCP_LISTEN
    case 1: return "connected"  // TCP_ESTABLISHED
    case 2: return "connecting"  // TCP_SYN_SENT
    case 7: return "unconnected"  // TCP_CLOSE
    default: return "disconnecting"
    }
  }

  /// The unix sockets of this network namespace, each with the processes that hold it.
  ///
  /// The corresponding C functions are `socket(AF_NETLINK, ..., NETLINK_SOCK_DIAG)`, `send` and
  /// `recv`.
  public static func read(scan: DescriptorScan) throws(SwipcError) -> [UnixSocketRecord] {
    let fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), NETLINK_SOCK_DIAG)
    guard fd >= 0 else { throw unavailable(currentErrno) }
    defer { closeIgnoringErrors(fd) }
    let message = request(sequence: 1)
    let sent = message.withUnsafeBytes { raw in valueOrErrno { send(fd, raw.baseAddress!, raw.count, 0) } }
    if case .failure(let e) = sent { throw unavailable(e) }
    let capacity = 1 << 16
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    defer { buffer.deallocate() }
    var records = [UnixSocketRecord]()
    while true {
      let n: Int
      switch valueOrErrno({ recv(fd, buffer, capacity, Int32(MSG_TRUNC)) }) {
      case .failure(let e): throw unavailable(e)
      case .success(let got): n = got
      }
      guard n > 0, n <= capacity else { throw unavailable(n == 0 ? .badMessage : .messageTooLong) }
      switch parse(netlink: UnsafeRawBufferPointer(start: buffer, count: n), into: &records) {
      case .more: continue
      case .done:
        return records.map { record in
          var r = record
          r.processes = (scan.socketHolders[record.inode] ?? []).sorted()
          return r
        }
      case .failed(let e): throw unavailable(e)
      }
    }
  }

  static func unavailable(_ e: Errno) -> SwipcError {
    SwipcError(category: .unavailable, call: "sock_diag netlink", object: "unix sockets", errno: e,
      reason: "cannot read the unix socket table (\(SwipcError.strerror(e))); the kernel needs unix_diag (modprobe unix_diag)")
  }
}

extension Substring {
  func trimmingCharacters() -> String {
    var s = self
    while let c = s.first, c == " " || c == "\t" { s = s.dropFirst() }
    while let c = s.last, c == " " || c == "\t" { s = s.dropLast() }
    return String(s)
  }
}

/// Why some processes could not be examined, in the words the caller can act on: an ordinary user
/// is refused other users' processes; root is refused a process that holds capabilities root
/// lacks (the ptrace access check), which running as root again would not change.
public func uninspectableReason(toSee what: String) -> String {
  geteuid() == 0 ? "they hold capabilities this process lacks" : "another user's; run as root to see \(what)"
}
