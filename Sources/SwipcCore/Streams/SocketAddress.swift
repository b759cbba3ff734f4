import CSwipc
import Glibc

/// Where a socket lives: a path, an abstract name (`@name`), or `tcp:HOST:PORT` (IPv4).
public enum SocketAddress: Sendable, Equatable, CustomStringConvertible {
  case path(String)
  case abstract(String)
  case tcp(host: String, port: UInt16)

  /// The kinds of socket `--type` names.
  public enum Kind: String, Sendable, CaseIterable {
    case stream, dgram, seqpacket

    /// SOCK_CLOEXEC | SOCK_NONBLOCK, for socket(2).
    public static let flags = Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)

    public var rawType: Int32 {
      switch self {
      case .stream: return Int32(SOCK_STREAM.rawValue)
      case .dgram: return Int32(SOCK_DGRAM.rawValue)
      case .seqpacket: return Int32(SOCK_SEQPACKET.rawValue)
      }
    }
  }

  /// The longest path or abstract name that fits in sockaddr_un's sun_path.
  static let maxPathLength = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1

  public init(parsing text: String) throws(SwipcError) {
    if text.hasPrefix("tcp:") {
      let rest = text.dropFirst(4)
      guard let colon = rest.lastIndex(of: ":"), let port = UInt16(rest[rest.index(after: colon)...]) else {
        throw .usage("invalid address '\(text)': expected tcp:HOST:PORT, e.g. tcp:127.0.0.1:7000")
      }
      var host = String(rest[..<colon])
      if host == "localhost" { host = "127.0.0.1" }
      var probe = in_addr()
      guard inet_pton(AF_INET, host, &probe) == 1 else {
        throw .usage("invalid host '\(host)' in '\(text)': give an IPv4 address such as 127.0.0.1")
      }
      self = .tcp(host: host, port: port)
      return
    }
    if text.hasPrefix("@") {
      let name = String(text.dropFirst())
      guard !name.isEmpty, name.utf8.count <= SocketAddress.maxPathLength else {
        throw .usage("invalid abstract name '\(text)': 1 to \(SocketAddress.maxPathLength) bytes after '@'")
      }
      self = .abstract(name)
      return
    }
    guard !text.isEmpty, text.utf8.count <= SocketAddress.maxPathLength, !text.utf8.contains(0) else {
      throw .usage("invalid socket address '\(text)': a path of at most \(SocketAddress.maxPathLength) bytes, @name, or tcp:HOST:PORT")
    }
    self = .path(text)
  }

  public var description: String {
    switch self {
    case .path(let p): return p
    case .abstract(let n): return "@" + n
    case .tcp(let host, let port): return "tcp:\(host):\(port)"
    }
  }

  public var family: Int32 {
    if case .tcp = self { return AF_INET }
    return AF_UNIX
  }

  public var isUnix: Bool { family == AF_UNIX }

  /// Calls `body` with the sockaddr and its length.
  public func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
    switch self {
    case .tcp(let host, let port):
      var addr = sockaddr_in()
      addr.sin_family = sa_family_t(AF_INET)
      addr.sin_port = port.bigEndian
      inet_pton(AF_INET, host, &addr.sin_addr)
      return withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
      }
    case .path(let name), .abstract(let name):
      var addr = sockaddr_un()
      addr.sun_family = sa_family_t(AF_UNIX)
      let abstract: Bool
      if case .abstract = self { abstract = true } else { abstract = false }
      let bytes = Array(name.utf8)
      withUnsafeMutableBytes(of: &addr.sun_path) { raw in
        let start = abstract ? 1 : 0
        for (i, b) in bytes.enumerated() { raw[start + i] = b }
      }
      let length = MemoryLayout<sa_family_t>.size + bytes.count + (abstract ? 1 : 1)
      return withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(length)) }
      }
    }
  }
}
