"""Phone-gateway webhooks as pure functions: check a signature, read a payload.

Three senders are understood:

- SMS Gateway for Android (`sms:received` events). `X-Signature` is the hex
  HMAC-SHA256, keyed with the app's signing key, of the raw body followed by
  the `X-Timestamp` header (Unix seconds); the timestamp must be within
  `[sms].max_age_seconds` of now, so a captured request cannot be replayed
  later. Other events (`sms:sent`, `system:ping`...) are acknowledged and
  ignored.
- Twilio inbound SMS (form fields `From`, `To`, `Body`, `MessageSid`,
  `NumMedia`). `X-Twilio-Signature` is the base64 HMAC-SHA1, keyed with the
  auth token, of the full URL followed by every parameter name and value,
  sorted by name. Media are never fetched (only their count is kept).
- Any other forwarder posting JSON, read through `[sms].generic_fields`, and
  authenticated like the gateway (HMAC + timestamp) or, for apps that can
  only set a fixed header, with `Authorization: Bearer <secret>`.

Every comparison of a secret value is constant-time. Nothing here logs or
returns a secret. Each parser returns an `Incoming` carrying the raw body
byte for byte, and a dedup key (the event id, the MessageSid...) so a retried
or replayed request is stored once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from screener.errors import ScreenerError
from screener.message import Message, clean_text
from screener.store import Incoming

MAX_TEXT = 200_000
RECORD_FIELDS = ("id", "sender", "body", "date", "sender_name", "to")
GATEWAY_EVENT = "sms:received"


class WebhookError(ScreenerError):
    """A request to refuse: `status` is the HTTP status to answer, `reason` is safe to log."""

    def __init__(self, status: int, reason: str):
        self.status, self.reason = status, reason
        super().__init__(reason)


@dataclass(frozen=True)
class Received:
    """What a webhook brought: a message to store, or an event to acknowledge and ignore."""

    item: Incoming | None
    ignored: str = ""


def _same(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))


def hmac_hex(key: str, raw: bytes, timestamp: str) -> str:
    return hmac.new(key.encode(), raw + timestamp.encode(), hashlib.sha256).hexdigest()


def verify_timed_hmac(key: str, raw: bytes, timestamp: str | None, signature: str | None,
                      now: float, max_age: int) -> None:
    """The gateway's (and the generic webhook's) scheme. Raises WebhookError 401/403."""
    if not signature or not timestamp:
        raise WebhookError(401, "missing X-Signature or X-Timestamp")
    if not re.fullmatch(r"[0-9]{1,12}", timestamp.strip()):
        raise WebhookError(403, "X-Timestamp is not Unix seconds")
    if not _same(hmac_hex(key, raw, timestamp), signature.strip().lower()):
        raise WebhookError(403, "bad signature")
    if abs(now - int(timestamp)) > max_age:
        raise WebhookError(403, f"stale timestamp ({int(now - int(timestamp))} s from now; window {max_age} s)")


def verify_bearer(secret: str, authorization: str | None) -> None:
    if not authorization:
        raise WebhookError(401, "missing Authorization")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not _same(secret, token.strip()):
        raise WebhookError(403, "bad token")


def twilio_signature(token: str, url: str, params: list[tuple[str, str]]) -> str:
    data = url + "".join(k + v for k, v in sorted(set(params)))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def _with_and_without_port(url: str) -> list[str]:
    """Twilio may sign the URL with or without the default port; accept both forms."""
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    forms = [url]
    if default and parts.hostname:
        host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
        userinfo = parts.netloc.rpartition("@")[0]
        prefix = userinfo + "@" if userinfo else ""
        other = prefix + host if parts.port else f"{prefix}{host}:{default}"
        if parts.port in (None, default):
            forms.append(urlunsplit(parts._replace(netloc=other)))
    return forms


def verify_twilio(token: str, url: str, params: list[tuple[str, str]], signature: str | None) -> None:
    if not signature:
        raise WebhookError(401, "missing X-Twilio-Signature")
    if not any(_same(twilio_signature(token, u, params), signature.strip()) for u in _with_and_without_port(url)):
        raise WebhookError(403, "bad signature")


def _json(raw: bytes) -> dict:
    try:
        obj = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):     # ValueError: not UTF-8, not JSON, or an integer of > 4300 digits
        raise WebhookError(400, "body is not JSON") from None
    if not isinstance(obj, dict):
        raise WebhookError(400, "body is not a JSON object")
    return obj


def iso_date(value) -> str:
    """ISO 8601 UTC from an ISO string, or Unix seconds / milliseconds; '' when unreadable."""
    try:
        if isinstance(value, bool) or value is None or value == "":
            return ""
        if isinstance(value, (int, float)) or (isinstance(value, str) and re.fullmatch(r"\d{9,13}", value)):
            seconds = float(value)
            if seconds > 1e11:
                seconds /= 1000
            when = datetime.fromtimestamp(seconds, timezone.utc)
        else:
            when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            if when.tzinfo is None:
                return when.strftime("%Y-%m-%dT%H:%M:%S")
        return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (ValueError, OverflowError, OSError):
        return ""


def _text(value, what: str, required: bool = True) -> str:
    if value is None or value == "":
        if required:
            raise WebhookError(400, f"missing {what}")
        return ""
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise WebhookError(400, f"{what} is not text")
    return clean_text(str(value))         # a JSON "\ud800" escape gives text that cannot be stored


def _incoming(source: str, dedup: str, raw: bytes, *, sender: str, body: str, date: str = "",
              sender_name: str = "", to: tuple[str, ...] = ()) -> Incoming:
    msg = Message(id=f"{source}-{hashlib.sha256(dedup.encode()).hexdigest()[:20]}", body=body[:MAX_TEXT],
                  sender=sender.strip(), channel="sms", sender_name=sender_name, date=date, to=to)
    return Incoming(message=msg, raw=raw, source=source, dedup_key=dedup)


def parse_gateway(raw: bytes) -> Received:
    """An SMS Gateway for Android envelope. Only `sms:received` carries a message."""
    env = _json(raw)
    event = _text(env.get("event"), "event")
    if event != GATEWAY_EVENT:
        return Received(None, ignored=event[:40])
    payload = env.get("payload")
    if not isinstance(payload, dict):
        raise WebhookError(400, "missing payload")
    event_id = _text(env.get("id"), "id")
    sender = _text(payload.get("sender", payload.get("phoneNumber")), "payload.sender")
    body = _text(payload.get("message"), "payload.message", required=False)
    recipient = _text(payload.get("recipient"), "payload.recipient", required=False)
    return Received(_incoming("sms-gateway", event_id, raw, sender=sender, body=body,
                              date=iso_date(payload.get("receivedAt")), to=(recipient,) if recipient else ()))


def parse_form(raw: bytes) -> list[tuple[str, str]]:
    try:
        return parse_qsl(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=200)
    except (UnicodeDecodeError, ValueError):
        raise WebhookError(400, "body is not a form") from None


def parse_twilio(params: list[tuple[str, str]], raw: bytes, now: datetime | None = None) -> Received:
    """Twilio's inbound SMS fields. The date is when screener received it (Twilio sends none)."""
    form = dict(params)
    sid = _text(form.get("MessageSid") or form.get("SmsSid"), "MessageSid")
    sender = _text(form.get("From"), "From")
    to = form.get("To", "")
    when = (now or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return Received(_incoming("sms-twilio", sid, raw, sender=sender, body=form.get("Body", ""), date=when,
                              to=(to,) if to else ()))


def field_map(spec: tuple[str, ...]) -> dict[str, list[str]]:
    """`record_field=json.path` pairs to {record field: path parts}. Raises ValueError naming the bad pair."""
    out: dict[str, list[str]] = {}
    for pair in spec:
        name, sep, path = (s.strip() for s in pair.partition("="))
        if not sep or not path or name not in RECORD_FIELDS:
            raise ValueError(f"{pair!r}: expected record_field=json.path with record_field one of "
                             f"{', '.join(RECORD_FIELDS)}")
        if name in out:
            raise ValueError(f"{name!r} is mapped twice")
        out[name] = path.split(".")
    for needed in ("sender", "body"):
        if needed not in out:
            raise ValueError(f"no mapping for {needed!r}")
    return out


def _lookup(obj, path: list[str]):
    for part in path:
        if isinstance(obj, dict):
            obj = obj.get(part)
        elif isinstance(obj, list) and part.isdigit() and int(part) < len(obj):
            obj = obj[int(part)]
        else:
            return None
    return obj


def parse_generic(raw: bytes, fields: dict[str, list[str]]) -> Received:
    """A forwarder's JSON, read through the field map. Without an id, the dedup key is the content's hash."""
    obj = _json(raw)
    values = {name: _lookup(obj, path) for name, path in fields.items()}
    sender = _text(values.get("sender"), "sender")
    body = _text(values.get("body"), "body", required=False)
    date_value = values.get("date")
    date = iso_date(date_value)
    msg_id = _text(values.get("id"), "id", required=False)
    dedup = msg_id or hashlib.sha256(clean_text(f"{sender}\x1f{date_value}\x1f{body}").encode()).hexdigest()
    to = values.get("to")
    to = tuple(str(t) for t in to) if isinstance(to, list) else ((str(to),) if to else ())
    return Received(_incoming("sms-generic", dedup, raw, sender=sender, body=body, date=date,
                              sender_name=_text(values.get("sender_name"), "sender_name", required=False), to=to))
