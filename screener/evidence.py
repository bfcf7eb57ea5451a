"""The evidence bundle: a zip a friend can hand to the police or a lawyer.

    README.txt       what is inside and how to check it
    manifest.json    SHA-256 of every other file, the messages, the audit head
    audit.jsonl      the store's whole audit log, with its hash chain
    messages/        each original byte for byte (.eml; SMS as the stored JSON)
    messages.csv     one row per message: date, channel, sender, headers, tactics, reasons, notes
    report.pdf       a timeline of contact attempts, then each message

`verify_bundle()` checks every file's hash, the audit chain (with the same
hashing as the store, so an edited or removed event is found), that the chain
ends where the manifest says, and that each original's SHA-256 is the one the
audit log recorded when the message was first screened; so changing an
original and the manifest together is still caught.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import zipfile
import zlib
from datetime import date
from pathlib import Path

from screener import mailparts
from screener.errors import ScreenerError
from screener.private import create_private
from screener.store import Store, now
from screener.store import audit as _audit

FORMAT = "screener-evidence/1"
HELD_STATES = ("quarantined", "released", "pending", "error")
_DATE_SQL = "substr(COALESCE(NULLIF(date, ''), received_at), 1, 10)"

README = """Evidence bundle made by screener ({created_at}).

messages/      the original messages exactly as received (.eml files open in any mail
               program; SMS are JSON). Nothing was changed.
report.pdf     a timeline of contact attempts, then every message with its date, channel,
               sender, the headers that matter, the tactics and reasons it was held for,
               and the reviewer's notes.
messages.csv   the same facts as a spreadsheet.
audit.jsonl    every action screener and its users took, in order. Each line carries the
               SHA-256 of the line before it, so a changed or removed line breaks the chain.
manifest.json  the SHA-256 of every file above.

Check it with:  screener evidence verify THIS-FILE.zip
or by hand:     sha256sum each file and compare with manifest.json.
"""


class EvidenceError(ScreenerError):
    """An evidence bundle cannot be made, or its filter is invalid."""


def parse_since(text: str | None) -> str | None:
    """A YYYY-MM-DD date, checked; None for no limit."""
    if not text:
        return None
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise EvidenceError(f"--since: {text!r} is not a date (YYYY-MM-DD)") from None


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def collect(store: Store, person: str | None = None, since: str | None = None) -> list[dict]:
    """The messages that belong in a bundle: everything held or tied to a blocked person."""
    sql = (f"SELECT * FROM messages WHERE (state IN ({','.join('?' * len(HELD_STATES))}) "
           "OR action = 'quarantine' OR blocked_person IS NOT NULL)")
    args: list = list(HELD_STATES)
    if person:
        sql += " AND blocked_person = ?"
        args.append(person)
    if since:
        sql += f" AND {_DATE_SQL} >= ?"
        args.append(since)
    sql += " ORDER BY COALESCE(NULLIF(date, ''), received_at), id"
    items = []
    for row in store.conn.execute(sql, args):
        item = dict(row)
        item["raw"] = bytes(row["raw"])
        item["record"] = json.loads(row["record"])
        for key, empty in (("tags", "[]"), ("tactics", "{}"), ("logistics", "[]"), ("reasons", "[]")):
            item[key] = json.loads(row[key] or empty)
        seen, reasons = set(), []
        for r in item["reasons"]:
            if (r.get("signal"), r.get("detail")) not in seen:
                seen.add((r.get("signal"), r.get("detail")))
                reasons.append(r)
        item["reasons"] = reasons
        item["file"] = f"messages/{row['id']:06d}.{'eml' if row['channel'] == 'email' else 'json'}"
        item["headers"] = mailparts.key_headers(item["raw"]) if row["channel"] == "email" else []
        item["notes"] = [dict(n) for n in store.annotations(row["id"])]
        item["history"] = [dict(e) for e in store.conn.execute(
            "SELECT seq, at, actor, action FROM audit WHERE message = ? ORDER BY seq", (row["id"],))]
        items.append(item)
    return items


def export_bundle(config, store: Store, out: str | Path, *, person: str | None = None, since: str | None = None,
                  actor: str = "cli") -> dict:
    """Write the bundle to `out` (a .zip, made 0600). Returns its manifest.

    The export itself is recorded in the audit log first, so the bundle's
    chain ends with it.
    """
    from screener import __version__
    from screener.evidence_report import csv_bytes, pdf_bytes

    if person and person not in [p.name for p in config.blocked]:
        known = ", ".join(p.name for p in config.blocked) or "none"
        raise EvidenceError(f"--person: {person!r} is not a blocked person in the config (known: {known})")
    with store.write():
        store.audit(actor, "evidence_exported", None, person=person, since=since)
    store.conn.execute("BEGIN")          # one snapshot: messages and audit log agree
    try:
        items = collect(store, person, since)
        events = [dict(r) for r in store.conn.execute(
            "SELECT seq, at, actor, action, message, detail, prev, hash FROM audit ORDER BY seq")]
    finally:
        store.conn.execute("COMMIT")
    created = now()
    meta = {"created_at": created, "created_by": actor, "person": person, "since": since,
            "blocked": [p.name for p in config.blocked], "user": config.user.name}
    files: dict[str, bytes] = {"README.txt": README.format(created_at=created).encode("utf-8")}
    for item in items:
        files[item["file"]] = item["raw"]
    files["audit.jsonl"] = "".join(json.dumps(e, ensure_ascii=False, sort_keys=True) + "\n"
                                   for e in events).encode("utf-8")
    files["messages.csv"] = csv_bytes(items)
    files["report.pdf"] = pdf_bytes(items, meta)
    manifest = {
        "format": FORMAT, "screener_version": __version__, **meta,
        "audit_head": {"seq": events[-1]["seq"], "hash": events[-1]["hash"]} if events else None,
        "messages": [{"id": i["id"], "file": i["file"], "sha256": i["sha256"], "channel": i["channel"],
                      "date": i["date"], "received_at": i["received_at"], "sender": i["sender"]} for i in items],
        "files": {name: sha256(data) for name, data in sorted(files.items())},
    }
    files["manifest.json"] = json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8")
    _write_zip(Path(out), files)
    return manifest


def _write_zip(out: Path, files: dict[str, bytes]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    fd = create_private(tmp)
    try:
        with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in files.items():
                info = zipfile.ZipInfo(name, date_time=_zip_time())
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o600 << 16
                zf.writestr(info, data)
        os.replace(tmp, out)
    except BaseException:
        if tmp.exists():
            tmp.unlink()
        raise


def _zip_time():
    t = now()
    return (int(t[0:4]), int(t[5:7]), int(t[8:10]), int(t[11:13]), int(t[14:16]), int(t[17:19]))


# -- verification -----------------------------------------------------------------------

_SAFE_NAME = re.compile(r"^[A-Za-z0-9._/-]{1,200}$")


def verify_bundle(path: str | Path) -> tuple[list[str], dict]:
    """(problems, counts). Problems are sentences naming the file or event; empty when intact."""
    problems: list[str] = []
    counts = {"files": 0, "messages": 0, "events": 0}
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        return [f"{path}: not a readable zip file ({exc})"], counts
    with zf:
        contents: dict[str, bytes] = {}
        for info in zf.infolist():
            try:
                contents[info.filename] = zf.read(info)
            except (zipfile.BadZipFile, zlib.error, OSError, ValueError) as exc:
                problems.append(f"{info.filename}: damaged in the zip ({exc})")
    if "manifest.json" not in contents:
        return problems + ["manifest.json is missing"], counts
    try:
        manifest = json.loads(contents["manifest.json"].decode("utf-8"))
        listed = dict(manifest["files"])
    except (ValueError, KeyError, TypeError) as exc:
        return problems + [f"manifest.json is not a valid manifest ({exc})"], counts
    if manifest.get("format") != FORMAT:
        problems.append(f"manifest.json: unknown format {manifest.get('format')!r}")
    for name, digest in sorted(listed.items()):
        if name not in contents:
            if not any(p.startswith(f"{name}:") for p in problems):
                problems.append(f"{name}: listed in the manifest but missing")
        elif sha256(contents[name]) != digest:
            problems.append(f"{name}: its SHA-256 does not match the manifest (the file was changed)")
        else:
            counts["files"] += 1
    for name in sorted(set(contents) - set(listed) - {"manifest.json"}):
        problems.append(f"{name}: in the zip but not in the manifest")
    recorded = {}
    if "audit.jsonl" in contents:
        chain, recorded, counts["events"] = _check_chain(contents["audit.jsonl"], manifest.get("audit_head"))
        problems += chain
    for entry in manifest.get("messages", []):
        name, digest, mid = entry.get("file"), entry.get("sha256"), entry.get("id")
        if not isinstance(name, str) or not _SAFE_NAME.match(name) or name not in contents:
            problems.append(f"message {mid}: its file {name!r} is missing")
            continue
        counts["messages"] += 1
        if sha256(contents[name]) != digest:
            problems.append(f"{name}: not the original of message {mid} (SHA-256 differs)")
        elif recorded.get(mid) != digest:
            problems.append(f"{name}: its SHA-256 is not the one the audit log recorded for message {mid}")
    return problems, counts


def _check_chain(data: bytes, head: dict | None) -> tuple[list[str], dict, int]:
    """Load audit.jsonl into a scratch database and run the store's own chain check on it."""
    problems: list[str] = []
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE audit (seq INTEGER PRIMARY KEY, at TEXT, actor TEXT, action TEXT, message INTEGER, "
                 "detail TEXT, prev TEXT, hash TEXT)")
    conn.execute("CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    recorded: dict = {}
    events = 0
    for n, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            e = json.loads(line)
            row = (int(e["seq"]), e["at"], e["actor"], e["action"], e["message"], e["detail"], e["prev"], e["hash"])
            conn.execute("INSERT INTO audit VALUES (?,?,?,?,?,?,?,?)", row)
        except (ValueError, KeyError, TypeError, sqlite3.Error) as exc:
            problems.append(f"audit.jsonl line {n}: not a valid event ({exc})")
            continue
        events += 1
        if e["action"] in ("screened", "unparseable"):
            try:
                recorded.setdefault(e["message"], json.loads(e["detail"]).get("sha256"))
            except (ValueError, AttributeError):
                pass
    if not isinstance(head, dict) or "seq" not in head or "hash" not in head:
        problems.append("manifest.json does not say where the audit log ends")
    else:
        conn.execute("INSERT INTO state (key, value) VALUES ('audit_head', ?)", (f"{head['seq']}:{head['hash']}",))
    problems += [f"audit.jsonl: {p}" for p in _audit.verify(conn)]
    conn.close()
    return problems, recorded, events
