"""The labelled data: schema, label set, and no (near-)duplicates across train and test splits."""

import json
import re
from pathlib import Path

import pytest

from screener.corpus import check_record
from screener.labels import TACTICS

CORPUS = Path(__file__).resolve().parent.parent / "data" / "corpus"
TRAIN = sorted(CORPUS.glob("train_*.jsonl"))
TEST = sorted(CORPUS.glob("test_*.jsonl"))


def records(paths):
    for path in paths:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                yield f"{path.name}:{n}", json.loads(line)


def test_files_exist():
    assert TRAIN and TEST


@pytest.mark.parametrize("path", TRAIN + TEST, ids=lambda p: p.name)
def test_schema_and_labels(path):
    ids = set()
    for where, obj in records([path]):
        check_record(obj, where)
        assert obj["id"] not in ids, f"{where}: duplicate id"
        ids.add(obj["id"])
        assert bool(obj.get("facts")) == obj["logistics"], f"{where}: facts iff logistics"


def test_every_tactic_in_train_and_test():
    for paths in (TRAIN, TEST):
        seen = {t for _, obj in records(paths) for t in obj["tactics"]}
        assert seen == set(TACTICS)


def _norm(text):
    return " ".join(re.findall(r"[a-z0-9']+", text.lower()))


def _shingles(words, k=3):
    return {" ".join(words[i:i + k]) for i in range(max(1, len(words) - k + 1))}


def test_no_duplicates_or_near_duplicates_across_splits():
    """Texts of three words or more: no exact match, and word 3-shingle Jaccard below 0.7."""
    train = [(w, _norm(o["body"])) for w, o in records(TRAIN)]
    index = {}
    for i, (_, text) in enumerate(train):
        for sh in _shingles(text.split()):
            index.setdefault(sh, []).append(i)
    exact = {text: w for w, text in train}
    problems = []
    for where, obj in records(TEST):
        text = _norm(obj["body"])
        words = text.split()
        if len(words) < 3:
            continue
        if text in exact:
            problems.append(f"{where} duplicates {exact[text]}")
            continue
        mine = _shingles(words)
        shared = {}
        for sh in mine:
            for i in index.get(sh, ()):
                shared[i] = shared.get(i, 0) + 1
        for i, n in shared.items():
            other = _shingles(train[i][1].split())
            if n / (len(mine) + len(other) - n) >= 0.7:
                problems.append(f"{where} near-duplicates {train[i][0]}")
    assert not problems, problems[:10]
