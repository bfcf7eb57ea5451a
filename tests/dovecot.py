"""A private Dovecot IMAP server for tests and benchmarks.

    with Dovecot.start(users={"sam": "secret"}) as server:
        server.append("sam", "INBOX", raw_bytes)
        server.messages("sam", "INBOX")      # [Stored(uid, flags, raw, sha256)]
        server.kill(); server.start_again()  # crash and restart on the same port
        server.pause(); server.resume()      # a hung server (SIGSTOP / SIGCONT)
        server.set_uidvalidity("sam", "INBOX", 1234)

Each server lives in its own short 0755 folder under /tmp (pytest's tmp_path is
unreadable by Dovecot's service users, and Unix socket paths must stay under
108 bytes), listens on a free port on 127.0.0.1 without TLS (`tls=True` adds
implicit TLS and STARTTLS with a throwaway self-signed certificate), authenticates
users from a passwd-file, keeps mail in Maildir owned by a non-root uid, and
runs in the foreground in a session of its own, so that signalling the process
group stops every Dovecot process at once.

Run as root, mail belongs to `dovenull` and Dovecot's own service users are
used; run as an ordinary user, everything runs as that user.
"""

from __future__ import annotations

import grp
import hashlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
DOVEADM = shutil.which("doveadm") or "/usr/bin/doveadm"


def available() -> bool:
    return os.access(DOVECOT, os.X_OK) and os.access(DOVEADM, os.X_OK)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Stored:
    uid: int
    flags: tuple[bytes, ...]
    raw: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()

    @property
    def seen(self) -> bool:
        return b"\\Seen" in self.flags


def _accounts() -> dict:
    """Who owns mail and who runs the login and internal services."""
    if os.geteuid() == 0:
        mail = pwd.getpwnam("dovenull")
        login = "dovenull"
        internal = "dovecot"
        return {"uid": mail.pw_uid, "gid": mail.pw_gid, "login": login, "internal": internal,
                "internal_group": "dovecot", "root": True}
    me = pwd.getpwuid(os.geteuid())
    return {"uid": me.pw_uid, "gid": me.pw_gid, "login": me.pw_name, "internal": me.pw_name,
            "internal_group": grp.getgrgid(os.getegid()).gr_name, "root": False}


CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
instance_name = screener-test-{name}
protocols = imap
listen = 127.0.0.1
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
log_path = {root}/dovecot.log
mail_location = maildir:~/Maildir
mail_uid = {uid}
mail_gid = {gid}
first_valid_uid = 1
first_valid_gid = 1
default_login_user = {login}
default_internal_user = {internal}
default_internal_group = {internal_group}
imap_idle_notify_interval = 10 mins
namespace inbox {{
  inbox = yes
  separator = {separator}
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
# No growing delay after failed logins (tests of a bad password would wait up to 15 s).
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
{unprivileged}"""

# Without root: no chroot, and every service runs as the current user.
UNPRIVILEGED = """\
service imap-login {
  chroot =
}
service auth {
  user = {user}
}
service imap {
  user = {user}
}
"""


def _self_signed(cert: Path, key: Path) -> None:
    """A throwaway certificate for 127.0.0.1 (openssl comes with Debian's Dovecot)."""
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    key.chmod(0o644)   # read by Dovecot's processes, whichever user they run as


class Dovecot:
    """One private Dovecot. Use `Dovecot.start(...)`; `close()` stops it and removes its folder."""

    def __init__(self, users: dict[str, str], separator: str = "/", port: int | None = None, tls: bool = False):
        self.users = dict(users)
        self.separator = separator
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.root = Path(tempfile.mkdtemp(prefix="dv", dir="/tmp"))
        self.root.chmod(0o755)
        # With `tls`: implicit TLS on `tls_port` and STARTTLS on `port`, with a self-signed
        # certificate for 127.0.0.1 (`cert`) that no system trusts. Plain logins stay allowed on
        # loopback, so the mailbox helpers below need no TLS.
        self.tls_port = free_port() if tls else 0
        self.cert = self.root / "cert.pem"
        ssl_conf = "ssl = no"
        if tls:
            _self_signed(self.cert, self.root / "key.pem")
            ssl_conf = f"ssl = yes\nssl_cert = <{self.cert}\nssl_key = <{self.root / 'key.pem'}"
        self.conf = self.root / "dovecot.conf"
        self.proc: subprocess.Popen | None = None
        self.paused = False
        acc = _accounts()
        for sub in ("run", "state"):
            (self.root / sub).mkdir(mode=0o755)
        mail = self.root / "mail"
        mail.mkdir(mode=0o700)
        os.chown(mail, acc["uid"], acc["gid"])
        self.write_passwd()
        unprivileged = "" if acc["root"] else UNPRIVILEGED.replace("{user}", acc["login"])
        self.conf.write_text(CONFIG.format(root=self.root, name=self.root.name, uid=acc["uid"], gid=acc["gid"],
                                           login=acc["login"], internal=acc["internal"],
                                           internal_group=acc["internal_group"], separator=separator,
                                           port=self.port, unprivileged=unprivileged, ssl=ssl_conf,
                                           tls_port=self.tls_port))

    @classmethod
    def start(cls, users: dict[str, str] | None = None, separator: str = "/", tls: bool = False) -> "Dovecot":
        server = cls(users or {"sam": "sam-password"}, separator=separator, tls=tls)
        try:
            server.start_again()
        except BaseException:
            server.close()
            raise
        return server

    def write_passwd(self) -> None:
        lines = "".join(f"{user}:{{PLAIN}}{password}::::::\n" for user, password in self.users.items())
        path = self.root / "passwd"
        path.write_text(lines)
        path.chmod(0o644)

    # -- process control --------------------------------------------------------------

    def start_again(self, wait: float = 10.0) -> None:
        """Start (or restart after `kill()`) on the same port; return once it greets."""
        if self.proc is not None and self.proc.poll() is None:
            return
        log = open(self.root / "master.out", "ab")
        self.proc = subprocess.Popen([DOVECOT, "-F", "-c", str(self.conf)], stdout=log, stderr=log,
                                     stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=_die_with_parent)
        log.close()
        self.paused = False
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dovecot exited with {self.proc.returncode}: {self.log()[-2000:]}")
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as s:
                    if s.recv(64).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"dovecot did not answer on port {self.port}: {self.log()[-2000:]}")

    def _signal(self, sig: int) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass

    def kill(self) -> None:
        """Crash the whole server at once (SIGKILL to its process group)."""
        if self.proc is None:
            return
        if self.paused:
            self._signal(signal.SIGCONT)
        self._signal(signal.SIGKILL)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        # Children may outlive the master by a moment (zombies do not count).
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and _live_members(self.proc.pid):
            time.sleep(0.01)
        self.proc = None
        self.paused = False

    def pause(self) -> None:
        """Freeze every server process (SIGSTOP): connections stay open, nothing answers."""
        self._signal(signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        self._signal(signal.SIGCONT)
        self.paused = False

    def close(self) -> None:
        self.kill()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def log(self) -> str:
        out = []
        for name in ("master.out", "dovecot.log"):
            path = self.root / name
            if path.exists():
                out.append(path.read_text(errors="replace"))
        return "".join(out)

    # -- mailbox helpers (each opens its own connection) -----------------------------------

    def client(self, user: str = "sam", timeout: float = 10.0):
        import imapclient

        c = imapclient.IMAPClient(self.host, port=self.port, ssl=False, timeout=timeout)
        c.login(user, self.users[user])
        return c

    def folder(self, name: str) -> str:
        """A '/'-separated folder name as this server spells it."""
        return name.replace("/", self.separator)

    def create(self, user: str, folder: str) -> None:
        with self.client(user) as c:
            if not c.folder_exists(self.folder(folder)):
                c.create_folder(self.folder(folder))

    def append(self, user: str, folder: str, raw: bytes, flags=(), date=None) -> int:
        """APPEND one message; return its UID (from APPENDUID)."""
        with self.client(user) as c:
            name = self.folder(folder)
            if not c.folder_exists(name):
                c.create_folder(name)
            resp = c.append(name, raw, flags=flags, msg_time=date)
        return _appenduid(resp)

    def append_many(self, user: str, folder: str, raws, flags=()) -> list[int]:
        uids = []
        with self.client(user) as c:
            name = self.folder(folder)
            if not c.folder_exists(name):
                c.create_folder(name)
            for raw in raws:
                uids.append(_appenduid(c.append(name, raw, flags=flags)))
        return uids

    def folders(self, user: str = "sam") -> list[str]:
        with self.client(user) as c:
            return [name.replace(self.separator, "/") for _, _, name in c.list_folders()]

    def messages(self, user: str, folder: str) -> list[Stored]:
        """Every message in a folder with its flags and bytes (read with BODY.PEEK[], so \\Seen is untouched)."""
        with self.client(user) as c:
            name = self.folder(folder)
            if not c.folder_exists(name):
                return []
            c.select_folder(name, readonly=True)
            uids = c.search(["ALL"])
            out = []
            for i in range(0, len(uids), 500):
                data = c.fetch(uids[i:i + 500], ["FLAGS", "BODY.PEEK[]"])
                out += [Stored(uid, tuple(d[b"FLAGS"]), d[b"BODY[]"]) for uid, d in data.items()]
        return sorted(out, key=lambda s: s.uid)

    def uidvalidity(self, user: str, folder: str) -> int:
        with self.client(user) as c:
            return c.folder_status(self.folder(folder), ["UIDVALIDITY"])[b"UIDVALIDITY"]

    def set_uidvalidity(self, user: str, folder: str, value: int) -> None:
        self.doveadm("mailbox", "update", "-u", user, "--uid-validity", str(value), self.folder(folder))

    def deliver(self, user: str, folder: str, raw: bytes) -> None:
        """Drop a message straight into the user's Maildir, as a local delivery agent does:
        works while the IMAP server is down. The Maildir exists once the user has logged in."""
        maildir = self.root / "mail" / user / "Maildir"
        if folder != "INBOX":
            maildir = maildir / ("." + folder.replace("/", "."))
        name = f"{time.time_ns()}.P{os.getpid()}.screener-test"
        tmp, new = maildir / "tmp" / name, maildir / "new" / name
        tmp.write_bytes(raw)
        acc = _accounts()
        os.chown(tmp, acc["uid"], acc["gid"])
        os.rename(tmp, new)

    def doveadm(self, *args: str, input: bytes | None = None) -> str:
        out = subprocess.run([DOVEADM, "-c", str(self.conf), *args], input=input, capture_output=True, timeout=30)
        if out.returncode != 0:
            raise RuntimeError(f"doveadm {' '.join(args)} failed: {out.stderr.decode(errors='replace').strip()}")
        return out.stdout.decode(errors="replace")


def _die_with_parent() -> None:
    """In the child before exec: be killed if the test process dies, even by SIGKILL (Linux)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)     # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _live_members(pgid: int) -> list[int]:
    """Processes of a process group that are still running (not zombies)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            out.append(int(entry))
    return out


def _appenduid(resp) -> int:
    text = resp.decode() if isinstance(resp, bytes) else str(resp)
    if "APPENDUID" not in text:
        return 0
    return int(text.split("APPENDUID", 1)[1].split("]")[0].split()[1])


def make_message(n: int, sender: str = "pat@example.com", name: str = "Pat Doe", subject: str | None = None,
                 body: str | None = None, message_id: str | None = None, extra_headers: str = "") -> bytes:
    """A unique, plain RFC 5322 message (CRLF line ends, as IMAP serves them)."""
    subject = subject if subject is not None else f"Note {n}"
    body = body if body is not None else f"Hi, this is note number {n}. The meeting moved to Thursday."
    mid = message_id if message_id is not None else f"<m{n}.{time.time_ns()}@test.example>"
    head = (f"From: {name} <{sender}>\r\nTo: Sam Rivera <sam.rivera@example.org>\r\nSubject: {subject}\r\n"
            f"Date: Mon, 16 Nov 2026 10:{n % 60:02d}:00 +0000\r\n")
    if mid:
        head += f"Message-ID: {mid}\r\n"
    head += extra_headers + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    return (head + body + "\r\n").encode("utf-8")
