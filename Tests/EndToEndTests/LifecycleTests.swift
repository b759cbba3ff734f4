import Foundation
import Testing

/// create, rm, chmod, chown and clean, in private namespaces, with objects of root and nobody.
@Suite("Creating, changing and removing objects", .enabled(if: Harness.canUnshareAll, "needs unshare --ipc --mount --pid (root)"))
struct LifecycleTests {
  /// Mounts a private mqueue and /dev/shm inside the namespace first.
  static let posixMounts = "mkdir -p /dev/mqueue; mount -t mqueue none /dev/mqueue; mount -t tmpfs -o size=16m tmpfs /dev/shm\n"
  static let nobody = "nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups \"$@\"; }\n"

  @Test("create prints only the id or name, with the mode, size and values asked for")
  func create() throws {
    let r = Harness.inNamespace(Self.posixMounts + """
      a=$($S shm create --size 1M); echo "$a"; echo =====
      b=$($S shm create --size 4K --key 0x1234 --mode 0640); echo =====
      q=$($S msg create --key 0x55 --max-bytes 4K); echo =====
      s=$($S sem create --values 1,0,3); echo =====
      $S shm create /cache --size 8K; echo =====
      $S sem create /lock --value 2; echo =====
      $S msg create /jobs --max-messages 5 --message-size 64; echo =====
      cat /proc/sysvipc/shm; echo =====
      $S show msg $q --format json; echo =====
      $S show sem $s --format json; echo =====
      stat -c '%a %s %U' /dev/shm/cache; echo =====
      $S ls pmsg psem --format json; echo =====
      $S shm create /cache --size 8K || echo "status $?"; echo =====
      $S shm create --size 4K --key 0x1234 --exclusive || echo "status $?"; echo =====
      [ "$($S shm create --size 4K --key 0x1234)" = "$b" ] && echo same; echo =====
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    #expect(p[0] == "0\n", "the id alone")
    #expect(p[4] == "/cache\n" && p[5] == "/lock\n" && p[6] == "/jobs\n")
    let shm = p[7].split(separator: "\n").dropFirst().map { $0.split(separator: " ") }
    #expect(shm.contains { $0[1] == "0" && $0[2] == "600" && $0[3] == "1048576" })
    #expect(shm.contains { $0[0] == "4660" && $0[2] == "640" && $0[3] == "4096" })
    let msg = try #require(Harness.json(p[8]) as? [String: Any])
    #expect(msg["qbytes"] as? Int == 4096 && msg["key"] as? String == "0x00000055")
    let sem = try #require(Harness.json(p[9]) as? [String: Any])
    #expect((sem["semaphores"] as? [[String: Any]])?.map { $0["value"] as? Int } == [1, 0, 3])
    #expect(p[10] == "600 8192 root\n")
    let posix = try #require(Harness.json(p[11]) as? [[String: Any]])
    #expect(posix.contains { $0["name"] as? String == "/jobs" && $0["maxmsg"] as? Int == 5 && $0["msgsize"] as? Int == 64 })
    #expect(posix.contains { $0["name"] as? String == "/lock" && $0["value"] as? Int == 2 && $0["perms"] as? String == "0600" })
    #expect(p[12] == "status 1\n", "POSIX names are exclusive by default")
    #expect(p[13] == "status 1\n" && p[14] == "same\n")
    #expect(r.stderr.contains("shm_open /cache: already exists"))
  }

  @Test("a name squatted in /dev/shm by another user is refused, not adopted")
  func squatting() throws {
    let r = Harness.inNamespace(Self.posixMounts + Self.nobody + """
      nobody sh -c 'echo planted > /dev/shm/squat; chmod 666 /dev/shm/squat'
      $S shm create /squat --size 4K && echo created || echo "status $?"
      stat -c '%U %s' /dev/shm/squat; cat /dev/shm/squat
      """)
    try #require(r.status == 0, "\(r.stderr)")
    #expect(r.stdout == "status 1\nnobody 8\nplanted\n")
  }

  static let badCreates: [String] = [
    "shm create --size 12Q", "shm create --size 4K --mode 0999", "shm create --size 4K --mode 1777",
    "sem create --count=-1", "sem create --count 0", "shm create /a/b --size 1", "shm create --size 4K --key 0",
    "shm create", "shm create /x", "msg create --max-bytes 1K --message-size 5", "msg create /q --max-bytes 4K",
    "sem create --values 1,x", "sem create --values 1,0,40000", "sem create /s --count 2", "msg create --size 4K",
    "shm create --size 4K --key 0x1 --ftok /etc/passwd", "shm create --size 99999999999999999999",
    "sem create --value 1 --values 1,2", "shm create 12 --size 4K", "shm create /.. --size 1",
  ]

  @Test("bad input is a usage error and creates nothing", arguments: badCreates)
  func badCreate(arguments: String) throws {
    let r = Harness.inNamespace(Self.posixMounts + """
      $S \(arguments) || echo "status $?"
      cat /proc/sysvipc/msg /proc/sysvipc/shm /proc/sysvipc/sem | grep -vc key || true
      find /dev/shm /dev/mqueue -mindepth 1 | wc -l
      """)
    #expect(r.stdout == "status 64\n0\n0\n", "\(arguments): \(r.stdout) \(r.stderr)")
    #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.hasPrefix("swipc: "))
  }

  @Test("rm removes the right type when ids collide, and goes on after a failure")
  func remove() throws {
    let r = Harness.inNamespace(Self.posixMounts + """
      $H shm-create 0x10 4096 0600 >/dev/null; $H sem-create 0x10 1 0600 >/dev/null; $H msg-create 0x10 0600 >/dev/null
      $S rm shm 0; echo =====
      $S ls --format json -o ID; echo =====
      $S rm sem 0 12345 || echo "status $?"; echo =====
      $S rm msg --key 0x10; echo =====
      $S rm msg 0 || echo "status $?"; echo =====
      $S rm pshm /nope || echo "status $?"; echo =====
      $S rm msg 1 abc || echo "status $?"; echo =====
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    #expect(p[0] == "removed shm 0\n")
    let left = try #require(Harness.json(p[1]) as? [[String: Any]])
    #expect(left.map { $0["type"] as? String } == ["msg", "sem"])
    #expect(p[2] == "removed sem 0\nstatus 1\n")
    #expect(p[3] == "removed msg 0\n")
    #expect(p[4] == "status 66\n" && p[5] == "status 66\n" && p[6] == "status 64\n")
  }

  @Test("chmod and chown change the object, verified in /proc and stat; a non-owner gets 77")
  func permissions() throws {
    let r = Harness.inNamespace(Self.posixMounts + Self.nobody + """
      id=$($S shm create --size 4K --key 0x42)
      $S sem create /lock >/dev/null
      $S chmod shm $id 644; $S chown shm --key 0x42 65534:65534
      $S chmod psem /lock 640; $S chown psem /lock nobody
      awk 'NR>1 {print $3, $8, $9, $10}' /proc/sysvipc/shm; echo =====
      stat -c '%a %U' /dev/shm/sem.lock; echo =====
      other=$($S msg create --key 0x43)
      nobody $S chmod msg $other 666 || echo "status $?"; echo =====
      nobody $S chown msg $other nobody || echo "status $?"; echo =====
      awk 'NR>1 {print $3, $8}' /proc/sysvipc/msg; echo =====
      nobody $S chmod psem /lock 600 && echo "owner may"; echo =====
      $S chmod shm 99 600 || echo "status $?"; echo =====
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    #expect(p[0] == "644 65534 65534 0\n", "perms, uid, gid changed; creator kept")
    #expect(p[1] == "640 nobody\n")
    #expect(p[2] == "status 77\n" && p[3] == "status 77\n")
    #expect(p[4] == "600 0\n", "unchanged")
    #expect(p[5] == "owner may\n" && p[6] == "status 66\n")
  }

  /// Objects of root and of nobody, orphaned and not: the queues' senders have exited.
  static let population = Self.nobody + """
    r1=$($H msg-create 0x100 0600); $H msg-send $r1 1 x            # root's, orphaned
    r2=$($H msg-create 0x101 0600)                                 # root's, never used: unknown
    n1=$(nobody $H msg-create 0x200 0600); nobody $H msg-send $n1 1 x   # nobody's, orphaned
    n2=$(nobody $H msg-create 0x201 0600)                          # nobody's, unknown
    seg=$(nobody $H shm-create 0x202 4096 0600)
    exec 3< <(sleep 60 | nobody $H shm-hold $seg); read -r ready <&3   # nobody's, attached
    keys() { awk 'FNR>1 {printf "%x ", $1}' /proc/sysvipc/msg /proc/sysvipc/shm; echo; }

    """

  @Test("clean --orphaned as nobody removes exactly nobody's orphans; root's only when asked, and then refused")
  func cleanAsNobody() throws {
    let r = Harness.inNamespace(Self.population + """
      nobody $S clean --orphaned --min-age 0s --ignore-hidden --dry-run --format json; echo =====
      keys; echo =====
      nobody $S clean --orphaned --min-age 0s --ignore-hidden --yes --format json; st=$?; echo =====; echo "status $st"; echo =====
      keys; echo =====
      nobody $S clean msg --orphaned --min-age 0s --ignore-hidden --all-users --yes || echo "status $?"; echo =====
      keys; echo =====
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    let dry = try #require(Harness.json(p[0]) as? [[String: Any]])
    #expect(dry.map { $0["key"] as? String } == ["0x00000200"] && dry.first?["result"] as? String == "would remove")
    #expect(p[1] == "100 101 200 201 202 \n", "--dry-run removes nothing")
    let done = try #require(Harness.json(p[2]) as? [[String: Any]])
    #expect(done.map { $0["result"] as? String } == ["removed"])
    #expect(done.map { $0["key"] as? String } == ["0x00000200"])
    #expect(p[3] == "status 0\n")
    #expect(p[4] == "100 101 201 202 \n")
    #expect(p[5].contains("failed") && p[5].contains("0x00000100") && p[5].contains("permission denied"))
    #expect(p[5].hasSuffix("status 1\n"))
    #expect(p[6] == "100 101 201 202 \n", "root's queue is still there")
  }

  @Test("root's clean touches root's objects only, unless --owner names another user")
  func cleanAsRoot() throws {
    let r = Harness.inNamespace(Self.population + """
      $S clean --orphaned --min-age 0s --ignore-hidden --yes >/dev/null; keys; echo =====
      $S clean --orphaned --min-age 0s --ignore-hidden --owner nobody --yes >/dev/null; keys; echo =====
      $S clean msg --all --yes >/dev/null; keys; echo =====
      $S clean msg --all --all-users --yes >/dev/null; keys; echo =====
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    #expect(p[0] == "101 200 201 202 \n")
    #expect(p[1] == "101 201 202 \n")
    #expect(p[2] == "201 202 \n")
    #expect(p[3] == "202 \n", "the attached segment is not a queue")
  }

  @Test("on a terminal, clean shows the list and asks; only yes removes")
  func cleanAsks() throws {
    let r = Harness.inNamespace("""
      $H msg-create 0x500 0600 >/dev/null
      st=0; printf 'n\\n' | script -qec "$S clean msg --all" /dev/null || st=$?; echo "status $st"; echo =====
      awk 'FNR>1 {printf "%x\\n", $1}' /proc/sysvipc/msg; echo =====
      st=0; printf 'y\\n' | script -qec "$S clean msg --all" /dev/null || st=$?; echo "status $st"; echo =====
      awk 'FNR>1 {printf "%x\\n", $1}' /proc/sysvipc/msg; echo =====
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    #expect(p[0].contains("Remove this object? [y/N]") && p[0].contains("nothing removed") && p[0].hasSuffix("status 1\n"))
    #expect(p[1] == "500\n")
    #expect(p[2].contains("removed msg") && p[2].hasSuffix("status 0\n"))
    #expect(p[3] == "")
  }
}
