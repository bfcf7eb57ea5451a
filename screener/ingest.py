"""Screen messages from any source into the store: the path shared by the SMS
importers, the webhooks and file imports (the daemon adds IMAP moves around it).

`screener_for()` builds a Screener that remembers what the store knows: senders
seen before, suspected aliases, go-betweens and aliases learned or added by the
friend. `screen_into_store()` screens only what the store has not seen, in one
batch, and stores each message with its verdict and an audit event in one
transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from screener import hold_earlier
from screener.message import Message
from screener.screening import SENDER_STYLE_MESSAGES, ScreenState, Screener, Verdict, remember_text
from screener.signals import Reason, burst, carry, style
from screener.store import Incoming, Store, now


# A sender's introduction ("hi, it's Chris from the gym") is looked for in its first messages.
INTRO_MESSAGES = 3


def screen_state(store: Store) -> ScreenState:
    """What screening remembers, rebuilt from the store: senders seen, suspected aliases,
    go-betweens, each new sender's identity evidence and introduction, and the newest
    attributed new senders (for bursts), so evidence adds up across a restart or two
    imports as it does within one run."""
    state = ScreenState()
    # Each sender's first few records come with the row, for its introduction and its style as a
    # whole; the others are not read.
    first = max(INTRO_MESSAGES, SENDER_STYLE_MESSAGES - 1)
    for key, status, person, reasons, record in store.conn.execute(
            "SELECT sender_key, sender_status, blocked_person, reasons, CASE WHEN ROW_NUMBER() OVER "
            "(PARTITION BY sender_key ORDER BY id) <= ? THEN record END FROM messages WHERE sender_key IS NOT NULL "
            "AND sender_key != '' ORDER BY id", (first,)):
        nth = state.seen.get(key, 0)
        state.seen[key] = nth + 1
        if status == "suspected_alias" and person:
            state.suspected.setdefault(key, person)
        elif status == "intermediary" and person:
            state.go_betweens.setdefault(key, person)
        if status not in ("blocked", "trusted"):   # as the live path: not for an exact match
            message = Message.from_dict(json.loads(record)) if record is not None else None
            _carry_from_store(state, key, reasons, message if nth < INTRO_MESSAGES else None)
            if message is not None:
                remember_text(state, key, message.text, nth)
    # The newest attributed new senders, for bursts that span a restart.
    attributed = store.conn.execute(
        "SELECT sender_key, blocked_person, record FROM messages WHERE sender_status IN ('suspected_alias', "
        "'intermediary') AND blocked_person IS NOT NULL AND sender_key != '' ORDER BY id DESC LIMIT ?",
        (burst.KEEP,)).fetchall()
    for key, person, record in reversed(attributed):
        burst.remember(state.recent, Message.from_dict(json.loads(record)), key, person)
    return state


def _carry_from_store(state: ScreenState, key: str, reasons_json: str, message: Message | None) -> None:
    """`message`: the message as received when it is one of the sender's first few, else None."""
    found = [_reason_of(r) for r in json.loads(reasons_json or "[]") if r.get("signal") in carry.CARRIED]
    earlier = carry.for_sender(state.earlier, key)
    intro = None
    if earlier.intro is None and message is not None:
        intro = style.introduction(message)
    carry.remember(state.earlier, key, earlier, intro, found)


# Held messages of a blocked person that join their style profile (the newest first).
HELD_FOR_STYLE = 500


def held_texts(store: Store) -> dict[str, list[str]]:
    """The bodies of each blocked person's own messages held so far (from their known
    addresses or attributed aliases; not go-betweens'), for their style profile."""
    out: dict[str, list[str]] = {}
    for person, record in store.conn.execute(
            "SELECT blocked_person, record FROM messages WHERE blocked_person IS NOT NULL "
            "AND sender_status IN ('blocked', 'suspected_alias') AND state IN ('quarantined', 'pending') "
            "ORDER BY id DESC LIMIT ?", (HELD_FOR_STYLE * 4,)):
        bodies = out.setdefault(person, [])
        if len(bodies) < HELD_FOR_STYLE:
            bodies.append(json.loads(record).get("body", ""))
    return out


def screener_for(config, model, store: Store) -> Screener:
    screener = Screener(config, model, state=screen_state(store), held_texts=held_texts(store))
    apply_aliases(screener, store)
    return screener


def apply_aliases(screener: Screener, store: Store) -> None:
    for row in store.aliases():
        if row["role"] == "blocked" and row["person"]:
            screener.index.add_alias(row["value"], row["person"])
        elif row["role"] == "trusted":
            screener.index.add_trusted(row["value"], row["person"] or "")


@dataclass
class Stored:
    row: int
    verdict: object
    new: bool


def screen_into_store(screener: Screener, store: Store, items: list[Incoming], actor: str) -> list[Stored]:
    """Screen and store the items the store has not seen (by source and dedup key).

    SMS and file messages have no mailbox to move out of: a held one is
    `quarantined` in the store, a clean one `delivered`.
    """
    out: list[Stored] = []
    fresh, seen_keys = [], set()
    for item in items:
        row = store.find(item.source, item.dedup_key)
        if row is not None or (item.source, item.dedup_key) in seen_keys:
            out.append(Stored(row["id"] if row is not None else -1, None, False))
            continue
        seen_keys.add((item.source, item.dedup_key))
        fresh.append((len(out), item))
        out.append(None)
    if not fresh:
        return out
    verdicts = screener.screen([item.message for _, item in fresh])
    model_sha = getattr(screener.model, "sha256", None)
    with store.write():
        for (pos, item), verdict in zip(fresh, verdicts):
            state = "quarantined" if verdict.action == "quarantine" else "delivered"
            row = store.add(item, verdict, state, "store", actor, model_sha=model_sha)
            hold_earlier_in_store(store, verdict, item.message, row, actor)
            out[pos] = Stored(row, verdict, True)
    return out


def hold_earlier_in_store(store: Store, verdict, msg: Message, row: int, actor: str) -> list[int]:
    """Hold the messages that `verdict`'s sender sent in earlier batches, now that message `row`
    shows who it is (see `screener.hold_earlier`). Call inside `store.write()`.

    A text or file message is held in the store; a mail still in a mailbox folder becomes
    "pending" a move to quarantine (the daemon moves it, or `reconcile` after a crash).
    Returns the rows that wait for such a move."""
    if not hold_earlier.reveals(verdict):
        return []
    rows = store.conn.execute("SELECT * FROM messages WHERE sender_key = ? AND id < ? ORDER BY id",
                              (verdict.sender_key, row)).fetchall()
    if len(rows) > hold_earlier.MAX_EARLIER:
        return []
    pending = []
    for r in rows:
        if r["state"] != "delivered":
            continue
        earlier, old = Message.from_dict(json.loads(r["record"])), _verdict_of_row(r)
        if not hold_earlier.may_hold(earlier, old, earlier.date or r["received_at"], msg.date or now()):
            continue
        new = hold_earlier.held(old, verdict.blocked_person, msg.id)
        if r["source"] == "imap":
            if not r["location"] or r["location"] == "store":
                continue
            store.hold_afterwards(r["id"], new, "pending", r["location"], actor, folder=r["location"], because=row)
            pending.append(r["id"])
        else:
            store.hold_afterwards(r["id"], new, "quarantined", "store", actor, because=row)
    return pending


def _verdict_of_row(row) -> Verdict:
    record = verdict_of(row)
    reasons = [_reason_of(r) for r in json.loads(row["reasons"] or "[]")]
    return Verdict(id=record["id"], action=record["action"], alert=record["alert"],
                   sender_status=record["sender_status"], blocked_person=record["blocked_person"],
                   tactics=record["tactics"], tags=record["tags"], logistics=record["logistics"],
                   reasons=reasons, sender_key=row["sender_key"] or "")


def _reason_of(stored: dict) -> Reason:
    """A reason as the store keeps it (the contract's fields and the person it points at)."""
    return Reason(stored["signal"], float(stored.get("score") or 0.0), stored.get("detail", ""), stored.get("person"))


def verdict_of(row) -> dict:
    """A stored message's verdict as the contract's output record."""
    return {
        "id": row["record_id"], "action": row["action"], "alert": bool(row["alert"]),
        "sender_status": row["sender_status"], "blocked_person": row["blocked_person"],
        "tactics": json.loads(row["tactics"]), "tags": json.loads(row["tags"]),
        "logistics": json.loads(row["logistics"]),
        "reasons": [{k: r[k] for k in ("signal", "score", "detail") if k in r} for r in json.loads(row["reasons"])],
    }
