import Foundation
import Testing

/// --all-namespaces and --namespace, inside a private PID namespace with its own /proc: the
/// namespaces swipc finds are only those of the processes each test starts. Every namespace has
/// its own /dev/shm tmpfs and mqueue, objects of every kind (orphaned and in use, root's and
/// nobody's) and a sleeping process; one sits in a cgroup shaped like a Docker container, one in
/// one shaped like a Kubernetes pod (made under the writable cgroup v1 `pids` hierarchy with a
/// unique name, removed by a trap).
@Suite("Namespaces and containers", .enabled(if: Harness.canUnshareAll && FileManager.default.isWritableFile(atPath: "/sys/fs/cgroup/pids"), "needs unshare and a writable cgroup v1 pids hierarchy"))
struct NamespaceTests {
  /// Makes `mkns NAME [CGROUP]`: a namespace populated by `populate`, its pid in $ns_NAME.
  static let setup = """
    nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
    # A temporary directory of the test's own ($TD) on a tmpfs of this mount namespace: the
    # host's /tmp, where the checkout may be, is neither used nor hidden.
    mount -t tmpfs -o size=64m tmpfs /mnt; TD=/mnt/tmp; mkdir -m 1777 $TD
    mount -t tmpfs -o size=16m tmpfs /dev/shm
    base=/sys/fs/cgroup/pids/swipc-test-$(cat /proc/sys/kernel/random/uuid)
    did=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \\n'); kid=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \\n')
    pod=$(cat /proc/sys/kernel/random/uuid)
    dock=$base/docker/$did; kube=$base/kubepods/besteffort/pod$pod/$kid
    pids=()
    cleanup() {
      # unshare --fork ignores SIGTERM while it waits for its child.
      for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
      for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
      # The namespaces' own processes may have joined the test cgroups with them.
      for f in $(find "$base" -name cgroup.procs 2>/dev/null); do
        for q in $(cat "$f"); do kill -KILL "$q" 2>/dev/null || true; done
      done
      # A cgroup whose last process was just reaped can stay busy for a moment.
      for i in $(seq 100); do
        rmdir "$dock" "$base/docker" "$kube" "$base/kubepods/besteffort/pod$pod" "$base/kubepods/besteffort" "$base/kubepods" "$base" 2>/dev/null || true
        [ -d "$base" ] || break; sleep 0.1
      done
    }
    trap cleanup EXIT
    mkdir -p "$dock" "$kube"
    populate='
      mount -t tmpfs -o size=16m tmpfs /dev/shm; mkdir -p /dev/mqueue; mount -t mqueue none /dev/mqueue
      q=$($S msg create); $S msg send $q x >/dev/null
      $S msg create --key 0x51 >/dev/null
      $S shm create --size 4K >/dev/null
      u=$($S shm create --size 4K --key 0x52); $S shm attach $u -- sleep 1000 2>/dev/null &
      s=$($S sem create); $S sem post $s
      $S sem create --key 0x53 >/dev/null
      $S msg create /oq --max-messages 2 --message-size 64 >/dev/null; $S msg create /uq --max-messages 2 --message-size 64 >/dev/null; exec 3</dev/mqueue/uq
      $S shm create /om --size 4K >/dev/null; $S shm create /um --size 4K >/dev/null; exec 4</dev/shm/um
      $S sem create /os >/dev/null; $S sem create /us >/dev/null; exec 5</dev/shm/sem.us
      setpriv --reuid=65534 --regid=65534 --clear-groups $S shm create --size 4K --key 0x54 >/dev/null
      setpriv --reuid=65534 --regid=65534 --clear-groups $S shm create /nm --size 4K >/dev/null
      echo ready > $1
      exec sleep 1000'
    mkns() {  # NAME [CGROUP]
      local f; f=$(mktemp -u $TD/ready.XXXXXX); mkfifo "$f"
      S=$S unshare --ipc --mount --propagation private --fork bash -c "$populate" x "$f" >/dev/null &
      pids+=($!); eval "ns_$1=$!"
      if [ -n "${2:-}" ]; then echo $! > "$2/cgroup.procs"; fi
      read -r -t 60 _ < "$f"; rm "$f"
    }
    inode() { stat -Lc %i /proc/$1/ns/ipc; }

    """

  /// The objects each namespace holds after `populate`, by TYPE:ID-or-NAME:OWNER.
  static let populated: Set<String> = [
    "msg:0:root", "msg:1:root", "shm:0:root", "shm:1:root", "shm:2:nobody", "sem:0:root", "sem:1:root",
    "pmsg:/oq:root", "pmsg:/uq:root", "pshm:/om:root", "pshm:/um:root", "pshm:/nm:nobody",
    "psem:/os:root", "psem:/us:root",
  ]
  /// What clean --orphaned removes there: root's objects no process uses.
  static let orphaned: Set<String> = ["msg:0:root", "shm:0:root", "sem:0:root", "pmsg:/oq:root", "pshm:/om:root", "psem:/os:root"]

  static func rows(_ json: String) -> [[String: Any]] { (Harness.json(json) as? [[String: Any]]) ?? [] }

  static func object(_ row: [String: Any]) -> String {
    let type = row["type"] as? String ?? "?"
    let which = (row["name"] as? String) ?? (row["id"] as? Int).map(String.init) ?? "?"
    return "\(type):\(which):\(row["owner"] as? String ?? "?")"
  }

  /// The rows of one namespace, as TYPE:ID-or-NAME:OWNER.
  static func objects(_ rows: [[String: Any]], in namespace: String) -> [String] {
    rows.filter { $0["namespace"] as? String == namespace }.map(object)
  }

  @Test("root lists and shows its own namespace's queues where no mqueue filesystem is mounted, mounting nothing; others are told why")
  func ownQueuesWithoutMount() throws {
    let r = Harness.inNamespace("""
      mount -t tmpfs tmpfs /dev/shm
      for m in $(awk '$3 == "mqueue" {print $2}' /proc/self/mounts); do umount "$m"; done
      before=$(md5sum < /proc/self/mountinfo)
      $S msg create /jobs --max-messages 4 --message-size 64 >/dev/null; $S msg send /jobs hello >/dev/null
      $S ls pmsg -o NAME,MSGS,MAXMSG --no-headings | tr -s ' '; echo =====
      $S show pmsg /jobs --format json; echo =====
      st=0; setpriv --reuid=65534 --regid=65534 --clear-groups $S ls pmsg 2>&1 || st=$?; echo "status $st"; echo =====
      $S rm pmsg /jobs >/dev/null; $S ls pmsg --no-headings; echo =====
      [ "$before" = "$(md5sum < /proc/self/mountinfo)" ] && echo "mount table unchanged"
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    #expect(p[0] == "/jobs 1 4\n", "\(p[0])")
    let shown = try #require(Harness.json(p[1]) as? [String: Any], "\(p[1])")
    #expect(shown["name"] as? String == "/jobs" && (shown["msgs"] as? NSNumber)?.intValue == 1)
    #expect(p[2].contains("no mqueue filesystem is mounted") && p[2].hasSuffix("status 69\n"), "\(p[2])")
    #expect(p[3] == "", "removed: \(p[3])")
    #expect(p[4] == "mount table unchanged\n")
  }

  @Test("ls -A lists every object once with its namespace and container; clean -A --orphaned removes exactly the orphaned ones")
  func listAndCleanEveryNamespace() throws {
    let r = Harness.inNamespace(Self.setup + """
      mkns docker "$dock"; mkns kube "$kube"; mkns plain
      $S shm create /own --size 4K >/dev/null; exec 6</dev/shm/own
      $S msg create --key 0x61 >/dev/null
      own=$(inode $$)
      echo "ipc:[$own] ipc:[$(inode $ns_docker)] ipc:[$(inode $ns_kube)] ipc:[$(inode $ns_plain)] $did $pod $kid"; echo =====
      before=$(cat /proc/self/mountinfo)
      $S ls -A --format json; echo =====
      $S ls --namespaces --format json; echo =====
      $S clean -A --orphaned --min-age 0s --ignore-hidden --yes --format json; echo =====
      $S ls -A --format json; echo =====
      [ "$before" = "$(cat /proc/self/mountinfo)" ] && echo "mount table unchanged"
      [ "$(readlink /proc/self/ns/ipc)" = "ipc:[$own]" ] && echo "same namespace"
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    try #require(p.count == 6, "\(r.stdout)")
    let ids = p[0].split(separator: " ").map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) }
    let (own, docker, kube, plain) = (ids[0], ids[1], ids[2], ids[3])
    let (dockerID, pod, kubeID) = (ids[4], ids[5], ids[6])
    let before = Self.rows(p[1])
    for ns in [docker, kube, plain] {
      let listed = Self.objects(before, in: ns)
      #expect(listed.count == Set(listed).count, "each object once in \(ns): \(listed)")
      #expect(Set(listed) == Self.populated, "\(ns): \(listed.sorted())")
    }
    #expect(Set(Self.objects(before, in: own)) == ["msg:0:root", "pshm:/own:root"], "\(Self.objects(before, in: own))")
    #expect(before.count == 3 * Self.populated.count + 2)
    let containers = Dictionary(before.map { ($0["namespace"] as? String ?? "", $0["container"] as? String ?? "none") }, uniquingKeysWith: { a, _ in a })
    #expect(containers[docker] == "docker/" + dockerID.prefix(12))
    #expect(containers[kube] == "k8s/\(pod)/" + kubeID.prefix(12))
    #expect(containers[plain] == "none" && containers[own] == "none")
    #expect(before.allSatisfy { ($0["pid"] as? Int ?? 0) > 0 })

    let summary = Self.rows(p[2])
    #expect(summary.count == 4, "\(p[2])")
    let dockerRow = summary.first { $0["namespace"] as? String == docker }
    #expect((dockerRow?["objects"] as? [String: Int])?["shm"] == 3)
    #expect((dockerRow?["bytes"] as? [String: Int])?["pshm"] == 3 * 4096)

    let report = Self.rows(p[3])
    for ns in [docker, kube, plain] {
      let removed = report.filter { $0["namespace"] as? String == ns && $0["result"] as? String == "removed" }.map(Self.object)
      #expect(Set(removed) == Self.orphaned, "\(ns): \(removed.sorted())")
      #expect(removed.count == Self.orphaned.count)
    }
    #expect(!report.contains { $0["namespace"] as? String == own }, "the test's own objects are in use: \(p[3])")
    #expect(report.allSatisfy { $0["result"] as? String == "removed" }, "\(p[3])")
    let after = Self.rows(p[4])
    for ns in [docker, kube, plain] {
      #expect(Set(Self.objects(after, in: ns)) == Self.populated.subtracting(Self.orphaned), "\(ns): \(Self.objects(after, in: ns).sorted())")
    }
    #expect(Set(Self.objects(after, in: own)) == ["msg:0:root", "pshm:/own:root"])
    #expect(p[5] == "mount table unchanged\nsame namespace\n")
  }

  @Test("ls -A as JSON and CSV (written while the next namespace is read) counts holders as the table does, never swipc itself")
  func streamedHolders() throws {
    let r = Harness.inNamespace(Self.setup + """
      mkns one; mkns two; mkns three
      # A file of the caller's own /dev/shm held only by a mapping: its descriptor is closed.
      exec 8< <(sleep 600 | $H pshm-hold /mapped 4096); read -r ready <&8
      for i in 1 2 3; do
        $S ls -A pmsg pshm psem -o TYPE,NAMESPACE,NAME,HOLDERS --no-headings | grep -v '^---' | tr -s ' ' | sed '/^$/d' | sort; echo =====
        $S ls -A pmsg pshm psem -o TYPE,NAMESPACE,NAME,HOLDERS --format csv --no-headings | tr ',' ' ' | sort; echo =====
        $S ls -A --format json; echo =====
      done
      # Only kinds of /dev/shm: nothing to read inside a namespace while the scan goes on.
      $S ls -A pshm psem -o TYPE,NAMESPACE,NAME --no-headings | grep -v '^---' | tr -s ' ' | sed '/^$/d' | sort; echo =====
      $S ls -A pshm psem -o TYPE,NAMESPACE,NAME --format csv --no-headings | tr ',' ' ' | sort; echo =====
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    try #require(p.count >= 11, "\(r.stdout)")
    #expect(p[9] == p[10], "table:\n\(p[9])csv:\n\(p[10])")
    #expect(Set(p[10].split(separator: "\n").map { $0.split(separator: " ")[1] }).count >= 3, "the three namespaces: \(p[10])")
    for round in 0..<3 {
      let table = p[3 * round], csv = p[3 * round + 1]
      #expect(table == csv, "table:\n\(table)csv:\n\(csv)")
      let rows = Self.rows(p[3 * round + 2]).filter { ["pmsg", "pshm", "psem"].contains($0["type"] as? String ?? "") }
      #expect(rows.count == 3 * 7 + 1, "\(rows.count) POSIX rows")
      for row in rows {
        let name = row["name"] as? String ?? ""
        // The /u… objects are held by their namespace's sleeper, /mapped by the helper that maps
        // it; no process holds the others.
        let expected = name.hasPrefix("/u") || name == "/mapped" ? 1 : 0
        #expect((row["holders"] as? Int) == expected, "\(row)")
      }
    }
  }

  @Test("every thread ls -A keeps once the namespaces are read (the one that closes their mounts) is in the caller's namespace")
  func threadsStayHome() throws {
    // swipc blocks in its last write(2), with the namespaces read, its visiting thread gone and
    // the closing thread still there.
    let r = Harness.inNamespace(Self.setup + """
      mkns plain; mkns other
      # Its own queues from this mount: the first mqueue instance swipc makes is another namespace's.
      mkdir -p /dev/mqueue; mount -t mqueue none /dev/mqueue
      $H fill 30 >/dev/null
      # Less JSON than swipc writes out while it reads, more than a pipe of one page holds.
      mkfifo $TD/out; exec 7<> $TD/out; python3 -c 'import fcntl; fcntl.fcntl(7, 1031, 4096)'
      $S ls -A --format json > $TD/out & s=$!
      for i in $(seq 1200); do [ "$(cut -d' ' -f1 /proc/$s/syscall 2>/dev/null)" = 1 ] && break; sleep 0.05; done
      echo "write: $(cut -d' ' -f1 /proc/$s/syscall)"
      ls /proc/$s/task | wc -l
      for t in /proc/$s/task/*; do readlink $t/ns/ipc; done | sort -u
      readlink /proc/self/ns/ipc
      cat <&7 > /dev/null & c=$!
      wait $s; echo "status $?"; kill $c
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let lines = r.stdout.split(separator: "\n").map(String.init)
    try #require(lines.count == 5, "\(r.stdout)")
    #expect(lines[0] == "write: 1", "swipc did not reach its write: \(r.stdout)")
    // The main thread and the closing thread (and a sanitizer's own, under one).
    #expect((Int(lines[1]) ?? 0) >= 2, "the closing thread is there to be checked: \(r.stdout)")
    #expect(lines[2] == lines[3], "a thread of swipc is in \(lines[2]), the caller in \(lines[3])")
    #expect(lines[4] == "status 0")
  }

  @Test("ls -A as JSON or CSV larger than its buffer: written out whole as it goes; a full or closed output is one error line, exit 1")
  func streamedOutputInPieces() throws {
    let r = Harness.inNamespace(Self.setup + """
      mkns plain; mkns other
      $H fill 200 >/dev/null
      exec 3>&1; e=$TD/err
      t() { rc=0; eval "$1" 2>$e || rc=$?; echo "$rc $(wc -l <$e) $(cat $e)" >&3; }
      $S ls -A --format json > $TD/all.json; wc -c < $TD/all.json; echo =====
      cat $TD/all.json; echo =====
      $S ls -A --format csv | wc -l; echo =====
      t "$S ls -A --format json >/dev/full"; t "$S ls -A --format csv >&-"; echo =====
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    try #require(p.count == 5, "\(r.stdout)")
    #expect((Int(p[0].trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) > 3 << 16, "more than three buffers: \(p[0])")
    let rows = try #require(Harness.json(p[1]) as? [[String: Any]], "not one JSON document")
    #expect(rows.count == 600 + 2 * Self.populated.count)
    #expect(Int(p[2].trimmingCharacters(in: .whitespacesAndNewlines)) == rows.count + 1, "CSV: a heading and a line each: \(p[2])")
    let ids = rows.compactMap { row in (row["namespace"] as? String).map { "\($0) \(row["type"]!) \(row["id"] ?? row["name"]!)" } }
    #expect(Set(ids).count == rows.count, "each object once")
    #expect(p[3] == """
      1 1 swipc: write to standard output: no space left on device
      1 1 swipc: write to standard output: bad file descriptor

      """, "\(p[3])")
  }

  @Test("-N names a namespace by pid, ipc:[INODE], ns file, bind mount or container; its children and the caller stay where they were")
  func namespaceTargets() throws {
    let r = Harness.inNamespace(Self.setup + """
      mkns docker "$dock"
      P=$ns_docker; own=$(readlink /proc/self/ns/ipc)
      $S ls -N $P msg shm sem pshm -o TYPE,KEY,NAME --no-headings; echo =====
      $S ls -N "ipc:[$(inode $P)]" sem -o KEY --no-headings; echo =====
      $S ls -N /proc/$P/ns/ipc sem -o KEY --no-headings; echo =====
      touch $TD/nsfile-$$; mount --bind /proc/$P/ns/ipc $TD/nsfile-$$
      $S ls -N $TD/nsfile-$$ sem -o KEY --no-headings; umount $TD/nsfile-$$; rm $TD/nsfile-$$; echo =====
      $S ls -N ${did:0:12} psem -o NAME --no-headings; echo =====
      q=$($S msg create -N $P --key 0x77); $S msg send -N $P --key 0x77 hello; $S msg recv -N $P --key 0x77; echo; echo =====
      $S ls msg -o KEY --no-headings | grep -c 0x00000077 || true; echo =====
      s=$($S sem create -N $P /gate --value 1)
      $S sem run -N $P /gate -- readlink /proc/self/ns/ipc; echo =====
      [ "$(readlink /proc/self/ns/ipc)" = "$own" ] && echo "caller unchanged: $own"; echo =====
      $S rm -N $P pshm /om; ls /proc/$P/root/dev/shm | sort | tr '\\n' ' '; echo; echo =====
      for t in 999999 'ipc:[1]' /etc/hostname nosuchcontainer; do $S ls -N "$t" >/dev/null 2>&1 && echo "$t 0" || echo "$t $?"; done
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    try #require(p.count == 11, "\(r.stdout)")
    #expect(p[0].contains("0x00000051") && p[0].contains("0x00000053") && p[0].contains("/om") && !p[0].contains("0x00000061"), "\(p[0])")
    for i in 1...3 { #expect(p[i].contains("0x00000053"), "\(i): \(p[i])") }
    #expect(p[4].contains("/os") && p[4].contains("/us"), "\(p[4])")
    #expect(p[5] == "hello\n", "\(p[5])")
    #expect(p[6] == "0\n", "the queue made with -N is not in the caller's namespace: \(p[6])")
    let own = p[8].replacingOccurrences(of: "caller unchanged: ", with: "")
    #expect(p[7] == own, "the command sem run starts runs in the caller's namespace: \(p[7]) vs \(own)")
    #expect(p[9].contains("sem.gate") && !p[9].split(separator: " ").contains("om"), "\(p[9])")
    #expect(p[10] == "999999 66\nipc:[1] 66\n/etc/hostname 64\nnosuchcontainer 66\n", "\(p[10])")
  }

  @Test("a container's /dev/shm that is a symlink resolves inside the container's root, never the host's")
  func hostileSharedMemorySymlink() throws {
    let r = Harness.inNamespace(Self.setup + """
      root=$(mktemp -d $TD/root.XXXXXX); victim=$(mktemp -d $TD/victim.XXXXXX)
      echo host > $victim/victim; mkdir -p $root/dev $root$victim; echo inside > $root$victim/inside
      ln -s $victim $root/dev/shm
      f=$(mktemp -u $TD/ready.XXXXXX); mkfifo $f
      unshare --ipc --fork python3 -c 'import os,sys,signal; r=open(sys.argv[2],"w"); os.chroot(sys.argv[1]); os.chdir("/"); r.write("ready\\n"); r.close(); signal.pause()' $root $f &
      pids+=($!); read -r -t 60 _ < $f; rm $f
      $S ls -A pshm -o NAME --no-headings; echo =====
      $S clean -A pshm --all --all-users --yes >/dev/null; echo =====
      ls $victim; ls $root$victim
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    #expect(p[0].contains("/inside") && !p[0].contains("/victim"), "\(p[0])")
    #expect(p[2] == "victim\n", "the host's file is untouched and the container's own was removed: \(p[2])")
  }

  @Test("without privilege: ls -A lists its own namespace and says once what it skipped; -N exits 77")
  func unprivileged() throws {
    let r = Harness.inNamespace(Self.setup + """
      mkns plain
      nobody $S msg create --key 0x99 >/dev/null
      st() { "$@" && echo "status 0" || echo "status $?"; }
      st nobody $S ls -A msg -o KEY,NAMESPACE --no-headings; echo =====
      nobody $S clean -A msg --all --dry-run >/dev/null && echo "status 0" || echo "status $?"; echo =====
      st nobody $S ls -N $ns_plain msg; echo =====
      st nobody $S ls -N "ipc:[$(inode $ns_plain)]" msg
      $S rm -q msg --key 0x99
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    try #require(p.count == 4, "\(r.stdout)")
    #expect(p[0].contains("0x00000099") && !p[0].contains("0x00000051") && p[0].hasSuffix("status 0\n"), "\(p[0])")
    #expect(p[1] == "status 0\n")
    #expect(p[2] == "status 77\n")
    #expect(p[3] == "status 66\n")
    let skipped = r.stderrLines.filter { $0.contains("could not be examined") }
    #expect(skipped.count == 2, "one line each for ls -A and clean -A: \(r.stderr)")
    #expect(r.stderrLines.contains { $0.contains("ls -N") || $0.contains("another user's process") }, "\(r.stderr)")
  }
}
