"""One watched folder of one account, for as long as the daemon runs.

Each cycle: select the folder (a changed UIDVALIDITY starts a rescan), finish
moves a crash interrupted, carry out release requests, screen every message
above the watermark in batches, then wait for news with IDLE (poll where the
server lacks it). Any fault ends the session: one log line, a backoff, a new
connection. The crash-safety protocol is described in docs/daemon.md:

1. fetch a batch above the watermark with BODY.PEEK[];
2. skip what the store already has (dedup key: SHA-256 of the bytes);
3. screen the new ones in one batch;
4. ONE transaction: each message stored ("pending" when it must move,
   "delivered" when it stays, "error" when it is not mail) + the watermark;
5. move the held ones (and, in a staging folder, the clean ones), then record
   where they are now.
A crash before 4 leaves nothing recorded (the batch is screened again); after
4, the "pending" rows are finished by `moves.reconcile()` at the next start.
"""

from __future__ import annotations

import threading
import time

from screener import own_mail
from screener.daemon import moves
from screener.daemon.context import Backoff, Context, log
from screener.daemon.mailbox import Mailbox, MailboxError
from screener.ingest import hold_earlier_in_store
from screener.message import Message
from screener.secrets import SecretError, resolve_secret
from screener.sources.mime import MimeError, message_id, parse_email
from screener.store import Incoming, Store, StoreError, now, sha256

BATCH = 100                         # messages screened (and stored) together
BATCH_BYTES = 24 * 1024 * 1024      # ... unless they are big
IDLE_SLICE = 1.0                    # seconds between checks for stop and release requests while idling
SHORT_IDLE = 3.0                    # first IDLE of a session, and after mail arrived: see below


class FolderWatch:
    def __init__(self, ctx: Context, account, folder: str, primary: bool):
        self.ctx = ctx
        self.account = account
        self.folder = folder
        self.primary = primary
        self.name = f"{account.name}/{folder}"
        self.staging = bool(account.staging_folder) and folder == account.staging_folder
        self.uidvalidity: int | None = None
        self.last_uid = 0
        self.failed = False
        self.thread: threading.Thread | None = None

    # -- life cycle ----------------------------------------------------------------------

    def start(self) -> None:
        self.thread = threading.Thread(target=self.run, name=f"watch {self.name}", daemon=True)
        self.thread.start()

    def run(self) -> None:
        store = None
        try:
            store = Store(self.ctx.store_path)
            self._loop(store)
        except StoreError as exc:
            self.failed = True
            log.error("%s: %s; this folder is not watched", self.name, exc)
            self._status(state="stopped")
        finally:
            if store is not None:
                store.close()

    def _status(self, **fields) -> None:
        self.ctx.status.update(self.account.name, self.folder, **fields)

    def _loop(self, store: Store) -> None:
        backoff = Backoff(self.account.retry_max_seconds)
        while not self.ctx.stop.is_set():
            mailbox = None
            try:
                self._status(state="connecting")
                password = resolve_secret(self.account.password_env, self.account.password_command,
                                          f"account {self.account.name}: password")
                self.ctx.secrets.add(password)
                mailbox = Mailbox(self.account, password, allow_move=self.ctx.allow_move).connect()
                self._session(mailbox, store, backoff)
                if self.ctx.once or self.ctx.stop.is_set():
                    break
            except (MailboxError, SecretError, StoreError) as exc:
                self._fault(str(exc), backoff)
            except Exception as exc:    # a bug: say so once, keep the daemon alive, back off
                log.exception("%s: unexpected error", self.name)
                self._fault(f"unexpected error: {type(exc).__name__}: {exc}", backoff, logged=True)
            finally:
                if mailbox is not None:
                    mailbox.close()
            if self.ctx.once:
                break
        self._status(state="stopped")

    def _fault(self, text: str, backoff: Backoff, logged: bool = False) -> None:
        text = self.ctx.secrets.scrub(text)
        self.failed = True
        self.ctx.status.fault(self.account.name, self.folder, text)
        if self.ctx.once:
            if not logged:
                log.error("%s: %s", self.name, text)
            return
        delay = backoff.next()
        if not logged:
            log.warning("%s: %s; retrying in %d s", self.name, text, delay)
        self._status(state="waiting to reconnect")
        self.ctx.stop.wait(delay)

    # -- one connection ------------------------------------------------------------------------

    def _session(self, mailbox: Mailbox, store: Store, backoff: Backoff) -> None:
        if mailbox.ensure_folder(self.account.quarantine_folder):
            log.info("%s: created the quarantine folder %s", self.name, self.account.quarantine_folder)
        if self.staging and mailbox.ensure_folder(self.folder):
            log.info("%s: created the staging folder (point your server's rules at it)", self.name)
        self._open(mailbox, store)
        moves.reconcile(self, mailbox, store)
        moves.releases(self, mailbox, store)
        busy = True
        while not self.ctx.stop.is_set():
            self._open(mailbox, store)
            if self._catch_up(mailbox, store):
                busy = True
                continue        # search again: mail may have come in while this batch was screened
            if self.ctx.stop.is_set():
                return
            if moves.releases(self, mailbox, store):
                continue
            backoff.reset()
            self.failed = False
            if self.ctx.once:
                return
            self._wait(mailbox, store, short=busy)
            busy = False

    def _open(self, mailbox: Mailbox, store: Store) -> None:
        info = mailbox.select(self.folder)
        self._status(last_contact=now())
        if info.uidvalidity == self.uidvalidity:
            return
        mark = store.watermark(self.account.name, self.folder)
        if mark is not None and mark[0] == info.uidvalidity:
            self.last_uid = mark[1]
        else:
            if mark is not None:
                log.warning("%s: UIDVALIDITY changed from %d to %d; rescanning the folder (messages already "
                            "screened are recognised by their content)", self.name, mark[0], info.uidvalidity)
            self.last_uid = 0
            with store.write():
                store.set_watermark(self.account.name, self.folder, info.uidvalidity, 0)
                if mark is not None:
                    store.audit("daemon", "uidvalidity_changed", None, account=self.account.name,
                                folder=self.folder, old=mark[0], new=info.uidvalidity)
        self.uidvalidity = info.uidvalidity
        self._status(uidvalidity=info.uidvalidity, last_uid=self.last_uid)

    # -- screening -----------------------------------------------------------------------------

    def _catch_up(self, mailbox: Mailbox, store: Store) -> int:
        """Screen everything above the watermark; return how many UIDs were handled."""
        uids = mailbox.uids_after(self.last_uid, self.account.since)
        if not uids:
            return 0
        total, done = len(uids), 0
        if total > BATCH:
            self._status(state="backfilling", backfill=[0, total])
        while uids and not self.ctx.stop.is_set():
            batch = uids[:BATCH]
            sizes = mailbox.sizes(batch)
            size, cut = 0, 0
            for cut, uid in enumerate(batch):
                size += sizes.get(uid, 0)
                if size > BATCH_BYTES and cut > 0:
                    break
            else:
                cut = len(batch)
            batch, uids = batch[:cut], uids[cut:]
            self._screen_batch(mailbox, store, batch, mailbox.fetch(batch))
            done += len(batch)
            self.ctx.progress(self.name, done, total)
            if total > BATCH:
                self._status(backfill=[done, total])
        self._status(last_contact=now(), last_uid=self.last_uid)
        return done

    def _screen_batch(self, mailbox: Mailbox, store: Store, uids: list[int], raws: dict[int, bytes]) -> None:
        fresh, keys = [], set()
        for uid in uids:
            raw = raws.get(uid)
            if raw is None:     # expunged since the search
                continue
            key = sha256(raw)
            if key in keys or store.find("imap", key) is not None:
                continue        # screened before (a released message coming back, a rescan)
            if own_mail.is_own(store, key):
                continue        # screener's own summary, appended to this inbox: the user's to read
            keys.add(key)
            fresh.append(self._incoming(uid, raw, key))
        fresh = self._screen(store, fresh)
        to_quarantine, to_inbox, afterwards = [], [], []
        with store.write():
            for item, err, verdict in fresh:
                if err is not None:
                    store.add(item, None, "error", self.folder, "daemon", error=err)
                    continue
                held = verdict.action == "quarantine"
                moving = held or self.staging
                row = store.add(item, verdict, "pending" if moving else "delivered", self.folder, "daemon",
                                model_sha=self.ctx.screening.model_sha)
                afterwards += hold_earlier_in_store(store, verdict, item.message, row, "daemon")
                if moving:
                    (to_quarantine if held else to_inbox).append((item.uid, row))
            store.set_watermark(self.account.name, self.folder, self.uidvalidity, max(uids))
        self.last_uid = max(uids)
        for item, err, _ in fresh:
            if err is not None:
                log.warning("%s: message UID %d %s; kept in the store as an error and left in place",
                            self.name, item.uid, err)
        if fresh:
            self.ctx.on_stored()
        if to_quarantine:
            moves.move_batch(self, mailbox, store, to_quarantine, self.account.quarantine_folder, "quarantined")
        if to_inbox:
            moves.move_batch(self, mailbox, store, to_inbox, self.account.inbox, "delivered")
        if afterwards:   # earlier mail of a sender this batch showed to be a blocked person
            log.info("%s: %d earlier message%s of a sender now held to be moved to quarantine", self.name,
                     len(afterwards), "" if len(afterwards) == 1 else "s")
            moves.reconcile(self, mailbox, store, only=afterwards)

    def _screen(self, store: Store, fresh: list) -> list[tuple]:
        """(item, error, verdict) for each: the batch in one go; should the screener fail on it, one by
        one, so that a single hostile message is kept as an error instead of blocking the folder."""
        good = [item for item, err in fresh if err is None]
        try:
            verdicts = dict(zip((item.uid for item in good), self.ctx.screening.screen(
                store, [item.message for item in good])))
        except Exception as exc:
            log.error("%s: screening a batch failed (%s: %s); screening its messages one by one", self.name,
                      type(exc).__name__, exc)
            verdicts = {}
            for item in good:
                try:
                    verdicts[item.uid] = self.ctx.screening.screen(store, [item.message])[0]
                except Exception as one:
                    verdicts[item.uid] = f"could not be screened ({type(one).__name__})"
        out = []
        for item, err in fresh:
            verdict = verdicts.get(item.uid) if err is None else None
            if isinstance(verdict, str):
                err, verdict = verdict, None
            out.append((item, err, verdict))
        return out

    def _incoming(self, uid: int, raw: bytes, key: str) -> tuple[Incoming, str | None]:
        record_id = f"{self.account.name}/{self.folder}/{self.uidvalidity}/{uid}"
        error = None
        try:
            message = parse_email(raw, record_id, strict=True)
        except MimeError as exc:
            message, error = Message(id=record_id, body=""), f"is not mail: {exc}"
        except Exception as exc:       # the parser choked on hostile input: keep it as evidence
            message, error = Message(id=record_id, body=""), f"cannot be parsed ({type(exc).__name__})"
        item = Incoming(message=message, raw=raw, source="imap", dedup_key=key, account=self.account.name,
                        folder=self.folder, uidvalidity=self.uidvalidity, uid=uid,
                        message_id=message_id(raw) or None)
        return item, error

    # -- waiting -------------------------------------------------------------------------------

    def _wait(self, mailbox: Mailbox, store: Store, short: bool = False) -> None:
        """Wait for news. A server reports in IDLE only what arrives once IDLE has started (Dovecot does not
        even report what came between our last SEARCH and IDLE), so the first IDLE of a session and the one
        after mail arrived are short: the next cycle's search finds such a message within seconds. Quiet
        cycles last `idle_seconds`."""
        period = self.account.idle_seconds if mailbox.can_idle else self.account.poll_seconds
        if short and mailbox.can_idle:
            period = min(period, SHORT_IDLE)
        deadline = time.monotonic() + period
        if not mailbox.can_idle:
            self._status(state="polling")
            while not self.ctx.stop.is_set() and time.monotonic() < deadline:
                self.ctx.stop.wait(min(IDLE_SLICE, max(0.0, deadline - time.monotonic())))
                if moves.release_waiting(self, store):
                    break
            mailbox.noop()
            return
        self._status(state="idle")
        mailbox.idle_start()
        try:
            while not self.ctx.stop.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                news = mailbox.idle_wait(min(IDLE_SLICE, left))
                if any(not (r and r[0] in (b"OK",)) for r in news):
                    break
                if moves.release_waiting(self, store):
                    break
        finally:
            mailbox.idle_stop()

