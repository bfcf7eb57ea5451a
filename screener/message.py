"""One message record for every channel: the contract's input record."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from screener.errors import RecordError

CHANNELS = ("email", "sms")
_FIELDS = {"id", "channel", "sender", "sender_name", "subject", "body", "date", "to"}
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(value: str) -> str:
    """`value` with lone UTF-16 surrogates (which JSON's \\ud800 escapes can produce, and which
    cannot be encoded, stored or scored) replaced by U+FFFD."""
    return value if value.isascii() else _SURROGATE.sub("\ufffd", value)


@dataclass(frozen=True)
class Message:
    """A normalised message, whatever channel it came from.

    `sender` is kept exactly as received; identity signals normalise it.
    `extra` keeps fields of the input that the contract does not define
    (labels in training data, for instance), untouched.
    """

    id: str
    body: str
    sender: str = ""
    channel: str = "email"
    sender_name: str = ""
    subject: str = ""
    date: str = ""
    to: tuple[str, ...] = ()
    # Came through a mailing list (List-Id, List-Post or Precedence: list/bulk in the mail's headers):
    # a post to many people, not a message written to the user. Known only for mail read raw.
    mailing_list: bool = False
    extra: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self):
        for name in ("id", "body", "sender", "sender_name", "subject", "date"):
            value = getattr(self, name)
            if isinstance(value, str) and not value.isascii():
                object.__setattr__(self, name, clean_text(value))
        if any(isinstance(t, str) and not t.isascii() for t in self.to):
            object.__setattr__(self, "to", tuple(clean_text(t) if isinstance(t, str) else t for t in self.to))

    @property
    def text(self) -> str:
        """Subject and body as one text, for content signals."""
        return f"{self.subject}\n{self.body}" if self.subject else self.body

    @classmethod
    def from_dict(cls, obj: dict) -> "Message":
        if not isinstance(obj, dict):
            raise RecordError("record is not a JSON object")
        if "id" not in obj or obj["id"] is None:
            raise RecordError("missing required field 'id'")
        if "body" not in obj or obj["body"] is None:
            raise RecordError("missing required field 'body'")
        if not isinstance(obj["body"], str):
            raise RecordError("'body' must be a string")
        channel = obj.get("channel") or "email"
        if channel not in CHANNELS:
            raise RecordError(f"'channel' must be 'email' or 'sms', not {channel!r}")
        to = obj.get("to") or ()
        if isinstance(to, str):
            to = (to,)
        if not isinstance(to, (list, tuple)):
            raise RecordError("'to' must be a list of strings")

        def text(name: str) -> str:
            value = obj.get(name)
            if value is None:
                return ""
            if not isinstance(value, (str, int, float)):
                raise RecordError(f"'{name}' must be a string")
            return str(value)

        return cls(
            id=str(obj["id"]),
            body=obj["body"],
            sender=text("sender"),
            channel=channel,
            sender_name=text("sender_name"),
            subject=text("subject"),
            date=text("date"),
            to=tuple(str(t) for t in to),
            extra={k: v for k, v in obj.items() if k not in _FIELDS},
        )

    @classmethod
    def from_json(cls, line: str) -> "Message":
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError) as exc:    # ValueError: JSONDecodeError, or an integer of > 4300 digits
            raise RecordError(f"not valid JSON: {str(exc)[:200]}") from None
        return cls.from_dict(obj)


def read_jsonl(path) -> list[Message]:
    """Read a whole JSONL file of records (history files, labelled data). Raises RecordError."""
    messages = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                messages.append(Message.from_json(line))
            except RecordError as exc:
                raise RecordError(f"{path}:{n}: {exc}") from None
    return messages
