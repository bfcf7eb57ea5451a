"""How an alert reaches the trusted friend: an email (SMTP, STARTTLS by
default, certificate checked) and/or a webhook POST (e.g. a self-hosted ntfy
topic), and what the alert says.

An alert says who sent the held messages (in plain words), the tactics, the
times and links to the friend's page; the text only when `[alerts]
include_text` is true. Passwords come from `resolve_secret` and are redacted
from every error.
"""

from __future__ import annotations

import json
import smtplib
import ssl
import urllib.error
import urllib.request
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from screener.errors import ScreenerError
from screener.secrets import SecretError, redact, resolve_secret
from screener.summary_data import message_time
from screener.timeutil import day_time, parse_iso, utcnow

TIMEOUT = 20
MAX_TEXT = 1500          # characters of each message's text, when include_text is on
MAX_LISTED = 20          # messages described in one alert; the rest are counted

FRIEND_STATUS = {
    "blocked": "a known address or number of {person}",
    "suspected_alias": "a new account, probably {person}",
    "intermediary": "a go-between for {person}",
    "unknown": "a first-time sender",
    "known": "someone who has written before",
    "trusted": "a trusted contact",
}


class AlertError(ScreenerError):
    """An alert could not be delivered through one route (the message says which and why)."""


def configured_routes(config) -> list[str]:
    a = config.alerts
    routes = []
    if a.smtp_host and a.friend_emails:
        routes.append("email")
    if a.webhook_url:
        routes.append("webhook")
    return routes


def link(config, message: int) -> str:
    return f"{config.alerts.page_url.rstrip('/')}/message/{message}"


def compose(config, rows) -> tuple[str, str]:
    """(title, text) of one alert about the messages in `rows` (store rows)."""
    who = config.user.name or "the person you look out for"
    n = len(rows)
    title = f"screener: safety alert for {who}" + (f" ({n} messages)" if n > 1 else "")
    out = [f"screener raised a safety alert about {'a held message' if n == 1 else f'{n} held messages'} "
           f"sent to {who}. Please look at {'it' if n == 1 else 'them'} and check in with {who}.", ""]
    for row in rows[:MAX_LISTED]:
        when = message_time(row["date"], parse_iso(row["received_at"]) or utcnow())
        person = row["blocked_person"] or "a blocked person"
        status = FRIEND_STATUS.get(row["sender_status"], "an unrecognised sender").format(person=person)
        tags = json.loads(row["tags"] or "[]")
        out.append(f"- {day_time(when)}, by {'text message' if row['channel'] == 'sms' else 'email'}")
        out.append(f"  from {status}")
        out.append(f"  tactics: {', '.join(t.replace('_', ' ') for t in tags) if tags else 'none tagged'}")
        out.append(f"  see it: {link(config, row['id'])}")
        if config.alerts.include_text:
            record = json.loads(row["record"])
            text = f"{record.get('subject', '')}\n{record.get('body', '')}".strip()
            if len(text) > MAX_TEXT:
                text = text[:MAX_TEXT] + " [...]"
            out.append("  text:")
            out.extend(f"    {line}" for line in text.splitlines())
    if n > MAX_LISTED:
        out.append(f"- and {n - MAX_LISTED} more: {config.alerts.page_url.rstrip('/')}/")
    if not config.alerts.include_text:
        out += ["", "The text is not included (set include_text in [alerts] to change that)."]
    return title, "\n".join(out) + "\n"


def send(route: str, config, title: str, text: str, click: str) -> None:
    """Deliver through one route; raises AlertError (secrets redacted) on any failure."""
    if route == "email":
        send_email(config, title, text)
    elif route == "webhook":
        send_webhook(config, title, text, click)
    else:
        raise AlertError(f"{route}: unknown alert route")


def send_email(config, subject: str, text: str) -> None:
    a = config.alerts
    password = ""
    try:
        if a.smtp_username:
            password = resolve_secret(a.smtp_password_env, a.smtp_password_command, "alerts.smtp_password")
    except SecretError as exc:
        raise AlertError(f"email: {exc}") from None
    msg = EmailMessage()
    msg["From"] = a.sender or a.smtp_username or "screener@localhost"
    msg["To"] = ", ".join(a.friend_emails)
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="screener.invalid")
    msg.set_content(text)
    try:
        if a.smtp_tls == "ssl":
            smtp = smtplib.SMTP_SSL(a.smtp_host, a.smtp_port, timeout=TIMEOUT, context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(a.smtp_host, a.smtp_port, timeout=TIMEOUT)
        with smtp:
            if a.smtp_tls == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if a.smtp_username:
                smtp.login(a.smtp_username, password)
            smtp.send_message(msg)
    except smtplib.SMTPAuthenticationError as exc:     # the server's words may quote the password
        raise AlertError(f"email via {a.smtp_host}:{a.smtp_port}: the server refused the login "
                         f"({exc.smtp_code})") from None
    except (smtplib.SMTPException, OSError, ValueError) as exc:
        raise AlertError(redact(f"email via {a.smtp_host}:{a.smtp_port}: {_why(exc, None)}", password)[:400]) \
            from None


def send_webhook(config, title: str, text: str, click: str) -> None:
    url = config.alerts.webhook_url
    headers = {"Content-Type": "text/plain; charset=utf-8", "Title": title, "Priority": "high",
               "Tags": "warning", "Click": click}
    try:
        req = urllib.request.Request(url, data=text.encode("utf-8"), method="POST",
                                     headers={k: v.encode("latin-1", "replace").decode("latin-1")
                                              for k, v in headers.items()})
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
            resp.read(4096)
    except urllib.error.HTTPError as exc:
        raise AlertError(f"webhook: the server answered {exc.code}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise AlertError(redact(f"webhook: {_why(getattr(exc, 'reason', exc), None)}", url)[:300]) from None


def _why(exc, limit: int | None = 300) -> str:
    """The error in words; cut to `limit` (None: whole, for redacting before cutting)."""
    if isinstance(exc, BaseException):
        text = str(exc) or type(exc).__name__
        return f"{type(exc).__name__}: {text}"[:limit]
    return str(exc)[:limit]
