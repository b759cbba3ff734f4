import SwipcCore

#if canImport(Glibc)
import Glibc
#endif

#if !SWIPC_FUZZ
@main struct FuzzDriverMain {
  static func main() { Driver.main(CommandLine.arguments) }
}
#endif

/// The driver of the normal build: writes a seed corpus and replays inputs without libFuzzer.
enum Driver {
  static func main(_ arguments: [String]) {
    switch arguments.dropFirst().first {
    case "seed" where arguments.count == 4: seed(from: arguments[2], into: arguments[3])
    case "run" where arguments.count >= 3: replay(Array(arguments.dropFirst(2)))
    default:
      ParserFuzz.say("usage: swipc-fuzz seed SEEDS CORPUS | swipc-fuzz run FILE-OR-DIRECTORY...\n")
      exit(64)
    }
  }

  /// Seed files are named PARSER.NAME (PARSER one of ParserFuzz.parsers) and hold the text alone;
  /// corpus files get the parser's selector byte in front. This machine's own /proc text is
  /// added: real System V tables, maps and fdinfo.
  static func seed(from seeds: String, into corpus: String) {
    var inputs: [(String, String, [UInt8])] = []
    for file in entries(seeds) {
      let base = file.split(separator: "/").last.map(String.init) ?? file
      guard let parser = base.split(separator: ".").first.map(String.init), ParserFuzz.parsers.contains(parser),
        let bytes = read(file)
      else {
        ParserFuzz.say("swipc-fuzz: \(file): not PARSER.NAME with a known parser, or unreadable; skipped\n")
        continue
      }
      inputs.append((parser, base, bytes))
    }
    let live = [
      ("sysvipc-msg", "/proc/sysvipc/msg"), ("sysvipc-shm", "/proc/sysvipc/shm"), ("sysvipc-sem", "/proc/sysvipc/sem"),
      ("maps", "/proc/self/maps"), ("fdinfo", "/proc/self/fdinfo/0"),
    ]
    for (parser, path) in live {
      if let bytes = read(path) { inputs.append((parser, parser + ".live", Array(bytes.prefix(65536)))) }
    }
    mkdir(corpus, 0o755)
    for (parser, name, bytes) in inputs {
      let selector = UInt8(ParserFuzz.parsers.firstIndex(of: parser)!)
      write(corpus + "/" + name, [selector] + bytes)
    }
    print("swipc-fuzz: \(inputs.count) seeds written to \(corpus)")
  }

  /// Runs every file (or every file of a directory) through the parsers.
  static func replay(_ paths: [String]) {
    var count = 0
    for path in paths {
      let files = entries(path)
      for file in files.isEmpty ? [path] : files {
        guard let bytes = read(file) else {
          ParserFuzz.say("swipc-fuzz: cannot read \(file)\n")
          exit(66)
        }
        ParserFuzz.run(bytes)
        count += 1
      }
    }
    print("swipc-fuzz: \(count) inputs replayed")
  }

  /// The files of a directory, sorted; empty when it is not one.
  static func entries(_ directory: String) -> [String] {
    guard case .success(let names) = FileReader.list(directory) else { return [] }
    return names.filter { !$0.hasPrefix(".") }.sorted().map { directory + "/" + $0 }
  }

  static func read(_ path: String) -> [UInt8]? {
    try? FileReader.read(path).get()
  }

  static func write(_ path: String, _ bytes: [UInt8]) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard fd >= 0 else {
      ParserFuzz.say("swipc-fuzz: cannot write \(path)\n")
      exit(73)
    }
    defer { close(fd) }
    _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
  }
}
