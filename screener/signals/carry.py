"""Evidence about an account is about the account: a new sender's earlier messages count.

A fake persona rarely gives itself away in one message: it introduces itself
in the first ("hi, it's Tiffany from Hinge"), turns to the relationship in the
second, signs "Dad." in a third. Each kind of identity evidence seen from a
sender is remembered (its strongest instance per blocked person) and carried
into the sender's later messages, where the policy counts each kind once per
person, so evidence adds up across kinds and never by repetition.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from screener.signals import Reason

# Evidence about who writes, not about this one message's content or its sender's address
# (look-alike and display-name evidence is worked out again for every message anyway).
CARRIED = ("style_match", "shared_history", "self_identification", "new_contact_announced", "announced_as_other",
           "pretext", "locating", "prying", "unmasked")
MAX_SENDERS = 20_000
EARLIER = "in an earlier message from this sender: "


@dataclass
class SenderEvidence:
    best: dict = field(default_factory=dict)   # (person, signal) -> strongest Reason so far
    intro: str | None = None                   # how the sender introduced themselves, if they did

    def carried(self, current: list[Reason]) -> list[Reason]:
        """Earlier evidence stronger than (or absent from) this message's, with a detail saying so."""
        now: dict = {}
        for r in current:
            now[(r.person, r.signal)] = max(now.get((r.person, r.signal), 0.0), r.score)
        return [Reason(r.signal, r.score, EARLIER + r.detail.removeprefix(EARLIER), r.person)
                for k, r in self.best.items() if r.score > now.get(k, 0.0)]

    def remember(self, intro: str | None, reasons: list[Reason]) -> bool:
        """Keep this message's evidence; True when there is anything to keep."""
        for r in reasons:
            if r.signal in CARRIED:
                k = (r.person, r.signal)
                if k not in self.best or r.score > self.best[k].score:
                    self.best[k] = r
        if self.intro is None:
            self.intro = intro
        return bool(self.best) or self.intro is not None


def for_sender(memory: dict, key: str) -> SenderEvidence:
    """The sender's remembered evidence (a fresh, unstored record when there is none)."""
    return memory.get(key) or SenderEvidence()


def remember(memory: dict, key: str, found: SenderEvidence, intro: str | None, reasons: list[Reason]) -> None:
    """Store the sender's evidence (`intro`: how this message introduced its writer, if it did),
    only for senders that gave some: ordinary senders leave nothing behind."""
    if found.remember(intro, reasons) and key and key not in memory:
        if len(memory) >= MAX_SENDERS:
            memory.pop(next(iter(memory)))   # forget the oldest sender
        memory[key] = found

