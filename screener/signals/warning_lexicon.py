"""Phrases by which a third party warns the user about someone, rather than pleading for them.

"Heads up - a man came in asking for you. He said he was your husband. Lorraine
didn't tell him anything." names the blocked person by role and reads like a
go-between to the model, but it is a colleague's warning the user needs to
see (and the friend gets the safety alert). Read only on messages with a
possible danger, and never with a go-between's pleading words beside it.
"""

from __future__ import annotations

import re

from screener.signals import Reason, plain, quote, search_anchored

# Lower case, matched against lower-cased text.
_WARNING = re.compile(
    r"\bheads[- ]up\b"
    r"|\b(?:thought|think) you (?:should|ought to|might want to|need to|would want to) (?:know|be aware)\b"
    # the writer kept the user's whereabouts from the person asking
    r"|\b(?:didn'?t|did not|wouldn'?t|won'?t|never) (?:tell|give|say|confirm) (?:him|her|them) (?:anything|where|when|your|ur)\b"
    r"|\btold (?:him|her|them) (?:you (?:weren'?t|were not|aren'?t|are not|don'?t) |nothing\b)"
    r"|\b(?:didn'?t|did not) (?:release|let (?:him|her|them) (?:in|take|up))\b")
# Who the warning is about: a third person, by pronoun or description, or someone asking after the user.
# "Porch light's out again. Just a heads up." names nobody: from a new number that is a sign of watching.
_SOMEONE = re.compile(
    r"\b(?:he|she|they|him|her|them|his|hers|somebody|some ?one|anyone|anybody|a (?:man|woman|guy|bloke|"
    r"lady|fella|lad|girl|boy|person|car|van|truck)|(?:your|ur) (?:ex|husband|wife|dad|mum|mom|father|mother)|asking|"
    r"asked|looking for|enquiring|inquiring)\b")
# A name in mid-sentence: "Heads up, Dave was round the club" (not "I", nor a sentence's or a line's first word).
_NAMED = re.compile(r"(?<![.!?\n]\s)(?<!^)(?<!\n)\b(?!I\b)[A-Z][a-z]+")
# Not "I just wanted you to know...", which opens many a plea to come back ("...that you're forgiven"),
# nor "I have to warn you", which opens many a threat.
_ANCHORS = ("heads", "you should", "ought to", "might want", "need to", "would want",
            "tell", "give", "say", "confirm", "told", "release", "let")


def protective_warning(text: str) -> Reason | None:
    """A warning about someone ("heads up", "she didn't tell him anything"), or None. The
    warning must be about someone: a "heads up" that names nobody is not one."""
    text, low = plain(text)
    m = search_anchored(_WARNING, _ANCHORS, low)
    if m is None or not (_SOMEONE.search(low) or _NAMED.search(text)):
        return None
    return Reason("protective_warning", 1.0, f"warns the user about someone ('{quote(text, low, m)}'): "
                                             "for the user to read, not a go-between's plea")
