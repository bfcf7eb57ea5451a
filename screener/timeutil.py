"""Times as the store keeps them (UTC, `YYYY-MM-DDTHH:MM:SSZ`), durations as the
config and the command line write them (`90m`, `12h`, `7d`, `2w`), and days as
people read them (`Sat 14 Nov`)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from screener.errors import ScreenerError

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class DurationError(ScreenerError):
    """A duration such as `7d` could not be read."""


def parse_duration(text: str) -> timedelta:
    """`30m`, `12h`, `7d`, `2w` -> timedelta. Raises DurationError."""
    m = _DURATION.match(text or "")
    if not m or int(m.group(1)) == 0:
        raise DurationError(f"{text!r} is not a duration like 12h, 7d or 2w")
    return timedelta(**{_UNITS[m.group(2).lower()]: int(m.group(1))})


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str | None) -> datetime | None:
    """An ISO 8601 time as an aware UTC datetime (naive means UTC); None if unreadable."""
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc)


def day(when: datetime) -> str:
    """`Sat 14 Nov` (with the year when it is not this year's)."""
    text = when.strftime("%a %d %b").replace(" 0", " ")
    return text if when.year == utcnow().year else f"{text} {when.year}"


def day_time(when: datetime) -> str:
    return f"{day(when)}, {when.strftime('%H:%M')} UTC"


def span(delta: timedelta) -> str:
    """A length of time in plain words: `3 days`, `5 hours`, `40 minutes`."""
    minutes = int(delta.total_seconds() // 60)
    if minutes >= 2 * 24 * 60:
        return plural(round(minutes / (24 * 60)), "day")
    if minutes >= 120:
        return plural(round(minutes / 60), "hour")
    return plural(max(minutes, 1), "minute")


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"
