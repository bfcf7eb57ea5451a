"""UID sets and the COPYUID response code (RFC 3501, RFC 4315), parsed."""

from __future__ import annotations

import re


MAX_SET = 1_000_000


def uid_set(text: str) -> list[int]:
    """'1:3,7' -> [1, 2, 3, 7]. ValueError for anything else, or absurdly large sets."""
    out = []
    for part in text.split(","):
        lo, _, hi = part.partition(":")
        a, b = int(lo), int(hi or lo)
        if abs(b - a) + len(out) > MAX_SET:
            raise ValueError("UID set too large")
        out += list(range(min(a, b), max(a, b) + 1))
    return out


def parse_copyuid(values) -> tuple[dict[int, int], int | None]:
    """Parse COPYUID response codes (`<uidvalidity> <source set> <dest set>`, RFC 4315); the last one wins."""
    for value in reversed(list(values)):
        text = value.decode(errors="replace") if isinstance(value, bytes) else str(value)
        match = re.fullmatch(r"\s*(\d+)\s+([\d:,]+)\s+([\d:,]+)\s*", text)
        if match:
            try:
                src, dst = uid_set(match.group(2)), uid_set(match.group(3))
            except ValueError:
                continue
            if len(src) == len(dst):
                return dict(zip(src, dst)), int(match.group(1))
    return {}, None
