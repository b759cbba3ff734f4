/// A typed cell: renderers decide how each type reads in a table, in CSV and in JSON.
public enum CellValue: Sendable, Equatable {
  case null
  case int(Int64)
  case text(String)
  /// A POSIX name: its exact bytes in tables (escaped there like all text), text in JSON and CSV
  /// (invalid bytes replaced; JSON adds `name_base64`).
  case name(POSIXName)
  /// A size in bytes: human in tables unless --bytes, a number elsewhere.
  case bytes(UInt64)
  /// A point in time; nil means "never".
  case time(Int64?)
  /// A length of time in seconds.
  case seconds(Int64)
  case user(UInt32)
  case group(UInt32)
  /// Permission bits: `rw-r--r--` in tables, `"0644"` in JSON and CSV.
  case perms(UInt32)
  case key(IPCKey)
  case list([String])
  case bool(Bool)
}

/// Output formats of `ls`, `show`, `limits` (docs/DESIGN.md, "Output").
public enum OutputFormat: String, CaseIterable, Sendable {
  case table, json, csv, prometheus
}

/// Choices that change how values read, shared by every renderer.
public struct RenderOptions: Sendable {
  /// Exact byte counts instead of `4K`.
  public var exactBytes = false
  /// Numeric uids, gids and permissions instead of names.
  public var numeric = false
  public var headings = true
  /// The time that ages are measured from.
  public var now: Int64 = 0

  public init(exactBytes: Bool = false, numeric: Bool = false, headings: Bool = true, now: Int64 = 0) {
    self.exactBytes = exactBytes
    self.numeric = numeric
    self.headings = headings
    self.now = now
  }
}

/// Text already formatted: objects made together share their seconds, sizes and owners, so a
/// listing formats each distinct value once.
final class TimeTextCache {
  var short: [Int64: [UInt8]] = [:]
  var rfc3339: [Int64: [UInt8]?] = [:]
  var users: [UInt32: [UInt8]] = [:]
  var ages: [Int64: [UInt8]] = [:]
  var sizes: [UInt64: [UInt8]] = [:]
  var groups: [UInt32: [UInt8]] = [:]
}

/// Turns cells into text for tables and CSV, and into JSON values.
public struct CellFormatter {
  public var options: RenderOptions
  public let users: UserDirectory
  let times = TimeTextCache()

  public init(options: RenderOptions, users: UserDirectory) {
    self.options = options
    self.users = users
  }

  func shortTime(_ t: Int64) -> [UInt8] {
    if let cached = times.short[t] { return cached }
    let text = Array(TextFormat.shortTime(t, now: options.now).utf8)
    times.short[t] = text
    return text
  }

  /// nil for a time RFC 3339 cannot write (see `TextFormat.rfc3339`).
  func rfc3339(_ t: Int64) -> [UInt8]? {
    if let cached = times.rfc3339[t] { return cached }
    let text = TextFormat.rfc3339(t).map { Array($0.utf8) }
    times.rfc3339[t] = text
    return text
  }

  /// A user's name as a JSON value (`"root"` or `null`), formatted once per uid.
  func jsonUser(_ uid: UInt32) -> [UInt8] {
    if let cached = times.users[uid] { return cached }
    var out = OutputBuffer(capacity: 16)
    if let name = users.userName(uid) { out.writeJSONString(name) } else { out.write("null") }
    times.users[uid] = out.bytes
    return out.bytes
  }

  func jsonGroup(_ gid: UInt32) -> [UInt8] {
    if let cached = times.groups[gid] { return cached }
    var out = OutputBuffer(capacity: 16)
    if let name = users.groupName(gid) { out.writeJSONString(name) } else { out.write("null") }
    times.groups[gid] = out.bytes
    return out.bytes
  }

  /// Writes a cell as a table shows it.
  public func writeTable(_ value: CellValue, into out: inout OutputBuffer) {
    switch value {
    case .null: out.write(byte: 45)
    case .int(let v): out.write(int: v)
    case .text(let s): out.write(s)
    case .name(let n): out.bytes.append(contentsOf: n.bytes)
    case .bytes(let b):
      if options.exactBytes {
        out.write(uint: b)
      } else if let cached = times.sizes[b] {
        out.bytes.append(contentsOf: cached)
      } else {
        let text = Array(TextFormat.humanSize(b).utf8)
        times.sizes[b] = text
        out.bytes.append(contentsOf: text)
      }
    case .time(let t): if let t { out.bytes.append(contentsOf: shortTime(t)) } else { out.write(byte: 45) }
    case .seconds(let s):
      if let cached = times.ages[s] {
        out.bytes.append(contentsOf: cached)
      } else {
        let text = Array(TimeSpan.compact(seconds: s).utf8)
        times.ages[s] = text
        out.bytes.append(contentsOf: text)
      }
    case .user(let uid):
      if !options.numeric, let name = users.userName(uid) { out.write(name) } else { out.write(uint: UInt64(uid)) }
    case .group(let gid):
      if !options.numeric, let name = users.groupName(gid) { out.write(name) } else { out.write(uint: UInt64(gid)) }
    case .perms(let m):
      if options.numeric { out.write(octalPermissions: m) } else { out.write(symbolicPermissions: m) }
    case .key(let k): out.write(key: k)
    case .list(let items):
      for (i, item) in items.enumerated() {
        if i > 0 { out.write(byte: 44) }
        out.write(item)
      }
    case .bool(let b): out.write(b ? "yes" : "no")
    }
  }

  public func tableText(_ value: CellValue) -> String {
    var out = OutputBuffer(capacity: 16)
    writeTable(value, into: &out)
    return String(decoding: out.bytes, as: UTF8.self)
  }

  public func csvText(_ value: CellValue) -> String {
    switch value {
    case .null: return ""
    case .bytes(let b): return String(b)
    case .time(let t): return t.flatMap { rfc3339($0) }.map { String(decoding: $0, as: UTF8.self) } ?? ""
    case .seconds(let s): return String(s)
    case .perms(let m): return TextFormat.octalPermissions(m)
    case .bool(let b): return b ? "true" : "false"
    case .name(let n): return n.rawValue
    default: return tableText(value)
    }
  }

  /// Writes a JSON value: numbers as numbers, times as RFC 3339 UTC or null (never set, or out of
  /// RFC 3339's range), names as strings or
  /// null when the id has no name.
  public func writeJSON(_ value: CellValue, to out: inout OutputBuffer) {
    switch value {
    case .null: out.write("null")
    case .int(let v): out.write(int: v)
    case .text(let s): out.writeJSONString(s)
    case .name(let n): out.writeJSONString(n.rawValue)
    case .bytes(let b): out.write(uint: b)
    case .time(let t):
      if let text = t.flatMap({ rfc3339($0) }) {
        out.write(byte: 34)
        out.bytes.append(contentsOf: text)
        out.write(byte: 34)
      } else {
        out.write("null")
      }
    case .seconds(let s): out.write(int: s)
    case .user(let uid): out.bytes.append(contentsOf: jsonUser(uid))
    case .group(let gid): out.bytes.append(contentsOf: jsonGroup(gid))
    case .perms(let m):
      out.write(byte: 34)
      out.write(octalPermissions: m)
      out.write(byte: 34)
    case .key(let k):
      out.write(byte: 34)
      out.write(key: k)
      out.write(byte: 34)
    case .list(let items):
      out.write(byte: 91)
      for (i, item) in items.enumerated() {
        if i > 0 { out.write(byte: 44) }
        out.writeJSONString(item)
      }
      out.write(byte: 93)
    case .bool(let b): out.write(b ? "true" : "false")
    }
  }
}
