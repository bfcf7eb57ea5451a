"""A week in the life, end to end, every part a real process: a local Dovecot,
`screener run` (the daemon), `screener serve-sms` (signed webhooks posted to
it), `screener serve` (the friend's page, in Chromium), an SMTP server that
receives the safety alert, and the commands a user runs (`friend add`,
`summary --deliver`, `evidence export` / `verify`).

Over seven simulated days (the messages' dates), the blocked person writes
from a known address and number and from new ones, a go-between relays,
trusted and ordinary people write, a threat arrives and a handover is
proposed. The friend releases a namesake's invoice that was held by mistake
and confirms the rest. Then the week's summary (with the co-parenting digest)
is delivered into the inbox, and the end state is checked: each message in
exactly one right place, screened once, the alert sent once, the summary
content-free and left unscreened in the inbox, the evidence bundle intact.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.utils import format_datetime, make_msgid

import pytest
from conftest import ROOT
from conftest_dovecot import PASSWORD_ENV, config_text, wait_until
from local_servers import SMTPSink, free_port
from report_corpus import assert_no_leak

from screener.config import load_config
from screener.store import Store
from tests.webserve import chromium, login

QUARANTINE = "Screener/Quarantine"
FRIEND_PASSWORD = "a long friend passphrase"
SMS_KEY_ENV, SMS_KEY = "WEEK_SMS_GATEWAY_KEY", "week-gw-key-5c1e"
NOW = datetime.now(timezone.utc).replace(microsecond=0)
WEEK_START = NOW - timedelta(days=7) + timedelta(hours=1)
HANDOVER_DAY = NOW + timedelta(days=3)

# (day, hour, channel, sender, name, subject, body, expected place)
# expected place: "inbox" / "quarantine" for email, "delivered" / "quarantined" for SMS;
# "released" for the one the friend releases. Each verdict is far from any threshold.
WEEK = [
    (0, 9, "email", "alex.morgan@gmail.com", "Alex Morgan", "Please",
     "I miss you so much. Nobody will ever love you the way I do. Just give me one more chance and answer me.",
     "quarantine"),
    (0, 11, "email", "office@maplewood-primary.example", "Maplewood Primary School", "Class trip to the museum",
     "Dear parents, the Year 3 class trip to the science museum is on Friday. Children should bring a packed "
     "lunch and a coat. Thank you, the school office.", "inbox"),
    (0, 20, "sms", "(415) 555-0142", "", "",
     "Nobody will ever love you like I do. Please give me another chance.", "quarantined"),
    (1, 10, "email", "linda.hughes@example.com", "Linda Hughes", "About Alex",
     "Alex asked me to write to you. He is heartbroken and not sleeping. Please just call him, he only wants to "
     "talk to you once.", "quarantine"),
    (1, 13, "email", "dana@example.net", "Dana Lee", "Lunch on Thursday?",
     "Hi Sam, are we still on for lunch on Thursday at the corner cafe? Let me know. Dana", "inbox"),
    (2, 8, "email", "alex.m0rgan@gmail.com", "Alex M", "hi",
     "You blocked me like I was nothing. After everything I did for you, you owe me a conversation.", "quarantine"),
    (2, 22, "sms", "+1 415 555 0177", "", "",
     "Hey it's Alex, this is my new number. Don't block this one too. I miss you so much, please answer me.",
     "quarantined"),
    (3, 9, "email", "alex.morgan@greenleaf-gardens.example", "Alex Morgan", "Invoice 2231",
     "Hello, please find the invoice for the garden work attached. Payment is due by the end of the month. "
     "Kind regards", "released"),
    (3, 12, "email", "noreply@parcels.example", "Parcel Service", "Your parcel is on its way",
     "Your parcel 4471-2210 has been dispatched and will arrive tomorrow between 9am and 1pm.", "inbox"),
    (3, 15, "sms", "+1 415 555 0123", "", "",
     "Riverside Pharmacy: your prescription is ready for collection. Reply STOP to opt out.", "delivered"),
    (4, 23, "email", "alex.morgan@gmail.com", "Alex Morgan", "tonight",
     "I know where you live. I am coming over tonight and you will regret ignoring me.", "quarantine"),
    (5, 9, "email", "alex.morgan@gmail.com", "Alex Morgan", "Handover",
     f"I will pick up the children on {HANDOVER_DAY:%A %-d %B} at 10:00 at Chorlton Water Park. Bring their "
     "school bags and the consent form.", "quarantine"),
    (5, 18, "sms", "+1 415 555 0199", "", "", "Home safe? Text me when you get in. Dana", "delivered"),
    (6, 7, "email", "alex.morgan@gmail.com", "screener", "Your screener summary",
     "You cannot hide behind a machine forever. Read this one, it is from me.", "quarantine"),
]
FORGED = "Your screener summary"        # carries the summary's header: still screened, still held
THREAT = "I know where you live"
FALSE_POSITIVE = "Invoice 2231"


def sha(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def email_bytes(n: int, when: datetime, sender: str, name: str, subject: str, body: str) -> bytes:
    head = (f"From: {name} <{sender}>\r\nTo: Sam Rivera <sam.rivera@example.org>\r\nSubject: {subject}\r\n"
            f"Date: {format_datetime(when)}\r\nMessage-ID: {make_msgid(f'week{n}', 'test.example')}\r\n"
            + ("X-Screener: summary\r\n" if subject == FORGED else "")
            + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
    return (head + body + "\r\n").encode("utf-8")


def gateway_body(event_id: str, when: datetime, sender: str, text: str) -> bytes:
    return json.dumps({"deviceId": "week-phone", "event": "sms:received", "id": event_id, "webhookId": "wh-week",
                       "payload": {"messageId": "m-" + event_id, "message": text, "sender": sender,
                                   "recipient": "+14155550100", "simNumber": 1,
                                   "receivedAt": when.strftime("%Y-%m-%dT%H:%M:%S.000Z")}}).encode()


def post_signed(url: str, body: bytes) -> int:
    ts = str(int(time.time()))
    sig = hmac.new(SMS_KEY.encode(), body + ts.encode(), hashlib.sha256).hexdigest()
    req = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "X-Timestamp": ts, "X-Signature": sig})
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


class Process:
    """`python -m screener ARGS` in the background, its standard error in a file."""

    def __init__(self, name: str, args: list, env: dict, folder):
        self.name = name
        self.log_path = folder / f"{name}.log"
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "screener", *map(str, args)], cwd=ROOT, env=env,
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=log)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        assert self.proc.poll() is None, f"{self.name} exited ({self.proc.returncode}):\n{self.log()[-3000:]}"
        return True

    def stop(self, sig=signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@pytest.fixture
def processes():
    started: list[Process] = []
    yield started
    for p in started:
        p.stop(signal.SIGKILL)


def week_config(dovecot, tmp_path, smtp, sms_port: int, web_port: int):
    text = config_text(dovecot, tmp_path / "data" / "screener.db").replace('mode = "no_contact"',
                                                                             'mode = "co_parenting"')
    text += f"""
[sms]
gateway_secret_env = "{SMS_KEY_ENV}"
port = {sms_port}

[web]
port = {web_port}

[alerts]
smtp_host = "127.0.0.1"
smtp_port = {smtp.port}
smtp_tls = "none"
sender = "screener@example.org"
friend_emails = ["dana@example.net"]
page_url = "http://127.0.0.1:{web_port}/"
group_seconds = 600

[summary]
mailbox = "personal"
every = "7d"
"""
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path, load_config(path)


def cli(args: list, env: dict, input_text: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "screener", *map(str, args)], cwd=ROOT, env=env, input=input_text,
                          capture_output=True, text=True, timeout=120)


def rows(config) -> list[dict]:
    with Store(config.store.path, readonly=True) as store:
        return [dict(r) for r in store.conn.execute("SELECT * FROM messages ORDER BY id")]


def settled(config) -> int:
    """How many messages are stored, once none is still waiting to be moved (else -1)."""
    states = [r["state"] for r in rows(config)]
    return -1 if "pending" in states else len(states)


def summaries(dovecot) -> list:
    """screener's own summaries in the inbox (the forged one is never there)."""
    return [m for m in dovecot.messages("sam", "INBOX")
            if b"\r\nX-Screener: summary\r\n" in m.raw and b"alex.morgan" not in m.raw]


def test_a_week_in_the_life(dovecot, tmp_path, processes):
    with SMTPSink() as smtp:
        sms_port, web_port = free_port(), free_port()
        path, config = week_config(dovecot, tmp_path, smtp, sms_port, web_port)
        env = {**os.environ, PASSWORD_ENV: dovecot.users["sam"], SMS_KEY_ENV: SMS_KEY}
        sms_url, web_url = f"http://127.0.0.1:{sms_port}", f"http://127.0.0.1:{web_port}"

        # Before the week: last week's summary goes out (so the next is due in 7 days) and lands in the inbox.
        done = cli(["summary", "--config", path, "--deliver"], env)
        assert done.returncode == 0 and "summary to mailbox: delivered" in done.stdout, done.stderr
        assert len(summaries(dovecot)) == 1

        daemon = Process("daemon", ["run", "--config", path], env, tmp_path)
        receiver = Process("serve-sms", ["serve-sms", "--config", path], env, tmp_path)
        web = Process("serve", ["serve", "--config", path], env, tmp_path)
        processes += [daemon, receiver, web]
        wait_until(lambda: daemon.alive() and "screener daemon started" in daemon.log(), timeout=60,
                   message="daemon start")
        wait_until(lambda: receiver.alive() and http_ok(sms_url + "/healthz"), timeout=60, message="serve-sms")
        wait_until(lambda: web.alive() and http_ok(web_url + "/login"), timeout=60, message="serve")

        # The week: each day's messages arrive; the daemon and the receiver screen each as it comes.
        raws: dict[int, bytes] = {}
        for n, (day, hour, channel, sender, name, subject, body, _) in enumerate(WEEK):
            when = WEEK_START + timedelta(days=day, hours=hour - 1)
            if channel == "email":
                raws[n] = email_bytes(n, when, sender, name, subject, body)
                dovecot.append("sam", "INBOX", raws[n])
            else:
                raws[n] = gateway_body(f"evt-week-{n}", when, sender, body)
                assert post_signed(sms_url + "/sms/gateway", raws[n]) == 200
            if n + 1 == len(WEEK) or WEEK[n + 1][0] != day:       # end of the day: all of it screened
                wait_until(lambda: settled(config) == n + 1, timeout=30, message=f"day {day} screened")
            if THREAT in body:
                wait_until(lambda: len(smtp.messages) == 1, timeout=30, message="the safety alert")

        by_raw = {sha(r["raw"]): r for r in rows(config)}
        row = {n: by_raw[sha(raw)] for n, raw in raws.items()}
        for n, item in enumerate(WEEK):
            want = {"inbox": "delivered", "quarantine": "quarantined", "released": "quarantined"}.get(item[7], item[7])
            assert row[n]["state"] == want, (item[6][:40], row[n]["state"], row[n]["reasons"])
        people = {n: (row[n]["sender_status"], row[n]["blocked_person"]) for n in row}
        assert people[0] == people[2] == people[10] == people[11] == people[13] == ("blocked", "Alex Morgan")
        assert people[3] == ("intermediary", "Alex Morgan")
        assert people[5] == people[6] == ("suspected_alias", "Alex Morgan")
        assert people[4] == people[12] == ("trusted", None)
        assert [n for n in row if row[n]["alert"]] == [10]

        # The friend's week-end review, in the browser: release the namesake's invoice, confirm the rest.
        assert cli(["friend", "add", "--config", path, "dana", "--password-stdin"], env,
                   FRIEND_PASSWORD + "\n").returncode == 0
        held = [n for n, item in enumerate(WEEK) if item[7] in ("quarantine", "quarantined", "released")]
        fp = next(n for n, item in enumerate(WEEK) if item[5] == FALSE_POSITIVE)
        with chromium() as browser:
            page = browser.new_page()
            login(page, web_url, "dana", FRIEND_PASSWORD)
            page.goto(f"{web_url}/queue")
            items = page.locator(".queue .item")
            assert items.count() == len(held)
            assert page.locator(".queue .item.alert").count() == 1
            page.goto(f"{web_url}/message/{row[fp]['id']}")
            page.get_by_role("button", name="Release to the inbox").click()
            assert "Release requested" in page.get_by_role("status").inner_text()
            page.goto(f"{web_url}/queue")
            for n in held:
                if n != fp:
                    page.locator(f"#sel-{row[n]['id']}").check()
            page.get_by_role("button", name=re.compile("Confirm selected")).click()
            assert f"Confirmed {len(held) - 1} message(s)" in page.get_by_role("status").inner_text()

        def inbox() -> set[str]:
            return {m.sha256 for m in dovecot.messages("sam", "INBOX")}

        wait_until(lambda: sha(raws[fp]) in inbox(), timeout=30, message="the release")
        wait_until(lambda: by_id(config, row[fp]["id"])["state"] == "released", message="release recorded")

        # The week is over: the user's summary (with the co-parenting digest) is delivered into the inbox.
        done = cli(["summary", "--config", path, "--deliver"], env)
        assert done.returncode == 0 and "summary to mailbox: delivered" in done.stdout, done.stderr
        assert len(summaries(dovecot)) == 2
        last_uid = max(m.uid for m in summaries(dovecot))
        # the watermark moves in the same transaction as what the daemon stores: past it, the summary was seen
        wait_until(lambda: watermark(config) >= last_uid, timeout=30, message="the daemon saw the summary")

        assert daemon.stop() == 0 and receiver.stop(signal.SIGINT) == 0 and web.stop(signal.SIGINT) == 0
        logs = daemon.log() + receiver.log() + web.log()

    # Every message in exactly one right place, screened once.
    final = rows(config)
    assert len(final) == len(WEEK)                          # the two summaries were never screened
    assert len({r["sha256"] for r in final}) == len(final)
    in_inbox = {m.sha256: m for m in dovecot.messages("sam", "INBOX")}
    in_quarantine = {m.sha256: m for m in dovecot.messages("sam", QUARANTINE)}
    assert not set(in_inbox) & set(in_quarantine)
    emails = {n for n, item in enumerate(WEEK) if item[2] == "email"}
    assert set(in_inbox) == {sha(raws[n]) for n in emails if WEEK[n][7] in ("inbox", "released")} | \
        {s.sha256 for s in summaries(dovecot)}
    assert set(in_quarantine) == {sha(raws[n]) for n in emails if WEEK[n][7] == "quarantine"}
    assert not any(m.seen for m in [*in_inbox.values(), *in_quarantine.values()])
    end = {r["sha256"]: r for r in final}
    for n, item in enumerate(WEEK):
        r = end[sha(raws[n])]
        place = {"inbox": ("delivered", "INBOX"), "quarantine": ("quarantined", QUARANTINE),
                 "released": ("released", "INBOX"), "quarantined": ("quarantined", None),
                 "delivered": ("delivered", None)}[item[7]]
        assert r["state"] == place[0], (n, r["state"])
        if place[1]:
            assert r["location"] == place[1] and r["source"] == "imap"
        else:
            assert r["source"] == "sms-gateway" and r["channel"] == "sms"
    with Store(config.store.path, readonly=True) as store:
        screened = [r[0] for r in store.conn.execute("SELECT message FROM audit WHERE action = 'screened'")]
        assert sorted(screened) == sorted(r["id"] for r in final)
        assert store.verify() == []
        alert_rows = store.conn.execute("SELECT message, via, status FROM alerts WHERE message IS NOT NULL"
                                        ).fetchall()
        assert [tuple(a) for a in alert_rows] == [(row[10]["id"], "email", "sent")]
        confirmed = {r[0] for r in store.conn.execute("SELECT message FROM annotations WHERE kind = 'confirm'")}
        assert confirmed == {row[n]["id"] for n in held if n != fp}

    # The alert reached the friend once, without the message's words.
    assert len(smtp.messages) == 1
    alert_text = smtp.messages[0].get_body(("plain",)).get_content()
    assert f"/message/{row[10]['id']}" in alert_text and THREAT.lower() not in alert_text.lower()

    # The summary: the week's counts and the handover, in words of screener's own, never the messages'.
    summary = message_from_bytes(summaries(dovecot)[-1].raw, policy=policy.default)
    text = summary.get_body(("plain",)).get_content()
    html = summary.get_body(("html",)).get_content()
    held_records = [{"subject": WEEK[n][5], "body": WEEK[n][6]} for n in held]
    assert_no_leak(text, held_records)
    assert_no_leak(html, held_records, fmt="html")
    assert "Chorlton Water Park" in text and f"{HANDOVER_DAY:%a %-d %b}" in text
    assert f"{len(WEEK)} messages screened: 5 delivered to you, {len(held)} held back." in text
    assert "Released to you after checking: 1 message." in text
    assert "One message raised a safety alert. Your trusted friend was told at the time." in text

    # No secret and no message text in any process's log.
    for secret in (dovecot.users["sam"], SMS_KEY, FRIEND_PASSWORD):
        assert secret not in logs
    for item in WEEK:
        assert item[6][:30] not in logs

    # The evidence bundle: exported and verified by the commands.
    bundle = tmp_path / "evidence.zip"
    out = cli(["evidence", "export", "--config", path, bundle], env)
    assert out.returncode == 0, out.stderr
    check = cli(["evidence", "verify", bundle], env)
    assert check.returncode == 0, check.stdout + check.stderr
    with zipfile.ZipFile(bundle) as z:
        manifest = json.loads(z.read("manifest.json"))
    exported = {m["sha256"] for m in manifest["messages"]}
    assert {sha(raws[n]) for n in held if n != fp} <= exported
    assert not {sha(raws[n]) for n, item in enumerate(WEEK) if item[7] in ("inbox", "delivered")} & exported


def by_id(config, message_id: int) -> dict:
    with Store(config.store.path, readonly=True) as store:
        return dict(store.get(message_id))


def watermark(config) -> int:
    with Store(config.store.path, readonly=True) as store:
        mark = store.watermark("personal", "INBOX")
    return mark[1] if mark else 0
