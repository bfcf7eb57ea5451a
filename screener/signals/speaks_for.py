"""A stranger who passes on what the children's other parent wants.

The blocked co-parent's requests come back through a pony club "secretary",
a coach or a vet nobody can check: "her dad also asked if Georgia can ride at
the rally", "Georgia's dad asked us to let you know as he can't get through to
you". Such a message is a go-between's, whatever its tone. It is evidence only
when the message names one of the person's children (a private name from
their history) and the role is theirs: the user lists "Dad" or "Georgia's dad"
among the person's nicknames. A school or a vet writing about the child and a
parent neutrally ("her dad picked her up") is not passing on a wish.
"""

from __future__ import annotations

import re

from screener.normalize import fold_name
from screener.signals import Reason, lower, quote

FATHER = ("dad", "daddy", "father", "da", "pa", "papa", "pop")
MOTHER = ("mum", "mummy", "mom", "mommy", "mam", "mammy", "mother", "ma", "mama")
SCORE = 0.9

_WISH = (r"(?:'s|s| has| had| also| just| is| was| would| did)?\s*(?:also\s+)?"
         r"(?:asked|offered|wants|wanted|would like|'d like|would love|is keen|is happy to|said to|says to|requested"
         r"|suggested|was wondering|wondered|can'?t get through|cant get through|can'?t reach|cant reach"
         r"|being added|been added|to be added"
         # an offer passed on: "camerons dad said hed do the bbq"
         r"|said (?:he|she)(?:'?d| would| will| could| can)|says (?:he|she)(?:'?ll|'?d| will| would| can))\b")


def _role_patterns(roles: tuple[str, ...]) -> re.Pattern:
    role = "|".join(roles)
    # not "your dad": to a co-parent that is the user's own father
    owner = r"(?:her|his|their|the kids'?|the children'?s|the boys'?|the girls'?|{child}'?s)"
    return re.compile(
        rf"\b{owner.format(child='(?P<child>[a-z]+)')} (?:{role})\b{_WISH}"
        rf"|\b(?:paid|sent|arranged|booked|organised|organized|requested) (?:for )?by "
        rf"{owner.format(child='(?P<child2>[a-z]+)')} (?:{role})\b"
        rf"|\b(?:stopping|stop|keeping|keep|letting|let) [a-z]+ (?:from )?(?:seeing|see) (?:his|her|their) (?:{role})\b"
        # asked on the parent's behalf: "can cameron be collected fae holiday club by his dad friday"
        rf"|\b(?:can|could|may) (?P<child3>[a-z]+) (?:be )?(?:collected|picked up|dropped off|taken|go|stay)\b"
        rf"[^.?!\n]{{0,40}}?\b(?:by|with) (?:his|her|their) (?:{role})\b")


_PATTERNS: dict[tuple, re.Pattern] = {}


GRANDPARENT = ("grandpa", "grandad", "granda", "grandma", "granny", "gran", "nana", "nan", "nanna", "pop-pop",
               "poppop", "papaw", "mamaw", "grandmother", "grandfather")


def parent_roles(nicknames: tuple[str, ...]) -> tuple[str, ...]:
    """The parent words a person's nicknames give them ("Dad", "Georgia and Hunter's dad"), or ().
    Not for the user's own parent, who is the children's grandparent ("Grandpa Lyle"): to them
    "her dad" is the user."""
    words = {w for n in nicknames for w in fold_name(n).split()}
    if words & set(GRANDPARENT):
        return ()
    if words & set(FATHER):
        return FATHER
    if words & set(MOTHER):
        return MOTHER
    return ()


def speaks_for_reasons(text: str, person: str, roles: tuple[str, ...], private: dict[str, str],
                       children_in, writer: set[str] = frozenset()) -> list[Reason]:
    """`private`: the person's private names (lower case -> as written) from their history;
    `children_in(text)`: those of them that `text` mentions as names are mentioned;
    `writer`: the words of the writer's own name, which are not a child's."""
    if not roles or not private:
        return []
    pattern = _PATTERNS.get(roles)
    if pattern is None:
        pattern = _PATTERNS[roles] = _role_patterns(roles)
    low = lower(text)
    children = None
    for m in pattern.finditer(low):
        child = m.group("child") or m.group("child2") or m.group("child3")
        if child is not None:   # "Georgia's dad asked" names the child; "Emma's dad asked" is somebody else's
            if child not in private or child in writer:
                continue
            named = [private[child]]
        else:                   # "her dad asked": whose, the rest of the message says
            named = children if children is not None else (children := children_in(text))
            if not named:
                continue
        who = quote(text, low, m).strip()
        return [Reason("speaks_for", SCORE,
                       f"passes on what the children's parent wants ('{who}') and names "
                       + ", ".join(f"'{c}'" for c in named[:2]) + f" from {person}'s past messages", person)]
    return []
