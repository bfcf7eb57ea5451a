import pytest

from screener.normalize import InvalidAddress, fold_name, normalize_email, normalize_phone, normalize_sender


@pytest.mark.parametrize("raw, canonical", [
    ("alex.morgan@gmail.com", "alexmorgan@gmail.com"),
    ("Alex.Morgan+kids@GMAIL.com", "alexmorgan@gmail.com"),
    ("a.l.e.x.morgan@googlemail.com", "alexmorgan@gmail.com"),
    ("Alex Morgan <alex.morgan+x@gmail.com>", "alexmorgan@gmail.com"),
    ("  ALEX.MORGAN@GMAIL.COM ", "alexmorgan@gmail.com"),
    ("mailto:alex.morgan@gmail.com", "alexmorgan@gmail.com"),
    ("alex+news@fastmail.com", "alex@fastmail.com"),
    ("alex+x@outlook.com", "alex@outlook.com"),
    ("alex+x@hotmail.com", "alex@hotmail.com"),
    ("alex+x@icloud.com", "alex@icloud.com"),
    ("alex+x@proton.me", "alex@proton.me"),
    ("alex.morgan@outlook.com", "alex.morgan@outlook.com"),      # dots count outside Gmail
    ("a.morgan@corp.example", "a.morgan@corp.example"),
    ("amorgan+x@corp.example", "amorgan+x@corp.example"),        # unknown provider: tag kept
    ("alex.morgan\u200b@gmail.com", "alexmorgan@gmail.com"),     # zero-width space
])
def test_email_forms(raw, canonical):
    assert normalize_email(raw) == canonical


@pytest.mark.parametrize("raw", ["not an address", "@gmail.com", "a@b", ""])
def test_bad_emails_raise(raw):
    with pytest.raises(InvalidAddress):
        normalize_email(raw)


@pytest.mark.parametrize("raw, region, e164", [
    ("(415) 555-0142", "US", "+14155550142"),
    ("415.555.0142", "US", "+14155550142"),
    ("+1 415 555 0142", "US", "+14155550142"),
    ("1-415-555-0142", "US", "+14155550142"),
    ("+1\u202a415\u202c 555 0142", "US", "+14155550142"),        # bidi marks from a phone's contact card
    ("415\u200b555\u200b0142", "US", "+14155550142"),
    ("07700 900482", "GB", "+447700900482"),
    ("+44 (0)7700 900482", "GB", "+447700900482"),
    ("0044 7700 900482", "GB", "+447700900482"),
    ("07700900482", "GB", "+447700900482"),
    ("tel:+447700900482", "US", "+447700900482"),
    # "00" is the exit code most of the world dials, whatever the user's own region
    ("001 415 555 0142", "US", "+14155550142"),
    ("0044 7700 900482", "US", "+447700900482"),
    ("00353 87 123 4567", "US", "+353871234567"),
    ("011 44 7700 900482", "US", "+447700900482"),
])
def test_phone_forms(raw, region, e164):
    assert normalize_phone(raw, region) == e164


@pytest.mark.parametrize("raw, kept", [("ParcelGo", "ParcelGo"), ("MeanwoodSrg", "MeanwoodSrg"),
                                       ("72404", "72404"), ("  88 000 ", "88000")])
def test_short_codes_and_sender_ids_stay_text(raw, kept):
    assert normalize_phone(raw, "GB") == kept


def test_strict_phone_rejects_short_codes_and_words():
    for raw in ("72404", "ParcelGo", "555"):
        with pytest.raises(InvalidAddress):
            normalize_phone(raw, "US", strict=True)


def test_sender_dispatches_on_kind():
    assert normalize_sender("Alex <alex.morgan@gmail.com>", "US") == "alexmorgan@gmail.com"
    assert normalize_sender("(415) 555-0142", "US") == "+14155550142"
    assert normalize_sender("ParcelGo", "US") == "ParcelGo"


@pytest.mark.parametrize("raw, folded", [("José  Álvarez", "jose alvarez"), ("ＡＬＥＸ", "alex"),
                                         ("O'Brien-Smith", "o brien smith"), ("Straße", "strasse")])
def test_fold_name(raw, folded):
    assert fold_name(raw) == folded


def test_format_ranges_are_unicodes_format_characters():
    import sys
    import unicodedata

    from screener.normalize import _FORMAT_CHARS

    expected = {cp for cp in range(sys.maxunicode + 1) if unicodedata.category(chr(cp)) == "Cf"}
    # This Python's Unicode may be newer than the table: every listed one must still be Cf,
    # and anything new must be added.
    assert set(_FORMAT_CHARS) == expected
