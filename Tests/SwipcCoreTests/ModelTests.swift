import Testing
@testable import SwipcCore

@Suite("Keys, names, targets and durations")
struct ModelTests {
  @Test("keys parse from hex, octal, decimal and /proc's signed decimal", arguments: [
    ("0x1a2b", UInt32(0x1a2b)), ("0X1A2B", 0x1a2b), ("0755", 0o755), ("1234", 1234), ("0", 0),
    ("0xffffffff", 0xffff_ffff), ("-1", 0xffff_ffff), ("-2147483648", 0x8000_0000), ("4294967295", 0xffff_ffff),
  ])
  func keys(text: String, value: UInt32) throws {
    #expect(try IPCKey(parsing: text).unsignedValue == value)
  }

  @Test("bad keys are usage errors", arguments: ["", "0x", "0x1g", "08", "4294967296", "-2147483649", "key", "1.5", "-0x1", " 1"])
  func badKeys(text: String) {
    #expect(throws: SwipcError.self) { try IPCKey(parsing: text) }
    do { _ = try IPCKey(parsing: text) } catch { #expect(error.category == .usage) }
  }

  @Test("keys print as 0x%08x")
  func keyText() {
    #expect(IPCKey(rawValue: 0x1e240).description == "0x0001e240")
    #expect(IPCKey(rawValue: -1).description == "0xffffffff")
  }

  @Test("key ranges")
  func ranges() throws {
    let r = try IPCKeyRange(parsing: "0x1000-0x1fff")
    #expect(r.contains(IPCKey(rawValue: 0x1000)) && r.contains(IPCKey(rawValue: 0x1fff)))
    #expect(!r.contains(IPCKey(rawValue: 0x2000)))
    #expect(try IPCKeyRange(parsing: "-1").contains(IPCKey(rawValue: -1)))
    #expect(throws: SwipcError.self) { try IPCKeyRange(parsing: "0x2000-0x1000") }
    #expect(throws: SwipcError.self) { try IPCKeyRange(parsing: "1-") }
    let high = try IPCKeyRange(parsing: "0x80000000-0xffffffff")
    #expect(high.contains(IPCKey(bitPattern: 0x8000_0001)) && !high.contains(IPCKey(rawValue: 5)))
  }

  @Test("valid POSIX names", arguments: ["/jobs", "/a.b-c_d", "/" + String(repeating: "x", count: 255), "/...", "/é"])
  func goodNames(text: String) throws {
    #expect(try POSIXName(parsing: text).rawValue == text)
  }

  @Test("invalid POSIX names", arguments: ["jobs", "/", "//", "/a/b", "/.", "/..", "", "/" + String(repeating: "x", count: 256), "/a\u{0}b"])
  func badNames(text: String) {
    #expect(throws: SwipcError.self) { try POSIXName(parsing: text) }
  }

  @Test("semaphore names leave room for the sem. prefix")
  func semaphoreNameLength() {
    let name = "/" + String(repeating: "s", count: 252)
    #expect(throws: SwipcError.self) { try POSIXName(parsing: name, kind: .psem) }
    #expect(throws: Never.self) { try POSIXName(parsing: name, kind: .pshm) }
  }

  @Test("targets: ids and names; a /name given to msg means pmsg")
  func targets() throws {
    #expect(try ObjectTarget(parsing: "32768") == .id(32768))
    let t = try ObjectTarget(parsing: "/jobs", kind: .msg)
    #expect(t.resolvedKind(.msg) == .pmsg)
    #expect(ObjectTarget.id(1).resolvedKind(.shm) == .shm)
    for bad in ["-1", "abc", "0x10", "99999999999", ""] {
      #expect(throws: SwipcError.self) { try ObjectTarget(parsing: bad) }
    }
  }

  @Test("durations", arguments: [
    ("500ms", Int64(500)), ("2s", 2000), ("2", 2000), ("1m", 60_000), ("1h30m", 5_400_000), ("7d", 604_800_000),
    ("1w", 604_800_000), ("0s", 0), ("10min", 600_000),
  ])
  func durations(text: String, ms: Int64) throws {
    #expect(try TimeSpan(parsing: text).milliseconds == ms)
  }

  @Test("bad durations", arguments: ["", "s", "5x", "-5s", "1.5h", "1h 2m", "99999999999999999999s", "5s3", "100000000d"])
  func badDurations(text: String) {
    #expect(throws: SwipcError.self) { try TimeSpan(parsing: text) }
  }

  @Test("ages print with their two largest units")
  func compactAges() {
    #expect(TimeSpan.compact(seconds: 42) == "42s")
    #expect(TimeSpan.compact(seconds: 320) == "5m20s")
    #expect(TimeSpan.compact(seconds: 3 * 3600 + 12 * 60 + 5) == "3h12m")
    #expect(TimeSpan.compact(seconds: 86400 + 4 * 3600) == "1d4h")
    #expect(TimeSpan.compact(seconds: -3) == "0s")
  }

  @Test("errors read as one line naming the call and the object")
  func errorText() {
    let e = SwipcError(call: "msgctl(IPC_STAT)", object: "queue 5", errno: .permissionDenied)
    #expect(e.description == "msgctl(IPC_STAT) queue 5: " + SwipcError.explain(.permissionDenied))
    #expect(SwipcError.explain(.permissionDenied, asRoot: false) == "permission denied (run as the object's owner or as root)")
    #expect(SwipcError.explain(.notPermitted, asRoot: true).hasPrefix("permission denied (even to root"))
    #expect(e.category == .permissionDenied)
    #expect(SwipcError.usage("bad").description == "bad")
    #expect(SwipcError(call: "x", object: "", errno: .invalidArgument).category == .notFound)
  }
}
