"""Tomtom-like motif comparison: scores, offsets, strands, p-, E- and q-values.

The method is MEME's Tomtom (Gupta, Stamatoyannopoulos, Bailey & Noble 2007, Genome Biology
8:R24) with complete scores, following ``tomtom.c``:

* **Pseudocount** (MEME's ``-motif-pseudo``, applied to query and target motifs):
  ``p' = (p * nsites + s * bg) / (nsites + s)``, nsites truncated to an integer (20 when
  unknown), ``bg`` the query background made strand-symmetric (uniform for JASPAR files).
* **Column scores** between a query column ``q`` and a target column ``t`` (both (4,)
  probabilities, A, C, G, T): ``pearson`` = correlation of the four values around 1/4;
  ``ed`` = ``-sqrt(sum (q - t)^2)``; ``sandelin`` = ``2 - sum (q - t)^2``.
* **Complete scores**: each query column is scored against every column of every target on both
  strands, and its scores are shifted by their median, so that an unaligned query column adds 0.
  The shifted scores are discretised into 0..100 (``offset = floor(min)``,
  ``scale = floor(100 / (max - offset))``, one pair per query).
* **Null distribution**: each query column's score is drawn from its histogram over all target
  columns; the distribution of the summed score of every span of query columns comes from dynamic
  programming, and for each target width the distribution of the best of all ``W + w - 1``
  alignments on both strands is their independent maximum.
* **p-value** of a target: that of its best offset on the better strand (ties go to the larger
  overlap, then the forward strand); ``min_overlap`` limits the offsets searched (not the null).
  **E-value** = p × number of targets. **q-values**: Storey's method per query over the
  p-values of both strands of every target (pi0 chosen among 100 lambdas up to 0.5 by the
  bootstrap mean-squared-error criterion, here in its exact expected form, so it is
  deterministic).

Tomtom's conventions: ``Optimal_offset`` = o means query position i is aligned with target
position i + o (o > 0: the query starts o columns into the target; o < 0: the query overhangs
the target's start by -o columns), measured on the target as reported, i.e. on the reverse
complement when ``Orientation`` is ``-``. ``Overlap`` is the number of aligned columns.
Consensus strings are the most probable letter of each column (Tomtom's, not IUPAC).

Public functions: :func:`compare` (the Tomtom ``-text`` table), :func:`pvalue_matrix` (all
pairs as arrays, e.g. for clustering) and :func:`qvalues` (Storey's q-values).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .errors import check
from .motif import Motif

__all__ = ["compare", "compare_columns", "pvalue_matrix", "qvalues", "format_table", "write_matches", "matched_queries",
           "ComparisonMatrices", "COLUMNS", "DISTANCES"]

#: Columns of the table :func:`compare` returns: Tomtom's ``-text`` output, in its order.
COLUMNS = ["Query_ID", "Target_ID", "Optimal_offset", "p-value", "E-value", "q-value", "Overlap",
           "Query_consensus", "Target_consensus", "Orientation"]
#: Column similarity functions, by name (kernel code).
DISTANCES = {"ed": 0, "pearson": 1, "sandelin": 2}

_NUM_LAMBDA = 100
_MAX_LAMBDA = 0.5
_BOOTSTRAP_SAMPLES = 1000
_MIN_SAMPLES = 100


class ComparisonMatrices(NamedTuple):
    """All query-target pairs as arrays, each (n_queries, n_targets).

    Attributes
    ----------
    pvalue : float64
        p-value of the best alignment (better strand).
    evalue : float64
        ``pvalue * n_targets``.
    offset : int64
        Tomtom's ``Optimal_offset`` (on the reported strand).
    overlap : int64
        Aligned columns.
    strand : int8
        +1 when the target matched as given, -1 when its reverse complement matched.
    """

    pvalue: np.ndarray
    evalue: np.ndarray
    offset: np.ndarray
    overlap: np.ndarray
    strand: np.ndarray


# ---------------------------------------------------------------------------------------------
# input
# ---------------------------------------------------------------------------------------------
def _as_motifs(motifs, what: str) -> list[Motif]:
    """A list of Motif from a list of Motif, a single Motif, or a path / bundled name."""
    if isinstance(motifs, Motif):
        motifs = [motifs]
    elif isinstance(motifs, (str, bytes)) or hasattr(motifs, "__fspath__"):
        from .jaspar import load_motifs

        motifs = load_motifs(motifs)
    motifs = list(motifs)
    check(len(motifs) > 0, f"{what}: no motifs")
    for m in motifs:
        check(isinstance(m, Motif), f"{what}: expected Motif objects, got {type(m).__name__}")
    return motifs


class _Stack(NamedTuple):
    """Motifs' columns one after another: cols (n_columns, 4) float64, A, C, G, T, and widths
    (n_motifs,) int64."""

    cols: np.ndarray
    widths: np.ndarray

    def split(self) -> list[np.ndarray]:
        """Each motif's (W, 4) columns."""
        return np.split(self.cols, np.cumsum(self.widths)[:-1])


def _pseudo_probabilities(motifs: list[Motif], pseudo: float, bg: np.ndarray) -> _Stack:
    """MEME's ``apply_pseudocount_to_motif`` for every motif at once (compiled:
    ``_tomtom.pseudo_columns``).

    Each column is ``p = counts / column sum`` (as :meth:`Motif.probabilities`), except a column
    whose sum is within 1e-5 (relative) of the motif's nsites, which is ``counts / nsites``: a
    motif read from a MEME file holds ``counts = p * nsites`` for the probabilities as written
    (6 decimals, so a row may sum to 1 +- a few 1e-6), and MEME uses those as they are. Then
    ``(p * nsites + pseudo * bg) / (nsites + pseudo)`` with nsites truncated to an integer, 20
    when unknown.
    """
    _numba_cache_setup()
    from ._tomtom import pseudo_columns

    c = np.concatenate([m.counts for m in motifs]).astype(np.float64, copy=False)
    widths = np.array([m.width for m in motifs], dtype=np.int64)
    ns = np.repeat([float(m.nsites) if m.nsites and m.nsites > 0 else 0.0 for m in motifs], widths)
    return _Stack(pseudo_columns(c, ns, float(pseudo), np.asarray(bg, dtype=np.float64)), widths)


def _consensus(p: np.ndarray) -> str:
    """Tomtom's consensus: the most probable letter of each column (first on ties)."""
    return "".join("ACGT"[i] for i in np.argmax(p.astype(np.float32), axis=1))


def _prepare(queries, targets, dist, min_overlap, motif_pseudo):
    check(dist in DISTANCES, f"dist: {dist!r} is not one of {', '.join(DISTANCES)}")
    check(isinstance(min_overlap, (int, np.integer)) and min_overlap >= 0,
          f"min_overlap: must be a non-negative integer, got {min_overlap!r}")
    check(motif_pseudo >= 0, f"motif_pseudo: must be >= 0, got {motif_pseudo!r}")
    queries = _as_motifs(queries, "queries")
    targets = _as_motifs(targets, "targets")
    bg = queries[0].background
    bg = (bg + bg[::-1]) / 2
    qs = _pseudo_probabilities(queries, motif_pseudo, bg)
    ts = _pseudo_probabilities(targets, motif_pseudo, bg)
    return queries, targets, qs, ts


def _kernel_inputs(qs: _Stack, ts: _Stack, dist):
    """The arrays :func:`_tomtom.tomtom_kernel` takes, from the query and target columns:
    Q (n_query_columns, 4) A, C, G, T; q_start, q_len (n_queries,); Tt (4, 2 * n_target_columns)
    both strands as rows (``_tomtom.target_rows``); t_start (2, n_targets); t_len (n_targets,)."""
    from ._tomtom import target_rows

    q_len = qs.widths
    q_start = np.concatenate([[0], np.cumsum(q_len)[:-1]]).astype(np.int64)
    # laid out by width, as the kernel wants them (it would otherwise copy them so)
    order = np.argsort(ts.widths, kind="stable").astype(np.int64)
    Tt, t_start = target_rows(ts.cols, ts.widths, order, DISTANCES[dist] == 1)
    return qs.cols, q_start, q_len, Tt, t_start, ts.widths


def _run_kernel(qs, ts, dist, min_overlap, both_strands=False):
    """(P, O, L, S[, p]): p-value, offset, overlap and strand (int8, +1/-1) of the reported
    strand, each (n_queries, n_targets); with `both_strands` also the p-values of both strands
    (n_queries, n_targets, 2), forward then reverse. See ``_tomtom.tomtom_kernel``."""
    _numba_cache_setup()
    import numba

    from ._tomtom import tomtom_kernel

    return tomtom_kernel(DISTANCES[dist], *_kernel_inputs(qs, ts, dist), 2, int(min_overlap),
                         numba.get_num_threads(), both_strands)


def _numba_cache_setup() -> None:
    """Point numba's cache at a private per-user folder before the kernels are imported (see
    :mod:`motifq.cache`: never the installed package, never a folder another user can write)."""
    from .cache import configure_numba_cache

    configure_numba_cache()


# ---------------------------------------------------------------------------------------------
# q-values
# ---------------------------------------------------------------------------------------------
def _pi_zero(sorted_p: np.ndarray) -> np.ndarray:
    """Storey's pi0 for each row of `sorted_p` (n_rows, m), as MEME's ``estimate_pi_zero``, with
    the bootstrap mean-squared error in expectation.

    For lambda_k = 0.5 k / 100 (k = 1..100), ``pi0(l) = #(p >= l) / ((1 - l) m)``; the plug-in
    is the smallest; the chosen lambda minimises the mean-squared error of bootstrap estimates
    (1000 draws with replacement) around the plug-in, whose expectation is
    ``f (1 - f) / (1000 (1 - l)^2) + (pi0(l) - plug_in)^2`` with ``f = #(p >= l) / m``.
    MEME draws 100 bootstraps at random; the expectation makes the choice deterministic.
    """
    n, m = sorted_p.shape
    lambdas = (np.arange(1, _NUM_LAMBDA + 1) / _NUM_LAMBDA) * _MAX_LAMBDA
    # rows shifted apart (p <= 1) so that one searchsorted serves all of them
    shift = 2.0 * np.arange(n)[:, None]
    n_lt = np.searchsorted((sorted_p + shift).ravel(), (lambdas[None, :] + shift).ravel(), side="left")
    n_lt = n_lt.reshape(n, _NUM_LAMBDA) - m * np.arange(n)[:, None]
    f = (m - n_lt) / m
    with np.errstate(divide="ignore", invalid="ignore"):
        pi0 = np.where(f > 0, f / (1 - lambdas), np.inf)
    plug = pi0.min(axis=1, keepdims=True)
    mse = f * (1 - f) / (_BOOTSTRAP_SAMPLES * (1 - lambdas) ** 2) + (pi0 - plug) ** 2
    mse[~np.isfinite(pi0)] = np.inf
    best = np.argmin(mse, axis=1)
    out = pi0[np.arange(n), best]
    out[~np.isfinite(out)] = 1.0
    return np.clip(out, 0.0, 1.0)


def _qvalues_rows(p: np.ndarray) -> np.ndarray:
    """Storey q-values of each row of p (n_rows, m), each row its own family."""
    n, m = p.shape
    order = np.argsort(p, axis=1)  # tied p-values get the same q whatever their order
    sp = np.take_along_axis(p, order, axis=1)
    pi0 = _pi_zero(sp) if m > _MIN_SAMPLES else np.ones(n)
    fdr = np.minimum(1.0, pi0[:, None] * sp * m / np.arange(1, m + 1))
    q = np.minimum.accumulate(fdr[:, ::-1], axis=1)[:, ::-1]
    out = np.empty_like(q)
    np.put_along_axis(out, order, q, axis=1)
    return out


def qvalues(pvalues) -> np.ndarray:
    """Storey q-values of one family of p-values, as MEME computes them.

    Parameters
    ----------
    pvalues : (n,) array of float
        p-values in [0, 1], any order.

    Returns
    -------
    numpy.ndarray
        (n,) float64 q-values in the input order: ``min(1, pi0 * p * n / rank)`` made monotone
        from the largest p down; pi0 is estimated (see :func:`_pi_zero`) when n > 100, else 1.
        For p near 1, q = pi0 * p can be below p when pi0 < 1.
    """
    p = np.asarray(pvalues, dtype=np.float64).ravel()
    if p.size == 0:
        return p.copy()
    return _qvalues_rows(p[None, :])[0]


# ---------------------------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------------------------
def pvalue_matrix(queries, targets=None, dist: str = "pearson", min_overlap: int = 1,
                  motif_pseudo: float = 0.1) -> ComparisonMatrices:
    """Compare every query with every target; return the results as matrices.

    The fast all-against-all form of :func:`compare` (no table, no q-values), e.g. for
    clustering: ``-log10(pvalue_matrix(motifs).pvalue)`` is a similarity matrix.

    Parameters
    ----------
    queries : list of Motif, Motif, str or os.PathLike
        Query motifs (counts (W, 4), A, C, G, T), or a motif file / bundled name
        (``jaspar2024``; see :func:`motifq.jaspar.load_motifs`).
    targets : list of Motif, str, os.PathLike or None
        Target motifs. Default is None: the queries themselves (all against all). The null
        distribution uses the target columns, so use at least ~50 targets.
    dist : str
        Column similarity: ``pearson``, ``ed`` or ``sandelin``. Default is ``pearson``.
    min_overlap : int
        Only offsets where at least this many columns overlap (or the narrower motif's width,
        if less) are searched. Default is 1.
    motif_pseudo : float
        Pseudocount added to query and target motifs, as MEME's ``-motif-pseudo``.
        Default is 0.1.

    Returns
    -------
    ComparisonMatrices
        ``pvalue``, ``evalue``, ``offset``, ``overlap`` and ``strand``, each
        (n_queries, n_targets).
    """
    if targets is None:
        targets = queries
    queries, targets, qs, ts = _prepare(queries, targets, dist, min_overlap, motif_pseudo)
    P, O, L, S = _run_kernel(qs, ts, dist, min_overlap)
    return ComparisonMatrices(pvalue=P, evalue=P * len(targets), offset=O, overlap=L, strand=S)


def compare(queries, targets, dist: str = "pearson", min_overlap: int = 1, motif_pseudo: float = 0.1,
            thresh: float = 0.5, evalue: bool = False, report_all: bool = False, **deprecated):
    """Compare query motifs with target motifs as MEME's Tomtom does (``tomtom -text``).

    Parameters
    ----------
    queries : list of Motif, Motif, str or os.PathLike
        Query motifs (counts (W, 4), A, C, G, T), or a motif file / bundled name.
    targets : list of Motif, Motif, str or os.PathLike
        Target motifs (a database such as ``jaspar2024``), searched on both strands.
    dist : str
        Column similarity: ``pearson``, ``ed`` or ``sandelin``. Default is ``pearson``.
    min_overlap : int
        Minimum number of overlapping columns. Default is 1.
    motif_pseudo : float
        Pseudocount for query and target motifs. Default is 0.1.
    thresh : float
        Keep matches with q-value <= thresh (E-value with ``evalue=True``). Default is 0.5.
    evalue : bool
        Threshold on the E-value instead of the q-value. Default is False.
    report_all : bool
        Keep every query-target pair, ignoring `thresh`. Default is False. The old spelling
        ``all=`` still works, with a DeprecationWarning.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS` (Tomtom's: ``Query_ID``, ``Target_ID``, ``Optimal_offset``,
        ``p-value``, ``E-value``, ``q-value``, ``Overlap``, ``Query_consensus``,
        ``Target_consensus``, ``Orientation`` ``+``/``-``), one row per query-target pair kept,
        sorted by query (input order) then p-value (ties as Tomtom: larger overlap, then
        strand ``+`` before ``-``, then target id).
    """
    import pandas as pd

    report_all = _deprecated_all(report_all, deprecated)
    return pd.DataFrame(compare_columns(queries, targets, dist, min_overlap, motif_pseudo, thresh, evalue, report_all),
                        columns=COLUMNS)


def _deprecated_all(report_all: bool, deprecated: dict) -> bool:
    """`report_all`, or the value of the old keyword ``all`` (with a DeprecationWarning)."""
    import warnings

    unknown = sorted(set(deprecated) - {"all"})
    if unknown:
        raise TypeError(f"compare() got an unexpected keyword argument {unknown[0]!r}")
    if "all" in deprecated:
        warnings.warn("compare(all=...) is now compare(report_all=...)", DeprecationWarning, stacklevel=3)
        return bool(deprecated["all"])
    return report_all


def compare_columns(queries, targets, dist: str = "pearson", min_overlap: int = 1, motif_pseudo: float = 0.1,
                    thresh: float = 0.5, evalue: bool = False, report_all: bool = False, db=None) -> dict:
    """The columns of :func:`compare`'s table as a dict of arrays, without pandas (the CLI starts faster).

    Parameters
    ----------
    queries, targets, dist, min_overlap, motif_pseudo, thresh, evalue, report_all
        As :func:`compare`.
    db : (n_targets,) int array or None
        Each target's database (file) number, for Tomtom's tie order. Default is None: all 0.

    Returns
    -------
    dict of str -> numpy.ndarray
        :data:`COLUMNS` -> one value per query-target pair kept, in :func:`compare`'s order.
    """
    check(thresh >= 0, f"thresh: must be >= 0, got {thresh}")
    check(evalue or report_all or thresh <= 1, f"thresh: a q-value threshold must be <= 1, got {thresh}")
    queries, targets, qs, ts = _prepare(queries, targets, dist, min_overlap, motif_pseudo)
    P, O, L, S, p = _run_kernel(qs, ts, dist, min_overlap, both_strands=True)
    nq, nt = P.shape
    q = _qvalues_rows(p.reshape(nq, nt * 2)).reshape(nq, nt, 2)
    s = (S < 0).astype(np.int64)  # 0 forward, 1 reverse
    Qv = np.take_along_axis(q, s[..., None], axis=2)[..., 0]
    E = P * nt
    if report_all:
        keep = np.ones_like(P, dtype=bool)
    else:
        keep = (E if evalue else Qv) <= thresh
    qi, ti = np.nonzero(keep)
    # Tomtom's order: p-value, larger overlap, target database (file), then the target's id with
    # its strand in front ('+' before '-', then the id as a string)
    t_ids = [m.id for m in targets]
    id_rank = np.empty(nt, np.int64)
    id_rank[sorted(range(nt), key=t_ids.__getitem__)] = np.arange(nt)
    db = np.zeros(nt, np.int64) if db is None else np.asarray(db, np.int64)
    st = s[qi, ti]
    order = np.lexsort((id_rank[ti], st, db[ti], -L[qi, ti], P[qi, ti], qi))
    qi, ti = qi[order], ti[order]
    st = s[qi, ti]
    obj = lambda xs: np.array(xs, dtype=object)  # noqa: E731
    q_cons = obj([_consensus(x) for x in qs.split()])
    t_cons = obj([[_consensus(x), _consensus(x[::-1, ::-1])] for x in ts.split()]).reshape(nt, 2)
    return {
        "Query_ID": obj([m.id for m in queries])[qi],
        "Target_ID": obj(t_ids)[ti],
        "Optimal_offset": O[qi, ti],
        "p-value": P[qi, ti],
        "E-value": E[qi, ti],
        "q-value": Qv[qi, ti],
        "Overlap": L[qi, ti],
        "Query_consensus": q_cons[qi],
        "Target_consensus": t_cons[ti, st],
        "Orientation": obj(["+", "-"])[st],
    }


def format_table(table) -> str:
    """Tab-separated text of a :func:`compare` table, numbers as Tomtom prints them (``%g``).

    Parameters
    ----------
    table : pandas.DataFrame or dict
        As returned by :func:`compare` (or a dict of its columns).

    Returns
    -------
    str
        Header line and one line per row, each ending in a newline.
    """
    cols = [list(table[c]) for c in COLUMNS]
    out = ["\t".join(COLUMNS)]
    for qid, tid, off, p, e, q, ovl, qc, tc, ori in zip(*cols):
        out.append(f"{qid}\t{tid}\t{int(off)}\t{p:g}\t{e:g}\t{q:g}\t{int(ovl)}\t{qc}\t{tc}\t{ori}")
    return "\n".join(out) + "\n"


def write_matches(path, table, database: str) -> None:
    """Write a matches table as :func:`motifq.formats.read_matches` reads it: :func:`format_table`
    and a ``# database: NAME`` line naming the targets' source (``motifq logos`` and ``motifq
    grammar --matches`` find the target motifs through it).

    Parameters
    ----------
    path : str or os.PathLike
        Written atomically.
    table : pandas.DataFrame or dict
        A :func:`compare` table (or :func:`compare_columns`' dict).
    database : str
        The target motifs' file or bundled name, as given.
    """
    from .errors import atomic_write

    with atomic_write(path) as fh:
        fh.write(format_table(table) + f"# database: {database}\n")


def matched_queries(table, evalue: float) -> int:
    """How many queries have a match with E-value < `evalue` in a :func:`compare` table (or dict).

    Parameters
    ----------
    table : pandas.DataFrame or dict
    evalue : float

    Returns
    -------
    int
    """
    return len({q for q, e in zip(table["Query_ID"], table["E-value"]) if e < evalue})
