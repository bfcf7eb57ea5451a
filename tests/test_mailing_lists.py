"""A mailing-list post is not a new account writing to the user: content alone does not hold it.
Identity evidence still counts, and the blocked person's own address is still held."""

import pytest

from screener.screening import Screener
from screener.sources.mime import parse_email

HOSTILE = ("You're pathetic and everyone on this list knows it. Nobody believes a word you say, you "
           "twist everything and then play the victim. Pathetic.")


def raw_mail(sender: str, extra_headers: str = "", body: str = HOSTILE) -> bytes:
    return (f"From: {sender}\r\nTo: dev-list@lists.example.org\r\nSubject: Re: [dev] the build\r\n"
            f"Message-ID: <x@example.org>\r\nDate: Tue, 3 Mar 2026 10:00:00 +0000\r\n{extra_headers}"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n").encode()


@pytest.mark.parametrize("headers, listed", [
    ("List-Id: Developers <dev.lists.example.org>\r\n", True),
    ("List-Post: <mailto:dev@lists.example.org>\r\n", True),
    ("Precedence: bulk\r\n", True),
    ("List-Unsubscribe: <https://shop.example.com/u/1>\r\n", False),   # any one-to-one marketing tool adds it
    ("", False),
])
def test_a_mailing_list_is_known_by_its_headers(headers, listed):
    assert parse_email(raw_mail("kim.d@gmail.com", headers), "1").mailing_list is listed


def test_content_alone_does_not_hold_a_mailing_list_post(config, model):
    listed, personal = Screener(config, model).screen([
        parse_email(raw_mail("kim.d@gmail.com", "List-Id: <dev.lists.example.org>\r\n"), "1"),
        parse_email(raw_mail("kim.e@gmail.com"), "2")])
    assert personal.action == "quarantine" and personal.tags   # the same words, written to the user
    assert listed.tags and listed.action == "deliver"
    assert listed.reasons[-1].detail == "unknown sender, a mailing-list post, nothing held it"


def test_the_blocked_person_posting_to_a_list_is_still_held(config, model):
    v = Screener(config, model).screen([parse_email(
        raw_mail("Alex Morgan <alex.morgan@gmail.com>", "List-Id: <dev.lists.example.org>\r\n"), "1")])[0]
    assert (v.action, v.sender_status, v.blocked_person) == ("quarantine", "blocked", "Alex Morgan")
