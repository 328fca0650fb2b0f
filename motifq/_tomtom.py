"""numba kernels for :mod:`motifq.compare` (private; the public API is in ``compare.py``).

Everything here follows MEME's ``tomtom.c`` (complete scores), per query motif:

1. ``_score_rows2`` / ``_score_row``: the score of every query column against every target column
   (both strands; two query columns per pass over the target columns),
   for ``dist`` 0 = ``ed`` (-sqrt(sum (q-t)^2)), 1 = ``pearson`` (correlation of the two columns
   around 1/4), 2 = ``sandelin`` (2 - sum (q-t)^2).
2. Each row is shifted by its median (MEME's quantile: the mean of the sorted entries at
   ``floor(n/2)-1`` and ``ceil(n/2)-1``), so that an unaligned query column adds 0.
3. The shifted scores are discretised with one offset and scale per query:
   ``offset = floor(min)``, ``scale = floor(BINS / (max - offset))``,
   ``bin = nint((x - offset) * scale)`` in ``[0, BINS]``.
4. The offset scan (in ``_one_query``): for each target and strand, the offset with the highest
   complete score (ties: larger overlap, then the first offset), within the allowed overlaps,
   on MEME's "extended" axis, on which an alignment's value is ``sum of bins + (W - overlap) *
   K`` with ``K = -offset * scale``: the complete score with the median (0) for the unaligned
   query columns, shifted to be >= 0.
5. ``_span_tables``: the null distribution of the summed bins over every span of query columns
   (each column drawn independently from its histogram over all target columns), by dynamic
   programming, on the extended axis. Only the upper tail from the lowest best score of step 4
   that is looked up in a span is needed; partial sums that provably cannot reach it are
   dropped as the distributions grow (the tails kept are the same sums).
6. ``_pvalues_batch``: the p-value of a complete score ``E`` for a target of width ``w`` is the
   chance that the best of all ``W + w - 1`` alignments on both strands (independent under the
   null) reaches ``E``: ``1 - prod_a P(S_a < E)^2``. MEME builds the pmf of that maximum and
   sums its tail; the product form gives the same number, and when it is small it is evaluated
   as ``-expm1(2 * sum_a log1p(-P(S_a >= E)))`` so that small p-values keep full precision.
7. The reported strand of each target: the reverse one when its p-value is lower, or equal with
   a larger overlap.

``tomtom_kernel`` runs the queries (``_run_queries``, compiled without the GIL) on as many
Python threads as numba is set to use (``numba.set_num_threads``, ``NUMBA_NUM_THREADS``),
handing out chunks of queries, widest first, as threads finish their last one.

Arrays: query and target columns are (n_columns, 4) float64, A, C, G, T order, probabilities
after the pseudocount.
"""
from __future__ import annotations

import math
import threading

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
    by :func:`_score_row` / :func:`_score_rows2` with :func:`_bucket`; monotone in the entry); the buckets holding the two ranks are found
    from the counts and only their entries are searched (:func:`_select`). Returns (median, b0,
    b1): b0 and b1 are the first and last non-empty buckets (they hold the minimum and maximum,
    which :func:`_one_query` bounds with them). counts (_NB,) int32 and buf (n,) float64 are
    scratch.
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


@njit(cache=True)
def _span_tables(hist, W, K, nt_cols, thr):
    """Upper tails of the null distribution of every span of query columns, on the extended axis,
    each from the lowest complete score that is looked up in it.

    hist : (W, BINS + 1) int64, histogram of each query column's bins over all target columns.
    thr : (W, W) int64, for span (s, e) the lowest complete score whose tail is wanted
        (_UNUSED: none).
    Returns (sp_lo, sp_hi, sp_cut, sp_off, tail), each sp_* (W, W): span (s, e) has support
    [sp_lo, sp_hi] on the extended axis, and ``tail[sp_off + k - sp_cut] = P(S >= k)`` for k in
    [sp_cut, sp_hi + 1], sp_cut = min(max(sp_lo + 1, thr[s, e]), sp_hi + 1) (P(S >= k) is 1
    for k <= sp_lo, 0 above sp_hi).

    The distributions grow one column at a time from each start s. A partial sum that cannot
    reach the threshold of any later span of its start, even if every column added on the way
    took its highest bin, never adds to a tail that is read, so it is dropped as soon as that is
    certain: after column e, the values below ``min over e' >= e of (thr[s, e'] - sum over
    e < c <= e' of (hi_c - K))`` on the extended axis (a column adds hi_c - K at most there).
    The tails that are kept are then the same sums of the same terms as without the cut.
    """
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
    # keep[s, e]: the lowest extended value worth keeping after column e of start s
    keep = np.empty((W, W), np.int64)
    for s in range(W):
        c = thr[s, W - 1]
        keep[s, W - 1] = c
        for e in range(W - 2, s - 1, -1):
            c = min(thr[s, e], c - (hhi[e + 1] - K))
            keep[s, e] = c
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
    tail = np.zeros(total, np.float64)

    inv = 1.0 / nt_cols
    prob = np.zeros((W, BINS + 1 + _PAD), np.float64)
    for i in range(W):
        for b in range(BINS + 1):
            prob[i, b] = hist[i, b] * inv
    size = BINS * W + 1 + 2 * _PAD
    cur = np.zeros(size, np.float64)
    nxt = np.zeros(size, np.float64)
    for s in range(W):
        # on the own axis (sum of the bins) that is keep[s, e] - shift(s, e)
        plo = max(hlo[s], keep[s, s] - (W - 1) * K)
        phi = hhi[s]
        if plo > phi:
            continue  # nothing from this start reaches a threshold: its tails stay 0
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
            off = sp_off[s, e]
            cut = sp_cut[s, e]
            acc = 0.0
            for k in range(sp_hi[s, e], cut - 1, -1):
                acc += cur[k - shift + _PAD]
                tail[off + k - cut] = acc
    return sp_lo, sp_hi, sp_cut, sp_off, tail


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


@njit(cache=True)
def _pvalues_batch(sp_lo, sp_hi, sp_cut, sp_off, tail, W, tw, Es, m, norient, out, prod):
    """p-values of the complete scores Es[:m] for a width-`tw` target, into out[:m].

    P(best of the W + tw - 1 alignments on `norient` strands >= E) = 1 - prod_a P(S_a < E)^norient,
    evaluated as -expm1(norient * sum_a log1p(-P(S_a >= E))) when it is below _SMALL_P. Each
    E is -1 (no alignment allowed: p = 1) or at least the `thr` of :func:`_span_tables`.
    """
    es = Es[:m]
    pr_ = prod[:m]
    for u in range(m):
        pr_[u] = 1.0
    for i in range(W + tw - 1):
        s, e = _span_of(W, tw, i)
        lo = sp_lo[s, e]
        top = sp_hi[s, e] + 1
        cut = sp_cut[s, e]
        ts = tail[sp_off[s, e]:]
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
            k = Es[u]
            acc = 0.0
            for i in range(W + tw - 1):
                s, e = _span_of(W, tw, i)
                if k <= sp_lo[s, e]:
                    t = 1.0
                else:
                    cut = sp_cut[s, e]
                    t = min(tail[sp_off[s, e] + max(min(k, sp_hi[s, e] + 1), cut) - cut], 1.0)
                acc += math.log1p(-t)
            p = -math.expm1(norient * acc)
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


@njit(cache=True)
def _one_query(dist, Q, q0, W, Tt, t_start, t_len, t_orig, len_start, lens, end_idx, norient,
               min_overlap, out_P, out_O, out_L, out_S, out_p2, qi, lo, hi, ws_rows, ws_diag,
               ws_bt, ws_idx, ws_counts, ws_buf, ws_keys, ws_lt, slot):
    """All of the steps for query `qi` (columns q0 .. q0+W-1); writes out_P, out_O, out_L,
    out_S [qi, t_orig[t]] (see :func:`tomtom_kernel`) and, unless it is empty, out_p2[qi].

    The targets are sorted by width (see :func:`tomtom_kernel`): width group g is targets
    len_start[g] .. len_start[g + 1] - 1, all lens[g] wide; end_idx[ts] is the last column of
    target-strand ts = strand * n_targets + t; t_orig[t] is target t's index in the input.
    ws_* are the thread's scratch arrays; slot (one entry per complete score, and one more) must
    be -1 throughout, and is left so.
    """
    n = Tt.shape[1]
    rows = ws_rows[:W]
    k1 = n // 2 - 1
    k2 = (n + 1) // 2 - 1
    if k1 < 0:
        k1 = 0
    if k2 < k1:
        k2 = k1
    small = np.inf
    large = -np.inf
    fb = (_NB - 1) / (hi - lo)
    meds = np.empty(W, np.float64)
    # The exact min and max of each row lie in its first / last non-empty bucket; bounds from
    # the buckets settle offset and scale unless a floor() below could go either way, and only
    # then are the rows scanned for the exact values (same results, one pass fewer per row).
    sl = np.empty(W, np.float64)  # bounds of each row's (min - median) and (max - median)
    su = np.empty(W, np.float64)
    ll = np.empty(W, np.float64)
    lu = np.empty(W, np.float64)
    margin = 2.0 / fb
    for i in range(W):
        if i % 2 == 0:
            if i + 1 < W:
                _score_rows2(dist, Q, q0 + i, Tt, rows[i], rows[i + 1], ws_idx[0], ws_idx[1],
                             lo, fb)
            else:
                _score_row(dist, Q, q0 + i, Tt, rows[i], ws_idx[0], lo, fb)
        med, b0, b1 = _row_stats(rows[i], k1, k2, ws_idx[i % 2], ws_counts, ws_buf)
        meds[i] = med
        sl[i] = (lo + b0 / fb - margin) - med
        su[i] = (lo + b0 / fb + margin) - med
        ll[i] = (lo + b1 / fb - margin) - med
        lu[i] = (lo + b1 / fb + margin) - med
    small_lo = sl.min()
    small_hi = su.min()
    large_lo = ll.max()
    large_hi = lu.max()
    exact = large_lo <= small_hi or math.floor(small_lo) != math.floor(small_hi)
    if not exact:
        offset = math.floor(small_lo)
        exact = (math.floor(BINS / (large_lo - offset)) != math.floor(BINS / (large_hi - offset))
                 or large_lo - offset <= 0.0)
    if exact:
        # exact values, scanning only the rows that can hold the extreme (the others' bounds
        # lie beyond the best upper / lower bound)
        for i in range(W):
            r = rows[i]
            if sl[i] <= small_hi:
                mn = np.inf
                for j in range(n):
                    mn = min(mn, r[j])
                small = min(small, mn - meds[i])
            if lu[i] >= large_lo:
                mx = -np.inf
                for j in range(n):
                    mx = max(mx, r[j])
                large = max(large, mx - meds[i])
        if large == small:
            small = large - 1.0
        offset = math.floor(small)
        scale = math.floor(BINS / (large - offset))
    else:
        offset = math.floor(small_lo)
        scale = math.floor(BINS / (large_lo - offset))
    K = int(-offset * scale)
    # Diagonal prefix sums of the bins, one row at a time: P[i, col] = bins[i, col] + P[i-1, col-1].
    # Kept: the last row, and for every target and strand (ts = strand * n_targets + t, which is
    # the order of their columns) the rows of its last column, ends[i, ts + 1]; the column before
    # a target's first is the previous target's last, ends[i, ts] (ends[i, 0] = 0): every diagonal
    # sum is then one or two look-ups.
    n_targets = t_len.shape[0]
    nts = n_targets * norient
    prev = ws_diag[0]
    cur = ws_diag[1]
    ends = np.empty((W, nts + 1), np.int32)
    hist = np.zeros((W, BINS + 1), np.int64)
    for i in range(W):
        _bin_row(rows[i], meds[i], offset, scale, ws_bt, hist[i], prev, cur, i == 0)
        cur[n] = 0
        e_i = ends[i]
        e_i[0] = 0
        for ts in range(nts):
            e_i[ts + 1] = cur[np.uint64(end_idx[ts])]  # unsigned: no negative-index wrap
        prev, cur = cur, prev
    last = prev

    # Best offset per target and strand: complete score ssum + (W - overlap) * K, ties to the
    # larger overlap, then the first configuration (tomtom.c's compare_motifs). With o the offset
    # (query column i on target column i + o), the overlap ends on the query's last column when
    # o <= tw - W (its sum is a look-up in `last`) and starts on the query's first when o >= 0;
    # otherwise `ends` holds the prefix sums at the target's edges. The targets are sorted by
    # width, so one width group's targets lie side by side: each offset is scanned for all of
    # them at once (a loop over the targets, vectorised), in up to four runs of offsets with no
    # branch on the case. One int64 key per alignment, (complete score, overlap, -offset) packed
    # in 32 + 16 + 16 bits: its maximum is the best offset under the same ties.
    best_es = np.empty((n_targets, norient), np.int64)
    s_off = np.empty((n_targets, norient), np.int64)  # per strand: offset, overlap, p-value
    s_ovl = np.empty((n_targets, norient), np.int64)
    s_p = np.empty((n_targets, norient), np.float64)
    keys = ws_keys
    for g in range(lens.shape[0]):
        tw = lens[g]
        u0 = len_start[g]
        ng = len_start[g + 1] - u0
        o_lo = 1 - W
        o_hi = tw - 1
        if min_overlap > 1:
            mo = min(min_overlap, W, tw)
            o_lo = mo - W
            o_hi = tw - mo
        cut_last = tw - W  # o <= cut_last: the overlap reaches the query's last column
        for strand in range(norient):
            ts0 = strand * n_targets + u0
            base = t_start[strand, u0]
            # the last row over this group's columns, transposed: LT[c, k] = target k's column c
            LT = ws_lt[:tw * ng].reshape((tw, ng))
            for k in range(ng):
                lk = last[base + k * tw:base + (k + 1) * tw]
                for c in range(tw):
                    LT[c, k] = lk[c]
            bk = keys[:ng]
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
            for k in range(ng):
                best = bk[k]
                t = u0 + k
                if best < 0:
                    best_es[t, strand] = -1
                    s_off[t, strand] = 0
                    s_ovl[t, strand] = -1
                else:
                    best_es[t, strand] = best >> 32
                    s_ovl[t, strand] = (best >> 16) & 0xFFFF
                    s_off[t, strand] = o_lo + (0xFFFF - (best & 0xFFFF))

    # each span's null distribution is needed only from the lowest best score of the targets
    # whose alignments use it
    thr = np.full((W, W), _UNUSED, np.int64)
    for g in range(lens.shape[0]):
        tw = lens[g]
        e_min = _UNUSED
        for t in range(len_start[g], len_start[g + 1]):
            for strand in range(norient):
                E = best_es[t, strand]
                if 0 <= E < e_min:
                    e_min = E
        for i in range(W + tw - 1):
            s, e = _span_of(W, tw, i)
            thr[s, e] = min(thr[s, e], e_min)
    sp_lo, sp_hi, sp_cut, sp_off, tail = _span_tables(hist, W, K, n, thr)

    Es = np.empty(n_targets * norient, np.int64)
    ps = np.empty(n_targets * norient, np.float64)
    prod = np.empty(n_targets * norient, np.float64)
    for g in range(lens.shape[0]):
        tw = lens[g]
        # each distinct complete score once: slot[E] is its index in Es (-1: not seen; E = -1,
        # no alignment allowed, uses the last entry, above every complete score)
        m = 0
        for t in range(len_start[g], len_start[g + 1]):
            for strand in range(norient):
                E = best_es[t, strand]
                if slot[E] < 0:
                    slot[E] = m
                    Es[m] = E
                    m += 1
        _pvalues_batch(sp_lo, sp_hi, sp_cut, sp_off, tail, W, tw, Es, m, norient, ps, prod)
        for t in range(len_start[g], len_start[g + 1]):
            for strand in range(norient):
                s_p[t, strand] = ps[slot[best_es[t, strand]]]
        for u in range(m):
            slot[Es[u]] = -1

    # the reported strand: the reverse one when its p-value is lower, or equal with a larger
    # overlap (written in the targets' input order)
    both = out_p2.shape[0] == out_P.shape[0] and out_p2.shape[1] == out_P.shape[1]
    for t in range(n_targets):
        to = t_orig[t]
        k = 0
        p0, p1 = s_p[t, 0], s_p[t, 1 % norient]
        if norient == 2 and (p1 < p0 or (p1 == p0 and s_ovl[t, 1] > s_ovl[t, 0])):
            k = 1
        out_P[qi, to] = s_p[t, k]
        out_O[qi, to] = s_off[t, k]
        out_L[qi, to] = s_ovl[t, k]
        out_S[qi, to] = 1 - 2 * k
        if both:
            for strand in range(norient):
                out_p2[qi, to, strand] = s_p[t, strand]


@njit(cache=True, nogil=True)
def _run_queries(queries, dist, Q, q_start, q_len, Tt, t_start, t_len, t_orig, len_start, lens,
                 end_idx, norient, min_overlap, out_P, out_O, out_L, out_S, out_p2, ws_rows,
                 ws_diag, ws_bt, ws_idx, ws_counts, ws_buf, ws_keys, ws_lt, ws_slot):
    """:func:`_one_query` for each query index in `queries`, in one workspace (ws_*), without
    the GIL (one call per chunk and thread, see :func:`tomtom_kernel`)."""
    lo = _RANGE[dist, 0]
    hi = _RANGE[dist, 1]
    for qi in queries:
        _one_query(dist, Q, q_start[qi], q_len[qi], Tt, t_start, t_len, t_orig, len_start, lens,
                   end_idx, norient, min_overlap, out_P, out_O, out_L, out_S, out_p2, qi, lo, hi,
                   ws_rows, ws_diag, ws_bt, ws_idx, ws_counts, ws_buf, ws_keys, ws_lt, ws_slot)


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
    `Tt` is laid out so already, as :func:`target_rows` does), so that the offsets of a width
    group are scanned for all of its targets at once; the results are
    written in the input order. The threads' workspaces are kept for the next call of the same
    shape when they total at most 64 MB (``_KEPT``).
    """
    nq, nt = q_start.shape[0], t_len.shape[0]
    if int(q_len.max()) + int(t_len.max()) >= 1 << 16:  # the offset scan packs widths in 16 bits
        raise ValueError("motif widths must sum to less than 65536")
    # the targets sorted by width, their columns laid out in that order on each strand
    by_len = np.argsort(t_len, kind="stable")
    s_len = t_len[by_len]
    first = np.concatenate([[0], np.cumsum(s_len)[:-1]])
    s_start = np.stack([first, first + first[-1] + s_len[-1]])  # (2, nt) in the new layout
    rank = np.empty(nt, np.int64)
    rank[by_len] = np.arange(nt)
    if Tt.shape[1] == norient * s_start[1, 0] and np.array_equal(t_start[:norient],
                                                                  s_start[:norient, rank]):
        Ts = np.ascontiguousarray(Tt)  # laid out so already (``target_rows``)
    else:
        cols = np.concatenate([np.repeat(t_start[strand, by_len] - first, s_len)
                               for strand in range(norient)])
        cols += np.tile(np.arange(int(s_len.sum())), norient)
        Ts = np.ascontiguousarray(Tt[:, cols])
    n = Ts.shape[1]
    # width groups (len_start: each group's first target, and nt) and each target-strand's last
    # column, ts = strand * nt + t
    lens, len_start = np.unique(s_len, return_index=True)
    len_start = np.append(len_start, nt).astype(np.int64)
    end_idx = (s_start[:norient] + s_len - 1).ravel()
    maxq = int(q_len.max())
    max_ext = BINS * maxq + 1 + (maxq - 1) * BINS
    out = (np.empty((nq, nt)), np.empty((nq, nt), np.int64), np.empty((nq, nt), np.int64),
           np.empty((nq, nt), np.int8), np.ones((nq, nt, 2) if both_strands else (0, 0, 2)))
    nw = max(1, min(int(n_threads), nq))  # threads, each with its own workspace
    key = (nw, maxq, n, nt, max_ext)
    with _KEPT_LOCK:
        ws = _KEPT.pop(key, None)
    if ws is None:
        # per thread (first axis): rows (maxq, n) float64 scores; diag (2, n + 1) int32 diagonal
        # prefix sums, previous and current row; bt (n,) int32 bins; idx (2, n) int16 buckets of
        # the two rows scored together; counts (_NB,) int32; buf (n,) float64 median-bucket
        # entries; keys (nt,) int64 offset-scan keys; lt (n,) int32 last row transposed per
        # width group; slot (max_ext + 1,) int32 complete score -> p-value slot, all -1
        ws = (np.empty((nw, maxq, n)), np.empty((nw, 2, n + 1), np.int32),
              np.empty((nw, n), np.int32), np.empty((nw, 2, n), np.int16),
              np.empty((nw, _NB), np.int32), np.empty((nw, n)), np.empty((nw, nt), np.int64),
              np.empty((nw, n), np.int32), np.full((nw, max_ext + 1), -1, np.int32))
    common = (dist, Q, q_start, q_len, Ts, s_start, s_len, by_len, len_start, lens, end_idx,
              norient, min_overlap, *out)
    chunks = _chunks(q_len, nw)
    if nw == 1:
        _run_queries(np.concatenate(chunks), *common, *(a[0] for a in ws))
    else:
        # threads that take chunks as they finish the last one (numba's parallel loops hand out
        # fixed blocks, which left one thread with all the wide queries)
        from concurrent.futures import ThreadPoolExecutor

        todo = iter(chunks)
        lock = threading.Lock()

        def worker(w):
            own = tuple(a[w] for a in ws)
            while True:
                with lock:
                    chunk = next(todo, None)
                if chunk is None:
                    return
                _run_queries(chunk, *common, *own)

        with ThreadPoolExecutor(nw) as pool:
            list(pool.map(worker, range(nw)))
    # kept for the next call of the same shape (only after a complete run: the slot rows are
    # then all -1 again): a new one (9 MB here) cost 600-1,000 more page faults and ~2 ms more
    # system time a call
    if sum(a.nbytes for a in ws) <= _KEEP_BYTES:
        with _KEPT_LOCK:
            _KEPT.clear()
            _KEPT[key] = ws
    return out if both_strands else out[:4]
