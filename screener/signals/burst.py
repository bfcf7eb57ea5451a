"""Channel hopping: a burst of messages from several new senders around the same themes.

When new senders that were already attributed to a blocked person are
followed, within a short window, by another new sender on the same themes,
that message is part of the same incident and is attributed with them.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from screener.message import Message
from screener.signals import Reason

WINDOW = timedelta(hours=48)
MIN_OVERLAP = 0.12
KEEP = 50
_WORD = re.compile(r"[a-z]{4,}")
_STOP = {"that", "this", "with", "have", "just", "your", "what", "when", "will", "from", "they", "them", "were",
         "been", "dont", "know", "like", "want", "would", "could", "there", "their", "about", "please", "really"}


def _time(msg: Message) -> datetime | None:
    if not msg.date:
        return None
    try:
        t = datetime.fromisoformat(msg.date.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def _themes(msg: Message) -> set[str]:
    return set(_WORD.findall(msg.text.lower())) - _STOP


def burst_reasons(msg: Message, key: str, recent: list) -> list[Reason]:
    when = _time(msg)
    if when is None or not recent:
        return []
    themes = _themes(msg)
    hits: dict[str, set[str]] = {}
    for t, other_key, person, words in recent:
        if other_key == key or abs(when - t) > WINDOW or not themes or not words:
            continue
        overlap = len(themes & words) / len(themes | words)
        if overlap >= MIN_OVERLAP:
            hits.setdefault(person, set()).add(other_key)
    return [Reason("burst", 0.6, f"part of a burst: {len(senders)} other new sender(s) attributed to {person} "
                                 "wrote on the same themes within 48 hours", person)
            for person, senders in hits.items()]


def remember(recent: list, msg: Message, key: str, person: str) -> None:
    when = _time(msg)
    if when is None:
        return
    recent.append((when, key, person, _themes(msg)))
    del recent[:-KEEP]
