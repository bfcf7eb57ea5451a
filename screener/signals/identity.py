"""Who sent it: exact matches, look-alike addresses and numbers, names, self-identification.

`IdentityIndex` is built once from the config (and learned aliases); the
functions here are pure: message in, `Reason`s out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from screener.config import Config
from screener.lookalike import core, differing_chars, edit_distance, skeleton
from screener.message import Message
from screener.normalize import (
    FREE_MAIL_DOMAINS,
    InvalidAddress,
    fold_name,
    is_email,
    normalize_email,
    normalize_phone,
    normalize_sender,
    split_display,
)
from screener.signals import AnchorGate, Reason, lower, quote, search_anchored
from screener.signals.account_kind import saved_contact
from screener.signals.speaks_for import FATHER, MOTHER

_PARENT_WORDS = (frozenset(FATHER), frozenset(MOTHER))
_ANY_PARENT = frozenset(FATHER) | frozenset(MOTHER)

# Mailbox names too generic to mean anything when they match.
GENERIC_LOCALS = {"info", "admin", "contact", "hello", "mail", "office", "support", "noreply",
                  "no-reply", "team", "sales", "help", "enquiries", "accounts", "me", "home"}

# Family roles a parent signs with ("Love, Mum"). As a sign-off they identify the
# writer; after "thanks" or inside a sentence they address or mention someone else
# ("thanks mum" from the user's own child, "my dad says hi" from a friend).
ROLE_WORDS = {"dad", "daddy", "father", "mum", "mummy", "mom", "mommy", "mam", "mother", "ma", "pa", "papa",
              "nan", "nana", "nanna", "gran", "granny", "grandma", "grandad", "grandpa"}


@dataclass
class PersonIndex:
    name: str
    names: tuple[str, ...]          # folded full name and nicknames
    first: str
    last: str
    nicknames: tuple[str, ...]
    locals: tuple[tuple[str, str, str, str], ...]   # (local part, domain, skeleton, core)
    own_domains: tuple[str, ...]
    phones: tuple[str, ...]
    childrens_parent: frozenset[str] = frozenset()   # their parent words when the nicknames make them the children's


@dataclass
class IdentityIndex:
    region: str
    blocked_addr: dict[str, str] = field(default_factory=dict)   # canonical sender -> person
    trusted_addr: dict[str, str] = field(default_factory=dict)
    people: list[PersonIndex] = field(default_factory=list)
    user_names: set[str] = field(default_factory=set)

    @classmethod
    def from_config(cls, config: Config) -> "IdentityIndex":
        region = config.user.region
        index = cls(region=region)
        index.user_names = {t for t in fold_name(config.user.name).split() if len(t) > 1}
        for person in config.blocked:
            emails = [normalize_email(e) for e in person.emails]
            phones = [normalize_phone(p, region) for p in person.phones]
            for key in emails + phones:
                index.blocked_addr[key] = person.name
            parts = fold_name(person.name).split()
            nicknames = tuple(fold_name(n) for n in person.nicknames if fold_name(n))
            index.people.append(PersonIndex(
                name=person.name,
                names=tuple({fold_name(person.name), *(fold_name(n) for n in person.nicknames)} - {""}),
                first=parts[0] if parts else "",
                last=parts[-1] if len(parts) > 1 else "",
                nicknames=nicknames,
                locals=tuple((lp, dom, skeleton(lp), core(lp)) for lp, dom in (e.split("@") for e in emails)),
                own_domains=tuple({e.split("@")[1] for e in emails} - FREE_MAIL_DOMAINS),
                phones=tuple(p for p in phones if p.startswith("+")),
                childrens_parent=childrens_parent_words(nicknames),
            ))
        for person in config.trusted:
            for e in person.emails:
                index.trusted_addr[normalize_email(e)] = person.name
            for p in person.phones:
                index.trusted_addr[normalize_phone(p, region)] = person.name
        return index

    def person(self, name: str) -> PersonIndex | None:
        return next((p for p in self.people if p.name == name), None)

    def add_alias(self, sender_key: str, person: str) -> None:
        """A learned alias (announced new number, confirmed by the friend) counts as blocked."""
        if sender_key and sender_key not in self.trusted_addr:
            self.blocked_addr.setdefault(sender_key, person)

    def add_trusted(self, sender_key: str, name: str) -> None:
        """A sender the friend marked as trusted; it stops counting as anyone's alias."""
        if sender_key:
            self.trusted_addr[sender_key] = name or sender_key
            self.blocked_addr.pop(sender_key, None)


def sender_key(msg: Message, region: str) -> str:
    return normalize_sender(msg.sender, region)


def exact_match(msg: Message, index: IdentityIndex, key: str) -> list[Reason]:
    if key in index.trusted_addr:
        who = index.trusted_addr[key]
        return [Reason("trusted", 1.0, f"sender {key} is {who}, on the trusted list")]
    if key in index.blocked_addr:
        who = index.blocked_addr[key]
        shown = msg.sender.strip()
        same = "" if normalize_sender(shown, index.region) == shown else f" (written {shown!r})"
        return [Reason("blocked", 1.0, f"sender {key}{same} is a known address of {who}", who)]
    return []


def lookalike_reasons(msg: Message, index: IdentityIndex, key: str) -> list[Reason]:
    """Look-alike addresses, near-miss numbers and names in the address or display name."""
    reasons: list[Reason] = []
    display, _ = split_display(msg.sender)
    display_name = fold_name(msg.sender_name or display)
    if _saved_as_family(msg):
        display_name = ""   # the user's phone saved this number as 'Mum': the user's own mum
    for person in index.people:
        best: Reason | None = None
        if is_email(key):
            best = _email_lookalike(key, person)
        elif key.startswith("+"):
            best = _phone_nearmiss(key, person)
        if best:
            reasons.append(best)
        name_reason = _name_reason(key, display_name, person, index)
        if name_reason:
            reasons.append(name_reason)
    return reasons


def _saved_as_family(msg: Message) -> bool:
    """The user's phone saved this number under a family word ('Mum', 'Mam', 'Dad'): the user's own family."""
    return fold_name(saved_contact(msg)) in ROLE_WORDS


def _email_lookalike(key: str, person: PersonIndex) -> Reason | None:
    local, _, domain = key.rpartition("@")   # a key is not always a valid address ("@@" from a broken header)
    local_skel, local_core = skeleton(local), core(local)
    best: Reason | None = None

    def keep(score: float, detail: str) -> None:
        nonlocal best
        if best is None or score > best.score:
            best = Reason("lookalike_address", score, detail, person.name)

    for b_local, b_domain, b_skel, b_core in person.locals:
        known = f"{b_local}@{b_domain}"
        plain_local = local.split("+", 1)[0]
        if plain_local == b_local and domain == b_domain:
            keep(0.95, f"address {key} is {known} with a tag added")
        elif local == b_local and len(local) >= 5 and local not in GENERIC_LOCALS:
            keep(0.9, f"same mailbox name as {person.name}'s {known}, at another provider ({domain})")
        elif len(b_local) >= 4 and (local_skel == b_skel or local_core == b_core):
            what = differing_chars(local, b_local) or "only look-alike characters, digits or separators differ"
            keep(0.9, f"address {key} imitates {person.name}'s {known}: {what}")
        else:
            dist = edit_distance(local_skel, b_skel, limit=2) if abs(len(local_skel) - len(b_skel)) <= 2 else 3
            if dist == 1 and len(b_local) >= 8:
                keep(0.8, f"address {key} differs from {person.name}'s {known} by one character")
            elif dist == 1 and len(b_local) >= 5:
                keep(0.6, f"address {key} differs from {person.name}'s {known} by one character")
        for own in person.own_domains:
            own_skel, dom_skel = skeleton(own), skeleton(domain)
            if domain != own and (dom_skel == own_skel or edit_distance(domain, own, 1) == 1
                                  or (len(own_skel) >= 6 and own_skel in dom_skel)):
                similar = edit_distance(local_skel, b_skel, 2) <= 2
                keep(0.95 if similar else 0.6,
                     f"domain {domain} imitates {person.name}'s own domain {own}")
    return best


def _phone_nearmiss(key: str, person: PersonIndex) -> Reason | None:
    for known in person.phones:
        if len(known) == len(key) and sum(a != b for a, b in zip(known, key)) == 1:
            return Reason("near_number", 0.3,
                          f"number {key} differs from {person.name}'s {known} by one digit "
                          "(weak: could be a stranger)", person.name)
    return None


def _tokens(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text)


def _name_reason(key: str, display_name: str, person: PersonIndex, index: IdentityIndex) -> Reason | None:
    """The person's name in the display name or the mailbox name, whichever says more
    ("Vandermeer Consulting" <bvandermeer.consulting@...>: the address is their initial and surname)."""
    shown, address = _display_reason(display_name, person, index), _address_reason(key, display_name, person)
    # "Soren" <kjellbergs2026@gmail.com>: the first name shown and the surname in the address are the full name.
    if shown is not None and address is not None and person.last and person.last in key.split("@")[0] \
            and (person.first in display_name.split() or _first_name_nickname(person, set(display_name.split()))):
        return Reason("name_in_address", 0.9, f"display name '{display_name}' and address {key} together give "
                      f"{person.name}'s full name", person.name)
    return max((r for r in (shown, address) if r is not None), key=lambda r: r.score, default=None)


def _display_reason(shown: str, person: PersonIndex, index: IdentityIndex) -> Reason | None:
    full = fold_name(person.name)
    if shown and person.first and person.first not in index.user_names:
        tokens = set(shown.split())
        if shown == full or (person.last and {person.first, person.last} <= tokens):
            return Reason("display_name", 0.9, f"display name '{shown}' is {person.name}'s name", person.name)
        if person.last and person.last in tokens and (nick := _first_name_nickname(person, tokens)):
            return Reason("display_name", 0.9, f"display name '{shown}' is {person.name}'s nickname '{nick}' "
                          "and surname", person.name)
        if person.nicknames and shown in person.nicknames:
            return Reason("display_name", 0.5, f"display name '{shown}' is a nickname of {person.name}", person.name)
        if person.last and person.last in tokens and len(person.last) >= 4:
            return Reason("display_name", 0.35, f"display name shares {person.name}'s surname", person.name)
        if person.first in tokens:
            return Reason("display_name", 0.15,
                          f"display name shares only the first name of {person.name} (weak)", person.name)
    return None


def _one_word_nicknames(person: PersonIndex) -> list[str]:
    """The nicknames that stand for the first name ('bri' for Brielle): one word, not a role word
    ('mum hatch' could be their mother-in-law) and not the surname itself."""
    return [n for n in person.nicknames if " " not in n and n not in ROLE_WORDS and n != person.last and len(n) >= 2]


def _first_name_nickname(person: PersonIndex, tokens: set[str]) -> str:
    return next((n for n in _one_word_nicknames(person) if n in tokens), "")


# A display name that is a title, not a person's: "Notes from Resus", "The Comeback Quarter".
_TITLE_WORDS = {"from", "the", "of", "and", "for", "with", "to", "in", "on", "at", "by", "notes", "news", "team"}


def _address_reason(key: str, display_name: str, person: PersonIndex) -> Reason | None:
    if is_email(key) and person.first:
        local = re.sub(r"[^a-z]", "", key.split("@")[0])
        if person.last and person.first in local and person.last in local:
            return Reason("name_in_address", 0.8, f"address {key} contains {person.name}'s full name", person.name)
        if person.last and len(person.last) >= 4 and person.last in local \
                and (nick := next((n for n in _one_word_nicknames(person)
                                   if len(n) >= 3 and n in local.replace(person.last, " ", 1)), "")):
            return Reason("name_in_address", 0.8, f"address {key} contains {person.name}'s nickname '{nick}' "
                          "and surname", person.name)
        if person.last and len(person.last) >= 4 and (local.startswith(person.first[0] + person.last)
                                                        or local.startswith(person.last + person.first[0])):
            return Reason("name_in_address", 0.7, f"address {key} is {person.name}'s initial and surname", person.name)
        shown_tokens = display_name.split()
        # "Nelle S" shows the initial of their own surname, not another one
        other_surname = person.last and 2 <= len(shown_tokens) <= 3 and person.last not in shown_tokens \
            and not _TITLE_WORDS & set(shown_tokens) and person.last[0] not in shown_tokens[1:]
        for nick in person.nicknames:
            nick_plain = re.sub(r"[^a-z]", "", nick)
            if len(nick_plain) >= 4 and nick_plain in local and nick_plain not in ROLE_WORDS:
                if other_surname:
                    return Reason("name_in_address", 0.12, f"address {key} contains the nickname '{nick}' (weak: "
                                  f"the display name '{display_name}' gives another surname)", person.name)
                if _private_phrase(nick, nick_plain, person):
                    return Reason("name_in_address", 0.7, f"address {key} contains the nickname '{nick}', "
                                  "a phrase only they go by", person.name)
                return Reason("name_in_address", 0.4, f"address {key} contains the nickname '{nick}'", person.name)
    return None


def _private_phrase(nick: str, plain: str, person: PersonIndex) -> bool:
    """A nickname of two or more words and eight or more letters ("tilly s mum", "old bay rome")
    is theirs alone, unless it holds their surname ("mrs ashworth" is also their mother-in-law)."""
    words = nick.split()
    return len(words) >= 2 and len(plain) >= 8 and not (person.last and person.last in words)


# Self-identification -----------------------------------------------------------


# The writer knows the user blocked them (an announcement, and the strongest kind: see _BLOCKED_ME).
# "you've blocked the other number" (not "you've blocked him": a go-between's words)
# "this is a new address because the old ones are filtered": their old accounts blocked or filtered.
_SAYS_BLOCKED_WORDS = (r"dont block|don't block|before you block|stop blocking|unblock me"
                       r"|(?:you|u)(?:'?ve| have)? (?:blocked|filtered) (?:me|my|the other|all my)\b"
                       r"|(?:the|my) (?:old|other) (?:ones?|numbers?|address(?:es)?|accounts?|emails?) "
                       r"(?:are|is|were|was|got|get|have been|has been) (?:all )?(?:blocked|filtered)\b(?! by (?!you\b|u\b))")
_NEW_CONTACT = re.compile(
    r"\b(new (?:number|phone|mobile|no\.?|email|e-mail|account|acc)|(?:changed|switched) (?:my )?(?:number|phone|email)"
    r"|(?:it'?s|its|this is) (?:me|ur|your|ya|yer)\b(?! (?:colleague|neighbo))|save (?:this|my) (?:number|no)"
    rf"|{_SAYS_BLOCKED_WORDS}"
    # the old phone gone: "lost all my contacts, phone went into the dock", "is this still Niamh's number?"
    r"|lost (?:all )?(?:my |me )?(?:contacts|phone)\b|(?:dropped|smashed|broke) (?:my|me) phone\b"
    r"|phone (?:went|fell|dropped) (?:in|into|down|off)\b|phone (?:got|was) (?:stolen|nicked|robbed|smashed)\b"
    r"|is this still (?:your|ur|[a-z]+'?s) (?:number|no|phone|mobile|cell)\b)",
    )
# A borrowed phone or account: "on Mam's phone", "on Agnes next door's phone", "this is Rhodri's phone",
# "Borrowed the bar phone" (read only when a possessive or "borrow" comes before a device: most texts hold none).
_NOT_ACCESSORY = r"\b(?! ?(?:charger|case|cable|stand|screen))"   # the device, not its charger
_DEVICE_KIND = ("work", "old", "spare", "other", "second", "home", "new")   # "from Tyler's work phone"
_BORROWED = re.compile(r"\b(?:(?:on|from|using|borrow(?:ed|ing)?) (?:my |a )?(?:[a-z]+ ){0,2}[a-z]+'?s "
                       rf"(?:(?:{'|'.join(_DEVICE_KIND)}) )?(?:phone|mobile|cell|ipad|tablet|laptop|account|email){_NOT_ACCESSORY}"
                       r"|this is [a-z]+'?s (?:phone|mobile|cell|number)"
                       rf"|borrow(?:ed|ing) (?:the |a |an )?(?:[a-z]+ )?(?:phone|mobile|cell){_NOT_ACCESSORY}"
                       r"|\ba borrowed (?:phone|mobile|cell))")
_BORROWED_HINTS = ("s phone", "s mobile", "s cell", "s ipad", "s tablet", "s laptop", "s account", "s email", "s number",
                   "borrow", *(f"s {kind} " for kind in _DEVICE_KIND))


# "I've NOT changed my number", "I haven't got a new phone": the words, denied.
_DENIED = re.compile(r"(?:\bnot|n'?t|\bnever)\s+(?:[a-z]+\s+){0,2}$")


# Words `_NEW_CONTACT` cannot match without ("it's me", "its ur" and "this is your" all hold "s me"/"s ur"/...).
_NEW_CONTACT_ANCHORS = ("new ", "changed ", "switched ", "s me", "s ur", "s your", "s ya", "s yer", "save ", "block",
                        "filtered", "lost ", "phone", "is this still")


def announcement_in(lowered: str):
    """Where the lower-cased text announces a new number or account (or a borrowed one), or None."""
    if any(map(lowered.__contains__, _NEW_CONTACT_ANCHORS)):
        for found in _NEW_CONTACT.finditer(lowered):
            if not _DENIED.search(lowered, max(0, found.start() - 24), found.start()):
                return found
    return search_anchored(_BORROWED, _BORROWED_HINTS, lowered)

_SIGN_BEFORE = "love|luv|xo|x+|regards|cheers|thanks|best|from|yours"   # words before a signature
# A sign-off of the writer's initials as people write them: "N.D.", "J.P. x", "ND" on its own line.
_INITIALS = re.compile(r"([A-Z])\.\s?([A-Z])\.?(?:\s?([A-Z])\.)?|([A-Z])([A-Z])([A-Z])?")
# Capitals that are a word or an abbreviation, not initials.
_NOT_INITIALS = {"OK", "TY", "PS", "NB", "XX", "XO", "BB", "GG", "HI", "NO", "SO", "GO", "US", "UK", "TV", "OH", "AM",
                 "PM", "DC", "ID", "IT", "IS", "MY", "BY", "ME", "WE", "UP", "ON", "IN", "OF", "TO", "AT", "OR", "DO",
                 "OMG", "LOL", "WTF", "FYI", "ASAP", "BTW", "TTYL", "XXX", "IMO", "RIP", "THX", "YES", "YOU", "AND",
                 "THE", "ILY", "GBU", "BRB", "NHS", "USA", "GP", "MD", "DR", "RN", "HR"}
_CLOSING = re.compile(rf"^(?:{_SIGN_BEFORE})[,\s]+", re.IGNORECASE)
_TRAILING_KISSES = re.compile(r"(?:[\s,]*\b[xX]+\b)+[\s.!]*$")


def signed_initials(text: str) -> str:
    """The initials the message is signed with ("Which gym. N.D." -> "ND"), or ''."""
    tail = text[-40:].rstrip()   # a signature is at the end: the rest of the text is not read
    if not any(c.isupper() for c in tail[-14:]):
        return ""
    last = _SENTENCE_END.split(_TRAILING_KISSES.sub("", tail).strip())[-1].strip()
    last = _CLOSING.sub("", last)
    if len(last) > 8:
        return ""
    m = _INITIALS.fullmatch(last)
    if m is None:
        return ""
    letters = "".join(g for g in m.groups() if g)
    return "" if letters in _NOT_INITIALS or (m.group(4) and "." in last) else letters


# A text signed with one capital on its own last line ("...they worked.\n\nS.", "- K"): the initial of
# the writer's first name. Weak: plenty of people sign so, and 26 letters are shared by everyone.
_ONE_INITIAL = re.compile(r"\n[ \t]*(?:[-–—~][ \t]*)?([A-Z])\.?[ \t]*$")
ONE_INITIAL = 0.3


def signed_initial(text: str) -> str:
    """The single initial a message is signed with on its own last line ("S."), or ''."""
    tail = _TRAILING_KISSES.sub("", text[-40:].rstrip())
    m = _ONE_INITIAL.search(tail)
    return m.group(1) if m else ""


def initial_signoff(msg: Message, index: IdentityIndex) -> list[Reason]:
    """Signed with a blocked person's first initial, by a writer whose display name does not start with it."""
    letter = signed_initial(msg.body)
    if not letter:
        return []
    shown = fold_name(msg.sender_name or split_display(msg.sender)[0])
    if shown[:1].upper() == letter:
        return []
    return [Reason("initial_signoff", ONE_INITIAL, f"signs with a single initial, '{letter}', the first letter of "
                   f"{p.name}'s first name (weak: many people sign so)", p.name)
            for p in index.people if p.first and p.first[0].upper() == letter]


def _initials(name: str) -> set[str]:
    """A person's initials: first and last ('ND'), and with middle names when they have them."""
    parts = fold_name(name).split()
    if len(parts) < 2:
        return set()
    return {(parts[0][0] + parts[-1][0]).upper(), "".join(w[0] for w in parts).upper()}


def self_identification(msg: Message, index: IdentityIndex) -> list[Reason]:
    """Signing with a blocked person's name or nickname, or announcing a new number.

    A first name alone is common ("Jordan" from a colleague called Jordan Ellis):
    it is weak evidence, and weaker still when the display name gives another surname.
    """
    text = msg.body
    lowered = lower(text)
    announce = announcement_in(lowered)   # patterns are lower case: faster than IGNORECASE
    form = _name_form(text, lowered)
    people = [p for p in index.people if _may_name(form, p)]
    reasons = _name_reasons(msg, people, index, announce) if people else []
    initials = signed_initials(text)
    if initials:
        reasons += _initials_reasons(initials, msg, index, {r.person for r in reasons}, announce)
    if " from " in lowered or "tell " in lowered:
        named = {r.person for r in reasons}
        reasons += [r for p in index.people if p.name not in named and (r := _as_childrens_parent(text, lowered, p))]
    if announce and not reasons:
        reasons.append(_announcement(text, lowered, announce))
    return reasons


def childrens_parent_words(nicknames: tuple[str, ...]) -> frozenset[str]:
    """The parent words of a blocked person whose (folded) nicknames make them the children's
    parent ("harvey and sam s dad" -> the father words), else empty."""
    for words in _PARENT_WORDS:
        if any(_OWNED & (split := set(n.split())) and split & words for n in nicknames):
            return words
    return frozenset()


_OWNED = {"s", "kids", "children", "boys", "girls"}   # "harvey and sam s dad", "the kids mum" (folded)
_OWNER = r"(?:his|her|their|the kids'?|the children'?s|the boys'?|the girls'?)"
_CHILDRENS_PARENT: dict[frozenset, re.Pattern] = {}


def _as_childrens_parent(text: str, lowered: str, person: PersonIndex) -> Reason | None:
    """The writer calls themselves the children's parent: "tell him happy birthday from his dad",
    "love from their mum", "tell her daddy loves her". From a new account writing to the
    other parent that is the blocked co-parent, or someone passing on their words."""
    words = person.childrens_parent
    if not words:
        return None
    pattern = _CHILDRENS_PARENT.get(words)
    if pattern is None:
        role = "|".join(sorted(words, key=len, reverse=True))
        pattern = _CHILDRENS_PARENT[words] = re.compile(
            rf"\b(?:love|lots of love|all my love|hugs|kisses|birthday|christmas|x+)\s+from\s+{_OWNER}\s+(?:{role})\b"
            rf"|\btell (?:him|her|them)\b[^.!?\n]{{0,60}}?\bfrom {_OWNER} (?:{role})\b"
            rf"|\btell (?:him|her|them) (?:(?:his|her|their) )?(?:{role}) (?:loves|misses|is proud|says)\b")
    m = pattern.search(lowered)
    if m is None:
        return None
    return Reason("self_identification", 0.85, f"calls themselves the children's parent ('{quote(text, lowered, m)}'), "
                  f"as {person.name} is in the user's list", person.name)


def _name_reasons(msg: Message, people: list, index: IdentityIndex, announce) -> list[Reason]:
    """For each person whose name words the message holds: does it sign with or introduce one of their names?"""
    text = msg.body
    reasons = []
    tail = _sign_form("\n".join(text.strip().splitlines()[-3:])[-120:])
    head = fold_name_keep_lines(text.strip()[:160])
    display = fold_name(msg.sender_name or split_display(msg.sender)[0]).split()
    # A number saved as 'Mam' that signs 'Love Mam' is the user's mam, and one saved under another name
    # ('Glenda') that signs 'Love Mum x' is that person (a mother-in-law), unless it says the phone is
    # borrowed or the name is the blocked person's own.
    family_contact = _saved_as_family(msg)
    saved_other = bool(saved_contact(msg)) and not announce
    lines = None   # the whole text folded line by line, when a signature line is looked for
    for person in people:
        best = None
        for signs_re, intro_re, base, roles, line_re in _name_patterns(person, index):
            if roles and (family_contact or (saved_other and not set(display) & {person.first, person.last})):
                continue
            signs, intro = signs_re.search(tail), intro_re.search(head)
            if not (signs or intro) and line_re is not None:
                signs = line_re.search(lines if lines is not None else (lines := fold_name_keep_lines(text)))
            if signs or intro:
                best = (base, signs, intro)
                break
        if best is None:
            continue
        base, signs, intro = best
        score = base
        if announce:
            score = min(0.95, score + 0.4)
        other_surname = person.last and len(display) >= 2 and person.last not in display
        if other_surname:
            score *= 0.3
        # "this is Ray with Front Range Fence": a stranger's introduction with a business or a place
        affiliated = not signs and not announce and _AFFILIATION.match(head, intro.end())
        if affiliated:
            score = min(score, 0.4)   # as weak as a common first name
        how = "signs the message" if signs else "introduces themselves"
        said = (signs or intro).group(0).strip(" -,.!\n")
        detail = f"{how} as '{said}', a name {person.name} uses"
        if affiliated:
            detail += f" (weak: then gives an affiliation, '{affiliated.group(0).strip()}', as a stranger does)"
        elif score < 0.5:
            why = (["a common first name"] if base < 0.5 else []) + \
                (["the display name gives another surname"] if other_surname else [])
            detail += f" (weak: {', and '.join(why)})"
        reasons.append(Reason("self_identification", round(score, 3), detail, person.name))
    return reasons


def _announcement(text: str, lowered: str, announce) -> Reason:
    """A new number or account announced without a blocked person's name: evidence, unless the
    writer says who they are by another name."""
    other = _names_someone_else(text, lowered)
    if other:
        said = quote(text, lowered, other).lstrip(".!?,\n ")
        return Reason("announced_as_other", AS_OTHER, f"announces a new number or account as somebody else "
                                                      f"('{said}', a name no blocked person uses:"
                                                      " weak, as a friend's new number is)")
    blocked = _BLOCKED_ME.search(lowered)
    if blocked:
        return Reason("new_contact_announced", SAYS_BLOCKED, f"writes from a new account and says the user blocked them "
                      f"('{quote(text, lowered, blocked)}'): only someone the user blocked says so")
    return Reason("new_contact_announced", 0.5, f"announces a new number or account ('{quote(text, lowered, announce)}')")


# "don't block it", "you blocked me": the writer knows the user blocked them. No ordinary message among
# 67,919 public and persona benign texts says so; 18 of 1,174 persona new-account messages do.
_BLOCKED_ME = re.compile(rf"\b(?:{_SAYS_BLOCKED_WORDS}|do not block|(?:you|u) (?:keep|kept) blocking)")
SAYS_BLOCKED = 1.0   # x 0.8: not enough alone, one more clue is


# "it's Tanya, new number": a friend announcing a new number says who they are; a blocked
# person says "it's me" (or their own name, weighed above).
# "Bhavesh here, your cousin from Wembley, new number" (at the start of a sentence) too.
_INTRODUCED_AS = re.compile(r"\b(?:it'?s|its|it is|this is|i'?m|im)\s+([a-z]{2,})\b"
                            r"|(?:^|[.!?,\n]\s*)([a-z]{2,}) here\b")
_NOT_A_NAME = {"me", "my", "ur", "your", "yours", "ya", "yer", "yr", "u", "the", "a", "an", "just", "only", "not",
               "really", "so", "been", "about", "all", "because", "gonna", "going", "here", "him", "her", "his",
               "now", "ok", "okay", "over", "still", "such", "that", "this", "time", "too", "true", "urgent", "very",
               "what", "who", "hard", "important", "late", "mine", "nothing", "new", "no", "literally", "actually",
               "honestly", "fine", "nobody", "somebody", "someone", "everyone", "anyone", "sorry", "hello",
               "hi", "hey", "yes", "yeah", "nope", "back", "there"}


# Nothing towards any blocked person: the reason is there to show the friend why a friend's warm
# hello was delivered. It was 0.25 (half an anonymous announcement, for a fake coach's "It's Gaz from
# Rovers, got a new phone") until the twelfth round: over the thirteen development persona sets it
# held none of their 1,270 new-account messages that were not held anyway, and two benign ones.
AS_OTHER = 0.0


def _names_someone_else(text: str, lowered: str):
    """Where the writer introduces themselves by a name (one no blocked person uses: the caller
    found none), or None. A name is capitalised, unless the writer capitalises nothing
    ("hiya its rach! new number"); "it's great, new phone" is not a name."""
    found = _INTRODUCED_AS.search(lowered)
    if found is None:
        return None
    group = 1 if found.group(1) else 2
    if found.group(group) in _NOT_A_NAME or found.group(group) in ROLE_WORDS:
        return None
    if not text[found.start(group)].isupper() and text != lowered:
        return None
    return found


INITIALS_SCORE = 0.6   # stronger than a first name alone (0.4), weaker than a signed full name (0.85)


def _initials_reasons(initials: str, msg: Message, index: IdentityIndex, named: set, announce) -> list[Reason]:
    """Signed with a blocked person's initials ("N.D."), by a writer whose own display name
    does not explain them; not for a person (in `named`) whose name the message already signs."""
    display = fold_name(msg.sender_name or split_display(msg.sender)[0])
    explained = initials in _initials(display)
    out = []
    for person in index.people:
        if person.name in named or initials not in _initials(person.name) or \
                (explained and fold_name(person.name) != display):
            continue
        score = min(0.95, INITIALS_SCORE + 0.4) if announce else INITIALS_SCORE
        out.append(Reason("self_identification", score,
                          f"signs the message with {person.name}'s initials ('{_dotted(initials)}')", person.name))
    return out


def _dotted(initials: str) -> str:
    return ".".join(initials) + "."


_PATTERN_CACHE: dict = {}


def _name_patterns(person: PersonIndex, index: IdentityIndex) -> list:
    """Compiled patterns, strongest first: (sign-off, introduction, score, is_roles, signature line or None).

    Beside "it's Malcolm" and a closing "Malcolm", the forms people use: "Malcolm Featherstone
    here", "It is Malcolm", a full name with a middle initial ("Malcolm J. Featherstone") and a
    first name with the surname's initial ("Kind regards, Malcolm F.", stronger than a first
    name alone, weaker than the full name).
    """
    key = (person.name, person.nicknames, frozenset(index.user_names))
    if key not in _PATTERN_CACHE:
        full = fold_name(person.name)
        strong = [n for n in (full, *person.nicknames) if len(n) >= 2 and n != person.first]
        weak = [person.first] if len(person.first) >= 2 and person.first not in index.user_names else []
        initialled = [f"{person.first} {person.last[0]}"] if weak and person.last and full in strong else []
        roles = [n for n in strong if n in ROLE_WORDS]
        strong = [n for n in strong if n not in ROLE_WORDS]
        out = []
        for names, base, before in ((strong, 0.85, _SIGN_BEFORE), (roles, 0.85, _ROLE_SIGN_BEFORE),
                                    (initialled, 0.7, _SIGN_BEFORE), (weak, 0.4, _SIGN_BEFORE)):
            if names:
                alt = "|".join(_name_regex(n, person, full) for n in sorted(names, key=len, reverse=True))
                # A signature line anywhere (a P.S. may follow it): only the full name, which a line of
                # its own rarely holds otherwise ("Greg" alone above a forwarded article is common).
                line = re.compile(rf"(?m)^{_name_regex(full, person, full)}$") if names is strong and full in names \
                    else None
                # "it's ya dad", "love, your mum": the user's parent, unless the nicknames make the
                # person the children's parent (then "your dad" is the user's own father)
                owner = _OWNER_WORDS if names is roles and not person.childrens_parent else ""
                out.append((re.compile(rf"(?:^|\n|\b(?:{before}),?\s*){owner}(?:{alt})\b[\s.!x]*$"),
                            re.compile(rf"\b(?:it'?s|it s|its|this is|it is|im|i'?m|i m|i am)\s+{owner}(?:{alt})\b"
                                       rf"|{_NOT_OWNED}\b(?:{alt})\s+here\b"),
                            base, names is roles, line))
        _PATTERN_CACHE[key] = out
    return _PATTERN_CACHE[key]


# Before "Mum here": not "that is", and not somebody's ("after the call with your mum? Here if you want
# to vent" folds to "your mum here").
_NOT_OWNED = "".join(f"(?<!{w} )" for w in ("is", "was", "be", "your", "ur", "yr", "my", "his", "her", "their", "the"))


def _name_regex(name: str, person: PersonIndex, full: str) -> str:
    """A folded name as a regex; the full name also with a middle initial ('malcolm j featherstone')."""
    if name == full and person.last and full == f"{person.first} {person.last}":
        return rf"{re.escape(person.first)}(?: [a-z])? {re.escape(person.last)}"
    return re.escape(name)


# After an introduced name: "with Front Range Fence", "from the gym", "at Dr Patel's surgery"
# (not "from my new phone", "from work" or "here").
_AFFILIATION = re.compile(r"\s+(?:here\s+)?(?:with|from|at)\s+(?!(?:my|me|ur|your|this|a new|the new|work|home)\b)\S"
                          # or someone else's: "its bren, kirsty's other half", "Sam, Dave's brother"
                          r"|\s+(?!(?:my|your|ur|yer|ya|the|a)\b)[a-z]+(?: s)? (?:other half|husband|wife|partner|boyfriend"
                          r"|girlfriend|fella|missus|mate|friend|pal|neighbou?r|colleague|cousin|brother|sister|flatmate"
                          r"|roommate)\b")
_ROLE_SIGN_BEFORE = "love|luv|xo|x+|from|yours"   # "thanks mum" thanks a mum, "love, mum" is one
_OWNER_WORDS = r"(?:(?:your|ur|ya|yer|yr) )?"   # folded text: "your dad", "ya mam"
_SENTENCE_END = re.compile(r"\n|(?<=[.!?…])\s+|\s+[-–—~]+\s*")


def fold_name_keep_lines(text: str) -> str:
    return "\n".join(fold_name(line) for line in text.splitlines())


def _sign_form(text: str) -> str:
    """Folded text with a line break at every sentence end, so that a sign-off after the last
    sentence of a one-line text ("It rained, naturally. Dad.") starts a line of its own."""
    return "\n".join(fold_name(part) for part in _SENTENCE_END.split(text))


_PHONE_IN_TEXT = re.compile(r"(?:\+|\b)\d[\d\s().-]{7,16}\d")
_EMAIL_IN_TEXT = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


def announced_addresses(msg: Message, region: str) -> list[str]:
    """Numbers or addresses a message announces as the writer's new contact."""
    phones = _PHONE_IN_TEXT.findall(msg.body)
    emails = _EMAIL_IN_TEXT.findall(msg.body) if "@" in msg.body else []
    if not (phones or emails) or not announcement_in(lower(msg.body)):   # most texts hold no number: cheaper first
        return []
    found = []
    for raw in phones:
        try:
            found.append(normalize_phone(raw, region, strict=True))
        except InvalidAddress:
            pass
    for raw in emails:
        try:
            found.append(normalize_email(raw))
        except InvalidAddress:
            pass
    return found


# Mentions of a blocked person (for intermediaries) ------------------------------

_ROLE = re.compile(
    r"\b(?:your|ur|the kids'?|the children'?s|the boys'?|the girls'?|her|his)\s+"
    r"(?:ex|ex-?husband|ex-?wife|ex-?partner|ex-?boyfriend|ex-?girlfriend|husband|wife|mum|mom|mam|mother|ma|mummy|mommy"
    r"|dad|father|daddy|pa|papa|brother|sister|son|daughter|step-?dad|step-?mum|step-?mom|partner|baby ?daddy|baby ?mama)\b",
    )


def _users_parent_word(role: str) -> frozenset[str]:
    """The parent words of the same sex as "your mum" / "ur dad" (empty for other roles)."""
    owner, *rest = role.split()
    if owner not in ("your", "ur") or not rest:
        return frozenset()
    return next((words for words in _PARENT_WORDS if rest[-1] in words), frozenset())


def _may_be_users_parent(person: PersonIndex, same: frozenset[str]) -> bool:
    """Whether "your mum" (`same`: its parent words) can be this blocked person: not when their
    nicknames make them the children's parent ("Frankie and Jude's dad": to the user, "your dad"
    is the user's father) or a parent of the other sex. With no parent word in their nicknames,
    nothing rules it out."""
    if person.childrens_parent:
        return False   # "georgia hunter s dad"
    said = {w for n in person.nicknames for w in n.split()}
    return bool(said & same) or not (said & (_ANY_PARENT - same))


def _name_words(person: PersonIndex) -> tuple[AnchorGate, re.Pattern]:
    """Any word of the person's names: a text holding none of them cannot name them (the gate
    finds the words anywhere in one pass, the pattern only as whole words)."""
    found = _TOKEN_CACHE.get(person.name)
    if found is None:
        words = {w for n in (*person.names, person.first, *person.nicknames) for w in n.split() if w}
        alt = "|".join(sorted(map(re.escape, words), key=len, reverse=True)) or "(?!)"
        found = _TOKEN_CACHE[person.name] = AnchorGate([words]), re.compile(rf"\b(?:{alt})\b")
    return found


_TOKEN_CACHE: dict = {}


def _may_name(low: str, person: PersonIndex) -> bool:
    gate, pattern = _name_words(person)
    return bool(gate.open(low)) and pattern.search(low) is not None


def _name_form(text: str, lowered: str) -> str:
    """The text as names are matched: its lower case when ASCII, else its folded form."""
    return lowered if text.isascii() else fold_name(text)


_KIN = ("mum|mom|mam|mother|ma|dad|father|sister|sis|brother|bro|wife|husband|girlfriend|boyfriend|partner|fiance|"
        "fiancee|auntie|aunty|aunt|uncle|cousin|nan|nana|gran|granny|grandma|grandad|grandpa|son|daughter")
# The writer says who they are, then whose family they are: "its isa baird. davies mum", "this is
# Lorraine, Tasha's mom", "Loveday here (Tam's sister)", "hi hannah its denise (trevors mom)".
# Not "it's Sal. Saw Bren's sister at the markets": news of a relative, not who is writing.
_KIN_INTRO = (r"(?:\b(?:it'?s|it’s|its|it is|this is|i'?m|im|i am|my name is)\s+[a-z]+(?: [a-z]+)?"
              r"|\b[a-z]+ here)[\s,.(–-]*")


_AS_RELATIVE: dict[str, tuple[re.Pattern, re.Pattern]] = {}


def _only_as_relative(folded: str, name: str) -> bool:
    """Every mention of `name` (a first name or nickname, folded) is of their relative: "bren s
    sister", "brens mum". A go-between names the person they plead for, not only their family."""
    patterns = _AS_RELATIVE.get(name)
    if patterns is None:
        if len(_AS_RELATIVE) > 256:
            _AS_RELATIVE.clear()
        word = re.escape(name)
        patterns = _AS_RELATIVE[name] = (re.compile(rf"\b{word}\b(?!(?: s|s) (?:{_KIN})\b)"),   # the person
                                         re.compile(rf"\b{word}s? (?:s )?(?:{_KIN})\b"))         # their relative
    alone, relative = patterns
    return alone.search(folded) is None and relative.search(folded) is not None


def _introduced_as_kin(lowered: str, person: PersonIndex) -> str:
    """'davies mum' when the writer introduces themselves as the person's relative, else ''."""
    pattern = _kin_pattern(person)
    found = pattern.search(lowered, 0, 200) if pattern is not None else None
    if found is None or _CHILDS_PLACE.match(lowered, found.end()):
        return ""
    return found.group(1)


def _kin_pattern(person: PersonIndex) -> re.Pattern | None:
    """The introduction as their relative, compiled once per person (None: no name to look for)."""
    key = (person.name, person.first, person.nicknames)
    if key not in _KIN_CACHE:
        names = [n for n in (person.first, *person.nicknames) if n and n not in ROLE_WORDS and " " not in n]
        alt = "|".join(re.escape(n) for n in names)
        _KIN_CACHE[key] = re.compile(rf"{_KIN_INTRO}((?:{alt})(?:['’]?s) (?:{_KIN}))\b") if names else None
    return _KIN_CACHE[key]


_KIN_CACHE: dict = {}


# "it's Karen, Sam's mum from Year 3": the parent of a child who shares the person's first name.
_CHILDS_PLACE = re.compile(r"[\s,.()–-]*(?:\w+\s+){0,2}?(?:from|at|in|on)\s+(?:the\s+|his\s+|her\s+)?(?:school|class|year|"
                           r"reception|nursery|preschool|kindy|daycare|football|soccer|rugby|netball|swimming|dance|"
                           r"scouts|cubs|brownies|guides|club|team|practice|training|grade|p\d|y\d)")


def mentions(msg: Message, index: IdentityIndex) -> list[Reason]:
    """The message names a blocked person, or refers to them by a role ('your ex', 'your mum')."""
    text = msg.text
    lowered = lower(text)
    form = _name_form(text, lowered)
    people = [p for p in index.people if _may_name(form, p)]
    folded = (fold_name(text) if text.isascii() else form) if people else ""  # non-ASCII: form is already folded
    words = set(folded.split())
    reasons = []
    for person in people:
        hit = None
        if fold_name(person.name) in folded:
            hit = person.name
        else:
            for n in (person.first, *person.nicknames):
                if n in ROLE_WORDS:   # "my dad", "thanks mum": somebody's parent, not a name
                    continue
                if len(n) >= 2 and (n in words if " " not in n else n in folded) and n not in index.user_names:
                    hit = n
                    break
        kin = _introduced_as_kin(lowered, person)
        if hit and not kin and hit != person.name and _only_as_relative(folded, hit):
            hit = None   # "saw Bren's sister at the markets": news of a relative, not of the person
        if hit or kin:
            reasons.append(Reason("mentions_blocked", 0.8, f"mentions {person.name} by name ('{hit or kin}')",
                                  person.name))
        if kin:
            reasons.append(Reason("family_of_blocked", 0.9, f"introduces themselves as {person.name}'s family "
                                  f"('{kin}')", person.name))
    if not reasons:
        role = _ROLE.search(lowered)
        same = _users_parent_word(role.group(0)) if role else frozenset()
        if same and not any(_may_be_users_parent(p, same) for p in index.people):
            role = None   # "your mum's church", "your dad says": the user's own parent, none of the blocked people
        if role:
            reasons.append(Reason("mentions_blocked", 0.5,
                                  f"refers to the blocked person as '{quote(text, lowered, role)}'"))
    return reasons
