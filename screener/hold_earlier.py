"""A new account's earlier messages, held once a later one shows who it is.

"Hey! It's Tobe from Hinge" is delivered: nothing ties the number to anyone.
Two messages later the same number writes "ok yes it's me" and is held as the
blocked person. The earlier messages were theirs too, and belong with the
evidence: they are held now (an incident is one incident).

Only a sender's first few messages, only when the later message is held as the
blocked person's new account (`suspected_alias`, not a go-between), only within
a window, and never a message the trusted friend released or a trusted or
saved contact's. The screening path applies this within a batch
(`revise_batch`); the store applies it to messages screened in earlier batches
(`screener.ingest.hold_earlier_in_store`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from screener.signals import Reason
from screener.signals.account_kind import saved_contact
from screener.timeutil import parse_iso

WINDOW = timedelta(days=30)
# The revealing message is at most this many messages into the sender's history:
# a long-standing correspondent's old mail is not re-decided by one later hold.
MAX_EARLIER = 5
SIGNAL = "same_sender_held"
REVISABLE = ("unknown", "known")   # statuses of a delivered message that nothing tied to anyone


def reveals(verdict) -> bool:
    """Whether this verdict ties its sender to a blocked person strongly enough to hold its earlier
    messages (a message itself held afterwards does not: the window counts from the one that showed it)."""
    return (verdict.action == "quarantine" and verdict.sender_status == "suspected_alias"
            and bool(verdict.blocked_person) and bool(verdict.sender_key)
            and not any(r.signal == SIGNAL for r in verdict.reasons))


def revisable(verdict) -> bool:
    return verdict.action == "deliver" and verdict.sender_status in REVISABLE and bool(verdict.sender_key)


def may_hold(earlier_msg, earlier_verdict, earlier_date: str | None, later_date: str | None) -> bool:
    """Whether an earlier message of a revealed sender is held with it: delivered with nothing tying it
    to anyone, not from a contact saved on the phone, within the window."""
    return (revisable(earlier_verdict) and not saved_contact(earlier_msg)
            and in_window(earlier_date, later_date))


def in_window(earlier_date: str | None, later_date: str | None) -> bool:
    """Dates unknown on either side count as close (a batch without dates is one sitting)."""
    early, late = parse_iso(earlier_date), parse_iso(later_date)
    if early is None or late is None:
        return True
    return abs(late - early) <= WINDOW


def reason(person: str, later_id: str) -> Reason:
    return Reason(SIGNAL, 1.0,
                  f"the same sender's later message ({later_id}) was held as {person}'s new account", person)


def decision_reason(person: str) -> Reason:
    return Reason("policy", 1.0, f"held afterwards: a later message from this sender was held as {person}")


def held(earlier, person: str, later_id: str):
    """The earlier verdict, held as the person's (content, tags and alert as they were)."""
    reasons = [r for r in earlier.reasons if r.signal != "policy"]
    return replace(earlier, action="quarantine", sender_status="suspected_alias", blocked_person=person,
                   reasons=reasons + [reason(person, later_id), decision_reason(person)])


def revise_batch(messages: list, verdicts: list, seen_before: list[int]) -> list:
    """Hold, within one batch, the earlier delivered messages of senders a later message reveals.
    `seen_before[i]`: how many messages from message i's sender were screened before it."""
    waiting: dict[str, list[int]] = {}   # sender key -> indexes of its messages since the last reveal
    out = list(verdicts)
    for i, (msg, verdict) in enumerate(zip(messages, verdicts)):
        key = verdict.sender_key
        if not key:
            continue
        if reveals(verdict):
            if seen_before[i] <= MAX_EARLIER:
                for j in waiting.pop(key, []):
                    if may_hold(messages[j], out[j], messages[j].date, msg.date):
                        out[j] = held(out[j], verdict.blocked_person, msg.id)
        else:
            waiting.setdefault(key, []).append(i)
    return out
