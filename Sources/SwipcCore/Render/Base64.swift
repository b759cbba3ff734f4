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

extension OutputBuffer {
  /// One received message as a JSON line: `{"type":1,"size":5,"encoding":"utf-8","data":"hello"}`
  /// (`priority` for POSIX queues; base64 when the bytes are not valid UTF-8).
  public mutating func writeMessageJSON(_ bytes: UnsafeRawBufferPointer, type: Int, posix: Bool) {
    write(posix ? "{\"priority\":" : "{\"type\":")
    write(int: Int64(type))
    write(",\"size\":")
    write(int: Int64(bytes.count))
    if let text = String(validating: bytes.bindMemory(to: UInt8.self), as: UTF8.self) {
      write(",\"encoding\":\"utf-8\",\"data\":")
      writeJSONString(text)
    } else {
      write(",\"encoding\":\"base64\",\"data\":\"")
      Base64.encode(bytes, into: &self)
      write(byte: 34)
    }
    write("}\n")
  }
}
