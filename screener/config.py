"""Configuration: TOML in the contract's format, parsed once into frozen objects.

Every setting is declared once, with its default and help text, as a dataclass
field made by `setting()`. `load_config()` rejects unknown keys and raises a
`ConfigError` whose message is one line naming the file, the key and the problem.
Relative paths are resolved against the config file's own folder.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from screener.errors import ConfigError
from screener.normalize import InvalidAddress, normalize_email, normalize_phone, valid_region

MODES = ("no_contact", "co_parenting")


def setting(default: Any, help: str, kind: str = "str", required: bool = False):
    """Declare one setting: its default, its help text and how to check it."""
    meta = {"help": help, "kind": kind, "required": required}
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
class Config:
    file: Path
    user: UserSettings
    policy: PolicySettings
    blocked: tuple[PersonSettings, ...]
    trusted: tuple[TrustedSettings, ...]

    @property
    def base_dir(self) -> Path:
        return self.file.parent


# Top-level tables: name -> (settings class, is an array of tables)
SECTIONS: dict[str, tuple[type, bool]] = {
    "user": (UserSettings, False),
    "policy": (PolicySettings, False),
    "blocked": (PersonSettings, True),
    "trusted": (TrustedSettings, True),
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
    return Config(file=path, user=user, policy=policy, blocked=blocked, trusted=trusted)


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


def _closest(key: str, options) -> str | None:
    import difflib

    match = difflib.get_close_matches(key, list(options), n=1, cutoff=0.6)
    return match[0] if match else None
