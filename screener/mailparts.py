"""Parts of a stored original email that the friend's page and the evidence
report show: the headers that matter, the HTML part, and inline images.

Everything is read from the stored bytes with the standard email package
(`compat32`, immune to pathological headers), through `mime.parse_bytes`
(streamed, bounded time on hostile structure); nothing is fetched.
"""

from __future__ import annotations

import base64
import re

from screener.sources.mime import content_charset, decode_bytes, decode_header, header, header_values, parse_bytes, walk

MAX_HTML = 1_000_000
MAX_IMAGE = 2_000_000
MAX_IMAGES = 50
IMAGE_TYPES = ("image/png", "image/gif", "image/jpeg", "image/webp")

# The headers a lawyer or the police ask about, in this order.
KEY_HEADERS = ("From", "Sender", "Reply-To", "To", "Cc", "Date", "Subject", "Message-ID", "In-Reply-To",
               "Return-Path", "Authentication-Results", "Received-SPF", "DKIM-Signature", "X-Originating-IP",
               "Received")
MAX_RECEIVED = 6


def parse(raw: bytes):
    return parse_bytes(raw)


def key_headers(raw: bytes) -> list[tuple[str, str]]:
    """(name, decoded value) of the headers that matter, in a fixed order; all Received lines (up to 6)."""
    msg = parse(raw)
    out = []
    for name in KEY_HEADERS:
        values = header_values(msg, name)
        if name == "Received":
            values = values[:MAX_RECEIVED]
        elif name == "DKIM-Signature":
            values = [_dkim_summary(str(v)) for v in values]
        for value in values:
            out.append((name, decode_header(value)))
    return out


def _dkim_summary(value: str) -> str:
    """Only the signing domain and selector of a DKIM signature (the rest is base64 noise)."""
    tags = dict(t.strip().split("=", 1) for t in value.split(";") if "=" in t)
    return " ".join(f"{k}={tags[k].strip()}" for k in ("d", "s") if k in tags) or value[:80]


def _decoded(part) -> bytes:
    from screener.sources.mime import part_payload

    payload = part_payload(part)
    return payload.encode("utf-8", "replace") if isinstance(payload, str) else (payload or b"")


def _text(part, limit: int) -> str:
    return decode_bytes(_decoded(part)[:limit], content_charset(part))


def _inline_parts(msg):
    for part in walk(msg):
        if part.is_multipart():
            continue
        if header(part, "Content-Disposition").lower().startswith("attachment"):
            continue
        yield part


def html_part(raw: bytes) -> str | None:
    """The first text/html part (not an attachment), decoded; None when there is none."""
    for part in _inline_parts(parse(raw)):
        if part.get_content_type() == "text/html":
            return _text(part, MAX_HTML)
    return None


def inline_images(raw: bytes) -> dict[str, str]:
    """Content-ID -> data: URL for the message's own raster images (referenced as cid: in its HTML)."""
    out: dict[str, str] = {}
    for part in walk(parse(raw)):
        if part.is_multipart() or part.get_content_type() not in IMAGE_TYPES:
            continue
        cid = header(part, "Content-ID").strip().strip("<>").strip()
        if not cid or len(out) >= MAX_IMAGES:
            continue
        data = _decoded(part)
        if not data or len(data) > MAX_IMAGE:
            continue
        out[cid] = f"data:{part.get_content_type()};base64,{base64.b64encode(data).decode('ascii')}"
    return out


def attachments(raw: bytes) -> list[tuple[str, str, int]]:
    """(file name, content type, size) of each attachment; never opened."""
    out = []
    for part in walk(parse(raw)):
        if part.is_multipart():
            continue
        disposition = header(part, "Content-Disposition").lower()
        name = _filename(part)
        if disposition.startswith("attachment") or (name and part.get_content_maintype() != "text"):
            out.append((decode_header(name or "(no name)"), part.get_content_type(), len(_decoded(part))))
    return out


def _filename(part) -> str | None:
    try:
        return part.get_filename()
    except (UnicodeError, LookupError, ValueError, TypeError):   # RFC 2231 names the stdlib cannot read
        return None


_SPACE = re.compile(r"\s+")


def one_line(text: str, limit: int = 300) -> str:
    text = _SPACE.sub(" ", text or "").strip()
    return text if len(text) <= limit else text[:limit - 1] + "…"
