"""The user's summary against screened corpora: right counts, plain words, and never a held message's words."""

import base64
import re
from collections import Counter
from datetime import timedelta

import pytest
from conftest import run_cli
from report_corpus import NOW, assert_no_leak, demo_corpus, html_text, leaked_runs, persona_corpus

from screener.digest import render_digest
from screener.store import Store
from screener.summary import STATUS_WORDS, TACTIC_WORDS, render_summary
from screener.summary_data import gather
from screener.timeutil import iso

CORPORA = ["demo", "brittany", "geoffrey", "greg", "jordan", "margaret"]


def build(name, tmp_path, model):
    if name == "demo":
        return demo_corpus(tmp_path / name, model)
    return persona_corpus(tmp_path / name, model, name)


@pytest.mark.parametrize("name", CORPORA)
def test_no_output_repeats_four_words_of_a_held_message(name, tmp_path, model):
    corpus = build(name, tmp_path, model)
    held = corpus.held_records()
    assert len(held) >= 10
    # the checker does find shared runs when there are some
    assert leaked_runs(held[0]["body"], held)
    facts = 0
    for since in (None, timedelta(days=7), timedelta(days=400)):
        for fmt in ("text", "html"):
            summary = render_summary(corpus.config, corpus.store, since, fmt, now=NOW)
            digest = render_digest(corpus.config, corpus.store, since, fmt, now=NOW)
            assert_no_leak(summary, held, fmt)
            assert_no_leak(digest, held, fmt)
            if fmt == "text":
                facts += digest.count("\n    - ")
    has_facts = any(s.verdict.action == "quarantine" and s.verdict.logistics for s in corpus.stored)
    if has_facts:   # then the leak check above also read facts drawn from held messages
        assert facts, "the digest should carry the practical facts of the held messages"
    corpus.close()


def flat(text):
    return " ".join(text.split())


def _count(text, label):
    m = re.search(rf"^\s+{re.escape(label)}\s+(\d+)", text, re.MULTILINE)
    return int(m.group(1)) if m else 0


def test_summary_counts_match_the_verdicts(tmp_path, model):
    corpus = demo_corpus(tmp_path, model)
    verdicts = [s.verdict for s in corpus.stored]
    held = [v for v in verdicts if v.action == "quarantine"]
    records = {r["id"]: r for r in corpus.records.values()}
    text = render_summary(corpus.config, corpus.store, None, "text", now=NOW)
    assert f"{len(verdicts)} messages screened: {len(verdicts) - len(held)} delivered to you, " \
           f"{len(held)} held back." in text
    channels = Counter(records[v.id].get("channel", "email") for v in held)
    assert _count(text, "by email") == channels["email"]
    assert _count(text, "by text message") == channels["sms"]
    assert _count(text, "Daniel Hargreaves") == len(held)
    for status, n in Counter(v.sender_status for v in held).items():
        assert _count(text, STATUS_WORDS[status]) == n
    for tactic, n in Counter(t for v in held for t in v.tags).items():
        assert _count(text, TACTIC_WORDS[tactic]) == n
    assert _count(text, "none of these") == sum(1 for v in held if not v.tags)
    alerts = sum(1 for v in verdicts if v.alert)
    assert f"{alerts} messages raised a safety alert" in flat(text)
    assert "not told" in flat(text)                      # the demo config sets up no alert route
    weeks = [int(m.group(1)) for m in re.finditer(r"w/c \d+ \w+\s+(\d+)", text)]
    assert len(weeks) == 8 and sum(weeks) == len(held) and weeks[-1] > 0
    assert "Co-parenting digest" in text and "Handover: Sun 1 Nov, 17:00." in text
    corpus.close()


def test_period_counts_only_messages_sent_in_it(tmp_path, model):
    corpus = demo_corpus(tmp_path, model)
    data = gather(corpus.config, corpus.store, timedelta(days=7), now=NOW)
    start = NOW - timedelta(days=7)
    sent = {r["id"]: r["date"] for r in corpus.records.values()}
    in_period = [s.verdict for s in corpus.stored if sent[s.verdict.id] >= iso(start).replace("Z", "+00:00")]
    assert data.screened == len(in_period)
    assert data.held == sum(1 for v in in_period if v.action == "quarantine")
    assert data.held_older == sum(1 for s in corpus.stored if s.verdict.action == "quarantine") - data.held
    corpus.close()


def _run(store, started, beat, stopped=None, status="stopped"):
    with store.write():
        store.conn.execute("INSERT INTO runs (pid, started_at, heartbeat_at, stopped_at, status) VALUES (1,?,?,?,?)",
                           (iso(started), iso(beat), iso(stopped) if stopped else None, status))


def test_daemon_uptime_in_plain_words(tmp_path, config):
    store = Store(tmp_path / "s" / "screener.db")
    text = flat(render_summary(config, store, timedelta(days=7), now=NOW))
    assert "has not run in the background yet" in text

    _run(store, NOW - timedelta(days=10), NOW - timedelta(minutes=1), status="running")
    text = flat(render_summary(config, store, timedelta(days=7), now=NOW))
    assert "Running without a break since" in text and "stopped" not in text

    store.conn.execute("DELETE FROM runs")
    _run(store, NOW - timedelta(days=10), NOW - timedelta(days=4), NOW - timedelta(days=4))
    _run(store, NOW - timedelta(days=4) + timedelta(minutes=5), NOW - timedelta(days=3))   # a restart: no gap
    _run(store, NOW - timedelta(days=2), NOW - timedelta(minutes=2), status="running")       # after a day's break
    text = flat(render_summary(config, store, timedelta(days=7), now=NOW))
    assert "Running now" in text and "stopped 1 time in this period" in text and "lasted 24 hours" in text

    store.conn.execute("DELETE FROM runs")
    _run(store, NOW - timedelta(days=3), NOW - timedelta(hours=2), status="running")   # died two hours ago
    text = flat(render_summary(config, store, timedelta(days=7), now=NOW))
    assert "NOT running now" in text and "Last seen Sat 21 Nov, 10:00 UTC" in text
    store.close()


def test_alerts_told_and_releases(tmp_path, model):
    corpus = demo_corpus(tmp_path, model, extra='[alerts]\nwebhook_url = "http://127.0.0.1:9/x"\n')
    store = corpus.store
    alerted = [r[0] for r in store.conn.execute("SELECT id FROM messages WHERE alert = 1 ORDER BY id")]
    held = [r[0] for r in store.conn.execute("SELECT id FROM messages WHERE action = 'quarantine' ORDER BY id")]
    with store.write():
        for i, m in enumerate(alerted):
            store.conn.execute("INSERT INTO alerts (message, created_at, via, status, sent_at) VALUES (?,?,?,?,?)",
                               (m, iso(NOW), "webhook", "sent" if i else "failed", iso(NOW) if i else None))
    release = store.request_release(held[0], "friend:dana")
    with store.write():
        store.move(held[0], "released", "INBOX", "daemon")
        store.finish_release(release, True, "moved to INBOX", "daemon")
    store.request_release(held[1], "friend:dana")
    store.annotate(held[2], "friend:dana", "needs_attention")
    text = flat(render_summary(corpus.config, store, None, now=NOW + timedelta(days=1)))
    n = len(alerted)
    assert f"told about {n - 1} of {n}" in text and "keeps trying" in text
    assert "Released to you after checking: 1 message." in text
    assert "Waiting to be released: 1." in text
    assert "Marked as needing your attention: 1 held message." in text
    with store.write():
        store.conn.execute("UPDATE alerts SET status = 'sent'")
    text = flat(render_summary(corpus.config, store, None, now=NOW + timedelta(days=1)))
    assert f"told about all {n} at the time" in text
    corpus.close()


def test_html_is_self_contained_with_an_embedded_chart(tmp_path, model):
    corpus = demo_corpus(tmp_path, model)
    page = render_summary(corpus.config, corpus.store, None, "html", now=NOW)
    srcs = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert len(srcs) == 1 and srcs[0].startswith("data:image/png;base64,")
    png = base64.b64decode(srcs[0].split(",", 1)[1])
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 2000
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (700, 260)
    visible, alts = html_text(page)
    assert "31 held back" in visible and "Handover: Sun 1 Nov, 17:00." in visible
    assert alts == ["Bar chart of held messages per week over 8 weeks, 31 in all, at most 10 in one week."]
    assert "<script" not in page.lower() and "http" not in page.lower()
    corpus.close()


def test_cli_summary_and_digest(tmp_path, model):
    corpus = demo_corpus(tmp_path, model)
    corpus.close()
    cfg = tmp_path / "config.toml"
    proc = run_cli("summary", "--config", cfg, "--since", "all")
    assert proc.returncode == 0, proc.stderr
    assert "held back" in proc.stdout and "Co-parenting digest" in proc.stdout
    out = tmp_path / "out" / "summary.html"
    proc = run_cli("summary", "--config", cfg, "--since", "4w", "--format", "html", "--output", out)
    assert proc.returncode == 0, proc.stderr
    assert out.read_text().startswith("<!doctype html>") and (out.stat().st_mode & 0o777) == 0o600
    proc = run_cli("digest", "--config", cfg, "--since", "all")
    assert proc.returncode == 0 and "Handover: Sun 1 Nov, 17:00." in proc.stdout
    assert "Held messages per week" not in proc.stdout
    proc = run_cli("summary", "--config", cfg, "--since", "fortnight")
    assert proc.returncode == 1 and "--since" in proc.stderr
    # reading never changed the store
    store = Store(tmp_path / "store" / "screener.db", readonly=True)
    assert store.conn.execute("SELECT COUNT(*) FROM digests").fetchone()[0] == 0
    assert store.verify() == []
    store.close()
