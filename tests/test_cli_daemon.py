"""`screener run` and `screener status` as commands: signals, reload, the lock,
content-free status, secrets kept out of the log."""

import os
import signal
import sqlite3
import subprocess
import sys

from conftest import ROOT, run_cli
from conftest_dovecot import PASSWORD_ENV, config_text, wait_until
from test_daemon import QUARANTINE, blocked, clean, folder_shas, sha

from screener.config import load_config
from screener.store import Store


def spawn(config_path, *args, password):
    env = dict(os.environ, **{PASSWORD_ENV: password})
    return subprocess.Popen([sys.executable, "-m", "screener", "run", "--config", str(config_path), *args],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc, sig=signal.SIGTERM, timeout=20):
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, err


def count(config, sql="SELECT COUNT(*) FROM messages"):
    if not config.store.path.exists():
        return 0
    with Store(config.store.path, readonly=True) as store:
        try:
            return store.conn.execute(sql).fetchone()[0]
        except sqlite3.OperationalError:     # still being created
            return 0


def test_run_status_reload_and_sigterm(dovecot, tmp_path, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, dovecot.users["sam"])
    path = tmp_path / "config.toml"
    path.write_text(config_text(dovecot, tmp_path / "data" / "screener.db"))
    config = load_config(path)
    held = blocked(1, subject="Secret subject words")
    dovecot.append_many("sam", "INBOX", [held, clean(2)])
    proc = spawn(path, password=dovecot.users["sam"])
    try:
        wait_until(lambda: folder_shas(dovecot, QUARANTINE) == [sha(held)], timeout=30)
        wait_until(lambda: "idle" in run_cli("status", "--config", path).stdout)
        status = run_cli("status", "--config", path)
        assert status.returncode == 0
        text = status.stdout
        assert "daemon: running (pid" in text and "account personal (sam@127.0.0.1)" in text
        assert "INBOX: idle" in text and "last screened UID 2" in text
        assert "today: 1 screened" not in text and "2 screened, 1 quarantined" in text
        for private in ("alex.morgan", "Alex Morgan", "Secret subject", "ignore me", "Pat Doe"):
            assert private not in text

        # A second daemon on the same store is refused.
        second = spawn(path, password=dovecot.users["sam"])
        _, err = second.communicate(timeout=30)
        assert second.returncode == 1 and "another screener daemon" in err

        # SIGHUP: a new folder in the config is watched without a restart.
        path.write_text(config_text(dovecot, tmp_path / "data" / "screener.db", folders=["INBOX", "Other"]))
        proc.send_signal(signal.SIGHUP)
        other = blocked(3)
        dovecot.append("sam", "Other", other)
        wait_until(lambda: sha(other) in folder_shas(dovecot, QUARANTINE), timeout=30)

        # SIGTERM during a backfill: the current batch is finished, nothing is left half done.
        many = [clean(i) if i % 5 else blocked(i) for i in range(10, 410)]
        dovecot.append_many("sam", "INBOX", many)
        wait_until(lambda: count(config) > 10, timeout=30, interval=0.01)
    finally:
        code, err = finish(proc)
    assert code == 0, err
    assert "reloading" in err and "reloaded: watching personal/INBOX, personal/Other" in err
    assert "Traceback" not in err
    assert count(config, "SELECT COUNT(*) FROM messages WHERE state = 'pending'") == 0
    screened = count(config, "SELECT COUNT(*) FROM messages WHERE folder = 'INBOX'")
    assert 2 < screened
    with Store(config.store.path, readonly=True) as store:
        assert store.watermark("personal", "INBOX")[1] == screened
        assert store.verify() == []
    # Nothing screened is left behind, nothing unscreened was touched.
    in_quarantine = set(folder_shas(dovecot, QUARANTINE))
    in_inbox = set(folder_shas(dovecot, "INBOX"))
    assert len(in_quarantine) + len(in_inbox) == 403 and not in_quarantine & in_inbox
    status = run_cli("status", "--config", path).stdout
    assert "daemon: NOT running; it stopped at" in status


def test_bad_password_on_the_command_line(dovecot, tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(config_text(dovecot, tmp_path / "data" / "screener.db"))
    secret = "N0t-the-Passw0rd"
    proc = spawn(path, "--trace-imap", password=secret)
    config = load_config(path)
    try:
        wait_until(lambda: count(config, "SELECT COUNT(*) FROM runs") == 1, timeout=30)
        wait_until(lambda: "last fault" in run_cli("status", "--config", path).stdout, timeout=15)
        status = run_cli("status", "--config", path).stdout
        assert "refused the login" in status and secret not in status
    finally:
        code, err = finish(proc)
    assert code == 0
    lines = [line for line in err.splitlines() if "refused the login" in line]
    assert 1 <= len(lines) <= 6
    assert "LOGIN" in err and secret not in err and "Traceback" not in err


def test_status_before_any_run_and_bad_configs(tmp_path, config_path):
    out = run_cli("status", "--config", config_path)
    assert out.returncode == 1 and "no store here yet" in out.stderr
    out = run_cli("run", "--config", config_path)
    assert out.returncode == 2 and "no [[imap]] account" in out.stderr


def test_missing_or_tampered_model_refuses_to_start_and_screens_nothing(dovecot, tmp_path, monkeypatch):
    """`screener run` with no model, or a model whose weights do not match their recorded SHA-256: exit 4,
    one line, and nothing screened or moved. In fail-closed mode the staged mail stays staged, so nothing
    unscreened reaches the inbox."""
    import shutil

    path = tmp_path / "config.toml"
    path.write_text(config_text(dovecot, tmp_path / "data" / "screener.db", folders=[], staging_folder="Staging"))
    config = load_config(path)
    raws = [blocked(1), clean(2)]
    dovecot.append_many("sam", "Staging", raws)
    empty = tmp_path / "no-model"
    empty.mkdir()
    tampered = tmp_path / "tampered"
    shutil.copytree(ROOT / "models" / "tactics", tampered)
    weights = tampered / "weights.npz"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0x01
    weights.write_bytes(bytes(data))
    for model, words in ((empty, "no trained model in"), (tampered, "does not match the model's metadata")):
        proc = spawn(path, "--model", str(model), password=dovecot.users["sam"])
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 4, err
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("screener: model error: ") and words in lines[0], err
        assert count(config) == 0 and count(config, "SELECT COUNT(*) FROM runs") == 0
        assert sorted(folder_shas(dovecot, "Staging")) == sorted(sha(r) for r in raws)
        assert folder_shas(dovecot, "INBOX") == []
        assert "Screener/Quarantine" not in dovecot.folders()       # it never even logged in to the server
        status = run_cli("status", "--config", path)
        assert status.returncode == 1 and "no store here yet" in status.stderr
