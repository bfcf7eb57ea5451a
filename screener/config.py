"""Configuration: TOML in the contract's format, parsed once into frozen objects.

Every setting is declared once, with its default and help text, as a dataclass
field made by `setting()`. `load_config()` rejects unknown keys and raises a
`ConfigError` whose message is one line naming the file, the key and the problem.
Relative paths are resolved against the config file's own folder.
"""

from __future__ import annotations

import dataclasses
import tomllib
from datetime import date
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from screener.errors import ConfigError
from screener.normalize import InvalidAddress, normalize_email, normalize_phone, valid_region

MODES = ("no_contact", "co_parenting")


def setting(default: Any, help: str, kind: str = "str", required: bool = False, choices: tuple = ()):
    """Declare one setting: its default, its help text and how to check it.

    Kinds: str, bool, int, mode, region, file (must exist), path (need not exist),
    choice (one of `choices`), duration (`7d`, `12h`, or `never`), strs, emails, phones.
    """
    meta = {"help": help, "kind": kind, "required": required, "choices": tuple(choices)}
    if isinstance(default, (list, tuple)):
        return field(default=tuple(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class UserSettings:
    name: str = setting("", "The protected person's name (used to recognise messages about them).")
    emails: tuple[str, ...] = setting((), "The protected person's own email addresses.", "emails")
    phones: tuple[str, ...] = setting((), "The protected person's own phone numbers.", "phones")
    region: str = setting("US", "Default region (ISO 3166 code) for numbers written without +country.", "region")


@dataclass(frozen=True)
class PolicySettings:
    mode: str = setting("no_contact", "`no_contact`, or `co_parenting`: logistics are extracted into a digest.", "mode")
    quarantine_unknown_manipulative: bool = setting(
        True, "Quarantine a first-contact sender whose message is manipulative, as a suspected alias.", "bool")


@dataclass(frozen=True)
class PersonSettings:
    name: str = setting("", "The person's name as it should appear in reports.", "str", required=True)
    nicknames: tuple[str, ...] = setting((), "Other names they use or sign with.", "strs")
    emails: tuple[str, ...] = setting((), "Their known email addresses, in any written form.", "emails")
    phones: tuple[str, ...] = setting((), "Their known phone numbers, in any written form.", "phones")
    history: Path | None = setting(None, "Optional JSONL file of their past messages (input record format).", "file")


@dataclass(frozen=True)
class TrustedSettings:
    name: str = setting("", "The trusted contact's name.", "str", required=True)
    emails: tuple[str, ...] = setting((), "Their email addresses.", "emails")
    phones: tuple[str, ...] = setting((), "Their phone numbers.", "phones")


@dataclass(frozen=True)
class StoreSettings:
    path: Path = setting(Path("screener-data/screener.db"),
                         "The SQLite store (created 0600 in a 0700 folder). Relative to the config file.", "path")


@dataclass(frozen=True)
class ImapSettings:
    name: str = setting("", "A short name for this account (used in logs, status and the store).", "str", required=True)
    host: str = setting("", "IMAP server host name.", "str", required=True)
    port: int = setting(993, "IMAP server port.", "int")
    tls: str = setting("ssl", "`ssl` (implicit TLS, port 993), `starttls`, or `none` (loopback test servers only).",
                       "choice", choices=("ssl", "starttls", "none"))
    ca_file: Path | None = setting(None, "A certificate (PEM) to trust for this server besides the system's, "
                                   "e.g. a home server's self-signed one. Relative to the config file.", "file")
    username: str = setting("", "Login name.", "str", required=True)
    password_env: str = setting("", "Name of the environment variable holding the password.", "str")
    password_command: str = setting("", "A command whose first output line is the password (e.g. `pass show mail`).", "str")
    folders: tuple[str, ...] = setting(("INBOX",), "Folders to watch and screen.", "strs")
    inbox: str = setting("INBOX", "Where clean and released messages go.", "str")
    quarantine_folder: str = setting("Screener/Quarantine", "Where held messages are moved (created if missing).", "str")
    staging_folder: str = setting("", "Fail-closed mode: server rules deliver here; clean mail is moved to `inbox`.", "str")
    since: str = setting("", "Backfill only messages on or after this date (YYYY-MM-DD); empty: all.", "str")
    idle_seconds: int = setting(120, "Renew IDLE and search the folder again after this many seconds (at most "
                                     "600).", "int")
    poll_seconds: int = setting(60, "Poll interval when the server lacks IDLE.", "int")
    timeout_seconds: int = setting(30, "Network timeout for one IMAP command.", "int")
    retry_max_seconds: int = setting(300, "Longest wait between reconnection attempts (they start at 1 s and double).",
                                     "int")


@dataclass(frozen=True)
class SmsSettings:
    listen: str = setting("127.0.0.1", "Address the SMS webhook receiver binds to. Exposing it is your choice.", "str")
    port: int = setting(8025, "Port of the SMS webhook receiver.", "int")
    gateway_secret_env: str = setting("", "Environment variable with the SMS Gateway for Android signing key.", "str")
    twilio_token_env: str = setting("", "Environment variable with the Twilio auth token.", "str")
    public_url: str = setting("", "The URL Twilio posts to, exactly as configured there (signatures cover it).", "str")
    generic_secret_env: str = setting("", "Environment variable with the shared secret of the generic JSON webhook.", "str")
    generic_fields: tuple[str, ...] = setting(
        ("id=id", "sender=from", "body=text", "date=date"),
        "Generic JSON webhook field map, `record_field=json.path` pairs.", "strs")
    max_age_seconds: int = setting(300, "Reject webhooks whose timestamp is older or newer than this.", "int")
    generic_auth: str = setting("hmac", "How the generic JSON webhook proves itself: `hmac` (X-Signature and "
                                "X-Timestamp, like the gateway) or `token` (`Authorization: Bearer <secret>`).",
                                "choice", choices=("hmac", "token"))
    max_body_bytes: int = setting(65536, "Refuse webhook requests larger than this (HTTP 413).", "int")


@dataclass(frozen=True)
class AlertSettings:
    smtp_host: str = setting("", "SMTP server for alert emails (empty: no email alerts).", "str")
    smtp_port: int = setting(587, "SMTP port.", "int")
    smtp_tls: str = setting("starttls", "`starttls`, `ssl` or `none` (loopback only).", "choice",
                            choices=("starttls", "ssl", "none"))
    smtp_username: str = setting("", "SMTP login (empty: no login).", "str")
    smtp_password_env: str = setting("", "Environment variable holding the SMTP password.", "str")
    smtp_password_command: str = setting("", "Command printing the SMTP password.", "str")
    sender: str = setting("", "From address of alert emails.", "str")
    friend_emails: tuple[str, ...] = setting((), "Where alert emails go (the trusted friend).", "emails")
    webhook_url: str = setting("", "Webhook for alerts, e.g. a self-hosted ntfy topic (empty: none).", "str")
    include_text: bool = setting(False, "Include the message text in alerts (the friend asked for it).", "bool")
    group_seconds: int = setting(600, "Alerts within this many seconds are grouped into one.", "int")
    page_url: str = setting("http://127.0.0.1:8030", "Base URL of the friend's page, for links in alerts.", "str")


@dataclass(frozen=True)
class SummarySettings:
    every: str = setting("7d", "How often the summary is delivered (e.g. 12h, 1d, 7d, 2w); `never`: not delivered.",
                         "duration")
    mailbox: str = setting("", "Name of the [[imap]] account to append the summary to (empty: none).", "str")
    file: Path | None = setting(None, "Also write the summary to this file.", "path")
    format: str = setting("text", "`text` or `html`.", "choice", choices=("text", "html"))


@dataclass(frozen=True)
class WebSettings:
    listen: str = setting("127.0.0.1", "Address the friend's page binds to. Exposing it is your choice.", "str")
    port: int = setting(8030, "Port of the friend's page.", "int")
    secure_cookies: bool = setting(False, "Mark session cookies Secure (set true behind an HTTPS proxy).", "bool")


@dataclass(frozen=True)
class Config:
    file: Path
    user: UserSettings
    policy: PolicySettings
    blocked: tuple[PersonSettings, ...]
    trusted: tuple[TrustedSettings, ...]
    store: StoreSettings = StoreSettings()
    imap: tuple[ImapSettings, ...] = ()
    sms: SmsSettings = SmsSettings()
    alerts: AlertSettings = AlertSettings()
    summary: SummarySettings = SummarySettings()
    web: WebSettings = WebSettings()

    @property
    def base_dir(self) -> Path:
        return self.file.parent


# Top-level tables: name -> (settings class, is an array of tables)
SECTIONS: dict[str, tuple[type, bool]] = {
    "user": (UserSettings, False),
    "policy": (PolicySettings, False),
    "blocked": (PersonSettings, True),
    "trusted": (TrustedSettings, True),
    "store": (StoreSettings, False),
    "imap": (ImapSettings, True),
    "sms": (SmsSettings, False),
    "alerts": (AlertSettings, False),
    "summary": (SummarySettings, False),
    "web": (WebSettings, False),
}


def iter_settings() -> Iterator[tuple[str, str, Any, str]]:
    """Yield (section, key, default, help) for every declared setting (docs and tests use it)."""
    for section, (cls, _) in SECTIONS.items():
        for f in dataclasses.fields(cls):
            yield section, f.name, f.default, f.metadata["help"]


def load_config(path: str | Path) -> Config:
    """Read and check a config file. Raises ConfigError (one line) on any problem."""
    path = Path(path)
    shown = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(shown, "", "file not found") from None
    except OSError as exc:
        raise ConfigError(shown, "", f"cannot read: {exc.strerror}") from None
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(shown, "", "not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(shown, "", f"invalid TOML: {exc}") from None
    return parse_config(doc, path.resolve())


def parse_config(doc: dict, path: Path) -> Config:
    shown = str(path)
    for key in doc:
        if key not in SECTIONS:
            raise ConfigError(shown, key, f"unknown table (expected one of: {', '.join(SECTIONS)})")
    ctx = _Context(shown, path.parent, region="US")
    user_doc = doc.get("user", {})
    if not isinstance(user_doc, dict):
        raise ConfigError(shown, "user", "must be a table [user]")
    # The region is needed to read every phone number, so check it first.
    ctx.region = _check_value(ctx, "user.region", "region", user_doc.get("region", "US"))
    user = _parse_table(ctx, UserSettings, user_doc, "user")
    policy = _parse_table(ctx, PolicySettings, _table(ctx, doc, "policy"), "policy")
    blocked = tuple(_parse_table(ctx, PersonSettings, t, f"blocked[{i}]")
                    for i, t in enumerate(_array(ctx, doc, "blocked")))
    trusted = tuple(_parse_table(ctx, TrustedSettings, t, f"trusted[{i}]")
                    for i, t in enumerate(_array(ctx, doc, "trusted")))
    extra = {}
    for name, (cls, many) in SECTIONS.items():
        if name in ("user", "policy", "blocked", "trusted"):
            continue
        if many:
            extra[name] = tuple(_parse_table(ctx, cls, t, f"{name}[{i}]")
                                for i, t in enumerate(_array(ctx, doc, name)))
        else:
            extra[name] = _parse_table(ctx, cls, _table(ctx, doc, name), name)
    _check_imap(ctx, extra["imap"])
    _check_sms(ctx, extra["sms"])
    store = extra["store"]
    if not store.path.is_absolute():
        extra["store"] = StoreSettings(path=(ctx.base / store.path).resolve())
    return Config(file=path, user=user, policy=policy, blocked=blocked, trusted=trusted, **extra)


def _check_imap(ctx: "_Context", accounts) -> None:
    names = set()
    for i, acc in enumerate(accounts):
        where = f"imap[{i}]"
        if acc.name in names:
            raise ConfigError(ctx.file, f"{where}.name", f"{acc.name!r} is used by two accounts")
        names.add(acc.name)
        if not acc.password_env and not acc.password_command:
            raise ConfigError(ctx.file, f"{where}.password_env",
                              "give password_env or password_command (passwords are never written in the file)")
        if not 0 < acc.idle_seconds <= 600:
            raise ConfigError(ctx.file, f"{where}.idle_seconds", "must be between 1 and 600")
        if acc.quarantine_folder in acc.folders:
            raise ConfigError(ctx.file, f"{where}.quarantine_folder", "must not be one of the watched folders")
        if acc.staging_folder and acc.staging_folder in (acc.inbox, acc.quarantine_folder):
            raise ConfigError(ctx.file, f"{where}.staging_folder", "must differ from inbox and quarantine_folder")
        if not acc.folders and not acc.staging_folder:
            raise ConfigError(ctx.file, f"{where}.folders", "give at least one folder to watch")
        if acc.timeout_seconds < 1 or acc.poll_seconds < 1 or acc.retry_max_seconds < 1:
            raise ConfigError(ctx.file, f"{where}.timeout_seconds",
                              "timeout_seconds, poll_seconds and retry_max_seconds must be at least 1")
        if acc.tls == "none" and acc.host not in ("localhost", "127.0.0.1", "::1"):
            raise ConfigError(ctx.file, f"{where}.tls", "\"none\" sends the password in clear: only for a server on "
                              "this machine (localhost, 127.0.0.1, ::1)")
        if acc.since:
            try:
                date.fromisoformat(acc.since)
            except ValueError:
                raise ConfigError(ctx.file, f"{where}.since", f"must be a date written YYYY-MM-DD, not {acc.since!r}") from None


def _check_sms(ctx: "_Context", sms) -> None:
    from screener.sms_webhooks import field_map

    try:
        field_map(sms.generic_fields)
    except ValueError as exc:
        raise ConfigError(ctx.file, "sms.generic_fields", str(exc)) from None
    if sms.max_body_bytes < 1024:
        raise ConfigError(ctx.file, "sms.max_body_bytes", "must be at least 1024")


@dataclass
class _Context:
    file: str
    base: Path
    region: str


def _table(ctx: _Context, doc: dict, name: str) -> dict:
    value = doc.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(ctx.file, name, f"must be a table [{name}]")
    return value


def _array(ctx: _Context, doc: dict, name: str) -> list:
    value = doc.get(name, [])
    if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
        raise ConfigError(ctx.file, name, f"must be written as [[{name}]] tables")
    return value


def _parse_table(ctx: _Context, cls: type, table: dict, where: str):
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in table:
        if key == "password" or key.endswith("_password"):
            raise ConfigError(ctx.file, f"{where}.{key}",
                              "passwords are never written in the config; use password_env or password_command")
        if key not in fields:
            near = _closest(key, fields)
            hint = f" (did you mean '{near}'?)" if near else ""
            raise ConfigError(ctx.file, f"{where}.{key}", f"unknown key{hint}")
    values = {}
    for name, f in fields.items():
        key = f"{where}.{name}"
        if name not in table:
            if f.metadata["required"]:
                raise ConfigError(ctx.file, key, "is required")
            continue
        values[name] = _check_value(ctx, key, f.metadata["kind"], table[name])
    return cls(**values)


def _check_value(ctx: _Context, key: str, kind: str, value: Any) -> Any:
    def fail(problem: str):
        raise ConfigError(ctx.file, key, problem)

    if kind == "bool":
        if not isinstance(value, bool):
            fail(f"must be true or false, not {value!r}")
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            fail(f"must be a whole number, not {value!r}")
        return value
    if kind == "choice":
        choices = _choices(key)
        if value not in choices:
            fail(f"must be one of {', '.join(choices)}, not {value!r}")
        return value
    if kind == "path":
        if not isinstance(value, str) or not value.strip():
            fail(f"must be a non-empty string, not {value!r}")
        return (ctx.base / value).resolve()
    if kind == "duration":
        from screener.timeutil import DurationError, parse_duration

        if not isinstance(value, str):
            fail(f"must be a duration like 12h, 7d or 2w, or never, not {value!r}")
        if value.strip().lower() in ("", "never"):
            return "never"
        try:
            parse_duration(value)
        except DurationError:
            fail(f"must be a duration like 12h, 7d or 2w, or never, not {value!r}")
        return value.strip()
    if kind in ("str", "mode", "region", "file"):
        if not isinstance(value, str) or not value.strip():
            fail(f"must be a non-empty string, not {value!r}")
        if kind == "mode" and value not in MODES:
            fail(f"must be one of {', '.join(MODES)}, not {value!r}")
        if kind == "region":
            if not valid_region(value):
                fail(f"{value!r} is not a known region code (e.g. US, GB, IE)")
            return value.upper()
        if kind == "file":
            resolved = (ctx.base / value).resolve()
            if not resolved.is_file():
                fail(f"file not found: {resolved}")
            return resolved
        return value.strip()
    # lists of strings
    if isinstance(value, str) and kind == "strs":
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        fail(f"must be a list of strings, not {value!r}")
    if kind == "emails":
        for v in value:
            try:
                normalize_email(v)
            except InvalidAddress as exc:
                fail(f"{v!r} is not an email address ({exc})")
    if kind == "phones":
        for v in value:
            try:
                normalize_phone(v, ctx.region, strict=True)
            except InvalidAddress:
                fail(f"{v!r} is not a phone number for region {ctx.region}")
    return tuple(value)


def _choices(key: str) -> tuple:
    section, _, name = key.rpartition(".")
    section = section.split("[")[0]
    cls = SECTIONS[section][0]
    return next(f.metadata["choices"] for f in dataclasses.fields(cls) if f.name == name)


def _closest(key: str, options) -> str | None:
    import difflib

    match = difflib.get_close_matches(key, list(options), n=1, cutoff=0.6)
    return match[0] if match else None
