import Foundation

/// The parts of man/swipc.1 (mdoc) the documentation tests compare with the program: its
/// sections and subsections, and the options each names with the `Fl` macro.
struct ManPage {
  struct Section {
    var title: String
    var lines: [String]
  }

  var sections: [Section] = []

  init(text: String) {
    for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
      if line.hasPrefix(".Sh ") || line.hasPrefix(".Ss ") {
        sections.append(Section(title: String(line.dropFirst(4)), lines: []))
      } else if !line.hasPrefix(".\\\"") && !sections.isEmpty {
        sections[sections.count - 1].lines.append(line)
      }
    }
  }

  func section(_ title: String) -> Section? { sections.first { $0.title == title } }

  /// The subsections documenting the command `swipc PATH...`: titles such as
  /// `swipc sem wait Ar target`, `swipc msg|shm|sem create` or `swipc chmod ... , Nm swipc chown ...`.
  func commandSections(_ path: [String]) -> [Section] {
    sections.filter { section in
      Self.titleCommands(section.title).contains { words in
        words.count >= path.count
          && zip(words, path).allSatisfy { word, name in word.split(separator: "|").contains(Substring(name)) }
      }
    }
  }

  /// The command words of each `swipc ...` alternative in a subsection title.
  static func titleCommands(_ title: String) -> [[String]] {
    let macros: Set<String> = ["Oo", "Oc", "Op", "Ar", "Nm", "Cm", "Fl", "Ns", "No", "Pq"]
    return title.components(separatedBy: " , ").compactMap { alternative in
      let words = alternative.split(separator: " ").map(String.init).filter { !macros.contains($0) }
      guard words.first == "swipc" else { return nil }
      return Array(words.dropFirst())
    }
  }

  /// The sections a section refers to with `Sx` (`.Sx OUTPUT .`, `.Pq Sx Naming objects ,`).
  func references(from section: Section) -> [Section] {
    var titles: Set<String> = []
    for line in section.lines {
      let tokens = Self.tokens(line)
      guard let start = tokens.firstIndex(of: "Sx") else { continue }
      let words = tokens[(start + 1)...].prefix { !Self.isMacro($0) && !($0.count == 1 && ".,;:()".contains($0)) }
      titles.insert(words.joined(separator: " "))
    }
    return sections.filter { titles.contains($0.title) }
  }

  /// The options named with `Fl` in these lines, with their dashes (`--key`, `-k`); `-[no-]x`
  /// counts as `--x` and `--no-x`; the `--` that ends options is left out.
  static func options(in lines: [String], itemsOnly: Bool = false) -> Set<String> {
    var found: Set<String> = []
    for line in lines {
      if itemsOnly && !line.hasPrefix(".It ") { continue }
      var inFlag = false
      for word in tokens(line) {
        if word == "Fl" {
          inFlag = true
          continue
        }
        guard inFlag else { continue }
        if isMacro(word) {
          inFlag = false
          continue
        }
        if word.allSatisfy({ ",|();:.".contains($0) }) || word == "-" { continue }
        let flag = "-" + word
        if flag.contains("[no-]") {
          found.insert(flag.replacingOccurrences(of: "[no-]", with: ""))
          found.insert(flag.replacingOccurrences(of: "[no-]", with: "no-"))
        } else {
          found.insert(flag)
        }
      }
    }
    return found
  }

  /// The words of an mdoc line, the leading dot of a macro line taken off.
  static func tokens(_ line: String) -> [String] {
    var words = line.split(separator: " ").map(String.init)
    if line.hasPrefix("."), !words.isEmpty { words[0].removeFirst() }
    return words
  }

  static func isMacro(_ word: String) -> Bool {
    let scalars = Array(word.unicodeScalars)
    return (2...3).contains(scalars.count) && CharacterSet.uppercaseLetters.contains(scalars[0])
      && scalars.dropFirst().allSatisfy { CharacterSet.lowercaseLetters.contains($0) }
  }
}

/// The commands and options of `swipc --experimental-dump-help`.
struct CommandTree {
  struct Command {
    var path: [String]
    var options: Set<String>
    var hasSubcommands: Bool
  }

  var commands: [Command] = []

  init?(json: String) {
    guard let root = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any],
      let command = root["command"] as? [String: Any]
    else { return nil }
    walk(command, path: [])
  }

  private mutating func walk(_ command: [String: Any], path: [String]) {
    if command["shouldDisplay"] as? Bool == false { return }
    var options: Set<String> = []
    for argument in command["arguments"] as? [[String: Any]] ?? [] where argument["shouldDisplay"] as? Bool != false {
      for name in argument["names"] as? [[String: Any]] ?? [] {
        guard let text = name["name"] as? String, let kind = name["kind"] as? String else { continue }
        options.insert((kind == "long" ? "--" : "-") + text)
      }
    }
    let subcommands = command["subcommands"] as? [[String: Any]] ?? []
    commands.append(Command(path: path, options: options, hasSubcommands: !subcommands.isEmpty))
    for sub in subcommands {
      guard let name = sub["commandName"] as? String, name != "help" else { continue }
      walk(sub, path: path + [name])
    }
  }

  var allOptions: Set<String> { commands.reduce(into: []) { $0.formUnion($1.options) } }
}
