"""Named schema migrations, applied in order, each in its own transaction.

Never edit a migration that has shipped: add a new one at the end. The store
records each applied name in `migrations`, so opening an old database brings
it up to date and opening a current one does nothing.
"""

from __future__ import annotations

INITIAL = """
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    record_id TEXT NOT NULL,            -- the input record's id
    channel TEXT NOT NULL,              -- email | sms
    source TEXT NOT NULL,               -- imap | sms-backup | sms-gateway | sms-twilio | sms-generic | file
    dedup_key TEXT NOT NULL,            -- source-specific identity (event id, Message-ID + hash, ...)
    account TEXT, folder TEXT, uidvalidity INTEGER, uid INTEGER,
    message_id TEXT,                    -- RFC 5322 Message-ID, when there is one
    sha256 TEXT NOT NULL,               -- of `raw`
    raw BLOB NOT NULL,                  -- original bytes (.eml) or the SMS as JSON, byte for byte
    record TEXT NOT NULL,               -- the contract input record, as JSON
    sender TEXT, sender_key TEXT, sender_name TEXT, date TEXT,
    received_at TEXT NOT NULL,          -- when screener got it (UTC)
    screened_at TEXT,
    action TEXT, alert INTEGER NOT NULL DEFAULT 0, sender_status TEXT, blocked_person TEXT,
    tags TEXT NOT NULL DEFAULT '[]', tactics TEXT NOT NULL DEFAULT '{}',
    logistics TEXT NOT NULL DEFAULT '[]', reasons TEXT NOT NULL DEFAULT '[]',
    state TEXT NOT NULL,                -- pending | delivered | quarantined | released | error
    location TEXT,                      -- folder the message is in now (IMAP), or 'store'
    error TEXT,
    model_sha TEXT,
    UNIQUE (source, dedup_key)
);
CREATE INDEX messages_state ON messages(state, received_at);
CREATE INDEX messages_msgid ON messages(message_id);
CREATE INDEX messages_sha ON messages(sha256);
CREATE INDEX messages_person ON messages(blocked_person, received_at);
CREATE INDEX messages_imap ON messages(account, folder, uidvalidity, uid);

CREATE TABLE watermarks (
    account TEXT NOT NULL, folder TEXT NOT NULL,
    uidvalidity INTEGER NOT NULL, last_uid INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (account, folder)
);

CREATE TABLE aliases (
    id INTEGER PRIMARY KEY,
    value TEXT NOT NULL,                -- a normalised address or number
    role TEXT NOT NULL,                 -- blocked | trusted
    person TEXT,                        -- the blocked person (role blocked)
    source TEXT NOT NULL,               -- announced | friend | ...
    created_at TEXT NOT NULL,
    UNIQUE (value, role)
);

CREATE TABLE releases (
    id INTEGER PRIMARY KEY,
    message INTEGER NOT NULL REFERENCES messages(id),
    requested_by TEXT NOT NULL, requested_at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',   -- pending | done | failed
    done_at TEXT, outcome TEXT
);
CREATE INDEX releases_status ON releases(status);

CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    message INTEGER REFERENCES messages(id),
    created_at TEXT NOT NULL,
    via TEXT NOT NULL,                  -- email | webhook | test
    status TEXT NOT NULL DEFAULT 'pending',   -- pending | sent | failed
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT, sent_at TEXT, grouped INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE annotations (
    id INTEGER PRIMARY KEY,
    message INTEGER NOT NULL REFERENCES messages(id),
    author TEXT NOT NULL,
    kind TEXT NOT NULL,                 -- note | confirm | needs_attention | feedback
    value TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE INDEX annotations_message ON annotations(message);

CREATE TABLE accounts (
    username TEXT PRIMARY KEY,
    role TEXT NOT NULL,                 -- friend | user
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE view_requests (
    id INTEGER PRIMARY KEY,
    message INTEGER NOT NULL REFERENCES messages(id),
    requested_by TEXT NOT NULL, requested_at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',   -- pending | approved | refused
    decided_by TEXT, decided_at TEXT
);

CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    pid INTEGER, started_at TEXT NOT NULL, heartbeat_at TEXT NOT NULL, stopped_at TEXT,
    status TEXT NOT NULL DEFAULT 'running'    -- running | stopped
);

CREATE TABLE digests (
    id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    facts TEXT NOT NULL                 -- JSON list of {kind, text}
);

CREATE TABLE state (
    key TEXT PRIMARY KEY, value TEXT NOT NULL
);

CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,                -- daemon | import | webhook | cli | friend:NAME | user:NAME
    action TEXT NOT NULL,
    message INTEGER,
    detail TEXT NOT NULL,               -- canonical JSON
    prev TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER messages_no_delete BEFORE DELETE ON messages
BEGIN SELECT RAISE(ABORT, 'stored messages are evidence and are never deleted'); END;
CREATE TRIGGER messages_raw_fixed BEFORE UPDATE OF raw, sha256 ON messages
BEGIN SELECT RAISE(ABORT, 'original bytes are never changed'); END;
"""

ALERT_DELIVERY = """
-- batch: the rows sent together in one alert share it; next_at: when to try (again), NULL once sent;
-- attempted_at: the last attempt.
ALTER TABLE alerts ADD COLUMN batch TEXT;
ALTER TABLE alerts ADD COLUMN next_at TEXT;
ALTER TABLE alerts ADD COLUMN attempted_at TEXT;
CREATE INDEX alerts_message ON alerts(message);
CREATE INDEX alerts_route ON alerts(via, status, next_at);
CREATE INDEX messages_alert ON messages(alert) WHERE alert = 1;
"""

WEB_SESSIONS = """
CREATE TABLE web_sessions (
    token_hash TEXT PRIMARY KEY,        -- SHA-256 of the session token held in the signed cookie
    username TEXT NOT NULL REFERENCES accounts(username),
    role TEXT NOT NULL,                 -- friend | user
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX web_sessions_user ON web_sessions(username);
CREATE INDEX view_requests_message ON view_requests(message, status);
CREATE INDEX releases_message ON releases(message);
-- Covers the friend's queue filters and their choices, so listing and counting never read
-- past the stored originals (columns after a large `raw` live on its overflow pages).
CREATE INDEX messages_queue ON messages(state, blocked_person, sender_status, channel, date, received_at, tags);
"""

# (name, SQL). Append only.
# Find a sender's messages around a time (an SMS backup recognises texts that came by webhook).
SENDER_INDEX = """
CREATE INDEX messages_sender ON messages(sender_key, date);
"""

MIGRATIONS: list[tuple[str, str]] = [
    ("0001_initial", INITIAL),
    ("0002_alert_delivery", ALERT_DELIVERY),
    ("0003_web_sessions", WEB_SESSIONS),
    ("0004_messages_by_sender", SENDER_INDEX),
]
