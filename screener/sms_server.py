"""The SMS webhook receiver: a small Flask app served by waitress.

Routes (each enabled only when its secret is configured in `[sms]`):

- `POST /sms/gateway`: SMS Gateway for Android, JSON envelopes;
- `POST /sms/twilio`: Twilio inbound SMS, answered with an empty TwiML `<Response/>`;
- `POST /sms/generic`: any forwarder's JSON through `[sms].generic_fields`;
- `GET /healthz`: `ok`, for a supervisor or reverse proxy.

Every request is checked (size, then signature and timestamp) before its
body is read as data; a refused one is logged as one line without secrets or
content. An accepted message is screened and stored, in one transaction,
before the 2xx answer, so a sender that gets 2xx can forget it; a repeat (a
retry, a replay) is recognised by its event id and stored once. One Screener
and one store connection per app, used under a lock: screening one message
takes milliseconds. Alerts are handed to `alerts.deliver_pending` on a
background thread so that a slow mail server never delays the answer.

`make_app()` is what the daemon embeds; `make_server()` binds it without
serving (tests and the daemon run `server.run()` in a thread and end it with
`stop(server)`); `serve()` is `screener serve-sms`.
"""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from screener import sms_webhooks as hooks
from screener.alerts import deliver_pending
from screener.errors import ScreenerError
from screener.ingest import screen_into_store, screener_for
from screener.secrets import resolve_secret
from screener.store import Store, StoreError
from screener.until_signalled import run_until_signalled

log = logging.getLogger("screener.sms")
TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


class _AlertKicker:
    """Runs `deliver_pending` on its own thread and store connection, when kicked."""

    def __init__(self, config, store_path):
        self.config, self.store_path = config, store_path
        self.event = threading.Event()
        self.thread: threading.Thread | None = None
        self.guard = threading.Lock()

    def kick(self) -> None:
        with self.guard:
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, name="sms-alerts", daemon=True)
                self.thread.start()
        self.event.set()

    def _run(self) -> None:
        store = None
        while True:
            self.event.wait()
            self.event.clear()
            try:
                store = store or Store(self.store_path)
                deliver_pending(self.config, store)
            except Exception as exc:                      # never let alerts kill the receiver
                log.error("sms alerts: delivery failed: %s", type(exc).__name__)


class Receiver:
    """What the routes share: secrets, one Screener, one store connection, one lock."""

    def __init__(self, config, store_path, model):
        sms = config.sms
        self.config = config
        self.secrets = {}
        for route, env in (("gateway", sms.gateway_secret_env), ("twilio", sms.twilio_token_env),
                           ("generic", sms.generic_secret_env)):
            if env:
                self.secrets[route] = resolve_secret(env=env, what=f"[sms] {route} secret")
        self.fields = hooks.field_map(sms.generic_fields)
        self.store = Store(store_path)
        self.screener = screener_for(config, model, self.store)
        self.lock = threading.Lock()
        self.alerts = _AlertKicker(config, store_path)

    def close(self) -> None:
        with self.lock:
            self.store.close()

    def store_one(self, received: hooks.Received) -> bool:
        """Screen and store; True when it was new. Raises StoreError."""
        with self.lock:
            stored = screen_into_store(self.screener, self.store, [received.item], received.item.source)[0]
        if stored.new:
            self.alerts.kick()
        return stored.new


def make_app(config, store_path, model) -> Flask:
    """The receiver as a WSGI app. Raises SecretError when a configured secret cannot be read."""
    receiver = Receiver(config, store_path, model)
    app = Flask("screener.sms")
    app.config["MAX_CONTENT_LENGTH"] = config.sms.max_body_bytes
    app.extensions["screener_sms"] = receiver

    def refuse(route: str, exc: hooks.WebhookError):
        log.warning("sms webhook %s refused (%d) from %s: %s", route, exc.status, request.remote_addr, exc.reason)
        return jsonify(error=exc.reason), exc.status

    def body(route: str) -> bytes:
        if route not in receiver.secrets:
            raise hooks.WebhookError(404, "route not configured")
        return request.get_data(cache=False)

    def accept(route: str, received: hooks.Received, ok):
        if received.item is None:
            log.info("sms webhook %s: event %r acknowledged and ignored", route, received.ignored)
            return ok(False)
        try:
            new = receiver.store_one(received)
        except (StoreError, ScreenerError) as exc:
            log.error("sms webhook %s: could not store (%s); the sender will retry", route, type(exc).__name__)
            return jsonify(error="could not store; retry later"), 503
        log.info("sms webhook %s: %s", route, "stored" if new else "duplicate, already stored")
        return ok(new)

    def json_ok(new):
        return jsonify(ok=True, stored=bool(new))

    @app.post("/sms/gateway")
    def gateway():
        try:
            raw = body("gateway")
            hooks.verify_timed_hmac(receiver.secrets["gateway"], raw, request.headers.get("X-Timestamp"),
                                    request.headers.get("X-Signature"), time.time(), config.sms.max_age_seconds)
            return accept("gateway", hooks.parse_gateway(raw), json_ok)
        except hooks.WebhookError as exc:
            return refuse("gateway", exc)

    @app.post("/sms/twilio")
    def twilio():
        try:
            raw = body("twilio")
            params = hooks.parse_form(raw)
            url = config.sms.public_url or request.url
            hooks.verify_twilio(receiver.secrets["twilio"], url, params, request.headers.get("X-Twilio-Signature"))
            return accept("twilio", hooks.parse_twilio(params, raw),
                          lambda new: Response(TWIML, status=200, mimetype="text/xml"))
        except hooks.WebhookError as exc:
            return refuse("twilio", exc)

    @app.post("/sms/generic")
    def generic():
        try:
            raw = body("generic")
            secret = receiver.secrets["generic"]
            if config.sms.generic_auth == "token":
                hooks.verify_bearer(secret, request.headers.get("Authorization"))
            else:
                hooks.verify_timed_hmac(secret, raw, request.headers.get("X-Timestamp"),
                                        request.headers.get("X-Signature"), time.time(), config.sms.max_age_seconds)
            return accept("generic", hooks.parse_generic(raw, receiver.fields), json_ok)
        except hooks.WebhookError as exc:
            return refuse("generic", exc)

    @app.get("/healthz")
    def healthz():
        return Response("ok\n", mimetype="text/plain")

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(_exc):
        log.warning("sms webhook refused (413) from %s: body over %d bytes", request.remote_addr,
                    config.sms.max_body_bytes)
        return jsonify(error="request too large"), 413

    @app.errorhandler(Exception)
    def crashed(exc):                                     # a bug must not take the receiver down
        from werkzeug.exceptions import HTTPException

        if isinstance(exc, HTTPException):
            return exc
        log.error("sms webhook: internal error (%s)", type(exc).__name__)
        return jsonify(error="internal error"), 500

    return app


def make_server(config, store_path, model, host: str | None = None, port: int | None = None):
    """A waitress server bound to [sms].listen:[sms].port (or `host`, `port`; port 0 picks a free one).

    `server.effective_port` is the bound port; `server.run()` serves until `stop(server)`.
    """
    from waitress.server import create_server

    app = make_app(config, store_path, model)
    limit = config.sms.max_body_bytes
    server = create_server(app, host=host or config.sms.listen, port=config.sms.port if port is None else port,
                           threads=4, max_request_body_size=max(2 * limit, limit + 65536), ident="screener")
    server.sms_receiver = app.extensions["screener_sms"]
    return server


def stop(server) -> None:
    """Stop a server made by `make_server()` from another thread: let requests in progress finish,
    close the socket, then the store connection."""
    server.close()   # waitress: lets the worker threads finish, then closes the sockets
    server.sms_receiver.close()


def check_configured(config) -> None:
    """Raise ScreenerError unless at least one webhook route has a secret configured."""
    sms = config.sms
    if not (sms.gateway_secret_env or sms.twilio_token_env or sms.generic_secret_env):
        raise ScreenerError(f"{config.file}: [sms]: no webhook secret configured (set gateway_secret_env, "
                            "twilio_token_env or generic_secret_env)")


def serve(config, store_path, model, host: str | None = None, port: int | None = None) -> None:
    """`screener serve-sms`: serve until interrupted."""
    check_configured(config)
    server = make_server(config, store_path, model, host, port)
    app_routes = sorted(server.sms_receiver.secrets)
    log.info("sms receiver listening on http://%s:%s (routes: %s)", config.sms.listen if host is None else host,
             server.effective_port, ", ".join(f"/sms/{r}" for r in app_routes))
    run_until_signalled(server.run, lambda: stop(server), "sms-receiver")
    log.info("sms receiver stopped")
