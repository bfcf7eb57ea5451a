"""The friend's page and the evidence bundle on a store of a few thousand held
messages: page times through the WSGI app (no browser, no network), and the
time and size of an evidence export.

    .venv/bin/python bench/web.py [--messages 3000] [--export 500]

Writes the "friend's page and evidence" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--export", type=int, default=500)
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
        rows = [f"| {name} | {statistics.median(v) * 1000:.0f} ms | {sorted(v)[int(len(v) * .95) - 1] * 1000:.0f} ms |"
                for name, v in pages.items()]
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
    body = "\n".join([
        f"A store of {args.messages:,} messages from the demo's blocked person ({held:,} held), screened in "
        f"{fill_s:.1f} s. Pages through the WSGI app (Flask test client, one thread):",
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
