"""The policy: one pure function from evidence plus config to a decision.

Modelled on rspamd's symbols, scores and actions. Force rules come first:
trusted -> deliver; blocked -> quarantine; safety -> alert (whoever sent it).
For every other sender, identity evidence tied to a blocked person adds up,
each signal's score times its weight below, against one threshold. Weights
and the threshold live here and only here; docs/policy.md explains them.
"""

from __future__ import annotations

from dataclasses import dataclass

from screener.labels import TACTICS
from screener.signals import Reason
from screener.signals.carry import EARLIER

THRESHOLD = 0.9
# A sender becomes an established correspondent after this many earlier messages
# that nothing held. Before that, manipulative content still counts as a new
# account's: a fake persona that opens with "hi, it's Chris from the gym" is not
# let through on its second, manipulative message.
ESTABLISHED = 3
CONFIDENT_RELAY = 0.7   # relay score above which a go-between need not name the person
# Once identity evidence points at someone, content that leans manipulative counts even below
# its tag threshold (a new number that names the dog and is "not asking for money obviously").
LEANING = 0.3
# A possible danger from a new account is held whatever its tactic tags, once the danger is
# likely rather than merely possible (the alert itself fires lower, where recall matters most):
# "parked on riverside drive. one of those lights is urs" is the person back, not a stranger
# (unless the writer says who they are: a neighbour's warning is for the user to read).
DANGER_HOLD = 0.5

WEIGHTS: dict[str, float] = {
    "lookalike_address": 1.1,      # 0.9 imitation alone crosses the threshold; one typo (0.6-0.8) does not
    "display_name": 1.1,           # full name as display name crosses it; a shared first name (0.15) never does
    "name_in_address": 1.0,
    "self_identification": 1.2,    # signs with their name / "it's me, Al"
    "new_contact_announced": 0.8,  # "new number" without a name: needs one more clue
    "announced_as_other": 0.8,     # 0.0: "it's Tanya, new number": a friend's (shown for the friend's page)
    "initial_signoff": 1.0,        # 0.3: signed "S." like the person's first initial, weak alone
    "near_number": 1.0,            # 0.3: one digit from a blocked number, weak on its own
    "style_match": 1.0,            # writing style (capped by its own signal at 0.6)
    "shared_history": 0.8,         # names, places and in-jokes from their history
    "pretext": 0.7,                # a stranger's pretext that turns to the relationship
    "locating": 1.0,               # 0.6: a cheap account asks for the user's address or work hours
    "prying": 1.0,                 # 0.5: a new sender asks about the user's love life or the other parent
    "unmasked": 1.0,               # 0.75: "that was me": a sender owns up to an earlier disguise
    "burst": 0.5,                  # part of a burst of new senders on the same themes
    "posing_account": 1.0,         # 0.35: free mail named as a survey, a recruiter, a committee
    "manipulative_content": 0.5,   # the strongest tactic score, when there is a tactic tag
}
# Evidence that tells who is behind an unfamiliar account. A number the user's phone has
# saved under another name is a person the user knows (a grandmother who names the
# children, a friend who writes like the family does), and so is a writer with the user's
# own surname (their father, formal like the blocked father-in-law): there these say nothing.
STRANGER_ONLY = ("style_match", "shared_history", "locating", "prying")
# From an organisation's own domain (not a number, not free mail) these count at this share: a
# family lawyer writes formally and names the children; a blocked person opens a Gmail. Prying
# counts in full: no real organisation's message in the benign sets asks whether the user is single.
ORGANISATION = 0.5
ORGANISATION_HALVED = ("style_match", "shared_history", "locating")
WARM = {"hoovering", "love_bombing"}   # re-contact tactics whose words a friend's hello shares
# Tactics that count as manipulative content from an unknown sender.
MANIPULATIVE = tuple(t for t in TACTICS if t != "relay")


@dataclass(frozen=True)
class Decision:
    action: str
    alert: bool
    sender_status: str
    blocked_person: str | None
    reason: Reason


@dataclass(frozen=True)
class Evidence:
    """What the policy sees of one message."""

    reasons: tuple[Reason, ...]
    tags: tuple[str, ...]
    tactic_scores: dict
    safety: bool
    safety_score: float = 0.0         # how likely a danger is (the model's, or 0.9 for a danger phrase)
    introduced: bool = False          # the writer said who they are ("it's Sue from no. 16"), here or earlier
    seen_before: int = 0              # earlier messages from this sender (0: first contact)
    suspected_as: str | None = None   # sender already attributed earlier (a learned alias)
    relayed_for: str | None = None    # sender already relayed for this blocked person earlier
    throwaway: bool = True            # a number or a free-mail address: an account anyone opens in a minute
    saved_contact: str = ""           # the name the user's phone saved for this number ('' when none)
    users_family: bool = False        # the display or contact name has the user's own surname
    mailing_list: bool = False        # a mailing list delivered it: a post to many, not written to the user
    warning: bool = False             # warns the user about someone, without a go-between's pleading words


def decide(ev: Evidence, blocked_names: tuple[str, ...], quarantine_unknown_manipulative: bool) -> Decision:
    signals = {r.signal: r for r in ev.reasons}
    alert = ev.safety

    if "trusted" in signals:
        return Decision("deliver", alert, "trusted", None, signals["trusted"])
    if "blocked" in signals:
        return Decision("quarantine", alert, "blocked", signals["blocked"].person, signals["blocked"])
    if ev.suspected_as:
        why = Reason("policy", 1.0, f"this sender was already attributed to {ev.suspected_as} earlier")
        return Decision("quarantine", alert, "suspected_alias", ev.suspected_as, why)
    # "ok it's me on my mom's phone" from the number that pleaded for the person before: the
    # go-between's phone, with the person themselves on it now.
    announced = signals.get("new_contact_announced")
    if ev.relayed_for and announced is not None and not announced.detail.startswith(EARLIER):
        why = Reason("policy", 1.0, f"this sender relayed for {ev.relayed_for} before, and now writes as somebody the "
                     f"user knows on a new or borrowed phone ({announced.detail})")
        return Decision("quarantine", alert, "suspected_alias", ev.relayed_for, why)

    manipulative = [t for t in ev.tags if t in MANIPULATIVE]
    content = max((ev.tactic_scores[t] for t in manipulative), default=0.0)
    leaning = max((ev.tactic_scores.get(t, 0.0) for t in MANIPULATIVE), default=0.0)
    # A warning's tone is the person's it describes, not the writer's: it adds nothing to who wrote it.
    warning = ev.warning
    totals = _totals(counted_reasons(ev), blocked_names,
                     0.0 if warning else max(content, leaning if leaning >= LEANING else 0.0))
    best = max(totals, key=totals.get) if totals else None
    single = blocked_names[0] if len(blocked_names) == 1 else None

    # A stranger passing on what the children's other parent wants, naming their children, from
    # a number or free mail (a school's own domain telling the user what the father asked is the school).
    speaks = signals.get("speaks_for")
    if speaks is not None and ev.throwaway and not (ev.saved_contact or ev.users_family):
        why = Reason("policy", speaks.score, f"a go-between for {speaks.person}: {speaks.detail}")
        return Decision("quarantine", alert, "intermediary", speaks.person, why)

    # "Heads up: a man came in asking for you, he said he was your husband": a warning about the
    # person, for the user to read (the friend has the alert), not a go-between's plea.
    mention = signals.get("mentions_blocked")
    if mention is not None and "self_identification" not in signals and not warning:
        person = mention.person or ev.relayed_for or single or best
        relays = "relay" in ev.tags
        # Someone who relayed before and now names the person again, with any tactic, is still a go-between.
        again = ev.relayed_for is not None and mention.person is not None and bool(ev.tags)
        # A stranger's pretext that turns to the relationship and names the person ("Sorry I should have
        # said, it's for your mum Glenys"): whatever the model makes of the tone, a go-between.
        pretext = "pretext" in signals and mention.person is not None
        if relays or again or pretext:
            why = Reason("policy", 1.0, "relays or pleads for " + (person or "the blocked person")
                         + f" ({mention.detail})" + ("; relayed for them before" if again and not relays else
                                                     "; a stranger's pretext turns to them" if pretext and not relays
                                                     else ""))
            return Decision("quarantine", alert, "intermediary", person, why)

    # A confident relay with no name or role ("he's heartbroken, you should call him"):
    # still a go-between, for the only blocked person there is. Not from a saved contact: for
    # someone the user knows, that is content alone ("Caleb asked me to help him with a speech").
    if "relay" in ev.tags and ev.tactic_scores.get("relay", 0.0) >= CONFIDENT_RELAY and not ev.saved_contact \
            and "self_identification" not in signals and not warning:
        person = best if best is not None and totals[best] > 0 else single
        if person is not None:
            why = Reason("policy", ev.tactic_scores["relay"], f"pleads or relays for someone, and {person} is the "
                         "only blocked person it can be")
            return Decision("quarantine", alert, "intermediary", person, why)

    if best is not None and totals[best] >= THRESHOLD:
        why = Reason("policy", round(totals[best], 3),
                     f"evidence that {best} is behind this sender adds up to {totals[best]:.2f} "
                     f"(threshold {THRESHOLD:.1f})")
        return Decision("quarantine", alert, "suspected_alias", best, why)

    # Content alone holds a new sender only when it writes from a number or a free-mail
    # address, the accounts a blocked person opens; an organisation's own domain is not one
    # (a look-alike of the person's own domain is identity evidence above), and neither is
    # a number the user saved in their phone's contacts (identity evidence above still counts).
    # Not a warm hello from someone who announces a new number and says who they are ("Hey it's
    # Tanya, new number! Save this one"): the words of re-contact, from a friend.
    friend_hello = "announced_as_other" in signals and set(manipulative) <= WARM
    # Nor a mailing-list post: a heated list debate from a Gmail address was not written to the user.
    new_account = (quarantine_unknown_manipulative and ev.seen_before < ESTABLISHED and ev.throwaway
                   and not ev.saved_contact and not ev.mailing_list)
    if new_account and manipulative and not friend_hello:
        person = best if best is not None and totals[best] > 0.5 * content else single
        why = Reason("policy", round(content, 3),
                     f"{_first(ev.seen_before)}, and the message is manipulative ({', '.join(manipulative)})")
        return Decision("quarantine", alert, "suspected_alias", person, why)

    # Not from a writer who says who they are: "it's Sue from no. 16, there was a man sat outside
    # yours last night" is a neighbour's warning, which the user needs to see.
    if new_account and ev.safety and ev.safety_score >= DANGER_HOLD and not ev.introduced and not warning:
        person = best if best is not None and totals[best] > 0 else single
        why = Reason("policy", round(ev.safety_score, 3),
                     f"{_first(ev.seen_before)}, and the message may be a danger to the user ({ev.safety_score:.2f})")
        return Decision("quarantine", alert, "suspected_alias", person, why)

    # A writer who introduces themselves as the person's family ("its isa baird. davies mum") is a
    # go-between, whatever the model makes of the tone: the person's mother, brother or new partner.
    # Checked last: a relative's phone that the rules above already tie to the person stays theirs.
    family = signals.get("family_of_blocked")
    if family is not None and ev.throwaway and not (ev.saved_contact or ev.users_family):
        why = Reason("policy", family.score, f"a go-between for {family.person}: {family.detail}")
        return Decision("quarantine", alert, "intermediary", family.person, why)

    status = "known" if ev.seen_before else "unknown"
    saved = f", saved in the phone's contacts as '{ev.saved_contact}'" if ev.saved_contact else ""
    listed = ", a mailing-list post" if ev.mailing_list else ""
    return Decision("deliver", alert, status, None,
                    Reason("policy", 0.0, f"{status} sender{saved}{listed}, nothing held it"))


def _first(seen_before: int) -> str:
    return ("first contact from this sender" if not seen_before else
            f"a new sender (only {seen_before} earlier message{'s' if seen_before > 1 else ''})")


def counted_reasons(ev: Evidence) -> list[Reason]:
    """The identity evidence as it counts for this sender: stranger-only evidence says nothing
    from a saved contact or the user's family, and half from an organisation's own domain."""
    if ev.saved_contact or ev.users_family:
        return [r for r in ev.reasons if r.signal not in STRANGER_ONLY]
    if not ev.throwaway:   # an organisation's own domain: a blocked person rarely writes from one
        return [Reason(r.signal, r.score * ORGANISATION, r.detail, r.person) if r.signal in ORGANISATION_HALVED else r
                for r in ev.reasons]
    return list(ev.reasons)


def _totals(reasons, blocked_names, content: float) -> dict[str, float]:
    """Weighted identity evidence per blocked person (unattributed evidence counts for each)."""
    # Each kind of evidence counts once per person: its strongest instance (this message's,
    # or one carried from the same sender's earlier messages).
    strongest: dict[tuple, float] = {}
    for r in reasons:
        if r.signal in WEIGHTS:
            k = (r.person, r.signal)
            strongest[k] = max(strongest.get(k, 0.0), WEIGHTS[r.signal] * r.score)
    shared = sum(v for (person, _), v in strongest.items() if person is None)
    totals: dict[str, float] = {}
    for (person, _), v in strongest.items():
        if person:
            totals[person] = totals.get(person, 0.0) + v
    if shared and len(blocked_names) == 1:
        totals.setdefault(blocked_names[0], 0.0)
    for name in totals:
        totals[name] += shared
        if totals[name] > 0:
            totals[name] += WEIGHTS["manipulative_content"] * content
    return totals
