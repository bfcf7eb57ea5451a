"""Accounts of the friend's page, their passwords and their sessions.

- Two roles: `friend` (audits held messages) and `user` (the protected person,
  who sees only content-free reports). One role per name.
- Passwords are hashed with scrypt (random 16-byte salt, N=2**15, r=8, p=1,
  32 MiB) and compared in constant time. Logging in as a name that does not
  exist costs the same hash, so timing does not tell which names exist.
- A session is a random token; the store keeps only its SHA-256, so a copy of
  the store cannot be used to log in, and logging out ends it for good.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from screener.errors import ScreenerError
from screener.store import Store, now

ROLES = ("friend", "user")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024
SESSION_HOURS = 12

_N, _R, _P, _LEN = 2 ** 15, 8, 1, 32
_MAXMEM = 64 * 1024 * 1024
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
# A real hash of a random password: checked when the name is unknown, so that
# answering "no such account" takes as long as a wrong password.
_DUMMY = None


class AccountError(ScreenerError):
    """An account cannot be created or changed (bad name, weak password, wrong role)."""


@dataclass(frozen=True)
class Account:
    username: str
    role: str

    @property
    def actor(self) -> str:
        """How this account is named in the audit log."""
        return f"{self.role}:{self.username}"


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, maxmem=_MAXMEM, dklen=_LEN)
    return "scrypt${}${}${}${}${}".format(_N, _R, _P, _b64(salt), _b64(digest))


def verify_password(password: str, stored: str) -> bool:
    """True when `password` matches `stored`; constant time in the comparison."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        n, r, p = int(n), int(r), int(p)
        salt, digest = _unb64(salt), _unb64(digest)
    except ValueError:
        return False
    if scheme != "scrypt" or not (2 ** 14 <= n <= 2 ** 20 and 1 <= r <= 32 and 1 <= p <= 16):
        return False
    try:
        got = hashlib.scrypt(password.encode("utf-8")[:MAX_PASSWORD * 4], salt=salt, n=n, r=r, p=p,
                             maxmem=max(_MAXMEM, 130 * n * r * p), dklen=len(digest))
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(got, digest)


def check_name(username: str) -> str:
    if not _NAME.match(username or ""):
        raise AccountError(f"{username!r} is not a valid account name (letters, digits, . _ @ -; at most 64)")
    return username


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password is too short (at least {MIN_PASSWORD} characters)")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"the password is too long (at most {MAX_PASSWORD} characters)")
    return password


def add_account(store: Store, username: str, role: str, password: str, actor: str = "cli",
                replace: bool = False) -> bool:
    """Create an account, or set a new password when `replace`. Returns True when it was created.

    Setting a new password ends every session of the account.
    """
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    check_name(username)
    hashed = hash_password(check_password(password))
    with store.write():
        row = store.conn.execute("SELECT role FROM accounts WHERE username = ?", (username,)).fetchone()
        if row is not None:
            if row["role"] != role:
                raise AccountError(f"{username!r} is already a {row['role']} account")
            if not replace:
                raise AccountError(f"{username!r} already exists (use --replace to set a new password)")
            store.conn.execute("UPDATE accounts SET password_hash = ? WHERE username = ?", (hashed, username))
            store.conn.execute("DELETE FROM web_sessions WHERE username = ?", (username,))
            store.audit(actor, "account_password_set", None, username=username, role=role)
            return False
        store.conn.execute("INSERT INTO accounts (username, role, password_hash, created_at) VALUES (?,?,?,?)",
                           (username, role, hashed, now()))
        store.audit(actor, "account_added", None, username=username, role=role)
        return True


def authenticate(store: Store, username: str, password: str) -> Account | None:
    """The account when the password is right; None otherwise (same cost either way)."""
    global _DUMMY
    row = None
    if _NAME.match(username or ""):
        row = store.conn.execute("SELECT username, role, password_hash FROM accounts WHERE username = ?",
                                 (username,)).fetchone()
    if row is None:
        if _DUMMY is None:
            _DUMMY = hash_password(secrets.token_urlsafe(16))
        verify_password(password, _DUMMY)
        return None
    if verify_password(password, row["password_hash"]):
        return Account(row["username"], row["role"])
    return None


# -- sessions -------------------------------------------------------------------------

def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def start_session(store: Store, account: Account, hours: int = SESSION_HOURS) -> str:
    """A new session token for `account` (kept in the cookie; the store keeps its hash)."""
    token = secrets.token_urlsafe(32)
    expires = (datetime.now(timezone.utc) + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")
    with store.write():
        store.conn.execute("DELETE FROM web_sessions WHERE expires_at < ?", (now(),))
        store.conn.execute("INSERT INTO web_sessions (token_hash, username, role, created_at, expires_at) "
                           "VALUES (?,?,?,?,?)", (_token_hash(token), account.username, account.role, now(), expires))
        store.audit(account.actor, "login", None)
    return token


def session_account(store: Store, token: str | None) -> Account | None:
    if not token or not isinstance(token, str):
        return None
    row = store.conn.execute(
        "SELECT s.username, a.role FROM web_sessions s JOIN accounts a ON a.username = s.username "
        "WHERE s.token_hash = ? AND s.expires_at > ? AND a.role = s.role", (_token_hash(token), now())).fetchone()
    return Account(row["username"], row["role"]) if row else None


def end_session(store: Store, token: str, account: Account) -> None:
    with store.write():
        store.conn.execute("DELETE FROM web_sessions WHERE token_hash = ?", (_token_hash(token),))
        store.audit(account.actor, "logout", None)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)
