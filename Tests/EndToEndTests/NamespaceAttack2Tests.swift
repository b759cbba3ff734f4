import Foundation
import Testing

/// --namespace attacked by a hostile local user, second round. Each test runs in private IPC,
/// mount and PID namespaces with their own /proc, /dev/shm and temporary directory; every process
/// a test starts dies with its PID namespace. Readiness is signalled through FIFOs, never by sleeping.
@Suite("Namespaces attacked, second round", .enabled(if: Harness.canUnshareAll, "needs unshare"))
struct NamespaceAttack2Tests {
  /// A user (nobody) puts a symbolic link in a directory of theirs, pointing at the `ns/ipc` of a
  /// container of root's. Root, asked to act in the namespace that path names (as it would for
  /// a bind mount the user keeps there), must not be sent into the container's namespace: the
  /// link is refused with exit 77, and nothing of the container is listed or removed. Proc's own
  /// links (/proc/PID/ns/ipc, /proc/self) and root's links are still followed.
  @Test("-N PATH never follows another user's symbolic link into a namespace that user chose")
  func symlinkOfAnotherUserIsNotFollowed() throws {
    let r = Harness.inNamespace(NamespaceAttackTests.setup + """
      f=$(ready)
      unshare --ipc sh -c 'ipcmk -Q >/dev/null; echo $$ > "$1"; exec sleep 1000' x $f &
      read -r -t 60 C < $f
      nobody mkdir -m 755 $TD/alice
      nobody ln -s /proc/$C/ns/ipc $TD/alice/ns
      nobody mkdir -m 755 $TD/alice/d; nobody ln -s /proc/$C/ns $TD/alice/d/up
      mkdir -m 700 $TD/root; ln -s /proc/$C/ns/ipc $TD/root/ns
      for p in $TD/alice/ns $TD/alice/d/up/ipc; do
        $S ls msg -N $p -o ID --no-headings 2>&1 && echo "exit 0" || echo "exit $?"; echo =====
      done
      $S clean msg -N $TD/alice/ns --all-users --yes 2>&1 && echo "exit 0" || echo "exit $?"; echo =====
      $S ls msg -N /proc/$C/ns/ipc -o ID --no-headings; echo =====
      $S ls msg -N $TD/root/ns -o ID --no-headings; echo =====
      $S ls msg -N /proc/self/ns/ipc -o ID --no-headings && echo "exit 0"; echo =====
      $S ls msg -N /dev/null 2>&1 && echo "exit 0" || echo "exit $?"
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    try #require(p.count == 7, "\(r.stdout)")
    for (i, what) in [(0, "a link of nobody's"), (1, "a link of nobody's on the way"), (2, "clean through a link of nobody's")] {
      #expect(p[i].hasSuffix("exit 77\n") && p[i].contains("symbolic link") && p[i].split(separator: "\n").count == 2,
        "\(what) was followed into root's container: \(p[i])")
    }
    // Nothing was removed: the container's queue is still there, named by its process.
    #expect(p[3].trimmingCharacters(in: .whitespacesAndNewlines) == "0", "the container's queue is gone: \(p[3])")
    #expect(p[4].trimmingCharacters(in: .whitespacesAndNewlines) == "0", "root's own link is refused: \(p[4])")
    #expect(p[5] == "exit 0\n", "/proc/self/ns/ipc is refused: \(p[5])")
    #expect(p[6].hasSuffix("exit 64\n") && p[6].contains("not an IPC namespace file"), "\(p[6])")
  }

  /// A container's name with a newline (a machine's cgroup `machine-a\x0ab.scope`, which systemd's
  /// escaping decodes) shown in an error: escaped once, as the table shows it, so that it reads
  /// `a\nb` and is told apart from a name holding a backslash. Two namespaces by that name make
  /// `-N` refuse, naming both.
  @Test("a container name with a control character is escaped once in -N's errors",
    .enabled(if: FileManager.default.isWritableFile(atPath: "/sys/fs/cgroup/pids"), "needs a writable cgroup v1 pids hierarchy"))
  func namesEscapedOnceInErrors() throws {
    let r = Harness.inNamespace(NamespaceAttackTests.setup + """
      cg=/sys/fs/cgroup/pids/swipc-attack2-$$-$RANDOM; pids=()
      trap 'kill -KILL ${pids[@]} 2>/dev/null; wait; rmdir $cg/c[12]/machine.slice/machine-* $cg/c[12]/machine.slice $cg/c[12] $cg' EXIT
      for i in 1 2; do
        d="$cg/c$i/machine.slice/machine-a\\x0ab.scope"; mkdir -p "$d"
        f=$(ready)
        unshare --ipc sh -c 'echo $$ > "$1/cgroup.procs"; echo ok > "$2"; exec sleep 1000' x "$d" $f &
        pids+=($!); read -r -t 60 _ < $f
      done
      $S ls ns | grep -cF ' machine/a\\nb ' || true; echo =====
      $S ls msg -N $'machine/a\\nb' 2>&1 && echo "exit 0" || echo "exit $?"; echo =====
      $S ls msg -N $'no\\nsuch' 2>&1 && echo "exit 0" || echo "exit $?"
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    try #require(p.count == 3, "\(r.stdout)")
    #expect(p[0] == "2\n", "the table does not show both containers as machine/a\\nb: \(p[0])")
    #expect(p[1].hasSuffix("exit 64\n") && p[1].contains("'machine/a\\nb' names 2 namespaces")
      && p[1].components(separatedBy: "(machine/a\\nb)").count == 3 && !p[1].contains("\\\\"), "\(p[1])")
    #expect(p[2].hasPrefix("swipc: no\\nsuch: ") && p[2].hasSuffix("exit 66\n"), "\(p[2])")
  }
}
