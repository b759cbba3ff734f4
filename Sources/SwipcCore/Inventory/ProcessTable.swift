import CSwipc
import Glibc
import SystemPackage

/// A process that uses an IPC object, and how.
public struct Holder: Sendable, Equatable, Hashable {
  public enum Access: String, Sendable, Hashable { case attached, mapped, open }
  public var pid: Int32
  public var command: String
  public var access: Access
}

/// What a scan of /proc/*/fd and /proc/*/maps found: which processes hold which objects.
public struct HolderIndex: Sendable {
  /// POSIX objects by (device, inode) of their file.
  public var files: [FileID: [Holder]] = [:]
  /// System V segments by shmid (the inode of their `/SYSV%08x` mapping).
  public var segments: [Int32: [Holder]] = [:]
  /// Processes whose fds or maps could not be read (permission); their holdings are unknown.
  public var uninspectable: Int = 0
  /// Processes that were read but may hold files that neither their descriptors nor the part of
  /// their maps read show (io_uring registered files, maps longer than `ProcessTable.mapsLimit`,
  /// descriptors or maps swipc ran out of descriptors or memory to read), plus one when processes were still being born after `ProcessTable.rounds` listings of /proc:
  /// their holdings are unknown, however visible they are.
  public var unresolved: Int = 0

  /// Why holders may be missing though every process was read, or nil.
  public var unresolvedReason: String? {
    guard unresolved > 0 else { return nil }
    return "\(unresolved) process\(unresolved == 1 ? "" : "es") may hold files that /proc does not identify "
      + "(io_uring registered files, memory maps longer than swipc reads, processes born faster than they are scanned, a /proc that could not be listed, swipc out of descriptors or memory)"
  }
  public var inspected: Int = 0

  public struct FileID: Hashable, Sendable {
    public var device: UInt64
    public var inode: UInt64
  }

  /// The files the scan looked for: a file outside them (one that took a name after the scan)
  /// has unknown holders, never none.
  public var scannedFiles: Set<FileID> = []
  /// Whether memory maps were read: a queue (which cannot be mapped) is held only through
  /// descriptors, so a scan for queues alone leaves them out, and then says nothing of other files.
  public var scannedMappings = true

  public func holders(of object: IPCObject) -> [Holder]? {
    if object.kind == .shm, let id = object.id { return segments[id] ?? [] }
    if object.kind.isPOSIX, let device = object.device, let inode = object.inode {
      let file = FileID(device: device, inode: inode)
      guard scannedFiles.contains(file), scannedMappings || object.kind == .pmsg else { return nil }
      return files[file] ?? []
    }
    return nil
  }
}

/// Reads processes from /proc: liveness, command lines, and the holders of IPC objects.
public final class ProcessTable {
  public let procDirectory: String
  private var commands: [Int32: String?] = [:]

  public init(procDirectory: String = "/proc") {
    self.procDirectory = procDirectory
  }

  /// Whether a process with this pid exists. A pid of 0 or less means "unknown" to the kernel's
  /// IPC records and is reported as alive, so that nothing is ever called orphaned on no evidence.
  ///
  /// The corresponding C function is `kill` with signal 0.
  public func isAlive(_ pid: Int32) -> Bool {
    guard pid > 0 else { return true }
    if kill(pid, 0) == 0 { return true }
    return errno == EPERM
  }

  /// The command line of a process (arguments joined by spaces), `[comm]` for kernel threads,
  /// nil when the process is gone.
  public func command(of pid: Int32) -> String? {
    if let cached = commands[pid] { return cached }
    var result: String?
    if pid > 0, case .success(var bytes) = FileReader.read("\(procDirectory)/\(pid)/cmdline", limit: 4096) {
      while bytes.last == 0 { bytes.removeLast() }
      if bytes.isEmpty {
        if let comm = FileReader.readText("\(procDirectory)/\(pid)/comm") {
          result = "[" + comm.trimmingNewline() + "]"
        }
      } else {
        for i in bytes.indices where bytes[i] == 0 { bytes[i] = 32 }
        result = String(decoding: bytes, as: UTF8.self)
      }
    }
    commands[pid] = result
    return result
  }

  /// Scans every process's open files and memory maps once.
  ///
  /// - Parameters:
  ///   - files: the (device, inode) pairs of the POSIX objects of interest; open descriptors are
  ///     only stat'ed when this is not empty.
  ///   - segments: whether to look for System V segment mappings.
  ///   - mappings: whether the files may be mapped (shared memory and semaphores, not queues).
  public func scanHolders(files: Set<HolderIndex.FileID>, segments: Bool, mappings: Bool = true) -> HolderIndex {
    guard remembersHolders, !segments, !files.isEmpty else {
      return scan(files: files, segments: segments, mappings: mappings, all: false)
    }
    // One scan of every file held, answering each later question from memory; read again with
    // the maps when a later question needs them.
    let all: HolderIndex
    if let remembered = rememberedHolders, remembered.scannedMappings || !mappings {
      all = remembered
    } else {
      all = scan(files: files, segments: false, mappings: mappings, all: true)
    }
    rememberedHolders = all
    var index = all
    index.scannedFiles = files
    // The scan of everything leaves commands out (most processes hold nothing asked about).
    index.files = all.files.filter { files.contains($0.key) }.mapValues { holders in
      holders.map { Holder(pid: $0.pid, command: command(of: $0.pid) ?? "?", access: $0.access) }
    }
    return index
  }

  /// Makes now the one scan that the first `scanHolders` would make (of every process's files,
  /// and of their maps with `mappings`): while the caller waits for something else.
  public func scanAllHoldersAhead(mappings: Bool) {
    guard remembersHolders, rememberedHolders == nil else { return }
    rememberedHolders = scan(files: [], segments: false, mappings: mappings, all: true)
  }

  /// Whether `scanHolders` scans /proc once for every file any process holds and answers every
  /// later call from that scan: for listings over many namespaces, each with its own files.
  public var remembersHolders = false
  /// The files swipc held when `ignoresLaterOwnFiles` was called (descriptors it inherited):
  /// later scans count swipc as a holder of those only. A scan made while its visiting thread
  /// opens each queue it lists (`AllNamespaces.stream`) would otherwise count swipc for them.
  private var ownFiles: [HolderIndex.FileID]?

  /// From now on, swipc holds only what it holds now, whatever it opens later: its descriptors,
  /// each read with fstat (no mapping survives exec, and swipc maps no object before a pass).
  public func ignoresLaterOwnFiles() {
    guard ownPid != nil else { return }
    var held: [HolderIndex.FileID] = []
    for fd in FileReader.numericEntries("/proc/self/fd") {
      var st = stat()
      if fstat(fd, &st) == 0 { held.append(HolderIndex.FileID(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))) }
    }
    ownFiles = held
  }

  /// swipc as this /proc numbers it, which is not getpid() where /proc is another PID namespace's;
  /// nil where this /proc does not show swipc (a child PID namespace's).
  var ownPid: Int32? { FileReader.readLink(procDirectory + "/self").flatMap { Int32($0) } }
  private var rememberedHolders: HolderIndex?

  /// Whether a process has one thread, from the link count of its `task` directory (two, plus
  /// one per thread, as for a directory of subdirectories): one stat instead of a listing.
  static func singleThreaded(_ base: String) -> Bool {
    var st = stat()
    return stat(base + "/task", &st) == 0 && st.st_nlink == 3
  }

  /// The threads of a process other than its main one (none for a single-threaded process).
  static func otherThreads(pid: Int32, base: String) -> [Int32] {
    singleThreaded(base) ? [] : FileReader.numericEntries(base + "/task").filter { $0 != pid }
  }

  /// The descriptor tables of those threads that are not the process's own: a thread may hold
  /// what its process does not show, in a table of its own (unshare(CLONE_FILES)), or in the
  /// process's table once the main thread has exited (/proc/PID/fd is empty then).
  static func threadTables(pid: Int32, base: String, threads: [Int32]) -> [String] {
    threads.filter { swipc_same_files(pid, $0) != 0 }.map { "\(base)/task/\($0)" }
  }

  /// The device of the kernel's anonymous inodes (inotify, epoll, io_uring...), nil if unknown.
  static let anonymousInodeDevice: UInt64? = {
    let fd = inotify_init1(Int32(IN_CLOEXEC))
    guard fd >= 0 else { return nil }
    defer { closeIgnoringErrors(fd) }
    var st = stat()
    return fstat(fd, &st) == 0 ? UInt64(st.st_dev) : nil
  }()

  /// Whether a descriptor (`TABLE/fd/N`) is an io_uring instance that may hold files of its own:
  /// registered files (IORING_REGISTER_FILES) stay open after their descriptors are closed, and
  /// its fdinfo names them by path, not by device and inode. Unknown counts as holding.
  static func mayHoldRegisteredFiles(table: String, fd: String, status st: stat) -> Bool {
    // Without the device, every descriptor's link is read.
    if let anonymous = anonymousInodeDevice, UInt64(st.st_dev) != anonymous { return false }
    guard FileReader.readLink(table + "/fd/" + fd) == "anon_inode:[io_uring]" else { return false }
    guard let info = FileReader.readText(table + "/fdinfo/" + fd) else { return true }
    for line in info.split(separator: "\n") where line.hasPrefix("UserFiles:") {
      return line.dropFirst(10).trimmingBlanksSubstring() != "0"
    }
    return true
  }

  /// How much of a process's maps is read: a process can make its maps text far longer (up to
  /// 65530 mappings of a file with a 4 KiB path) to push a mapping past it.
  static let mapsLimit = 64 << 20

  /// Whether a read of a process's /proc directory failed because the process has exited.
  static func exited(_ e: Errno) -> Bool { e == .noSuchFileOrDirectory || e == .noSuchProcess }

  /// How many times a scan lists /proc before giving up on processes born during it.
  static let rounds = 4

  /// - Parameters:
  ///   - all: record every file held, not only `files`, and no commands (`scanHolders` adds those
  ///     of the holders it returns).
  ///   - only: the one process to scan, rather than all of /proc's.
  func scan(files: Set<HolderIndex.FileID>, segments: Bool, mappings: Bool = true, all: Bool, only: Int32? = nil) -> HolderIndex {
    var index = HolderIndex()
    index.scannedFiles = files
    index.scannedMappings = mappings
    let me = ownPid
    // A process born during the scan may hold what its parent held, the parent having exited
    // before its turn: /proc is listed again and newcomers scanned, a bounded number of times.
    var seen = Set<Int32>()
    // A /proc that cannot be listed shows no process, not that none holds anything.
    guard case .success(var pids) = only.map({ .success([$0]) }) ?? FileReader.numericEntriesResult(procDirectory) else {
      index.unresolved += 1
      return index
    }
    var rounds = 0
    while !pids.isEmpty {
      if rounds == Self.rounds {
        index.unresolved += 1  // processes are still being born: what they hold is unknown
        break
      }
      rounds += 1
      seen.formUnion(pids)
      for pid in pids {
        let base = "\(procDirectory)/\(pid)"
        var readable = true
        var found: [(Holder.Access, HolderIndex.FileID?, Int32?)] = []
        var unresolved = false
        let others = Self.otherThreads(pid: pid, base: base)
        if all || !files.isEmpty {
          // Whether the descriptors of one table could all be followed.
          func read(table: String) -> Bool {
            switch FileReader.list(table + "/fd") {
            case .failure(let e) where e == .permissionDenied || e == .notPermitted:
              return false
            case .failure(let e):
              // Out of descriptors or memory (the visiting thread of `ls -A` holds some too), the
              // process is not shown to hold nothing: only one that has exited holds nothing.
              if !Self.exited(e) { unresolved = true }
              return true
            case .success(let fds):
              for fd in fds {
                switch FileReader.status(table + "/fd/" + fd, followLinks: true) {
                case .success(let st):
                  let id = HolderIndex.FileID(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
                  if all || files.contains(id) { found.append((.open, id, nil)) }
                  if !unresolved && Self.mayHoldRegisteredFiles(table: table, fd: fd, status: st) { unresolved = true }
                case .failure(let e) where e == .permissionDenied || e == .notPermitted:
                  // Root may list the descriptors of a process holding capabilities it lacks, but
                  // not follow them: what they are is unknown.
                  return false
                case .failure:
                  continue  // closed since the listing
                }
              }
              return true
            }
          }
          readable = read(table: base)
          // Threads' own tables are only worth comparing when the process's could be read.
          if readable {
            for table in Self.threadTables(pid: pid, base: base, threads: others) {
              guard read(table: table) else { readable = false; break }
            }
          }
        }
        // Threads share one address space: the first thread that still has one shows it.
        for view in segments || mappings ? [base] + others.map({ "\(base)/task/\($0)" }) : [] {
          var mapped = false
          switch FileReader.read(view + "/maps", limit: Self.mapsLimit) {
          case .failure(let e):
            if e == .permissionDenied || e == .notPermitted { readable = false } else if !Self.exited(e) { unresolved = true }
          case .success(let text):
            if text.isEmpty && pid != me { break }  // kernel thread, an exited thread, or a process that just exited
            mapped = true
            // A mapping may follow what was read: what this process holds is unknown.
            if text.count >= Self.mapsLimit { unresolved = true; break }
            MapsParser.forEachMapping(text) { device, inode, path in
              if segments, path.starts(with: MapsParser.sysvPrefix), let id = Int32(exactly: inode) {
                found.append((.attached, nil, id))
              } else if all || !files.isEmpty {
                let id = HolderIndex.FileID(device: device, inode: inode)
                if all || files.contains(id) { found.append((.mapped, id, nil)) }
              }
            }
          }
          if mapped || !readable { break }
        }
        if readable { index.inspected += 1 } else { index.uninspectable += 1 }
        if unresolved { index.unresolved += 1 }
        if pid == me, let own = ownFiles { found.removeAll { $0.1.map { !own.contains($0) } ?? false } }
        guard !found.isEmpty else { continue }
        let command = all ? "" : self.command(of: pid) ?? "?"
        for (access, file, segment) in found {
          let holder = Holder(pid: pid, command: command, access: access)
          if let file {
            if !(index.files[file]?.contains(where: { $0.pid == pid }) ?? false) {
              index.files[file, default: []].append(holder)
            }
          } else if let segment {
            if !(index.segments[segment]?.contains(where: { $0.pid == pid }) ?? false) {
              index.segments[segment, default: []].append(holder)
            }
          }
        }
      }
      if only != nil { break }
      guard case .success(let listed) = FileReader.numericEntriesResult(procDirectory) else {
        index.unresolved += 1
        break
      }
      pids = listed.filter { !seen.contains($0) }
    }
    return index
  }
}

extension String {
  func trimmingNewline() -> String {
    var s = Substring(self)
    while s.last == "\n" || s.last == " " { s = s.dropLast() }
    return String(s)
  }
}
