"""Text to features for the tactic model: hashed word and character n-grams.

Hashing keeps no vocabulary, so no private word is ever saved in `models/`,
and loading costs nothing. Digits are folded to 0, links to a marker, so the
model learns shapes ("£00.00", "0pm") rather than particular values.
"""

from __future__ import annotations

import re

import numpy as np
import scipy.sparse as sp

WORD_BITS = 18
WORD_FEATURES = 2 ** WORD_BITS
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
FEATURES_VERSION = 2  # saved with a model; a model hashed another way is refused at load
_MUL = np.uint64(1000003)
_MIX1 = np.uint64(0xFF51AFD7ED558CCD)
_MIX2 = np.uint64(0xC4CEB9FE1A85EC53)
_PAIR = np.uint64(0x9E3779B97F4A7C15)
_BASE = 0x100000001B3  # odd, so it has an inverse modulo 2**64
_BASE_INV = pow(_BASE, -1, 2 ** 64)
_S33 = np.uint64(33)


class Grams:
    """One text's word n-grams: its tokens, and the column of each unigram then each bigram."""

    __slots__ = ("tokens", "cols")

    def __init__(self, tokens: list[str], cols: np.ndarray):
        self.tokens, self.cols = tokens, cols

    def name(self, k: int) -> str:
        """The k-th n-gram as text (the order of `cols`)."""
        t, n = self.tokens, len(self.tokens)
        return t[k] if k < n else f"{t[k - n]} {t[k - n + 1]}"

    def strings(self) -> list[str]:
        return [self.name(k) for k in range(len(self.cols))]


class Featurizer:
    """Stateless hashing of prepared text; idf weights come from the trained model.

    Both word 1-2-grams and character 3-5-grams are hashed in numpy for the whole
    batch at once, which is many times faster than building each n-gram in Python
    (and needs no scikit-learn at screening time).
    """

    def __init__(self):
        self._powers = (np.ones(1, np.uint64), np.ones(1, np.uint64))

    def blocks(self, texts: list[str], grams: list | None = None) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """(word counts, character counts), each with sublinear term frequency.

        When `grams` is a list, each text's `Grams` is appended to it (for explanations).
        """
        prepared = [prepare(t) for t in texts]
        token_lists = [_TOKEN.findall(p) for p in prepared]
        w, per_text_cols = self.word_counts(token_lists)
        if grams is not None:
            grams.extend(Grams(t, c) for t, c in zip(token_lists, per_text_cols))
        c = char_counts([" " + _SPACES.sub(" ", p).strip() + " " for p in prepared])
        w.data = np.log1p(w.data)
        c.data = np.log1p(c.data)
        return w, c

    def counts(self, texts: list[str]) -> sp.csr_matrix:
        """Both blocks side by side (for training)."""
        return sp.hstack(self.blocks(texts), format="csr", dtype=np.float32)

    def word_counts(self, token_lists: list[list[str]]) -> tuple[sp.csr_matrix, list[np.ndarray]]:
        """Hashed word unigram and bigram counts, and each text's columns (unigrams, then bigrams)."""
        n = len(token_lists)
        counts = np.fromiter(map(len, token_lists), dtype=np.int64, count=n)
        tokens = [t for ts in token_lists for t in ts]
        uni = self._token_hashes(tokens)
        doc = np.repeat(np.arange(n, dtype=np.int64), counts)
        pair = doc[:-1] == doc[1:]
        with np.errstate(over="ignore"):
            bi = _fmix(uni[:-1][pair] * _PAIR + uni[1:][pair] + np.uint64(1))
        shift = np.uint64(64 - WORD_BITS)
        uni_cols, bi_cols = (uni >> shift).astype(np.int32), (bi >> shift).astype(np.int32)
        bi_counts = np.maximum(counts - 1, 0)
        # Each text's unigram columns then its bigram columns, in text order.
        u_end, b_end = np.cumsum(counts), np.cumsum(bi_counts)
        per_text = [np.concatenate((uni_cols[ue - uc:ue], bi_cols[be - bc:be]))
                    for ue, uc, be, bc in zip(u_end.tolist(), counts.tolist(), b_end.tolist(), bi_counts.tolist())]
        lengths = counts + bi_counts
        indptr = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
        cols = np.concatenate(per_text) if per_text else np.zeros(0, np.int32)
        matrix = sp.csr_matrix((np.ones(len(cols), dtype=np.float32), cols, indptr), shape=(n, WORD_FEATURES))
        matrix.sum_duplicates()
        return matrix, per_text

    def _token_hashes(self, tokens: list[str]) -> np.ndarray:
        """A 64-bit hash of each token: a polynomial hash of its code points, computed for all at once."""
        if not tokens:
            return np.zeros(0, dtype=np.uint64)
        codes = np.frombuffer("".join(tokens).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        lengths = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
        ends = np.cumsum(lengths)
        starts = ends - lengths
        power, inverse = self._power_tables(len(codes) + 1)
        with np.errstate(over="ignore"):
            prefix = np.zeros(len(codes) + 1, dtype=np.uint64)
            np.cumsum(codes * inverse[:len(codes)], out=prefix[1:])
            # sum of c_j * BASE**(end-1-j) over the token: the same value wherever the token sits
            h = (prefix[ends] - prefix[starts]) * power[ends - 1]
            return _fmix(h + lengths.astype(np.uint64))

    def _power_tables(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        power, inverse = self._powers
        if len(power) < n:
            size = max(n, 2 * len(power), 4096)
            with np.errstate(over="ignore"):
                one = np.ones(1, dtype=np.uint64)
                power = np.concatenate((one, np.cumprod(np.full(size - 1, _BASE, dtype=np.uint64))))
                inverse = np.concatenate((one, np.cumprod(np.full(size - 1, _BASE_INV, dtype=np.uint64))))
            self._powers = (power, inverse)
        return power, inverse


def _fmix(h: np.ndarray) -> np.ndarray:
    """Murmur3's 64-bit finaliser: every input bit reaches the top bits used as columns."""
    with np.errstate(over="ignore"):
        h = h ^ (h >> _S33)
        h = h * _MIX1
        h = h ^ (h >> _S33)
        h = h * _MIX2
        return h ^ (h >> _S33)


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
