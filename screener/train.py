"""`screener train`: fit the tactic model, choose thresholds by cost, save with provenance.

Validation is cross-writer: every writer's file is predicted by a model that
never saw that writer, so thresholds are chosen on the kind of shift the
screener meets in the wild (a new voice), not on a random split.
"""

from __future__ import annotations

import hashlib
import os
import platform
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from screener.corpus import DEFAULT_DATA_DIR, load_split, targets
from screener.features import FEATURES_VERSION, Featurizer, N_FEATURES, tfidf
from screener.labels import MODEL_LABELS
from screener.model import DEFAULT_MODEL_DIR, TacticModel, is_short

# What a miss costs against a false tag (a false tag costs 1).
# safety: 8.0 until the ninth data round, whose 233 safety messages (and 171 hard negatives that share
# their words) raised its threshold and cut held-out safety recall from 0.904 to 0.894; at 12 it is 0.929
# (alerts on public SMS 3.0% -> 4.2%: the issue puts recall first).
MISS_COST = {"threat": 4.0, "safety": 12.0, "legal_threat": 2.5, "children_leverage": 2.0}
# The cost-chosen safety threshold moves with each data round (tenth round: 0.16 -> 0.18, cross-writer
# recall 0.864 -> 0.842, held-out 0.929 -> 0.904), so a floor holds it: the safety threshold is lowered
# until out-of-fold cross-writer recall is at least this (the level of the ninth-round model).
SAFETY_OOF_RECALL = 0.86
DEFAULT_MISS_COST = 2.0
C_GRID = (8.0,)  # 2.0 and 8.0 were compared on cross-writer validation; 8.0 won twice
SHORT_MIN_POSITIVES = 25   # below this, a label's short-text threshold is its general one
BENIGN_WEIGHT = 0.5   # public ordinary messages: many, short, and not our medium's register
# A false tag on a public ordinary message costs more than one on a project-written hard negative:
# those rows stand for the bulk of a real mailbox, where ordinary mail far outnumbers the rest.
# 4.5 until the seventh data round; with 1,600 more project messages (more positives, so lower
# thresholds) 4.5 let 2.1-2.2% of public SMS and easy ham be tagged, 6.0 keeps every public set
# at or under the previous model's share (compared among 4.5, 6 and 8 on the same out-of-fold scores).
# Eighth round (qc/qd/qe, compared among 6, 8 and 10 on the same out-of-fold scores): 6 tagged 2.1%
# of easy ham and 2.4% of hard ham, and held 2.1% of public messages sent as first contacts (was
# 1.6%); 10 keeps every public set under 2% and those holds at 1.6%, at a cost: hoovering's threshold
# rises to 0.69 and the development persona sets' new-account messages held fall from 764 to 743 of 983.
# Ninth round (qf/qg/qh, compared among 6, 8 and 10 on the same out-of-fold scores): 6 tags 2.2% of
# easy ham; 8 and 10 keep NUS SMS, Enron and easy ham under 2% (hard ham is 5 of 249 = 2.01% at all
# three). 8 gives higher held-out macro-F1 (0.786 against 0.782) and holds 13 more of the development
# personas' 981 new-account messages, but its short-text hoovering threshold (0.82) holds a stranger's
# bare "hey": benign held 9 -> 13 of 1,864, one set at 2.8%. 10 keeps ordinary strangers deliverable.
BENIGN_FALSE_TAG_COST = 10.0
# A false safety alert on ordinary mail costs less than a false tag: the friend glances at an
# alert, and a missed danger costs far more than either.
BENIGN_FALSE_ALERT_COST = 3.0


def fit_idf(counts) -> np.ndarray:
    n = counts.shape[0]
    counts = counts.copy()
    counts.sum_duplicates()
    df = np.bincount(counts.indices, minlength=N_FEATURES).astype(np.float64)
    idf = np.log((1 + n) / (1 + df)) + 1.0
    idf[df < 2] = 0.0   # min_df = 2: a token seen once (a private name) carries no weight
    return idf.astype(np.float32)


def fit(counts, Y: np.ndarray, weights: np.ndarray, C: float):
    from sklearn.linear_model import LogisticRegression

    idf = fit_idf(counts)
    X = tfidf(counts, idf)
    W = np.zeros((N_FEATURES, Y.shape[1]), dtype=np.float32)
    b = np.zeros(Y.shape[1], dtype=np.float32)
    for j in range(Y.shape[1]):
        y = Y[:, j]
        if y.min() == y.max():
            b[j] = -10.0 if y.max() == 0 else 10.0
            continue
        clf = LogisticRegression(C=C, solver="liblinear", class_weight="balanced", max_iter=200)
        clf.fit(X, y, sample_weight=weights)
        W[:, j] = clf.coef_[0]
        b[j] = clf.intercept_[0]
    return idf, W, b


def predict(counts, idf, W, b) -> np.ndarray:
    X = tfidf(counts, idf)
    return 1.0 / (1.0 + np.exp(-(np.asarray(X @ W) + b)))


MAX_FOLDS = 6   # writers are grouped into at most this many folds (each writer wholly in one)


def writer_folds(groups: np.ndarray) -> tuple[np.ndarray, list[list[str]]]:
    """A fold number per row: every writer's rows in one fold, writers dealt round-robin
    into at most MAX_FOLDS folds; public benign rows spread evenly over the folds."""
    writers = sorted({g for g in groups if g not in ("uci", "enron")})
    n = min(MAX_FOLDS, len(writers))
    members = [writers[k::n] for k in range(n)]
    of = {w: k for k, ws in enumerate(members) for w in ws}
    fold = np.array([of.get(g, -1) for g in groups])
    benign = np.flatnonzero(fold < 0)
    fold[benign] = np.arange(len(benign)) % n
    return fold, members


def cross_writer_probs(counts, Y, groups: np.ndarray, weights, C: float, log) -> np.ndarray:
    """Out-of-fold probabilities: each writer's messages are predicted by a model that never saw that writer."""
    fold, members = writer_folds(groups)
    oof = np.zeros(Y.shape, dtype=np.float32)
    for k, writers in enumerate(members):
        train_rows, val_rows = np.flatnonzero(fold != k), np.flatnonzero(fold == k)
        idf, W, b = fit(counts[train_rows], Y[train_rows], weights[train_rows], C)
        oof[val_rows] = predict(counts[val_rows], idf, W, b)
        log(f"  C={C}: fold {'+'.join(writers)} done ({len(val_rows)} held out)")
    return oof


def choose_thresholds(Y: np.ndarray, P: np.ndarray, fallback: np.ndarray | None = None,
                      min_positives: int = 5, false_tag_cost: np.ndarray | None = None) -> np.ndarray:
    """Per label, the threshold with the least cost on out-of-fold probabilities (a miss costs
    MISS_COST, a false tag `false_tag_cost` of its row, 1 by default); labels with fewer than
    `min_positives` examples keep `fallback`."""
    grid = np.linspace(0.05, 0.95, 91)
    out = np.full(Y.shape[1], 0.5, dtype=np.float32) if fallback is None else fallback.astype(np.float32).copy()
    fp_cost = np.ones(len(Y)) if false_tag_cost is None else false_tag_cost
    for j, label in enumerate(MODEL_LABELS):
        y, p = Y[:, j].astype(bool), P[:, j]
        if y.sum() < min_positives:
            continue
        miss = MISS_COST.get(label, DEFAULT_MISS_COST)
        costs = [miss * np.sum(y & (p < t)) + np.sum(fp_cost[~y & (p >= t)]) for t in grid]
        out[j] = grid[int(np.argmin(costs))]
    return out


def choose_all_thresholds(Y: np.ndarray, oof: np.ndarray, public: np.ndarray, short: np.ndarray):
    """General and short-text thresholds. A false tag on a public ordinary message costs
    BENIGN_FALSE_TAG_COST (BENIGN_FALSE_ALERT_COST for `safety`). Short texts ("coming now",
    "where u park") carry little context: their own thresholds, chosen the same way on the
    short texts alone, where there are enough examples (else the general ones)."""
    safety = MODEL_LABELS.index("safety")

    def chosen(rows, fallback, min_positives):
        tags, alerts = (choose_thresholds(Y[rows], oof[rows], fallback, min_positives,
                                          np.where(public[rows], cost, 1.0))
                        for cost in (BENIGN_FALSE_TAG_COST, BENIGN_FALSE_ALERT_COST))
        tags[safety] = alerts[safety]
        return tags

    general = chosen(np.ones(len(Y), dtype=bool), None, 5)
    general[safety] = safety_floor(Y[:, safety].astype(bool) & ~public, oof[:, safety], general[safety])
    return general, chosen(short, general, SHORT_MIN_POSITIVES)


def safety_floor(y: np.ndarray, p: np.ndarray, threshold: float, step: float = 0.01) -> float:
    """`threshold`, lowered in `step`s until at least SAFETY_OOF_RECALL of the dangers `y` reach it."""
    while threshold > step and y.any() and np.mean(p[y] >= threshold) < SAFETY_OOF_RECALL:
        threshold = round(threshold - step, 4)
    return threshold


def macro_f1(Y: np.ndarray, P: np.ndarray, thresholds: np.ndarray, labels=range(11)) -> float:
    f1s = []
    for j in labels:
        y, p = Y[:, j].astype(bool), P[:, j] >= thresholds[j]
        tp = np.sum(y & p)
        denom = y.sum() + p.sum()
        f1s.append(2 * tp / denom if denom else 1.0)
    return float(np.mean(f1s))


def data_hash(data_dir: Path) -> str:
    h = hashlib.sha256()
    for path in sorted((data_dir / "corpus").glob("train_*.jsonl")) + sorted((data_dir / "benign").glob("*")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def train(data_dir=None, out_dir=None, log=print) -> Path:
    import scipy
    import sklearn

    data_dir = Path(data_dir or DEFAULT_DATA_DIR)
    out_dir = Path(out_dir or DEFAULT_MODEL_DIR)
    started = time.time()
    examples = load_split(data_dir, "train")
    Y = targets(examples)
    groups = np.array([e.group for e in examples])
    public = np.isin(groups, ["uci", "enron"])
    weights = np.where(public, BENIGN_WEIGHT, 1.0)
    log(f"training on {len(examples)} examples from writers {sorted(set(groups))}")
    counts = Featurizer().counts([e.text for e in examples])

    short = np.array([is_short(e.text) for e in examples])
    best = None
    for C in C_GRID:
        oof = cross_writer_probs(counts, Y, groups, weights, C, log)
        thresholds, thresholds_short = choose_all_thresholds(Y, oof, public, short)
        score = macro_f1(Y, oof, thresholds)
        log(f"C={C}: cross-writer macro-F1 over tactics {score:.3f}")
        if best is None or score > best[0]:
            best = (score, C, thresholds, thresholds_short, oof)
    score, C, thresholds, thresholds_short, oof = best
    if os.environ.get("SCREENER_OOF_FILE"):   # for studying threshold choices without refitting
        np.savez_compressed(os.environ["SCREENER_OOF_FILE"], oof=oof, Y=Y, groups=groups, short=short)
    idf, W, b = fit(counts, Y, weights, C)

    from screener.evaluate import label_metrics

    meta = {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "algorithm": "hashed word 1-2-gram + char_wb 3-5-gram TF-IDF, one logistic regression per label "
                     f"(liblinear, balanced class weights, C={C})",
        "C": C,
        "features_version": FEATURES_VERSION,
        "data_sha256": data_hash(data_dir),
        "n_train": len(examples),
        "train_groups": {g: int((groups == g).sum()) for g in sorted(set(groups))},
        "versions": {"python": platform.python_version(), "numpy": np.__version__,
                     "scipy": scipy.__version__, "scikit-learn": sklearn.__version__},
        "miss_costs": {label: MISS_COST.get(label, DEFAULT_MISS_COST) for label in MODEL_LABELS},
        "false_tag_costs": {"project hard negatives": 1.0, "public ordinary messages": BENIGN_FALSE_TAG_COST,
                            "public ordinary messages, safety": BENIGN_FALSE_ALERT_COST},
        "safety_oof_recall_floor": SAFETY_OOF_RECALL,
        "validation": {"kind": f"cross-writer ({MAX_FOLDS} folds, each writer wholly in one)", "macro_f1_tactics": round(score, 4),
                       "per_label": label_metrics(Y, oof, thresholds),
                       "short_texts": int(short.sum())},
        "train_seconds": round(time.time() - started, 1),
    }
    model = TacticModel(idf, W, b, thresholds, MODEL_LABELS, meta, thresholds_short)
    model.save(out_dir)
    log(f"saved {out_dir} (cross-writer macro-F1 {score:.3f}, C={C})")
    return out_dir
