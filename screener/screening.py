"""The one screening path shared by `classify`, the daemon and the imports.

Batch-first: the model scores a whole chunk at once; identity signals are
cheap string work per message; the policy then walks the chunk in order so
that what it learns (a sender seen before, an alias announced) applies to the
messages after it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from screener import hold_earlier
from screener.config import Config
from screener.message import Message
from screener.model import TacticModel
from screener.policy import Evidence, decide
from screener.signals import Reason
from screener.corpus import DEFAULT_DATA_DIR
from screener.signals import account_kind, burst, carry, identity, locating, speaks_for, style
from screener.signals.content import Content, content_signals, explained


@dataclass
class Verdict:
    id: str
    action: str
    alert: bool
    sender_status: str
    blocked_person: str | None
    tactics: dict
    tags: list
    logistics: list
    reasons: list[Reason]
    sender_key: str = ""

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "action": self.action,
            "alert": self.alert,
            "sender_status": self.sender_status,
            "blocked_person": self.blocked_person,
            "tactics": self.tactics,
            "tags": self.tags,
            "logistics": self.logistics,
            "reasons": [r.as_dict() for r in self.reasons],
        }


# A new sender's first messages are read together for its writing style (`Screener._sender_style`).
SENDER_STYLE_MESSAGES = 6
SENDER_STYLE_CHARS = 500   # of each (a long email has its own style; memory stays small for 20,000 senders)


@dataclass
class ScreenState:
    """What screening remembers between messages (the store will persist it)."""

    seen: dict[str, int] = field(default_factory=dict)   # sender key -> messages screened from it
    suspected: dict[str, str] = field(default_factory=dict)   # sender key -> blocked person
    go_betweens: dict[str, str] = field(default_factory=dict)  # sender key -> person they relayed for
    recent: list = field(default_factory=list)   # (time, sender key, person, content words) of attributed new senders
    earlier: dict = field(default_factory=dict)   # sender key -> evidence.SenderEvidence from its earlier messages
    texts: dict = field(default_factory=dict)     # sender key -> its first messages' texts (for its style as a whole)


def remember_text(state: ScreenState, key: str, text: str, nth: int) -> None:
    """Keep the text of a new sender's `nth` message (0 for its first) for its style as a whole:
    the first few only, each cut short (a long email has a style of its own)."""
    if not key or nth >= SENDER_STYLE_MESSAGES - 1:
        return
    texts = state.texts.get(key)
    if texts is None:
        if len(state.texts) >= carry.MAX_SENDERS:
            state.texts.pop(next(iter(state.texts)))   # forget the oldest sender
        texts = state.texts[key] = []
    texts.append(text[:SENDER_STYLE_CHARS])


class Screener:
    def __init__(self, config: Config, model: TacticModel, state: ScreenState | None = None,
                 held_texts: dict[str, list[str]] | None = None):
        self.config = config
        self.model = model
        self.index = identity.IdentityIndex.from_config(config)
        self.state = state or ScreenState()
        self.blocked_names = tuple(p.name for p in config.blocked)
        self.family_surname = account_kind.family_surname(config.user.name, self.blocked_names)
        self.profiles = {}
        self.parent_roles = {p.name: speaks_for.parent_roles(p.nicknames) for p in config.blocked}
        self._style = None
        self._sender_vectors: dict = {}   # joined texts -> style vector, for `_sender_style`
        self._lookalike_cache: dict = {}
        if any(p.history for p in config.blocked) or held_texts:
            self.profiles = style.load_profiles(config, style.Background.bundled(DEFAULT_DATA_DIR), held_texts)

    def screen(self, messages: list[Message]) -> list[Verdict]:
        verdicts, seen_before = self.screen_each(messages)
        return hold_earlier.revise_batch(messages, verdicts, seen_before)

    def screen_each(self, messages: list[Message]) -> tuple[list[Verdict], list[int]]:
        """Each message's verdict as it arrives (before `hold_earlier`), and how many messages from
        its sender were screened before it."""
        contents = content_signals(self.model, messages)
        keys = [identity.sender_key(m, self.index.region) for m in messages]
        self._style = self._style_batch(messages, keys)
        self._sender_vectors = self._sender_style_batch(messages, keys)
        seen_before = []
        verdicts = []
        for i, (msg, content, key) in enumerate(zip(messages, contents, keys)):
            seen_before.append(self.state.seen.get(key, 0))
            verdicts.append(self._one(msg, content, key, i))
        return verdicts, seen_before

    def _style_batch(self, messages: list[Message], keys: list[str]):
        """Style vectors of the batch, and per profile the similarities of other correspondents' messages."""
        if not self.profiles or not messages:
            return None
        vectors = style._vectors([m.text for m in messages])
        key_array = np.array(keys)
        others = np.array([k not in self.index.blocked_addr for k in keys])
        sims = {name: style.similarities(p, vectors) for name, p in self.profiles.items()}
        return vectors, key_array, others, sims

    def _sender_style_batch(self, messages: list[Message], keys: list[str]) -> dict:
        """The style vectors `_sender_style` will need for this batch, made in one call: each new
        sender's texts so far joined with its message, found by replaying the batch on a copy of
        the remembered texts. Keyed by the joined text; a text the replay did not foresee is made
        when it is needed, so the vectors change the speed only."""
        if self._style is None:
            return {}
        scratch = ScreenState(seen={k: self.state.seen.get(k, 0) for k in keys},
                              texts={k: list(self.state.texts[k]) for k in keys if k in self.state.texts})
        joined = []
        for msg, key in zip(messages, keys):
            nth = scratch.seen[key]
            if nth < SENDER_STYLE_MESSAGES and key not in self.index.trusted_addr \
                    and key not in self.index.blocked_addr:
                if scratch.texts.get(key):
                    joined.append("\n".join(scratch.texts[key] + [msg.text]))
                remember_text(scratch, key, msg.text, nth)
            scratch.seen[key] = nth + 1
        if not joined:
            return {}
        vectors = style._vectors(joined)
        return {text: vectors[j] for j, text in enumerate(joined)}

    def _other_writers(self, i: int):
        """Which of the batch's messages are the user's other correspondents for message `i`: not a
        blocked address and not its own sender (the yardstick its style is measured against)."""
        _, keys, others, _ = self._style
        return others & (keys != keys[i])

    def _style_reasons(self, msg: Message, i: int, probing: bool, unnamed: bool) -> list[Reason]:
        if self._style is None:
            return []
        vectors, _, _, sims = self._style
        mask = self._other_writers(i)
        return [r for name, p in self.profiles.items()
                for r in style.style_reasons(p, msg.text, vectors[i], sims[name][mask], opening_of=msg.body,
                                                writer_name=msg.sender_name, probing=probing, unnamed=unnamed,
                                                user_names=self.index.user_names)]

    def _sender_style(self, msg: Message, key: str, i: int) -> list[Reason]:
        """A new sender's style over all its messages so far: one short text carries little
        style, but a new number's five short texts together carry as much as an email. Only
        for a sender's first few messages (a new account), and only the writing-style part
        (names are counted per message, and carried)."""
        earlier = self.state.texts.get(key)
        if self._style is None or not earlier:
            return []
        texts = earlier + [msg.text]
        combined = "\n".join(texts)
        vector = self._sender_vectors.get(combined)
        if vector is None:
            vector = style._vectors([combined])[0]
        sims, mask = self._style[3], self._other_writers(i)
        found = []
        for name, p in self.profiles.items():
            for r in style.style_reasons(p, combined, vector, sims[name][mask], writer_name=msg.sender_name,
                                         user_names=self.index.user_names):
                if r.signal == "style_match":
                    found.append(Reason(r.signal, r.score, f"across this sender's {len(texts)} messages: {r.detail}",
                                        r.person))
        return found

    def _speaks_for(self, msg: Message) -> list[Reason]:
        parents = [(name, p, self.parent_roles[name]) for name, p in self.profiles.items() if self.parent_roles.get(name)]
        if not parents:
            return []
        own = set(msg.sender_name.lower().split())
        return [r for name, p, roles in parents
                for r in speaks_for.speaks_for_reasons(
                    msg.text, name, roles, p.names,
                    lambda text: [n for n in style.mentioned_names(p, text) if n.lower() not in own], own)]

    def _lookalike(self, msg: Message, key: str) -> list[Reason]:
        """Look-alike evidence depends only on the sender, so it is worked out once per sender."""
        cache_key = (key, msg.sender, msg.sender_name)
        found = self._lookalike_cache.get(cache_key)
        if found is None:
            if len(self._lookalike_cache) > 50_000:
                self._lookalike_cache.clear()
            found = self._lookalike_cache[cache_key] = identity.lookalike_reasons(msg, self.index, key)
        return found

    def _one(self, msg: Message, content: Content, key: str, i: int) -> Verdict:
        throwaway = account_kind.throwaway(key)
        reasons: list[Reason] = identity.exact_match(msg, self.index, key)
        forced = bool(reasons)
        introduced = False
        if not forced:
            reasons += self._lookalike(msg, key)
            reasons += identity.self_identification(msg, self.index)
            if not any(r.signal == "self_identification" for r in reasons):
                reasons += identity.initial_signoff(msg, self.index)
            reasons += identity.mentions(msg, self.index)
            probing = locating.probing_reasons(msg.body, throwaway, bool(self.state.seen.get(key)),
                                               organisation=not throwaway)   # only an own domain is not throwaway
            unnamed = any(r.signal == "new_contact_announced" for r in reasons)   # "It's me. New number"
            reasons += self._style_reasons(msg, i, any(r.signal in ("locating", "prying") for r in probing), unnamed)
            if self.state.seen.get(key, 0) < SENDER_STYLE_MESSAGES:
                reasons += self._sender_style(msg, key, i)
                remember_text(self.state, key, msg.text, self.state.seen.get(key, 0))
            reasons += self._speaks_for(msg)
            earlier = carry.for_sender(self.state.earlier, key)
            reasons += probing
            if posing := account_kind.posing_account(key, msg.sender):
                reasons.append(posing)
            pretext, intro = style.pretext_with_intro(msg, earlier.intro)
            introduced = bool(intro or earlier.intro)
            if pretext:
                reasons.append(pretext)
            if key not in self.state.seen:   # bursts are about new senders
                reasons += burst.burst_reasons(msg, key, self.state.recent)
            reasons += earlier.carried(reasons)
            carry.remember(self.state.earlier, key, earlier, intro, reasons)

        tactic_scores, tags, safety = content.tactic_scores, content.tags, content.safety
        facts, content_reasons = content.logistics, content.reasons

        ev = Evidence(reasons=tuple(reasons), tags=tuple(tags), tactic_scores=tactic_scores, safety=safety,
                      safety_score=content.safety_score, introduced=introduced,
                      seen_before=self.state.seen.get(key, 0), suspected_as=self.state.suspected.get(key),
                      relayed_for=self.state.go_betweens.get(key), throwaway=throwaway,
                      saved_contact=account_kind.saved_contact(msg),
                      users_family=account_kind.users_family(msg, self.family_surname),
                      mailing_list=msg.mailing_list,
                      warning=any(r.signal == "protective_warning" for r in content.reasons))
        decision = decide(ev, self.blocked_names, self.config.policy.quarantine_unknown_manipulative)
        self._learn(msg, key, decision)
        shown = [r for r in reasons if r.signal != "mentions_blocked" or decision.sender_status == "intermediary"]
        if decision.action == "quarantine" or decision.alert:
            content_reasons = explained(self.model, msg, content)
        return Verdict(
            id=msg.id, action=decision.action, alert=decision.alert, sender_status=decision.sender_status,
            blocked_person=decision.blocked_person, tactics=tactic_scores, tags=tags, logistics=facts,
            reasons=shown + content_reasons + [decision.reason], sender_key=key,
        )

    def _learn(self, msg: Message, key: str, decision) -> None:
        if key:
            self.state.seen[key] = self.state.seen.get(key, 0) + 1
        if decision.sender_status == "suspected_alias" and decision.blocked_person and key:
            self.state.suspected.setdefault(key, decision.blocked_person)
        if decision.sender_status == "intermediary" and decision.blocked_person and key:
            self.state.go_betweens.setdefault(key, decision.blocked_person)
        if decision.sender_status in ("suspected_alias", "intermediary") and decision.blocked_person:
            burst.remember(self.state.recent, msg, key, decision.blocked_person)
        if decision.sender_status in ("blocked", "suspected_alias") and decision.blocked_person:
            for addr in identity.announced_addresses(msg, self.index.region):
                self.index.add_alias(addr, decision.blocked_person)
