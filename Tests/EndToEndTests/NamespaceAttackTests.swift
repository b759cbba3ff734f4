import Foundation
import Testing

/// --all-namespaces and --namespace attacked by a hostile local user: an unprivileged user with a
/// user namespace of their own (unshare -Urm), or a container's root. Each test runs in private
/// IPC, mount and PID namespaces with their own /proc, /dev/shm and temporary directory; every
/// process a test starts dies with its PID namespace. Readiness is signalled through FIFOs, never by sleeping.
@Suite("Namespaces attacked", .enabled(if: Harness.canUnshareAll, "needs unshare"))
struct NamespaceAttackTests {
  static let setup = """
    nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
    # A world-writable directory of the test's own ($TD, like /tmp) on a tmpfs of this mount
    # namespace: the host's /tmp, where the checkout may be, is neither used nor hidden.
    mount -t tmpfs -o size=512m tmpfs /mnt; TD=/mnt/tmp; mkdir -m 1777 $TD
    mount -t tmpfs -o size=16m tmpfs /dev/shm
    # ready FIFO: the hostile process writes a line when it has set itself up.
    ready() { local f; f=$(mktemp -u $TD/ready.XXXXXX); mkfifo -m 666 "$f"; echo "$f"; }

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
      etc=$TD/etc-of-root; mkdir -m 755 $etc; echo 'root:x:0:0::/root:/bin/sh' > $etc/passwd; chmod 644 $etc/passwd
      f=$(ready)
      nobody unshare -Urm sh -c 'mount --bind "$1" /dev/shm && echo $$ > "$2" && exec sleep 1000' x $etc $f &
      read -r -t 60 A < $f
      $S ls -A pshm -o NAME --no-headings 2>$TD/ls.err; echo =====
      $S clean -A --orphaned --min-age 0s --ignore-hidden --yes >/dev/null 2>$TD/clean.err || true; echo =====
      ls $etc; echo =====
      cat $TD/ls.err; echo =====
      cat $TD/clean.err; echo =====
      $S ls -N $A pshm 2>&1 && echo "exit 0" || echo "exit $?"
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    try #require(p.count == 6, "\(r.stdout)")
    #expect(!p[0].contains("/passwd"), "a directory of root's is listed as shared memory: \(p[0])")
    #expect(p[2] == "passwd\n", "root's file outside any /dev/shm was removed by clean -A: \(p[2])")
    // Left out, but never silently: one line says which directory and why, for ls and clean.
    for (command, stderr) in [("ls", p[3]), ("clean", p[4])] {
      #expect(stderr.contains("1 /dev/shm directory not listed: its mount namespace belongs to another user namespace"),
        "\(command) -A says nothing of the /dev/shm it left out: \(stderr)")
      #expect(stderr.split(separator: "\n").count == 1, "\(command): \(stderr)")
    }
    // Named with -N, the namespace's System V objects are listed; its /dev/shm is refused with the reason.
    #expect(p[5].contains("another user namespace") && !p[5].contains("passwd"), "\(p[5])")
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
      cd $TD; nobody mkdir docker; nobody ln -s /proc/$A/ns/ipc docker/${did:0:12}
      $S ls --namespaces --format json | grep -o "docker/[0-9a-f]*" || true; echo =====
      $S ls -N docker/${did:0:12} msg -o KEY --no-headings 2>&1 || true
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    try #require(p.count == 2, "\(r.stdout)")
    #expect(p[0].hasPrefix("docker/"), "\(p[0])")
    #expect(p[1].contains("0x00000071"), "-N docker/ID did not enter the container's namespace: \(p[1])")
  }

  /// A container's root may make cgroups below its own, named like any other container's
  /// (`/docker/X/docker/Y`). Taken for container Y, its namespace makes `-N docker/Y` ambiguous
  /// while Y runs, and once Y has stopped, root's `-N docker/Y` enters the hostile namespace
  /// (to send data there, or clean there) instead of failing.
  @Test("a container's root naming a cgroup below its own after another container never takes that container's name",
    .enabled(if: FileManager.default.isWritableFile(atPath: "/sys/fs/cgroup/pids"), "needs a writable cgroup v1 pids hierarchy"))
  func forgedNestedContainerName() throws {
    let r = Harness.inNamespace(Self.setup + """
      base=/sys/fs/cgroup/pids/swipc-attack-$(cat /proc/sys/kernel/random/uuid)
      did=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n'); fid=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
      C=; X=
      cleanup() {
        for p in $C $X; do kill -KILL $p 2>/dev/null || true; wait $p 2>/dev/null || true; done
        for i in $(seq 100); do
          rmdir "$base/docker/$fid/docker/$did" "$base/docker/$fid/docker" "$base/docker/$fid" "$base/docker/$did" "$base/docker" "$base" 2>/dev/null || true
          [ -d "$base" ] || break; sleep 0.1
        done
      }
      trap cleanup EXIT
      mkdir -p "$base/docker/$did" "$base/docker/$fid/docker/$did"
      f=$(ready); unshare --ipc --fork sh -c 'echo ready > "$1"; exec sleep 1000' x $f & C=$!; read -r -t 60 _ < $f
      echo $C > "$base/docker/$did/cgroup.procs"; $S msg create -N $C --key 0x71 >/dev/null
      g=$(ready); unshare --ipc --fork sh -c 'echo ready > "$1"; exec sleep 1000' x $g & X=$!; read -r -t 60 _ < $g
      echo $X > "$base/docker/$fid/docker/$did/cgroup.procs"; $S msg create -N $X --key 0x72 >/dev/null
      echo ${did:0:12} ${fid:0:12}; echo =====
      $S ls --namespaces --format json | grep -o '"container":"[^"]*"' | sort; echo =====
      $S ls -N docker/${did:0:12} msg -o KEY --no-headings 2>&1 || true; echo =====
      kill -KILL $C; wait $C 2>/dev/null || true; C=
      $S ls -N docker/${did:0:12} msg -o KEY --no-headings 2>&1 && echo "exit 0" || echo "exit $?"
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    try #require(p.count == 4, "\(r.stdout)")
    let ids = p[0].split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
    let (real, hostile) = (ids[0], ids[1])
    #expect(p[1] == "\"container\":\"docker/\(hostile)\"\n\"container\":\"docker/\(real)\"\n"
      || p[1] == "\"container\":\"docker/\(real)\"\n\"container\":\"docker/\(hostile)\"\n",
      "each namespace is named after the container that holds it, once: \(p[1])")
    #expect(p[2].contains("0x00000071") && !p[2].contains("0x00000072"), "-N docker/ID did not enter that container alone: \(p[2])")
    #expect(!p[3].contains("0x00000072") && p[3].hasSuffix("exit 66\n"), "-N docker/ID of a stopped container entered another: \(p[3])")
  }

  /// SIGHUP (a closed terminal, a cron job's end) reaches swipc while a thread of its own is in
  /// another namespace: blocked there in msgrcv, or holding a System V semaphore for a command
  /// (taken with SEM_UNDO by that thread). swipc must stop as it does at home (exit 130, nothing
  /// consumed; the command ended and the semaphore given back), and the command must run in the
  /// caller's namespace. Each step waits for the state it needs (a thread in msgrcv, the
  /// command's own report), never for time to pass.
  @Test("SIGHUP while a thread is in another namespace: msg recv stops, sem run -N holds and gives back")
  func hangupInsideAnotherNamespace() throws {
    let r = Harness.inNamespace(Self.setup + """
      f=$(ready); unshare --ipc --fork sh -c 'echo ready > "$1"; exec sleep 1000' x $f & P=$!; read -r -t 60 _ < $f
      q=$($S msg create -N $P); s=$($S sem create -N $P); $S sem post -N $P $s
      in_msgrcv() { for t in /proc/$1/task/*; do case "$(cat $t/syscall 2>/dev/null)" in "70 "*) return 0;; esac; done; return 1; }
      # A swipc that ignores the signal is ended after a minute, so that the test fails, not hangs.
      bound() { ( sleep 60; kill -KILL $1 ) 2>/dev/null & }
      $S msg recv -N $P $q 2>$TD/recv.err & R=$!; bound $R
      until in_msgrcv $R; do sleep 0.01; done
      kill -HUP $R; wait $R && echo "exit 0" || echo "exit $?"; cat $TD/recv.err; echo =====
      $S msg send -N $P $q kept >/dev/null; $S msg recv -N $P $q; echo =====
      g=$(ready)
      $S sem run -N $P $s -- sh -c 'readlink /proc/self/ns/ipc > "$1.ns"; echo ready > "$1"; exec sleep 1000' x $g & R=$!; bound $R
      read -r -t 60 _ < $g
      $S sem get -N $P $s; kill -HUP $R; wait $R && echo "exit 0" || echo "exit $?"
      $S sem get -N $P $s; echo =====
      cat $g.ns; readlink /proc/self/ns/ipc
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    try #require(p.count == 4, "\(r.stdout)")
    let recv = p[0].split(separator: "\n")
    #expect(recv.first == "exit 130" && recv.count == 2, "msg recv -N interrupted by SIGHUP: \(p[0])")
    #expect(p[1] == "kept", "a message sent after the interrupted receive was not left whole: \(p[1])")
    #expect(p[2] == "0\nexit 129\n1\n", "sem run -N: held while COMMAND ran, given back after SIGHUP: \(p[2])")
    let ns = p[3].split(separator: "\n")
    #expect(ns.count == 2 && ns[0] == ns[1], "COMMAND ran in another namespace than the caller's: \(p[3])")
  }
}
