"""Evaluate like the paper: per-target ROC AUC and PR AUC, Table S1 loss and accuracy, tables.

Metrics
    Computed by :mod:`motifq.metrics` (per-target ROC AUC and PR AUC equal to scikit-learn's,
    NaN for one-class targets; curves; loss and accuracy) and re-exported here.

Steps of an evaluation
    :func:`score_checkpoint` loads a checkpoint, predicts a split (mean of the forward and the
    reverse-complement strand), streams the (N, T) predictions to a memory-mapped ``.npy`` file and
    scores them; :func:`evaluation_summary` gathers the Table S1 rows and the comparisons;
    :func:`metrics_table`, :func:`write_metrics` and :func:`write_summary` make the tables.
    The folder of a whole run, figures included, is written by
    :func:`motifq.report.evaluate_models`. This module draws nothing.

Labels are 0/1, one column per target, in the data's target order; sequences are tokens in
A, C, G, T order (0..3, 4 = N), see :mod:`motifq.sequence`.
"""
from __future__ import annotations

import json
import logging
import math
import os
import re
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .errors import MotifqError, atomic_write, check, check_file
from .metrics import (BCE_EPS, TargetAUCs, average_precision, label_column, loss_and_accuracy,  # noqa: F401
                      pr_curve, roc_auc, roc_curve, target_aucs)

__all__ = ["TargetAUCs", "roc_auc", "average_precision", "roc_curve", "pr_curve", "target_aucs",
           "loss_and_accuracy", "summarize", "all_zeros_summary", "compare_models", "metrics_table",
           "write_metrics", "write_summary", "read_reference", "choose_curve_targets", "predict_split",
           "model_names", "file_stem", "EvalOptions", "ModelScores", "load_for_split", "score_checkpoint",
           "model_pairs", "pairwise_comparisons", "evaluation_summary", "model_kind", "ALL_ZEROS", "BCE_EPS"]

log = logging.getLogger("motifq")

ALL_ZEROS = "all-zeros"
"""Name of the baseline that predicts 0 for every target."""


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
    p = check_file(path)
    df = _read_tsv(p)
    targets = list(targets)
    lower = {c.strip().lower(): c for c in df.columns}
    if {"model", "roc_auc", "pr_auc"} <= set(lower):  # long: motifq's metrics.tsv
        cols, tables, names = _long_layout(df, lower)
    else:
        cols, tables, names = _wide_layout(df, lower, p)
    out = {}
    how = set()
    for model, (roc_col, pr_col) in cols.items():
        rows, joined = _reference_rows(p, model, names[model], targets, len(tables[model]))
        how.add(joined)
        roc, pr = (_auc_column(p, tables[model], c, rows, len(targets)) for c in (roc_col, pr_col))
        nan = np.full(len(targets), np.nan)
        out[str(model)] = TargetAUCs(nan, nan.copy(), roc, pr)
    return out, ("name" if how == {"name"} else "order")


def _read_tsv(p):
    """The reference file as a table of strings, or one error line."""
    import pandas as pd

    try:
        return pd.read_csv(p, sep="\t", dtype=str, keep_default_na=False, comment=None)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise MotifqError(f"{p}: not a tab-separated table ({str(exc).splitlines()[0] if str(exc) else exc})") from None


def _long_layout(df, lower):
    """motifq's own metrics.tsv: model -> (ROC column, PR column), its rows, its target names."""
    tables = {m: g for m, g in df.groupby(lower["model"], sort=False)}
    cols = {m: (lower["roc_auc"], lower["pr_auc"]) for m in tables}
    name_col = lower.get("target")
    names = {m: (list(g[name_col]) if name_col else None) for m, g in tables.items()}
    return cols, tables, names


def _wide_layout(df, lower, p):
    """The DanQ authors' layout: ``<model> ROC AUC`` / ``<model> PR AUC`` columns; the others name
    the target. Returns model -> (ROC column, PR column), the rows and the target names per model."""
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
    return cols, {m: df for m in cols}, {m: ref_names for m in cols}


def _reference_rows(p, model, ref_names, targets, n_rows):
    """(row of the reference for each target, ``"name"`` or ``"order"``): by name when every target
    is found, else by order when there are exactly T rows (with a warning when the names disagree)."""
    T = len(targets)
    rows = _join_rows(ref_names, targets) if ref_names is not None else None
    if rows is not None:
        return rows, "name"
    check(n_rows == T, f"{p}: {model}: {n_rows} rows and target names that do not match the data's "
                       f"{T} targets (e.g. {_first_missing(ref_names, targets)!r})")
    if ref_names is not None:
        agree = sum(_normalise(a) == _normalise(b) for a, b in zip(ref_names, targets))
        if 0 < agree < T / 2:
            warnings.warn(f"{p}: {model}: joined by order, but only {agree} of {T} target names agree "
                          f"with the data's; check that the rows are in the data's target order")
    return list(range(T)), "order"


def _auc_column(p, table, col, rows, T):
    """(T,) float64 AUCs of column `col` in target order; NaN for empty and ``NA...`` cells."""
    import pandas as pd

    if col is None:
        return np.full(T, np.nan)
    s = table[col].astype(str).str.strip()
    na = (s.isin(["", "NaN", "nan", "-"]) | s.str.match(r"(?i)n/?a\b")).to_numpy()  # "NA (No positive ...)"
    v = pd.to_numeric(s.where(~na, "nan"), errors="coerce").to_numpy(dtype=np.float64)
    bad = ~na & np.isnan(v)
    check(not bad.any(), f"{p}: column {col!r}: not a number: {s[bad].iloc[0] if bad.any() else ''!r}")
    return v[rows]


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
# the steps: checkpoints -> predictions (forward + reverse complement) -> metrics -> summary
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


def model_names(checkpoints) -> dict:
    """Name each checkpoint: its own name if given as ``NAME=PATH``, else the file's stem.

    Parameters
    ----------
    checkpoints : list of str or dict of str -> path
        Checkpoint files; a list item ``NAME=PATH`` (that is not itself an existing file) names
        the model. Two files with one stem are told apart by their folder (``a/best``).

    Returns
    -------
    dict of str -> pathlib.Path
        Model name to checkpoint path, in the given order.
    """
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


def file_stem(name: str) -> str:
    """`name` (a model or target name) made safe for a file name: runs of other characters -> ``_``.

    Parameters
    ----------
    name : str
        Any name, e.g. ``GM12878|CTCF|None``.

    Returns
    -------
    str
        Letters, digits, ``.``, ``_`` and ``-`` only (``GM12878_CTCF_None``); ``model`` if nothing is left.
    """
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(name)).strip("_") or "model"


@dataclass(frozen=True)
class EvalOptions:
    """How each checkpoint of an evaluation is run and scored.

    Attributes
    ----------
    rc : bool
        Average forward and reverse-complement predictions. Default is True.
    batch_size : int
        Sequences per forward pass. Default is 256.
    device : str or torch.device
        Where to run the models. Default is ``cpu``.
    block_size : int
        Targets per block in :func:`target_aucs`. Default is 128.
    dtype : str
        Storage of the streamed predictions, ``float32`` or ``float16``. Default is ``float32``.
    keep_predictions : bool
        Keep ``predictions_<model>.npy`` (N, T). Default is False.
    progress : bool
        Show progress bars. Default is False.
    """

    rc: bool = True
    batch_size: int = 256
    device: object = "cpu"
    block_size: int = 128
    dtype: str = "float32"
    keep_predictions: bool = False
    progress: bool = False


class ModelScores(NamedTuple):
    """One evaluated checkpoint (see :func:`score_checkpoint`)."""

    aucs: TargetAUCs
    """Per-target metrics, T targets."""
    row: dict
    """Its Table S1 row (:func:`summarize`) with ``checkpoint`` and ``kind``."""
    curve_targets: list
    """Indices of the targets whose curves are drawn."""
    curve_scores: np.ndarray
    """(N, C) float32 probabilities of those C targets."""
    predictions: Path | None
    """The kept ``predictions_<model>.npy``, or None."""


def load_for_split(path, split, device="cpu"):
    """Load a checkpoint and check that it fits the data: same number of targets and sequence length.

    Parameters
    ----------
    path : str or os.PathLike
        A ``motifq train`` checkpoint.
    split : motifq.data.Split
        The data: tokens (N, L) in A, C, G, T order and 0/1 labels (N, T).
    device : str or torch.device
        Where to load the model. Default is ``cpu``.

    Returns
    -------
    model : torch.nn.Module
        In eval mode.
    checkpoint : dict
        As :func:`motifq.models.load_checkpoint`; a warning is given when its target names
        differ from the data's (the data's order is used).
    """
    from .models import load_checkpoint

    targets = list(split.targets)
    T = len(targets)
    model, ckpt = load_checkpoint(path, device=device)
    n_out = int(model.config.n_targets)
    check(n_out == T, f"{path}: the model predicts {n_out} targets, the data has {T}")
    if list(ckpt.get("targets", targets)) != targets:
        warnings.warn(f"{path}: the checkpoint's target names differ from the data's; using the data's order")
    check(model.config.length == split.length or model.config.kind == "lr",
          f"{path}: the model takes {model.config.length}-base sequences, the data has {split.length}")
    return model, ckpt


def score_checkpoint(name: str, path, split, workdir, curve_targets=None,
                     options: EvalOptions | None = None) -> ModelScores:
    """Predict a split with one checkpoint and score it: per-target AUCs, loss and accuracy.

    The (N, T) predictions stream to a temporary ``.npy`` file in `workdir`, renamed to
    ``predictions_<name>.npy`` when ``options.keep_predictions``, removed otherwise.

    Parameters
    ----------
    name : str
        The model's name.
    path : str or os.PathLike
        Its checkpoint.
    split : motifq.data.Split
        Tokens (N, L) in A, C, G, T order and 0/1 labels (N, T).
    workdir : str or os.PathLike
        An existing folder for the streamed predictions.
    curve_targets : list of int or None
        Targets whose scores are kept for curves. Default is None: chosen from this model's PR
        AUCs (:func:`choose_curve_targets`).
    options : EvalOptions or None
        How to run it. Default is None: ``EvalOptions()``. Status lines go to the ``motifq``
        logger at level INFO.

    Returns
    -------
    ModelScores
    """
    options = options or EvalOptions()
    model, ckpt = load_for_split(path, split, options.device)
    log.info(f"{name}: predicting {len(split):,} sequences x {len(split.targets)} targets"
             f"{' (forward + reverse complement)' if options.rc else ''}")
    fd, tmp = tempfile.mkstemp(prefix=f".predictions_{file_stem(name)}.", suffix=".npy", dir=workdir)
    os.close(fd)
    tmp, kept = Path(tmp), None
    try:
        scores = predict_split(model, split, tmp, rc=options.rc, batch_size=options.batch_size,
                               device=options.device, dtype=options.dtype, progress=options.progress)
        del model
        log.info(f"{name}: scoring")
        aucs = target_aucs(split, scores, block_size=options.block_size, progress=options.progress)
        loss, acc = loss_and_accuracy(split, scores)
        if curve_targets is None:
            curve_targets = choose_curve_targets(aucs, list(split.targets))
        curve_scores = np.array(scores[:, curve_targets], dtype=np.float32)
        del scores
        if options.keep_predictions:
            kept = Path(workdir) / f"predictions_{file_stem(name)}.npy"
            tmp.replace(kept)
    finally:
        if tmp.exists():
            tmp.unlink()
    row = dict(summarize(aucs, loss, acc), checkpoint=str(path), kind=model_kind(ckpt))
    return ModelScores(aucs, row, curve_targets, curve_scores, kept)


def model_pairs(names, evaluated) -> list:
    """Every pair of models (in order) that involves at least one evaluated model.

    Parameters
    ----------
    names : list of str
        All models: the evaluated ones, then the references.
    evaluated : collection of str
        The evaluated models.

    Returns
    -------
    list of (str, str)
    """
    names = list(names)
    return [(a, b) for i, a in enumerate(names) for b in names[i + 1:] if a in evaluated or b in evaluated]


def pairwise_comparisons(results: dict, pairs) -> list:
    """:func:`compare_models` on ROC AUC and PR AUC for each pair.

    Parameters
    ----------
    results : dict of str -> TargetAUCs
        Every model's metrics.
    pairs : list of (str, str)
        As :func:`model_pairs`.

    Returns
    -------
    list of dict
        One per pair and metric: :func:`compare_models`'s keys plus ``a``, ``b``, ``metric``.
    """
    out = []
    for a, b in pairs:
        for metric in ("roc_auc", "pr_auc"):
            out.append(dict(compare_models(getattr(results[a], metric), getattr(results[b], metric)),
                            a=a, b=b, metric=metric))
    return out


def evaluation_summary(split, scored: dict, refs: dict, rc: bool = True, reference=None, joined=None,
                       curve_targets=None) -> dict:
    """The ``summary.json`` of an evaluation (without its list of figures).

    Parameters
    ----------
    split : motifq.data.Split
        The data evaluated on (N sequences, T targets).
    scored : dict of str -> ModelScores
        The evaluated models, in order (at least one).
    refs : dict of str -> TargetAUCs
        Published per-target AUCs (:func:`read_reference`), possibly empty.
    rc : bool
        Whether the predictions were forward and reverse-complement means. Default is True.
    reference : str or os.PathLike or None
        The reference file. Default is None.
    joined : str or None
        How the reference was joined (``name`` or ``order``). Default is None.
    curve_targets : list of int or None
        The targets whose curves are drawn. Default is None.

    Returns
    -------
    dict
        ``data``, ``sequences``, ``targets``, ``rc_averaged``, ``positives``, ``labels``,
        ``models`` (Table S1 rows, with ``all-zeros`` and the references), ``comparisons``,
        ``reference``, ``curve_targets``, ``predictions`` and ``bce_eps``.
    """
    first = next(iter(scored.values())).aucs
    models = {name: s.row for name, s in scored.items()}
    models[ALL_ZEROS] = all_zeros_summary(first)
    for name, r in refs.items():
        models[name] = dict(summarize(r), reference=str(reference))
    results = dict({name: s.aucs for name, s in scored.items()}, **refs)
    targets = list(split.targets)
    return {
        "data": split.name, "sequences": len(split), "targets": len(targets),
        "rc_averaged": bool(rc),
        "positives": int(np.asarray(first.positives).sum()),
        "labels": int(len(split) * len(targets)),
        "models": models, "comparisons": pairwise_comparisons(results, model_pairs(results, scored)),
        "reference": None if reference is None else {"path": str(reference), "joined_by": joined,
                                                      "models": list(refs)},
        "curve_targets": [targets[i] for i in (curve_targets or [])],
        "predictions": [str(s.predictions) for s in scored.values() if s.predictions is not None],
        "bce_eps": BCE_EPS,
    }


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
