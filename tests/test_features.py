"""Hashed word and character n-grams: the same text gives the same columns wherever it sits."""

import json
import shutil

import numpy as np
import pytest

from screener.errors import ModelError
from screener.features import WORD_FEATURES, Featurizer
from screener.model import DEFAULT_MODEL_DIR, META, TacticModel


def test_a_text_hashes_the_same_alone_and_in_a_batch():
    f = Featurizer()
    texts = ["you never listen!!", "Lunch at 1? 😀", "", "Zoë said you'd say that", "you never listen!!"]
    words, chars = f.blocks(texts)
    for i, text in enumerate(texts):
        alone_words, alone_chars = f.blocks([text])
        assert (alone_words != words[i]).nnz == 0
        assert (alone_chars != chars[i]).nnz == 0
    assert words[2].nnz == 0 and chars[2].nnz == 0


def test_word_counts_and_columns_line_up_with_the_grams():
    f = Featurizer()
    grams: list = []
    words, _ = f.blocks(["no no no means no", "means no"], grams)
    first, second = grams
    assert first.tokens == ["no", "no", "no", "means", "no"]
    assert first.strings() == ["no", "no", "no", "means", "no", "no no", "no no", "no means", "means no"]
    assert len(first.cols) == len(first.strings())
    col = dict(zip(first.strings(), first.cols.tolist()))
    # repeated n-grams are counted, then damped (log1p of the count)
    assert words[0, col["no"]] == pytest.approx(np.log1p(4))
    assert words[0, col["no no"]] == pytest.approx(np.log1p(2))
    # the same n-gram in another text lands in the same column
    assert dict(zip(second.strings(), second.cols.tolist()))["means no"] == col["means no"]
    assert words[1].nnz == 3


def test_columns_spread_over_the_whole_space():
    f = Featurizer()
    vocabulary = [f"word{i}" for i in range(20000)]
    cols = f.word_counts([vocabulary])[0].indices
    assert cols.min() >= 0 and cols.max() < WORD_FEATURES
    # 20,000 unigrams and as many bigrams in 2**18 columns: few collisions if the hash mixes well
    assert len(np.unique(cols)) > 0.9 * 2 * len(vocabulary)


def test_a_model_made_with_other_features_is_refused(tmp_path):
    copy = tmp_path / "m"
    shutil.copytree(DEFAULT_MODEL_DIR, copy)
    meta = json.loads((copy / META).read_text())
    meta["features_version"] = 1
    (copy / META).write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="features version 1"):
        TacticModel.load(copy)
