/// A typed cell: how each type reads in a table, in CSV and in JSON is decided here, once, for
/// every renderer (docs/DESIGN.md, "Output pipeline").
public enum CellValue: Sendable, Equatable {
  case null
  case int(Int64)
  /// A count that may exceed Int64 (SHMALL's default).
  case uint(UInt64)
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
  /// A percentage: `12.50%` in tables, the number in CSV, rounded to four decimals in JSON.
  case percent(Double)
  /// A measurement with one to three decimals (`61.90`), the same digits in every format; a value
  /// that is not finite is null, as JSON has no NaN or infinity.
  case fixed(Double, digits: Int)
  /// Processes: `4321:bash,4400:cat` (`-` for none) in tables and CSV, objects in JSON.
  case processes([ProcessRef])
  /// Bytes written in base64 (RFC 4648) in every format.
  case base64([UInt8])
  /// A JSON array; in tables and CSV its items joined by commas.
  case array([CellValue])
  /// A JSON object; in tables and CSV its values joined by commas.
  case fields([Field])

  public struct Field: Sendable, Equatable {
    public var key: String
    public var value: CellValue
    public init(_ key: String, _ value: CellValue) {
      self.key = key
      self.value = value
    }
  }
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
  /// The last answers, asked again record after record (one owner, one creation time) for less
  /// than a dictionary lookup costs.
  var lastTime: (Int64, [UInt8]?)?
  var lastUser: (UInt32, [UInt8])?
  var lastGroup: (UInt32, [UInt8])?
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
    if let (last, text) = times.lastTime, last == t { return text }
    let text: [UInt8]?
    if let cached = times.rfc3339[t] {
      text = cached
    } else {
      text = TextFormat.rfc3339(t).map { Array($0.utf8) }
      times.rfc3339[t] = text
    }
    times.lastTime = (t, text)
    return text
  }

  /// A user's name as a JSON value (`"root"` or `null`), formatted once per uid.
  func jsonUser(_ uid: UInt32) -> [UInt8] {
    if let (last, text) = times.lastUser, last == uid { return text }
    let text = times.users[uid] ?? Self.jsonName(users.userName(uid))
    times.users[uid] = text
    times.lastUser = (uid, text)
    return text
  }

  func jsonGroup(_ gid: UInt32) -> [UInt8] {
    if let (last, text) = times.lastGroup, last == gid { return text }
    let text = times.groups[gid] ?? Self.jsonName(users.groupName(gid))
    times.groups[gid] = text
    times.lastGroup = (gid, text)
    return text
  }

  static func jsonName(_ name: String?) -> [UInt8] {
    var out = OutputBuffer(capacity: 16)
    if let name { out.writeJSONString(name) } else { out.write("null") }
    return out.bytes
  }

  /// Writes a cell as a table shows it.
  public func writeTable(_ value: CellValue, into out: inout OutputBuffer) {
    switch value {
    case .null: out.write(byte: 45)
    case .int(let v): out.write(int: v)
    case .uint(let v): out.write(uint: v)
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
    case .percent(let p): out.write(TextFormat.percent(p))
    case .fixed(let v, let digits): if v.isFinite { out.write(TextFormat.fixed(v, digits: digits)) } else { out.write(byte: 45) }
    case .processes(let list):
      if list.isEmpty { out.write(byte: 45) }
      for (i, p) in list.enumerated() {
        if i > 0 { out.write(byte: 44) }
        out.write(int: Int64(p.pid))
        out.write(byte: 58)
        out.write(p.name)
      }
    case .base64(let data): data.withUnsafeBytes { Base64.encode($0, into: &out) }
    case .array(let items):
      for (i, item) in items.enumerated() {
        if i > 0 { out.write(byte: 44) }
        writeTable(item, into: &out)
      }
    case .fields(let fields):
      for (i, field) in fields.enumerated() {
        if i > 0 { out.write(byte: 44) }
        writeTable(field.value, into: &out)
      }
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
    case .percent(let p): return String(p)
    case .fixed(let v, let digits): return v.isFinite ? TextFormat.fixed(v, digits: digits) : ""
    default: return tableText(value)
    }
  }

  /// Writes a JSON value: numbers as numbers, times as RFC 3339 UTC or null (never set, or out of
  /// RFC 3339's range), user and group names as strings or null when the id has no name. A POSIX
  /// name is text with invalid bytes replaced; `JSONOutput` adds its exact bytes beside it.
  public func writeJSON(_ value: CellValue, to out: inout OutputBuffer) {
    switch value {
    case .null: out.write("null")
    case .int(let v): out.write(int: v)
    case .uint(let v): out.write(uint: v)
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
    case .percent(let p):
      // JSON has no NaN or infinity.
      if p.isFinite { out.write(String((p * 10000).rounded() / 10000)) } else { out.write("null") }
    case .fixed(let v, let digits): out.write(v.isFinite ? TextFormat.fixed(v, digits: digits) : "null")
    case .processes(let list):
      writeJSON(.array(list.map { .fields([CellValue.Field("pid", .int(Int64($0.pid))), CellValue.Field("command", .text($0.name))]) }), to: &out)
    case .base64(let data):
      out.write(byte: 34)
      data.withUnsafeBytes { Base64.encode($0, into: &out) }
      out.write(byte: 34)
    case .array(let items):
      out.write(byte: 91)
      for (i, item) in items.enumerated() {
        if i > 0 { out.write(byte: 44) }
        writeJSON(item, to: &out)
      }
      out.write(byte: 93)
    case .fields(let fields):
      out.write(byte: 123)
      for (i, field) in fields.enumerated() {
        if i > 0 { out.write(byte: 44) }
        out.writeJSONString(field.key)
        out.write(byte: 58)
        writeJSON(field.value, to: &out)
        if case .name(let name) = field.value { writeExactBytes(of: name, key: field.key, to: &out) }
      }
      out.write(byte: 125)
    }
  }

  /// After a POSIX name that is not UTF-8, whose JSON text cannot hold it exactly:
  /// `,"KEY_base64":"…"`, the base64 of the name's bytes, with its slash.
  func writeExactBytes(of name: POSIXName, key: String, to out: inout OutputBuffer) {
    guard !name.isValidUTF8 else { return }
    out.write(",\"")
    out.write(key)
    out.write("_base64\":\"")
    name.bytes.withUnsafeBytes { Base64.encode($0, into: &out) }
    out.write(byte: 34)
  }
}
