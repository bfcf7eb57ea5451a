"""Labelled data: reading, checking and splitting the project's corpus.

- `data/corpus/train_*.jsonl`: training data, one file per writer.
- `data/corpus/test_*.jsonl`: the held-out split, written separately.
- `data/benign/`: public ordinary messages (UCI SMS ham and spam, an Enron sample).
See data/README.md and data/corpus/SCHEMA.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from screener.errors import DataError
from screener.labels import LOGISTICS_KINDS, MODEL_LABELS, TACTICS
from screener.model import PROJECT_ROOT

DEFAULT_DATA_DIR = PROJECT_ROOT / "data"
REQUIRED = ("id", "channel", "body", "tactics", "safety", "logistics")


@dataclass
class Example:
    id: str
    text: str
    body: str
    channel: str
    date: str
    group: str          # the writer (file) it came from: splits never mix writers
    tactics: tuple[str, ...]
    safety: bool
    logistics: bool
    facts: tuple = ()

    def target(self) -> np.ndarray:
        y = [t in self.tactics for t in TACTICS] + [self.safety, self.logistics]
        return np.array(y, dtype=np.int8)


def check_record(obj: dict, where: str) -> None:
    for key in REQUIRED:
        if key not in obj:
            raise DataError(f"{where}: missing field '{key}'")
    if obj["channel"] not in ("sms", "email"):
        raise DataError(f"{where}: channel must be sms or email")
    if not isinstance(obj["body"], str) or not obj["body"].strip():
        raise DataError(f"{where}: empty body")
    bad = [t for t in obj["tactics"] if t not in TACTICS]
    if bad:
        raise DataError(f"{where}: unknown tactic(s) {bad}")
    if not isinstance(obj["safety"], bool) or not isinstance(obj["logistics"], bool):
        raise DataError(f"{where}: safety and logistics must be true or false")
    for fact in obj.get("facts") or ():
        if fact.get("kind") not in LOGISTICS_KINDS or not fact.get("text"):
            raise DataError(f"{where}: bad fact {fact!r}")


def read_labelled(path: Path) -> list[Example]:
    out = []
    group = path.stem.split("_")[1] if path.stem.count("_") >= 1 else path.stem
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{path.name}:{n}"
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{where}: not valid JSON ({exc})") from None
            check_record(obj, where)
            subject = obj.get("subject") or ""
            out.append(Example(
                id=obj["id"], text=f"{subject}\n{obj['body']}" if subject else obj["body"], body=obj["body"],
                channel=obj["channel"], date=obj.get("date", ""), group=group,
                tactics=tuple(obj["tactics"]), safety=obj["safety"], logistics=obj["logistics"],
                facts=tuple((f["kind"], f["text"]) for f in obj.get("facts") or ())))
    return out


def read_benign(data_dir: Path) -> list[Example]:
    """Public ordinary messages committed under data/benign (all labels negative)."""
    out = []
    uci = data_dir / "benign" / "uci_sms_spam_collection.tsv"
    if uci.is_file():
        for n, line in enumerate(uci.read_text(encoding="utf-8", errors="replace").splitlines()):
            label, _, text = line.partition("\t")
            if text.strip():
                out.append(Example(f"uci-{n:05d}", text, text, "sms", "", "uci", (), False, False))
    enron = data_dir / "benign" / "enron_sample.jsonl"
    if enron.is_file():
        for line in enron.read_text(encoding="utf-8").splitlines():
            obj = json.loads(line)
            text = f"{obj['subject']}\n{obj['body']}" if obj.get("subject") else obj["body"]
            out.append(Example(obj["id"], text, obj["body"], "email", "", "enron", (), False, False))
    return out


def load_split(data_dir: Path | None, split: str) -> list[Example]:
    data_dir = Path(data_dir or DEFAULT_DATA_DIR)
    files = sorted((data_dir / "corpus").glob(f"{split}_*.jsonl"))
    examples = [ex for f in files for ex in read_labelled(f)]
    if split == "train":
        examples += read_benign(data_dir)
    return examples


def targets(examples: list[Example]) -> np.ndarray:
    return np.stack([e.target() for e in examples]) if examples else np.zeros((0, len(MODEL_LABELS)), np.int8)
