"""New-account signals: style and shared-history evidence, pretexts, bursts, and the guard rails."""

import json

from screener.config import load_config
from screener.message import Message
from screener.policy import THRESHOLD, WEIGHTS
from screener.screening import Screener
from screener.signals import burst
from screener.signals.style import pretext_reason

HISTORY = [
    "heya els.. definately coming round tmrw to get biscuit lol. J x",
    "cant believe u said that.. alot of ppl would of laughed. J x",
    "remember tenby and that seagull nicking my chips lol.. best day. J x",
    "definately not my fault the sofa got wrecked lol, biscuit did it. J x",
    "ur so wierd sometimes.. miss chippy fridays tho. J x",
    "im at the crown later if u want.. no pressure lol. J x",
    "tommorow works, ill bring biscuit's lead.. J x",
    "alot going on at work, definately tired lol. J x",
]


def make_screener(tmp_path, model, trusted=""):
    (tmp_path / "h.jsonl").write_text("".join(json.dumps({"id": f"h{i}", "sender": "+447700900412", "body": b}) + "\n"
                                              for i, b in enumerate(HISTORY)))
    (tmp_path / "c.toml").write_text(
        '[user]\nname = "Ellie Marsh"\nregion = "GB"\n[[blocked]]\nname = "Jordan Pryce"\nnicknames = ["Jord"]\n'
        'phones = ["07700 900412"]\nhistory = "h.jsonl"\n' + trusted)
    return Screener(load_config(tmp_path / "c.toml"), model)


def reasons(verdict):
    return {r.signal: r for r in verdict.reasons}


def test_style_and_shared_history_evidence_is_readable(tmp_path, model):
    screener = make_screener(tmp_path, model)
    msg = Message(id="1", sender="+447700900999", channel="sms",
                  body="heya els.. definately not trying to upset u lol, just wondering how biscuit is. J x")
    r = reasons(screener.screen([msg])[0])
    assert "style_match" in r and r["style_match"].person == "Jordan Pryce"
    assert "'definately'" in r["style_match"].detail and "style markers match" in r["style_match"].detail
    assert "signs off 'j x'" in r["style_match"].detail
    assert r["style_match"].score * WEIGHTS["style_match"] < THRESHOLD   # style alone never decides
    assert "shared_history" not in r or "Biscuit" in r["shared_history"].detail or "biscuit" in r["shared_history"].detail.lower()


def test_trusted_contact_is_never_held_by_style(tmp_path, model):
    screener = make_screener(tmp_path, model, '[[trusted]]\nname = "Kat"\nphones = ["07700 900330"]\n')
    msg = Message(id="1", sender="07700 900330", channel="sms",
                  body="heya els.. definately coming to tenby, bring biscuit lol. J x")
    v = screener.screen([msg])[0]
    assert v.action == "deliver" and v.sender_status == "trusted"


def test_vet_naming_the_pet_is_not_shared_history(tmp_path, model):
    screener = make_screener(tmp_path, model)
    msg = Message(id="1", sender="HeatonVets", channel="sms",
                  body="Reminder: Biscuit is due his booster vaccination. Please call the practice to book.")
    v = screener.screen([msg])[0]
    assert "shared_history" not in reasons(v)
    assert v.action == "deliver"


def test_pretext_then_relationship():
    msg = Message(id="1", body="Hi, this is Chris from the gym, hope you don't mind. Honestly your ex is "
                                "heartbroken, he deserves a second chance")
    r = pretext_reason(msg)
    assert r and "Chris from" in r.detail and r.score > 0
    assert pretext_reason(Message(id="2", body="Hi, this is Chris from the gym, your membership renews Monday")) is None
    # or to the blocked parent, in the family's own word for her
    assert pretext_reason(Message(id="3", body="Hi! This is Trish from the Women of Faith brunch. Your sweet mama "
                                               "signed you up, Saturday 10am"))
    # a name, then what brought them, with the place too far on for the first form
    r = pretext_reason(Message(id="4", body="I'm Sophie, I've just joined the Thursday book club at the Headingley "
                                            "Bookshop. I heard your ex was a decent guy underneath it all."))
    assert r and "('I'm Sophie, I've just joined')" in r.detail
    assert pretext_reason(Message(id="5", body="I'm sure, I've just started the new job. How's your mum?")) is None


def test_burst_groups_new_senders_on_the_same_themes():
    recent = []
    first = Message(id="1", body="why wont you answer me about the caravan and biscuit, im begging you",
                    date="2026-01-01T10:00:00")
    burst.remember(recent, first, "+447700900001", "Jordan Pryce")
    same = Message(id="2", body="please answer me about biscuit and the caravan, begging you",
                   date="2026-01-01T20:00:00")
    found = burst.burst_reasons(same, "+447700900002", recent)
    assert found and found[0].person == "Jordan Pryce" and "within 48 hours" in found[0].detail
    later = Message(id="3", body="please answer me about biscuit and the caravan", date="2026-01-09T20:00:00")
    assert burst.burst_reasons(later, "+447700900003", recent) == []
    other = Message(id="4", body="team lunch is moved to thursday at noon", date="2026-01-01T21:00:00")
    assert burst.burst_reasons(other, "+447700900004", recent) == []


def test_innocuous_opener_does_not_make_a_new_account_known(screen):
    out = screen([
        {"sender": "chris.gym2024@outlook.com", "body": "hey, hope you're well. it's been ages!"},
        {"sender": "chris.gym2024@outlook.com",
         "body": "after everything I did for you, you can't even answer? you owe me that much. "
                 "you were always so cold and selfish"},
    ])
    assert out[1].action == "quarantine" and out[1].sender_status == "suspected_alias"
    assert "earlier message" in out[1].reasons[-1].detail
    # and the opener, delivered on its own, is held with it: the same account, shown to be theirs
    assert out[0].action == "quarantine" and out[0].sender_status == "suspected_alias"
    assert out[0].reasons[-1].detail.startswith("held afterwards")
