import Testing
@testable import SwipcCore

@Suite("Formatting and rendering")
struct RenderTests {
  @Test("human sizes as util-linux prints them", arguments: [
    (UInt64(0), "0B"), (512, "512B"), (1024, "1K"), (1536, "1.5K"), (4096, "4K"), (8192, "8K"),
    (16384, "16K"), (1_048_576, "1M"), (10_239, "10K"), (18_446_744_073_692_774_399, "16E"),
  ])
  func humanSizes(bytes: UInt64, text: String) {
    #expect(TextFormat.humanSize(bytes) == text)
  }

  @Test("times: RFC 3339 in UTC")
  func rfc3339() {
    #expect(TextFormat.rfc3339(0) == "1970-01-01T00:00:00Z")
    #expect(TextFormat.rfc3339(1_795_637_821) == "2026-11-25T20:17:01Z")
  }

  @Test("permissions")
  func permissions() {
    #expect(TextFormat.symbolicPermissions(0o640) == "rw-r-----")
    #expect(TextFormat.symbolicPermissions(0o777) == "rwxrwxrwx")
    #expect(TextFormat.octalPermissions(0o1600) == "0600")
    #expect(TextFormat.octalPermissions(0) == "0000")
  }

  func sampleObjects() -> [IPCObject] {
    SysVProcParser.parse(Array(Fixtures.shm16.utf8), kind: .shm).objects
  }

  /// `objects` rendered as `format`, as `ls` renders them.
  func render(
    _ objects: [IPCObject], as format: OutputFormat, kinds: [IPCKind] = [.shm], columns: [ObjectColumn]? = nil,
    options: RenderOptions = RenderOptions(now: 1_795_637_900)
  ) -> String {
    let renderer = ObjectListRenderer(
      objects: objects, kinds: kinds,
      context: ColumnContext(now: options.now, processes: ProcessTable(procDirectory: "/nonexistent")), columns: columns)
    let out = try! renderer.render(as: format, formatter: CellFormatter(options: options, users: UserDirectory()))
    return String(decoding: out.bytes, as: UTF8.self)
  }

  @Test("JSON: typed values, keys as strings, perms octal, never-set times null")
  func json() {
    let text = render(sampleObjects(), as: .json)
    #expect(text.hasPrefix("[\n  {\"type\":\"shm\",\"key\":\"0x00001234\",\"id\":0,\"perms\":\"0640\",\"owner\":\"root\",\"uid\":0,"))
    #expect(text.contains("\"size\":65536,\"nattch\":0,\"status\":[],\"holders\":0,\"ctime\":\"2026-11-25T20:17:01Z\",\"attach\":null"))
    #expect(text.contains("\"status\":[\"dest\"]"))
    #expect(text.contains("\"status\":[\"locked\"]"))
    #expect(text.contains("\"size\":18446744073692774399"))
    #expect(text.contains("\"age\":79,"))
    #expect(text.hasSuffix("}\n]\n"))
  }

  @Test("JSON of nothing is an empty array")
  func emptyJSON() {
    #expect(render([], as: .json) == "[]\n")
  }

  @Test("-o picks the JSON keys too")
  func selectedColumnsJSON() {
    #expect(render(Array(sampleObjects().prefix(1)), as: .json, columns: ["ID", "SIZE"].compactMap(ObjectColumn.named))
      == "[\n  {\"type\":\"shm\",\"id\":0,\"size\":65536}\n]\n")
  }

  @Test("tables align and print human sizes unless --bytes")
  func table() {
    let cols = ["KEY", "ID", "SIZE", "STATUS"].compactMap(ObjectColumn.named)
    #expect(render(sampleObjects(), as: .table, columns: cols) == """
      KEY        ID SIZE STATUS
      0x00001234  0  64K 
      0x00000000  1   4K dest
      0x00005678  2  16E locked

      """)
    #expect(render(Array(sampleObjects().prefix(1)), as: .table, columns: cols, options: RenderOptions(exactBytes: true, headings: false, now: 0))
      == "0x00001234 0 65536 \n")
  }

  @Test("CSV quotes fields with commas")
  func csv() {
    #expect(render(sampleObjects(), as: .csv, columns: ["ID", "STATUS"].compactMap(ObjectColumn.named))
      == "TYPE,ID,STATUS\nshm,0,\nshm,1,dest\nshm,2,locked\n")
    var quoted = OutputBuffer()
    quoted.writeCSVField("a,\"b\"")
    #expect(String(decoding: quoted.bytes, as: UTF8.self) == "\"a,\"\"b\"\"\"")
  }

  @Test("JSON strings escape quotes, backslashes and control bytes")
  func jsonEscapes() {
    var out = OutputBuffer()
    out.writeJSONString("a\"b\\c\n\u{1}")
    #expect(String(decoding: out.bytes, as: UTF8.self) == "\"a\\\"b\\\\c\\n\\u0001\"")
  }

  @Test("Prometheus: counts and bytes per kind and owner, zeros for empty kinds")
  func prometheus() {
    var writer = PrometheusWriter()
    InventoryMetrics.write(sampleObjects(), kinds: [.msg, .shm], orphaned: [.shm: 1], unknownOrphans: [.msg: 2], users: UserDirectory(), into: &writer)
    let text = String(decoding: writer.out.bytes, as: UTF8.self)
    #expect(text.contains("# TYPE swipc_objects gauge\nswipc_objects{type=\"msg\"} 0\nswipc_objects{type=\"shm\"} 3\n"))
    #expect(text.contains("swipc_owner_objects{type=\"shm\",owner=\"root\",uid=\"0\"} 2\n"))
    #expect(text.contains("swipc_orphaned_objects{type=\"shm\"} 1\n"))
    #expect(text.contains("swipc_orphaned_objects{type=\"msg\"} 0\n"))
    #expect(text.contains("swipc_orphan_unknown_objects{type=\"msg\"} 2\n"))
    #expect(text.contains("swipc_orphan_unknown_objects{type=\"shm\"} 0\n"))
  }

  @Test("Prometheus label values escape backslash, quote and newline, and carry no other control byte")
  func prometheusLabelValues() {
    var writer = PrometheusWriter()
    writer.sample("m", help: "h", labels: [("container", "machine/a\u{1B}[31mb\\c\"d\ne\u{7F}f")], value: 1)
    let text = String(decoding: writer.out.bytes, as: UTF8.self)
    #expect(text.hasSuffix("m{container=\"machine/a\u{FFFD}[31mb\\\\c\\\"d\\ne\u{FFFD}f\"} 1\n"), "\(text)")
    #expect(!writer.out.bytes.contains(27) && !writer.out.bytes.contains(127))
  }

  @Test("every column has a unique name and a JSON key")
  func columnCatalog() {
    let names = ObjectColumn.catalog.map(\.name)
    #expect(Set(names).count == names.count)
    for kind in IPCKind.allCases {
      #expect(!ObjectColumn.defaults(for: kind).isEmpty)
      for column in ObjectColumn.defaults(for: kind) { #expect(column.kinds.contains(kind)) }
    }
  }

  func table(_ rows: [[String]], headings: Bool) -> String {
    var t = TableWriter(headers: ["NAME", "ID", "OWNER", "COMMAND"], rightAligned: [false, true, false, false])
    for row in rows { t.add(row) }
    var out = OutputBuffer()
    t.write(to: &out, headings: headings)
    return String(decoding: out.bytes, as: UTF8.self)
  }

  @Test("tables: columns as wide as their widest cell, numbers right-aligned, the last column unpadded")
  func tables() {
    let rows = [["/ab", "7", "root", "sleep 1"], ["/größe", "12345", "", "x"], ["", "0", "nobody", ""]]
    #expect(table(rows, headings: true) == """
      NAME      ID OWNER  COMMAND
      /ab        7 root   sleep 1
      /größe 12345        x
                 0 nobody 

      """)
    #expect(table(rows, headings: false) == """
      /ab        7 root   sleep 1
      /größe 12345        x
                 0 nobody 

      """)
    #expect(table([], headings: true) == "NAME ID OWNER COMMAND\n")
    #expect(table([], headings: false) == "")
    // Wider than the headings, and 2,000 rows: the body's buffer is sized once.
    let many = (0..<2000).map { ["/" + String(repeating: "é", count: $0 % 7), String($0 * 1000), "u\($0 % 3)", "c"] }
    let lines = table(many, headings: true).split(separator: "\n", omittingEmptySubsequences: false)
    #expect(lines.count == 2002 && lines.last == "")
    #expect(lines[0] == "NAME         ID OWNER COMMAND")
    #expect(lines[1] == "/             0 u0    c")
    #expect(lines[2000] == "/éééé   1999000 u1    c")
    #expect(lines[7] == "/éééééé    6000 u0    c")
  }
}
