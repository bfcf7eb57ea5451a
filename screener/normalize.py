"""Sender normalisation used everywhere: email addresses, phone numbers, display names.

- Email: case-insensitive; gmail.com and googlemail.com are one mailbox where
  dots and +tags are ignored; +tags are ignored at providers with
  sub-addressing; elsewhere dots (and tags) are kept.
- Phone: E.164 via `phonenumbers` with a default region; invisible Unicode
  format characters stripped; short codes and alphanumeric sender IDs are kept
  as text, never forced into E.164.
- Names: NFKC, case-folded, accents folded, punctuation dropped.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from email.utils import parseaddr

import phonenumbers

from screener.errors import ScreenerError


class InvalidAddress(ScreenerError):
    """A string that cannot be read as the kind of address asked for."""


GMAIL_DOMAINS = {"gmail.com", "googlemail.com"}
# Providers where "local+tag@domain" delivers to "local@domain".
SUBADDRESSING_DOMAINS = {
    "fastmail.com", "fastmail.fm", "fastmail.co.uk", "messagingengine.com",
    "outlook.com", "hotmail.com", "hotmail.co.uk", "live.com", "live.co.uk", "msn.com",
    "icloud.com", "me.com", "mac.com",
    "proton.me", "protonmail.com", "protonmail.ch", "pm.me",
    "hey.com", "zoho.com", "tutanota.com", "tuta.io", "gmx.com", "gmx.net", "posteo.de",
}
# Free webmail providers: the same local part at two of them proves little about
# the domain, but a blocked person's own domain being imitated proves a lot.
FREE_MAIL_DOMAINS = GMAIL_DOMAINS | SUBADDRESSING_DOMAINS | {
    "yahoo.com", "yahoo.co.uk", "aol.com", "mail.com", "yandex.com", "gmx.de",
    "btinternet.com", "sky.com", "virginmedia.com", "comcast.net", "verizon.net",
    "att.net", "ymail.com", "protonmail.com",
    # consumer ISPs' and national providers' mailboxes: personal accounts, not an organisation's domain
    "talk21.com", "talktalk.net", "tiscali.co.uk", "ntlworld.com", "blueyonder.co.uk", "virgin.net", "aol.co.uk",
    "yahoo.ca", "yahoo.com.au", "yahoo.ie", "yahoo.co.nz", "hotmail.ca", "hotmail.ie", "live.ca", "live.ie",
    "live.com.au", "outlook.ie", "eircom.net", "bigpond.com", "bigpond.net.au", "optusnet.com.au", "xtra.co.nz",
    "shaw.ca", "telus.net", "rogers.com", "sympatico.ca", "bell.net", "sbcglobal.net", "bellsouth.net",
    "charter.net", "cox.net", "earthlink.net", "optonline.net", "rocketmail.com", "gmx.co.uk", "aim.com",
}

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


# Unicode's format characters (category Cf: zero-width spaces, direction marks,
# BOM, tags...), as ranges; tests/test_normalize.py checks them against unicodedata.
FORMAT_RANGES = ((173, 173), (1536, 1541), (1564, 1564), (1757, 1757), (1807, 1807), (2192, 2193), (2274, 2274),
                 (6158, 6158), (8203, 8207), (8234, 8238), (8288, 8292), (8294, 8303), (65279, 65279),
                 (65529, 65531), (69821, 69821), (69837, 69837), (78896, 78904), (113824, 113827),
                 (119155, 119162), (917505, 917505), (917536, 917631))
_FORMAT_CHARS = {cp: None for lo, hi in FORMAT_RANGES for cp in range(lo, hi + 1)}
_ANY_FORMAT_CHAR = re.compile("[" + "".join(f"{re.escape(chr(lo))}-{re.escape(chr(hi))}" for lo, hi in FORMAT_RANGES) + "]")


def strip_invisible(text: str) -> str:
    """Drop Unicode format characters (zero-width spaces, direction marks, BOM...)."""
    if text.isascii() or not _ANY_FORMAT_CHAR.search(text):   # a search is cheaper than a translate
        return text
    return text.translate(_FORMAT_CHARS)


def is_email(sender: str) -> bool:
    return "@" in sender


def split_display(raw: str) -> tuple[str, str]:
    """'Alex <a@b.c>' -> ('Alex', 'a@b.c'); a bare address -> ('', address)."""
    raw = strip_invisible(raw).strip()
    if "<" in raw and ">" in raw:
        name, addr = parseaddr(raw)
        return name.strip(), addr.strip()
    return "", raw


def normalize_email(raw: str) -> str:
    """The canonical mailbox an address delivers to. Raises InvalidAddress."""
    _, addr = split_display(raw)
    addr = addr.strip().strip("<>").strip().lower()
    if addr.startswith("mailto:"):
        addr = addr[len("mailto:"):]
    if not _EMAIL_RE.match(addr):
        raise InvalidAddress(f"not an email address: {raw!r}")
    local, domain = addr.rsplit("@", 1)
    domain = domain.rstrip(".")
    if domain in GMAIL_DOMAINS:
        local = local.split("+", 1)[0].replace(".", "")
        domain = "gmail.com"
    elif domain in SUBADDRESSING_DOMAINS:
        local = local.split("+", 1)[0]
    if not local:
        raise InvalidAddress(f"empty mailbox name: {raw!r}")
    return f"{local}@{domain}"


def valid_region(region: str) -> bool:
    return isinstance(region, str) and region.upper() in phonenumbers.SUPPORTED_REGIONS


def normalize_phone(raw: str, region: str = "US", strict: bool = False) -> str:
    """E.164 for a phone number in any written form.

    Short codes (up to 6 digits) and alphanumeric sender IDs come back as text
    (digits only, or the ID as written) unless `strict`, where they raise.
    Raises InvalidAddress for something that is no number at all.
    """
    text = strip_invisible(raw).strip()
    if text.lower().startswith("tel:"):
        text = text[4:]
    if not text:
        raise InvalidAddress("empty phone number")
    digits = re.sub(r"\D", "", text)
    if re.search(r"[A-Za-z]", text) and not text.lower().startswith(("+", "00")):
        if strict:
            raise InvalidAddress(f"not a phone number: {raw!r}")
        return text  # alphanumeric sender ID such as 'ParcelGo'
    if len(digits) <= 6:
        if strict or not digits:
            raise InvalidAddress(f"not a phone number: {raw!r}")
        return digits  # short code
    try:
        number = phonenumbers.parse(text, region.upper())
    except phonenumbers.NumberParseException:
        raise InvalidAddress(f"not a phone number: {raw!r}") from None
    if digits.startswith("00") and not phonenumbers.is_valid_number(number):
        # "001 415 555 0142", "0044 7700 900123": the exit code most of the world dials, whatever the user's region
        try:
            abroad = phonenumbers.parse("+" + digits[2:], None)
        except phonenumbers.NumberParseException:
            abroad = None
        if abroad is not None and (phonenumbers.is_valid_number(abroad) or (
                phonenumbers.is_possible_number(abroad) and not phonenumbers.is_possible_number(number))):
            number = abroad
    if not phonenumbers.is_possible_number(number):
        if strict:
            raise InvalidAddress(f"not a phone number: {raw!r}")
        return "+" + digits if text.startswith("+") else digits
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@functools.lru_cache(maxsize=8192)
def normalize_sender(raw: str, region: str = "US") -> str:
    """Canonical key for any sender string: email mailbox, E.164 number, or text ID.

    Cached: the same few senders write again and again, and parsing a number costs ~0.1 ms.
    """
    if raw is None:
        return ""
    _, addr = split_display(raw)
    try:
        if is_email(addr):
            return normalize_email(addr)
        return normalize_phone(addr, region)
    except InvalidAddress:
        return strip_invisible(addr).strip().lower()


# The combining marks that accents decompose into (NFKD), in the blocks Unicode keeps them.
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_NOT_WORD = re.compile(r"[^\w\s]")


def fold_name(text: str) -> str:
    """Display-name form for matching: NFKC, case-folded, accents and punctuation dropped."""
    text = text or ""
    if text.isascii():
        text = text.lower()
    else:
        text = unicodedata.normalize("NFKC", strip_invisible(text))
        text = unicodedata.normalize("NFKD", text.casefold())
        text = _COMBINING.sub("", text)
    text = _NOT_WORD.sub(" ", text)
    return " ".join(text.split())


def is_loopback(host: str) -> bool:
    """True for 'localhost' and loopback addresses (127.0.0.0/8, ::1)."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
