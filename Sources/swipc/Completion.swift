import ArgumentParser
import SwipcCore

/// Shell completion of the values argument-parser cannot know: the objects on the live system.
///
/// The generated bash, zsh and fish scripts call `swipc` back (argument-parser's custom
/// completion) with the words of the command line; from them this works out which kinds of object
/// the command takes and offers the ids and POSIX names of those that exist now.
enum LiveCompletion {
  /// TYPE arguments of show, rm, chmod, chown, ls, limits and clean.
  static let kinds = CompletionKind.list(IPCKind.allCases.map(\.rawValue))

  /// The first TARGET of a command (`shm write TARGET TEXT...`, `chmod TYPE TARGET MODE`).
  static let target = CompletionKind.custom { words, index, prefix in
    candidates(words: words, index: index, prefix: prefix, repeating: false)
  }

  /// Every TARGET of `rm TYPE TARGET...`.
  static let targets = CompletionKind.custom { words, index, prefix in
    candidates(words: words, index: index, prefix: prefix, repeating: true)
  }

  /// Commands that take a TYPE word before their targets.
  private static let typed: Set<String> = ["show", "rm", "chmod", "chown"]
  /// Commands whose group names the kind: `shm write` takes System V segments and POSIX objects.
  private static let groups: [String: IPCKind] = ["msg": .msg, "shm": .shm, "sem": .sem]

  static func candidates(words: [String], index: Int, prefix: String, repeating: Bool) -> [String] {
    guard index <= words.count else { return [] }
    // The words before the cursor that are not options, nor the value of an option.
    var positional: [String] = []
    var afterOption = false
    for word in words.prefix(index).dropFirst() {
      if word.hasPrefix("-") {
        afterOption = !word.contains("=")
        continue
      }
      if afterOption {
        afterOption = false
        continue
      }
      positional.append(word)
    }
    guard let command = positional.firstIndex(where: { typed.contains($0) || groups[$0] != nil }) else {
      return []
    }
    var kinds: [IPCKind]
    var given: Int
    if let kind = groups[positional[command]] {
      // msg|shm|sem SUBCOMMAND TARGET
      kinds = [kind, kind.posixCounterpart]
      given = positional.count - command - 2
    } else {
      // show|rm|chmod|chown TYPE TARGET
      guard positional.count > command + 1, let kind = IPCKind(rawValue: positional[command + 1]) else {
        return []
      }
      kinds = [kind]
      given = positional.count - command - 2
    }
    guard given == 0 || (repeating && given > 0) else { return [] }
    if prefix.hasPrefix("/") { kinds.removeAll(where: \.isSystemV) }
    let snapshot = Inventory(view: .fromEnvironment()).snapshot(kinds: kinds, scanHolders: false, segmentMemory: false)
    let named = Set(positional.dropFirst(command + 2))
    return snapshot.objects.compactMap { object in
      guard let word = object.name.map({ "\($0)" }) ?? object.id.map({ String($0) }),
        word.hasPrefix(prefix), !named.contains(word)
      else { return nil }
      return word
    }
  }
}
