import Glibc
import Testing
@testable import SwipcCore

/// A temporary directory removed when the value goes away.
final class TemporaryDirectory {
  let path: String
  init() {
    var template = Array("/tmp/swipc-test-XXXXXX".utf8CString)
    path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
  }
  func write(_ relative: String, _ text: String) {
    let full = path + "/" + relative
    var dir = full
    while let slash = dir.lastIndex(of: "/"), dir.count > path.count {
      dir = String(dir[..<slash])
      mkdir(dir, 0o755)
    }
    let parts = relative.split(separator: "/").dropLast()
    var current = path
    for part in parts { current += "/" + part; mkdir(current, 0o755) }
    let fd = open(full, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    precondition(fd >= 0)
    _ = text.utf8CString.withUnsafeBufferPointer { Glibc.write(fd, $0.baseAddress, $0.count - 1) }
    close(fd)
  }
  deinit {
    _ = system("rm -rf '\(path)'")
  }
}

@Suite("Inventory, filters and limits on fixture directories")
struct InventoryTests {
  func fixture() -> (TemporaryDirectory, IPCView) {
    let dir = TemporaryDirectory()
    dir.write("sysvipc/msg", Fixtures.msg)
    dir.write("sysvipc/shm", Fixtures.shm16)
    dir.write("sysvipc/sem", Fixtures.sem + "garbage line\n")
    dir.write("shm/data", String(repeating: "x", count: 100))
    dir.write("shm/sem.lock", "\u{5}\0\0\0\0\0\0\0" + String(repeating: "\0", count: 24))
    dir.write("mqueue/jobs", "QSIZE:129        NOTIFY:0     SIGNO:0     NOTIFY_PID:0     \n")
    dir.write("sys/kernel/msgmni", "32000\n")
    dir.write("sys/kernel/msgmax", "8192\n")
    dir.write("sys/kernel/msgmnb", "16384\n")
    dir.write("sys/kernel/shmmni", "4096\n")
    dir.write("sys/kernel/shmall", "18446744073692774399\n")
    dir.write("sys/kernel/shmmax", "18446744073692774399\n")
    dir.write("sys/kernel/sem", "32000\t1024000000\t500\t32000\n")
    dir.write("sys/fs/mqueue/queues_max", "256\n")
    mkdir(dir.path + "/shm/subdir", 0o755)
    let paths = IPCView.fixture(
      proc: dir.path + "/proc", sysctl: dir.path + "/sys", sysvipc: dir.path + "/sysvipc", shm: dir.path + "/shm",
      mqueue: dir.path + "/mqueue")
    return (dir, paths)
  }

  @Test("one snapshot reads every kind; bad lines become issues; non-files are skipped")
  func snapshot() {
    let (dir, paths) = fixture()
    defer { _ = dir }
    let snap = Inventory(view: paths).snapshot(kinds: IPCKind.allCases, scanHolders: false)
    #expect(snap.unavailable.isEmpty)
    #expect(snap.objects.filter { $0.kind == .msg }.count == 3)
    #expect(snap.objects.filter { $0.kind == .shm }.count == 3)
    #expect(snap.objects.filter { $0.kind == .sem }.count == 2)
    #expect(snap.issues.count == 1 && snap.issues[0].line == 4)
    let pmsg = snap.objects.first { $0.kind == .pmsg }
    #expect(pmsg?.name?.rawValue == "/jobs" && pmsg?.size == 129 && pmsg?.maxMessages == nil)
    let pshm = snap.objects.first { $0.kind == .pshm }
    #expect(pshm?.name?.rawValue == "/data" && pshm?.size == 100)
    let psem = snap.objects.first { $0.kind == .psem }
    #expect(psem?.name?.rawValue == "/lock" && psem?.value == 5)
    #expect(snap.objects.map(\.kind) == snap.objects.map(\.kind).sorted())
  }

  @Test("a missing mqueue mount makes pmsg unavailable, and only pmsg")
  func unmountedMqueue() {
    let (dir, base) = fixture()
    defer { _ = dir }
    var paths = base
    paths.mqueue = .absent(label: "/dev/mqueue")
    let listing = Listing.make(kinds: [.pmsg, .shm], filter: ObjectFilter(), inventory: Inventory(view: paths), processes: ProcessTable(procDirectory: "/nonexistent"))
    #expect(listing.failure == nil)
    #expect(listing.warnings.count == 1 && listing.warnings[0].contains("mount -t mqueue"))
    #expect(listing.objects.count == 3)
    let alone = Listing.make(kinds: [.pmsg], filter: ObjectFilter(), inventory: Inventory(view: paths))
    #expect(alone.failure?.category == .unavailable)
  }

  @Test("a kernel without System V IPC is 'unavailable'")
  func noSysV() {
    let (dir, base) = fixture()
    defer { _ = dir }
    var paths = base
    paths.sysvipc = dir.path + "/missing"
    let listing = Listing.make(kinds: [.msg], filter: ObjectFilter(), inventory: Inventory(view: paths))
    #expect(listing.failure?.category == .unavailable)
  }

  func objects() -> [IPCObject] {
    SysVProcParser.parse(Array(Fixtures.msg.utf8), kind: .msg).objects
      + SysVProcParser.parse(Array(Fixtures.shm16.utf8), kind: .shm).objects
      + SysVProcParser.parse(Array(Fixtures.sem.utf8), kind: .sem).objects
  }

  func ids(_ filter: ObjectFilter, now: Int64 = 1_795_637_900) -> [String] {
    objects().filter { filter.matchesStatically($0, now: now) }.map { "\($0.kind.rawValue)\($0.id!)" }
  }

  @Test("filters: owner, creator, key ranges, age, idleness, attach, removal, world access")
  func filters() throws {
    var f = ObjectFilter()
    #expect(f.isEmpty && ids(f).count == 8)
    f.owners = [12345]
    #expect(ids(f) == ["msg2"])
    f = ObjectFilter(); f.creators = [1000]
    #expect(ids(f) == ["sem1"])
    f = ObjectFilter(); f.keys = [try IPCKeyRange(parsing: "0x1000-0x6000")]
    #expect(ids(f) == ["shm0", "shm2"])
    f = ObjectFilter(); f.keys = [try IPCKeyRange(parsing: "0x80000000-0xffffffff")]
    #expect(ids(f) == ["msg0", "msg2"])
    f = ObjectFilter(); f.olderThan = try TimeSpan(parsing: "10m")
    #expect(ids(f) == ["shm2"])
    f = ObjectFilter(); f.idleFor = try TimeSpan(parsing: "1m")
    #expect(ids(f) == ["msg0", "msg1", "msg2", "shm0", "shm1", "shm2", "sem0"])
    f = ObjectFilter(); f.unattached = true
    #expect(ids(f) == ["shm0"])
    f = ObjectFilter(); f.removed = true
    #expect(ids(f) == ["shm1"])
    f = ObjectFilter(); f.worldWritable = true
    #expect(ids(f) == ["shm2", "sem1"])
    f = ObjectFilter(); f.worldReadable = true
    #expect(ids(f) == ["msg1", "msg2", "shm2", "sem1"])
  }

  @Test("name globs match POSIX names with or without the slash")
  func globs() throws {
    let name = try POSIXName(parsing: "/jobs.high")
    #expect(ObjectFilter.glob("jobs*", matches: name))
    #expect(ObjectFilter.glob("/jobs.*", matches: name))
    #expect(!ObjectFilter.glob("job", matches: name))
    var f = ObjectFilter()
    f.nameGlobs = ["*"]
    #expect(ids(f).isEmpty, "System V objects have no names")
  }

  @Test("orphans: a pid of 0 is unknown, an attached segment never orphaned, dead pids are")
  func orphans() {
    // Every process seen (the visibility and the queue-waiter scan are tested end to end): a
    // /proc of no process. One that cannot be listed leaves states unknown (`procNotListed`).
    let empty = TemporaryDirectory()
    let proc = empty.path
    var scanned = HolderIndex()
    scanned.scannedFiles = [HolderIndex.FileID(device: 1, inode: 2)]
    let detector = OrphanDetector(
      view: .fixture(proc: proc, sysctl: "/nonexistent", sysvipc: "/nonexistent", shm: "/nonexistent", mqueue: nil), processes: ProcessTable(procDirectory: proc), holderIndex: scanned, minAge: 0,
      visibility: ProcessVisibility(blindSpot: nil))
    let dead: Int32 = 1 << 30  // above any pid_max
    let alive = getpid()
    var shm = IPCObject(kind: .shm)
    shm.id = 1; shm.nattch = 0; shm.cpid = dead; shm.lpid = 0
    #expect(detector.isOrphaned(shm))
    shm.lpid = alive; shm.attachTime = 1
    #expect(!detector.isOrphaned(shm))
    shm.lpid = dead; shm.nattch = 1
    #expect(!detector.isOrphaned(shm), "attached is never orphaned")
    shm.nattch = 0; shm.cpid = 0; shm.lpid = 0
    #expect(!detector.isOrphaned(shm), "no known pid: unknown, not orphaned")
    var msg = IPCObject(kind: .msg)
    msg.id = 99_999_999; msg.lspid = 0; msg.lrpid = 0
    #expect(!detector.isOrphaned(msg))
    msg.lspid = dead
    #expect(!detector.isOrphaned(msg), "a pid without a send time is no evidence of use")
    msg.sendTime = 1
    #expect(detector.isOrphaned(msg))
    #expect(detector.state(of: msg) == .orphaned)
    let recent = OrphanDetector(
      view: .fixture(proc: proc, sysctl: "/nonexistent", sysvipc: "/nonexistent", shm: "/nonexistent", mqueue: nil), processes: ProcessTable(procDirectory: proc), holderIndex: HolderIndex(), minAge: 60, now: 100,
      visibility: ProcessVisibility(blindSpot: nil))
    msg.changeTime = 90
    #expect(recent.state(of: msg) == .recent("created or changed less than --min-age 1m ago"))
    let child = OrphanDetector(
      view: .fixture(proc: proc, sysctl: "/nonexistent", sysvipc: "/nonexistent", shm: "/nonexistent", mqueue: nil), processes: ProcessTable(procDirectory: proc), holderIndex: scanned, minAge: 0,
      visibility: ProcessVisibility(blindSpot: "hidden", childPIDNamespace: true))
    shm.lpid = 0
    #expect(child.state(of: shm) == .unknown("a recorded pid is 0: a process outside this PID namespace"))
    var pshm = IPCObject(kind: .pshm)
    pshm.device = 1; pshm.inode = 2
    #expect(detector.isOrphaned(pshm), "no holder in a complete scan")
    var later = pshm; later.inode = 3
    #expect(detector.state(of: later) == .unknown("its file could not be identified"), "a file the scan did not look for")
    var partial = scanned; partial.uninspectable = 1
    #expect(!OrphanDetector(view: .fromEnvironment(), processes: ProcessTable(), holderIndex: partial, minAge: 0, visibility: ProcessVisibility(blindSpot: nil)).isOrphaned(pshm), "an uninspectable process may hold it")
    #expect(child.state(of: pshm) == .unknown("hidden"))
    #expect(!detector.isOrphaned(IPCObject(kind: .psem)), "no file identity: unknown")
  }

  @Test("limits with use and percent from a snapshot")
  func limits() {
    let (dir, paths) = fixture()
    defer { _ = dir }
    let rows = LimitsReader.read(view: paths)
    func row(_ name: String) -> LimitRow? { rows.first { $0.resource == name } }
    #expect(row("MSGMNI")?.limit == 32000 && row("MSGMNI")?.used == 3)
    #expect(row("SEMMNS")?.limit == 1_024_000_000 && row("SEMMNS")?.used == 13)
    #expect(row("SEMMSL")?.limit == 32000 && row("SEMOPM")?.limit == 500 && row("SEMMNI")?.used == 2)
    #expect(row("SHMALL")?.limit == 18_446_744_073_692_774_399)
    #expect(row("MSGQUEUED")?.used == 2 && row("MSGBYTES")?.used == 11)
    #expect(row("MQ_QUEUES_MAX")?.used == 1 && row("MQ_MSG_MAX")?.limit == nil)
    #expect(row("MSGMNI")?.usePercent == 3.0 / 32000 * 100)
    #expect(TextFormat.percent(0.0234) == "0.02%")
    #expect(TextFormat.percent(12.5) == "12.50%")
    #expect(LimitsReader.parseValues("32000\t1024000000\t500\t32000\n") == [32000, 1_024_000_000, 500, 32000])
    #expect(LimitsReader.parseValues("abc") == nil)
  }

  @Test("mqueue status text")
  func mqueueStatus() {
    let s = MQueueStatus(parsing: "QSIZE:129        NOTIFY:2     SIGNO:10    NOTIFY_PID:77     \n")
    #expect(s?.queuedBytes == 129 && s?.notify == 2 && s?.signal == 10 && s?.notifyPid == 77)
    #expect(MQueueStatus(parsing: "") == nil)
    #expect(MQueueStatus(parsing: "QSIZE:x") == nil)
    #expect(MQueueStatus(parsing: "NOTIFY:0") == nil)
  }

  @Test("maps lines: System V segments by inode, files by device and inode")
  func maps() {
    let text = """
      7f1c2a000000-7f1c2a001000 rw-s 00000000 00:01 5                          /SYSV00001234 (deleted)
      7f1c2a100000-7f1c2a101000 rw-s 00000000 00:01 0                          /SYSV00004242
      7f1c2b000000-7f1c2b002000 rw-s 00000000 00:1a 42                         /dev/shm/cache
      7f1c2c000000-7f1c2c001000 r--p 00000000 fd:01 1234567                    /usr/lib/libc.so.6
      7ffd1c000000-7ffd1c021000 rw-p 00000000 00:00 0                          [stack]
      bad line

      """
    var seen: [(UInt64, UInt64, String)] = []
    MapsParser.forEachMapping(Array(text.utf8)) { seen.append(($0, $1, String(decoding: $2, as: UTF8.self))) }
    #expect(seen.count == 4)
    #expect(seen[0].1 == 5 && seen[0].2.hasPrefix("/SYSV00001234"))
    #expect(seen[1].1 == 0 && seen[1].2 == "/SYSV00004242", "segment 0 has inode 0")
    seen.remove(at: 1)
    #expect(seen[1].0 == MapsParser.makeDevice(major: 0, minor: 0x1a) && seen[1].1 == 42)
    #expect(seen[2].0 == MapsParser.makeDevice(major: 0xfd, minor: 1))
    #expect(MapsParser.makeDevice(major: 8, minor: 1) == 2049)
  }
}

@Suite("Directory listing through getdents64")
struct DirectoryListingTests {
  @Test("every entry of a directory larger than one read, numeric and not, and none of . and ..")
  func manyEntries() throws {
    let dir = TemporaryDirectory()
    // About 600 KiB of entries: many getdents64 calls of 32 KiB each.
    let long = String(repeating: "n", count: 200)
    for i in 0..<3000 { dir.write("\(i)", "") }
    for i in 0..<2000 { dir.write("\(long)\(i)", "") }
    let names = try FileReader.list(dir.path).get()
    #expect(names.count == 5000)
    #expect(Set(names).count == 5000)
    #expect(!names.contains(".") && !names.contains(".."))
    let numbers = FileReader.numericEntries(dir.path)
    #expect(numbers.sorted() == Array(0..<3000))
  }

  @Test("a name that is not UTF-8 is listed with its bytes replaced, a missing directory is an error")
  func oddNames() {
    let dir = TemporaryDirectory()
    let raw: [UInt8] = Array((dir.path + "/a\u{1}b").utf8) + [0xFF, 0]
    let fd = raw.withUnsafeBufferPointer { open(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), O_WRONLY | O_CREAT, 0o600) }
    #expect(fd >= 0)
    close(fd)
    let names = (try? FileReader.list(dir.path).get()) ?? []
    #expect(names == ["a\u{1}b\u{FFFD}"])  // before "plain" exists
    #expect(FileReader.numericEntries(dir.path) == [])
    guard case .failure(.noSuchFileOrDirectory) = FileReader.list(dir.path + "/missing") else {
      Issue.record("a missing directory lists")
      return
    }
    dir.write("plain", "")
    guard case .failure(.notDirectory) = FileReader.list(dir.path + "/plain") else {
      Issue.record("a file that is not a directory lists")
      return
    }
  }
}
