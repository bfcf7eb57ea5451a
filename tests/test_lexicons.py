"""The fast paths of the lexicons (anchors, lower-cased matching) find exactly
what the plain case-insensitive patterns find, on every text in the corpus."""

import json
import re

import pytest

from screener.signals import safety_lexicon
from tests.conftest import ROOT


def corpus_texts():
    for path in sorted((ROOT / "data" / "corpus").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                yield json.loads(line)["body"]


EXTRA = [
    "I KNOW WHERE YOU LIVE", "Nice dress at the gym today x", "im outside ur house", "İ know where you work",
    "I'll send the pics to your boss", "accidents happen", "I still have a key to your flat",
]


@pytest.fixture(scope="module")
def texts():
    return list(corpus_texts()) + EXTRA


def test_safety_anchors_lose_nothing(texts):
    slow = [(re.compile(p, re.IGNORECASE), why) for p, why in safety_lexicon._P]
    for text in texts:
        t = text.translate(safety_lexicon._QUOTES)
        expected = {why for rx, why in slow if rx.search(t)}
        found = {r.detail.split(": '")[0] for r in safety_lexicon.safety_reasons(text)}
        assert found == expected, text


def test_safety_quotes_the_senders_words():
    [r] = safety_lexicon.safety_reasons("Nice DRESS at the gym today")
    assert "'Nice DRESS at the gym today'" in r.detail
