"""numba kernels for :mod:`motifq.compare` (private; the public API is in ``compare.py``).

Everything here follows MEME's ``tomtom.c`` (complete scores), per query motif:

1. ``_score_rows2`` / ``_score_row``: the score of every query column against every target column
   (both strands; two query columns per pass over the target columns),
   for ``dist`` 0 = ``ed`` (-sqrt(sum (q-t)^2)), 1 = ``pearson`` (correlation of the two columns
   around 1/4), 2 = ``sandelin`` (2 - sum (q-t)^2).
2. ``_row_stats`` (from ``_score_and_medians``): each row is shifted by its median (MEME's
   quantile: the mean of the sorted entries at ``floor(n/2)-1`` and ``ceil(n/2)-1``), so that
   an unaligned query column adds 0.
3. ``_offset_scale``, ``_diagonal_sums``: the shifted scores are discretised with one offset and
   scale per query: ``offset = floor(min)``, ``scale = floor(BINS / (max - offset))``,
   ``bin = nint((x - offset) * scale)`` in ``[0, BINS]``, and summed along the diagonals.
4. ``_best_offsets``: for each target and strand, the offset with the highest complete score
   (ties: larger overlap, then the first offset), within the allowed overlaps, on MEME's
   "extended" axis, on which an alignment's value is ``sum of bins + (W - overlap) * K`` with
   ``K = -offset * scale``: the complete score with the median (0) for the unaligned query
   columns, shifted to be >= 0.
5. ``_span_tables``: the null distribution of the summed bins over every span of query columns
   (each column drawn independently from its histogram over all target columns), by dynamic
   programming, on the extended axis. Only the upper tail from the lowest best score of step 4
   that is looked up in a span is needed; partial sums that provably cannot reach it are
   dropped as the distributions grow (the tails kept are the same sums).
6. ``_target_pvalues``, ``_pvalues_batch``: the p-value of a complete score ``E`` for a target
   of width ``w`` is the chance that the best of all ``W + w - 1`` alignments on both strands
   (independent under the null) reaches ``E``: ``1 - prod_a P(S_a < E)^2``. MEME builds the
   pmf of that maximum and sums its tail; the product form gives the same number, and when it
   is small it is evaluated as ``-expm1(2 * sum_a log1p(-P(S_a >= E)))`` so that small
   p-values keep full precision.
7. ``_report_strands``: the reported strand of each target, the reverse one when its p-value is
   lower, or equal with a larger overlap.

``_one_query`` is the short driver of these steps for one query; the targets, a thread's
scratch arrays and the outputs travel as small records of arrays (``_Targets``,
``_Workspace``, ``_Outputs``: typed NamedTuples, which numba compiles as tuples). The steps
that are called from one place only are inlined by numba (``inline="always"``), so the
compiled code is one function per query around the same hot loops as before the steps were
split out (same speed, and numba compiles and optimises fewer separate functions).
``tomtom_kernel`` runs the queries (``_run_queries``, compiled without the GIL) on as many
Python threads as numba is set to use (``numba.set_num_threads``, ``NUMBA_NUM_THREADS``),
handing out chunks of queries, widest first, as threads finish their last one.

Arrays: query and target columns are (n_columns, 4) float64, A, C, G, T order, probabilities
after the pseudocount.
"""
from __future__ import annotations

import math
import threading
from typing import NamedTuple

import numpy as np

from .cache import configure_numba_cache

configure_numba_cache()  # before numba is imported: the cache goes to a private per-user folder

from numba import njit  # noqa: E402

BINS = 100
_SMALL_P = 1e-3


_NB = 4096

#: The workspaces of the last :func:`tomtom_kernel` call, by shape, if they total at most
#: _KEEP_BYTES (a call takes them, so concurrent calls never share one).
_KEPT: dict = {}
_KEPT_LOCK = threading.Lock()
_KEEP_BYTES = 64 << 20


@njit(cache=True, error_model="numpy")
def pseudo_columns(c, ns, pseudo, bg):
    """MEME's ``apply_pseudocount_to_motif`` on the columns of many motifs at once.

    c : (n_columns, 4) float64
        Counts, A, C, G, T, motifs one after another.
    ns : (n_columns,) float64
        The nsites of each column's motif (0: unknown).
    Returns (n_columns, 4) float64: ``p = c / column sum``, or ``c / nsites`` when the column
    sum is within 1e-5 (relative) of nsites; then, unless `pseudo` is 0,
    ``(p * sites + pseudo * bg) / (sites + pseudo)`` with sites = trunc(nsites), 20 when unknown.
    """
    n = c.shape[0]
    out = np.empty((n, 4))
    pb = pseudo * bg
    for i in range(n):
        tot = ((c[i, 0] + c[i, 1]) + c[i, 2]) + c[i, 3]
        s = ns[i]
        if abs(tot - s) <= 1e-5 * s:
            d = s if s > 0 else 1.0
        else:
            d = tot
        sites = math.trunc(s) if s > 0 else 20.0
        for a in range(4):
            x = c[i, a] / d
            if pseudo != 0:
                x = (x * sites + pb[a]) / (sites + pseudo)
            out[i, a] = x
    return out


@njit(cache=True, error_model="numpy")
def target_rows(cols, widths, order, pearson):
    """The target columns of both strands as rows, for :func:`tomtom_kernel`.

    cols : (n_columns, 4) float64, A, C, G, T, targets one after another; widths (n_targets,).
    order : (n_targets,) int64, the order to lay the targets out in (:func:`tomtom_kernel` wants
        them by width, ``np.argsort(widths, kind="stable")``, and otherwise copies them so).
    Returns Tt (4, 2 * n_columns): the forward columns of the targets in `order`, then each
    target's reverse complement (column c is the target's column w - 1 - c with A, C, G, T
    reversed) in the same order; for pearson each column minus 1/4, divided by its norm (0 for a
    uniform column); and t_start (2, n_targets), each target's first column on the forward
    (row 0) and reverse (row 1) strand, in the input order.
    """
    n = cols.shape[0]
    nt = widths.shape[0]
    Tt = np.empty((4, 2 * n))
    t_start = np.empty((2, nt), np.int64)
    src = np.empty(nt, np.int64)  # each target's first row in cols
    start = 0
    for k in range(nt):
        src[k] = start
        start += widths[k]
    start = 0
    for r in range(nt):
        k = order[r]
        w = widths[k]
        s0 = src[k]
        t_start[0, k] = start
        t_start[1, k] = n + start
        for c in range(w):
            for a in range(4):
                Tt[a, start + c] = cols[s0 + c, a]
                Tt[a, n + start + c] = cols[s0 + w - 1 - c, 3 - a]
        start += w
    if pearson:
        for j in range(2 * n):
            x0 = Tt[0, j] - 0.25
            x1 = Tt[1, j] - 0.25
            x2 = Tt[2, j] - 0.25
            x3 = Tt[3, j] - 0.25
            norm = math.sqrt(((x0 * x0 + x1 * x1) + x2 * x2) + x3 * x3)
            if norm > 0:
                x0, x1, x2, x3 = x0 / norm, x1 / norm, x2 / norm, x3 / norm
            else:
                x0 = x1 = x2 = x3 = 0.0
            Tt[0, j] = x0
            Tt[1, j] = x1
            Tt[2, j] = x2
            Tt[3, j] = x3
    return Tt, t_start


@njit(cache=True)
def _query_column(dist, Q, qc):
    """Query column qc as the scoring loops use it: (a0, a1, a2, a3, inv); for pearson the
    column minus 1/4 and the inverse of its norm (0 for a uniform column), else as it is."""
    a0, a1, a2, a3 = Q[qc, 0], Q[qc, 1], Q[qc, 2], Q[qc, 3]
    if dist != 1:
        return a0, a1, a2, a3, 1.0
    c0, c1, c2, c3 = a0 - 0.25, a1 - 0.25, a2 - 0.25, a3 - 0.25
    qn = c0 * c0 + c1 * c1 + c2 * c2 + c3 * c3
    return c0, c1, c2, c3, (1.0 / math.sqrt(qn) if qn > 0.0 else 0.0)


@njit(cache=True)
def _column_score(dist, a0, a1, a2, a3, inv, u0, u1, u2, u3):
    """Score of a query column (from :func:`_query_column`) against target column u."""
    if dist == 1:
        return (a0 * u0 + a1 * u1 + a2 * u2 + a3 * u3) * inv
    d0 = a0 - u0
    d1 = a1 - u1
    d2 = a2 - u2
    d3 = a3 - u3
    if dist == 0:
        return -math.sqrt(d0 * d0 + d1 * d1 + d2 * d2 + d3 * d3)
    return 2.0 - (d0 * d0 + d1 * d1 + d2 * d2 + d3 * d3)


@njit(cache=True)
def _bucket(x, lo, f):
    """The bucket of score x for :func:`_row_stats`: ``int((x - lo) * f)`` clipped to
    [0, _NB - 1]."""
    return min(max(int((x - lo) * f), 0), _NB - 1)


@njit(cache=True)
def _score_row(dist, Q, qc, Tt, r, idx, lo, f):
    """Fill ``r[j]`` with the score of query column ``qc`` against target column j, and
    ``idx[j]`` with its bucket (:func:`_bucket`).

    Q : (n_query_columns, 4) float64, A, C, G, T.
    Tt : (4, n_target_columns) float64, A, C, G, T rows; for pearson the columns minus 1/4,
        divided by their norm (0 for a uniform column).
    r : (n_target_columns,) float64, written.
    idx : (n_target_columns,) int16, written.
    """
    t0, t1, t2, t3 = Tt[0], Tt[1], Tt[2], Tt[3]
    a0, a1, a2, a3, ai = _query_column(dist, Q, qc)
    for j in range(Tt.shape[1]):
        x = _column_score(dist, a0, a1, a2, a3, ai, t0[j], t1[j], t2[j], t3[j])
        r[j] = x
        idx[j] = _bucket(x, lo, f)


@njit(cache=True)
def _score_rows2(dist, Q, qa, Tt, ra, rb, ia, ib, lo, f):
    """:func:`_score_row` for query columns qa and qa + 1 in one pass over the target columns
    (each target column is loaded once for both), into ra, ia and rb, ib."""
    t0, t1, t2, t3 = Tt[0], Tt[1], Tt[2], Tt[3]
    a0, a1, a2, a3, ai = _query_column(dist, Q, qa)
    b0, b1, b2, b3, bi = _query_column(dist, Q, qa + 1)
    for j in range(Tt.shape[1]):
        u0, u1, u2, u3 = t0[j], t1[j], t2[j], t3[j]
        x = _column_score(dist, a0, a1, a2, a3, ai, u0, u1, u2, u3)
        y = _column_score(dist, b0, b1, b2, b3, bi, u0, u1, u2, u3)
        ra[j] = x
        rb[j] = y
        ia[j] = _bucket(x, lo, f)
        ib[j] = _bucket(y, lo, f)


#: Range of each column score (ed, pearson, sandelin), used to bucket a row for its median.
_RANGE = np.array([[-1.4142135623730951, 0.0], [-1.0, 1.0], [0.0, 2.0]])


@njit(cache=True)
def _row_stats(row, k1, k2, idx, counts, buf):
    """Exact MEME median of one row in linear time, and the buckets of its min and max.

    MEME's shift quantile is the mean of the sorted entries at ranks k1 and k2 (0-based). idx
    (n,) int16 holds each entry's bucket (``_NB`` equal buckets over the score's range, filled
    by :func:`_score_row` / :func:`_score_rows2` with :func:`_bucket`; monotone in the entry);
    the buckets holding the two ranks are found from the counts and only their entries are
    searched (:func:`_select`). Returns (median, b0, b1): b0 and b1 are the first and last
    non-empty buckets (they hold the minimum and maximum, which :func:`_score_and_medians`
    bounds with them). counts (_NB,) int32 and buf (n,) float64 are scratch.
    """
    n = row.shape[0]
    counts[:] = 0
    for j in range(n):
        counts[np.uint64(idx[j])] += 1
    b0 = 0
    while counts[b0] == 0:
        b0 += 1
    b1 = _NB - 1
    while counts[b1] == 0:
        b1 -= 1
    cum1 = 0
    m1 = b0
    while cum1 + counts[m1] <= k1:
        cum1 += counts[m1]
        m1 += 1
    cum2 = cum1
    m2 = m1
    while cum2 + counts[m2] <= k2:
        cum2 += counts[m2]
        m2 += 1
    # the buckets strictly between m1 and m2 are empty: one unsigned range test finds both.
    # Few entries match, so blocks of 64 are first counted (vectorised), and only the blocks
    # with a match are searched.
    lo16 = np.int16(m1)
    w16 = np.uint16(m2 - m1)
    nb = 0
    for jb in range(0, n, 64):
        blk = idx[jb:jb + 64]  # a view: the counting loop then vectorises
        hits = np.int32(0)
        for j in range(blk.shape[0]):
            hits += np.int32(np.uint16(blk[j] - lo16) <= w16)
        if hits:
            for j in range(blk.shape[0]):
                if np.uint16(blk[j] - lo16) <= w16:
                    buf[nb] = row[jb + j]
                    nb += 1
    # ranks k1 and k2 are at k1 - cum1 and k2 - cum1 among them (k2 = k1 or k1 + 1)
    r1 = k1 - cum1
    a = _select(buf, nb, r1)
    b2 = a
    if k2 > k1:  # the next one up: the smallest of those placed above r1
        b2 = buf[r1 + 1]
        for j in range(r1 + 2, nb):
            b2 = min(b2, buf[j])
    return (a + b2) / 2.0, b0, b1


@njit(cache=True)
def _select(buf, nb, r):
    """The r-th smallest (0-based) of buf[:nb], in linear expected time; buf[:nb] is reordered
    so that it is at buf[r], with no larger value before and no smaller value after it.
    Three-way partitions (many scores tie: target columns that are alike)."""
    lo = 0
    hi = nb - 1
    while lo < hi:
        x0 = buf[lo]
        x1 = buf[(lo + hi) // 2]
        x2 = buf[hi]
        pivot = max(min(x0, x1), min(max(x0, x1), x2))  # median of three
        lt = lo
        gt = hi
        i = lo
        while i <= gt:
            v = buf[i]
            if v < pivot:
                buf[i] = buf[lt]
                buf[lt] = v
                lt += 1
                i += 1
            elif v > pivot:
                buf[i] = buf[gt]
                buf[gt] = v
                gt -= 1
            else:
                i += 1
        if r < lt:
            hi = lt - 1
        elif r > gt:
            lo = gt + 1
        else:
            return pivot
    return buf[r]


_PAD = 8  # zeros kept around a distribution's support: the taps of _convolve8 read 7 past it
_UNUSED = np.int64(1) << 40  # a threshold above every complete score


@njit(cache=True)
def _convolve8(cur, nxt, prob_e, plo, phi, hlo, hhi, nlo, nhi):
    """nxt[t] = sum_a prob_e[a] * cur[t - a] for t in [nlo, nhi] (indices shifted by _PAD).

    cur's support is [plo, phi], prob_e's [hlo, hhi]; nlo may lie above plo + hlo (the outputs
    below it are not wanted). Eight taps per pass over the output, so each output element is
    loaded and stored once per eight multiply-adds. cur must be zero in the 7 entries on each
    side of its support; prob_e has 7 zero entries past hhi.
    """
    nxt[nlo + _PAD:nhi + 1 + _PAD] = 0.0  # a slice: a loop over k + _PAD compiled to scatters
    for a in range(hlo, hhi + 1, 8):
        c0 = prob_e[a]
        c1 = prob_e[a + 1]
        c2 = prob_e[a + 2]
        c3 = prob_e[a + 3]
        c4 = prob_e[a + 4]
        c5 = prob_e[a + 5]
        c6 = prob_e[a + 6]
        c7 = prob_e[a + 7]
        t_lo = max(plo + a, nlo)
        t_hi = min(phi + a + 7, nhi)
        m = t_hi - t_lo + 1
        if m <= 0:
            continue
        y = nxt[t_lo + _PAD:t_lo + _PAD + m]
        b = t_lo - a + _PAD
        x0 = cur[b:b + m]
        x1 = cur[b - 1:b - 1 + m]
        x2 = cur[b - 2:b - 2 + m]
        x3 = cur[b - 3:b - 3 + m]
        x4 = cur[b - 4:b - 4 + m]
        x5 = cur[b - 5:b - 5 + m]
        x6 = cur[b - 6:b - 6 + m]
        x7 = cur[b - 7:b - 7 + m]
        for k in range(m):
            y[k] += ((c0 * x0[k] + c1 * x1[k] + c2 * x2[k] + c3 * x3[k])
                     + (c4 * x4[k] + c5 * x5[k] + c6 * x6[k] + c7 * x7[k]))


class _Spans(NamedTuple):
    """The null distribution of every span (s, e) of query columns, on the extended axis, from
    :func:`_span_tables`: each (W, W) int64 but ``tail``.

    Span (s, e) has support [lo, hi], and ``tail[off + k - cut] = P(S >= k)`` for k in
    [cut, hi + 1] (P(S >= k) is 1 for k <= lo, 0 above hi).
    """

    lo: np.ndarray
    hi: np.ndarray
    cut: np.ndarray
    off: np.ndarray
    tail: np.ndarray  # (n_entries,) float64


@njit(cache=True, inline="always")
def _hist_support(hist):
    """The lowest and highest non-empty bin of each row of hist (W, BINS + 1) int64; two (W,)
    int64 arrays (BINS and 0 for an empty row)."""
    W = hist.shape[0]
    hlo = np.empty(W, np.int64)
    hhi = np.empty(W, np.int64)
    for i in range(W):
        lo = BINS
        hi = 0
        for b in range(BINS + 1):
            if hist[i, b] > 0:
                if b < lo:
                    lo = b
                if b > hi:
                    hi = b
        hlo[i] = lo
        hhi[i] = hi
    return hlo, hhi


@njit(cache=True, inline="always")
def _keep_bounds(thr, hhi, K):
    """keep (W, W) int64: keep[s, e] is the lowest extended value worth keeping after column e
    of start s, ``min over e' >= e of (thr[s, e'] - sum over e < c <= e' of (hhi[c] - K))``."""
    W = thr.shape[0]
    keep = np.empty((W, W), np.int64)
    for s in range(W):
        c = thr[s, W - 1]
        keep[s, W - 1] = c
        for e in range(W - 2, s - 1, -1):
            c = min(thr[s, e], c - (hhi[e + 1] - K))
            keep[s, e] = c
    return keep


@njit(cache=True, inline="always")
def _span_layout(hlo, hhi, thr, K):
    """Support, cut and place in the tail array of every span (:class:`_Spans`), with the tail
    array zeroed: cut = min(max(lo + 1, thr[s, e]), hi + 1), and the entries from cut to hi + 1
    (the last one 0)."""
    W = thr.shape[0]
    sp_lo = np.zeros((W, W), np.int64)
    sp_hi = np.zeros((W, W), np.int64)
    sp_cut = np.zeros((W, W), np.int64)
    sp_off = np.zeros((W, W), np.int64)
    total = 0
    for s in range(W):
        lo = 0
        hi = 0
        for e in range(s, W):
            lo += hlo[e]
            hi += hhi[e]
            shift = (W - (e - s + 1)) * K
            sp_lo[s, e] = lo + shift
            sp_hi[s, e] = hi + shift
            sp_cut[s, e] = min(max(lo + shift + 1, thr[s, e]), hi + shift + 1)
            sp_off[s, e] = total
            total += hi + shift - sp_cut[s, e] + 2  # the last entry, k = sp_hi + 1, is 0
    return _Spans(sp_lo, sp_hi, sp_cut, sp_off, np.zeros(total, np.float64))


@njit(cache=True, inline="always")
def _column_probabilities(hist, nt_cols):
    """hist (W, BINS + 1) int64 divided by the number of target columns, each row followed by
    _PAD zeros (the taps of :func:`_convolve8` read past the support): (W, BINS + 1 + _PAD)."""
    W = hist.shape[0]
    inv = 1.0 / nt_cols
    prob = np.zeros((W, BINS + 1 + _PAD), np.float64)
    for i in range(W):
        for b in range(BINS + 1):
            prob[i, b] = hist[i, b] * inv
    return prob


@njit(cache=True, inline="always")
def _tails_from(s, prob, hlo, hhi, keep, K, sp, cur, nxt):
    """The tails of the spans (s, e), e = s .. W - 1, into sp.tail: the distribution of the
    summed bins grows one column at a time (:func:`_convolve8`, on the own axis: the sum of the
    bins; ``shift`` moves it to the extended axis), its values below keep[s, e] dropped.
    cur and nxt (BINS * W + 1 + 2 * _PAD,) float64 are scratch."""
    W = prob.shape[0]
    plo = max(hlo[s], keep[s, s] - (W - 1) * K)
    phi = hhi[s]
    if plo > phi:
        return  # nothing from this start reaches a threshold: its tails stay 0
    cur[plo - 7 + _PAD:plo + _PAD] = 0.0
    cur[plo + _PAD:phi + 1 + _PAD] = prob[s, plo:phi + 1]
    cur[phi + 1 + _PAD:phi + 8 + _PAD] = 0.0
    for e in range(s, W):
        shift = (W - (e - s + 1)) * K
        if e > s:
            nlo = max(plo + hlo[e], keep[s, e] - shift)
            nhi = phi + hhi[e]
            if nlo > nhi:
                break
            _convolve8(cur, nxt, prob[e], plo, phi, hlo[e], hhi[e], nlo, nhi)
            cur, nxt = nxt, cur
            plo = nlo
            phi = nhi
            cur[plo - 7 + _PAD:plo + _PAD] = 0.0
            cur[phi + 1 + _PAD:phi + 8 + _PAD] = 0.0
        off = sp.off[s, e]
        cut = sp.cut[s, e]
        acc = 0.0
        for k in range(sp.hi[s, e], cut - 1, -1):
            acc += cur[k - shift + _PAD]
            sp.tail[off + k - cut] = acc


@njit(cache=True)
def _span_tables(hist, W, K, nt_cols, thr):
    """Step 5: upper tails of the null distribution of every span of query columns, on the
    extended axis, each from the lowest complete score that is looked up in it.

    hist : (W, BINS + 1) int64, histogram of each query column's bins over all target columns.
    thr : (W, W) int64, for span (s, e) the lowest complete score whose tail is wanted
        (_UNUSED: none).
    Returns :class:`_Spans`: span (s, e) has support [lo, hi] on the extended axis, and
    ``tail[off + k - cut] = P(S >= k)`` for k in [cut, hi + 1],
    cut = min(max(lo + 1, thr[s, e]), hi + 1).

    The distributions grow one column at a time from each start s (:func:`_tails_from`). A
    partial sum that cannot reach the threshold of any later span of its start, even if every
    column added on the way took its highest bin, never adds to a tail that is read, so it is
    dropped as soon as that is certain: after column e, the values below ``min over e' >= e of
    (thr[s, e'] - sum over e < c <= e' of (hi_c - K))`` on the extended axis (a column adds
    hi_c - K at most there; :func:`_keep_bounds`). The tails that are kept are then the same
    sums of the same terms as without the cut.
    """
    hlo, hhi = _hist_support(hist)
    keep = _keep_bounds(thr, hhi, K)
    sp = _span_layout(hlo, hhi, thr, K)
    prob = _column_probabilities(hist, nt_cols)
    size = BINS * W + 1 + 2 * _PAD
    cur = np.zeros(size, np.float64)
    nxt = np.zeros(size, np.float64)
    for s in range(W):
        _tails_from(s, prob, hlo, hhi, keep, K, sp, cur, nxt)
    return sp


@njit(cache=True, inline="always")
def _span_of(W, tw, i):
    """The query columns (s, e) overlapped by alignment i of a width-`tw` target (tomtom.c's
    enumeration: i < W slides the target's start along the query, then its end)."""
    if i < W:
        s = W - i - 1
        e = min(W, s + tw) - 1
    else:
        s = 0
        e = min(W, tw + W - i - 1) - 1
    return s, e


@njit(cache=True, inline="always")
def _small_pvalue(sp, W, tw, k, norient):
    """The p-value of complete score k, ``-expm1(norient * sum_a log1p(-P(S_a >= k)))``, for
    when ``1 - prod_a P(S_a < k)^norient`` is below _SMALL_P (full precision)."""
    acc = 0.0
    for i in range(W + tw - 1):
        s, e = _span_of(W, tw, i)
        if k <= sp.lo[s, e]:
            t = 1.0
        else:
            cut = sp.cut[s, e]
            t = min(sp.tail[sp.off[s, e] + max(min(k, sp.hi[s, e] + 1), cut) - cut], 1.0)
        acc += math.log1p(-t)
    return -math.expm1(norient * acc)


@njit(cache=True)
def _pvalues_batch(sp, W, tw, Es, m, norient, out, prod):
    """Step 6: p-values of the complete scores Es[:m] for a width-`tw` target, into out[:m].

    P(best of the W + tw - 1 alignments on `norient` strands >= E) = 1 - prod_a P(S_a < E)^norient,
    evaluated as -expm1(norient * sum_a log1p(-P(S_a >= E))) when it is below _SMALL_P
    (:func:`_small_pvalue`). Each E is -1 (no alignment allowed: p = 1) or at least the `thr`
    of :func:`_span_tables`. sp: :class:`_Spans`; prod (>= m,) float64 is scratch.
    """
    es = Es[:m]
    pr_ = prod[:m]
    for u in range(m):
        pr_[u] = 1.0
    for i in range(W + tw - 1):
        s, e = _span_of(W, tw, i)
        lo = sp.lo[s, e]
        top = sp.hi[s, e] + 1
        cut = sp.cut[s, e]
        ts = sp.tail[sp.off[s, e]:]
        # P(S < k): 0 for k <= lo, else 1 - tail (whose entry at sp_hi + 1 is 0); the index is
        # clipped into the stored range so that the loop has no branch
        for u in range(m):
            k = es[u]
            pr_[u] *= (1.0 - ts[max(min(k, top), cut) - cut]) * (k > lo)
    for u in range(m):
        pr = prod[u]
        if norient == 2:
            pr *= pr
        p = 1.0 - pr
        if p < _SMALL_P:
            p = _small_pvalue(sp, W, tw, Es[u], norient)
        out[u] = min(max(p, 0.0), 1.0)


@njit(cache=True)
def _bin_row(r, med, offset, scale, bt, h, prev, cur, first):
    """One query column's bins and their diagonal prefix sums.

    bt = nint(((r - med) - offset) * scale) (MEME's shift, then scale_score_matrix), its
    histogram added into h (BINS + 1,), and cur[j] = bt[j] + prev[j - 1] (cur = bt for the first
    column): cumulative sums of the bins along the diagonals of the (query column, target
    column) matrix.
    """
    n = r.shape[0]
    b0 = int(((r[0] - med) - offset) * scale + 0.5)
    bt[0] = b0
    cur[0] = b0
    if first:
        for j in range(1, n):
            b = int(((r[j] - med) - offset) * scale + 0.5)
            bt[j] = b
            cur[j] = b
    else:
        p = prev[0:n - 1]
        c = cur[1:n]
        x = r[1:n]
        bb = bt[1:n]
        for j in range(n - 1):
            b = int(((x[j] - med) - offset) * scale + 0.5)
            bb[j] = b
            c[j] = b + p[j]
    # four partial histograms, so that increments of the same bin in neighbouring entries do
    # not wait on one another
    h4 = np.zeros((4, BINS + 1), np.int32)
    n4 = n - n % 4
    for j in range(0, n4, 4):
        h4[0, np.uint64(bt[j])] += 1
        h4[1, np.uint64(bt[j + 1])] += 1
        h4[2, np.uint64(bt[j + 2])] += 1
        h4[3, np.uint64(bt[j + 3])] += 1
    for j in range(n4, n):
        h4[0, np.uint64(bt[j])] += 1
    for b in range(BINS + 1):
        h[b] += h4[0, b] + h4[1, b] + h4[2, b] + h4[3, b]


class _Targets(NamedTuple):
    """The targets as the kernel sees them: sorted by width (see :func:`tomtom_kernel`), on
    ``norient`` strands; a target-strand is ts = strand * n_targets + t."""

    rows: np.ndarray  # (4, n) float64, the columns of both strands as A, C, G, T rows, sorted layout
    start: np.ndarray  # (2, n_targets) int64, each target's first column per strand
    width: np.ndarray  # (n_targets,) int64, sorted
    orig: np.ndarray  # (n_targets,) int64, each target's index in the input
    group_start: np.ndarray  # (n_groups + 1,) int64: group g is targets group_start[g] .. [g + 1] - 1
    group_width: np.ndarray  # (n_groups,) int64, the width of each group's targets
    end_col: np.ndarray  # (norient * n_targets,) int64, the last column of each target-strand
    norient: int  # 2 with reverse complements, 1 without


class _Workspace(NamedTuple):
    """One thread's scratch arrays (see :func:`_workspaces`; n target columns, maxq the widest
    query, nt targets)."""

    rows: np.ndarray  # (maxq, n) float64, scores of each query column
    diag: np.ndarray  # (2, n + 1) int32, diagonal prefix sums, previous and current row
    bins: np.ndarray  # (n,) int32, one row's bins
    buckets: np.ndarray  # (2, n) int16, buckets of the two rows scored together
    counts: np.ndarray  # (_NB,) int32, bucket counts
    buf: np.ndarray  # (n,) float64, entries of the median buckets
    keys: np.ndarray  # (nt,) int64, offset-scan keys
    lt: np.ndarray  # (n,) int32, the last row transposed, per width group
    slot: np.ndarray  # (max_ext + 1,) int32, complete score -> p-value slot, all -1 between uses


class _Outputs(NamedTuple):
    """The kernel's results, (n_queries, n_targets) in the input order (see
    :func:`tomtom_kernel`)."""

    P: np.ndarray  # float64 p-values
    O: np.ndarray  # noqa: E741  int64 offsets
    L: np.ndarray  # int64 overlaps
    S: np.ndarray  # int8 strands, +1 / -1
    p2: np.ndarray  # (n_queries, n_targets, 2) float64 p-value per strand, or (0, 0, 2): not wanted


@njit(cache=True, inline="always")
def _score_and_medians(dist, Q, q0, Tt, rows, ws):
    """Steps 1 and 2 for query columns q0 .. q0 + W - 1 (W = rows.shape[0]): their scores
    against every target column into rows (W, n) float64, each row's median, and bounds of
    each row's (min - median) and (max - median) from its first and last non-empty buckets.

    Returns meds (W,) float64 and bnd (4, W) float64: lower and upper bound of each row's
    (min - median), then of its (max - median). ws: :class:`_Workspace` (buckets, counts, buf).
    """
    W, n = rows.shape
    lo = _RANGE[dist, 0]
    hi = _RANGE[dist, 1]
    k1 = max(n // 2 - 1, 0)
    k2 = max((n + 1) // 2 - 1, k1)
    fb = (_NB - 1) / (hi - lo)
    margin = 2.0 / fb
    meds = np.empty(W, np.float64)
    bnd = np.empty((4, W), np.float64)
    idx = ws.buckets
    for i in range(W):
        if i % 2 == 0:
            if i + 1 < W:
                _score_rows2(dist, Q, q0 + i, Tt, rows[i], rows[i + 1], idx[0], idx[1], lo, fb)
            else:
                _score_row(dist, Q, q0 + i, Tt, rows[i], idx[0], lo, fb)
        med, b0, b1 = _row_stats(rows[i], k1, k2, idx[i % 2], ws.counts, ws.buf)
        meds[i] = med
        bnd[0, i] = (lo + b0 / fb - margin) - med
        bnd[1, i] = (lo + b0 / fb + margin) - med
        bnd[2, i] = (lo + b1 / fb - margin) - med
        bnd[3, i] = (lo + b1 / fb + margin) - med
    return meds, bnd


@njit(cache=True, inline="always")
def _offset_scale(rows, meds, bnd):
    """Step 3's offset and scale: ``offset = floor(min)``, ``scale = floor(BINS / (max -
    offset))`` over the rows (W, n) shifted by their medians meds (W,).

    The exact min and max of each row lie in its first / last non-empty bucket; the bounds bnd
    (4, W) from :func:`_score_and_medians` settle offset and scale unless a floor() could go
    either way, and only then are rows scanned for the exact values
    (:func:`_exact_offset_scale`): same results, one pass fewer per row.
    """
    small_lo = bnd[0].min()
    small_hi = bnd[1].min()
    large_lo = bnd[2].max()
    large_hi = bnd[3].max()
    exact = large_lo <= small_hi or math.floor(small_lo) != math.floor(small_hi)
    if not exact:
        offset = math.floor(small_lo)
        exact = (math.floor(BINS / (large_lo - offset)) != math.floor(BINS / (large_hi - offset))
                 or large_lo - offset <= 0.0)
    if exact:
        return _exact_offset_scale(rows, meds, bnd, small_hi, large_lo)
    offset = math.floor(small_lo)
    return offset, math.floor(BINS / (large_lo - offset))


@njit(cache=True, inline="always")
def _exact_offset_scale(rows, meds, bnd, small_hi, large_lo):
    """Offset and scale from the exact min and max, scanning only the rows that can hold them
    (the others' bounds lie beyond the best upper / lower bound)."""
    W, n = rows.shape
    small = np.inf
    large = -np.inf
    for i in range(W):
        r = rows[i]
        if bnd[0, i] <= small_hi:
            mn = np.inf
            for j in range(n):
                mn = min(mn, r[j])
            small = min(small, mn - meds[i])
        if bnd[3, i] >= large_lo:
            mx = -np.inf
            for j in range(n):
                mx = max(mx, r[j])
            large = max(large, mx - meds[i])
    if large == small:
        small = large - 1.0
    offset = math.floor(small)
    return offset, math.floor(BINS / (large - offset))


@njit(cache=True, inline="always")
def _diagonal_sums(rows, meds, offset, scale, end_col, ws):
    """Step 3: the bins of every query column and their diagonal prefix sums, one row at a
    time: P[i, col] = bins[i, col] + P[i - 1, col - 1].

    Returns hist (W, BINS + 1) int64, each column's histogram of bins; ends (W, nts + 1) int32,
    for every target-strand ts (the order of their columns) the rows of its last column
    (end_col[ts]) at ends[:, ts + 1]: the column before a target's first is the previous
    target's last, ends[:, ts] (ends[:, 0] = 0), so every diagonal sum is one or two look-ups;
    and last (n + 1,) int32, the last row (a view of ws.diag).
    """
    W, n = rows.shape
    nts = end_col.shape[0]
    prev = ws.diag[0]
    cur = ws.diag[1]
    ends = np.empty((W, nts + 1), np.int32)
    hist = np.zeros((W, BINS + 1), np.int64)
    for i in range(W):
        _bin_row(rows[i], meds[i], offset, scale, ws.bins, hist[i], prev, cur, i == 0)
        cur[n] = 0
        e_i = ends[i]
        e_i[0] = 0
        for ts in range(nts):
            e_i[ts + 1] = cur[np.uint64(end_col[ts])]  # unsigned: no negative-index wrap
        prev, cur = cur, prev
    return hist, ends, prev


@njit(cache=True, inline="always")
def _last_by_target(last, base, tw, ng, lt):
    """The last row over one width group's columns (ng targets of width tw from column base),
    transposed into lt: returns LT (tw, ng) int32, LT[c, k] = target k's column c."""
    LT = lt[:tw * ng].reshape((tw, ng))
    for k in range(ng):
        lk = last[base + k * tw:base + (k + 1) * tw]
        for c in range(tw):
            LT[c, k] = lk[c]
    return LT


@njit(cache=True, inline="always")
def _scan_offsets(LT, ends, ts0, W, K, o_lo, o_hi, bk):
    """The best key of offsets o_lo .. o_hi for each of one width group's targets, into bk (ng,)
    int64 (-1: no offset).

    With o the offset (query column i on target column i + o), the overlap ends on the query's
    last column when o <= tw - W (its sum is a look-up in LT, :func:`_last_by_target`) and starts
    on the query's first when o >= 0; otherwise `ends` (from :func:`_diagonal_sums`; the
    group's target-strands from ts0) holds the prefix sums at the target's edges. Each offset
    is scanned for all of the group's targets at once (vectorised), in up to four runs of
    offsets with no branch on the case. One int64 key per alignment, (complete score, overlap,
    -offset) packed in 32 + 16 + 16 bits: its maximum is the best offset under tomtom.c's ties.
    """
    tw, ng = LT.shape
    cut_last = tw - W  # o <= cut_last: the overlap reaches the query's last column
    bk[:] = -1
    # o < 0 and o <= cut_last: last - the prefix before the target's first column
    for o in range(o_lo, min(-1, cut_last) + 1):
        lrow = LT[W - 1 + o]
        srow = ends[-o - 1, ts0:ts0 + ng]
        add = np.int64((-o) * K)
        tag = (np.int64(W + o) << 16) | (0xFFFF - (o - o_lo))
        for k in range(ng):
            bk[k] = max(bk[k], ((np.int64(lrow[k]) - srow[k] + add) << 32) | tag)
    # o < 0 and o > cut_last: the target inside the query
    for o in range(max(o_lo, cut_last + 1), min(-1, o_hi) + 1):
        erow = ends[tw - o - 1, ts0 + 1:ts0 + 1 + ng]
        srow = ends[-o - 1, ts0:ts0 + ng]
        add = np.int64((W - tw) * K)
        tag = (np.int64(tw) << 16) | (0xFFFF - (o - o_lo))
        for k in range(ng):
            bk[k] = max(bk[k], ((np.int64(erow[k]) - srow[k] + add) << 32) | tag)
    # o >= 0 and o <= cut_last: the query inside the target
    for o in range(max(o_lo, 0), min(cut_last, o_hi) + 1):
        lrow = LT[W - 1 + o]
        tag = (np.int64(W) << 16) | (0xFFFF - (o - o_lo))
        for k in range(ng):
            bk[k] = max(bk[k], (np.int64(lrow[k]) << 32) | tag)
    # o >= 0 and o > cut_last: the overlap ends on the target's last column
    for o in range(max(o_lo, 0, cut_last + 1), o_hi + 1):
        erow = ends[tw - o - 1, ts0 + 1:ts0 + 1 + ng]
        ovl = tw - o
        add = np.int64((W - ovl) * K)
        tag = (np.int64(ovl) << 16) | (0xFFFF - (o - o_lo))
        for k in range(ng):
            bk[k] = max(bk[k], ((np.int64(erow[k]) + add) << 32) | tag)


@njit(cache=True, inline="always")
def _unpack_keys(bk, u0, strand, o_lo, best):
    """The keys bk (ng,) of :func:`_scan_offsets` for targets u0 .. u0 + ng - 1 into best
    (3, n_targets, norient) int64: complete score (-1: no offset allowed), offset, overlap
    (-1: none)."""
    for k in range(bk.shape[0]):
        key = bk[k]
        t = u0 + k
        if key < 0:
            best[0, t, strand] = -1
            best[1, t, strand] = 0
            best[2, t, strand] = -1
        else:
            best[0, t, strand] = key >> 32
            best[2, t, strand] = (key >> 16) & 0xFFFF
            best[1, t, strand] = o_lo + (0xFFFF - (key & 0xFFFF))


@njit(cache=True, inline="always")
def _best_offsets(last, ends, tg, W, K, min_overlap, ws):
    """Step 4: the best offset of every target on every strand, by width group.

    The complete score of an alignment is its diagonal sum + (W - overlap) * K; ties go to the
    larger overlap, then the first offset (tomtom.c's compare_motifs). Only offsets with at
    least min(min_overlap, W, tw) columns overlapping are searched when min_overlap > 1.
    Returns best (3, n_targets, norient) int64: complete score, offset, overlap
    (:func:`_unpack_keys`); tg: :class:`_Targets`, ws: :class:`_Workspace` (keys, lt).
    """
    n_targets = tg.width.shape[0]
    best = np.empty((3, n_targets, tg.norient), np.int64)
    for g in range(tg.group_width.shape[0]):
        tw = tg.group_width[g]
        u0 = tg.group_start[g]
        ng = tg.group_start[g + 1] - u0
        o_lo = 1 - W
        o_hi = tw - 1
        if min_overlap > 1:
            mo = min(min_overlap, W, tw)
            o_lo = mo - W
            o_hi = tw - mo
        for strand in range(tg.norient):
            LT = _last_by_target(last, tg.start[strand, u0], tw, ng, ws.lt)
            bk = ws.keys[:ng]
            _scan_offsets(LT, ends, strand * n_targets + u0, W, K, o_lo, o_hi, bk)
            _unpack_keys(bk, u0, strand, o_lo, best)
    return best


@njit(cache=True, inline="always")
def _span_thresholds(E, tg, W):
    """thr (W, W) int64 for :func:`_span_tables`: each span's null distribution is needed only
    from the lowest best complete score E (n_targets, norient) of the targets whose alignments
    use it (_UNUSED: none)."""
    thr = np.full((W, W), _UNUSED, np.int64)
    for g in range(tg.group_width.shape[0]):
        tw = tg.group_width[g]
        e_min = _UNUSED
        for t in range(tg.group_start[g], tg.group_start[g + 1]):
            for strand in range(tg.norient):
                x = E[t, strand]
                if 0 <= x < e_min:
                    e_min = x
        for i in range(W + tw - 1):
            s, e = _span_of(W, tw, i)
            thr[s, e] = min(thr[s, e], e_min)
    return thr


@njit(cache=True, inline="always")
def _target_pvalues(sp, E, tg, W, slot):
    """Step 6 for every target and strand: s_p (n_targets, norient) float64, the p-value of its
    best complete score E (n_targets, norient), each distinct score of a width group computed
    once (:func:`_pvalues_batch`).

    slot (one entry per complete score, and one more) must be -1 throughout, and is left so:
    slot[E] is E's index in the batch (E = -1, no alignment allowed, uses the last entry,
    above every complete score).
    """
    n_targets, norient = E.shape
    s_p = np.empty((n_targets, norient), np.float64)
    Es = np.empty(n_targets * norient, np.int64)
    ps = np.empty(n_targets * norient, np.float64)
    prod = np.empty(n_targets * norient, np.float64)
    for g in range(tg.group_width.shape[0]):
        t0, t1 = tg.group_start[g], tg.group_start[g + 1]
        m = 0
        for t in range(t0, t1):
            for strand in range(norient):
                x = E[t, strand]
                if slot[x] < 0:
                    slot[x] = m
                    Es[m] = x
                    m += 1
        _pvalues_batch(sp, W, tg.group_width[g], Es, m, norient, ps, prod)
        for t in range(t0, t1):
            for strand in range(norient):
                s_p[t, strand] = ps[slot[E[t, strand]]]
        for u in range(m):
            slot[Es[u]] = -1
    return s_p


@njit(cache=True, inline="always")
def _report_strands(qi, s_p, best, orig, out):
    """Step 7: the reported strand of each target, the reverse one when its p-value is lower, or
    equal with a larger overlap; writes row qi of out (:class:`_Outputs`) in the targets' input
    order (target t is orig[t] there), and out.p2[qi] unless it is empty."""
    n_targets, norient = s_p.shape
    both = out.p2.shape[0] == out.P.shape[0] and out.p2.shape[1] == out.P.shape[1]
    for t in range(n_targets):
        to = orig[t]
        k = 0
        p0, p1 = s_p[t, 0], s_p[t, 1 % norient]
        if norient == 2 and (p1 < p0 or (p1 == p0 and best[2, t, 1] > best[2, t, 0])):
            k = 1
        out.P[qi, to] = s_p[t, k]
        out.O[qi, to] = best[1, t, k]
        out.L[qi, to] = best[2, t, k]
        out.S[qi, to] = 1 - 2 * k
        if both:
            for strand in range(norient):
                out.p2[qi, to, strand] = s_p[t, strand]


@njit(cache=True)
def _one_query(dist, Q, q0, W, qi, tg, min_overlap, out, ws):
    """Steps 1 to 7 for query `qi` (columns q0 .. q0 + W - 1 of Q (n_query_columns, 4), A, C,
    G, T) against the targets tg (:class:`_Targets`); writes row qi of out (:class:`_Outputs`).
    ws: the thread's :class:`_Workspace`."""
    rows = ws.rows[:W]
    meds, bnd = _score_and_medians(dist, Q, q0, tg.rows, rows, ws)
    offset, scale = _offset_scale(rows, meds, bnd)
    K = int(-offset * scale)
    hist, ends, last = _diagonal_sums(rows, meds, offset, scale, tg.end_col, ws)
    best = _best_offsets(last, ends, tg, W, K, min_overlap, ws)
    thr = _span_thresholds(best[0], tg, W)
    sp = _span_tables(hist, W, K, tg.rows.shape[1], thr)
    s_p = _target_pvalues(sp, best[0], tg, W, ws.slot)
    _report_strands(qi, s_p, best, tg.orig, out)


@njit(cache=True, nogil=True)
def _run_queries(queries, dist, Q, q_start, q_len, tg, min_overlap, out, ws):
    """:func:`_one_query` for each query index in `queries`, in one workspace ws, without the
    GIL (one call per chunk and thread, see :func:`tomtom_kernel`)."""
    for qi in queries:
        _one_query(dist, Q, q_start[qi], q_len[qi], qi, tg, min_overlap, out, ws)


def _chunks(q_len, n_workers):
    """The queries in chunks for `n_workers` threads that each take the next chunk when done
    (guided scheduling): widest first (the work of a query grows with its width), each chunk
    1 / (2 n_workers) of the queries left, so the last chunks are single narrow queries and the
    threads finish together. Returns a list of int64 arrays of query indices."""
    order = np.argsort(-q_len, kind="stable").astype(np.int64)
    out = []
    k = 0
    while k < order.shape[0]:
        size = max(1, (order.shape[0] - k) // (2 * n_workers))
        out.append(order[k:k + size])
        k += size
    return out


def _sorted_targets(Tt, t_start, t_len, norient):
    """The targets sorted by width (stable), their columns laid out in that order on each
    strand: a :class:`_Targets`. Tt is used as it is when laid out so already (as
    :func:`target_rows` does), else its columns are copied in that order."""
    nt = t_len.shape[0]
    by_len = np.argsort(t_len, kind="stable")
    s_len = t_len[by_len]
    first = np.concatenate([[0], np.cumsum(s_len)[:-1]])
    s_start = np.stack([first, first + first[-1] + s_len[-1]])  # (2, nt) in the new layout
    rank = np.empty(nt, np.int64)
    rank[by_len] = np.arange(nt)
    if Tt.shape[1] == norient * s_start[1, 0] and np.array_equal(t_start[:norient],
                                                                  s_start[:norient, rank]):
        Ts = np.ascontiguousarray(Tt)
    else:
        cols = np.concatenate([np.repeat(t_start[strand, by_len] - first, s_len)
                               for strand in range(norient)])
        cols += np.tile(np.arange(int(s_len.sum())), norient)
        Ts = np.ascontiguousarray(Tt[:, cols])
    # width groups (group_start: each group's first target, and nt) and each target-strand's
    # last column, ts = strand * nt + t
    lens, len_start = np.unique(s_len, return_index=True)
    len_start = np.append(len_start, nt).astype(np.int64)
    end_col = (s_start[:norient] + s_len - 1).ravel()
    return _Targets(Ts, s_start, s_len, by_len, len_start, lens, end_col, int(norient))


def _workspaces(nw, maxq, n, nt, max_ext):
    """nw thread workspaces (:class:`_Workspace`, each field with the thread on its first axis):
    the ones kept from the last call of this shape, else new ones."""
    with _KEPT_LOCK:
        ws = _KEPT.pop((nw, maxq, n, nt, max_ext), None)
    if ws is None:
        ws = _Workspace(np.empty((nw, maxq, n)), np.empty((nw, 2, n + 1), np.int32),
                        np.empty((nw, n), np.int32), np.empty((nw, 2, n), np.int16),
                        np.empty((nw, _NB), np.int32), np.empty((nw, n)),
                        np.empty((nw, nt), np.int64), np.empty((nw, n), np.int32),
                        np.full((nw, max_ext + 1), -1, np.int32))
    return ws


def _keep_workspaces(ws, key):
    """Keep the workspaces for the next call of the same shape, if they total at most
    _KEEP_BYTES. Only after a complete run (the slot rows are then all -1 again): a new one
    (9 MB for 320 x 879 JASPAR motifs) cost 600-1,000 more page faults and ~2 ms more system
    time a call."""
    if sum(a.nbytes for a in ws) <= _KEEP_BYTES:
        with _KEPT_LOCK:
            _KEPT.clear()
            _KEPT[key] = ws


def _run_threads(chunks, common, ws):
    """:func:`_run_queries` on each chunk, on one thread per workspace (ws fields have the
    thread on their first axis), each taking the next chunk as it finishes the last (numba's
    parallel loops hand out fixed blocks, which left one thread with all the wide queries)."""
    nw = ws.rows.shape[0]
    if nw == 1:
        _run_queries(np.concatenate(chunks), *common, _Workspace(*(a[0] for a in ws)))
        return
    from concurrent.futures import ThreadPoolExecutor

    todo = iter(chunks)
    lock = threading.Lock()

    def worker(w):
        own = _Workspace(*(a[w] for a in ws))
        while True:
            with lock:
                chunk = next(todo, None)
            if chunk is None:
                return
            _run_queries(chunk, *common, own)

    with ThreadPoolExecutor(nw) as pool:
        list(pool.map(worker, range(nw)))


def tomtom_kernel(dist, Q, q_start, q_len, Tt, t_start, t_len, norient, min_overlap, n_threads,
                  both_strands=False):
    """p-value, offset, overlap and strand of every query against every target.

    Parameters
    ----------
    dist : int
        0 ed, 1 pearson, 2 sandelin.
    Q : (n_query_columns, 4) float64
        Query columns, A, C, G, T, queries one after another.
    q_start, q_len : (n_queries,) int64
    Tt : (4, n_target_columns) float64
        Target columns of both strands as rows A, C, G, T (pearson: minus 1/4, normalised).
    t_start : (2, n_targets) int64
        First column of each target on the forward (row 0) and reverse (row 1) strand.
    t_len : (n_targets,) int64
    norient : int
        2 with reverse complements, 1 without.
    min_overlap : int
    n_threads : int
        Threads to run the queries on (chunks handed out as threads finish, see
        :func:`_chunks`).
    both_strands : bool
        Also return the p-value on each strand.

    Returns
    -------
    P : (n_queries, n_targets) float64
        p-value on the reported strand: the reverse one when its p-value is lower, or equal
        with a larger overlap, else the forward one.
    O, L : (n_queries, n_targets) int64
        Offset and overlap on the reported strand.
    S : (n_queries, n_targets) int8
        The reported strand, +1 forward, -1 reverse.
    p : (n_queries, n_targets, 2) float64, only with `both_strands`
        p-value on the forward (0) and reverse (1) strand.

    The kernel sees the targets sorted by width (their columns copied in that order, unless
    `Tt` is laid out so already, as :func:`target_rows` does; :func:`_sorted_targets`), so
    that the offsets of a width group are scanned for all of its targets at once; the results
    are written in the input order. The threads' workspaces are kept for the next call of the
    same shape when they total at most 64 MB (:func:`_keep_workspaces`).
    """
    nq, nt = q_start.shape[0], t_len.shape[0]
    if int(q_len.max()) + int(t_len.max()) >= 1 << 16:  # the offset scan packs widths in 16 bits
        raise ValueError("motif widths must sum to less than 65536")
    tg = _sorted_targets(Tt, t_start, t_len, norient)
    n = tg.rows.shape[1]
    maxq = int(q_len.max())
    max_ext = BINS * maxq + 1 + (maxq - 1) * BINS  # above every complete score
    out = _Outputs(np.empty((nq, nt)), np.empty((nq, nt), np.int64), np.empty((nq, nt), np.int64),
                   np.empty((nq, nt), np.int8), np.ones((nq, nt, 2) if both_strands else (0, 0, 2)))
    nw = max(1, min(int(n_threads), nq))  # threads, each with its own workspace
    ws = _workspaces(nw, maxq, n, nt, max_ext)
    _run_threads(_chunks(q_len, nw), (dist, Q, q_start, q_len, tg, min_overlap, out), ws)
    _keep_workspaces(ws, (nw, maxq, n, nt, max_ext))
    return tuple(out) if both_strands else tuple(out[:4])
