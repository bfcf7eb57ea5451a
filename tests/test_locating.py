"""Issue 4, third pass: a new account trying to find the user, and owning up to a disguise."""

import json

import pytest

from screener.config import load_config
from screener.message import Message
from screener.screening import Screener
from screener.signals import Reason
from screener.signals.locating import locating_reason, probing_reasons, unmasking_reason

CO_PARENT = ('[user]\nname = "Naomi Blake"\nregion = "GB"\n[[blocked]]\nname = "Lee Harman"\n'
             'nicknames = ["Lee"]\nphones = ["07700 900616"]\n')


@pytest.mark.parametrize("body, said", [
    ("Hi! We're updating the PTA directory, could you reply with your current street address?",
     "reply with your current street address"),
    ("Please reply confirming your current home address for our records", "confirming your current home address"),
    ("hey!! is this alyssa from orientation? what days r u working lol", "what days r u working"),
    ("so where are you living now? just curious", "where are you living now"),
    ("What time do you finish on Fridays?", "What time do you finish"),
    ("which building are you in these days", "which building are you in"),
    ("3. Do you own a car? Where do you usually park (Wellington? Notre-Dame?)", "Where do you usually park"),
    ("5. Are you still in Kings Heath?", "Are you still in Kings"),
    ("could you supply the following for the record: your current address", "supply the following for the record: your current address"),
    ("u still living in chorlton? fancy a drink", "u still living in"),
    ("Is it still the Crosby address, or should we post it elsewhere?", "Is it still the Crosby address"),
    ("2. Are you planning to move house in the next year?", "Are you planning to move house"),
    ("4. Which secondary school does your eldest attend?", "Which secondary school does your eldest"),
    ("Please confirm your name, current home address and a contact number", "confirm your name, current home address"),
    ("Do you teach out of your home? What part of town are you in now?", "What part of town are you in"),
    ("4. Which area of Belfast do you live in?", "Which area of Belfast do you live"),
    ("Do you do home visits? If so which days are you working", "which days are you working"),
    ("2. On which days are you typically on site vs. in studio?", "which days are you typically on"),
    ("lovely! whereabouts are you based?", "whereabouts are you based"),
])
def test_asking_where_the_user_lives_or_works_is_evidence(body, said):
    r = locating_reason(body)
    assert r is not None and r.signal == "locating" and r.score == 0.6
    assert f"'{said}'" in r.detail


@pytest.mark.parametrize("body, score, said", [
    ("Hello, a hamper was ordered for you. Could you reply with your full address and a day your in.", 0.8,
     "reply with your full address', 'a day your in"),
    ("To keep our records up to date, please reply with:\n1) Your current home address (are you still in "
     "Loveland?)\n2) Who will bring them", 0.8, "reply with:\n1) Your current home address', 'are you still in Loveland"),
    ("quick tenant survey, just reply:\n1. what unit # are u in\n2. what times are u usually home\n"
     "3. what's your postcode", 1.0, "what unit # are u in', 'what times are u usually', 'what's your postcode"),
])
def test_several_questions_about_where_and_when_add_up(body, score, said):
    r = locating_reason(body)
    assert r is not None and r.score == score and f"'{said}'" in r.detail and "questions" in r.detail


@pytest.mark.parametrize("body, score, said", [
    # a questionnaire's lines ask by themselves, with no verb and often no question mark
    ("Before we can schedule a showing we need to verify a few things:\n\n1. Your current address and how long "
     "you've lived there\n2. Your employer and office location\n3. Any pets?", 0.8, "Your current address', 'Your employer"),
    ("We need the details of the second caregiver:\n\n- Full name\n- Home address\n- Which Saturdays", 0.6,
     "Home address"),
    ("To complete the branch I need:\n\n1. Your partner's full name.\n2. The name of the school she attends.", 0.6,
     "The name of the school"),
    ("Just reply to this email:\n1. Your child's name and room\n2. Which nights is your child with you\n"
     "3. Your home address (street and suburb)", 0.8, "Which nights is your child', 'Your home address"),
])
def test_a_questionnaires_lines_asking_where_the_user_lives_are_evidence(body, score, said):
    r = locating_reason(body)
    assert r is not None and r.signal == "locating" and r.score == score
    assert f"('{said}')" in r.detail


@pytest.mark.parametrize("body", [
    "Our new address from Monday:\n- 14 Elm Road\n- Flat 2",                   # giving an address, not asking
    "Agenda:\n1. Address by the head teacher\n2. Questions",                    # an address is also a speech
    "Checklist for Saturday:\n- school bag\n- PE kit\n- lunch money",
    "Notes:\n1. The school trip is on Friday\n2. Bring a coat",
    "1. Your current address is on the invoice below.",                          # no list: one line
])
def test_ordinary_lists_do_not_ask_where_the_user_is(body):
    assert locating_reason(body) is None


@pytest.mark.parametrize("body", [
    "Your parcel is at the depot, collect by Friday",
    "What time is the match on Saturday? The day you're in town we should get lunch",
    "I've changed my address, the new one is 14 Elm Road",
    "what days are the bins collected?",
    "Please confirm the date, address is on the card",                      # an address given, not asked for
    "Lovely to meet you at the school gate! Coffee soon?",
    "are you still in bed?? it's 11",                                      # not a place
    "Are you still in the office? I'm downstairs",
    "We're planning to move house next spring, so the flat will be free",   # not asking
    "Have you seen the new school? The kids love it",
    "karma doesnt forget ur address babe",                                 # "get" inside "forget"
    "I'll pick her up at 3.15pm and return her to your address by 5",      # "pm" is the time, not a message
    "which side of the family are you on, your mum's or your dad's?",
    "what part of the film did you like best?",
    "Which days are the kids off for half term?",
])
def test_ordinary_messages_do_not_ask_where_the_user_is(body):
    assert locating_reason(body) is None


@pytest.mark.parametrize("body, said", [
    ("ok fine i dont know a kayleigh lmao. i just wanted to talk", "i dont know a kayleigh"),
    ("Leanne doesn't put kisses. That was me.", "That was me"),
    ("ok its me not ma. she doesnt text like that", "its me not ma"),
    ("lol ok that was a mass text. but since you're here", "that was a mass text"),
    ("it was the only way you'd answer", "only way you'd answer"),
    ("lol relax, I just wanted to see what you'd say to a stranger", "wanted to see what you'd say"),
    ("Mo typed that for me, I told her what to say. Don't be cross with her", "I told her what to say"),
    ("I told him what to write, he's only lending me the phone", "I told him what to write"),
    ("Fine. It's me. I wanted to know if you'd date someone who isn't me", "Fine. It's me"),
    ("ok yes its me", "ok yes its me"),
])
def test_owning_up_to_a_disguise(body, said):
    r = unmasking_reason(body)
    assert r is not None and r.signal == "unmasked" and f"'{said}'" in r.detail


def test_ordinary_messages_do_not_own_up_to_anything():
    for body in ("See you at 6, I'll bring the cake", "I know a great Italian place", "was it me or was that film long",
                 "I wanted to see if you'd like to come on Saturday", "she typed up the minutes for me, thanks",
                 "I told her what time to come", "just wanted to see what you think of the draft",
                 "ok it's me, Sarah from work, forgot to say", "yes it's me again, sorry, one more question"):
        assert unmasking_reason(body) is None, body


@pytest.mark.parametrize("body, said", [
    ("ok that survey was me. it was dumb. i just wanted to know if she's ok", "that survey was me"),
    ("The recruiter last week was me. I know.", "The recruiter last week was me"),
    ("yes i made that profile. you'd never have answered me", "i made that profile"),
    ("I set up a fake account, so what", "I set up a fake account"),
])
def test_owning_up_to_a_named_disguise_counts_from_a_first_message(body, said):
    """It names another account's message (a survey, a profile), so a new sender can own up to it."""
    r = next(iter(probing_reasons(body, throwaway=True, wrote_before=False)), None)
    assert r is not None and r.signal == "unmasked" and f"'{said}'" in r.detail


@pytest.mark.parametrize("body", [
    "that text earlier was me, new phone! Tanya x", "the survey is open until Friday",
    "I sent the survey to all parents on Monday", "I set up the account for you, password in the post",
    "the review of your essay was mine, sorry it was late", "this page is me trying to sell the bike",
])
def test_ordinary_mentions_of_surveys_and_accounts_own_up_to_nothing(body):
    assert probing_reasons(body, throwaway=False, wrote_before=False) == []


@pytest.fixture
def screener(tmp_path, model):
    (tmp_path / "c.toml").write_text(CO_PARENT)
    return Screener(load_config(tmp_path / "c.toml"), model)


def sms(i, body, sender="+447700900819"):
    return Message(id=str(i), sender=sender, channel="sms", body=body)


def test_a_disguise_owned_up_to_adds_up_with_the_senders_earlier_request(screener):
    first = sms(1, "hiya is this Naomi? got your number off the club list, what days are you working this month?")
    second = sms(2, "ok that was me. i just wanted to know when you're in")
    out = screener.screen([first]) + screener.screen([second])
    assert out[0].action == "deliver"                        # asking alone holds nothing
    assert out[1].action == "quarantine" and out[1].blocked_person == "Lee Harman"
    details = [r["detail"] for r in out[1].as_dict()["reasons"]]
    assert any(d.startswith("in an earlier message from this sender: a new sender asks") for d in details)
    assert any("owns up" in d for d in details)


def test_owning_up_counts_only_after_an_earlier_message(screener):
    alone = screener.screen([sms(1, "that was me at the door earlier, sorry I missed you", sender="+447700900820")])[0]
    assert alone.action == "deliver"
    assert not any(r.signal == "unmasked" for r in alone.reasons)


def test_an_organisation_asking_for_an_address_from_its_own_domain_is_not_evidence(screener):
    msg = Message(id="1", sender="office@school.example.org", channel="email", subject="Records",
                  body="Dear parent, please reply confirming your current home address.")
    assert not any(r.signal == "locating" for r in screener.screen([msg])[0].reasons)


# Prying: questions about the user's love life or about the children's other parent ----------

def prying(body):
    from screener.signals.locating import probing_reasons

    return next((r for r in probing_reasons(body, throwaway=True, wrote_before=False) if r.signal == "prying"), None)


@pytest.mark.parametrize("body, score, said", [
    ("Quick survey!\n1. Are you currently in a relationship?\n2. Do you still go to the games?", 0.5,
     "Are you currently in a relationship"),
    ("1. How many nights per fortnight do your children spend with their father?\n"
     "2. Are you currently in a relationship? If yes, how long?", 0.8, "do your children spend with their father"),
    ("Do your children have contact with both sets of grandparents? Does their father see them weekly? "
     "Are you seeing anyone?", 1.0, "Do your children have contact with both sets of grandparents"),
    ("r u single?? asking for a friend lol", 0.5, "r u single"),
    ("Please reply with:\n- do u live alone or with someone\n- any pets", 0.5, "do u live alone"),
    ("• Is there a new partner or other adult living in the home? (for documentation)", 0.5,
     "Is there a new partner or other adult living"),
    ("1. Do you own or rent?\n2. How many adults live at the address?\n3. Is anybody living with you now?", 0.8,
     "How many adults live at the address', 'Is anybody living with you"),
    ("Survey for adult children. 1. How often do you see your father? 2. If never, why?", 0.5,
     "How often do you see your father"),
    ("1. Has a new partner moved into the family home? If yes, when?\n2. Are you planning to marry?", 0.8,
     "Has a new partner moved', 'Are you planning to marry"),
    ("1) How many nights a week do your kids spend at each home?", 0.5, "nights a week do your kids spend at each"),
    ("4. Who do you usually go out with these days?", 0.5, "Who do you usually go out with"),
    ("2. How often are you in contact with your Father? (Weekly / Monthly / Never)", 0.5,
     "are you in contact with your Father"),
    ("1. Do you share care of your children? What's the split?\n"
     "2. Would you consider more flexibility if the other parent's job changed?", 0.8,
     "Do you share care of your children', 'the other parent"),
    ("Just for our records, what is your custody arrangement these days?", 0.5, "your custody arrangement"),
    ("Can I ask, were you with someone a long time too? What actually happened with you two, Han?", 0.8,
     "were you with someone a long time', 'What actually happened with you two"),
])
def test_a_stranger_prying_into_the_users_relationships_is_evidence(body, score, said):
    r = prying(body)
    assert r is not None and r.score == score and f"'{said}'" in r.detail


@pytest.mark.parametrize("body", [
    "Do you have kids? I've got two, both mad about football",              # a real match asks this
    "Your children's father signed the consent form, thanks.",               # not a question
    "Are you coming to the relationship skills workshop on Friday?",
    "Did you see the game last night?",
    "Are you single or double booking the room?",
    "My sister lives alone now and loves it. Do you live near the station?",
    "Minutes:\n1. The committee discussed whether a new partner organisation is living up to the agreement.",
    "How many people live in Leeds? No idea, quiz night question",
    "I see your dad at the allotment most Sundays, he looks well",           # not asked
    "Is anyone living in the flat upstairs? There's water coming through",
    "My partner is moving jobs in June, so we'll be around more",          # not asked
    "Who do you think will win on Saturday?",
    "Please let the other parent know the trip leaves at 8 on Friday.",     # not asked
    "Are you in contact with the plumber yet? The tap is still dripping",
    "Do you share a car with anyone? Thinking of a lift rota",
    "What happened with the boiler in the end? Did the engineer come?",
    "Were you with the team a long time before the restructure?",
])
def test_ordinary_questions_are_not_prying(body):
    assert prying(body) is None


def test_prying_counts_from_cheap_accounts_and_organisations_domains():
    from screener.signals.locating import probing_reasons

    body = "Are you currently in a relationship? Do the kids see their father?"
    assert not [r for r in probing_reasons(body, throwaway=False, wrote_before=False) if r.signal == "prying"]
    assert [r.score for r in probing_reasons(body, throwaway=False, wrote_before=False, organisation=True)
            if r.signal == "prying"] == [0.8]


def test_an_organisations_domain_prying_counts_in_full_but_its_address_request_does_not(screener):
    """A real school asks for the address from its own domain; none asks whether the user is single."""
    from screener.policy import Evidence, counted_reasons

    body = ("To book, just reply with:\n- Your preferred day/time\n- Your current address\n"
            "- Are you single? (for our promo list)\n- Who else lives with you?")
    verdict = screener.screen([Message(id="1", sender="bookings@barber.example.com.au", channel="email", body=body)])[0]
    found = {r.signal: r for r in verdict.reasons}
    assert "locating" not in found and found["prying"].score == 0.8
    style = Reason("style_match", 0.6, "x", "Lee Harman")
    counted = counted_reasons(Evidence(reasons=(found["prying"], style), tags=(), tactic_scores={}, safety=False,
                                       throwaway=False))
    assert [r.score for r in counted] == [0.8, 0.3]   # style counts half from an organisation's domain


def test_a_free_mail_clinic_asking_where_the_user_lives_cannot_hide_the_childrens_names(tmp_path, model):
    """A surgery's wording ("our records show") excuses a private name only when it does not also ask
    where the user lives: a fake clinic on free mail that names the boys and asks for the address is
    evidence twice over; the clinic's own reminder from its own domain is neither."""
    history = ["Beckett has swim at 5, can you grab him", "Brody left his retainer at mine again",
               "Beckett and Brody both want the dinosaur cake lol", "tell Brody his cleats are in the garage",
               "Beckett lost a tooth!!! he's so proud", "Brody is being a menace today", "ok",
               "can Beckett stay Friday", "picking up Brody at 3"]
    (tmp_path / "h.jsonl").write_text("".join(json.dumps({"id": f"h{i}", "sender": "+447700900616", "body": b}) + "\n"
                                              for i, b in enumerate(history)))
    (tmp_path / "c.toml").write_text(CO_PARENT + 'history = "h.jsonl"\n')
    screener = Screener(load_config(tmp_path / "c.toml"), model)
    body = ("Hi there! Our records show Beckett and Brody are due for their cleanings.\nPlease reply with:\n"
            "1) Your current home address (are you still in Loveland?)\n2) Who will bring them")
    fake = Message(id="f", sender="reminders.smiledental@gmail.com", channel="email", subject="Records", body=body)
    real = Message(id="r", sender="reminders@smiledental.example.com", channel="email", subject="Records",
                   body=body.replace("1) Your current home address (are you still in Loveland?)\n", ""))
    fake_v, real_v = screener.screen([fake, real])
    assert any(r.signal == "shared_history" and "'Beckett'" in r.detail for r in fake_v.reasons)
    assert any(r.signal == "locating" for r in fake_v.reasons)
    assert fake_v.action == "quarantine" and fake_v.blocked_person == "Lee Harman"
    assert not any(r.signal in ("shared_history", "locating") for r in real_v.reasons)
    assert real_v.action == "deliver"
