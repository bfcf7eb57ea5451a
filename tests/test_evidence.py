"""The evidence bundle: exported from a store filled with real records,
verified, then tampered with one byte at a time."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import stat
import zipfile

import pytest

from screener.evidence import EvidenceError, export_bundle, verify_bundle
from screener.evidence_report import _cell
from screener.store import Store
from tests import webdata
from tests.conftest import run_cli


@pytest.fixture(scope="module")
def bundle(config, model, tmp_path_factory):
    """A store with every record and two hostile emails, a note, and a bundle exported by the CLI."""
    folder = tmp_path_factory.mktemp("evidence")
    config_path = folder / "config.toml"
    from tests.conftest import CONFIG

    config_path.write_text(CONFIG.format(mode="co_parenting") + f'\n[store]\npath = "{folder / "store.db"}"\n')
    store = Store(folder / "store.db")
    ids = webdata.fill(config, model, store, hostile=webdata.HOSTILE[:2])
    store.annotate(ids["us"], "friend:dana", "note", "Third message about the same weekend.")
    store.close()
    out = folder / "bundle.zip"
    done = run_cli("evidence", "export", "--config", config_path, out)
    assert done.returncode == 0, done.stderr
    return folder, config_path, out, ids


def _rewrite(src, dest, change):
    """Copy a zip, passing each member's bytes through change(name, data)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, change(info.filename, zin.read(info)))
    return dest


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]


def test_export_contents(bundle):
    folder, _, out, ids = bundle
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    with zipfile.ZipFile(out) as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read("manifest.json"))
        assert {"README.txt", "manifest.json", "audit.jsonl", "messages.csv", "report.pdf"} <= names
        with Store(folder / "store.db", readonly=True) as store:
            for entry in manifest["messages"]:
                row = store.get(entry["id"])
                assert zf.read(entry["file"]) == bytes(row["raw"])           # byte for byte
                assert entry["sha256"] == hashlib.sha256(bytes(row["raw"])).hexdigest()
            held = {r["id"] for r in store.conn.execute("SELECT id FROM messages WHERE state = 'quarantined'")}
        assert {e["id"] for e in manifest["messages"]} == held and ids["lunch"] not in held
        sms = next(e for e in manifest["messages"] if e["channel"] == "sms")
        assert sms["file"].endswith(".json") and json.loads(zf.read(sms["file"]))["body"].startswith("I know")
        pdf = zf.read("report.pdf")
        assert pdf.startswith(b"%PDF-") and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") >= 3
        rows = list(csv.DictReader(io.StringIO(zf.read("messages.csv").decode("utf-8-sig"))))
        assert len(rows) == len(manifest["messages"])
        first = next(r for r in rows if int(r["id"]) == ids["us"])
        assert "Third message about the same weekend." in first["notes"] and "guilt tripping" in first["tactics"]
        assert first["message_id_header"].startswith("<") and first["text"].startswith("After everything")
        cyrillic = next(r for r in rows if int(r["id"]) == ids["Привет — ça va?"])
        assert cyrillic["sender_name"] == "Алекс Морган" and cyrillic["subject"] == "Привет — ça va?"
        events = [json.loads(line) for line in zf.read("audit.jsonl").splitlines()]
        assert events[-1]["action"] == "evidence_exported" and manifest["audit_head"]["seq"] == events[-1]["seq"]
    done = run_cli("evidence", "verify", out)
    assert done.returncode == 0 and "intact" in done.stdout, done.stderr


def test_one_changed_byte_anywhere_is_found(bundle, tmp_path):
    _, _, out, _ = bundle
    assert verify_bundle(out)[0] == []
    with zipfile.ZipFile(out) as zf:
        eml = next(n for n in zf.namelist() if n.endswith(".eml"))
    for name in (eml, "report.pdf", "messages.csv", "audit.jsonl", "README.txt"):
        bad = _rewrite(out, tmp_path / f"bad-{name.replace('/', '_')}.zip",
                       lambda n, d: _flip(d, len(d) // 2) if n == name else d)
        problems, _ = verify_bundle(bad)
        assert any(p.startswith(name) for p in problems), (name, problems)
        done = run_cli("evidence", "verify", bad)
        assert done.returncode == 1 and name in done.stderr
    raw = bytearray(out.read_bytes())
    raw[len(raw) // 3] ^= 0xFF                                       # a byte of the zip file itself
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(bytes(raw))
    assert verify_bundle(damaged)[0] != []


def test_changing_an_original_and_the_manifest_together_is_still_found(bundle, tmp_path):
    _, _, out, _ = bundle
    with zipfile.ZipFile(out) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    target = manifest["messages"][0]["file"]
    forged = {}

    def change(name, data):
        if name == target:
            forged["data"] = data.replace(b"you owe me", b"you owe us", 1)
            assert forged["data"] != data
            return forged["data"]
        if name == "manifest.json":
            m = json.loads(data)
            digest = hashlib.sha256(forged["data"]).hexdigest()
            m["files"][target] = digest
            m["messages"][0]["sha256"] = digest
            return json.dumps(m).encode()
        return data

    problems, _ = verify_bundle(_rewrite(out, tmp_path / "forged.zip", change))
    assert problems == [f"{target}: its SHA-256 is not the one the audit log recorded for message "
                        f"{manifest['messages'][0]['id']}"]


def test_removed_audit_event_or_extra_file_is_found(bundle, tmp_path):
    _, _, out, _ = bundle

    def drop_event(name, data):
        if name != "audit.jsonl":
            return data
        lines = data.splitlines(keepends=True)
        return b"".join(lines[:3] + lines[4:])

    def fix_manifest(path):
        with zipfile.ZipFile(path) as zf:
            audit = zf.read("audit.jsonl")
        return _rewrite(path, tmp_path / "fixed.zip", lambda n, d: d if n != "manifest.json" else json.dumps(
            {**json.loads(d), "files": {**json.loads(d)["files"],
                                        "audit.jsonl": hashlib.sha256(audit).hexdigest()}}).encode())

    problems, _ = verify_bundle(fix_manifest(_rewrite(out, tmp_path / "cut.zip", drop_event)))
    assert "audit.jsonl: audit event 4 is missing (next is 5)" in problems
    assert "audit.jsonl: audit event 5 does not follow the event before it" in problems
    extra = tmp_path / "extra.zip"
    extra.write_bytes(out.read_bytes())
    with zipfile.ZipFile(extra, "a") as zf:
        zf.writestr("messages/999999.eml", b"From: someone\n\nadded later")
    assert verify_bundle(extra)[0] == ["messages/999999.eml: in the zip but not in the manifest"]


def test_person_and_since_filters(bundle, config, tmp_path):
    folder, config_path, _, ids = bundle
    with Store(folder / "store.db") as store:
        manifest = export_bundle(config, store, tmp_path / "b.zip", person="Alex Morgan", since="2026-03-06")
        assert {e["id"] for e in manifest["messages"]} == {ids["new email"], ids["Привет — ça va?"],
                                                           ids["hostile script"], ids["hostile onerror"],
                                                           ids["hostile inline-image"]}
        with pytest.raises(EvidenceError, match="not a blocked person"):
            export_bundle(config, store, tmp_path / "c.zip", person="Nobody")
    assert verify_bundle(tmp_path / "b.zip")[0] == []
    done = run_cli("evidence", "export", "--config", config_path, "--since", "last week", tmp_path / "d.zip")
    assert done.returncode == 1 and "--since" in done.stderr and not (tmp_path / "d.zip").exists()


def test_not_a_bundle(tmp_path):
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip at all")
    assert "not a readable zip file" in verify_bundle(junk)[0][0]
    empty = tmp_path / "empty.zip"
    zipfile.ZipFile(empty, "w").close()
    assert verify_bundle(empty)[0] == ["manifest.json is missing"]


@pytest.mark.parametrize("value, cell", [("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"), ("@SUM(A1)", "'@SUM(A1)"),
                                         ("+14155550142", "+14155550142"), ("-cmd|x", "'-cmd|x"),
                                         ("", ""), ("plain", "plain"), ("a\x00b\u202ec", "abc")])
def test_csv_cells_cannot_run_as_formulas(value, cell):
    assert _cell(value) == cell
