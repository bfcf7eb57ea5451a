"""The thin IMAP seam: one connection to one account, typed errors, nothing else.

Everything the daemon asks of a server goes through `Mailbox`: connect and log
in, select, search, fetch with `BODY.PEEK[]` (never sets `\\Seen`), move (UID
MOVE, or COPY + `\\Deleted` + UID EXPUNGE of exactly those UIDs where MOVE is
missing), append and IDLE. imapclient errors become:

- `ConnectionLost`: the network, a timeout, the server closing or hanging up.
  The Mailbox is dead afterwards; make a new one.
- `LoginFailed`: the server refused the user name or password.
- `CommandFailed`: the server answered NO or BAD (a missing folder, a quota).

Folder names in the config use `/` between levels whatever the server's own
separator is; `server_name()` translates. Error texts never contain the
password (they are passed through `redact`).
"""

from __future__ import annotations

import imaplib
import re
import socket
import ssl
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Iterator

from screener.errors import ScreenerError
from screener.secrets import redact
from screener.daemon.uid_sets import parse_copyuid
from screener.store import sha256
from screener.normalize import is_loopback


class MailboxError(ScreenerError):
    """Talking to the mail server failed."""


class ConnectionLost(MailboxError):
    """The connection is gone or the server does not answer; reconnect."""


class LoginFailed(MailboxError):
    """The server refused the login."""


class CommandFailed(MailboxError):
    """The server refused a command (NO or BAD)."""


@dataclass(frozen=True)
class FolderInfo:
    name: str
    uidvalidity: int
    uidnext: int
    exists: int


FETCH_CHUNK = 100       # UIDs per FETCH command


class Mailbox:
    def __init__(self, settings, password: str, *, allow_move: bool = True):
        self.settings = settings
        self.password = password
        self.allow_move = allow_move
        self.client = None
        self.capabilities: set[str] = set()
        self.delimiter = "/"
        self.selected: FolderInfo | None = None
        self.idling = False

    @property
    def where(self) -> str:
        return f"{self.settings.username}@{self.settings.host}:{self.settings.port}"

    # -- connection ------------------------------------------------------------------

    def connect(self) -> "Mailbox":
        import imapclient
        from imapclient import exceptions as imap_exc

        s = self.settings
        if s.tls == "none" and not is_loopback(s.host):
            raise CommandFailed(f"{self.where}: refusing to send a password without TLS to a host that is not "
                                "on this machine (tls = \"none\" is for loopback test servers)")
        context = None
        if s.tls != "none":
            context = ssl.create_default_context()   # verifies the certificate and the host name
            if s.ca_file is not None:
                try:
                    context.load_verify_locations(cafile=str(s.ca_file))
                except (ssl.SSLError, OSError) as exc:
                    raise CommandFailed(f"{self.where}: ca_file {s.ca_file} is not a PEM certificate "
                                        f"({getattr(exc, 'reason', None) or exc})") from None
        with self._guard("connect"):
            self.client = imapclient.IMAPClient(s.host, port=s.port, ssl=s.tls == "ssl", ssl_context=context,
                                                timeout=s.timeout_seconds)
            if s.tls == "starttls":
                self.client.starttls(context)
        try:
            with self._guard("log in"):
                self.client.login(s.username, self.password)
        except imap_exc.LoginError as exc:
            self.close()
            raise LoginFailed(f"{self.where}: the server refused the login ({self._text(exc)})") from None
        with self._guard("capabilities"):
            self.capabilities = {c.decode().upper() for c in self.client.capabilities()}
            listing = self.client.list_folders("", "")
            if listing and listing[0][1]:
                self.delimiter = listing[0][1].decode() if isinstance(listing[0][1], bytes) else listing[0][1]
        return self

    def close(self, logout: bool = True) -> None:
        client, self.client = self.client, None
        if client is None:
            return
        try:
            if logout and not self.idling:
                client.socket().settimeout(2)
                client.logout()
                return
        except Exception:
            pass
        try:
            client.shutdown()
        except Exception:
            pass

    @property
    def can_idle(self) -> bool:
        return "IDLE" in self.capabilities

    @property
    def can_move(self) -> bool:
        return self.allow_move and "MOVE" in self.capabilities

    def server_name(self, folder: str) -> str:
        return folder.replace("/", self.delimiter) if self.delimiter else folder

    # -- folders -----------------------------------------------------------------------

    def ensure_folder(self, folder: str) -> bool:
        """Create `folder` if it is missing (not subscribed: mail apps need not show it). True if created."""
        name = self.server_name(folder)
        with self._guard(f"look for folder {folder}"):
            if self.client.folder_exists(name):
                return False
            try:
                self.client.create_folder(name)
            except imaplib.IMAP4.error:
                # Each watched folder has its own connection: another one may have created it
                # between our look and our create (the server says ALREADYEXISTS).
                if self.client.folder_exists(name):
                    return False
                raise
        return True

    def select(self, folder: str) -> FolderInfo:
        try:
            with self._guard(f"open folder {folder}"):
                info = self.client.select_folder(self.server_name(folder))
        except CommandFailed:
            with self._guard(f"look for folder {folder}"):
                exists = self.client.folder_exists(self.server_name(folder))
            if not exists:
                raise CommandFailed(f"{self.where}: there is no folder {folder!r} (check the config's folders, "
                                    "and the separator: write levels with '/')") from None
            raise
        self.selected = FolderInfo(folder, int(info[b"UIDVALIDITY"]), int(info.get(b"UIDNEXT", 0) or 0),
                                   int(info.get(b"EXISTS", 0) or 0))
        return self.selected

    def uidvalidity(self, folder: str) -> int:
        with self._guard(f"status of {folder}"):
            return int(self.client.folder_status(self.server_name(folder), [b"UIDVALIDITY"])[b"UIDVALIDITY"])

    # -- reading -----------------------------------------------------------------------

    def uids_after(self, last_uid: int, since: str = "") -> list[int]:
        """UIDs above `last_uid` in the selected folder, ascending (optionally received on or after `since`)."""
        criteria = ["UID", f"{last_uid + 1}:*"]
        if since:
            criteria += ["SINCE", date.fromisoformat(since)]
        with self._guard("search"):
            found = self.client.search(criteria)
        return sorted(u for u in found if u > last_uid)

    def sizes(self, uids: list[int]) -> dict[int, int]:
        out = {}
        for chunk in _chunks(uids, 500):
            with self._guard("fetch sizes"):
                data = self.client.fetch(chunk, ["RFC822.SIZE"])
            out.update({uid: int(d.get(b"RFC822.SIZE", 0)) for uid, d in data.items()})
        return out

    def fetch(self, uids: list[int]) -> dict[int, bytes]:
        """The original bytes of each UID still there, read with BODY.PEEK[] (\\Seen untouched)."""
        out = {}
        for chunk in _chunks(uids, FETCH_CHUNK):
            with self._guard("fetch"):
                data = self.client.fetch(chunk, ["BODY.PEEK[]"])
            for uid, d in data.items():
                raw = d.get(b"BODY[]")
                if raw is not None and uid in chunk:
                    out[uid] = bytes(raw)
        return out

    def locate(self, folder: str, digest: str, message_id: str = "", hint: tuple | None = None) -> list[int]:
        """UIDs in `folder` (left selected) whose bytes have this SHA-256: found by `hint` (UID, UIDVALIDITY)
        when still valid, else by Message-ID, or among the messages without one."""
        info = self.select(folder)
        hint_uid = hint[0] if hint and hint[0] and hint[1] == info.uidvalidity else None
        if hint_uid:
            got = self.fetch([hint_uid])
            if hint_uid in got and sha256(got[hint_uid]) == digest:
                return [hint_uid]
        criteria = ["HEADER", "Message-ID", message_id] if message_id else ["NOT", "HEADER", "Message-ID", ""]
        with self._guard(f"search {folder}"):
            candidates = sorted(self.client.search(criteria))
        found = []
        for chunk in _chunks(candidates, FETCH_CHUNK):
            found += [uid for uid, raw in self.fetch(chunk).items() if sha256(raw) == digest]
        return sorted(found)

    # -- changing ----------------------------------------------------------------------

    def move(self, uids: list[int], dest: str) -> tuple[dict[int, int], int | None]:
        """Move UIDs of the selected folder to `dest`. Returns ({old UID: new UID}, dest UIDVALIDITY)
        when the server says (UIDPLUS), else ({}, None)."""
        if not uids:
            return {}, None
        target = self.server_name(dest)
        responses = self.client._imap.untagged_responses if self.client else {}
        responses.pop("COPYUID", None)
        if self.can_move:
            with self._guard(f"move to {dest}"):
                self.client.move(uids, target)
            return parse_copyuid(responses.pop("COPYUID", []))
        with self._guard(f"copy to {dest}"):
            self.client.copy(uids, target)
        copied = parse_copyuid(responses.pop("COPYUID", []))
        self.expunge(uids)
        return copied

    def expunge(self, uids: list[int]) -> None:
        """Remove exactly these UIDs from the selected folder (after a COPY): \\Deleted then UID EXPUNGE."""
        with self._guard("flag as deleted"):
            self.client.add_flags(uids, [b"\\Deleted"], silent=True)
        if "UIDPLUS" in self.capabilities:
            with self._guard("expunge"):
                self.client.uid_expunge(uids)
            return
        # Without UIDPLUS a plain EXPUNGE removes every \Deleted message: only do it when that is just ours.
        with self._guard("search deleted"):
            deleted = set(self.client.search(["DELETED"]))
        if deleted <= set(uids):
            with self._guard("expunge"):
                self.client.expunge()
        else:
            raise CommandFailed(f"{self.where}: the server lacks MOVE and UIDPLUS and the folder holds other "
                                "messages marked deleted; the copies are flagged \\Deleted but not expunged")

    def append(self, folder: str, raw: bytes, flags=(), when=None) -> int | None:
        with self._guard(f"append to {folder}"):
            text = self.client.append(self.server_name(folder), raw, flags=flags, msg_time=when)
        match = re.search(rb"APPENDUID \d+ (\d+)", text if isinstance(text, bytes) else str(text).encode())
        return int(match.group(1)) if match else None

    def noop(self) -> None:
        with self._guard("noop"):
            self.client.noop()

    # -- IDLE --------------------------------------------------------------------------

    def idle_start(self) -> None:
        with self._guard("start IDLE"):
            self.client.idle()
        self.idling = True

    def idle_wait(self, seconds: float) -> list:
        """Wait up to `seconds` for news. An early empty return means the server is gone."""
        started = time.monotonic()
        with self._guard("IDLE"):
            responses = self.client.idle_check(timeout=seconds)
        if not responses and time.monotonic() - started < seconds / 2:
            self.idling = False
            raise ConnectionLost(f"{self.where}: the server closed the connection during IDLE")
        for resp in responses:
            if len(resp) >= 1 and resp[0] == b"BYE":
                self.idling = False
                raise ConnectionLost(f"{self.where}: the server said goodbye during IDLE")
        return responses

    def idle_stop(self) -> None:
        if not self.idling:
            return
        self.idling = False
        with self._guard("end IDLE"):
            self.client.idle_done()

    # -- errors ------------------------------------------------------------------------

    def _text(self, exc: BaseException) -> str:
        text = str(exc) or type(exc).__name__
        text = re.sub(r"^b'(.*)'$", r"\1", text)
        return redact(" ".join(text.split()), self.password)[:300]

    @contextmanager
    def _guard(self, what: str) -> Iterator[None]:
        from imapclient import exceptions as imap_exc

        if self.client is None and what != "connect":
            raise ConnectionLost(f"{self.where}: not connected")
        try:
            yield
        except imap_exc.LoginError:
            raise
        except (socket.timeout, TimeoutError):
            self._dead()
            raise ConnectionLost(f"{self.where}: {what}: no answer within "
                                 f"{self.settings.timeout_seconds} s") from None
        except (imaplib.IMAP4.abort, OSError, EOFError) as exc:
            self._dead()
            raise ConnectionLost(f"{self.where}: {what}: {self._reason(exc)}") from None
        except imaplib.IMAP4.error as exc:
            raise CommandFailed(f"{self.where}: {what}: the server refused ({self._text(exc)})") from None

    def _reason(self, exc: BaseException) -> str:
        if isinstance(exc, ConnectionRefusedError):
            return "connection refused (is the server running?)"
        if isinstance(exc, socket.gaierror):
            return f"unknown host ({exc.strerror})"
        if isinstance(exc, ssl.SSLError):
            return f"TLS failed ({exc.reason or exc})"
        if isinstance(exc, (ConnectionResetError, BrokenPipeError, EOFError)) or "EOF" in str(exc):
            return "the server closed the connection"
        return self._text(exc)

    def _dead(self) -> None:
        self.idling = False
        self.close(logout=False)



def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]
