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
    let r = Harness.run(["env", "MANWIDTH=80", "man", "--warnings=w", "-l", Harness.packageRoot + "/man/swipc.1"])
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

/// `make install` and `make uninstall` into a temporary DESTDIR, as a packager or a user with a
/// private prefix runs them, and the installed bash completion at work.
@Suite("Install and shell completion")
struct InstallTests {
  /// Installs the binary under test (BIN=) into DESTDIR/usr and runs `body` with DESTDIR.
  func withInstall(_ body: (String) -> Void) {
    let destdir = FileManager.default.temporaryDirectory.appendingPathComponent("swipc-install-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: destdir) }
    let r = Harness.run(["make", "-s", "-C", Harness.packageRoot, "install", "DESTDIR=\(destdir)", "PREFIX=/usr",
      "BIN=\(Harness.swipc)", "COMPDIR=\(destdir)/generated"])
    #expect(r.status == 0, "make install: \(r.stderr)")
    body(destdir)
  }

  static let installed: [(path: String, mode: Int)] = [
    ("/usr/bin/swipc", 0o755),
    ("/usr/share/man/man1/swipc.1", 0o644),
    ("/usr/share/bash-completion/completions/swipc", 0o644),
    ("/usr/share/zsh/site-functions/_swipc", 0o644),
    ("/usr/share/fish/vendor_completions.d/swipc.fish", 0o644),
  ]

  @Test("make install puts the binary, the page and the completions in the standard places; uninstall removes them")
  func installAndUninstall() {
    withInstall { destdir in
      for (path, mode) in Self.installed {
        let attributes = try? FileManager.default.attributesOfItem(atPath: destdir + path)
        #expect((attributes?[.posixPermissions] as? Int) == mode, "\(path): \(String(describing: attributes))")
        #expect(((attributes?[.size] as? Int) ?? 0) > 1000, "\(path) is not empty")
      }
      #expect(Harness.run([destdir + "/usr/bin/swipc", "--version"]).status == 0)
      // `man swipc` finds the installed page through the prefix.
      let man = Harness.run(["env", "MANPATH=\(destdir)/usr/share/man", "MANWIDTH=80", "man", "swipc"])
      #expect(man.status == 0 && man.stdout.contains("swipc clean"), "\(man.stderr)")
      let completion = Harness.run(["bash", "-c", "source \(destdir)/usr/share/bash-completion/completions/swipc && complete -p swipc"])
      #expect(completion.stdout == "complete -o filenames -F _swipc swipc\n", "\(completion.stdout)\(completion.stderr)")
      let uninstall = Harness.run(["make", "-s", "-C", Harness.packageRoot, "uninstall", "DESTDIR=\(destdir)", "PREFIX=/usr"])
      #expect(uninstall.status == 0)
      for (path, _) in Self.installed {
        #expect(!FileManager.default.fileExists(atPath: destdir + path), "\(path) left after uninstall")
      }
    }
  }

  @Test("the zsh and fish scripts parse", .enabled(if: Harness.run(["sh", "-c", "command -v zsh || command -v fish"]).status == 0))
  func otherShells() {
    withInstall { destdir in
      if Harness.run(["sh", "-c", "command -v zsh"]).status == 0 {
        let r = Harness.run(["zsh", "-n", destdir + "/usr/share/zsh/site-functions/_swipc"])
        #expect(r.status == 0, "\(r.stderr)")
      }
      if Harness.run(["sh", "-c", "command -v fish"]).status == 0 {
        let r = Harness.run(["fish", "--no-execute", destdir + "/usr/share/fish/vendor_completions.d/swipc.fish"])
        #expect(r.status == 0, "\(r.stderr)")
      }
    }
  }

  @Test("bash completes commands, types, and the ids and names of live objects", .enabled(if: Harness.canUnshareAll))
  func bashCompletesLiveObjects() {
    withInstall { destdir in
      let r = Harness.inNamespace("""
        mount -t tmpfs none /dev/shm
        export PATH=\(destdir)/usr/bin:$PATH
        source \(destdir)/usr/share/bash-completion/completions/swipc
        # What bash does on TAB: the words, the cursor word's index, then the completion function.
        complete_line() {
          COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; COMPREPLY=()
          _swipc swipc "${COMP_WORDS[-1]}" "${COMP_WORDS[-2]}"
          printf '%s\\n' "${COMPREPLY[*]}"
        }
        a=$(swipc shm create --size 4K); b=$(swipc shm create --size 4K); swipc shm create /swipc-compl --size 4K >/dev/null
        q=$(swipc msg create)
        complete_line swipc cl
        complete_line swipc rm ''
        complete_line swipc rm shm ''
        complete_line swipc rm shm "$a" ''
        complete_line swipc shm write ''
        complete_line swipc shm write /swipc-c
        complete_line swipc msg recv ''
        complete_line swipc bench u
        echo "$a $b $q"
        """)
      #expect(r.status == 0, "\(r.stderr)")
      let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
      guard lines.count >= 9 else {
        Issue.record("output: \(r.stdout)")
        return
      }
      let ids = lines[8].split(separator: " ").map(String.init)
      #expect(lines[0] == "clean")
      #expect(lines[1] == "msg shm sem pmsg pshm psem")
      #expect(Set(lines[2].split(separator: " ").map(String.init)) == [ids[0], ids[1]])
      #expect(lines[3] == ids[1], "an id already on the line is not offered again")
      #expect(Set(lines[4].split(separator: " ").map(String.init)) == [ids[0], ids[1], "/swipc-compl"])
      #expect(lines[5] == "/swipc-compl")
      #expect(lines[6] == ids[2])
      #expect(lines[7] == "unix-stream unix-dgram")
    }
  }
}

/// Every command line of the man page's EXAMPLES, run in order in private IPC, mount, PID and
/// network namespaces, with the files, FIFO and socket service the examples assume set up first.
@Suite("Man page examples")
struct ManPageExampleTests {
  /// The `.Dl` lines of EXAMPLES as a shell reads them: mdoc escapes undone, and the schedule
  /// fields of a crontab line left off.
  static var examples: [String] {
    let section = ManPageAgreementTests.page.section("EXAMPLES")?.lines ?? []
    return section.filter { $0.hasPrefix(".Dl ") }.map { line in
      var command = String(line.dropFirst(4))
        .replacingOccurrences(of: "\\-", with: "-")
        .replacingOccurrences(of: "\\(dq", with: "\"")
        .replacingOccurrences(of: "\\&", with: "")
        .replacingOccurrences(of: "\\e", with: "\\")
      let fields = command.split(separator: " ", maxSplits: 5)
      if fields.count == 6, fields.prefix(5).allSatisfy({ $0.allSatisfy { "0123456789*/,-".contains($0) } }) {
        command = String(fields[5])
      }
      return command
    }
  }

  @Test("every example runs and does what its text says", .enabled(if: Harness.canUnshareNet))
  func examplesRun() {
    let examples = Self.examples
    #expect(examples.count >= 20, "\(examples.count) examples")
    let numbered = examples.enumerated().map { "echo '### example \($0.offset + 1)'\n\($0.element)" }.joined(separator: "\n")
    let r = Harness.inNamespace("""
      ip link set lo up
      mount -t tmpfs none /dev/shm; mount -t tmpfs none /srv; mount -t tmpfs none /run; mount -t tmpfs none /var/lib
      d=$(mktemp -d); trap 'rm -rf "$d"' EXIT; cd "$d"; export HOME=$d
      swipc() { "$S" "$@"; }
      # What the examples assume exists: a segment created 0666 with key 0x5100a2f3 (id 32768)
      # that a process has attached, job files, a frame, a deploy script, a daemon reading a
      # FIFO and a service on a unix socket, a node_exporter directory.
      echo 32768 > /proc/sys/kernel/shm_next_id
      swipc shm create --key 0x5100a2f3 --size 4K --mode 666 >/dev/null
      swipc shm attach --key 0x5100a2f3 -- sleep 600 2>/dev/null &
      mkdir /srv/in; touch /srv/in/a.csv /srv/in/b.csv /srv/in/c.csv /srv/feed
      head -c 1M /dev/urandom > frame.bin; cp frame.bin frame.sent   # frames fill the 1 MiB segment
      printf '#!/bin/sh\\necho deployed\\n' > deploy.sh; chmod +x deploy.sh
      process() { echo "processed $1" >> processed; }
      swipc pipe create /run/app.fifo; swipc pipe recv /run/app.fifo > fifo.out & reader=$!
      swipc sock listen /run/app.sock --echo 2>/dev/null &
      mkdir /var/lib/node_exporter
      for _ in $(seq 100); do [ -S /run/app.sock ] && [ "$("$S" show shm 32768 --format json | jq .nattch)" = 1 ] && break; sleep 0.05; done
      \(numbered)
      echo '### checks'
      echo "perms $(swipc ls shm --key 0x5100a2f3 -o PERMS --no-headings --numeric)"
      echo "processed $(sort processed | tr '\\n' ' ')"
      cmp -s frame.bin frame.sent && echo "frame intact"
      grep -c '^swipc_objects{' /var/lib/node_exporter/swipc.prom | sed 's/^/prometheus gauges /'
      wait $reader; echo "fifo got $(cat fifo.out)"
      test -s swipc-clean.json && echo "clean report written"
      """, namespaces: Harness.privateNamespaces + ["--net"])
    #expect(r.status == 0, "failed after \(r.stdout.components(separatedBy: "### ").last ?? ""): \(r.stderr)")
    let out = r.stdout
    let checks = out.components(separatedBy: "### checks\n").last ?? ""
    #expect(checks.contains("perms 0600"), "chmod example: \(checks)")
    #expect(checks.contains("processed processed /srv/in/a.csv processed /srv/in/b.csv processed /srv/in/c.csv"), "job queue: \(checks)")
    #expect(checks.contains("frame intact"))
    #expect(checks.contains("prometheus gauges 6"), "\(checks)")
    #expect(checks.contains("fifo got reload"))
    #expect(checks.contains("clean report written"))
    #expect(out.contains("deployed"), "sem run ran the deploy script")
    #expect(out.contains("status"), "the socket service echoed the status request")
    // `show shm 32768` names the process holding the segment.
    let outputs = out.components(separatedBy: "### example ").dropFirst()
    let show = examples.firstIndex(of: "swipc show shm 32768").map { index in
      outputs.first { $0.hasPrefix("\(index + 1)\n") } ?? ""
    } ?? ""
    #expect(show.contains("sleep"), "who holds the segment: \(show)")
  }
}
