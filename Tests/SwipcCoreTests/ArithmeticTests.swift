import Testing
@testable import SwipcCore

/// Every number read from /proc or given by the user goes through checked arithmetic: extreme
/// values travel the parser → filter → renderer path without trapping.
@Suite("Checked arithmetic on extreme values")
struct ArithmeticTests {
  static let extremes: [Int64] = [
    .min, .min + 1, -9_223_372_036_854_775_807, -86_400, -1, 1, 1_795_637_821, .max - 1, .max,
  ]

  /// The header of a 16-column /proc/sysvipc/shm and one row per extreme time, with sizes and
  /// counts at UInt64.max.
  static func shmText(times: [Int64]) -> String {
    var text = "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap\n"
    for (i, t) in times.enumerated() {
      text += "\(i + 1) \(i + 1) 600 18446744073709551615 1 1 18446744073709551615 0 0 0 0 \(t) \(t) \(t) 18446744073709551615 18446744073709551615\n"
    }
    return text
  }

  @Test("the parser reads every 64-bit time, Int64.min and UInt64.max included, and skips nothing")
  func parserTakesExtremes() {
    let result = SysVProcParser.parse(Array(Self.shmText(times: Self.extremes).utf8), kind: .shm)
    #expect(result.issues.isEmpty)
    #expect(result.objects.map(\.changeTime) == Self.extremes.map { Optional($0) })
    let unsigned = SysVProcParser.parse(Array(Self.shmText(times: []).utf8) + Array("9 9 600 1 1 1 0 0 0 0 0 18446744073709551615 0 18446744073709551615 0 0\n".utf8), kind: .shm)
    #expect(unsigned.issues.isEmpty)
    #expect(unsigned.objects.first?.changeTime == -1)
    let tooLong = SysVProcParser.parse(Array(Self.shmText(times: []).utf8) + Array("9 9 600 1 1 1 0 0 0 0 0 0 0 -9223372036854775809 0 0\n".utf8), kind: .shm)
    #expect(tooLong.objects.isEmpty && tooLong.issues.count == 1)
  }

  @Test("elapsed seconds saturate instead of overflowing", arguments: ArithmeticTests.extremes)
  func elapsedSaturates(start: Int64) {
    for end in Self.extremes {
      #expect(end.subtractingClamped(start) == Int64(clamping: Int128(end) - Int128(start)))
    }
  }

  @Test("spans in seconds saturate at the extremes")
  func spanFromSeconds() {
    #expect(TimeSpan(seconds: .max).milliseconds == .max)
    #expect(TimeSpan(seconds: .min).milliseconds == .min)
    #expect(TimeSpan(seconds: -2).milliseconds == -2000)
    #expect(TimeSpan.compact(seconds: .max) == "106751991167300d15h")
    #expect(TimeSpan.compact(seconds: .min) == "0s")
  }

  @Test("--older-than and --idle-for judge any ctime and last use without trapping", arguments: ArithmeticTests.extremes)
  func filtersTakeExtremes(now: Int64) throws {
    let objects = SysVProcParser.parse(Array(Self.shmText(times: Self.extremes).utf8), kind: .shm).objects
    for span in [TimeSpan(milliseconds: 0), TimeSpan(seconds: 1), try TimeSpan(parsing: "3000w")] {
      var older = ObjectFilter()
      older.olderThan = span
      var idle = ObjectFilter()
      idle.idleFor = span
      for object in objects {
        let age = now.subtractingClamped(object.changeTime!)
        #expect(older.matchesStatically(object, now: now) == (age >= span.seconds))
        #expect(idle.matchesStatically(object, now: now) == (age >= span.seconds))
      }
    }
  }

  @Test("RFC 3339 covers the years 0000 to 9999 and nothing else")
  func rfc3339Range() {
    #expect(TextFormat.rfc3339(-62_167_219_200) == "0000-01-01T00:00:00Z")
    #expect(TextFormat.rfc3339(253_402_300_799) == "9999-12-31T23:59:59Z")
    #expect(TextFormat.rfc3339(-62_167_219_201) == nil)
    #expect(TextFormat.rfc3339(253_402_300_800) == nil)
    for t in Self.extremes where t < -62_167_219_200 || t > 253_402_300_799 { #expect(TextFormat.rfc3339(t) == nil) }
  }

  @Test("table, CSV and JSON of objects with extreme times and sizes: no trap, times null when RFC 3339 cannot write them")
  func renderersTakeExtremes() throws {
    let objects = SysVProcParser.parse(Array(Self.shmText(times: Self.extremes).utf8), kind: .shm).objects
    for now in Self.extremes {
      let options = RenderOptions(now: now)
      let renderer = ObjectListRenderer(
        objects: objects, kinds: [.shm],
        context: ColumnContext(now: now, processes: ProcessTable(procDirectory: "/nonexistent")),
        columns: ObjectColumn.applicable(to: .shm))
      let formatter = CellFormatter(options: options, users: UserDirectory())
      let table = try renderer.render(as: .table, formatter: formatter)
      let csv = try renderer.render(as: .csv, formatter: formatter)
      let json = try renderer.render(as: .json, formatter: formatter)
      #expect(String(decoding: table.bytes, as: UTF8.self).split(separator: "\n").count == objects.count + 1)
      #expect(String(decoding: csv.bytes, as: UTF8.self).split(separator: "\n").count == objects.count + 1)
      let text = String(decoding: json.bytes, as: UTF8.self)
      #expect(text.contains("\"ctime\":null,\"attach\":null,\"detach\":null"))
      #expect(text.contains("\"ctime\":\"2026-11-25T20:17:01Z\""))
      #expect(!text.contains("\"ctime\":\"-"))
    }
  }

  @Test("sizes and durations from the user: overflow is a usage error, not a trap", arguments: [
    "18446744073709551615", "18446744073709551616", "9223372036854775807", "9223372036854775808", "16777216T", "99999999999999999999K",
  ])
  func byteCountOverflow(text: String) {
    let parsed = try? ByteCount(parsing: text)
    if let parsed { #expect(parsed.bytes <= UInt64(Int64.max)) }
    #expect(text != "9223372036854775807" || parsed?.bytes == UInt64(Int64.max))
  }

  @Test("durations from the user: overflow is a usage error", arguments: [
    "9223372036854775807", "9223372036854775807ms", "106751991167300d", "99999999999999999999s", "3551w", "3550w1w",
  ])
  func timeSpanOverflow(text: String) {
    #expect(throws: SwipcError.self) { try TimeSpan(parsing: text) }
  }
}
