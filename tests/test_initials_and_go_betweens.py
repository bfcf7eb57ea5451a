"""Issue 4, third pass: initials as a signature, a borrowed phone, a writer who places
themselves as someone else's partner, and a stranger passing on the other parent's wishes."""

import json

import pytest

from screener.config import load_config
from screener.message import Message
from screener.screening import Screener
from screener.signals import identity, speaks_for

GRANDMOTHER = ('[user]\nname = "Shauna MacKinnon"\nregion = "CA"\n[[blocked]]\nname = "Nuala Devane"\n'
               'nicknames = ["Nana"]\nphones = ["902 555 0144"]\n')


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    return index_of(tmp_path_factory.mktemp("nuala"), GRANDMOTHER)


def index_of(folder, config_text: str) -> identity.IdentityIndex:
    (folder / "c.toml").write_text(config_text)
    return identity.IdentityIndex.from_config(load_config(folder / "c.toml"))


def self_id(index, body, name=""):
    found = identity.self_identification(Message(id="1", sender="+19025550999", sender_name=name, body=body), index)
    return {r.signal: r for r in found}


@pytest.mark.parametrize("body", ["Cormac's tournament. Saturday. Which gym. N.D.", "Happy New Year. N.D.",
                                  "Mind yourself.\nLove, N.D. xx", "I have posted a card\nND"])
def test_a_message_signed_with_the_persons_initials(index, body):
    r = self_id(index, body)["self_identification"]
    assert r.person == "Nuala Devane" and r.score == identity.INITIALS_SCORE
    assert r.detail == "signs the message with Nuala Devane's initials ('N.D.')"


@pytest.mark.parametrize("body, name", [
    ("Running late, be there at 6. OK", ""),                # capitals that are a word
    ("N.D. the gate code changed, it is 4471 now", ""),     # not where a signature goes
    ("Parcel left in the porch. ND delivery", ""),          # inside a sentence
    ("Thanks for the lift on Sunday. N.D.", "Nora Dunne"),  # the writer's own initials
    ("See you Saturday. J.P.", ""),                         # somebody else's
])
def test_capitals_that_are_not_the_persons_initials(index, body, name):
    assert "self_identification" not in self_id(index, body, name)


def test_a_borrowed_phone_is_an_announced_new_account(tmp_path):
    idx = index_of(tmp_path, '[user]\nname = "Lowri Jenkins"\nregion = "GB"\n[[blocked]]\n'
                   'name = "Carys Bevan"\nnicknames = ["Car"]\nphones = ["07700 900111"]\n')
    alone = identity.self_identification(Message(id="1", sender="+447700900222",
                                                 body="okay that was me on Mam's phone. sorry."), idx)
    assert [r.signal for r in alone] == ["new_contact_announced"] and "on Mam's phone" in alone[0].detail
    named = identity.self_identification(Message(
        id="1", sender="+447700900222", body="Lowri this is Rhodri's phone but it's Carys, he doesn't know I've got it"),
        idx)
    # a first name alone is weak (0.4); on a borrowed phone it is the writer owning up
    assert named[0].signal == "self_identification" and named[0].score == pytest.approx(0.8)
    ordinary = identity.self_identification(Message(id="1", sender="+447700900222",
                                                    body="Sent from my phone, sorry for typos"), idx)
    assert ordinary == []
    neighbour = identity.self_identification(Message(id="1", sender="+447700900222",
                                                     body="Sorry, on Agnes next door's phone. Dougal is ill."), idx)
    assert neighbour[0].signal == "new_contact_announced" and "next door's phone" in neighbour[0].detail
    # a borrowed phone named by where it came from, not whose it is
    bar = identity.self_identification(Message(id="1", sender="+61855509147",
                                               body="Bassendean Hotel. Borrowed the bar phone. Medal night was good."), idx)
    assert bar[0].signal == "new_contact_announced" and "Borrowed the bar phone" in bar[0].detail
    work = identity.self_identification(Message(id="1", sender="+18435550176",
                                                body="Sending this from Tyler's work phone, mine died."), idx)
    assert work[0].signal == "new_contact_announced" and "from Tyler's work phone" in work[0].detail
    for body in ("I borrowed his phone charger, will drop it back", "can I borrow your phone charger tmrw",
                 "borrowed the car, back by 6"):
        assert identity.self_identification(Message(id="1", sender="+447700900222", body=body), idx) == []


@pytest.mark.parametrize("body, said", [
    ("c'mere is this still Lowri's number? Lost all my contacts, phone went into the dock, long story",
     "is this still Lowri's number"),
    ("phone got nicked in town sat. anyway how r u", "phone got nicked"),
    ("dropped my phone in the canal lol. is this still ur number", "dropped my phone"),
])
def test_a_lost_or_broken_phone_is_an_announced_new_account(tmp_path, body, said):
    idx = index_of(tmp_path, '[user]\nname = "Lowri Jenkins"\nregion = "GB"\n[[blocked]]\n'
                   'name = "Carys Bevan"\nnicknames = ["Car"]\nphones = ["07700 900111"]\n')
    found = identity.self_identification(Message(id="1", sender="+447700900222", body=body), idx)
    assert [r.signal for r in found] == ["new_contact_announced"] and said in found[0].detail
    for ordinary in ("my phone was in the living room so I never saw it", "is this still on for Friday?"):
        assert identity.self_identification(Message(id="1", sender="+447700900222", body=ordinary), idx) == []
    # a friend who lost their phone says who they are
    friend = identity.self_identification(Message(
        id="1", sender="+447700900222", body="Hey it's Kabir, lost my phone at the game lol. Save this one"), idx)
    assert [r.signal for r in friend] == ["announced_as_other"]


def test_a_name_placed_as_someone_elses_partner_is_weak(tmp_path):
    idx = index_of(tmp_path, '[user]\nname = "Anna Whitcombe"\nregion = "NZ"\n[[blocked]]\n'
                   'name = "Brendon Tapsell"\nnicknames = ["Bren"]\nphones = ["021 048 7731"]\n')
    def found(body):
        return identity.self_identification(Message(id="1", sender="+64225550101", body=body), idx)[0]
    other = found("hey anna its bren, kirstys other half. any chance we could borrow your trailer sat")
    assert other.score <= 0.4 and "gives an affiliation" in other.detail
    assert found("its bren. answer your phone").score >= 0.85


HISTORY = ["Georgia left her boots in the ute again. I'll drop them round Thursday",
           "Hunter wants to go to the Chiefs game. I'll take him if you say yes",
           "calving's flat out. can't do Saturday. tell Georgia sorry",
           "Hunter lost a tooth at training. he's stoked",
           "Moss threw a shoe. farrier's coming Tuesday. Georgia can't ride till then",
           "Georgia's report came. she's doing alright at maths",
           "Hunter needs new boots before the season"]


def make_screener(tmp_path, model, nicknames='["Bren", "Dad"]'):
    (tmp_path / "h.jsonl").write_text("".join(json.dumps({"id": f"h{i}", "sender": "+64210487731", "body": b}) + "\n"
                                              for i, b in enumerate(HISTORY)))
    (tmp_path / "c.toml").write_text(
        '[user]\nname = "Anna Whitcombe"\nregion = "NZ"\n[[blocked]]\nname = "Brendon Tapsell"\n'
        f'nicknames = {nicknames}\nphones = ["021 048 7731"]\nhistory = "h.jsonl"\n')
    return Screener(load_config(tmp_path / "c.toml"), model)


PONY_CLUB = ("Hi Anna\n\nJust confirming Georgia is carrying on with us for 2026. Her dad also asked if Georgia can "
             "ride at the rally on the 21st. Can you flick back a yes so we can enter her.\n\nCheers\nSecretary")


@pytest.mark.parametrize("body, said", [
    (PONY_CLUB, "Her dad also asked"),
    ("kia ora anna, mike from the vets. Moss is fine now. georgias dad asked us to let you know as he cant get "
     "through to you", "georgias dad asked"),
    ("Would you be ok with Hunter's dad being added back on the school app?", "Hunter's dad being added"),
    ("hi its gail fae the parent council. hunters dad said hed do the bbq at the fun day, is that ok wi you",
     "hunters dad said hed"),
    ("CASTLE CABS: can georgia be collected fae pony club by her dad friday 3pm. reply Y or N",
     "can georgia be collected fae pony club by her dad"),
])
def test_a_stranger_passing_on_the_other_parents_wishes_is_a_go_between(tmp_path, model, body, said):
    v = make_screener(tmp_path, model).screen([Message(id="1", sender="pony.club.sec@gmail.com", channel="email",
                                                       sender_name="Club Secretary", body=body)])[0]
    assert v.action == "quarantine" and v.sender_status == "intermediary" and v.blocked_person == "Brendon Tapsell"
    r = {x.signal: x for x in v.reasons}["speaks_for"]
    assert f"'{said}'" in r.detail and "from Brendon Tapsell's past messages" in r.detail


@pytest.mark.parametrize("body", [
    "Emma's dad asked if Georgia can come to the party on Saturday",   # somebody else's parent
    "Georgia's dad picked her up at 3 today, all fine",                 # a parent mentioned, no wish passed on
    "Her dad asked if she can ride at the rally",                       # no child of theirs named
    "Your dad asked if Georgia can come for lunch on Sunday",           # the user's own father
    "Georgia was collected by her dad at 3, all fine",                  # news, not a request
])
def test_parents_mentioned_without_passing_on_their_wishes(tmp_path, model, body):
    v = make_screener(tmp_path, model).screen([Message(id="1", sender="+64225550101", channel="sms", body=body)])[0]
    assert "speaks_for" not in {r.signal for r in v.reasons}


def test_speaking_for_a_parent_needs_the_person_to_be_one(tmp_path, model):
    assert speaks_for.parent_roles(("Bren", "Georgia and Hunter's dad")) == speaks_for.FATHER
    assert speaks_for.parent_roles(("Nana", "Mrs. Devane")) == ()
    assert speaks_for.parent_roles(("Dad", "Pops", "Grandpa Lyle")) == ()   # the user's father: "her dad" is the user
    screener = make_screener(tmp_path, model, nicknames='["Bren"]')
    v = screener.screen([Message(id="1", sender="+64225550101", channel="sms", body=PONY_CLUB)])[0]
    assert "speaks_for" not in {r.signal for r in v.reasons}


def test_an_organisations_own_domain_passing_on_a_wish_is_not_held_for_it(tmp_path, model):
    v = make_screener(tmp_path, model).screen([Message(id="1", sender="office@hamiltoneast.school.nz", channel="email",
                                                       sender_name="Hamilton East School", body=PONY_CLUB)])[0]
    assert "speaks_for" in {r.signal for r in v.reasons} and v.sender_status != "intermediary"


def test_a_saved_contact_passing_on_a_wish_is_not_held_for_it(tmp_path, model):
    v = make_screener(tmp_path, model).screen([Message(id="1", sender="+64225550101", channel="sms",
                                                       sender_name="Aunty Jo", body=PONY_CLUB)])[0]
    assert v.sender_status != "intermediary"


@pytest.mark.parametrize("body, announced", [
    ("Hey it's Tanya, new number! Save this one and delete the old one", False),   # a friend says who she is
    ("Hiya! New number, it's Shona from antenatal, the old phone finally died.", False),
    ("its me, new number. dont block this one please", True),
    ("new number, save it", True),
    ("It's Mum, Kevin set me up with a new phone", True),                         # a role, not another name
    ("Hey it's great, new number finally! Save it", True),                         # not a name
    ("hiya its rach! new number, my old phone went in the bath", False),          # capitalises nothing
])
def test_a_new_number_announced_under_another_name_is_weak_evidence(index, body, announced):
    found = self_id(index, body)
    assert ("new_contact_announced" in found) == announced
    if not announced:   # a friend's new number, or a fake persona's ("It's Gaz from Rovers, got a new phone")
        assert found["announced_as_other"].score == identity.AS_OTHER == 0.0


def test_a_friends_new_number_hello_is_delivered_and_the_blocked_persons_is_not(tmp_path, model):
    (tmp_path / "c.toml").write_text(GRANDMOTHER)
    screener = Screener(load_config(tmp_path / "c.toml"), model)
    friend, blocked = screener.screen([
        Message(id="1", sender="+19025550101", channel="sms",
                body="Hey it's Tanya, new number! Bell finally let me out of my contract lol. Save this one and "
                     "delete the old one"),
        Message(id="2", sender="+19025550102", channel="sms",
                body="hey its me, new number. save this one and delete the old one. miss you"),
    ])
    assert friend.action == "deliver"
    assert any(r.signal == "announced_as_other" and "'it's Tanya'" in r.detail for r in friend.reasons)
    assert blocked.action == "quarantine"


@pytest.mark.parametrize("nicknames, body, refers", [
    ('["Dean", "Dad", "Frankie and Jude\'s dad"]', "Your dad says he'll sit in the car outside the mediation", False),
    ('["Dean", "Dad", "Frankie and Jude\'s dad"]', "the kids' dad is asking again", True),
    ('["Kem", "Big K"]', "this is Sister Marva from your mum's church", True),   # nothing says who he is
    ('["Kem", "Dad"]', "your mum is heartbroken, call her", False),             # a father is not "your mum"
    ('["Mum", "Nana Rose"]', "your mum is heartbroken, call her", True),
    ('["Dad", "Grandpa Lyle"]', "your dad wants to talk", True),                # the user's father
])
def test_your_mum_or_dad_is_the_blocked_person_only_when_they_can_be_the_users_parent(tmp_path, nicknames, body, refers):
    idx = index_of(tmp_path, '[user]\nname = "Siobhan Kerr"\nregion = "GB"\n[[blocked]]\nname = "Dean Molyneux"\n'
                   f'nicknames = {nicknames}\nphones = ["07700 900822"]\n')
    found = identity.mentions(Message(id="1", sender="+447700900419", body=body), idx)
    assert bool(found) == refers


@pytest.mark.parametrize("nicknames, body, signs", [
    ('["Stu", "Dad", "Harvey and Sam\'s dad"]', "Ten tomorrow. Tell him happy birthday from his dad, in case "
                                                 "Mr Protein forgets to mention I exist.", True),
    ('["Stu", "Harvey and Sam\'s dad"]', "Tell her daddy loves her and misses her", True),
    ('["Shaz", "the kids\' mum"]', "Merry Christmas to them both. Lots of love from their mum xx", True),
    ('["Shaz", "the kids\' mum"]', "Merry Christmas to them both. Lots of love from their dad xx", False),  # the other parent
    ('["Stu", "Harvey and Sam\'s dad"]', "A card from his dad arrived at the school office today", False),
    ('["Stu", "Harvey and Sam\'s dad"]', "Happy birthday to Harvey from his grandad", False),
    ('["Stu", "Dad"]', "Tell him happy birthday from his dad", False),   # "Dad" alone: the user's own father
])
def test_a_new_account_calling_itself_the_childrens_parent_is_that_parent(tmp_path, nicknames, body, signs):
    found = names_themselves(tmp_path, nicknames, body)
    assert bool(found) == signs
    if signs:
        assert "calls themselves the children's parent" in found[0].detail


def names_themselves(tmp_path, nicknames: str, body: str) -> list:
    """Self-identification in a text from a new number, with Stuart Ellery blocked under these
    nicknames; when found, it is enough alone (score x weight 1.2 reaches the 0.9 threshold)."""
    idx = index_of(tmp_path, '[user]\nname = "Hollie Marchant"\nregion = "GB"\n[[blocked]]\nname = "Stuart Ellery"\n'
                   f'nicknames = {nicknames}\nphones = ["07700 900733"]\n')
    found = [r for r in identity.self_identification(Message(id="1", sender="+447700900841", body=body), idx)
             if r.signal == "self_identification"]
    assert all(r.person == "Stuart Ellery" and r.score * 1.2 >= 0.9 for r in found)
    return found


def test_saying_the_user_blocked_them_is_stronger_than_a_new_number(tmp_path):
    idx = index_of(tmp_path, '[user]\nname = "Samira Costa"\nregion = "CA"\n[[blocked]]\n'
                   'name = "Vanessa Medeiros"\nnicknames = ["Ness"]\nphones = ["416 555 0100"]\n')

    def announced(body):
        return identity.self_identification(Message(id="1", sender="+14375550147", body=body), idx)

    new_number = announced("happy new year lol new number, save it")
    blocked = announced("happy new year sammy lol new number don't block it ok I'm being good")
    assert [r.signal for r in blocked] == ["new_contact_announced"]
    assert blocked[0].score > new_number[0].score and "says the user blocked them ('don't block')" in blocked[0].detail
    assert blocked[0].score * 0.8 < 0.9   # not enough alone: one more clue is
    # a friend who jokes about it still says who they are
    assert [r.signal for r in announced("it's Tanya, new number, don't block me lol")] == ["announced_as_other"]


@pytest.mark.parametrize("body, blocked", [
    ("Just a quick one, since you've blocked the other number: the enrolment form is due Friday.", True),
    ("ok u blocked my old one so here i am", True),
    ("For clarity, this is a new address because the old ones are filtered. No reply required.", True),
    ("you've filtered me out of your life, fine, new account", True),
    ("my old number got blocked by you so this is the new one", True),
    ("My old number was blocked by the network after the scam texts, so this is the new one.", False),
    ("The old accounts were blocked by IT after the phishing test; use this one for the rota.", False),
    ("Dad asked me to email you because you've blocked him everywhere.", False),   # a go-between's words
    ("Sofia asked me to pass this on since you've blocked her number.", False),
])
def test_saying_the_user_blocked_the_writer_is_not_saying_they_blocked_someone_else(tmp_path, body, blocked):
    idx = index_of(tmp_path, '[user]\nname = "Drew Kingi"\nregion = "NZ"\n[[blocked]]\n'
                   'name = "Rochelle Ashworth"\nnicknames = ["Roch"]\nphones = ["027 555 0182"]\n')
    found = identity.self_identification(Message(id="1", sender="+64215550199", body=body), idx)
    assert any(r.score == identity.SAYS_BLOCKED and "says the user blocked them" in r.detail for r in found) == blocked


@pytest.mark.parametrize("nicknames, body, signs", [
    ('["Stu", "Dad", "me dad"]', "happy new year pet. its ya dad. new number. divvent block this one", True),
    ('["Stu", "Dad"]', "It's your dad. Got a new phone, ring me when you can", True),
    ('["Stu", "Dad"]', "Thinking of you on your birthday.\nLove, your dad", True),
    ('["Stu", "Alfie\'s grandad"]', "its ya dad. new number", False),              # no parent word: somebody else
    ('["Stu", "Dad", "Harvey and Sam\'s dad"]', "It's your dad, new number", False),   # the children's father:
])                                                                                  # "your dad" is the user's own
def test_a_parent_who_says_its_your_dad_names_themselves(tmp_path, nicknames, body, signs):
    assert bool(names_themselves(tmp_path, nicknames, body)) == signs


def test_a_nickname_phrase_in_an_address_is_strong_and_a_surname_one_is_not(tmp_path):
    idx = index_of(tmp_path, '[user]\nname = "Drew Kingi"\nregion = "NZ"\n[[blocked]]\nname = "Rochelle Ashworth"\n'
                   'nicknames = ["Roch", "Tilly\'s mum", "Mrs Ashworth"]\nemails = ["rochelle.ashworth@xtra.co.nz"]\n')

    def in_address(sender):
        msg = Message(id="1", sender=sender, body="Options attached.")
        return {r.signal: r for r in identity.lookalike_reasons(msg, idx, identity.sender_key(msg, idx.region))}

    phrase = in_address("tillysmum.tga@outlook.com")["name_in_address"]
    assert phrase.score == 0.7 and "'tilly s mum', a phrase only they go by" in phrase.detail
    assert in_address("mrsashworth61@gmail.com")["name_in_address"].score < 0.7   # her mother-in-law too
    assert in_address("roch.designs@gmail.com")["name_in_address"].score == 0.4   # one word: others' too


@pytest.mark.parametrize("body, kin", [
    ("anna its isa tapsell. brens mum. the garden is coming on, the roses are out", "brens mum"),
    ("Hi Anna, Kirsty here (Bren's sister). Don't panic, just wanted a wee word", "bren's sister"),
    ("Just heard about Bren's mum, that's awful. You ok?", None),         # news of a relative, not who is writing
    ("Anna it's Sal. Saw Bren's sister at the markets, she says hi", None),
    ("Hi Anna, it's Karen, Bren's mum from Year 3. Are you doing the cake stall?", None),   # a classmate's mum
])
def test_a_writer_who_introduces_themselves_as_the_persons_family_is_a_go_between(tmp_path, model, body, kin):
    v = make_screener(tmp_path, model).screen([Message(id="1", sender="+64225550177", channel="sms", body=body)])[0]
    family = [r for r in v.reasons if r.signal == "family_of_blocked"]
    if kin is None:
        assert not family and v.sender_status != "intermediary"
    else:
        assert family[0].detail == f"introduces themselves as Brendon Tapsell's family ('{kin}')"
        assert (v.action, v.sender_status, v.blocked_person) == ("quarantine", "intermediary", "Brendon Tapsell")


@pytest.mark.parametrize("body, named", [
    ("Saw Bren's sister at the markets, she says hi", False),              # only the person's relative
    ("Saw Bren's sister at the markets. Bren misses you, please call him", True),
    ("bren s mum says hi. tell bren to ring his mum", True),
])
def test_the_person_named_only_as_someones_relative_is_not_mentioned(tmp_path, model, body, named):
    from screener.signals import identity

    screener = make_screener(tmp_path, model)
    found = identity.mentions(Message(id="1", sender="+64225550177", channel="sms", body=body), screener.index)
    assert any(r.signal == "mentions_blocked" and r.person == "Brendon Tapsell" for r in found) is named


def test_a_relative_saved_in_the_phone_is_not_held_for_saying_so(tmp_path, model):
    v = make_screener(tmp_path, model).screen([Message(id="1", sender="+64225550177", channel="sms",
                                                       sender_name="Isa", body="its isa, brens mum. lovely day")])[0]
    assert v.sender_status != "intermediary"
