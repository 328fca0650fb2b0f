"""Evaluate like the paper: per-target ROC AUC and PR AUC, Table S1 loss and accuracy, tables.

Metrics
    :func:`target_aucs` scores every target of an (N, T) prediction matrix: one sort per target,
    targets taken in column blocks so memory stays bounded, no Python loop over thresholds. ROC AUC
    equals scikit-learn's ``roc_auc_score`` (ties count one half) and PR AUC equals
    ``average_precision_score`` (ties form one threshold); a target without positives or without
    negatives gets NaN (written ``NA``), never 0.5.

    With, for one target, the distinct scores of its P positives ``u_1 < ... < u_k`` (``c_j``
    positives at ``u_j``), ``below_j`` / ``equal_j`` the negatives scored below / equal to ``u_j``,
    ``ge_j`` all samples scored at least ``u_j`` and ``tp_j`` the positives scored at least
    ``u_j``, and M negatives::

        ROC AUC = sum_j c_j (below_j + equal_j / 2) / (P M)
        PR AUC  = sum_j (c_j / P) (tp_j / ge_j)

    The counts come from the sorted scores by binary search of the ``u_j``.

Driver
    :func:`evaluate_models` loads checkpoints, predicts a split (mean of the forward and the
    reverse-complement strand), streams the (N, T) predictions to a memory-mapped ``.npy`` file and
    writes ``metrics.tsv``, ``summary.json`` and the figures.

Labels are 0/1, one column per target, in the data's target order; sequences are tokens in
A, C, G, T order (0..3, 4 = N), see :mod:`motifq.sequence`.
"""
from __future__ import annotations

import json
import math
import os
import re
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .errors import MotifqError, atomic_path, atomic_write, check, check_file

__all__ = ["TargetAUCs", "roc_auc", "average_precision", "roc_curve", "pr_curve", "target_aucs",
           "loss_and_accuracy", "summarize", "all_zeros_summary", "compare_models", "metrics_table",
           "write_metrics", "write_summary", "read_reference", "choose_curve_targets", "predict_split",
           "evaluate_models", "model_kind", "ALL_ZEROS", "BCE_EPS"]

ALL_ZEROS = "all-zeros"
"""Name of the baseline that predicts 0 for every target."""

BCE_EPS = 1e-7
"""Probabilities are clipped to [BCE_EPS, 1 - BCE_EPS] in the loss (as Keras does)."""


class TargetAUCs(NamedTuple):
    """Per-target metrics of one model, all arrays of shape (T,), in target order.

    Parameters
    ----------
    positives : (T,) int64
        Samples labelled 1.
    negatives : (T,) int64
        Samples labelled 0.
    roc_auc : (T,) float64
        Area under the ROC curve; NaN where a target lacks positives or negatives.
    pr_auc : (T,) float64
        Average precision (area under the precision-recall curve); NaN likewise.
    """

    positives: np.ndarray
    negatives: np.ndarray
    roc_auc: np.ndarray
    pr_auc: np.ndarray


# ---------------------------------------------------------------------------------------------
# the per-target kernel
# ---------------------------------------------------------------------------------------------
def _columns(arr, c0: int, c1: int, dtype, rows: int = 4096) -> np.ndarray:
    """Columns c0:c1 of an (N, T) array as a contiguous (b, N) array of `dtype`.

    The copy runs in row chunks: a plain strided transpose of a wide memory map is several times
    slower. Floats pass through ``x + 0`` so -0.0 becomes 0.0.
    """
    N = arr.shape[0]
    out = np.empty((c1 - c0, N), dtype=dtype)
    for r0 in range(0, N, rows):
        chunk = np.asarray(arr[r0:r0 + rows, c0:c1]).T
        if out.dtype.kind == "f":
            np.add(chunk, out.dtype.type(0), out=out[:, r0:r0 + rows])
        else:
            out[:, r0:r0 + rows] = chunk
    return out


def _scores_block(scores, c0: int, c1: int) -> np.ndarray:
    """Columns c0:c1 of (N, T) scores as sortable integer keys, a contiguous (b, N) array.

    Floats are widened to float32 (float16) or float64 (integers, bools), NaN raises, and the IEEE
    bits become integers in the same order: non-negative floats keep their bits, negative ones
    have all but the sign bit flipped (-0.0 was made 0.0, so equal scores give equal keys).
    """
    dtype = np.dtype(scores.dtype)
    ftype = np.float64 if dtype.kind != "f" or dtype.itemsize > 4 else np.float32
    out = _columns(scores, c0, c1, ftype)
    bad = np.isnan(out).any(axis=1)
    check(not bad.any(), f"scores: NaN in target {c0 + int(np.argmax(bad))}")
    keys = out.view(np.int32 if ftype is np.float32 else np.int64)
    flip = keys >> (keys.dtype.itemsize * 8 - 1)      # -1 for negative floats, else 0
    flip &= np.iinfo(keys.dtype).max
    keys ^= flip
    return keys


def _labels_block(labels, c0: int, c1: int) -> np.ndarray:
    """Columns c0:c1 of (N, T) 0/1 labels (an array or a Split) as a contiguous (b, N) bool array."""
    packed = getattr(labels, "packed_labels", None)
    if packed is not None:  # a Split: unpack only the bytes holding these columns
        b0 = c0 // 8
        bits = np.unpackbits(np.asarray(packed[:, b0:(c1 + 7) // 8]), axis=1, bitorder="little")
        return _columns(bits[:, c0 - 8 * b0:c1 - 8 * b0].view(bool), 0, c1 - c0, bool)
    if np.dtype(labels.dtype) == bool:
        return _columns(labels, c0, c1, bool)
    block = _columns(labels, c0, c1, np.dtype(labels.dtype))
    check(bool(((block == 0) | (block == 1)).all()), "labels: values other than 0 and 1")
    return block.astype(bool)


def _column_aucs(pos: np.ndarray, keys: np.ndarray):
    """ROC AUC and PR AUC of one target.

    pos : (P,) sorted keys of the positives; keys : (N,) sorted keys of all samples.
    Returns (roc_auc, pr_auc); NaN when the target has one class only.
    """
    n = keys.shape[0]
    P = pos.shape[0]
    M = n - P
    if P == 0 or M == 0:
        return math.nan, math.nan
    new = np.empty(P, dtype=bool)
    new[0] = True
    np.not_equal(pos[1:], pos[:-1], out=new[1:])
    starts = np.flatnonzero(new)                      # positives scored below u_j
    u = pos[starts]                                   # distinct positive scores, ascending
    c = np.diff(np.append(starts, P))                 # positives at u_j
    lo = np.searchsorted(keys, u, side="left")        # all samples < u_j
    hi = np.searchsorted(keys, u, side="right")       # all samples <= u_j
    below = lo - starts
    equal = (hi - lo) - c
    roc = float(np.dot(c, below + 0.5 * equal)) / (float(P) * float(M))
    ap = float(np.dot(c, (P - starts) / (n - lo))) / P
    return roc, ap


def target_aucs(labels, scores, block_size: int = 128, progress: bool = False) -> TargetAUCs:
    """ROC AUC and PR AUC of every target (column), with positive and negative counts.

    Targets are processed in blocks of `block_size` columns; each block is copied to a (b, N)
    array of integer keys in the order of the scores, sorted in place along N (one sort per
    target, plus one of its positives' keys), and every AUC is read off the sorted keys with a binary search for the distinct
    positive scores (see the module docstring). Memory beyond the inputs (which may be
    memory-mapped) is about ``5 * N * block_size`` bytes for float16/float32 scores and
    ``9 * N * block_size`` for float64.

    Parameters
    ----------
    labels : (N, T) array of 0/1 or bool, or a :class:`motifq.data.Split`
        True labels, targets in columns. A Split's bit-packed labels are unpacked one block at a
        time.
    scores : (N, T) float array
        Predicted probabilities (or any scores; only their order matters). May be a memory-mapped
        ``.npy`` file; float16 is widened to float32 block by block. NaN is an error.
    block_size : int
        Targets per block. Default is 128.
    progress : bool
        Show a progress bar over the blocks. Default is False.

    Returns
    -------
    TargetAUCs
        (T,) positives, negatives, roc_auc, pr_auc; the AUCs are NaN for a target with no
        positives or no negatives.
    """
    if not hasattr(scores, "shape"):
        scores = np.asarray(scores)
    check(scores.ndim == 2, f"scores: expected an (N, T) array, got shape {scores.shape}")
    N, T = scores.shape
    if hasattr(labels, "packed_labels"):
        shape = (len(labels), labels.n_targets)
    else:
        if not hasattr(labels, "shape"):
            labels = np.asarray(labels)
        shape = tuple(labels.shape)
    check(shape == (N, T), f"labels: shape {shape} does not match scores {scores.shape}")
    check(np.dtype(scores.dtype).kind in "fiub", f"scores: expected numbers, got {scores.dtype}")
    check(int(block_size) >= 1, f"block_size: must be at least 1, got {block_size}")
    block_size = int(block_size)
    if getattr(labels, "packed_labels", None) is not None and block_size % 8:
        block_size += 8 - block_size % 8  # keep blocks byte-aligned in the packed labels
    positives = np.zeros(T, dtype=np.int64)
    roc = np.full(T, np.nan)
    ap = np.full(T, np.nan)
    starts = range(0, T, block_size)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc="AUCs", unit="block", total=len(starts))
    for c0 in starts:
        c1 = min(T, c0 + block_size)
        y = _labels_block(labels, c0, c1)
        keys = _scores_block(scores, c0, c1)
        pos = [np.sort(keys[j][y[j]]) for j in range(c1 - c0)]
        keys.sort(axis=1)                             # the one sort per target, in place
        for j in range(c1 - c0):
            positives[c0 + j] = pos[j].shape[0]
            roc[c0 + j], ap[c0 + j] = _column_aucs(pos[j], keys[j])
    return TargetAUCs(positives, N - positives, roc, ap)


def roc_auc(labels, scores) -> float:
    """Area under the ROC curve of one target, as scikit-learn's ``roc_auc_score``.

    Parameters
    ----------
    labels : (N,) array of 0/1 or bool
    scores : (N,) float array

    Returns
    -------
    float
        NaN when `labels` hold only one class.
    """
    labels, scores = _one_target(labels, scores)
    return float(target_aucs(labels, scores).roc_auc[0])


def average_precision(labels, scores) -> float:
    """PR AUC (average precision) of one target, as scikit-learn's ``average_precision_score``.

    Parameters
    ----------
    labels : (N,) array of 0/1 or bool
    scores : (N,) float array

    Returns
    -------
    float
        NaN when `labels` hold only one class.
    """
    labels, scores = _one_target(labels, scores)
    return float(target_aucs(labels, scores).pr_auc[0])


def _one_target(labels, scores):
    labels = np.asarray(labels)
    scores = np.asarray(scores)
    check(labels.ndim == 1 and labels.shape == scores.shape,
          f"labels, scores: expected two (N,) arrays, got shapes {labels.shape} and {scores.shape}")
    return labels[:, None], scores[:, None]


def _curve_counts(labels, scores):
    """Cumulative (tp, fp) at each distinct score, highest score first, and the positive count."""
    labels, scores = _one_target(labels, scores)
    y = _labels_block(labels, 0, 1)[0]
    s = _scores_block(scores, 0, 1)[0]
    check(not np.isnan(s).any(), "scores: NaN")
    order = np.argsort(s, kind="stable")[::-1]
    s, y = s[order], y[order]
    ends = np.r_[np.flatnonzero(s[1:] != s[:-1]), s.shape[0] - 1]
    tp = np.cumsum(y)[ends].astype(np.float64)
    fp = (ends + 1) - tp
    return tp, fp, int(y.sum())


def roc_curve(labels, scores):
    """ROC curve of one target: one point per distinct score, from (0, 0) to (1, 1).

    Parameters
    ----------
    labels : (N,) array of 0/1 or bool
    scores : (N,) float array

    Returns
    -------
    fpr, tpr : (K + 1,) float64
        False and true positive rates; NaN-filled when a class is missing.
    """
    tp, fp, P = _curve_counts(labels, scores)
    M = (tp.shape[0] and (tp[-1] + fp[-1])) - P
    if P == 0 or M == 0:
        return np.full(tp.shape[0] + 1, np.nan), np.full(tp.shape[0] + 1, np.nan)
    return np.r_[0.0, fp / M], np.r_[0.0, tp / P]


def pr_curve(labels, scores):
    """Precision-recall curve of one target, as scikit-learn's ``precision_recall_curve``.

    Parameters
    ----------
    labels : (N,) array of 0/1 or bool
    scores : (N,) float array

    Returns
    -------
    recall, precision : (K + 1,) float64
        Recall rising from 0 to 1 and the precision at each distinct score; the first point is
        (0, 1) as in scikit-learn. NaN-filled when a class is missing.
    """
    tp, fp, P = _curve_counts(labels, scores)
    M = (tp.shape[0] and (tp[-1] + fp[-1])) - P
    if P == 0 or M == 0:
        return np.full(tp.shape[0] + 1, np.nan), np.full(tp.shape[0] + 1, np.nan)
    return np.r_[0.0, tp / P], np.r_[1.0, tp / (tp + fp)]


# ---------------------------------------------------------------------------------------------
# Table S1: loss, accuracy, summaries
# ---------------------------------------------------------------------------------------------
def loss_and_accuracy(labels, scores, rows: int = 8192, eps: float = BCE_EPS):
    """Mean binary cross-entropy and accuracy at 0.5 over all N x T labels (Table S1).

    Parameters
    ----------
    labels : (N, T) array of 0/1 or bool, or a :class:`motifq.data.Split`
        True labels.
    scores : (N, T) float array
        Predicted probabilities in [0, 1]; may be memory-mapped. Read `rows` rows at a time.
    rows : int
        Rows per chunk. Default is 8192.
    eps : float
        Probabilities are clipped to [eps, 1 - eps] in the loss. Default is 1e-07 (BCE_EPS).

    Returns
    -------
    loss : float
        ``-mean(y log p + (1 - y) log(1 - p))``.
    accuracy : float
        Share of labels equal to ``p > 0.5``.
    """
    N, T = scores.shape
    check(len(labels) == N, f"labels: {len(labels)} rows for {N} rows of scores")
    total = 0.0
    correct = 0
    for r0 in range(0, N, rows):
        r1 = min(N, r0 + rows)
        y = labels.labels(slice(r0, r1)) if hasattr(labels, "packed_labels") else np.asarray(labels[r0:r1])
        y = y.astype(bool)
        p = np.asarray(scores[r0:r1], dtype=np.float64)
        check(not np.isnan(p).any(), f"scores: NaN in rows {r0}..{r1 - 1}")
        check(p.min(initial=0.0) >= 0.0 and p.max(initial=1.0) <= 1.0, "scores: probabilities outside [0, 1]")
        correct += int(np.count_nonzero((p > 0.5) == y))
        np.clip(p, eps, 1.0 - eps, out=p)
        q = np.subtract(1.0, p, out=np.empty_like(p))
        np.copyto(q, p, where=y)                      # q = p where y = 1, 1 - p where y = 0
        total -= float(np.log(q, out=q).sum())
    n = N * T
    return (total / n, correct / n) if n else (math.nan, math.nan)


def _stat(fn, x):
    x = np.asarray(x, dtype=np.float64)
    x = x[np.isfinite(x)]
    return float(fn(x)) if x.size else None


def summarize(aucs: TargetAUCs, loss=None, accuracy=None) -> dict:
    """The Table S1 row of one model.

    Parameters
    ----------
    aucs : TargetAUCs
        Per-target metrics.
    loss : float or None
        Mean binary cross-entropy (None for a published reference). Default is None.
    accuracy : float or None
        Accuracy at 0.5. Default is None.

    Returns
    -------
    dict
        ``loss``, ``accuracy``, ``roc_auc_mean``, ``roc_auc_median``, ``pr_auc_mean``,
        ``pr_auc_median`` (over targets with an AUC; None when there is none), ``targets``
        and ``targets_na`` (targets without an AUC).
    """
    ok = np.isfinite(np.asarray(aucs.roc_auc, dtype=np.float64))
    return {
        "loss": None if loss is None or not math.isfinite(loss) else float(loss),
        "accuracy": None if accuracy is None or not math.isfinite(accuracy) else float(accuracy),
        "roc_auc_mean": _stat(np.mean, aucs.roc_auc),
        "roc_auc_median": _stat(np.median, aucs.roc_auc),
        "pr_auc_mean": _stat(np.mean, aucs.pr_auc),
        "pr_auc_median": _stat(np.median, aucs.pr_auc),
        "targets": int(ok.size),
        "targets_na": int((~ok).sum()),
    }


def all_zeros_summary(aucs: TargetAUCs, eps: float = BCE_EPS) -> dict:
    """Table S1 row of the predictor that says 0 for every label, from the label counts alone.

    Every score ties, so its ROC AUC is 0.5 and its PR AUC the share of positives of each target
    (what scikit-learn gives for constant scores); its loss is that of probability `eps`.

    Parameters
    ----------
    aucs : TargetAUCs
        Any model's metrics on the data (only ``positives`` and ``negatives`` are used).
    eps : float
        The clipped probability. Default is 1e-07 (BCE_EPS).

    Returns
    -------
    dict
        As :func:`summarize`.
    """
    P = np.asarray(aucs.positives, dtype=np.float64)
    M = np.asarray(aucs.negatives, dtype=np.float64)
    ok = (P > 0) & (M > 0)
    zeros = TargetAUCs(aucs.positives, aucs.negatives, np.where(ok, 0.5, np.nan),
                       np.where(ok, P / np.maximum(P + M, 1), np.nan))
    n = float((P + M).sum())
    loss = (-P.sum() * math.log(eps) - M.sum() * math.log1p(-eps)) / n if n else None
    return summarize(zeros, loss, M.sum() / n if n else None)


def compare_models(a, b) -> dict:
    """How often model A beats model B, target by target.

    Parameters
    ----------
    a, b : (T,) float arrays
        One metric (e.g. ROC AUC) of two models, same target order; NaN targets are left out.

    Returns
    -------
    dict
        ``targets`` (compared), ``a_better``, ``b_better``, ``ties`` and ``a_better_share``
        (a_better / targets, None when nothing was compared).
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    check(a.shape == b.shape, f"compare: {a.shape} against {b.shape}")
    ok = np.isfinite(a) & np.isfinite(b)
    n = int(ok.sum())
    win = int((a[ok] > b[ok]).sum())
    loss = int((a[ok] < b[ok]).sum())
    return {"targets": n, "a_better": win, "b_better": loss, "ties": n - win - loss,
            "a_better_share": win / n if n else None}


# ---------------------------------------------------------------------------------------------
# tables and files
# ---------------------------------------------------------------------------------------------
def metrics_table(results: dict, targets):
    """Long table of per-target metrics: one row per target and model.

    Parameters
    ----------
    results : dict of str -> TargetAUCs
        Model name to its metrics (T targets each); a reference may have NaN counts.
    targets : list of str
        The T target names, in order.

    Returns
    -------
    pandas.DataFrame
        Columns ``model, target_index, target, positives, negatives, roc_auc, pr_auc``; counts are
        nullable integers, AUCs floats with NaN for NA.
    """
    import pandas as pd

    frames = []
    for name, m in results.items():
        T = len(targets)
        check(len(m.roc_auc) == T, f"{name}: {len(m.roc_auc)} targets, expected {T}")
        frames.append(pd.DataFrame({
            "model": name, "target_index": np.arange(T), "target": list(targets),
            "positives": pd.array(np.asarray(m.positives, dtype=np.float64), dtype="Float64").round().astype("Int64"),
            "negatives": pd.array(np.asarray(m.negatives, dtype=np.float64), dtype="Float64").round().astype("Int64"),
            "roc_auc": np.asarray(m.roc_auc, dtype=np.float64), "pr_auc": np.asarray(m.pr_auc, dtype=np.float64)}))
    cols = ["model", "target_index", "target", "positives", "negatives", "roc_auc", "pr_auc"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)


def write_metrics(path, table) -> None:
    """Write :func:`metrics_table` as TSV, missing values as ``NA``, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Output file.
    table : pandas.DataFrame
        From :func:`metrics_table`.
    """
    with atomic_write(path, newline="") as fh:
        table.to_csv(fh, sep="\t", index=False, na_rep="NA", float_format="%.10g")


def _json_clean(x):
    if isinstance(x, dict):
        return {str(k): _json_clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_json_clean(v) for v in x]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return float(x) if math.isfinite(x) else None
    return x


def write_summary(path, summary: dict) -> None:
    """Write a summary dict as JSON (NaN and infinities as null), atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Output file.
    summary : dict
        JSON-like values; NumPy scalars are converted.
    """
    with atomic_write(path) as fh:
        json.dump(_json_clean(summary), fh, indent=1)
        fh.write("\n")


_METRIC_COL = re.compile(r"^(?P<model>.*?)[\s_.-]*(?P<metric>roc[\s_-]*auc|auroc|pr[\s_-]*auc|auprc|average[\s_-]*precision)$",
                         re.IGNORECASE)


def _normalise(name: str) -> str:
    return re.sub(r"[^0-9a-z|]+", "", str(name).casefold())


def _join_rows(ref_names, targets):
    """Row of the reference for each target by name (k-th repeat to k-th repeat), or None."""
    for key in (str, _normalise):
        rows = {}
        for i, name in enumerate(ref_names):
            rows.setdefault(key(name), []).append(i)
        used = {}
        out = []
        for t in targets:
            k = key(t)
            j = used.get(k, 0)
            if j >= len(rows.get(k, ())):
                break
            out.append(rows[k][j])
            used[k] = j + 1
        else:
            return out
    return None


def read_reference(path, targets):
    """Published per-target AUCs, aligned to the data's targets.

    Two layouts are read (tab-separated, with a header):

    - wide, as the DanQ authors' table: columns ``<model> ROC AUC`` and ``<model> PR AUC`` (also
      ``<model>_roc_auc``, ``AUROC``, ``AUPRC``), the other columns naming the target
      (``target`` or ``name`` if present, else all of them joined with ``|``, e.g.
      ``Cell Type | TF/DNase/HistoneMark | Treatment`` -> ``GM12878|CTCF|None``);
    - long, as motifq's own ``metrics.tsv``: columns ``model``, ``target``, ``roc_auc``,
      ``pr_auc`` (and ``target_index``).

    Rows are joined to `targets` by name when every target is found (exactly, else ignoring case
    and punctuation; the k-th repeat of a name to the k-th repeat), otherwise by order when the
    reference has exactly T rows per model. Empty cells and cells starting with ``NA`` (the DanQ
    table writes ``NA (No positive in Test region)``) are NaN.

    Parameters
    ----------
    path : str or os.PathLike
        The TSV.
    targets : list of str
        The T target names of the data, in order.

    Returns
    -------
    models : dict of str -> TargetAUCs
        One entry per model in the table; counts are NaN, AUCs (T,) float64 with NaN for NA.
    joined_by : str
        ``"name"`` or ``"order"``.
    """
    import pandas as pd

    p = check_file(path)
    try:
        df = pd.read_csv(p, sep="\t", dtype=str, keep_default_na=False, comment=None)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise MotifqError(f"{p}: not a tab-separated table ({str(exc).splitlines()[0] if str(exc) else exc})") from None
    targets = list(targets)
    T = len(targets)
    lower = {c.strip().lower(): c for c in df.columns}
    if {"model", "roc_auc", "pr_auc"} <= set(lower):  # long: motifq's metrics.tsv
        tables = {m: g for m, g in df.groupby(lower["model"], sort=False)}
        roc_col, pr_col = lower["roc_auc"], lower["pr_auc"]
        cols = {m: (roc_col, pr_col) for m in tables}
        name_col = lower.get("target")
        names = {m: (list(g[name_col]) if name_col else None) for m, g in tables.items()}
    else:
        cols = {}
        for c in df.columns:
            m = _METRIC_COL.match(c.strip())
            if not m:
                continue
            model = m.group("model").strip() or "reference"
            kind = "pr" if m.group("metric").lower().startswith(("pr", "auprc", "average")) else "roc"
            roc_pr = list(cols.get(model, (None, None)))
            roc_pr[kind == "pr"] = c
            cols[model] = tuple(roc_pr)
        check(cols, f"{p}: no AUC columns (expected e.g. 'DanQ ROC AUC' and 'DanQ PR AUC')")
        metric_cols = {c for pair in cols.values() for c in pair if c is not None}
        other = [c for c in df.columns if c not in metric_cols]
        named = [lower[k] for k in ("target", "name") if k in lower]
        if named:
            ref_names = list(df[named[0]])
        elif other:
            ref_names = ["|".join(str(v).strip() for v in row) for row in df[other].itertuples(index=False)]
        else:
            ref_names = None
        tables = {m: df for m in cols}
        names = {m: ref_names for m in cols}
    out = {}
    how = set()
    for model, (roc_col, pr_col) in cols.items():
        g = tables[model]
        rows = _join_rows(names[model], targets) if names[model] is not None else None
        if rows is not None:
            how.add("name")
        else:
            check(len(g) == T, f"{p}: {model}: {len(g)} rows and target names that do not match the data's "
                               f"{T} targets (e.g. {_first_missing(names[model], targets)!r})")
            rows = list(range(T))
            how.add("order")
            if names[model] is not None:
                agree = sum(_normalise(a) == _normalise(b) for a, b in zip(names[model], targets))
                if 0 < agree < T / 2:
                    warnings.warn(f"{p}: {model}: joined by order, but only {agree} of {T} target names agree "
                                  f"with the data's; check that the rows are in the data's target order")
        vals = []
        for c in (roc_col, pr_col):
            if c is None:
                vals.append(np.full(T, np.nan))
                continue
            s = g[c].astype(str).str.strip()
            na = (s.isin(["", "NaN", "nan", "-"]) | s.str.match(r"(?i)n/?a\b")).to_numpy()  # "NA (No positive ...)"
            v = pd.to_numeric(s.where(~na, "nan"), errors="coerce").to_numpy(dtype=np.float64)
            bad = ~na & np.isnan(v)
            check(not bad.any(), f"{p}: column {c!r}: not a number: {s[bad].iloc[0] if bad.any() else ''!r}")
            vals.append(v[rows])
        nan = np.full(T, np.nan)
        out[str(model)] = TargetAUCs(nan, nan.copy(), vals[0], vals[1])
    return out, ("name" if how == {"name"} else "order")


def _first_missing(ref_names, targets):
    if ref_names is None:
        return "no name columns"
    have = set(map(_normalise, ref_names))
    return next((t for t in targets if _normalise(t) not in have), targets[0] if targets else "")


def choose_curve_targets(aucs: TargetAUCs, targets, names=None, k: int = 4) -> list:
    """Targets to draw ROC and PR curves for.

    Parameters
    ----------
    aucs : TargetAUCs
        The first model's metrics.
    targets : list of str
        The T target names.
    names : list of str or None
        Target names (or 0-based indices, as text) to draw; the first target of a repeated name.
        Default is None: `k` targets spread across the PR AUC range (lowest, quantiles, highest).
    k : int
        How many to choose when `names` is None. Default is 4.

    Returns
    -------
    list of int
        Target indices.
    """
    targets = list(targets)
    if names:
        index = {}
        for i, t in enumerate(targets):
            index.setdefault(t, i)
        out = []
        for n in names:
            n = str(n).strip()
            if n in index:
                out.append(index[n])
            elif n.isdigit() and int(n) < len(targets):
                out.append(int(n))
            else:
                raise MotifqError(f"--curves: {n!r} is not a target name (nor an index below {len(targets)})")
        return out
    pr = np.asarray(aucs.pr_auc, dtype=np.float64)
    ok = np.flatnonzero(np.isfinite(pr))
    if ok.size == 0 or k < 1:
        return []
    order = ok[np.argsort(pr[ok], kind="stable")]
    picks = np.unique(np.round(np.linspace(0, order.size - 1, min(k, order.size))).astype(int))
    return [int(i) for i in order[picks]]


# ---------------------------------------------------------------------------------------------
# the driver: checkpoints -> predictions (forward + reverse complement) -> metrics -> files
# ---------------------------------------------------------------------------------------------
def predict_split(model, split, path=None, rc: bool = True, batch_size: int = 256, device=None,
                  dtype: str = "float32", progress: bool = False):
    """Predict every sequence of a split, streaming the (N, T) probabilities to disk.

    Parameters
    ----------
    model : torch.nn.Module
        A motifq model (see :func:`motifq.models.predict`: one-hot (B, 4, L) input in A, C, G, T
        order, (B, T) logits out).
    split : motifq.data.Split
        Its tokens (N, L) uint8, 0..3 = A, C, G, T, 4 = N, are read `batch_size` rows at a time.
    path : str or os.PathLike or None
        Where to write the predictions as a memory-mapped ``.npy`` file. Default is None: an
        in-memory array.
    rc : bool
        Average each sequence's probabilities with its reverse complement's (as the paper).
        Default is True.
    batch_size : int
        Sequences per forward pass. Default is 256.
    device : str or torch.device or None
        Where to run. Default is None: the model's device.
    dtype : str
        ``float32`` or ``float16`` (half the disk; ties become likelier, which changes the AUCs
        in the fourth decimal or so). Default is ``float32``.
    progress : bool
        Show a progress bar. Default is False.

    Returns
    -------
    numpy.ndarray or numpy.memmap
        (N, T) probabilities of `dtype`, T = the model's outputs.
    """
    from .models import predict

    check(dtype in ("float32", "float16"), f"dtype: {dtype!r} is not float32 or float16")
    T = int(model.config.n_targets)
    shape = (len(split), T)
    if path is None:
        out = np.empty(shape, dtype=dtype)
    else:
        out = np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=shape)
    predict(model, split.tokens, batch_size=int(batch_size), rc=rc, device=device, out=out, progress=progress)
    if path is not None:
        out.flush()
    return out


def _model_names(checkpoints) -> dict:
    """Name -> path for `checkpoints` (a dict, or paths optionally written ``NAME=PATH``)."""
    if isinstance(checkpoints, dict):
        return {str(k): Path(v) for k, v in checkpoints.items()}
    pairs = []
    for c in checkpoints:
        c = str(c)
        name, sep, path = c.partition("=")
        if sep and name and not Path(c).exists():
            pairs.append((name, Path(path)))
        else:
            pairs.append((None, Path(c)))
    stems = [p.stem for n, p in pairs if n is None]
    out = {}
    for name, p in pairs:
        if name is None:
            name = p.stem
            if stems.count(p.stem) > 1 and p.parent.name:
                name = f"{p.parent.name}/{p.stem}"
        check(name not in out, f"models: two models named {name!r} (name them: NAME=PATH)")
        out[name] = p
    return out


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(name)).strip("_") or "model"


def evaluate_models(checkpoints, split, outdir, rc: bool = True, batch_size: int = 256, device=None,
                    reference=None, curves=None, block_size: int = 128, dtype: str = "float32",
                    keep_predictions: bool = False, progress: bool = False, say=None) -> dict:
    """Evaluate checkpoints on a split as the paper did, and write tables and figures.

    For each model: predictions (mean of forward and reverse-complement strands unless `rc` is
    False) stream to a memory-mapped ``.npy`` file in `outdir` (removed afterwards unless
    `keep_predictions`), then per-target ROC AUC and PR AUC (:func:`target_aucs`) and the mean
    loss and accuracy (:func:`loss_and_accuracy`). Files written (each atomically, after all
    models are done):

    - ``metrics.tsv``: ``model, target_index, target, positives, negatives, roc_auc, pr_auc``,
      one row per target and model (reference models included, their counts ``NA``);
    - ``summary.json``: Table S1 rows (``models``, with ``all-zeros`` and the references),
      pairwise comparisons, the data and options;
    - ``auc_histogram.png`` (ROC AUC and PR AUC panels), ``curves_<i>_<target>.png`` (ROC and PR
      curves of each chosen target, one line per model) and, for two or more models (references
      count), ``scatter_<A>_vs_<B>.png`` (ROC AUC and PR AUC panels) for every pair that involves
      an evaluated model.

    Parameters
    ----------
    checkpoints : list of str or dict of str -> path
        Checkpoint files (``motifq train`` output); a list item ``NAME=PATH`` names the model,
        otherwise the file's stem does.
    split : motifq.data.Split
        The data: tokens (N, L) in A, C, G, T order and 0/1 labels of T targets.
    outdir : str or os.PathLike
        Output folder (created).
    rc : bool
        Average forward and reverse-complement predictions. Default is True.
    batch_size : int
        Sequences per forward pass. Default is 256.
    device : str or torch.device or None
        Where to run the models. Default is None: ``cpu``.
    reference : str or os.PathLike or None
        A TSV of published per-target AUCs (see :func:`read_reference`), drawn as more models.
        Default is None.
    curves : list of str or None
        Targets (names or indices) to draw curves for. Default is None: four spread across the
        first model's PR AUC range.
    block_size : int
        Targets per block in :func:`target_aucs`. Default is 128.
    dtype : str
        Storage of the streamed predictions, ``float32`` or ``float16``. Default is ``float32``.
    keep_predictions : bool
        Keep ``predictions_<model>.npy`` (N, T) in `outdir`. Default is False.
    progress : bool
        Show progress bars. Default is False.
    say : callable or None
        Called with one-line status messages. Default is None.

    Returns
    -------
    dict
        The summary written to ``summary.json``.
    """
    from .models import load_checkpoint

    say = say or (lambda message: None)
    models = _model_names(checkpoints)
    check(models, "models: no checkpoint given")
    for p in models.values():
        check_file(p)
    outdir = Path(outdir)
    targets = list(split.targets)
    T = len(targets)
    check(len(split) > 0, f"{split.name or 'data'}: no sequences")
    refs, joined = ({}, None)
    if reference is not None:
        refs, joined = read_reference(reference, targets)
        refs = {(f"{k} (reference)" if k in models else k): v for k, v in refs.items()}
    device = device or "cpu"

    curve_idx = choose_curve_targets(None, targets, curves) if curves else None
    created = not outdir.exists()
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MotifqError(f"{outdir}: cannot create folder ({exc.strerror})") from None
    try:
        summary = _evaluate_into(models, split, outdir, targets, refs, joined, reference, curve_idx, rc, batch_size,
                                 device, block_size, dtype, keep_predictions, progress, say, load_checkpoint)
    except BaseException:
        if created and outdir.is_dir() and not any(outdir.iterdir()):
            outdir.rmdir()                            # a failed run leaves no empty folder behind
        raise
    say(f"wrote {outdir / 'metrics.tsv'}, {outdir / 'summary.json'} and {len(summary['figures'])} figures")
    return summary


def _evaluate_into(models, split, outdir, targets, refs, joined, reference, curve_idx, rc, batch_size, device,
                   block_size, dtype, keep_predictions, progress, say, load_checkpoint) -> dict:
    """The body of :func:`evaluate_models` once the inputs are checked and `outdir` exists."""
    import contextlib
    import tempfile

    from matplotlib.figure import Figure

    from . import plot_metrics as pm

    T = len(targets)
    results, rows, curve_scores, kept = {}, {}, {}, []
    for name, path in models.items():
        model, ckpt = load_checkpoint(path, device=device)
        n_out = int(model.config.n_targets)
        check(n_out == T, f"{path}: the model predicts {n_out} targets, the data has {T}")
        if list(ckpt.get("targets", targets)) != targets:
            warnings.warn(f"{path}: the checkpoint's target names differ from the data's; using the data's order")
        check(model.config.length == split.length or model.config.kind == "lr",
              f"{path}: the model takes {model.config.length}-base sequences, the data has {split.length}")
        say(f"{name}: predicting {len(split):,} sequences x {T} targets"
            f"{' (forward + reverse complement)' if rc else ''}")
        fd, tmp = tempfile.mkstemp(prefix=f".predictions_{_safe(name)}.", suffix=".npy", dir=outdir)
        os.close(fd)
        tmp = Path(tmp)
        try:
            scores = predict_split(model, split, tmp, rc=rc, batch_size=batch_size, device=device,
                                   dtype=dtype, progress=progress)
            del model
            say(f"{name}: scoring")
            aucs = target_aucs(split, scores, block_size=block_size, progress=progress)
            loss, acc = loss_and_accuracy(split, scores)
            if curve_idx is None:
                curve_idx = choose_curve_targets(aucs, targets)
            curve_scores[name] = np.array(scores[:, curve_idx], dtype=np.float32)
            del scores
            if keep_predictions:
                final = outdir / f"predictions_{_safe(name)}.npy"
                tmp.replace(final)
                kept.append(final)
        finally:
            if tmp.exists():
                tmp.unlink()
        results[name] = aucs
        rows[name] = dict(summarize(aucs, loss, acc), checkpoint=str(path), kind=model_kind(ckpt))

    first = next(iter(results.values()))
    summary_models = dict(rows)
    summary_models[ALL_ZEROS] = all_zeros_summary(first)
    for name, r in refs.items():
        summary_models[name] = dict(summarize(r), reference=str(reference))
    everything = dict(results, **refs)
    evaluated = list(results)
    pairs = [(a, b) for i, a in enumerate(everything) for b in list(everything)[i + 1:]
             if a in results or b in results]
    comparisons = []
    for a, b in pairs:
        for metric in ("roc_auc", "pr_auc"):
            comparisons.append(dict(compare_models(getattr(everything[a], metric), getattr(everything[b], metric)),
                                    a=a, b=b, metric=metric))
    summary = {
        "data": split.name, "sequences": len(split), "targets": T, "rc_averaged": bool(rc),
        "positives": int(np.asarray(first.positives).sum()),
        "labels": int(len(split) * T),
        "models": summary_models, "comparisons": comparisons,
        "reference": None if reference is None else {"path": str(reference), "joined_by": joined,
                                                      "models": list(refs)},
        "curve_targets": [targets[i] for i in (curve_idx or [])],
        "predictions": [str(k) for k in kept],
        "bce_eps": BCE_EPS,
    }

    # figures (drawn before anything is written, so a failure leaves no table behind either)
    figures = {}
    fig = Figure(figsize=(11, 4.2))
    axes = fig.subplots(1, 2)
    pm.plot_auc_histogram({k: v.roc_auc for k, v in everything.items()}, "ROC AUC", ax=axes[0])
    pm.plot_auc_histogram({k: v.pr_auc for k, v in everything.items()}, "PR AUC", ax=axes[1])
    figures["auc_histogram.png"] = fig
    for i in curve_idx or []:
        y = _label_column(split, i)
        cols = np.stack([curve_scores[m][:, curve_idx.index(i)] for m in evaluated], axis=1)
        fig = Figure(figsize=(10, 4.2))
        axes = fig.subplots(1, 2)
        pm.plot_roc(y, cols, names=evaluated, title=targets[i], ax=axes[0])
        pm.plot_pr(y, cols, names=evaluated, title=targets[i], ax=axes[1])
        figures[f"curves_{i}_{_safe(targets[i])}.png"] = fig
    for a, b in pairs:
        fig = Figure(figsize=(10, 4.8))
        axes = fig.subplots(1, 2)
        pm.plot_auc_scatter(everything[a].roc_auc, everything[b].roc_auc, a, b, "ROC AUC", ax=axes[0])
        pm.plot_auc_scatter(everything[a].pr_auc, everything[b].pr_auc, a, b, "PR AUC", ax=axes[1])
        figures[f"scatter_{_safe(a)}_vs_{_safe(b)}.png"] = fig
    summary["figures"] = list(figures)

    table = metrics_table(everything, targets)
    with contextlib.ExitStack() as stack:  # every file renamed into place only if all were written
        write_metrics(stack.enter_context(atomic_path(outdir / "metrics.tsv")), table)
        for fname, fig in figures.items():
            fig.savefig(stack.enter_context(atomic_path(outdir / fname)), format="png", dpi=120,
                        bbox_inches="tight")
        write_summary(stack.enter_context(atomic_path(outdir / "summary.json")), summary)
    return summary


def _label_column(split, i: int) -> np.ndarray:
    """(N,) uint8 labels of target i, unpacked in row chunks."""
    return _labels_block(split, i, i + 1)[0].astype(np.uint8)


def model_kind(checkpoint: dict) -> str:
    """The model kind (``danq``, ``lr``, ...) stored in a checkpoint dict, or ``?``.

    Parameters
    ----------
    checkpoint : dict
        As returned by :func:`motifq.models.load_checkpoint`.

    Returns
    -------
    str
    """
    return str((checkpoint.get("model_config") or {}).get("kind", "?"))
