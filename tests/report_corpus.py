"""Screened corpora in temporary stores, and an independent no-leak checker,
for the summary, digest, alert and schedule tests."""

from __future__ import annotations

import json
import re
import shutil
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path

from screener.config import load_config
from screener.ingest import screen_into_store, screener_for
from screener.message import Message
from screener.store import Incoming, Store

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "demo"
PERSONAS = ROOT / "data" / "personas"
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)   # the demo's last message is on 19 Nov 2026


class Corpus:
    def __init__(self, config, store: Store, records: dict, stored: list):
        self.config, self.store, self.records, self.stored = config, store, records, stored

    def held_records(self) -> list[dict]:
        ids = [r["record_id"] for r in self.store.conn.execute(
            "SELECT record_id FROM messages WHERE action = 'quarantine'")]
        return [self.records[i] for i in ids]

    def close(self):
        self.store.close()


def items_from(lines: list[str]) -> tuple[list[Incoming], dict]:
    items, records = [], {}
    for line in lines:
        record = json.loads(line)
        record = {k: v for k, v in record.items() if not k.startswith("expected")}
        msg = Message.from_dict(record)
        records[msg.id] = record
        items.append(Incoming(message=msg, raw=line.encode("utf-8"), source="file", dedup_key=msg.id))
    return items, records


def screen_corpus(config, model, lines: list[str]) -> Corpus:
    store = Store.for_config(config)
    items, records = items_from(lines)
    stored = screen_into_store(screener_for(config, model, store), store, items, "import")
    return Corpus(config, store, records, stored)


def demo_config(folder: Path, extra: str = "", mode: str | None = None):
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(DEMO / "history.jsonl", folder / "history.jsonl")
    text = (DEMO / "config.toml").read_text()
    if mode:
        text = text.replace('mode = "co_parenting"', f'mode = "{mode}"')
    (folder / "config.toml").write_text(text + '\n[store]\npath = "store/screener.db"\n' + extra)
    return load_config(folder / "config.toml")


def demo_corpus(folder: Path, model, extra: str = "") -> Corpus:
    config = demo_config(folder, extra)
    return screen_corpus(config, model, (DEMO / "messages.jsonl").read_text().splitlines())


def persona_corpus(folder: Path, model, name: str, with_benign: bool = True) -> Corpus:
    """A persona's later messages (and the shared benign ones), in co_parenting mode so the digest runs."""
    p = json.loads((PERSONAS / name / "persona.json").read_text())
    folder.mkdir(parents=True, exist_ok=True)
    user = p["user"]
    text = f"""
[user]
name = {json.dumps(user["name"])}
emails = {json.dumps(user["emails"])}
phones = {json.dumps(user["phones"])}
region = {json.dumps(p["region"])}
[policy]
mode = "co_parenting"
[[blocked]]
name = {json.dumps(p["name"])}
nicknames = {json.dumps(p["nicknames"])}
emails = {json.dumps(p["emails"])}
phones = {json.dumps(p["phones"])}
history = {json.dumps(str(PERSONAS / name / "history.jsonl"))}
[store]
path = "store/screener.db"
"""
    (folder / "config.toml").write_text(text)
    config = load_config(folder / "config.toml")
    lines = (PERSONAS / name / "later.jsonl").read_text().splitlines()
    if with_benign:
        lines += (PERSONAS / "benign.jsonl").read_text().splitlines()
    return screen_corpus(config, model, lines)


# -- the no-leak check, written independently of screener.leakguard ----------------------------

def word_runs(text: str, n: int = 4) -> set[str]:
    """Runs of n words, case-insensitive, punctuation stripped (read two ways: punctuation splits words,
    or punctuation is dropped from inside words)."""
    low = text.lower()
    readings = [re.findall(r"\w+", low),
                [w for w in (re.sub(r"\W", "", t) for t in low.split()) if w]]
    return {" ".join(ws[i:i + n]) for ws in readings for i in range(len(ws) - n + 1)}


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.alts, self._skip = [], [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script"):
            self._skip += 1
        for name, value in attrs:
            if name in ("alt", "title") and value:
                self.alts.append(value)

    def handle_endtag(self, tag):
        if tag in ("style", "script"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def html_text(page: str) -> tuple[str, list[str]]:
    """(the page's visible text with entities decoded, its alt and title texts)."""
    parser = _Text()
    parser.feed(page)
    parser.close()
    return " ".join(parser.parts), parser.alts


def leaked_runs(output: str, held: list[dict]) -> set[str]:
    """Runs of four or more words shared by `output` and any held message's subject or body."""
    said = word_runs(output)
    found = set()
    for record in held:
        found |= said & (word_runs(record.get("subject") or "") | word_runs(record.get("body") or ""))
    return found


def assert_no_leak(output: str, held: list[dict], fmt: str = "text") -> None:
    texts = [output]
    if fmt == "html":
        visible, alts = html_text(output)
        texts = [visible, *alts]
    for text in texts:
        leaked = leaked_runs(text, held)
        assert not leaked, f"output repeats words of a held message: {sorted(leaked)[:5]}"
