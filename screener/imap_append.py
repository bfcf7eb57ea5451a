"""Put a message into the user's own mailbox by IMAP APPEND (no SMTP needed).

Used to deliver the summary. `tls`: `ssl` (implicit TLS), `starttls`, or
`none` (loopback test servers only); certificates are checked. The password
comes from `resolve_secret` and never appears in an error.
"""

from __future__ import annotations

import ssl
from datetime import datetime, timezone

from screener.errors import ScreenerError
from screener.secrets import SecretError, redact, resolve_secret, silence_protocol_logs


class MailboxError(ScreenerError):
    """A message could not be appended to a mailbox (the message says which and why)."""


def append_message(account, folder: str, raw_bytes: bytes) -> None:
    """Append `raw_bytes` (an RFC 5322 message, CRLF line ends) to `folder`, unread."""
    from imapclient import IMAPClient
    from imapclient.exceptions import IMAPClientError, LoginError

    where = f"imap[{account.name}] {account.host}:{account.port}"
    silence_protocol_logs()
    try:
        password = resolve_secret(account.password_env, account.password_command, f"imap[{account.name}] password")
    except SecretError as exc:
        raise MailboxError(str(exc)) from None
    try:
        client = IMAPClient(account.host, port=account.port, ssl=account.tls == "ssl",
                            ssl_context=ssl.create_default_context() if account.tls == "ssl" else None,
                            timeout=account.timeout_seconds)
        try:
            if account.tls == "starttls":
                client.starttls(ssl.create_default_context())
            client.login(account.username, password)
            client.append(folder, raw_bytes, flags=(), msg_time=datetime.now(timezone.utc))
        finally:
            try:
                client.logout()
            except (IMAPClientError, OSError):
                pass
    except LoginError:              # what the server says about a refused login may quote the password
        raise MailboxError(f"{where}: could not append to {folder!r}: the server refused the login "
                           f"of {account.username!r}") from None
    except (IMAPClientError, OSError, ValueError) as exc:
        raise MailboxError(redact(f"{where}: could not append to {folder!r}: {type(exc).__name__}: {exc}",
                                  password)[:400]) from None
