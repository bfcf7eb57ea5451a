"""Build real-format "SMS Backup & Restore" exports for the SMS tests.

The layout follows files written by the Android app: an XML declaration, the
app's comment and stylesheet line, `<smses count=... backup_set=...>`, every
value in attributes, "null" for missing ones, newlines as `&#10;`, and
(`surrogates=True`) characters outside the BMP as surrogate-pair references
like older versions of the app write them.
"""

from __future__ import annotations

import base64
import random
from dataclasses import dataclass, field

ME = "+14155550100"
ALEX = ("(415) 555-0142", "+14155550142", "4155550142", "+1 415-555-0142")
DANA = "+1 415 555 0199"
HEADER = ("<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n"
          "<!--File Created By SMS Backup & Restore v10.20.002 on 02/03/2025 21:04:11-->\n"
          '<?xml-stylesheet type="text/xsl" href="sms.xsl"?>\n')
BENIGN = [
    "Your table for 4 is confirmed for Friday 7pm", "Can you grab milk on the way home?",
    "Running 10 min late, sorry!", "Happy birthday!! \U0001F382\U0001F389", "Did you see the game last night",
    "The plumber can come Tuesday morning", "Book club moved to the 14th", "Thanks for dinner \U0001F60A",
    "Parcel delivered to your front door", "Are we still on for coffee tomorrow?",
    "Mum says hi \u2764\ufe0f", "Rent reminder: due on the 1st", "Lol that's hilarious \U0001F602",
    "Pick-up is at 3:15 today", "Meeting notes are in the shared folder",
]
ALEX_TEXTS = [
    "You never cared about anyone but yourself \U0001F621", "I know you're reading these. Answer me.",
    "After everything I did for you, this is how you treat me?", "Pick up the phone \U0001F4F1 NOW",
    "Nobody else will ever put up with you", "I'm sorry ok?? \U0001F622 please just talk to me",
    "You're making me look crazy in front of everyone", "Remember who paid for your car",
]


def esc(text: str, surrogates: bool = False) -> str:
    out = []
    for ch in text:
        if ch in "&<>\"'\n":
            out.append({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;", "\n": "&#10;"}[ch])
        elif surrogates and ord(ch) > 0xFFFF:
            v = ord(ch) - 0x10000
            out.append(f"&#{0xD800 + (v >> 10)};&#{0xDC00 + (v & 0x3FF)};")
        else:
            out.append(ch)
    return "".join(out)


@dataclass
class Sms:
    address: str
    body: str | None
    date: int
    type: int = 1
    contact: str | None = None

    def xml(self, surrogates: bool) -> str:
        body = "null" if self.body is None else esc(self.body, surrogates)
        name = esc(self.contact) if self.contact else "null"
        return (f'  <sms protocol="0" address="{esc(self.address)}" date="{self.date}" type="{self.type}" '
                f'subject="null" body="{body}" toa="null" sc_toa="null" service_center="null" read="1" '
                f'status="-1" locked="0" date_sent="{self.date - 2000}" sub_id="1" '
                f'readable_date="Feb 3, 2025 9:04:11 PM" contact_name="{name}" />\n')


@dataclass
class Mms:
    sender: str                      # ME for a sent one
    recipients: list[str]            # other people than the sender (ME included when received)
    text: str | None
    date: int
    box: int = 1
    image: bytes = b""
    contact: str | None = None

    @property
    def group(self) -> bool:
        return len([r for r in self.recipients if r != ME]) + (self.sender != ME) > 1

    def xml(self, surrogates: bool) -> str:
        others = ([self.sender] if self.sender != ME else []) + [r for r in self.recipients if r != ME]
        name = esc(self.contact) if self.contact else "null"
        m_type = 132 if self.box == 1 else 128
        out = [f'  <mms date="{self.date}" spam_report="0" ct_t="application/vnd.wap.multipart.related" '
               f'msg_box="{self.box}" address="{esc("~".join(others))}" sub_cs="null" retr_st="null" d_tm="null" '
               f'exp="null" locked="0" m_id="mid{self.date}" st="null" retr_txt_cs="null" retr_txt="null" '
               f'creator="com.google.android.apps.messaging" date_sent="{self.date // 1000}" read="1" '
               f'm_size="{len(self.image) + 200}" rr="129" sub="null" read_status="null" seen="1" '
               f'm_type="{m_type}" text_only="{0 if self.image else 1}" '
               f'readable_date="Feb 3, 2025 9:04:11 PM" contact_name="{name}">\n    <parts>\n',
               '      <part seq="-1" ct="application/smil" name="null" chset="null" cd="null" fn="null" '
               'cid="&lt;smil&gt;" cl="smil.xml" ctt_s="null" ctt_t="null" '
               'text="&lt;smil&gt;&lt;body&gt;&lt;par dur=&quot;5000ms&quot;/&gt;&lt;/body&gt;&lt;/smil&gt;" />\n']
        if self.image:
            out.append(f'      <part seq="0" ct="image/jpeg" name="IMG_0001.jpg" chset="null" cd="null" fn="null" '
                       f'cid="&lt;IMG_0001&gt;" cl="IMG_0001.jpg" ctt_s="null" ctt_t="null" text="null" '
                       f'data="{base64.b64encode(self.image).decode()}" />\n')
        if self.text is not None:
            out.append(f'      <part seq="0" ct="text/plain" name="null" chset="106" cd="null" fn="null" '
                       f'cid="&lt;text_0&gt;" cl="text_0.txt" ctt_s="null" ctt_t="null" '
                       f'text="{esc(self.text, surrogates)}" />\n')
        out.append("    </parts>\n    <addrs>\n")
        sender = "insert-address-token" if self.sender == ME else self.sender
        out.append(f'      <addr address="{esc(sender)}" type="137" charset="106" />\n')
        for r in self.recipients:
            out.append(f'      <addr address="{esc(r)}" type="151" charset="106" />\n')
        out.append("    </addrs>\n  </mms>\n")
        return "".join(out)


@dataclass
class Corpus:
    items: list = field(default_factory=list)

    def received(self):
        return [m for m in self.items if (m.type if isinstance(m, Sms) else m.box) == 1]

    def from_alex(self):
        return [m for m in self.received() if (m.address if isinstance(m, Sms) else m.sender) in ALEX]


def corpus(seed: int = 6, start: int = 1_700_000_000_000, n_benign: int = 200) -> Corpus:
    """A few hundred messages: SMS both ways, MMS with pictures, group MMS, Alex under four spellings."""
    rng = random.Random(seed)
    friends = [f"+1 415 555 {210 + i:04d}" for i in range(12)] + ["ParcelGo", "72345"]
    c = Corpus()
    t = start
    for i in range(n_benign):
        t += rng.randint(30_000, 3_600_000)
        who = rng.choice(friends)
        body = f"{rng.choice(BENIGN)} ({i})"
        c.items.append(Sms(who, body, t, type=1 if rng.random() < 0.75 else 2,
                           contact=None if who[0] != "+" or rng.random() < 0.3 else f"Friend {who[-2:]}"))
        if i % 17 == 0:
            t += 1000
            c.items.append(Mms(who, [ME], rng.choice(BENIGN), t, image=rng.randbytes(rng.randint(500, 4000)),
                               contact="Friend"))
        if i % 23 == 0:
            t += 1000
            c.items.append(Mms(ME, [who], "see attached", t, box=2, image=rng.randbytes(800)))
        if i % 9 == 0:
            t += 1000
            alex = ALEX[(i // 9) % len(ALEX)]
            c.items.append(Sms(alex, ALEX_TEXTS[(i // 9) % len(ALEX_TEXTS)] + f" [{i}]", t, contact="Alex"))
            c.items.append(Sms(alex, "Leave me alone.", t + 5000, type=2, contact="Alex"))
        if i % 40 == 0:
            t += 1000
            c.items.append(Mms(ALEX[1], [ME, friends[0], friends[1]], f"Tell her to answer me \U0001F620 [{i}]", t,
                               image=rng.randbytes(1200), contact="Alex, Friend 10, Friend 11"))
            c.items.append(Mms(friends[2], [ME, ALEX[1]], f"Dinner at mine sat? [{i}]", t + 1000,
                               contact="Friend 12, Alex"))
    t += 60_000
    c.items.append(Sms(DANA, "Checking in \U0001F917 call me when you can", t, contact="Dana Lee"))
    c.items.append(Sms(friends[3], None, t + 1000))                           # body "null"
    c.items.append(Mms(friends[4], [ME], None, t + 2000, image=b"\xff\xd8\xff" + rng.randbytes(900)))  # picture only
    return c


def render(items, surrogates: bool = False, backup_set: str = "a1b2c3") -> bytes:
    head = (f'<smses count="{len(items)}" backup_set="{backup_set}" backup_date="1738616651000" '
            f'type="full">\n')
    return (HEADER + head + "".join(m.xml(surrogates) for m in items) + "</smses>\n").encode("utf-8")


def padding(size: int, date: int) -> Mms:
    """A sent MMS whose text part is `size` bytes of "x" (to move what follows to a chosen offset)."""
    return Mms(ME, ["+1 415 555 0210"], "x" * size, date, box=2)
