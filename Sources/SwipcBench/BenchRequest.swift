import SwipcCore

/// `swipc bench [MECHANISM...]`.
public struct BenchRequest: CommandRequest {
  public var mechanisms: [BenchMechanism] = []
  public var sizes = "64,4K,64K"
  public var messages: Int?
  public var slots: Int?
  public var duration: TimeSpan?
  public var pin: BenchPinning?
  public var format: OutputFormat = .table
  public var headings = true

  public init() {}

  public struct Plan {
    /// Each mechanism once, in the order first given; all when none is.
    public var mechanisms: [BenchMechanism]
    public var sizes: [Int]
  }

  public func validate() throws(SwipcError) -> Plan {
    if let messages, messages < 1 || messages > 100_000_000 { throw .usage("invalid --messages \(messages): 1 to 100000000") }
    if let slots, slots < 1 || slots > BenchRunner.maxSlots {
      throw .usage("invalid --slots \(slots): 1 to \(BenchRunner.maxSlots)")
    }
    if messages != nil && duration != nil { throw .usage("give --messages or --duration, not both") }
    if let duration, duration.milliseconds < 1 {
      throw .usage("invalid --duration \(duration): give a time of at least 1ms per cell, e.g. 1s")
    }
    try format.check(accepted: BenchRenderer.formats)
    var sizeList: [Int] = []
    for item in sizes.split(separator: ",", omittingEmptySubsequences: false) {
      let size = try ByteCount(parsing: item.trimmingBlanks())
      guard size.bytes >= 1, size.bytes <= 16 << 20 else { throw .usage("invalid size '\(item)' in --sizes: 1 byte to 16M") }
      sizeList.append(Int(size.bytes))
    }
    var list: [BenchMechanism] = []
    for m in mechanisms.isEmpty ? BenchMechanism.allCases : mechanisms where !list.contains(m) { list.append(m) }
    return Plan(mechanisms: list, sizes: sizeList)
  }
}
