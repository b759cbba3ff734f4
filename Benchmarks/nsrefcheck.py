#!/usr/bin/env python3
"""nsrefcheck: whether two `ls -A --format json` outputs (swipc's and the C reference's, or the
C reference's with and without -j 2) hold the same records: the same keys in the same order and
the same values, once both are sorted; `age`, which moves with the clock between the two runs, is
left out. Prints one line; exits 1 on a
difference, naming the first record found in one and not the other.
Usage: nsrefcheck.py FIRST SECOND [WHAT], WHAT naming the comparison (default: the C reference
against swipc)."""
import json
import sys


def records(path):
    with open(path, "rb") as f:
        rows = json.loads(f.read(), object_pairs_hook=lambda pairs: [p for p in pairs if p[0] != "age"])
    return sorted(json.dumps(r) for r in rows)


def main():
    a, b = records(sys.argv[1]), records(sys.argv[2])
    same = a == b
    what = sys.argv[3] if len(sys.argv) > 3 else "C reference output agrees with swipc"
    print(f"{what}: {'yes' if same else 'no'} ({len(a)} and {len(b)} records)")
    if not same:
        only_a = sorted(set(a) - set(b))
        only_b = sorted(set(b) - set(a))
        if only_a:
            print("  only in the first:", only_a[0], file=sys.stderr)
        if only_b:
            print("  only in the second:", only_b[0], file=sys.stderr)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
