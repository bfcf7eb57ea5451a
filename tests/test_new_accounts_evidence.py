"""Issue 4, second pass: evidence that carries across a sender's messages, parents' sign-offs,
private names versus ordinary words, and the guard rails around them."""

import json
import os

import numpy as np
import pytest

from screener.config import load_config
from screener.corpus import DEFAULT_DATA_DIR
from screener.message import Message
from screener.policy import WEIGHTS, Evidence, decide
from screener.screening import Screener
from screener.signals import Reason, account_kind, carry, identity, style

PARENT = ('[user]\nname = "Tom Lawson"\nregion = "GB"\n[[blocked]]\nname = "Geoffrey Lawson"\n'
          'nicknames = ["Geoff", "Dad"]\nphones = ["07700 900123"]\n')


@pytest.fixture(scope="module")
def parent_index(tmp_path_factory):
    path = tmp_path_factory.mktemp("parent") / "c.toml"
    path.write_text(PARENT)
    return identity.IdentityIndex.from_config(load_config(path))


def signs(index, body, sender="+447700900555"):
    found = identity.self_identification(Message(id="1", body=body, sender=sender), index)
    return found[0] if found else None


def test_a_parent_signing_after_the_last_sentence_of_a_text(parent_index):
    r = signs(parent_index, "I have buried him at the allotment, by the rhubarb. It rained, naturally. Dad.")
    assert r is not None and r.person == "Geoffrey Lawson" and r.score >= 0.85
    assert r.detail == "signs the message as 'dad', a name Geoffrey Lawson uses"
    assert signs(parent_index, "Back from the dentist - all fine. Love, Dad x") is not None


@pytest.mark.parametrize("body", [
    "Thanks Dad",                                   # the user's own child thanking the user
    "thanks dad x",
    "I'm taking the kids to see my dad.",           # a friend's own dad
    "Love you Dad",
])
def test_role_words_that_address_or_mention_someone_are_not_a_signature(parent_index, body):
    assert signs(parent_index, body) is None


def test_a_friend_mentioning_their_own_dad_does_not_name_the_blocked_parent(parent_index):
    msg = Message(id="1", body="My dad says hi, and he says you should really come to the reunion", sender="x@y.org")
    assert identity.mentions(msg, parent_index) == []
    geoff = Message(id="2", body="Geoff asked me to pass on that he misses you", sender="x@y.org")
    assert identity.mentions(geoff, parent_index)[0].detail == "mentions Geoffrey Lawson by name ('geoff')"


def test_a_nickname_in_someone_elses_address_is_weak(config):
    index = identity.IdentityIndex.from_config(config)   # Alex Morgan, nicknames Al, Lexi
    msg = Message(id="1", body="hello", sender="lexi.brown.design@gmail.com", sender_name="Lexi Brown")
    key = identity.sender_key(msg, index.region)
    r = {x.signal: x for x in identity.lookalike_reasons(msg, index, key)}["name_in_address"]
    assert r.score < 0.2 and "gives another surname" in r.detail
    bare = Message(id="2", body="hello", sender="lexi.designs@gmail.com")
    found = identity.lookalike_reasons(bare, index, identity.sender_key(bare, index.region))
    assert {x.signal: x for x in found}["name_in_address"].score == 0.4


# Shared history: private names, not ordinary words ----------------------------------------

NAMES_HISTORY = [
    "Put the bins out before you go, the lid is broken.",
    "Put-in-Bay in July, same cottage as last year. Rufus is coming.",
    "Rufus ate the sofa cushion again.",
    "Put the forms in the post, please, before Friday.",
    "I booked Put-in-Bay for the 4th of July week.",
    "The vet says Rufus needs to lose weight.",
    "Please confirm the schedule by Friday.",
    "I would point out that I was on time.",
]


@pytest.fixture(scope="module")
def background():
    return style.Background.bundled(DEFAULT_DATA_DIR)


def test_sentence_initial_words_are_not_private_names(background):
    profile = style.StyleProfile.build("Greg Whit", NAMES_HISTORY, background)
    assert "rufus" in profile.names
    assert "put" not in profile.names       # 'Put' starts sentences: other people write 'put' all the time


def test_a_private_name_counts_when_written_as_a_name(background):
    profile = style.StyleProfile.build("Greg Whit", NAMES_HISTORY, background)
    vec = style._vectors(["x"])[0]
    named = style.style_reasons(profile, "How is Rufus doing? I miss him.", vec)
    assert any(r.signal == "shared_history" and "'Rufus'" in r.detail for r in named)
    lower_writer = style.style_reasons(profile, "how is rufus doing? miss him", vec)
    assert any(r.signal == "shared_history" for r in lower_writer)   # never capitalises anything
    capitalising = style.style_reasons(profile, "The forms for rufus are sent. We put them in the post.", vec)
    assert not any(r.signal == "shared_history" for r in capitalising)   # capitalises, but not this word


LOWER_CASE_HISTORY = [
    "did u feed moose", "moose puked on ur side of the bed lol", "timmies run?? double double",
    "timmies at 7 bud", "jonesy says hi", "ya jonesy is an idiot i know", "ok", "whatever",
    "running late, truck wont start", "the truck is fine now", "night bud", "u up",
]


def test_a_lower_case_writers_private_names_are_their_recurring_rare_words(background):
    """Someone who never capitalises never writes 'Moose': the cat's name is a word they
    keep using that hardly anyone else does; everyday words ('truck', 'night') are not names."""
    profile = style.StyleProfile.build("Kyle Dubchak", LOWER_CASE_HISTORY, background)
    assert {"moose", "timmies", "jonesy"} <= set(profile.names)
    assert not {"truck", "night", "whatever", "late"} & set(profile.names)
    vec = style._vectors(["x"])[0]
    found = [r for r in style.style_reasons(profile, "is moose still ok. just tell me that", vec)
             if r.signal == "shared_history"]
    assert found and "'moose'" in found[0].detail
    capitalising = style.StyleProfile.build("Greg Whit", NAMES_HISTORY, background)
    assert "please" not in capitalising.names and "schedule" not in capitalising.names


def test_a_name_from_the_history_that_is_the_writers_own_is_not_shared_history(background):
    """Colleen, whom the blocked person wrote about, now writes herself: she is a real third person."""
    profile = style.StyleProfile.build("Greg Whit", NAMES_HISTORY + ["Ask Colleen if she wants the pram.", "Rufus bit Colleen again."], background)
    vec = style._vectors(["x"])[0]
    text = "How is Rufus? Colleen x"
    assert any("'Colleen'" in r.detail for r in style.style_reasons(profile, text, vec) if r.signal == "shared_history")
    own = [r for r in style.style_reasons(profile, text, vec, writer_name="Colleen Mahoney") if r.signal == "shared_history"]
    assert own and "'Colleen'" not in own[0].detail and "'Rufus'" in own[0].detail


def test_a_name_sign_off_is_not_counted_again_as_style(background):
    history = [f"{line}\n\nGreg" for line in NAMES_HISTORY]
    profile = style.StyleProfile.build("Gregory Whitfield", history, background, own_names={"greg", "gregory whitfield"})
    assert "greg" not in profile.signoffs
    kept = style.StyleProfile.build("Gregory Whitfield", [f"{line}\nRegards, G." for line in NAMES_HISTORY], background,
                                    own_names={"greg"})
    assert kept.signoffs   # a sign-off that is not one of their names stays a style marker


def test_a_sign_off_matches_with_or_without_its_full_stop_and_common_ones_are_nobodys_habit(background):
    history = [f"{line}\nC" for line in NAMES_HISTORY]
    profile = style.StyleProfile.build("Celia Varga", history, background)
    assert profile.signoffs == {"c"}
    text = "Landed. New city, new number. I won't write again. (A goal, not a promise.) C."
    vec = style._vectors([text])[0]
    assert any("signs off 'c'" in r.detail for r in style.style_reasons(profile, text, vec) if r.signal == "style_match")
    common = style.StyleProfile.build("Celia Varga", [f"{line}\nCheers." for line in NAMES_HISTORY], background)
    assert "cheers" not in common.signoffs and common.signoffs == set()   # ends many other people's messages too


# Evidence carried across a sender's messages ----------------------------------------------

def test_carried_evidence_says_where_it_came_from():
    memory = {}
    first = carry.for_sender(memory, "+447700900777")
    carry.remember(memory, "+447700900777", first, None,
                   [Reason("new_contact_announced", 0.5, "announces a new number or account ('new number')")])
    carry.remember(memory, "+447700900778", carry.for_sender(memory, "+447700900778"),
                   None, [Reason("logistics", 0.9, "practical facts")])
    assert list(memory) == ["+447700900777"]   # an ordinary sender leaves nothing behind
    again = carry.for_sender(memory, "+447700900777")
    carried = again.carried([])
    assert [r.detail for r in carried] == ["in an earlier message from this sender: announces a new number or "
                                           "account ('new number')"]
    assert again.carried([Reason("new_contact_announced", 0.5, "again")]) == []   # not stronger: not repeated
    assert carry.for_sender(memory, "").best == {}                              # no key, no memory


def test_pretext_across_two_messages():
    first = Message(id="1", body="hey!! is this marcus?? its tiffany, we matched last week")
    intro = style.introduction(first)
    assert intro
    turn = Message(id="2", body="so whats the deal with your ex?? do u still talk")
    r = style.pretext_reason(turn, intro)
    assert r and "introduced themselves in an earlier message" in r.detail and "'your ex'" in r.detail
    assert style.pretext_reason(turn) is None


def test_evidence_adds_up_across_a_senders_messages(tmp_path, model):
    (tmp_path / "c.toml").write_text(PARENT)
    config = load_config(tmp_path / "c.toml")
    near = "+447700900124"   # one digit from Geoffrey's number: weak (0.3) on every message from it
    opener = Message(id="1", sender=near, channel="sms", body="New number, save it.")
    signed = Message(id="2", sender=near, channel="sms", body="Hope the garden is coming on well. Geoffrey")
    alone = Screener(config, model).screen([signed])[0]
    assert alone.action == "deliver"                          # a first name and a near number: not enough
    screener = Screener(config, model)
    both = screener.screen([opener]) + screener.screen([signed])
    assert both[0].action == "deliver"                        # nor a bare "new number" from a near number
    assert both[1].action == "quarantine" and both[1].blocked_person == "Geoffrey Lawson"
    together = Screener(config, model).screen([opener, signed])   # in one batch, the opener is held afterwards
    assert [v.action for v in together] == ["quarantine", "quarantine"]
    assert together[0].reasons[-2].signal == "same_sender_held" and together[0].reasons[-2].person == "Geoffrey Lawson"
    assert any(r.detail.startswith("in an earlier message from this sender: announces a new number")
               for r in both[1].reasons)
    moved = Message(id="3", sender="+447700900125", channel="sms", body=signed.body)
    other = Screener(config, model).screen([opener, moved])
    assert other[1].action == "deliver"                       # another sender's opener does not count


def test_each_kind_of_evidence_counts_once_per_person():
    style_hint = Reason("style_match", 0.6, "writes like them", "P")
    ev = Evidence(reasons=(style_hint, style_hint, Reason("style_match", 0.5, "in an earlier message", "P")),
                  tags=(), tactic_scores={}, safety=False)
    assert decide(ev, ("P",), True).action == "deliver"


def test_content_alone_holds_only_cheap_accounts():
    ev = dict(reasons=(), tags=("guilt_tripping",), tactic_scores={"guilt_tripping": 0.9}, safety=False)
    assert decide(Evidence(**ev), ("P",), True).action == "quarantine"
    assert decide(Evidence(**ev, throwaway=False), ("P",), True).action == "deliver"
    assert account_kind.throwaway("+447700900123") and account_kind.throwaway("someone@gmail.com")
    assert not account_kind.throwaway("offers@holidaypark.co.uk")


# Saved contacts: a number the user's phone knows by a name -----------------------------------

@pytest.mark.parametrize("channel, name, saved", [
    ("sms", "Mum", "Mum"),
    ("sms", "Gem 💜", "Gem 💜"),
    ("sms", "(Unknown)", ""),              # SMS Backup & Restore's word for an unsaved number
    ("sms", "Unknown", ""),
    ("sms", "+44 7700 900555", ""),        # the number shown as its own name
    ("sms", "", ""),
    ("email", "Mum", ""),                  # an email's display name is typed by the sender
])
def test_saved_contact_is_the_phones_name_for_a_number(channel, name, saved):
    msg = Message(id="1", sender="+447700900555", channel=channel, sender_name=name, body="hi")
    assert account_kind.saved_contact(msg) == saved


def test_content_alone_does_not_hold_a_saved_contact():
    ev = dict(reasons=(), tags=("guilt_tripping",), tactic_scores={"guilt_tripping": 0.9}, safety=False)
    held = decide(Evidence(**ev), ("P",), True)
    assert held.action == "quarantine"
    kept = decide(Evidence(**ev, saved_contact="Mum"), ("P",), True)
    assert kept.action == "deliver" and "saved in the phone's contacts as 'Mum'" in kept.reason.detail


def test_a_saved_contact_is_held_by_who_they_say_they_are_not_by_style_or_shared_names():
    style_and_names = (Reason("style_match", 0.6, "writes like them", "P"),
                       Reason("shared_history", 0.9, "mentions 'Alfie'", "P"))
    ev = dict(tags=(), tactic_scores={}, safety=False)
    assert decide(Evidence(reasons=style_and_names, **ev), ("P",), True).action == "quarantine"
    assert decide(Evidence(reasons=style_and_names, saved_contact="Nana Sue", **ev), ("P",), True).action == "deliver"
    signed = (Reason("self_identification", 0.9, "signs the message as 'dad'", "P"),)
    assert decide(Evidence(reasons=signed, saved_contact="Work Gary", **ev), ("P",), True).action == "quarantine"


@pytest.mark.parametrize("user, blocked, name, family", [
    ("Philippa Marchetti", ("Malcolm Featherstone",), "Vincenzo Marchetti", True),    # her father
    ("Philippa Marchetti", ("Malcolm Featherstone",), "Malcolm Featherstone", False),
    ("Philippa Marchetti", ("Malcolm Featherstone",), "Marchetti", False),             # one word: a nickname
    ("Gill Galbraith", ("Irene Galbraith",), "Agnes Galbraith", False),   # the blocked mother has her surname too
])
def test_a_writer_with_the_users_surname_is_the_users_family(user, blocked, name, family):
    msg = Message(id="1", sender="v.m@outlook.com", channel="email", sender_name=name, body="Dear Philippa")
    assert account_kind.users_family(msg, account_kind.family_surname(user, blocked)) is family


def test_style_and_shared_names_count_for_less_from_an_organisations_domain_and_not_for_family():
    """A family lawyer writes formally and names the children; the user's father writes like the
    blocked father-in-law. Neither is a blocked person's new account; signing as them still is."""
    style_and_names = (Reason("style_match", 0.6, "writes like them", "P"),
                       Reason("shared_history", 0.9, "mentions 'Alfie'", "P"))
    ev = dict(tags=(), tactic_scores={}, safety=False)
    assert decide(Evidence(reasons=style_and_names, **ev), ("P",), True).action == "quarantine"
    assert decide(Evidence(reasons=style_and_names, throwaway=False, **ev), ("P",), True).action == "deliver"
    assert decide(Evidence(reasons=style_and_names, users_family=True, **ev), ("P",), True).action == "deliver"
    signed = style_and_names + (Reason("self_identification", 0.85, "introduces themselves as 'p here'", "P"),)
    assert decide(Evidence(reasons=signed, throwaway=False, **ev), ("P",), True).action == "quarantine"


@pytest.mark.parametrize("sender, throwaway", [
    ("pauline.f@talk21.com", True), ("someone@shaw.ca", True), ("x@xtra.co.nz", True),
    ("pokafor@okaforfamilylaw.com", False), ("+447700900555", True),
])
def test_consumer_isp_mailboxes_are_personal_accounts(sender, throwaway):
    assert account_kind.throwaway(sender) is throwaway


@pytest.mark.parametrize("sender, word", [
    ("bcferries.feedback.survey@gmail.com", "feedback"), ("castellfreight.hr@gmail.com", "hr"),
    ("juniorbluebirds.survey@outlook.com", "survey"), ("pta.beechlane@gmail.com", "pta"),
    ("harwoodpm.leasing@gmail.com", "leasing"), ("frontoffice.tamiamioaks@gmail.com", "office"),
    ("seating.collingwoodmembers@gmail.com", "members"),
    # desk roles and desk work: a treasurer, a study, a register's records, a front desk, notices
    ("treasurer.northside.ringette@gmail.com", "treasurer"), ("familiesandageing.study@outlook.com", "study"),
    ("petregister.records@outlook.com", "regist"), ("animalhospital.front@gmail.com", "hospital"),
    ("city.parking.notices@gmail.com", "parking"), ("staff.experience.clp@gmail.com", "staff"),
    ("team.manager.lynxu13@gmail.com", ""), ("amy.hart1990@gmail.com", ""), ("hrothgar.b@gmail.com", ""),        # a person's address; 'hr' only as a word
    ("survey@melbournefitnessreview.com.au", ""),                        # an organisation's own domain
    ("+447700900555", ""),
])
def test_free_mail_named_as_an_organisations_desk_is_weak_evidence(sender, word):
    local, _, domain = sender.partition("@")
    key = f"{local.replace('.', '')}@{domain}" if domain == "gmail.com" else sender   # the key drops Gmail's dots
    found = account_kind.posing_account(key, sender)
    assert (found.detail if found else "") == (
        f"{sender} is named as an organisation's desk ('{word}') but is a free-mail account anyone can open "
        "(weak alone)" if word else "")
    assert found is None or found.score * 1.0 < 0.9 / 2   # never enough alone, nor with one weak clue


def test_a_survey_from_free_mail_that_asks_where_the_user_lives_is_held(tmp_path, model):
    (tmp_path / "c.toml").write_text('[user]\nname = "Nico Lockyer"\nregion = "GB"\n[[blocked]]\n'
                                     'name = "Tamsin Carew"\nphones = ["07700 900100"]\n')
    body = ("Hello, we are surveying residents for the new cycle lanes. Please confirm your current home address "
            "and the time you usually leave for work.")
    desk, person = Screener(load_config(tmp_path / "c.toml"), model).screen([
        Message(id="1", sender="eastbristol.cycle.survey@gmail.com", channel="email", body=body),
        Message(id="2", sender="maria.lopez77@gmail.com", channel="email", body=body)])
    assert (desk.action, desk.blocked_person) == ("quarantine", "Tamsin Carew")
    assert {r.signal for r in desk.reasons} >= {"posing_account", "locating"}
    assert person.action == "deliver"   # the same questions from a person's own address: one clue


CO_PARENT = ('[user]\nname = "Ciaran Breen"\nregion = "IE"\n[[blocked]]\nname = "Orla Cusack"\n'
             'nicknames = ["Mam", "Orla"]\nphones = ["087 123 4567"]\n')


def test_a_number_saved_as_mam_that_signs_mam_is_the_users_own_mother(tmp_path):
    """The children call the blocked co-parent 'Mam'; so does the user, of his own mother."""
    (tmp_path / "c.toml").write_text(CO_PARENT)
    index = identity.IdentityIndex.from_config(load_config(tmp_path / "c.toml"))
    body = "Happy New Year love. Dinner Sunday at 2. Bring back my Pyrex dish. Love Mam"

    def evidence(name):
        msg = Message(id="1", sender="+353871110000", channel="sms", sender_name=name, body=body)
        key = identity.sender_key(msg, index.region)
        return {r.signal for r in identity.lookalike_reasons(msg, index, key) + identity.self_identification(msg, index)}

    assert evidence("Mam") == set()                                   # saved as Mam: the user's mam
    assert evidence("") == {"self_identification"}                    # unsaved number signing 'Mam'
    assert evidence("Orla") >= {"display_name", "self_identification"}   # saved under the blocked person's name
    assert evidence("Glenda") == set()              # saved under another name: 'Mam' is Glenda's, a mother-in-law


def test_a_saved_contacts_borrowed_phone_still_signs_as_the_blocked_parent(tmp_path):
    (tmp_path / "c.toml").write_text(CO_PARENT)
    index = identity.IdentityIndex.from_config(load_config(tmp_path / "c.toml"))
    msg = Message(id="1", sender="+353871110000", channel="sms", sender_name="Glenda",
                  body="on glendas phone, mine is dead. the kids are fine. Love Mam")
    assert [r.signal for r in identity.self_identification(msg, index)] == ["self_identification"]


@pytest.mark.parametrize("body", [
    "How are you going after the call with your mum? Here if you want to vent xx",
    "ur mam here again asking about you, she never stops",
])
def test_somebodys_mum_here_is_not_an_introduction(tmp_path, body):
    (tmp_path / "c.toml").write_text(CO_PARENT)
    index = identity.IdentityIndex.from_config(load_config(tmp_path / "c.toml"))
    msg = Message(id="1", sender="+353871110000", channel="sms", body=body)
    assert identity.self_identification(msg, index) == []


def test_a_single_letter_nickname_is_not_a_mention(tmp_path):
    """Signs 'S': "she's" folds to "she s", and is no mention of her."""
    (tmp_path / "c.toml").write_text('[user]\nname = "Callum Reid"\nregion = "GB"\n[[blocked]]\nname = "Shauna McIlwaine"\n'
                                     'nicknames = ["Shaunie", "S"]\nphones = ["07700 900100"]\n')
    index = identity.IdentityIndex.from_config(load_config(tmp_path / "c.toml"))
    msg = Message(id="1", sender="+447700900555", channel="sms", body="she's got the keys, granny's at the door")
    assert identity.mentions(msg, index) == []


@pytest.mark.parametrize("body, weak", [
    ("Hi this is Ray with Front Range Fence & Deck, following up on the estimate for the fence.", True),
    ("Hi it's Ray from the dental practice, your check-up is due.", True),
    ("Hi it's Ray from my new phone, save this one", False),
    ("its ray. from work. pick up", False),
    ("Hi it's Ray. I know you don't want to hear from me.", False),
])
def test_a_name_introduced_with_a_business_is_as_weak_as_a_common_first_name(tmp_path, body, weak):
    (tmp_path / "c.toml").write_text('[user]\nname = "Carrie Tolliver"\nregion = "US"\n[[blocked]]\n'
                                     'name = "Raymond Tolliver"\nnicknames = ["Ray", "Dad"]\nphones = ["303 555 0100"]\n')
    index = identity.IdentityIndex.from_config(load_config(tmp_path / "c.toml"))
    found = identity.self_identification(Message(id="1", sender="+13035550177", channel="sms", body=body), index)
    assert found and found[0].signal == "self_identification"
    assert (found[0].score <= 0.4) == weak
    assert ("gives an affiliation" in found[0].detail) == weak


def test_texts_from_saved_family_are_delivered_and_a_new_number_is_not(tmp_path, model):
    """End to end: a mother's guilt-edged text from her saved number is delivered, the same text
    from an unsaved number still held."""
    (tmp_path / "c.toml").write_text(PARENT)
    screener = Screener(load_config(tmp_path / "c.toml"), model)
    body = "You haven't called your mother in two weeks. I know you're busy. I'm just saying. Sunday dinner?"
    mum, stranger = screener.screen([Message(id="1", sender="+447700900400", channel="sms", sender_name="Mum", body=body),
                                     Message(id="2", sender="+447700900401", channel="sms", body=body)])
    if not stranger.tags:
        pytest.skip("the model does not tag this text; the policy tests above cover the rule")
    assert mum.action == "deliver" and stranger.action == "quarantine"


def test_trusted_contact_is_never_held_by_carried_evidence(tmp_path, model):
    (tmp_path / "c.toml").write_text(PARENT + '[[trusted]]\nname = "Helen"\nphones = ["07700 900330"]\n')
    screener = Screener(load_config(tmp_path / "c.toml"), model)
    out = screener.screen([Message(id=str(i), sender="07700 900330", channel="sms", body=b) for i, b in
                           enumerate(["New number, save it. Geoff", "See you Saturday. Love, Dad"])])
    assert [v.action for v in out] == ["deliver", "deliver"]
    assert all(v.sender_status == "trusted" for v in out)


def test_a_habitual_greeting_is_a_style_cue(background):
    history = [f"Melissa,\n\n{line}" for line in NAMES_HISTORY]
    profile = style.StyleProfile.build("Gregory Whitfield", history, background)
    assert profile.openings == {"melissa": len(NAMES_HISTORY)}
    text = "Spring break\nMelissa,\n\nThe tickets are booked for the week of the 23rd. Let me know."
    vec = style._vectors([text])[0]
    found = {r.signal: r for r in style.style_reasons(profile, text, vec, opening_of=text.split("\n", 1)[1])}
    assert "opens with 'melissa' as Gregory Whitfield did in 8 of 8 past messages" in found["style_match"].detail
    # the subject line is not the greeting, and a greeting everyone uses is no habit
    assert "opens with" not in str(style.style_reasons(profile, text, vec))
    hello = style.StyleProfile.build("Gregory Whitfield", [f"Hi,\n{line}" for line in NAMES_HISTORY], background)
    assert hello.openings == {}


def test_a_name_with_an_apostrophe_s_is_topic_not_a_style_marker(background):
    """'Nora's' in most of a co-parent's messages is the child, shared history's business,
    not a habit of writing: counted as style too, it would count twice."""
    history = ["Nora's backpack is in the car.", "Nora's carb list is in the front pocket.",
               "Pick up at 3. Nora's tired.", "Nora's recital is Friday at six.", "Reminder: Nora's inhaler.",
               "Nora's teacher emailed me.", "Nora's fine. Thx."]
    profile = style.StyleProfile.build("Jocelyn Marrero", history, background)
    assert "nora" in profile.names and "nora's" not in profile.markers


def test_a_name_other_people_write_now_and_then_counts_half_a_rare_one():
    """'Rowan', in three of the yardstick's texts, is less telling than 'Zebedee', in none; 'Sam',
    in many, tells nothing. Rare or not, a name the history uses only once is not one of theirs."""
    others = [f"Rowan said hi at the match {i}" for i in range(3)] + [f"Sam is coming round at {i}" for i in range(12)] \
        + [f"Lovely weather for the time of year, number {i}" for i in range(60)]
    history = ["Rowan has a cough again.", "Zebedee chewed the lead.", "Tell Rowan I said well done.",
               "Zebedee needs his jabs.", "Rowan's party is on the 4th.", "Sam can come too.", "Sam is fine.",
               "Sam said thanks.", "The car is making that noise.", "Send me the forms.", "Ok.", "Fine, whatever."]
    profile = style.StyleProfile.build("Pat Doe", history, style.Background(others))
    assert "zebedee" in profile.names and "rowan" in profile.uncommon
    assert "sam" not in profile.names and "sam" not in profile.uncommon
    vec = style._vectors(["x"])[0]

    def shared(text):
        found = [r for r in style.style_reasons(profile, text, vec) if r.signal == "shared_history"]
        return found[0] if found else None

    half, whole, both = shared("how is Rowan doing?"), shared("how is Zebedee doing?"), shared("are Rowan and Zebedee ok?")
    assert half.score == pytest.approx(whole.score / 2)
    assert "'Rowan' (seen now and then elsewhere: counts half)" in half.detail
    assert both.score == pytest.approx(1.5 * whole.score)
    assert shared("is Sam coming?") is None


BULLET_HISTORY = [
    "Just a quick one:\n\u2022 swimming bag is in the boot\n\u2022 reading folder signed\n\u2022 inhaler in the front pocket :)",
    "Just a quick one about Saturday:\n\u2022 netball 9am at the courts\n\u2022 pick up from mine at 8.15\nThanks so much :)",
    "Noted. Going forward please reply within 24 hours :)",
    "Three things:\n\u2022 dentist Tuesday 3.40\n\u2022 trip money $12 by Friday\n\u2022 library books back",
    "Appreciate you letting me know... eventually :)",
    "Just a quick one:\n\u2022 she's had her preventer\n\u2022 spacer is in the bag\n\u2022 no dairy after 7 please",
    "As discussed:\n1. pick up at 5\n2. drop off at 10\n3. no changes without notice :)",
    "Thanks so much for finally getting back to me :)",
    "Just a quick one:\n\u2022 school photos are Thursday\n\u2022 hair done please\n\u2022 the green cardigan",
    "Per my last:\n\u2022 the holiday dates are the 14th to the 21st\n\u2022 flights are booked\nNoted your objection :)",
]


def test_character_style_weighs_what_sets_the_person_apart(background):
    """The style model is fitted against other people's messages: a new message written with the
    person's habits (bullets, 'Just a quick one:', the weaponised ':)') scores above nearly all
    other people's messages, and the same news written plainly does not."""
    profile = style.StyleProfile.build("Rochelle Ashby", BULLET_HISTORY, background)
    assert profile.genuine_mean > profile.background_mean   # calibrated on messages it was not fitted on
    habits = "Just a quick one:\n\u2022 camp form is due Monday\n\u2022 sleeping bag is at mine\n\u2022 $40 for the bus :)"
    one_habit = "camp form due monday :) sleeping bag at mine :) bus $40 :)"   # their smiley, nothing else of theirs
    plain = "Hey, the camp form is due Monday, the sleeping bag is at my place and the bus is $40."
    scores = style.similarities(profile, style._vectors([habits, one_habit, plain]))
    beaten = np.searchsorted(profile.background_sims, scores) / len(profile.background_sims)
    assert min(beaten[:2]) >= 0.99 and beaten[2] < 0.9
    found = style.style_reasons(profile, habits, style._vectors([habits])[0])
    assert any("character style closer to Rochelle Ashby's past messages than" in r.detail for r in found)


def test_a_name_the_writer_gives_as_their_own_workplace_is_not_shared_history(background):
    history = ["Tell Catclaw they can stuff their rota, darlin.", "Picked you up from Catclaw, you were late out again.",
               "Catclaw called the house looking for you.", "Lunch at the diner, then the feed store.",
               "Goat got out again.", "Love you darlin, drive safe."]
    profile = style.StyleProfile.build("Curtis Bodine", history, background)
    assert "catclaw" in profile.names

    def shared(text):
        return [r for r in style.style_reasons(profile, text, style._vectors([text])[0]) if r.signal == "shared_history"]

    assert shared("Hi ma'am this is Tammy at Catclaw front desk, Dr Ames wants to know if you can come in early") == []
    assert shared("Hi it's Jo from the Catclaw Animal Hospital, your shift is swapped to Tuesday") == []
    assert "'Catclaw'" in shared("I still drive past Catclaw every morning and think of you")[0].detail


def test_a_private_name_from_a_new_account_that_does_not_say_who_it_is_says_who(background):
    """'It's me. New number. How's Custard's bad ear?': a friend on a new number gives their name;
    an unnamed writer who names the pet expects to be recognised. The user's own name, or a
    short form of it ('Pri' for Priyanka), is not such a clue: friends write it too."""
    history = NAMES_HISTORY + ["Pri, Rufus needs his jab on Friday.", "Morning Pri. Rufus says hi."]
    profile = style.StyleProfile.build("Greg Whit", history, background)

    def shared(text, unnamed):
        return [r for r in style.style_reasons(profile, text, style._vectors([text])[0], unnamed=unnamed,
                                               user_names=frozenset({"priyanka", "nair"}))
                if r.signal == "shared_history"]

    plain = shared("New number. How is Rufus's bad ear?", unnamed=False)[0]
    told = shared("New number. How is Rufus's bad ear?", unnamed=True)[0]
    assert plain.score < 0.5 and told.score == style.RECOGNISED
    assert told.detail.endswith("from a new account that does not say who is writing")
    assert shared("Hey Pri new number, circling back", unnamed=True)[0].score < style.RECOGNISED
    assert style._users_name("danny", frozenset({"daniel"})) and style._users_name("tope", frozenset({"temitope"}))
    assert not style._users_name("rufus", frozenset({"priyanka", "nair"}))


@pytest.mark.parametrize("body, signal", [
    ("It's me. New number, new contract. How's Custard's bad ear?", "new_contact_announced"),
    ("Kem cho Nikhil bhai! Bhavesh here, your cousin from Wembley, new number.", "announced_as_other"),
    ("Morning Kirsty, Gaz from Rovers. Just to let you know I've NOT changed my number, someone's "
     "been messaging parents pretending to be me.", None),                        # the words, denied
    ("I haven't got a new phone, the old one just died for a day", None),
])
def test_what_an_announcement_says_about_its_writer(parent_index, body, signal):
    found = identity.self_identification(Message(id="1", body=body, sender="+447700900555"), parent_index)
    assert [r.signal for r in found] == ([signal] if signal else [])
    if signal == "announced_as_other":
        assert "('Bhavesh here'" in found[0].detail


def test_an_address_of_initial_and_surname_outweighs_a_display_name_with_the_surname(tmp_path):
    (tmp_path / "c.toml").write_text('[user]\nname = "Priyanka Nair"\nregion = "CA"\n[[blocked]]\n'
                                     'name = "Bryce Vandermeer"\nnicknames = ["B", "Tams"]\nphones = ["604 555 0100"]\n')
    index = identity.IdentityIndex.from_config(load_config(tmp_path / "c.toml"))

    def by_name(sender, name):
        msg = Message(id="1", body="hello", sender=sender, sender_name=name)
        return {r.signal: r for r in identity.lookalike_reasons(msg, index, identity.sender_key(msg, index.region))}

    found = by_name("bvandermeer.consulting@outlook.com", "Vandermeer Consulting")
    assert found.keys() == {"name_in_address"} and found["name_in_address"].score == 0.7
    # a newsletter's title is not a person's name giving another surname
    assert by_name("nurse.tams.writes@gmail.com", "Notes from Resus")["name_in_address"].score == 0.4
    assert by_name("tams.writes@gmail.com", "Tamsin Okafor")["name_in_address"].score < 0.2


def test_an_unnamed_new_number_that_names_the_pet_is_held_and_a_named_one_is_not(tmp_path, model):
    history = ["Custard was sick on the landing again.", "Did you book Custard in for his ear?",
               "Custard's ear is better, vet says keep the drops going.", "Running late, traffic on the M32.",
               "Can you grab milk on the way back.", "Night x"]
    (tmp_path / "h.jsonl").write_text("".join(json.dumps({"id": f"h{i}", "sender": "+447700900100", "body": b}) + "\n"
                                              for i, b in enumerate(history)))
    (tmp_path / "c.toml").write_text('[user]\nname = "Nico Lockyer"\nregion = "GB"\n[[blocked]]\nname = "Tamsin Carew"\n'
                                     'nicknames = ["Tam"]\nphones = ["07700 900100"]\nhistory = "h.jsonl"\n')
    config = load_config(tmp_path / "c.toml")
    unnamed, friend = Screener(config, model).screen([
        Message(id="1", sender="+447700900710", channel="sms", body="It's me. New number, new contract. "
                                                                   "How's Custard's bad ear?"),
        Message(id="2", sender="+447700900711", channel="sms", body="Hiya it's Jess! New number. How's Custard's "
                                                                   "bad ear?")])
    assert (unnamed.action, unnamed.blocked_person) == ("quarantine", "Tamsin Carew")
    assert any(r.signal == "shared_history" and r.score == style.RECOGNISED for r in unnamed.reasons)
    assert friend.action == "deliver"


def test_the_bundled_yardstick_is_read_once_per_process_while_its_files_are_unchanged(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    record = {"id": "x1", "channel": "sms", "body": "Bins go out on Thursday now", "tactics": [], "relation": "friend"}
    (corpus / "train_xx.jsonl").write_text(json.dumps(record) + "\n")
    first = style.Background.bundled(tmp_path)
    assert style.Background.bundled(tmp_path) is first
    (corpus / "train_yy.jsonl").write_text(json.dumps(dict(record, id="y1", body="Parcel left with no. 12")) + "\n")
    again = style.Background.bundled(tmp_path)
    assert again is not first and len(again.texts) == 2


_PROFILE_SCRIPT = """
import json, sys
from screener.corpus import DEFAULT_DATA_DIR
from screener.signals import style
history = [json.loads(line)["body"] for line in open(sys.argv[1], encoding="utf-8")]
profile = style.StyleProfile.build("Gregory Whitfield", history, style.Background.bundled(DEFAULT_DATA_DIR))
text = "Lily and Rufus and Mrs Okafor would all say the same, p.m. note together"
print(json.dumps([list(profile.markers), list(profile.names), style.mentioned_names(profile, text)]))
"""


def test_a_profile_and_its_evidence_are_the_same_in_every_run():
    """Python orders sets differently in each process: markers tied at the cut-off, and the names a
    detail lists, must not depend on it (two runs of classify on the same input write the same)."""
    import subprocess
    import sys
    history = DEFAULT_DATA_DIR / "personas" / "greg" / "history.jsonl"
    runs = {subprocess.run([sys.executable, "-c", _PROFILE_SCRIPT, str(history)], check=True, capture_output=True,
                           text=True, env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2", "3")}
    assert len(runs) == 1, runs
    markers, names, mentioned = json.loads(runs.pop())
    assert len(markers) == 20 and names


def test_a_colleagues_warning_about_the_person_reaches_the_user_and_alerts_the_friend(tmp_path, model):
    (tmp_path / "c.toml").write_text('[user]\nname = "Hannah Whitfield"\nregion = "GB"\n[[blocked]]\n'
                                     'name = "Daniel Hargreaves"\nnicknames = ["Dan"]\nphones = ["07700 900482"]\n')
    body = ("Hi Hannah,\n\nHeads up - Lorraine on reception said a man came in this morning asking for you by name. "
            "He said he was your husband and needed to see you urgently. She didn't tell him anything and he left "
            "after a few minutes.\n\nJust wanted you to know. Happy to have a word with building security.\n\nTom")
    screener = Screener(load_config(tmp_path / "c.toml"), model)
    [v] = screener.screen([Message(id="1", sender="tom.bennett.work@gmail.com", channel="email", body=body)])
    assert (v.action, v.alert) == ("deliver", True)
    assert any(r.signal == "protective_warning" and "Heads up" in r.detail for r in v.reasons)
    # the same facts told as a plea for him are a go-between's
    [plea] = Screener(load_config(tmp_path / "c.toml"), model).screen([Message(
        id="2", sender="tom.bennett.work@gmail.com", channel="email",
        body="Hi Hannah, your husband came in asking for you. He's heartbroken, he just wants to talk. Call him.")])
    assert plea.action == "quarantine" and plea.sender_status == "intermediary"


DIALECT_HISTORY = [
    "du still up. cant sleep oot here", "wind aff da voe da day, boat's no gaan oot", "mind da knab. du aye laughed at da gulls",
    "dinna be like dat", "hw's du. been thinkin on dee", "ken du's busy. just say", "da boat's in at lerwick fae monday",
    "du never answered. dat's fine", "peerie lamb born da nicht", "dinna tell dy midder",
]


def test_words_almost_nobody_else_writes_count_in_a_short_text(background):
    """A Shetlander's 'du', 'da', 'dinna', 'ken' are as telling in one line as in a page; a short text
    with only everyday words ('still', 'up') has little style to go on."""
    profile = style.StyleProfile.build("Magnus Jamieson", DIALECT_HISTORY, background)
    rare = {m for m, ratio in profile.markers.items() if ratio >= style.RARE_MARKER}
    assert {"du", "da", "dinna"} <= rare
    vec = style._vectors(["x"])[0]

    def style_score(text):
        return max((r.score for r in style.style_reasons(profile, text, vec) if r.signal == "style_match"), default=0.0)

    dialect = style_score("fiddlers at da lounge. du aye danced wrang, dinna deny it")
    plain = style_score("fiddlers at the lounge. you always danced wrong, don't deny it")
    assert dialect >= plain + 0.25
    assert dialect * WEIGHTS["style_match"] < 0.9   # still never enough alone


def _welsh_mam(tmp_path):
    """A blocked mother with a short history in a voice of her own (Welsh words, '...', '🙈')."""
    history = ["morning cariad... did you sleep? 🙈", "tidy. ill pick the boys up now in a minute", "ta-ra cariad x",
               "ach its chucking it down again... typical 🙈", "now in a minute i said!! stop mithering",
               "cwtch for the boys from mam x", "tidy job on the shed cariad", "where to is the big coat to? 🙈",
               "lush tea tonight... ta-ra x", "proper tamping i am... ring me", "cariad you left the gate open again",
               "ych a fi the state of the kitchen 🙈"]
    (tmp_path / "h.jsonl").write_text("".join(
        json.dumps({"id": f"h{i}", "sender": "+447700900111", "channel": "sms", "body": h,
                    "date": f"2024-01-{i + 1:02d}T10:00:00"}) + "\n" for i, h in enumerate(history)))
    (tmp_path / "c.toml").write_text('[user]\nname = "Rhys Morgan"\nregion = "GB"\n[[blocked]]\nname = "Bronwen Pryce"\n'
                                     'phones = ["07700 900111"]\nhistory = "h.jsonl"\n')
    return load_config(tmp_path / "c.toml")


def _style_by_message(screener, sender, texts):
    """Per message: (its own style score, the score of the sender's messages read together)."""
    out = []
    for i, text in enumerate(texts):
        v = screener.screen([Message(id=f"{sender}-{i}", body=text, sender=sender, channel="sms",
                                     date=f"2026-02-{i + 1:02d}T10:00:00")])[0]
        own = [r.score for r in v.reasons if r.signal == "style_match" and not r.detail.startswith(carry.EARLIER)
               and "across this sender's" not in r.detail]
        together = [r for r in v.reasons if r.detail.startswith("across this sender's")]
        out.append((max(own, default=0.0), together[0] if together else None))
    return out


def test_a_new_senders_short_texts_are_read_together_for_style(tmp_path, model):
    from screener.screening import SENDER_STYLE_MESSAGES

    config = _welsh_mam(tmp_path)
    screener = Screener(config, model)
    hers = _style_by_message(screener, "+447700900555", ["you up cariad 🙈", "tidy... the rain now",
                                                         "now in a minute then", "ta-ra x"])
    assert hers[0][1] is None                                 # one message: nothing to read together
    together = hers[-1][1]
    assert together.detail.startswith("across this sender's 4 messages: writes ") and together.person == "Bronwen Pryce"
    assert together.score >= 0.5 and together.score > 2 * max(own for own, _ in hers)   # each alone says little
    theirs = _style_by_message(screener, "+447700900666", ["running late, 10 mins", "ok see you at 6",
                                                           "did you get the parcel?", "cheers mate"])
    assert all(t is None or t.score <= 0.2 for _, t in theirs)   # an ordinary stranger's texts, read together
    more = _style_by_message(screener, "+447700900555", ["x"] * SENDER_STYLE_MESSAGES)
    assert all(t is None for _, t in more[2:])               # only a new account's first messages are read together
