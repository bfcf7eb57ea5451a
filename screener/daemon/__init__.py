"""The mailbox daemon (`screener run`): screens IMAP folders as mail arrives.

Modules: `mailbox` (the IMAP seam), `folder_sync` (one watched folder: backfill,
catch-up, IDLE), `moves` (crash-safe moves, reconciliation and releases),
`runner` (threads, heartbeat, reload, alerts), `status` (`screener status`),
`context` (what the threads share). See docs/daemon.md.
"""
