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

from screener.signals import Reason, plain, quote, search_anchored

# Lower case, matched against lower-cased text with straight apostrophes.
# The verb is a whole word: not "forget ur address", nor "3.15pm ... return her to your address" (and a
# regex that starts at word starts only is three times faster).
_ADDRESS = (r"\b(?:confirm(?:ing)?|send(?:ing)?|text|give|tell|share|need|want|get|reply with|pass on|dm|pm|drop"
            r"|supply|provide)\b"
            # "confirm your name, current home address": the address as an item of a list of details
            r"[^.?!\n]{0,40}?(?:\b(?:your|ur|yr|the)\s+|(?<=,) ?(?=current|home|full|postal))"
            r"(?:current\s+|new\s+|home\s+|street\s+|full\s+|postal\s+|house\s+)*"
            r"(?:home address|address|addy|postcode|post code|zip code|zip|street address)\b"
            # the first line of a list: "reply with:\n1) Your current home address"
            r"|\breply with:?\s*\n\s*(?:\d{1,2}[.)]|[-•*·])\s*(?:your|ur|yr)\s+(?:current\s+|new\s+|home\s+|full\s+)*"
            r"(?:home address|address|postcode|zip code|street address)\b"
            r"|\bwhat(?:'s| is|s)\s+(?:your|ur)\s+(?:new\s+|current\s+|home\s+)*(?:address|addy|postcode|zip code)\b"
            r"|\bwhere (?:are|r|do) (?:you|u|ya) (?:living|live|staying|based|renting) (?:now|these days|nowadays)\b"
            )
# Whether the user has moved, and where the children are: a fake survey's or shop's questions.
_MOVING = re.compile(
    r"\b(?:(?:are|r) )?(?:you|u|ya) still (?:living|based|staying) (?:in|at|on|near)\b"
    r"|\bis (?:it|that) still (?:the|your|ur) [a-z]+ (?:address|house|flat|place)\b"
    r"|\b(?:have|did|has) (?:you|u|ya) (?:moved|move house|moved house|moved out)\b"
    r"|\b(?:are|r) (?:you|u|ya) (?:planning|going|thinking of|thinking about) (?:to )?(?:move|moving) "
    r"(?:house|out|away|out of the area)\b"
    r"|\bwhich (?:secondary |primary |high |middle |junior )?school (?:does|do|is|are) (?:your|the|ur) "
    r"(?:eldest|oldest|youngest|kids|children|child|son|daughter|boys?|girls?|lad)\b")
_MOVING_ANCHORS = ("still living", "still based", "still staying", "still the ", "still your ", "still ur ", " moved",
                   "move house", "to move", "of moving", "about moving", "school does", "school do ", "school is",
                   "school are")
_SCHEDULE = (r"\b(?:what|which) (?:days|nights|times|shifts|hours) (?:are|r|do) (?:you|u|ya) (?:typically |normally )?"
             r"(?:working|on|in|work|usually)\b"
             # "what part of town are you in now?", "whereabouts are you based?"
             r"|\b(?:what|which) (?:part|area|end|side|bit) of (?:town|the city|[a-z]+) (?:are|r|do|did) (?:you|u|ya) "
             r"(?:in|at|live|living|based|move|moved|end up)\b"
             r"|\bwhereabouts (?:are|r|do) (?:you|u|ya) (?:based|living|live|staying)\b"
             r"|\b(?:your|ur) (?:work |shift |weekly )?(?:schedule|rota|shift pattern|shifts)\b"
             r"|\bwhat time (?:do|does|are|r) (?:you|u) (?:finish|get off|leave|clock off|get home|usually finish)\b"
             r"|\bwhich (?:building|office|floor|branch|ward|site|gym|school) (?:are|r|do) (?:you|u) (?:in|at|work|go|use)\b"
             r"|\bwhich days (?:does|do|is|are) (?:\w+ )?(?:stay|stays|sleep|with you|at yours|at your)\b"
             r"|\bwhat (?:unit|flat|apartment|apt|house number|floor)\b[^.?!\n]{0,12}\b(?:are|r) (?:you|u|ya) (?:in|on|at)\b"
             r"|\bwhat (?:days|times|time) (?:are|r) (?:you|u|ya) (?:usually |normally |generally )?(?:home|in|around|at home)\b"
             r"|\bwhere (?:do|d) (?:you|u|ya) (?:usually |normally |generally )?park\b"
             r"|\b(?:a|which|what) (?:days?|times?) (?:you'?re|youre|your|ur|u r|you are) (?:usually |normally )?"
             r"(?:in|home|at home|around)(?=\s*(?:[.?!,;\n]|$|and\b|or\b))")
# "Are you still in Loveland?": whether the user has moved from the town the person knew. Case
# matters (a place, not "still in bed"), so this one is matched against the text as written.
_STILL_IN = re.compile(r"\b(?i:(?:are|r) (?:you|u|ya) still (?:in|at|near|over in|up in|down in) )(?:the )?[A-Z][a-z]+")
_LOCATING = re.compile(rf"(?:{_ADDRESS})|(?:{_SCHEDULE})")
# A questionnaire's line that asks for the address, the workplace or the children's school by
# itself, no verb and often no question mark: "1. Your current address", "- Home address",
# "2. Your employer and office location", "4. The name of the school she attends".
_MARKER = r"\d{1,2}[.)]|[-•*·]"   # a list line's number or bullet
_ITEM = rf"(?:^|\n)[ \t]*(?:{_MARKER}|[a-z][.)])[ \t]*"   # here also lettered ("a)", "b.")
_LISTED = re.compile(
    rf"{_ITEM}(?:(?:your|ur|yr|the) )?(?:(?:current|new|home|full|postal|street|residential|house|second caregiver'?s?"
    r"|caregiver'?s?) )*(?:home address|address|postcode|post code|zip code|street address)"
    r"(?=[ \t]*(?:$|\n|[.,:;?(/]|and\b|or\b|incl|please\b))"   # not "1. Address by the head teacher"
    rf"|{_ITEM}(?:(?:your|ur) )?(?:current )?(?:employer|workplace|place of work|work address|office location)\b"
    rf"|{_ITEM}(?:the )?name of (?:the |your (?:child'?s?|kids'?|son'?s?|daughter'?s?) )?school\b"
    rf"|{_ITEM}which (?:nights|days|weekends) (?:is|are|do|does) (?:your|the) (?:child|children|kids?|son|daughter)\b")
_LISTED_ANCHORS = ("address", "postcode", "post code", "zip code", "employer", "workplace", "place of work",
                   "office location", "school", "nights", "days", "weekends")
# Words the patterns cannot match without: most messages hold none, and skip the regex.
_ANCHORS = ("address", "addy", "postcode", "post code", "zip", "where ", "what days", "what nights", "what times",
            "what shifts", "what hours", "schedule", "rota", "shift", "what time", "which ", "what unit", "what flat",
            "what apartment", "what apt", "what house number", "what floor", "part of", "area of", "end of", "side of",
            "bit of", "whereabouts",
            "day y", "days y", "time y", "times y", "day u", "days u", "time u", "times u")   # "a day you're in"
LOCATING_SCORES = (0.6, 0.8, 1.0)   # one such question, two, three or more

# Questions about the user's love life or about the children and their other parent: what a
# "survey" or a "match" from a blocked person asks, and an ordinary stranger does not.
_PRYING = re.compile(
    r"\b(?:are|r) (?:you|u|ya) (?:currently |still |now )?(?:in a relationship|seeing (?:any|some)one|"
    r"dating (?:any|some)one|with (?:any|some)one|remarried|in a new relationship|"
    r"single(?!\s+(?:or|room|bed|ticket|occupancy|file|entry|use|sided|handed)\b))\b"
    r"|\b(?:do|does|did) (?:you|u|your (?:children|kids|child|son|daughter)|the (?:children|kids)) (?:\w+ ){0,3}?"
    r"(?:contact with|see|speak to|talk to|communicate with|spend(?: time)? with) (?:both|their|his|her|your children'?s|"
    r"your kids'?) (?:sets of )?(?:grandparents?|father|mother|dad|mum|mom|other parent|parents)\b"
    r"|\b(?:does|did|is|has|will|would|do) (?:their|the children'?s|the kids'?|your children'?s|your kids'?|your ex'?s?) "
    r"(?:father|mother|dad|mum|mom|ex|ex-husband|ex-wife|partner)\b"
    r"|\bnights? (?:\w+ ){0,4}?with (?:their|his|her) (?:father|mother|dad|mum|mom)\b"
    r"|\b(?:ended|end|left|leave) (?:a|the|your) (?:relationship|marriage)\b"
    r"|\bwhy (?:did|do) (?:you|u) (?:stop|cut|end|block|leave|walk away)\b"
    r"|\b(?:do|d) (?:you|u|ya) live (?:alone|on (?:your|ur) own|by (?:yourself|urself)|with (?:any|some)one)\b"
    r"|\bwho (?:do (?:you|u) live with|else lives (?:with you|with u|there|at))\b"
    r"|\bhow many (?:adults|people|grown-?ups) (?:live|are living|stay|are staying) (?:with (?:you|u)|there|"
    r"(?:at|in) (?:the|your|ur) (?:address|home|house|flat|property|household))\b"
    r"|\b(?:is|has) (?:any|some)(?:one|body) (?:else )?(?:living|staying|moved in) (?:with (?:you|u)|there|at (?:yours|urs))\b"
    r"|\b(?:how often )?(?:do|did) (?:you|u) (?:still )?(?:see|visit|speak to|talk to|have contact with|hear from) "
    r"(?:your|ur) (?:father|mother|dad|mum|mom|parents)\b"
    r"|\b(?:is there|are there|have (?:you|u) got|do (?:you|u) have) (?:a |any )?(?:new |other )?(?:partner|boyfriend|"
    r"girlfriend|husband|wife|adults?|man|woman|fella|bloke) (?:\w+ ){0,3}?(?:living|staying|in the home|at home|in the house)\b"
    # an estrangement or a separation asked about: "how often are you in contact with your Father?",
    # "do you share care of your children?", "...if the other parent's job changed?"
    r"|\b(?:are|r) (?:you|u) (?:still |currently )?in (?:contact|touch) with (?:your|ur) (?:father|mother|dad|mum|mom|"
    r"parents|family|ex)\b"
    r"|\b(?:do|did) (?:you|u) (?:\w+ )?(?:share|split) (?:the )?(?:care|custody|parenting) (?:of )?(?:your|ur|the) "
    r"(?:children|kids|child|son|daughter)\b"
    r"|\b(?:your|ur) (?:custody|contact|care|parenting) (?:arrangements?|split|schedule)\b"
    r"|\bthe (?:children'?s |kids'? )?other parent\b"
    # the break-up itself: "what actually happened with you two?", "were you with someone a long time too?"
    r"|\bwhat (?:actually |really |exactly )?happened (?:with|between) (?:you two|you and (?:him|her|your ex))\b"
    r"|\b(?:were|was) (?:you|u) (?:with (?:someone|somebody|him|her)|married) (?:for )?(?:a )?long (?:time|while)\b")
_PRYING_ANCHORS = ("relationship", "single", "seeing", "dating", "with any", "with some", "remarried", "contact with",
                   "see ", "speak to", "talk to", "communicate", "spend", "father", "mother",
                   "dad", "mum", "mom", "your ex", "nights", "marriage", "why did", "why do", "live", "partner",
                   "boyfriend", "girlfriend", "adult", "how many", "anyone", "anybody", "someone", "somebody",
                   "contact with", "touch with", "share", "split", "custody", "arrangement", "schedule", "other parent",
                   "happened", "long time", "long while")
# A questionnaire's questions about the household: a new partner moving in, marrying, who the user goes out with.
_HOUSEHOLD = re.compile(
    r"\bnights? (?:a |per )?(?:week |month |fortnight )?(?:do|does) (?:your|the|ur) (?:kids|children|child|son|daughter) "
    r"(?:spend|stay|sleep) (?:at|in) (?:each|both|the other|their (?:father|mother|dad|mum|mom))"
    r"|\b(?:has|is|did) (?:a |your |the |ur )?(?:new )?(?:partner|boyfriend|girlfriend|fella|husband|wife) "
    r"(?:moved|moving|living|staying)\b"
    r"|\b(?:are|r) (?:you|u|ya) (?:planning|going|engaged|thinking) (?:to |of |about )?(?:marry|get married|getting married|remarry)"
    r"|\bwho (?:do|d) (?:you|u|ya) (?:usually |normally |tend to )?(?:go out|hang out|spend (?:your )?time|socialise) with\b")
_HOUSEHOLD_ANCHORS = ("nights", "r moved", "r moving", "r living", "r staying", "d moved", "d moving", "d living",
                      "d staying", "e moved", "e moving", "e living", "e staying", "a moved", "a moving", "a living",
                      "a staying", "marr", " out with", "time with", "socialise")   # "partner moved", "fella living"...
PRYING_SCORES = (0.5, 0.8, 1.0)   # one such question, two, three or more: a questionnaire about the user's life
_QUESTION_REST = re.compile(r"[^.!\n]{0,160}\?")
_LIST_ITEM = re.compile(rf"\s*(?:{_MARKER})\s*")   # a numbered or bulleted line of a questionnaire

_UNMASKING = re.compile(
    r"\b(?:that was me|it was me all along|it was me|(?:it'?s|its) me not \w+|i made (?:that|it|her|him) up"
    r"|i don'?t (?:even |actually )?know (?:a|any|no) [a-z]+|there (?:is|was) no [a-z]+ lol"
    r"|that was a (?:mass|group|fake|bulk) (?:text|message|email)|sorry for the (?:fake|pretend|act)"
    r"|(?:only|sole) way (?:you'?d|you would|u would|ud|u'd) (?:answer|reply|read|respond|open)"
    r"|had to pretend|not really (?:from|with) (?:the|a)"
    # a test of whether the user answers a stranger: "I just wanted to see what you'd say"
    r"|wanted to see (?:what|if|whether) (?:you'?d|you would|u'?d|ud|u would) (?:say|answer|reply|respond|write back)"
    # a borrowed phone: "I told her what to say", "she typed that for me"
    r"|i told (?:him|her|them) what to (?:say|write|put|text)|(?:he|she|they) (?:typed|wrote|sent) (?:that|it) for me"
    # giving in after a disguise: "Fine. It's me." (not "ok it's me, Sarah" nor "it's me again")
    r"|(?:ok(?:ay)?|fine|yes|yeah|alright)[,.!]*\s+(?:(?:yes|yeah|fine)[,.!]*\s+)?(?:it'?s|its) me(?=\s*[.!?]|\s*$))\b")
# Owning up to a disguise by naming it ("ok that survey was me", "I made that profile"): it points at
# another account's message, so it counts from a first message too. Not a text, an email or a number,
# which a friend on a new phone owns up to ("that text earlier was me, new phone").
_DISGUISE = r"(?:survey|questionnaire|poll|account|profile|page|review|recruiter|listing|match|ad|advert|invite)"
_DISGUISE_OWNED = re.compile(
    rf"\b(?:(?:that|the|this) {_DISGUISE}(?: (?!of\b)[a-z']+){{0,3}} (?:was|were) (?:me|from me|all me|really me)\b"
    rf"|i (?:made|set up|created|wrote|ran) (?:(?:that|those) (?:fake )?|(?:the|a) fake ){_DISGUISE}s?\b)")
_DISGUISE_ANCHORS = ("survey", "questionnaire", "poll", "account", "profile", "page", "review", "recruiter", "listing",
                     "match", " ad", "advert", "invite")
_UNMASK_ANCHORS = ("s me", "made", "know a", "know no", "lol", "mass", "group", "fake", "bulk", "sorry for", "ly way",
                   "le way", "pretend", "really from", "really with", "wanted to see", "what to", "for me")


def locating_reason(text: str) -> Reason | None:
    """The sender asks where the user lives, or when and where they work."""
    return next(iter(probing_reasons(text, throwaway=True, wrote_before=False)), None)


def unmasking_reason(text: str) -> Reason | None:
    """A sender who wrote before owns up: the earlier message was a disguise."""
    return next(iter(probing_reasons(text, throwaway=False, wrote_before=True)), None)


def probing_reasons(text: str, throwaway: bool, wrote_before: bool, organisation: bool = False) -> list[Reason]:
    """The signals for one message: asking where the user is counts from a cheap account (a
    number, a free-mail address), prying into their life from those and from an organisation's own
    domain (`organisation`), owning up only from a sender who wrote before.

    A real school, surgery or landlord does ask for the address from its own domain; none of the
    benign messages or public texts from one asks whether the user is single or who else lives there.
    """
    text, low = plain(text)
    found = []
    if throwaway:
        where = _matches(low, ((_LOCATING, _ANCHORS), (_MOVING, _MOVING_ANCHORS)))
        if "\n" in low:
            listed = _matches(low, ((_LISTED, _LISTED_ANCHORS),))
            where += [m for m in listed if not any(w.start() <= m.end() and m.start() <= w.end() for w in where)]
        if " still " in low:
            where += _STILL_IN.finditer(text)   # a place, so matched as written
        if where:
            found.append(_asked("locating", LOCATING_SCORES, where, text, low, lambda n: (
                "a new sender asks where the user lives or works, or when" + (f" ({n} questions)" if n > 1 else ""))))
    if (throwaway or organisation) and _may_ask(low):
        prying = [m for m in _matches(low, ((_PRYING, _PRYING_ANCHORS), (_HOUSEHOLD, _HOUSEHOLD_ANCHORS)))
                  if _is_question(low, m)]
        if prying:
            found.append(_asked("prying", PRYING_SCORES, prying, text, low, lambda n: (
                f"a new sender asks {n} question{'s' if n > 1 else ''} about the user's relationships "
                "or the children's other parent")))
    if wrote_before and (m := search_anchored(_UNMASKING, _UNMASK_ANCHORS, low)):
        found.append(Reason("unmasked", 0.75,
                            f"owns up that an earlier message from this sender was a disguise ('{quote(text, low, m)}')"))
    elif m := search_anchored(_DISGUISE_OWNED, _DISGUISE_ANCHORS, low):
        found.append(Reason("unmasked", 0.75, f"owns up that an earlier message was a disguise ('{quote(text, low, m)}')"))
    return found


def _matches(low: str, patterns) -> list:
    """Every match of each (pattern, anchor words) pair, trying a pattern only when an anchor is there."""
    return [m for rx, anchors in patterns if (first := search_anchored(rx, anchors, low))
            for m in rx.finditer(low, first.start())]


def _asked(signal: str, scores: tuple, asked: list, text: str, low: str, said) -> Reason:
    """One reason for the questions asked, scored by how many, quoting the first three in order."""
    asked.sort(key=lambda a: a.start())
    quoted = "', '".join(_unlisted(quote(text, low, m)) for m in asked[:3])
    return Reason(signal, scores[min(len(asked), len(scores)) - 1], f"{said(len(asked))} ('{quoted}')")


_QUOTED_ITEM = re.compile(rf"\s*(?:(?:{_MARKER})[ \t]*|[a-zA-Z][.)][ \t]+)?")   # a quoted line's number, bullet or letter


def _unlisted(words: str) -> str:
    """The words of a questionnaire's line without its number, bullet or letter ("Your current address")."""
    return words[_QUOTED_ITEM.match(words).end():]


def _may_ask(low: str) -> bool:
    """Whether any match in `low` could pass `_is_question`: it needs a question mark, or a
    list item at its line's start (a first line's start is the text's)."""
    return "?" in low or "\n" in low or _LIST_ITEM.match(low) is not None


def _is_question(low: str, m) -> bool:
    """The match is asked: a question mark follows in its sentence, or it is an item of a
    numbered or bulleted list (a questionnaire's lines often have none)."""
    if _QUESTION_REST.match(low, m.end()):
        return True
    line_start = low.rfind("\n", 0, m.start()) + 1
    item = _LIST_ITEM.match(low, line_start)
    return item is not None and low[item.end():m.start()].count(" ") <= 3
