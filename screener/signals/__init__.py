"""Signals: each looks at messages and returns evidence, never a bare boolean.

A `Reason` is rspamd's symbol: a name, a score in [0, 1] and a detail a
non-technical friend can read. `person` ties identity evidence to one blocked
person; it is not part of the output record.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reason:
    signal: str
    score: float
    detail: str
    person: str | None = None

    def as_dict(self) -> dict:
        return {"signal": self.signal, "score": round(float(self.score), 4), "detail": self.detail}


def quote(original: str, lowered: str, match) -> str:
    """The words a match on `lowered` (the lower-cased `original`) covers, as the sender wrote them."""
    if len(original) == len(lowered):
        return original[match.start():match.end()]
    return match.group(0)


def lower(text: str) -> str:
    """Lower case with the same length as `text` (so a match's span quotes the original):
    a character whose lower case is longer ('İ' -> 'i̇') keeps only its first character."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c.lower()[0] for c in text)
