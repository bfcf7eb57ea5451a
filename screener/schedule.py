"""Periodic jobs of the daemon.

`tick(config, store)` is called by the daemon about once a minute. It
delivers the user's summary when it is due (`[summary] every`) to a file
and/or the user's own mailbox (IMAP APPEND), and retries failed alerts.
Each destination keeps its own last delivery in the `state` table, so one
that fails is retried (every 15 minutes) without repeating the other.
In co_parenting mode the digest travels inside the summary and is recorded
as delivered. `tick` never raises: each failure is logged in one line.
The summary's exact bytes are recorded (`screener.own_mail`) before they are
appended, so the daemon leaves it in the inbox without screening it.
`deliver_summary` is also what `screener summary --deliver` calls.
"""

from __future__ import annotations

import base64
import logging
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid
from pathlib import Path

from screener import alerts, chart, digest as digest_mod, own_mail, summary
from screener.imap_append import MailboxError, append_message
from screener.private import create_private
from screener.summary_data import gather
from screener.timeutil import iso, parse_duration, parse_iso, utcnow

log = logging.getLogger("screener.schedule")
RETRY = timedelta(minutes=15)


def tick(config, store, now: datetime | None = None) -> None:
    """Run whatever periodic work is due. Never raises."""
    now = now or utcnow()
    for name, job in (("summary", deliver_summary_if_due), ("alerts", _retry_alerts)):
        try:
            job(config, store, now)
        except Exception as exc:  # a periodic job must not stop the daemon
            log.error("schedule: %s failed (%s: %s)", name, type(exc).__name__, str(exc)[:200])


def _retry_alerts(config, store, now: datetime) -> None:
    alerts.deliver_pending(config, store, now=now)


def destinations(config) -> list[str]:
    out = []
    if config.summary.file:
        out.append("file")
    if config.summary.mailbox:
        out.append("mailbox")
    return out


def is_due(store, dest: str, every: timedelta, now: datetime) -> bool:
    retry = parse_iso(store.get_state(f"summary.{dest}.retry_at"))
    if retry is not None and retry > now:
        return False
    last = parse_iso(store.get_state(f"summary.{dest}.delivered_at"))
    return last is None or now - last >= every


@dataclass
class Rendered:
    text: str
    html_cid: str           # for email: the chart as a cid: reference
    html_page: str          # for a file: the chart embedded
    png: bytes
    subject: str
    digest: object | None


def render(config, store, every: timedelta, now: datetime) -> Rendered:
    data = gather(config, store, every, now=now)
    dig = digest_mod.collect(config, store, every, now=now) if config.policy.mode == "co_parenting" else None
    png = chart.png_chart(data.weeks)
    uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return Rendered(text=summary.to_text(data, dig), html_cid=summary.to_html(data, dig, f"cid:{summary.CHART_CID}"),
                    html_page=summary.to_html(data, dig, uri), png=png,
                    subject=f"Your screener summary ({summary.period(data)})", digest=dig)


def deliver_summary_if_due(config, store, now: datetime) -> list[str]:
    """Deliver to each due destination; return those delivered."""
    if config.summary.every == "never":
        return []
    every = parse_duration(config.summary.every)
    due = [d for d in destinations(config) if is_due(store, d, every, now)]
    if not due:
        return []
    # cover everything since the oldest of these deliveries, so nothing falls between two summaries
    lasts = [parse_iso(store.get_state(f"summary.{d}.delivered_at")) for d in due]
    since = max([every] + [now - last for last in lasts if last is not None])
    failed = deliver_summary(config, store, due, since, now)
    for dest, error in failed.items():
        with store.write():
            store.set_state(f"summary.{dest}.retry_at", iso(now + RETRY))
        log.error("summary to %s failed, retrying in 15 minutes: %s", dest, error)
    return [d for d in due if d not in failed]


def deliver_summary(config, store, dests: list[str], since: timedelta, now: datetime) -> dict[str, str]:
    """Deliver the summary of `since` up to `now` to each of `dests` ("file", "mailbox") and record each
    delivery; return {destination: error} for those that failed."""
    rendered = render(config, store, since, now)
    failed, done = {}, []
    for dest in dests:
        try:
            if dest == "file":
                html = config.summary.format == "html"
                write_file(config.summary.file, rendered.html_page if html else rendered.text)
            else:
                account = next((a for a in config.imap if a.name == config.summary.mailbox), None)
                if account is None:
                    raise MailboxError(f"summary.mailbox: no [[imap]] account is named {config.summary.mailbox!r}")
                raw = summary_email(config, account, rendered)
                own_mail.remember(store, raw, "summary")   # so the daemon delivers it unscreened
                append_message(account, account.inbox, raw)
        except (MailboxError, OSError) as exc:
            failed[dest] = str(exc)[:300]
            continue
        with store.write():
            store.set_state(f"summary.{dest}.delivered_at", iso(now))
            store.conn.execute("DELETE FROM state WHERE key = ?", (f"summary.{dest}.retry_at",))
            store.audit("schedule", "summary_delivered", None, to=dest)
        done.append(dest)
    if done and rendered.digest is not None:
        digest_mod.record_digest(store, rendered.digest)
    return failed


def write_file(path: Path, text: str) -> None:
    """Replace the file in one step, readable only by its owner."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    fd = create_private(tmp)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def summary_email(config, account, rendered: Rendered) -> bytes:
    """The summary as an ordinary message: text, and HTML with the chart inline."""
    me = (config.user.emails[0] if config.user.emails else account.username)
    msg = EmailMessage()
    msg["From"] = f"screener <{me}>" if "@" in me else "screener <screener@localhost>"
    msg["To"] = me if "@" in me else "screener@localhost"
    msg["Subject"] = rendered.subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="screener.invalid")
    msg["X-Screener"] = "summary"
    msg.set_content(rendered.text)
    msg.add_alternative(rendered.html_cid, subtype="html")
    msg.get_payload()[1].add_related(rendered.png, maintype="image", subtype="png", cid=f"<{summary.CHART_CID}>",
                                     filename="trend.png", disposition="inline")
    return msg.as_bytes(policy=SMTP)
