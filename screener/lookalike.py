"""String look-alikes: edit distance and homoglyph skeletons for addresses and names."""

from __future__ import annotations

import unicodedata

# Characters people (and scammers) use in place of others. Applied after NFKC.
_CONFUSABLES = str.maketrans({
    "0": "o", "1": "l", "i": "l", "|": "l", "!": "l", "5": "s", "3": "e", "4": "a", "$": "s",
    "\u0430": "a", "\u0435": "e", "\u043e": "o", "\u0440": "p", "\u0441": "c", "\u0445": "x",
    "\u0443": "y", "\u0456": "l", "\u0458": "j", "\u04bb": "h", "\u0501": "d", "\u03bf": "o",
    "\u03b1": "a", "\u03c1": "p", "\u03bd": "v",
})
_SEPARATORS = str.maketrans("", "", "._-+ ")
_DIGITS = str.maketrans("", "", "0123456789")


def skeleton(text: str) -> str:
    """A form in which homoglyph substitutions and separators no longer show."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.translate(_SEPARATORS)
    text = text.replace("rn", "m").replace("vv", "w").replace("cl", "d")
    return text.translate(_CONFUSABLES)


def core(text: str) -> str:
    """Skeleton without digits: 'alex.morgan84' and 'alexmorgan' share a core."""
    return skeleton(text.translate(_DIGITS))


def edit_distance(a: str, b: str, limit: int = 3) -> int:
    """Damerau-Levenshtein (optimal string alignment) distance, capped at limit + 1."""
    if a == b:
        return 0
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def differing_chars(a: str, b: str) -> str:
    """A short human description of what differs, e.g. "'0' instead of 'o'"."""
    if len(a) == len(b):
        diffs = [(x, y) for x, y in zip(a, b) if x != y]
        if 0 < len(diffs) <= 2:
            return ", ".join(f"'{x}' instead of '{y}'" for x, y in diffs)
    return ""
