"""A new sender trying to find the user, or owning up to an earlier disguise.

Both are what a blocked person writing from a new account does and an ordinary
stranger rarely does: a fake "PTA directory update" or "adoption records" text
that asks for the user's home address, a "do we know each other from
orientation?" that asks which days the user works; and, once the disguise has
done its job, "ok that was me", "I don't know a Kayleigh lol".

Neither is enough alone (a courier does ask to confirm an address): each is
identity evidence that adds up in the policy with style, shared history and the
rest, and carries across the sender's messages.
"""

from __future__ import annotations

import re

from screener.signals import Reason, lower, quote

# Lower case, matched against lower-cased text with straight apostrophes.
_ADDRESS = (r"(?:confirm(?:ing)?|send(?:ing)?|text|give|tell|share|need|want|get|reply with|pass on|dm|pm|drop)\b[^.?!\n]{0,40}?"
            r"\b(?:your|ur|yr|the)\s+(?:current\s+|new\s+|home\s+|street\s+|full\s+|postal\s+|house\s+)*"
            r"(?:home address|address|addy|postcode|post code|zip code|zip|street address)\b"
            r"|\bwhat(?:'s| is|s)\s+(?:your|ur)\s+(?:new\s+|current\s+|home\s+)*(?:address|addy|postcode|zip code)\b"
            r"|\bwhere (?:are|r|do) (?:you|u|ya) (?:living|live|staying|based|renting) (?:now|these days|nowadays)\b")
_SCHEDULE = (r"\bwhat (?:days|nights|times|shifts|hours) (?:are|r|do) (?:you|u|ya) (?:working|on|in|work|usually)\b"
             r"|\b(?:your|ur) (?:work |shift |weekly )?(?:schedule|rota|shift pattern|shifts)\b"
             r"|\bwhat time (?:do|does|are|r) (?:you|u) (?:finish|get off|leave|clock off|get home|usually finish)\b"
             r"|\bwhich (?:building|office|floor|branch|ward|site|gym|school) (?:are|r|do) (?:you|u) (?:in|at|work|go|use)\b"
             r"|\bwhich days (?:does|do|is|are) (?:\w+ )?(?:stay|stays|sleep|with you|at yours|at your)\b")
_LOCATING = re.compile(rf"(?:{_ADDRESS})|(?:{_SCHEDULE})")
# Words the patterns cannot match without: most messages hold none, and skip the regex.
_ANCHORS = ("address", "addy", "postcode", "post code", "zip", "where ", "what days", "what nights", "what times",
            "what shifts", "what hours", "schedule", "rota", "shift", "what time", "which ")

_UNMASKING = re.compile(
    r"\b(?:that was me|it was me all along|it was me|(?:it'?s|its) me not \w+|i made (?:that|it|her|him) up"
    r"|i don'?t (?:even |actually )?know (?:a|any|no) [a-z]+|there (?:is|was) no [a-z]+ lol"
    r"|that was a (?:mass|group|fake|bulk) (?:text|message|email)|sorry for the (?:fake|pretend|act)"
    r"|(?:only|sole) way (?:you'?d|you would|u would|ud|u'd) (?:answer|reply|read|respond|open)"
    r"|had to pretend|not really (?:from|with) (?:the|a))\b")
_UNMASK_ANCHORS = ("me", "made", "know", "no ", "mass", "group", "fake", "bulk", "sorry for", "way", "pretend", "really")


def _clean(text: str) -> tuple[str, str]:
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    return text, lower(text)


def locating_reason(text: str) -> Reason | None:
    """The sender asks where the user lives, or when and where they work."""
    text, low = _clean(text)
    if not any(a in low for a in _ANCHORS):
        return None
    m = _LOCATING.search(low)
    if m is None:
        return None
    return Reason("locating", 0.6, f"a new sender asks where the user lives or works, or when ('{quote(text, low, m)}')")


def unmasking_reason(text: str) -> Reason | None:
    """A sender who wrote before owns up: the earlier message was a disguise."""
    text, low = _clean(text)
    if not any(a in low for a in _UNMASK_ANCHORS):
        return None
    m = _UNMASKING.search(low)
    if m is None:
        return None
    return Reason("unmasked", 0.75, f"owns up that an earlier message from this sender was a disguise "
                                    f"('{quote(text, low, m)}')")
