"""Compare model families on cross-writer validation (each writer wholly in one fold).

    .venv/bin/python notebooks/compare_approaches.py [family ...]

Each family is fitted on all writers but one and predicts the one left out, so
the figure says how it does on a voice it never saw. Thresholds are chosen by
the same costs as training. Figures: macro-F1 over the 11 tactics, any-tactic
F1, safety recall, and the share of public ordinary messages (UCI/Enron, in
their folds) given any tactic tag. The held-out test files are not read.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from screener.corpus import load_split, targets
from screener.features import Featurizer, N_FEATURES, WORD_FEATURES, tfidf
from screener.labels import MODEL_LABELS
from screener import train as T

SAFETY = MODEL_LABELS.index("safety")


def per_label(make):
    """A family: one classifier per label, made by `make()`, with predict_proba."""
    def fit(X, Y, w):
        models = []
        for j in range(Y.shape[1]):
            clf = make()
            clf.fit(X, Y[:, j], sample_weight=w)
            models.append(clf)
        return lambda Z: np.column_stack([m.predict_proba(Z)[:, 1] for m in models])
    return fit


def lr(C):
    from sklearn.linear_model import LogisticRegression
    return per_label(lambda: LogisticRegression(C=C, solver="liblinear", class_weight="balanced", max_iter=200))


def sgd_huber(alpha):
    from sklearn.linear_model import SGDClassifier
    return per_label(lambda: SGDClassifier(loss="modified_huber", alpha=alpha, class_weight="balanced",
                                           max_iter=30, tol=None, random_state=0))


def complement_nb(alpha):
    from sklearn.naive_bayes import ComplementNB
    return per_label(lambda: ComplementNB(alpha=alpha))


FAMILIES = {
    "lr_c8": (lr(8.0), "both"),
    "lr_c2": (lr(2.0), "both"),
    "lr_c8_words": (lr(8.0), "words"),
    "sgd_huber": (sgd_huber(2e-5), "both"),
    "cnb": (complement_nb(0.3), "both"),
}


def main(names):
    examples = load_split(None, "train")
    Y = targets(examples)
    groups = np.array([e.group for e in examples])
    benign_rows = np.isin(groups, ["uci", "enron"])
    weights = np.where(benign_rows, T.BENIGN_WEIGHT, 1.0)
    counts = Featurizer().counts([e.text for e in examples])
    fold, members = T.writer_folds(groups)
    for name in names:
        fit, block = FAMILIES[name]
        started = time.time()
        oof = np.zeros(Y.shape, dtype=np.float32)
        for k in range(len(members)):
            tr, va = np.flatnonzero(fold != k), np.flatnonzero(fold == k)
            idf = T.fit_idf(counts[tr])
            X = tfidf(counts, idf)
            if block == "words":
                X = X[:, :WORD_FEATURES]
            predict = fit(X[tr], Y[tr], weights[tr])
            oof[va] = predict(X[va])
        thr = T.choose_thresholds(Y, oof)
        macro = T.macro_f1(Y, oof, thr)
        tags = oof[:, :11] >= thr[:11]
        y_any, p_any = Y[:, :11].any(1), tags.any(1)
        tp = np.sum(y_any & p_any)
        any_f1 = 2 * tp / (y_any.sum() + p_any.sum())
        s = Y[:, SAFETY].astype(bool)
        safety_recall = float(np.mean(oof[s, SAFETY] >= thr[SAFETY]))
        benign_fp = float(np.mean(p_any[benign_rows]))
        print(f"{name:14s} macro-F1 {macro:.3f}  any-F1 {any_f1:.3f}  safety recall {safety_recall:.3f}  "
              f"benign tagged {benign_fp:.2%}  ({time.time() - started:.0f}s)", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or list(FAMILIES))
