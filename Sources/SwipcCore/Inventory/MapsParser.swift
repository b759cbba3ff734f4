/// Parses /proc/PID/maps lines: `start-end perms offset major:minor inode path`.
public enum MapsParser {
  /// The name the kernel gives System V segment mappings: `/SYSV%08x` (the key), inode = shmid.
  public static let sysvPrefix: [UInt8] = Array("/SYSV".utf8)

  /// Calls `body` with the device, inode and path of every mapping of a file or System V segment.
  public static func forEachMapping(
    _ text: [UInt8], _ body: (_ device: UInt64, _ inode: UInt64, _ path: ArraySlice<UInt8>) -> Void
  ) {
    var i = 0
    let n = text.count
    while i < n {
      var lineEnd = i
      while lineEnd < n && text[lineEnd] != 10 { lineEnd += 1 }
      parseLine(text[i..<lineEnd], body)
      i = lineEnd + 1
    }
  }

  static func parseLine(
    _ line: ArraySlice<UInt8>, _ body: (UInt64, UInt64, ArraySlice<UInt8>) -> Void
  ) {
    // Fields 0-4 are separated by single spaces; the path follows padding.
    var fieldStart = line.startIndex
    var fields: [Range<Int>] = []
    var i = line.startIndex
    while i < line.endIndex && fields.count < 5 {
      if line[i] == 32 {
        fields.append(fieldStart..<i)
        while i < line.endIndex && line[i] == 32 { i += 1 }
        fieldStart = i
        continue
      }
      i += 1
    }
    if fields.count < 5 {
      if fields.count == 4 && fieldStart < line.endIndex { fields.append(fieldStart..<line.endIndex) } else { return }
      fieldStart = line.endIndex
    }
    // Anonymous mappings have inode 0; so does System V segment 0, whose inode is its shmid.
    guard let inode = parseUnsigned(line[fields[4]], radix: 10),
      inode != 0 || line[fieldStart...].starts(with: sysvPrefix)
    else { return }
    let devField = line[fields[3]]
    guard let colon = devField.firstIndex(of: 58),
      let major = parseUnsigned(devField[devField.startIndex..<colon], radix: 16),
      let minor = parseUnsigned(devField[(colon + 1)...], radix: 16)
    else { return }
    body(makeDevice(major: major, minor: minor), inode, line[fieldStart...])
  }

  static func parseUnsigned(_ digits: ArraySlice<UInt8>, radix: UInt64) -> UInt64? {
    guard !digits.isEmpty, digits.count <= 20 else { return nil }
    var v: UInt64 = 0
    for c in digits {
      let d: UInt64
      switch c {
      case 48...57: d = UInt64(c - 48)
      case 97...102: d = UInt64(c - 87)
      case 65...70: d = UInt64(c - 55)
      default: return nil
      }
      guard d < radix else { return nil }
      let (m, o1) = v.multipliedReportingOverflow(by: radix)
      let (a, o2) = m.addingReportingOverflow(d)
      guard !o1, !o2 else { return nil }
      v = a
    }
    return v
  }

  /// glibc's makedev(3): the `dev_t` that stat reports for a major:minor pair.
  public static func makeDevice(major: UInt64, minor: UInt64) -> UInt64 {
    ((major & 0xffff_f000) << 32) | ((major & 0xfff) << 8) | ((minor & 0xffff_ff00) << 12) | (minor & 0xff)
  }
}
