/// `swipc clean [TYPE...]` with its filters, what it may select and how it reports.
public struct CleanRequest: CommandRequest {
  public var kinds: [IPCKind] = []
  public var filters = FilterSettings()
  /// Select every object of the kinds (explicitly, since no filter at all is refused).
  public var all = false
  public var allUsers = false
  public var dryRun = false
  public var yes = false
  /// Whether a person can be asked (standard input is a terminal).
  public var canAsk = false
  public var format: OutputFormat = .table
  public var bytes = false
  public var noHeadings = false
  /// -N TARGET (the view the command works in) and -A (every namespace).
  public var namespace: String?
  public var allNamespaces = false

  public init() {}

  public func validate() throws(SwipcError) -> CleanSelection {
    let scope = try NamespaceScope(namespace: namespace, all: allNamespaces)
    try format.check(accepted: CleanReportRenderer.formats)
    if dryRun && yes { throw .usage("give --dry-run or --yes, not both") }
    var selection = CleanSelection(kinds: KindArgument.distinct(kinds), filter: try filters.validate())
    if selection.filter.isEmpty && !all {
      throw .usage("clean needs a filter (e.g. --orphaned, --older-than 7d) or --all to select every object")
    }
    if !dryRun && !yes && !canAsk {
      throw .usage("refusing to remove without --yes when not on a terminal; use --dry-run to see what would be removed")
    }
    selection.allUsers = allUsers
    selection.dryRun = dryRun
    selection.allNamespaces = scope == .all
    return selection
  }

  /// Whether the person is asked before anything is removed.
  public var asks: Bool { !dryRun && !yes }
}
