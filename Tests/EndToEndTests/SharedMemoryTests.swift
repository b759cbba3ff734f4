import Foundation
import Testing

/// shm write, dump and attach against a C client, in private namespaces (with a /dev/shm of
/// their own, so that POSIX names never meet the host's).
@Suite("Shared memory: write, dump, attach", .enabled(if: Harness.canUnshareAll, "needs unshare --ipc --mount --pid (root)"))
struct SharedMemoryTests {
  static let privateShm = "mount -t tmpfs none /dev/shm\nd=$(mktemp -d); trap 'rm -rf $d' EXIT\n"

  @Test("interop both ways, System V and POSIX: swipc writes, C reads; C writes, swipc dumps", arguments: ["sysv", "posix"])
  func interop(kind: String) throws {
    let make = kind == "sysv" ? "t=$($S shm create --size 8K)" : "t=$($S shm create /seg --size 8K)"
    let r = Harness.inNamespace(Self.privateShm + make + """

      $S shm write $t --offset 100 "from swipc"; $H mem-read $t 100 10; echo; echo =====
      $H mem-write $t 4000 from-c; $S shm dump $t --offset 4000 --length 6 --format raw; echo; echo =====
      printf 'line one\\nline two\\n' | $S shm write $t --offset 8174; $H mem-read $t 8174 18; echo =====
      head -c 3000 /dev/urandom > $d/r; $S shm write $t --file $d/r --offset 5000
      $S shm dump $t --offset 5000 --length 3000 | cmp - $d/r && echo file-same; echo =====
      $H mem-read $t 5000 3000 | cmp - $d/r && echo c-same; echo =====
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    #expect(p[0] == "from swipc\n")
    #expect(p[1] == "from-c\n")
    #expect(p[2] == "line one\nline two\n")
    #expect(p[3] == "file-same\n")
    #expect(p[4] == "c-same\n")
  }

  @Test("hex is byte for byte what hexdump -C prints (offsets, '*', partial lines); base64 is what base64 prints")
  func formatsAgainstUtilities() throws {
    let r = Harness.inNamespace(Self.privateShm + """
      t=$($S shm create --size 10000); p=$($S shm create /p --size 10000)
      head -c 700 /dev/urandom > $d/r
      for x in $t /p; do $S shm write $x --offset 3 --file $d/r; $S shm write $x --offset 2000 "hello"; done
      $S shm dump $t --format raw > $d/all
      cmp $d/all /dev/shm/p && echo same-bytes; echo =====
      for range in "0 10000" "3 700" "1 17" "1990 100" "9999 1" "5000 0"; do
        set -- $range
        diff <($S shm dump $t --offset $1 --length $2 --format hex) <(hexdump -C -s $1 -n $2 $d/all) && echo "sysv $1 ok"
        diff <($S shm dump /p --offset $1 --length $2 --format hex) <(hexdump -C -s $1 -n $2 /dev/shm/p) && echo "posix $1 ok"
      done; echo =====
      diff <($S shm dump $t --format base64) <(base64 $d/all) && echo base64-ok
      $S shm dump /p --format base64 | base64 -d | cmp - /dev/shm/p && echo decodes; echo =====
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    #expect(p[0] == "same-bytes\n")
    #expect(p[1].split(separator: "\n").count == 12, "\(p[1])")
    #expect(p[2] == "base64-ok\ndecodes\n")
  }

  @Test("writes past the end are refused with exit 64, naming the size, and write nothing")
  func pastTheEnd() throws {
    let r = Harness.inNamespace(Self.privateShm + """
      set +e
      t=$($S shm create --size 100); $S shm write $t --offset 0 original
      before=$($S shm dump $t --format base64)
      $S shm write $t --offset 95 "too long"; echo "text $?"
      head -c 101 /dev/zero | $S shm write $t; echo "stdin $?"
      head -c 100 /dev/zero > $d/z; $S shm write $t --offset 1 --file $d/z; echo "file $?"
      $S shm write $t --offset 101 x; echo "offset $?"
      $S shm dump $t --offset 90 --length 11; echo "dump $?"
      $S shm write $t --file /nonexistent; echo "missing $?"
      $S shm write $t --file $d/z x; echo "both $?"
      [ "$before" = "$($S shm dump $t --format base64)" ] && echo unchanged
      $S shm write $t --offset 92 "8 bytes!"; echo "fits $?"
      """)
    try #require(r.status == 0, "\(r.stderr)")
    #expect(r.stdout == "text 64\nstdin 64\nfile 64\noffset 64\ndump 64\nmissing 66\nboth 64\nunchanged\nfits 0\n")
    #expect(r.stderrLines.first == "swipc: 8 bytes at offset 95 would pass the end of segment 0 (size 100 bytes, room for 5); nothing was written (see 'swipc shm write --help')")
    #expect(r.stderrLines.dropFirst().first?.contains("standard input holds more than the 100 bytes") == true)
    #expect(r.stderrLines.count == 7, "one line per error: \(r.stderr)")
  }

  @Test("attach holds the segment while COMMAND runs, passes its status, and detaches")
  func attachWithCommand() throws {
    let r = Harness.inNamespace(Self.privateShm + """
      set +e
      t=$($S shm create --size 4K); $S shm create /p --size 4K >/dev/null
      $S shm attach $t -- sh -c "awk '\\$2 == $t { print \\$7 }' /proc/sysvipc/shm; exit 3"; echo "status $?"
      awk -v id=$t '$2 == id { print $7 }' /proc/sysvipc/shm; echo =====
      $S shm attach /p --readonly -- sh -c 'grep -c "r--s .*/dev/shm/p" /proc/$PPID/maps'; echo "status $?"; echo =====
      $S shm attach $t -- /nonexistent/command; echo "status $?"
      awk -v id=$t '$2 == id { print $7 }' /proc/sysvipc/shm; echo =====
      """)
    try #require(r.status == 0, "\(r.stderr)")
    let p = Harness.sections(r.stdout)
    #expect(p[0] == "1\nstatus 3\n0\n")
    #expect(p[1] == "1\nstatus 0\n")
    #expect(p[2] == "status 127\n0\n")
    #expect(r.stderr.contains("attached segment 0 read-write"))
    #expect(r.stderr.contains("command not found"))
  }

  @Test("attach without COMMAND holds until SIGTERM, then detaches and exits 0")
  func attachUntilSignal() throws {
    let r = Harness.inNamespace(Self.privateShm + """
      t=$($S shm create --size 4K)
      $S shm attach $t 2>/dev/null & pid=$!
      for i in $(seq 100); do [ "$(awk -v id=$t '$2 == id { print $7 }' /proc/sysvipc/shm)" = 1 ] && break; sleep 0.05; done
      awk -v id=$t '$2 == id { print $7 }' /proc/sysvipc/shm
      kill -TERM $pid; set +e; wait $pid; echo "status $?"
      awk -v id=$t '$2 == id { print $7 }' /proc/sysvipc/shm
      """)
    try #require(r.status == 0, "\(r.stderr)")
    #expect(r.stdout == "1\nstatus 0\n0\n")
  }

  @Test("a user without permission gets exit 77; a read-only user can dump but not write")
  func permissions() throws {
    let r = Harness.inNamespace(Self.privateShm + """
      set +e
      nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
      a=$($S shm create --size 4K); b=$($S shm create --size 4K --mode 0644); $S shm write $b readable
      nobody $S shm dump $a --format raw; echo "dump-private $?"
      nobody $S shm dump $b --format raw --length 8; echo; echo "dump-readable $?"
      nobody $S shm write $b x; echo "write-readable $?"
      nobody $S shm attach $b --readonly -- true; echo "attach-ro $?"
      """)
    try #require(r.status == 0, "\(r.stderr)")
    #expect(r.stdout == "dump-private 77\nreadable\ndump-readable 0\nwrite-readable 77\nattach-ro 0\n")
  }
}
