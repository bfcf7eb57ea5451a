"""The store failing under a running daemon (real Dovecot, the daemon in a
thread): the disk full, the store locked by another process. Each is a clear
one-line fault, nothing is moved whose verdict was not stored, and the daemon
carries on by itself once the store can be written again.

"Disk full" is SQLite's own: before each write transaction the test sets
`PRAGMA max_page_count` to the store's current size, so any write needing a
new page fails with SQLITE_FULL exactly as on a full disk (this works without
root, unlike a small loop-mounted file system). The messages carry 30 KB of
text so that storing one always needs new pages.
"""

import subprocess
import sys
import time
from contextlib import contextmanager

import pytest

from conftest_dovecot import wait_until
from test_daemon import QUARANTINE, assert_exactly_once, blocked, clean, folder_shas, rows, sha
from test_daemon_faults import fault_lines, watch_state

from screener.daemon import status
from screener.store import Store

PADDING = "\r\n" + "Some long words to make this message big. " * 700
NO_LIMIT = 1073741823       # SQLite's default max_page_count


class Disk:
    """Makes the store's 'disk' full or not, for every Store the daemon writes through."""

    def __init__(self, monkeypatch):
        self.full = False
        original = Store.write
        disk = self

        @contextmanager
        def write(store):
            pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
            store.conn.execute(f"PRAGMA max_page_count = {pages if disk.full else NO_LIMIT}")
            with original(store) as conn:
                yield conn

        monkeypatch.setattr(Store, "write", write)


def big_blocked(n):
    return blocked(n, body="You think you can just ignore me? Answer me." + PADDING)


def big_clean(n):
    # From the trusted contact: the model is free to read manipulation into 30 KB of filler words.
    return clean(n, sender="dana@example.net", name="Dana Lee", body="The meeting moved to Thursday." + PADDING)


@pytest.mark.parametrize("fail_closed", [False, True], ids=["inbox", "fail-closed"])
def test_disk_full_moves_nothing_unstored_and_recovers(dovecot, imap_config, run_daemon, monkeypatch, caplog,
                                                       fail_closed):
    config = imap_config(folders=[], staging_folder="Staging") if fail_closed else imap_config()
    arrive = "Staging" if fail_closed else "INBOX"
    disk = Disk(monkeypatch)
    first = blocked(1)
    dovecot.append("sam", arrive, first)
    daemon = run_daemon(config)
    wait_until(lambda: folder_shas(dovecot, QUARANTINE) == [sha(first)], message="before the disk fills")
    wait_until(lambda: watch_state(config).get(arrive, {}).get("state") == "idle")

    disk.full = True
    raws = [big_blocked(2), big_clean(3)]
    dovecot.append_many("sam", arrive, raws)
    wait_until(lambda: sum("disk is full" in line for line in fault_lines(caplog)) >= 2, timeout=20,
               message="disk-full fault")
    # Nothing moved whose verdict is not stored; in fail-closed mode nothing unscreened reached the inbox.
    assert folder_shas(dovecot, QUARANTINE) == [sha(first)]
    assert sorted(folder_shas(dovecot, arrive)) == sorted(sha(r) for r in raws)
    if fail_closed:
        assert folder_shas(dovecot, "INBOX") == []
    assert [r["sha256"] for r in rows(config)] == [sha(first)]
    lines = [line for line in fault_lines(caplog) if "disk is full" in line]
    assert all("\n" not in line and "free some space" in line for line in lines), lines
    assert not any("Traceback" in line or "unexpected" in line for line in fault_lines(caplog))
    with Store(config.store.path, readonly=True) as store:
        assert store.verify() == []

    disk.full = False       # space comes back: the daemon carries on without a restart
    wait_until(lambda: sha(raws[0]) in folder_shas(dovecot, QUARANTINE), timeout=20, message="after space returned")
    wait_until(lambda: len(rows(config)) == 3 and all(r["state"] != "pending" for r in rows(config)))
    assert daemon.thread.is_alive()
    daemon.stop()
    if fail_closed:
        assert folder_shas(dovecot, "Staging") == []
        assert folder_shas(dovecot, "INBOX") == [sha(raws[1])]
    else:
        assert_exactly_once(dovecot, config, [first, *raws])
    assert len(rows(config)) == 3
    with Store(config.store.path, readonly=True) as store:
        assert store.verify() == []
        facts = status.collect(config, store)
    folder = next(f for f in facts["accounts"][0]["folders"] if f["folder"] == arrive)
    assert folder["faults"] >= 1 and "disk is full" in folder["last_error"]
    # The main thread's own writes (status, heartbeat) failed too: said once, not every second.
    main_lines = [line for line in fault_lines(caplog) if line.startswith("heartbeat failed")]
    assert len(main_lines) <= 1, main_lines


LOCKER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
print("released", flush=True)
"""


@contextmanager
def locked(path):
    """Another process holding the store with BEGIN EXCLUSIVE until the block ends."""
    proc = subprocess.Popen([sys.executable, "-c", LOCKER, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        yield
        proc.stdin.write("\n")
        proc.stdin.flush()
        assert proc.stdout.readline().strip() == "released"
    finally:
        proc.kill()
        proc.wait(10)


@pytest.mark.parametrize("longer_than_busy_timeout", [False, True], ids=["waits", "retries"])
def test_store_locked_by_another_process(dovecot, imap_config, run_daemon, monkeypatch, caplog,
                                         longer_than_busy_timeout):
    """A lock shorter than the store's busy timeout is simply waited for; a longer one is a fault (one line)
    and a retry. Either way nothing is moved before its verdict is stored, nothing is stored twice."""
    if longer_than_busy_timeout:
        monkeypatch.setattr(Store.__init__, "__defaults__", (False, 0.5))     # busy timeout 0.5 s, not 10 s
    config = imap_config()
    daemon = run_daemon(config)
    wait_until(lambda: watch_state(config).get("INBOX", {}).get("state") == "idle")
    raws = [blocked(1), clean(2), blocked(3)]
    with locked(config.store.path):
        dovecot.append_many("sam", "INBOX", raws)
        if longer_than_busy_timeout:
            wait_until(lambda: any("locked by another process" in line for line in fault_lines(caplog)),
                       message="lock fault")
        else:
            time.sleep(3)
        assert folder_shas(dovecot, QUARANTINE) == []
        assert len(folder_shas(dovecot, "INBOX")) == 3
    wait_until(lambda: len(folder_shas(dovecot, QUARANTINE)) == 2, timeout=20, message="after the lock ended")
    assert daemon.thread.is_alive()
    daemon.stop()
    assert_exactly_once(dovecot, config, raws)
    with Store(config.store.path, readonly=True) as store:
        assert store.verify() == []
        assert store.conn.execute("SELECT COUNT(*) FROM messages WHERE state = 'pending'").fetchone()[0] == 0
    lines = fault_lines(caplog)
    assert not any("Traceback" in line or "unexpected" in line for line in lines)
    if longer_than_busy_timeout:
        assert any(line.startswith("personal/INBOX: ") and "the store is locked by another process" in line
                   and "retrying in" in line for line in lines), lines
    else:
        assert lines == []


def test_sms_import_on_a_full_disk_is_one_line_and_changes_nothing(config_path, monkeypatch, capsys, tmp_path):
    """The import (in-process, so that the store's size limit applies): exit 1, one line saying the disk is
    full, the store unchanged and still verifying; the same import works once space returns."""
    from smsfiles import corpus, render
    from test_sms_import import counts, db

    from screener.cli import main

    backup = tmp_path / "sms.xml"
    backup.write_bytes(render(corpus(n_benign=30).items))
    Store(db(config_path)).close()
    before = counts(db(config_path))
    disk = Disk(monkeypatch)
    disk.full = True
    assert main(["import-sms", "--config", str(config_path), str(backup)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "disk is full" in err and "nothing was changed" in err, err
    assert counts(db(config_path)) == before
    with Store(db(config_path), readonly=True) as store:
        assert store.verify() == []
    disk.full = False
    assert main(["import-sms", "--config", str(config_path), str(backup)]) == 0
    assert counts(db(config_path))[0] > before[0]
