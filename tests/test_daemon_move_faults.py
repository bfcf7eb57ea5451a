"""The IMAP server killed or hung (SIGSTOP) in the middle of a quarantine MOVE,
against a real Dovecot and the daemon in a thread.

"During a MOVE" is hit deterministically by wrapping `Mailbox.move` (the one
seam every move goes through) for the first move to the quarantine folder:
- kill-before: the whole server is SIGKILLed just before the UID MOVE is sent
  (the command meets a dead connection: not carried out);
- kill-after: the server carries out the UID MOVE, then is SIGKILLed before
  the daemon records it (the daemon sees the connection die, as when the
  reply is lost);
- hang: the server is frozen (SIGSTOP) just before the UID MOVE is sent; the
  daemon gives up after `timeout_seconds`, the server is resumed (SIGCONT)
  seconds later and may still carry out the command it had received.
In each case the server comes back, the daemon reconnects after a backoff,
finishes the interrupted move (looking in both folders) and every message is
in exactly one folder, stored once, with no message in both folders.
"""

import threading
import time

import pytest

from conftest_dovecot import wait_until
from test_daemon import QUARANTINE, assert_exactly_once, blocked, clean, folder_shas, rows, sha
from test_daemon_faults import fault_lines

from screener.daemon import mailbox
from screener.daemon.mailbox import ConnectionLost
from screener.store import Store


@pytest.mark.parametrize("fault", ["kill-before", "kill-after", "hang"])
def test_server_fault_during_a_quarantine_move(dovecot, imap_config, run_daemon, monkeypatch, caplog, fault):
    config = imap_config(timeout_seconds=1, retry_max_seconds=1)
    original = mailbox.Mailbox.move
    hit = threading.Event()

    def move(self, uids, dest):
        if dest != QUARANTINE or hit.is_set():
            return original(self, uids, dest)
        hit.set()
        if fault == "kill-after":
            original(self, uids, dest)
            dovecot.kill()
            self._dead()
            raise ConnectionLost(f"{self.where}: move to {dest}: the server closed the connection")
        if fault == "kill-before":
            dovecot.kill()
        else:
            dovecot.pause()
        return original(self, uids, dest)

    monkeypatch.setattr(mailbox.Mailbox, "move", move)
    raws = [blocked(1), clean(2), blocked(3), clean(4), blocked(5)]
    dovecot.append_many("sam", "INBOX", raws)
    daemon = run_daemon(config)
    wait_until(hit.is_set, message="the first move")
    wait_until(lambda: any("retrying in" in line for line in fault_lines(caplog)), message="fault logged")
    with Store(config.store.path, readonly=True) as store:      # stored before the move, not recorded as moved
        assert store.conn.execute("SELECT COUNT(*) FROM messages WHERE state = 'pending'").fetchone()[0] == 3
    time.sleep(1.5)         # a few reconnections fail meanwhile (each one line, with a backoff)
    if fault == "hang":
        dovecot.resume()
    else:
        dovecot.start_again()
    mail = blocked(6)       # and new mail is screened as before
    dovecot.append("sam", "INBOX", mail)
    wait_until(lambda: len(folder_shas(dovecot, QUARANTINE)) == 4, timeout=30, message="after the server came back")
    wait_until(lambda: all(r["state"] != "pending" for r in rows(config)) and len(rows(config)) == 6)
    assert daemon.thread.is_alive()
    daemon.stop()
    assert_exactly_once(dovecot, config, raws + [mail])
    assert set(folder_shas(dovecot, QUARANTINE)) == {sha(r) for r in (raws[0], raws[2], raws[4], mail)}
    with Store(config.store.path, readonly=True) as store:
        assert store.verify() == []
        screened = [r[0] for r in store.conn.execute("SELECT message FROM audit WHERE action = 'screened'")]
        assert len(screened) == len(set(screened)) == 6
        for row in store.messages():
            want = QUARANTINE if row["action"] == "quarantine" else "INBOX"
            assert row["location"] == want and row["state"] in ("quarantined", "delivered")
    lines = fault_lines(caplog)
    assert 1 <= sum("retrying in" in line for line in lines) <= 10, lines
    assert not any("Traceback" in line or "unexpected" in line for line in lines)
    if fault == "hang":
        assert any("no answer within 1 s" in line for line in lines), lines
