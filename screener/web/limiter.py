"""Login rate limiting, per account name and per client address.

After `per_user` failed logins for one name, or `per_ip` from one address,
within `window` seconds, further attempts are refused (without checking the
password) until the oldest failure leaves the window. A success clears the
name's failures. Kept in memory: a restart forgets, which only helps someone
who can already restart the server.

Behind a reverse proxy every client has the proxy's address, so the per-address
limit then applies to everyone together; the per-name limit still holds.
"""

from __future__ import annotations

import threading
import time
from collections import deque

MAX_KEYS = 10_000


class LoginLimiter:
    def __init__(self, per_user: int = 5, per_ip: int = 20, window: int = 900, clock=time.monotonic):
        self.per_user, self.per_ip, self.window = per_user, per_ip, window
        self.clock = clock
        self._failures: dict[str, deque] = {}
        self._lock = threading.Lock()

    def retry_after(self, username: str, ip: str) -> int:
        """Seconds to wait before another attempt is allowed; 0 when it is allowed now."""
        with self._lock:
            t = self.clock()
            wait = 0.0
            for key, limit in ((_user(username), self.per_user), (_ip(ip), self.per_ip)):
                times = self._prune(key, t)
                if times is not None and len(times) >= limit:
                    wait = max(wait, times[0] + self.window - t)
            return int(wait) + 1 if wait > 0 else 0

    def failed(self, username: str, ip: str) -> None:
        with self._lock:
            t = self.clock()
            if len(self._failures) >= MAX_KEYS:
                for key in list(self._failures):
                    self._prune(key, t)
                while len(self._failures) >= MAX_KEYS:
                    self._failures.pop(next(iter(self._failures)))
            for key in (_user(username), _ip(ip)):
                self._failures.setdefault(key, deque()).append(t)

    def succeeded(self, username: str, ip: str) -> None:
        with self._lock:
            self._failures.pop(_user(username), None)

    def reset(self) -> None:
        with self._lock:
            self._failures.clear()

    def _prune(self, key: str, t: float):
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] <= t - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times


def _user(username: str) -> str:
    return "u:" + (username or "").strip().lower()[:128]


def _ip(ip: str) -> str:
    return "ip:" + (ip or "?")
