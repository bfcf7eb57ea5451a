"""The model: integrity at load, every label scored, explanations, speed of load."""

import shutil
import time

import pytest

from screener.errors import ModelError
from screener.labels import MODEL_LABELS
from screener.model import DEFAULT_MODEL_DIR, META, WEIGHTS, TacticModel


def test_metadata_has_provenance(model):
    meta = model.meta
    for key in ("data_sha256", "versions", "labels", "thresholds", "validation", "weights_sha256", "algorithm"):
        assert key in meta
    assert set(meta["thresholds"]) == set(MODEL_LABELS)
    assert all(0 < t < 1 for t in meta["thresholds"].values())


def test_tampered_weights_are_refused(tmp_path):
    copy = tmp_path / "m"
    shutil.copytree(DEFAULT_MODEL_DIR, copy)
    data = bytearray((copy / WEIGHTS).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (copy / WEIGHTS).write_bytes(bytes(data))
    with pytest.raises(ModelError, match="does not match"):
        TacticModel.load(copy)


def test_missing_model_is_refused(tmp_path):
    with pytest.raises(ModelError, match="no trained model"):
        TacticModel.load(tmp_path)
    shutil.copytree(DEFAULT_MODEL_DIR, tmp_path / "m")
    (tmp_path / "m" / META).write_text("{not json")
    with pytest.raises(ModelError, match="unreadable"):
        TacticModel.load(tmp_path / "m")


def test_loads_in_under_a_second():
    start = time.perf_counter()
    TacticModel.load()
    assert time.perf_counter() - start < 1.0


def test_scores_every_label_and_explains(model):
    scores = model.score(["after everything I did for you, you owe me", "Lunch at 1?"])
    assert scores.probs.shape == (2, len(MODEL_LABELS))
    assert ((scores.probs >= 0) & (scores.probs <= 1)).all()
    phrases = model.explain("after everything I did for you, you owe me", ["guilt_tripping"])["guilt_tripping"]
    assert phrases and all(p in "after everything i did for you, you owe me" for p in phrases)


def test_short_texts_are_judged_by_their_own_thresholds(model, tmp_path):
    model.save(tmp_path / "m")
    loaded = TacticModel.load(tmp_path / "m")
    assert (loaded.thresholds_short == model.thresholds_short).all()
    loaded.thresholds_short = loaded.thresholds_short.copy()
    loaded.thresholds_short[:] = 0.99
    short, long = "where are u", "where are you, I have been waiting outside the station for twenty minutes now"
    rows = loaded.thresholds_for([short, long])
    assert (rows[0] == 0.99).all()
    assert (rows[1] == loaded.thresholds).all()
    # a very high bar for short texts means no short text is tagged, whatever it says
    scores = loaded.score(["I will hurt you", "I will hurt you. I know where you live and I will come round tonight"])
    assert not (scores.probs[0] >= scores.thresholds[0]).any()
