"""Files and figures of a whole run: the evaluation folder, logo pages, attribution logos, the
grammar folder.

:func:`evaluate_models` is ``motifq evaluate``: it scores checkpoints on a split with the steps
of :mod:`motifq.evaluate` and writes the tables and the figures of :mod:`motifq.plot_metrics`
into one folder, each file renamed into place only when all of them were written.
:func:`write_logos` is ``motifq logos``, :func:`write_attribution_logos` ``motifq attribute
--plot``, :func:`write_grammar` and :func:`write_marginal` the files of ``motifq grammar``.

Sequences are tokens in A, C, G, T order (0..3, 4 = N); labels are 0/1, one column per target,
in the data's target order.
"""
from __future__ import annotations

import contextlib
import logging
from pathlib import Path

import numpy as np

from .errors import MotifqError, atomic_path, check, check_file
from .evaluate import (EvalOptions, choose_curve_targets, evaluation_summary, file_stem, metrics_table, model_names,
                       model_pairs, read_reference, score_checkpoint, write_metrics, write_summary)
from .metrics import label_column

__all__ = ["evaluate_models", "evaluation_figures", "write_evaluation", "write_logos", "write_attribution_logos",
           "write_marginal", "write_grammar", "grammar_map_name"]

log = logging.getLogger("motifq")


def evaluate_models(checkpoints, split, outdir, rc: bool = True, batch_size: int = 256, device=None,
                    reference=None, curves=None, block_size: int = 128, dtype: str = "float32",
                    keep_predictions: bool = False, progress: bool = False) -> dict:
    """Evaluate checkpoints on a split as the paper did, and write tables and figures.

    For each model: predictions (mean of forward and reverse-complement strands unless `rc` is
    False) stream to a memory-mapped ``.npy`` file in `outdir` (removed afterwards unless
    `keep_predictions`), then per-target ROC AUC and PR AUC (:func:`motifq.evaluate.target_aucs`)
    and the mean loss and accuracy (:func:`motifq.evaluate.loss_and_accuracy`). Files written
    (each atomically, after all models are done):

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
        A TSV of published per-target AUCs (see :func:`motifq.evaluate.read_reference`), drawn as
        more models. Default is None.
    curves : list of str or None
        Targets (names or indices) to draw curves for. Default is None: four spread across the
        first model's PR AUC range.
    block_size : int
        Targets per block in :func:`motifq.evaluate.target_aucs`. Default is 128.
    dtype : str
        Storage of the streamed predictions, ``float32`` or ``float16``. Default is ``float32``.
    keep_predictions : bool
        Keep ``predictions_<model>.npy`` (N, T) in `outdir`. Default is False.
    progress : bool
        Show progress bars. Default is False. Status lines go to the ``motifq`` logger at
        level INFO.

    Returns
    -------
    dict
        The summary written to ``summary.json``.
    """
    models, refs, joined, curve_targets = _checked_inputs(checkpoints, split, reference, curves)
    options = EvalOptions(rc=rc, batch_size=batch_size, device=device or "cpu", block_size=block_size,
                          dtype=dtype, keep_predictions=keep_predictions, progress=progress)
    outdir = Path(outdir)
    created = not outdir.exists()
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MotifqError(f"{outdir}: cannot create folder ({exc.strerror})") from None
    try:
        summary = _evaluate_into(outdir, models, split, (refs, reference, joined), curve_targets, options)
    except BaseException:
        if created and outdir.is_dir() and not any(outdir.iterdir()):
            outdir.rmdir()                            # a failed run leaves no empty folder behind
        raise
    log.info(f"wrote {outdir / 'metrics.tsv'}, {outdir / 'summary.json'} and {len(summary['figures'])} figures")
    return summary


def _checked_inputs(checkpoints, split, reference, curves):
    """Everything checked before any work: models -> paths, the reference's AUCs, the curve targets."""
    models = model_names(checkpoints)
    check(models, "models: no checkpoint given")
    for p in models.values():
        check_file(p)
    targets = list(split.targets)
    check(len(split) > 0, f"{split.name or 'data'}: no sequences")
    refs, joined = ({}, None)
    if reference is not None:
        refs, joined = read_reference(reference, targets)
        refs = {(f"{k} (reference)" if k in models else k): v for k, v in refs.items()}
    curve_targets = choose_curve_targets(None, targets, curves) if curves else None
    return models, refs, joined, curve_targets


def _evaluate_into(outdir, models, split, reference, curve_targets, options) -> dict:
    """Score every model, then draw the figures and write every file of `outdir` (which exists).

    `reference` is (the reference models' AUCs, the reference file, how it was joined)."""
    refs, ref_path, joined = reference
    scored = {}
    for name, path in models.items():
        scored[name] = score_checkpoint(name, path, split, outdir, curve_targets, options)
        curve_targets = scored[name].curve_targets            # the first model chooses them
    summary = evaluation_summary(split, scored, refs, options.rc, ref_path, joined, curve_targets)
    results = dict({name: s.aucs for name, s in scored.items()}, **refs)
    # figures drawn before anything is written, so a failure leaves no table behind either
    figures = evaluation_figures(split, results, scored, curve_targets)
    summary["figures"] = list(figures)
    write_evaluation(outdir, metrics_table(results, list(split.targets)), figures, summary)
    return summary


def evaluation_figures(split, results: dict, scored: dict, curve_targets) -> dict:
    """Every figure of an evaluation folder, drawn but not written.

    Parameters
    ----------
    split : motifq.data.Split
        The data (0/1 labels (N, T), read for the curves).
    results : dict of str -> TargetAUCs
        Every model's per-target metrics: the evaluated ones, then the references.
    scored : dict of str -> motifq.evaluate.ModelScores
        The evaluated models (their ``curve_scores`` (N, C) for the curve targets).
    curve_targets : list of int or None
        Target indices to draw ROC and PR curves for.

    Returns
    -------
    dict of str -> matplotlib.figure.Figure
        File name -> figure: ``auc_histogram.png``, ``curves_<i>_<target>.png``,
        ``scatter_<A>_vs_<B>.png`` for every pair that involves an evaluated model.
    """
    figures = {"auc_histogram.png": _histogram_figure(results)}
    targets = list(split.targets)
    for i in curve_targets or []:
        figures[f"curves_{i}_{file_stem(targets[i])}.png"] = _curves_figure(split, scored, curve_targets, i)
    for a, b in model_pairs(results, scored):
        figures[f"scatter_{file_stem(a)}_vs_{file_stem(b)}.png"] = _scatter_figure(results, a, b)
    return figures


def _histogram_figure(results):
    """ROC AUC and PR AUC histograms of every model, side by side."""
    from matplotlib.figure import Figure

    from . import plot_metrics as pm

    fig = Figure(figsize=(11, 4.2))
    axes = fig.subplots(1, 2)
    pm.plot_auc_histogram({k: v.roc_auc for k, v in results.items()}, "ROC AUC", ax=axes[0])
    pm.plot_auc_histogram({k: v.pr_auc for k, v in results.items()}, "PR AUC", ax=axes[1])
    return fig


def _curves_figure(split, scored, curve_targets, i):
    """ROC and PR curves of target `i`, one line per evaluated model."""
    from matplotlib.figure import Figure

    from . import plot_metrics as pm

    names = list(scored)
    y = label_column(split, i)
    cols = np.stack([scored[m].curve_scores[:, curve_targets.index(i)] for m in names], axis=1)
    title = list(split.targets)[i]
    fig = Figure(figsize=(10, 4.2))
    axes = fig.subplots(1, 2)
    pm.plot_roc(y, cols, names=names, title=title, ax=axes[0])
    pm.plot_pr(y, cols, names=names, title=title, ax=axes[1])
    return fig


def _scatter_figure(results, a, b):
    """Model `a` against model `b`, target by target: ROC AUC and PR AUC panels."""
    from matplotlib.figure import Figure

    from . import plot_metrics as pm

    fig = Figure(figsize=(10, 4.8))
    axes = fig.subplots(1, 2)
    pm.plot_auc_scatter(results[a].roc_auc, results[b].roc_auc, a, b, "ROC AUC", ax=axes[0])
    pm.plot_auc_scatter(results[a].pr_auc, results[b].pr_auc, a, b, "PR AUC", ax=axes[1])
    return fig


def write_evaluation(outdir, table, figures: dict, summary: dict) -> None:
    """Write ``metrics.tsv``, the figures and ``summary.json``; each is renamed into place only if all were written.

    Parameters
    ----------
    outdir : str or os.PathLike
        An existing folder.
    table : pandas.DataFrame
        From :func:`motifq.evaluate.metrics_table`.
    figures : dict of str -> matplotlib.figure.Figure
        File name -> figure, saved as PNG at 120 dpi.
    summary : dict
        Written as JSON (:func:`motifq.evaluate.write_summary`).
    """
    outdir = Path(outdir)
    with contextlib.ExitStack() as stack:
        write_metrics(stack.enter_context(atomic_path(outdir / "metrics.tsv")), table)
        for fname, fig in figures.items():
            fig.savefig(stack.enter_context(atomic_path(outdir / fname)), format="png", dpi=120,
                        bbox_inches="tight")
        write_summary(stack.enter_context(atomic_path(outdir / "summary.json")), summary)


# ---------------------------------------------------------------------------------------------
# logo pages (motifq logos)
# ---------------------------------------------------------------------------------------------
def write_logos(motifs, outdir, matches=None, db=None, top: int | None = None, per_page: int = 12, title: str = "",
                progress: bool = False) -> list:
    """Write logo pages of `motifs`, each beside its best known match, and an ``index.html``.

    Parameters
    ----------
    motifs : list of Motif
        Counts (W, 4) in A, C, G, T order.
    outdir : str or os.PathLike
        Output folder (created; files written atomically).
    matches : str, os.PathLike or None
        A Tomtom-style table (:func:`motifq.formats.read_matches`): ``motifq compare -o``,
        ``extract-motifs --match``. Default is None: logos alone.
    db : str, os.PathLike or None
        The database the matches' targets come from (a motif file or bundled name). Default is
        None: the table's ``# database:`` line.
    top : int or None
        Only the `top` motifs with the best matches (or the most information). Default is None: all.
    per_page : int
        Logos per PNG page. Default is 12.
    title : str
        Title of ``index.html``. Default is ``""``.
    progress : bool
        A progress bar over the pages. Default is False.

    Returns
    -------
    list of str
        The page files written.
    """
    from .formats import read_matches
    from .jaspar import load_motifs
    from .plot import best_matches, write_logo_pages

    best, targets = {}, None
    if matches:
        rows, db_name = read_matches(matches)
        db_name = db or db_name
        check(db_name is not None, f"{matches}: no '# database:' line; say which database with --db")
        targets = {}
        for m in load_motifs(db_name):
            targets.setdefault(m.id, m)
        best = best_matches(rows, targets, widths={m.id: m.width for m in motifs})
    return write_logo_pages(motifs, outdir, best, targets, top=top, per_page=per_page, title=title, progress=progress)


# ---------------------------------------------------------------------------------------------
# attribution logos (motifq attribute --plot)
# ---------------------------------------------------------------------------------------------
def write_attribution_logos(result, output, k: int) -> list:
    """Logos of the `k` sequences with the highest logit, beside `output`: ``<stem>.logo<rank>.png``.

    Parameters
    ----------
    result : motifq.attribute.Attributions
        Tokens (N, L) in A, C, G, T order, attributions (N, 4, L), logits (N,).
    output : str or os.PathLike
        The attributions file the logos go beside.
    k : int
        How many sequences (at most N).

    Returns
    -------
    list of pathlib.Path
        The PNG files, best logit first.
    """
    import matplotlib.pyplot as plt

    from .plot import plot_attribution, save_figure

    out, paths = Path(output), []
    for rank, i in enumerate(np.argsort(-result.logits, kind="stable")[:k], 1):
        fig, ax = plt.subplots(figsize=(min(24.0, 0.08 * result.tokens.shape[1] + 1), 2.0))
        plot_attribution(result.attributions[i], result.tokens[i], ax=ax,
                         title=f"{result.names[i]}: {result.target} logit {result.logits[i]:.2f} ({result.method})")
        paths.append(save_figure(fig, out.with_name(f"{out.stem}.logo{rank}.png"), dpi=100))
    return paths


# ---------------------------------------------------------------------------------------------
# the grammar folder (motifq grammar)
# ---------------------------------------------------------------------------------------------
def write_marginal(outdir, table) -> Path:
    """Write a :func:`motifq.grammar.marginal` table as ``marginal.tsv`` in `outdir` (created).

    Parameters
    ----------
    outdir : str or os.PathLike
    table : pandas.DataFrame
        Columns :data:`motifq.grammar.MARGINAL_COLUMNS`.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    from .errors import atomic_write

    path = Path(outdir) / "marginal.tsv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as fh:
        table.to_csv(fh, sep="\t", index=False, float_format="%.6g")
    return path


def write_grammar(outdir, maps, n_figures: int = 3) -> list:
    """Write the pair maps of :func:`motifq.grammar.pair_maps` into `outdir` (created).

    Files: ``grammar.tsv`` (every pair, target, order, strands and gap), ``pairs.tsv`` (the pairs
    ranked by :func:`motifq.grammar.rank_pairs`), ``verdicts.txt`` (one line per pair) and
    ``map_<A>_<B>.png`` for the `n_figures` best-ranked pairs (both orders, one target: the
    chosen one, else the pair's strongest).

    Parameters
    ----------
    outdir : str or os.PathLike
    maps : motifq.grammar.PairMaps
        Tables by pair, the ranking, the verdict lines and the chosen target.
    n_figures : int
        Figures of the best-ranked pairs. Default is 3.

    Returns
    -------
    list of str
        The file names written, figures last.
    """
    import pandas as pd

    from .errors import atomic_write

    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_write(out / "grammar.tsv") as fh:
        pd.concat(maps.tables.values()).to_csv(fh, sep="\t", index=False, float_format="%.6g")
    with atomic_write(out / "pairs.tsv") as fh:
        maps.ranked.to_csv(fh, sep="\t", index=False, float_format="%.6g")
    with atomic_write(out / "verdicts.txt") as fh:
        fh.write("\n".join(maps.verdicts) + "\n")
    names = ["grammar.tsv", "pairs.tsv", "verdicts.txt"]
    for r in maps.ranked.head(n_figures).itertuples(index=False):
        table = maps.tables[(r.motif_a, r.motif_b)]
        names.append(_write_pair_figure(out, table, r.motif_a, r.motif_b, maps.target or r.target))
    return names


def grammar_map_name(a: str, b: str) -> str:
    """The file :func:`write_grammar` draws the pair of motif IDs `a`, `b` into."""
    return f"map_{a}_{b}.png"


def _write_pair_figure(out: Path, table, a: str, b: str, target) -> str:
    """``map_<a>_<b>.png``: the interaction map of both orders of a pair for one target."""
    import matplotlib.pyplot as plt

    from .plot import plot_grammar_map, save_figure

    fig, axes = plt.subplots(2, 1, figsize=(9, 5), constrained_layout=True)
    lim = float(table[table["target"] == target]["interaction"].abs().max()) or 1.0
    for ax, (f, s) in zip(axes, ((a, b), (b, a))):
        plot_grammar_map(table, f, s, target, ax=ax, vmax=lim)
    save_figure(fig, out / grammar_map_name(a, b))
    return grammar_map_name(a, b)
