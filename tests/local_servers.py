"""Real local servers for the alert tests: an SMTP server (aiosmtpd) and an HTTP
endpoint (http.server in a thread), both on loopback, free ports."""

from __future__ import annotations

import email
import email.policy
import shutil
import socket
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SMTPSink:
    """An SMTP server that keeps what it receives. `login`/`password` turn on AUTH."""

    def __init__(self, login: str | None = None, password: str | None = None, tls_context=None,
                 require_starttls: bool = False):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes = []
        self.logins: list[bool] = []
        self.port = free_port()
        kwargs = {}
        if login is not None:
            self._login, self._password = login.encode(), (password or "").encode()
            kwargs.update(authenticator=self._auth, auth_require_tls=tls_context is not None)
        if tls_context is not None:
            kwargs.update(tls_context=tls_context, require_starttls=require_starttls)
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **kwargs)

    def _auth(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == self._login \
            and auth_data.password == self._password
        self.logins.append(ok)
        return AuthResult(success=ok, handled=False)

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()


class WebhookSink:
    """An HTTP endpoint that records POSTs and answers `status` (change it at any time)."""

    def __init__(self, status: int = 200):
        self.status = status
        self.requests: list[dict] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length).decode("utf-8")
                sink.requests.append({"path": self.path, "headers": dict(self.headers), "body": body,
                                      "status": sink.status})
                self.send_response(sink.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/screener-alerts"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def ok(self) -> list[dict]:
        return [r for r in self.requests if r["status"] < 300]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def self_signed(folder) -> tuple[str, str] | None:
    """(cert, key) for 'localhost', made with the openssl command; None when it is missing."""
    if not shutil.which("openssl"):
        return None
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
                   check=True, capture_output=True, timeout=60)
    return str(cert), str(key)


def server_tls(cert: str, key: str) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx
