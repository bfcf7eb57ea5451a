"""Raw RFC 822 mail to a Message: headers decoded, plain text extracted.

Parsed with `policy.compat32` (fast, and immune to the pathological
re-parsing of huge headers in `policy.default`); headers are capped and
decoded here. HTML is turned to text without fetching anything.

Hostile mail is read with bounded time and memory:
- the bytes are streamed into the parser (`email.message_from_bytes` first
  copies them into a 4-bytes-a-character buffer: 8 times the message);
- the parser checks every line against every boundary still open, and
  recurses once per nesting level; mail whose boundaries times lines passes
  `MAX_PARSE_WORK`, or that nests deeper than Python's recursion allows, is
  read for its headers only and its text taken from the raw body (`tangled`);
- charsets whose codecs cannot replace bad bytes or are slow (idna,
  punycode) are read as UTF-8; 8-bit bytes in headers never raise.
"""

from __future__ import annotations

import codecs
import email
import email.errors
import email.header
import email.parser
import email.policy
import email.utils
import html
import io
import re
from datetime import timezone

from screener.errors import ScreenerError
from screener.message import Message


class MimeError(ScreenerError):
    """Bytes that are not an email message at all (no header fields, binary garbage)."""


MAX_HEADER = 4096
MAX_TEXT = 200_000
MAX_PARSE_WORK = 12_000_000       # boundary declarations x lines: about 1.5 s of parsing at worst
GUESSED_CODECS = {"ascii", "idna", "punycode"}     # idna, punycode: cannot replace bad bytes, or slow

_HIDDEN_OPEN = re.compile(r"<(script|style|head)\b", re.IGNORECASE)
_HIDDEN_CLOSE = {name: re.compile(rf"</{name}\s*>", re.IGNORECASE) for name in ("script", "style", "head")}
_TAGS = re.compile(r"<[^>]{0,2000}>")
_BLOCK = re.compile(r"<\s*(br|p|div|tr|li|h\d)\b[^>]{0,500}>", re.IGNORECASE)
_BOUNDARY = re.compile(rb"boundary\*?[0-9]*\*?\s*=", re.IGNORECASE)
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_HEADER_END = re.compile(rb"(?>\r\n|\n|\r)(?>\r\n|\n|\r)")      # an empty line, whatever ends lines
_NOT_TEXT = re.compile(r"^(--\S*|[A-Za-z][\w-]{0,60}:[ \t].*|[A-Za-z0-9+/=]{60,})$")


def decode_bytes(data: bytes, charset: str | None) -> str:
    """`data` as text in `charset`, bad bytes replaced. A charset that is missing, unknown, unsafe
    or US-ASCII (often declared for 8-bit text) is guessed: UTF-8 if the bytes are, else Windows-1252."""
    try:
        codec = codecs.lookup(charset).name if charset else None
    except (LookupError, TypeError, ValueError):
        codec = None
    if codec is not None and codec not in GUESSED_CODECS:
        try:
            return data.decode(codec, errors="replace")
        except (LookupError, UnicodeError, ValueError):
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def decode_header(value) -> str:
    if value is None:
        return ""
    value = str(value)
    if len(value) > MAX_HEADER:       # keep both ends: padding before "<address>" must not hide the address
        value = value[:MAX_HEADER // 2] + " " + value[-(MAX_HEADER // 2):]
    value = _FOLD.sub("", value)       # unfold first: the stdlib drops the space of a folded line
    try:
        parts = email.header.decode_header(value)
    except (ValueError, LookupError, AssertionError, email.errors.HeaderParseError):
        return value
    out = []
    for text, charset in parts:
        if isinstance(text, bytes):
            text = decode_bytes(text, charset)
        out.append(text)
    return " ".join("".join(out).split())


def header_values(part, name: str) -> list[str]:
    """Every value of header `name`, as text. Raw 8-bit bytes (UTF-8 headers, or legacy 8-bit ones)
    are read like an undeclared charset; compat32 would give a Header object with them replaced."""
    name = name.lower()
    out = []
    for key, value in part.raw_items():
        if key.lower() == name:
            value = str(value)
            out.append(value if value.isascii() else decode_bytes(value.encode("utf-8", "surrogateescape"), None))
    return out


def header(part, name: str) -> str:
    """The first value of header `name` as text ('' when absent)."""
    values = header_values(part, name)
    return values[0] if values else ""


def content_charset(part) -> str | None:
    """The part's charset parameter; None when absent or unreadable (the stdlib raises
    TypeError on RFC 2231 continuations such as `charset*0=a; charset*=b`)."""
    try:
        return part.get_content_charset()
    except (TypeError, ValueError, LookupError, UnicodeError):
        return None


def parse_bytes(raw: bytes):
    """The email package's message for `raw`, streamed. Tangled mail (see the module's doc) is
    parsed for its headers only; `tangled(msg)` is then true and its payload is the raw body."""
    if _parse_work(raw) <= MAX_PARSE_WORK:
        try:
            return email.parser.BytesParser(policy=email.policy.compat32).parse(io.BytesIO(raw))
        except (RecursionError, TypeError):     # TypeError: a boundary in mixed RFC 2231 forms
            pass
    msg = email.parser.BytesParser(policy=email.policy.compat32).parse(io.BytesIO(raw), headersonly=True)
    msg.screener_tangled = True
    return msg


def tangled(msg) -> bool:
    return getattr(msg, "screener_tangled", False)


def _parse_work(raw: bytes) -> int:
    lines = max(raw.count(b"\n"), raw.count(b"\r")) + 1      # bare CR ends lines too
    boundaries = 0
    for _ in _BOUNDARY.finditer(raw):
        boundaries += 1
        if boundaries * lines > MAX_PARSE_WORK:
            break
    return boundaries * lines


def walk(msg):
    """Every part of `msg`, depth first like `Message.walk()`, without recursion."""
    stack = [msg]
    while stack:
        part = stack.pop()
        yield part
        if part.is_multipart():
            stack.extend(reversed(part.get_payload()))


def _drop_hidden(markup: str) -> str:
    """Remove <script>, <style> and <head> elements; an unclosed one loses only its tag (linear time)."""
    out, pos, start, unclosed = [], 0, 0, set()
    while (m := _HIDDEN_OPEN.search(markup, start)) is not None:
        name = m.group(1).lower()
        close = None if name in unclosed else _HIDDEN_CLOSE[name].search(markup, m.end())
        if close is None:
            unclosed.add(name)
            start = m.end()
            continue
        out += (markup[pos:m.start()], " ")
        pos = start = close.end()
    out.append(markup[pos:])
    return "".join(out)


def html_to_text(markup: str) -> str:
    markup = _BLOCK.sub("\n", markup[:MAX_TEXT * 2])
    text = _TAGS.sub(" ", _drop_hidden(markup))
    text = html.unescape(text)
    return re.sub(r"[ \t\r\f\v]+", " ", re.sub(r"\n\s*\n+", "\n\n", text)).strip()


def part_payload(part) -> bytes | str | None:
    """A part's decoded bytes; its undecoded text when decoding fails; None when there is neither."""
    try:
        payload = part.get_payload(decode=True)
    except (ValueError, AssertionError):
        payload = None
    if payload is None:
        try:                 # without decoding, the stdlib reads the charset parameter (and may raise)
            payload = part.get_payload()
        except (TypeError, ValueError, LookupError, UnicodeError):
            payload = None
        return payload if isinstance(payload, str) else None
    return payload


def _payload_text(part) -> str:
    payload = part_payload(part)
    if payload is None or isinstance(payload, str):
        return payload or ""
    return decode_bytes(payload[:MAX_TEXT * 4], content_charset(part))


def tangled_text(raw: bytes) -> str:
    """The readable lines of a tangled message's raw body (boundaries, part headers and base64 dropped)."""
    end = _HEADER_END.search(raw)
    body = raw[end.end():end.end() + MAX_TEXT * 4].decode("utf-8", errors="replace") if end else ""
    lines = [line for line in body.splitlines() if not _NOT_TEXT.match(line.strip())]
    text = "\n".join(lines)
    return html_to_text(text) if "<" in text else text[:MAX_TEXT].strip()


def body_text(msg) -> str:
    plain, markup, plain_size, markup_size = [], [], 0, 0
    for part in walk(msg):
        if part.is_multipart():
            continue
        if header(part, "Content-Disposition").lower().startswith("attachment"):
            continue
        ctype = part.get_content_type()
        if ctype == "text/plain":
            plain.append(_payload_text(part))
            plain_size += len(plain[-1])
        elif ctype == "text/html" and markup_size <= MAX_TEXT * 2:
            markup.append(_payload_text(part))
            markup_size += len(markup[-1])
        if plain_size > MAX_TEXT:
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
    msg = parse_bytes(raw)
    name, addr = email.utils.parseaddr(decode_header(header(msg, "From")))
    date = ""
    try:
        parsed = email.utils.parsedate_to_datetime(decode_header(header(msg, "Date")))
        if parsed is not None:
            date = (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).isoformat()
    except (TypeError, ValueError, IndexError, OverflowError):
        pass
    to = [a for _, a in email.utils.getaddresses([decode_header(header(msg, "To"))]) if a][:50]
    body = tangled_text(raw) if tangled(msg) else body_text(msg)
    if not body and msg.get_content_maintype() == "multipart" and not msg.is_multipart():
        body = tangled_text(raw)          # its boundary never appears: the parser found no parts
    return Message(id=msg_id, body=body, sender=addr, channel="email", sender_name=name,
                   subject=decode_header(header(msg, "Subject")), date=date, to=tuple(to),
                   mailing_list=via_mailing_list(msg))


def via_mailing_list(msg) -> bool:
    """List-Id or List-Post (RFC 2369, 2919), or Precedence: list or bulk: a mailing list delivered it.
    Not List-Unsubscribe alone, which any one-to-one marketing tool adds."""
    if header(msg, "List-Id") or header(msg, "List-Post"):
        return True
    return header(msg, "Precedence").strip().lower() in ("list", "bulk")
