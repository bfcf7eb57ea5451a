"""Read "SMS Backup & Restore" XML exports (`sms-*.xml`) as a stream.

The file is one `<smses>` element holding `<sms>` and `<mms>` elements, every
value in attributes. An `<mms>` holds `<parts>` (text, pictures as base64 in
`data`) and `<addrs>` (`type="137"` is the sender, 151 a recipient, 130 a
copy). Files reach several GB because of the pictures, so they are read with
expat in fixed-size chunks and nothing but the message being read is kept:
memory stays flat whatever the size.

Oddities of real exports handled here:
- the string "null" means a missing value; contact name "(Unknown)" too;
- emoji written as surrogate-pair references (repaired by `xml_repair`);
- `<sms type>` 1 is received, 2 sent, 3 draft, 4 outbox, 5 failed, 6 queued;
  `<mms msg_box>` 1 is received (older files: `m_type` 132);
- `<sms date>` and `<mms date>` are milliseconds, `<mms date_sent>` seconds;
- a group message lists its addresses joined by "~" in `address`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import xml.parsers.expat
from dataclasses import dataclass, field
from functools import cached_property
from datetime import datetime, timezone
from typing import BinaryIO, Callable, Iterator

from screener.errors import ScreenerError
from screener.message import Message
from screener.normalize import normalize_sender
from screener.sources.xml_repair import CHUNK, RepairingReader

MAX_TEXT = 200_000
SENDER_ADDR, TO_ADDR, CC_ADDR = "137", "151", "130"


class BackupError(ScreenerError):
    """A backup file is not a complete, well-formed SMS Backup & Restore export."""


@dataclass(frozen=True)
class BackupEntry:
    """One `<sms>` or `<mms>` of a backup, read but not yet screened."""

    kind: str                 # sms | mms
    received: bool
    sender: str               # as written in the file
    sender_name: str
    body: str
    subject: str
    date_ms: int | None
    to: tuple[str, ...]
    group: bool
    element: dict = field(repr=False, compare=False)   # the element's attributes (and parts, addrs)

    @cached_property
    def raw(self) -> bytes:
        """The original to keep: `element` as canonical JSON (computed when it is stored)."""
        return json.dumps(self.element, ensure_ascii=False, sort_keys=True,
                          separators=(",", ":")).encode("utf-8", "surrogatepass")

    def dedup_key(self, region: str) -> str:
        """Stable across repeated full backups: normalised sender, date (ms) and text."""
        text = f"{normalize_sender(self.sender, region)}\x1f{self.date_ms or ''}\x1f{self.body}"
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()

    def message(self, key: str) -> Message:
        """The record to screen; `key` is `dedup_key()`, computed once by the caller."""
        return Message(id=f"sms-{key[:20]}", body=self.body[:MAX_TEXT], sender=self.sender, channel="sms",
                       sender_name=self.sender_name, subject=self.subject, date=iso_date(self.date_ms),
                       to=self.to)


def iso_date(ms: int | None) -> str:
    if ms is None:
        return ""
    try:
        return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return ""


def _value(attrs: dict, name: str) -> str:
    v = attrs.get(name)
    return "" if v is None or v == "null" else v


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def _name(attrs: dict) -> str:
    name = _value(attrs, "contact_name").strip()
    return "" if name in ("(Unknown)", "Unknown") else name


def sms_entry(attrs: dict) -> BackupEntry:
    return BackupEntry(
        kind="sms", received=_value(attrs, "type") == "1", sender=_value(attrs, "address").strip(),
        sender_name=_name(attrs), body=_value(attrs, "body"), subject=_value(attrs, "subject"),
        date_ms=_int(_value(attrs, "date")), to=(), group=False,
        element={"element": "sms", "attrs": attrs})


def _part_text(part: dict) -> str:
    if _value(part, "ct").lower() != "text/plain":
        return ""
    text = _value(part, "text")
    if not text and _value(part, "data"):
        try:
            text = base64.b64decode(part["data"], validate=False).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            text = ""
    return text


def mms_entry(attrs: dict, parts: list[dict], addrs: list[dict]) -> BackupEntry:
    box, mtype = _value(attrs, "msg_box"), _value(attrs, "m_type")
    received = box == "1" if box else mtype == "132"
    address = _value(attrs, "address")
    group = "~" in address
    senders = [_value(a, "address") for a in addrs if _value(a, "type") == SENDER_ADDR]
    senders = [s for s in senders if s and s != "insert-address-token"]
    sender = senders[0] if senders else ("" if group else address)
    to = tuple(_value(a, "address") for a in addrs
               if _value(a, "type") in (TO_ADDR, CC_ADDR) and _value(a, "address") not in ("", sender))
    date = _int(_value(attrs, "date"))
    if date is None:
        sent = _int(_value(attrs, "date_sent"))
        date = sent * 1000 if sent else None
    body = "\n".join(t for t in (_part_text(p) for p in parts) if t)
    return BackupEntry(
        kind="mms", received=received, sender=sender.strip(), sender_name="" if group else _name(attrs),
        body=body, subject=_value(attrs, "sub"), date_ms=date, to=to, group=group,
        element={"element": "mms", "attrs": attrs, "parts": parts, "addrs": addrs})


class _Parser:
    """Expat handlers that collect finished entries; nothing else is kept."""

    def __init__(self, name: str, collect: bool = True):
        self.name, self.collect = name, collect
        self.count = 0
        self.p = xml.parsers.expat.ParserCreate()
        self.p.buffer_text = False
        self.p.StartElementHandler = self.start
        self.p.EndElementHandler = self.end
        self.p.EntityDeclHandler = self.refuse_entities
        self.depth = 0
        self.mms: tuple[dict, list, list] | None = None
        self.ready: list[BackupEntry] = []

    def refuse_entities(self, *args):
        raise BackupError(f"{self.name}: declares XML entities; not an SMS Backup & Restore file")

    def start(self, tag: str, attrs: dict):
        self.depth += 1
        if self.depth == 1:
            if tag != "smses":
                hint = " (a call log backup, not messages)" if tag == "calls" else ""
                raise BackupError(f"{self.name}: not an SMS Backup & Restore messages file: root element is "
                                  f"<{tag[:40]}>, expected <smses>{hint}")
        elif self.depth == 2:
            self.count += tag in ("sms", "mms")
            if not self.collect:
                return
            if tag == "sms":
                self.ready.append(sms_entry(attrs))
            elif tag == "mms":
                self.mms = (attrs, [], [])
        elif self.mms is not None:
            if tag == "part":
                self.mms[1].append(attrs)
            elif tag == "addr":
                self.mms[2].append(attrs)

    def end(self, tag: str):
        if self.depth == 2 and tag == "mms" and self.mms is not None:
            self.ready.append(mms_entry(*self.mms))
            self.mms = None
        self.depth -= 1

    def fail(self, exc: xml.parsers.expat.ExpatError, at_end: bool) -> BackupError:
        reason = xml.parsers.expat.ErrorString(exc.code)
        if at_end or reason in ("no element found", "unclosed token"):
            return BackupError(f"{self.name}: the file ends before the backup does (truncated, or still "
                               f"being copied?): {reason} at line {exc.lineno}")
        return BackupError(f"{self.name}: not well-formed XML at line {exc.lineno}, column {exc.offset + 1}: "
                           f"{reason}")


def read_entries(stream: BinaryIO, name: str, progress: Callable[[int], None] | None = None,
                 chunk: int = CHUNK, _parser: "_Parser | None" = None) -> Iterator[BackupEntry]:
    """Every `<sms>` and `<mms>` of the backup in `stream`, in file order, sent ones included.

    Raises BackupError (one line naming the file) when the file is not a
    complete, well-formed backup, at the point where that is found out: check
    a whole file (see `check_backup`) before acting on what it yields.
    """
    parser = _parser or _Parser(name)
    reader = RepairingReader(stream, chunk)
    seen = 0
    while True:
        data = reader.read(chunk)
        final = not data
        try:
            parser.p.Parse(data, final)
        except xml.parsers.expat.ExpatError as exc:
            raise parser.fail(exc, final) from None
        except (LookupError, ValueError, UnicodeError) as exc:     # <?xml encoding="..."?> expat cannot use
            raise BackupError(f"{name}: cannot be read in the encoding it declares ({type(exc).__name__}: "
                              f"{str(exc)[:80]}); SMS Backup & Restore writes UTF-8") from None
        if progress and reader.consumed > seen:
            progress(reader.consumed - seen)
            seen = reader.consumed
        if parser.ready:
            batch, parser.ready = parser.ready, []
            yield from batch
        if final:
            break
    if parser.depth != 0:
        raise BackupError(f"{name}: the file ends before the backup does (truncated?)")


def check_backup(stream: BinaryIO, name: str, progress: Callable[[int], None] | None = None) -> int:
    """Read a whole backup without keeping anything; the number of messages in it.

    Raises BackupError if it is not a complete, well-formed backup.
    """
    parser = _Parser(name, collect=False)
    for _ in read_entries(stream, name, progress, _parser=parser):
        pass
    return parser.count
