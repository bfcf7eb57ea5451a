"""The public benign corpora in ../shared/data, read in place (never copied into the repo).

Every reader returns [] when the folder is absent, as it is on a user's machine.
"""

from __future__ import annotations

import csv
import gzip
import io
import tarfile
from pathlib import Path

from screener.message import Message


def nus_sms(shared: Path, limit: int, exclude: set[str] = frozenset()) -> list[Message]:
    path = shared / "nus_sms" / "nus_sms_en.csv.gz"
    if not path.is_file():
        return []
    out = []
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as fh:
        for row in csv.DictReader(fh):
            text = (row.get("text") or "").strip()
            if text and text not in exclude:
                out.append(Message(id=f"nus-{row.get('id')}", body=text, channel="sms",
                                   sender=f"nus-{row.get('userID')}"))
            if len(out) >= limit:
                break
    return out


def enron_heldout(shared: Path, limit: int) -> list[Message]:
    """Mailboxes enron4-6: the model trains on a sample of enron1-3 only."""
    path = shared / "enron_ham" / "enron_spam_ham.csv.gz"
    if not path.is_file():
        return []
    csv.field_size_limit(10 ** 8)
    out = []
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as fh:
        for row in csv.DictReader(fh):
            if row["subset"] in ("enron4", "enron5", "enron6"):
                out.append(Message(id=f"enron-{row['file']}", body=row["text"], channel="email",
                                   sender=f"{row['owner']}@enron.example"))
            if len(out) >= limit:
                break
    return out


def spamassassin(shared: Path, name: str, limit: int) -> list[Message]:
    from screener.sources.mime import parse_email

    path = shared / "spamassassin_ham" / f"{name}.tar.gz"
    if not path.is_file():
        return []
    out = []
    with tarfile.open(path, "r:gz") as tar:
        for member in tar:
            if not member.isfile() or member.name.endswith("cmds"):
                continue
            raw = tar.extractfile(member).read()
            out.append(parse_email(raw, f"sa-{Path(member.name).name}"))
            if len(out) >= limit:
                break
    return out


def uci_texts(repo_data: Path) -> set[str]:
    path = repo_data / "benign" / "uci_sms_spam_collection.tsv"
    if not path.is_file():
        return set()
    return {line.partition("\t")[2].strip() for line in io.open(path, encoding="utf-8", errors="replace")}


def benign_sets(shared: Path, limit: int) -> dict[str, list[Message]]:
    from screener.corpus import DEFAULT_DATA_DIR

    return {
        "nus_sms (not in UCI)": nus_sms(shared, limit, uci_texts(DEFAULT_DATA_DIR)),
        "enron4-6": enron_heldout(shared, limit),
        "spamassassin easy_ham": spamassassin(shared, "easy_ham", limit),
        "spamassassin hard_ham": spamassassin(shared, "hard_ham", limit),
    }
