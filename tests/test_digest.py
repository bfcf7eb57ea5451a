"""The co-parenting digest: only neutral facts, deduplicated, marked new or changed since the last one."""

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from conftest import CONFIG
from report_corpus import assert_no_leak

from screener.config import load_config
from screener.digest import collect, record_digest, render_digest
from screener.ingest import screen_into_store, screener_for
from screener.message import Message
from screener.signals.content import NO_FACTS
from screener.store import Incoming, Store
from screener.summary import render_summary


@pytest.fixture
def co_config(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.format(mode="co_parenting") + '\n[store]\npath = "store/screener.db"\n')
    return load_config(path)


@pytest.fixture
def store(co_config):
    s = Store.for_config(co_config)
    yield s
    s.close()


@dataclass
class Verdict:
    """A verdict as screening would give it, with chosen facts."""
    logistics: list
    action: str = "quarantine"
    blocked_person: str | None = "Alex Morgan"
    sender_status: str = "blocked"
    alert: bool = False
    tags: list = field(default_factory=list)
    sender_key: str = "alex.morgan@gmail.com"

    def as_dict(self):
        return {"action": self.action, "alert": self.alert, "sender_status": self.sender_status,
                "blocked_person": self.blocked_person, "tactics": {}, "tags": self.tags,
                "logistics": self.logistics, "reasons": []}


def add(store, i, facts, body="see the arrangements", **kw):
    msg = Message(id=f"m{i}", body=body, sender="alex.morgan@gmail.com", date="2026-11-20T10:00:00+00:00")
    item = Incoming(message=msg, raw=body.encode(), source="file", dedup_key=f"m{i}")
    verdict = Verdict(facts, **kw)
    with store.write():
        store.add(item, verdict, "quarantined" if verdict.action == "quarantine" else "delivered", "store", "test")


HANDOVER = {"kind": "handover", "text": "Sat 19 Apr, 14:00, Chorlton Water Park"}
SLIP = {"kind": "school", "text": "permission slip due Fri 25 Apr"}


def lines(text):
    return [x.strip() for x in text.splitlines() if x.strip().startswith("- ")]


def test_facts_deduplicated_ordered_by_kind_and_nothing_else(co_config, store):
    add(store, 1, [SLIP, HANDOVER])
    add(store, 2, [dict(HANDOVER, text="Sat 19 Apr,  14:00, chorlton water park.")])   # the same fact again
    add(store, 3, [{"kind": "payment", "text": "£42.50 vet bill requested"}])
    add(store, 4, [{"kind": "handover", "text": "Sun 1 Nov"}], blocked_person=None, sender_status="unknown")
    add(store, 5, [{"kind": "handover", "text": "Mon 2 Nov"}], action="deliver")
    text = render_digest(co_config, store, None)
    assert lines(text) == ["- Handover: Sat 19 Apr, 14:00, Chorlton Water Park.",
                           "- School: permission slip due Fri 25 Apr.",
                           "- Payment: £42.50 vet bill requested."]
    assert "see the arrangements" not in text and "(new)" not in text     # no marks before a first digest


def test_new_and_changed_since_the_last_digest(co_config, store):
    add(store, 1, [HANDOVER, SLIP])
    first = collect(co_config, store, None)
    record_digest(store, first)
    assert store.conn.execute("SELECT COUNT(*) FROM digests").fetchone()[0] == 1
    assert store.conn.execute("SELECT COUNT(*) FROM audit WHERE action = 'digest_delivered'").fetchone()[0] == 1
    add(store, 2, [{"kind": "handover", "text": "Sat 19 Apr, 15:30, Chorlton Water Park"}])
    add(store, 3, [{"kind": "medical", "text": "dentist Tue 22 Apr, 09:00"}])
    got = {f.line: (f.status, f.before) for f in collect(co_config, store, None).facts}
    assert got["Handover: Sat 19 Apr, 14:00, Chorlton Water Park"] == ("same", None)
    assert got["Handover: Sat 19 Apr, 15:30, Chorlton Water Park"] == (
        "changed", "Sat 19 Apr, 14:00, Chorlton Water Park")
    assert got["School: permission slip due Fri 25 Apr"] == ("same", None)
    assert got["Medical: dentist Tue 22 Apr, 09:00"] == ("new", None)
    text = " ".join(render_digest(co_config, store, None).split())
    assert "- Handover: Sat 19 Apr, 15:30, Chorlton Water Park. (changed, was: Sat 19 Apr, 14:00, Chorlton " \
           "Water Park)" in text
    assert "- Medical: dentist Tue 22 Apr, 09:00. (new)" in text
    assert "- School: permission slip due Fri 25 Apr. -" in text
    assert "new or changed since the digest of" in text
    # rendering does not record; only delivery does
    assert store.conn.execute("SELECT COUNT(*) FROM digests").fetchone()[0] == 1


def test_message_without_extracted_facts_says_ask_your_friend(co_config, store):
    add(store, 1, [dict(NO_FACTS)])
    add(store, 2, [dict(NO_FACTS), HANDOVER])
    text = " ".join(render_digest(co_config, store, None).split())
    assert "2 held messages may contain practical details that could not be picked out; ask your trusted " \
           "friend." in text
    assert "no date, time or amount" not in text and "Other:" not in text
    assert "Handover: Sat 19 Apr" in text


def test_fact_repeating_four_words_of_its_message_is_cut(co_config, store):
    body = "The handover is at St Mary Magdalene Church Hall on Saturday at 14:00."
    add(store, 1, [{"kind": "handover", "text": "Sat 19 Apr, 14:00, St Mary Magdalene Church Hall"}], body=body)
    add(store, 2, [{"kind": "court", "text": "hearing on the twelfth of May at ten"}],
        body="the hearing on the twelfth of May at ten")
    text = render_digest(co_config, store, None)
    assert lines(text) == ["- Handover: Sat 19 Apr, 14:00 (some details not shown).",
                           "- Court: details not shown."]
    assert_no_leak(text, [{"body": body}, {"body": "the hearing on the twelfth of May at ten"}])


def test_screened_messages_become_a_neutral_digest(co_config, model, store):
    texts = ["Dropping the kids at Chorlton Water Park on Saturday 19 April at 2pm. You had better be there "
             "on time for once, you useless woman.",
             "The handover is at St Mary Magdalene Church Hall on Saturday 19 April at 2pm, don't be late again."]
    items = [Incoming(message=Message(id=f"h{i}", body=t, sender="alex.morgan@gmail.com", channel="sms",
                                      date="2025-04-14T10:00:00+00:00"),
                      raw=t.encode(), source="file", dedup_key=f"h{i}") for i, t in enumerate(texts)]
    out = screen_into_store(screener_for(co_config, model, store), store, items, "import")
    assert all(o.verdict.action == "quarantine" for o in out)
    text = render_digest(co_config, store, None)
    assert lines(text) == ["- Handover: Sat 19 Apr, 14:00, Chorlton Water Park.",
                           "- Handover: Sat 19 Apr, 14:00 (some details not shown)."]
    held = [{"body": t} for t in texts]
    for fmt in ("text", "html"):
        assert_no_leak(render_digest(co_config, store, None, fmt), held, fmt)
        assert_no_leak(render_summary(co_config, store, None, fmt), held, fmt)


def test_period_and_mode(co_config, store, config):
    add(store, 1, [HANDOVER])
    assert "No practical details in held messages since" in render_digest(co_config, store, timedelta(days=1),
                                                                          now=_later())
    assert "co_parenting mode" in render_digest(config, store, None)
    assert "Co-parenting digest" not in render_summary(config, store, None)


def _later():
    from datetime import datetime, timezone
    return datetime(2027, 1, 1, tzinfo=timezone.utc)
