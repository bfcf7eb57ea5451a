"""Run a server loop until SIGINT or SIGTERM, whatever the loop is doing.

The loop runs in a thread and the main thread only waits for a signal, so a
signal always reaches code that can stop the server. The handlers are
installed explicitly: a process started in the background by a shell
inherits SIGINT ignored, and Python then never raises KeyboardInterrupt, so
Ctrl-C or `kill -INT` would be lost.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable


def run_until_signalled(run: Callable[[], None], stop: Callable[[], None], name: str) -> None:
    """Call `run` in a thread until SIGINT or SIGTERM (or until `run` returns), then `stop`."""
    done = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: done.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    loop = threading.Thread(target=run, name=name, daemon=True)
    loop.start()
    try:
        while not done.wait(0.5) and loop.is_alive():
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        stop()
        loop.join(timeout=5)
