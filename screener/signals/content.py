"""Content signals for a batch: tactic scores and tags, safety, logistics facts.

Shared by the screener and by `screener evaluate`, so what is measured is
what runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from screener.labels import TACTICS
from screener.message import Message
from screener.model import TacticModel
from screener.signals import Reason, plain, quote, search_anchored
from screener.signals.logistics import extract_facts, when_facts
from screener.signals.relay_lexicon import relay_reason
from screener.signals.safety_lexicon import safety_reasons
from screener.signals.warning_lexicon import protective_warning

FACTS_FLOOR = 0.15
NO_FACTS = {"kind": "other", "text": "practical matter, no date, time or amount found"}


@dataclass
class Content:
    tactic_scores: dict
    tags: list
    safety: bool
    safety_score: float        # how likely a danger is: the model's safety score, or 0.9 for a danger phrase
    logistics: list
    reasons: list[Reason]
    row: tuple | None = None   # the model's word row, for explaining tags later


def explained(model: TacticModel, msg: Message, content: Content) -> list[Reason]:
    """The content reasons with each tag's driving phrases named (worked out only when needed:
    for messages that are held or raise an alert, which the friend will read)."""
    if not content.tags:
        return content.reasons
    phrases = model.explain(msg.text, content.tags, row=content.row)
    tagged = set(content.tags)
    return [_tag_reason(r.signal, content.tactic_scores[r.signal], phrases.get(r.signal, []))
            if r.signal in tagged else r for r in content.reasons]


# A bulk mailing's own furniture: a newsletter's, a campaign's or a shop's, not a person's.
_BULK = re.compile(r"\bunsubscribe\b(?=[ \t]*(?:$|\n|\||[.:)\]]|here\b|link\b|at\b|any ?time\b|instantly\b|"
                   r"from (?:this|these|our|all|future|the) (?:list|e-?mails?|mailings?|newsletters?|messages|texts)\b))"
                   r"|\bview (?:this (?:email|e-mail|message) )?(?:in|on) (?:your |a )?(?:web )?browser\b"
                   r"|\bmanage (?:your )?(?:email |e-mail |subscription |mailing )?preferences\b"
                   r"|\byou(?: are|'re) receiving this (?:email|e-mail|message|newsletter|because)\b")
_BULK_ANCHORS = ("unsubscribe", "browser", "preferences", "receiving this")


def bulk_footer(text: str) -> str:
    """The words that show `text` is a bulk mailing ("Unsubscribe", "View in browser"), or ''."""
    text, low = plain(text)   # "you’re receiving this email" is the same words
    m = search_anchored(_BULK, _BULK_ANCHORS, low)
    return quote(text, low, m) if m else ""


def content_signals(model: TacticModel, messages: list[Message]) -> list[Content]:
    scores = model.score([m.text for m in messages])
    col = {label: j for j, label in enumerate(scores.labels)}
    # The whole batch at once: rounded tactic scores and which pass their thresholds, as lists.
    order = [col[t] for t in TACTICS]
    rounded = np.round(scores.probs[:, order].astype(np.float64), 4).tolist()
    passed = (scores.probs >= scores.thresholds)[:, order].tolist()
    out = []
    for i, msg in enumerate(messages):
        row, thr = scores.probs[i], scores.thresholds[i]
        tactic_scores = dict(zip(TACTICS, rounded[i]))
        tags = [t for t, above in zip(TACTICS, passed[i]) if above]
        bulk = bulk_footer(msg.text) if tags else None
        if bulk:   # a mailing to many (a newsletter's, a campaign's words) is no tactic aimed at the user
            tags = []
        # Go-between phrases only count with some model support, so read them only then.
        relay_hint = relay_reason(msg.text) if tactic_scores["relay"] >= 0.5 * thr[col["relay"]] else None
        if relay_hint and "relay" not in tags:
            tags = sorted(tags + ["relay"], key=TACTICS.index)
        reasons = [_tag_reason(t, tactic_scores[t], None) for t in tags]
        if relay_hint:
            reasons.append(relay_hint)
        if bulk:
            reasons.append(Reason("bulk_mail", 0.0, f"a mailing to many ('{bulk}'): no tactic tag is asserted"))

        safety_p = float(row[col["safety"]])
        # Most danger phrases count only with some model support; the plainest count always.
        supported = safety_p >= 0.5 * float(thr[col["safety"]]) or bool(tags)
        phrases = safety_reasons(msg.text, supported)
        lexicon = bool(phrases)
        # Every threat is a possible danger: recall on safety matters more than precision.
        safety = bool(safety_p >= thr[col["safety"]] or lexicon or "threat" in tags)
        danger = max(safety_p, 0.9 if lexicon else 0.0)
        if safety:
            detail = "possible danger to the user or someone else"
            if phrases:
                detail += "; " + "; ".join(r.detail for r in phrases[:3])
            reasons.append(Reason("safety", danger, detail))
            if relay_hint is None and (warned := protective_warning(msg.text)):
                reasons.append(warned)

        logistics_p = float(row[col["logistics"]])
        # The extractor reads only what the model thinks may be practical (it is the costly part).
        facts = extract_facts(msg.text, msg.date) if logistics_p >= FACTS_FLOOR else []
        if facts or logistics_p >= thr[col["logistics"]]:
            facts = facts or when_facts(msg.text, msg.date) or [dict(NO_FACTS)]
            reasons.append(Reason("logistics", logistics_p,
                                  "practical facts: " + "; ".join(f"{f['kind']}: {f['text']}" for f in facts)))
        else:
            facts = []
        out.append(Content(tactic_scores, tags, safety, danger, facts, reasons, scores.row(i) if tags else None))
    return out


def _tag_reason(tactic: str, score: float, phrases: list[str] | None) -> Reason:
    detail = f"{tactic.replace('_', ' ')} ({score:.2f})"
    if phrases is not None:
        detail += ", driven by " + (", ".join(f"'{p}'" for p in phrases) if phrases else "the message as a whole")
    return Reason(tactic, score, detail)
