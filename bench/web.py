"""The friend's page and the evidence bundle on a store of a few thousand held
messages: page times through the WSGI app (no browser, no network), page
times under 20 concurrent logged-in clients against the real server
(`screener serve`, waitress, its default 4 threads, in its own process), and
the time and size of an evidence export.

Target (issue 9): pages answer fast under 20 concurrent requests; taken as a
95th percentile under 1 s for every page.

    .venv/bin/python bench/web.py [--messages 3000] [--export 500] [--clients 20] [--rounds 8]

Writes the "friend's page and evidence" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._report import write_section  # noqa: E402
from screener.accounts import add_account  # noqa: E402
from screener.config import load_config  # noqa: E402
from screener.evidence import export_bundle, verify_bundle  # noqa: E402
from screener.ingest import screen_into_store, screener_for  # noqa: E402
from screener.model import TacticModel  # noqa: E402
from screener.store import Store  # noqa: E402
from screener.web import create_app  # noqa: E402
from tests import webdata  # noqa: E402

PASSWORD = "benchmark password"
TARGET_P95 = 1.0        # seconds, every page, 20 concurrent clients
FRIEND_PAGES = ["queue", "queue, filtered", "message (plain text)", "message (cleaned HTML)"]
USER_PAGES = ["user: summary page", "user: summary document (7 days)", "user: held list"]


def fill(config, store, n: int) -> None:
    bodies = [json.loads(line)["body"] for line in (ROOT / "data" / "demo" / "messages.jsonl").open()]
    people = config.blocked[0]
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    items = []
    for i in range(n):
        record = {"channel": "sms" if i % 3 == 0 else "email",
                  "sender": people.phones[0] if i % 3 == 0 else people.emails[0], "sender_name": people.name,
                  "subject": f"message {i}", "body": f"{bodies[i % len(bodies)]} ({i})",
                  "date": (start + timedelta(hours=7 * i)).isoformat()}
        html = None if i % 3 == 0 else (f"<div><p>{record['body']}</p><img src='https://t.example/p.gif?{i}'>"
                                        f"<a href='https://x.example/{i}'>a link</a><table><tr><td>x</td></tr></table></div>")
        items.append(webdata.incoming(record, i, html))
    screen_into_store(screener_for(config, TacticModel.load(), store), store, items, "import")


def timed(client, url: str, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - t)
        assert response.status_code == 200, (url, response.status_code)
    return times


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * .95) - 1)]


class Client:
    """One logged-in browser: its own cookies (session), urllib over loopback."""

    def __init__(self, base: str, username: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        page = self.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode({"username": username, "password": PASSWORD, "csrf_token": token}).encode()
        with self.opener.open(base + "/login", data=data, timeout=60) as r:
            assert "/login" not in r.url, f"{username} could not log in"

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=60) as r:
            assert r.status == 200, (path, r.status)
            return r.read().decode("utf-8", "replace")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(folder: Path, store_path: Path, port: int) -> subprocess.Popen:
    """`screener serve` on the bench store, as a user starts it (the demo's config, default threads)."""
    shutil.copy(ROOT / "data" / "demo" / "history.jsonl", folder / "history.jsonl")
    config = folder / "config.toml"
    config.write_text((ROOT / "data" / "demo" / "config.toml").read_text()
                      + f'\n[store]\npath = {json.dumps(str(store_path))}\n\n[web]\nport = {port}\n')
    proc = subprocess.Popen([sys.executable, "-m", "screener", "serve", "--config", str(config)], cwd=ROOT,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for _ in range(300):
        if proc.poll() is not None:
            raise SystemExit(f"screener serve exited: {proc.stderr.read()}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=1).read()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("screener serve did not answer within 30 s")


def concurrent(base: str, ids: list[int], clients: int, rounds: int) -> tuple[dict[str, list[float]], float, int]:
    """`clients` logged-in clients (one in four the user, the rest the friend) each load their pages
    `rounds` times, all at once. Returns (seconds per page, wall time of the loaded part, requests)."""
    users = max(1, clients // 4)
    sessions = [Client(base, "user" if i < users else "friend") for i in range(clients)]
    times: dict[str, list[float]] = {name: [] for name in FRIEND_PAGES + USER_PAGES}
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def run(i: int, client: Client) -> None:
        rng = random.Random(i)
        start.wait()
        for _ in range(rounds):
            some = rng.choice(ids)
            pages = (zip(USER_PAGES, ["/me", "/me/summary.html?days=7", "/me/held"]) if i < users else
                     zip(FRIEND_PAGES, ["/queue", "/queue?tactic=hoovering&since=2026-02-01", f"/message/{some}",
                                        f"/message/{some}?view=html"]))
            for name, path in pages:
                t = time.perf_counter()
                client.get(path)
                elapsed = time.perf_counter() - t
                with lock:
                    times[name].append(elapsed)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(sessions)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return times, wall, sum(len(v) for v in times.values())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--export", type=int, default=500)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args()
    config = load_config(ROOT / "data" / "demo" / "config.toml")
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "s" / "screener.db")
        t = time.perf_counter()
        fill(config, store, args.messages)
        fill_s = time.perf_counter() - t
        held = store.conn.execute("SELECT COUNT(*) FROM messages WHERE state = 'quarantined'").fetchone()[0]
        add_account(store, "friend", "friend", PASSWORD)
        app = create_app(config, store.path)
        client = app.test_client()
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
        t = time.perf_counter()
        client.post("/login", data={"username": "friend", "password": PASSWORD, "csrf_token": token})
        login_ms = (time.perf_counter() - t) * 1000
        some = store.conn.execute("SELECT id FROM messages WHERE channel = 'email' ORDER BY id DESC LIMIT 1"
                                  ).fetchone()[0]
        pages = {
            "queue, first page (100 of all held)": timed(client, "/queue", 30),
            "queue, filtered by tactic and dates": timed(client, "/queue?tactic=hoovering&since=2026-02-01", 30),
            "message page (plain text)": timed(client, f"/message/{some}", 30),
            "message page (cleaned HTML)": timed(client, f"/message/{some}?view=html", 30),
        }
        rows = [f"| {name} | {statistics.median(v) * 1000:.0f} ms | {p95(v) * 1000:.0f} ms |"
                for name, v in pages.items()]
        add_account(store, "user", "user", PASSWORD)
        ids = [r[0] for r in store.conn.execute("SELECT id FROM messages WHERE state = 'quarantined'")]
        port = free_port()
        server = serve(Path(tmp), store.path, port)
        try:
            times, wall, requests = concurrent(f"http://127.0.0.1:{port}", ids, args.clients, args.rounds)
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:   # once seen in a full `make bench`: do not lose the figures
                print("bench/web.py: screener serve did not stop on Ctrl-C within 30 s; killed", file=sys.stderr)
                server.kill()
                server.wait()
        load = os.getloadavg()[0]
        loaded = []
        for name, v in times.items():
            worst = p95(v)
            verdict = "meets" if worst < TARGET_P95 else "**MISSES**"
            loaded.append(f"| {name} | {len(v)} | {statistics.median(v) * 1000:.0f} ms | "
                          f"{worst * 1000:.0f} ms ({verdict}) | < {TARGET_P95 * 1000:.0f} ms |")
        last = store.conn.execute("SELECT substr(COALESCE(NULLIF(date,''), received_at),1,10) FROM messages "
                                  "ORDER BY COALESCE(NULLIF(date,''), received_at) DESC LIMIT 1 OFFSET ?",
                                  (args.export - 1,)).fetchone()[0]
        out = Path(tmp) / "bundle.zip"
        t = time.perf_counter()
        manifest = export_bundle(config, store, out, since=last)
        export_s = time.perf_counter() - t
        t = time.perf_counter()
        problems, _ = verify_bundle(out)
        verify_s = time.perf_counter() - t
        assert problems == [], problems
        exported = len(manifest["messages"])
        size_mb = out.stat().st_size / 1e6
        store.close()
    users = max(1, args.clients // 4)
    body = "\n".join([
        f"A store of {args.messages:,} messages from the demo's blocked person ({held:,} held), screened in "
        f"{fill_s:.1f} s.",
        "",
        f"**{args.clients} concurrent clients, logged in**, against `screener serve` (waitress, its default 4 "
        f"threads, its own process, which compiles its page templates and draws one chart before it listens) over loopback: {args.clients - users} friend sessions each loading the queue, "
        f"a filtered queue and a random held message (plain, then cleaned HTML), and {users} user sessions "
        f"loading their summary page, the summary itself and the held list; {args.rounds} rounds each, all "
        f"clients at once. {requests:,} requests in {wall:.1f} s ({requests / wall:.0f} pages/s); load average "
        f"{load:.1f} afterwards. The server is one Python process: with {args.clients} requests always in "
        f"flight at {requests / wall:.0f} pages/s, each waits about {args.clients * wall / requests:.2f} s behind the "
        "others, so the server's throughput on this machine (and what else runs on it) sets these figures more "
        "than any one page does (compare the one-at-a-time times below).",
        "",
        "| page | requests | median | 95th percentile | target |",
        "|---|---|---|---|---|",
        *loaded,
        "",
        "One request at a time, through the WSGI app (Flask test client, one thread, no network); no target was "
        "set for these:",
        "",
        "| page | median | 95th percentile |",
        "|---|---|---|",
        *rows,
        f"| login (scrypt N=2^15) | {login_ms:.0f} ms | |",
        "",
        "| evidence bundle | measured |",
        "|---|---|",
        f"| messages exported | {exported:,} (`--since {last}`) |",
        f"| export (originals, PDF, CSV, audit log, manifest) | {export_s:.1f} s |",
        f"| zip size | {size_mb:.1f} MB |",
        f"| verify | {verify_s:.2f} s |",
    ])
    print(body)
    write_section("friend's page and evidence", body, ".venv/bin/python bench/web.py")


if __name__ == "__main__":
    main()
