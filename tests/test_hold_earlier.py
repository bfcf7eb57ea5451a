"""A new account's earlier messages are held once a later one shows it is the blocked person:
within one batch, and across imports through the store. (The daemon's part, moving the
earlier mail out of the inbox, is in test_daemon_hold_earlier.py.)"""

import json

import pytest

from screener.ingest import screen_into_store, screener_for, verdict_of
from screener.message import Message
from screener.screening import Screener
from screener.store import Incoming, Store

NUMBER = "+14155550163"
OPENER = "Hey! It's Jamie from Hinge, glad we matched. What are you up to this weekend?"
REVEAL = "ok yes it's me. Alex. I just wanted to see if you'd answer a stranger and not me"


def sms(i, body, sender=NUMBER, date="2026-04-19T20:10:00+00:00", name=""):
    return Message(id=f"s{i}", body=body, sender=sender, channel="sms", date=date, sender_name=name)


def test_a_reveal_holds_the_same_senders_earlier_messages(config, model):
    out = Screener(config, model).screen([sms(1, OPENER), sms(2, "haha no pressure, you're quiet tonight"),
                                          sms(3, REVEAL, date="2026-04-19T22:30:00+00:00")])
    assert out[2].action == "quarantine" and out[2].sender_status == "suspected_alias"
    assert out[2].blocked_person == "Alex Morgan"
    for v in out[:2]:
        assert (v.action, v.sender_status, v.blocked_person) == ("quarantine", "suspected_alias", "Alex Morgan")
        held = v.as_dict()["reasons"][-2:]
        assert held[0] == {"signal": "same_sender_held", "score": 1.0,
                           "detail": "the same sender's later message (s3) was held as Alex Morgan's new account"}
        assert held[1]["detail"] == "held afterwards: a later message from this sender was held as Alex Morgan"


def test_at_the_time_the_opener_was_delivered(config, model):
    screener = Screener(config, model)
    first = screener.screen([sms(1, OPENER)])[0]
    assert first.action == "deliver"          # nothing tied it to anyone; a later batch cannot unsend it
    assert screener.screen([sms(2, REVEAL)])[0].action == "quarantine"


@pytest.mark.parametrize("earlier, why", [
    (sms(1, OPENER, sender="+14155550164"), "another sender"),
    (sms(1, OPENER, date="2026-02-01T10:00:00+00:00"), "more than 30 days before"),
    (sms(1, OPENER, name="Jamie Hinge"), "a contact saved on the phone"),
    (sms(1, OPENER, sender="+1 415 555 0199"), "a trusted contact"),
])
def test_what_a_reveal_does_not_hold(config, model, earlier, why):
    out = Screener(config, model).screen([earlier, sms(2, REVEAL)])
    assert out[1].action == "quarantine"
    assert out[0].action == "deliver", why


def test_a_long_standing_correspondent_is_not_re_decided(config, model):
    chat = [sms(i, f"see you at the allotment at {i}pm, bring the twine") for i in range(1, 8)]
    out = Screener(config, model).screen(chat + [sms(9, REVEAL)])
    assert [v.action for v in out[:7]] == ["deliver"] * 7


def test_a_go_between_does_not_hold_its_earlier_messages(config, model):
    out = Screener(config, model).screen([
        sms(1, "hi Sam, it's Priya from the book club, are we still on for Thursday?"),
        sms(2, "Alex asked me to tell you he is really sorry and just wants to talk. Please call him."),
    ])
    assert out[1].action == "quarantine" and out[1].sender_status == "intermediary"
    assert out[0].action == "deliver"


def incoming(i, body, date="2026-04-19T20:10:00+00:00", sender=NUMBER):
    msg = sms(i, body, sender=sender, date=date)
    return Incoming(message=msg, raw=json.dumps({"body": body}).encode(), source="sms-gateway", dedup_key=f"g{i}")


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "private" / "screener.db")
    yield s
    s.close()


def test_across_imports_the_store_holds_the_earlier_message(config, model, store):
    first = screen_into_store(screener_for(config, model, store), store, [incoming(1, OPENER)], "webhook")
    assert store.get(first[0].row)["state"] == "delivered"
    # a later delivery, by a new process: the reveal holds the opener in the store
    screen_into_store(screener_for(config, model, store), store,
                      [incoming(2, REVEAL, date="2026-04-20T09:00:00+00:00")], "webhook")
    row = store.get(first[0].row)
    assert (row["state"], row["location"], row["action"]) == ("quarantined", "store", "quarantine")
    record = verdict_of(row)
    assert record["blocked_person"] == "Alex Morgan" and record["sender_status"] == "suspected_alias"
    assert record["reasons"][-2]["signal"] == "same_sender_held"
    assert set(record) == {"id", "action", "alert", "sender_status", "blocked_person", "tactics", "tags",
                           "logistics", "reasons"}
    events = store.conn.execute("SELECT action, detail FROM audit WHERE message = ? ORDER BY seq",
                                (first[0].row,)).fetchall()
    assert [e[0] for e in events] == ["screened", "held_afterwards"]
    assert json.loads(events[1][1])["blocked_person"] == "Alex Morgan"


def test_a_released_message_stays_released(config, model, store):
    first = screen_into_store(screener_for(config, model, store), store, [incoming(1, OPENER)], "webhook")
    with store.write():
        store.move(first[0].row, "released", "store", "friend")
    screen_into_store(screener_for(config, model, store), store, [incoming(2, REVEAL)], "webhook")
    assert store.get(first[0].row)["state"] == "released"


def test_classify_holds_back_across_its_chunks(config, model):
    """`classify` screens 1,024 records at a time; a reveal in the next chunk still holds the opener."""
    import io

    from screener.classify import CHUNK, classify_stream

    def line(i, body, sender):
        return json.dumps({"id": f"r{i}", "channel": "sms", "sender": sender, "body": body,
                           "date": "2026-04-19T20:10:00+00:00"})

    filler = [line(i, f"the bins go out on thursday, number {i}", f"+1415556{i:04d}") for i in range(CHUNK + 200)]
    lines = filler[:CHUNK - 5] + [line(-1, OPENER, NUMBER)] + filler[CHUNK - 5:CHUNK + 100] + \
        [line(-2, REVEAL, NUMBER)] + filler[CHUNK + 100:]
    out = io.StringIO()
    stats = classify_stream(Screener(config, model), lines, out)
    records = [json.loads(x) for x in out.getvalue().splitlines()]
    assert stats.screened == len(lines) == len(records)
    assert [r["id"] for r in records] == [json.loads(x)["id"] for x in lines]    # in order, each once
    by_id = {r["id"]: r for r in records}
    assert by_id["r-2"]["action"] == "quarantine"
    assert by_id["r-1"]["action"] == "quarantine" and by_id["r-1"]["reasons"][-2]["signal"] == "same_sender_held"
    assert sum(r["action"] == "quarantine" for r in records) == 2


def test_releasing_the_revealing_message_releases_what_it_held(config, model, store):
    first = screen_into_store(screener_for(config, model, store), store, [incoming(1, OPENER)], "webhook")
    second = screen_into_store(screener_for(config, model, store), store, [incoming(2, REVEAL)], "webhook")
    opener, reveal = first[0].row, second[0].row
    assert store.held_because(reveal) == [opener]
    store.request_release(reveal, "friend:dana")
    pending = {r["id"]: r for r in store.pending_releases()}
    assert set(pending) == {opener, reveal}
    detail = store.conn.execute("SELECT detail FROM audit WHERE action = 'release_requested' AND message = ?",
                                (opener,)).fetchone()[0]
    assert json.loads(detail) == {"because": reveal}
    # held in the same batch (one import), the opener goes back with the revealing message too
    other = screen_into_store(screener_for(config, model, store), store,
                              [incoming(3, OPENER, sender="+14155550170"), incoming(4, REVEAL, sender="+14155550170")],
                              "webhook")
    assert [o.verdict.action for o in other] == ["quarantine", "quarantine"]
    assert store.held_because(other[1].row) == [other[0].row]
    assert store.held_because(other[0].row) == []   # releasing the opener alone leaves the revealing message held


def test_a_message_held_afterwards_does_not_reach_further_back(config, model, store):
    """The window counts from the message that showed who it was, not from one it held."""
    first = screen_into_store(screener_for(config, model, store), store, [incoming(
        1, "hi! is this Sam? it's Jo from the allotments, got your number off the rota",
        date="2026-03-01T09:00:00+00:00")], "import")
    later = screen_into_store(screener_for(config, model, store), store, [
        incoming(2, OPENER, date="2026-03-25T20:10:00+00:00"),
        incoming(3, REVEAL, date="2026-04-05T22:30:00+00:00")], "import")
    assert [o.verdict.action for o in later] == ["quarantine", "quarantine"]
    assert store.get(first[0].row)["state"] == "delivered"     # 35 days before the reveal
