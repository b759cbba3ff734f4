import Foundation
import Testing

/// `ls -A` as JSON or CSV attacked again, after its scan of /proc and its reading of namespaces
/// were made to overlap and its JSON writer to copy repeated cells. Each test runs in private
/// IPC, mount and PID namespaces; every process a test starts dies with its PID namespace.
/// Readiness is signalled through FIFOs, never by sleeping.
@Suite("ls -A streamed, attacked again", .enabled(if: Harness.canUnshareAll, "needs unshare"))
struct StreamAttack2Tests {
  /// Two local users' programs each create a System V segment and stay; their command lines
  /// differ only in how `é` is written (precomposed, or `e` and a combining accent), which Swift
  /// calls equal strings. The JSON writer copied the second segment's COMMAND from the record
  /// before: root's `ls --format json` (with or without -A) showed the first program's bytes
  /// for the second segment, whose creator's /proc/PID/cmdline says otherwise.
  @Test("JSON shows each creator's command line with its own bytes, however alike the strings")
  func canonicallyEqualCommandLines() throws {
    let r = Harness.inNamespace(NamespaceAttackTests.setup + """
      # The interpreter itself: a wrapper (pyenv) would exec it with argv[0] of its own.
      py=$(python3 -c 'import sys; print(sys.executable)')
      hold='import ctypes, os, time
      print(ctypes.CDLL(None).shmget(0, 4096, 0o1600), flush=True)
      open(os.environ["F"], "w").write("ok\\n")
      time.sleep(1000)'
      pids=
      for name in 'caf\\xc3\\xa9' 'cafe\\xcc\\x81'; do
        f=$(ready)
        F=$f bash -c 'exec -a "$(printf "$1")" "$2" -c "$3"' x "$name" "$py" "$hold" >/dev/null &
        pids="$pids $!"
        read -r -t 60 _ < $f
      done
      # Each segment's id and its creator's command line (arguments joined by spaces) in hex.
      hex='import json, sys
      for r in json.load(sys.stdin): print(r["id"], r["command"].encode().hex())'
      id=0
      for pid in $pids; do
        echo "$id $(python3 -c 'import sys; print(open(sys.argv[1], "rb").read().rstrip(b"\\0").replace(b"\\0", b" ").hex())' /proc/$pid/cmdline)"
        id=$((id + 1))
      done
      echo =====
      $S ls shm -o ID,COMMAND --format json | python3 -c "$hex"; echo =====
      $S ls -A shm -o ID,COMMAND --format json | python3 -c "$hex"
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    try #require(p.count == 3, "\(r.stdout)")
    let expected = p[0]
    // The premise: two segments, ids 0 and 1 in this IPC namespace, whose creators' lines differ.
    let lines = expected.split(separator: "\n")
    try #require(lines.count == 2 && lines[0].dropFirst(2) != lines[1].dropFirst(2), "\(r.stdout)")
    #expect(p[1] == expected, "ls: \(p[1]) cmdline: \(expected)")
    #expect(p[2] == expected, "ls -A: \(p[2]) cmdline: \(expected)")
  }

  /// Fifty other IPC namespaces (any user can make them: unshare -Ui) against a run with a low
  /// descriptor limit (a service's LimitNOFILE): the scan of /proc keeps a descriptor for each
  /// namespace, and could not open the process directories of the later ones. Those namespaces
  /// were left out of `ls -A` without a word, their objects hidden from root; the streamed
  /// output, whose visiting thread now opens namespaces while the scan goes on, also said so
  /// with exit status 0.
  @Test("namespaces the scan could not open for want of descriptors are reported, never silently left out")
  func scanOutOfDescriptors() throws {
    let r = Harness.inNamespace(NamespaceAttackTests.setup + """
      for i in $(seq 50); do
        f=$(ready)
        unshare --ipc sh -c 'ipcmk -Q >/dev/null && echo ok > "$1"; exec sleep 1000' x $f &
        read -r -t 60 _ < $f
      done
      for format in csv table; do
        o=$( (ulimit -n 40; $S ls -A msg -o NAMESPACE --no-headings $([ $format = csv ] && echo --format csv)) 2>$TD/err; echo "rc=$?")
        # The namespaces listed, those said to be skipped, and the line about them.
        echo "$format $(echo "$o" | grep -c 'ipc:') $(grep -o '[0-9]* namespaces* skipped' $TD/err | cut -d' ' -f1) $(echo "$o" | tail -1)"
        grep -o '[0-9]* process[es]* or /dev/shm director[a-z]* could not be opened ([^)]*)' $TD/err || echo none
        echo =====
      done
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    try #require(p.count == 3, "\(r.stdout)")
    for section in p.prefix(2) {
      let lines = section.split(separator: "\n")
      try #require(lines.count == 2, "\(section)")
      let fields = lines[0].split(separator: " ")
      // 51 namespaces, ours included; a process that could not be read may be the only one of its.
      let listed = Int(fields[1]) ?? 0, skipped = fields.count == 4 ? Int(fields[2]) ?? 0 : 0
      #expect(fields.last == "rc=0" || fields.last == "rc=1", "\(section)")
      if listed + skipped < 51 {
        #expect(lines[1].hasSuffix("could not be opened (too many open files)"), "missing without a word: \(section)")
      }
    }
  }
}
