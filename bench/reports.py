"""How long the user's summary, the digest and an alert round take on a big store.

Builds a store of N messages (a year of them, 40% held, tags, logistics facts,
alerts, daemon runs) with synthetic verdicts, then times `render_summary`
(text and HTML with the PNG chart), `render_digest`, and `deliver_pending`
(the daemon calls it after every batch) with a webhook that refuses. Peak memory is the
process's max RSS.
"""

from __future__ import annotations

import random
import resource
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
N = 20_000
TAGS = ["hoovering", "guilt_tripping", "threat", "gaslighting", "children_leverage", "relay", "insult"]


@dataclass
class Verdict:
    action: str
    alert: bool
    sender_status: str
    blocked_person: str | None
    tags: list
    logistics: list
    sender_key: str = "x"
    reasons: list = field(default_factory=list)

    def as_dict(self):
        return {"action": self.action, "alert": self.alert, "sender_status": self.sender_status,
                "blocked_person": self.blocked_person, "tactics": {}, "tags": self.tags,
                "logistics": self.logistics, "reasons": []}


def build(store, n: int) -> None:
    from screener.message import Message
    from screener.store import Incoming

    rng = random.Random(7)
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with store.write():
        for i in range(n):
            held = rng.random() < 0.4
            when = start + timedelta(minutes=rng.randrange(0, 324 * 24 * 60))
            facts = [{"kind": "handover", "text": f"{when:%a} {when.day} {when:%b}, 17:00"}] \
                if held and rng.random() < 0.2 else []
            verdict = Verdict("quarantine" if held else "deliver", held and rng.random() < 0.03,
                              rng.choice(["blocked", "suspected_alias", "intermediary"]) if held else "known",
                              "Daniel Hargreaves" if held else None,
                              rng.sample(TAGS, rng.randrange(0, 3)) if held else [], facts)
            body = f"message {i} " + "lorem ipsum dolor sit amet " * 20
            msg = Message(id=f"m{i}", body=body, sender="dan@example.com", channel=rng.choice(["email", "sms"]),
                          date=when.isoformat())
            store.add(Incoming(message=msg, raw=body.encode(), source="file", dedup_key=f"m{i}"),
                      verdict, "quarantined" if held else "delivered", "store", "bench")
        now = datetime.now(timezone.utc)
        store.conn.execute("INSERT INTO runs (pid, started_at, heartbeat_at, status) VALUES (1, ?, ?, 'running')",
                           ((now - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                            now.strftime("%Y-%m-%dT%H:%M:%SZ")))


def closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    from screener.alerts import deliver_pending
    from screener.config import load_config
    from screener.digest import render_digest
    from screener.store import Store
    from screener.summary import render_summary

    with tempfile.TemporaryDirectory() as d:
        text = (ROOT / "data" / "demo" / "config.toml").read_text().replace('history = "history.jsonl"', "")
        (Path(d) / "config.toml").write_text(text + '\n[store]\npath = "s/screener.db"\n[alerts]\n'
                                             f'webhook_url = "http://127.0.0.1:{closed_port()}/alerts"\n')
        config = load_config(Path(d) / "config.toml")
        store = Store.for_config(config)
        t = time.perf_counter()
        build(store, N)
        built = time.perf_counter() - t
        rows = []
        for label, fn in [
            ("summary, text, 7 days", lambda: render_summary(config, store, timedelta(days=7), "text")),
            ("summary, text, all time", lambda: render_summary(config, store, None, "text")),
            ("summary, HTML with PNG chart, all time", lambda: render_summary(config, store, None, "html")),
            ("digest, text, all time", lambda: render_digest(config, store, None, "text")),
        ]:
            rows.append(f"| {label} | {timed(fn) * 1000:.0f} ms |")
        t = time.perf_counter()
        deliver_pending(config, store)
        rows.append(f"| deliver_pending, first call: queue every alert, one grouped attempt (refused) | "
                    f"{(time.perf_counter() - t) * 1000:.0f} ms |")
        rows.append(f"| deliver_pending, nothing due (what each batch costs) | "
                    f"{timed(lambda: deliver_pending(config, store)) * 1000:.1f} ms |")
        store.close()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    body = (f"A store of {N:,} messages over a year (40% held, 3% of those alerting, 20% with a handover fact), "
            f"built in {built:.1f} s. Best of three runs. The issues set no time target for these (the "
            "summary is delivered about once a week, alerts once per burst); nothing here misses one:"
            f"\n\n| what | time |\n|---|---|\n" + "\n".join(rows)
            + f"\n\nPeak memory of the whole run (max RSS): {rss:.0f} MB.\n")
    print(body)
    write_section("summary, digest and alerts", body, "python bench/reports.py")


if __name__ == "__main__":
    main()
