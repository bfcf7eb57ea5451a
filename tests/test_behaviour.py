"""Behaviour of the content model: typical forms fire, "not this" cases do not,
harmless rewordings (names, punctuation, casing, a typo) do not flip labels.

Phrases are the taxonomy's own typical forms and "not this" column, written
into whole messages; rates rather than every single case, since a statistical
model is judged on how often it is right.
"""

import pytest

from screener.message import Message
from screener.signals.content import content_signals

TYPICAL = {
    "hoovering": ["can we just talk? please", "please answer me", "are you ignoring me?", "hello??",
                  "I still have your books, when can I drop them round so we can talk",
                  "happy birthday. I know you said no contact but I had to. call me?"],
    "love_bombing": ["you're the only one who ever understood me", "no one will ever love you like I do",
                     "remember Lisbon? best days of my life. you are my soulmate",
                     "I sent flowers to your work because you deserve the world"],
    "guilt_tripping": ["after everything I did for you, this is how you treat me", "you owe me",
                       "I can't eat or sleep because of you", "you abandoned me when I needed you",
                       "I hope you're happy now"],
    "gaslighting": ["that never happened and you know it", "you're remembering it wrong as usual",
                    "you're overreacting, you were always too sensitive", "everyone saw you were the problem"],
    "future_faking": ["I've changed, I swear", "I'm in therapy now, it'll be different this time",
                      "I'll never do that again. let's start over"],
    "insult": ["you're pathetic", "you are worthless and always were", "no one will ever want you",
               "YOU STUPID USELESS IDIOT"],
    "threat": ["you'll regret this", "I know where you live now", "I'll send those photos to your boss",
               "if you don't answer I'll hurt myself", "nice car at the gym today"],
    "legal_threat": ["my lawyer will destroy you in court", "I'll take you to court and take everything",
                     "I'll tell the police you stole from me"],
    "smear": ["I told everyone what you did", "your boss will hear about this",
              "your own family agrees with me", "everyone knows you're unstable"],
    "relay": ["Alex asked me to tell you he's sorry", "he's heartbroken, you should call him",
              "she just wants closure, would you talk to her?"],
    "children_leverage": ["the kids keep asking why you hate me", "it's best for the children that we talk",
                          "you're keeping my daughter from me", "the dog won't eat since you left"],
}

NOT_THIS = {
    "hoovering": ["Can we talk about the quarterly report before Friday's meeting?"],
    "love_bombing": ["Thank you so much for the lovely dinner last night, it was great to catch up.",
                     "Great job on the presentation today, you nailed it!"],
    "guilt_tripping": ["I'm really sorry for what I said yesterday. It wasn't fair and I'll do better.",
                       "Reminder: your share of the electricity bill under our agreement is £45, due on the 1st."],
    "gaslighting": ["Quick correction: the booking was for the 14th, not the 15th, and the total was £120."],
    "insult": ["I disagree with your proposal; I think the timeline is unrealistic and the budget too small."],
    "threat": ["Please note the deadline for filing your response is 14 days from the date of this letter."],
    "legal_threat": ["The Family Court has listed the hearing for 3 March at 10am. Please bring your documents."],
    "relay": ["Saw Jordan at the market today, he looked well. Anyway, how's the new flat?"],
    "children_leverage": ["Pick-up moved to 5:30 Friday because of traffic. Josh has his inhaler in his bag."],
}

REWORDINGS = [
    ("after everything I did for you, you owe me", "after everything i did for u, u owe me"),
    ("Sarah asked me to tell you she's sorry, please call her", "Priya asked me to tell you she's sorry. Please call her."),
    ("you're pathetic and worthless", "YOU'RE PATHETIC AND WORTHLESS"),
    ("I've changed, I'm in therapy now, it'll be different this time", "I've changed, I'm in therapy now, itll be diffrent this time"),
    ("the kids keep asking why you hate me", "the kids keep asking why you hate me!!"),
    ("Can we talk about the report before Friday?", "can we talk about the report before friday"),
    ("Thanks for the lovely dinner, see you soon", "Thanks for the lovely dinner, see u soon :)"),
    ("I know where you live now", "i know where u live now"),
]


def tags_of(model, texts):
    msgs = [Message(id=str(i), body=t, channel="sms") for i, t in enumerate(texts)]
    return [set(c.tags) for c in content_signals(model, msgs)]


# A known regression, kept visible (strict: the test fails again once the model passes it). The
# model retrained on the eighth data round scores short guilt trips lower: "you owe me" 0.73 against
# the short-text threshold 0.83 (0.83 against 0.80 before), and "you abandoned me when I needed you"
# was already at 0.25. More short guilt trips in the data are the fix, not a lower bar here.
KNOWN_WEAK = {"guilt_tripping"}


@pytest.mark.parametrize("label", [pytest.param(label, marks=pytest.mark.xfail(strict=True, reason="known regression"))
                                   if label in KNOWN_WEAK else label for label in sorted(TYPICAL)])
def test_typical_forms_fire(model, label):
    fired = [label in tags for tags in tags_of(model, TYPICAL[label])]
    assert sum(fired) / len(fired) >= 0.6, [t for t, f in zip(TYPICAL[label], fired) if not f]


def test_not_this_cases_do_not_fire(model):
    cases = [(label, text) for label, texts in NOT_THIS.items() for text in texts]
    tagged = tags_of(model, [text for _, text in cases])
    wrong = [(label, text, tags) for (label, text), tags in zip(cases, tagged) if tags]
    assert len(wrong) <= 2, wrong


def test_harmless_rewordings_do_not_flip_labels(model):
    a = tags_of(model, [x for x, _ in REWORDINGS])
    b = tags_of(model, [y for _, y in REWORDINGS])
    flips = sum(len(x ^ y) for x, y in zip(a, b))
    total = sum(len(x | y) for x, y in zip(a, b)) or 1
    assert flips / total <= 0.25, list(zip(REWORDINGS, a, b))


SMEAR = ("Everyone at the school needs to know what she did. She is a liar and a cheat and she lied to the court "
         "about me. Share this with everyone you know.")


@pytest.mark.parametrize("footer", ["\n\nUnsubscribe | Manage your email preferences",
                                    "\n\nYou are receiving this email because you signed up at our shop.",
                                    "\n\nView this email in your browser"])
def test_a_mailing_to_many_asserts_no_tactic(model, footer):
    """A newsletter's or a campaign's words are aimed at everyone on a list, not at the user: its tactic
    scores stay, its tags go, and a reason says why."""
    def content(body):
        return content_signals(model, [Message(id="1", sender="news@list.example.org", channel="email", body=body)])[0]

    assert content(SMEAR).tags                                 # the same words from a person are tagged
    bulk = content(SMEAR + footer)
    assert bulk.tags == [] and bulk.tactic_scores["smear"] > 0.5
    assert [r.signal for r in bulk.reasons] == ["bulk_mail"] and "no tactic tag" in bulk.reasons[0].detail


@pytest.mark.parametrize("body, said", [
    ("how do I unsubscribe you from my life", ""), ("You can't unsubscribe from your mother.", ""),
    ("clear your browser history lol", ""), ("my preferences haven't changed, I still want the kids Saturdays", ""),
    ("Big sale this weekend! Reply STOP to unsubscribe.", "unsubscribe"),
    ("Issue 14 | Unsubscribe here | Privacy", "Unsubscribe"),
    ("Not for you? Unsubscribe from these emails", "Unsubscribe"),
    ("Thanks for reading.\nYou\u2019re receiving this email because you joined the list.",
     "You're receiving this email"),
    ("You are receiving this because you asked for updates.", "You are receiving this because"),
])
def test_only_a_mailings_own_words_make_it_one(body, said):
    from screener.signals.content import bulk_footer

    assert bulk_footer(body) == said
