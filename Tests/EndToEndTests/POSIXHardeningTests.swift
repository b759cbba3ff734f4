import Foundation
import Testing

/// POSIX shared memory and semaphores as another local user attacks them: names swapped between
/// a check and a use, symlinks and FIFOs under an object's name, files of the wrong size, objects
/// truncated while read, closed standard descriptors, names with escapes and invalid UTF-8, and a
/// shm directory other than /dev/shm. Each runs in private namespaces with a /dev/shm tmpfs of its
/// own (mode 1777, as on a real system, so that `nobody` can plant files there).
@Suite("POSIX objects under attack: one way to reach a file, names as bytes", .enabled(if: Harness.canUnshareAll, "needs unshare --ipc --mount --pid (root)"))
struct POSIXHardeningTests {
  static let setup = """
    mount -t tmpfs -o mode=1777 none /dev/shm
    mount -t tmpfs none /mnt
    N="setpriv --reuid=65534 --regid=65534 --clear-groups"
    T="python3 \(Harness.packageRoot)/Tests/Helpers/pausetrace.py"

    """

  @Test("chmod and chown change the file they opened and checked, never a symlink swapped in after the check (pshm, psem)")
  func permissionChangesSurviveSwap() throws {
    let r = Harness.inNamespace(Self.setup + """
      echo secret > /mnt/secret; chmod 600 /mnt/secret
      set +e
      for entry in obj sem.obj; do
        kind=pshm; [ $entry = obj ] || kind=psem
        plant="rm -f /dev/shm/$entry; umask 077; head -c 32 /dev/zero > /dev/shm/$entry; ln -sf /mnt/secret /dev/shm/.evil"
        # The attacker renames a symlink to root's file over the name once swipc has looked it up;
        # descriptor 5 keeps the file that was there, to see what became of it.
        $N bash -c "$plant"; exec 5</dev/shm/$entry
        $T $entry -- $N mv -fT /dev/shm/.evil /dev/shm/$entry -- $S chmod $kind /obj 0666 2>/dev/null; echo "chmod $kind $?"
        echo "secret $(stat -c '%a %u' /mnt/secret) checked-file $(stat -L -c '%a %u' /dev/fd/5)"
        $N bash -c "$plant"; exec 5</dev/shm/$entry
        $T $entry -- $N mv -fT /dev/shm/.evil /dev/shm/$entry -- $S chown $kind /obj 1:1 2>/dev/null; echo "chown $kind $?"
        echo "secret $(stat -c '%a %u:%g' /mnt/secret) checked-file $(stat -L -c '%u:%g' /dev/fd/5)"
        exec 5<&-
        # A symlink already there when swipc starts is refused, not followed.
        $N bash -c "rm -f /dev/shm/$entry; ln -s /mnt/secret /dev/shm/$entry"
        $S chmod $kind /obj 0666 2>/mnt/err; echo "symlink $?"
        grep -c 'symbolic link' /mnt/err
        echo "secret $(stat -c '%a %u' /mnt/secret)"
        rm -f /dev/shm/$entry /dev/shm/.evil
        # A hard link to root's file (where protected_hardlinks does not forbid it) is refused.
        ln /mnt/secret /mnt/$entry
        SWIPC_SHM_DIR=/mnt $S chmod $kind /obj 0666 2>/mnt/err; echo "hardlink $? $(grep -c 'hard link' /mnt/err)"
        echo "secret $(stat -c '%a %u' /mnt/secret)"; rm /mnt/$entry
      done
      echo =====
      set -e
      # The mqueue mount: a queue's file is changed through its descriptor too.
      mkdir -p /dev/mqueue && mount -t mqueue none /dev/mqueue
      $S msg create /q --mode 0600 >/dev/null; $S chmod pmsg /q 0640; $S chown pmsg /q 1:1
      stat -c '%a %u:%g' /dev/mqueue/q; $S rm pmsg /q >/dev/null
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    for kind in ["pshm", "psem"] {
      #expect(p[0].contains("chmod \(kind) 0\nsecret 600 0 checked-file 666 65534\n"), "\(p[0])")
      #expect(p[0].contains("chown \(kind) 0\nsecret 600 0:0 checked-file 1:1\n"), "\(p[0])")
    }
    #expect(p[0].components(separatedBy: "symlink 1\n1\nsecret 600 0\n").count == 3, "\(p[0])")
    #expect(p[0].components(separatedBy: "hardlink 1 1\nsecret 600 0\n").count == 3, "\(p[0])")
    #expect(p[1] == "640 1:1\n", "\(p[1])")
  }

  @Test("SWIPC_SHM_DIR is the only directory every POSIX shm and semaphore command touches")
  func shmDirectoryEverywhere() throws {
    let r = Harness.inNamespace(Self.setup + """
      c=/mnt/ctr; mkdir $c; chmod 1777 $c
      $S shm create /app --size 64 >/dev/null; $S shm write /app host-data
      $S sem create /s --value 5 >/dev/null
      cp /dev/shm/app $c/app; cp /dev/shm/sem.s $c/sem.s
      $S shm write /app HOST; $S sem init /s 7
      export SWIPC_SHM_DIR=$c
      $S shm write /app CTR
      $S shm dump /app --length 9 --format raw; echo
      $S shm attach /app -- true 2>/dev/null
      $S sem post /s; $S sem wait /s --by 2; $S sem get /s
      $S sem init /s 3; $S sem run /s -- true; $S sem get /s
      $S ls pshm psem -o name,size,value --format csv --no-headings
      $S show pshm /app | grep -c '^size: *64B'
      $S chmod pshm /app 0604; $S chown psem /s 2:2
      stat -c '%a %u:%g %n' $c/app $c/sem.s /dev/shm/app /dev/shm/sem.s
      $S rm psem /s >/dev/null; $S clean pshm --all --yes >/dev/null
      ls $c; echo =====
      unset SWIPC_SHM_DIR
      $S shm dump /app --length 9 --format raw; echo; $S sem get /s; ls /dev/shm
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    #expect(p[0] == """
      CTRt-data
      4
      3
      pshm,/app,64,
      psem,/s,,3
      1
      604 0:0 /mnt/ctr/app
      600 2:2 /mnt/ctr/sem.s
      600 0:0 /dev/shm/app
      600 0:0 /dev/shm/sem.s

      """, "\(p[0])")
    #expect(p[1] == "HOST-data\n7\napp\nsem.s\n", "\(p[1])")
  }

  @Test("a closed stdin, stdout or stderr at start is opened on /dev/null, never given to an object", arguments: [0, 1, 2])
  func closedStandardDescriptor(fd: Int) throws {
    let r = Harness.inNamespace(Self.setup + """
      $S shm create /p --size 256 >/dev/null
      # What swipc (the command's parent, holding the object) has as descriptor \(fd).
      $S shm attach /p -- sh -c 'x=$(readlink /proc/$PPID/fd/\(fd) || echo closed); echo "$x" > /mnt/seen' \(fd)>&-
      cat /mnt/seen
      od -An -c /dev/shm/p | tr -s ' \\n' ' '; echo
      """)
    try #require(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.hasPrefix("/dev/null\n"), "\(r.stdout)")
    #expect(r.stdout.hasSuffix(" \\0 * \n"), "the segment was written to: \(r.stdout)")
  }

  @Test("a semaphore file of the wrong size is an error, not SIGBUS")
  func semaphoreOfWrongSize() throws {
    let r = Harness.inNamespace(Self.setup + """
      set +e
      : > /dev/shm/sem.empty; head -c 4 /dev/zero > /dev/shm/sem.short
      $S sem get /empty; echo "get $?"
      $S sem post /short; echo "post $?"
      $S sem wait /empty --nowait; echo "wait $?"
      $S ls psem -o name,value --format csv --no-headings; echo "ls $?"
      """)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout == "get 1\npost 1\nwait 1\npsem,/empty,\npsem,/short,\nls 0\n", "\(r.stdout)")
    #expect(r.stderrLines.count == 3)
    #expect(r.stderrLines.first?.contains("/empty: its file holds 0 bytes, not the 32 of a semaphore") == true, "\(r.stderr)")
  }

  @Test("shm dump of an object truncated after its size was taken ends with an error, not SIGBUS")
  func dumpOfTruncatedObject() throws {
    let r = Harness.inNamespace(Self.setup + """
      set +e
      for format in base64 hex raw; do
        $S shm create /x --size 1M >/dev/null; $S shm write /x data
        # Paused just after swipc's fstat of the object: the owner truncates it there.
        $T x --then fstat -- truncate -s 0 /dev/shm/x -- $S shm dump /x --format $format >/dev/null 2>/mnt/err
        echo "$format $?"; grep -c 'ended early.*truncated it' /mnt/err; $S rm pshm /x >/dev/null
      done
      """)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout == "base64 1\n1\nhex 1\n1\nraw 1\n1\n", "\(r.stdout)")
    #expect(r.stderrLines.allSatisfy { $0 == "pausetrace: acted" }, "\(r.stderr)")
  }

  @Test("shm dump's memory does not grow with the segment: a 4 MiB segment dumps as hex and base64 under a tight ulimit -v")
  func dumpUnderAddressSpaceLimit() throws {
    let r = Harness.inNamespace(Self.setup + """
      id=$($S shm create --size 4M)
      # The least address space swipc needs to start and list (searched, 256 KiB steps).
      lo=10000; hi=4000000
      while [ $((hi - lo)) -gt 256 ]; do
        mid=$(((lo + hi) / 2)); if (ulimit -v $mid; $S ls shm >/dev/null 2>&1); then hi=$mid; else lo=$mid; fi
      done
      # That, the 4 MiB mapping of the segment, and 3 MiB for everything else.
      limit=$((hi + 4096 + 3072))
      set +e
      (ulimit -v $limit; $S shm dump $id --format hex) > /mnt/hex; echo "hex $?"
      (ulimit -v $limit; $S shm dump $id --format base64) > /mnt/b64; echo "base64 $?"
      set -e
      tail -2 /mnt/hex; base64 -d /mnt/b64 | cmp - <(head -c 4194304 /dev/zero) && echo same
      $S rm shm $id >/dev/null
      """)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout == "hex 0\nbase64 0\n*\n00400000\nsame\n", "\(r.stdout) \(r.stderr)")
  }

  @Test("names that are not UTF-8 are listed, filtered and told apart; JSON adds name_base64")
  func namesAreBytes() throws {
    let r = Harness.inNamespace(Self.setup + """
      printf a > /dev/shm/$'x\\377'; chmod 666 /dev/shm/$'x\\377'
      printf bb > /dev/shm/$'x\\376'
      $S ls pshm -o name,perms,size --bytes --no-headings; echo =====
      $S ls pshm --world-writable -o name --no-headings; echo =====
      $S ls pshm --name 'x*' -o name,size --format json; echo =====
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    #expect(p[0] == "/x\\376 rw-r--r-- 2\n/x\\377 rw-rw-rw- 1\n", "\(p[0])")
    #expect(p[1] == "/x\\377\n", "\(p[1])")
    let json = try #require(Harness.json(p[2]) as? [[String: Any]], "\(p[2])")
    #expect(json.count == 2)
    #expect(json.map { $0["name_base64"] as? String } == ["L3j+", "L3j/"])
    #expect(json.map { $0["size"] as? Int } == [2, 1])
    #expect(json.allSatisfy { ($0["name"] as? String)?.hasPrefix("/x") == true })
  }

  @Test("tables never print raw control characters: names and holders' command lines are escaped as ls -b does")
  func tablesEscapeHostileText() throws {
    let r = Harness.inNamespace(Self.setup + """
      name=$'e\\033[2Jn\\nl\\\\\\377'
      printf abc > "/dev/shm/$name"
      printf xyz > /dev/shm/held
      (exec -a $'evil\\033[2J\\nrow' sleep 100) 3</dev/shm/held &
      sleep 0.1
      $S ls pshm -o name,size --bytes; echo =====
      $S show pshm /held; echo =====
      $S clean pshm --name 'e*' --dry-run; echo =====
      $S ls pshm -o name --format json --no-headings; echo =====
      $S ls pshm -o name --format csv --no-headings; echo =====
      kill $!
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    for table in p.prefix(3) {
      #expect(!table.contains("\u{1b}"), "raw ESC in: \(table)")
    }
    #expect(p[0] == "NAME                SIZE\n/e\\033[2Jn\\nl\\\\\\377    3\n/held                  3\n", "\(p[0])")
    #expect(p[1].contains("evil\\033[2J\\nrow 100"), "\(p[1])")
    #expect(p[2].contains("/e\\033[2Jn\\nl\\\\\\377"), "\(p[2])")
    // JSON and CSV keep the text exact (JSON with the invalid byte replaced, plus name_base64).
    #expect(p[3].contains("\"name\":\"/e\\u001b[2Jn\\nl\\\\\u{FFFD}\",\"name_base64\":\"L2UbWzJKbgpsXP8=\""), "\(p[3])")
    #expect(p[4].contains("pshm,\"/e\u{1b}[2Jn\nl\\\u{FFFD}\""), "\(p[4])")
  }

  @Test("(uid_t)-1 and (gid_t)-1 are refused as usage errors; a FIFO under an object's name is an error, not a hang")
  func smallerHoles() throws {
    let r = Harness.inNamespace(Self.setup + """
      set +e
      $S chown shm 0 4294967295; echo "uid $?"
      $S chown pshm /x :4294967295; echo "gid $?"
      $N mkfifo /dev/shm/fifo
      timeout -s KILL 10 $S shm dump /fifo --format hex; echo "dump $?"
      timeout -s KILL 10 $S shm write /fifo data; echo "write $?"
      """)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout == "uid 64\ngid 64\ndump 1\nwrite 1\n", "\(r.stdout)")
    #expect(r.stderrLines.count == 4, "\(r.stderr)")
    #expect(r.stderrLines.first?.contains("4294967295") == true, "\(r.stderr)")
    #expect(r.stderrLines.last?.contains("/fifo: it is a FIFO, not a regular file") == true, "\(r.stderr)")
  }
}
