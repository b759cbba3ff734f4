import Foundation
import Testing

/// Findings of a red-team pass over the one-pass clean and orphan detection: each test is an
/// attack that got through, made deterministic (a thread that holds a file while /proc/PID/fd
/// shows none, a /proc that is not this PID namespace's).
@Suite("attacks on clean and orphan detection", .enabled(if: Harness.canUnshareAll, "needs unshare --ipc --mount --pid"))
struct AttackFindingsTests {
  /// A C program that holds FILE open in a second thread while /proc/PID/fd (the thread-group
  /// leader's table) shows nothing: `zombie` opens it and lets the main thread exit
  /// (pthread_exit), `unshare` gives the second thread a descriptor table of its own
  /// (unshare(CLONE_FILES)) and opens it there. Prints "ready" once it holds the file.
  static let threadHolder = """
    hc=$(mktemp --suffix=.c); hb=$(mktemp); trap 'rm -f $hc $hb' EXIT
    cat > $hc <<'EOF'
    #define _GNU_SOURCE
    #include <fcntl.h>
    #include <pthread.h>
    #include <sched.h>
    #include <stdio.h>
    #include <string.h>
    #include <unistd.h>
    static const char *path; static int own;
    static void *worker(void *a) {
      (void)a;
      if (own && (unshare(CLONE_FILES) || open(path, O_RDWR) < 0)) { perror("worker"); return 0; }
      printf("ready\\n"); fflush(stdout);
      for (;;) pause();
    }
    int main(int c, char **v) {
      pthread_t t; path = v[2]; own = !strcmp(v[1], "unshare");
      if (!own && open(path, O_RDWR) < 0) { perror("open"); return 1; }
      pthread_create(&t, 0, worker, 0);
      if (!own) pthread_exit(0);
      for (;;) pause();
    }
    EOF
    cc -O2 -pthread -o $hb $hc

    """

  @Test("a POSIX object held only by a thread (the main thread has exited, or the thread has its own descriptor table) is not orphaned",
    arguments: ["zombie", "unshare"])
  func heldByThreadOnly(mode: String) throws {
    let r = Harness.inNamespace(Self.threadHolder + """
      mount -t tmpfs tmpfs /dev/shm
      : > /dev/shm/held
      w=$(mktemp); sleep 60 | $hb \(mode) /dev/shm/held > $w & hp=$!
      for i in $(seq 400); do grep -q ready $w && break; sleep 0.05; done
      grep -q ready $w || echo "holder not ready" >&2
      $S ls pshm -o NAME,ORPHAN --min-age 0s --ignore-hidden --no-headings || true; echo =====
      $S clean pshm --orphaned --min-age 0s --ignore-hidden --yes --format json; echo =====
      ls /dev/shm; echo =====
      """)
    try #require(r.status == 0, "\(r.stderr)")
    #expect(!r.stderr.contains("holder not ready"), "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    #expect(!p[1].contains("\"removed\""), "a live thread holds it: \(p[1])")
    #expect(p[2] == "held\n", "the held object survives: \(p[2])")
  }

  @Test("a SWIPC_PROC_DIR that is the proc of another PID namespace makes orphan states unknown, not orphaned")
  func procOfAnotherPIDNamespace() throws {
    // swipc runs in the initial PID namespace here, so that only the /proc it is given hides processes.
    let r = Harness.inNamespace("""
      mount -t tmpfs tmpfs /dev/shm
      pids=""; cproc=$(mktemp -d); w=$(mktemp)
      trap 'kill -KILL $pids 2>/dev/null || true; umount $cproc 2>/dev/null || true; rmdir $cproc; rm -f $w' EXIT
      # A queue that was used, whose sender and receiver are gone, with a reader now blocked on it.
      q=$($H msg-create 0 0600); $H msg-send $q 1 x; $S msg recv $q >/dev/null
      f=$(mktemp -u); mkfifo $f; exec 9<>$f  # the reader holds on until this script ends
      $H msg-wait-thread $q < $f 9>&- > $w 2>&1 & pids="$pids $!"
      for i in $(seq 400); do grep -q ready $w && break; sleep 0.05; done
      rm $f
      # A proc of a child PID namespace: a real procfs, without hidepid, that shows none of us.
      unshare --pid --fork --kill-child bash -c "mount -t proc proc $cproc; exec sleep 60" & pids="$pids $!"
      for i in $(seq 400); do [ -e $cproc/1 ] && break; sleep 0.05; done
      SWIPC_PROC_DIR=$cproc $S clean msg --orphaned --min-age 0s --yes --format json; echo =====
      awk 'NR>1 {print $2}' /proc/sysvipc/msg; echo =====
      """, namespaces: ["--ipc", "--mount", "--propagation", "private"])
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    #expect(!p[0].contains("\"removed\""), "a reader is blocked on it: \(p[0])")
    #expect(p[0].contains("unknown"), "the proc shows another PID namespace: \(p[0])")
    #expect(p[1] == "0\n", "the queue survives: \(p[1])")
  }

  @Test("a SWIPC_PROC_DIR that is no proc at all makes orphan states unknown, not orphaned")
  func procDirectoryNotProc() throws {
    let r = Harness.inNamespace("""
      mount -t tmpfs tmpfs /dev/shm
      d=$(mktemp -d); trap 'rmdir $d' EXIT
      : > /dev/shm/held; exec 7<>/dev/shm/held
      SWIPC_PROC_DIR=$d $S clean pshm --orphaned --min-age 0s --yes --format json; echo =====
      ls /dev/shm; echo =====
      """, namespaces: ["--ipc", "--mount", "--propagation", "private"])
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    #expect(!p[0].contains("\"removed\""), "this shell holds it: \(p[0])")
    #expect(p[1] == "held\n", "the held object survives: \(p[1])")
  }

  @Test("the table shows bidirectional overrides in a name escaped, not raw")
  func bidiOverrideEscaped() throws {
    let r = Harness.inNamespace("""
      mount -t tmpfs tmpfs /dev/shm
      : > "/dev/shm/$(printf 'a\\xe2\\x80\\xaeevil')"
      $S ls pshm -o NAME --no-headings; echo =====
      $S clean pshm --all --dry-run --no-headings; echo =====
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    #expect(!p[0].contains("\u{202E}"), "\(p[0])")
    #expect(!p[1].contains("\u{202E}"), "\(p[1])")
  }

  @Test("rm pmsg with SWIPC_MQUEUE_DIR removes the queue ls lists there, not the one of the same name in this namespace")
  func rmQueueThroughItsDirectory() throws {
    let r = Harness.inNamespace("""
      mkdir -p /dev/mqueue; mount -t mqueue none /dev/mqueue
      $H mq-create /q 4 64 > /dev/null; $H mq-send /q 0 ours
      # Another IPC namespace's queues, as a container's mqueue mount is seen from the host.
      m=$(mktemp -d); trap 'umount $m 2>/dev/null || true; rmdir $m' EXIT
      unshare --ipc bash -c "mount -t mqueue none $m; $H mq-create /q 4 64 > /dev/null"
      SWIPC_MQUEUE_DIR=$m $S ls pmsg -o NAME --no-headings; echo =====
      st=0; SWIPC_MQUEUE_DIR=$m $S rm pmsg /q || st=$?; echo "status $st"; echo =====
      ls /dev/mqueue; echo =====
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    #expect(p[0] == "/q\n", "\(p[0])")
    #expect(p[2] == "q\n", "this namespace's /q, which ls did not list, survives: \(p[2])")
  }

  @Test("warnings about lines of SWIPC_SYSVIPC_DIR that cannot be read show control characters escaped")
  func warningsEscapeFileContent() throws {
    let r = Harness.inNamespace("""
      v=$(mktemp -d); trap 'rm -r $v' EXIT
      printf '\\033]0;title\\a\\033[2J\\n' > $v/shm
      SWIPC_SYSVIPC_DIR=$v $S ls shm > /dev/null
      """)
    try #require(r.status == 0, "\(r.stderr)")
    #expect(r.stderr.contains("line 1"), "\(r.stderr)")
    #expect(!r.stderr.contains("\u{1B}") && !r.stderr.contains("\u{07}"), "\(r.stderr)")
  }
}
