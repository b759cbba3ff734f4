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

/// A unix socket from /proc/net/unix, with the processes that hold it.
public struct UnixSocketRecord: Sendable, Equatable {
  /// A path, `@name` for an abstract address, or nil when unbound.
  public var path: String?
  /// `stream`, `dgram`, `seqpacket` (or the number the kernel gave).
  public var type: String
  /// `listen`, `unconnected`, `connecting`, `connected` or `disconnecting`.
  public var state: String
  public var inode: UInt64
  public var processes: [ProcessRef] = []
}

/// What one pass over /proc/*/fd found: pipes, FIFOs and socket holders.
public struct DescriptorScan: Sendable {
  public var pipes: [PipeRecord] = []
  /// Socket inode to the processes that hold it.
  public var socketHolders: [UInt64: [ProcessRef]] = [:]
  /// Processes whose descriptors could not be read (another user's, without privilege).
  public var uninspectable = 0

  /// Reads every process's descriptors once: `pipe:[N]` links are anonymous pipes, links to
  /// files that stat as FIFOs are named pipes, `socket:[N]` links are sockets. The access mode
  /// in /proc/PID/fdinfo/FD says which end a process holds.
  ///
  /// The corresponding C functions are `readlink` and `stat`.
  public static func scan(procDirectory: String = "/proc") -> DescriptorScan {
    var result = DescriptorScan()
    var pipes: [String: PipeRecord] = [:]
    var order: [String] = []
    for pid in FileReader.numericEntries(procDirectory) {
      let base = "\(procDirectory)/\(pid)"
      let fds: [String]
      switch FileReader.list(base + "/fd") {
      case .success(let list): fds = list
      case .failure(let e):
        if e == .permissionDenied || e == .notPermitted { result.uninspectable += 1 }
        continue
      }
      var name: String?
      func process() -> ProcessRef {
        if name == nil { name = FileReader.readText(base + "/comm")?.trimmingNewline() ?? "?" }
        return ProcessRef(pid: pid, name: name!)
      }
      for fd in fds {
        guard let link = readLink(base + "/fd/" + fd) else { continue }
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
        } else if link.hasPrefix("/"), case .success(let st) = FileReader.status(base + "/fd/" + fd, followLinks: true),
          st.st_mode & S_IFMT == S_IFIFO
        {
          key = "fifo:\(st.st_dev):\(st.st_ino)"
          record = PipeRecord(isFIFO: true, inode: UInt64(st.st_ino), path: link)
        } else {
          continue
        }
        if let existing = pipes[key] { record = existing } else { order.append(key) }
        let mode = accessMode(base + "/fdinfo/" + fd)
        let p = process()
        if mode != O_WRONLY && !record.readers.contains(p) { record.readers.append(p) }
        if mode != O_RDONLY && !record.writers.contains(p) { record.writers.append(p) }
        pipes[key] = record
      }
    }
    result.pipes = order.map { pipes[$0]! }
    return result
  }

  static func readLink(_ path: String) -> String? {
    var buffer = [CChar](repeating: 0, count: 4097)
    let n = readlink(path, &buffer, 4096)
    guard n > 0 else { return nil }
    return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
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

/// The pure parser of /proc/net/unix.
public enum UnixSocketTable {
  /// Parses the table: `Num RefCount Protocol Flags Type St Inode Path`; a malformed line is
  /// skipped.
  public static func parse(_ text: String) -> [UnixSocketRecord] {
    var records: [UnixSocketRecord] = []
    for line in text.split(separator: "\n").dropFirst() {
      let fields = line.split(separator: " ", maxSplits: 7, omittingEmptySubsequences: true)
      guard fields.count >= 7, let flags = UInt32(fields[3], radix: 16), let type = Int(fields[4], radix: 16),
        let st = Int(fields[5], radix: 16), let inode = UInt64(fields[6])
      else { continue }
      let path = fields.count > 7 ? String(fields[7]) : nil
      let typeName = type == 1 ? "stream" : type == 2 ? "dgram" : type == 5 ? "seqpacket" : String(type)
      let state: String
      if flags & 0x10000 != 0 {
        state = "listen"  // __SO_ACCEPTCON
      } else {
        state = [1: "unconnected", 2: "connecting", 3: "connected", 4: "disconnecting"][st] ?? String(st)
      }
      records.append(UnixSocketRecord(path: path, type: typeName, state: state, inode: inode))
    }
    return records
  }

  /// The unix sockets of this network namespace, each with the processes that hold it.
  public static func read(procDirectory: String = "/proc", scan: DescriptorScan) throws(SwipcError) -> [UnixSocketRecord] {
    guard let text = FileReader.readText(procDirectory + "/net/unix") else {
      throw SwipcError(category: .unavailable, call: "read", object: procDirectory + "/net/unix",
        reason: "cannot read the unix socket table (is /proc mounted?)")
    }
    return parse(text).map { record in
      var r = record
      r.processes = (scan.socketHolders[record.inode] ?? []).sorted()
      return r
    }
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
