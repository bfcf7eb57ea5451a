"""Serve a Flask app with waitress on a free loopback port in a thread, and
start Debian's Chromium through Playwright (never Playwright's own download).
"""

from __future__ import annotations

import contextlib
import threading

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@contextlib.contextmanager
def serving(app):
    """Yield the base URL (http://127.0.0.1:PORT) while waitress serves `app`."""
    from waitress import create_server
    from waitress import wasyncore

    server = create_server(app, host="127.0.0.1", port=0, threads=4, ident="screener-test")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.task_dispatcher.shutdown()
        wasyncore.close_all(server._map)
        thread.join(timeout=5)


@contextlib.contextmanager
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def login(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
