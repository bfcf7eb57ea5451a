"""Secrets referenced by the config, never written in it: an environment
variable or a password command. Values are never logged; errors name the
variable or the command's first word, not what it printed.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import subprocess

from screener.errors import ScreenerError


class SecretError(ScreenerError):
    """A secret the config refers to could not be read."""


def resolve_secret(env: str = "", command: str = "", what: str = "password") -> str:
    """The secret from `env` (a variable name) or `command` (its first output line)."""
    if env:
        value = os.environ.get(env)
        if value is None or value == "":
            raise SecretError(f"{what}: environment variable {env} is not set")
        return value
    if command:
        try:
            argv = shlex.split(command)
            out = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
        except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
            raise SecretError(f"{what}: password command {command.split()[0]!r} failed ({type(exc).__name__})") from None
        if out.returncode != 0:
            raise SecretError(f"{what}: password command {argv[0]!r} exited with status {out.returncode}")
        value = out.stdout.splitlines()[0] if out.stdout else ""
        if not value:
            raise SecretError(f"{what}: password command {argv[0]!r} printed nothing")
        return value
    raise SecretError(f"{what}: no environment variable or password command configured")


def redact(text: str, *secrets: str) -> str:
    """`text` with every secret replaced by '***' (for log lines and error messages), also in the
    escaped forms a server's echo or an exception's text shows it in (IMAP quoting, bytes and
    JSON escapes). Redact before cutting a message short: a cut secret is no longer found."""
    forms = set()
    for s in secrets:
        if s:
            forms |= {s, s.replace("\\", "\\\\").replace('"', '\\"'), repr(s.encode("utf-8"))[2:-1],
                      json.dumps(s)[1:-1]}
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, "***")
    return text


PROTOCOL_LOGGERS = ("imapclient.imaplib",)


def silence_protocol_logs() -> None:
    """Keep the IMAP library's protocol trace out of the logs even when debugging: it repeats every
    server line (a server refusing a login may quote the password) and every fetched message."""
    for name in PROTOCOL_LOGGERS:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.INFO:
            logger.setLevel(logging.INFO)
