import Foundation
import Testing

/// `ls`, `limits`, `msg|shm|sem create`, `rm` and `clean` are read by `QuickPath` rather than
/// argument-parser, to start fast.
/// These tests hold the two readers to the same result: every option of those commands (taken from
/// `--experimental-dump-help`, so a new option cannot be missed), in every spelling, alone and
/// combined, must give the same stdout, stderr, exit status and objects with SWIPC_PARSER=quick
/// (which fails with 70 when the quick path declines) as with SWIPC_PARSER=full; and command lines
/// the quick path must leave alone do nothing under SWIPC_PARSER=quick and, by default, report
/// exactly what argument-parser reports.
@Suite("The quick path reads what argument-parser reads", .enabled(if: Harness.canUnshareAll, "needs unshare --ipc --mount --pid (root)"))
struct QuickPathTests {
  /// Valid values for every option of the quick commands, by long name. An option without a sample
  /// fails `everyOptionHasASample`.
  static let samples: [String: [String]] = [
    "--format": ["json", "csv", "prometheus", "table"],
    "--columns": ["KEY,ID,OWNER,PERMS,SIZE", "NAME, TYPE"],
    "--owner": ["root", "65534"], "--creator": ["nobody"],
    "--key": ["0x51000001", "0x51000000-0x510000ff", "1359003651", "-1"],
    "--name": ["/swq*", "*.sem"], "--older-than": ["0s"], "--idle-for": ["1d"], "--min-age": ["0s", "2m"],
    "--ftok": ["/etc/passwd", "/etc/passwd:7"], "--mode": ["0644", "600"],
    "--size": ["4K", "1MB", "100"], "--max-bytes": ["64K"], "--max-messages": ["4"], "--message-size": ["128"],
    "--count": ["3"], "--value": ["2"], "--values": ["1,0,3"],
    // The caller's own namespace, named as a file: both readers act where they would without it.
    "--namespace": ["/proc/self/ns/ipc"],
  ]

  /// The quick commands, with the positionals each case is tried with.
  static let commands: [(path: [String], positionals: [[String]])] = [
    (["rm"], [["msg"], ["msg", "0"], ["shm", "0", "32769"], ["pshm", "/swq.seg"], ["sem", "/swq.lock"], ["psem", "/swq.lock", "/swq.none"]]),
    (["ls"], [[], ["msg"], ["shm", "sem", "msg"], ["pshm", "psem"]]),
    (["limits"], [[], ["msg"], ["psem", "shm"]]),
    (["msg", "create"], [[], ["/swq.q"]]),
    (["shm", "create"], [[], ["/swq.seg"]]),
    (["sem", "create"], [[], ["/swq.lock"]]),
    (["clean"], [[], ["msg", "pshm"], ["sem", "shm", "sem"]]),
  ]

  static func positionals(of path: [String]) -> [[String]] {
    commands.first { $0.path == path }?.positionals ?? []
  }

  struct Argument {
    var names: [String]
    var flag: Bool
  }

  /// The options of `path` in `--experimental-dump-help`, without help and version.
  static func arguments(of path: [String]) -> [Argument] {
    let dump = Harness.swipc(["--experimental-dump-help"])
    guard var command = (try? JSONSerialization.jsonObject(with: Data(dump.stdout.utf8)) as? [String: Any])?["command"] as? [String: Any]
    else { return [] }
    for name in path {
      guard let sub = (command["subcommands"] as? [[String: Any]])?.first(where: { $0["commandName"] as? String == name }) else { return [] }
      command = sub
    }
    var result = [Argument]()
    for argument in command["arguments"] as? [[String: Any]] ?? [] where argument["kind"] as? String != "positional" {
      let names = (argument["names"] as? [[String: Any]] ?? []).compactMap { name -> String? in
        guard let text = name["name"] as? String else { return nil }
        return (name["kind"] as? String == "short" ? "-" : "--") + text
      }
      if names.contains("--help") || names.contains("--version") { continue }
      result.append(Argument(names: names, flag: argument["kind"] as? String == "flag"))
    }
    return result
  }

  /// Every spelling of every option with each sample: `--opt v`, `--opt=v`, `-o v`.
  static func spellings(of path: [String]) -> [[String]] {
    var lines = [[String]]()
    for argument in arguments(of: path) {
      for name in argument.names {
        if argument.flag {
          lines.append([name])
          continue
        }
        let long = argument.names.first { $0.hasPrefix("--") } ?? name
        for value in samples[long] ?? [] {
          lines.append([name, value])
          if name.hasPrefix("--") { lines.append([name + "=" + value]) }
        }
      }
    }
    return lines
  }

  static func quote(_ words: [String]) -> String {
    words.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
  }

  /// Objects of every kind, of root and of nobody, some with messages, for `ls` to list.
  static let listSetup = LifecycleTests.posixMounts + """
    export SWIPC_PARSER=full
    q=$($S msg create --key 0x51000001 --mode 0644); $S msg send $q hello
    $S shm create --key 0x51000002 --size 8K >/dev/null; $S sem create --key 0x51000003 --values 1,2 >/dev/null
    $S shm create --size 4K >/dev/null
    setpriv --reuid=65534 --regid=65534 --clear-groups $S msg create --key 0x51000004 >/dev/null
    $S shm create /swq.seg --size 4K >/dev/null; $S sem create /swq.sem --value 3 >/dev/null
    $S msg create /swq.q >/dev/null
    unset SWIPC_PARSER

    """

  /// The verdict on one command line, in bash. `run MODE ARGS...` writes $W/MODE.out, .err (ending
  /// with the exit status) and .state. A line the quick path takes must give what argument-parser
  /// gives; a line it declines (70 under SWIPC_PARSER=quick) must be one argument-parser refuses too,
  /// and then swipc's default must give what argument-parser gives. With TAKE=1 every line must be
  /// taken (a refusal reported by the quick path itself). With DECLINE=1 every line must
  /// be declined, having done nothing. Listings show ages in seconds, so a differing pair is tried
  /// again, up to three times: a clock tick between two runs is not a difference of the readers.
  static let compareFunction = """
    set +e; export W=$(mktemp -d); trap 'rm -rf "$W"' EXIT; DECLINE=${DECLINE:-0}; TAKE=${TAKE:-0}
    same() { cmp -s "$W/$1.out" "$W/full.out" && cmp -s "$W/$1.err" "$W/full.err" && cmp -s "$W/$1.state" "$W/full.state"; }
    compare() {
      for attempt in 1 2 3; do
        # Ages and times in the output tick with the clock: a retry starts just after a second
        # begins, so that both readers' runs see the same second even on a loaded machine.
        if [ $attempt -gt 1 ]; then now=$(date +%s%N); sleep "$(printf '0.%09d' $(( 1000000000 - now % 1000000000 )))"; fi
        run quick "$@"; run full "$@"; a=quick
        if [ "$(tail -n 1 "$W/quick.err")" = "status 70" ]; then
          if [ $TAKE = 1 ] || { [ $DECLINE = 0 ] && [ "$(tail -n 1 "$W/full.err")" = "status 0" ]; }; then echo "DECLINED: $*"; return; fi
          run default "$@"; a=default
        elif [ $DECLINE = 1 ]; then echo "TAKEN: $*"; cat "$W/quick.out" "$W/quick.err"; return; fi
        if [ $DECLINE = 1 ] && { [ -s "$W/quick.out" ] || ! cmp -s "$W/quick.state" "$W/empty.state"; }; then
          echo "TAKEN: $* left"; cat "$W/quick.state"; return
        fi
        if same $a; then echo "same: $*"; return; fi
      done
      echo "DIFFERENT: $*"; for m in $a full; do echo "[$m]"; cat "$W/$m.out" "$W/$m.err" "$W/$m.state"; done
    }

    """

  /// Runs `words` with each reader in the namespace made by `listSetup`.
  static func compareListing(_ lines: [[String]]) -> Harness.Result {
    var script = listSetup + compareFunction + """
      run() {
        SWIPC_PARSER=$1 "$S" "${@:2}" >"$W/$1.out" 2>"$W/$1.err"; echo "status $?" >>"$W/$1.err"; : >"$W/$1.state"
        # ls pipe and ls sock show the swipc process itself, whose pid differs.
        sed -i -E 's/[0-9]+:swipc/PID:swipc/g; s/"pid":[0-9]+,"command":"swipc"/"pid":0,"command":"swipc"/g' "$W/$1.out"
      }

      """
    for words in lines { script += "compare \(quote(words))\n" }
    return Harness.inNamespace(script)
  }

  /// Runs `words` with each reader, each in a fresh IPC and mount namespace, and records the objects
  /// it left: ids start from 0 in each, so both must read the same.
  static func compareCreation(_ lines: [[String]], decline: Bool = false, take: Bool = false, setup: String = "") -> Harness.Result {
    var script = "DECLINE=\(decline ? 1 : 0); TAKE=\(take ? 1 : 0)\n" + compareFunction + """
      run() {
        unshare --ipc --mount bash -c '\(LifecycleTests.posixMounts.replacingOccurrences(of: "\n", with: " "))
          \(setup)
          m=$1; shift; [ $m = none ] || { SWIPC_PARSER=$m "$S" "$@" >"$W/$m.out" 2>"$W/$m.err"; echo "status $?" >>"$W/$m.err"; }
          # Each run has a namespace of its own: -A names it by its inode, which differs.
          [ $m = none ] || sed -i -E "s/ipc:\\[[0-9]+\\]/ipc:[N]/g" "$W/$m.out"
          { ipcs -a; "$S" ls --format json -o TYPE,KEY,ID,NAME,PERMS,SIZE,MAXMSG,MSGSIZE,NSEMS,VALUE
            for id in $(ipcs -s | awk "/^0x/ { print \\$2 }"); do SWIPC_PARSER=full "$S" sem get $id; done
            cd /dev/shm && stat -c "%n %a %u %s" * 2>/dev/null; cat /dev/mqueue/* 2>/dev/null; } >"$W/$m.state" 2>&1' _ "$@"
      }
      run none; mv "$W/none.state" "$W/empty.state"

      """
    for words in lines { script += "compare \(quote(words))\n" }
    return Harness.inNamespace(script)
  }

  static func check(_ r: Harness.Result, count: Int) {
    #expect(r.status == 0, "\(r.stderr)")
    let same = r.stdout.split(separator: "\n").filter { $0.hasPrefix("same: ") }.count
    #expect(same == count, "\(r.stdout)\(r.stderr)")
    for verdict in ["DIFFERENT", "DECLINED", "TAKEN"] { #expect(!r.stdout.contains(verdict), "\(r.stdout)") }
  }

  @Test("every option of the quick commands has a sample value here")
  func everyOptionHasASample() {
    for (path, _) in Self.commands {
      let options = Self.arguments(of: path)
      #expect(!options.isEmpty, "no options found for \(path)")
      for option in options where !option.flag {
        let long = option.names.first { $0.hasPrefix("--") }
        #expect(long.map { Self.samples[$0] != nil } == true, "add a sample for \(option.names) of \(path)")
      }
    }
  }

  @Test("ls and limits: each option in each spelling, with types and combined, reads the same")
  func listing() {
    var lines = [[String]]()
    for command in ["ls", "limits"] {
      for positionals in Self.positionals(of: [command]) {
        lines.append([command] + positionals)
        for option in Self.spellings(of: [command]) { lines.append([command] + option + positionals) }
      }
    }
    lines += [
      ["ls", "msg", "--format", "json", "-o", "KEY,ID", "--owner", "root", "--owner", "nobody", "-b", "-n"],
      ["ls", "--key", "0x51000001", "-k", "0x51000003", "shm", "--no-headings", "msg", "sem"],
      ["ls", "--name", "/swq*", "--name", "*.q", "--format=csv", "--older-than", "0s", "pshm", "pmsg", "psem"],
      ["ls", "--unattached", "--orphaned", "--removed", "--world-writable", "--world-readable", "--idle-for", "0s"],
      ["ls", "--orphaned", "--min-age", "0s", "--ignore-hidden", "-o", "TYPE,ID,NAME,ORPHAN"], ["clean", "--orphaned", "--min-age=1h", "--ignore-hidden", "--dry-run"],
      ["ls", "pipe"], ["ls", "sock", "--format", "json"], ["ls", "pipe", "--no-headings", "--format=csv"],
      ["ls", "msg", "msg", "shm", "msg"], ["limits", "--format", "prometheus", "msg", "sem"], ["limits", "-b", "-n", "--no-headings", "pmsg"], ["ls", "--format", "json", "--format", "csv", "-b", "--bytes", "-o", "ID", "--columns=KEY"],
    ]
    Self.check(Self.compareListing(lines), count: lines.count)
  }

  /// Objects for `rm` to remove: queues by key, ftok key, id and name; two segments; a set by key;
  /// POSIX objects of each kind. (Made and listed by the quick path, which the other tests check.)
  static let removeSetup = """
    $S msg create --key 0x51000001 >/dev/null; $S msg create --key 0x51000003 >/dev/null
    $S msg create --ftok /etc/passwd >/dev/null; $S msg create --ftok /etc/passwd:7 >/dev/null
    $S shm create --size 4K >/dev/null; $S shm create --size 8K >/dev/null; $S sem create --key 0x51000003 >/dev/null
    $S shm create /swq.seg --size 4K >/dev/null; $S sem create /swq.lock >/dev/null; $S msg create /swq.q >/dev/null
    """

  @Test("rm: each option in each spelling, with targets, reads the same and removes the same")
  func removal() {
    var lines = [[String]]()
    // Each namespace is made afresh for each run here, so the options are tried with two targets.
    for positionals in Self.positionals(of: ["rm"]) {
      lines.append(["rm"] + positionals)
      guard positionals == ["msg", "0"] || positionals.first == "pshm" else { continue }
      for option in Self.spellings(of: ["rm"]) { lines.append(["rm"] + positionals + option) }
    }
    lines += [
      ["rm", "msg", "--key", "0x51000001", "-k", "0x51000003", "--ftok", "/etc/passwd", "-q"],
      ["rm", "pmsg", "/swq.q", "/swq.none"], ["rm", "msg", "0", "0"], ["rm", "sem", "0", "--key", "0x51000003"],
      ["rm", "shm", "1"], ["rm", "msg", "--key", "0"], ["rm", "msg", "--key=0x7fff0000"],
    ]
    Self.check(Self.compareCreation(lines, setup: Self.removeSetup.replacingOccurrences(of: "\n", with: "; ")), count: lines.count)
  }

  /// Objects for `clean`: System V objects of each kind by key and private, a world-writable queue,
  /// one of nobody's, and a POSIX object of each kind.
  static let cleanSetup = """
    $S msg create --key 0x51000001 --mode 0666 >/dev/null; $S shm create --key 0x51000002 --size 8K >/dev/null
    $S sem create --key 0x51000003 --values 1,2 >/dev/null; $S shm create --size 4K >/dev/null
    setpriv --reuid=65534 --regid=65534 --clear-groups $S msg create --key 0x51000004 >/dev/null
    $S shm create /swq.seg --size 4K >/dev/null; $S sem create /swq.sem --value 3 >/dev/null; $S msg create /swq.q >/dev/null
    """

  @Test("clean: each option in each spelling, with types, reads the same and removes the same")
  func cleaning() {
    var lines = [[String]]()
    for positionals in Self.positionals(of: ["clean"]) {
      lines.append(["clean"] + positionals + ["--all", "--yes"])
      guard positionals.isEmpty else { continue }
      for option in Self.spellings(of: ["clean"]) {
        // Each line must be one clean runs: a filter or --all, and --dry-run or --yes.
        let base: [String] = switch option[0] {
        case "--yes", "-y", "--dry-run": ["--all"]
        case "--all": ["--dry-run"]
        default: ["--all", "--dry-run"]
        }
        lines.append(["clean"] + option + base)
      }
    }
    lines += [
      ["clean", "--orphaned", "--yes"], ["clean", "--key", "0x51000001-0x51000003", "-y", "--format", "json"],
      ["clean", "msg", "--owner", "nobody", "--yes", "-b"], ["clean", "--all-users", "--all", "--yes", "--no-headings"],
      ["clean", "pshm", "psem", "pmsg", "--name", "/swq*", "--yes"], ["clean", "--world-writable", "-y", "msg"],
      ["clean", "--all"], ["clean", "--yes"], ["clean", "--all", "--dry-run", "--yes"], ["clean", "--all", "--yes", "--format", "csv"],
      ["clean", "--all", "--yes", "--format=json", "--format=table"], ["clean", "bogus", "--all", "--yes"],
    ]
    Self.check(Self.compareCreation(lines, setup: Self.cleanSetup.replacingOccurrences(of: "\n", with: "; ")), count: lines.count)
  }

  @Test("msg, shm and sem create: each option in each spelling reads the same and makes the same object", arguments: ["msg", "shm", "sem"])
  func creation(kind: String) {
    var lines = [[String]]()
    for (path, positionals) in Self.commands where path == [kind, "create"] {
      let base = path[0] == "shm" ? ["--size", "4K"] : []
      for positional in positionals {
        for option in Self.spellings(of: path) {
          let sized = option.first == "--size" || option.first?.hasPrefix("--size=") == true
          lines.append(path + positional + option + (sized ? [] : base))
        }
      }
    }
    lines += [
      ["msg", "create", "--key", "0x51000010", "--mode", "0640", "--max-bytes", "32K", "--exclusive"],
      ["msg", "create", "/swq.q", "--max-messages", "4", "--message-size", "64", "--mode=0600", "--no-exclusive"],
      ["shm", "create", "--ftok", "/etc/passwd:3", "--size", "2M", "--mode", "640"],
      ["sem", "create", "--count", "3", "--value", "1", "-k", "0x51000011"],
      ["sem", "create", "/swq.lock", "--value", "5", "--mode", "0644"],
      ["shm", "create"], ["msg", "create", "/swq.q", "--max-messages", "100000"], ["shm", "create", "--size", "1K", "--size", "8K"],
      ["shm", "create", "/swq.seg", "--size", "4K", "--exclusive", "--no-exclusive"], ["msg", "create", "--key", "0x51000012", "--no-exclusive", "--exclusive"],
      ["sem", "create", "--value", "1", "--value", "2", "--mode", "0600", "--mode", "0640"],
    ]
    lines = lines.filter { $0[0] == kind }
    Self.check(Self.compareCreation(lines), count: lines.count)
  }

  /// Forms the quick path leaves to argument-parser: help, completions, `--`, unknown or repeated
  /// options, grouped short flags, missing or bad values, values after `=` on short options, flags
  /// with values, extra positionals.
  static let declined: [[String]] = [
    ["ls", "--help"], ["ls", "-h"], ["ls", "--version"], ["ls", "--", "msg"], ["ls", "--bogus"], ["ls", "-bn"],
    ["ls", "--format"], ["ls", "--format", "yaml"], ["ls", "--bytes=yes"], ["ls", "-k=0x1"], ["ls", "-"], ["ls", "-o"],
    ["ls", "--older-than", "5x"], ["ls", "--idle-for", ""], ["ls", "--columns="], ["ls", "--owner="], ["msg", "create", "--size", "4K"], ["ls", "--key", "0x2000-0x1000"],
    ["ls", "--owner", "-1"], ["ls", "--generate-completion-script", "bash"], ["ls", "---completion", "ls"],
    ["shm", "create", "--size", "12Q"], ["shm", "create", "/a", "/b", "--size", "4K"],
    ["shm", "create", "--size", "4K", "--mode", "0999"],
    ["shm", "create", "--size", "-4K"], ["shm", "create", "--size", "4K", "--help"],
    ["sem", "create", "--count", "-1"], ["msg", "create", "--max-messages", "many"], ["msg", "create", "--max-bytes", "1Q"],
    ["msg", "create", "-z"], ["msg", "send"], ["shm", "dump", "1"], ["sem", "get", "1"], ["show", "shm", "1"],
    ["limits", "bogus"], ["limits", "--format"], ["limits", "pipe"], ["limits", "-o", "KEY"],
    ["clean", "--all", "--yes", "--format", "csv"], ["show", "shm", "1", "--format", "csv"],
    ["rm"], ["rm", "bogus", "1"], ["rm", "shm", "-1"],
    ["clean", "--all", "-yb"], ["clean", "bogus", "--all", "--yes"], ["clean", "--all", "--yes", "--help"],
    ["clean", "--all", "--yes", "-o", "ID"], ["clean", "--all", "--yes=no"], ["clean", "--", "msg", "--all", "--yes"],
    ["rm", "shm", "1", "-q", "-k"], ["rm", "--help"], ["rm", "shm", "1", "-qk", "1"],
  ]

  @Test("declined command lines do nothing under SWIPC_PARSER=quick and report as argument-parser does")
  func declinedLines() {
    let r = Self.compareCreation(Self.declined, decline: true)
    Self.check(r, count: Self.declined.count)
  }

  /// Command lines both readers read and the command's request refuses: the quick path reports the
  /// refusal itself, in the same line and status as argument-parser's run, having done nothing.
  static let refused: [[String]] = [
    ["ls", "-o", "KEY,NOPE"], ["ls", "bogus"], ["ls", "pipe", "msg"], ["ls", "pipe", "--owner", "root"],
    ["ls", "sock", "-o", "KEY"], ["ls", "pipe", "--format", "prometheus"], ["ls", "--owner", "no-such-user-swipc"],
    ["ls", "--name", "a/b"], ["ls", "--min-age", "1m"], ["ls", "--ignore-hidden"],
    ["shm", "create", "--size", "4K", "--key", "0"], ["shm", "create", "--size", "4K", "--key", "1", "--ftok", "/etc/passwd"],
    ["shm", "create", "/a/b", "--size", "4K"], ["shm", "create", "--size", "4K", "--ftok", "/nonexistent/swipc"],
    ["shm", "create"], ["shm", "create", "--size", "0"], ["msg", "create", "--max-messages", "4"],
    ["sem", "create", "--value", "1", "--values", "1,2"], ["sem", "create", "--values", "1,x"], ["sem", "create", "/s", "--count", "2"],
    ["rm", "shm"], ["rm", "shm", "x"], ["rm", "pshm", "/a/b"], ["rm", "shm", "--key", "0"], ["rm", "shm", "--ftok", "/nonexistent/swipc"],
    ["clean"], ["clean", "--all"], ["clean", "--all", "--yes", "--dry-run"],
    ["clean", "--owner", "no-such-user-swipc", "--yes"], ["clean", "--min-age", "1m", "--all", "--yes"],
  ]

  @Test("refused command lines: the quick path reports what argument-parser's run reports, and does nothing")
  func refusedLines() {
    let r = Self.compareCreation(Self.refused, take: true)
    Self.check(r, count: Self.refused.count)
  }
}
