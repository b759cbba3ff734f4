import Foundation
import Testing

/// The man page and the program must not drift apart: what `--experimental-dump-help` says the
/// program takes, the page documents, command by command, and the page names nothing else.
@Suite("Man page and program agree")
struct ManPageAgreementTests {
  static let page = ManPage(text: (try? String(contentsOfFile: Harness.packageRoot + "/man/swipc.1", encoding: .utf8)) ?? "")
  static let tree = CommandTree(json: Harness.swipc(["--experimental-dump-help"]).stdout)
  /// Options every command has, documented once.
  static let everywhere: Set<String> = ["-h", "--help", "--version"]

  @Test("the page and the help dump can be read")
  func readable() throws {
    #expect(Self.page.sections.count > 20)
    let tree = try #require(Self.tree)
    #expect(tree.commands.count > 30)
  }

  @Test("every command has its own subsection and is in the SYNOPSIS")
  func everyCommandDocumented() throws {
    let tree = try #require(Self.tree)
    let synopsis = (Self.page.section("SYNOPSIS")?.lines ?? []).joined(separator: "\n")
    #expect(!synopsis.isEmpty, "the page has a SYNOPSIS")
    for command in tree.commands where !command.path.isEmpty && !command.hasSubcommands {
      #expect(!Self.page.commandSections(command.path).isEmpty, "no subsection for swipc \(command.path.joined(separator: " "))")
      let last = command.path.last!
      #expect(synopsis.contains(last), "SYNOPSIS lacks \(last)")
    }
  }

  @Test("every option of every command is documented in its subsection or a section it refers to")
  func everyOptionDocumented() throws {
    let tree = try #require(Self.tree)
    let global = ManPage.options(in: Self.page.section("Options of every command")?.lines ?? [])
    #expect(Self.everywhere.isSubset(of: global), "the common options: \(global)")
    for command in tree.commands where !command.path.isEmpty && !command.hasSubcommands {
      let own = Self.page.commandSections(command.path)
      let referenced = own.flatMap { Self.page.references(from: $0) }
      let documented = ManPage.options(in: (own + referenced).flatMap { [".Ss " + $0.title] + $0.lines })
      for option in command.options.subtracting(Self.everywhere).sorted() {
        #expect(documented.contains(option), "swipc \(command.path.joined(separator: " ")) \(option) is not documented")
      }
    }
  }

  @Test("the page names no option that does not exist, and lists under a command only its own")
  func noUnknownOption() throws {
    let tree = try #require(Self.tree)
    let all = tree.allOptions
    let named = ManPage.options(in: Self.page.sections.flatMap { [".Ss " + $0.title] + $0.lines })
    #expect(named.subtracting(all).isEmpty, "options in the page that swipc does not have: \(named.subtracting(all).sorted())")
    for section in Self.page.sections where !ManPage.titleCommands(section.title).isEmpty {
      let paths = tree.commands.filter { !$0.hasSubcommands && Self.page.commandSections($0.path).contains { $0.title == section.title } }
      let allowed = paths.reduce(into: Self.everywhere) { $0.formUnion($1.options) }
      let items = ManPage.options(in: section.lines, itemsOnly: true)
      #expect(items.subtracting(allowed).isEmpty, "\(section.title): \(items.subtracting(allowed).sorted()) belong to another command")
    }
  }

  @Test("man renders the page without a warning")
  func manRenders() {
    let r = Harness.run(["env", "MANWIDTH=80", "man", "--warnings", "-l", Harness.packageRoot + "/man/swipc.1"])
    #expect(r.status == 0)
    #expect(r.stderr.isEmpty, "\(r.stderr)")
    #expect(r.stdout.contains("EXIT STATUS") && r.stdout.contains("swipc sem run"))
  }

  @Test("mandoc -Tlint finds nothing", .enabled(if: Harness.run(["sh", "-c", "command -v mandoc"]).status == 0))
  func mandocLint() {
    let r = Harness.run(["mandoc", "-Tlint", "-W", "style", Harness.packageRoot + "/man/swipc.1"])
    // The machine's own mandoc.db may be out of date; that says nothing about the page.
    let findings = (r.stdout + r.stderr).split(separator: "\n").filter { !$0.contains("mandoc.db") }
    #expect(findings.isEmpty, "\(findings.joined(separator: "\n"))")
  }
}
