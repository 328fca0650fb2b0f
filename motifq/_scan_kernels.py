"""numba kernels and their tables for :mod:`motifq.scan` (private; the public API is in ``scan.py``).

Nothing here is called by users: :func:`motifq.scan.scan` builds each motif strand's
:class:`motifq.scan.Pssm` (its (W, 4) int32 integer scores and p-value table) and hands it to
these steps, whose method is described in the docstring of :mod:`motifq.scan`. Letters are
tokens 0..3 = A, C, G, T and 4 = N everywhere; a score matrix is (W, 4), columns in A, C, G, T
order; a k-mer's code is base 4 with its first letter lowest (``sum_j token[p + j] * 4**j``),
and ``4**k`` stands for a k-mer that holds an N or runs past the end of the sequence.

1. **p-values.** ``_score_pdf``: the distribution of the summed integer scores of a window drawn
   from the background (dynamic programming, one convolution per column), ``_upper_tail``: its
   upper tail ``P(S >= s)``, and ``_threshold_score``: the smallest score whose p-value is at
   most the threshold.
2. **Tables.** ``_codes``: (N, L) tokens -> (N, L) uint16 k-mer codes. ``_block_tables``: a
   matrix's summed scores in blocks of up to five columns, (B, 4**k + 1) int32 (the last entry,
   an N, abandons the window), most informative first, with each block's first column and the
   most the blocks after it can add. ``_wide_bits``: the one-lookup first test, (4**7 + 1,)
   uint8, 1 where a 7-mer can still reach the threshold; ``_block7`` and ``_pair_tables``: the
   two-lookup test, (2, 4**7 + 1) uint8 of two blocks of seven columns on a grid of 2**s units,
   rounded up. ``_strand_tables`` gathers them into a ``_Strand``; ``_pack`` stacks a batch's
   block tables into one (B, 4**5 + 1) int16/int32 array, and ``_groups`` packs up to sixteen
   one-lookup tests into the bits of one (G, 4**7 + 1) uint16 table.
3. **The scanning kernel.** ``_scan_chunk`` scans a chunk of sequences with every strand of a
   batch in turn: ``_group_rows`` for the strands of a shared bit table, ``_pair_row`` for the
   others, both skipping groups of eight positions on the first test alone (``_skip_bits``,
   ``_skip_pair``) and scoring the windows that pass block by block (``_window``, abandoned as
   soon as no completion reaches the threshold) into a (cap, 4) int64 hit buffer (strand,
   sequence, position, integer score; ``_push``). Every test bounds exact integers, so the hits
   are exactly the windows whose p-value is at most the threshold.
4. **q-values and output.** ``_tail_counts``: how many of pi0's sampled windows, scored through
   the block tables, have a p-value at or above each lambda; ``_clean_windows``: the windows free
   of N; ``_suffix_min``: the running minimum of the q-values within each motif;
   ``_window_letters``: the (n, W) ASCII letters of the hits, reverse-complemented on the minus
   strand.

The kernels are compiled with ``cache=True``; the cache goes to the private per-user folder of
:func:`motifq.cache.configure_numba_cache`, set before numba is imported.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .cache import configure_numba_cache

configure_numba_cache()  # before numba is imported: the cache goes to a private per-user folder

import numba  # noqa: E402

_BLOCK = 5                      # letters per lookup table (4**5 = 1024 entries + 1 for N)
_ABANDON = -(1 << 30)           # table entry of a block that holds an N: the window is never reported
_LANES = 8                      # windows per branch-free first test
_WIDE = 7                       # letters of the one-lookup first test (4**7 int16 entries: 32 KB)
_WIDE_CODES = 4 ** _WIDE
_WIDE_RATE = 0.016              # the one-lookup test is used when it passes fewer codes than this
_GROUP = 16                     # strands whose one-lookup tests share one table (bits of a uint16)
_GROUP_RATE = 0.064             # their summed pass rates stay within this
_LOW_BIT = np.array([(i & -i).bit_length() - 1 if i else 0 for i in range(256)], np.int64)  # lowest set bit of a byte
_LETTERS = np.frombuffer(b"ACGTN", dtype=np.uint8)   # ASCII of tokens 0..4


# ---------------------------------------------------------------------------------------------
# p-values: the score distribution and the threshold
# ---------------------------------------------------------------------------------------------
@numba.njit(cache=True)
def _score_pdf(scores, bg, top):
    """Distribution of the summed integer scores (W, 4) of a background window: (top + 1,).
    One column at a time, ``new[j + scores[i, b]] += bg[b] * pdf[j]`` for b = 0..3 in turn."""
    pdf = np.zeros(top + 1)
    new = np.zeros(top + 1)
    pdf[0] = 1.0
    reach = 0
    for i in range(scores.shape[0]):
        step = scores[i].max()
        new[:reach + step + 1] = 0.0
        for b in range(4):
            dst, w = new[scores[i, b]:scores[i, b] + reach + 1], bg[b]
            for j in range(reach + 1):
                dst[j] += w * pdf[j]
        reach += step
        pdf, new = new, pdf
    return pdf


@numba.njit(cache=True)
def _upper_tail(pdf):
    """(n,) probabilities -> (n + 1,) ``min(1, sum(pdf[s:]))`` summed from the top, and 0 past it."""
    out = np.empty(pdf.shape[0] + 1)
    out[-1], total = 0.0, 0.0
    for s in range(pdf.shape[0] - 1, -1, -1):
        total += pdf[s]
        out[s] = min(total, 1.0)
    return out


@numba.njit(cache=True)
def _threshold_score(pvalues, thresh):
    """The smallest integer score whose p-value is at most `thresh` (len - 1 when none is; MEME's
    fimo reports ``p <= thresh``), by bisection: the p-values fall as the score rises."""
    lo, hi = 0, pvalues.shape[0]
    while lo < hi:
        mid = (lo + hi) >> 1
        if pvalues[mid] <= thresh:
            hi = mid
        else:
            lo = mid + 1
    return min(lo, pvalues.shape[0] - 1)


# ---------------------------------------------------------------------------------------------
# tables: letter codes, blocks, first tests, one batch's tables packed
# ---------------------------------------------------------------------------------------------
@numba.njit(cache=True)
def _codes(tokens, k):
    """(N, L) uint8 tokens -> (N, L) uint16 base-4 code of the k letters from each position
    (first letter lowest; 4**k when one of them is an N or runs past the end)."""
    n, length = tokens.shape
    bad = 4 ** k
    out = np.empty((n, length), np.uint16)
    for s in range(n):
        for p in range(length):
            c, mult = 0, 1
            for j in range(k):
                t = tokens[s, p + j] if p + j < length else 4
                if t > 3:
                    c = bad
                    break
                c += t * mult
                mult *= 4
            out[s, p] = c
    return out


@numba.njit(cache=True)
def _block_tables(scores, k):
    """Lookup tables of a (W, 4) integer matrix in blocks of k columns, most informative first.

    Returns ``table`` (B, 4**k + 1) int32: entry c of block b is the summed score of the block's
    owned columns for the k letters of code c, and the last entry (an N) abandons the window;
    ``starts`` (B,) the first column of each block; ``rest`` (B,) the largest score the blocks
    after each can still add. A last partial block starts at W - k and owns only its new
    columns; a motif of one block gets a second, all-zero one, so the first test always reads two.
    """
    w, size = scores.shape[0], 4 ** k
    n_full = w // k
    n_real = n_full + (1 if w % k else 0)
    n_blocks = max(n_real, 2)
    table = np.zeros((n_blocks, size + 1), np.int32)
    starts = np.zeros(n_blocks, np.int64)
    key = np.full(n_blocks, -1.0)
    for b in range(n_real):
        starts[b] = b * k if b < n_full else w - k
        sums = np.zeros(1, np.int64)
        for j in range(k - 1, -1, -1):      # from the last letter (the highest base-4 digit) down
            col = starts[b] + j
            grown = np.empty(4 * sums.shape[0], np.int64)
            for hi in range(sums.shape[0]):
                for d in range(4):
                    grown[4 * hi + d] = sums[hi] + (scores[col, d] if col >= b * k else 0)
            sums = grown
        table[b, :size] = sums
        table[b, size] = _ABANDON
        key[b] = table[b, :size].max() - table[b, :size].mean()
    order = np.argsort(-key, kind="mergesort")
    table, starts = table[order], starts[order]
    rest = np.zeros(n_blocks, np.int64)
    for b in range(n_blocks - 2, -1, -1):
        rest[b] = rest[b + 1] + table[b + 1, :size].max()
    return table, starts, rest


@numba.njit(cache=True)
def _wide_bits(scores, threshold):
    """The one-lookup first test: the block of min(W, 7) consecutive columns with the largest
    summed (max - mean) score, from column ``woff``, and ``passes`` (4**7 + 1,) uint8: entry c
    is 1 when the block's summed score for the 7 letters of code c (first letter lowest; letters
    past the block weigh 0) plus the largest score of the other columns reaches `threshold`, and
    the last entry (an N, or the end of the sequence) is 1. A window whose code at ``p + woff``
    has ``passes`` 0 cannot reach the threshold. Also returns the fraction of the 4**7 codes
    that pass."""
    w = scores.shape[0]
    kw = min(w, _WIDE)
    gap = np.empty(w)
    for i in range(w):
        gap[i] = scores[i].max() - scores[i].mean()
    woff, best = 0, -1.0
    for o in range(w - kw + 1):
        g = gap[o:o + kw].sum()
        if g > best:
            woff, best = o, g
    part = np.zeros((_WIDE, 4), np.int64)
    part[:kw] = scores[woff:woff + kw]
    wcut = threshold
    for i in range(w):
        if i < woff or i >= woff + kw:
            wcut -= scores[i].max()
    low = np.empty(256, np.int64)       # the first four letters' summed score
    for c in range(256):
        low[c] = part[0, c & 3] + part[1, (c >> 2) & 3] + part[2, (c >> 4) & 3] + part[3, c >> 6]
    passes = np.empty(_WIDE_CODES + 1, np.uint8)
    n_pass = 0
    for hi in range(_WIDE_CODES // 256):
        need = wcut - (part[4, hi & 3] + part[5, (hi >> 2) & 3] + part[6, hi >> 4])
        for c in range(256):
            ok = low[c] >= need
            passes[hi * 256 + c] = ok
            n_pass += ok
    passes[_WIDE_CODES] = 1
    return woff, passes, n_pass / _WIDE_CODES


@numba.njit(cache=True)
def _block7(scores, off):
    """(4**7 + 1,) int64: the summed score of columns ``off .. off + 6`` of (W, 4) `scores` for the
    7 letters of each code (first letter lowest; columns past W weigh 0); the last entry is 0."""
    part = np.zeros((_WIDE, 4), np.int64)
    for d in range(_WIDE):
        if off + d < scores.shape[0]:
            part[d] = scores[off + d]
    lo = np.empty(256, np.int64)
    for c in range(256):
        lo[c] = part[0, c & 3] + part[1, (c >> 2) & 3] + part[2, (c >> 4) & 3] + part[3, c >> 6]
    out = np.zeros(_WIDE_CODES + 1, np.int64)
    for hi in range(_WIDE_CODES // 256):
        h = part[4, hi & 3] + part[5, (hi >> 2) & 3] + part[6, hi >> 4]
        for c in range(256):
            out[hi * 256 + c] = lo[c] + h
    return out


@numba.njit(cache=True)
def _pair_tables(scores, threshold):
    """The two-lookup first test of a strand whose one-lookup test passes too many windows: two
    blocks of 7 columns, from ``oa`` and ``ob`` (the pair that do not overlap with the largest
    summed (max - mean) score; for W < 14 columns 0-6 and 7-13, for W < 8 one block), and their
    summed scores (less their smallest) on a grid of 2**s units, rounded up, as ``tab``
    (2, 4**7 + 1) uint8 (the last entry, an N or the end of the sequence, is 255). A window with ``tab[0, code at p + oa]
    + tab[1, code at p + ob] < cut`` cannot reach `threshold`: the rounded-up entries bound the
    blocks' scores, and `cut` is the threshold less the largest score of the other columns,
    and the blocks' smallest scores, on the grid, rounded up."""
    w = scores.shape[0]
    gap = np.empty(w)
    for i in range(w):
        gap[i] = scores[i].max() - scores[i].mean()
    oa, ob = 0, (_WIDE if w >= _WIDE + 1 else 0)
    best = -1.0
    for o1 in range(w - 2 * _WIDE + 1):
        for o2 in range(o1 + _WIDE, w - _WIDE + 1):
            g = gap[o1:o1 + _WIDE].sum() + gap[o2:o2 + _WIDE].sum()
            if g > best:
                oa, ob, best = o1, o2, g
    a = _block7(scores, oa)
    b = _block7(scores, ob) if ob > 0 else np.zeros(_WIDE_CODES + 1, np.int64)
    rest = threshold
    for i in range(w):
        inside = oa <= i < oa + _WIDE or (ob > 0 and ob <= i < ob + _WIDE)
        if not inside:
            rest -= scores[i].max()
    lo_a, lo_b = a[:_WIDE_CODES].min(), b[:_WIDE_CODES].min()
    span, shift = max(a[:_WIDE_CODES].max() - lo_a, b[:_WIDE_CODES].max() - lo_b), 0
    while span > (254 << shift):
        shift += 1
    up = (1 << shift) - 1
    tab = np.empty((2, _WIDE_CODES + 1), np.uint8)
    for c in range(_WIDE_CODES):
        tab[0, c] = (a[c] - lo_a + up) >> shift
        tab[1, c] = (b[c] - lo_b + up) >> shift
    tab[0, _WIDE_CODES], tab[1, _WIDE_CODES] = 255, 255
    return oa, ob, tab, (rest - lo_a - lo_b + up) >> shift


class _Strand(NamedTuple):
    """One motif strand ready to scan: its :class:`motifq.scan.Pssm`, threshold score, block tables
    (`_block_tables`), letters per block ``k``, and first test: (use, woff, passes, rate) of
    `_wide_bits`, and when that one is not used, (oa, ob, tab, cut) of `_pair_tables`."""

    strand: str
    pssm: tuple
    threshold: int
    blocks: tuple
    k: int
    wide: tuple
    pair: tuple


def _strand_tables(strand: str, pssm, thresh: float, k: int) -> _Strand:
    """The :class:`_Strand` of one motif strand (``"+"`` or ``"-"``) from its
    :class:`motifq.scan.Pssm`: the threshold score of p < `thresh`, block tables of `k` letters,
    and the one-lookup first test, or the two-lookup one when that passes :data:`_WIDE_RATE` or
    more of the 7-mers."""
    scores = np.ascontiguousarray(pssm.scores, dtype=np.int64)
    t = _threshold_score(pssm.pvalues, thresh)
    woff, passes, rate = _wide_bits(scores, t)
    use = bool(rate < _WIDE_RATE)
    return _Strand(strand, pssm, t, _block_tables(scores, k), k, (use, woff, passes, rate),
                   None if use else _pair_tables(scores, t))


def _pack(strands: list) -> tuple:
    """The strands' tables as the kernel reads them: ``tab`` (B, 4**5 + 1), every block of every
    strand (narrower blocks fill the first 4**k + 1 entries), int16 when no window can score
    above 32767 (an N's entry becomes -32768: a window that holds one stays below 0), else
    int32; ``bfirst`` (S + 1,) the
    first block of each strand; ``bpos`` (B,) uint64 each block's first column; ``brest`` (B,)
    the most the blocks after it can add; and per strand ``width``, ``threshold`` and ``woff``."""
    tables = [st.blocks[0] for st in strands]
    bfirst = np.zeros(len(strands) + 1, np.int64)
    bfirst[1:] = np.cumsum([len(t) for t in tables])
    top = max(int(st.blocks[2][0] + st.blocks[0][0, :-1].max()) for st in strands)
    small = top <= np.iinfo(np.int16).max        # an N's entry, -32768, still keeps every window below 0
    tab = np.zeros((bfirst[-1], 4 ** _BLOCK + 1), np.int16 if small else np.int32)
    for t, b in zip(tables, bfirst):
        tab[b:b + len(t), :t.shape[1]] = np.maximum(t, np.iinfo(np.int16).min) if small else t
    bpos = np.concatenate([st.blocks[1] for st in strands]).astype(np.uint64)
    brest = np.concatenate([st.blocks[2] for st in strands])
    width = np.array([len(st.pssm.scores) for st in strands], np.int64)
    threshold = np.array([st.threshold for st in strands], np.int64)
    woff = np.array([st.wide[1] for st in strands], np.int64)
    return tab, bfirst, bpos, brest, width, threshold, woff


def _groups(strands: list, chosen: list) -> tuple[np.ndarray, np.ndarray]:
    """The strands `chosen` (indices; all with the one-lookup test) in groups that share one
    table: up to :data:`_GROUP` strands whose summed pass rates stay within :data:`_GROUP_RATE`.
    Returns ``bits`` (G, 4**7 + 1) uint16 (uint8 when :data:`_GROUP` <= 8), bit t set where member t's test passes, and
    ``members`` (G, _GROUP) int64 strand indices (-1 pads)."""
    groups, load = [], 0.0
    for j in chosen:
        rate = strands[j].wide[3]
        if not groups or len(groups[-1]) == _GROUP or load + rate > _GROUP_RATE:
            groups.append([])
            load = 0.0
        groups[-1].append(j)
        load += rate
    bits = np.zeros((len(groups), _WIDE_CODES + 1), np.uint8 if _GROUP <= 8 else np.uint16)
    members = np.full((len(groups), _GROUP), -1, np.int64)
    for g, group in enumerate(groups):
        members[g, :len(group)] = group
        for t, j in enumerate(group):
            bits[g] |= strands[j].wide[2].astype(bits.dtype) << bits.dtype.type(t)
    return bits, members


# ---------------------------------------------------------------------------------------------
# the scanning kernel
# ---------------------------------------------------------------------------------------------
@numba.njit(cache=True, inline="always")
def _window(row, p, tab, b0, b1, bpos, brest, threshold):
    """The score of the window at `p` through the blocks ``b0 .. b1 - 1`` of `tab`, or -1 as
    soon as its partial score plus the most the blocks left can add falls below `threshold`."""
    up = np.uint64(p)
    total = tab[b0, row[up + bpos[b0]]]
    for b in range(b0 + 1, b1):
        total += tab[b, row[up + bpos[b]]]
        if total + brest[b] < threshold:
            return -1
    return total


@numba.njit(cache=True, inline="always")
def _push(out, n, j, s, p, total):
    """Write row n of the (cap, 4) int64 hit buffer (strand, sequence, position, score) when it
    fits; returns n + 1 (the caller calls again with room for all when it does not fit)."""
    if n < out.shape[0]:
        out[n, 0], out[n, 1], out[n, 2], out[n, 3] = j, s, p, total
    return n + 1


@numba.njit(cache=True)
def _skip_bits(wrow, q, qhi, bits):
    """The first position from `q`, in steps of `_LANES`, whose group of `_LANES` 7-mer codes
    holds one with a set bit in `bits` (or the tail, fewer than `_LANES` codes before `qhi`).
    Branch-free within a group; unsigned indices spare numba's negative-index test."""
    uq, uhi, lanes = np.uint64(q), np.uint64(qhi), np.uint64(_LANES)
    while uq + lanes <= uhi:
        alive = False
        for v in range(_LANES):
            alive |= bits[wrow[uq + np.uint64(v)]] != 0
        if alive:
            break
        uq += lanes
    return np.int64(uq)


@numba.njit(cache=True)
def _group_rows(code, wcode, r0, bits, members, strands, out, n):
    """Hits of the strands `members` of one group on the rows of a chunk (`code`: their k-mer
    codes, `wcode`: their 7-mer codes; row s is sequence ``r0 + s``). Bit t of ``bits[code]`` is
    strand ``members[t]``'s first test at that 7-mer code; a set bit sends its window (the
    code's position less the strand's ``woff``) through the blocks. `strands` is (tab, bfirst,
    bpos, brest, width, threshold, woff)."""
    tab, bfirst, bpos, brest, width, threshold, woff = strands
    length = code.shape[1]
    qlo, qhi = length, 0
    for j in members:
        qlo, qhi = min(qlo, woff[j]), max(qhi, woff[j] + length - width[j] + 1)
    for s in range(code.shape[0]):
        row, wrow, q = code[s], wcode[s], qlo
        while q < qhi:
            q = _skip_bits(wrow, q, qhi, bits)
            stop = min(q + _LANES, qhi)
            for x in range(q, stop):
                hit = np.int64(bits[wrow[x]])
                while hit:
                    low = hit & 255
                    j = members[_LOW_BIT[low] if low else 8 + _LOW_BIT[hit >> 8]]
                    hit &= hit - 1
                    p = x - woff[j]
                    if p >= 0 and p <= length - width[j]:
                        total = _window(row, p, tab, bfirst[j], bfirst[j + 1], bpos, brest, threshold[j])
                        if total >= threshold[j]:
                            n = _push(out, n, j, r0 + s, p, total)
            q = stop
    return n


@numba.njit(cache=True)
def _skip_pair(wrow, x, last, ta, tb, oa, ob, cut):
    """As `_skip_bits`, with the two-lookup test ``ta[code at p + oa] + tb[code at p + ob] >= cut``."""
    ux, ulast, lanes, ua, ub = np.uint64(x), np.uint64(last), np.uint64(_LANES), np.uint64(oa), np.uint64(ob)
    while ux + lanes <= ulast:
        alive = False
        for v in range(_LANES):
            alive |= np.int32(ta[wrow[ux + np.uint64(v) + ua]]) + np.int32(tb[wrow[ux + np.uint64(v) + ub]]) >= cut
        if alive:
            break
        ux += lanes
    return np.int64(ux)


@numba.njit(cache=True, inline="always")
def _pair_row(row, wrow, s, j, pair, strands, out, n):
    """Hits of strand `j` on one sequence (`row`: its k-mer codes, `wrow`: its 7-mer codes) for a
    strand without the one-lookup test: groups of `_LANES` windows are skipped on the two-lookup
    test `pair` = (oa, ob, tab, cut) of `_pair_tables`."""
    tab, bfirst, bpos, brest, width, threshold, _ = strands
    oa, ob, tables, cut = pair
    ta, tb, thr = tables[0], tables[1], threshold[j]
    last = row.shape[0] - width[j] + 1
    x = 0
    while x < last:
        x = _skip_pair(wrow, x, last, ta, tb, oa, ob, cut)
        for p in range(x, min(x + _LANES, last)):
            total = _window(row, p, tab, bfirst[j], bfirst[j + 1], bpos, brest, thr)
            if total >= thr:
                n = _push(out, n, j, s, p, total)
        x += _LANES
    return n


@numba.njit(cache=True)
def _scan_chunk(code, wcode, r0, strands, bits, members, plain, pairs, out, n):
    """Hits of every strand of a batch on the rows ``r0 ..`` of a chunk (`code`: (rows, L) k-mer
    codes, `wcode`: 7-mer codes), appended to the (cap, 4) int64 buffer `out` (strand, sequence,
    position, score) from row `n`. Strands with the one-lookup test come in groups sharing one
    table, ``bits`` (G, 4**7 + 1) uint16 (uint8 for groups of up to 8), whose strands are
    ``members[g, :size]`` (-1 pads); `plain` (P,) lists the others, with their two-lookup tests
    ``pairs`` = (offsets (P, 2), tables (P, 2, 4**7 + 1) uint8, cuts (P,)) of `_pair_tables`.
    Every group and strand scans all rows in turn, so that its tables stay in cache. Returns the
    number of rows the hits need (rows past the buffer's end are
    not written: the caller calls again with room for all)."""
    for g in range(bits.shape[0]):
        size = 0
        while size < members.shape[1] and members[g, size] >= 0:
            size += 1
        n = _group_rows(code, wcode, r0, bits[g], members[g, :size], strands, out, n)
    offs, tabs, cuts = pairs
    for i in range(plain.shape[0]):
        pair = (offs[i, 0], offs[i, 1], tabs[i], cuts[i])
        for s in range(code.shape[0]):
            n = _pair_row(code[s], wcode[s], r0 + s, plain[i], pair, strands, out, n)
    return n


# ---------------------------------------------------------------------------------------------
# q-values and output: the pi0 sample, running minima, matched letters
# ---------------------------------------------------------------------------------------------
@numba.njit(cache=True)
def _tail_counts(sample, blocks, pvalues, lambdas):
    """For each of the increasing `lambdas`, how many of the sampled windows have a p-value
    ``pvalues[score] >= lambda``. `sample` (W - k + 1, n) holds each window's k-mer codes from
    each of its positions (free of N), scored through the block tables ``blocks`` of
    `_block_tables`. The p-values fall as the score rises, so each count is a prefix of the
    score histogram, up to a bound found by bisection (the scores whose p-value is below
    ``lambdas[0]`` share one bin)."""
    table, starts, _ = blocks
    bound = np.empty(lambdas.shape[0], np.int64)    # the number of scores whose p-value reaches each lambda
    for li in range(lambdas.shape[0]):
        lo, hi = 0, pvalues.shape[0]
        while lo < hi:
            mid = (lo + hi) >> 1
            if pvalues[mid] >= lambdas[li]:
                lo = mid + 1
            else:
                hi = mid
        bound[li] = lo
    totals = np.zeros(sample.shape[1], np.int64)
    for b in range(table.shape[0]):
        row, codes = table[b], sample[starts[b]]
        for i in range(codes.shape[0]):
            totals[i] += row[codes[i]]
    hist = np.zeros(bound[0] + 1, np.int64)
    for i in range(totals.shape[0]):
        hist[min(totals[i], bound[0])] += 1
    below = np.cumsum(hist)
    out = np.zeros(lambdas.shape[0], np.int64)
    for li in range(lambdas.shape[0]):
        out[li] = below[bound[li] - 1] if bound[li] > 0 else 0
    return out


@numba.njit(cache=True)
def _suffix_min(x, group):
    """The running minimum of `x` from the right, restarted where the sorted `group` changes."""
    out = x.copy()
    for i in range(x.shape[0] - 2, -1, -1):
        if group[i] == group[i + 1] and out[i + 1] < out[i]:
            out[i] = out[i + 1]
    return out


@numba.njit(cache=True)
def _clean_windows(tokens, width):
    """Flat indices ``s * (L - width + 1) + p``, ascending, of the windows of (N, L) tokens free of N."""
    n, length = tokens.shape
    per = length - width + 1
    out = np.empty(n * per, np.int64)
    k = 0
    for s in range(n):
        run = 0
        for p in range(length):
            run = 0 if tokens[s, p] > 3 else run + 1
            if run >= width:
                out[k] = s * per + p - width + 1
                k += 1
    return out[:k]


@numba.njit(cache=True)
def _window_letters(tokens, seq, pos, minus, width):
    """(n, width) uint8 ASCII letters of the windows (sequence `seq`, start `pos`; (n,) arrays) of
    (N, L) tokens, reverse-complemented where `minus`."""
    out = np.empty((seq.shape[0], width), np.uint8)
    for i in range(seq.shape[0]):
        for d in range(width):
            if minus[i]:
                out[i, d] = _LETTERS[3 - tokens[seq[i], pos[i] + width - 1 - d]]
            else:
                out[i, d] = _LETTERS[tokens[seq[i], pos[i] + d]]
    return out
