import Foundation
import Testing

/// Runs the built `swipc` and other programs, and prepares the C helper: the harness of the
/// end-to-end tests, in the manner of argument-parser's AssertExecuteCommand.
enum Harness {
  static let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
  }()

  /// The binary under test: $SWIPC_BIN, or the debug build.
  static let swipc: String = {
    if let bin = ProcessInfo.processInfo.environment["SWIPC_BIN"], !bin.isEmpty { return bin }
    return packageRoot + "/.build/debug/swipc"
  }()

  /// Whether the binary under test is statically linked (the release build): an ELF file without a
  /// program interpreter (PT_INTERP) among its program headers.
  static let binaryIsStatic: Bool = {
    guard let data = FileManager.default.contents(atPath: swipc), data.count > 64,
      data.starts(with: [0x7F, 0x45, 0x4C, 0x46])
    else { return false }
    let bytes = [UInt8](data)
    func integer(_ offset: Int, _ size: Int) -> Int {
      (0..<size).reduce(0) { $0 | Int(bytes[offset + $1]) << (8 * $1) }
    }
    let (offset, size, count) = (integer(32, 8), integer(54, 2), integer(56, 2))
    return !(0..<count).contains { offset + $0 * size + 4 <= bytes.count && integer(offset + $0 * size, 4) == 3 }
  }()

  /// The sanitizer the binary under test was built with (`make check` sets SWIPC_SANITIZER).
  static let sanitizer: String? = ProcessInfo.processInfo.environment["SWIPC_SANITIZER"].flatMap { $0.isEmpty ? nil : $0 }

  /// The independent C client, compiled once per test process into .build (not left in /tmp).
  static let helper: String = {
    let dir = packageRoot + "/.build/e2e"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let out = dir + "/ipchelper"
    let building = out + ".\(getpid())"
    let result = run(["cc", "-O2", "-o", building, packageRoot + "/Tests/Helpers/ipchelper.c"])
    precondition(result.status == 0, "cannot compile the C helper: \(result.stderr)")
    precondition(rename(building, out) == 0, "cannot move the C helper into place")
    return out
  }()

  struct Result {
    var status: Int32
    var stdout: String
    var stderr: String
    var stderrLines: [Substring] { stderr.split(separator: "\n") }
  }

  /// Runs a program and waits for it, collecting its output.
  static func run(_ arguments: [String], environment: [String: String] = [:], input: String? = nil) -> Result {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    for (k, v) in environment { env[k] = v }
    process.environment = env
    let out = Pipe(), err = Pipe(), inp = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = inp
    do { try process.run() } catch { return Result(status: -1, stdout: "", stderr: "\(error)") }
    if let input { inp.fileHandleForWriting.write(Data(input.utf8)) }
    try? inp.fileHandleForWriting.close()
    // Read both pipes concurrently so that neither fills up.
    final class Box: @unchecked Sendable { var data = Data() }
    let errBox = Box()
    let group = DispatchGroup()
    group.enter()
    let errHandle = err.fileHandleForReading
    DispatchQueue.global().async {
      errBox.data = errHandle.readDataToEndOfFile()
      group.leave()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    let errData = errBox.data
    process.waitUntilExit()
    return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
      stderr: String(decoding: errData, as: UTF8.self))
  }

  /// Runs swipc itself.
  static func swipc(_ arguments: [String], environment: [String: String] = [:]) -> Result {
    run([swipc] + arguments, environment: environment)
  }

  /// Whether private namespaces can be made here (root, or user namespaces allowed).
  static let canUnshareIPC: Bool = run(["unshare", "--ipc", "true"]).status == 0
  static let privateNamespaces = ["--ipc", "--mount", "--pid", "--fork", "--mount-proc"]
  static let canUnshareAll: Bool = run(["unshare"] + privateNamespaces + ["true"]).status == 0
  /// The same with a network namespace of its own (loopback only) and `ip` to bring it up.
  static let canUnshareNet: Bool = run(["unshare"] + privateNamespaces + ["--net", "ip", "link", "set", "lo", "up"]).status == 0

  /// Runs a bash script in private IPC, mount and PID namespaces (with its own /proc) with $S
  /// (swipc) and $H (the C helper) set. Every object and process the script makes dies with the
  /// namespaces, also when the test fails.
  static func inNamespace(_ script: String, namespaces: [String] = privateNamespaces) -> Result {
    run(["unshare"] + namespaces + ["bash", "-euo", "pipefail", "-c", script],
      environment: ["S": swipc, "H": helper])
  }

  /// Splits output made of sections separated by lines of `=====`.
  static func sections(_ text: String) -> [String] {
    text.components(separatedBy: "=====\n")
  }

  static func json(_ text: String) -> Any? {
    try? JSONSerialization.jsonObject(with: Data(text.utf8))
  }
}
