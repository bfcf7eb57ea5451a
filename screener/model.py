"""The tactic model: load with a hash check, score batches, explain tags.

Stored as plain arrays (`weights.npz`, loaded with allow_pickle=False, so
loading runs no code) and `meta.json` (labels, thresholds, provenance,
metrics, and the SHA-256 of the weights). A model whose hash does not match
is refused: the screener never screens with an unknown model.
"""

from __future__ import annotations

import bisect
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from screener.errors import ModelError
from screener.features import FEATURES_VERSION, WORD_FEATURES, Featurizer, tfidf_blocks
from screener.labels import MODEL_LABELS

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL_DIR = PROJECT_ROOT / "models" / "tactics"
WEIGHTS = "weights.npz"
META = "meta.json"
SHORT_CHARS = 60   # texts shorter than this carry little context: their labels get their own thresholds


def is_short(text: str) -> bool:
    """Too short to carry much context: judged by the short-text thresholds."""
    return len(text.strip()) < SHORT_CHARS


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass
class Scores:
    """Per-message probabilities for every model label, with the thresholds that make tags."""

    probs: np.ndarray        # (n_messages, n_labels)
    labels: tuple[str, ...]
    thresholds: np.ndarray   # (n_messages, n_labels): short texts have their own
    features: object = None  # the word TF-IDF rows (CSR), kept for explanations
    grams: list | None = None  # each message's word n-grams (features.Grams), in the rows' order

    def row(self, i: int):
        """Message i's word TF-IDF row as (column indices, values, word n-grams), without building a matrix."""
        f = self.features
        lo, hi = f.indptr[i], f.indptr[i + 1]
        return f.indices[lo:hi], f.data[lo:hi], self.grams[i] if self.grams is not None else None


class TacticModel:
    def __init__(self, idf: np.ndarray, weights: np.ndarray, bias: np.ndarray,
                 thresholds: np.ndarray, labels: tuple[str, ...], meta: dict,
                 thresholds_short: np.ndarray | None = None):
        self.idf = idf.astype(np.float32)
        self.weights = weights.astype(np.float32)
        self.bias = bias.astype(np.float32)
        self.thresholds = thresholds.astype(np.float32)
        self.thresholds_short = (self.thresholds if thresholds_short is None
                                 else np.asarray(thresholds_short, dtype=np.float32))
        self.labels = tuple(labels)
        self.meta = meta
        self.featurizer = Featurizer()

    @property
    def sha256(self) -> str:
        """The weights' SHA-256 (checked at load), recorded with every stored verdict."""
        return self.meta.get("weights_sha256", "")

    # -- persistence -----------------------------------------------------------
    @classmethod
    def load(cls, directory: Path | None = None) -> "TacticModel":
        directory = Path(directory or DEFAULT_MODEL_DIR)
        meta_path, weights_path = directory / META, directory / WEIGHTS
        if not meta_path.is_file() or not weights_path.is_file():
            raise ModelError(f"no trained model in {directory} (run `screener train`)")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ModelError(f"{meta_path}: unreadable model metadata ({exc})") from None
        actual = sha256_file(weights_path)
        if actual != meta.get("weights_sha256"):
            raise ModelError(f"{weights_path}: SHA-256 {actual[:12]}… does not match the model's metadata; "
                             "refusing to screen with an unknown model")
        if meta.get("features_version", 1) != FEATURES_VERSION:
            raise ModelError(f"{meta_path}: model made with features version {meta.get('features_version', 1)}, "
                             f"this version reads text as version {FEATURES_VERSION} (run `screener train`)")
        labels = tuple(meta.get("labels", ()))
        if set(labels) != set(MODEL_LABELS):
            raise ModelError(f"{meta_path}: model labels {labels} do not match this version's labels")
        try:
            with np.load(weights_path, allow_pickle=False) as z:
                rows, values = z["rows"], z["values"]
                weights = np.zeros((z["n_features"].item(), len(labels)), dtype=np.float32)
                weights[rows] = values
                idf, bias = z["idf"], z["bias"]
        except (OSError, KeyError, ValueError) as exc:
            raise ModelError(f"{weights_path}: unreadable weights ({exc})") from None
        thresholds = np.array([meta["thresholds"][label] for label in labels], dtype=np.float32)
        short = meta.get("thresholds_short", meta["thresholds"])
        thresholds_short = np.array([short.get(label, meta["thresholds"][label]) for label in labels], dtype=np.float32)
        return cls(idf, weights, bias, thresholds, labels, meta, thresholds_short)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        rows = np.flatnonzero(np.abs(self.weights).sum(axis=1) > 0)
        weights_path = directory / WEIGHTS
        np.savez_compressed(weights_path, rows=rows.astype(np.int32), values=self.weights[rows],
                            n_features=np.array(self.weights.shape[0]), idf=self.idf, bias=self.bias)
        meta = dict(self.meta)
        meta["labels"] = list(self.labels)
        meta["thresholds"] = {label: round(float(t), 4) for label, t in zip(self.labels, self.thresholds)}
        meta["thresholds_short"] = {label: round(float(t), 4) for label, t in zip(self.labels, self.thresholds_short)}
        meta["short_chars"] = SHORT_CHARS
        meta["weights_sha256"] = sha256_file(weights_path)
        (directory / META).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")

    # -- scoring ---------------------------------------------------------------
    def transform(self, texts: list[str], grams: list | None = None):
        """(word TF-IDF rows, character TF-IDF rows); word n-grams appended to `grams` if given."""
        return tfidf_blocks(self.featurizer.blocks(texts, grams), self.idf)

    def score(self, texts: list[str]) -> Scores:
        if not texts:
            return Scores(np.zeros((0, len(self.labels)), np.float32), self.labels,
                          np.zeros((0, len(self.labels)), np.float32))
        grams: list = []
        words, chars = self.transform(texts, grams)
        logits = (np.asarray(words @ self.weights[:WORD_FEATURES]) + np.asarray(chars @ self.weights[WORD_FEATURES:])
                  + self.bias)
        probs = 1.0 / (1.0 + np.exp(-logits))
        return Scores(probs.astype(np.float32), self.labels, self.thresholds_for(texts), words, grams)

    def thresholds_for(self, texts: list[str]) -> np.ndarray:
        """Each text's per-label thresholds: the short-text ones below SHORT_CHARS characters."""
        short = np.fromiter(map(is_short, texts), dtype=bool, count=len(texts))
        return np.where(short[:, None], self.thresholds_short[None, :], self.thresholds[None, :])

    def explain(self, text: str, labels: list[str], top: int = 3, row=None) -> dict[str, list[str]]:
        """For each label, the word n-grams of `text` that pushed it up most, strongest first.

        `row` is the text's (column indices, values, n-grams) from `Scores.row` when the
        caller has it; otherwise it is computed here.
        """
        if row is None:
            found: list = []
            words = self.transform([text], found)[0]
            row = words.indices, words.data, found[0]
        cols, vals, grams = row
        out = {label: [] for label in labels}
        if not len(cols) or not grams.tokens:
            return out
        # Work per distinct column of the row; name only the few columns that are chosen.
        label_cols = [self.labels.index(label) for label in labels]
        contributions = vals[:, None] * self.weights[np.ix_(cols, label_cols)]
        ranked = np.argsort(-contributions, axis=0)[: top * 6].T.tolist()   # per label, best rows first
        col_list = cols.tolist()
        # The text's n-grams grouped by column, each group in text order: a column's n-grams by bisection.
        order = np.argsort(grams.cols, kind="stable")
        sorted_cols, order = grams.cols[order].tolist(), order.tolist()

        named: dict[int, str] = {}   # a column is often among several labels' best

        def gram_of(col: int) -> str:
            """The n-gram hashed to this column; when two share it, the word pair (more telling)."""
            if col in named:
                return named[col]
            names = []
            for i in range(bisect.bisect_left(sorted_cols, col), bisect.bisect_right(sorted_cols, col)):
                name = grams.name(order[i])
                if name not in names:
                    names.append(name)
                    if len(names) == 3:   # every occurrence, until three different n-grams are seen
                        break
            found = [n for n in names if n not in EXPLAIN_STOPWORDS] or names or [""]
            named[col] = max(found, key=lambda n: " " in n)
            return named[col]

        for j, (label, contribution) in enumerate(zip(labels, contributions.T.tolist())):
            chosen: list[str] = []
            for k in ranked[j]:
                if contribution[k] <= 0 or len(chosen) == top:
                    break
                gram = gram_of(col_list[k])
                if not gram or gram in EXPLAIN_STOPWORDS:
                    continue
                if not any(gram in c or c in gram for c in chosen):
                    chosen.append(gram)
            out[label] = chosen
        return out


# Words too common to explain anything on their own ("driven by 'u', 'a', 'my'" helps no one).
EXPLAIN_STOPWORDS = frozenset("""a an the and or but if so to of in on at by for with from as is are was were be been am
i me my mine you your yours u ur he him his she her hers it its we us our they them their this that these those
there here what which who whom when where why how not no yes do does did done have has had will would can could
shall should may might must just then than too very really im i'm ive dont don't its it's thats that's x xx lol
! ? !! ?? oh ok okay""".split())
