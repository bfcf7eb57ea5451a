"""SIGKILL the daemon at random moments of a 300-message backfill with mail
arriving between restarts: every message must end in exactly one folder,
screened exactly once, none lost."""

import os
import random
import signal
import sqlite3
import time
from collections import Counter

import pytest

from conftest_dovecot import PASSWORD_ENV, config_text, wait_until
from test_cli_daemon import count, spawn
from test_daemon import QUARANTINE, blocked, clean, sha

from screener.config import load_config
from screener.store import Store

TOTAL, FIRST, CYCLES = 300, 150, 8


def wait_for_pending(path, timeout: float) -> None:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if conn.execute("SELECT 1 FROM messages WHERE state = 'pending' LIMIT 1").fetchone():
                    return
            except sqlite3.OperationalError:
                pass
    finally:
        conn.close()


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
    arriving = raws[FIRST:]
    per_cycle = len(arriving) // CYCLES
    password = dovecot.users["sam"]
    left = []

    for cycle in range(CYCLES):
        runs = count(config, "SELECT COUNT(*) FROM runs")
        proc = spawn(path, password=password)
        try:
            wait_until(lambda: count(config, "SELECT COUNT(*) FROM runs") > runs, timeout=30, interval=0.01)
            take = per_cycle if cycle < CYCLES - 1 else len(arriving)
            batch, arriving = arriving[:take], arriving[take:]
            dovecot.append_many("sam", "INBOX", batch)
            if cycle % 2:
                # Aim at the narrowest window: stored as "pending", the move not recorded yet.
                wait_for_pending(config.store.path, timeout=rng.uniform(0.2, 1.5))
            else:
                time.sleep(rng.uniform(0.0, 0.8))
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=10)
        left.append((count(config), count(config, "SELECT COUNT(*) FROM messages WHERE state = 'pending'")))
    assert not arriving
    print("after each kill (stored, pending):", left)

    # A last run that catches up and exits.
    proc = spawn(path, "--once", password=password)
    _, err = proc.communicate(timeout=60)
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
    assert killed_runs == CYCLES + 1
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
