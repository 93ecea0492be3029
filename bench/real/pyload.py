"""bench/run: an object-heavy pure-Python workload (classes, dict/list churn,
string building, json round trips, sorting).  Deterministic; prints a digest
that must not depend on the allocator.  SPDX-License-Identifier: MIT"""
import hashlib
import json
import sys


class Rng:
    def __init__(self, seed):
        self.s = seed

    def next(self, n):
        self.s = (self.s * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        return (self.s >> 33) % n


class Record:
    def __init__(self, ident, name, tags, score):
        self.ident = ident
        self.name = name
        self.tags = tags
        self.score = score
        self.children = []

    def to_dict(self):
        return {"id": self.ident, "name": self.name, "tags": sorted(self.tags),
                "score": self.score, "children": [c.ident for c in self.children]}


def build(rng, n):
    recs = [Record(i, "rec-%d-%s" % (i, "x" * rng.next(20)),
                   {"t%d" % rng.next(50) for _ in range(rng.next(6))}, rng.next(1000) / 7.0)
            for i in range(n)]
    for r in recs:
        for _ in range(rng.next(4)):
            r.children.append(recs[rng.next(n)])
    return recs


def churn(rng, rounds):
    table = {}
    total = 0
    for i in range(rounds):
        k = "k%d" % rng.next(50000)
        op = rng.next(4)
        if op == 0:
            table.pop(k, None)
        elif op == 1:
            table[k] = [i, k * (1 + rng.next(4)), {"v": i}]
        else:
            v = table.get(k)
            if v is not None:
                v[0] += 1
                total += len(v[1])
    return total, len(table)


def main():
    scale = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    records = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    rng = Rng(42)
    h = hashlib.sha256()
    for rnd in range(scale):
        recs = build(rng, records)
        doc = json.dumps([r.to_dict() for r in recs], sort_keys=True)
        back = json.loads(doc)
        back.sort(key=lambda d: (-d["score"], d["name"]))
        h.update(json.dumps(back[:50], sort_keys=True).encode())
        groups = {}
        for d in back:
            for t in d["tags"]:
                groups.setdefault(t, []).append(d["id"])
        h.update(repr(sorted((k, len(v), sum(v) % 9973) for k, v in groups.items())).encode())
        h.update(repr(churn(rng, 8 * records)).encode())
        words = " ".join(r.name for r in recs).split("-")
        h.update(str(sum(len(w) for w in words)).encode())
    print("pyload", scale, h.hexdigest())


main()
