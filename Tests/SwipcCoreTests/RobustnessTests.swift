import Testing
@testable import SwipcCore

/// A small deterministic generator, so that a failure can be replayed from its seed.
struct SplitMix64: RandomNumberGenerator {
  var state: UInt64
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

@Suite("Parsers never crash and never shift columns")
struct RobustnessTests {
  static let fixtures: [(String, IPCKind)] = [
    (Fixtures.msg, .msg), (Fixtures.shm16, .shm), (Fixtures.shm14, .shm), (Fixtures.shm15, .shm), (Fixtures.sem, .sem),
  ]

  /// Every record the parser yields from damaged text must be one of the records of the intact
  /// text: damage may drop a line, never produce a line with a value from another column.
  func assertSubset(_ damaged: [UInt8], of text: String, kind: IPCKind) {
    let good = SysVProcParser.parse(Array(text.utf8), kind: kind).objects
    let result = SysVProcParser.parse(damaged, kind: kind)
    for object in result.objects {
      #expect(good.contains(object) || isTruncatedLastField(object, of: good),
        "a record not in the intact text: \(object)")
    }
  }

  /// Cutting inside the last number of the last line leaves a valid, shorter number there.
  func isTruncatedLastField(_ object: IPCObject, of good: [IPCObject]) -> Bool {
    guard let match = good.first(where: { $0.id == object.id }) else { return false }
    var a = object, b = match
    a.rss = nil; b.rss = nil; a.swap = nil; b.swap = nil; a.changeTime = nil; b.changeTime = nil
    a.nsems = nil; b.nsems = nil
    return a == b
  }

  @Test("every truncation of real text parses without a crash", arguments: fixtures)
  func truncations(text: String, kind: IPCKind) {
    let bytes = Array(text.utf8)
    for end in 0...bytes.count {
      assertSubset(Array(bytes[..<end]), of: text, kind: kind)
    }
  }

  @Test("random byte damage never crashes and never shifts a value into another field", arguments: fixtures)
  func mutations(text: String, kind: IPCKind) {
    var rng = SplitMix64(state: 0x5157_4950 &+ UInt64(text.utf8.count))
    let alphabet = Array(" \t\n-0123456789x:\r".utf8) + [0, 255, 0xC3]
    let original = Array(text.utf8)
    for _ in 0..<3000 {
      var bytes = original
      for _ in 0..<Int.random(in: 1...4, using: &rng) {
        let i = Int.random(in: 0..<bytes.count, using: &rng)
        switch Int.random(in: 0..<3, using: &rng) {
        case 0: bytes[i] = alphabet.randomElement(using: &rng)!
        case 1: bytes.remove(at: i)
        default: bytes.insert(alphabet.randomElement(using: &rng)!, at: i)
        }
      }
      let result = SysVProcParser.parse(bytes, kind: kind)
      // A record survives damage only if each of its fields still parses as a number, so all we
      // can demand is sane values: perms within 0o7777, ids non-negative.
      for object in result.objects {
        #expect(object.mode <= 0o7777 && (object.id ?? -1) >= 0)
      }
    }
  }

  @Test("random bytes in every parser: no crash")
  func randomInput() {
    var rng = SplitMix64(state: 42)
    for _ in 0..<2000 {
      let length = Int.random(in: 0..<200, using: &rng)
      let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
      let text = String(decoding: bytes, as: UTF8.self)
      for kind in IPCKind.systemV { _ = SysVProcParser.parse(bytes, kind: kind) }
      MapsParser.forEachMapping(bytes) { _, _, _ in }
      _ = MQueueStatus(parsing: text)
      _ = try? TimeSpan(parsing: text)
      _ = try? IPCKey(parsing: text)
      _ = try? IPCKeyRange(parsing: text)
      _ = try? POSIXName(parsing: text)
      _ = try? ObjectTarget(parsing: text)
      _ = LimitsReader.parseValues(text)
    }
  }

  @Test("every truncation of a sock_diag dump yields only whole records of the intact dump, in order")
  func unixTableTruncations() {
    let bytes = StreamInventoryTests.unix
    var good = [UnixSocketRecord]()
    _ = bytes.withUnsafeBytes { UnixSocketTable.parse(netlink: $0, into: &good) }
    for end in 0...bytes.count {
      var records = [UnixSocketRecord]()
      let batch = bytes[..<end].withUnsafeBytes { UnixSocketTable.parse(netlink: $0, into: &records) }
      #expect(records == Array(good.prefix(records.count)), "truncated at \(end)")
      if end < bytes.count { #expect(batch != .done, "truncated at \(end)") }
    }
  }

  @Test("random damage to a sock_diag dump: no crash, only well-formed records")
  func unixDumpMutations() {
    var rng = SplitMix64(state: 11)
    let original = StreamInventoryTests.unix
    for _ in 0..<3000 {
      var bytes = original
      for _ in 0..<Int.random(in: 1...4, using: &rng) {
        let i = Int.random(in: 0..<bytes.count, using: &rng)
        if Bool.random(using: &rng) { bytes[i] = UInt8.random(in: 0...255, using: &rng) } else { bytes.remove(at: i) }
      }
      var records = [UnixSocketRecord]()
      _ = bytes.withUnsafeBytes { UnixSocketTable.parse(netlink: $0, into: &records) }
      for r in records { #expect(r.path.map { !$0.isEmpty } ?? true) }
    }
  }

  @Test("random damage to fdinfo and mqueue status: no crash, values in range")
  func otherProcTextMutations() {
    var rng = SplitMix64(state: 7)
    let texts = ["pos:\t0\nflags:\t0100001\nmnt_id:\t14\nino:\t123456\n",
      "QSIZE:129        NOTIFY:2     SIGNO:10    NOTIFY_PID:77     \n"]
    let alphabet = Array(" \t\n:0123456789abcdef/@".utf8) + [0, 255]
    for text in texts {
      let original = Array(text.utf8)
      for _ in 0..<3000 {
        var bytes = original
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
          let i = Int.random(in: 0..<bytes.count, using: &rng)
          if Bool.random(using: &rng) { bytes[i] = alphabet.randomElement(using: &rng)! } else { bytes.remove(at: i) }
        }
        let damaged = String(decoding: bytes, as: UTF8.self)
        if let mode = DescriptorScan.accessMode(fdinfo: damaged) { #expect((0...3).contains(mode)) }
        _ = MQueueStatus(parsing: damaged)
      }
    }
  }
}
