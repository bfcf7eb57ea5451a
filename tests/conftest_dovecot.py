"""Fixtures for tests against a real Dovecot (a pytest plugin, see tests/conftest.py).

- `dovecot`: a private server with the user "sam" (password in `dovecot.users`),
  stopped and removed after the test.
- `imap_config(**overrides)`: writes a config file (tests/conftest.py's people:
  Alex Morgan blocked, Dana Lee trusted) with a store in tmp_path and one
  [[imap]] account "personal" on that server; returns the loaded Config.
- `run_daemon(config, **kwargs)`: starts the daemon in a thread (the session's
  model, short timeouts); stopped at the end of the test.
- `wait_until(fn, timeout)`: poll until fn() is truthy; fails with fn's last value.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from dovecot import Dovecot, available

PASSWORD_ENV = "SCREENER_TEST_IMAP_PASSWORD"


@pytest.fixture
def dovecot():
    if not available():
        pytest.fail("Dovecot is not installed: run `make test-deps` (Debian's dovecot-imapd)")
    server = Dovecot.start(users={"sam": "correct horse battery"})
    yield server
    server.close()


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(str(value))


def config_text(server: Dovecot, store_path: Path, user: str = "sam", **imap) -> str:
    from conftest import CONFIG

    settings = {"name": "personal", "host": server.host, "port": server.port, "tls": "none", "username": user,
                "password_env": PASSWORD_ENV, "idle_seconds": 60, "timeout_seconds": 5, "retry_max_seconds": 1,
                "poll_seconds": 1}
    settings.update(imap)
    body = "\n".join(f"{k} = {toml_value(v)}" for k, v in settings.items())
    return f"{CONFIG.format(mode='no_contact')}\n[store]\npath = {toml_value(store_path)}\n\n[[imap]]\n{body}\n"


@pytest.fixture
def imap_config(dovecot, tmp_path, monkeypatch):
    from screener.config import load_config

    monkeypatch.setenv(PASSWORD_ENV, dovecot.users["sam"])

    def make(**imap):
        path = tmp_path / "config.toml"
        path.write_text(config_text(dovecot, tmp_path / "data" / "screener.db", **imap))
        return load_config(path)

    return make


class RunningDaemon:
    def __init__(self, daemon):
        self.daemon = daemon
        self.result = None
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        if not daemon.started.wait(30):
            raise AssertionError("the daemon did not start")

    def _run(self):
        try:
            self.result = self.daemon.run()
        except BaseException as exc:    # reported by stop()
            self.error = exc

    def stop(self, timeout: float = 30) -> int | None:
        self.daemon.stop()
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the daemon did not stop"
        if self.error is not None:
            raise self.error
        return self.result


@pytest.fixture
def run_daemon(model):
    from screener.daemon.runner import Daemon

    started = []

    def start(config, **kwargs):
        handle = RunningDaemon(Daemon(config, lambda: model, **kwargs))
        started.append(handle)
        return handle

    yield start
    for handle in started:
        if handle.thread.is_alive():
            handle.stop()


def wait_until(fn, timeout: float = 15.0, interval: float = 0.05, message: str = ""):
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s {message}: last value {value!r}")
