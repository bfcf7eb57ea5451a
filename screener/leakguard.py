"""A last check that derived text carries no run of words from a message.

The digest's facts are built from dates, times, amounts and place names found
in held messages, so they are the one place where a message's own words could
reach the user. `leaks()` finds any run of four or more words shared with the
messages, read two ways (splitting at punctuation, and dropping punctuation
inside words), case-insensitively.
"""

from __future__ import annotations

import re

RUN = 4
_SPLIT = re.compile(r"[^\W_]+")
_PUNCT = re.compile(r"[\W_]+")


def _words(text: str) -> tuple[list[str], list[str]]:
    lowered = text.lower()
    split = _SPLIT.findall(lowered)
    stripped = [w for w in (_PUNCT.sub("", t) for t in lowered.split()) if w]
    return split, stripped


def runs(text: str, n: int = RUN) -> set[str]:
    """Every run of `n` words in `text`, in both readings."""
    out = set()
    for words in _words(text):
        out.update(" ".join(words[i:i + n]) for i in range(len(words) - n + 1))
    return out


def leaks(text: str, sources: set[str]) -> bool:
    """True when `text` shares a run of words with `sources` (a set made by `runs()`)."""
    return bool(runs(text) & sources)
