"""Motif clustering in the manner of RSAT matrix-clustering.

1. **Pairwise alignment.** For motifs ``i`` and ``j`` (probability matrices (w, 4), A, C, G, T)
   every offset and both strands of ``j`` are tried. For an alignment where ``w`` columns
   overlap, ``cor`` is the Pearson correlation of the aligned 4 × w probability cells and
   ``Ncor = cor * w / W`` with ``W = w_i + w_j - w`` the total width of the alignment. The
   alignment with the largest ``Ncor`` is kept (overlaps shorter than `min_overlap` columns, or
   than the narrower motif, are not considered). All pairs are done at once: the sums of
   products for every pair, offset and strand are one ``conv1d`` of the stacked matrices with
   themselves; since each column sums to 1, the cell sums are ``w`` and the correlation is
   ``(Sxy - w/4) / sqrt((Sxx - w/4) (Syy - w/4))`` with ``Sxx``, ``Syy`` from prefix sums.
2. **Tree.** Average linkage (``scipy.cluster.hierarchy.linkage``) on ``1 - Ncor``.
3. **Clusters.** Bottom-up, a node is valid while both children are valid and the mean ``cor``
   and mean ``Ncor`` over all pairs of its leaves pass the thresholds (defaults 0.75 and 0.55);
   the clusters are the maximal valid nodes (single motifs are always valid).
4. **Progressive alignment.** Along the tree, two aligned groups are joined through the pair
   whose own alignment agrees best column for column (largest ``cor``, ties by ``Ncor``), using
   that pair's offset and strand (the largest-``Ncor`` pair of two partial copies can be a
   longer, wrong overlap); each cluster's
   summary motif is the sum of the aligned counts (each column adds the counts of the members
   that cover it).

Alignment conventions: for motifs ``i`` and ``j``, ``strand[i, j]`` is ``+1`` when ``j`` is
used as is and ``-1`` when its reverse complement is used, and ``offset[i, j] = d`` means column
``t`` of (the oriented) ``j`` lies under column ``d + t`` of ``i`` (``d < 0``: ``j`` starts
before ``i``). In a cluster, a member with strand ``-`` is reverse-complemented and its column
0 sits at column ``offset`` of the cluster's summary.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .errors import check
from .motif import Motif

__all__ = ["PairwiseAlignment", "ClusterResult", "pairwise_alignment", "cluster_motifs", "aligned_matrix",
           "clusters_table"]


class PairwiseAlignment(NamedTuple):
    """Best alignment of every pair of motifs (see the module notes for the conventions).

    Attributes
    ----------
    cor : (M, M) float64
        Pearson correlation over the aligned cells of the best alignment (1 on the diagonal).
    ncor : (M, M) float64
        ``cor * w / W`` of the best alignment (the alignment is chosen by this).
    offset : (M, M) int64
        Column of ``i`` under column 0 of the oriented ``j``.
    strand : (M, M) int64
        +1 (``j`` as is) or -1 (``j`` reverse-complemented).
    overlap : (M, M) int64
        Number of aligned columns w.
    """

    cor: np.ndarray
    ncor: np.ndarray
    offset: np.ndarray
    strand: np.ndarray
    overlap: np.ndarray


class ClusterResult(NamedTuple):
    """Output of :func:`cluster_motifs`.

    Attributes
    ----------
    motifs : list of Motif
        The input motifs.
    labels : (M,) int64
        Cluster number of each motif, 1-based, numbered in dendrogram (leaf) order.
    strand : (M,) int64
        +1 or -1: orientation of each motif in its cluster's alignment.
    offset : (M,) int64
        Column of the cluster summary where the (oriented) motif's column 0 sits.
    summaries : list of Motif
        One per cluster, ``cluster_<n>``: (W, 4) counts, A, C, G, T, the sum of aligned counts.
    linkage : (M - 1, 4) float64
        The scipy linkage matrix of the average-linkage tree on ``1 - Ncor``.
    pairs : PairwiseAlignment
        The pairwise scores.
    """

    motifs: list
    labels: np.ndarray
    strand: np.ndarray
    offset: np.ndarray
    summaries: list
    linkage: np.ndarray
    pairs: PairwiseAlignment


def _stack(probs):
    """Pad (w, 4) matrices with zero columns into (M, 4, Wmax) float64 and return widths."""
    widths = np.array([p.shape[0] for p in probs], dtype=np.int64)
    out = np.zeros((len(probs), 4, int(widths.max())))
    for i, p in enumerate(probs):
        out[i, :, :p.shape[0]] = p.T
    return out, widths


def pairwise_alignment(motifs, min_overlap: int = 5, block: int = 256) -> PairwiseAlignment:
    """Best offset and strand of every pair of motifs, with Pearson ``cor`` and ``Ncor``.

    Parameters
    ----------
    motifs : list of Motif
        M motifs; their probability matrices (w, 4), A, C, G, T, are compared.
    min_overlap : int
        Fewest aligned columns (or the narrower motif's width when that is smaller). Default is 5.
    block : int
        Rows of the (M, M) score matrices computed at a time (bounds memory). Default is 256.

    Returns
    -------
    PairwiseAlignment
        (M, M) arrays; ``cor`` and ``ncor`` are symmetric.
    """
    check(len(motifs) >= 1, "motifs: nothing to compare")
    check(min_overlap >= 1, f"min-overlap: must be at least 1, got {min_overlap}")
    probs = [m.probabilities() for m in motifs]
    fwd, widths = _stack(probs)  # (M, 4, Wm)
    rev, _ = _stack([p[::-1, ::-1] for p in probs])
    M = fwd.shape[0]
    strands = ((fwd, _square_prefix(fwd)), (rev, _square_prefix(rev)))
    ncor, cor = np.empty((M, M)), np.empty((M, M))
    best_off, best_w, best_strand = (np.empty((M, M), dtype=np.int64) for _ in range(3))
    for r0 in range(0, M, block):
        r1 = min(M, r0 + block)
        parts = _best_alignments(strands, widths, r0, r1, min_overlap)
        for whole, part in zip((ncor, cor, best_off, best_w, best_strand), parts):
            whole[r0:r1] = part
    return _symmetric(np.clip(ncor, -1.0, 1.0), np.clip(cor, -1.0, 1.0), best_off, best_strand, best_w, widths)


def _square_prefix(stacked) -> np.ndarray:
    """(M, Wm + 1) prefix sums over columns of each column's sum of squares; `stacked` (M, 4, Wm)."""
    M, _, Wm = stacked.shape
    sq = np.zeros((M, Wm + 1))
    sq[:, 1:] = np.cumsum((stacked ** 2).sum(axis=1), axis=1)
    return sq


def _best_alignments(strands, widths, r0, r1, min_overlap):
    """Rows r0..r1 of the best alignment of each motif with every motif, over both strands.

    `strands` is ((forward (M, 4, Wm), its square prefix), (reverse complement, its prefix)).
    Returns (R, M) arrays: ncor, cor, offset, overlap width, strand (1 forward, -1 reverse)."""
    import torch
    import torch.nn.functional as F

    (fwd, sq), _ = strands
    M, _, Wm = fwd.shape
    # conv1d(input=i, weight=j, padding=Wm-1): out[i, j, s] = sum_t i[:, s - (Wm-1) + t] . j[:, t]
    # so j's column 0 lies under i's column d = s - (Wm - 1).
    d = np.arange(-(Wm - 1), Wm)  # (D,)
    wi, wj = widths[r0:r1, None, None], widths[None, :, None]
    lo_i = np.maximum(0, d)[None, None, :]  # overlap on i: [lo_i, hi_i)
    hi_i = np.minimum(wi, d[None, None, :] + wj)
    w = hi_i - lo_i  # (R, M, D)
    lo_j, hi_j = lo_i - d[None, None, :], hi_i - d[None, None, :]
    valid = w >= np.minimum(min_overlap, np.minimum(wi, wj))
    wc = np.clip(w, 0, None)
    rows, cols = np.arange(r0, r1)[:, None, None], np.arange(M)[None, :, None]
    sxx = sq[rows, np.clip(hi_i, 0, Wm)] - sq[rows, np.clip(lo_i, 0, Wm)]
    best = None
    for tw, sqj in strands:
        sxy = F.conv1d(torch.from_numpy(fwd[r0:r1]), torch.from_numpy(tw), padding=Wm - 1).numpy()  # (R, M, D)
        syy = sqj[cols, np.clip(hi_j, 0, Wm)] - sqj[cols, np.clip(lo_j, 0, Wm)]
        q = wc / 4.0
        den = np.sqrt(np.clip(sxx - q, 0, None) * np.clip(syy - q, 0, None))
        with np.errstate(divide="ignore", invalid="ignore"):
            cor = np.where(valid & (den > 1e-12), (sxy - q) / den, 0.0)
            ncor = cor * wc / (wi + wj - wc)
        ncor = np.where(valid, ncor, -np.inf)
        k = np.argmax(ncor, axis=2)  # (R, M)
        take = lambda a: np.take_along_axis(a, k[..., None], axis=2)[..., 0]  # noqa: E731
        cand = (take(ncor), take(cor), d[k], take(np.broadcast_to(w, ncor.shape)))
        if best is None:
            best = cand + (np.ones_like(k),)
        else:
            better = cand[0] > best[0] + 1e-12
            best = tuple(np.where(better, c, b) for c, b in zip(cand, best[:4])) + (np.where(better, -1, best[4]),)
    return best


def _symmetric(ncor, cor, best_off, best_strand, best_w, widths) -> PairwiseAlignment:
    """The (M, M) results with symmetric scores (the upper triangle's values for both halves) and
    each motif aligned with itself on the diagonal."""
    M = ncor.shape[0]
    iu = np.triu_indices(M, 1)
    ncor.T[iu] = ncor[iu]
    cor.T[iu] = cor[iu]
    np.fill_diagonal(ncor, 1.0)
    np.fill_diagonal(cor, 1.0)
    np.fill_diagonal(best_off, 0)
    np.fill_diagonal(best_strand, 1)
    np.fill_diagonal(best_w, widths)
    return PairwiseAlignment(cor, ncor, best_off, best_strand, best_w)


def _place(pairs, widths, frame_a, frame_b, a, b):
    """Join group B onto group A's frame through the pair (a in A, b in B).

    `frame_a`, `frame_b` map motif index -> (strand, offset) in their own frames. Returns the
    merged mapping, shifted so the smallest offset is 0.
    """
    sa, oa = frame_a[a]
    s_ab, o_ab = int(pairs.strand[a, b]), int(pairs.offset[a, b])
    wa, wb = int(widths[a]), int(widths[b])
    if sa == 1:
        S, O = s_ab, oa + o_ab
    else:
        S, O = -s_ab, oa + wa - wb - o_ab
    sb, ob = frame_b[b]
    merged = dict(frame_a)
    if sb == S:
        shift = O - ob
        for m, (s, o) in frame_b.items():
            merged[m] = (s, o + shift)
    else:
        shift = O + ob + wb
        for m, (s, o) in frame_b.items():
            merged[m] = (-s, shift - o - int(widths[m]))
    low = min(o for _, o in merged.values())
    return {m: (s, o - low) for m, (s, o) in merged.items()}


def aligned_matrix(motifs, strand, offset, values: str = "counts") -> np.ndarray:
    """Stack motifs into one aligned array, each oriented and shifted as given.

    Parameters
    ----------
    motifs : list of Motif
        n motifs.
    strand : (n,) int array
        +1 or -1 (reverse-complement).
    offset : (n,) int array
        Column of the alignment where each oriented motif's column 0 sits (>= 0).
    values : str
        ``counts``, ``probabilities`` or ``heights`` (letter heights ``p * IC`` in bits).
        Default is ``counts``.

    Returns
    -------
    numpy.ndarray
        (n, W, 4) float64, A, C, G, T, W = the alignment width; NaN where a motif has no column.
    """
    check(values in ("counts", "probabilities", "heights"), f"values: unknown {values!r}")
    oriented = [m if s > 0 else m.reverse_complement() for m, s in zip(motifs, strand)]
    W = max(int(o) + m.width for m, o in zip(oriented, offset))
    out = np.full((len(motifs), W, 4), np.nan)
    for i, (m, o) in enumerate(zip(oriented, offset)):
        mat = {"counts": m.counts, "probabilities": m.probabilities(), "heights": m.letter_heights()}[values]
        out[i, int(o):int(o) + m.width] = mat
    return out


def _valid_nodes(Z, cor, ncor, min_cor, min_ncor):
    """For each node of a linkage (leaves 0..M-1, then merges), its leaves and validity."""
    M = len(Z) + 1
    leaves = [[i] for i in range(M)]
    valid = [True] * M
    for a, b, *_ in Z:
        a, b = int(a), int(b)
        members = leaves[a] + leaves[b]
        ok = valid[a] and valid[b]
        if ok:
            idx = np.array(members)
            sub_c, sub_n = cor[np.ix_(idx, idx)], ncor[np.ix_(idx, idx)]
            iu = np.triu_indices(len(idx), 1)
            ok = bool(sub_c[iu].mean() >= min_cor and sub_n[iu].mean() >= min_ncor)
        leaves.append(members)
        valid.append(ok)
    return leaves, valid


def cluster_motifs(motifs, min_cor: float = 0.75, min_ncor: float = 0.55, min_overlap: int = 5) -> ClusterResult:
    """Cluster motifs as RSAT matrix-clustering does (see the module notes).

    Parameters
    ----------
    motifs : list of Motif
        M >= 1 motifs, (w, 4) counts, A, C, G, T.
    min_cor : float
        A node is a cluster only while the mean Pearson ``cor`` of its members' pairs is at least
        this. Default is 0.75.
    min_ncor : float
        ... and their mean ``Ncor`` is at least this. Default is 0.55.
    min_overlap : int
        Fewest aligned columns in a pairwise alignment. Default is 5.

    Returns
    -------
    ClusterResult
        Labels, strands and offsets per motif, summary motifs, the linkage and pairwise scores.
    """
    check(len(motifs) >= 1, "motifs: nothing to cluster")
    ids = [m.id for m in motifs]
    check(len(set(ids)) == len(ids), "motifs: IDs must be unique to cluster them")
    M = len(motifs)
    pairs = pairwise_alignment(motifs, min_overlap=min_overlap)
    widths = np.array([m.width for m in motifs])
    Z, order = _tree(pairs.ncor)
    leaves, valid = _valid_nodes(Z, pairs.cor, pairs.ncor, min_cor, min_ncor)
    frames = _align_nodes(Z, leaves, valid, pairs, widths)
    rank = {int(leaf): r for r, leaf in enumerate(order)}
    roots = _cluster_roots(Z, leaves, valid, rank)
    labels = np.zeros(M, dtype=np.int64)
    strand = np.ones(M, dtype=np.int64)
    offset = np.zeros(M, dtype=np.int64)
    summaries = []
    for c, n in enumerate(roots, start=1):
        members = sorted(leaves[n], key=lambda i: rank[i])
        for i in members:
            labels[i] = c
            strand[i], offset[i] = frames[n][i]
        summaries.append(_summary(c, [motifs[i] for i in members], strand[members], offset[members]))
    return ClusterResult(list(motifs), labels, strand, offset, summaries, Z, pairs)


def _tree(ncor):
    """Average-linkage tree of the motifs on the distance 1 - Ncor (ncor (M, M)): the linkage Z
    (M - 1, 4) and the leaf order (M,); for one motif an empty Z and order [0]."""
    from scipy.cluster.hierarchy import leaves_list, linkage
    from scipy.spatial.distance import squareform

    if ncor.shape[0] == 1:
        return np.zeros((0, 4)), np.array([0])
    dist = np.clip(1.0 - ncor, 0.0, None)
    np.fill_diagonal(dist, 0.0)
    Z = linkage(squareform(dist, checks=False), method="average")
    return Z, leaves_list(Z)


def _align_nodes(Z, leaves, valid, pairs, widths) -> dict:
    """Progressive alignment of every valid node, bottom-up: node -> {motif: (strand, offset)}
    in the node's frame (a leaf is its own frame)."""
    M = widths.shape[0]
    frames = {i: {i: (1, 0)} for i in range(M)}
    for n, (a, b, *_) in enumerate(Z, start=M):
        a, b = int(a), int(b)
        if not valid[n]:
            continue
        la, lb = np.array(leaves[a]), np.array(leaves[b])
        # Anchor the join on the pair whose own alignment agrees best column for column (cor,
        # ties by Ncor): the best-Ncor pair of two partial copies can be a longer, wrong overlap.
        cor, ncor = pairs.cor[np.ix_(la, lb)], pairs.ncor[np.ix_(la, lb)]
        ia, ib = np.unravel_index(int(np.lexsort((-ncor.ravel(), -cor.ravel()))[0]), cor.shape)
        frames[n] = _place(pairs, widths, frames[a], frames[b], int(la[ia]), int(lb[ib]))
    return frames


def _cluster_roots(Z, leaves, valid, rank) -> list:
    """The maximal valid nodes, found top-down, in the order of their first leaf in the tree
    (rank: leaf -> position)."""
    M = len(rank)
    roots = []
    stack = [len(leaves) - 1]
    while stack:
        n = stack.pop()
        if valid[n]:
            roots.append(n)
        else:
            a, b = int(Z[n - M, 0]), int(Z[n - M, 1])
            stack.extend([a, b])
    roots.sort(key=lambda n: min(rank[i] for i in leaves[n]))
    return roots


def _summary(c, members, strand, offset) -> Motif:
    """Cluster c's summary motif: the summed counts of its members aligned (strand, offset)."""
    counts = np.nansum(aligned_matrix(members, strand, offset), axis=0)
    name = ",".join(m.id for m in members[:3]) + (",..." if len(members) > 3 else "")
    return Motif(id=f"cluster_{c}", counts=counts, name=f"{len(members)}:{name}".replace(" ", "_"), source="cluster")


def clusters_table(result: ClusterResult):
    """The per-motif table written as ``clusters.tsv``.

    Parameters
    ----------
    result : ClusterResult

    Returns
    -------
    pandas.DataFrame
        Columns ``motif``, ``name``, ``cluster``, ``strand`` (``+``/``-``), ``offset``, ``width``;
        one row per motif in dendrogram order.
    """
    import pandas as pd
    from scipy.cluster.hierarchy import leaves_list

    order = leaves_list(result.linkage) if len(result.motifs) > 1 else np.array([0])
    return pd.DataFrame({
        "motif": [result.motifs[i].id for i in order],
        "name": [result.motifs[i].name for i in order],
        "cluster": [f"cluster_{result.labels[i]}" for i in order],
        "strand": ["+" if result.strand[i] > 0 else "-" for i in order],
        "offset": [int(result.offset[i]) for i in order],
        "width": [result.motifs[i].width for i in order],
    })
