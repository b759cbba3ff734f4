import Testing
@testable import SwipcCore

@Suite("Parsing /proc/sysvipc text")
struct SysVProcParserTests {
  func parse(_ text: String, _ kind: IPCKind) -> SysVProcParser.Result {
    SysVProcParser.parse(Array(text.utf8), kind: kind)
  }

  @Test("message queues: signed keys, private keys, queued messages, uids without names")
  func messageQueues() throws {
    let result = parse(Fixtures.msg, .msg)
    #expect(result.issues.isEmpty)
    #expect(result.objects.count == 3)
    let q = result.objects[0]
    #expect(q.key == IPCKey(bitPattern: 0x8000_0001))
    #expect(q.key?.description == "0x80000001")
    #expect(q.id == 0)
    #expect(q.mode == 0o600)
    #expect(q.size == 11)
    #expect(q.messages == 2)
    #expect(q.lspid == 8890 && q.lrpid == 0)
    #expect(q.sendTime == 1_795_637_821 && q.receiveTime == nil)
    #expect(result.objects[1].key?.isPrivate == true)
    #expect(result.objects[2].key == IPCKey(rawValue: -686_730_981))
    #expect(result.objects[2].uid == 12345 && result.objects[2].cgid == 12345)
  }

  @Test("shared memory, 16 columns: status bits, 64-bit sizes, rss and swap")
  func sharedMemory16() {
    let result = parse(Fixtures.shm16, .shm)
    #expect(result.issues.isEmpty)
    #expect(result.objects.count == 3)
    let plain = result.objects[0], dest = result.objects[1], locked = result.objects[2]
    #expect(plain.key?.description == "0x00001234")
    #expect(plain.permissions == 0o640 && !plain.isMarkedForRemoval && !plain.isLocked)
    #expect(plain.attachTime == nil && plain.detachTime == nil)
    #expect(dest.isMarkedForRemoval && !dest.isLocked && dest.permissions == 0o600)
    #expect(dest.nattch == 1 && dest.holders == 1 && dest.rss == 4096)
    #expect(locked.isLocked && locked.permissions == 0o666)
    #expect(locked.size == 18_446_744_073_692_774_399)
    #expect(locked.swap == 8192 && locked.cpid == 1 && locked.changeTime == 1_795_636_000)
  }

  @Test("shared memory, 14 and 15 columns: older kernels parse by header")
  func sharedMemoryOlderLayouts() {
    let old = parse(Fixtures.shm14, .shm)
    #expect(old.issues.isEmpty)
    #expect(old.objects.count == 1)
    #expect(old.objects[0].id == 32768 && old.objects[0].size == 524_288)
    #expect(old.objects[0].rss == nil && old.objects[0].swap == nil)
    #expect(old.objects[0].changeTime == 1_299_999_999)
    let mid = parse(Fixtures.shm15, .shm)
    #expect(mid.issues.isEmpty)
    #expect(mid.objects.first?.rss == 4096 && mid.objects.first?.swap == nil)
  }

  @Test("semaphore sets")
  func semaphores() {
    let result = parse(Fixtures.sem, .sem)
    #expect(result.issues.isEmpty)
    #expect(result.objects.map(\.nsems) == [3, 10])
    #expect(result.objects[1].mode == 0o666 && result.objects[1].gid == 100)
    #expect(result.objects[1].operationTime == 1_795_637_900)
    #expect(result.objects[0].lastActivity == nil)
  }

  @Test("an empty file and a header alone give no objects and no issues")
  func empty() {
    #expect(parse("", .msg).objects.isEmpty)
    let headerOnly = parse(String(Fixtures.sem.split(separator: "\n")[0]) + "\n", .sem)
    #expect(headerOnly.objects.isEmpty && headerOnly.issues.isEmpty)
  }

  @Test("without a header the current layout is assumed")
  func noHeader() {
    let line = "       119          0   600          3     0     0     0     0          0 1795637821\n"
    let result = parse(line, .sem)
    #expect(result.objects.count == 1 && result.objects[0].nsems == 3)
  }

  static let malformed: [(String, String)] = [
    ("       119          0   600          3     0     0\n", "expected 10 fields, found 6"),
    ("       119          0   600          3     0     0     0     0          0 1795637821 99\n", "expected 10 fields, found 11"),
    ("       119          x   600          3     0     0     0     0          0 1795637821\n", "id 'x' is not a number"),
    ("       119          0   689          3     0     0     0     0          0 1795637821\n", "a value is out of range"),
    ("       119         -5   600          3     0     0     0     0          0 1795637821\n", "a value is out of range"),
    ("99999999999          0   600          3     0     0     0     0          0 1795637821\n", "a value is out of range"),
    ("       119          0   600          3     0     0     0     0          0 99999999999999999999999\n", "ctime '99999999999999999999999' is not a number"),
  ]

  @Test("a malformed line is reported with its number and skipped", arguments: malformed)
  func malformedLine(line: String, message: String) {
    let header = String(Fixtures.sem.split(separator: "\n")[0]) + "\n"
    let good = "       120          7   600          1     0     0     0     0          0 1795637821\n"
    let result = parse(header + line + good, .sem)
    #expect(result.objects.map(\.id) == [7], "the good line after the bad one is kept")
    #expect(result.issues.count == 1)
    #expect(result.issues.first?.line == 2)
    #expect(result.issues.first?.message == message)
    #expect(result.issues.first?.description.contains("line 2") == true)
  }

  @Test("a header without the needed columns is an issue, not a crash")
  func badHeader() {
    let result = parse("key foo bar\n1 2 3\n", .msg)
    #expect(result.objects.isEmpty)
    #expect(result.issues.first?.line == 1)
  }

  @Test("perms digits are octal: 8 and 9 are rejected")
  func octalPerms() {
    #expect(SysVProcParser.octal(fromDecimalDigitsOf: 1600) == 0o1600)
    #expect(SysVProcParser.octal(fromDecimalDigitsOf: 0) == 0)
    #expect(SysVProcParser.octal(fromDecimalDigitsOf: 680) == nil)
  }
}
