"""A streaming byte filter that repairs numeric character references strict
XML parsers reject.

Some Android exporters write characters outside the Basic Multilingual Plane
(most emoji) as two UTF-16 surrogate references, `&#55357;&#56832;`, which is
not XML: a reference must name a Unicode character, and surrogates are not
characters. This filter rewrites

- a high surrogate reference directly followed by a low one into the one real
  character (`&#128512;`, 😀);
- a lone surrogate, or a reference to a character XML 1.0 forbids (`&#0;`,
  `&#1;`, `&#65535;`...), into U+FFFD, the replacement character.

Everything else passes through byte for byte. It works on chunks: a reference
cut by a chunk boundary (or a high surrogate whose partner starts the next
chunk) is held back until the next read, so the result does not depend on
where the reads fall.
"""

from __future__ import annotations

import re
from typing import BinaryIO

CHUNK = 1 << 20
REPLACEMENT = b"&#65533;"

_REF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]{1,8})|([0-9]{1,10}));")
# What may be left unfinished at the end of a chunk: an optional complete
# reference (a high surrogate waiting for its partner) and an optional partial one.
_TAIL = re.compile(rb"(&#(?:[xX][0-9a-fA-F]{1,8}|[0-9]{1,10});)?(&(?:#(?:[xX][0-9a-fA-F]{0,8}|[0-9]{0,10}))?)?\Z")
_TAIL_WINDOW = 48


def _value(m: re.Match) -> int:
    return int(m.group(1), 16) if m.group(1) is not None else int(m.group(2))


def _allowed(v: int) -> bool:
    """Is `v` a character XML 1.0 allows (surrogates excluded)?"""
    return (v in (0x9, 0xA, 0xD) or 0x20 <= v <= 0xD7FF or 0xE000 <= v <= 0xFFFD
            or 0x10000 <= v <= 0x10FFFF)


def repair(data: bytes) -> bytes:
    """Repair every complete reference in `data` (a lone high surrogate at the end becomes U+FFFD)."""
    if b"&#" not in data:
        return data
    out: list[bytes] = []
    pos = 0
    high = None           # (start, end, value) of a high surrogate waiting for its low half
    for m in _REF.finditer(data):
        v = _value(m)
        if high is not None:
            h_start, h_end, h_value = high
            high = None
            if 0xDC00 <= v <= 0xDFFF and m.start() == h_end:
                combined = 0x10000 + ((h_value - 0xD800) << 10) + (v - 0xDC00)
                out += (data[pos:h_start], b"&#%d;" % combined)
                pos = m.end()
                continue
            out += (data[pos:h_start], REPLACEMENT)
            pos = h_end
        if 0xD800 <= v <= 0xDBFF:
            high = (m.start(), m.end(), v)
        elif not _allowed(v):
            out += (data[pos:m.start()], REPLACEMENT)
            pos = m.end()
    if high is not None:
        out += (data[pos:high[0]], REPLACEMENT)
        pos = high[1]
    if not out:
        return data
    out.append(data[pos:])
    return b"".join(out)


def split_tail(data: bytes) -> tuple[bytes, bytes]:
    """Split `data` into what can be repaired now and what must wait for more bytes."""
    m = _TAIL.search(data, max(0, len(data) - _TAIL_WINDOW))
    if m is None or m.start() == len(data):
        return data, b""
    ref, partial = m.group(1), m.group(2)
    if ref is not None:
        v = int(ref[3:-1], 16) if ref[2:3] in b"xX" else int(ref[2:-1])
        if not 0xD800 <= v <= 0xDBFF:       # a finished reference that waits for nothing
            return (data, b"") if partial is None else (data[:m.start(2)], data[m.start(2):])
    return data[:m.start()], data[m.start():]


class RepairingReader:
    """A read-only binary stream over `raw` with references repaired.

    `consumed` counts the bytes read from `raw` so far (for progress bars).
    """

    def __init__(self, raw: BinaryIO, chunk: int = CHUNK):
        self.raw, self.chunk = raw, chunk
        self.carry = b""
        self.consumed = 0
        self.eof = False

    def read(self, size: int = -1) -> bytes:
        """Up to about `size` repaired bytes; b"" only at the end of the stream."""
        want = size if size and size > 0 else self.chunk
        while not self.eof:
            data = self.raw.read(want)
            self.consumed += len(data)
            if not data:
                self.eof = True
                rest, self.carry = self.carry, b""
                return repair(rest)
            ready, self.carry = split_tail(self.carry + data)
            if ready:
                return repair(ready)
        return b""
