"""Text to features for the tactic model: hashed word and character n-grams.

Hashing keeps no vocabulary, so no private word is ever saved in `models/`,
and loading costs nothing. Digits are folded to 0, links to a marker, so the
model learns shapes ("£00.00", "0pm") rather than particular values.
"""

from __future__ import annotations

import re

import numpy as np
import scipy.sparse as sp

WORD_FEATURES = 2 ** 18
CHAR_FEATURES = 2 ** 18
N_FEATURES = WORD_FEATURES + CHAR_FEATURES
MAX_CHARS = 3000  # long emails: the model reads the first 2,400 and last 600 characters

_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_REPEAT = re.compile(r"(.)\1{3,}")
_FOLD = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-",
                       **{str(d): "0" for d in range(1, 10)}})


def prepare(text: str) -> str:
    """The form of a text the model reads."""
    if len(text) > MAX_CHARS:
        text = text[: MAX_CHARS - 600] + "\n" + text[-600:]
    text = text.translate(_FOLD)
    if "@" in text or "http" in text or "www." in text:
        text = _URL.sub(" httplink ", text)
        text = _EMAIL.sub(" emailaddr ", text)
    text = _REPEAT.sub(r"\1\1\1", text)
    return text.lower()


_TOKEN = re.compile(r"\w+|[!?]+|[\U0001F300-\U0001FAFF\u2600-\u27BF]")
_SPACES = re.compile(r"\s+")
CHAR_NGRAMS = (3, 4, 5)
_MUL = np.uint64(1000003)
_MIX1 = np.uint64(0xFF51AFD7ED558CCD)


class Featurizer:
    """Stateless hashing of prepared text; idf weights come from the trained model.

    Word 1-2-grams are hashed with murmur3 (scikit-learn's FeatureHasher, in C);
    character 3-5-grams with a rolling hash computed for the whole batch at once
    in numpy, which is many times faster than building each n-gram in Python.
    """

    def __init__(self):
        from sklearn.feature_extraction import FeatureHasher

        self.hasher = FeatureHasher(n_features=WORD_FEATURES, input_type="string", alternate_sign=False)
        self._index_cache: dict[str, int] = {}

    def blocks(self, texts: list[str], grams: list | None = None) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """(word counts, character counts), each with sublinear term frequency.

        When `grams` is a list, each text's word n-grams are appended to it (for explanations).
        """
        prepared = [prepare(t) for t in texts]
        word_lists = [word_ngrams(p) for p in prepared]
        if grams is not None:
            grams.extend(word_lists)
        w = self.hasher.transform(word_lists).astype(np.float32)
        c = char_counts([" " + _SPACES.sub(" ", p).strip() + " " for p in prepared])
        w.data = np.log1p(w.data)
        c.data = np.log1p(c.data)
        return w, c

    def counts(self, texts: list[str]) -> sp.csr_matrix:
        """Both blocks side by side (for training)."""
        return sp.hstack(self.blocks(texts), format="csr", dtype=np.float32)

    def word_ngrams(self, text: str) -> list[str]:
        return word_ngrams(prepare(text))

    def word_indices(self, grams: list[str]) -> np.ndarray:
        """Column of each word n-gram: the hasher's own murmur3 index, cached."""
        from sklearn.utils import murmurhash3_32

        cache = self._index_cache
        if len(cache) > 500_000:
            cache.clear()
        out = np.empty(len(grams), dtype=np.int64)
        for k, g in enumerate(grams):
            col = cache.get(g)
            if col is None:
                h = murmurhash3_32(g, seed=0)
                col = cache[g] = (2**31 - 1 if h == -2**31 else abs(h)) % WORD_FEATURES
            out[k] = col
        return out


def word_ngrams(prepared: str) -> list[str]:
    tokens = _TOKEN.findall(prepared)
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:])]


def char_counts(texts: list[str], sizes: tuple[int, ...] = CHAR_NGRAMS, bits: int = 18) -> sp.csr_matrix:
    """Hashed character 3-5-grams (one entry per occurrence), never spanning two texts."""
    n = len(texts)
    encoded = [t.encode("utf-32-le") for t in texts]
    lengths = np.fromiter((len(e) // 4 for e in encoded), dtype=np.int64, count=n)
    codes = np.frombuffer(b"".join(encoded), dtype=np.uint32).astype(np.uint64)
    doc = np.repeat(np.arange(n, dtype=np.int64), lengths)
    total = len(codes)
    # One column per n-gram size, one row per start position: rows stay in text order.
    hashes = np.zeros((total, len(sizes)), dtype=np.uint64)
    valid = np.zeros((total, len(sizes)), dtype=bool)
    shift = np.uint64(64 - bits)
    with np.errstate(over="ignore"):
        for j, size in enumerate(sizes):
            m = total - size + 1
            if m <= 0:
                continue
            h = np.full(m, size, dtype=np.uint64)
            for k in range(size):
                h = h * _MUL + codes[k:k + m]
            h *= _MIX1
            hashes[:m, j] = h >> shift  # the top bits mix best
            valid[:m, j] = doc[:m] == doc[size - 1:size - 1 + m]
    keep = valid.ravel()
    cols = hashes.ravel()[keep].astype(np.int32)
    per_doc = np.bincount(np.repeat(doc, len(sizes))[keep], minlength=n)
    indptr = np.concatenate([[0], np.cumsum(per_doc)]).astype(np.int64)
    # A repeated n-gram stays as repeated entries: products and norms treat it
    # consistently in training and screening, and skipping the sort saves a third.
    return sp.csr_matrix((np.ones(len(cols), dtype=np.float32), cols, indptr), shape=(n, 2 ** bits))


def _unit_rows(X: sp.csr_matrix) -> sp.csr_matrix:
    rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    norms = np.sqrt(np.bincount(rows, weights=X.data.astype(np.float64) ** 2, minlength=X.shape[0]))
    norms[norms == 0] = 1.0
    X.data = (X.data / norms[rows]).astype(np.float32)
    return X


def tfidf_blocks(blocks, idf: np.ndarray) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Weight each block by idf and scale each row of each block to unit length."""
    out = []
    for block, lo in zip(blocks, (0, WORD_FEATURES)):
        X = block.astype(np.float32, copy=True)
        X.data *= idf[lo + X.indices]
        out.append(_unit_rows(X))
    return out[0], out[1]


def tfidf(counts: sp.csr_matrix, idf: np.ndarray) -> sp.csr_matrix:
    """The same weighting on side-by-side blocks (for training)."""
    w, c = tfidf_blocks((counts[:, :WORD_FEATURES], counts[:, WORD_FEATURES:]), idf)
    return sp.hstack([w, c], format="csr", dtype=np.float32)
