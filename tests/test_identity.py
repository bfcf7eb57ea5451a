"""Identity signals, each with evidence a friend can read, and the innocent collisions."""

import pytest

from screener.message import Message
from screener.signals import identity


@pytest.fixture(scope="module")
def index(config):
    return identity.IdentityIndex.from_config(config)


def reasons_for(index, sender, body="hello", name=""):
    msg = Message(id="1", body=body, sender=sender, sender_name=name)
    key = identity.sender_key(msg, index.region)
    found = identity.exact_match(msg, index, key)
    if not found:
        found = identity.lookalike_reasons(msg, index, key) + identity.self_identification(msg, index)
    return {r.signal: r for r in found}


@pytest.mark.parametrize("sender", ["alex.morgan@gmail.com", "AlexMorgan+x@googlemail.com", "a.lex.morgan@gmail.com",
                                    "(415) 555-0142", "+1 415-555-0142", "415.555.0142", "AMORGAN@corp.example"])
def test_blocked_in_any_written_form(index, sender):
    r = reasons_for(index, sender)
    assert "blocked" in r and r["blocked"].person == "Alex Morgan"
    assert "known address of Alex Morgan" in r["blocked"].detail


@pytest.mark.parametrize("sender", ["dana@example.net", "+1 (415) 555-0199"])
def test_trusted(index, sender):
    assert "trusted" in reasons_for(index, sender)


@pytest.mark.parametrize("sender, at_least, words", [
    ("alex.m0rgan@gmail.com", 0.9, "'0' instead of 'o'"),
    ("aiex.morgan@gmail.com", 0.9, "imitates"),
    ("alex.morgan84@gmail.com", 0.9, "imitates"),
    ("alex_morgan@yahoo.com", 0.9, "imitates"),
    ("alexmorgan@outlook.com", 0.9, "alexmorgan@gmail.com"),
    ("amorgan@corp-example.com", 0.6, "imitates Alex Morgan's own domain corp.example"),
    ("amorgan@c0rp.example", 0.9, "domain"),
    ("alex.rnorgan@gmail.com", 0.9, "imitates"),
    ("alex.morgen@gmail.com", 0.8, "by one character"),
])
def test_lookalike_addresses(index, sender, at_least, words):
    r = reasons_for(index, sender)
    assert "lookalike_address" in r, r
    assert r["lookalike_address"].score >= at_least
    assert words in r["lookalike_address"].detail


def test_name_in_display_name_and_address(index):
    assert reasons_for(index, "x9912@mail.example", name="Alex Morgan")["display_name"].score >= 0.9
    assert reasons_for(index, "morgan.alex.1990@yahoo.com")["name_in_address"].score >= 0.7


def test_first_name_shown_and_surname_in_the_address_are_the_full_name(index):
    # Alex Morgan is blocked: "Alex" <amorgan2026@gmail.com> names them across the two fields
    r = reasons_for(index, "amorgan2026@gmail.com", name="Alex")
    assert r["name_in_address"].score == 0.9
    assert "display name 'alex' and address amorgan2026@gmail.com together give Alex Morgan's full name" \
        in r["name_in_address"].detail
    # the surname-based address alone, or another first name shown, stays as it was
    assert reasons_for(index, "amorgan2026@gmail.com")["name_in_address"].score == 0.7
    assert reasons_for(index, "amorgan2026@gmail.com", name="Andrea")["name_in_address"].score == 0.7
    # the first name shown with an address that says nothing of the surname: weak, as before
    assert reasons_for(index, "sunnydays@gmail.com", name="Alex")["display_name"].score == 0.15


def test_a_nickname_with_the_surname_is_the_full_name(index):
    # "Lexi Morgan ✨" on a new address is Alex Morgan as surely as "Alex Morgan" would be
    r = reasons_for(index, "x9912@mail.example", name="Lexi Morgan ✨")["display_name"]
    assert r.score == 0.9 and r.person == "Alex Morgan"
    assert "display name 'lexi morgan' is Alex Morgan's nickname 'lexi' and surname" in r.detail
    # with the surname in the address instead, the two fields together give the name
    assert reasons_for(index, "amorgan2026@gmail.com", name="Lexi")["name_in_address"].score == 0.9
    # another first name with the surname, or the nickname with another surname, stays weak
    assert reasons_for(index, "x9912@mail.example", name="Jo Morgan")["display_name"].score == 0.35
    assert "display_name" not in reasons_for(index, "x9912@mail.example", name="Lexi Jones")


def test_a_nickname_with_the_surname_in_the_address(index):
    r = reasons_for(index, "lexi.morgan.art@outlook.com")["name_in_address"]
    assert r.score == 0.8
    assert "address lexi.morgan.art@outlook.com contains Alex Morgan's nickname 'lexi' and surname" in r.detail
    # the initial of their own surname shown is not another surname; a different surname is
    assert reasons_for(index, "lexi.m.art@outlook.com", name="Lexi M")["name_in_address"].score == 0.4
    assert reasons_for(index, "lexi.m.art@outlook.com", name="Lexi Jones")["name_in_address"].score == 0.12


@pytest.mark.parametrize("body, name, signed", [
    ("I bought a townhouse. Three bedrooms.\n\nA.", "", True),
    ("not asking for anything\n- A x", "", True),
    ("See you at the match.\n\nA", "Andy Pryce", False),     # the writer's own initial
    ("Back on Plan A", "", False),                           # a letter inside a sentence
    ("Thanks,\nB", "", False),                              # another letter
    ("Cheers\nAM", "", False),                              # two initials: the stronger signal, not this one
])
def test_a_single_initial_sign_off_is_weak_evidence(index, body, name, signed):
    found = identity.initial_signoff(Message(id="1", sender="x9912@mail.example", sender_name=name, body=body), index)
    assert [(r.signal, r.score, r.person) for r in found] == (
        [("initial_signoff", identity.ONE_INITIAL, "Alex Morgan")] if signed else [])
    assert not found or found[0].detail == ("signs with a single initial, 'A', the first letter of Alex Morgan's "
                                            "first name (weak: many people sign so)")


def test_innocent_collisions_are_weak(index):
    # A colleague sharing only a first name, and a number one digit away, are weak evidence.
    colleague = reasons_for(index, "alex.chen@work.example", name="Alex Chen")
    assert all(r.score < 0.5 for r in colleague.values())
    near = reasons_for(index, "+1 415 555 0143")
    assert near["near_number"].score < 0.5 and "one digit" in near["near_number"].detail
    assert reasons_for(index, "info@gmail.com") == {}


def test_self_identification(index):
    signed = reasons_for(index, "+14155550000", body="I just want to talk. please.\n- Al")
    assert signed["self_identification"].person == "Alex Morgan"
    assert "'al'" in signed["self_identification"].detail.lower()
    intro = reasons_for(index, "+14155550000", body="hey its lexi, dont hang up on me")
    assert "self_identification" in intro
    # Names are matched on folded text, where the apostrophe of "It's" and "I'm" is a space.
    for body in ("It's Lexi. Borrowed phone.", "I’m Lexi, remember me?"):
        assert "self_identification" in reasons_for(index, "+14155550000", body=body), body
    announced = reasons_for(index, "+14155550000", body="new number, save it")
    assert "new_contact_announced" in announced
    plain = reasons_for(index, "+14155550000", body="Is Alexandra coming to the meeting?")
    assert plain == {}


@pytest.mark.parametrize("body, score, said", [
    ("Sam, Alex Morgan here. I am outside the library with your book.", 0.85, "alex morgan here"),
    ("It is Lexi. I am sorry to trouble you on a Sunday.", 0.85, "it is lexi"),
    ("Two crabbing lines, out of habit.\nKind regards, Alex M.", 0.7, "regards alex m"),
    ("The fete is on Sunday at noon.\n\nAlex J. Morgan\nHon. Secretary\n\nP.S. The children are welcome.",
     0.85, "alex j morgan"),
])
def test_self_identification_in_the_forms_people_use(index, body, score, said):
    """'X here', 'It is X', a surname's initial after the first name, and a signature block
    with a middle initial that a P.S. follows."""
    found = reasons_for(index, "+14155550000", body=body)["self_identification"]
    assert found.person == "Alex Morgan" and found.score == score and f"'{said}'" in found.detail


@pytest.mark.parametrize("body", [
    "Is Alex Morgan here yet? The meeting started.",       # asks whether they are here
    "Kind regards, Alex C.",                               # another surname's initial: a first name only
    "Minutes attached.\nAlex Morgan will chair next time.\nThanks, Pat",   # a sentence, not a signature line
    "Sun goes ahead without us.\n\nAl\n\nReuters Market News\nSun outlines its plans for 2003",   # a nickname
    # on a line above a forwarded article: common ("Greg"), unlike a full name
])
def test_forms_that_only_name_the_person_are_weak_or_nothing(index, body):
    found = reasons_for(index, "+14155550000", body=body).get("self_identification")
    assert found is None or found.score <= 0.4


def test_mentions_by_name_and_role(index):
    by_name = identity.mentions(Message(id="1", body="Alex asked me to tell you he is sorry"), index)
    assert by_name and by_name[0].person == "Alex Morgan"
    by_role = identity.mentions(Message(id="1", body="your ex keeps asking about you"), index)
    assert by_role and "your ex" in by_role[0].detail
    assert identity.mentions(Message(id="1", body="see you at the meeting"), index) == []


def test_announced_numbers(index):
    msg = Message(id="1", body="its me, new number 415-555-0188 dont block it")
    assert identity.announced_addresses(msg, "US") == ["+14155550188"]


@pytest.mark.parametrize("sender", ["@@", "a@b@c", "@", "x@"])
def test_broken_addresses_give_evidence_or_none_and_never_fail(index, sender):
    """Found by the fuzz test: a sender of '@@' crashed the look-alike check."""
    found = reasons_for(index, sender, body="hello")
    assert all(r.score >= 0 for r in found.values())
