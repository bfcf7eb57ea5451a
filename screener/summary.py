"""The protected person's content-free summary (filled in by the store-and-summary work).

`render_summary(config, store, since, fmt)` returns the summary as text or as a
self-contained HTML page: counts, tactics, trend, alerts raised, releases,
daemon uptime. Never any message text, subject, quote or paraphrase.
"""

from __future__ import annotations

from datetime import timedelta


def render_summary(config, store, since: timedelta | None = timedelta(days=7), fmt: str = "text") -> str:
    """(Placeholder until the summary is built.)"""
    held = store.conn.execute("SELECT COUNT(*) FROM messages WHERE state = 'quarantined'").fetchone()[0]
    text = f"{held} message(s) held."
    return f"<!doctype html><html><body><p>{text}</p></body></html>" if fmt == "html" else text
