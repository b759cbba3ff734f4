import Foundation
import Testing

/// A table of bad invocations across every command, run in private namespaces next to one object
/// of each kind: each must exit with the documented status, print one line on stderr and nothing
/// on stdout, crash nowhere, and leave every object, file and value as it was.
@Suite("Bad input matrix")
struct BadInputTests {
  /// Shell words for TARGET that are not a valid id or POSIX name.
  static let badTargets = [
    "abc", "-5", "1.5", "0x10", "+5", "''", "/", "/a/b", "//x", "/..", "/.", "' 5'", "99999999999",
    "/" + String(repeating: "a", count: 300),
  ]
  /// Every command that takes a TARGET, with what else it needs.
  static let targetCommands = [
    ("show shm", ""), ("rm msg", ""), ("chmod sem", " 600"), ("chown shm", " root"), ("msg send", " text"),
    ("msg recv", " --nowait"), ("shm write", " text"), ("shm dump", ""), ("shm attach", " -- true"),
    ("sem init", " 1"), ("sem get", ""), ("sem wait", " --nowait"), ("sem post", ""), ("sem run", " -- true"),
  ]

  static let badSizes = ["12Q", "-1", "''", "1.5.5", "1e3", "99999999999999999999", "16E", "0x10", "'4 K'", "K", "4KiBB"]
  static let badDurations = ["5x", "-1s", "''", "1h-", "s", "1.5.5s", "99999999999999999999w", "1s1"]
  static let badModes = ["0999", "8", "-1", "77777", "abc", "''", "0x180", "u+rw", "1777", "06000"]

  /// (shell words after `swipc`, expected status)
  static let cases: [(String, Int32)] = {
    var c: [(String, Int32)] = []
    for (command, rest) in targetCommands {
      for target in badTargets { c.append(("\(command) \(target)\(rest)", 64)) }
    }
    for size in badSizes {
      c.append(("shm create --size \(size)", 64))
      c.append(("shm write 0 --offset \(size) x", 64))
    }
    for duration in badDurations {
      c.append(("ls --older-than \(duration)", 64))
      c.append(("msg recv 0 --timeout \(duration)", 64))
      c.append(("sem wait 0 --timeout \(duration)", 64))
      c.append(("pipe recv $d/fifo --timeout \(duration)", 64))
    }
    for mode in badModes {
      c.append(("msg create --mode \(mode)", 64))
      c.append(("chmod shm 0 \(mode)", 64))
      c.append(("pipe create $d/new --mode \(mode)", 64))
    }
    c += [
      // Types
      ("ls bogus", 64), ("ls ''", 64), ("ls pipe msg", 64), ("ls sock shm", 64), ("show pipe 0", 64),
      ("show SHM 0", 64), ("rm sock 0", 64), ("rm '' 0", 64), ("chmod bogus 0 600", 64), ("limits pipe", 64),
      ("clean pipe --all --dry-run", 64), ("bench bogus", 64), ("bench ''", 64), ("frobnicate", 64), ("''", 64),
      ("sock listen $d/s --type raw", 64), ("shm dump 0 --format yaml", 64), ("ls --format yaml", 64),
      // Keys and ftok
      ("show msg --key zz", 64), ("show msg --key 0x", 64), ("show msg --key 0x1ffffffff", 64),
      ("show msg --key ''", 64), ("show msg --key -", 64), ("rm msg --key 0", 64), ("show shm --key 4294967296", 64),
      ("show msg --ftok /nonexistent/swipc", 66), ("show msg --ftok /etc/passwd:0", 64),
      ("show msg --ftok /etc/passwd:256", 64), ("show msg --ftok /etc/passwd:ab", 64), ("show msg --ftok ''", 64),
      ("show msg --key 0x1 --ftok /etc/passwd", 64), ("show msg 0 --key 0x1", 64), ("ls --key 0x2000-0x1000", 64),
      ("ls --key 0x1-", 64), ("ls --key -0x1", 64), ("msg create --key 0x1 --ftok /etc/passwd", 64),
      // Option combinations and missing pieces
      ("clean", 64), ("clean --all", 64), ("clean --all --dry-run --yes", 64), ("clean --orphaned", 64),
      ("ls pipe --owner root", 64), ("ls sock -o KEY", 64), ("ls -o KEY,NOPE", 64), ("ls -o ''", 64),
      ("msg recv 0 --nowait --timeout 1s", 64), ("msg send 0 --lines --null", 64), ("msg send 0 --type 0 x", 64),
      ("msg send 0 --type -1 x", 64), ("msg send /q --priority 40000 x", 64), ("msg recv 0 --count 0", 64),
      ("msg recv 0 --count -3", 64), ("msg recv 0 --follow --count 2", 64), ("msg recv 0 --except", 64),
      ("msg create /q --max-bytes 1K", 64), ("msg create --max-messages 5", 64),
      ("sem wait 0 --zero --by 2", 64), ("sem init 0", 64), ("sem init 0 1 2", 64), ("sem init 0 --values 1,x", 64),
      ("sem init 0 --values ''", 64), ("sem init 0 40000", 64), ("sem init 0 -1", 64), ("sem create --count 0", 64),
      ("sem create --count -1", 64), ("sem create --value 40000", 64), ("sem create --values ''", 64),
      ("sem create --values 1,2 --count 3", 64), ("sem post 0 --by 0", 64), ("sem wait 0 --by -1", 64),
      ("sem get 0 --index 5", 64), ("sem get 0 --index -1", 64), ("sem run 0", 64), ("sem run 0 --", 64),
      ("shm create", 64), ("shm create --size 0", 64), ("shm create /x", 64),
      ("shm dump 0 --offset 99999999", 64), ("shm dump 0 --length 99999999", 64), ("shm dump 0 --offset -1", 64),
      ("shm write 0 --offset 4096 x", 64), ("shm write 0 x --file $d/file", 64), ("shm write", 64),
      ("bench --sizes 0", 64), ("bench --sizes ''", 64), ("bench --sizes 99999T", 64), ("bench --messages 0", 64),
      ("bench --pin bogus", 64), ("bench --duration 0s", 64), ("bench --messages 5 --duration 1s", 64),
      ("sock listen tcp:host", 64), ("sock listen tcp:1.2.3.4:99999", 64), ("sock listen tcp::80", 64),
      ("sock send '' x", 64), ("sock listen @", 64), ("sock listen $d/s --once --count 2", 64),
      ("sock send $d/s --type seqpacket --reply", 66), ("pipe send", 64), ("pipe recv", 64),
      ("pipe send $d/fifo --nowait --timeout 1s", 64), ("pipe recv $d/fifo --count 0", 64),
      ("rm shm", 64), ("rm", 64), ("chmod shm 0", 64), ("chown shm 0", 64), ("chown shm 0 no-such-user-swipc", 64),
      ("chown shm 0 root:no-such-group-swipc", 64), ("chmod shm --key 0x1 0 600", 64),
      // Huge values
      ("msg recv 0 --count 99999999999999999999", 64), ("sem get 0 --index 99999", 64),
      ("sem post 0 --by 99999999", 64), ("shm dump 0 --offset 18446744073709551615", 64),
      ("msg send 0 --type 99999999999999999999 x", 64), ("msg create --max-bytes 99999999T", 64),
      ("sem create --count 99999999", 1), ("show shm 2147483648", 64),
      // Paths that are directories, symbolic links or missing
      ("pipe create $d/dir", 1), ("pipe send $d/dir --nowait", 64), ("pipe recv $d/link --nowait", 64),
      ("pipe send $d/file --nowait", 64), ("pipe recv $d/missing --nowait", 66), ("shm write 0 --file $d/dir", 64),
      ("shm write 0 --file $d/missing", 66), ("sock send $d/dir x", 1), ("sock send $d/file x", 1),
      ("sock send $d/missing x", 66), ("show msg --ftok $d/missing", 66),
      // Valid forms naming nothing
      ("show shm 2147483647", 66), ("rm sem 2147483647", 66), ("msg recv 2147483647 --nowait", 66),
      ("sem get /no-such-sem", 66), ("shm dump /no-such-seg", 66), ("rm pshm /no-such-seg", 66),
      // Bytes that are not UTF-8
      ("show shm $'\\xff'", 64), ("ls --name $'/\\xff'", 64), ("pipe create $d/$'\\xff'", 64),
      ("msg send 0 $'\\xc3\\x28'", 64), ("sem run 0 -- echo $'\\xff'", 64), ("sock listen $'@\\xfe'", 64),
    ]
    return c
  }()

  @Test("at least 200 bad invocations: documented status, one line on stderr, nothing changed",
    .enabled(if: Harness.canUnshareAll))
  func matrix() throws {
    let cases = Self.cases
    #expect(cases.count >= 200, "\(cases.count) cases")
    var script = """
      mount -t tmpfs none /dev/shm
      d=$(mktemp -d); o=$(mktemp -d); trap 'rm -rf "$d" "$o"' EXIT
      $S msg create >/dev/null; $S shm create --size 4K >/dev/null; $S sem create --values 3 >/dev/null
      $S shm write 0 state; $S msg send 0 kept; $S shm create /seg --size 4K >/dev/null; $S sem create /sem --value 2 >/dev/null
      mkfifo $d/fifo; mkdir $d/dir; ln -s $d/dir $d/link; echo data > $d/file
      state() {
        # Not ls's block totals: they count `..`, the shared /tmp, which other runs change.
        ipcs -a | sed 's/ *$//'; ls -la /dev/shm $d | grep -v ' \\.\\.\\?$' | grep -v '^total ' | awk '{print $1, $5, $NF}'
        $S shm dump 0 --format base64; $S sem get 0; $S sem get /sem; $S ls msg -o ID,MSGS,USEDBYTES --no-headings
      }
      before=$(state 2>&1)
      set +e

      """
    for (i, c) in cases.enumerated() {
      script += "timeout 10 $S \(c.0) </dev/null >$o/out 2>$o/err; echo \"\(i) $? $(wc -l <$o/out) $(wc -l <$o/err) $(grep -c 'Fatal error\\|Stack dump\\|backtrace\\|Illegal instruction' $o/err)\"; head -1 $o/err | sed 's/^/  /'\n"
    }
    script += """
      after=$(state 2>&1)
      [ "$before" = "$after" ] && echo "unchanged" || { echo "CHANGED"; diff <(echo "$before") <(echo "$after"); }
      """
    let r = Harness.inNamespace(script)
    #expect(r.status == 0, "\(r.stderr)")
    let lines = r.stdout.split(separator: "\n").map(String.init)
    var results: [Int: (status: Int32, out: Int, err: Int, crash: Int, message: String)] = [:]
    for (n, line) in lines.enumerated() where !line.hasPrefix("  ") {
      let f = line.split(separator: " ").compactMap { Int($0) }
      guard f.count == 5 else { continue }
      let message = n + 1 < lines.count && lines[n + 1].hasPrefix("  ") ? String(lines[n + 1].dropFirst(2)) : ""
      results[f[0]] = (Int32(f[1]), f[2], f[3], f[4], message)
    }
    for (i, c) in cases.enumerated() {
      guard let res = results[i] else {
        Issue.record("no result for swipc \(c.0)")
        continue
      }
      #expect(res.status == c.1, "swipc \(c.0): exit \(res.status), expected \(c.1): \(res.message)")
      #expect(res.err == 1, "swipc \(c.0): \(res.err) lines on stderr")
      #expect(res.out == 0, "swipc \(c.0): wrote to stdout")
      #expect(res.crash == 0, "swipc \(c.0) crashed: \(res.message)")
      #expect(res.message.hasPrefix("swipc: "), "swipc \(c.0): \(res.message)")
    }
    #expect(lines.last == "unchanged", "\(r.stdout.components(separatedBy: "CHANGED").last ?? "")")
  }
}
