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

}
