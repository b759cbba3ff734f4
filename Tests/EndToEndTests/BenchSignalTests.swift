import Foundation
import Testing

/// `swipc bench` killed with SIGKILL, SIGHUP, SIGQUIT or SIGTERM leaves no object, FIFO
/// directory, socket file or peer, whatever the moment. The moments are made exact with
/// SWIPC_BENCH_STOP (the process stops itself there): `spawn` (the parent, before the peer
/// starts), `created` (the peer, its objects made and not yet reported), `connected` (the peer,
/// after the first message, names unlinked); and once mid-run, wherever the signal lands.
@Suite("Benchmark under signals", .enabled(if: Harness.canUnshareNet, "needs unshare --ipc --mount --pid --net (root)"))
struct BenchSignalTests {
  static let mechanisms = ["pipe", "fifo", "msg", "pmsg", "shm", "pshm", "shm-spin", "shm-futex", "unix-stream", "unix-dgram", "tcp"]
  /// What the peer makes that a listing shows, by mechanism: System V (ipcs), /dev/shm,
  /// /dev/mqueue, $TMPDIR.
  static let made = ["fifo": "tmp", "msg": "ipcs", "pmsg": "mqueue", "shm": "ipcs", "pshm": "shm", "shm-spin": "shm", "shm-futex": "shm"]

  static let script = """
    # bash starts background commands with SIGINT and SIGQUIT ignored: env gives them back.
    bench() { exec env --default-signal=INT,QUIT "$S" bench "$@"; }  # run with &: $! is bench
    ip link set lo up; mount -t tmpfs none /dev/shm; mkdir -p /dev/mqueue; mount -t mqueue none /dev/mqueue
    export TMPDIR=$(mktemp -d); trap 'rm -rf "$TMPDIR"' EXIT
    count() {
      case $1 in
        ipcs) ipcs -a | awk 'NF && $1 ~ /^0x/' | wc -l ;;
        shm) ls -A /dev/shm | wc -l ;;
        mqueue) ls -A /dev/mqueue | wc -l ;;
        tmp) find "$TMPDIR" -mindepth 1 | wc -l ;;
        *) echo - ;;
      esac
    }
    leftovers() { echo "$(count ipcs)/$(count shm)/$(count mqueue)/$(count tmp)/$(pgrep -c -f '[b]ench-peer' || true)"; }
    state() { awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null || echo gone; }
    # Waits (bounded) for a condition, polling: the process stops itself, nothing is timed.
    stopped() { for _ in $(seq 1000); do [ "$(state "$1")" = T ] && return 0; sleep 0.005; done; echo "no stop at $2" >&2; exit 3; }
    peer() { for _ in $(seq 1000); do p=$(pgrep -f '[b]ench-peer' | head -1); [ -n "$p" ] && { echo "$p"; return 0; }; sleep 0.005; done; echo "no peer" >&2; exit 3; }
    ended() { for _ in $(seq 2000); do s=$(state "$1"); [ "$s" = gone ] || [ "$s" = Z ] && return 0; sleep 0.005; done; echo "peer $1 still there" >&2; exit 3; }
    # Mid-run first, for every mechanism: a bench without the stop points still gets that far.
    for point in mid spawn created connected; do
      for m in $MECHANISMS; do
        for sig in KILL HUP QUIT TERM; do
          present=-
          if [ $point = mid ]; then
            bench $m --sizes 64 --messages 50000000 2>/dev/null & b=$!
            p=$(peer)
          else
            SWIPC_BENCH_STOP=$point bench $m --sizes 64 --messages 1000 2>/dev/null & b=$!
            if [ $point = spawn ]; then stopped $b $point; p=; else p=$(peer); stopped $p $point; fi
            [ $point = created ] && present=$(count "${MADE[$m]:-none}")
          fi
          kill -$sig $b
          # A stopped process acts on a signal once continued; SIGKILL needs no continuing, and
          # the parent continues its peer itself when it can.
          [ $point = spawn ] && { kill -CONT $b 2>/dev/null || true; }
          [ $sig = KILL ] && [ -n "$p" ] && { kill -CONT $p 2>/dev/null || true; }
          set +e; wait $b; rc=$?; set -e
          [ -n "$p" ] && ended $p
          echo "$m $sig $point rc=$rc made=$present left=$(leftovers)"
        done
      done
    done
    """

  @Test("each of the four signals, at each stopping point and mid-run, for every mechanism: nothing is left")
  func noLeakUnderSignals() throws {
    let made = Self.made.map { "[\($0.key)]=\($0.value)" }.joined(separator: " ")
    // A bound on the whole run: a bench that ignored a signal would otherwise wait forever.
    let r = Harness.run(["timeout", "-s", "KILL", "900", "unshare"] + Harness.privateNamespaces + ["--net", "bash", "-euo", "pipefail", "-c",
      "declare -A MADE=(\(made))\n" + Self.script],
      environment: ["S": Harness.swipc, "MECHANISMS": Self.mechanisms.joined(separator: " ")])
    try #require(r.status == 0, "\(r.stdout)\n\(r.stderr)")
    let lines = r.stdout.split(separator: "\n").map(String.init)
    #expect(lines.count == Self.mechanisms.count * 4 * 4, "\(r.stdout)")
    for line in lines {
      let fields = line.split(separator: " ").map(String.init)
      try #require(fields.count == 6, "\(line)")
      let (mechanism, signal, point) = (fields[0], fields[1], fields[2])
      #expect(fields[5] == "left=0/0/0/0/0", "\(line): something was left")
      // KILL ends the parent at once (128 + 9); the others are caught: 130 after cleaning up.
      // Mid-run, the peer may not have started yet when the signal lands: the same codes.
      let expected = signal == "KILL" ? "rc=137" : "rc=130"
      #expect(fields[3] == expected, "\(line)")
      // The `created` stop comes after the peer made its objects: they were there to clean.
      if point == "created", Self.made[mechanism] != nil {
        #expect(fields[4] != "made=0" && fields[4] != "made=-", "\(line): the objects were not made at the stop")
      }
    }
  }
}
