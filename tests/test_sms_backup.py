"""The SMS Backup & Restore reader and its surrogate-reference repair, on real-format bytes."""

import io
import json
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsfiles import ALEX, ME, Mms, Sms, esc, render
from screener.sources.sms_backup import BackupError, read_entries
from screener.sources.xml_repair import RepairingReader, repair


def repaired(data: bytes, chunk: int) -> bytes:
    reader = RepairingReader(io.BytesIO(data), chunk)
    out = []
    while True:
        piece = reader.read(chunk)
        if not piece:
            return b"".join(out)
        out.append(piece)


def entries(data: bytes, chunk: int = 1 << 20):
    return list(read_entries(io.BytesIO(data), "test.xml", chunk=chunk))


def test_surrogate_pairs_become_the_real_character():
    assert repair(b"a&#55357;&#56832;b") == b"a&#128512;b"
    assert repair(b"&#xD83D;&#xDE00;") == b"&#128512;"
    # lone halves, a reversed pair, a forbidden control character: U+FFFD
    assert repair(b"&#55357;x&#56832;&#56832;&#55357;&#1;") == b"&#65533;x&#65533;&#65533;&#65533;&#65533;"
    # two highs then a low: the first is lone, the second pairs
    assert repair(b"&#55357;&#55357;&#56832;") == b"&#65533;&#128512;"
    # valid references and plain text pass through untouched
    assert repair(b"it&#39;s &#128512; &amp;#55357; ok") == b"it&#39;s &#128512; &amp;#55357; ok"


def test_the_repaired_text_is_what_a_strict_parser_reads():
    raw = b'<a v="x&#55357;&#56832;y&#56832;z&#0;"/>'
    with pytest.raises(ET.ParseError):
        ET.fromstring(raw)
    assert ET.fromstring(repair(raw)).get("v") == "x\U0001F600y\ufffdz\ufffd"


@settings(max_examples=150, deadline=None)
@given(pieces=st.lists(st.sampled_from(["a", "&", ";", "#", "\U0001F600", "\U0001F44D\U0001F3FD", "\u00e9",
                                        "&#55357;", "&#56832;", "&#xD83D;", "&#39;"]), max_size=30),
       chunk=st.integers(min_value=1, max_value=23))
def test_chunk_boundaries_do_not_change_the_result(pieces, chunk):
    text = "".join(pieces)
    data = esc(text, surrogates=True).encode() + text.encode()
    assert repaired(data, chunk) == repaired(data, 1 << 20) == repair(data)


def test_every_split_of_a_pair_is_repaired():
    data = b'<smses><sms type="1" address="1" date="5" body="a&#55357;&#56832;&#xD83D;&#xDC4D;b"/></smses>'
    for chunk in range(1, 40):
        (entry,) = entries(data, chunk)
        assert entry.body == "a\U0001F600\U0001F44Db", chunk


def test_sms_fields_null_and_sent():
    data = render([Sms(ALEX[0], "hi\nthere & <you> \U0001F600", 1700000000123, contact="Alex"),
                   Sms("+14155550210", None, 1700000001000),
                   Sms(ALEX[0], "no", 1700000002000, type=2)], surrogates=True)
    a, b, c = entries(data)
    assert (a.kind, a.received, a.sender, a.sender_name) == ("sms", True, "(415) 555-0142", "Alex")
    assert a.body == "hi\nthere & <you> \U0001F600" and a.date_ms == 1700000000123
    assert a.message(a.dedup_key("US")).date == "2023-11-14T22:13:20Z"
    assert (b.body, b.sender_name, b.subject) == ("", "", "")      # "null" is missing, not the word null
    assert not c.received
    raw = json.loads(a.raw)
    assert raw["element"] == "sms" and raw["attrs"]["body"] == a.body and raw["attrs"]["readable_date"]


def test_mms_text_parts_sender_group_and_media():
    data = render([Mms(ALEX[1], [ME, "+14155550211", "+14155550212"], "look \U0001F620", 1700000000000,
                       image=b"\xff\xd8\xff\xe0picture", contact="Alex, Bo, Cy"),
                   Mms("+14155550213", [ME], None, 1700000005000, image=b"\xff\xd8only"),
                   Mms(ME, ["+14155550213"], "sent one", 1700000009000, box=2)])
    group, picture, sent = entries(data)
    assert group.kind == "mms" and group.received and group.group
    assert group.sender == "+14155550142" and group.sender_name == ""    # the contact names are the group's
    assert group.body == "look \U0001F620"                               # the SMIL part is not text
    assert set(group.to) == {ME, "+14155550211", "+14155550212"}
    parts = json.loads(group.raw)["parts"]
    assert any(p["ct"] == "image/jpeg" and p["data"] for p in parts)    # the picture is kept as evidence
    assert picture.received and not picture.group and picture.body == "" and picture.sender == "+14155550213"
    assert not sent.received


def test_dedup_key_survives_a_new_backup_in_the_other_encoding():
    msg = Sms(ALEX[0], "call me \U0001F621\U0001F621", 1700000000000)
    (a,) = entries(render([msg], surrogates=False))
    (b,) = entries(render([msg], surrogates=True, backup_set="other"))
    assert a.dedup_key("US") == b.dedup_key("US")
    # the same text from another spelling of the same number is the same message
    (c,) = entries(render([Sms(ALEX[1], msg.body, msg.date)]))
    assert c.dedup_key("US") == a.dedup_key("US")
    (d,) = entries(render([Sms(ALEX[0], msg.body, msg.date + 1)]))
    assert d.dedup_key("US") != a.dedup_key("US")


@pytest.mark.parametrize("data, problem", [
    (render([Sms(ALEX[0], "x", 1)])[:-30], "ends before the backup does"),
    (render([Sms(ALEX[0], "x", 1)])[:-9], "ends before the backup does"),
    (b"", "ends before the backup does"),
    (b'<?xml version="1.0"?><calls count="0"></calls>', "call log backup"),
    (b"<html><body>hello</body></html>", "root element is <html>"),
    (b'<smses><sms body="a" body="b"/></smses>', "line 1, column"),
    (b'<smses><sms body="a"/></smses><smses/>', "not well-formed"),
    (b'<?xml version="1.0"?><!DOCTYPE smses [<!ENTITY a "aaaa">]><smses/>', "declares XML entities"),
    (b'<smses><sms body="\xff\xfe"/></smses>', "not well-formed"),
])
def test_broken_files_raise_one_line(data, problem):
    with pytest.raises(BackupError) as err:
        entries(data, chunk=7)
    assert problem in str(err.value) and "\n" not in str(err.value) and "test.xml" in str(err.value)
