#!/usr/bin/env python3
"""
The verifier a TrailStax user would otherwise run (trail.py's own verify(), over an export):
json.load the file, then for each entry recompute
SHA-256(json.dumps(entry without entry_hash, sort_keys=True, separators=(",", ":"))) and
check the sequence and the prev_hash link. A whole process, like `stax verify`.
"""
import hashlib
import json
import sys

GENESIS = "0" * 64

with open(sys.argv[1], encoding="utf-8") as f:
    data = json.load(f)
prev = GENESIS
bad = 0
for i, e in enumerate(data["entries"]):
    body = {k: v for k, v in e.items() if k != "entry_hash"}
    h = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()
    if h != e["entry_hash"] or e["sequence"] != i or e["prev_hash"] != prev:
        bad += 1
    prev = e["entry_hash"]
if data["tail_hash"] != prev or data["total_entries"] != len(data["entries"]):
    bad += 1
print("%d entries, %d bad" % (len(data["entries"]), bad))
sys.exit(0 if bad == 0 else 1)
