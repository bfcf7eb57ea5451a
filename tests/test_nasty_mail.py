"""A corpus of nasty real-world mail, every one sent by the blocked person.

Small cases are files in tests/nasty_mail/ (see its README.md); the big ones
(a 50 MB attachment, a zip bomb, an HTML bomb, 10,000 recipients, a 1 MB
header line, parts nested thousands deep) are generated here. Each must be
read into a Message quickly and within a memory bound, its parts listed for
the friend's page, and screened by the one screening path: held in
quarantine, attributed to Alex Morgan, whatever its shape.
"""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT
from screener.message import Message
from screener.screening import Screener
from screener.sources.mime import MAX_TEXT

HERE = Path(__file__).parent / "nasty_mail"
ALEX = b"From: Alex Morgan <alex.morgan@gmail.com>\r\n"
HEAD = ALEX + b"To: Sam Rivera <sam.rivera@example.org>\r\nDate: Mon, 3 Feb 2025 21:04:11 +0100\r\nMIME-Version: 1.0\r\n"
THREAT = b"I know you are reading this. Answer me."


def multipart(subject: bytes, *parts: bytes, boundary: bytes = b"nasty") -> bytes:
    body = b"".join(b"--" + boundary + b"\r\n" + p + b"\r\n" for p in parts) + b"--" + boundary + b"--\r\n"
    return HEAD + b"Subject: " + subject + b"\r\nContent-Type: multipart/mixed; boundary=\"" + boundary + \
        b"\"\r\n\r\n" + body


def text_part(text: bytes = THREAT) -> bytes:
    return b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + text


def attachment(name: bytes, ctype: bytes, data: bytes) -> bytes:
    return (b"Content-Type: " + ctype + b"; name=\"" + name + b"\"\r\nContent-Disposition: attachment; filename=\"" +
            name + b"\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
            base64.encodebytes(data).replace(b"\n", b"\r\n"))


def fifty_mb_attachment() -> bytes:
    return multipart(b"the photos", text_part(b"See the attached. " + THREAT),
                     attachment(b"photos.bin", b"application/octet-stream", bytes(range(256)) * (200 * 1024)))


ZIP_MEMBER = 256 << 20


def zip_bomb() -> bytes:
    """256 MB of zeros in a 250 KB zip, and that zip zipped again: never to be opened."""
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("zeros.bin", "w", force_zip64=True) as fh:
        chunk = bytes(1 << 20)
        for _ in range(ZIP_MEMBER >> 20):
            fh.write(chunk)
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, "w", zipfile.ZIP_DEFLATED) as zf:
        for n in range(4):
            zf.writestr(f"part{n}.zip", inner.getvalue())
    return multipart(b"the documents", text_part(), attachment(b"documents.zip", b"application/zip", outer.getvalue()))


def html_bomb() -> bytes:
    markup = (b"<html><head><style>p{}</style></head><body><p>" + THREAT + b"</p>" + b"<div>" * 200_000 +
              b"&amp;&#x41;" * 300_000 + b"<style>" * 50_000 + b"<" * 100_000 + b"</div>" * 200_000 + b"</body></html>")
    return HEAD + b"Subject: look\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + markup


def many_recipients() -> bytes:
    to = b", ".join(b"\"Person %d\" <person%d@example.com>" % (i, i) for i in range(10_000))
    return (ALEX + b"To: " + to + b"\r\nCc: " + to + b"\r\nSubject: to everyone\r\n\r\n" + THREAT)


def megabyte_header_line() -> bytes:
    # The display name pads the From line past any cap: the address at its end must still be read.
    return (b"From: \"" + b"A" * (1 << 20) + b"\" <alex.morgan@gmail.com>\r\nSubject: " + b"S" * (1 << 20) +
            b"\r\nX-Padding: " + b"x" * (1 << 20) + b"\r\n\r\n" + THREAT)


def deep_multipart(depth: int = 3000) -> bytes:
    opening = b"".join(b"Content-Type: multipart/mixed; boundary=d%d\r\n\r\n--d%d\r\n" % (i, i) for i in range(depth))
    closing = b"".join(b"\r\n--d%d--" % i for i in reversed(range(depth)))
    return ALEX + b"Subject: deep\r\n" + opening + text_part() + closing + b"\r\n"


def deep_forward(depth: int = 3000) -> bytes:
    return ALEX + b"Subject: deep forward\r\n" + b"Content-Type: message/rfc822\r\n\r\n" * depth + \
        b"Subject: inner\r\n\r\n" + THREAT


def many_parts(n: int = 10_000) -> bytes:
    return multipart(b"many parts", text_part(), *(attachment(b"f%d.txt" % i, b"text/plain", b"x") for i in range(n)))


def tangled_boundaries() -> bytes:
    # 300 nested boundaries around 50,000 lines: the stdlib parser would check every line 300 times
    opening = b"".join(b"Content-Type: multipart/mixed; boundary=t%d\r\n\r\n--t%d\r\n" % (i, i) for i in range(300))
    return ALEX + b"Subject: tangled\r\n" + opening + text_part(THREAT + b"\r\n" + b"filler line\r\n" * 50_000)


def tangled_bare_cr() -> bytes:
    # the same with lines ended by a bare CR, which the parser also splits on
    return tangled_boundaries().replace(b"\r\n", b"\r")


GENERATED = {              # name: (make, seconds allowed to parse it; listing its parts gets 4 times that)
    "zip-bomb": (zip_bomb, 3),
    "html-bomb": (html_bomb, 3),
    "10000-recipients": (many_recipients, 3),
    "1mb-header-lines": (megabyte_header_line, 3),
    "multipart-3000-deep": (deep_multipart, 3),
    "forward-3000-deep": (deep_forward, 3),
    "10000-parts": (many_parts, 3),
    "300-open-boundaries": (tangled_boundaries, 3),
    "300-open-boundaries-bare-cr": (tangled_bare_cr, 3),
}


# Parsing runs in a child process that imports only the parsers, so its peak resident memory
# (VmHWM, before and after) is the parser's own; tracemalloc would slow it twentyfold, and
# ru_maxrss starts from the parent's size.
RSS = r"""
def rss():
    with open("/proc/self/status") as fh:
        return int(re.search(r"VmHWM:\s+(\d+) kB", fh.read()).group(1)) * 1024
"""
CHILD = r"""
import json, re, sys, time
from screener import mailparts
from screener.sources.mime import parse_email
""" + RSS + r"""
raw = open(sys.argv[1], "rb").read()
base, start = rss(), time.perf_counter()
m = parse_email(raw, "nasty")
out = {"parse_seconds": time.perf_counter() - start, "parse_peak": rss() - base,
       "message": {k: getattr(m, k) for k in ("id", "body", "sender", "sender_name", "subject", "date", "to")}}
start = time.perf_counter()
out.update(headers=mailparts.key_headers(raw), html=mailparts.html_part(raw), images=len(mailparts.inline_images(raw)),
           files=mailparts.attachments(raw))
out.update(parts_seconds=time.perf_counter() - start, peak=rss() - base)
json.dump(out, sys.stdout)
"""


@pytest.fixture(scope="module")
def screener(config, model):
    return Screener(config, model)


def read_and_screen(raw: bytes, screener, seconds: float, tmp_path) -> dict:
    """Parse and list the parts (in a child, timed, peak memory measured), then screen the message."""
    path = tmp_path / "nasty.eml"
    path.write_bytes(raw)
    proc = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True,
                          timeout=seconds * 3 + 30, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout)
    message = Message(**{**out["message"], "to": tuple(out["message"]["to"])})
    (verdict,) = screener.screen([message])
    assert out["parse_seconds"] < seconds and out["parts_seconds"] < seconds * 4, out
    assert out["parse_peak"] < 4 * len(raw) + (32 << 20), f"parse peak {out['parse_peak'] >> 20} MB"
    # listing the attachments decodes them (their sizes), on top of parsing
    assert out["peak"] < 6 * len(raw) + (32 << 20), f"peak {out['peak'] >> 20} MB for {len(raw) >> 20} MB of mail"
    assert message.sender == "alex.morgan@gmail.com" and len(message.body) <= MAX_TEXT
    assert verdict.action == "quarantine" and verdict.blocked_person == "Alex Morgan"
    assert out["headers"][0][0] == "From" and "alex.morgan@gmail.com" in out["headers"][0][1]
    return {**out, "message": message, "verdict": verdict, "files": [tuple(f) for f in out["files"]]}


@pytest.mark.parametrize("name", sorted(p.name for p in HERE.glob("*.eml")))
def test_corpus_file(name, screener, tmp_path):
    got = read_and_screen((HERE / name).read_bytes(), screener, 2, tmp_path)
    message, files = got["message"], got["files"]
    expected = EXPECTED[name]
    for phrase in expected.get("body", ["reading this"]):
        assert phrase in message.body, (phrase, message.body)
    for field in ("subject", "sender_name"):
        if field in expected:
            assert getattr(message, field) == expected[field]
    if "files" in expected:
        assert [(n, t) for n, t, _ in files] == expected["files"]


EXPECTED = {
    "8bit-headers.eml": {"sender_name": "Алекс", "subject": "Réponds-moi — now", "files": [("ph\ufffdto.png", "image/png")]},
    "broken-multipart.eml": {},
    "encoded-words.eml": {"body": ["reading this. Answer me."], "sender_name": "Alex Morgan"},
    "html-hostile.eml": {},
    "line-endings-and-nul.eml": {"body": ["reading this"]},
    "missing-charset-latin1.eml": {"body": ["Ça suffit", "réponds-moi"]},
    "nested-forward.eml": {"body": ["hide forever", "pass this on", "owes me after everything"]},
    "rfc2231-mixed-boundary.eml": {},
    "tnef-winmail.eml": {"body": ["I know you read these"], "files": [("winmail.dat", "application/ms-tnef")]},
    "unknown-charsets.eml": {},
    "uuencoded-and-qp.eml": {"body": ["reading this. Softbreak"], "files": [("x.bin", "application/octet-stream")]},
    "wrong-charset.eml": {"body": ["Café at 3pm", "you’re reading this — answer me"]},
}


def test_every_corpus_file_has_expectations():
    assert sorted(EXPECTED) == sorted(p.name for p in HERE.glob("*.eml"))


def test_hidden_html_text_is_not_read(screener, tmp_path):
    message = read_and_screen((HERE / "html-hostile.eml").read_bytes(), screener, 2, tmp_path)["message"]
    assert "hidden" not in message.body and "tracker" not in message.body and "background" not in message.body


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated(name, screener, tmp_path):
    make, seconds = GENERATED[name]
    raw = make()
    got = read_and_screen(raw, screener, seconds, tmp_path)
    message, files = got["message"], got["files"]
    if name == "zip-bomb":
        assert files == [("documents.zip", "application/zip", files[0][2])] and files[0][2] < 2 << 20
        assert got["peak"] < ZIP_MEMBER // 4                # never unpacked
    elif name == "10000-recipients":
        assert len(message.to) == 50 and message.to[0] == "person0@example.com"
    elif name == "1mb-header-lines":
        assert len(message.subject) <= 4096 + 1 and len(message.sender_name) <= 4096
    elif name == "10000-parts":
        assert len(files) == 10_000
    assert "reading this" in message.body


@pytest.mark.slow
def test_fifty_megabyte_attachment(screener, tmp_path):
    raw = fifty_mb_attachment()
    assert len(raw) > 50 << 20
    got = read_and_screen(raw, screener, 10, tmp_path)
    assert got["message"].body.startswith("See the attached.")
    assert got["files"] == [("photos.bin", "application/octet-stream", 50 << 20)]
    assert got["parse_peak"] < 3.5 * len(raw)          # (email.message_from_bytes needed about 8 times)
