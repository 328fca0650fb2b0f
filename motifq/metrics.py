"""Per-target ROC AUC and PR AUC, curves, and the multi-task loss and accuracy (pure numpy).

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

Labels are 0/1, one column per target; scores are probabilities (N, T) in the same
target order.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .errors import check

__all__ = ["TargetAUCs", "roc_auc", "average_precision", "roc_curve", "pr_curve", "target_aucs",
           "loss_and_accuracy", "label_column", "BCE_EPS"]

BCE_EPS = 1e-7
"""Probabilities are clipped to [BCE_EPS, 1 - BCE_EPS] in the loss (as Keras does)."""


class TargetAUCs(NamedTuple):
    """Per-target metrics of one model, all arrays of shape (T,), in target order.

    Attributes
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


def label_column(labels, i: int) -> np.ndarray:
    """Labels of one target.

    Parameters
    ----------
    labels : (N, T) 0/1 array or a :class:`motifq.data.dataset.Split` (read from its packed bits).
    i : int
        Target index.

    Returns
    -------
    numpy.ndarray
        (N,) uint8.
    """
    return _labels_block(labels, i, i + 1)[0].astype(np.uint8)


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
