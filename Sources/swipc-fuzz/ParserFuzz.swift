// The parsers of untrusted text, under libFuzzer (`make fuzz`) or replayed from files.
//
// Built normally, this is a driver: `swipc-fuzz seed SEEDS CORPUS` writes a corpus from the seed
// files and from this machine's live /proc text, and `swipc-fuzz run FILE...` replays inputs
// (the seeds in `make test`, a crash file to reproduce it). Built by `make fuzz` with
// `-sanitize=fuzzer -D SWIPC_FUZZ`, libFuzzer calls `LLVMFuzzerTestOneInput` instead.
import SwipcCore

#if canImport(Glibc)
import Glibc
#endif

/// One input: the first byte picks the parser, the rest is its text.
enum ParserFuzz {
  static let parsers = [
    "sysvipc-msg", "sysvipc-shm", "sysvipc-sem", "net-unix", "maps", "mqueue", "fdinfo", "size",
    "duration", "key", "key-range", "name", "target", "mode", "address", "limits",
  ]

  static func run(_ input: [UInt8]) {
    guard let selector = input.first else { return }
    let body = Array(input.dropFirst())
    let text = String(decoding: body, as: UTF8.self)
    switch parsers[Int(selector) % parsers.count] {
    case "sysvipc-msg": sysvipc(body, .msg)
    case "sysvipc-shm": sysvipc(body, .shm)
    case "sysvipc-sem": sysvipc(body, .sem)
    case "net-unix":
      var records = [UnixSocketRecord]()
      _ = body.withUnsafeBytes { UnixSocketTable.parse(netlink: $0, into: &records) }
      for record in records {
        check(!record.type.isEmpty, "socket type")
        check(record.path.map { !$0.isEmpty } ?? true, "an empty path is no path")
      }
    case "maps":
      MapsParser.forEachMapping(body) { _, _, path in check(path.count <= body.count, "path within the line") }
    case "mqueue":
      _ = MQueueStatus(parsing: text)
    case "fdinfo":
      if let mode = DescriptorScan.accessMode(fdinfo: text) { check((0...3).contains(mode), "access mode") }
    case "size": _ = try? ByteCount(parsing: text)
    case "duration":
      if let span = try? TimeSpan(parsing: text) { check(span.milliseconds >= 0, "no negative duration") }
    case "key": _ = try? IPCKey(parsing: text)
    case "key-range":
      if let range = try? IPCKeyRange(parsing: text) { check(range.lower <= range.upper, "key range in order") }
    case "name":
      if let name = try? POSIXName(parsing: text) {
        check(name.rawValue.hasPrefix("/") && !name.rawValue.dropFirst().contains("/"), "one leading slash")
      }
    case "target": _ = try? ObjectTarget(parsing: text)
    case "mode":
      if let mode = try? FileMode(parsing: text) { check(mode.rawValue <= 0o777, "permission bits only") }
    case "address": _ = try? SocketAddress(parsing: text)
    default: _ = LimitsReader.parseValues(text)
    }
  }

  /// Records from damaged text keep each field in its column: sane ranges for every field; and
  /// every record goes on through the age filters and the renderers, at any clock, without a trap.
  static func sysvipc(_ body: [UInt8], _ kind: IPCKind) {
    let objects = SysVProcParser.parse(body, kind: kind).objects
    for object in objects {
      check(object.kind == kind, "kind")
      check(object.mode <= 0o7777, "mode")
      check((object.id ?? -1) >= 0, "id")
    }
    guard !objects.isEmpty else { return }
    var filter = ObjectFilter()
    filter.olderThan = TimeSpan(seconds: 1)
    filter.idleFor = TimeSpan(seconds: 1)
    let users = UserDirectory(), processes = ProcessTable(procDirectory: "/nonexistent")
    for now in [Int64.min, 0, 1_795_637_900, Int64.max] {
      for object in objects { _ = filter.matchesStatically(object, now: now) }
      let renderer = ObjectListRenderer(
        objects: objects, kinds: [kind], context: ColumnContext(now: now, processes: processes),
        columns: ObjectColumn.applicable(to: kind))
      let formatter = CellFormatter(options: RenderOptions(now: now), users: users)
      for format in ObjectListRenderer.formats { _ = try? renderer.render(as: format, formatter: formatter) }
    }
  }

  /// A line on standard error.
  static func say(_ line: String) {
    var bytes = Array(line.utf8)
    _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
  }

  static func check(_ condition: Bool, _ what: String) {
    if !condition {
      ParserFuzz.say("swipc-fuzz: invariant broken: \(what)\n")
      abort()
    }
  }
}

#if SWIPC_FUZZ
/// libFuzzer's entry point: one input, any bytes.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  ParserFuzz.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
  return 0
}
#endif
