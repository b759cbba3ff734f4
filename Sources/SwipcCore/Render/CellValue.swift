/// A typed cell: renderers decide how each type reads in a table, in CSV and in JSON.
public enum CellValue: Sendable, Equatable {
  case null
  case int(Int64)
  case text(String)
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

/// Output formats of `ls`, `show`, `limits` (SPEC §4).
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

/// Turns cells into text for tables and CSV, and into JSON values.
public struct CellFormatter {
  public var options: RenderOptions
  public let users: UserDirectory

  public init(options: RenderOptions, users: UserDirectory) {
    self.options = options
    self.users = users
  }

  public func tableText(_ value: CellValue) -> String {
    switch value {
    case .null: return "-"
    case .int(let v): return String(v)
    case .text(let s): return s
    case .bytes(let b): return options.exactBytes ? String(b) : TextFormat.humanSize(b)
    case .time(let t): return t.map { TextFormat.shortTime($0, now: options.now) } ?? "-"
    case .seconds(let s): return TimeSpan.compact(seconds: s)
    case .user(let uid): return options.numeric ? String(uid) : users.userName(uid) ?? String(uid)
    case .group(let gid): return options.numeric ? String(gid) : users.groupName(gid) ?? String(gid)
    case .perms(let m):
      return options.numeric ? TextFormat.octalPermissions(m) : TextFormat.symbolicPermissions(m)
    case .key(let k): return k.description
    case .list(let items): return items.isEmpty ? "" : items.joined(separator: ",")
    case .bool(let b): return b ? "yes" : "no"
    }
  }

  public func csvText(_ value: CellValue) -> String {
    switch value {
    case .null: return ""
    case .bytes(let b): return String(b)
    case .time(let t): return t.map(TextFormat.rfc3339) ?? ""
    case .seconds(let s): return String(s)
    case .perms(let m): return TextFormat.octalPermissions(m)
    case .bool(let b): return b ? "true" : "false"
    default: return tableText(value)
    }
  }

  /// Writes a JSON value: numbers as numbers, times as RFC 3339 UTC or null, names as strings or
  /// null when the id has no name.
  public func writeJSON(_ value: CellValue, to out: inout OutputBuffer) {
    switch value {
    case .null: out.write("null")
    case .int(let v): out.write(String(v))
    case .text(let s): out.writeJSONString(s)
    case .bytes(let b): out.write(String(b))
    case .time(let t):
      if let t { out.writeJSONString(TextFormat.rfc3339(t)) } else { out.write("null") }
    case .seconds(let s): out.write(String(s))
    case .user(let uid):
      if let name = users.userName(uid) { out.writeJSONString(name) } else { out.write("null") }
    case .group(let gid):
      if let name = users.groupName(gid) { out.writeJSONString(name) } else { out.write("null") }
    case .perms(let m): out.writeJSONString(TextFormat.octalPermissions(m))
    case .key(let k): out.writeJSONString(k.description)
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
