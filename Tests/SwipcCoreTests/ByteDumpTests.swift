import Glibc
import Testing
@testable import SwipcCore

@Suite("shm dump formats")
struct ByteDumpTests {
  func hex(_ bytes: [UInt8], offset: Int = 0, chunk: Int = ByteDump.chunkSize) -> String {
    var dump = ByteDump.Hex(offset: offset)
    var out = OutputBuffer()
    bytes.withUnsafeBytes { raw in
      var start = 0
      while start < raw.count {
        let end = min(start + chunk, raw.count)
        dump.write(UnsafeRawBufferPointer(rebasing: raw[start..<end]), into: &out)
        start = end
      }
    }
    dump.finish(into: &out, wroteAnything: !bytes.isEmpty)
    return String(decoding: out.bytes, as: UTF8.self)
  }

  @Test("hex: the layout of hexdump -C, with partial last lines")
  func hexLayout() {
    // Expected texts are what util-linux hexdump -C prints for the same bytes.
    #expect(hex([0x0f]) == "00000000  0f                                                |.|\n00000001\n")
    #expect(hex(Array("hello world\n".utf8)) ==
      "00000000  68 65 6c 6c 6f 20 77 6f  72 6c 64 0a              |hello world.|\n0000000c\n")
    #expect(hex(Array(0x41...0x49)) ==
      "00000000  41 42 43 44 45 46 47 48  49                       |ABCDEFGHI|\n00000009\n")
    #expect(hex([]) == "")
  }

  @Test("hex: repeated full lines become '*', also across chunks; offsets start where asked")
  func hexSqueeze() {
    let bytes = [UInt8](repeating: 0x61, count: 68) + [0x62]
    let expected = """
      00000003  61 61 61 61 61 61 61 61  61 61 61 61 61 61 61 61  |aaaaaaaaaaaaaaaa|
      *
      00000043  61 61 61 61 62                                    |aaaab|
      00000048

      """
    #expect(hex(bytes, offset: 3) == expected)
    #expect(hex(bytes, offset: 3, chunk: 16) == expected)
    let zeros = hex([UInt8](repeating: 0, count: 64))
    #expect(zeros == "00000000  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|\n*\n00000040\n")
    // A differing line ends the squeeze; an equal line after it is printed again.
    let mixed = [UInt8](repeating: 0, count: 32) + [UInt8](repeating: 1, count: 16) + [UInt8](repeating: 0, count: 16)
    #expect(hex(mixed).split(separator: "\n").count == 5)
  }

  @Test("hex: bytes outside 0x20...0x7e show as dots")
  func hexPrintable() {
    let line = hex([0x1f, 0x20, 0x7e, 0x7f, 0x80, 0xff])
    #expect(line.hasSuffix("|. ~...|\n00000006\n"))
  }

  @Test("base64: lines of 76 characters, as coreutils base64 writes them")
  func base64Lines() {
    var out = OutputBuffer()
    let bytes = [UInt8](0..<200)
    bytes.withUnsafeBytes { raw in
      ByteDump.writeBase64(UnsafeRawBufferPointer(rebasing: raw[0..<114]), into: &out)
      ByteDump.writeBase64(UnsafeRawBufferPointer(rebasing: raw[114..<200]), into: &out)
    }
    let lines = String(decoding: out.bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
    #expect(lines.map(\.count) == [76, 76, 76, 40, 0])
    #expect(lines[0].hasPrefix("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4"))
  }
}

@Suite("Pipes and sockets: parsing and rendering")
struct StreamInventoryTests {
  /// One netlink message of a sock_diag dump: `struct unix_diag_msg` and a UNIX_DIAG_NAME.
  static func diag(type: UInt8, state: UInt8, inode: UInt32, name: [UInt8]?) -> [UInt8] {
    var payload: [UInt8] = [1, type, state, 0] + withUnsafeBytes(of: inode.littleEndian, Array.init) + [UInt8](repeating: 0, count: 8)
    if let name {
      payload += withUnsafeBytes(of: UInt16(4 + name.count).littleEndian, Array.init) + [0, 0] + name
      while payload.count % 4 != 0 { payload.append(0) }
    }
    return header(length: 16 + payload.count, type: 20) + payload
  }

  static func header(length: Int, type: UInt16) -> [UInt8] {
    withUnsafeBytes(of: UInt32(length).littleEndian, Array.init) + withUnsafeBytes(of: type.littleEndian, Array.init)
      + [2, 0] + [UInt8](repeating: 0, count: 8)
  }

  /// NLMSG_DONE.
  static let done = header(length: 20, type: 3) + [0, 0, 0, 0]

  /// A dump: a listening path, an abstract seqpacket name, a datagram socket, an unbound
  /// connected one, and a path holding a newline and what looks like a /proc/net/unix row.
  static let unix: [UInt8] =
    diag(type: 1, state: 10, inode: 5001, name: Array("/run/app.sock".utf8))
    + diag(type: 5, state: 10, inode: 5002, name: [0] + Array("abstract name".utf8))
    + diag(type: 2, state: 7, inode: 5003, name: Array("/dev/log".utf8) + [0])
    + diag(type: 1, state: 1, inode: 5004, name: nil)
    + diag(type: 1, state: 10, inode: 5005,
      name: Array("/tmp/x\n0000000000000000: 00000002 00000000 00010000 0001 01 99999 /run/forged.sock".utf8))
    + done

  @Test("sock_diag dump: path or @name, type, state; a newline in a path stays in that one path")
  func parseUnix() {
    var records = [UnixSocketRecord]()
    let end = Self.unix.withUnsafeBytes { UnixSocketTable.parse(netlink: $0, into: &records) }
    #expect(end == .done)
    #expect(records.count == 5)
    #expect(records[0] == UnixSocketRecord(path: "/run/app.sock", type: "stream", state: "listen", inode: 5001))
    #expect(records[1].path == "@abstract name" && records[1].type == "seqpacket" && records[1].state == "listen")
    #expect(records[2].path == "/dev/log" && records[2].type == "dgram" && records[2].state == "unconnected")
    #expect(records[3].path == nil && records[3].state == "connected")
    #expect(records[4].inode == 5005 && records[4].path?.hasSuffix("/run/forged.sock") == true)
    #expect(!records.contains { $0.inode == 99999 })
  }

  @Test("sock_diag: NLMSG_ERROR is the kernel's errno; a dump split over batches goes on; a message cut short fails")
  func unixBatches() {
    var records = [UnixSocketRecord]()
    let error = Self.header(length: 20, type: 2) + withUnsafeBytes(of: Int32(-ENOENT).littleEndian, Array.init)
    #expect(error.withUnsafeBytes { UnixSocketTable.parse(netlink: $0, into: &records) } == .failed(.noSuchFileOrDirectory))
    let first = Self.diag(type: 1, state: 10, inode: 1, name: Array("/a".utf8))
    #expect(first.withUnsafeBytes { UnixSocketTable.parse(netlink: $0, into: &records) } == .more)
    #expect(Self.done.withUnsafeBytes { UnixSocketTable.parse(netlink: $0, into: &records) } == .done)
    #expect(records.map(\.path) == ["/a"])
    #expect(first.dropLast(2).withUnsafeBytes { UnixSocketTable.parse(netlink: $0, into: &records) } == .failed(.badMessage))
  }

  @Test("ls pipe rows: '-' for none in tables, null and arrays in JSON, laid out as ls lays out JSON")
  func renderPipes() throws {
    let p = PipeRecord(isFIFO: true, inode: 7, path: "/tmp/f, x",
      readers: [ProcessRef(pid: 10, name: "cat")], writers: [])
    let renderer = RecordRenderer.pipes([p])
    let formatter = CellFormatter(options: RenderOptions(), users: UserDirectory())
    func text(_ r: RecordRenderer, _ format: OutputFormat) throws -> String {
      String(decoding: try r.render(as: format, formatter: formatter).bytes, as: UTF8.self)
    }
    #expect(try text(renderer, .table) == "TYPE INODE READERS WRITERS PATH\nfifo     7 10:cat  -       /tmp/f, x\n")
    #expect(try text(renderer, .csv) == "TYPE,INODE,READERS,WRITERS,PATH\nfifo,7,10:cat,-,\"/tmp/f, x\"\n")
    #expect(try text(renderer, .json) ==
      "[\n  {\"type\":\"pipe\",\"pipe_type\":\"fifo\",\"inode\":7,\"readers\":[{\"pid\":10,\"command\":\"cat\"}],\"writers\":[],\"path\":\"/tmp/f, x\"}\n]\n")
    #expect(try text(RecordRenderer.pipes([]), .json) == "[]\n")
    #expect(throws: SwipcError.self) { try text(renderer, .prometheus) }
  }
}
