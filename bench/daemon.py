"""Benchmark the mailbox daemon against a private local Dovecot (tests/dovecot.py).

Targets (issue 5):
- APPEND -> message in the quarantine folder: 95th percentile under 1.5 s over
  200 messages (Dovecot itself delays IDLE pushes by about 0.5 s);
- backfill throughput over 10,000 messages: at least 300 messages a second;
- the daemon's peak resident memory: under 250 MB.

The daemon runs as the real command (`screener run`) in its own process.
One message in ten is from the blocked person (bodies from the project's tactic
corpus, so it is moved to quarantine); the rest come from 300 other senders
(bodies from the Enron sample in data/benign).
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from email.utils import formatdate
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tests"))
from _report import write_section  # noqa: E402
from classify import bodies  # noqa: E402
from dovecot import Dovecot  # noqa: E402

N_LATENCY = int(os.environ.get("BENCH_LATENCY_N", "200"))
N_BACKFILL = int(os.environ.get("BENCH_BACKFILL_N", "10000"))
QUARANTINE = "Screener/Quarantine"
PASSWORD = "bench-password"
ENV = "SCREENER_BENCH_IMAP_PASSWORD"


def pools() -> tuple[list, list]:
    """(the blocked person's messages: the project's tactic corpus; everyone else's: the Enron sample)."""
    held = [p for p in bodies() if p[2].strip()]
    other = []
    for line in (ROOT / "data" / "benign" / "enron_sample.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            r = json.loads(line)
            other.append(("email", r.get("subject", ""), r["body"]))
    return held, other


def message(i: int, rng: random.Random, pools, held: bool) -> bytes:
    _, subject, body = rng.choice(pools[0] if held else pools[1])
    sender, name = ("alex.morgan@gmail.com", "Alex Morgan") if held else (f"person{rng.randrange(300)}@example.com",
                                                                         f"Person {i}")
    head = (f"From: {name} <{sender}>\r\nTo: Sam Rivera <sam.rivera@example.org>\r\n"
            f"Subject: {subject or 'Hello'}\r\nDate: {formatdate(localtime=False)}\r\n"
            f"Message-ID: <bench{i}.{time.time_ns()}@bench.example>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n")
    return (head + body.replace("\n", "\r\n") + "\r\n").encode("utf-8")


def write_config(folder: Path, server: Dovecot, user: str) -> Path:
    config = (ROOT / "tests" / "bench_config.toml").read_text()
    config += (f'\n[store]\npath = "{folder / "data" / "screener.db"}"\n\n[[imap]]\nname = "bench"\n'
               f'host = "127.0.0.1"\nport = {server.port}\ntls = "none"\nusername = "{user}"\n'
               f'password_env = "{ENV}"\ntimeout_seconds = 10\nretry_max_seconds = 2\n')
    path = folder / "config.toml"
    path.write_text(config)
    return path


def start_daemon(config: Path, log: Path) -> subprocess.Popen:
    env = dict(os.environ, **{ENV: PASSWORD})
    return subprocess.Popen([sys.executable, "-m", "screener", "run", "--config", str(config)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=open(log, "w"))


def peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)


def query(db: Path, sql: str) -> int:
    if not db.exists():
        return 0
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return conn.execute(sql).fetchone()[0]
        finally:
            conn.close()
    except sqlite3.OperationalError:
        return 0


def backfill(server: Dovecot, folder: Path, pool) -> dict:
    rng = random.Random(5)
    raws = [message(i, rng, pool, held=i % 10 == 0) for i in range(N_BACKFILL)]
    started = time.perf_counter()
    with server.client("backfill") as c:
        for i in range(0, len(raws), 500):
            c.multiappend("INBOX", raws[i:i + 500])
    append_rate = len(raws) / (time.perf_counter() - started)
    config = write_config(folder, server, "backfill")
    db = folder / "data" / "screener.db"
    t0 = time.perf_counter()
    proc = start_daemon(config, folder / "backfill.log")
    first = None
    try:
        while True:
            n = query(db, "SELECT COUNT(*) FROM messages")
            if n and first is None:
                first = (time.perf_counter(), n)
            if n >= N_BACKFILL and not query(db, "SELECT COUNT(*) FROM messages WHERE state = 'pending'"):
                break
            if proc.poll() is not None:
                raise SystemExit(f"the daemon died: {(folder / 'backfill.log').read_text()[-2000:]}")
            time.sleep(0.05)
        done = time.perf_counter()
        memory = peak_mb(proc.pid)
    finally:
        stop(proc)
    held = query(db, "SELECT COUNT(*) FROM messages WHERE state = 'quarantined'")
    assert held == len(server.messages("backfill", QUARANTINE)), "store and quarantine folder disagree"
    return {"append_rate": append_rate, "total": done - t0, "steady": (N_BACKFILL - first[1]) / (done - first[0]),
            "overall": N_BACKFILL / (done - t0), "memory": memory, "held": held}


def latency(server: Dovecot, folder: Path, pool) -> dict:
    rng = random.Random(7)
    config = write_config(folder, server, "latency")
    db = folder / "data" / "screener.db"
    proc = start_daemon(config, folder / "latency.log")
    times = []
    try:
        deadline = time.monotonic() + 60
        while '"state": "idle"' not in _status(db):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit(f"the daemon did not start: {(folder / 'latency.log').read_text()[-2000:]}")
            time.sleep(0.05)
        with server.client("latency") as writer, server.client("latency") as watcher:
            watcher.create_folder(QUARANTINE) if not watcher.folder_exists(QUARANTINE) else None
            for i in range(N_LATENCY):
                raw = message(i, rng, pool, held=True)
                before = watcher.folder_status(QUARANTINE, [b"MESSAGES"])[b"MESSAGES"]
                t = time.perf_counter()
                writer.append("INBOX", raw)
                while watcher.folder_status(QUARANTINE, [b"MESSAGES"])[b"MESSAGES"] == before:
                    if time.perf_counter() - t > 30:
                        raise SystemExit(f"message {i} never reached quarantine")
                    time.sleep(0.005)
                times.append(time.perf_counter() - t)
                time.sleep(rng.uniform(0.0, 0.2))
        memory = peak_mb(proc.pid)
    finally:
        stop(proc)
    times.sort()
    return {"median": statistics.median(times), "p95": times[int(0.95 * (len(times) - 1))], "max": times[-1],
            "memory": memory}


def _status(db: Path) -> str:
    if not db.exists():
        return ""
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            row = conn.execute("SELECT value FROM state WHERE key = 'daemon.status'").fetchone()
        finally:
            conn.close()
    except sqlite3.OperationalError:
        return ""
    return row[0] if row else ""


def main() -> None:
    pool = pools()
    with Dovecot.start(users={"backfill": PASSWORD, "latency": PASSWORD}) as server, \
            tempfile.TemporaryDirectory() as d1, tempfile.TemporaryDirectory() as d2:
        b = backfill(server, Path(d1), pool)
        lat = latency(server, Path(d2), pool)
    memory = max(b["memory"], lat["memory"])

    def verdict(ok: bool) -> str:
        return "meets" if ok else "MISSES"

    load = os.getloadavg()[0]
    body = (
        "| figure | measured | target |\n|---|---|---|\n"
        f"| APPEND → in the quarantine folder, median of {N_LATENCY} | {lat['median']:.2f} s | |\n"
        f"| APPEND → in the quarantine folder, 95th percentile | **{lat['p95']:.2f} s** ({verdict(lat['p95'] < 1.5)}) "
        f"(max {lat['max']:.2f} s) | < 1.5 s, incl. Dovecot's ~0.5 s IDLE delay |\n"
        f"| backfill of {N_BACKFILL:,} messages ({b['held']:,} moved to quarantine) | "
        f"**{b['steady']:,.0f} messages/s** from the first stored to the last ({verdict(b['steady'] >= 300)}); "
        f"{b['overall']:,.0f}/s incl. start-up ({b['total']:.1f} s in all) | >= 300/s |\n"
        f"| daemon peak resident memory | **{memory:.0f} MB** ({verdict(memory < 250)}) | < 250 MB |\n"
        f"\nLocal Dovecot {_dovecot_version()} on 127.0.0.1 (Maildir, no TLS); the daemon is the real "
        f"`screener run` process. Messages appended with MULTIAPPEND at {b['append_rate']:,.0f}/s before the "
        f"backfill. Load average when it finished: {load:.1f} (the machine is shared).\n")
    write_section("mailbox daemon", body, ".venv/bin/python bench/daemon.py")
    print(body)


def _dovecot_version() -> str:
    try:
        return subprocess.run(["dovecot", "--version"], capture_output=True, text=True).stdout.split()[0]
    except (OSError, IndexError):
        return "?"


if __name__ == "__main__":
    main()
