"""Safety alerts to the trusted friend (filled in by the store-and-summary work).

`deliver_pending(config, store)` sends an alert for every stored message with
`alert = 1` that has not been alerted yet, grouped and rate-limited, and
records each attempt in the `alerts` table. The daemon and the SMS receiver
call it after each batch they store.
"""

from __future__ import annotations


def deliver_pending(config, store) -> int:
    """Send what is due; return how many alerts were sent. (Not implemented yet.)"""
    return 0
