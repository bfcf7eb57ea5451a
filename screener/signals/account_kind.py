"""What kind of account a sender writes from, as far as the message tells.

- A *throwaway* account is a phone number or a free-mail address: the kind
  anyone opens in a minute, and the kind a blocked person opens to get
  through. An organisation's own domain is not one.
- A *saved contact* is a text from a number the user's phone knows by a name:
  phone exports and gateways give the phone's contact name as `sender_name`
  (an SMS Backup & Restore export writes "(Unknown)" for numbers that are
  not saved). For an email the display name is whatever the sender typed, so
  it says nothing about the user's address book.
- The user's *family*: a display or contact name with the user's own surname
  ("Vincenzo Marchetti" writing to Philippa Marchetti), when no blocked person
  has that surname.
"""

from __future__ import annotations

import re

from screener.message import Message
from screener.normalize import FREE_MAIL_DOMAINS, fold_name, is_email, split_display
from screener.signals import Reason

# What phones and exports write where a number has no contact.
_NO_CONTACT = {"unknown", "(unknown)", "no name", "private", "private number", "withheld", "anonymous",
               "unknown caller", "unknown sender", "null", "none"}
_LETTER = re.compile(r"[^\W\d_]")


def throwaway(key: str) -> bool:
    """A phone number or a free-mail address (senders with no usable key count as throwaway)."""
    if not is_email(key):
        return True
    return key.rsplit("@", 1)[1] in FREE_MAIL_DOMAINS


def saved_contact(msg: Message) -> str:
    """The name the user's phone has saved for a text's number ('' when none): a real name,
    not a placeholder for an unsaved number and not the number itself."""
    if msg.channel != "sms":
        return ""
    name = (msg.sender_name or "").strip()
    if not name or name.lower() in _NO_CONTACT or not _LETTER.search(name):
        return ""
    return name


def family_surname(user_name: str, blocked_names) -> str:
    """The user's surname, folded, when no blocked person shares it ('' otherwise): a writer
    with that surname is the user's own family, not the blocked person in disguise."""
    words = fold_name(user_name).split()
    surname = words[-1] if len(words) >= 2 and len(words[-1]) >= 2 else ""
    if not surname or any(fold_name(b).split()[-1:] == [surname] for b in blocked_names):
        return ""
    return surname


def users_family(msg: Message, surname: str) -> bool:
    """The sender's display or contact name ends with the user's surname (see family_surname)."""
    if not surname or not msg.sender_name:
        return False
    words = fold_name(msg.sender_name).split()
    return len(words) >= 2 and words[-1] == surname


# A free-mail address named as an organisation's desk ("bcferries.feedback.survey@gmail.com",
# "castellfreight.hr@gmail.com", "juniorbluebirds.survey@outlook.com"): a survey, a recruiter, a
# committee or a booking office that writes from an account anyone opens in a minute, the disguise
# a blocked person puts on. Real ones mostly write from their own domain. Weak alone: a club's
# volunteer does use Gmail, so it only adds to other evidence. Not "team": a children's team manager
# writes from Gmail and names the players.
_DESK_IN_NAME = re.compile(r"survey|feedback|questionnaire|research|recruit|talent|career|committee|booking"
                           r"|membership|giveaway|promo|reward|enquir|inquir|customer|helpdesk|support|attendance"
                           r"|admission|lettings|leasing|regist|billing|office|members(?!hip)"   # also run together: 'frontoffice'
                           r"|treasurer|secretary|stud(?:y|ies)|records|reservation|notices|notification|reminder"
                           r"|appointment|quotes|reviews|volunteer|coordinator|intake|wellbeing|outreach|welfare"
                           r"|offers|fixtures|lostproperty|reunion|alumni|claims|clinic|hospital|surgery|dental"
                           r"|parking|payroll|prize")
# Whole words only ('hr' is no desk in 'hrothgar'); 'office' and 'members' are read anywhere, above.
_DESK_WORDS = {"hr", "pta", "pto", "info", "admin", "events", "official", "reception",
               "hello", "contact", "accounts", "orders", "sales", "staff", "front", "fees", "poll", "desk"}
POSING = 0.35


def posing_account(key: str, address: str = "") -> Reason | None:
    """Evidence that a free-mail address poses as an organisation (None when it does not).
    `address` is the address as written: the key drops a Gmail address's dots."""
    if not is_email(key):
        return None
    domain = key.rsplit("@", 1)[1]
    if domain not in FREE_MAIL_DOMAINS:
        return None
    written = split_display(address)[1].lower()
    local = (written if written.endswith("@" + domain) else key).rsplit("@", 1)[0]
    m = _DESK_IN_NAME.search(local)
    word = m.group(0) if m else next((w for w in re.split(r"[^a-z]+", local) if w in _DESK_WORDS), "")
    if not word:
        return None
    return Reason("posing_account", POSING, f"{written or key} is named as an organisation's desk ('{word}') but is a free-mail "
                                            "account anyone can open (weak alone)")
