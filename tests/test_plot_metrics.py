"""motifq.plot_metrics: ROC and PR curves, AUC histograms, model-vs-model scatter and training
curves, checked by what was drawn (Agg backend)."""
from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from sklearn.metrics import average_precision_score, roc_auc_score  # noqa: E402

from motifq import plot_metrics as pm  # noqa: E402
from motifq.errors import MotifqError  # noqa: E402


def test_plot_roc_and_pr(rng):
    y = (rng.random(300) < 0.2).astype(int)
    s = np.stack([y + rng.normal(0, 1, 300), rng.random(300)], axis=1)
    fig, (a1, a2) = plt.subplots(1, 2)
    assert pm.plot_roc(y, s, names=["good", "random"], ax=a1) is a1
    assert len(a1.lines) == 3                         # two curves and the chance diagonal
    np.testing.assert_allclose(a1.lines[2].get_xydata(), [[0, 0], [1, 1]])
    labels = [t.get_text() for t in a1.get_legend().get_texts()]
    assert labels[0] == f"good (AUC {roc_auc_score(y, s[:, 0]):.3f})" and len(labels) == 2
    x0, y0 = a1.lines[0].get_data()
    assert x0[0] == 0 and y0[0] == 0 and x0[-1] == 1 and y0[-1] == 1 and np.all(np.diff(x0) >= 0)
    assert pm.plot_pr(y, s[:, 0], ax=a2) is a2
    assert len(a2.lines) == 2                         # the curve and the positives' share
    assert a2.lines[1].get_ydata()[0] == pytest.approx(y.mean())
    assert f"(AP {average_precision_score(y, s[:, 0]):.3f})" in a2.get_legend().get_texts()[0].get_text()
    plt.close(fig)
    ax = pm.plot_roc(y, rng.random((300, 1)), max_points=50)
    assert len(ax.lines[0].get_xdata()) <= 51
    plt.close(ax.figure)


def test_plot_auc_histogram():
    fig, ax = plt.subplots()
    out = pm.plot_auc_histogram({"A": [0.6, 0.7, np.nan, 0.9], "B": [0.5, 0.55, 0.8, 0.85]}, "PR AUC", bins=10, ax=ax)
    assert out is ax and len(ax.patches) == 2 and ax.get_xlabel() == "PR AUC"
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts == ["A (mean 0.733, n=3)", "B (mean 0.675, n=4)"]
    plt.close(fig)


def test_plot_auc_scatter():
    a = np.array([0.9, 0.8, 0.7, np.nan, 0.6])
    b = np.array([0.8, 0.85, 0.6, 0.5, 0.5])
    fig, ax = plt.subplots()
    assert pm.plot_auc_scatter(a, b, "DanQ", "DeepSEA", "ROC AUC", ax=ax) is ax
    assert ax.get_title() == "DanQ > DeepSEA on 75.0% of targets"
    offsets = ax.collections[0].get_offsets()
    np.testing.assert_allclose(offsets, [[0.9, 0.8], [0.8, 0.85], [0.7, 0.6], [0.6, 0.5]])
    diag = ax.lines[0].get_xydata()
    assert len(ax.lines) == 1 and diag[0, 0] == diag[0, 1] and diag[1, 0] == diag[1, 1]
    assert diag[0, 0] < 0.5 and diag[1, 0] > 0.9
    assert ax.get_xlabel() == "DanQ ROC AUC" and ax.get_ylabel() == "DeepSEA ROC AUC"
    plt.close(fig)


def test_plot_training_curves(tmp_path):
    hist = [{"epoch": e, "train_loss": 0.1 - 0.01 * e, "valid_loss": v, "valid_roc_auc": 0.5}
            for e, v in zip(range(1, 6), [0.09, 0.07, 0.06, 0.065, 0.07])]
    ax = pm.plot_training_curves(hist)
    assert [l.get_label() for l in ax.lines] == ["train_loss", "valid_loss", "best epoch 3"]
    assert ax.lines[2].get_xdata()[0] == 3
    np.testing.assert_allclose(ax.lines[1].get_ydata(), [0.09, 0.07, 0.06, 0.065, 0.07])
    plt.close(ax.figure)
    pd.DataFrame(hist).to_csv(tmp_path / "metrics.tsv", sep="\t", index=False)
    (tmp_path / "m.json").write_text(json.dumps({"history": hist}))
    for f in ("metrics.tsv", "m.json"):
        ax = pm.plot_training_curves(tmp_path / f)
        assert len(ax.lines) == 3
        plt.close(ax.figure)
    with pytest.raises(MotifqError, match="no loss column"):
        pm.plot_training_curves([{"epoch": 1, "auc": 0.5}])


def test_training_curves_by_step_when_epochs_repeat():
    # several validations per epoch: the x axis is the optimizer step, and the best one is marked
    hist = [{"epoch": 1, "step": 10, "train_loss": 0.3, "valid_loss": 0.25},
            {"epoch": 1, "step": 20, "train_loss": 0.2, "valid_loss": 0.22},
            {"epoch": 2, "step": 30, "train_loss": 0.1, "valid_loss": 0.23}]
    ax = pm.plot_training_curves(hist)
    assert ax.get_xlabel() == "step"
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [10, 20, 30])
    assert ax.lines[-1].get_label() == "best step 20"
    plt.close(ax.figure)


def test_curves_input_checks():
    with pytest.raises(MotifqError, match="names for"):
        pm.plot_roc(np.array([0, 1, 1]), np.zeros((3, 2)), names=["only one"])
    with pytest.raises(MotifqError, match="expected"):
        pm.plot_pr(np.array([0, 1, 1]), np.zeros(4))
