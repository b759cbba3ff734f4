import SwipcBench
import SwipcCore
import Testing

@Suite("bench output")
struct BenchRenderTests {
  @Test("bars in eighths of a cell; fastest first; n/a rows last; CSV and JSON through the one writer of each")
  func render() throws {
    #expect(BenchRenderer.bar(1, width: 4) == "████")
    #expect(BenchRenderer.bar(0.5, width: 3) == "█▌")
    #expect(BenchRenderer.bar(0, width: 3) == "")
    var fast = BenchResult(mechanism: .pipe, size: 64)
    fast.p50 = 61_900
    fast.p99 = 99_340
    fast.bytesPerSecond = 137_200_000
    fast.messagesPerSecond = 2_000_000
    var slow = fast
    slow.mechanism = .tcp
    slow.messagesPerSecond = 1_000_000
    var skipped = BenchResult(mechanism: .msg, size: 64)
    skipped.skipped = "n/a (limit 8192, MSGMAX)"
    let renderer = BenchRenderer([slow, skipped, fast], sizes: [64])
    let formatter = CellFormatter(options: RenderOptions(), users: UserDirectory())
    let table = try renderer.render(as: .table, formatter: formatter)
    let lines = String(decoding: table.bytes, as: UTF8.self).split(separator: "\n")
    #expect(lines[0] == "64B messages")
    #expect(lines[1].hasPrefix("MECHANISM") && lines[1].hasSuffix("MSG/S (bar)"))
    #expect(lines[2].hasPrefix("pipe") && lines[3].hasPrefix("tcp") && lines[4].hasPrefix("msg"))
    #expect(lines[2].contains(" 61.900 ") && lines[2].contains(" 2000000 "), "\(lines[2])")
    #expect(lines[2].hasSuffix(BenchRenderer.bar(1)) && lines[3].hasSuffix(BenchRenderer.bar(0.5)))
    #expect(lines[4].hasPrefix("msg") && lines[4].contains(" - ") && lines[4].hasSuffix("n/a (limit 8192, MSGMAX)"))
    #expect(lines[5] == "Ranking by throughput (classic: shared memory > message queues, pipes > sockets):")
    #expect(lines[6] == "  64B: pipe > tcp", "measured cells only, fastest first")
    var noHeadings = formatter
    noHeadings.options.headings = false
    let csv = try BenchRenderer([fast, skipped], sizes: [64]).render(as: .csv, formatter: noHeadings)
    #expect(String(decoding: csv.bytes, as: UTF8.self) == "pipe,64,61.900,99.340,137.2,2000000,\nmsg,64,,,,,\"n/a (limit 8192, MSGMAX)\"\n")
    let headed = try BenchRenderer([], sizes: [64]).render(as: .csv, formatter: formatter)
    #expect(String(decoding: headed.bytes, as: UTF8.self) == "mechanism,size,p50_us,p99_us,mb_per_s,messages_per_s,note\n")
    let json = try BenchRenderer([fast, skipped], sizes: [64]).render(as: .json, formatter: formatter)
    #expect(String(decoding: json.bytes, as: UTF8.self) == """
      [
        {"mechanism":"pipe","size":64,"p50_us":61.900,"p99_us":99.340,"mb_per_s":137.2,"messages_per_s":2000000,"skipped":null},
        {"mechanism":"msg","size":64,"p50_us":null,"p99_us":null,"mb_per_s":null,"messages_per_s":null,"skipped":"n/a (limit 8192, MSGMAX)"}
      ]

      """, "the array layout of every command")
    let empty = try BenchRenderer([], sizes: [64]).render(as: .json, formatter: formatter)
    #expect(String(decoding: empty.bytes, as: UTF8.self) == "[]\n")
    #expect(throws: SwipcError.self, "bench has no Prometheus form") {
      try BenchRenderer([fast], sizes: [64]).render(as: .prometheus, formatter: formatter)
    }
    #expect(TextFormat.fixed(0.005, digits: 2) == "0.01" && TextFormat.fixed(12.34, digits: 1) == "12.3")
    #expect(TextFormat.fixed(0.1925, digits: 3) == "0.193" && TextFormat.fixed(61.9, digits: 3) == "61.900")
  }

  @Test("a measurement that is not a finite number is null in JSON, empty in CSV, never a crash")
  func notFinite() throws {
    var odd = BenchResult(mechanism: .pipe, size: 64)
    odd.bytesPerSecond = .nan
    odd.messagesPerSecond = .infinity
    let formatter = CellFormatter(options: RenderOptions(), users: UserDirectory())
    let json = try BenchRenderer([odd], sizes: [64]).render(as: .json, formatter: formatter)
    #expect(String(decoding: json.bytes, as: UTF8.self).contains("\"mb_per_s\":null,\"messages_per_s\":null,"))
    let csv = try BenchRenderer([odd], sizes: [64]).render(as: .csv, formatter: formatter)
    #expect(String(decoding: csv.bytes, as: UTF8.self).hasSuffix("\npipe,64,0.000,0.000,,,\n"))
    let table = try BenchRenderer([odd], sizes: [64]).render(as: .table, formatter: formatter)
    #expect(String(decoding: table.bytes, as: UTF8.self).contains("\npipe "))
  }
}
