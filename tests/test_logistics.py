"""Logistics facts: extracted, resolved against the message date, never the sender's sentences."""

import pytest

from screener.signals.logistics import extract_facts, find_amounts, find_dates, find_times


def kinds(facts):
    return {f["kind"]: f["text"] for f in facts}


def test_handover_school_and_payment_from_one_message():
    text = ("Can you drop the kids at Chorlton Water Park this Saturday at 2pm? Also the permission slip is "
            "due next Friday and I need £42.50 for the vet bill.")
    facts = kinds(extract_facts(text, "2025-04-14T10:00:00"))   # a Monday
    assert facts["handover"] == "Sat 19 Apr, 14:00, Chorlton Water Park"
    assert facts["school"] == "permission slip due Fri 25 Apr"
    assert facts["payment"] == "£42.50 vet bill requested"


@pytest.mark.parametrize("text, sent, expected", [
    ("see you tomorrow", "2026-03-02T08:00", ["Tue 3 Mar"]),
    ("this Saturday", "2026-03-02T08:00", ["Sat 7 Mar"]),
    ("on the 3rd of June", "2026-05-01", ["Wed 3 Jun"]),
    ("by March 12th", "2026-01-20", ["Thu 12 Mar"]),
    ("on 14/02", "2026-01-20", ["Sat 14 Feb"]),
    ("in January", "2026-11-20", []),
])
def test_dates_resolved_against_message_date(text, sent, expected):
    assert find_dates(text, __import__("screener.signals.logistics", fromlist=["x"]).message_date(sent)) == expected


@pytest.mark.parametrize("text, expected", [("at 2pm", ["14:00"]), ("5:30 pm", ["17:30"]), ("at 09:15", ["09:15"]),
                                            ("noon", ["12:00"]), ("half 5", ["17:30"]),
                                            ("get them from school at 3.15", ["15:15"]), ("from 10.30 on", ["10:30"]),
                                            ("rates rose at 3.15%", []), ("it sold at £2.50.", []),
                                            ("version 3.15 is out", [])])
def test_times(text, expected):
    assert find_times(text) == expected


@pytest.mark.parametrize("text, expected", [("£42.50", ["£42.50"]), ("$1,200", ["$1,200"]), ("300 quid", ["£300"]),
                                            ("50 bucks", ["$50"])])
def test_amounts(text, expected):
    assert find_amounts(text) == expected


def test_court_and_travel():
    court = kinds(extract_facts("Hearing is listed for 12 March at 10:00 at Manchester Civil Justice Centre",
                                "2026-01-20"))
    assert court["court"] == "hearing, Thu 12 Mar, 10:00, Manchester Civil Justice Centre"
    travel = kinds(extract_facts("I need Mia's passport back by 3 July for the trip to Spain", "2026-05-01"))
    assert travel["travel"].startswith("passport due Fri 3 Jul")


def test_getting_the_children_from_school_is_a_handover_and_getting_them_a_present_is_not():
    assert extract_facts("ill get them from school at 3.15, back at the leisure centre for 6",
                         "2026-11-10T19:00:00") == [{"kind": "handover", "text": "15:15"}]
    assert extract_facts("I'll get them a present at the weekend, 3pm?", "2026-11-10T19:00:00") == []


def test_a_time_without_a_date_takes_the_date_the_message_gives_elsewhere():
    assert extract_facts("wednesday tea tomorrow still on. ill get them from school at 3.15, back at the leisure "
                         "centre for 6", "2026-11-10T19:00:00") == [{"kind": "handover", "text": "Wed 11 Nov, 15:15"}]
    # a recurring day is the sentence's own: the payment's deadline is not the lessons' date
    facts = extract_facts("Swimming lessons at Kirkstall for next term are £96 (12 weeks, Saturdays at 9.30). Half is £48 "
                          "by Fri 20th please.", "2026-11-10T19:00:00")
    assert {"kind": "school", "text": "09:30, Kirkstall"} in facts


def test_no_facts_in_feelings():
    assert extract_facts("I love you so much, please call me. You were my whole world.", "2026-01-01") == []


def test_fact_text_is_built_not_copied():
    text = "honestly you NEVER listen, the kids need picking up from Oakwood Primary friday at 3.15 as usual!!"
    facts = extract_facts(text, "2026-11-02T08:00")
    assert facts, facts
    for fact in facts:
        assert "NEVER" not in fact["text"] and "listen" not in fact["text"]


@pytest.mark.parametrize("text, expected", [
    ("Handover Friday 25 April at 2pm", ["Fri 25 Apr"]),          # the weekday names the same day
    ("friday, 25/04 please", ["Fri 25 Apr"]),
    ("on Sat 19th April, and Tuesday the 22nd", ["Sat 19 Apr", "Tue 22 Apr"]),
    ("tue 15th", ["Tue 15 Apr"]),
])
def test_weekday_beside_a_date_is_that_date(text, expected):
    from screener.signals.logistics import find_dates, message_date

    assert find_dates(text, message_date("2025-04-14T10:00:00")) == expected


def test_a_practical_message_without_an_arrangement_word_keeps_its_dates_times_and_amounts():
    from screener.signals.logistics import when_facts

    assert extract_facts("Are we still on for lunch Thursday at 12:30? My treat.", "2026-03-02T10:00:00") == []
    assert when_facts("Are we still on for lunch Thursday at 12:30? My treat.", "2026-03-02T10:00:00") == \
        [{"kind": "other", "text": "Thu 5 Mar, 12:30"}]
    assert when_facts("Still waiting on the £48. Sort it by Friday.", "2026-11-17T09:00:00") == \
        [{"kind": "other", "text": "£48, Fri 20 Nov"}]
    assert when_facts("Can you sanity-check the figures on slide 6?", "2026-11-17T09:00:00") == []


def test_the_digest_fact_of_a_practical_message_is_its_dates_not_a_placeholder(model):
    from screener.message import Message
    from screener.signals.content import NO_FACTS, content_signals

    msg = Message(id="1", sender="+447700900111", channel="sms", date="2026-11-03T18:00:00",
                  body="ParcelGo: your parcel from Boots will be delivered Tue 17 Nov between 14:05 and 15:05.")
    facts = content_signals(model, [msg])[0].logistics
    assert facts and facts != [NO_FACTS] and "Tue 17 Nov" in facts[0]["text"]
