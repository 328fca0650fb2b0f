"""motifq.metrics: per-target ROC AUC and PR AUC equal to scikit-learn's (ties, NaN targets,
memory-mapped scores and packed labels), curves, loss and accuracy."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score
from sklearn.metrics import roc_curve as sk_roc_curve

from motifq import metrics as mt
from motifq.data.dataset import Split, open_split, write_dataset
from motifq.errors import MotifqError


def _sk(y, s):
    """scikit-learn's (roc, ap) for one column, NaN when one class is missing."""
    if y.min() == y.max():
        return math.nan, math.nan
    return roc_auc_score(y, s), average_precision_score(y, s)


def _random_case(seed):
    r = np.random.default_rng(seed)
    n = int(r.choice([1, 2, 3, 5, 17, 60, 301]))
    T = int(r.integers(1, 7))
    y = (r.random((n, T)) < r.uniform(0.02, 0.9)).astype(np.uint8)
    levels = int(r.choice([1, 2, 3, 7, 1000]))          # 1 level: every score tied
    s = r.integers(-levels, levels + 1, (n, T)) / max(levels, 1) * r.uniform(0.1, 3)
    return y, s


@pytest.mark.slow
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
def test_aucs_equal_sklearn_with_ties(dtype):
    worst = 0.0
    checked = 0
    for seed in range(120):
        y, s = _random_case(seed)
        s = s.astype(dtype)
        got = mt.target_aucs(y, s, block_size=int(seed % 4) + 1)
        assert got.positives.tolist() == y.sum(0).tolist()
        assert (got.negatives + got.positives).tolist() == [len(y)] * y.shape[1]
        for t in range(y.shape[1]):
            roc, ap = _sk(y[:, t], s[:, t])
            if math.isnan(roc):
                assert math.isnan(got.roc_auc[t]) and math.isnan(got.pr_auc[t])
                continue
            checked += 1
            worst = max(worst, abs(got.roc_auc[t] - roc), abs(got.pr_auc[t] - ap))
    assert checked > 150
    assert worst < 1e-9


def test_all_tied_scores_give_half_and_prevalence():
    y = np.array([[0, 1, 0, 0, 1, 0, 0, 0]]).T
    s = np.full((8, 1), 0.3)
    got = mt.target_aucs(y, s)
    assert got.roc_auc[0] == pytest.approx(0.5, abs=1e-12)
    assert got.pr_auc[0] == pytest.approx(2 / 8, abs=1e-12)
    assert got.pr_auc[0] == pytest.approx(average_precision_score(y[:, 0], s[:, 0]), abs=1e-12)


def test_negative_scores_zero_signs_and_integers():
    # -0.0 and 0.0 tie, negative floats order correctly, integer and bool scores work
    y = np.array([1, 0, 1, 0, 0, 1, 0, 1], dtype=np.uint8)
    s = np.array([-0.0, 0.0, -2.5, -3.0, 1e-30, 7.0, -1e-30, 0.0])
    assert mt.roc_auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert mt.average_precision(y, s) == pytest.approx(average_precision_score(y, s), abs=1e-12)
    si = np.array([3, 1, 2, 2, -1, 5, 0, 2])
    assert mt.roc_auc(y, si) == pytest.approx(roc_auc_score(y, si), abs=1e-12)
    sb = si > 1
    assert mt.average_precision(y, sb) == pytest.approx(average_precision_score(y, sb), abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(-3, 3)), min_size=2, max_size=40))
def test_aucs_property_against_sklearn(pairs):
    y = np.array([p[0] for p in pairs], dtype=np.uint8)
    s = np.array([p[1] for p in pairs], dtype=np.float64) / 3
    roc, ap = _sk(y, s)
    got = mt.target_aucs(y[:, None], s[:, None])
    if math.isnan(roc):
        assert np.isnan(got.roc_auc[0]) and np.isnan(got.pr_auc[0])
    else:
        assert abs(got.roc_auc[0] - roc) < 1e-9 and abs(got.pr_auc[0] - ap) < 1e-9
    # ROC AUC is symmetric: flipping labels and negating scores keeps it
    if not math.isnan(roc):
        flip = mt.target_aucs(1 - y[:, None], -s[:, None])
        assert flip.roc_auc[0] == pytest.approx(got.roc_auc[0], abs=1e-12)


def test_split_labels_and_memmap_match_arrays(tmp_path, rng):
    N, T = 257, 19   # T not a multiple of 8: the packed labels' last byte is partial
    y = (rng.random((N, T)) < 0.1).astype(np.uint8)
    s = rng.random((N, T)).astype(np.float32)
    s[rng.random((N, T)) < 0.3] = 0.5        # ties
    write_dataset(tmp_path / "d", {"test": Split.from_arrays(np.zeros((N, 4), np.uint8), y, [f"t{i}" for i in range(T)])})
    split = open_split(tmp_path / "d", "test")
    mm = np.lib.format.open_memmap(tmp_path / "p.npy", mode="w+", dtype=np.float32, shape=(N, T))
    mm[:] = s
    a = mt.target_aucs(y, s, block_size=5)
    b = mt.target_aucs(split, mm, block_size=5)     # rounded up to 8 for the packed labels
    for x, z in zip(a, b):
        np.testing.assert_array_equal(x, z)
    for t in range(T):
        roc, ap = _sk(y[:, t], s[:, t])
        assert a.roc_auc[t] == pytest.approx(roc, abs=1e-9) and a.pr_auc[t] == pytest.approx(ap, abs=1e-9)


def test_curves_equal_sklearn(rng):
    y = (rng.random(200) < 0.2).astype(int)
    s = np.round(rng.random(200), 1)
    fpr, tpr = mt.roc_curve(y, s)
    F, Tp, _ = sk_roc_curve(y, s, drop_intermediate=False)
    np.testing.assert_allclose(fpr, F, atol=1e-12)
    np.testing.assert_allclose(tpr, Tp, atol=1e-12)
    rec, prec = mt.pr_curve(y, s)
    P, R, _ = precision_recall_curve(y, s)
    np.testing.assert_allclose(rec, R[::-1], atol=1e-12)
    np.testing.assert_allclose(prec, P[::-1], atol=1e-12)
    assert np.isnan(mt.roc_curve(np.zeros(5), np.arange(5.0))[0]).all()


def test_small_case_by_hand():
    # positives score 0.9 and 0.4, negatives 0.8, 0.3, 0.1: 5 of the 6 pairs are ordered right
    y = np.array([1, 0, 1, 0, 0], dtype=np.uint8)
    s = np.array([0.9, 0.8, 0.4, 0.3, 0.1])
    assert mt.roc_auc(y, s) == pytest.approx(5 / 6, abs=1e-12)
    # precision at the two positives' thresholds: 1/1 and 2/3; average precision = (1 + 2/3) / 2
    assert mt.average_precision(y, s) == pytest.approx((1 + 2 / 3) / 2, abs=1e-12)
    got = mt.target_aucs(np.stack([y, 1 - y], axis=1), np.stack([s, -s], axis=1))
    np.testing.assert_allclose(got.roc_auc, [5 / 6, 5 / 6], atol=1e-12)   # flipped labels and scores
    assert got.positives.tolist() == [2, 3] and got.negatives.tolist() == [3, 2]


def test_label_column_from_arrays_and_packed_splits(tmp_path):
    y = (np.arange(30).reshape(10, 3) % 4 == 0).astype(np.uint8)
    write_dataset(tmp_path / "d", {"test": Split.from_arrays(np.zeros((10, 5), np.uint8), y, ["a", "b", "c"])})
    split = open_split(tmp_path / "d", "test")
    for i in range(3):
        np.testing.assert_array_equal(mt.label_column(y, i), y[:, i])
        np.testing.assert_array_equal(mt.label_column(split, i), y[:, i])


def test_loss_and_accuracy_golden():
    y = np.array([[1, 0], [0, 0]], dtype=np.uint8)
    p = np.array([[0.8, 0.4], [0.3, 0.6]])
    loss, acc = mt.loss_and_accuracy(y, p)
    expected = -(math.log(0.8) + math.log(0.6) + math.log(0.7) + math.log(0.4)) / 4
    assert loss == pytest.approx(expected, rel=1e-12)
    assert acc == pytest.approx(3 / 4)                  # 0.6 > 0.5 on a 0 label is the one mistake
    with pytest.raises(MotifqError):
        mt.loss_and_accuracy(y, p[:1])
