"""Make the screenshots in this folder: the friend's queue, a message page,
the queue on a phone, and the user's summary, from the demo data
(data/demo), screened into a throwaway store and served on loopback.

    .venv/bin/python docs/screenshots/make.py

Uses Debian's Chromium through Playwright (see tests/webserve.py).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))

from screener.accounts import add_account  # noqa: E402
from screener.config import load_config  # noqa: E402
from screener.ingest import screen_into_store, screener_for  # noqa: E402
from screener.model import TacticModel  # noqa: E402
from screener.store import Store  # noqa: E402
from screener.web import create_app  # noqa: E402
from screener.web.queries import request_view  # noqa: E402
from tests import webdata  # noqa: E402
from tests.webserve import chromium, login, serving  # noqa: E402

PASSWORD = "screenshots only"


def demo_store(path: Path):
    config = load_config(ROOT / "data" / "demo" / "config.toml")
    store = Store(path)
    records = [json.loads(line) for line in (ROOT / "data" / "demo" / "messages.jsonl").open(encoding="utf-8")]
    items = []
    for n, record in enumerate(records):
        record = {k: v for k, v in record.items() if k != "id"}
        items.append(webdata.incoming(record, n))
    screen_into_store(screener_for(config, TacticModel.load(), store), store, items, "import")
    add_account(store, "priya", "friend", PASSWORD)
    add_account(store, "hannah", "user", PASSWORD)
    return config, store


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config, store = demo_store(Path(tmp) / "store" / "screener.db")
        held = [r["id"] for r in store.conn.execute(
            "SELECT id FROM messages WHERE state = 'quarantined' AND tags != '[]' ORDER BY id")]
        store.annotate(held[0], "friend:priya", "note", "Third message this week about the same weekend.")
        request_view(store, held[-1], "hannah", "user:hannah")
        app = create_app(config, store.path)
        with serving(app) as base, chromium() as browser:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            login(page, base, "priya", PASSWORD)
            page.goto(f"{base}/queue")
            page.locator(".queue details").nth(1).evaluate("d => d.open = true")
            page.screenshot(path=str(HERE / "queue.png"), full_page=False)
            page.goto(f"{base}/message/{held[0]}")
            page.locator("details.text").evaluate("d => d.open = true")
            page.screenshot(path=str(HERE / "message.png"), full_page=True)
            phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
            login(phone, base, "priya", PASSWORD)
            phone.goto(f"{base}/queue")
            phone.screenshot(path=str(HERE / "queue-phone.png"))
            user = browser.new_page(viewport={"width": 1100, "height": 1000})
            login(user, base, "hannah", PASSWORD)
            user.goto(f"{base}/me?days=all")
            user.wait_for_load_state("networkidle")
            user.screenshot(path=str(HERE / "user-summary.png"), full_page=True)
            user.goto(f"{base}/me/held")
            user.screenshot(path=str(HERE / "user-held.png"))
        store.close()
    print(f"screenshots written to {HERE}")


if __name__ == "__main__":
    main()
