"""The co-parenting digest: only the neutral logistics facts from a blocked
person's held messages ("Handover: Sat 19 Apr, 14:00, Chorlton Water Park").

Facts are deduplicated and compared with the last delivered digest (the
`digests` table): each is marked new, changed (same kind and day, different
details) or as before. A held message the model found practical but with no
date, time or amount extracted is counted, never described: "a held message
may contain practical details; ask your trusted friend". A final guard drops
any part of a fact that repeats four or more words of a held message.

`render_digest()` only reads; whoever delivers a digest calls `record_digest()`.
"""

from __future__ import annotations

import html
import json
import re
import textwrap
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from screener import leakguard
from screener.labels import LOGISTICS_KINDS
from screener.signals.content import NO_FACTS
from screener.summary_data import message_time
from screener.timeutil import day, iso, parse_iso, plural, utcnow

_DAY = re.compile(r"\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
                  r"(?: \d{4})?\b")
WITHHELD = "details not shown"
PARTLY = "some details not shown"


@dataclass
class Fact:
    person: str
    kind: str
    text: str
    status: str = "same"          # new | changed | same
    before: str | None = None     # what a changed fact said in the last digest

    @property
    def line(self) -> str:
        return f"{self.kind.capitalize()}: {self.text}"


@dataclass
class Digest:
    start: datetime | None
    end: datetime
    enabled: bool
    facts: list[Fact] = field(default_factory=list)
    vague: int = 0                 # held messages with practical content but no fact extracted
    last: datetime | None = None   # when the previous digest was delivered


def is_vague(fact: dict) -> bool:
    return fact == NO_FACTS or (fact.get("kind") == "other" and "no date, time or amount" in fact.get("text", ""))


def collect(config, store, since: timedelta | None, now: datetime | None = None) -> Digest:
    end = now or utcnow()
    start = end - since if since is not None else None
    out = Digest(start=start, end=end, enabled=config.policy.mode == "co_parenting")
    if not out.enabled:
        return out
    found: dict[tuple[str, str, str], Fact] = {}
    sources: set[str] = set()
    order: dict[tuple, int] = {}
    for row in store.conn.execute(
            "SELECT id, date, received_at, record, logistics, blocked_person FROM messages WHERE action = 'quarantine' "
            "AND blocked_person IS NOT NULL AND logistics != '[]' ORDER BY id"):
        when = message_time(row["date"], parse_iso(row["received_at"]) or end)
        if start is not None and when < start:
            continue
        facts = json.loads(row["logistics"])
        record = json.loads(row["record"])
        sources |= leakguard.runs(f"{record.get('subject', '')}\n{record.get('body', '')}")
        if any(is_vague(f) for f in facts):
            out.vague += 1
        for f in facts:
            if is_vague(f) or not f.get("text"):
                continue
            kind = f.get("kind") if f.get("kind") in LOGISTICS_KINDS else "other"
            text = " ".join(str(f["text"]).split()).rstrip(".")
            key = (row["blocked_person"], kind, text.casefold())
            if key not in found:
                found[key] = Fact(key[0], kind, text)
                order[key] = (when, len(order))
    facts = sorted(found.values(), key=lambda f: (f.person, LOGISTICS_KINDS.index(f.kind),
                                                  order[(f.person, f.kind, f.text.casefold())]))
    out.facts = _guard(facts, sources)
    _mark(store, out)
    return out


def _guard(facts: list[Fact], sources: set[str]) -> list[Fact]:
    """Keep only the parts of each fact that repeat no run of a held message's words."""
    kept: list[Fact] = []
    for fact in facts:
        if leakguard.leaks(fact.line, sources):
            parts: list[str] = []
            for part in fact.text.split(", "):
                if not leakguard.leaks(f"{fact.kind.capitalize()}: {', '.join(parts + [part])}", sources):
                    parts.append(part)
            fact.text = f"{', '.join(parts)} ({PARTLY})" if parts else WITHHELD
            if leakguard.leaks(fact.line, sources):
                fact.text = WITHHELD
        if kept and leakguard.leaks(f"{kept[-1].line}. {fact.line}", sources):
            fact.text = WITHHELD
        if not any(k.kind == fact.kind and k.text == fact.text and k.person == fact.person for k in kept):
            kept.append(fact)
    return kept


def _days(text: str) -> set[str]:
    return set(_DAY.findall(text))


def _mark(store, digest: Digest) -> None:
    row = store.conn.execute("SELECT created_at, facts FROM digests ORDER BY id DESC LIMIT 1").fetchone()
    previous = json.loads(row["facts"]) if row else []
    digest.last = parse_iso(row["created_at"]) if row else None
    seen = {(p.get("person", ""), p["kind"], p["text"].casefold()) for p in previous}
    for fact in digest.facts:
        if (fact.person, fact.kind, fact.text.casefold()) in seen:
            fact.status = "same"
            continue
        fact.status = "new"
        days = _days(fact.text)
        for p in previous:
            if p.get("person", "") == fact.person and p["kind"] == fact.kind and days & _days(p["text"]):
                fact.status, fact.before = "changed", p["text"]
                break


def record_digest(store, digest: Digest, actor: str = "schedule") -> None:
    """Remember what was delivered, so that the next digest can say what is new."""
    facts = [{"person": f.person, "kind": f.kind, "text": f.text} for f in digest.facts]
    with store.write():
        store.conn.execute("INSERT INTO digests (created_at, facts) VALUES (?, ?)",
                           (iso(digest.end), json.dumps(facts, ensure_ascii=False)))
        store.audit(actor, "digest_delivered", None, facts=len(facts), vague=digest.vague)


def _mark_word(fact: Fact) -> str:
    if fact.status == "new":
        return "new"
    if fact.status == "changed":
        return f"changed, was: {fact.before}"
    return ""


def text_lines(digest: Digest) -> list[str]:
    """The digest as lines of plain text (also used inside the summary)."""
    if not digest.enabled:
        return ["The co-parenting digest is off (it is used only in co_parenting mode)."]
    since = f" since {day(digest.start)}" if digest.start else ""
    if not digest.facts and not digest.vague:
        return [f"No practical details in held messages{since}."]
    out = [f"Practical details from held messages{since}.",
           "Only dates, times, places and amounts are shown; nothing else from those messages."]
    if digest.last:
        out.append(f"Marked: what is new or changed since the digest of {day(digest.last)}.")
    people = {f.person for f in digest.facts}
    for person in sorted(people):
        if len(people) > 1:
            out.append(f"{person}:")
        for fact in (f for f in digest.facts if f.person == person):
            mark = _mark_word(fact) if digest.last else ""
            out.append(f"  - {fact.line}." + (f"  ({mark})" if mark else ""))
    if digest.vague:
        out.append(f"  - {plural(digest.vague, 'held message')} may contain practical details that could "
                   "not be picked out; ask your trusted friend.")
    return out


def wrap(line: str, width: int = 78) -> str:
    """One line of a text report, indented two more spaces and wrapped."""
    lead = len(line) - len(line.lstrip(" ")) + 2
    return textwrap.fill(line.strip(), width, initial_indent=" " * lead,
                         subsequent_indent=" " * (lead + (2 if line.lstrip().startswith("- ") else 0)))


def html_fragment(digest: Digest) -> str:
    lines = text_lines(digest)
    head = [f"<p>{html.escape(x)}</p>" for x in lines if not x.startswith("  - ")]
    items = [f"<li>{html.escape(x[4:])}</li>" for x in lines if x.startswith("  - ")]
    return "\n".join(head) + (f"\n<ul>\n{chr(10).join(items)}\n</ul>" if items else "")


def render_digest(config, store, since: timedelta | None = timedelta(days=7), fmt: str = "text", *,
                  now: datetime | None = None) -> str:
    """The digest as text or as a self-contained HTML page. Reads only."""
    digest = collect(config, store, since, now=now)
    if fmt == "html":
        return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Co-parenting digest</title>"
                "<style>body{font-family:system-ui,sans-serif;max-width:40em;margin:2em auto;line-height:1.5;"
                "color:#222}</style></head>\n<body>\n<h1>Co-parenting digest</h1>\n"
                f"{html_fragment(digest)}\n</body></html>\n")
    return "Co-parenting digest\n" + "\n".join(wrap(line) for line in text_lines(digest)) + "\n"
