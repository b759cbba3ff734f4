import Foundation
import Testing

/// `shm create /NAME` and `sem create /NAME` make their files through the same directory
/// descriptor as every other command (`SWIPC_SHM_DIR` or /dev/shm), never through a symlink, and
/// never leave a half-made object: a semaphore is written whole before it gets its name, and a
/// segment that cannot be sized is removed again. Each runs in private namespaces with a /dev/shm
/// tmpfs of its own (mode 1777, so that `nobody` can plant files there).
@Suite("POSIX create: one directory, no symlinks, nothing half-made", .enabled(if: Harness.canUnshareAll, "needs unshare --ipc --mount --pid (root)"))
struct POSIXCreateTests {
  static let setup = """
    mount -t tmpfs -o mode=1777 none /dev/shm
    mkdir -p /mnt/ctr /mnt/root
    mount -t tmpfs -o size=64k none /mnt/ctr
    mount -t tmpfs none /mnt/root
    N="setpriv --reuid=65534 --regid=65534 --clear-groups"
    T="python3 \(Harness.packageRoot)/Tests/Helpers/pausetrace.py"

    """

  @Test("with SWIPC_SHM_DIR, create makes the objects there and nowhere else, and every other command finds them")
  func createHonoursShmDirectory() throws {
    let r = Harness.inNamespace(Self.setup + """
      export SWIPC_SHM_DIR=/mnt/ctr
      $S shm create /a --size 4K --mode 0640
      $S sem create /b --value 3
      echo "ctr: $(ls -A /mnt/ctr | tr '\\n' ' ')"
      echo "devshm: $(ls -A /dev/shm | tr '\\n' ' ')"
      stat -c '%n %a %s' /mnt/ctr/a /mnt/ctr/sem.b
      echo =====
      $S ls pshm psem -o name --format csv
      $S sem get /b
      printf hello | $S shm write /a
      $S shm dump /a --length 5 --format raw; echo
      echo =====
      $S rm pshm /a; $S rm psem /b
      echo "after rm: ctr=[$(ls -A /mnt/ctr)] devshm=[$(ls -A /dev/shm)]"
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    try #require(p.count == 3, "\(r.stdout)")
    #expect(p[0].contains("ctr: a sem.b \n"), "\(p[0])")
    #expect(p[0].contains("devshm: \n"), "\(p[0])")
    #expect(p[0].contains("/mnt/ctr/a 640 4096\n/mnt/ctr/sem.b 600 32\n"), "\(p[0])")
    #expect(p[1].contains("/a"), "\(p[1])")
    #expect(p[1].contains("/b"), "\(p[1])")
    #expect(p[1].hasSuffix("3\nhello\n"), "\(p[1])")
    #expect(p[2].contains("after rm: ctr=[] devshm=[]"), "\(p[2])")
  }

  @Test("a semaphore made by sem create in /dev/shm is glibc's: a sem_open peer posts to and waits on it")
  func createdSemaphoreInteroperatesWithSemOpen() throws {
    let r = Harness.inNamespace(Self.setup + """
      $S sem create /b --value 3 >/dev/null
      $H psem-get /b
      $H psem-post /b >/dev/null; $S sem get /b
      # A peer blocked in sem_wait is woken by swipc's post.
      $S sem init /b 0
      $H psem-wait /b > /mnt/root/waited & pid=$!
      # Posted only once the peer sleeps in futex(2), so the post is what wakes it.
      for _ in $(seq 400); do [ "$(cut -d' ' -f1 /proc/$pid/syscall 2>/dev/null)" = 202 ] && break; sleep 0.05; done
      echo "peer in syscall $(cut -d' ' -f1 /proc/$pid/syscall)"
      $S sem post /b
      wait $pid; cat /mnt/root/waited
      $S sem get /b
      $S rm psem /b >/dev/null
      """)
    try #require(r.status == 0, "\(r.stderr)")
    #expect(r.stdout == "3\n4\npeer in syscall 202\ndone\n0\n", "\(r.stdout)")
  }

  @Test("a symlink planted by another user under the name, or a hard link to root's file, is refused by create, and the file is untouched")
  func createRefusesPlantedSymlink() throws {
    let r = Harness.inNamespace(Self.setup + """
      head -c 32 /dev/zero > /mnt/root/secret; chmod 600 /mnt/root/secret
      before=$(md5sum < /mnt/root/secret)
      $N ln -s /mnt/root/secret /dev/shm/x
      $N ln -s /mnt/root/secret /dev/shm/sem.x
      set +e
      for args in "shm create /x --size 4K" "shm create /x --size 4K --no-exclusive" "sem create /x --value 7" "sem create /x --value 7 --no-exclusive"; do
        $S $args 2>/mnt/root/err >/dev/null; echo "$args: $? $(cat /mnt/root/err)"
      done
      # A hard link to root's file (where protected_hardlinks does not forbid it) is not adopted.
      ln /mnt/root/secret /mnt/root/h; ln /mnt/root/secret /mnt/root/sem.h
      for args in "shm create /h --size 4K --no-exclusive" "sem create /h --value 7 --no-exclusive"; do
        SWIPC_SHM_DIR=/mnt/root $S $args 2>/mnt/root/err >/dev/null; echo "$args: $? $(cat /mnt/root/err)"
      done
      rm /mnt/root/h /mnt/root/sem.h
      set -e
      echo "secret $(stat -c '%a %u %s' /mnt/root/secret) $([ "$(md5sum < /mnt/root/secret)" = "$before" ] && echo same || echo CHANGED)"
      echo "links $(find /dev/shm -type l | sort | tr '\\n' ' ')"
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let lines = r.stdout.split(separator: "\n").map(String.init)
    try #require(lines.count == 8, "\(r.stdout)")
    #expect(lines[0].hasPrefix("shm create /x --size 4K: 1 swipc: shm_open /x: already exists"), "\(lines[0])")
    #expect(lines[1].hasPrefix("shm create /x --size 4K --no-exclusive: 1 ") && lines[1].contains("symbolic link, which is never followed"), "\(lines[1])")
    #expect(lines[2].hasPrefix("sem create /x --value 7: 1 swipc: sem_open /x: already exists"), "\(lines[2])")
    #expect(lines[3].hasPrefix("sem create /x --value 7 --no-exclusive: 1 ") && lines[3].contains("symbolic link, which is never followed"), "\(lines[3])")
    #expect(lines[4].hasPrefix("shm create /h --size 4K --no-exclusive: 1 ") && lines[4].contains("hard link"), "\(lines[4])")
    #expect(lines[5].hasPrefix("sem create /h --value 7 --no-exclusive: 1 ") && lines[5].contains("hard link"), "\(lines[5])")
    #expect(lines[6] == "secret 600 0 32 same", "\(lines[6])")
    #expect(lines[7] == "links /dev/shm/sem.x /dev/shm/x ", "\(lines[7])")
  }

  @Test("no half-made object is ever visible: a semaphore has no name until it is written; a segment that cannot be sized is removed")
  func nothingHalfMade() throws {
    let r = Harness.inNamespace(Self.setup + """
      export SWIPC_SHM_DIR=/mnt/ctr
      # Stopped right after opening its file (nothing written yet): no name is there to open.
      $T . -- "echo paused: names \\$(find /mnt/ctr /dev/shm -mindepth 1 | wc -l) unnamed-open \\$(ls -l /proc/[0-9]*/fd 2>/dev/null | grep -c '/mnt/ctr/#')" -- $S sem create /b --value 5 2>/mnt/root/trace
      grep -c 'pausetrace: acted' /mnt/root/trace
      stat -c '%n %s' /mnt/ctr/sem.b; $S sem get /b; $S rm psem /b >/dev/null
      echo =====
      # ftruncate refused (RLIMIT_FSIZE, SIGXFSZ ignored): the file just made is removed again.
      set +e
      (trap '' XFSZ; ulimit -f 64; $S shm create /big --size 1M) 2>/mnt/root/err; echo "status $?"
      set -e
      cat /mnt/root/err
      echo "left: ctr=[$(ls -A /mnt/ctr)] devshm=[$(ls -A /dev/shm)]"
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    try #require(p.count == 2, "\(r.stdout)")
    #expect(p[0].hasPrefix("paused: names 0 unnamed-open 1\n"), "\(p[0])")
    #expect(p[0].contains("\n1\n/mnt/ctr/sem.b 32\n5\n"), "\(p[0])")
    #expect(p[1].contains("status 1\n"), "\(p[1])")
    #expect(p[1].contains("swipc: ftruncate /big: size 1048576 is too large for /mnt/ctr (see 'df /mnt/ctr' and 'ulimit -f'); nothing was created\n"), "\(p[1])")
    #expect(p[1].contains("left: ctr=[] devshm=[]"), "\(p[1])")
  }

  static let hasStrace = Harness.run(["strace", "-V"]).status == 0

  @Test("where O_TMPFILE is refused, a semaphore is written under a random name of its own, linked into place, and the scratch name removed", .enabled(if: hasStrace, "needs strace to refuse O_TMPFILE"))
  func semaphoreWithoutTemporaryFiles() throws {
    let r = Harness.inNamespace(Self.setup + """
      # Which openat is the O_TMPFILE one, then the same run with that one refused.
      strace -f -o /mnt/root/trace -e trace=openat $S sem create /k --value 1 >/dev/null; $S rm psem /k >/dev/null
      K=$(grep -v resumed /mnt/root/trace | grep -n 'openat(' | grep O_TMPFILE | cut -d: -f1)
      strace -f -o /mnt/root/trace -e trace=openat -e inject=openat:error=EOPNOTSUPP:when=${K:-1} $S sem create /m --value 4
      echo "refused $(grep -c 'O_TMPFILE.*INJECTED' /mnt/root/trace)"
      echo "entries [$(ls -A /dev/shm | tr '\\n' ' ')]"
      $S sem get /m; $H psem-get /m
      $S rm psem /m >/dev/null
      """)
    try #require(r.status == 0, "\(r.stderr)")
    #expect(r.stdout == "/m\nrefused 1\nentries [sem.m ]\n4\n4\n", "\(r.stdout)")
  }
}
