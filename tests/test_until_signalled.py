"""Servers stop on SIGINT and SIGTERM even when started from a shell in the background,
where SIGINT arrives ignored (Python then never raises KeyboardInterrupt)."""

import signal
import subprocess
import sys
import time

import pytest

SERVER = """
import sys, threading, time
from screener.until_signalled import run_until_signalled
stopped = threading.Event()
def run():
    stopped.wait()        # a server loop: runs until stopped
run_until_signalled(run, stopped.set, "test")
print("stopped cleanly", flush=True)
"""


def _ignore_sigint():
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # as `cmd &` in a non-interactive shell does


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_server_started_with_sigint_ignored_still_stops_on_a_signal(sig):
    proc = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True,
                            preexec_fn=_ignore_sigint)
    time.sleep(1.0)               # the handlers are installed
    assert proc.poll() is None    # still serving
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0 and "stopped cleanly" in out
