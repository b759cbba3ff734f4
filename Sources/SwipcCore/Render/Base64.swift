/// RFC 4648 base64, for binary message data in JSON.
public enum Base64 {
  static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

  public static func encode(_ bytes: UnsafeRawBufferPointer, into out: inout OutputBuffer) {
    var i = 0
    let n = bytes.count
    while i + 3 <= n {
      let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
      out.write(byte: alphabet[Int(v >> 18)])
      out.write(byte: alphabet[Int(v >> 12 & 63)])
      out.write(byte: alphabet[Int(v >> 6 & 63)])
      out.write(byte: alphabet[Int(v & 63)])
      i += 3
    }
    if n - i == 1 {
      let v = UInt32(bytes[i]) << 16
      out.write(byte: alphabet[Int(v >> 18)])
      out.write(byte: alphabet[Int(v >> 12 & 63)])
      out.write("==")
    } else if n - i == 2 {
      let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
      out.write(byte: alphabet[Int(v >> 18)])
      out.write(byte: alphabet[Int(v >> 12 & 63)])
      out.write(byte: alphabet[Int(v >> 6 & 63)])
      out.write(byte: 61)
    }
  }
}

/// `msg recv --format json`: a JSON line per message received,
/// `{"type":1,"size":5,"encoding":"utf-8","data":"hello"}` (`priority` for POSIX queues; base64
/// when the bytes are not valid UTF-8).
public struct MessageLines {
  var json: JSONOutput
  let columns: [OutputColumn]

  public init(posix: Bool) {
    json = JSONOutput(formatter: CellFormatter(options: RenderOptions(), users: UserDirectory()), layout: .lines, capacity: 0)
    columns = [OutputColumn(posix ? "PRIORITY" : "TYPE"), OutputColumn("SIZE"), OutputColumn("ENCODING"), OutputColumn("DATA")]
  }

  /// Appends the line of one message to `out`.
  public mutating func write(_ bytes: UnsafeRawBufferPointer, type: Int, into out: inout OutputBuffer) {
    swap(&json.out, &out)
    json.begin(columns, title: nil)
    json.cell(.int(Int64(type)))
    json.cell(.int(Int64(bytes.count)))
    if let text = String(validating: bytes.bindMemory(to: UInt8.self), as: UTF8.self) {
      json.cell(.text("utf-8"))
      json.cell(.text(text))
    } else {
      json.cell(.text("base64"))
      json.cell(.base64(Array(bytes)))
    }
    swap(&json.out, &out)
  }
}
