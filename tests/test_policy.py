"""The policy as a table of cases: a pure function of evidence and config."""

import pytest

from screener.labels import TACTICS
from screener.policy import THRESHOLD, Evidence, decide
from screener.signals import Reason
from screener.signals.carry import EARLIER

A = "Alex Morgan"
NONE = {t: 0.0 for t in TACTICS}


def ev(*reasons, tags=(), safety=False, seen=0, suspected=None, relayed=None, score=0.9, saved="", danger=0.0,
       throwaway=True, introduced=False, warning=False):
    scores = dict(NONE, **{t: score for t in tags})
    return Evidence(reasons=tuple(reasons), tags=tuple(tags), tactic_scores=scores, safety=safety, safety_score=danger,
                    introduced=introduced, seen_before=seen, suspected_as=suspected, relayed_for=relayed, saved_contact=saved,
                    throwaway=throwaway, warning=warning)


TRUSTED = Reason("trusted", 1.0, "trusted")
BLOCKED = Reason("blocked", 1.0, "blocked", A)
LOOKALIKE = Reason("lookalike_address", 0.9, "imitates", A)
TYPO = Reason("lookalike_address", 0.6, "one char", A)
NEAR = Reason("near_number", 0.3, "one digit", A)
FIRST_NAME = Reason("display_name", 0.15, "first name only", A)
SIGNED = Reason("self_identification", 0.9, "signs as Al", A)
NEWNUM = Reason("new_contact_announced", 0.5, "new number")
MENTION = Reason("mentions_blocked", 0.8, "mentions Alex", A)
PRETEXT = Reason("pretext", 0.6, "a stranger who introduced themselves in an earlier message now turns to the relationship")


@pytest.mark.parametrize("evidence, action, status, person, alert", [
    (ev(TRUSTED, tags=("insult", "threat"), safety=True), "deliver", "trusted", None, True),
    (ev(TRUSTED, MENTION, tags=("relay",)), "deliver", "trusted", None, False),
    (ev(BLOCKED), "quarantine", "blocked", A, False),
    (ev(BLOCKED, tags=("threat",), safety=True), "quarantine", "blocked", A, True),
    (ev(LOOKALIKE), "quarantine", "suspected_alias", A, False),
    (ev(SIGNED), "quarantine", "suspected_alias", A, False),
    (ev(TYPO, tags=("hoovering",), seen=5), "quarantine", "suspected_alias", A, False),
    (ev(TYPO, seen=5), "deliver", "known", None, False),
    (ev(NEAR), "deliver", "unknown", None, False),
    (ev(FIRST_NAME), "deliver", "unknown", None, False),
    (ev(NEAR, NEWNUM, tags=("love_bombing",), seen=5), "quarantine", "suspected_alias", A, False),
    (ev(MENTION, tags=("relay",)), "quarantine", "intermediary", A, False),
    (ev(MENTION), "deliver", "unknown", None, False),
    # a stranger's pretext that turns to the relationship and names the person: a go-between
    (ev(PRETEXT, MENTION, seen=1), "quarantine", "intermediary", A, False),
    (ev(PRETEXT, seen=1), "deliver", "known", None, False),
    (ev(PRETEXT, MENTION, seen=1, warning=True), "deliver", "known", None, False),
    (ev(MENTION, tags=("guilt_tripping",), relayed=A, seen=5), "quarantine", "intermediary", A, False),
    # "ok it's me on my mom's phone" from the number that pleaded for Alex: Alex on the go-between's phone
    (ev(NEWNUM, relayed=A, seen=1), "quarantine", "suspected_alias", A, False),
    (ev(NEWNUM, seen=1), "deliver", "known", None, False),
    (ev(Reason("new_contact_announced", 0.5, EARLIER + "new number"), relayed=A, seen=2), "deliver", "known", None, False),
    (ev(tags=("guilt_tripping",)), "quarantine", "suspected_alias", A, False),
    (ev(tags=("guilt_tripping",), seen=5), "deliver", "known", None, False),
    # a new account's second message: an innocuous opener does not make it a known contact
    (ev(tags=("guilt_tripping",), seen=1), "quarantine", "suspected_alias", A, False),
    (ev(tags=("relay",)), "quarantine", "intermediary", A, False),
    (ev(tags=("relay",), score=0.5), "deliver", "unknown", None, False),
    # a saved contact's confident relay with no name is content alone; naming the person still counts
    (ev(tags=("relay",), saved="Whitney"), "deliver", "unknown", None, False),
    (ev(MENTION, tags=("relay",), saved="Whitney"), "quarantine", "intermediary", A, False),
    (ev(seen=5, suspected=A), "quarantine", "suspected_alias", A, False),
    (ev(safety=True), "deliver", "unknown", None, True),
    (ev(safety=True, danger=0.45), "deliver", "unknown", None, True),
    # a likely danger from a new account is held untagged ("one of those lights is urs. go to bed")
    (ev(safety=True, danger=0.52), "quarantine", "suspected_alias", A, True),
    (ev(safety=True, danger=0.9, seen=2), "quarantine", "suspected_alias", A, True),
    # ... but not from an established correspondent, a saved contact or an organisation's own domain
    (ev(safety=True, danger=0.9, seen=5), "deliver", "known", None, True),
    (ev(safety=True, danger=0.9, saved="Mum"), "deliver", "unknown", None, True),
    (ev(safety=True, danger=0.9, throwaway=False), "deliver", "unknown", None, True),
    # ... nor from a writer who says who they are: "it's Sue from no. 16, a man sat outside yours"
    (ev(safety=True, danger=0.9, introduced=True), "deliver", "unknown", None, True),
    # ... nor a warning about the person ("heads up, a man came in asking for you, said he was your
    # husband"), though it names them and reads like a go-between: the user reads it, the friend is alerted
    (ev(MENTION, tags=("relay",), safety=True, danger=0.9, warning=True), "deliver", "unknown", None, True),
    (ev(TYPO, tags=("relay",), safety=True, danger=0.9, warning=True), "deliver", "unknown", None, True),
    (ev(TYPO, tags=("relay",), safety=True, danger=0.9), "quarantine", "intermediary", A, True),
    # identity evidence still holds a warning's writer: the person can write one too
    (ev(LOOKALIKE, safety=True, danger=0.9, warning=True), "quarantine", "suspected_alias", A, True),
])
def test_policy_table(evidence, action, status, person, alert):
    d = decide(evidence, (A,), quarantine_unknown_manipulative=True)
    assert (d.action, d.sender_status, d.blocked_person, d.alert) == (action, status, person, alert)
    assert d.reason.detail


def test_unknown_manipulative_switch_off():
    d = decide(ev(tags=("insult",)), (A,), quarantine_unknown_manipulative=False)
    assert (d.action, d.sender_status) == ("deliver", "unknown")
    d = decide(ev(safety=True, danger=0.9), (A,), quarantine_unknown_manipulative=False)
    assert (d.action, d.alert) == ("deliver", True)   # the switch covers danger from a new account too


def test_danger_hold_says_why():
    d = decide(ev(safety=True, danger=0.52, seen=1), (A,), True)
    assert d.reason.detail == "a new sender (only 1 earlier message), and the message may be a danger to the user (0.52)"


def test_two_blocked_people_attribution():
    other = Reason("lookalike_address", 0.9, "imitates", "Pat Doe")
    d = decide(ev(other), (A, "Pat Doe"), True)
    assert d.blocked_person == "Pat Doe"
    # Manipulative content with no link to either person: held, but not pinned on one of them.
    d = decide(ev(tags=("insult",)), (A, "Pat Doe"), True)
    assert d.action == "quarantine" and d.blocked_person is None


def test_threshold_and_weights_are_documented_as_the_code_has_them():
    import re
    from pathlib import Path

    from screener.policy import WEIGHTS

    doc = (Path(__file__).resolve().parent.parent / "docs" / "policy.md").read_text()
    assert re.search(r"the threshold \*\*([0-9.]+)\*\*", doc).group(1) == f"{THRESHOLD:.1f}"
    rows = re.findall(r"^\| `(\w+)`[^|]*\|[^|]*\| ([0-9.]+) \|", doc, re.MULTILINE)
    assert {signal for signal, _ in rows} <= set(WEIGHTS)
    assert all(f"`{signal}`" in doc for signal in WEIGHTS)   # announced_as_other shares new_contact's row
    for signal, weight in rows:
        assert float(weight) == WEIGHTS[signal], signal


def test_one_typo_alone_is_not_enough_but_an_imitation_is():
    typo = Reason("lookalike_address", 0.8, "differs by one character", A)
    assert decide(ev(typo), (A,), False).action == "deliver"
    assert decide(ev(LOOKALIKE), (A,), False).action == "quarantine"
    # Two weaker kinds of evidence that reach the threshold only together (0.6 style + 0.36 shared names).
    style = Reason("style_match", 0.6, "writes like Alex", A)
    names = Reason("shared_history", 0.45, "mentions 'Biscuit'", A)
    assert decide(ev(style), (A,), False).action == "deliver"
    assert decide(ev(names), (A,), False).action == "deliver"
    assert decide(ev(style, names), (A,), False).action == "quarantine"


def test_content_leaning_manipulative_counts_below_its_tag_threshold_only_with_identity_evidence():
    """A new number that names the dog (0.8 x 0.9), writes a little like them (0.1) and is 'not asking
    for money obviously' (guilt at 0.52, under its tag threshold): the leaning adds 0.5 x 0.52."""
    history = (Reason("shared_history", 0.9, "mentions 'Podge'", A), Reason("style_match", 0.1, "a little", A))
    leaning = dict(NONE, guilt_tripping=0.52)
    held = decide(Evidence(reasons=history, tags=(), tactic_scores=leaning, safety=False), (A,), True)
    assert held.action == "quarantine" and held.blocked_person == A
    calm = decide(Evidence(reasons=history, tags=(), tactic_scores=dict(NONE, guilt_tripping=0.2), safety=False),
                  (A,), True)
    assert calm.action == "deliver"   # under the leaning floor: nothing added
    alone = decide(Evidence(reasons=(), tags=(), tactic_scores=leaning, safety=False), (A,), True)
    assert alone.action == "deliver"  # no identity evidence: an untagged leaning holds nothing


def test_screening_hands_the_danger_score_to_the_policy(screen, model, monkeypatch):
    """An untagged possible danger from a first-time number: held once its danger score reaches
    DANGER_HOLD, delivered with an alert below it."""
    import screener.policy as policy
    from screener.message import Message
    from screener.signals.content import content_signals

    body = "Don't leave him on the bench son. You don't win from there."
    (content,) = content_signals(model, [Message(id="1", body=body, sender="+15555550111")])
    assert content.safety and not content.tags   # the case this test is about
    record = {"id": "d1", "sender": "+15555550111", "body": body}
    monkeypatch.setattr(policy, "DANGER_HOLD", content.safety_score - 0.01)
    (held,) = screen([record])
    assert (held.action, held.alert) == ("quarantine", True)
    assert "may be a danger to the user" in held.reasons[-1].detail
    monkeypatch.setattr(policy, "DANGER_HOLD", content.safety_score + 0.01)
    (kept,) = screen([record])
    assert (kept.action, kept.alert) == ("deliver", True)
