#!/usr/bin/env python3
"""
Writes a TrailStax trail export (trail.py AuditTrail.export) of N entries, deterministically:
uuids and timestamps come from a seeded generator instead of uuid4() and time.time(), and
everything else is what trail.py does (the same dict, the same json.dumps hash rule, the
same json.dump(..., indent=2) export).

Usage: trailstax_gen.py OUT ENTRIES [SEED]
"""
import hashlib
import json
import random
import sys
import uuid

GENESIS = "0" * 64
ACTIONS = ["session.start", "iam.role_check", "http.request", "scan.deep", "math.check", "session.complete"]

# The payload shapes a faithful verifier must get right: nested dicts, non-ASCII (BMP and
# astral), floats Python prints its own way, ints beyond 2**53, empty containers.
PAYLOADS = [
    {"target": "example.com", "mode": "passive"},
    {"role": "storage.admin", "granted": True, "scopes": ["read", "write"]},
    {"method": "GET", "url": "https://example.com/api/v1/items?page=3", "latency_ms": 12.5, "note": "café"},
    {"nested": {"depth": {"level": 3, "values": [1, 2.0, 1e-07]}}, "emoji": "\U0001F50D ok"},
    {"big": 2**64 + 1, "neg": -12345678901234567890123, "ratio": 0.1, "huge": 1e300, "tiny": 5e-324},
    {"duration_ms": 2140, "findings": 2, "empty": {}, "none": None, "list": []},
]


def compact_hash(d):
    return hashlib.sha256(json.dumps(d, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


def main(out, n, seed):
    rng = random.Random(seed)
    agent_id = "recon-agent-001"
    session_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    entries = []
    prev = GENESIS
    for i in range(n):
        payload = dict(PAYLOADS[i % len(PAYLOADS)])
        entry = {
            "entry_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "agent_id": agent_id,
            "action": ACTIONS[i % len(ACTIONS)],
            "payload": payload,
            "timestamp": 1735689600.0 + i * 0.0137 + rng.random() / 1000,
            "session_id": session_id,
            "sequence": i,
            "prev_hash": prev,
        }
        entry["entry_hash"] = compact_hash(entry)
        prev = entry["entry_hash"]
        entries.append(entry)
    data = {
        "trailstax_version": "0.1.0",
        "session_id": session_id,
        "agent_id": agent_id,
        "total_entries": len(entries),
        "chain_valid": True,
        "genesis_hash": GENESIS,
        "tail_hash": prev,
        "entries": entries,
    }
    with open(out, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 1)
