import Foundation
import Testing
@testable import SwipcCore

/// The output pipeline: every renderer through every writer it declares, complete records, one
/// JSON layout, and escaping of other users' text in each format.
@Suite("Output pipeline")
struct OutputPipelineTests {
  static let now: Int64 = 1_795_637_900
  static var formatter: CellFormatter { CellFormatter(options: RenderOptions(now: now), users: UserDirectory()) }
  static var context: ColumnContext { ColumnContext(now: now, processes: ProcessTable(procDirectory: "/nonexistent")) }

  /// A POSIX shared memory object named `/x\xff"\n`: not UTF-8, with a quote and a newline.
  static func hostileObject() -> IPCObject {
    var o = IPCObject(kind: .pshm, mode: 0o644, uid: 0, gid: 0)
    o.name = POSIXName(entry: [0x78, 0xFF, 0x22, 0x0A])
    o.size = 1
    o.changeTime = now - 5
    return o
  }

  static func objects() -> [IPCObject] {
    SysVProcParser.parse(Array(Fixtures.shm16.utf8), kind: .shm).objects
      + SysVProcParser.parse(Array(Fixtures.msg.utf8), kind: .msg).objects + [hostileObject()]
  }

  static func limits() -> [LimitRow] {
    [LimitRow(kind: .shm, resource: "SHMALL", description: "pages, \"all\"", limit: 18_446_744_073_692_774_399, used: 3, unit: .pages, source: "/proc/sys/kernel/shmall"),
     LimitRow(kind: .msg, resource: "MSGMNI", description: "queues", limit: 32000, used: nil, unit: .count, source: "x")]
  }

  static func cleanReport() -> CleanReport {
    var report = CleanReport()
    let objects = objects()
    report.append(objects[0], .removed)
    report.append(objects[3], .skipped("changed since it was listed"))
    report.append(objects.last!, .wouldRemove)
    return report
  }

  static func details() -> ObjectDetails {
    var d = ObjectDetails(object: objects()[1])
    d.holders = [Holder(pid: 7, command: "a\u{1b}[2Jb", access: .open)]
    d.commands = [7: "cmd \"x\""]
    d.notes = ["a note"]
    return d
  }

  static func pipes() -> RecordRenderer {
    RecordRenderer.pipes([PipeRecord(isFIFO: true, inode: 9, path: "/tmp/a\u{7}b", readers: [ProcessRef(pid: 3, name: "c\"d")], writers: [])])
  }

  /// Every renderer of the program, with content that needs escaping.
  static func renderings() -> [(String, any Rendering)] {
    [("ls", ObjectListRenderer(objects: objects(), kinds: [.shm, .msg, .pshm], context: context, columns: nil, orphaned: [.shm: 1])),
     ("ls -o", ObjectListRenderer(objects: objects(), kinds: [.shm, .msg, .pshm], context: context, columns: ["NAME", "ID", "STATUS"].compactMap(ObjectColumn.named))),
     ("ls pipe", pipes()),
     ("limits", LimitsRenderer(limits())),
     ("clean", CleanReportRenderer(cleanReport())),
     ("show", DetailsRenderer(details(), context: context)),
     ("sem get", SemaphoreValuesRenderer(name: POSIXName(entry: [0x73, 0xFE]), id: nil, states: [SemaphoreState(index: 0, value: 2, lastPid: 0, waitingForIncrease: 0, waitingForZero: 0)]))]
  }

  /// A writer that checks what renderers hand any writer: each record complete, columns named.
  struct CheckingWriter: RecordWriter {
    static let format = OutputFormat.csv
    var columns = 0
    var cells = 0
    var records = 0
    var problems: [String] = []

    mutating func begin(_ columns: [OutputColumn], title: String?) {
      if cells != 0 { problems.append("a group began inside a record") }
      if columns.isEmpty || columns.contains(where: { $0.heading.isEmpty || $0.key.isEmpty }) { problems.append("a column without a name") }
      if Set(columns.map(\.key)).count != columns.count { problems.append("a key twice in one record") }
      self.columns = columns.count
    }

    mutating func cell(_ value: CellValue) {
      cells += 1
      if cells == columns {
        cells = 0
        records += 1
      }
    }

    mutating func finish() -> OutputBuffer {
      if cells != 0 { problems.append("the last record is incomplete") }
      return OutputBuffer()
    }
  }

  @Test("every renderer hands writers complete records with named, distinct columns")
  func completeRecords() {
    for (name, rendering) in Self.renderings() {
      var writer = CheckingWriter()
      rendering.write(to: &writer)
      _ = writer.finish()
      #expect(writer.problems.isEmpty, "\(name): \(writer.problems)")
      #expect(writer.records > 0, "\(name)")
    }
  }

  @Test("a format a renderer does not declare is a usage error, never another format")
  func undeclaredFormats() throws {
    for (name, rendering) in Self.renderings() {
      let declared = type(of: rendering).formats
      for format in OutputFormat.allCases where !declared.contains(format) {
        #expect(throws: SwipcError.usage("this output is written as \(OutputFormat.list(declared)), not \(format.rawValue)"), "\(name) \(format)") {
          _ = try rendering.render(as: format, formatter: Self.formatter)
        }
      }
    }
    #expect(throws: SwipcError.usage("not written as csv here: use table or json")) {
      try OutputFormat(parsing: "csv", accepted: DetailsRenderer.formats)
    }
    #expect(throws: SwipcError.usage("unknown format 'xml': use table, json, csv or prometheus")) {
      try OutputFormat(parsing: "xml", accepted: ObjectListRenderer.formats)
    }
    #expect(try OutputFormat(parsing: "prometheus", accepted: LimitsRenderer.formats) == .prometheus)
  }

  @Test("every JSON output is valid JSON; arrays share one layout; names not UTF-8 keep their bytes in KEY_base64")
  func json() throws {
    for (name, rendering) in Self.renderings() where type(of: rendering).formats.contains(.json) {
      let bytes = try rendering.render(as: .json, formatter: Self.formatter).bytes
      let text = String(decoding: bytes, as: UTF8.self)
      let parsed = try JSONSerialization.jsonObject(with: Data(bytes))
      #expect(text.hasSuffix("\n") && !text.dropLast().contains("\n") || text.hasPrefix("["), "\(name): one line or an array")
      if let array = parsed as? [[String: Any]] {
        // One layout for every array: `[`, then an object per line indented by two, then `]`.
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.first == "[" && lines.dropLast().last == "]" && lines.last == "", "\(name): \(text)")
        #expect(lines.dropFirst().dropLast(2).allSatisfy { $0.hasPrefix("  {") && ($0.hasSuffix("},") || $0.hasSuffix("}")) }, "\(name)")
        #expect(lines.count == array.count + 3, "\(name)")
        #expect(array.allSatisfy { $0["type"] is String }, "\(name): type first in every object")
      } else {
        #expect(parsed is [String: Any], "\(name)")
      }
    }
    // The hostile name: its JSON text has U+FFFD, its exact bytes (slash, x, FF, quote, newline) are in name_base64.
    let ls = try JSONSerialization.jsonObject(with: Data(try Self.renderings()[0].1.render(as: .json, formatter: Self.formatter).bytes)) as! [[String: Any]]
    let hostile = try #require(ls.last)
    #expect(hostile["name"] as? String == "/x\u{FFFD}\"\n")
    #expect(hostile["name_base64"] as? String == Data([0x2F, 0x78, 0xFF, 0x22, 0x0A]).base64EncodedString())
    #expect(ls.filter { $0["name_base64"] != nil }.count == 1, "only the name that is not UTF-8")
    let sem = try JSONSerialization.jsonObject(with: Data(try Self.renderings()[6].1.render(as: .json, formatter: Self.formatter).bytes)) as! [String: Any]
    #expect(sem["name_base64"] as? String == Data([0x2F, 0x73, 0xFE]).base64EncodedString())
  }

  @Test("tables escape other users' text, one row per record; CSV quotes it")
  func escaping() throws {
    for (name, rendering) in Self.renderings() where type(of: rendering).formats.contains(.table) {
      let text = String(decoding: try rendering.render(as: .table, formatter: Self.formatter).bytes, as: UTF8.self)
      #expect(!text.utf8.contains(0x1B) && !text.utf8.contains(0x07) && !text.contains("\u{FFFD}"), "\(name): \(text)")
    }
    let ls = String(decoding: try Self.renderings()[0].1.render(as: .table, formatter: Self.formatter).bytes, as: UTF8.self)
    #expect(ls.contains("/x\\377\"\\n "))
    let csv = String(decoding: try Self.renderings()[0].1.render(as: .csv, formatter: Self.formatter).bytes, as: UTF8.self)
    #expect(csv.contains(",\"/x\u{FFFD}\"\"\n\","))
  }

  @Test("every cell type in every writer: no trap, and the JSON is valid")
  func everyCellType() throws {
    let values: [CellValue] = [
      .null, .int(.min), .uint(.max), .text("t\u{0}\u{7f}"), .name(POSIXName(entry: [0xC3, 0x28])), .bytes(.max), .time(nil),
      .time(.max), .time(0), .seconds(.min), .user(0), .group(4_294_967_295), .perms(0o7777), .key(IPCKey(rawValue: -1)),
      .list([]), .list(["a", "\""]), .bool(true), .percent(.nan), .percent(12.5), .processes([]),
      .processes([ProcessRef(pid: 1, name: "x,y")]), .base64([]), .base64([0xFF]), .array([]), .array([.null, .int(1)]),
      .fields([]), .fields([.init("name", .name(POSIXName(entry: [0xFF])))]),
    ]
    let columns = values.indices.map { OutputColumn("C\($0)") }
    var table = TableOutput(formatter: Self.formatter), csv = CSVOutput(formatter: Self.formatter)
    var json = JSONOutput(formatter: Self.formatter, layout: .object)
    table.begin(columns, title: "T")
    csv.begin(columns, title: nil)
    json.begin(columns, title: nil)
    for v in values {
      table.cell(v)
      csv.cell(v)
      json.cell(v)
    }
    #expect(String(decoding: table.finish().bytes, as: UTF8.self).split(separator: "\n").count == 3)
    #expect(String(decoding: csv.finish().bytes, as: UTF8.self).hasSuffix("\n"))
    let object = try JSONSerialization.jsonObject(with: Data(json.finish().bytes)) as! [String: Any]
    #expect(object.count == values.count + 1, "the name not UTF-8 has its c4_base64")
    #expect(object["c4_base64"] as? String == Data([0x2F, 0xC3, 0x28]).base64EncodedString())
    #expect((object["c26"] as? [String: Any])?["name_base64"] as? String == Data([0x2F, 0xFF]).base64EncodedString())
  }

  /// JSON copies a cell's bytes from the record before when its value is the same: every record
  /// must still read as if written alone, whatever came before it.
  @Test("JSON records with values repeated, changed and changed back read as each written alone")
  func repeatedValues() throws {
    let rows: [[CellValue]] = [
      [.text("a"), .user(0), .time(0), .name(POSIXName(entry: [0xFF])), .percent(0.0)],
      [.text("a"), .user(0), .time(0), .name(POSIXName(entry: [0xFF])), .percent(-0.0)],
      [.text("b"), .user(65534), .time(nil), .name(POSIXName(entry: [0x61])), .percent(0.0)],
      [.text("a"), .user(0), .time(0), .name(POSIXName(entry: [0xFF])), .percent(.nan)],
      [.null, .null, .null, .null, .null],
    ]
    let columns = ["A", "U", "T", "N", "P"].map { OutputColumn($0) }
    var together = JSONOutput(formatter: Self.formatter, layout: .lines)
    together.begin(columns, title: nil)
    var alone = OutputBuffer()
    for row in rows {
      for value in row { together.cell(value) }
      var one = JSONOutput(formatter: Self.formatter, layout: .lines)
      one.begin(columns, title: nil)
      for value in row { one.cell(value) }
      alone.bytes += one.finish().bytes
    }
    let written = String(decoding: together.finish().bytes, as: UTF8.self)
    #expect(written == String(decoding: alone.bytes, as: UTF8.self))
    #expect(written.split(separator: "\n")[1].contains("\"p\":-0.0"), "\(written)")
  }

  @Test("msg recv lines: one object a line, text as UTF-8, other bytes as base64")
  func messageLines() throws {
    var lines = MessageLines(posix: false)
    var out = OutputBuffer()
    [UInt8]("hé\n".utf8).withUnsafeBytes { lines.write($0, type: 3, into: &out) }
    [UInt8]([0xFF, 0]).withUnsafeBytes { lines.write($0, type: 1, into: &out) }
    #expect(String(decoding: out.bytes, as: UTF8.self) == """
      {"type":3,"size":4,"encoding":"utf-8","data":"hé\\n"}
      {"type":1,"size":2,"encoding":"base64","data":"/wA="}

      """)
    var posix = MessageLines(posix: true)
    var one = OutputBuffer()
    [UInt8]().withUnsafeBytes { posix.write($0, type: 0, into: &one) }
    #expect(String(decoding: one.bytes, as: UTF8.self) == "{\"priority\":0,\"size\":0,\"encoding\":\"utf-8\",\"data\":\"\"}\n")
  }
}
