"""In-silico insertion experiments: the marginal effect of a motif, and the grammar of a pair.

What a model learned about the arrangement of two motifs, measured as tangermeme's
``marginalize``/``space`` do, with an interaction term and its uncertainty:

Backgrounds
    N sequences of the model's length L (``simulated``: the simulator's human-like first-order
    Markov chain; or a split of a data set, or a FASTA file, N drawn at random).
Insertions
    Each background gets its own instance of each motif: a sample of the PFM (each column drawn
    independently; ``insert="sample"``) or the most likely letter of each column
    (``"consensus"``); ``-`` is the instance's reverse complement. The same instance is used in
    every arrangement of that background, so differences are paired.
Layout of a pair
    The first motif F (the one to the left on the forward strand) starts at
    ``p0 = (L - (wA + max_gap + wB)) // 2`` and the second S at ``p0 + wF + gap``, with
    ``gap`` = start of the second - end of the first, in bp (0..max_gap). Both orders (A first,
    B first) and the four strand combinations (F +/-, S +/-) are measured: 8 orientations.
    "A then B on the same strand", read along the ``-`` strand, is B(-) then A(-) on the
    forward strand.
Scores
    ``f(x)`` is the model's logit per target, the mean over the sequence and its reverse
    complement. For each background n: ``effect = f(FS) - f(empty)`` and
    ``interaction = f(FS) - f(F) - f(S) + f(empty)`` with F and S alone at the same positions.
    Tables give the mean over backgrounds and a normal 95 % confidence interval of the mean
    of the interaction (``mean +- 1.96 sd / sqrt(N)``). An additive model has interaction 0
    everywhere (exactly, for every background).
Computation
    For a DanQ or its CNN, :func:`pair_map` recomputes only what each insertion changes
    (:mod:`motifq.incremental`: the same numbers as a forward pass of every sequence, up to float32
    rounding); any other model gets a forward pass of every sequence (``method="full"``).
Marginal effect (one motif)
    ``f(A) - f(empty)`` with A at the centre on each strand.
"""
from __future__ import annotations

from itertools import combinations
from typing import NamedTuple

import numpy as np

from .attribute import resolve_target
from .errors import check
from .motif import Motif

__all__ = ["GRAMMAR_COLUMNS", "MARGINAL_COLUMNS", "ORIENTATIONS", "GrammarLayout", "logits", "instances",
           "backgrounds", "layout", "pair_map", "marginal", "verdict", "rank_pairs", "all_pairs", "rule_cells",
           "rule_maps", "parse_motifs", "top_matched", "resolve_target", "PairMaps", "pair_maps", "GrammarInputs",
           "load_inputs"]

#: Columns of ``grammar.tsv``.
GRAMMAR_COLUMNS = ("first", "second", "first_strand", "second_strand", "gap", "target", "effect", "interaction",
                   "ci_low", "ci_high")
#: Columns of ``marginal.tsv``.
MARGINAL_COLUMNS = ("motif", "strand", "target", "effect", "ci_low", "ci_high")
#: The four strand combinations of a pair, (first, second).
ORIENTATIONS = (("+", "+"), ("+", "-"), ("-", "+"), ("-", "-"))
_Z95 = 1.959963984540054


class GrammarLayout(NamedTuple):
    """Where a pair goes: the first motif's start ``p0`` and the gaps measured (bp)."""

    p0: int
    gaps: np.ndarray


# ---------------------------------------------------------------------------------------------
# which motifs
# ---------------------------------------------------------------------------------------------
def parse_motifs(spec: str) -> list:
    """Motifs named on the command line: ``A,B`` where each is a bundled name or ID
    (``jaspar2024:MA0080.7``, ``jaspar2024:SPI1,ESRRB``) or a MEME/JASPAR file (all its motifs).

    Parameters
    ----------
    spec : str
        Comma-separated; a part without a release after a bundled part is looked up in that
        release (``jaspar2024:SPI1,ESRRB``).

    Returns
    -------
    list of Motif
        In the order named.
    """
    from pathlib import Path

    from .jaspar import is_bundled_name, load_motifs

    out, release = [], None
    for part in [p.strip() for p in str(spec).split(",") if p.strip()]:
        if Path(part).exists():
            out += load_motifs(part)
        elif is_bundled_name(part):
            release = part.split(":", 1)[0]
            out += load_motifs(part)
        else:
            check(release is not None, f"motifs: {part!r} is neither a file nor a bundled motif (e.g. jaspar2024:SPI1)")
            out += load_motifs(f"{release}:{part}")
    check(len(out) > 0, f"motifs: {spec!r} names no motif")
    for m in out:   # the IDs name the map files (map_<a>_<b>.png): no path may hide in them
        check(not set(m.id) & {"/", "\\", "\0"}, f"motifs: motif id {m.id!r} holds a path separator; it would name a "
                                                 "file outside the output folder (rename the motif)")
    return out


def top_matched(motifs, matches, k: int) -> list:
    """The `k` motifs with the smallest E-value in a ``compare``/``extract-motifs --match`` table.

    Parameters
    ----------
    motifs : list of Motif
        Learned motifs (their IDs are the table's ``Query_ID``).
    matches : str or os.PathLike or None
        The matches TSV (``Query_ID``, ``E-value``). None keeps the first `k` motifs in order.
    k : int
        How many (>= 2).

    Returns
    -------
    list of Motif
        Best E-value first.
    """
    import pandas as pd

    from .errors import check_file

    check(k >= 2, f"pairs: need at least 2 motifs, got {k}")
    if matches is None:
        return list(motifs)[:k]
    table = pd.read_csv(check_file(matches), sep="\t", comment="#")
    check({"Query_ID", "E-value"} <= set(table.columns), f"{matches}: needs Query_ID and E-value columns")
    best = table.groupby("Query_ID")["E-value"].min().sort_values(kind="stable")
    by_id = {m.id: m for m in motifs}
    out = [by_id[q] for q in best.index if q in by_id][:k]
    check(len(out) >= 2, f"{matches}: fewer than 2 of its queries are among the motifs given")
    return out


# ---------------------------------------------------------------------------------------------
# model scores
# ---------------------------------------------------------------------------------------------
def logits(model, tokens, batch_size: int = 512, rc: bool = True) -> np.ndarray:
    """Logits of a model for token sequences, forward and reverse-complement mean.

    Parameters
    ----------
    model : torch.nn.Module
        A motifq model: (B, 4, L) one-hot, A, C, G, T -> (B, T) logits. Put in eval mode.
    tokens : (N, L) uint8 array
        0..3 = A, C, G, T; 4 = N.
    batch_size : int
        Sequences per forward pass. Default is 512.
    rc : bool
        Average with the reverse complement's logits. Default is True.

    Returns
    -------
    numpy.ndarray
        (N, T) float64.
    """
    import torch

    from .models import one_hot_tokens

    model.eval()
    device = next(iter(model.parameters())).device
    out = []
    with torch.no_grad():
        for start in range(0, len(tokens), batch_size):
            t = torch.from_numpy(np.ascontiguousarray(tokens[start:start + batch_size])).to(device)
            x = one_hot_tokens(t)
            y = model(x).double()
            if rc:
                y = (y + model(x.flip(1, 2)).double()) / 2      # A,C,G,T reversed = complement
            out.append(y.cpu().numpy())
    return np.concatenate(out) if out else np.empty((0, 0))


# ---------------------------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------------------------
def instances(motif: Motif, n: int, insert: str = "sample", rng=None) -> np.ndarray:
    """Instances of a motif to insert, one per background.

    Parameters
    ----------
    motif : Motif
        Counts (W, 4), A, C, G, T.
    n : int
        Number of instances N.
    insert : str
        ``sample`` (each column drawn from the PFM) or ``consensus`` (the most likely letter of
        each column, the same for all). Default is ``sample``.
    rng : numpy.random.Generator or int or None
        Default is None: seed 0.

    Returns
    -------
    numpy.ndarray
        (N, W) uint8 tokens, 0..3 = A, C, G, T, on the motif's strand.
    """
    check(insert in ("sample", "consensus"), f"insert: {insert!r} is not sample or consensus")
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(0 if rng is None else rng)
    p = motif.probabilities()
    if insert == "consensus":
        return np.tile(p.argmax(axis=1).astype(np.uint8), (n, 1))
    cum = np.cumsum(p, axis=1)
    u = rng.random((n, motif.width, 1))
    return np.minimum((u > cum[None]).sum(axis=2), 3).astype(np.uint8)


def backgrounds(spec, n: int, length: int, rng=None, split: str = "test") -> np.ndarray:
    """Background sequences for insertions.

    Parameters
    ----------
    spec : str or os.PathLike
        ``simulated`` (human-like first-order Markov chain), a data set folder (a random `n` of
        its `split`), or a FASTA file (a random `n` of its records, each `length` bp).
    n : int
        Number of backgrounds N (>= 2).
    length : int
        The model's input length L.
    rng : numpy.random.Generator or int or None
        Default is None: seed 0.
    split : str
        The data set split. Default is ``test``.

    Returns
    -------
    numpy.ndarray
        (N, L) uint8 tokens, 0..3 = A, C, G, T (4 = N where the source has one).
    """
    from pathlib import Path

    check(n >= 2, f"n: need at least 2 backgrounds for a confidence interval, got {n}")
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(0 if rng is None else rng)
    if str(spec) == "simulated":
        from .data.simulate import markov_background

        return markov_background(n, length, rng)
    if Path(spec).is_dir():
        from .data import open_data

        data = open_data(data=spec, split=split, progress=False)
        check(data.length == length, f"{spec}: sequences are {data.length} bp; the model takes {length}")
        pick = np.sort(rng.choice(len(data), size=min(n, len(data)), replace=False))
        return np.ascontiguousarray(data.tokens[pick], dtype=np.uint8)
    from .sequence import read_fasta, tokenize

    names, seqs = read_fasta(spec)
    bad = [nm for nm, s in zip(names, seqs) if len(s) != length]
    check(not bad, f"{spec}: record {bad[0] if bad else ''!r} is not {length} bp (the model's length)")
    pick = np.sort(rng.choice(len(seqs), size=min(n, len(seqs)), replace=False))
    return np.stack([tokenize(seqs[i]) for i in pick])


def layout(width_a: int, width_b: int, length: int, max_gap: int, gaps=None) -> GrammarLayout:
    """Positions of a pair in sequences of `length` bp (see the module docstring).

    Parameters
    ----------
    width_a, width_b : int
        Motif widths.
    length : int
        Sequence length L.
    max_gap : int
        The largest gap (bp); the pair at this gap must fit.
    gaps : array of int or None
        The gaps to measure, each in 0..max_gap. Default is None: every gap 0..max_gap.

    Returns
    -------
    GrammarLayout
    """
    check(max_gap >= 0, f"max-gap: must be >= 0, got {max_gap}")
    span = width_a + width_b + max_gap
    check(span <= length, f"max-gap: motifs of {width_a} and {width_b} bp at gaps up to {max_gap} bp need {span} bp; "
                          f"the sequences are {length} bp")
    g = np.arange(max_gap + 1) if gaps is None else np.unique(np.asarray(gaps, dtype=np.int64))
    check(g.size > 0 and g.min() >= 0 and g.max() <= max_gap, f"gaps: must lie in 0..{max_gap}")
    return GrammarLayout((length - span) // 2, g)


def _rc(site: np.ndarray) -> np.ndarray:
    """(N, W) tokens -> their reverse complements."""
    return np.ascontiguousarray(3 - site[:, ::-1])


def _with(base: np.ndarray, *placed) -> np.ndarray:
    """Copies of `base` (N, L) with each (sites (N, W), start) written over it."""
    out = base.copy()
    for sites, start in placed:
        out[:, start:start + sites.shape[1]] = sites
    return out


# ---------------------------------------------------------------------------------------------
# experiments
# ---------------------------------------------------------------------------------------------
def _summary(diff: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(..., N, ...) per-background values -> mean, low, high of the normal 95 % CI of the mean
    over `axis` (the backgrounds' axis)."""
    mean = diff.mean(axis=axis)
    half = _Z95 * diff.std(axis=axis, ddof=1) / np.sqrt(diff.shape[axis])
    return mean, mean - half, mean + half


class _Pair(NamedTuple):
    first: Motif
    second: Motif
    sites_first: np.ndarray       # (N, wF) forward-strand instances
    sites_second: np.ndarray


def _scorer(model, base: np.ndarray, method: str, batch_size: int):
    """The function (firsts, p0, seconds, starts) -> :class:`~motifq.incremental.PairLogits` that
    :func:`pair_map` uses: incremental (exact, a DanQ or CNN) or full forward passes."""
    from .incremental import supports

    check(method in ("auto", "incremental", "full"), f"method: {method!r} is not auto, incremental or full")
    fast = supports(model) if method == "auto" else method == "incremental"
    check(not fast or supports(model), "method: incremental needs a DanQ or CNN (motifq.models.DanQ) in eval mode")
    if fast:
        return lambda firsts, p0, seconds, starts: _incremental_pair_logits(model, base, firsts, p0, seconds, starts,
                                                                            max(batch_size, 4096))
    f0 = logits(model, base, batch_size)
    return lambda firsts, p0, seconds, starts: _full_pair_logits(model, base, f0, firsts, p0, seconds, starts,
                                                                 batch_size)


def _incremental_pair_logits(model, base, firsts, p0: int, seconds, starts, rows: int, chunk: int = 1024):
    """:func:`motifq.incremental.pair_logits` on `chunk` backgrounds at a time (its caches grow with
    the backgrounds: about 0.3 MB each for the quickstart's DanQ), joined along the backgrounds' axis."""
    from .incremental import PairLogits, pair_logits, prepare

    parts = []
    for a in range(0, len(base), chunk):
        b = slice(a, a + chunk)
        parts.append(pair_logits(prepare(model, base[b]), [f[b] for f in firsts], p0, [s[b] for s in seconds],
                                 starts, rows))
    if len(parts) == 1:
        return parts[0]
    return PairLogits(np.concatenate([p.empty for p in parts]),
                      [np.concatenate([p.first[i] for p in parts]) for i in range(len(firsts))],
                      [np.concatenate([p.second[j] for p in parts], axis=1) for j in range(len(seconds))],
                      {key: np.concatenate([p.both[key] for p in parts], axis=1) for key in parts[0].both})


def _full_pair_logits(model, base, f0, firsts, p0: int, seconds, starts, batch_size: int):
    """:class:`~motifq.incremental.PairLogits` from full forward passes of every arrangement
    (any model): `base` (N, L) backgrounds, `f0` (N, T) their logits, instance sets (N, w)."""
    from .incremental import PairLogits

    n = len(base)

    def at_starts(*fixed, sites):
        seqs = np.concatenate([_with(base, *fixed, (sites, q)) for q in starts])
        return logits(model, seqs, batch_size).reshape(len(starts), n, -1)

    first = [logits(model, _with(base, (f, p0)), batch_size) for f in firsts]
    second = [at_starts(sites=s) for s in seconds]
    both = {(i, j): at_starts((f, p0), sites=s) for i, f in enumerate(firsts) for j, s in enumerate(seconds)}
    return PairLogits(f0, first, second, both)


def _order_rows(score, pair: _Pair, lay: GrammarLayout, targets) -> list:
    """Rows of one order (first, second): 4 strand combinations x gaps x targets (None: all)."""
    strands = "+-"
    firsts = [pair.sites_first, _rc(pair.sites_first)]
    seconds = [pair.sites_second, _rc(pair.sites_second)]
    s = score(firsts, lay.p0, seconds, lay.p0 + pair.first.width + lay.gaps)
    f0 = s.empty
    targets = range(f0.shape[1]) if targets is None else targets
    rows = []
    for j, s2 in enumerate(strands):
        for i, s1 in enumerate(strands):
            fab = s.both[(i, j)]                                      # (gaps, N, T)
            effect = (fab - f0).mean(axis=1)
            inter, lo, hi = _summary(fab - s.first[i] - s.second[j] + f0, axis=1)
            for k, gap in enumerate(lay.gaps):
                for t in targets:
                    rows.append((pair.first.id, pair.second.id, s1, s2, int(gap), t, effect[k, t], inter[k, t],
                                 lo[k, t], hi[k, t]))
    return rows


def pair_map(model, motif_a: Motif, motif_b: Motif, background, max_gap: int = 100, targets=None,
             target_names=None, insert: str = "sample", gaps=None, rng=None, batch_size: int = 512,
             method: str = "auto"):
    """The grammar map of a pair: effect and interaction at every gap, both orders, four strands.

    Parameters
    ----------
    model : torch.nn.Module
        A motifq model taking (B, 4, L) one-hot, A, C, G, T.
    motif_a, motif_b : Motif
        Counts (W, 4), A, C, G, T.
    background : (N, L) uint8 array
        Background tokens, 0..3 = A, C, G, T (see :func:`backgrounds`).
    max_gap : int
        Largest gap in bp. Default is 100.
    targets : list of int or None
        Target indices to report. Default is None: all.
    target_names : list of str or None
        Names for the ``target`` column. Default is None: the indices.
    insert : str
        ``sample`` or ``consensus`` (see :func:`instances`). Default is ``sample``.
    gaps : array of int or None
        A subset of 0..max_gap. Default is None: all.
    rng : numpy.random.Generator or int or None
        Instances are drawn from it. Default is None: seed 0.
    batch_size : int
        Sequences per forward pass (the incremental method scores at least 4096 together).
        Default is 512.
    method : str
        ``incremental``: score only what each insertion changes (exact; a DanQ or CNN, see
        :mod:`motifq.incremental`); ``full``: a forward pass of every sequence (any model);
        ``auto``: incremental where the model allows it. Default is ``auto``.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`GRAMMAR_COLUMNS`, one row per order x strands x gap x target
        (``first``/``second`` are motif IDs).
    """
    import pandas as pd

    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(0 if rng is None else rng)
    base = np.ascontiguousarray(background, dtype=np.uint8)
    n, length = base.shape
    check(n >= 2, f"background: need at least 2 sequences, got {n}")
    lay = layout(motif_a.width, motif_b.width, length, max_gap, gaps)
    sa, sb = instances(motif_a, n, insert, rng), instances(motif_b, n, insert, rng)
    model.eval()
    score = _scorer(model, base, method, batch_size)
    rows = []
    for pair in (_Pair(motif_a, motif_b, sa, sb), _Pair(motif_b, motif_a, sb, sa)):
        rows += _order_rows(score, pair, lay, targets)
    table = pd.DataFrame(rows, columns=list(GRAMMAR_COLUMNS))
    if target_names is not None:
        table["target"] = [target_names[t] for t in table["target"]]
    return table


def marginal(model, motif: Motif, background, targets=None, target_names=None, insert: str = "sample", rng=None,
             batch_size: int = 512):
    """The marginal effect of one motif at the centre, on each strand (tangermeme's ``marginalize``).

    Parameters
    ----------
    model : torch.nn.Module
    motif : Motif
        Counts (W, 4), A, C, G, T; at most L wide.
    background : (N, L) uint8 array
        0..3 = A, C, G, T.
    targets, target_names, insert, rng, batch_size
        As :func:`pair_map`. Defaults are None, None, ``sample``, None (seed 0), 512.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`MARGINAL_COLUMNS`: mean ``f(A) - f(empty)`` and its normal 95 % CI.
    """
    import pandas as pd

    base = np.ascontiguousarray(background, dtype=np.uint8)
    n, length = base.shape
    check(motif.width <= length, f"motif {motif.id}: {motif.width} bp is wider than the sequences ({length} bp)")
    sites = instances(motif, n, insert, rng)
    start = (length - motif.width) // 2
    f0 = logits(model, base, batch_size)
    targets = list(range(f0.shape[1])) if targets is None else list(targets)
    rows = []
    for strand, s in (("+", sites), ("-", _rc(sites))):
        mean, lo, hi = _summary(logits(model, _with(base, (s, start)), batch_size) - f0)
        rows += [(motif.id, strand, t, mean[t], lo[t], hi[t]) for t in targets]
    table = pd.DataFrame(rows, columns=list(MARGINAL_COLUMNS))
    if target_names is not None:
        table["target"] = [target_names[t] for t in table["target"]]
    return table


# ---------------------------------------------------------------------------------------------
# reading a map
# ---------------------------------------------------------------------------------------------
def verdict(table, target) -> str:
    """One line on a pair's map for one target: the cell that departs most from the map's median.

    A model whose logit saturates is sub-additive wherever both motifs are present, which shifts
    every cell of the map; the arrangement the model prefers (or avoids) is the one that departs
    most from that level. The line gives the median, that cell, the gaps at which the same order
    and strands depart at least half as much in the same direction, and how many cells' 95 %
    CIs exclude 0.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`pair_map` rows (:data:`GRAMMAR_COLUMNS`) of one pair.
    target : str or int
        A value of the ``target`` column.

    Returns
    -------
    str
    """
    t = table[table["target"] == target]
    sig = (t["ci_low"] > 0) | (t["ci_high"] < 0)
    a, b = t["first"].iloc[0], t["second"].iloc[0]
    if not sig.any():
        return f"{a} x {b}, {target}: no interaction (no cell's 95% CI excludes 0; largest |mean| " \
               f"{t['interaction'].abs().max():.3g})"
    base = float(t["interaction"].median())
    dev = t["interaction"] - base
    r = t.loc[dev.abs().idxmax()]
    d = float(r["interaction"] - base)
    same = t[(t["first"] == r["first"]) & (t["first_strand"] == r["first_strand"])
             & (t["second_strand"] == r["second_strand"]) & (np.sign(dev) == np.sign(d)) & (dev.abs() >= abs(d) / 2)]
    return (f"{a} x {b}, {target}: median interaction {base:+.3g}; strongest departure {d:+.3g} "
            f"(interaction {r['interaction']:+.3g}, 95% CI {r['ci_low']:.3g}..{r['ci_high']:.3g}) for "
            f"{r['first']}({r['first_strand']}) then {r['second']}({r['second_strand']}) at gap {int(r['gap'])} bp; "
            f"that order and strands depart at least half as much at gaps {int(same['gap'].min())}.."
            f"{int(same['gap'].max())} ({len(same)} gaps); {int(sig.sum())} of {len(t)} cells have a 95% CI "
            f"excluding 0")


def rank_pairs(tables: dict):
    """Pairs ranked by their strongest significant interaction (any target, orientation, gap).

    Parameters
    ----------
    tables : dict of (str, str) -> pandas.DataFrame
        :func:`pair_map` tables by (motif A, motif B).

    Returns
    -------
    pandas.DataFrame
        ``motif_a motif_b target first first_strand second_strand gap interaction ci_low ci_high
        n_significant``, strongest |interaction| first (pairs with no significant cell last).
    """
    import pandas as pd

    rows = []
    for (a, b), t in tables.items():
        sig = t[(t["ci_low"] > 0) | (t["ci_high"] < 0)]
        pick = sig if len(sig) else t
        r = pick.loc[pick["interaction"].abs().idxmax()]
        rows.append((a, b, r["target"], r["first"], r["first_strand"], r["second_strand"], int(r["gap"]),
                     r["interaction"], r["ci_low"], r["ci_high"], len(sig)))
    out = pd.DataFrame(rows, columns=["motif_a", "motif_b", "target", "first", "first_strand", "second_strand", "gap",
                                      "interaction", "ci_low", "ci_high", "n_significant"])
    key = np.where(out["n_significant"] > 0, out["interaction"].abs(), -1.0)
    return out.iloc[np.argsort(-key, kind="stable")].reset_index(drop=True)


def all_pairs(motifs) -> list:
    """Every unordered pair of `motifs` (a list), in input order."""
    return list(combinations(motifs, 2))


class PairMaps(NamedTuple):
    """The maps of every pair (:func:`pair_maps`): what ``motifq grammar`` writes."""

    tables: dict
    """(motif A id, motif B id) -> :func:`pair_map` table."""
    ranked: object
    """:func:`rank_pairs` of `tables` (a pandas.DataFrame)."""
    verdicts: list
    """One :func:`verdict` line per pair, in input order."""
    target: str | None
    """The target the verdicts and figures judge; None: each pair's strongest."""


def pair_maps(model, motifs, background, max_gap: int = 100, target_names=None, target=None,
              insert: str = "sample", rng=None, batch_size: int = 512) -> PairMaps:
    """The grammar map of every pair of `motifs`, ranked, each with its verdict.

    Parameters
    ----------
    model : torch.nn.Module
        A motifq model taking (B, 4, L) one-hot, A, C, G, T.
    motifs : list of Motif
        Two or more; counts (W, 4), A, C, G, T.
    background : (N, L) uint8 array
        0..3 = A, C, G, T (see :func:`backgrounds`).
    max_gap : int
        Largest gap in bp. Default is 100.
    target_names : list of str or None
        The model's target names. Default is None: the indices.
    target : str or None
        The target (a name of `target_names`) each verdict judges. Default is None: the target
        with the strongest |interaction| in that pair's map.
    insert, rng, batch_size
        As :func:`pair_map`. Defaults are ``sample``, None (seed 0) and 512; every pair is
        drawn with the same seed.

    Returns
    -------
    PairMaps
    """
    check(len(motifs) >= 2, f"motifs: a pair map needs two motifs, got {len(motifs)}")
    tables, lines = {}, []
    for a, b in all_pairs(motifs):
        t = pair_map(model, a, b, background, max_gap, target_names=target_names, insert=insert, rng=rng,
                     batch_size=batch_size)
        tables[(a.id, b.id)] = t
        lines.append(verdict(t, target if target is not None else t.loc[t["interaction"].abs().idxmax(), "target"]))
    return PairMaps(tables, rank_pairs(tables), lines, target)


class GrammarInputs(NamedTuple):
    """What :func:`load_inputs` read and checked for ``motifq grammar``."""

    model: object
    """The model (torch.nn.Module), on the CPU."""
    names: list
    """Its target names, in output order."""
    target: int | None
    """The chosen target's index, or None."""
    motifs: list
    """The motifs (one, two, or the `pairs` best-matched)."""
    background: np.ndarray
    """(N, L) uint8 tokens, A, C, G, T."""


def load_inputs(model_path, motifs, target=None, pairs=None, matches=None, max_gap: int = 100,
                background="simulated", n: int = 200, seed: int = 0, split: str = "test") -> GrammarInputs:
    """Read and check everything a grammar experiment needs, before any forward pass.

    Parameters
    ----------
    model_path : str or os.PathLike
        A checkpoint written by ``motifq train``.
    motifs : str
        One or two motifs (:func:`parse_motifs`), or with `pairs` a file of learned motifs.
    target : str or None
        A target name or index (:func:`resolve_target`). Default is None.
    pairs : int or None
        Keep the `pairs` best-matched motifs (:func:`top_matched`). Default is None: at most two
        motifs are allowed.
    matches : str or os.PathLike or None
        With `pairs`: the matches table to rank by. Default is None.
    max_gap : int
        Largest gap in bp; the two widest motifs must fit at it. Default is 100.
    background : str or os.PathLike
        ``simulated``, a data set folder or a FASTA file (:func:`backgrounds`). Default is
        ``simulated``.
    n : int
        Number of backgrounds. Default is 200.
    seed : int
        Seed of the backgrounds' draw. Default is 0.
    split : str
        The data set's split. Default is ``test``.

    Returns
    -------
    GrammarInputs
    """
    import os

    from .errors import check_file
    from .models import load_checkpoint

    model, ckpt = load_checkpoint(check_file(model_path))
    names, length = list(ckpt["targets"]), model.config.length
    target = None if target is None else resolve_target(target, names)
    chosen = parse_motifs(motifs)
    if pairs is not None:
        chosen = top_matched(chosen, matches, pairs)
    else:
        check(len(chosen) <= 2, f"--motifs: {len(chosen)} motifs; give one or two, or use --pairs K")
    for m in chosen:
        check(m.width <= length, f"motif {m.id}: {m.width} bp is wider than the model's sequences ({length} bp)")
    if len(chosen) >= 2:
        widest = sorted(m.width for m in chosen)[-2:]
        layout(widest[0], widest[1], length, max_gap)
    check(str(background) == "simulated" or os.path.exists(background),
          f"--background: {background}: no such file or folder (or say simulated)")
    bg = backgrounds(background, n, length, seed, split=split)
    return GrammarInputs(model, names, target, chosen, bg)


# ---------------------------------------------------------------------------------------------
# planted rules (simulated data)
# ---------------------------------------------------------------------------------------------
def rule_cells(table, rule: dict, target) -> dict:
    """Where a planted grammar rule's interaction should be, and how much of it is there.

    The rule "A then B on the same strand, gap in [min_gap, max_gap]" is, on the forward
    strand, A(+) then B(+) or B(-) then A(-) at those gaps (inside); the reversed order is
    B(+) then A(+) or A(-) then B(-) at the same gaps. Everything but inside is outside.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`pair_map` rows of the pair (A, B), both orders.
    rule : dict
        A ``rules.json`` grammar rule (``first``, ``second``, ``min_gap``, ``max_gap``).
    target : str or int
        The ``target`` value of the rule's label.

    Returns
    -------
    dict
        ``inside``, ``outside`` (mean interaction), ``outside_abs`` (mean |interaction|),
        ``reversed`` (mean interaction of the reversed order in the window), ``ratio``
        (inside / outside_abs) and ``reversed_ratio`` (reversed / inside); the same against the
        map's median (a model whose logit saturates is sub-additive wherever both motifs are
        present, which shifts every cell): ``baseline`` (median interaction of all cells),
        ``inside_excess`` (inside - baseline), ``outside_excess`` (mean |outside - baseline|),
        ``reversed_excess`` (reversed - baseline), ``excess_ratio`` (inside_excess /
        outside_excess); and ``effect_inside``, ``effect_outside`` (mean effect f(AB) - f(empty)).
    """
    t = table[table["target"] == target]
    a, b = rule["first"], rule["second"]
    window = t["gap"].between(rule["min_gap"], rule["max_gap"])

    def cells(first, strand):
        return (t["first"] == first) & (t["first_strand"] == strand) & (t["second_strand"] == strand) & window

    inside = cells(a, "+") | cells(b, "-")
    rev = cells(b, "+") | cells(a, "-")
    x = t["interaction"]
    res = {"inside": float(x[inside].mean()), "outside": float(x[~inside].mean()),
           "outside_abs": float(x[~inside].abs().mean()), "reversed": float(x[rev].mean())}
    base = float(x.median())
    res.update(baseline=base, inside_excess=res["inside"] - base, outside_excess=float((x[~inside] - base).abs().mean()),
               reversed_excess=res["reversed"] - base, effect_inside=float(t["effect"][inside].mean()),
               effect_outside=float(t["effect"][~inside].mean()))
    res["ratio"] = _ratio(res["inside"], res["outside_abs"])
    res["reversed_ratio"] = _ratio(res["reversed"], res["inside"])
    res["excess_ratio"] = _ratio(res["inside_excess"], res["outside_excess"])
    return res


def _ratio(a: float, b: float) -> float:
    """a / b, with +-inf for a non-zero `a` over 0 and nan for 0 / 0."""
    if b != 0:
        return a / b
    return float(np.sign(a)) * float("inf") if a != 0 else float("nan")


def rule_maps(model, motifs, rules, target_names, background, max_gap: int = 60, gaps=None,
              insert: str = "sample", rng=None, batch_size: int = 512) -> list:
    """Grammar maps of every planted grammar rule of a simulation, with :func:`rule_cells`.

    Parameters
    ----------
    model : torch.nn.Module
    motifs : list of Motif
        The planted motifs (``truth/motifs.meme``), counts (W, 4), A, C, G, T.
    rules : dict or list of dict
        ``rules.json`` or its ``targets``.
    target_names : list of str
        The model's targets, in output order.
    background : (N, L) uint8 array
        0..3 = A, C, G, T.
    max_gap : int
        Largest gap (bp). Default is 60.
    gaps, insert, rng, batch_size
        As :func:`pair_map`. Defaults are None, ``sample``, None (seed 0), 512.

    Returns
    -------
    list of dict
        One per grammar rule: ``rule`` (the dict), ``table`` (:func:`pair_map` rows for the
        rule's target), ``cells`` (:func:`rule_cells`), ``verdict``.
    """
    targets = rules["targets"] if isinstance(rules, dict) else rules
    by_id = {m.id: m for m in motifs}
    out = []
    for r in (r for r in targets if r["kind"] == "grammar"):
        check(r["name"] in target_names, f"rules: target {r['name']!r} is not one of the model's targets")
        j = list(target_names).index(r["name"])
        table = pair_map(model, by_id[r["first"]], by_id[r["second"]], background, max_gap, targets=[j],
                         target_names=target_names, insert=insert, gaps=gaps, rng=rng, batch_size=batch_size)
        out.append({"rule": r, "table": table, "cells": rule_cells(table, r, r["name"]),
                    "verdict": verdict(table, r["name"])})
    return out
