"""Mail that screener itself puts into the user's mailbox (the summary).

The summary is appended to the inbox the daemon watches. It must reach the
user as it is, not be screened as a stranger's message (and never be
quarantined). A header cannot say so: anyone can write `X-Screener: summary`
into a message. So the SHA-256 of the exact bytes is recorded in the store
before they are appended, and the daemon leaves a message whose bytes match
one of these where it is, without screening or storing it.
"""

from __future__ import annotations

from screener.store import sha256

PREFIX = "own_mail."


def remember(store, raw: bytes, kind: str) -> str:
    """Record `raw` as screener's own message of `kind`; return its SHA-256. Call before appending it."""
    key = sha256(raw)
    with store.write():
        store.set_state(PREFIX + key, kind)
    return key


def is_own(store, key: str) -> bool:
    """True when `key` (a SHA-256) is one of screener's own messages."""
    return store.get_state(PREFIX + key) is not None
