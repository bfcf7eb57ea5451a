"""Periodic jobs of the daemon (filled in by the store-and-summary work).

`tick(config, store)` is called by the daemon about once a minute; it delivers
the user's summary when it is due, and retries failed alerts.
"""

from __future__ import annotations


def tick(config, store) -> None:
    """Run whatever periodic work is due. (Not implemented yet.)"""
    return None
