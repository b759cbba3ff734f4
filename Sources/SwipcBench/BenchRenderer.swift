import SwipcCore

/// `swipc bench` output: per size a table sorted fastest first with a bar chart of messages per
/// second, and the ranking per size next to the classic one; or JSON and CSV rows.
public enum BenchRenderer {
  static let eighths = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]

  /// A bar of `fraction` of `width` cells, in eighths of a cell.
  public static func bar(_ fraction: Double, width: Int = 24) -> String {
    let units = Int((max(0, min(1, fraction)) * Double(width * 8)).rounded())
    return String(repeating: "█", count: units / 8) + eighths[units % 8]
  }

  static func micros(_ ns: UInt64) -> String { TextFormat.fixed(Double(ns) / 1000, digits: 2) }

  public static func table(_ results: [BenchResult], sizes: [Int], headings: Bool, into out: inout OutputBuffer) {
    for (n, size) in sizes.enumerated() {
      let cells = results.filter { $0.size == size }
      guard !cells.isEmpty else { continue }
      if n > 0 { out.newline() }
      out.write("\(TextFormat.humanSize(UInt64(size))) messages\n")
      let measured = cells.filter { $0.skipped == nil }.sorted { $0.messagesPerSecond > $1.messagesPerSecond }
      let best = measured.first?.messagesPerSecond ?? 1
      var t = TableWriter(headers: ["MECHANISM", "P50(us)", "P99(us)", "MB/S", "MSG/S", "MSG/S (bar)"],
        rightAligned: [false, true, true, true, true, false])
      for r in measured {
        t.add([r.mechanism.rawValue, micros(r.p50), micros(r.p99),
          TextFormat.fixed(r.bytesPerSecond / 1e6, digits: 1), String(Int(r.messagesPerSecond.rounded())),
          bar(r.messagesPerSecond / best)])
      }
      for r in cells where r.skipped != nil {
        t.add([r.mechanism.rawValue, "-", "-", "-", "-", r.skipped!])
      }
      t.write(to: &out, headings: headings)
    }
    let ranked = sizes.compactMap { size in ranking(results, size: size).map { "  \(TextFormat.humanSize(UInt64(size))): \($0)\n" } }
    if !ranked.isEmpty {
      out.newline()
      out.write("Ranking by throughput (classic: \(classic)):\n")
      for line in ranked { out.write(line) }
    }
  }

  /// The textbook order, which holds for bulk data and rings, not for one-slot hand-offs.
  public static let classic = "shared memory > message queues, pipes > sockets"

  /// The measured mechanisms at one size, fastest first ("pipe > msg > tcp"), or nil if none.
  public static func ranking(_ results: [BenchResult], size: Int) -> String? {
    let measured = results.filter { $0.size == size && $0.skipped == nil }.sorted { $0.messagesPerSecond > $1.messagesPerSecond }
    return measured.isEmpty ? nil : measured.map(\.mechanism.rawValue).joined(separator: " > ")
  }

  public static func csv(_ results: [BenchResult], headings: Bool, into out: inout OutputBuffer) {
    if headings { out.write("mechanism,size,p50_us,p99_us,mb_per_s,messages_per_s,note\n") }
    for r in results {
      out.write("\(r.mechanism.rawValue),\(r.size),")
      if r.skipped == nil {
        out.write("\(micros(r.p50)),\(micros(r.p99)),\(TextFormat.fixed(r.bytesPerSecond / 1e6, digits: 1)),\(Int(r.messagesPerSecond.rounded())),\n")
      } else {
        out.write(",,,,")
        out.writeCSVField(r.skipped!)
        out.newline()
      }
    }
  }

  public static func json(_ results: [BenchResult], into out: inout OutputBuffer) {
    out.write(byte: 91)
    for (i, r) in results.enumerated() {
      out.write(i == 0 ? "\n{" : ",\n{")
      out.write("\"mechanism\":\"\(r.mechanism.rawValue)\",\"size\":\(r.size),")
      if let skipped = r.skipped {
        out.write("\"p50_us\":null,\"p99_us\":null,\"mb_per_s\":null,\"messages_per_s\":null,\"skipped\":")
        out.writeJSONString(skipped)
      } else {
        out.write("\"p50_us\":\(micros(r.p50)),\"p99_us\":\(micros(r.p99)),\"mb_per_s\":\(TextFormat.fixed(r.bytesPerSecond / 1e6, digits: 1)),\"messages_per_s\":\(Int(r.messagesPerSecond.rounded())),\"skipped\":null")
      }
      out.write(byte: 125)
    }
    out.write(results.isEmpty ? "]\n" : "\n]\n")
  }
}
