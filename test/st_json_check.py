#!/usr/bin/env python3
"""Runs st_json and checks its statistics (ctest st_json; docs/stats.md).

usage: st_json_check.py PROGRAM
       st_json_check.py --exit PROGRAM   (show_stats=json at exit, into XALLOC_STATS_FILE)
The program prints {"visited_bytes", "visited_blocks", "stats"}; the stats
must parse as JSON of schema_version 1 and add up: allocated - freed == live
== the block sizes xa_heap_visit_blocks found, and the per-class sums equal
the totals."""
import json
import os
import subprocess
import sys
import tempfile


def fail(msg):
    print("st_json_check: FAIL: " + msg)
    sys.exit(1)


def check_exit(program):
    """The report show_stats=json appends to XALLOC_STATS_FILE at exit parses."""
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, XALLOC_SHOW_STATS="json", XALLOC_STATS_FILE=os.path.join(tmp, "s.%p.json"))
        run = subprocess.run([program, "--selfcheck"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             check=True, timeout=240)
        files = os.listdir(tmp)
        if len(files) != 1 or run.stderr:
            fail("expected one stats file and a quiet stderr, got %r and %r" % (files, run.stderr[:200]))
        with open(os.path.join(tmp, files[0])) as f:
            s = json.load(f)
    if s.get("schema_version") != 1 or s["bytes"]["allocated"] - s["bytes"]["freed"] != s["bytes"]["live"]:
        fail("exit report: %r" % s.get("bytes"))
    print("st_json_check: exit report ok (%d size classes)" % len(s["size_classes"]))


def main():
    if sys.argv[1] == "--exit":
        check_exit(sys.argv[2])
        return
    out = subprocess.run([sys.argv[1]], stdout=subprocess.PIPE, check=True, timeout=240).stdout
    doc = json.loads(out)
    s = doc["stats"]
    if s.get("schema_version") != 1:
        fail("schema_version is %r" % s.get("schema_version"))
    b = s["bytes"]
    classes = s["size_classes"]
    print("live %d, allocated %d, freed %d, visited %d bytes in %d blocks, %d classes" %
          (b["live"], b["allocated"], b["freed"], doc["visited_bytes"], doc["visited_blocks"], len(classes)))
    if b["allocated"] - b["freed"] != b["live"]:
        fail("allocated - freed != live")
    if os.environ.get("XA_ST_TRACKED") == "1":
        # Debug builds track blocks (docs/debugging.md): the visit reports the
        # sizes asked for, the statistics count whole blocks, pad included.
        if doc["visited_bytes"] > b["live"]:
            fail("live %d < visited %d" % (b["live"], doc["visited_bytes"]))
    elif b["live"] != doc["visited_bytes"]:
        fail("live %d != visited %d" % (b["live"], doc["visited_bytes"]))
    if b["live_peak"] < b["live"]:
        fail("live_peak < live")
    if sum(c["bytes"] for c in classes) != b["live"]:
        fail("per-class bytes do not add up to live")
    if sum(c["blocks"] for c in classes) != doc["visited_blocks"]:
        fail("per-class blocks %d != visited blocks %d" % (sum(c["blocks"] for c in classes), doc["visited_blocks"]))
    if sum(c["pages"] for c in classes) != sum(s["pages_by_kind"].values()):
        fail("per-class pages do not add up to pages_by_kind")
    if sum(s["pages_by_kind"].values()) != s["gauges"]["pages"]["current"]:
        fail("pages_by_kind %d != pages gauge %d" % (sum(s["pages_by_kind"].values()), s["gauges"]["pages"]["current"]))
    for c in classes:
        if c["kind"] != "huge" and c["blocks"] * c["block_size"] != c["bytes"]:
            fail("class %d: blocks * size != bytes" % c["block_size"])
        if not 0 <= c["fill"] <= 1 or c["blocks"] > c["slots"]:
            fail("class %d: fill %r, %d blocks in %d slots" % (c["block_size"], c["fill"], c["blocks"], c["slots"]))
    huge = [c for c in classes if c["kind"] == "huge"]
    if not huge or huge[0]["blocks"] != s["huge"]["blocks"] or s["huge"]["blocks"] < 1 + 4:
        fail("huge blocks: %r" % s["huge"])
    for k in ("small", "medium", "large"):
        if s["pages_by_kind"][k] <= 0:
            fail("no %s page" % k)
    if s["events"]["cross_thread_frees"] < 4 * 600:
        fail("cross_thread_frees %d" % s["events"]["cross_thread_frees"])
    if s["events"]["huge_allocs"] < 2 + 4:
        fail("huge_allocs %d" % s["events"]["huge_allocs"])
    print("st_json_check: ok")


main()
