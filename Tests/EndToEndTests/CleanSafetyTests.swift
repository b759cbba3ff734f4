import Foundation
import Testing

/// clean as an attacker would see it: objects that change between the prompt and the answer,
/// waiters in threads and in other namespaces, processes hidden by hidepid or by a PID namespace.
/// Races are driven, not timed: swipc waits at its prompt (under `script`) while the test acts.
@Suite("clean decides on what it reads just before removing", .enabled(if: Harness.canUnshareAll, "needs unshare --ipc --mount --pid"))
struct CleanSafetyTests {
  static let nobody = "nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups \"$@\"; }\n"

  /// Starts `clean ARGS` on a terminal (script), waits for its question, runs ACTION, answers y.
  static let prompt = """
    in=$(mktemp -u); mkfifo $in; out=$(mktemp)
    trap 'rm -f $in $out' EXIT
    atPrompt() {  # ACTION CLEAN-ARGS...
      local action=$1; shift
      script -qfec "$S clean $*" /dev/null < $in > $out 2>&1 &
      local sp=$!
      exec 5<>$in
      for i in $(seq 1200); do grep -q 'Remove th' $out && break; sleep 0.05; done
      grep -q 'Remove th' $out || { echo "no prompt"; cat $out; }
      eval "$action"
      echo y >&5; exec 5>&-
      local st=0; wait $sp || st=$?
      tr -d '\\r' < $out; echo "status $st"
    }

    """

  @Test("an id reused by another user while the question is on the screen is skipped, not removed")
  func idReusedAtPrompt() throws {
    let r = Harness.inNamespace(Self.nobody + Self.prompt + """
      seg=$($H shm-create 0 4096 0600)
      atPrompt '$H rm shm $seg; echo $seg > /proc/sys/kernel/shm_next_id; [ "$(nobody $H shm-create 0 4096 0600)" = $seg ] && echo "same id" >&2' shm --all; echo =====
      awk 'NR>1 {print $2, $8}' /proc/sysvipc/shm; echo =====
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    #expect(r.stderr.contains("same id"))
    #expect(p[0].contains("skipped") && p[0].contains("changed since it was shown: its owner is now uid 65534"), "\(p[0])")
    #expect(!p[0].contains("removed shm"), "\(p[0])")
    #expect(p[0].hasSuffix("status 0\n"))
    #expect(p[1].hasSuffix(" 65534\n"), "nobody's new segment survives: \(p[1])")
  }

  @Test("a segment attached and a set operated on by a live process at the prompt are kept")
  func usedAtPrompt() throws {
    let r = Harness.inNamespace(Self.prompt + """
      seg=$($H shm-create 0 4096 0600)
      set=$($H sem-create 0 1 0600); $H sem-op $set 0 1 >/dev/null
      use() {
        exec 6< <(sleep 60 | $H shm-hold $seg); read -r ready <&6
        $S sem run $set -- sleep 60 & for i in $(seq 200); do [ "$($S sem get $set)" = 0 ] && break; sleep 0.05; done
      }
      atPrompt use shm sem --orphaned --min-age 0s --format json; echo =====
      awk 'FNR>1 {print $2}' /proc/sysvipc/shm /proc/sysvipc/sem | tr '\\n' ' '; echo; echo =====
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    #expect(p[0].contains("Remove these 2 objects?"), "\(p[0])")
    #expect(p[0].contains("no longer orphaned: attached by 1 process"), "\(p[0])")
    #expect(p[0].contains("no longer orphaned: pid "), "\(p[0])")
    #expect(!p[0].contains("\"removed\""), "\(p[0])")
    #expect(p[1] == "0 0 \n", "both survive: \(p[1])")
  }

  @Test("a queue with a reader blocked in another thread is kept; a waiter in another IPC namespace does not count")
  func waiterInThread() throws {
    let r = Harness.inNamespace("""
      q=$($H msg-create 0 0600); $H msg-send $q 1 x; $S msg recv $q >/dev/null
      w=$(mktemp); trap 'rm -f $w' EXIT
      sleep 60 | $H msg-wait-thread $q > $w & hp=$!
      for i in $(seq 400); do grep -q ready $w && break; sleep 0.05; done
      $S ls msg -o ID,ORPHAN --no-headings; echo =====
      $S clean msg --orphaned --min-age 0s --ignore-hidden --yes --format json; echo =====
      kill $hp; wait $hp 2>/dev/null || true
      # The same id in a namespace of its own, with a waiter: not this queue's waiter.
      o=$(mktemp); unshare --ipc bash -c "q=\\$($H msg-create 0 0600); sleep 60 | $H msg-wait-thread \\$q" > $o & op=$!
      for i in $(seq 400); do grep -q ready $o && break; sleep 0.05; done
      $S clean msg --orphaned --min-age 0s --ignore-hidden --yes --format json; echo =====
      awk 'NR>1' /proc/sysvipc/msg | wc -l; echo =====
      kill $op 2>/dev/null || true; rm -f $o
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    #expect(p[0] == "0 no\n", "\(p[0])")
    #expect(p[1] == "[]\n", "nothing selected while a thread waits: \(p[1])")
    let removed = try #require(Harness.json(p[2]) as? [[String: Any]])
    #expect(removed.count == 1 && removed.first?["result"] as? String == "removed", "\(p[2])")
    #expect(p[3] == "0\n")
  }

  @Test("from a child PID namespace, POSIX and queue orphan states are unknown and nothing is removed")
  func childPIDNamespace() throws {
    let r = Harness.inNamespace(Self.nobody + """
      mkdir -p /dev/mqueue; mount -t mqueue none /dev/mqueue; mount -t tmpfs tmpfs /dev/shm
      $S shm create /lone --size 4K >/dev/null
      q=$($H msg-create 0 0600); $H msg-send $q 1 x
      $S clean pshm msg --orphaned --min-age 0s --yes --format json; echo "status $?"; echo =====
      ls /dev/shm; awk 'NR>1 {print $2}' /proc/sysvipc/msg; echo =====
      $S ls --orphaned --min-age 0s 2>&1 >/dev/null; echo =====
      $S clean pshm msg --orphaned --min-age 0s --ignore-hidden --yes --format json >/dev/null; ls /dev/shm; awk 'NR>1' /proc/sysvipc/msg; echo =====
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    let report = try #require(Harness.json(String(p[0].dropLast("status 0\n".count))) as? [[String: Any]], "\(p[0])")
    #expect(report.count == 2 && report.allSatisfy { $0["result"] as? String == "skipped" })
    #expect(report.allSatisfy { ($0["reason"] as? String)?.contains("child PID namespace") == true }, "\(p[0])")
    #expect(p[0].hasSuffix("status 0\n"))
    #expect(p[1] == "lone\n0\n", "both kept: \(p[1])")
    #expect(p[2].contains("2 objects not listed as orphaned: orphan state unknown"), "\(p[2])")
    #expect(p[3] == "", "--ignore-hidden decides from what can be seen: \(p[3])")
  }

  @Test("under hidepid=2, nobody's clean keeps an object a hidden process holds, and says why",
        .enabled(if: Harness.run(["unshare", "--ipc", "--mount", "--propagation", "private", "true"]).status == 0))
  func hidePID() throws {
    let r = Harness.inNamespace(Self.nobody + """
      mount -t proc -o hidepid=2 proc /proc
      mount -t tmpfs -o mode=1777 tmpfs /dev/shm
      nobody $S shm create /victim --size 4K >/dev/null
      exec 3</dev/shm/victim   # this root shell holds it: hidden from nobody
      nobody $S clean pshm --orphaned --min-age 0s --yes --format json 3<&-; echo "status $?"; echo =====
      ls /dev/shm; echo =====
      nobody $S ls pshm -o NAME,ORPHAN --no-headings 3<&-; echo =====
      """, namespaces: ["--ipc", "--mount", "--propagation", "private"])
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    #expect(p[0].contains("\"skipped\"") && p[0].contains("is mounted with hidepid="), "\(p[0])")
    #expect(p[1] == "victim\n")
    #expect(p[2] == "/victim unknown\n", "\(p[2])")
  }

  @Test("a queue held by a process whose descriptors root may list but not follow is not orphaned")
  func holderWithCapabilitiesSwipcLacks() throws {
    // Root without CAP_SYS_PTRACE (and one capability the holder keeps) may read the holder's
    // /proc/PID/fd but not follow an entry: on many hosts pid 1 is such a process.
    let r = Harness.inNamespace("""
      mkdir -p /dev/mqueue; mount -t mqueue none /dev/mqueue; mount -t tmpfs tmpfs /dev/shm
      less() { setpriv --inh-caps=-sys_ptrace,-net_raw --bounding-set=-sys_ptrace,-net_raw "$@"; }
      $S msg create /held >/dev/null
      sleep 600 3</dev/mqueue/held &   # with every capability, holds it
      h=$!; trap 'kill -KILL $h' EXIT  # SIGTERM may be blocked by the harness
      while [ ! -e /proc/$h/fd/3 ]; do sleep 0.01; done
      less ls /proc/$h/fd >/dev/null && ! less stat -L /proc/$h/fd/3 >/dev/null 2>&1 && echo "listable, not followable"
      echo =====
      $S ls pmsg -o NAME,HOLDERS,ORPHAN --no-headings | tr -s ' '; echo =====
      less $S ls pmsg -o NAME,HOLDERS,ORPHAN --no-headings | tr -s ' '; echo =====
      less $S clean pmsg --orphaned --min-age 0s --yes --format json; echo "status $?"; echo =====
      ls /dev/mqueue
      """, namespaces: ["--ipc", "--mount", "--propagation", "private"])
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    try #require(p[0] == "listable, not followable\n", "the premise: \(p[0])")
    #expect(p[1] == "/held 1 no\n", "\(p[1])")
    #expect(p[2] == "/held - unknown\n", "\(p[2])")
    let report = try #require(Harness.json(String(p[3].dropLast("status 0\n".count))) as? [[String: Any]], "\(p[3])")
    #expect(report.count == 1 && report.first?["result"] as? String == "skipped", "\(p[3])")
    #expect(p[4] == "held\n", "kept: \(p[4])")
  }

  @Test("clean of kinds it cannot read fails as ls does, never reports an empty cleanup as done; one unreadable kind among others is said")
  func unreadableKinds() throws {
    let r = Harness.inNamespace(Self.nobody + """
      for m in $(awk '$3 == "mqueue" {print $2}' /proc/self/mounts); do umount "$m"; done
      st=0; nobody $S clean pmsg --all --yes --format json 2>&1 || st=$?; echo "status $st"; echo =====
      nobody $S msg create >/dev/null
      st=0; nobody $S clean msg pmsg --all --yes --format json 2>&1 || st=$?; echo "status $st"; echo =====
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    #expect(p[0].hasPrefix("swipc: ") && p[0].contains("no mqueue filesystem is mounted") && p[0].hasSuffix("status 69\n"), "\(p[0])")
    #expect(p[0].split(separator: "\n").count == 2, "one line, no report: \(p[0])")
    #expect(p[1].contains("POSIX message queues not cleaned: no mqueue filesystem is mounted"), "\(p[1])")
    #expect(p[1].contains("\"removed\"") && p[1].hasSuffix("status 0\n"), "the rest is cleaned: \(p[1])")
  }

  @Test("a /proc that cannot be listed leaves orphan states unknown, even with --ignore-hidden")
  func procNotListed() throws {
    let r = Harness.inNamespace("""
      mount -t tmpfs tmpfs /dev/shm
      $S shm create /lone --size 4K >/dev/null
      q=$($H msg-create 0 0600); $H msg-send $q 1 x; $S msg recv $q >/dev/null
      SWIPC_PROC_DIR=/nonexistent/proc $S clean pshm msg --orphaned --min-age 0s --ignore-hidden --yes --format json; echo =====
      ls /dev/shm; awk 'NR>1 {print $2}' /proc/sysvipc/msg
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    let report = try #require(Harness.json(p[0]) as? [[String: Any]], "\(p[0])")
    #expect(report.count == 2 && report.allSatisfy { $0["result"] as? String == "skipped" }, "\(p[0])")
    #expect(report.allSatisfy { ($0["reason"] as? String)?.contains("could not be listed") == true }, "\(p[0])")
    #expect(p[1] == "lone\n0\n", "both kept: \(p[1])")
  }

  @Test("a new object is not orphaned within --min-age; sets made with and without --value alike")
  func gracePeriod() throws {
    let r = Harness.inNamespace("""
      seg=$($H shm-create 0 4096 0600)
      $S clean shm --orphaned --yes --format json; echo =====
      a=$($S sem create --value 1); b=$($S sem create)
      $S ls sem -o ID,ORPHAN --no-headings --orphaned --min-age 0s; $S ls sem -o ID,ORPHAN --no-headings; echo =====
      $S clean shm --orphaned --min-age 0s --yes >/dev/null; awk 'NR>1' /proc/sysvipc/shm | wc -l; echo =====
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    let report = try #require(Harness.json(p[0]) as? [[String: Any]])
    #expect(report.count == 1 && report.first?["result"] as? String == "skipped")
    #expect((report.first?["reason"] as? String)?.contains("less than --min-age 1m ago") == true, "\(p[0])")
    #expect(p[1] == "0 no\n1 no\n", "\(p[1])")
    #expect(p[2] == "0\n")
  }

  @Test("no environment variable makes clean pause between deciding and removing")
  func noTestHook() throws {
    let r = Harness.inNamespace("""
      f=$(mktemp -u); mkfifo $f; trap 'rm -f $f' EXIT
      $H msg-create 0 0600 >/dev/null
      st=0; SWIPC_TEST_PAUSE_BEFORE_REMOVE=$f timeout 20 $S clean msg --all --yes >/dev/null || st=$?
      echo "status $st"; awk 'NR>1' /proc/sysvipc/msg | wc -l
      """)
    try #require(r.status == 0, "\(r.stderr)")
    #expect(r.stdout == "status 0\n0\n")
  }
}
