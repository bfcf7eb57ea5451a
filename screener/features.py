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
_DIGIT = re.compile(r"\d")
_REPEAT = re.compile(r"(.)\1{3,}")
_APOS = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"})


def prepare(text: str) -> str:
    """The form of a text the model reads."""
    if len(text) > MAX_CHARS:
        text = text[: MAX_CHARS - 600] + "\n" + text[-600:]
    text = text.translate(_APOS)
    text = _URL.sub(" httplink ", text)
    text = _EMAIL.sub(" emailaddr ", text)
    text = _DIGIT.sub("0", text)
    text = _REPEAT.sub(r"\1\1\1", text)
    return text.lower()


class Featurizer:
    """Stateless hashing of prepared text; idf weights come from the trained model."""

    def __init__(self):
        from sklearn.feature_extraction.text import HashingVectorizer

        self.word = HashingVectorizer(analyzer="word", ngram_range=(1, 2), n_features=WORD_FEATURES,
                                      alternate_sign=False, norm=None, lowercase=False,
                                      token_pattern=r"(?u)\b\w+\b|[!?]+|[\U0001F300-\U0001FAFF\u2600-\u27BF]")
        self.char = HashingVectorizer(analyzer="char_wb", ngram_range=(3, 5), n_features=CHAR_FEATURES,
                                      alternate_sign=False, norm=None, lowercase=False)

    def counts(self, texts: list[str]) -> sp.csr_matrix:
        prepared = [prepare(t) for t in texts]
        w = self.word.transform(prepared)
        c = self.char.transform(prepared)
        X = sp.hstack([w, c], format="csr", dtype=np.float32)
        X.data = np.log1p(X.data)  # sublinear term frequency
        return X

    def word_ngrams(self, text: str) -> list[str]:
        return self.word.build_analyzer()(prepare(text))

    @staticmethod
    def word_index(ngram: str) -> int:
        from sklearn.utils import murmurhash3_32

        return abs(murmurhash3_32(ngram, seed=0)) % WORD_FEATURES


def tfidf(counts: sp.csr_matrix, idf: np.ndarray) -> sp.csr_matrix:
    """Weight by idf and scale each block (words, characters) to unit length."""
    X = counts.multiply(idf.reshape(1, -1)).tocsr().astype(np.float32)
    out = []
    for lo, hi in ((0, WORD_FEATURES), (WORD_FEATURES, N_FEATURES)):
        block = X[:, lo:hi]
        norms = np.sqrt(np.asarray(block.multiply(block).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        out.append(sp.diags((1.0 / norms).astype(np.float32)) @ block)
    return sp.hstack(out, format="csr", dtype=np.float32)
