import Foundation
import Testing

/// `show`, the filters and POSIX listing, on objects made by the C helper in private namespaces.
@Suite("show, filters and POSIX objects")
struct InspectionTests {
  @Test("show names the processes attached to a segment, semaphore values and the queue limit",
        .enabled(if: Harness.canUnshareAll, "needs unshare --ipc --mount --pid (root)"))
  func show() throws {
    let r = Harness.inNamespace("""
      d=$($H shm-create 0x4242 4096 0600)
      exec 3< <(sleep 60 | $H shm-hold $d); read -r ready <&3
      holder=$(pgrep -f "ipchelper shm-hold $d" | head -1)
      m=$($H sem-create 0x77 3 0600); $H sem-set $m 2 9
      q=$($H msg-create 0x55 0600); $H msg-send $q 1 hi
      echo $holder; echo =====
      $S show shm $d --format json; echo =====
      $S show sem --key 0x77 --format json; echo =====
      $S show msg $q --format json; echo =====
      $S show shm --key 0x4242; echo =====
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let parts = Harness.sections(r.stdout)
    let holder = Int(parts[0].trimmingCharacters(in: .whitespacesAndNewlines))!
    let shm = try #require(Harness.json(parts[1]) as? [String: Any])
    let holders = try #require(shm["holder_processes"] as? [[String: Any]])
    #expect(holders.map { $0["pid"] as? Int } == [holder])
    #expect((holders.first?["command"] as? String)?.contains("ipchelper shm-hold") == true)
    #expect(holders.first?["access"] as? String == "attached")
    let sem = try #require(Harness.json(parts[2]) as? [String: Any])
    let values = (sem["semaphores"] as? [[String: Any]])?.map { $0["value"] as? Int }
    #expect(values == [0, 0, 9])
    let msg = try #require(Harness.json(parts[3]) as? [String: Any])
    #expect(msg["qbytes"] as? Int == 16384 && msg["msgs"] as? Int == 1)
    #expect(parts[4].contains("attached processes:") && parts[4].contains("\(holder) attached"))
  }

  @Test("filters select the right objects", .enabled(if: Harness.canUnshareAll, "needs unshare --ipc --mount --pid (root)"))
  func filters() throws {
    let r = Harness.inNamespace("""
      a=$($H msg-create 0x1001 0600); $H msg-send $a 1 x
      b=$($H msg-create 0x2001 0666)
      setpriv --reuid=12345 --regid=12345 --clear-groups ipcmk -Q >/dev/null
      d=$($H shm-create 0 4096 0600)
      exec 3< <(sleep 60 | $H shm-hold $d rm); read -r ready <&3
      u=$($H shm-create 0x3001 4096 0600)
      ids() { "$S" ls "$@" --format json | python3 -c "import json,sys; print(' '.join(o['type']+str(o.get('id')) for o in json.load(sys.stdin)))"; }
      ids msg --owner 12345; echo =====
      ids --key 0x1000-0x1fff; echo =====
      ids shm --removed; echo =====
      ids shm --unattached; echo =====
      ids msg --world-writable; echo =====
      ids msg shm --orphaned --min-age 0s --ignore-hidden; echo =====
      ids msg --owner root --key 0x2001; echo =====
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
    #expect(p[0] == "msg2")
    #expect(p[1] == "msg0")
    #expect(p[2] == "shm0")
    #expect(p[3] == "shm1")
    #expect(p[4] == "msg1")
    // msg0's sender (the helper) is gone; msg1/msg2 have no recorded pid (unknown);
    // shm0 is attached; shm1's creator is gone and nobody attached.
    #expect(p[5] == "msg0 shm1")
    #expect(p[6] == "msg1")
  }

  @Test("POSIX queues, shared memory and semaphores, with their holders",
        .enabled(if: Harness.canUnshareAll, "needs unshare --ipc --mount --pid"))
  func posix() throws {
    let r = Harness.inNamespace("""
      mkdir -p /dev/mqueue; mount -t mqueue none /dev/mqueue
      mount -t tmpfs -o size=8m tmpfs /dev/shm
      $H mq-create /jobs 10 128; $H mq-send /jobs 5 hello; $H mq-send /jobs 1 abc
      exec 3< <(sleep 60 | $H mq-hold /jobs); read -r ready <&3
      exec 4< <(sleep 60 | $H pshm-hold /cache 8192); read -r ready <&4
      $H psem-create /lock 3
      $H psem-create /idle 0
      $S ls pmsg pshm psem --format json; echo =====
      $S show pshm /cache --format json; echo =====
      $S ls --orphaned --min-age 0s --ignore-hidden --format json; echo =====
      $S ls psem --name 'l*' -o NAME,VALUE --no-headings; echo =====
      $S show msg /jobs; echo =====
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let parts = Harness.sections(r.stdout)
    let rows = try #require(Harness.json(parts[0]) as? [[String: Any]])
    let jobs = try #require(rows.first { $0["name"] as? String == "/jobs" })
    #expect(jobs["type"] as? String == "pmsg" && jobs["msgs"] as? Int == 2 && jobs["usedbytes"] as? Int == 8)
    #expect(jobs["maxmsg"] as? Int == 10 && jobs["msgsize"] as? Int == 128 && jobs["holders"] as? Int == 1)
    let cache = try #require(rows.first { $0["name"] as? String == "/cache" })
    #expect(cache["type"] as? String == "pshm" && cache["size"] as? Int == 8192 && cache["holders"] as? Int == 1)
    let lock = try #require(rows.first { $0["name"] as? String == "/lock" })
    #expect(lock["type"] as? String == "psem" && lock["value"] as? Int == 3 && lock["holders"] as? Int == 0)
    let show = try #require(Harness.json(parts[1]) as? [String: Any])
    let holders = show["holder_processes"] as? [[String: Any]]
    #expect(holders?.count == 1 && holders?.first?["access"] as? String == "mapped")
    let orphans = try #require(Harness.json(parts[2]) as? [[String: Any]])
    #expect(Set(orphans.compactMap { $0["name"] as? String }) == ["/lock", "/idle"])
    #expect(parts[3].trimmingCharacters(in: .whitespacesAndNewlines) == "/lock 3")
    #expect(parts[4].contains("processes holding it:") && parts[4].contains("mq-hold /jobs"))
  }

  @Test("POSIX queues are found through an mqueue mount elsewhere, its path escaped in the mount table",
        .enabled(if: Harness.canUnshareAll, "needs unshare --ipc --mount --pid"))
  func mqueueMountedElsewhere() throws {
    // As nobody, who cannot make a private mqueue instance: only the mount found in
    // /proc/self/mounts (where the blank and backslash read `\040` and `\134`) shows the queue.
    let r = Harness.inNamespace(#"""
      if mountpoint -q /dev/mqueue; then umount /dev/mqueue; fi
      d=$(mktemp -d); chmod 755 $d; trap 'umount "$d/a b\c"; rm -rf $d' EXIT
      mkdir "$d/a b\c"; mount -t mqueue none "$d/a b\c"
      $H mq-create /elsewhere 4 64 > /dev/null; chmod 644 "$d/a b\c/elsewhere"
      setpriv --reuid=65534 --regid=65534 --clear-groups $S ls pmsg -o NAME --no-headings
      """#)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout == "/elsewhere\n", "\(r.stdout) \(r.stderr)")
  }

  @Test("a user without read permission still lists the objects, and show says what is missing",
        .enabled(if: Harness.canUnshareAll, "needs unshare --ipc --mount --pid (root)"))
  func withoutPermission() throws {
    let r = Harness.inNamespace("""
      q=$($H msg-create 0x99 0600); $H msg-send $q 1 hi
      m=$($H sem-create 0x98 2 0600)
      nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
      nobody $S ls msg sem --format json; echo =====
      nobody $S show msg $q --format json; echo =====
      nobody $S show sem $m; echo =====
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let parts = Harness.sections(r.stdout)
    let rows = try #require(Harness.json(parts[0]) as? [[String: Any]])
    #expect(rows.map { $0["type"] as? String } == ["msg", "sem"])
    #expect(rows.first?["msgs"] as? Int == 1)
    let msg = try #require(Harness.json(parts[1]) as? [String: Any])
    #expect(msg["qbytes"] is NSNull)
    #expect((msg["notes"] as? [String])?.first?.contains("msgctl(IPC_STAT) on queue") == true)
    #expect(parts[2].contains("note: semaphore values not shown") && parts[2].contains("permission denied"))
  }

  /// Debian's nsswitch.conf sends a name /etc/passwd lacks on to libnss_systemd, which crashes when
  /// glibc loads it into the static release binary: every lookup that misses must stay in the files.
  @Test("ids without a passwd or group entry print as numbers; unknown names are usage errors",
        .enabled(if: Harness.canUnshareAll, "needs unshare --ipc --mount --pid (root)"))
  func idsWithoutNames() throws {
    let r = Harness.inNamespace(LifecycleTests.posixMounts + """
      d=$($S shm create --size 4K); $S chown shm $d 54321:54322
      $S shm create /swq.seg --size 4K >/dev/null; $S chown pshm /swq.seg 54321:54322
      $S ls shm -o TYPE,ID,NAME,OWNER,GROUP --no-headings; $S ls pshm -o TYPE,ID,NAME,OWNER,GROUP --no-headings; echo =====
      $S ls shm --format json -o OWNER,UID,GROUP,GID; echo =====
      $S show shm $d | grep -E '^(owner|group)'; echo =====
      $S clean --owner 54321 --all-users --dry-run --no-headings; echo =====
      $S ls --owner 54321 --format csv -o ID,NAME,OWNER --no-headings; echo =====
      e=$(mktemp); trap 'rm -f "$e"' EXIT
      for a in "ls --owner no-such-user-swipc" "ls --creator no-such-user-swipc" "clean --owner no-such-user-swipc --dry-run" \
               "chown shm $d no-such-user-swipc" "chown shm $d root:no-such-group-swipc"; do
        rc=0; $S $a >/dev/null 2>$e || rc=$?; echo "$rc $(wc -l <$e) $(cat $e)"
      done; echo =====
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    let rows = p[0].split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
    #expect(rows == ["shm 0 - 54321 54322", "pshm - /swq.seg 54321 54322"])
    // JSON keeps names and ids apart: no name is null, not a number in a string.
    let json = try #require(Harness.json(p[1]) as? [[String: Any]])
    #expect(json.first?["owner"] is NSNull && json.first?["uid"] as? Int == 54321)
    #expect(json.first?["group"] is NSNull && json.first?["gid"] as? Int == 54322)
    #expect(p[2].contains("54321") && p[2].contains("54322"))
    #expect(p[3].split(separator: "\n").count == 2 && p[3].contains("would remove") && p[3].contains("54321"))
    #expect(p[4].trimmingCharacters(in: .whitespacesAndNewlines) == "shm,0,,54321\npshm,,/swq.seg,54321")
    let errors = p[5].split(separator: "\n")
    #expect(errors.count == 5)
    for line in errors {
      #expect(line.hasPrefix("64 1 swipc: unknown "), "\(line)")
    }
  }
}
