"""SIGKILL the real `screener run` process 20 times in a row, at random moments
of a 1,000-message backfill while mail keeps arriving (APPENDs from another
connection the whole time, also while the daemon is down): every message must
end in exactly one folder (the one its verdict says), screened exactly once
(one row, one "screened" audit event), none lost, the audit chain intact.

The kill moments are drawn (seeded: SCREENER_CRASH_SEED repeats a run) from
three kinds so that every window is hit many times:
- "anywhere": a random delay after the daemon started (backfill batches being
  fetched, screened, stored);
- "stored": as soon as a batch is stored with rows "pending" (stored, not
  moved yet: the narrowest window);
- "moving": a few milliseconds after that, while the UID MOVE is on the wire
  or its result is being recorded.
"""

import os
import random
import signal
import sqlite3
import threading
import time
from collections import Counter

import pytest

from conftest import run_cli
from conftest_dovecot import PASSWORD_ENV, config_text, wait_until
from test_cli_daemon import count, spawn
from test_daemon import QUARANTINE, blocked, clean, sha

from screener.config import load_config
from screener.store import Store

TOTAL, FIRST, KILLS = 1000, 600, 20
ARRIVAL_GAP = 0.13          # seconds between live arrivals: ~55 s of mail arriving through the kill loop


def wait_for_pending(path, after: int, timeout: float) -> bool:
    """Wait until a batch newer than row `after` is stored "pending" (rows left pending by an earlier kill
    do not count: the kill would land before the restarted daemon did anything)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if conn.execute("SELECT 1 FROM messages WHERE state = 'pending' AND id > ? LIMIT 1",
                                (after,)).fetchone():
                    return True
            except sqlite3.OperationalError:
                pass
            time.sleep(0.001)
        return False
    finally:
        conn.close()


class Arrivals(threading.Thread):
    """Appends messages one by one over its own IMAP connection, whatever the daemon is doing."""

    def __init__(self, server, raws):
        super().__init__(daemon=True)
        self.server, self.raws, self.done, self.error = server, list(raws), 0, None

    def run(self):
        try:
            with self.server.client("sam") as c:
                for raw in self.raws:
                    c.append("INBOX", raw)
                    self.done += 1
                    time.sleep(ARRIVAL_GAP)
        except BaseException as exc:     # reported by the test
            self.error = exc


@pytest.mark.slow
def test_sigkill_at_random_points_then_restart(dovecot, tmp_path, monkeypatch):
    seed = int(os.environ.get("SCREENER_CRASH_SEED", time.time_ns() % 100000))
    print(f"crash test seed {seed} (set SCREENER_CRASH_SEED to repeat)")
    rng = random.Random(seed)
    monkeypatch.setenv(PASSWORD_ENV, dovecot.users["sam"])
    path = tmp_path / "config.toml"
    path.write_text(config_text(dovecot, tmp_path / "data" / "screener.db"))
    config = load_config(path)
    raws = [blocked(i) if i % 6 == 0 else clean(i, message_id="" if i % 50 == 7 else None) for i in range(TOTAL)]
    dovecot.append_many("sam", "INBOX", raws[:FIRST])
    password = dovecot.users["sam"]
    arrivals = Arrivals(dovecot, raws[FIRST:])
    arrivals.start()
    kinds, left = Counter(), []

    for cycle in range(KILLS):
        runs = count(config, "SELECT COUNT(*) FROM runs")
        newest = count(config, "SELECT COALESCE(MAX(id), 0) FROM messages")
        proc = spawn(path, password=password)
        try:
            wait_until(lambda: count(config, "SELECT COUNT(*) FROM runs") > runs, timeout=30, interval=0.01)
            # The first kill lands on the first stored batch, so it always hits the backfill (a random
            # delay may outlast a 600-message backfill on a fast machine); the others are drawn.
            kind = "stored" if cycle == 0 else rng.choice(["anywhere", "stored", "moving"])
            if kind == "anywhere":
                time.sleep(rng.uniform(0.0, 1.2))
            elif not wait_for_pending(config.store.path, newest, timeout=2.0):
                kind = "anywhere (nothing to move came)"
            elif kind == "moving":
                time.sleep(rng.uniform(0.0, 0.03))
            kinds[kind] += 1
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=10)
        left.append((count(config), count(config, "SELECT COUNT(*) FROM messages WHERE state = 'pending'")))
        if cycle == 0:      # what the user sees while screening is down
            shown = run_cli("status", "--config", path).stdout
            assert "daemon: NOT running (process gone)" in shown and "mail is not being screened" in shown, shown
    print("kill moments:", dict(kinds))
    print("after each kill (stored, pending):", left)
    arrivals.join(120)
    assert arrivals.error is None and arrivals.done == TOTAL - FIRST
    # The kills did hit the windows they aimed at, and a backfill was still under way at the first ones.
    assert kinds["stored"] + kinds["moving"] >= 5, kinds
    assert any(pending for _, pending in left), left
    assert left[0][0] < FIRST, left

    # A last run that catches up and exits.
    proc = spawn(path, "--once", password=password)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err

    inbox = Counter(m.sha256 for m in dovecot.messages("sam", "INBOX"))
    held = Counter(m.sha256 for m in dovecot.messages("sam", QUARANTINE))
    with Store(config.store.path, readonly=True) as store:
        rows = {r["sha256"]: r for r in store.messages()}
        assert len(rows) == store.conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == TOTAL
        screened = Counter(r[0] for r in store.conn.execute("SELECT message FROM audit WHERE action = 'screened'"))
        assert len(screened) == TOTAL and set(screened.values()) == {1}
        assert store.verify() == []
        killed_runs = store.conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    assert killed_runs == KILLS + 1
    for i, raw in enumerate(raws):
        key = sha(raw)
        assert inbox[key] + held[key] == 1, f"message {i} is in {inbox[key] + held[key]} places"
        row = rows[key]
        if row["action"] == "quarantine":
            assert held[key] == 1 and row["state"] == "quarantined" and row["location"] == QUARANTINE
        else:
            assert inbox[key] == 1 and row["state"] == "delivered" and row["location"] == "INBOX"
        if i % 6 == 0:
            assert row["blocked_person"] == "Alex Morgan" and held[key] == 1
    assert sum(inbox.values()) + sum(held.values()) == TOTAL
    audit = run_cli("audit", "verify", "--config", path)
    assert audit.returncode == 0, audit.stderr
