/// The output pipeline (docs/DESIGN.md, "Output pipeline"): a renderer turns what a command found into
/// columns and typed cells (`CellValue`) and hands them to a `RecordWriter`; one writer per
/// format lays them out. A renderer never writes a byte of any format itself.

/// Output formats of the listing commands. Adding one: a case here, a `RecordWriter` for it, one
/// line in `Rendering.render`, and the case in the `formats` of each renderer that offers it.
public enum OutputFormat: String, CaseIterable, Sendable {
  case table, json, csv, prometheus

  /// `table, json or csv`: the formats a command accepts, as its help and errors list them.
  public static func list(_ formats: [OutputFormat]) -> String {
    let names = formats.map(\.rawValue)
    guard names.count > 1 else { return names.joined() }
    return names.dropLast().joined(separator: ", ") + " or " + names.last!
  }

  /// A `--format` value, refused unless it is one of `accepted`: a format a command does not
  /// write is a usage error, never a silent fallback to another.
  public init(parsing text: String, accepted: [OutputFormat]) throws(SwipcError) {
    guard let format = OutputFormat(rawValue: text) else {
      throw .usage("unknown format '\(text)': use \(OutputFormat.list(accepted))")
    }
    try format.check(accepted: accepted)
    self = format
  }

  /// The one rule for formats: a command writes only what its renderer declares.
  public func check(accepted: [OutputFormat]) throws(SwipcError) {
    guard accepted.contains(self) else { throw .usage("not written as \(rawValue) here: use \(OutputFormat.list(accepted))") }
  }
}

/// A column of output: its table and CSV heading, its JSON key, its alignment in tables.
public struct OutputColumn: Sendable {
  public let heading: String
  public let key: String
  public let rightAligned: Bool
  /// `"key":` as bytes: written before each value in a JSON object.
  let jsonKey: [UInt8]

  public init(_ heading: String, key: String? = nil, rightAligned: Bool = false) {
    self.heading = heading
    self.key = key ?? heading.lowercased()
    self.rightAligned = rightAligned
    self.jsonKey = Array("\"\(self.key)\":".utf8)
  }
}

/// Lays out records in one format. A renderer calls `begin` for each group of records that share
/// columns, then `cell` once per column per record, in column order; a record ends with its last
/// column.
public protocol RecordWriter {
  /// The format this writer writes: renderers choose their default columns by it.
  static var format: OutputFormat { get }
  /// Starts a group of records with these columns. `title` heads a table section; formats that
  /// have no sections ignore it.
  mutating func begin(_ columns: [OutputColumn], title: String?)
  mutating func cell(_ value: CellValue)
  /// The whole output.
  mutating func finish() -> OutputBuffer
}

/// What a command prints: records for the record formats, samples for Prometheus.
public protocol Rendering {
  /// The formats this output can be written in; a command offers these, and its help lists them.
  static var formats: [OutputFormat] { get }
  /// How its JSON is laid out: an array of records unless it is one object.
  static var jsonLayout: JSONOutput.Layout { get }
  /// The records, into any writer.
  func write(to writer: inout some RecordWriter)
  /// Prometheus samples; only called when `formats` holds `.prometheus`.
  func metrics(into writer: inout PrometheusWriter, formatter: CellFormatter)
  /// A table that is not groups of records (`show`: fields, then tables of its parts); nil for
  /// the records through `TableOutput`.
  func customTable(formatter: CellFormatter) -> OutputBuffer?
}

extension Rendering {
  public static var jsonLayout: JSONOutput.Layout { .array }
  public func metrics(into writer: inout PrometheusWriter, formatter: CellFormatter) {}
  public func customTable(formatter: CellFormatter) -> OutputBuffer? { nil }

  /// The output in `format`, laid out by that format's writer.
  public func render(as format: OutputFormat, formatter: CellFormatter, capacity: Int = 4096) throws(SwipcError)
    -> OutputBuffer
  {
    guard Self.formats.contains(format) else {
      throw .usage("this output is written as \(OutputFormat.list(Self.formats)), not \(format.rawValue)")
    }
    switch format {
    case .table: return customTable(formatter: formatter) ?? render(into: TableOutput(formatter: formatter, capacity: capacity))
    case .csv: return render(into: CSVOutput(formatter: formatter, capacity: capacity))
    case .json: return render(into: JSONOutput(formatter: formatter, layout: Self.jsonLayout, capacity: capacity))
    case .prometheus:
      var writer = PrometheusWriter()
      metrics(into: &writer, formatter: formatter)
      return writer.out
    }
  }

  func render(into writer: some RecordWriter) -> OutputBuffer {
    var writer = writer
    write(to: &writer)
    return writer.finish()
  }
}
