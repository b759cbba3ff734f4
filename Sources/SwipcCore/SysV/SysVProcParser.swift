/// A line of /proc text that could not be used, with its 1-based line number.
public struct ParseIssue: Sendable, Equatable, CustomStringConvertible {
  public var source: String
  public var line: Int
  public var message: String
  public var description: String { "\(source) line \(line): \(message); line skipped" }
}

/// Parses /proc/sysvipc/{msg,shm,sem}: a pure function over the text.
///
/// Columns are located by the header line, not by position, so the 14-, 15- and 16-column shm
/// variants (rss and swap were added in Linux 2.6.x) and any future additions parse alike. Every
/// field is numeric; a line with the wrong number of fields or a non-number is reported with its
/// line number and skipped, never half-used.
public enum SysVProcParser {
  public struct Result: Sendable {
    public var objects: [IPCObject]
    public var issues: [ParseIssue]
  }

  /// The columns each kind needs, and their order in kernels whose header is missing.
  static func defaultHeader(_ kind: IPCKind) -> [String] {
    switch kind {
    case .msg:
      return ["key", "msqid", "perms", "cbytes", "qnum", "lspid", "lrpid", "uid", "gid", "cuid",
              "cgid", "stime", "rtime", "ctime"]
    case .shm:
      return ["key", "shmid", "perms", "size", "cpid", "lpid", "nattch", "uid", "gid", "cuid",
              "cgid", "atime", "dtime", "ctime", "rss", "swap"]
    case .sem:
      return ["key", "semid", "perms", "nsems", "uid", "gid", "cuid", "cgid", "otime", "ctime"]
    case .pmsg, .pshm, .psem:
      return []  // not in /proc/sysvipc
    }
  }

  static func required(_ kind: IPCKind) -> [String] {
    Array(defaultHeader(kind).prefix(kind == .shm ? 14 : defaultHeader(kind).count))
  }

  public static func parse<Bytes: Collection<UInt8>>(
    _ text: Bytes, kind: IPCKind, source: String? = nil
  ) -> Result where Bytes.Index == Int {
    var objects = [IPCObject]()
    let issues = parse(text, kind: kind, source: source, into: &objects)
    return Result(objects: objects, issues: issues)
  }

  /// Parses into an existing array, so that a listing of several kinds builds one array without
  /// moving its (large) records again.
  ///
  /// - Returns: The lines that were skipped.
  public static func parse<Bytes: Collection<UInt8>>(
    _ text: Bytes, kind: IPCKind, source: String? = nil, into objects: inout [IPCObject]
  ) -> [ParseIssue] where Bytes.Index == Int {
    precondition(kind.isSystemV, "only System V kinds have /proc/sysvipc files")
    let source = source ?? "/proc/sysvipc/\(kind.rawValue)"
    var issues = [ParseIssue]()
    var columns: [Column] = []
    var fields = [Int64](repeating: 0, count: 32)
    var lineNumber = 0
    var index = text.startIndex
    let end = text.endIndex
    objects.reserveCapacity(objects.count + text.count / 90)

    while index < end {
      lineNumber += 1
      var lineEnd = index
      while lineEnd < end && text[lineEnd] != 10 { lineEnd += 1 }
      defer { index = lineEnd < end ? lineEnd + 1 : end }
      if lineNumber == 1 {
        if let header = parseHeader(text, index..<lineEnd, kind: kind) {
          columns = header
          if !columns.contains(where: { $0 != .unknown }) || !hasRequired(columns, kind) {
            issues.append(ParseIssue(source: source, line: 1,
              message: "header lacks the columns \(required(kind).joined(separator: " "))"))
            return issues
          }
          fields = [Int64](repeating: 0, count: columns.count)
          continue
        }
        // No header: assume the kernel's current layout.
        columns = defaultHeader(kind).map { Column(name: $0, kind: kind) }
        fields = [Int64](repeating: 0, count: columns.count)
      }
      // Split on blanks and convert every field; stop at the first problem.
      var count = 0
      var problem: String?
      var i = index
      while i < lineEnd {
        while i < lineEnd && (text[i] == 32 || text[i] == 9 || text[i] == 13) { i += 1 }
        if i >= lineEnd { break }
        let start = i
        while i < lineEnd && text[i] != 32 && text[i] != 9 && text[i] != 13 { i += 1 }
        if count >= fields.count { count += 1; continue }
        guard let v = parseInteger(text, start..<i) else {
          let name = count < columns.count ? columns[count].name : "field \(count + 1)"
          problem = "\(name) '\(String(decoding: text[start..<i], as: UTF8.self))' is not a number"
          break
        }
        fields[count] = v
        count += 1
      }
      if problem == nil && count == 0 { continue }  // blank line
      if problem == nil && count != columns.count {
        problem = "expected \(columns.count) fields, found \(count)"
      }
      if let problem {
        issues.append(ParseIssue(source: source, line: lineNumber, message: problem))
        continue
      }
      if let object = makeObject(kind: kind, columns: columns, fields: fields) {
        objects.append(object)
      } else {
        issues.append(ParseIssue(source: source, line: lineNumber, message: "a value is out of range"))
      }
    }
    return issues
  }

  enum Column: Equatable {
    case key, id, perms, size, cbytes, qnum, nsems, lspid, lrpid, cpid, lpid, nattch, uid, gid
    case cuid, cgid, stime, rtime, atime, dtime, otime, ctime, rss, swap, unknown

    init(name: String, kind: IPCKind) {
      switch name {
      case "key": self = .key
      case "msqid", "shmid", "semid": self = .id
      case "perms": self = .perms
      case "size": self = .size
      case "cbytes": self = .cbytes
      case "qnum": self = .qnum
      case "nsems": self = .nsems
      case "lspid": self = .lspid
      case "lrpid": self = .lrpid
      case "cpid": self = .cpid
      case "lpid": self = .lpid
      case "nattch": self = .nattch
      case "uid": self = .uid
      case "gid": self = .gid
      case "cuid": self = .cuid
      case "cgid": self = .cgid
      case "stime": self = .stime
      case "rtime": self = .rtime
      case "atime": self = .atime
      case "dtime": self = .dtime
      case "otime": self = .otime
      case "ctime": self = .ctime
      case "rss": self = .rss
      case "swap": self = .swap
      default: self = .unknown
      }
    }

    var name: String {
      switch self {
      case .unknown: return "unknown column"
      default: return "\(self)"
      }
    }
  }

  static func hasRequired(_ columns: [Column], _ kind: IPCKind) -> Bool {
    required(kind).allSatisfy { columns.contains(Column(name: $0, kind: kind)) }
  }

  /// The header is recognised by its first word, `key`.
  static func parseHeader<Bytes: Collection<UInt8>>(
    _ text: Bytes, _ range: Range<Int>, kind: IPCKind
  ) -> [Column]? where Bytes.Index == Int {
    let words = String(decoding: text[range], as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
    guard words.first == "key" else { return nil }
    return words.map { Column(name: String($0), kind: kind) }
  }

  @inline(__always)
  static func parseInteger<Bytes: Collection<UInt8>>(
    _ text: Bytes, _ range: Range<Int>
  ) -> Int64? where Bytes.Index == Int {
    var i = range.lowerBound
    var negative = false
    if text[i] == UInt8(ascii: "-") { negative = true; i += 1 }
    guard i < range.upperBound, range.upperBound - i <= 20 else { return nil }
    var value: UInt64 = 0
    while i < range.upperBound {
      let d = text[i] &- 48
      guard d < 10 else { return nil }
      let (m, o1) = value.multipliedReportingOverflow(by: 10)
      let (a, o2) = m.addingReportingOverflow(UInt64(d))
      guard !o1, !o2 else { return nil }
      value = a
      i += 1
    }
    if negative {
      guard value <= UInt64(Int64.max) + 1 else { return nil }
      return Int64(bitPattern: 0 &- value)
    }
    // Sizes print as unsigned 64-bit; keep the bit pattern.
    return Int64(bitPattern: value)
  }

  /// 1600 (read as decimal) → 0o1600; nil when a digit is 8 or 9.
  static func octal(fromDecimalDigitsOf value: Int64) -> UInt32? {
    guard value >= 0 else { return nil }
    var v = value, result: UInt32 = 0, shift: UInt32 = 0
    repeat {
      let digit = UInt32(v % 10)
      guard digit < 8, shift < 30 else { return nil }
      result |= digit << shift
      shift += 3
      v /= 10
    } while v > 0
    return result
  }

  static func makeObject(kind: IPCKind, columns: [Column], fields: [Int64]) -> IPCObject? {
    var object = IPCObject(kind: kind)
    func time(_ v: Int64) -> Int64? { v == 0 ? nil : v }
    func pid(_ v: Int64) -> Int32? { Int32(exactly: v) }
    func id32(_ v: Int64) -> UInt32? { UInt32(exactly: v) }
    for (column, value) in zip(columns, fields) {
      switch column {
      case .key:
        // Printed with %d; accept the unsigned spelling too.
        guard let key = Int32(exactly: value) ?? UInt32(exactly: value).map({ Int32(bitPattern: $0) })
        else { return nil }
        object.key = IPCKey(rawValue: key)
      case .id:
        guard let id = Int32(exactly: value), id >= 0 else { return nil }
        object.id = id
      case .perms:
        // The kernel prints the mode with %o: the digits read as decimal are octal digits.
        guard let mode = octal(fromDecimalDigitsOf: value), mode <= 0o7777 else { return nil }
        object.mode = mode
      case .size: object.size = UInt64(bitPattern: value)
      case .cbytes: object.size = UInt64(bitPattern: value)
      case .qnum: object.messages = UInt64(bitPattern: value)
      case .nsems:
        guard let n = UInt32(exactly: value) else { return nil }
        object.nsems = n
      case .lspid: guard let p = pid(value) else { return nil }; object.lspid = p
      case .lrpid: guard let p = pid(value) else { return nil }; object.lrpid = p
      case .cpid: guard let p = pid(value) else { return nil }; object.cpid = p
      case .lpid: guard let p = pid(value) else { return nil }; object.lpid = p
      case .nattch: object.nattch = UInt64(bitPattern: value)
      case .uid: guard let v = id32(value) else { return nil }; object.uid = v
      case .gid: guard let v = id32(value) else { return nil }; object.gid = v
      case .cuid: guard let v = id32(value) else { return nil }; object.cuid = v
      case .cgid: guard let v = id32(value) else { return nil }; object.cgid = v
      case .stime: object.sendTime = time(value)
      case .rtime: object.receiveTime = time(value)
      case .atime: object.attachTime = time(value)
      case .dtime: object.detachTime = time(value)
      case .otime: object.operationTime = time(value)
      case .ctime: object.changeTime = time(value)
      case .rss: object.rss = UInt64(bitPattern: value)
      case .swap: object.swap = UInt64(bitPattern: value)
      case .unknown: break
      }
    }
    guard object.id != nil, object.key != nil else { return nil }
    if kind == .shm { object.holders = object.nattch.map { Int(clamping: $0) } }
    return object
  }
}
