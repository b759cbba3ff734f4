import Foundation
import Testing

/// The holder scan as a hostile process sees it: files held where no /proc/PID/fd entry of the
/// process shows them. Each holder is a small C program built in the test, which says "ready"
/// once it holds what it holds; nothing waits on time.
@Suite("holders hidden from /proc/PID/fd are found or make the answer unknown", .enabled(if: Harness.canUnshareAll, "needs unshare --ipc --mount --pid"))
struct HolderAttackTests {
  /// Builds `$d/NAME` from C source on stdin into a fresh directory `$d`, removed on exit with
  /// every process in `$pids` (killed: the harness blocks SIGTERM).
  static func program(_ name: String, _ source: String) -> String {
    """
    d=$(mktemp -d); pids=""; trap 'kill -KILL $pids 2>/dev/null; rm -rf $d' EXIT
    cc -O2 -pthread -o $d/\(name) -x c - <<'SOURCE'
    \(source)
    SOURCE
    ready() { while ! grep -q ready $1; do sleep 0.01; done; }  # FILE: the holder's output

    """
  }

  static let mounts = "mkdir -p /dev/mqueue; mount -t mqueue none /dev/mqueue; mount -t tmpfs tmpfs /dev/shm\n"

  /// Opens argv[1] read-write, registers it with a new io_uring instance and closes it: the
  /// instance alone holds the file.
  static let ringHolder = #"""
    #include <fcntl.h>
    #include <linux/io_uring.h>
    #include <stdio.h>
    #include <string.h>
    #include <sys/syscall.h>
    #include <unistd.h>
    int main(int argc, char **argv) {
      (void)argc;
      int fd = open(argv[1], O_RDWR);
      struct io_uring_params p;
      memset(&p, 0, sizeof p);
      int ring = syscall(SYS_io_uring_setup, 4, &p);
      if (fd < 0 || ring < 0 || syscall(SYS_io_uring_register, ring, IORING_REGISTER_FILES, &fd, 1) < 0) {
        perror("io_uring");
        return 1;
      }
      close(fd);
      printf("ready\n");
      fflush(stdout);
      for (;;) pause();
    }
    """#

  @Test("a file held only as an io_uring registered file is not orphaned, even with --ignore-hidden")
  func ioUringRegisteredFile() throws {
    // The container case --ignore-hidden is for: every process is visible, and one holds the
    // queue and the shared memory object through io_uring only (no descriptor, no mapping).
    let r = Harness.inNamespace(
      Self.mounts + Self.program("ring", Self.ringHolder) + """
        $S msg create /held >/dev/null; echo data > /dev/shm/blob
        $d/ring /dev/mqueue/held > $d/q & pids="$pids $!"
        $d/ring /dev/shm/blob > $d/m & pids="$pids $!"
        ready $d/q; ready $d/m
        for p in $pids; do ls -l /proc/$p/fd | grep -c -e /dev/mqueue -e /dev/shm || true; done; echo =====
        $S ls pmsg pshm -o NAME,HOLDERS --no-headings | grep / | tr -s ' '; echo =====
        $S show pshm /blob 2>&1 | grep -c '^note: 2 processes may hold files that /proc does not identify' || true; echo =====
        $S clean pmsg pshm --orphaned --ignore-hidden --min-age 0s --yes --format json; echo =====
        ls /dev/mqueue /dev/shm
        """)
    try #require(r.status == 0, "\(r.stderr)")
    var p = Harness.sections(r.stdout)
    try #require(p.count == 5, "\(r.stdout)")
    #expect(p.remove(at: 2) == "1\n", "show says why no holder is shown")
    try #require(p[0] == "0\n0\n", "the premise, no descriptor shows the files: \(p[0])")
    #expect(p[1] == "/held -\n/blob -\n", "holders are unknown, not none: \(p[1])")
    let report = try #require(Harness.json(p[2]) as? [[String: Any]], "\(p[2])")
    #expect(report.count == 2 && report.allSatisfy { $0["result"] as? String == "skipped" }, "\(p[2])")
    #expect(report.allSatisfy { ($0["reason"] as? String)?.contains("io_uring") == true }, "\(p[2])")
    #expect(p[3] == "/dev/mqueue:\nheld\n\n/dev/shm:\nblob\n", "kept: \(p[3])")
  }

  /// Maps argv[1] read-only and closes it, then makes its maps text longer than 64 MiB, all of it
  /// before the mapping (at lower addresses): 20000 one-page mappings of a file whose path, made
  /// under argv[2], is about 4000 bytes long.
  static let longMaps = #"""
    #include <fcntl.h>
    #include <stdio.h>
    #include <string.h>
    #include <sys/mman.h>
    #include <sys/stat.h>
    #include <unistd.h>
    int main(int argc, char **argv) {
      (void)argc;
      int fd = open(argv[1], O_RDONLY);
      char *target = fd < 0 ? MAP_FAILED : mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
      if (target == MAP_FAILED) { perror("target"); return 1; }
      close(fd);
      char path[4096];
      strcpy(path, argv[2]);
      for (int i = 0; i < 19; i++) {
        size_t n = strlen(path);
        path[n] = '/';
        memset(path + n + 1, 'd', 200);
        path[n + 201] = 0;
        if (mkdir(path, 0700) < 0) { perror("mkdir"); return 1; }
      }
      strcat(path, "/f");
      int pad = open(path, O_RDWR | O_CREAT, 0600);
      if (pad < 0 || ftruncate(pad, 4096) < 0) { perror("pad"); return 1; }
      enum { N = 20000 };
      /* Every other page, so that no two mappings merge into one line. */
      char *area = mmap(NULL, 2UL * N * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (area == MAP_FAILED || area > target) { perror("area"); return 1; }
      for (long i = 0; i < N; i++)
        if (mmap(area + 2 * i * 4096, 4096, PROT_READ, MAP_SHARED | MAP_FIXED, pad, 0) == MAP_FAILED) { perror("mmap"); return 1; }
      close(pad);
      printf("ready\n");
      fflush(stdout);
      for (;;) pause();
    }
    """#

  @Test("a mapping pushed past the first 64 MiB of a process's maps makes the object unknown, not orphaned")
  func mappingPastWhatIsRead() throws {
    // Any user can do this: the holder runs as nobody.
    let r = Harness.inNamespace(
      Self.mounts + Self.program("long", Self.longMaps) + """
        chmod 711 $d; mkdir $d/n; chown 65534 $d/n
        truncate -s 4096 /dev/shm/blob; chmod 644 /dev/shm/blob
        setpriv --reuid=65534 --regid=65534 --clear-groups $d/long /dev/shm/blob $d/n > $d/out & pids="$pids $!"
        ready $d/out
        echo "$(( $(wc -c < /proc/$!/maps) > 64 << 20 )) $(grep -c /dev/shm/blob /proc/$!/maps)"; echo =====
        $S ls pshm -o NAME,HOLDERS --no-headings | tr -s ' '; echo =====
        $S clean pshm --orphaned --ignore-hidden --min-age 0s --yes --format json; echo =====
        ls /dev/shm
        """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    try #require(p.count == 4, "\(r.stdout)")
    try #require(p[0] == "1 1\n", "the premise, maps over 64 MiB that show the mapping: \(p[0])")
    #expect(p[1] == "/blob -\n", "holders are unknown, not none: \(p[1])")
    let report = try #require(Harness.json(p[2]) as? [[String: Any]], "\(p[2])")
    #expect(report.count == 1 && report.first?["result"] as? String == "skipped", "\(p[2])")
    #expect(p[3] == "blob\n", "kept: \(p[3])")
  }

  /// Holds argv[1] open; on SIGUSR1 forks a child that keeps holding it, prints its pid, exits.
  static let forkHolder = #"""
    #include <fcntl.h>
    #include <signal.h>
    #include <stdio.h>
    #include <unistd.h>
    static volatile sig_atomic_t go;
    static void on(int s) { (void)s; go = 1; }
    int main(int argc, char **argv) {
      (void)argc;
      if (open(argv[1], O_RDONLY) < 0) { perror("open"); return 1; }
      signal(SIGUSR1, on);
      sigset_t set;  /* the harness starts processes with signals blocked */
      sigemptyset(&set);
      sigaddset(&set, SIGUSR1);
      sigprocmask(SIG_UNBLOCK, &set, NULL);
      printf("ready\n");
      fflush(stdout);
      while (!go) pause();
      pid_t child = fork();
      if (child == 0) for (;;) pause();
      printf("child %d\n", child);
      return 0;
    }
    """#

  @Test("a holder that forks and exits while clean scans /proc does not hide the queue in its child")
  func holderForksDuringScan() throws {
    // clean is stopped (strace injects SIGSTOP) as its orphan scan opens the descriptors of a
    // process listed before the holder; the holder then forks and exits, and clean goes on.
    let r = Harness.inNamespace(
      Self.mounts + Self.program("fork", Self.forkHolder) + """
        sleep 1000 & v=$!; pids="$pids $v"  # listed before the holder
        $S msg create /held >/dev/null
        $d/fork /dev/mqueue/held > $d/h & h=$!; pids="$pids $h"
        ready $d/h
        strace -f -o $d/trace -P /proc/$v/fd -e trace=openat -e inject=openat:signal=SIGSTOP:when=2 \
          $S clean pmsg --orphaned --ignore-hidden --min-age 0s --yes --format json > $d/out & s=$!
        for i in $(seq 2000); do grep -q "stopped by SIGSTOP" $d/trace && break; sleep 0.01; done
        grep -q "stopped by SIGSTOP" $d/trace || { echo "clean did not stop"; exit 1; }
        kill -USR1 $h; wait $h
        child=$(sed -n 's/^child //p' $d/h); pids="$pids $child"
        echo "$(( $child > $h )) $(ls -l /proc/$child/fd | grep -c /dev/mqueue/held)"; echo =====
        kill -CONT $(pgrep -P $s); wait $s
        cat $d/out; echo =====
        ls /dev/mqueue
        """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    try #require(p.count == 3, "\(r.stdout)")
    try #require(p[0] == "1 1\n", "the premise, a child after the holder in /proc holds the queue: \(p[0])")
    let report = try #require(Harness.json(p[1]) as? [[String: Any]], "\(p[1])")
    #expect(!report.contains { $0["result"] as? String == "removed" }, "\(p[1])")
    #expect(p[2] == "held\n", "kept: \(p[2])")
  }

  /// Holds a FIFO (argv[1]) open for reading in a second thread: with argv[2] "own" the thread
  /// opens it in a descriptor table of its own; else the main thread opens it and then exits,
  /// leaving the process's table to the second thread.
  static let threadHolder = #"""
    #define _GNU_SOURCE
    #include <fcntl.h>
    #include <pthread.h>
    #include <sched.h>
    #include <stdio.h>
    #include <string.h>
    #include <sys/syscall.h>
    #include <unistd.h>
    static const char *path;
    static int own;
    static void *sit(void *unused) {
      (void)unused;
      if (own && (unshare(CLONE_FILES) < 0 || open(path, O_RDONLY | O_NONBLOCK) < 0)) perror("open");
      printf("ready\n");
      fflush(stdout);
      for (;;) pause();
    }
    int main(int argc, char **argv) {
      (void)argc;
      path = argv[1];
      own = !strcmp(argv[2], "own");
      if (!own && open(path, O_RDONLY | O_NONBLOCK) < 0) { perror("open"); return 1; }
      pthread_t t;
      pthread_create(&t, NULL, sit, NULL);
      if (!own) syscall(SYS_exit, 0);  /* the main thread alone */
      for (;;) pause();
    }
    """#

  @Test("ls pipe names a FIFO's reader that holds it in a thread: its own table, or after the main thread exited")
  func pipeHeldByThread() throws {
    let r = Harness.inNamespace(
      Self.program("holder", Self.threadHolder) + """
        mkfifo $d/own $d/left
        $d/holder $d/own own > $d/a & a=$!; pids="$pids $a"
        $d/holder $d/left leader-exits > $d/b & b=$!; pids="$pids $b"
        ready $d/a; ready $d/b
        grep -c "^State:.*zombie" /proc/$b/status; echo =====
        $S ls pipe --format json > $d/pipes
        for f in own left; do
          python3 -c 'import json, sys
        print(json.dumps([r["readers"] for r in json.load(open(sys.argv[1])) if r.get("path") == sys.argv[2]]))' $d/pipes $d/$f
        done
        echo "$a $b"
        """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    try #require(p.count == 2, "\(r.stdout)")
    try #require(p[0] == "1\n", "the premise, the main thread is a zombie: \(p[0])")
    let lines = p[1].split(separator: "\n").map(String.init)
    try #require(lines.count == 3, "\(p[1])")
    let pids = lines[2].split(separator: " ")
    #expect(lines[0] == #"[[{"pid": \#(pids[0]), "command": "holder"}]]"#, "own table: \(lines[0])")
    #expect(lines[1] == #"[[{"pid": \#(pids[1]), "command": "holder"}]]"#, "main thread exited: \(lines[1])")
  }
}
