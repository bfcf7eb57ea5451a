"""Files only their owner can read.

Everything screener writes that holds messages or their traces (the store's
backups, evidence bundles, history files, summaries) is created here: a new
file, mode 0600 whatever the umask, written to a temporary name and moved
into place by the caller. Whatever already sat at the temporary name (a
leftover from a crash, or a file or link another user put in a shared
folder) is removed first and never written through.
"""

from __future__ import annotations

import os

_FLAGS = os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0)


def create_private(path) -> int:
    """A new, empty file at `path`, open for writing (a file descriptor), mode 0600. Raises OSError."""
    path = os.fspath(path)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    fd = os.open(path, _FLAGS, 0o600)
    os.fchmod(fd, 0o600)
    return fd


def tighten(path) -> None:
    """Make an existing file of ours 0600 if group or others could read it (no-op when absent)."""
    try:
        mode = os.stat(path).st_mode
        if mode & 0o077:
            os.chmod(path, 0o600)
    except (FileNotFoundError, PermissionError):
        pass
