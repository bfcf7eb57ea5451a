"""Practical facts (dates, times, places, amounts, documents) as neutral text.

The fact text is built from what was extracted (a resolved date, a 24-hour
time, a capitalised place name, an amount, a document name from a fixed
list), never from the sender's sentences, so a digest built from it carries
no tone and no tactic.
"""

from __future__ import annotations

import bisect
import re
from datetime import date, datetime, timedelta

from screener.signals import any_at_word_start, lower

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_WD_ABBR = {d[:3]: i for i, d in enumerate(WEEKDAYS)} | {"tues": 1, "thur": 3, "thurs": 3, "weds": 2}
MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december"]
_MON_ABBR = {m[:3]: i + 1 for i, m in enumerate(MONTHS)} | {"sept": 9}

KIND_WORDS = {
    "handover": r"(?:drop|pick|collect|bring)\w*\s+(?:the kids|the children|the boys|the girls|them|him|her)\b"
                r"|(?:get|fetch)(?:ting)? (?:the kids|the children|them|him|her) from (?:school|nursery|the school|club|"
                r"practice|training|swimming|football|dance)\b|hand ?over|hand-?off|pick(?:ing)? (?:them |him |her |the kids |the children )?up|pickup|pick-up|drop(?:ping)? (?:them |him |her |the kids |the children )?off|drop-?off|collect(?:ing)? (?:the kids|the children|them|him|her)|contact (?:weekend|visit|time)|my weekend|your weekend|access visit|exchange|swap over|changeover",
    "school": r"school|nursery|teacher|permission slip|consent form|parents'? ?evening|parent-?teacher|term|uniform|school trip|field trip|homework|report card|inset day|half term|pta|assembly|sports day|nativity|recital|concert|play rehearsal",
    "medical": r"doctor|\bgp\b|dentist|orthodontist|hospital|a&e|\ber\b|clinic|appointment|prescription|vaccin|jab|inhaler|medication|meds|therapist|optician|physio|surgery|vet\b|vets\b|jabs",
    "court": r"court|hearing|mediation|mediator|solicitor|lawyer|attorney|cafcass|custody|child arrangements|order\b|tribunal|judge|statement|affidavit|deposition|family law",
    "payment": r"[£$€]\s?\d|\d+\s?(?:pounds|quid|dollars|bucks|euros)\b|maintenance|child support|\bcms\b|invoice|\bbill\b|reimburse|pay (?:me|half|back|for)|transfer|owe[sd]?|fees|deposit|rent\b",
    "belongings": r"belongings|your (?:stuff|things|boxes|clothes|bike|books|records|keys)|boxes|the keys|spare key|storage unit|collect (?:your|ur) (?:stuff|things)",
    "travel": r"passport|flight|holiday|vacation|abroad|visa|ferry|airport|trip to",
}
# The patterns below are matched against lower-cased text (see `lower`): much
# faster in Python's regex engine than case-insensitive matching.
KIND_RES = {k: re.compile(rf"\b(?:{v})") for k, v in KIND_WORDS.items()}
ANY_KIND = any_at_word_start(KIND_WORDS.values())

DOCUMENTS = ["permission slip", "consent form", "passport", "birth certificate", "school report", "report card",
             "court order", "court papers", "statement", "prescription", "referral letter", "form", "receipt",
             "invoice", "contract", "lease", "mortgage papers", "insurance", "council tax bill", "tax return",
             "medical records", "vaccination record", "red book", "school reports", "letter"]
_DOC_RE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, DOCUMENTS), key=len, reverse=True)) + r")s?\b")
PURPOSES = ["vet bill", "vets bill", "school trip", "uniform", "school uniform", "maintenance", "child support", "rent",
            "childcare", "nursery fees", "dentist", "glasses", "braces", "phone bill", "car insurance", "council tax",
            "mortgage", "after-school club", "swimming lessons", "football club", "dance classes", "birthday party",
            "trainers", "school shoes", "lunch money", "dinner money", "therapy", "prescription", "holiday", "deposit",
            "electric bill", "gas bill", "water bill", "broadband", "bills", "loan"]
_PURPOSE_RE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, PURPOSES), key=len, reverse=True)) + r")\b")

_AMOUNT = re.compile(r"([£$€])\s?(\d{1,3}(?:,\d{3})*(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?)(k\b)?"
                     r"|\b(\d+(?:\.\d{1,2})?)\s?(pounds|quid|dollars|bucks|euros)\b")
_TIME = re.compile(r"\b(\d{1,2})(?:[:.](\d{2}))?\s?(am|pm|a\.m\.|p\.m\.)|\b([01]?\d|2[0-3]):([0-5]\d)\b"
                   r"|\b(noon|midday|midnight)\b|\bhalf (\d{1,2})\b"
                   r"|\b(?:at|from|till|until) ([1-9]|1[0-2])\.([0-5]\d)\b(?![.,]?\d|\s?%)")   # "school at 3.15"
_DAY_MONTH = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?(?: of)?\s+(" + "|".join(MONTHS) + r"|" +
                        "|".join(_MON_ABBR) + r")\.?\b")
_MONTH_DAY = re.compile(r"\b(" + "|".join(MONTHS) + r"|" + "|".join(_MON_ABBR) + r")\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b")
_WEEKDAY_ORDINAL = re.compile(r"\b(" + "|".join(WEEKDAYS) + "|" + "|".join(_WD_ABBR) + r")(?:day)?,?\s+(?:the\s+)?"
                              r"(\d{1,2})(?:st|nd|rd|th)\b(?!\s*(?:of\s+)?(?:" + "|".join(MONTHS) + "|"
                              + "|".join(_MON_ABBR) + r"))")
_DIGIT = re.compile(r"\d")
_NUMERIC = re.compile(r"\b(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?\b")
_RELATIVE = re.compile(r"\b(today|tonight|tomorrow|tmrw|tmr|tomoz|2moro|this (?:morning|afternoon|evening)"
                       r"|(?:this|next|on|by|until|till|before|from)?\s?(" + "|".join(WEEKDAYS) + r"|" +
                       "|".join(_WD_ABBR) + r")(?:day)?\b)")
_PLACE = re.compile(r"\b(?:at|outside|in front of|by|near|meet (?:at|in)|to)\s+(?:the\s+)?"
                    r"((?:[A-Z][\w'&-]+|St\.?)(?:\s+(?:[A-Z][\w'&-]+|of|on|the))*\s*(?:[A-Z][\w'&-]+)?)")
_NOT_PLACES = set(WEEKDAYS) | set(MONTHS) | {"i", "im", "i'm", "christmas", "easter", "mum", "mom", "dad", "the",
                                           "school", "half", "noon", "midday", "tomorrow", "tonight", "today"}


def message_date(iso: str) -> date | None:
    if not iso:
        return None
    try:
        return datetime.fromisoformat(iso.strip().replace("Z", "+00:00")).date()
    except ValueError:
        return None


def fmt_day(d: date) -> str:
    return d.strftime("%a %d %b").replace(" 0", " ")


def find_dates(text: str, sent: date | None) -> list[str]:
    text = lower(text)
    found: list[tuple[int, str]] = []
    explicit: list[int] = []   # where explicit dates start (sorted): a weekday just before one names the same day

    def explicit_within(start: int, end: int) -> bool:      # bisect: linear time on hostile text full of dates
        i = bisect.bisect_left(explicit, start)
        return i < len(explicit) and explicit[i] <= end
    year = sent.year if sent else date.today().year
    digits = _DIGIT.search(text) is not None   # every explicit form has a digit: most texts need not be read for them
    for m in _DAY_MONTH.finditer(text) if digits else ():
        found.append((m.start(), _mk(year, _month(m.group(2)), int(m.group(1)), sent)))
        bisect.insort(explicit, m.start())
    for m in _MONTH_DAY.finditer(text) if digits else ():
        found.append((m.start(), _mk(year, _month(m.group(1)), int(m.group(2)), sent)))
        bisect.insort(explicit, m.start())
    for m in _NUMERIC.finditer(text) if digits else ():
        a, b = int(m.group(1)), int(m.group(2))
        day, mon = (a, b) if a > 12 or b <= 12 else (b, a)  # day first unless impossible
        if 1 <= mon <= 12 and 1 <= day <= 31:
            found.append((m.start(), _mk(year, mon, day, sent)))
            bisect.insort(explicit, m.start())
    for m in _WEEKDAY_ORDINAL.finditer(text) if digits else ():   # "Tuesday the 22nd": that day of this month or the next
        if explicit_within(m.start(), m.end()):
            continue
        found.append((m.start(), _day_of_month(int(m.group(2)), m.group(1), sent)))
        bisect.insort(explicit, m.start())
    for m in _RELATIVE.finditer(text):
        if explicit_within(m.start(), m.end() + 6):
            continue
        word = m.group(1).lower().strip()
        resolved = _relative(word, m.group(2), sent)
        if resolved:
            found.append((m.start(), resolved))
    out = []
    for _, d in sorted(found):
        if d and d not in out:
            out.append(d)
    return out[:3]


def _day_of_month(day: int, weekday: str, sent: date | None) -> str:
    """The next `day` of a month on or after the message date that falls on `weekday`
    (or simply the next one, if none does within three months)."""
    if not sent or not 1 <= day <= 31:
        return ""
    wd = weekday.lower()
    want = WEEKDAYS.index(wd) if wd in WEEKDAYS else _WD_ABBR.get(wd)
    first = None
    year, month = sent.year, sent.month
    for _ in range(3):
        try:
            d = date(year, month, day)
        except ValueError:
            d = None
        if d is not None and d >= sent:
            first = first or d
            if d.weekday() == want:
                return fmt_day(d)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return fmt_day(first) if first else ""


def _month(word: str) -> int:
    w = word.lower().rstrip(".")
    return MONTHS.index(w) + 1 if w in MONTHS else _MON_ABBR.get(w[:4] if w[:4] in _MON_ABBR else w[:3], 0)


def _mk(year: int, month: int, day: int, sent: date | None) -> str:
    try:
        d = date(year, month, day)
    except ValueError:
        return ""
    if sent and d < sent - timedelta(days=180):
        try:
            d = date(year + 1, month, day)
        except ValueError:
            return ""
    return fmt_day(d)


def _relative(word: str, weekday: str | None, sent: date | None) -> str:
    if word.startswith(("today", "tonight", "this m", "this a", "this e")):
        return fmt_day(sent) if sent else "today"
    if word.startswith(("tom", "tmr", "2mo")):
        return fmt_day(sent + timedelta(days=1)) if sent else "tomorrow"
    if not weekday:
        return ""
    wd = weekday.lower()
    idx = WEEKDAYS.index(wd) if wd in WEEKDAYS else _WD_ABBR.get(wd)
    if idx is None:
        return ""
    if not sent:
        return WEEKDAYS[idx].capitalize()
    ahead = (idx - sent.weekday()) % 7
    if word.startswith("next"):
        ahead += 7  # British usage, and the safer reading: the one after this coming one
    return fmt_day(sent + timedelta(days=ahead))


def find_times(text: str) -> list[str]:
    text = lower(text)
    out = []
    for m in _TIME.finditer(text):
        if m.group(1):
            h, mi, ap = int(m.group(1)), int(m.group(2) or 0), m.group(3).lower().replace(".", "")
            if h > 12:
                continue
            h = (h % 12) + (12 if ap == "pm" else 0)
        elif m.group(4):
            h, mi = int(m.group(4)), int(m.group(5))
        elif m.group(6):
            h, mi = (0, 0) if m.group(6).lower() == "midnight" else (12, 0)
        elif m.group(8):   # "at 3.15": a pick-up or an appointment, in the afternoon below 8 as "half three" is
            h, mi = int(m.group(8)), int(m.group(9))
            if h < 8:
                h += 12
        else:
            h, mi = int(m.group(7)), 30
            if h < 8:
                h += 12
        t = f"{h:02d}:{mi:02d}"
        if t not in out:
            out.append(t)
    return out[:2]


def find_amounts(text: str) -> list[str]:
    text = lower(text)
    out = []
    for m in _AMOUNT.finditer(text):
        if m.group(1):
            amt = f"{m.group(1)}{m.group(2)}{(m.group(3) or '').lower()}"
        else:
            unit = m.group(5).lower()
            sym = {"pounds": "£", "quid": "£", "dollars": "$", "bucks": "$", "euros": "€"}[unit]
            amt = f"{sym}{m.group(4)}"
        if amt not in out:
            out.append(amt)
    return out[:3]


def find_places(text: str) -> list[str]:
    out = []
    for m in _PLACE.finditer(text):
        place = re.split(r"\s+(?:on|at|the|of)\s+(?=(?:" + "|".join(WEEKDAYS + MONTHS) + r")\b)",
                         m.group(1), flags=re.I)[0].strip(" .,'")
        first = place.split()[0].lower().strip(".")
        if first in _NOT_PLACES or first in _MON_ABBR or first in _WD_ABBR or len(place) < 3:
            continue
        if place not in out:
            out.append(place)
    return out[:2]


_SENTENCE = re.compile(r"(?<=[.!?\n;])\s+|\s+(?:and also|also|plus|oh and)\s+"
                       r"|,?\s+(?:and|but)\s+(?=(?:i|i'll|i'm|im|you|u|we|the|can|could|please|dont|don't)\b)", re.I)
DOC_KIND = {"permission slip": "school", "consent form": "school", "school report": "school", "report card": "school",
            "school reports": "school", "passport": "travel", "court order": "court", "court papers": "court",
            "statement": "court", "prescription": "medical", "referral letter": "medical",
            "medical records": "medical", "vaccination record": "medical", "red book": "medical"}


def extract_facts(text: str, iso_date: str = "") -> list[dict]:
    """Neutral facts found in the text, one per kind, each built from one sentence's facts."""
    sent = message_date(iso_date)
    facts: dict[str, str] = {}
    # One pass for the words that make a sentence practical; only sentences holding one are read closely.
    low = lower(text)
    hits = [m.start() for m in ANY_KIND.finditer(low)]
    for start, sentence in _sentences(text) if hits else ():
        end = start + len(sentence)
        if bisect.bisect_left(hits, start) == bisect.bisect_left(hits, end):
            continue
        for kind, fact in _sentence_facts(sentence, low[start:end], sent, low):
            if kind not in facts:
                facts[kind] = fact
    if not facts:   # a place with a date or time is practical whatever the words around it
        places = find_places(text)
        if places:
            dates, times = find_dates(low, sent), find_times(low)
            if dates or times:
                facts["other"] = ", ".join(dates[:1] + times[:1] + places[:1])
    return [{"kind": k, "text": v} for k, v in list(facts.items())[:3]]


def when_facts(text: str, iso_date: str = "") -> list[dict]:
    """The dates, times and amounts alone ("lunch Thursday at 12:30" -> "Thu 5 Mar, 12:30"), for a
    message already judged practical whose sentences name no kind of arrangement and no place."""
    low = lower(text)
    found = find_amounts(low)[:1] + find_dates(low, message_date(iso_date))[:2] + find_times(low)[:1]
    return [{"kind": "other", "text": ", ".join(found)}] if found else []


def _sentences(text: str):
    """(offset, sentence) pairs, split as `_SENTENCE.split` would."""
    start = 0
    for m in _SENTENCE.finditer(text):
        yield start, text[start:m.start()]
        start = m.end()
    yield start, text[start:]


# A sentence that names its own day in a way no date is built from ("Saturdays at 9.30", "every week"):
# a date from elsewhere in the message is not its date.
_OWN_DAY = re.compile(r"\b(?:mon|tues|wednes|thurs|fri|satur|sun)days?\b|\bevery\b|\bweekends?\b|\bweekly\b")


def _sentence_facts(sentence: str, low: str, sent: date | None, message_low: str = "") -> list[tuple[str, str]]:
    """`message_low`: the whole message, whose first date a time given without one takes ("tea tomorrow
    still on. ill get them from school at 3.15" -> "Wed 11 Nov, 15:15"); read only then."""
    kinds = [k for k, rx in KIND_RES.items() if rx.search(low)]
    if not kinds:
        return []
    dates, times = find_dates(low, sent), find_times(low)
    if times and not dates and not _OWN_DAY.search(low):
        dates = find_dates(message_low, sent)[:1]
    amounts, places = find_amounts(low), find_places(sentence)
    docs = list(dict.fromkeys(m.group(1) for m in _DOC_RE.finditer(low)))[:1]
    purposes = list(dict.fromkeys(m.group(1) for m in _PURPOSE_RE.finditer(low)))[:1]
    when = ", ".join(dates[:2] + times[:1])
    out = []
    for kind in kinds:
        if kind == "payment":
            if amounts:
                text = " and ".join(amounts) + (" " + purposes[0] if purposes else "") + " requested"
                out.append((kind, text + (f" by {dates[0]}" if dates else "")))
            continue
        if docs and DOC_KIND.get(docs[0], kind) != kind:
            continue
        if docs and kind in ("school", "court", "travel", "medical"):
            text = docs[0] + (f" due {dates[0]}" if dates else "") + (f", {times[0]}" if times else "")
        elif when or places:
            lead = {"court": "hearing", "medical": "appointment"}.get(kind)
            text = ", ".join(([lead] if lead else []) + ([when] if when else []) + places[:1])
        else:
            continue
        out.append((kind, text))
    # A sentence is usually about one thing: keep the most specific kind.
    order = ["handover", "court", "medical", "school", "payment", "travel", "belongings"]
    out.sort(key=lambda kv: order.index(kv[0]))
    return out[:1] + [kv for kv in out[1:] if kv[0] == "payment"]
