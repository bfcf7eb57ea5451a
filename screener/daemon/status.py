"""`screener status`: what the daemon is doing, read from the store, without
any message content (no senders, subjects or text: only accounts, folders,
UIDs, counts and the daemon's own fault lines)."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone

from screener.daemon.runner import HEARTBEAT_SECONDS, STATUS_KEY, watched_folders

STALE_SECONDS = HEARTBEAT_SECONDS * 3 + 5


def _parse(ts: str | None) -> datetime | None:
    if not ts:
        return None
    try:
        return datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def _ago(ts: str | None, moment: datetime) -> str:
    when = _parse(ts)
    if when is None:
        return "never"
    seconds = max(0, int((moment - when).total_seconds()))
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    if seconds < 172800:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} days ago"


def _local(ts: str | None) -> str:
    when = _parse(ts)
    return when.astimezone().strftime("%Y-%m-%d %H:%M:%S") if when else "?"


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def collect(config, store, moment: datetime | None = None) -> dict:
    """The facts `status` shows, as a dict (also printed by `status --json`)."""
    moment = moment or datetime.now(timezone.utc)
    midnight = datetime.now().astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
    today = midnight.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    run = store.conn.execute("SELECT * FROM runs ORDER BY id DESC LIMIT 1").fetchone()
    daemon: dict = {"state": "never run"}
    if run is not None:
        daemon = {"pid": run["pid"], "started_at": run["started_at"], "heartbeat_at": run["heartbeat_at"],
                  "stopped_at": run["stopped_at"]}
        beat = _parse(run["heartbeat_at"])
        fresh = beat is not None and (moment - beat).total_seconds() <= STALE_SECONDS
        if run["status"] == "running" and not _alive(run["pid"]):
            daemon["state"] = "gone"        # killed: no need to wait for the heartbeat to go stale
        elif run["status"] == "running" and fresh:
            daemon["state"] = "running"
        elif run["status"] == "running":
            daemon["state"] = "not responding"
        else:
            daemon["state"] = "stopped"
    saved = json.loads(store.get_state(STATUS_KEY, "{}") or "{}")
    board = {(w["account"], w["folder"]): w for w in saved.get("watches", [])}
    accounts = []
    for account in config.imap:
        folders = []
        for folder in watched_folders(account):
            mark = store.watermark(account.name, folder)
            live = board.get((account.name, folder), {})
            folders.append({"folder": folder, "uidvalidity": mark[0] if mark else None,
                            "last_uid": mark[1] if mark else None,
                            **{k: live.get(k) for k in ("state", "since", "last_contact", "backfill", "faults",
                                                         "last_error", "last_error_at")}})
        counts = _counts(store, account.name, today)
        accounts.append({"name": account.name, "login": f"{account.username}@{account.host}",
                         "quarantine_folder": account.quarantine_folder,
                         "fail_closed": bool(account.staging_folder), "folders": folders, "today": counts})
    waiting = {
        "release_requests": store.conn.execute("SELECT COUNT(*) FROM releases WHERE status = 'pending'").fetchone()[0],
        "interrupted_moves": store.conn.execute("SELECT COUNT(*) FROM messages WHERE state = 'pending'").fetchone()[0],
        "errors_total": store.conn.execute("SELECT COUNT(*) FROM messages WHERE state = 'error'").fetchone()[0],
    }
    return {"daemon": daemon, "accounts": accounts, "today_since": today, "waiting": waiting}


def _counts(store, account: str, since: str) -> dict:
    row = store.conn.execute(
        "SELECT COUNT(*) AS n, SUM(action = 'quarantine') AS quarantined, SUM(state = 'error') AS errors, "
        "SUM(alert) AS alerts FROM messages WHERE account = ? AND source = 'imap' AND received_at >= ?",
        (account, since)).fetchone()
    released = store.conn.execute(
        "SELECT COUNT(*) FROM releases r JOIN messages m ON m.id = r.message WHERE m.account = ? "
        "AND m.source = 'imap' AND r.status = 'done' AND r.done_at >= ?", (account, since)).fetchone()[0]
    return {"screened": (row["n"] or 0) - (row["errors"] or 0), "quarantined": row["quarantined"] or 0,
            "released": released, "errors": row["errors"] or 0, "alerts": row["alerts"] or 0}


def render(facts: dict, moment: datetime | None = None) -> str:
    moment = moment or datetime.now(timezone.utc)
    d = facts["daemon"]
    lines = []
    if d["state"] == "never run":
        lines.append("daemon: has never run on this store")
    elif d["state"] == "running":
        lines.append(f"daemon: running (pid {d['pid']}) since {_local(d['started_at'])}; "
                     f"heartbeat {_ago(d['heartbeat_at'], moment)}")
    elif d["state"] == "stopped":
        lines.append(f"daemon: NOT running; it stopped at {_local(d['stopped_at'])}; mail is not being screened")
    else:
        lines.append(f"daemon: NOT running ({'process gone' if d['state'] == 'gone' else 'no heartbeat'}); "
                     f"last heartbeat {_ago(d['heartbeat_at'], moment)} (pid {d['pid']}) — it was killed, is hung, "
                     "or cannot write its store (disk full?); mail is not being screened")
    for acc in facts["accounts"]:
        mode = ", fail-closed (staging folder)" if acc["fail_closed"] else ""
        lines.append(f"account {acc['name']} ({acc['login']}){mode}; quarantine folder {acc['quarantine_folder']}")
        for f in acc["folders"]:
            state = f.get("state") or "not started"
            if state == "backfilling" and f.get("backfill"):
                state = f"backfilling {f['backfill'][0]}/{f['backfill'][1]}"
            where = (f"last screened UID {f['last_uid']} (UIDVALIDITY {f['uidvalidity']})"
                     if f["uidvalidity"] is not None else "not screened yet")
            contact = (f"; last contact with the server {_ago(f['last_contact'], moment)}" if f.get("last_contact")
                       else "; no contact with the server yet" if d["state"] == "running" else "")
            lines.append(f"  {f['folder']}: {state if d['state'] == 'running' else 'stopped'}; {where}{contact}")
            if f.get("last_error"):
                lines.append(f"    last fault {_local(f['last_error_at'])} ({f.get('faults') or 0} this run): "
                             f"{f['last_error']}")
        t = acc["today"]
        lines.append(f"  today: {t['screened']} screened, {t['quarantined']} quarantined, {t['released']} released, "
                     f"{t['alerts']} safety alert(s), {t['errors']} not mail (kept as errors)")
    w = facts["waiting"]
    lines.append(f"waiting: {w['release_requests']} release request(s), {w['interrupted_moves']} interrupted move(s); "
                 f"{w['errors_total']} message(s) kept as errors in all")
    return "\n".join(lines)
