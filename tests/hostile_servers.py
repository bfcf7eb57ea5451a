"""Misbehaving mail servers on loopback for the secret-leak tests: they refuse
every login and echo the password they were sent back in the refusal,
after `pad` characters of filler (so that the password falls wherever an
error message might be cut). Real servers have done this; screener must
never repeat what they say about the password.
"""

from __future__ import annotations

import base64
import socketserver
import threading


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class EchoingServer:
    """Base: `greeting` on connect, then `reply(line)` for each line (None closes the connection)."""

    greeting = b""

    def __init__(self, pad: int = 0):
        self.pad = pad
        self.seen: list[bytes] = []
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                self.wfile.write(outer.greeting)
                for line in self.rfile:
                    outer.seen.append(line)
                    answer = outer.reply(line.rstrip(b"\r\n"))
                    if answer is None:
                        return
                    self.wfile.write(answer)

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]

    def filler(self) -> bytes:
        return b"x" * self.pad

    def reply(self, line: bytes) -> bytes | None:
        raise NotImplementedError

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class EchoingIMAP(EchoingServer):
    """`later`: accept the login, then refuse the APPEND quoting the login (an error, not a refusal)."""

    greeting = b"* OK [CAPABILITY IMAP4rev1 LOGIN-REFERRALS] hostile IMAP ready\r\n"

    def __init__(self, pad: int = 0, later: bool = False):
        super().__init__(pad)
        self.later, self.login = later, b""

    def reply(self, line):
        tag, _, rest = line.partition(b" ")
        command = rest.split(b" ", 1)[0].upper()
        if command == b"CAPABILITY":
            return b"* CAPABILITY IMAP4rev1\r\n" + tag + b" OK done\r\n"
        if command == b"LOGIN" and self.later:
            self.login = rest
            return tag + b" OK logged in\r\n"
        if command == b"APPEND":
            return tag + b" NO [OVERQUOTA] " + self.filler() + b" not for " + self.login + b"\r\n"
        if command == b"LOGIN":
            return tag + b" NO [AUTHENTICATIONFAILED] " + self.filler() + b" refused " + rest + b"\r\n"
        if command == b"LOGOUT":
            return b"* BYE\r\n" + tag + b" OK bye\r\n"
        return tag + b" BAD what\r\n"


class EchoingSMTP(EchoingServer):
    greeting = b"220 hostile ESMTP\r\n"

    def reply(self, line):
        verb = line.split(b" ", 1)[0].upper()
        if verb in (b"EHLO", b"HELO"):
            return b"250-hostile\r\n250 AUTH PLAIN\r\n"
        if verb == b"AUTH":
            words = line.split(b" ")
            said = base64.b64decode(words[2]) if len(words) > 2 else b""
            password = said.split(b"\x00")[-1]
            return b"535 5.7.8 " + self.filler() + b" wrong password " + password + b" (" + words[-1] + b")\r\n"
        if verb == b"QUIT":
            return b"221 bye\r\n"
        if verb == b"RSET" or verb == b"NOOP":
            return b"250 ok\r\n"
        return b"503 no\r\n"
