"""The fast paths of the lexicons (anchors, lower-cased matching) find exactly
what the plain case-insensitive patterns find, on every text in the corpus."""

import json
import re

import pytest

from screener.signals import AnchorGate, plain, safety_lexicon
from tests.conftest import ROOT


def corpus_texts():
    for path in sorted((ROOT / "data" / "corpus").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                yield json.loads(line)["body"]


EXTRA = [
    "I KNOW WHERE YOU LIVE", "Nice dress at the gym today x", "im outside ur house", "İ know where you work",
    "I'll send the pics to your boss", "accidents happen", "I still have a key to your flat",
    "I NO WER U R", "ILL BE AT YOURS", "Knock, knock", "The Bottle In My Hand", "a Tile sewn in",
]


@pytest.fixture(scope="module")
def texts():
    return list(corpus_texts()) + EXTRA


def test_safety_anchors_lose_nothing(texts):
    slow = [(re.compile(p, re.IGNORECASE), why) for p, why in safety_lexicon._STRONG + safety_lexicon._P]
    for text in texts:
        t = plain(text)[0]
        expected = {why for rx, why in slow if rx.search(t)}
        found = {r.detail.split(": '")[0] for r in safety_lexicon.safety_reasons(text)}
        assert found == expected, text


def test_an_anchor_gate_finds_every_anchor_even_inside_or_overlapping_another():
    gate = AnchorGate([("skill",), ("kill", "hurt"), ("kil",), ("ill b",), ("zzz",)])
    assert gate.open("she has no skill") == 0b111
    assert gate.open("i will be there") == 0b1000
    assert gate.open("nothing here") == 0
    assert gate.open("") == 0
    assert AnchorGate([()]).open("anything") == AnchorGate([]).open("anything") == 0


def test_safety_quotes_the_senders_words():
    [r] = safety_lexicon.safety_reasons("Nice DRESS at the gym today")
    assert "'Nice DRESS at the gym today'" in r.detail


def test_grouped_kind_words_find_every_word_start_the_plain_patterns_find(texts):
    from screener.signals import any_at_word_start, lower
    from screener.signals.logistics import KIND_RES, KIND_WORDS

    grouped = any_at_word_start(KIND_WORDS.values())
    for text in texts + ["Pick-up at 5, £40 for the school trip", "drop them off at the GP", "a&e tonight"]:
        low = lower(text)
        expected = sorted({i for rx in KIND_RES.values() for i in range(len(low) + 1) if rx.match(low, i)})
        assert [m.start() for m in grouped.finditer(low)] == expected, text


def test_alternatives_split_only_at_the_top_level():
    from screener.signals import _top_level_split

    assert _top_level_split(r"a(?:b|c)|[|x]|d\|e|f") == ["a(?:b|c)", "[|x]", r"d\|e", "f"]


@pytest.mark.parametrize("text, why, supported", [
    ("if i cant have u no one can. remember that", "nobody can", False),
    ("I put a tracker on the car months ago", "track the user's location", False),
    ("she says she will jump off the bridge tonight", "self-harm", False),
    ("ur a dead woman walking", "threatens violence", False),
    ("Found an AirTag taped under the rear bumper of your Corolla when we had it on the hoist", "tracking device", False),
    ("Be easy to just step off and nobody'd miss me, you least of all", "self-harm", False),
    ("Mum slit her wrists last night bc of u", "self-harm", False),
    # quieter forms, read only with some model support
    ("white hilux still in the driveway at 7 so ya must be home", "watch the user's car or home", True),
    ("check ur porch 🌹🌹🌹 24 roses", "left something at the user's home", True),
    ("That Trevor's been in the harbour asking after you, where you're living now", "asking where the user lives", True),
    ("He turned up at your mum's at 2am and kicked the screen door in", "violence at a home", True),
    ("He turned up at your mum's at 2am", "turned up) at the user's home", True),
    ("I know people in Kirkby who'd do it for a score", "know people who would hurt", True),
    ("i no wer u r. c u soon x", "know where the user lives", True),
    ("I know your schedule at the shop better than you do", "know the user's routine", True),
    ("I'll be at yours Friday at 8 when the kids are in bed", "turn up", True),
    ("dinnae make me come roon there", "turn up", True),
    ("i have the bottle in my hand right now. one text from you", "self-harm", True),
    ("her teddy has a little tile sewn in the ear so I know she's safe", "track the user's location", True),
    ("Dress is already on your porch 🌹", "left something at the user's home", True),
    ("he said if he can't have you nobody will, but he's a good boy really", "nobody can", False),
    ("he has expressed thoughts of ending his life", "self-harm", False),
    ("He drink again and he say to me he has nothing to live for", "self-harm", False),
    ("I've sorted my affairs. The flat keys are with my brother", "self-harm", False),
    ("You might come home one day and find her gone", "veiled threat", True),
    ("enjoy ur night out. I hope you look behind you when you walk home", "veiled threat", True),
    ("your ex rang the office looking for you again this morning", "asking where the user lives", True),
    ("a man came to the school office and asked to collect her early", "take the children", True),
    ("I'll drive down on the 23rd and leave it on ur mams step", "left something at the user's home", True),
    ("Picked Amelia up at 3.15. She's with me. You can have her back when you agree to talk.",
     "keeps the children from the user", True),
    ("I'm not bringing Ruby back till you agree to talk to me", "keeps the children from the user", True),
    ("Gift message: 'I know you're home. x'", "know the user is at home", True),
    ("you'd better keep looking over your shoulder. I'm serious.", "veiled threat", True),
    ("Saturday 11. I've known your routine for 12 years", "know the user's routine", True),
    ("the kids will tell me where you're living eventually", "asking where the user lives", True),
])
def test_danger_forms_are_read(text, why, supported):
    """The plainest forms without model support (`supported` False), the quieter ones with it."""
    assert any(why in r.detail for r in safety_lexicon.safety_reasons(text, supported=supported)), text


@pytest.mark.parametrize("text", ["open the door, I'm here with the pizza", "tick tock, quiz starts at 8!",
                                  "Life360 says you're 5 min away, see you soon"])
def test_ambiguous_forms_need_model_support(text):
    assert safety_lexicon.safety_reasons(text, supported=False) == []
    assert safety_lexicon.safety_reasons(text, supported=True) != []


@pytest.mark.parametrize("text", ["I know people who would love this recipe, sending it round",
                                  "Your car is ready for collection at the garage from 3pm",
                                  "Asked Sue where she works now, she's at the library",
                                  "Yours sincerely, the parish office", "Is the parcel on your porch? Courier says so",
                                  "the wer u r", "I spent the end of my life savings on this car lol",
                                  "Mum asked to collect her prescription early", "I'll drop it at your desk",
                                  "the courier was at the door looking for number 12",
                                  "he just wants 5 mins on the phone. Would it kill you to answer?",
                                  "it wouldn't kill you to say thanks",
                                  "not giving the drill back until Monday, sorry!", "I know you're in a meeting, call after",
                                  "you can have the car back when I've filled it up",
                                  "Great, see you at 10. I'll text when I'm outside.",
                                  "I'll ring once I'm outside your building so you don't have to wait"])
def test_ordinary_words_near_the_quieter_forms(text):
    assert safety_lexicon.safety_reasons(text, supported=True) == [], text


def test_probing_anchors_lose_nothing(texts):
    """Each probing pattern runs only when one of its anchor words is there: on every corpus text
    (and some written to hit each form), the anchors never skip a text the pattern matches."""
    from screener.signals import locating

    pairs = [(locating._LOCATING, locating._ANCHORS), (locating._MOVING, locating._MOVING_ANCHORS),
             (locating._PRYING, locating._PRYING_ANCHORS), (locating._HOUSEHOLD, locating._HOUSEHOLD_ANCHORS),
             (locating._UNMASKING, locating._UNMASK_ANCHORS), (locating._DISGUISE_OWNED, locating._DISGUISE_ANCHORS)]
    forms = ["ok that was me", "it was me all along", "its me not ma", "i made her up", "i dont even know a kayleigh",
             "there is no tiffany lol", "that was a group text", "sorry for the act", "sole way you'd answer",
             "had to pretend", "not really from the gym", "wanted to see if you'd reply", "i told him what to say",
             "she typed that for me", "fine. it's me.", "that survey was me", "i set up a fake account"]
    for text in texts + forms:
        low = plain(text)[1]
        for rx, anchors in pairs:
            assert bool(any(a in low for a in anchors)) or not rx.search(low), (rx.pattern[:40], text)


@pytest.mark.parametrize("text, said", [
    ("Heads up - Lorraine on reception said a man came in asking for you by name. She didn't tell him anything.",
     "Heads up"),
    ("I told her you weren't available and didn't give her anything else. Thought you should know.",
     "told her you weren't "),
    ("a man who said he was her father asked to collect her. We did not release her.", "did not release"),
    ("Thought you should know, someone was asking about you at the gym", "Thought you should know"),
    ("Heads up, Dave was round the club last night", "Heads up"),
])
def test_a_warning_about_someone_is_read(text, said):
    from screener.signals.warning_lexicon import protective_warning

    r = protective_warning(text)
    assert r is not None and f"('{said}" in r.detail


@pytest.mark.parametrize("text", [
    "He's heartbroken, just call him", "be careful walking home tonight x", "tell him I said hi",
    "she wanted you to know she still loves you", "i want you to know that you're forgiven too",
    "Just wanted to let you know I'm thinking of you", "I have to warn you, answer or I'm coming round",
    "Can you let me know when you're free?", "I didn't tell you the whole story",
    # a heads up about nobody: from a new number, the sender is the one watching
    "Porch light's out again. Just a heads up.", "heads up ur bins are still out lol",
    "Just a heads up\nPorch light's out again",   # a line's first word is not a name
])
def test_pleas_threats_and_ordinary_words_are_not_warnings(text):
    from screener.signals.warning_lexicon import protective_warning

    assert protective_warning(text) is None


def test_a_questionnaires_lines_are_quoted_without_their_numbers_bullets_or_letters():
    from screener.signals.locating import probing_reasons

    text = "Please reply:\na) Your current address\n2.Your employer\n- Home address\n"
    (found,) = probing_reasons(text, throwaway=True, wrote_before=False)
    assert found.detail.endswith("('Your current address', 'Your employer', 'Home address')")
