import Foundation
import Testing

/// --all-namespaces and --namespace attacked by a hostile local user: an unprivileged user with a
/// user namespace of their own (unshare -Urm), or a container's root. Each test runs in private
/// IPC, mount and PID namespaces with their own /proc, /dev/shm and /tmp; every process a test
/// starts dies with its PID namespace. Readiness is signalled through FIFOs, never by sleeping.
@Suite("Namespaces attacked", .enabled(if: Harness.canUnshareAll, "needs unshare"),
  .enabled(if: !FileManager.default.currentDirectoryPath.hasPrefix("/tmp/"), "hangs from a checkout under /tmp, which its own tmpfs over /tmp hides (open defect)"))
struct NamespaceAttackTests {
  static let setup = """
    nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
    # The test's own /tmp hides the host's, where the binaries under test may live (a clone in
    # /tmp): they are copied to a tmpfs of this mount namespace first.
    mount -t tmpfs -o size=512m tmpfs /mnt; cp "$S" /mnt/swipc; cp "$H" /mnt/ipchelper; S=/mnt/swipc; H=/mnt/ipchelper
    mount -t tmpfs -o size=16m tmpfs /dev/shm; mount -t tmpfs -o size=16m tmpfs /tmp; chmod 1777 /tmp
    # ready FIFO: the hostile process writes a line when it has set itself up.
    ready() { local f; f=$(mktemp -u /tmp/ready.XXXXXX); mkfifo -m 666 "$f"; echo "$f"; }

    """

  /// Whether an unprivileged user may make a user namespace here (unshare -Ur as nobody).
  static let canUnshareUser: Bool =
    Harness.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "unshare", "-Urm", "true"]).status == 0

  /// An unprivileged user makes a mount namespace of their own (in a user namespace) whose
  /// /dev/shm is a bind mount of a directory of root's (here a stand-in for /etc). `clean -A`
  /// run by root (from cron) takes that directory for a /dev/shm and removes root's files in it
  /// as orphaned POSIX shared memory.
  @Test("an unprivileged user's bind mount over its /dev/shm makes root's clean -A remove root's files elsewhere",
    .enabled(if: canUnshareUser, "needs unprivileged user namespaces"))
  func bindMountedSharedMemoryOfAnotherDirectory() throws {
    let r = Harness.inNamespace(Self.setup + """
      etc=/tmp/etc-of-root; mkdir -m 755 $etc; echo 'root:x:0:0::/root:/bin/sh' > $etc/passwd; chmod 644 $etc/passwd
      f=$(ready)
      nobody unshare -Urm sh -c 'mount --bind "$1" /dev/shm && echo ready > "$2" && exec sleep 1000' x $etc $f &
      read -r -t 60 _ < $f
      $S ls -A pshm -o NAME --no-headings; echo =====
      $S clean -A --orphaned --min-age 0s --ignore-hidden --yes >/dev/null 2>&1 || true; echo =====
      ls $etc
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    try #require(p.count == 3, "\(r.stdout)")
    #expect(!p[0].contains("/passwd"), "a directory of root's is listed as shared memory: \(p[0])")
    #expect(p[2] == "passwd\n", "root's file outside any /dev/shm was removed by clean -A: \(p[2])")
  }

  /// Two shm directories on one filesystem in one IPC namespace (the host's /dev/shm and a
  /// subdirectory of it bind-mounted over the /dev/shm of a mount namespace that shares the
  /// host's IPC namespace, as `docker run --ipc=host -v /dev/shm/app:/dev/shm` makes), each with
  /// a file of the same name: the orphan state `ls -A` shows is kept by namespace, kind, name
  /// and device, so the other directory's unused file decides the state shown for the file in use.
  @Test("ls -A shows the orphan state of each file, not of another file of the same name on the same filesystem")
  func orphanStateOfSameNameOnSameDevice() throws {
    let r = Harness.inNamespace(Self.setup + """
      nobody mkdir -m 755 /dev/shm/mine; nobody $S shm create /x --size 4K >/dev/null; nobody mv /dev/shm/x /dev/shm/mine/x
      $S shm create /x --size 4K >/dev/null; exec 7</dev/shm/x
      f=$(ready)
      unshare --mount --propagation private sh -c 'mount --bind /dev/shm/mine /dev/shm && echo ready > "$1" && exec sleep 1000' x $f &
      read -r -t 60 _ < $f
      $S ls -A pshm -o NAME,OWNER,ORPHAN --no-headings
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let rows = r.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
    let roots = rows.filter { $0.count == 3 && $0[0] == "/x" && $0[1] == "root" }
    try #require(roots.count == 1, "\(r.stdout)")
    #expect(roots[0][2] == "no", "root's /x is held open by this script, yet shown as \(roots[0][2]): \(r.stdout)")
  }

  /// setns(CLONE_NEWIPC) moves one thread: a live process whose main thread is in one IPC
  /// namespace can use another namespace's objects from a second thread (as swipc -N itself
  /// does). Orphan detection reads only /proc/PID/ns/ipc, the main thread's, so the semaphore
  /// set that the live process's second thread made and operated on is judged orphaned, and
  /// `clean --orphaned` removes it under the process.
  @Test("an object whose last user is a live process with a thread in the object's namespace is not orphaned")
  func liveProcessWithThreadInAnotherNamespace() throws {
    let r = Harness.inNamespace(Self.setup + """
      f=$(ready)
      unshare --ipc --fork sh -c 'echo ready > "$1"; exec sleep 1000' x $f &
      P=$!; read -r -t 60 _ < $f
      g=$(ready)
      python3 - $P $g <<'EOF' &
      import ctypes, os, sys, threading
      libc = ctypes.CDLL(None, use_errno=True)
      class Sembuf(ctypes.Structure):
          _fields_ = [("num", ctypes.c_ushort), ("op", ctypes.c_short), ("flg", ctypes.c_short)]
      def worker():
          fd = os.open("/proc/%s/ns/ipc" % sys.argv[1], os.O_RDONLY)
          if libc.setns(fd, 0x08000000) != 0: raise OSError(ctypes.get_errno(), "setns")
          s = libc.semget(0, 1, 0o600 | 0o1000)
          if s < 0: raise OSError(ctypes.get_errno(), "semget")
          if libc.semop(s, ctypes.byref(Sembuf(0, 1, 0)), 1) != 0: raise OSError(ctypes.get_errno(), "semop")
          with open(sys.argv[2], "w") as r: r.write("%d\\n" % s)
          threading.Event().wait()
      t = threading.Thread(target=worker); t.start(); t.join()
      EOF
      read -r -t 60 s < $g
      $S clean -N $P sem --orphaned --min-age 0s --yes >/dev/null 2>&1 || true
      $S ls -N $P sem -o ID --no-headings | tr -d ' '; echo =====
      echo $s
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    try #require(p.count == 2, "\(r.stdout)")
    #expect(p[0] == p[1], "the semaphore set in use by a live process's thread was removed as orphaned: listed \(p[0]) of \(p[1])")
  }
  /// Container names as `ls --namespaces` shows them hold a slash (`docker/0123456789ab`), and
  /// any TARGET with a slash is taken for a path: relative to the working directory, so a user
  /// who owns it (root running from /tmp) makes `-N docker/ID` enter a namespace of their own
  /// through a symlink to their /proc/PID/ns/ipc, and the container's name never works.
  @Test("-N with a container's name as ls --namespaces shows it enters that container, not a path a user planted",
    .enabled(if: canUnshareUser && FileManager.default.isWritableFile(atPath: "/sys/fs/cgroup/pids"), "needs user namespaces and a writable cgroup v1 pids hierarchy"))
  func containerNameIsNotAPath() throws {
    let r = Harness.inNamespace(Self.setup + """
      base=/sys/fs/cgroup/pids/swipc-attack-$(cat /proc/sys/kernel/random/uuid); did=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \\n')
      C=; A=
      cleanup() {
        for p in $C $A; do kill -KILL $p 2>/dev/null || true; wait $p 2>/dev/null || true; done
        for i in $(seq 100); do rmdir "$base/docker/$did" "$base/docker" "$base" 2>/dev/null || true; [ -d "$base" ] || break; sleep 0.1; done
      }
      trap cleanup EXIT
      mkdir -p "$base/docker/$did"
      f=$(ready); unshare --ipc --fork sh -c 'echo ready > "$1"; exec sleep 1000' x $f & C=$!; read -r -t 60 _ < $f
      echo $C > "$base/docker/$did/cgroup.procs"
      $S msg create -N $C --key 0x71 >/dev/null
      g=$(ready); nobody unshare -Uri sh -c 'echo ready > "$1"; exec sleep 1000' x $g & A=$!; read -r -t 60 _ < $g
      cd /tmp; nobody mkdir docker; nobody ln -s /proc/$A/ns/ipc docker/${did:0:12}
      $S ls --namespaces --format json | grep -o "docker/[0-9a-f]*" || true; echo =====
      $S ls -N docker/${did:0:12} msg -o KEY --no-headings 2>&1 || true
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    try #require(p.count == 2, "\(r.stdout)")
    #expect(p[0].hasPrefix("docker/"), "\(p[0])")
    #expect(p[1].contains("0x00000071"), "-N docker/ID did not enter the container's namespace: \(p[1])")
  }
}
