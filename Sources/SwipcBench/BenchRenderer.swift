import SwipcCore

/// `swipc bench` output: per size a table sorted fastest first with a bar chart of messages per
/// second, and the ranking per size next to the classic one; or a record per cell in JSON and CSV.
public struct BenchRenderer: Rendering {
  public static let formats: [OutputFormat] = [.table, .json, .csv]

  public var results: [BenchResult]
  /// The sizes in the order asked: one table section each.
  public var sizes: [Int]

  public init(_ results: [BenchResult], sizes: [Int]) {
    self.results = results
    self.sizes = sizes
  }

  static let eighths = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]

  /// A bar of `fraction` of `width` cells, in eighths of a cell.
  public static func bar(_ fraction: Double, width: Int = 24) -> String {
    let units = Int((max(0, min(1, fraction)) * Double(width * 8)).rounded())
    return String(repeating: "█", count: units / 8) + eighths[units % 8]
  }

  /// The measurements of a cell, in the order of `measures`: nulls when it was not measured.
  static func measurements(_ r: BenchResult) -> [CellValue] {
    guard r.skipped == nil else { return [.null, .null, .null, .null] }
    // Latencies to the nanosecond they are measured in: round trips of a fraction of a µs differ
    // by 5% in the second decimal.
    return [.fixed(Double(r.p50) / 1000, digits: 3), .fixed(Double(r.p99) / 1000, digits: 3),
      .fixed(r.bytesPerSecond / 1e6, digits: 1), Int64(exactly: r.messagesPerSecond.rounded()).map { .int($0) } ?? .null]
  }

  static let measures = [OutputColumn("p50_us", rightAligned: true), OutputColumn("p99_us", rightAligned: true),
    OutputColumn("mb_per_s", rightAligned: true), OutputColumn("messages_per_s", rightAligned: true)]
  /// CSV headings and JSON keys; the reason a cell was not measured is `note` in CSV, `skipped` in JSON.
  static let dataColumns = [OutputColumn("mechanism"), OutputColumn("size", rightAligned: true)] + measures
    + [OutputColumn("note", key: "skipped")]
  static let tableColumns = [OutputColumn("MECHANISM")]
    + zip(["P50(us)", "P99(us)", "MB/S", "MSG/S"], measures).map { OutputColumn($0, key: $1.key, rightAligned: true) }
    + [OutputColumn("MSG/S (bar)")]

  public func write(to writer: inout some RecordWriter) {
    writer.begin(Self.dataColumns, title: nil)
    for r in results {
      writer.cell(.text(r.mechanism.rawValue))
      writer.cell(.int(Int64(r.size)))
      for value in Self.measurements(r) { writer.cell(value) }
      writer.cell(r.skipped.map { .text($0) } ?? .null)
    }
  }

  /// Sections per size, fastest first with bars, cells not measured last, then the ranking.
  public func customTable(formatter: CellFormatter) -> OutputBuffer? {
    var out = OutputBuffer()
    for (n, size) in sizes.enumerated() {
      let cells = results.filter { $0.size == size }
      guard !cells.isEmpty else { continue }
      if n > 0 { out.newline() }
      out.write("\(TextFormat.humanSize(UInt64(size))) messages\n")
      let measured = Self.fastestFirst(cells)
      let best = measured.first?.messagesPerSecond ?? 1
      var t = TableWriter(headers: Self.tableColumns.map(\.heading), rightAligned: Self.tableColumns.map(\.rightAligned))
      for r in measured + cells.filter({ $0.skipped != nil }) {
        t.add([r.mechanism.rawValue])
        for value in Self.measurements(r) {
          formatter.writeTable(value, into: &t.cells)
          t.endCell()
        }
        t.add([r.skipped ?? Self.bar(r.messagesPerSecond / best)])
      }
      t.write(to: &out, headings: formatter.options.headings)
    }
    let ranked = sizes.compactMap { size in ranking(size: size).map { "  \(TextFormat.humanSize(UInt64(size))): \($0)\n" } }
    if !ranked.isEmpty {
      out.newline()
      out.write("Ranking by throughput (classic: \(Self.classic)):\n")
      for line in ranked { out.write(line) }
    }
    return out
  }

  /// The textbook order, which holds for bulk data and rings, not for one-slot hand-offs.
  public static let classic = "shared memory > message queues, pipes > sockets"

  static func fastestFirst(_ results: [BenchResult]) -> [BenchResult] {
    results.filter { $0.skipped == nil }.sorted { $0.messagesPerSecond > $1.messagesPerSecond }
  }

  /// The measured mechanisms at one size, fastest first ("pipe > msg > tcp"), or nil if none.
  public func ranking(size: Int) -> String? {
    let measured = Self.fastestFirst(results.filter { $0.size == size })
    return measured.isEmpty ? nil : measured.map(\.mechanism.rawValue).joined(separator: " > ")
  }
}
