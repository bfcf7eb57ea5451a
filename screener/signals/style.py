"""Writing style and shared history: is this new sender the blocked person?

A profile per blocked person is built at run time from their `history` file
(never saved into models/). Three kinds of evidence, each readable by a friend:

- character style: a linear model of the person's case-kept character
  1-4-grams, fitted at run time on their past messages against ordinary
  messages from other people, so that the habits that set them apart weigh
  most ('!!', '•', 'ur', an emoji) and what everyone writes weighs nothing;
  calibrated on messages it was not fitted on ("closer to Jordan's writing
  than 97% of other people's messages");
- style markers: words and habits frequent in their history and rare
  elsewhere ("writes 'definately', 'lol', '..'"), and their sign-offs;
- shared history: private names (children, pets, places, in-jokes) from their
  history, mentioned in a personal way, not by a school or a vet.

Short messages carry little style; the score says so rather than guess.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from screener.features import char_counts
from screener.message import Message, read_jsonl
from screener.signals import Reason, lower, quote

BITS = 14
SIZES = (1, 2, 3, 4)
STYLE_CAP = 0.8            # style alone never crosses the policy's threshold
RARE_MARKER = 50.0         # a marker this many times commoner in their messages than in anyone else's
RARE_EACH, RARE_MAX = 0.12, 0.36
MIN_HISTORY = 5
_WORD = re.compile(r"[a-z']+|\.\.+|!!+|\?\?+|[\U0001F300-\U0001FAFF\u2600-\u27BF]")
_NAME = re.compile(r"\b[A-Z][a-z]{2,}\b")
_INSTITUTIONAL = re.compile(
    r"\b(?:reminder|appointment|booking|booked|vaccin\w*|booster|practice|surgery|clinic|pupil|parents and carers|"
    r"dear parent|dear customer|unsubscribe|invoice|order (?:no|number)|reception|patient|our records|no-?reply)\b",
    re.IGNORECASE)
_PERSONAL = re.compile(r"\b(?:remember|miss|missed|our|love|babe|darling|x+)\b", re.IGNORECASE)
_LOWER_WORD = re.compile(r"\b[a-z]{3,}\b")
_SENTENCE_START_CAP = re.compile(r"(?:^|[.!?]\s+|\n)\s*[A-Z]")
LOWER_CASE_WRITER = 0.3   # fewer of their messages than this start a sentence with a capital: they write in lower case
UNCOMMON_NAME = 4     # a name in at most this many of the yardstick's texts is uncommon (rare: at most 1)
UNCOMMON_SHARE = 0.5  # what an uncommon name counts for against a rare one
COMMON_WORD = 0.003   # a word other people write in lower case in more texts than this is a word, not a name
COMMON_SIGNOFF = 0.002   # a sign-off ending 3 or more of the yardstick's 1,500 messages is nobody's habit ("x", "cheers")
COMMON_NAMES = {"the", "this", "that", "thanks", "thank", "hope", "just", "please", "sorry", "love", "mum", "mom",
                "dad", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january",
                "february", "march", "april", "may", "june", "july", "august", "september", "october",
                "november", "december", "christmas", "easter", "regards", "dear", "happy", "and", "but", "well",
                "yes", "not", "what", "why", "how", "when", "where", "who", "can", "could", "would", "will", "have",
                "are", "was", "you", "your", "its", "it's", "his", "her", "they", "there", "then", "also", "best",
                # a signature block's labels ("Tel: 0115 ...", "Mob:") are not private names
                "tel", "mob", "fax", "mobile", "email", "web", "cell", "phone", "office", "direct", "ext", "address"}


_CAPITALISED = re.compile(r"\b([A-Z])([a-z]+)\b")


def _mask(text: str) -> str:
    """Names carry topic, not style: 'Maisie' -> 'Xxxxxx' keeps only the habit of capitals."""
    return _CAPITALISED.sub(lambda m: "X" + "x" * len(m.group(2)), " ".join(text.split()))


def _vectors(texts: list[str]) -> "np.ndarray":
    X = char_counts([" " + _mask(t) + " " for t in texts], sizes=SIZES, bits=BITS)
    X.sum_duplicates()
    X.data = np.log1p(X.data)
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return (X.multiply(1.0 / norms.reshape(-1, 1))).tocsr()


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    if not lines:
        return ""
    last = lines[-1]
    if len(last) > 30:   # a one-line text: the sign-off is what follows the last sentence
        last = re.split(r"[.!?][\"')\]]*\s+", last)[-1]   # "...not a promise.) C."
    # "C." and "C", "Dad." and "Dad": the same sign-off with or without its full stop
    return " ".join(last.lower().split()).rstrip(".,!") if len(last) <= 30 else ""


_OPENER_END = re.compile(r"[,.!?\n:;\u2014-]")


def _opening(text: str) -> str:
    """How a message opens, up to its first punctuation ('Thomas', 'dear harriet', 'hey babe'),
    when that is a greeting's length (three words at most); else ''."""
    first = _OPENER_END.split(text.strip(), maxsplit=1)[0]
    words = first.lower().split()
    if not 0 < len(words) <= 3 or all(w in _GENERIC_OPENING for w in words):
        return ""
    return " ".join(words)


# Openings everybody uses: no habit of anyone's.
_GENERIC_OPENING = {"hi", "hey", "hello", "hiya", "dear", "morning", "evening", "afternoon", "good", "ok", "okay",
                    "yes", "no", "so", "um", "well", "thanks", "thank", "you", "sorry", "oh", "lol", "right", "all"}


_BUNDLED: dict[tuple, "Background"] = {}


class Background:
    """Ordinary messages from many other people, the yardstick for 'anyone else'."""

    def __init__(self, texts: list[str]):
        self.texts = texts
        self.vectors = _vectors(texts) if texts else None
        n = max(1, len(texts))
        counts = Counter(w for t in texts for w in _words(t))
        self.doc_freq = {w: c / n for w, c in counts.items()}
        self.name_freq = Counter(w.lower() for t in texts for w in set(_NAME.findall(t)))
        self.lower_freq = Counter(w for t in texts for w in set(_LOWER_WORD.findall(t)))
        self.openings = Counter(_opening(t) for t in texts)
        self.signoffs = Counter(_last_line(t) for t in texts)
        self.n = n

    @classmethod
    def bundled(cls, data_dir: Path, limit: int = 1500) -> "Background":
        """Ordinary, tactic-free messages from the project's own data (many writers, many voices).
        Kept per process while the files are unchanged: every Screener built reads the same yardstick."""
        paths = sorted((data_dir / "corpus").glob("train_*.jsonl"))
        key = (str(data_dir.resolve()), limit,
               tuple((p.name, st.st_mtime_ns, st.st_size) for p in paths for st in (p.stat(),)))
        found = _BUNDLED.get(key)
        if found is None:
            _BUNDLED.clear()
            found = _BUNDLED[key] = cls._read(paths, limit)
        return found

    @classmethod
    def _read(cls, paths: list[Path], limit: int) -> "Background":
        texts: list[str] = []
        for path in paths:
            for line in path.read_text(encoding="utf-8").splitlines():
                if not line.strip():
                    continue
                obj = json.loads(line)
                if not obj.get("tactics") and obj.get("relation") not in ("ex_partner", "co_parent", "parent"):
                    texts.append(obj["body"])
        # A sample fixed by each text's own hash, not by its place in the files: new training files
        # then change the yardstick only by their share of it, instead of reshuffling all of it.
        return cls(sorted(texts, key=lambda t: hashlib.blake2b(t.encode(), digest_size=8).digest())[:limit])


@dataclass
class StyleProfile:
    person: str
    weights: np.ndarray        # the linear style model: a message's score is vector . weights + bias
    bias: float
    background_mean: float
    background_sims: np.ndarray
    genuine_mean: float
    markers: dict[str, float] = field(default_factory=dict)
    signoffs: set[str] = field(default_factory=set)
    names: dict[str, str] = field(default_factory=dict)   # lower -> as written
    # Names other people write now and then (2-4 of the yardstick's texts: 'Rowan', 'Harvey'),
    # recurring in the person's history: evidence at half the weight of a rare name.
    uncommon: dict[str, str] = field(default_factory=dict)
    n_messages: int = 0
    openings: dict[str, int] = field(default_factory=dict)  # their habitual greeting -> past messages opening so

    @classmethod
    def build(cls, person: str, history: list[str], background: Background,
              exclude_names: set[str] = frozenset(), own_names: set[str] = frozenset()) -> "StyleProfile | None":
        """`exclude_names`: names that are topic, not style (the user's, the person's own);
        `own_names`: the person's own names, which self-identification already weighs as a sign-off."""
        history = [h for h in history if h.strip()]
        if len(history) < MIN_HISTORY or background.vectors is None:
            return None
        H = _vectors(history)
        weights, bias, genuine, bg = _fit_style(H, background.vectors)
        n = len(history)
        counts = Counter(w for h in history for w in _words(h))
        # Names (anything they ever capitalised, their own and the user's) are topic, not style.
        capitalised = {w.lower() for h in history for w in _NAME.findall(h)} | set(exclude_names)
        markers = {}
        for word, c in counts.items():
            share = c / n
            if c >= 2 and share >= 0.06 and word not in capitalised and word.removesuffix("'s") not in capitalised:
                ratio = share / (background.doc_freq.get(word, 0.0) + 1.0 / background.n)
                if ratio >= 6:
                    markers[word] = ratio
        top = dict(sorted(markers.items(), key=lambda kv: (-kv[1], kv[0]))[:20])   # ties by word: the same every run
        signoffs = {s for s, c in Counter(_last_line(h) for h in history).items()
                    if s and c >= 2 and not _is_own_name(s, own_names)
                    and background.signoffs.get(s, 0) / background.n < COMMON_SIGNOFF}
        names: dict[str, str] = {}
        uncommon: dict[str, str] = {}
        name_counts = Counter(w for h in history for w in set(_NAME.findall(h)))
        for name, c in sorted(name_counts.items()):   # sorted: set order differs between runs
            low = name.lower()
            if low in COMMON_NAMES or low in exclude_names:
                continue
            if background.lower_freq.get(low, 0) > COMMON_WORD * background.n:   # 'Put', 'Father': words
                continue
            seen = background.name_freq.get(low, 0)
            if seen <= 1 and c >= 2:
                names[low] = name
            elif seen <= UNCOMMON_NAME and c >= 3:
                uncommon[low] = name
        if sum(1 for h in history if _SENTENCE_START_CAP.search(h.strip())) < LOWER_CASE_WRITER * n:
            # A writer who never capitalises writes 'moose' for Moose: their recurring words that
            # hardly anyone else writes are the names ('jonesy', 'timmies', 'watermelon').
            in_messages = Counter(w for h in history for w in set(_LOWER_WORD.findall(h.lower())))
            for low, c in sorted(in_messages.items()):
                if c >= 2 and len(low) >= 4 and low not in COMMON_NAMES and low not in exclude_names \
                        and low not in names and background.lower_freq.get(low, 0) + background.name_freq.get(low, 0) <= 1:
                    names[low] = low
        # A habitual greeting ("Thomas," in 33 of 45 messages, "Dear Harriet"), one other people rarely open with.
        openings = {o: c for o, c in Counter(_opening(h) for h in history).items()
                    if o and c >= 3 and c / n >= 0.15 and background.openings.get(o, 0) / background.n < 0.01}
        return cls(person, weights, bias, float(bg.mean()), np.sort(bg),
                   float(np.mean(genuine)), top, signoffs, names, uncommon, n, openings)


def _is_own_name(signoff: str, own_names: set[str]) -> bool:
    """'greg', '- mum x': a sign-off that is only one of their names (of 2+ letters) is
    self-identification's evidence; counting it as style too would count it twice."""
    words = [w for w in re.sub(r"[^\w\s]", " ", signoff).split() if not re.fullmatch(r"x+", w)]
    return bool(words) and " ".join(words) in {n for n in own_names if len(n) >= 2}


STYLE_C = 10.0   # weak regularisation: 1,500 other people's messages keep it honest
STYLE_FOLDS = 5


_FITTED: dict[bytes, tuple] = {}   # the same messages give the same model: fitted once per process


def _fit_style(H, B) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    """A logistic regression of the person's messages `H` against other people's `B`.

    Returns its weights and bias, and the scores of their messages and of the other people's
    from models fitted without them (held out in turn, five ways): a message the model was
    fitted on looks more typical than a new one, so only held-out scores calibrate it.
    """
    digest = hashlib.blake2b(digest_size=16)
    for matrix in (H, B):
        for part in (matrix.data, matrix.indices, matrix.indptr):
            digest.update(np.ascontiguousarray(part).tobytes())
    key = digest.digest()
    if key not in _FITTED:
        if len(_FITTED) >= 64:
            _FITTED.clear()
        _FITTED[key] = _fit_style_uncached(H, B)
    return _FITTED[key]


def _fit_style_uncached(H, B) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    X = sparse.vstack([H, B]).tocsr()
    y = np.r_[np.ones(H.shape[0]), np.zeros(B.shape[0])]
    held_out = np.empty(len(y))

    def fit(rows):
        return LogisticRegression(C=STYLE_C, class_weight="balanced", tol=1e-3, max_iter=1000).fit(X[rows], y[rows])

    folds = StratifiedKFold(n_splits=min(STYLE_FOLDS, H.shape[0]), shuffle=True, random_state=0)
    for train, test in folds.split(X, y):
        held_out[test] = fit(train).decision_function(X[test])
    model = fit(np.arange(len(y)))
    return (model.coef_.ravel().astype(np.float32), float(model.intercept_[0]),
            held_out[y == 1], held_out[y == 0])


def similarities(profile: StyleProfile, vectors) -> np.ndarray:
    """How much each message (rows of `vectors`) is written like the person: the style model's score."""
    return np.asarray(vectors @ profile.weights).ravel() + profile.bias


def style_reasons(profile: StyleProfile, text: str, vector, others: np.ndarray | None = None,
                  opening_of: str | None = None, writer_name: str = "", probing: bool = False,
                  unnamed: bool = False, user_names: Collection[str] = ()) -> list[Reason]:
    """Evidence that `text` was written by the profile's person (may be empty).

    `others`: similarities of the user's other correspondents' messages (this
    batch) to the profile, added to the bundled yardstick of other people.
    `opening_of`: the text whose first words are the greeting (an email's body, not its subject).
    `writer_name`: the sender's display or contact name. A name from the history that is the
    writer's own is no evidence: the blocked person wrote about that real person, who now writes.
    `probing`: the sender is a cheap account asking where the user lives or about their life. A
    clinic's or a club's wording ("our records show") no longer excuses a private name then: a real
    surgery writes from its own domain, and does not ask whether the user still lives in Loveland.
    `unnamed`: the writer announced a new number or account without saying who they are ("It's me.
    New number"). A rare private name of theirs in the same message ("How's Custard's bad ear?") then
    says who: a friend writing from a new number gives their name. Not the user's own name or a short
    form of it (`user_names`: "Pri" for Priyanka), which friends write too.
    """
    reasons: list[Reason] = []
    sim = float(np.dot(vector.data, profile.weights[vector.indices])) + profile.bias
    yardstick = profile.background_sims if others is None or not len(others) else \
        np.sort(np.concatenate([profile.background_sims, others]))
    beaten = float(np.searchsorted(yardstick, sim)) / max(1, len(yardstick))
    span = max(1e-6, profile.genuine_mean - profile.background_mean)
    closeness = max(0.0, min(1.0, (sim - profile.background_mean) / span))
    words = _words(text)
    matched = [m for m in profile.markers if m in words]
    signoff = _last_line(text) in profile.signoffs
    opening = _opening(text if opening_of is None else opening_of)   # an email's greeting follows its subject
    greets = opening in profile.openings
    reliability = min(1.0, len(text.strip()) / 160)
    char_part = closeness if beaten >= 0.95 else 0.0
    marker_part = min(1.0, len(matched) / 4)
    habits = (0.5 if signoff else 0.0) + (0.3 if greets else 0.0)
    # Words almost nobody else writes ('du', 'dinna', 'ken' in a Shetlander's texts) say as much in a
    # short text as in a long one: beyond the first, each adds evidence whatever the length.
    rare = sum(1 for m in matched if profile.markers[m] >= RARE_MARKER)
    rare_words = min(RARE_MAX, RARE_EACH * max(0, rare - 1))
    score = STYLE_CAP * min(1.0, reliability * (0.6 * char_part + 0.4 * marker_part) + habits + rare_words)
    if not (matched or signoff or greets):
        score = min(score, 0.2)   # character style alone is a hint: two independent cues make evidence
    if score >= 0.1:
        bits = []
        if matched:
            bits.append("writes " + ", ".join(f"'{m}'" for m in matched[:4]) + f" like {profile.person}")
        if signoff:
            bits.append(f"signs off '{_last_line(text)}' as {profile.person} did in past messages")
        if greets:
            bits.append(f"opens with '{opening}' as {profile.person} did in {profile.openings[opening]} of "
                        f"{profile.n_messages} past messages")
        bits.append(f"{len(matched)} of {len(profile.markers)} style markers match")
        bits.append(f"character style closer to {profile.person}'s past messages than {100 * beaten:.0f}% of "
                    "other people's messages")
        if reliability < 1.0:
            bits.append("short message: little style to go on")
        reasons.append(Reason("style_match", round(score, 3), "; ".join(bits), profile.person))
    mentioned = mentioned_names(profile, text)
    less_rare = mentioned_names(profile, text, profile.uncommon)
    if mentioned or less_rare:
        own = set(writer_name.lower().split()) | _own_place_words(text)
        mentioned = [m for m in mentioned if m.lower() not in own]
        less_rare = [m for m in less_rare if m.lower() not in own]
    if (mentioned or less_rare) and (probing or not _INSTITUTIONAL.search(text)):
        personal = unnamed or bool(_PERSONAL.search(text))
        score = min(0.9, 0.45 * len(mentioned) + 0.45 * UNCOMMON_SHARE * len(less_rare)) * (1.0 if personal else 0.6)
        telling = unnamed and [m for m in mentioned if not _users_name(m.lower(), user_names)]
        if telling:
            score = RECOGNISED
        said = []
        if mentioned:
            said.append(", ".join(f"'{m}'" for m in mentioned[:3]) + " (names rarely seen elsewhere)")
        if less_rare:
            said.append(", ".join(f"'{m}'" for m in less_rare[:3]) + " (seen now and then elsewhere: counts half)")
        detail = "mentions " + "; ".join(said) + f" from {profile.person}'s past messages"
        if telling:
            detail += ", from a new account that does not say who is writing"
        reasons.append(Reason("shared_history", round(score, 3), detail, profile.person))
    return reasons


RECOGNISED = 0.9   # a rare private name from a new account that does not say who it is (see style_reasons)


def _users_name(name: str, user_names: Collection[str]) -> bool:
    """The user's name or a short form of it: its start ('pri' for 'priyanka'), the same first three
    letters ('danny' for 'daniel', 'lachie' for 'lachlan') or its end ('tope' for 'temitope')."""
    return len(name) >= 2 and any(own.startswith(name) or (len(name) >= 3 and own[:3] == name[:3])
                                  or (len(name) >= 3 and own.endswith(name)) for own in user_names)


_SAYS_WHO = r"\b(?:this is|it'?s|i'?m|my name is|name'?s)\s+[a-z]+"   # "this is Tammy", as lower-cased
_OWN_PLACE = re.compile(rf"{_SAYS_WHO}\s+(?:here\s+)?(?:from|at|with)\s+"
                        r"(?:the\s+)?([a-z][a-z'-]*(?:\s+[a-z][a-z'-]*){0,3})")


def _own_place_words(text: str) -> set[str]:
    """The words of the place a writer says they are from ("this is Tammy at Catclaw front desk"):
    their own workplace or club, not a private name they share with the blocked person."""
    found = _OWN_PLACE.search(lower(text[:300]))
    return set(found.group(1).split()) if found else set()


def mentioned_names(profile: StyleProfile, text: str, names: dict[str, str] | None = None) -> list[str]:
    """Their private names in `text` (`names`: the rare ones unless given): capitalised as names
    are, or in any case from a writer who never capitalises (lower-case writers write 'biscuit' for Biscuit)."""
    names = profile.names if names is None else names
    if not names:
        return []
    lowered = text.lower()
    any_case = not _SENTENCE_START_CAP.search(text.strip())
    found = []
    for low, written in names.items():
        for m in re.finditer(rf"\b{re.escape(low)}\b", lowered):
            if any_case or text[m.start()].isupper():
                found.append((m.start(), written))
                break
    return [written for _, written in sorted(found)]   # in the order the message names them


def load_profiles(config, background: Background, held: dict[str, list[str]] | None = None) -> dict[str, StyleProfile]:
    """A profile per blocked person from their history file plus, when given, the texts
    of their messages held since (`held`: person -> bodies, from the store)."""
    from screener.normalize import fold_name

    profiles = {}
    exclude = set(fold_name(config.user.name).split())
    held = held or {}
    for person in config.blocked:
        history = [m.body for m in read_jsonl(person.history)] if person.history is not None else []
        history += held.get(person.name, [])
        if not history:
            continue
        own = set(fold_name(person.name).split()) | {fold_name(n) for n in person.nicknames}
        profile = StyleProfile.build(person.name, history, background, exclude | own, own)
        if profile is not None:
            profiles[person.name] = profile
    return profiles


# Pretexts: a stranger introduces themselves, then turns to the relationship --------

# Lower case, matched against lower-cased text (faster than IGNORECASE, same matches).
_INTRO = re.compile(rf"{_SAYS_WHO}\b[^.!?\n]{{0,40}}\b(?:from|at|with)\b"
                    r"|\bwe met (?:at|in|on|through)\b|\bi'?m a (?:friend|colleague|neighbou?r) of\b"
                    r"|\byou don'?t know me\b|\bsorry to message (?:you )?out of the blue\b")
# "this is Dave, one of the coaches", "my name is Bernadette, I help out at..." (run only when
# "this is" or "name" occurs: a separate pattern keeps the common case fast)
# "I'm Sophie, I've just joined the Thursday book club" (a name, then what brought them: the
# place comes too late for the pattern above)
_INTRO_ROLE = re.compile(r"\b(?:this is|my name is|name'?s)\s+[a-z]+,?\s+(?:one of|i (?:help|work|run|volunteer|coach|teach))\b"
                         r"|\b(?:this is|my name is|name'?s|i'?m)\s+(?!(?:sure|sorry|so|just|glad|back|home|going|not|also"
                         r"|still|really|fine|ok|okay|good|well|afraid|pleased|happy|new|here|off|out|sad|tired|done|free"
                         r"|away|busy|excited|honest|aware|told|certain|only|actually|moving|leaving)\b)[a-z]+,\s+"
                         r"(?:and )?i'?ve (?:just )?(?:joined|started|moved)\b")
_OPENER = re.compile(r"\W*(?:hi|hello|hey)?\W*is (?:this|that) [a-z]+\s*\?")   # "hey!! is this marcus??"
_TURN = re.compile(r"\b(?:your ex|relationship|you two|second chance|misses you|miss you|heartbroken|get back together|"
                   r"the way you left|told me (?:all )?about you|still loves you|closure|deserves? (?:a|another) chance|"
                   r"broke (?:his|her|my) heart|talk to (?:him|her)|what happened between|(?:ever )?think about (?:him|her)|"
                   r"(?:ever )?miss (?:him|her)|(?:your|ur) (?:last|old|previous) (?:fella|bloke|guy|man|boyfriend|girlfriend|"
                   r"partner|husband|wife))\b"
                   # or to the blocked person, by the role they have in the user's life
                   r"|\b(?:your|ur) (?:(?:sweet|dear|poor) )?(?:ex|ex-?husband|ex-?wife|ex-?partner|ex-?boyfriend|ex-?girlfriend"
                   r"|mum|mom|mam|mother|mama|momma|mommy|mummy"
                   r"|dad|father|husband|wife)\b|\b(?:the kids'?|the children'?s|her|his) (?:father|mother|dad|mum|mom)\b")


def _intro(body: str):
    found = _INTRO.search(body) or _OPENER.match(body)
    if found is None and ("this is" in body or "name" in body or "ve " in body):
        found = _INTRO_ROLE.search(body)
    return found


def introduction(msg: Message) -> str | None:
    """A stranger's self-introduction ("this is Chris from the gym"), as written, or None."""
    return pretext_with_intro(msg)[1]


def pretext_reason(msg: Message, earlier_intro: str | None = None) -> Reason | None:
    """A stranger introduces themselves and then turns to the relationship, in this message
    or (`earlier_intro`, from the same sender's earlier message) across two."""
    return pretext_with_intro(msg, earlier_intro)[0]


def pretext_with_intro(msg: Message, earlier_intro: str | None = None) -> tuple[Reason | None, str | None]:
    """The pretext evidence (or None) and this message's introduction as written (or None)."""
    body = lower(msg.body)
    intro = _intro(body)
    said = quote(msg.body, body, intro).strip() if intro else None
    if not (intro or earlier_intro):
        return None, None
    turn = _TURN.search(body, intro.end() if intro else 0)
    if not turn:
        return None, said
    if intro:
        return Reason("pretext", 0.6, f"a stranger introduces themselves ('{said}') "
                                      f"and then turns to the relationship ('{quote(msg.body, body, turn)}')"), said
    return Reason("pretext", 0.6, f"a stranger who introduced themselves in an earlier message ('{earlier_intro}') "
                                  f"now turns to the relationship ('{quote(msg.body, body, turn)}')"), said
