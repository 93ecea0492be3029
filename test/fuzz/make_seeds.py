#!/usr/bin/env python3
"""Writes the seed inputs of test/fuzz/corpus (seed-*): small programs in the
input language of test/fuzz/fuzz_api.c, one per feature, plus a few
pseudo-random ones. Run from anywhere; it rewrites only seed-* files, so
reproducers added by hand (crash-*, see docs/fuzzing.md) stay."""
import os
import random

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")

# Size classes of in_size(): the first byte picks the class (k % 16), then 3 bytes r.
ZERO, TINY, SMALL, MEDIUM, LARGE, HUGE, HUGER, EDGE = 0, 1, 6, 9, 11, 12, 13, 14


def high(op):
    """The opcode op % 20 with the high bit set (fuzz_api.c reads bit 7 as a flag)."""
    return next(v for v in range(128, 256) if v % 20 == op)


def size(cls, r=0):
    return bytes([cls]) + r.to_bytes(3, "little")


def malloc(slot, cls, r=0):
    return bytes([0, slot]) + size(cls, r)


def heap_malloc(slot, cls, r, heap):
    return bytes([2, slot]) + size(cls, r) + bytes([heap])


def calloc(slot, cls, r, count, heap=None):
    if heap is None:
        return bytes([3, slot]) + size(cls, r) + bytes([count])
    return bytes([high(3), slot]) + size(cls, r) + bytes([count, heap])


def aligned(slot, cls, r, a, heap=None):
    if heap is None:
        return bytes([4, slot]) + size(cls, r) + bytes([a])
    return bytes([high(4), slot]) + size(cls, r) + bytes([a, heap])


def free(slot):
    return bytes([5, slot])


def realloc(slot, cls, r=0):
    return bytes([8, slot]) + size(cls, r)


def reallocarray(slot, cls, r=0):
    return bytes([9, slot]) + size(cls, r)


def heap_realloc(slot, cls, r, heap):
    return bytes([10, slot]) + size(cls, r) + bytes([heap])


def realloc_null(slot, cls, r=0):
    return bytes([11, 0]) + size(cls, r) + bytes([slot])


def strdup(slot, length):
    return bytes([12, slot]) + length.to_bytes(2, "little")


def refuse(k, slot=0):
    return bytes([13, k, slot])


def heap(kind, h, force=False):
    return bytes([14, (kind % 8) | (h << 3) | (0x80 if force else 0)])


NEW, SET_DEFAULT, DELETE, DESTROY, COLLECT, COLLECT_ALL = 0, 1, 2, 4, 6, 7


def visit(h, stop=0):
    return bytes([16, h, stop])


def thread(mode, n, start=0, done=False, probe_heap=0, sizes=()):
    k = mode | (0x10 if done else 0) | (probe_heap << 5)
    out = bytes([17, k, n - 1, start])
    for cls, r in sizes:
        out += size(cls, r)
    return out


FREE_T, REALLOC_T, ALLOC_T = 0, 1, 2
SWEEP = bytes([18])
THREAD_DONE = bytes([198])


def check(slot):
    return bytes([19, slot])


def mallocs(cls, n, r0=1, step=977):
    return b"".join(malloc(i, cls, r0 + i * step) for i in range(n))


seeds = {
    "malloc-classes": b"".join(malloc(i, c, 1000 + 4099 * i) for i, c in
                               enumerate([ZERO, TINY, SMALL, MEDIUM, LARGE, HUGE, EDGE, EDGE]))
                      + b"".join(free(i) for i in range(8)),
    "edges": b"".join(malloc(i, EDGE, i) for i in range(26)) + SWEEP + b"".join(free(i) for i in range(0, 26, 2)),
    "tiny-churn": (mallocs(TINY, 40) + b"".join(free(i) for i in range(0, 40, 3)) + mallocs(TINY, 40, 5)) * 2,
    "calloc": calloc(0, SMALL, 5000, 3) + calloc(1, LARGE, 300000, 7) + calloc(2, ZERO, 0, 1)
              + calloc(3, MEDIUM, 40000, 2, heap=1),
    "realloc-grow": malloc(0, TINY, 10) + b"".join(realloc(0, c, r) for c, r in
                    [(TINY, 100), (SMALL, 4000), (MEDIUM, 60000), (LARGE, 400000), (HUGE, 1 << 20),
                     (HUGER, 1 << 18)]),
    "realloc-shrink": malloc(0, HUGER, 1 << 19) + b"".join(realloc(0, c, r) for c, r in
                      [(HUGE, 1 << 20), (LARGE, 100000), (MEDIUM, 9000), (SMALL, 100), (TINY, 3)]),
    "realloc-zero": malloc(0, SMALL, 300) + realloc(0, ZERO) + realloc(0, TINY, 50) + realloc(0, ZERO),
    "realloc-null": realloc_null(0, SMALL, 77) + realloc_null(1, HUGE, 5) + bytes([high(11), 0]) + size(TINY, 9)
                    + bytes([2, 2]),
    "reallocarray": malloc(0, SMALL, 700) + reallocarray(0, SMALL, 7 * 300) + reallocarray(0, MEDIUM, 50000),
    "aligned": b"".join(aligned(i, [TINY, SMALL, LARGE, HUGE][i % 4], 1000 + i * 333, a)
                        for i, a in enumerate([0, 3, 4, 6, 8, 12, 13, 16, 19, 20, 21, 22, 23, 31, 63, 95])),
    "aligned-realloc": aligned(0, SMALL, 100, 12) + realloc(0, SMALL, 50) + realloc(0, MEDIUM, 30000)
                       + aligned(1, HUGE, 10, 21) + realloc(1, HUGER, 300),
    "strdup": strdup(0, 0) + strdup(1, 1) + strdup(2, 100) + strdup(3, 2999) + free(2) + strdup(2, 64),
    "refuse": malloc(0, SMALL, 10) + b"".join(refuse(k, 0) for k in range(6)) + check(0),
    "heap-malloc": b"".join(heap_malloc(i, [TINY, SMALL, MEDIUM, LARGE, HUGE][i % 5], 99 * i + 1, i % 5)
                            for i in range(20)) + SWEEP,
    "heap-destroy": b"".join(heap_malloc(i, SMALL, 200 + i, i % 2) for i in range(12))
                    + heap(DESTROY, 0) + heap(DESTROY, 1) + mallocs(SMALL, 4),
    "heap-delete": b"".join(heap_malloc(i, MEDIUM, 2000 + i, 2) for i in range(6)) + heap(DELETE, 2)
                   + b"".join(free(i) for i in range(0, 6, 2)) + mallocs(SMALL, 3, 7),
    "heap-default": heap(NEW, 1) + heap(SET_DEFAULT, 1) + mallocs(SMALL, 6) + heap(DELETE, 3)
                    + heap(SET_DEFAULT, 0) + heap(NEW, 0) + heap(SET_DEFAULT, 0) + mallocs(TINY, 4, 3)
                    + heap(DELETE, 1) + heap(DESTROY, 0) + SWEEP,
    "heap-adopted": heap(NEW, 0) + heap(NEW, 1) + b"".join(heap_malloc(i, SMALL, 500, 0) for i in range(5))
                    + heap(SET_DEFAULT, 1) + heap(DELETE, 0) + heap(DESTROY, 1) + SWEEP,
    "heap-realloc": heap_malloc(0, SMALL, 100, 0) + heap_realloc(0, MEDIUM, 20000, 1)
                    + heap_realloc(0, HUGE, 1000, 1) + heap_realloc(0, SMALL, 8, 4) + heap(DESTROY, 1),
    "collect": mallocs(SMALL, 30) + b"".join(free(i) for i in range(30)) + heap(COLLECT_ALL, 0, True)
               + heap(COLLECT, 0) + heap(COLLECT, 0, True),
    "visit": b"".join(heap_malloc(i, [TINY, MEDIUM, HUGE][i % 3], 7 * i, 3) for i in range(9))
             + aligned(9, SMALL, 100, 10, heap=3) + visit(3) + visit(3, 2) + free(4) + visit(3),
    "thread-free": mallocs(SMALL, 20) + mallocs(HUGE, 2, 5) + thread(FREE_T, 20) + SWEEP + mallocs(SMALL, 10),
    "thread-realloc": mallocs(SMALL, 8) + thread(REALLOC_T, 8, sizes=[(MEDIUM, 30000 + i) for i in range(8)])
                      + SWEEP + b"".join(free(i) for i in range(8)),
    "thread-alloc": thread(ALLOC_T, 10, sizes=[(SMALL, 900 * i + 1) for i in range(10)]) + heap(COLLECT_ALL, 0)
                    + thread(FREE_T, 5) + heap(COLLECT_ALL, 0, True) + mallocs(SMALL, 10, 3),
    "thread-done-helper": thread(ALLOC_T, 6, done=True, probe_heap=1, sizes=[(LARGE, 100000)] * 6)
                          + heap(NEW, 1) + thread(ALLOC_T, 3, probe_heap=1, sizes=[(TINY, 3)] * 3),
    "thread-done-main": heap(NEW, 0) + heap_malloc(0, SMALL, 300, 0) + mallocs(TINY, 5, 1) + THREAD_DONE
                        + mallocs(SMALL, 3, 2) + thread(FREE_T, 4) + SWEEP,
    "huge-churn": (malloc(0, HUGER, 1 << 20) + malloc(1, HUGE, 3) + free(0) + realloc(1, HUGER, 5)
                   + free(1)) * 3,
}

rng = random.Random(13)
for i in range(6):
    seeds["random-%d" % i] = bytes(rng.randrange(256) for _ in range(rng.randrange(64, 1024)))

os.makedirs(OUT, exist_ok=True)
for name in os.listdir(OUT):
    if name.startswith("seed-"):
        os.remove(os.path.join(OUT, name))
for name, data in seeds.items():
    with open(os.path.join(OUT, "seed-" + name), "wb") as f:
        f.write(data)
print("%d seeds in %s" % (len(seeds), OUT))
