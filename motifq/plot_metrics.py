"""Figures of evaluation and training: ROC and PR curves, AUC histograms, model-vs-model scatter,
training curves.

Every function takes ``ax=None`` (a new figure is made when None) and returns the Axes it drew
on. Curves are computed by :func:`motifq.metrics.roc_curve` / :func:`motifq.metrics.pr_curve`
(scikit-learn's definitions) and thinned to at most `max_points` points for drawing.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .errors import MotifqError, check
from .evaluate import compare_models
from .metrics import average_precision, pr_curve, roc_auc, roc_curve
from .plot import new_axes

__all__ = ["plot_roc", "plot_pr", "plot_auc_histogram", "plot_auc_scatter", "plot_training_curves"]


def _axes(ax):
    return new_axes(ax, (5, 4.5))


def _thin(x, y, max_points: int):
    """At most about `max_points` points of a curve, first and last kept."""
    n = len(x)
    if n <= max_points:
        return x, y
    keep = np.unique(np.r_[np.linspace(0, n - 1, max_points).astype(int), n - 1])
    return x[keep], y[keep]


def _score_columns(labels, scores, names):
    labels = np.asarray(labels)
    scores = np.asarray(scores)
    if scores.ndim == 1:
        scores = scores[:, None]
    check(labels.ndim == 1 and scores.ndim == 2 and scores.shape[0] == labels.shape[0],
          f"curves: expected (N,) labels and (N,) or (N, K) scores, got {labels.shape} and {scores.shape}")
    if names is None:
        names = [f"model {i + 1}" for i in range(scores.shape[1])] if scores.shape[1] > 1 else [None]
    check(len(names) == scores.shape[1], f"curves: {len(names)} names for {scores.shape[1]} score columns")
    return labels, scores, list(names)


def plot_roc(labels, scores, names=None, title=None, max_points: int = 2000, ax=None):
    """ROC curves of one target: one line per score column, and the dashed chance diagonal.

    Parameters
    ----------
    labels : (N,) array of 0/1
        True labels of the target.
    scores : (N,) or (N, K) float array
        Scores of K models (or K targets' scores against their own labels, if that is what you
        pass) for the same labels.
    names : list of str or None
        Legend names of the K columns; the ROC AUC is appended. Default is None.
    title : str or None
        Axes title. Default is None.
    max_points : int
        Each curve is thinned to about this many points. Default is 2000.
    ax : matplotlib.axes.Axes or None
        Where to draw. Default is None: a new figure.

    Returns
    -------
    matplotlib.axes.Axes
    """
    labels, scores, names = _score_columns(labels, scores, names)
    ax = _axes(ax)
    for k, name in enumerate(names):
        fpr, tpr = _thin(*roc_curve(labels, scores[:, k]), max_points)
        auc = roc_auc(labels, scores[:, k])
        ax.plot(fpr, tpr, lw=1.5, label=f"{name + ' ' if name else ''}(AUC {auc:.3f})")
    ax.plot([0, 1], [0, 1], ls="--", lw=0.8, color="0.6", label="_chance")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.005)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    if title:
        ax.set_title(title)
    ax.legend(loc="lower right", fontsize="small", frameon=False)
    return ax


def plot_pr(labels, scores, names=None, title=None, max_points: int = 2000, ax=None):
    """Precision-recall curves of one target: one line per score column, and the dotted line of
    the positives' share (what a constant score achieves).

    Parameters
    ----------
    labels : (N,) array of 0/1
        True labels of the target.
    scores : (N,) or (N, K) float array
        Scores of K models for the same labels.
    names : list of str or None
        Legend names of the K columns; the PR AUC (average precision) is appended. Default is None.
    title : str or None
        Axes title. Default is None.
    max_points : int
        Each curve is thinned to about this many points. Default is 2000.
    ax : matplotlib.axes.Axes or None
        Where to draw. Default is None: a new figure.

    Returns
    -------
    matplotlib.axes.Axes
    """
    labels, scores, names = _score_columns(labels, scores, names)
    ax = _axes(ax)
    for k, name in enumerate(names):
        recall, precision = _thin(*pr_curve(labels, scores[:, k]), max_points)
        ap = average_precision(labels, scores[:, k])
        ax.step(recall, precision, where="pre", lw=1.5, label=f"{name + ' ' if name else ''}(AP {ap:.3f})")
    share = float(np.mean(labels != 0)) if labels.size else math.nan
    ax.axhline(share, ls=":", lw=0.8, color="0.6", label="_positives share")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.005)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    if title:
        ax.set_title(title)
    ax.legend(loc="upper right", fontsize="small", frameon=False)
    return ax


def plot_auc_histogram(aucs, metric: str = "ROC AUC", bins: int = 40, ax=None):
    """Histogram of per-target AUCs, one outlined histogram per model, NaN targets left out.

    Parameters
    ----------
    aucs : dict of str -> (T,) float array
        Model name to its per-target AUCs (one metric).
    metric : str
        Axis label. Default is ``ROC AUC``.
    bins : int
        Bins between the smallest and largest AUC over all models. Default is 40.
    ax : matplotlib.axes.Axes or None
        Where to draw. Default is None: a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        One patch (step outline) per model with any finite AUC; the legend gives each model's
        mean and the number of targets.
    """
    check(isinstance(aucs, dict) and aucs, "histogram: expected a dict of model name -> AUCs")
    ax = _axes(ax)
    vals = {k: np.asarray(v, dtype=np.float64) for k, v in aucs.items()}
    vals = {k: v[np.isfinite(v)] for k, v in vals.items()}
    allv = np.concatenate([v for v in vals.values()]) if vals else np.zeros(0)
    lo, hi = (float(allv.min()), float(allv.max())) if allv.size else (0.0, 1.0)
    if hi <= lo:
        lo, hi = lo - 0.01, hi + 0.01
    edges = np.linspace(lo, hi, int(bins) + 1)
    for name, v in vals.items():
        if v.size:
            ax.hist(v, bins=edges, histtype="step", lw=1.5, label=f"{name} (mean {v.mean():.3f}, n={v.size})")
    ax.set_xlabel(metric)
    ax.set_ylabel("targets")
    ax.legend(fontsize="small", frameon=False)
    return ax


def plot_auc_scatter(a, b, name_a: str = "A", name_b: str = "B", metric: str = "ROC AUC", ax=None):
    """Per-target AUC of model A (x) against model B (y), the diagonal, and the share of wins.

    The title reads ``"A > B on x% of targets"`` (x over targets where both have an AUC).

    Parameters
    ----------
    a, b : (T,) float arrays
        The same metric of two models, same target order; NaN targets are left out.
    name_a, name_b : str
        Model names for the title and axes. Default is ``A`` and ``B``.
    metric : str
        Which metric, for the axis labels. Default is ``ROC AUC``.
    ax : matplotlib.axes.Axes or None
        Where to draw. Default is None: a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        One scatter collection (the compared targets) and one dashed diagonal line.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    cmp = compare_models(a, b)
    ok = np.isfinite(a) & np.isfinite(b)
    ax = _axes(ax)
    ax.scatter(a[ok], b[ok], s=6, alpha=0.6, lw=0)
    both = np.r_[a[ok], b[ok]]
    lo, hi = (float(both.min()), float(both.max())) if both.size else (0.0, 1.0)
    pad = 0.02 * max(hi - lo, 1e-3)
    lo, hi = lo - pad, hi + pad
    ax.plot([lo, hi], [lo, hi], ls="--", lw=0.8, color="0.4")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_aspect("equal")
    ax.set_xlabel(f"{name_a} {metric}")
    ax.set_ylabel(f"{name_b} {metric}")
    share = cmp["a_better_share"]
    ax.set_title(f"{name_a} > {name_b} on {100 * share:.1f}% of targets" if share is not None
                 else f"{name_a} vs {name_b}: no target to compare")
    return ax


def _read_history(path):
    import pandas as pd

    p = Path(path)
    check(p.is_file(), f"{p}: no such file")
    text = p.read_text()
    if p.suffix == ".json":
        import json

        data = json.loads(text)
        if isinstance(data, dict):
            for key in ("history", "metrics", "epochs"):
                if isinstance(data.get(key), (list, dict)):
                    data = data[key]
                    break
        return pd.DataFrame(data)
    if p.suffix == ".jsonl":
        import json

        rows = [json.loads(line) for line in text.splitlines() if line.strip()]
        return pd.DataFrame([r for r in rows if set(r) != {"summary"}])   # the run's summary ends the log
    return pd.read_csv(p, sep="," if p.suffix == ".csv" else "\t")


def plot_training_curves(history, ax=None):
    """Loss per epoch during training: every column whose name holds ``loss``, the best
    validation epoch marked.

    Parameters
    ----------
    history : list of dict, dict of lists, pandas.DataFrame, or str / os.PathLike
        The per-epoch log: one record per validation, e.g. ``{"epoch": 1, "train_loss": 0.08, "valid_loss": 0.07}``; or a
        TSV/CSV/JSON/JSON-lines file of them (``motifq train``'s ``<model>.metrics.jsonl``, or a
        checkpoint's ``metrics`` list; a JSON object may hold them under ``history``, ``metrics``
        or ``epochs``). The x axis is the ``epoch`` column when its values are unique, else the
        ``step`` column, else 1, 2, ...
    ax : matplotlib.axes.Axes or None
        Where to draw. Default is None: a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        One line per loss column, plus a dotted vertical line at the epoch of the lowest
        validation loss (a column named ``valid_loss``, ``val_loss`` or ``validation_loss``).
    """
    import pandas as pd

    if isinstance(history, (str, Path)):
        df = _read_history(history)
    else:
        try:
            df = pd.DataFrame(history)
        except (ValueError, TypeError) as exc:
            raise MotifqError(f"training curves: cannot read the history ({exc})") from None
    check(len(df) > 0, "training curves: no epochs")
    loss_cols = [c for c in df.columns if "loss" in str(c).lower()]
    check(loss_cols, f"training curves: no loss column (have {', '.join(map(str, df.columns))})")
    xname = "epoch"
    if "epoch" in df.columns and df["epoch"].is_unique:
        x = df["epoch"].to_numpy()
    elif "step" in df.columns:       # several validations per epoch: the optimizer step
        x, xname = df["step"].to_numpy(), "step"
    else:
        x = np.arange(1, len(df) + 1)
    ax = _axes(ax)
    for c in loss_cols:
        y = pd.to_numeric(df[c], errors="coerce").to_numpy(dtype=np.float64)
        ax.plot(x, y, marker="o", ms=3, lw=1.5, label=str(c))
    valid = next((c for c in ("valid_loss", "val_loss", "validation_loss") if c in df.columns), None)
    if valid is not None:
        v = pd.to_numeric(df[valid], errors="coerce").to_numpy(dtype=np.float64)
        if np.isfinite(v).any():
            best = int(np.nanargmin(v))
            ax.axvline(x[best], ls=":", lw=1, color="0.4", label=f"best {xname} {x[best]}")
    ax.set_xlabel(xname)
    ax.set_ylabel("loss")
    ax.legend(fontsize="small", frameon=False)
    return ax
