import Foundation
import Testing

/// Many writers and readers on one object at once: every message arrives exactly once, and FIFO
/// records of PIPE_BUF bytes from several writers never interleave.
@Suite("Load")
struct LoadTests {
  /// 16 producers of 10,000 lines each into one queue, 4 consumers following it: prints the
  /// count of lines received, of duplicates, and whether the sorted checksums agree.
  static func queueScript(_ queue: String) -> String {
    """
    d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
    q=\(queue)
    for c in 1 2 3 4; do $S msg recv $q --follow --lines --timeout 3s > $d/consumer.$c & done
    producers=()
    for p in $(seq 16); do seq -f "producer $p message %g" 10000 | $S msg send $q --lines & producers+=($!); done
    for p in "${producers[@]}"; do wait $p || echo "a producer failed"; done
    wait
    cat $d/consumer.* > $d/all
    echo "received $(wc -l < $d/all) duplicates $(sort $d/all | uniq -d | wc -l)"
    echo "consumers that got messages $(for c in 1 2 3 4; do [ -s $d/consumer.$c ] && echo x; done | wc -l)"
    want=$(for p in $(seq 16); do seq -f "producer $p message %g" 10000; done | sort | md5sum)
    got=$(sort $d/all | md5sum)
    [ "$want" = "$got" ] && echo "checksums agree"
    """
  }

  @Test("System V queue: 160,000 messages from 16 producers, each received once by 4 consumers",
    .enabled(if: Harness.canUnshareAll))
  func systemVQueue() {
    let r = Harness.inNamespace(Self.queueScript("$($S msg create)"))
    #expect(r.stdout == "received 160000 duplicates 0\nconsumers that got messages 4\nchecksums agree\n",
      "\(r.stdout)\(r.stderr)")
  }

  @Test("POSIX queue: the same through a queue of 10 slots", .enabled(if: Harness.canUnshareAll))
  func posixQueue() {
    let r = Harness.inNamespace(Self.queueScript("/load; $S msg create /load --max-messages 10 --message-size 64 >/dev/null"))
    #expect(r.stdout == "received 160000 duplicates 0\nconsumers that got messages 4\nchecksums agree\n",
      "\(r.stdout)\(r.stderr)")
  }

  @Test("FIFO: 4 writers of 5,000 records of PIPE_BUF bytes each; no record split or mixed",
    .enabled(if: Harness.canUnshareAll))
  func fifoRecords() {
    let r = Harness.inNamespace("""
      d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
      $S pipe create $d/fifo
      # Record: the writer's letter, its number, padded with the letter to 4095 bytes, newline.
      for w in a b c d; do
        python3 -c 'import sys; w = sys.argv[1]; sys.stdout.writelines((w + str(i)).ljust(4095, w) + "\\n" for i in range(5000))' $w > $d/in.$w
      done
      $S pipe recv $d/fifo > $d/out & reader=$!
      writers=(); for w in a b c d; do $S pipe send $d/fifo --lines < $d/in.$w & writers+=($!); done
      for p in "${writers[@]}"; do wait $p || echo "a writer failed"; done
      wait $reader
      echo "records $(wc -l < $d/out)"
      awk '{ c = substr($0, 1, 1); if (length($0) != 4095 || $0 !~ ("^" c "[0-9]+" c "*$")) bad++ } END { print "mixed", bad + 0 }' $d/out
      for w in a b c d; do grep "^$w" $d/out | cmp -s - $d/in.$w && echo "$w in order"; done
      """)
    #expect(r.stdout == "records 20000\nmixed 0\na in order\nb in order\nc in order\nd in order\n", "\(r.stdout)\(r.stderr)")
  }
}
