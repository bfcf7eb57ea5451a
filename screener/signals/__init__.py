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
