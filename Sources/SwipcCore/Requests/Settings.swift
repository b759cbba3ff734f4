/// The values of the filter options shared by ls and clean (docs/DESIGN.md, "Cleanup rules").
public struct FilterSettings: Sendable {
  public var owner: [String] = []
  public var creator: [String] = []
  public var key: [IPCKeyRange] = []
  public var name: [String] = []
  public var olderThan: TimeSpan?
  public var idleFor: TimeSpan?
  public var unattached = false
  public var orphaned = false
  public var minAge: TimeSpan?
  public var ignoreHidden = false
  public var removed = false
  public var worldWritable = false
  public var worldReadable = false

  public init() {}

  /// Whether no filter was given (--min-age and --ignore-hidden only qualify --orphaned).
  public var isEmpty: Bool {
    owner.isEmpty && creator.isEmpty && key.isEmpty && name.isEmpty && olderThan == nil && idleFor == nil
      && !unattached && !orphaned && !removed && !worldWritable && !worldReadable
  }

  /// The filter, with users resolved; refuses options that do not go together.
  public func validate() throws(SwipcError) -> ObjectFilter {
    var filter = ObjectFilter()
    for o in owner { filter.owners.insert(try UserDirectory.resolveUser(o)) }
    for c in creator { filter.creators.insert(try UserDirectory.resolveUser(c)) }
    filter.keys = key
    for glob in name {
      guard !glob.isEmpty, !glob.dropFirst().contains("/") else {
        throw .usage("invalid --name '\(glob)': a POSIX name glob has at most a leading slash")
      }
      filter.nameGlobs.append(glob)
    }
    filter.olderThan = olderThan
    filter.idleFor = idleFor
    filter.unattached = unattached
    filter.orphaned = orphaned
    if minAge != nil && !orphaned { throw .usage("--min-age goes with --orphaned") }
    filter.minAge = minAge
    if ignoreHidden && !orphaned { throw .usage("--ignore-hidden goes with --orphaned") }
    filter.ignoreHidden = ignoreHidden
    filter.removed = removed
    filter.worldWritable = worldWritable
    filter.worldReadable = worldReadable
    return filter
  }
}

/// The values of the output options shared by ls, show and limits.
public struct OutputSettings: Sendable {
  public var format: OutputFormat = .table
  public var columns: String?
  public var noHeadings = false
  public var bytes = false
  public var numeric = false

  public init(format: OutputFormat = .table, columns: String? = nil, noHeadings: Bool = false, bytes: Bool = false, numeric: Bool = false) {
    self.format = format
    self.columns = columns
    self.noHeadings = noHeadings
    self.bytes = bytes
    self.numeric = numeric
  }

  /// The columns named with -o, checked against the catalog. A column named twice (in any case:
  /// `id,ID`) is shown once, where it is first named: a JSON object has each key once.
  public func selectedColumns() throws(SwipcError) -> [ObjectColumn]? {
    guard let columns else { return nil }
    var result = [ObjectColumn]()
    for name in columns.split(separator: ",", omittingEmptySubsequences: false) {
      let trimmed = name.trimmingBlanks()
      guard let column = ObjectColumn.named(trimmed) else {
        throw .usage("unknown column '\(trimmed)' in -o; available: \(ObjectColumn.catalog.map(\.name).joined(separator: ","))")
      }
      if !result.contains(where: { $0.name == column.name }) { result.append(column) }
    }
    return result
  }

  public func renderOptions(now: Int64) -> RenderOptions {
    RenderOptions(exactBytes: bytes, numeric: numeric, headings: !noHeadings, now: now)
  }
}
