"""Raw RFC 822 mail to a Message: headers decoded, plain text extracted.

Parsed with `policy.compat32` (fast, and immune to the pathological
re-parsing of huge headers in `policy.default`); headers are capped and
decoded here. HTML is turned to text without fetching anything.
"""

from __future__ import annotations

import email
import email.header
import email.policy
import email.utils
import html
import re
from datetime import timezone

from screener.errors import ScreenerError
from screener.message import Message


class MimeError(ScreenerError):
    """Bytes that are not an email message at all (no header fields, binary garbage)."""


MAX_HEADER = 4096
MAX_TEXT = 200_000

_TAGS = re.compile(r"<(script|style|head)\b.*?</\1\s*>|<[^>]{0,2000}>", re.IGNORECASE | re.DOTALL)
_BLOCK = re.compile(r"<\s*(br|p|div|tr|li|h\d)\b[^>]{0,500}>", re.IGNORECASE)


def decode_header(value) -> str:
    if value is None:
        return ""
    value = str(value)[:MAX_HEADER]
    try:
        parts = email.header.decode_header(value)
    except (ValueError, LookupError, AssertionError):
        return value
    out = []
    for text, charset in parts:
        if isinstance(text, bytes):
            try:
                text = text.decode(charset or "utf-8", errors="replace")
            except LookupError:
                text = text.decode("utf-8", errors="replace")
        out.append(text)
    return " ".join("".join(out).split())


def html_to_text(markup: str) -> str:
    markup = _BLOCK.sub("\n", markup[:MAX_TEXT * 2])
    text = _TAGS.sub(" ", markup)
    text = html.unescape(text)
    return re.sub(r"[ \t\r\f\v]+", " ", re.sub(r"\n\s*\n+", "\n\n", text)).strip()


def _payload_text(part) -> str:
    try:
        payload = part.get_payload(decode=True)
    except (ValueError, AssertionError):
        payload = None
    if payload is None:
        payload = part.get_payload()
        return payload if isinstance(payload, str) else ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload[:MAX_TEXT * 4].decode(charset, errors="replace")
    except LookupError:
        return payload[:MAX_TEXT * 4].decode("utf-8", errors="replace")


def body_text(msg) -> str:
    plain, markup = [], []
    for part in msg.walk() if msg.is_multipart() else [msg]:
        if part.is_multipart():
            continue
        if (part.get("Content-Disposition") or "").lower().startswith("attachment"):
            continue
        ctype = part.get_content_type()
        if ctype == "text/plain":
            plain.append(_payload_text(part))
        elif ctype == "text/html":
            markup.append(_payload_text(part))
        if sum(map(len, plain)) > MAX_TEXT:
            break
    if plain:
        return "\n".join(plain)[:MAX_TEXT].strip()
    return html_to_text("\n".join(markup))[:MAX_TEXT]


def check_email(raw: bytes) -> None:
    """Raise MimeError unless `raw` looks like mail: some header fields, no NUL bytes in them.

    Deliberately lenient: missing From, broken encodings, bad MIME structure
    and odd line ends are all fine; only bytes that have no header at all are
    refused (they cannot be attributed to anyone and are kept as evidence).
    """
    if not raw or not raw.strip():
        raise MimeError("the message is empty")
    end = _header_end(raw)
    head = raw[:end]
    if b"\0" in head:
        raise MimeError("its header holds NUL bytes (binary data)")
    fields = [line for line in head.splitlines() if line and not line[:1].isspace()]
    if fields and fields[0].startswith(b"From "):      # an mbox separator line
        fields = fields[1:]
    if not fields or not _FIELD.match(fields[0]):
        raise MimeError("it has no header fields at all")


_FIELD = re.compile(rb"^[!-9;-~]+[ \t]*:")


def _header_end(raw: bytes) -> int:
    for sep in (b"\r\n\r\n", b"\n\n"):
        i = raw.find(sep)
        if i >= 0:
            return i
    return len(raw)


def message_id(raw: bytes) -> str:
    """The Message-ID header (angle brackets kept), or '' when there is none."""
    head = raw[:_header_end(raw)][:65536]
    match = re.search(rb"(?im)^message-id[ \t]*:[ \t]*((?:[^\r\n]|\r?\n[ \t])*)", head)
    if not match:
        return ""
    value = b" ".join(match.group(1).split()).decode("ascii", errors="replace")
    return value[:998]


def parse_email(raw: bytes, msg_id: str, strict: bool = False) -> Message:
    """A Message from raw bytes. Never raises on malformed mail (it does its best),
    except that with `strict` bytes that are not mail at all raise MimeError."""
    if strict:
        check_email(raw)
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    name, addr = email.utils.parseaddr(decode_header(msg.get("From")))
    date = ""
    try:
        parsed = email.utils.parsedate_to_datetime(decode_header(msg.get("Date")))
        if parsed is not None:
            date = (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).isoformat()
    except (TypeError, ValueError, IndexError):
        pass
    to = [a for _, a in email.utils.getaddresses([decode_header(msg.get("To"))]) if a][:50]
    return Message(id=msg_id, body=body_text(msg), sender=addr, channel="email", sender_name=name,
                   subject=decode_header(msg.get("Subject")), date=date, to=tuple(to))
