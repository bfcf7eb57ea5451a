"""Moving messages between folders so that a crash at any instant leaves each
in exactly one place, and the store saying which.

- `move_batch()`: the normal path, right after a batch was stored as "pending".
- `reconcile()`: at the start of every session, finish the "pending" moves a
  crash or a dropped connection interrupted.
- `releases()`: carry out release requests (from the store, the friend's page):
  quarantine folder -> the folder the message came from (the inbox for a
  staging folder), recorded with the request's outcome in one transaction.

Both recovery paths use `transfer()`, which looks for the message (by UID
when it is still valid, else by Message-ID, always checked by SHA-256) in the
destination AND the source before acting, so it can be repeated safely:
in both (a COPY whose EXPUNGE never happened) -> expunge the source copy;
only in the source -> move it; only in the destination -> nothing to do.
"""

from __future__ import annotations

from screener.daemon.context import log


def move_batch(watch, mailbox, store, pairs: list[tuple[int, int]], dest: str, state: str) -> None:
    """Move (UID, store row) pairs from the watched folder (selected) to `dest`, then record it."""
    mapping, dest_validity = mailbox.move([uid for uid, _ in pairs], dest)
    with store.write():
        for uid, row in pairs:
            new_uid = mapping.get(uid)
            store.move(row, state, dest, "daemon", uid=new_uid, uidvalidity=dest_validity if new_uid else None,
                       via="move" if mailbox.can_move else "copy")
    if state == "quarantined":
        log.info("%s: quarantined %d message%s", watch.name, len(pairs), "" if len(pairs) == 1 else "s")


def _owned(watch, rows) -> list:
    watched = set(watch.account.folders) | ({watch.account.staging_folder} if watch.account.staging_folder else set())
    return [r for r in rows if r["source"] == "imap" and r["account"] == watch.account.name
            and (r["folder"] == watch.folder or (watch.primary and r["folder"] not in watched))]


def transfer(mailbox, row, src: str, dst: str, hint: tuple[int, int] | None = None):
    """Make sure the message of `row` is in `dst` and no longer in `src`.

    Returns (UID in dst or None, dst UIDVALIDITY or None), or False when it is in neither folder.
    `hint` is (UID, UIDVALIDITY) where the store last saw it in `src`.
    """
    digest, msgid = row["sha256"], row["message_id"] or ""
    in_dst = mailbox.locate(dst, digest, msgid)
    dst_validity = mailbox.selected.uidvalidity
    in_src = mailbox.locate(src, digest, msgid, hint)
    if in_src and in_dst:
        mailbox.expunge(in_src)
        return in_dst[0], dst_validity
    if in_src:
        mapping, validity = mailbox.move(in_src, dst)
        return mapping.get(in_src[0]), validity
    if in_dst:
        return in_dst[0], dst_validity
    return False


def reconcile(watch, mailbox, store, only: list[int] | None = None) -> int:
    """Finish the moves of rows left "pending" (a crash or a lost connection between storing and moving).
    `only`: just these rows of the account, whichever folder they are in (mail held afterwards)."""
    rows = store.conn.execute(
        "SELECT * FROM messages WHERE state = 'pending' AND source = 'imap' AND account = ? ORDER BY id",
        (watch.account.name,)).fetchall()
    if only is None:
        rows = _owned(watch, rows)
    else:
        wanted = set(only)
        rows = [r for r in rows if r["id"] in wanted]
    for row in rows:
        if watch.ctx.stop.is_set():
            break
        held = row["action"] == "quarantine"
        dest = watch.account.quarantine_folder if held else watch.account.inbox
        state = "quarantined" if held else "delivered"
        hint = (row["uid"], row["uidvalidity"]) if row["uid"] else None
        result = transfer(mailbox, row, row["folder"], dest, hint)
        with store.write():
            if result is False:
                store.move(row["id"], state, "store", "daemon", note="not found on the server when resuming the move")
            else:
                store.move(row["id"], state, dest, "daemon", uid=result[0], uidvalidity=result[1], resumed=True)
        if result is False:
            log.warning("%s: message %d was to be moved to %s but is no longer on the server; its original "
                        "is in the store", watch.name, row["id"], dest)
    if rows and only is None:
        log.info("%s: finished %d interrupted move%s", watch.name, len(rows), "" if len(rows) == 1 else "s")
    mailbox.select(watch.folder)
    return len(rows)


def release_waiting(watch, store) -> bool:
    row = store.conn.execute(
        "SELECT m.folder FROM releases r JOIN messages m ON m.id = r.message WHERE r.status = 'pending' "
        "AND m.account = ? AND m.source = 'imap' LIMIT 50", (watch.account.name,)).fetchall()
    return bool(_owned(watch, [{"source": "imap", "account": watch.account.name, "folder": r[0]} for r in row]))


def releases(watch, mailbox, store) -> int:
    """Carry out pending release requests for this folder's messages. Returns how many were handled."""
    account = watch.account
    handled = 0
    for row in _owned(watch, store.pending_releases()):
        if watch.ctx.stop.is_set():
            break
        release = row["release_id"]
        if row["state"] == "pending":
            continue        # its move has not finished yet; reconcile() comes first
        if row["state"] == "released":
            outcome, ok = "already released", True
        elif row["state"] != "quarantined":
            outcome, ok = f"not held (state {row['state']})", False
        elif row["location"] != account.quarantine_folder:
            outcome, ok = f"not in the quarantine folder (it is in {row['location']})", False
        else:
            target = account.inbox if row["folder"] == account.staging_folder else row["folder"]
            hint = (row["uid"], row["uidvalidity"]) if row["uid"] else None
            result = transfer(mailbox, row, account.quarantine_folder, target, hint)
            if result is False:
                outcome, ok = "not found in the quarantine folder", False
            else:
                with store.write():
                    store.move(row["id"], "released", target, "daemon", uid=result[0], uidvalidity=result[1])
                    store.finish_release(release, True, f"moved to {target}", "daemon")
                log.info("%s: released message %d to %s", watch.name, row["id"], target)
                handled += 1
                continue
        with store.write():
            store.finish_release(release, ok, outcome, "daemon")
        if not ok:
            log.warning("%s: release of message %d failed: %s", watch.name, row["id"], outcome)
        handled += 1
    if handled:
        mailbox.select(watch.folder)
    return handled
