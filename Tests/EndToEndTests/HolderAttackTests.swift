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
