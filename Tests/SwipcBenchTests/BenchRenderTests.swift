import SwipcBench
import SwipcCore
import Testing

@Suite("bench output")
struct BenchRenderTests {
  @Test("bars in eighths of a cell; fastest first; n/a rows last; CSV and JSON")
  func render() {
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
    var table = OutputBuffer()
    BenchRenderer.table([slow, skipped, fast], sizes: [64], headings: true, into: &table)
    let lines = String(decoding: table.bytes, as: UTF8.self).split(separator: "\n")
    #expect(lines[0] == "64B messages")
    #expect(lines[2].hasPrefix("pipe") && lines[3].hasPrefix("tcp") && lines[4].hasPrefix("msg"))
    #expect(lines[2].hasSuffix(BenchRenderer.bar(1)) && lines[3].hasSuffix(BenchRenderer.bar(0.5)))
    #expect(lines[4].hasSuffix("n/a (limit 8192, MSGMAX)"))
    #expect(lines[5] == "Ranking by throughput (classic: shared memory > message queues, pipes > sockets):")
    #expect(lines[6] == "  64B: pipe > tcp", "measured cells only, fastest first")
    var csv = OutputBuffer()
    BenchRenderer.csv([fast, skipped], headings: false, into: &csv)
    #expect(String(decoding: csv.bytes, as: UTF8.self) == "pipe,64,61.90,99.34,137.2,2000000,\nmsg,64,,,,,\"n/a (limit 8192, MSGMAX)\"\n")
    var json = OutputBuffer()
    BenchRenderer.json([skipped], into: &json)
    #expect(String(decoding: json.bytes, as: UTF8.self) ==
      "[\n{\"mechanism\":\"msg\",\"size\":64,\"p50_us\":null,\"p99_us\":null,\"mb_per_s\":null,\"messages_per_s\":null,\"skipped\":\"n/a (limit 8192, MSGMAX)\"}\n]\n")
    #expect(TextFormat.fixed(0.005, digits: 2) == "0.01" && TextFormat.fixed(12.34, digits: 1) == "12.3")
  }
}
