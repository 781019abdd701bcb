#!/usr/bin/env python3
"""Workload (d): an allocation-heavy Python program (stdlib only, deterministic).

Builds batches of records (dicts of strings, lists and bytes of mixed sizes), serialises
them to JSON and back, sorts, joins, indexes them in a dict, then drops the batch. Objects of
up to 512 bytes come from Python's own small-object allocator (pymalloc arenas, which RSS
sees but malloc probes mostly do not); larger strings, bytes, list and dict tables go to
libc's malloc/realloc/free. Prints one JSON line: batches, records and the run's own time.

Usage: alloc_heavy.py [BATCHES]   (default 60)
"""
import json
import random
import sys
import time


def make_record(rng, i):
    n = rng.randrange(1, 40)
    return {
        "id": i,
        "name": "item-%06d" % i,
        "tags": ["t%d" % rng.randrange(1000) for _ in range(rng.randrange(0, 12))],
        "text": "lorem ipsum " * rng.choice((1, 2, 4, 8, 30, 120)),
        "blob": bytes(rng.choice((16, 64, 300, 700, 2000, 9000))),
        "values": [rng.random() for _ in range(n)],
    }


def batch(rng, base, size):
    records = [make_record(rng, base + i) for i in range(size)]
    doc = json.dumps([{k: v for k, v in r.items() if k != "blob"} for r in records])
    back = json.loads(doc)
    back.sort(key=lambda r: (len(r["tags"]), r["name"]))
    index = {r["name"]: r for r in back}
    words = " ".join(r["text"] for r in back[:500]).split()
    counts = {}
    for w in words:
        counts[w] = counts.get(w, 0) + 1
    blobs = b"".join(r["blob"] for r in records[:200])
    return len(doc) + len(index) + len(counts) + len(blobs)


def main(argv):
    batches = int(argv[1]) if len(argv) > 1 else 60
    rng = random.Random(4)
    keep = []
    total = 0
    t0 = time.monotonic()
    for b in range(batches):
        total += batch(rng, b * 2000, 2000)
        # keep a little of every batch: the heap grows slowly over the run
        keep.append(["kept-%d-%d" % (b, i) * 8 for i in range(200)])
    t1 = time.monotonic()
    print(json.dumps({"batches": batches, "records": batches * 2000, "checksum": total,
                      "run_s": round(t1 - t0, 6)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
