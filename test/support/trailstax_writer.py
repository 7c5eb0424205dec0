#!/usr/bin/env python3
"""
A small, faithful re-implementation of what TrailStax writes, so that tests can generate
real files with a real Python: trail.py (AuditTrail.export), codebank.py (CodeBank.export)
and guardian.py (guardian_trail.jsonl and approved_registry.json).

The rules, as the original programs apply them (and as fixtures/trailstax and
fixtures/guardian show):
- trail / code bank: each entry's hash is SHA-256 of
  json.dumps(fields, sort_keys=True, separators=(",", ":")) over the entry without its own
  hash; entries link by prev_hash from 64 zeros; export() is json.dump(..., indent=2).
- guardian trail: chain_hash = SHA-256(previous chain_hash + json.dumps(line, sort_keys=True))
  with default separators; one json.dumps(line) per line.
- guardian registry: each entry signed on its own, HMAC-SHA256 over
  json.dumps(entry without signature, sort_keys=True); json.dump(registry, indent=2).

Usage:
  trailstax_writer.py suite OUTDIR --entries N --hmac-key KEY
  trailstax_writer.py trail OUT [--entries N] [--payloads FILE] [--pad BYTES] [--minify]
  trailstax_writer.py codebank OUT [--metadata FILE]
  trailstax_writer.py registry OUTDIR --packages NAME=VERSION,... --hmac-key KEY
"""
import argparse
import hashlib
import hmac
import json
import os
import sys
import time
import uuid
from datetime import datetime, timezone

GENESIS = "0" * 64


def _sha256(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _compact_hash(d):
    return _sha256(json.dumps(d, sort_keys=True, separators=(",", ":")))


def _write_json(path, data, minify=False):
    with open(path, "w", encoding="utf-8") as f:
        if minify:
            json.dump(data, f, separators=(",", ":"))
        else:
            json.dump(data, f, indent=2)


class AuditTrail:
    """trail.py: an append-only, hash-chained log of one agent session."""

    def __init__(self, agent_id, session_id=None):
        self.agent_id = agent_id
        self.session_id = session_id or str(uuid.uuid4())
        self.entries = []

    def _make(self, action, payload, sequence, prev_hash):
        entry = {
            "entry_id": str(uuid.uuid4()),
            "agent_id": self.agent_id,
            "action": action,
            "payload": payload,
            "timestamp": time.time(),
            "session_id": self.session_id,
            "sequence": sequence,
            "prev_hash": prev_hash,
        }
        entry["entry_hash"] = _compact_hash(entry)
        return entry

    def log(self, action, payload):
        prev = self.entries[-1]["entry_hash"] if self.entries else GENESIS
        entry = self._make(action, payload, len(self.entries), prev)
        self.entries.append(entry)
        return entry

    def forge(self, position):
        """A well-formed entry someone could slip in at `position`: own hash right, linked to the one before."""
        prev = self.entries[position - 1]["entry_hash"] if position > 0 else GENESIS
        return self._make("forged.insert", {"forged": True, "at": position}, position, prev)

    def verify(self):
        prev = GENESIS
        for i, e in enumerate(self.entries):
            body = {k: v for k, v in e.items() if k != "entry_hash"}
            if e["sequence"] != i or e["prev_hash"] != prev or _compact_hash(body) != e["entry_hash"]:
                return False
            prev = e["entry_hash"]
        return True

    def export(self, path, minify=False):
        data = {
            "trailstax_version": "0.1.0",
            "session_id": self.session_id,
            "agent_id": self.agent_id,
            "total_entries": len(self.entries),
            "chain_valid": self.verify(),
            "genesis_hash": GENESIS,
            "tail_hash": self.entries[-1]["entry_hash"] if self.entries else GENESIS,
            "entries": self.entries,
        }
        _write_json(path, data, minify)


class CodeBank:
    """codebank.py: a hash-chained record of code an agent ran."""

    def __init__(self, agent_id):
        self.agent_id = agent_id
        self.bank_id = str(uuid.uuid4())
        self.commits = []

    def _make(self, label, code, file_path, metadata, sequence, prev_hash):
        commit = {
            "commit_id": str(uuid.uuid4()),
            "agent_id": self.agent_id,
            "label": label,
            "code_hash": _sha256(code),
            "file_path": file_path,
            "metadata": metadata or {},
            "timestamp": time.time(),
            "sequence": sequence,
            "prev_hash": prev_hash,
        }
        commit["commit_hash"] = _compact_hash(commit)
        return commit

    def commit(self, label, code, file_path="<inline>", metadata=None):
        prev = self.commits[-1]["commit_hash"] if self.commits else GENESIS
        c = self._make(label, code, file_path, metadata, len(self.commits), prev)
        self.commits.append(c)
        return c

    def forge(self, position):
        prev = self.commits[position - 1]["commit_hash"] if position > 0 else GENESIS
        return self._make("forged.py", "print('forged')\n", "<inline>", {"forged": True}, position, prev)

    def verify(self):
        prev = GENESIS
        for i, c in enumerate(self.commits):
            body = {k: v for k, v in c.items() if k != "commit_hash"}
            if c["sequence"] != i or c["prev_hash"] != prev or _compact_hash(body) != c["commit_hash"]:
                return False
            prev = c["commit_hash"]
        return True

    def export(self, path, minify=False):
        data = {
            "codebank_version": "0.1.0",
            "bank_id": self.bank_id,
            "agent_id": self.agent_id,
            "total_commits": len(self.commits),
            "chain_valid": self.verify(),
            "genesis_hash": GENESIS,
            "tail_hash": self.commits[-1]["commit_hash"] if self.commits else GENESIS,
            "commits": self.commits,
        }
        _write_json(path, data, minify)


class Guardian:
    """guardian.py: an install allowlist signed with HMAC, and a chained trail of decisions."""

    def __init__(self, directory, key):
        self.key = key.encode("utf-8")
        self.registry_path = os.path.join(directory, "approved_registry.json")
        self.trail_path = os.path.join(directory, "guardian_trail.jsonl")
        self.registry = {}
        self.lines = []
        self._last_hash = GENESIS
        open(self.trail_path, "w").close()

    @staticmethod
    def _now():
        return datetime.now(timezone.utc).isoformat()

    def sign(self, entry):
        return hmac.new(self.key, json.dumps(entry, sort_keys=True).encode("utf-8"), hashlib.sha256).hexdigest()

    def _chain(self, line, prev):
        return _sha256(prev + json.dumps(line, sort_keys=True))

    def _log(self, event, package, version, outcome, detail):
        line = {"timestamp": self._now(), "event": event, "package": package, "version": version, "outcome": outcome, "detail": detail}
        line["chain_hash"] = self._chain(line, self._last_hash)
        self._last_hash = line["chain_hash"]
        self.lines.append(line)
        with open(self.trail_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(line) + "\n")

    def forge_line(self, position):
        prev = self.lines[position - 1]["chain_hash"] if position > 0 else GENESIS
        line = {"timestamp": self._now(), "event": "APPROVED", "package": "evil-pkg", "version": "6.6.6", "outcome": "APPROVED", "detail": "forged at %d" % position}
        line["chain_hash"] = self._chain(line, prev)
        return line

    def make_entry(self, package, version, expected_hash="", approved_by="human", key=None):
        entry = {"package": package, "version": version, "expected_hash": expected_hash, "approved_at": self._now(), "approved_by": approved_by}
        signing_key = self.key if key is None else key.encode("utf-8")
        entry["signature"] = hmac.new(signing_key, json.dumps(entry, sort_keys=True).encode("utf-8"), hashlib.sha256).hexdigest()
        return entry

    def approve(self, package, version, expected_hash="", approved_by="human"):
        self.registry[package] = self.make_entry(package, version, expected_hash, approved_by)
        _write_json(self.registry_path, self.registry)
        self._log("APPROVED", package, version, "APPROVED", "Added to allowlist by %s" % approved_by)

    def check_install(self, package, version):
        entry = self.registry.get(package)
        if entry is None:
            self._log("INSTALL_ATTEMPT", package, version, "BLOCKED", "Package '%s' not in approved registry" % package)
            return False
        if entry["version"] != version:
            self._log("INSTALL_ATTEMPT", package, version, "BLOCKED", "Version mismatch: requested %s, approved %s" % (version, entry["version"]))
            return False
        self._log("INSTALL_ATTEMPT", package, version, "ALLOWED", "Approved")
        return True


# Payloads that exercise what a faithful verifier must get right: nested dicts, non-ASCII
# (BMP and astral), floats Python prints its own way, ints beyond 2**53, empty containers.
DEFAULT_PAYLOADS = [
    {"target": "example.com", "mode": "passive"},
    {"role": "storage.admin", "granted": True, "scopes": ["read", "write"]},
    {"method": "GET", "url": "https://example.com/", "latency_ms": 12.5, "note": "café"},
    {"nested": {"depth": {"level": 3, "values": [1, 2.0, 1e-07]}}, "emoji": "\U0001F50D ok"},
    {"big": 2**64 + 1, "neg": -12345678901234567890123, "ratio": 0.1, "huge": 1e300, "tiny": 5e-324},
    {"duration_ms": 2140, "findings": 2, "empty": {}, "none": None, "list": []},
]

DEFAULT_CODE = [
    ("recon_agent.py", 'print("recon")\n', "/srv/recon-agent/agents/recon_agent.py", {}),
    ("utils.py", "def util():\n    return 42", "/srv/recon-agent/agents/utils.py", {"version": "1.2.0"}),
    ("firewall.rule", "deny all", "<inline>", {"review": {"by": "René", "score": 0.5}}),
    ("scan.py", "import os\n", "<inline>", {"lines": 120, "ratio": 1e-07, "size": 2**70}),
    ("report.md", "# Rapport d'activité\n", "/srv/recon-agent/report.md", {"tags": ["a", "b"], "weight": 12.5}),
    ("cleanup.sh", "rm -rf /tmp/x\n", "<inline>", {"nested": {"a": {"b": [1, 2.0]}}}),
]

PACKAGES = [("requests", "2.31.0"), ("redis", "5.0.1"), ("numpy", "1.26.0"), ("flask", "3.0.0"), ("pyyaml", "6.0.1"), ("urllib3", "2.0.7")]


def payload_for(i, pad):
    p = dict(DEFAULT_PAYLOADS[i % len(DEFAULT_PAYLOADS)])
    if pad:
        p["pad"] = "x" * pad
    return p


def write_suite(out, n, key):
    os.makedirs(out, exist_ok=True)
    trail = AuditTrail("recon-agent-001")
    for i in range(n):
        trail.log(["session.start", "iam.role_check", "http.request", "scan.deep", "math.check", "session.complete"][i % 6], payload_for(i, 0))
    trail.export(os.path.join(out, "session_trail.json"))
    _write_json(os.path.join(out, "trail_spares.json"), [trail.forge(k) for k in range(n)])

    bank = CodeBank("recon-agent-001")
    for i in range(n):
        label, code, path, meta = DEFAULT_CODE[i % len(DEFAULT_CODE)]
        bank.commit(label, code, path, meta)
    bank.export(os.path.join(out, "codebank.json"))
    _write_json(os.path.join(out, "codebank_spares.json"), [bank.forge(k) for k in range(n)])

    guardian = Guardian(out, key)
    approvers = ["human", "René", "human", "ci-bot", "human", "Zoë"]
    for i in range(n):
        name, version = PACKAGES[i % len(PACKAGES)]
        guardian.approve(name, version, approved_by=approvers[i % len(approvers)])
    guardian.check_install("requests", "2.31.0")
    guardian.check_install("left-pad", "1.3.0")
    guardian.check_install("redis", "5.0.2")
    _write_json(os.path.join(out, "guardian_spares.json"), [guardian.forge_line(k) for k in range(len(guardian.lines))])
    extras = {
        # Earlier approvals, signed with the right key: what a rollback puts back.
        "older": {name: guardian.make_entry(name, "0.0.1", approved_by="human") for name, _ in PACKAGES[:n]},
        # An approval someone made without the key.
        "forged": guardian.make_entry("evil-pkg", "6.6.6", approved_by="mallory", key="not-the-key"),
    }
    _write_json(os.path.join(out, "registry_extras.json"), extras)


def main(argv):
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("suite")
    s.add_argument("out")
    s.add_argument("--entries", type=int, default=6)
    s.add_argument("--hmac-key", required=True)
    t = sub.add_parser("trail")
    t.add_argument("out")
    t.add_argument("--entries", type=int, default=6)
    t.add_argument("--payloads", help="a JSON file holding a list of payloads, one entry each")
    t.add_argument("--pad", type=int, default=0, help="add a string of this many bytes to each payload")
    t.add_argument("--minify", action="store_true")
    c = sub.add_parser("codebank")
    c.add_argument("out")
    c.add_argument("--metadata", help="a JSON file holding a list of metadata dicts, one commit each")
    r = sub.add_parser("registry")
    r.add_argument("out")
    r.add_argument("--packages", required=True)
    r.add_argument("--hmac-key", required=True)
    args = ap.parse_args(argv)

    if args.cmd == "suite":
        write_suite(args.out, args.entries, args.hmac_key)
    elif args.cmd == "trail":
        trail = AuditTrail("recon-agent-001")
        if args.payloads:
            with open(args.payloads, encoding="utf-8") as f:
                payloads = json.load(f)
        else:
            payloads = [payload_for(i, args.pad) for i in range(args.entries)]
        for i, p in enumerate(payloads):
            trail.log("step.%d" % i, p)
        trail.export(args.out, minify=args.minify)
    elif args.cmd == "codebank":
        bank = CodeBank("recon-agent-001")
        with open(args.metadata, encoding="utf-8") as f:
            metas = json.load(f)
        for i, m in enumerate(metas):
            bank.commit("file%d.py" % i, "print(%d)\n" % i, "<inline>", m)
        bank.export(args.out)
    elif args.cmd == "registry":
        os.makedirs(args.out, exist_ok=True)
        guardian = Guardian(args.out, args.hmac_key)
        for spec in args.packages.split(","):
            name, version = spec.split("=")
            guardian.approve(name, version)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
