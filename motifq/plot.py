"""Figures: information-content logos, matched pairs, and the clustered-motif heatmaps.

Every function takes ``ax=None`` (or ``axes=None`` for figures with several panels), draws on
what it is given or on a new figure, and returns the Axes. Letter colours are the classic ones
(A green, C blue, G orange, T red); letter heights are ``p * IC`` in bits on the motif's
background (see :mod:`motifq.motif`); matrices are (W, 4) in A, C, G, T order.
"""
from __future__ import annotations

import numpy as np

from .errors import check

__all__ = ["save_figure", "new_axes", "LETTER_COLORS", "NO_COLUMN_COLOR", "plot_logo", "plot_match", "plot_cluster_heatmap", "match_placement",
           "tomtom_placement", "best_matches", "logo_order", "plot_logo_page", "write_logo_pages", "plot_attribution", "plot_grammar_map",
           "write_cluster_folder"]

#: Classic logo colours, A, C, G, T (RGB in 0..1).
LETTER_COLORS = np.array([[0.0, 0.5, 0.0], [0.0, 0.0, 1.0], [1.0, 0.65, 0.0], [1.0, 0.0, 0.0]])
#: Heatmap cells where a motif has no column (outside it in its cluster's alignment): pale blue.
NO_COLUMN_COLOR = (0.85, 0.9, 0.96)


def save_figure(fig, path, dpi: int = 120):
    """Write `fig` as PNG atomically (temp file + rename) and close it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : str or os.PathLike
    dpi : int
        Default is 120.

    Returns
    -------
    pathlib.Path
        `path`.
    """
    from pathlib import Path

    import matplotlib.pyplot as plt

    from .errors import atomic_path

    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return Path(path)


def new_axes(ax=None, figsize=(5, 4.5)):
    """`ax` itself, or the Axes of a new figure of `figsize` when `ax` is None.

    Parameters
    ----------
    ax : matplotlib.axes.Axes or None
        Axes to draw on. Default is None: a new figure.
    figsize : tuple of float
        (width, height) in inches of the new figure. Default is (5, 4.5).

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


_new_axes = new_axes  # the name this module's figures were written with


def _heights_frame(heights, start: int = 0):
    """(W, 4) letter heights A, C, G, T -> the DataFrame logomaker draws (index = positions)."""
    import pandas as pd

    return pd.DataFrame(np.asarray(heights, dtype=float), columns=list("ACGT"),
                        index=np.arange(start, start + len(heights)))


def plot_logo(motif, ax=None, start: int = 0, reverse_complement: bool = False, title: str | None = None,
              pseudocount: float = 0.0):
    """Information-content logo of a motif (logomaker).

    Parameters
    ----------
    motif : Motif
        (W, 4) counts, A, C, G, T.
    ax : matplotlib.axes.Axes or None
        Where to draw. Default is None (a new figure).
    start : int
        x position of the first column (used to align logos). Default is 0.
    reverse_complement : bool
        Draw the reverse complement. Default is False.
    title : str or None
        Axes title. Default is None: ``"<id> <name>"``.
    pseudocount : float
        Pseudocount for the probabilities (see :meth:`Motif.probabilities`). Default is 0.0.

    Returns
    -------
    matplotlib.axes.Axes
        One letter (a patch) per base with non-zero height; y in bits (0 to 2).
    """
    import logomaker
    from matplotlib.ticker import MaxNLocator

    ax = new_axes(ax, (max(3.0, 0.3 * motif.width + 1), 1.8))
    m = motif.reverse_complement() if reverse_complement else motif
    logomaker.Logo(_heights_frame(m.letter_heights(pseudocount), start), ax=ax, color_scheme="classic")
    ax.set_ylim(0, float(np.log2(1 / m.background.min())))
    ax.set_ylabel("bits")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # positions are whole columns
    ax.spines[["top", "right"]].set_visible(False)
    label = f"{motif.id} {motif.name}".strip() + (" (reverse complement)" if reverse_complement else "")
    ax.set_title(label if title is None else title, fontsize=9, loc="left")
    return ax


def match_placement(query_width: int, target_width: int, offset: int, strand: str) -> tuple[int, int]:
    """x starts of a query and its target in a drawn alignment.

    Parameters
    ----------
    query_width, target_width : int
        Widths of the two motifs.
    offset : int
        Column of the query under which the oriented target's column 0 lies (negative: the target
        starts before the query).
    strand : str
        ``+`` or ``-``: orientation of the target (``-`` = its reverse complement is drawn).

    Returns
    -------
    (int, int)
        x of the query's first column and of the (oriented) target's first column, the smaller
        being 0.
    """
    check(strand in ("+", "-"), f"strand: expected + or -, got {strand!r}")
    q, t = max(0, -int(offset)), max(0, int(offset))
    return q, t


def tomtom_placement(query_width: int, target_width: int, optimal_offset: int, orientation: str) -> int:
    """Convert a Tomtom-style ``Optimal_offset`` into the offset :func:`plot_match` takes.

    Tomtom (and :func:`motifq.compare.compare`) report ``Optimal_offset = o`` when query column
    ``i`` is aligned with column ``i + o`` of the target as reported (its reverse complement when
    ``Orientation`` is ``-``). So the oriented target's column 0 lies under query column ``-o``.

    Parameters
    ----------
    query_width, target_width : int
        Widths of the query and the target.
    optimal_offset : int
        Tomtom's ``Optimal_offset``.
    orientation : str
        Tomtom's ``Orientation``, ``+`` or ``-``.

    Returns
    -------
    int
        Column of the query under which the oriented target's column 0 lies.
    """
    check(orientation in ("+", "-"), f"orientation: expected + or -, got {orientation!r}")
    return -int(optimal_offset)


def plot_match(query, target, offset: int, strand: str = "+", pvalue: float | None = None,
               evalue: float | None = None, axes=None):
    """A motif above its matching known motif, aligned (the DanQ paper's Figure 4a).

    Parameters
    ----------
    query : Motif
        The learned motif, (W, 4) counts, A, C, G, T; drawn on top as it is.
    target : Motif
        The known motif; drawn below, reverse-complemented when `strand` is ``-``.
    offset : int
        Column of the query under which the oriented target's column 0 lies (see
        :func:`match_placement`).
    strand : str
        ``+`` or ``-``. Default is ``+``.
    pvalue, evalue : float or None
        Shown in the target's title when given. Default is None.
    axes : sequence of two matplotlib.axes.Axes or None
        Top and bottom Axes. Default is None (a new figure with two rows).

    Returns
    -------
    numpy.ndarray of two matplotlib.axes.Axes
        Top (query) and bottom (target), with the same x range.
    """
    import matplotlib.pyplot as plt

    qs, ts = match_placement(query.width, target.width, offset, strand)
    if axes is None:
        width = max(qs + query.width, ts + target.width)
        _, axes = plt.subplots(2, 1, figsize=(max(3.0, 0.3 * width + 1), 3.4), sharex=True)
    axes = np.asarray(axes).ravel()
    check(len(axes) == 2, f"axes: expected two Axes, got {len(axes)}")
    plot_logo(query, ax=axes[0], start=qs)
    stats = []
    if pvalue is not None:
        stats.append(f"p = {pvalue:.2g}")
    if evalue is not None:
        stats.append(f"E = {evalue:.2g}")
    title = f"{target.id} {target.name}".strip() + (" (-)" if strand == "-" else "")
    if stats:
        title += "  " + ", ".join(stats)
    plot_logo(target, ax=axes[1], start=ts, reverse_complement=strand == "-", title=title)
    right = max(qs + query.width, ts + target.width)
    axes[0].tick_params(labelbottom=False)
    for ax in axes:
        ax.set_xlim(-0.5, right - 0.5)
    return axes


def _letter_rgb(heights, max_bits: float = 2.0):
    """(n, W, 4) letter heights (NaN where absent) -> (n, W, 3) RGB: each cell is the mix of its
    letters' colours weighted by their heights, blended with white by IC / max_bits."""
    h = np.nan_to_num(heights)
    total = h.sum(axis=2, keepdims=True)  # (n, W, 1) = IC
    with np.errstate(invalid="ignore", divide="ignore"):
        mix = np.where(total > 0, (h @ LETTER_COLORS) / np.where(total > 0, total, 1), 1.0)
    a = np.clip(total / max_bits, 0, 1)
    rgb = 1.0 - a * (1.0 - mix)
    rgb[np.isnan(heights).all(axis=2)] = NO_COLUMN_COLOR  # the motif has no column here
    return rgb


def plot_cluster_heatmap(result, axes=None, color_by: str = "letter", labels: bool | None = None):
    """Dendrogram beside the aligned motifs as a heatmap (the DanQ paper's Figure 4b/c).

    Each row is one motif, in dendrogram order, placed with its cluster's strand and offset
    (see :mod:`motifq.cluster`); rows of one cluster share columns, and thin lines separate
    clusters.

    Parameters
    ----------
    result : ClusterResult
        From :func:`motifq.cluster.cluster_motifs`.
    axes : sequence of two matplotlib.axes.Axes or None
        The dendrogram's and the heatmap's Axes. Default is None (a new figure).
    color_by : str
        ``letter``: each cell mixes its letters' colours (A green, C blue, G orange, T red) by
        their heights ``p * IC``, faded to white for low information. ``position``: each cell is
        the column's total information content in bits (0 to 2, grey scale). Cells outside a
        motif are pale blue (:data:`NO_COLUMN_COLOR`). Default is ``letter``.
    labels : bool or None
        Write motif IDs beside the rows. Default is None: when there are at most 80 motifs.

    Returns
    -------
    numpy.ndarray of two matplotlib.axes.Axes
        The dendrogram and the heatmap (one image, n motifs high).
    """
    import matplotlib.pyplot as plt
    from scipy.cluster.hierarchy import dendrogram

    check(color_by in ("letter", "position"), f"color-by: {color_by!r} is not letter or position")
    from .cluster import aligned_matrix

    motifs = result.motifs
    n = len(motifs)
    if axes is None:
        fig = plt.figure(figsize=(9, min(80.0, max(3.0, 0.12 * n + 1))))
        gs = fig.add_gridspec(1, 2, width_ratios=[1, 3], wspace=0.02)
        axes = [fig.add_subplot(gs[0]), fig.add_subplot(gs[1])]
    axes = np.asarray(axes).ravel()
    check(len(axes) == 2, f"axes: expected two Axes, got {len(axes)}")
    ax_tree, ax_heat = axes
    if n > 1:
        dn = dendrogram(result.linkage, orientation="left", ax=ax_tree, no_labels=True,
                        color_threshold=0, above_threshold_color="black")
        order = np.array(dn["leaves"])
    else:
        order = np.array([0])
    ax_tree.set_ylim(0, 10 * n)
    ax_tree.axis("off")

    heights = aligned_matrix([motifs[i] for i in order], result.strand[order], result.offset[order], values="heights")
    if color_by == "letter":
        ax_heat.imshow(_letter_rgb(heights), aspect="auto", origin="lower", interpolation="nearest",
                       extent=(0, heights.shape[1], 0, 10 * n))
    else:
        ic = heights.sum(axis=2)  # NaN stays NaN where no column
        cmap = plt.get_cmap("Greys").with_extremes(bad=NO_COLUMN_COLOR)
        ax_heat.imshow(np.ma.masked_invalid(ic), aspect="auto", origin="lower", interpolation="nearest",
                       cmap=cmap, vmin=0, vmax=2, extent=(0, heights.shape[1], 0, 10 * n))
    ax_heat.set_ylim(0, 10 * n)
    lab = result.labels[order]
    for r in np.flatnonzero(lab[1:] != lab[:-1]):
        ax_heat.axhline(10 * (r + 1), color="0.4", lw=0.4)
    ax_heat.set_yticks([])
    ax_heat.set_xlabel("aligned position")
    if labels is None:
        labels = n <= 80
    if labels:
        ax_heat.yaxis.tick_right()
        ax_heat.set_yticks(10 * np.arange(n) + 5)
        ax_heat.set_yticklabels([f"{motifs[i].id} {motifs[i].name}".strip() for i in order], fontsize=6)
    ax_heat.set_title("letter information content" if color_by == "letter" else "position information content (bits)",
                      fontsize=9)
    return axes


# ---------------------------------------------------------------------------------------------
# logo pages (motifq logos)
# ---------------------------------------------------------------------------------------------
def best_matches(rows, targets: dict, widths: dict | None = None) -> dict:
    """The best (smallest E-value) row of a matches table for each query whose target is known.

    Parameters
    ----------
    rows : list of dict
        Rows of :func:`motifq.formats.read_matches` (``Query_ID``, ``Target_ID``,
        ``Optimal_offset``, ``p-value``, ``E-value``, ``Orientation``).
    targets : dict of str -> Motif
        The database, by id; rows naming other targets are left out.
    widths : dict of str -> int or None
        Query widths by id: a row whose offset leaves no column aligned is an error.
        Default is None (not checked).

    Returns
    -------
    dict of str -> dict
        Query id -> its best row.
    """
    best: dict = {}
    for row in sorted(rows, key=lambda r: r["E-value"]):
        q, t = str(row["Query_ID"]), str(row["Target_ID"])
        if q in best or t not in targets:
            continue
        if widths is not None and q in widths:
            o, w, tw = row["Optimal_offset"], widths[q], targets[t].width
            check(-w < o < tw, f"matches: {q} vs {t}: Optimal_offset {o} leaves no column aligned "
                               f"(query width {w}, target width {tw})")
        best[q] = row
    return best


def logo_order(motifs, best: dict, top: int | None = None) -> list:
    """Indices of `motifs` to draw: those with a match first by E-value, else by total
    information content (largest first); at most `top`.

    Parameters
    ----------
    motifs : list of Motif
    best : dict of str -> dict
        From :func:`best_matches` (may be empty).
    top : int or None
        Default is None (all).

    Returns
    -------
    list of int
    """
    ids = [m.id for m in motifs]
    if best:
        order = sorted(range(len(motifs)), key=lambda i: (ids[i] not in best,
                                                          float(best[ids[i]]["E-value"]) if ids[i] in best else 0.0))
    else:
        order = sorted(range(len(motifs)), key=lambda i: -float(motifs[i].information_content().sum()))
    return order[:top]


def plot_logo_page(motifs, best: dict, targets: dict, cols: int = 2):
    """One page of logos, two per row: a motif with a known match above its target (aligned),
    else its logo alone.

    Parameters
    ----------
    motifs : list of Motif
        The motifs of this page, in order.
    best : dict of str -> dict
        From :func:`best_matches`.
    targets : dict of str -> Motif
        The matches' database, by id.
    cols : int
        Logos per row. Default is 2.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    rows = (len(motifs) + cols - 1) // cols
    fig = plt.figure(figsize=(13, 3.6 * rows))
    gs = fig.add_gridspec(rows, cols, hspace=0.55, wspace=0.15)
    for c, m in enumerate(motifs):
        cell = gs[c // cols, c % cols]
        if m.id not in best:
            plot_logo(m, ax=fig.add_subplot(cell))
            continue
        row = best[m.id]
        target = targets[str(row["Target_ID"])]
        offset = tomtom_placement(m.width, target.width, int(row["Optimal_offset"]), row["Orientation"])
        pair = cell.subgridspec(2, 1, hspace=0.3)
        axes = [fig.add_subplot(pair[0])]
        axes.append(fig.add_subplot(pair[1], sharex=axes[0]))
        plot_match(m, target, offset, row["Orientation"], pvalue=float(row["p-value"]),
                   evalue=float(row["E-value"]), axes=axes)
    return fig


def write_logo_pages(motifs, outdir, best: dict | None = None, targets: dict | None = None, top: int | None = None,
                     per_page: int = 12, title: str = "", progress: bool = False) -> list:
    """Write logo pages ``page_001.png``, ... and an ``index.html`` listing them into `outdir`.

    Parameters
    ----------
    motifs : list of Motif
    outdir : str or os.PathLike
        Created if missing; every file is written atomically.
    best : dict of str -> dict or None
        Best matches by query id (:func:`best_matches`). Default is None (logos alone).
    targets : dict of str -> Motif or None
        The matches' database, by id. Default is None.
    top : int or None
        Only the first `top` motifs of :func:`logo_order`. Default is None (all).
    per_page : int
        Logos per page. Default is 12.
    title : str
        What the index page names (e.g. the motif file). Default is ``""``.
    progress : bool
        Show a progress bar. Default is False.

    Returns
    -------
    list of (str, list of Motif)
        Each page's file name and motifs.
    """
    from pathlib import Path

    from tqdm.auto import tqdm

    check(per_page >= 1, f"per-page: must be at least 1, got {per_page}")
    check(top is None or top >= 1, f"top: must be at least 1, got {top}")
    best, targets = best or {}, targets or {}
    out = Path(outdir)
    order = logo_order(motifs, best, top)
    pages = []
    for p0 in tqdm(range(0, len(order), per_page), desc="pages", unit="page", disable=not progress, leave=False):
        chunk = [motifs[i] for i in order[p0:p0 + per_page]]
        name = f"page_{len(pages) + 1:03d}.png"
        save_figure(plot_logo_page(chunk, best, targets), out / name)
        pages.append((name, chunk))
    _write_logo_index(out / "index.html", pages, title, len(order),
                      sum(motifs[i].id in best for i in order) if targets else None)
    return pages


def _write_logo_index(path, pages, title: str, n: int, n_matched) -> None:
    import html

    from .errors import atomic_write

    with atomic_write(path) as fh:
        fh.write("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>motifq logos</title></head><body>\n")
        fh.write(f"<h1>Logos of {html.escape(str(title))}</h1>\n<p>{n} motifs"
                 + (f", {n_matched} with a known match" if n_matched is not None else "") + "</p>\n")
        for name, ms in pages:
            fh.write(f"<h2>{name}</h2>\n<p>{html.escape(', '.join(m.id for m in ms))}</p>\n"
                     f"<img src=\"{name}\" alt=\"{name}\" style=\"max-width:100%\">\n")
        fh.write("</body></html>\n")


def write_cluster_folder(result, outdir) -> list:
    """Write a clustering's files into `outdir`: ``clusters.tsv`` (one row per motif),
    ``summaries.meme`` (one aligned summary motif per cluster) and the two heatmaps
    ``tree_letters.png`` (coloured by letter) and ``tree_ic.png`` (by information content).

    Parameters
    ----------
    result : motifq.cluster.ClusterResult
        From :func:`motifq.cluster.cluster_motifs`.
    outdir : str or os.PathLike
        Created if missing; every file is written atomically.

    Returns
    -------
    list of str
        The file names written.
    """
    from pathlib import Path

    from .cluster import clusters_table
    from .errors import atomic_write
    from .formats import write_meme

    out = Path(outdir)
    with atomic_write(out / "clusters.tsv") as fh:
        clusters_table(result).to_csv(fh, sep="\t", index=False)
    write_meme(out / "summaries.meme", result.summaries)
    names = ["clusters.tsv", "summaries.meme"]
    for kind, name in (("letter", "tree_letters.png"), ("position", "tree_ic.png")):
        axes = plot_cluster_heatmap(result, color_by=kind)
        save_figure(axes[0].figure, out / name)
        names.append(name)
    return names
def plot_attribution(attr, tokens=None, ax=None, start: int = 0, title: str | None = None):
    """Attribution logo of one sequence (logomaker): letters as tall as their attribution,
    above the axis when they raise the prediction, below when they lower it.

    Parameters
    ----------
    attr : (4, L) float array
        Attributions, A, C, G, T (one row of :func:`motifq.attribute.attribute`'s output).
    tokens : (L,) int array or None
        The sequence, 0..3 = A, C, G, T; 4 = N. When given, only each position's observed base
        is drawn, with the height of its attribution (0 at ``N``); when None, all four bases
        are drawn, stacked (the hypothetical view of ISM and saliency). Default is None.
    ax : matplotlib.axes.Axes or None
        Where to draw. Default is None (a new figure).
    start : int
        x position of the first column. Default is 0.
    title : str or None
        Axes title. Default is None (none).

    Returns
    -------
    matplotlib.axes.Axes
        One letter (a patch) per non-zero value; y in the attribution's units.
    """
    import logomaker

    a = np.asarray(attr, dtype=float)
    check(a.ndim == 2 and a.shape[0] == 4, f"attributions: must be (4, L), got shape {a.shape}")
    if tokens is not None:
        t = np.asarray(tokens).astype(np.int64)
        check(t.shape == (a.shape[1],), f"tokens: must be ({a.shape[1]},), got shape {t.shape}")
        a = a * (np.arange(4)[:, None] == t[None, :])
    L = a.shape[1]
    ax = _new_axes(ax, (min(24.0, max(4.0, 0.08 * L + 1)), 1.8))
    logomaker.Logo(_heights_frame(a.T, start), ax=ax, color_scheme="classic", flip_below=False)
    ax.axhline(0, color="0.6", lw=0.5)
    ax.set_ylabel("attribution")
    ax.spines[["top", "right"]].set_visible(False)
    if title:
        ax.set_title(title, fontsize=9, loc="left")
    return ax


# ---------------------------------------------------------------------------------------------
# grammar maps
# ---------------------------------------------------------------------------------------------
def plot_grammar_map(table, first: str, second: str, target, ax=None, value: str = "interaction", vmax=None,
                     title: str | None = None, window=None):
    """Heatmap of one order of a pair's grammar map: the four strand combinations x gap.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows of :func:`motifq.grammar.pair_map` (columns ``first second first_strand second_strand
        gap target effect interaction ci_low ci_high``).
    first, second : str
        The order to draw (motif IDs as in the table).
    target : str or int
        The ``target`` value to draw.
    ax : matplotlib.axes.Axes or None
        Default is None: a new figure.
    value : str
        ``interaction`` or ``effect``. Default is ``interaction``.
    vmax : float or None
        Colour scale limit (symmetric around 0). Default is None: the largest |value| drawn.
    title : str or None
        Default is None: ``"<first> then <second>, <target>"``.
    window : (int, int) or None
        A gap range to outline (e.g. a planted rule's). Default is None.

    Returns
    -------
    matplotlib.axes.Axes
        Rows ``++ +- -+ --`` (first strand, second strand), columns gaps in bp; a diverging
        colour map centred on 0; cells whose 95 % CI excludes 0 are dotted.
    """
    from .grammar import ORIENTATIONS

    t = table[(table["first"] == first) & (table["second"] == second) & (table["target"] == target)]
    check(len(t) > 0, f"grammar map: no rows for {first} then {second}, target {target}")
    gaps = np.sort(t["gap"].unique())
    grid = np.full((len(ORIENTATIONS), len(gaps)), np.nan)
    sig = np.zeros_like(grid, dtype=bool)
    col = {g: j for j, g in enumerate(gaps)}
    for i, (s1, s2) in enumerate(ORIENTATIONS):
        rows = t[(t["first_strand"] == s1) & (t["second_strand"] == s2)]
        for r in rows.itertuples(index=False):
            grid[i, col[r.gap]] = getattr(r, value)
            sig[i, col[r.gap]] = (r.ci_low > 0) or (r.ci_high < 0)
    ax = _new_axes(ax, (max(4.0, 0.06 * len(gaps) + 2), 2.2))
    lim = float(np.nanmax(np.abs(grid))) if vmax is None else float(vmax)
    lim = lim if lim > 0 else 1.0
    step = gaps[1] - gaps[0] if len(gaps) > 1 else 1
    extent = (gaps[0] - step / 2, gaps[-1] + step / 2, len(ORIENTATIONS) - 0.5, -0.5)
    im = ax.imshow(grid, aspect="auto", cmap="RdBu_r", vmin=-lim, vmax=lim, extent=extent, interpolation="nearest")
    ys, xs = np.nonzero(sig & (value == "interaction"))
    ax.scatter(gaps[xs], ys, s=2, c="k", marker=".")
    if window is not None:
        from matplotlib.patches import Rectangle

        ax.add_patch(Rectangle((window[0] - step / 2, -0.5), window[1] - window[0] + step, len(ORIENTATIONS),
                               fill=False, lw=1.2, ls="--", ec="k"))
    ax.set_yticks(range(len(ORIENTATIONS)))
    ax.set_yticklabels([f"{s1}{s2}" for s1, s2 in ORIENTATIONS])
    ax.set_xlabel("gap (bp): start of the second - end of the first")
    ax.set_ylabel("strands")
    ax.set_title(title if title is not None else f"{first} then {second}, {target}", fontsize=9)
    ax.figure.colorbar(im, ax=ax, fraction=0.03, pad=0.01, label=f"{value} (logit)")
    return ax
