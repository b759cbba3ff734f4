import Foundation
import Testing

/// `swipc ls --format json` against `lsipc --json --bytes` and /proc/sysvipc on the same objects,
/// in a private IPC namespace so that the set of objects is known.
@Suite("Agreement with lsipc and /proc/sysvipc", .enabled(if: Harness.canUnshareAll, "needs unshare --ipc --mount --pid (root)"))
struct LsipcAgreementTests {
  static let script = """
    q=$($H msg-create 0x80000001 0600); $H msg-send $q 3 hello; $H msg-send $q 1 worlds
    p=$($H msg-create 0 0644)
    setpriv --reuid=12345 --regid=12345 --clear-groups ipcmk -Q -p 0640 >/dev/null
    s=$($H shm-create 0x1234 65536 0640)
    d=$($H shm-create 0xfedcba98 4096 0600)
    exec 3< <(sleep 60 | $H shm-hold $d rm); read -r ready <&3
    m=$($H sem-create 0x77 3 0600); $H sem-set $m 1 5
    ipcmk -S 2 -p 0666 >/dev/null
    $S ls msg shm sem --format json; echo =====
    lsipc --json --bytes -q; echo =====
    lsipc --json --bytes -m; echo =====
    lsipc --json --bytes -s; echo =====
    cat /proc/sysvipc/msg; echo =====
    cat /proc/sysvipc/shm; echo =====
    cat /proc/sysvipc/sem; echo =====
    """

  static func symbolic(_ octal: String) -> String {
    let mode = Int(octal, radix: 8)!
    let letters = Array("rwxrwxrwx")
    return String((0..<9).map { mode & (0o400 >> $0) != 0 ? letters[$0] : "-" })
  }

  @Test("every System V object agrees field by field")
  func agreement() throws {
    let r = Harness.inNamespace(Self.script)
    try #require(r.status == 0, "script failed: \(r.stderr)")
    let parts = Harness.sections(r.stdout)
    try #require(parts.count >= 7)
    let ours = try #require(Harness.json(parts[0]) as? [[String: Any]])
    let lsipc = [
      "msg": (Harness.json(parts[1]) as? [String: Any])?["messages"] as? [[String: Any]] ?? [],
      "shm": (Harness.json(parts[2]) as? [String: Any])?["sharedmemory"] as? [[String: Any]] ?? [],
      "sem": (Harness.json(parts[3]) as? [String: Any])?["semaphores"] as? [[String: Any]] ?? [],
    ]
    #expect(ours.count == 7)
    #expect(lsipc.values.map(\.count).reduce(0, +) == 7)

    for theirs in lsipc.flatMap({ kind, rows in rows.map { (kind, $0) } }) {
      let (kind, row) = theirs
      let id = Int(row["id"] as! String)!
      let mine = try #require(ours.first { $0["type"] as? String == kind && $0["id"] as? Int == id }, "\(kind) \(id) missing")
      #expect(mine["key"] as? String == row["key"] as? String)
      #expect(Self.symbolic(mine["perms"] as! String) == row["perms"] as? String)
      let owner = (mine["owner"] as? String) ?? String(mine["uid"] as! Int)
      #expect(owner == row["owner"] as? String)
      switch kind {
      case "msg":
        #expect(String(mine["usedbytes"] as! Int) == row["usedbytes"] as? String)
        #expect(String(mine["msgs"] as! Int) == row["msgs"] as? String)
        #expect(String(mine["lspid"] as! Int) == row["lspid"] as? String)
        #expect(String(mine["lrpid"] as! Int) == row["lrpid"] as? String)
      case "shm":
        #expect(String(mine["size"] as! Int) == row["size"] as? String)
        #expect(String(mine["nattch"] as! Int) == row["nattch"] as? String)
        #expect(String(mine["cpid"] as! Int) == row["cpid"] as? String)
        #expect(String(mine["lpid"] as! Int) == row["lpid"] as? String)
        let status = (mine["status"] as! [String]).joined(separator: ",")
        #expect(status == ((row["status"] as? String) ?? ""))
      default:
        #expect(String(mine["nsems"] as! Int) == row["nsems"] as? String)
      }
    }

    // The special cases are all there.
    #expect(ours.contains { $0["key"] as? String == "0x80000001" && $0["msgs"] as? Int == 2 && $0["usedbytes"] as? Int == 11 })
    #expect(ours.contains { $0["type"] as? String == "msg" && $0["key"] as? String == "0x00000000" })
    #expect(ours.contains { $0["uid"] as? Int == 12345 && $0["owner"] is NSNull && $0["cuid"] as? Int == 12345 })
    #expect(ours.contains { ($0["status"] as? [String]) == ["dest"] && $0["nattch"] as? Int == 1 && $0["key"] as? String == "0x00000000" })

    // And against /proc/sysvipc, column by column.
    for (index, kind) in ["msg", "shm", "sem"].enumerated() {
      let lines = parts[4 + index].split(separator: "\n")
      let header = lines[0].split(separator: " ").map(String.init)
      for line in lines.dropFirst() {
        let fields = Dictionary(uniqueKeysWithValues: zip(header, line.split(separator: " ").map(String.init)))
        let id = Int(fields[kind == "msg" ? "msqid" : kind == "shm" ? "shmid" : "semid"]!)!
        let mine = try #require(ours.first { $0["type"] as? String == kind && $0["id"] as? Int == id })
        let key = UInt32(bitPattern: Int32(fields["key"]!)!)
        #expect(mine["key"] as? String == String(format: "0x%08x", key))
        let perms = Int(fields["perms"]!, radix: 8)!
        #expect(mine["perms"] as? String == String(format: "0%03o", perms & 0o777))
        for name in ["uid", "gid", "cuid", "cgid"] { #expect(mine[name] as? Int == Int(fields[name]!)) }
        let times = ["msg": [("stime", "send"), ("rtime", "recv"), ("ctime", "ctime")],
                     "shm": [("atime", "attach"), ("dtime", "detach"), ("ctime", "ctime")],
                     "sem": [("otime", "otime"), ("ctime", "ctime")]][kind]!
        for (column, key) in times {
          let seconds = Int(fields[column]!)!
          if seconds == 0 {
            #expect(mine[key] is NSNull, "\(kind) \(id) \(key) is never")
          } else {
            let expected = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
            #expect(mine[key] as? String == expected)
          }
        }
        switch kind {
        case "msg":
          #expect(mine["usedbytes"] as? Int == Int(fields["cbytes"]!) && mine["msgs"] as? Int == Int(fields["qnum"]!))
        case "shm":
          #expect(mine["size"] as? Int == Int(fields["size"]!) && mine["rss"] as? Int == Int(fields["rss"]!))
          #expect(((mine["status"] as? [String]) ?? []).contains("dest") == (perms & 0o1000 != 0))
        default:
          #expect(mine["nsems"] as? Int == Int(fields["nsems"]!))
        }
      }
    }
  }

  @Test("segments listed without rss and swap (SHM_STAT_ANY) agree with /proc/sysvipc/shm")
  func segmentSources() throws {
    let r = Harness.inNamespace(Self.script.components(separatedBy: "$S ls msg")[0] + """
      cols=KEY,ID,PERMS,OWNER,UID,GID,CUID,CGID,SIZE,NATTCH,STATUS,CTIME,ATTACH,DETACH,CPID,LPID
      $S ls shm --format json; echo =====
      $S ls shm --format json -o $cols; echo =====
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let parts = Harness.sections(r.stdout)
    let full = try #require(Harness.json(parts[0]) as? [[String: Any]])
    let fast = try #require(Harness.json(parts[1]) as? [[String: Any]])
    #expect(full.count == 2 && fast.count == 2)
    for (a, b) in zip(full, fast) {
      for (key, value) in b {
        #expect("\(a[key] ?? "missing")" == "\(value)", "\(key) differs")
      }
    }
    #expect(fast.contains { ($0["status"] as? [String]) == ["dest"] })
  }

  @Test("limits agree with lsipc -g")
  func limits() throws {
    let r = Harness.inNamespace("ipcmk -Q >/dev/null; ipcmk -S 4 >/dev/null; ipcmk -M 8192 >/dev/null; $S limits --format json; echo =====; lsipc -g --json --bytes")
    try #require(r.status == 0, "\(r.stderr)")
    let parts = Harness.sections(r.stdout)
    let ours = try #require(Harness.json(parts[0]) as? [[String: Any]])
    let theirs = try #require((Harness.json(parts[1]) as? [String: Any])?["ipclimits"] as? [[String: Any]])
    for row in theirs {
      let name = row["resource"] as! String
      let mine = try #require(ours.first { $0["resource"] as? String == name }, "\(name) missing")
      #expect((mine["limit"] as? NSNumber)?.stringValue == row["limit"] as? String, "\(name) limit")
      if let used = row["used"] as? String, used != "-" {
        #expect((mine["used"] as? NSNumber)?.stringValue == used, "\(name) used")
      }
    }
    #expect(ours.contains { $0["resource"] as? String == "MQ_MSG_MAX" })
  }

  @Test("kernel/sem set below zero in a namespace reads as ipcs -l reads it, with no use percentage")
  func negativeSemaphoreLimits() throws {
    let r = Harness.inNamespace("""
      echo "-5 -7 -1 32000" > /proc/sys/kernel/sem
      $S limits sem --format json; echo =====
      $S limits sem --format csv; echo =====
      $S limits sem --format prometheus | grep '^swipc_limit{' | grep -E 'SEMMSL|SEMMNS'; echo =====
      $S sem create --count 2 2>&1 && echo "made"; echo =====
      ipcs -ls
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    let rows = try #require(Harness.json(p[0]) as? [[String: Any]], "\(p[0])")
    func row(_ name: String) -> [String: Any]? { rows.first { $0["resource"] as? String == name } }
    #expect((row("SEMMSL")?["limit"] as? NSNumber)?.int64Value == -5)
    #expect((row("SEMMNS")?["limit"] as? NSNumber)?.int64Value == -7)
    #expect(row("SEMMNS")?["use_percent"] is NSNull, "no percentage of a negative limit")
    #expect((row("SEMOPM")?["limit"] as? NSNumber)?.int64Value == -1)
    #expect(p[1].contains("sem,SEMMSL,Max semaphores per semaphore set,-5,,,count,"), "\(p[1])")
    #expect(p[2].contains("resource=\"SEMMSL\",unit=\"count\"} -5"), "\(p[2])")
    #expect(p[3].contains("SEMMSL (-5, /proc/sys/kernel/sem)") && !p[3].contains("made"), "\(p[3])")
    #expect(p[4].contains("max semaphores per array = -5") && p[4].contains("max ops per semop call = -1"), "the reference: \(p[4])")
  }
}
