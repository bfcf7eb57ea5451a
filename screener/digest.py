"""The co-parenting digest (filled in by the store-and-summary work).

`render_digest(config, store, since, fmt)` lists only the neutral logistics
facts from the blocked person's held messages, deduplicated, marking what
changed since the last digest.
"""

from __future__ import annotations

from datetime import timedelta


def render_digest(config, store, since: timedelta | None = timedelta(days=7), fmt: str = "text") -> str:
    """(Placeholder until the digest is built.)"""
    return "No practical facts." if fmt == "text" else "<!doctype html><html><body><p>No practical facts.</p></body></html>"
