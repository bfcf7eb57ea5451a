"""Phrases by which a third party carries a message or pleads for someone.

Evidence beside the model's `relay` score: a go-between's wording is
formulaic ("asked me to tell you", "he just wants to talk"), and these forms
hold across voices the training data may not have.
"""

from __future__ import annotations

import re

from screener.signals import Reason, plain, quote

_PRONOUN = r"(?:he|she|they|him|her|them|his|their)"
_P = [
    r"\b(?:asked|begged|wanted|told) me to (?:tell|ask|let you know|pass (?:this|it|on)|reach out|contact|message|text|email|write|check|get you|make sure)",
    r"\b(?:on (?:his|her|their) behalf|passing (?:this|it) on|pass(?:ing)? (?:on )?(?:a|this|the) message|(?:he|she|they) wanted you to (?:know|have))",
    r"\b(?:he|she|they)(?:'s| is|'re| are)? (?:just )?(?:wants?|needs?|desperate) (?:to (?:talk|speak|see|hear from|explain|apologi[sz]e|make (?:it|things) right)|closure|5 min|five min|a chance)",
    r"\b(?:call|ring|text|message|phone|contact|talk to|speak to|reach out to|answer|unblock) (?:him|her|them|your (?:mum|mom|dad|mother|father|ex))\b",
    r"\b(?:give|giving) (?:him|her|them) (?:a|another|one more) (?:chance|call|go)",
    r"\b(?:he|she)(?:'s| is) (?:heartbroken|devastated|in (?:a )?(?:proper |really )?bad (?:way|place)|falling apart|a mess|not (?:eating|sleeping)|broken)",
    r"\b(?:your (?:mum|mom|dad|mother|father|ex|brother|sister)) (?:asked|wants|misses|loves|is (?:heartbroken|devastated|sorry))",
]
PATTERNS = [re.compile(p) for p in _P]          # lower case, matched against lower-cased text
ANY = re.compile("|".join(f"(?:{p})" for p in _P))


def relay_phrases(text: str) -> list[str]:
    text, low = plain(text)
    if not ANY.search(low):
        return []
    return [quote(text, low, m) for p in PATTERNS if (m := p.search(low))]


def relay_reason(text: str) -> Reason | None:
    found = relay_phrases(text)
    if not found:
        return None
    quoted = ", ".join(f"'{f}'" for f in found[:2])
    return Reason("relay_phrase", min(1.0, 0.6 + 0.2 * len(found)), f"words a go-between uses: {quoted}")
