"""Scan sequences for known motifs with exact p-values, as MEME's FIMO.

The method (Grant, Bailey & Noble 2011), stage by stage:

1. **Probabilities with a pseudocount.** Each column of a motif's counts (W, 4), A, C, G, T, is
   turned into probabilities ``f`` and smoothed as MEME does:
   ``p[i, b] = (f[i, b] * nsites + s * bg[b]) / (nsites + s)`` with pseudocount ``s``
   (``--pseudocount``, FIMO's ``--motif-pseudo``, 0.1) and the scanning background ``bg``.
2. **Log-odds.** ``L[i, b] = log2(p[i, b] / bg[b])`` (bits).
3. **Integer scores.** As MEME's ``scale_pssm``: with ``lo = min L`` and ``hi = max L`` over the
   whole matrix, ``scale = floor(1000 / (hi - lo))`` and ``S[i, b] = round((L[i, b] - lo) * scale)``,
   so every entry is an integer in 0..1000 and a window's score is an integer in 0..1000 W.
   The reported score is FIMO's: ``S_window / scale + W * lo`` (the log-odds score in bits,
   to the resolution of the integers).
4. **Exact p-values.** The distribution of the integer score of a random window whose letters are
   drawn independently from ``bg`` is computed exactly by dynamic programming (one convolution per
   column); ``p(s) = P(S >= s)``. The reverse strand has its own matrix (the reverse complement
   of the motif's probabilities against the same background) and its own table.
5. **Threshold.** A window is reported when ``p < thresh`` (``--thresh``, 1e-4). Windows that
   hold an ``N`` (or any IUPAC ambiguity code) are not scored.
6. **q-values.** Per motif, as FIMO: Storey's method with ``m`` = the number of windows scored
   (both strands), ranks among the reported hits (all of which have smaller p-values than any
   window not reported), and pi0 estimated from the p-values of a sample of up to 10,000
   windows (FIMO keeps a random reservoir of that size; here a seeded sample): pi0(l) =
   #(p >= l) / ((1 - l) n) for l = 0.005, 0.010, ..., 0.5, the l chosen that minimises the
   expected bootstrap mean-squared error around the smallest pi0(l) (MEME draws the bootstraps).
   ``q = min(1, min over hits with p' >= p of pi0 * p' * m / rank(p'))``.

Output: FIMO's TSV columns (:data:`FIMO_COLUMNS`) with **1-based inclusive** coordinates on the
forward strand for both strands (``start <= stop``); ``matched_sequence`` is read on the motif's
strand (the reverse complement for ``-``), as FIMO prints it.

Backgrounds (``background``): ``uniform`` (0.25 each; the default here), ``motif`` (each motif's
own background, as declared in its MEME file; FIMO's default, ``--bfile --motif--``),
``sequences`` (the letter frequencies of the scanned sequences, both strands counted, like MEME's
``fasta-get-markov``), or a MEME background file (order-0 lines ``A 0.29``; higher orders are
ignored). FIMO's ``--bfile --uniform--`` gives the same numbers as the default here.

Speed: each motif and strand is turned into tables of the summed integer scores of up to five
consecutive columns for every 5-mer (a few KB), and one int16 table of its most informative
seven columns for every 7-mer (32 KB). Groups of eight consecutive windows are skipped with one
lookup per window while none can reach the threshold score even if every other column scored its
best; in a group that passes, the windows are tested on two blocks without a branch, and a window
that passes is scored block by block, abandoned as soon as its partial score plus the largest
score the remaining blocks can add falls below the threshold. The sequences are scanned in chunks
of about 128 kb, each by every strand of a batch of motifs in turn, so that the letter codes stay
in cache. The result is exact: every test bounds exact integers, and a window is only abandoned
when no completion can reach the threshold. pi0's window sample is scored through the same tables
and counted in a histogram of scores.
"""
from __future__ import annotations

import logging
from typing import NamedTuple

import numpy as np

from .cache import configure_numba_cache
from .errors import MotifqError, atomic_write, check, check_file
from .motif import UNIFORM, Motif
from .sequence import N_TOKEN, tokenize

configure_numba_cache()  # before numba is imported: the cache goes to a private per-user folder

import numba  # noqa: E402

__all__ = [
    "FIMO_COLUMNS",
    "PSSM_RANGE",
    "Pssm",
    "build_pssm",
    "read_background",
    "scan",
    "score_pvalues",
    "write_hits",
]

log = logging.getLogger("motifq")

#: The columns of FIMO's ``fimo.tsv``, in its order.
FIMO_COLUMNS = ("motif_id", "motif_alt_id", "sequence_name", "start", "stop", "strand", "score", "p-value",
                "q-value", "matched_sequence")
#: Integer scores of one matrix entry run over 0..PSSM_RANGE (MEME's scaling).
PSSM_RANGE = 1000
_PI0_SAMPLE = 10000
_NUM_LAMBDA, _MAX_LAMBDA, _BOOTSTRAPS = 100, 0.5, 1000
_LAMBDAS = np.arange(1, _NUM_LAMBDA + 1) / _NUM_LAMBDA * _MAX_LAMBDA    # Storey's 0.005, 0.010, ..., 0.5
_BLOCK = 5                      # letters per lookup table (4**5 = 1024 entries + 1 for N)
_ABANDON = -(1 << 30)           # table entry of a block that holds an N: the window is never reported
_LANES = 8                      # windows per branch-free first test
_WIDE = 7                       # letters of the one-lookup first test (4**7 int16 entries: 32 KB)
_WIDE_CODES = 4 ** _WIDE
_WIDE_RATE = 0.016              # the one-lookup test is used when it passes fewer codes than this
_CHUNK = 1 << 17                # sequence positions scanned by every motif of a batch in turn (512 KB of codes)
_BATCH = 64                     # motifs prepared at once (their tables: about 3 MB)


class Pssm(NamedTuple):
    """One motif strand's integer score matrix and p-value table.

    Attributes
    ----------
    scores : (W, 4) int32 array
        Integer scores, A, C, G, T, each in 0..:data:`PSSM_RANGE`.
    scale : float
        Integer units per bit.
    offset : float
        The smallest log-odds entry (bits); a window's score in bits is ``S / scale + W * offset``.
    pvalues : (W * PSSM_RANGE + 2,) float64 array
        ``pvalues[s] = P(S >= s)`` for a window drawn from the background; 0 past the top.
    """

    scores: np.ndarray
    scale: float
    offset: float
    pvalues: np.ndarray


# ---------------------------------------------------------------------------------------------
# matrices and p-values
# ---------------------------------------------------------------------------------------------
def _smoothed(probs: np.ndarray, nsites: float, bg: np.ndarray, pseudocount: float) -> np.ndarray:
    """MEME's motif pseudocount: ``(f * nsites + s * bg) / (nsites + s)``, (W, 4)."""
    return (probs * nsites + pseudocount * bg) / (nsites + pseudocount)


def _integerise(log_odds: np.ndarray, score_range: int = PSSM_RANGE) -> tuple[np.ndarray, float, float]:
    """MEME's ``scale_pssm``: (W, 4) bits -> (W, 4) int32 in 0..range, scale, offset."""
    lo, hi = float(log_odds.min()), float(log_odds.max())
    if hi == lo:
        hi = lo + 1.0
    scale = float(np.floor(score_range / (hi - lo)))
    return np.rint((log_odds - lo) * scale).astype(np.int32), scale, lo


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


def score_pvalues(scores, background=None) -> np.ndarray:
    """Exact upper-tail p-values of the integer score of a window drawn from the background.

    Parameters
    ----------
    scores : (W, 4) int array
        Non-negative integer scores, A, C, G, T.
    background : (4,) float array or None
        Letter probabilities, A, C, G, T. Default is None: uniform.

    Returns
    -------
    numpy.ndarray
        (max_total + 2,) float64: entry ``s`` is ``P(sum_i scores[i, x_i] >= s)`` with
        ``x_i ~ background`` independently; the last entry (past the top) is 0.
    """
    scores = np.ascontiguousarray(scores, dtype=np.int64)
    bg = np.ascontiguousarray(UNIFORM if background is None else background, dtype=np.float64)
    pdf = _score_pdf(scores, bg, int(scores.max(axis=1).sum()))
    tail = np.cumsum(pdf[::-1])[::-1]
    return np.minimum(np.append(tail, 0.0), 1.0)


def build_pssm(probs, nsites: float, background=None, pseudocount: float = 0.1) -> Pssm:
    """Integer score matrix and p-value table of one motif strand (stages 1-4 of the module).

    Parameters
    ----------
    probs : (W, 4) float array
        Position probabilities, A, C, G, T (rows sum to 1).
    nsites : float
        Number of sites behind the probabilities (weighs the pseudocount).
    background : (4,) float array or None
        Letter probabilities, A, C, G, T. Default is None: uniform.
    pseudocount : float
        Total pseudocount spread by the background. Default is 0.1.

    Returns
    -------
    Pssm
    """
    bg = np.asarray(UNIFORM if background is None else background, dtype=np.float64)
    p = _smoothed(np.asarray(probs, dtype=np.float64), float(nsites), bg, pseudocount)
    with np.errstate(divide="ignore"):
        log_odds = np.log2(p / bg)
    check(np.isfinite(log_odds).all(), "pseudocount: a motif has a zero probability; use a pseudocount > 0")
    scores, scale, offset = _integerise(log_odds)
    return Pssm(scores, scale, offset, score_pvalues(scores, bg))


def _strand_pssms(motif: Motif, bg: np.ndarray, pseudocount: float, both_strands: bool) -> list:
    """[("+", Pssm), ("-", Pssm)]: the reverse strand's matrix is the reverse complement of the
    probabilities against the same background; on a complement-symmetric background its integer
    scores are the forward ones reversed and complemented, with the same p-value table."""
    probs = motif.counts / motif.counts.sum(axis=1, keepdims=True)
    fwd = build_pssm(probs, motif.nsites, bg, pseudocount)
    out = [("+", fwd)]
    if both_strands and bool((np.abs(bg - bg[::-1]) <= 1e-12).all()):
        out.append(("-", fwd._replace(scores=np.ascontiguousarray(fwd.scores[::-1, ::-1]))))
    elif both_strands:
        out.append(("-", build_pssm(probs[::-1, ::-1], motif.nsites, bg, pseudocount)))
    return out


# ---------------------------------------------------------------------------------------------
# backgrounds
# ---------------------------------------------------------------------------------------------
def _parse_background_file(path) -> np.ndarray:
    p = check_file(path)
    freqs = {}
    for i, line in enumerate(p.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        tok = line.split()
        if not tok or tok[0].startswith("#"):
            continue
        check(len(tok) >= 2, f"{p}: line {i}: expected a letter and a frequency")
        if len(tok[0]) == 1:
            try:
                freqs[tok[0].upper()] = float(tok[1])
            except ValueError:
                raise MotifqError(f"{p}: line {i}: {tok[1]!r} is not a number") from None
    check(set(freqs) == set("ACGT"), f"{p}: background needs order-0 lines for A, C, G and T")
    return np.array([freqs[b] for b in "ACGT"])


def read_background(spec, tokens=None) -> np.ndarray | None:
    """The scanning background.

    Parameters
    ----------
    spec : str or os.PathLike or array
        ``uniform``, ``motif`` (each motif's own; returns None), ``sequences`` (letter frequencies
        of `tokens`, both strands counted), a MEME background file, or 4 numbers (A, C, G, T).
    tokens : (N, L) uint8 array or None
        ACGT tokens (4 = N), for ``sequences``. Default is None.

    Returns
    -------
    numpy.ndarray or None
        (4,) float64 summing to 1, A, C, G, T; None for ``motif``.
    """
    if isinstance(spec, str) and spec in ("uniform", "motif", "sequences"):
        if spec == "uniform":
            return UNIFORM.copy()
        if spec == "motif":
            return None
        counts = np.bincount(np.asarray(tokens).ravel(), minlength=5)[:4].astype(np.float64)
        counts = counts + counts[::-1]
        check(counts.sum() > 0, "background: the sequences hold no A, C, G or T")
        bg = counts
    elif isinstance(spec, (str, bytes)) or hasattr(spec, "__fspath__"):
        bg = _parse_background_file(spec)
    else:
        bg = np.asarray(spec, dtype=np.float64)
        check(bg.shape == (4,), f"background: expected 4 numbers, got shape {bg.shape}")
    check(bool((bg > 0).all()), "background: every letter needs a frequency > 0")
    return bg / bg.sum()


# ---------------------------------------------------------------------------------------------
# the scanning kernel
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
        for code in range(size):
            total, c = 0, code
            for j in range(k):
                if starts[b] + j >= b * k:
                    total += scores[starts[b] + j, c % 4]
                c //= 4
            table[b, code] = total
        table[b, size] = _ABANDON
        key[b] = table[b, :size].max() - table[b, :size].mean()
    order = np.argsort(-key, kind="mergesort")
    table, starts = table[order], starts[order]
    rest = np.zeros(n_blocks, np.int64)
    for b in range(n_blocks - 2, -1, -1):
        rest[b] = rest[b + 1] + table[b + 1, :size].max()
    return table, starts, rest


@numba.njit(cache=True)
def _wide_table(scores, threshold):
    """The one-lookup first test: the block of min(W, 7) consecutive columns with the largest
    summed (max - mean) score, from column ``woff``; ``wtab`` (4**7 + 1,) int16, entry c the
    block's summed score for the 7 letters of code c (first letter lowest; letters past the block
    weigh 0; the last entry, an N, always passes); and ``wcut``, the threshold less the largest
    score of the other columns. A window with ``wtab[c] < wcut`` cannot reach the threshold.
    Also returns the fraction of the 4**7 codes that pass."""
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
    wtab = np.empty(_WIDE_CODES + 1, np.int16)
    wcut = threshold
    for i in range(w):
        if i < woff or i >= woff + kw:
            wcut -= scores[i].max()
    n_pass = 0
    for hi in range(_WIDE_CODES // 256):
        h = part[4, hi & 3] + part[5, (hi >> 2) & 3] + part[6, hi >> 4]
        for lo in range(256):
            v = part[0, lo & 3] + part[1, (lo >> 2) & 3] + part[2, (lo >> 4) & 3] + part[3, lo >> 6] + h
            wtab[hi * 256 + lo] = v
            n_pass += v >= wcut
    wtab[_WIDE_CODES] = np.iinfo(np.int16).max
    return woff, wtab, wcut, n_pass / _WIDE_CODES


@numba.njit(cache=True, inline="always")
def _rest_of_window(row, p, table, starts, rest, total, threshold):
    """Add blocks 2.. of the window at `p` to `total`; -1 once it cannot reach `threshold`."""
    for b in range(2, table.shape[0]):
        total += table[b, row[p + starts[b]]]
        if total + rest[b] < threshold:
            return -1
    return total


@numba.njit(cache=True, inline="always")
def _skip_wide(wrow, x, last, wtab, woff, wcut):
    """The first position from `x`, in steps of `_LANES`, whose group of `_LANES` windows holds
    one with ``wtab[wrow[p + woff]] >= wcut`` (or the tail, fewer than `_LANES` windows before
    `last`). Branch-free within a group; unsigned indices spare numba's negative-index test."""
    ux, ulast, uoff, lanes = np.uint64(x), np.uint64(last), np.uint64(woff), np.uint64(_LANES)
    while ux + lanes <= ulast:
        alive = False
        for v in range(_LANES):
            alive |= wtab[wrow[ux + np.uint64(v) + uoff]] >= wcut
        if alive:
            break
        ux += lanes
    return np.int64(ux)


@numba.njit(cache=True, inline="always")
def _skip_two(row, x, last, table, s0, s1, cut):
    """As `_skip_wide`, with the test on the first two blocks, ``table[0] + table[1] >= cut``."""
    ux, ulast, u0, u1, lanes = np.uint64(x), np.uint64(last), np.uint64(s0), np.uint64(s1), np.uint64(_LANES)
    t0, t1 = table[0], table[1]
    while ux + lanes <= ulast:
        alive = False
        for v in range(_LANES):
            alive |= t0[row[ux + np.uint64(v) + u0]] + t1[row[ux + np.uint64(v) + u1]] >= cut
        if alive:
            break
        ux += lanes
    return np.int64(ux)


@numba.njit(cache=True, inline="always")
def _lead(row, p, t0, t1, s0, s1):
    """The summed score of the first two blocks of the window at `p` (unsigned indices)."""
    return t0[row[np.uint64(p) + s0]] + t1[row[np.uint64(p) + s1]]


@numba.njit(cache=True)
def _hits(code, wcode, blocks, wide, width, threshold, seq, pos, score):
    """Windows whose score, the sum of ``table[b, code[s, p + starts[b]]]`` over blocks b, is at
    least `threshold`.

    `blocks` is (table, starts, rest) from `_block_tables`; `wide` is (use, woff, wtab, wcut).
    Groups of `_LANES` consecutive windows are skipped while none passes the first test: with
    ``use``, one lookup of the 7-mer code ``wcode[s, p + woff]`` in `wtab` against `wcut`; else
    the first two blocks against the threshold less ``rest[1]``. In a group that passes, both
    tests are made on every window without a branch, and only the windows that pass both go on
    through the other blocks, each abandoned once its partial sum plus ``rest[b]`` (the most the
    blocks after b can add) is below the threshold. The last windows of a sequence (fewer than
    a group) are tested one by one. Every test bounds exact integers, so no window at or above the
    threshold is abandoned. Writes the first ``len(seq)`` hits' sequence, position and integer
    score into `seq`, `pos`, `score` and returns the number of hits (the caller calls again with
    room for all when it is larger)."""
    table, starts, rest = blocks
    use, woff, wtab, wcut = wide
    n, length = code.shape
    cap, n_hits = seq.shape[0], 0
    t0, t1, s0, s1, uoff = table[0], table[1], np.uint64(starts[0]), np.uint64(starts[1]), np.uint64(woff)
    cut, last = threshold - rest[1], length - width + 1
    ok, nowide = np.zeros(_LANES, np.bool_), not use
    for s in range(n):
        row, wrow, x = code[s], wcode[s], 0
        while True:
            x = _skip_wide(wrow, x, last, wtab, woff, wcut) if use else _skip_two(row, x, last, table, s0, s1, cut)
            group = x + _LANES <= last
            m = _LANES if group else last - x
            for v in range(m):
                p = np.uint64(x + v)
                ok[v] = ((wtab[wrow[p + uoff]] >= wcut) | nowide) & (_lead(row, p, t0, t1, s0, s1) >= cut)
            for v in range(m):
                if ok[v]:
                    total = _rest_of_window(row, x + v, table, starts, rest, _lead(row, x + v, t0, t1, s0, s1),
                                            threshold)
                    if total >= threshold:
                        if n_hits < cap:
                            seq[n_hits], pos[n_hits], score[n_hits] = s, x + v, total
                        n_hits += 1
            if not group:
                break
            x += _LANES
    return n_hits


class _Strand(NamedTuple):
    """One motif strand ready to scan: its Pssm, (W, 4) int64 scores, threshold score, block
    tables (`_block_tables`) and first test (use, woff, wtab, wcut; `_wide_table`)."""

    strand: str
    pssm: Pssm
    scores: np.ndarray
    threshold: int
    blocks: tuple
    wide: tuple


def _prepare(motif, bg, pseudocount, both_strands, thresh) -> list:
    """The :class:`_Strand` of each strand of one motif."""
    out = []
    for strand, pssm in _strand_pssms(motif, bg, pseudocount, both_strands):
        scores = np.ascontiguousarray(pssm.scores, dtype=np.int64)
        t = _threshold_score(pssm.pvalues, thresh)
        woff, wtab, wcut, rate = _wide_table(scores, t)
        out.append(_Strand(strand, pssm, scores, t, _block_tables(scores, min(_BLOCK, motif.width)),
                           (bool(rate < _WIDE_RATE), woff, wtab, wcut)))
    return out


def _scan_strand(code, wcode, st: _Strand, buffers: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sequence, position, integer score) of every window of `code` (n, L) at or above the
    strand's threshold (`wcode`: the 7-mer codes of the same rows). `buffers` holds three int64
    arrays the kernel writes into, replaced by larger ones when the hits do not fit."""
    while True:
        n = _hits(code, wcode, st.blocks, st.wide, st.scores.shape[0], st.threshold, *buffers)
        if n <= len(buffers[0]):
            return tuple(b[:n].copy() for b in buffers)
        buffers[:] = [np.empty(n, np.int64) for _ in range(3)]


def _threshold_score(pvalues: np.ndarray, thresh: float) -> int:
    """The smallest integer score whose p-value is below `thresh` (len - 1 when none is)."""
    first = int(np.argmax(pvalues < thresh))
    return first if pvalues[first] < thresh else len(pvalues) - 1


# ---------------------------------------------------------------------------------------------
# q-values
# ---------------------------------------------------------------------------------------------
@numba.njit(cache=True)
def _tail_counts(sample, blocks, pvalues, lambdas):
    """For each of the increasing `lambdas`, how many of the sampled windows have a p-value
    ``pvalues[score] >= lambda``. `sample` (n, W - k + 1) holds each window's k-mer codes from
    each of its positions (free of N), scored through the block tables ``blocks`` of
    `_block_tables`. The p-values fall as the score rises, so each count is a prefix of the
    score histogram."""
    table, starts, _ = blocks
    hist = np.zeros(pvalues.shape[0], np.int64)
    for i in range(sample.shape[0]):
        total = 0
        for b in range(table.shape[0]):
            total += table[b, sample[i, starts[b]]]
        hist[total] += 1
    out = np.zeros(lambdas.shape[0], np.int64)
    cum, s = 0, 0
    for li in range(lambdas.shape[0] - 1, -1, -1):
        while s < pvalues.shape[0] and pvalues[s] >= lambdas[li]:
            cum += hist[s]
            s += 1
        out[li] = cum
    return out


def _pi_zero(counts: np.ndarray, m: int) -> float:
    """Storey's pi0 of a sample of `m` p-values as MEME estimates it, from ``counts[i]``, the
    number of them ``>= _LAMBDAS[i]``, with the bootstrap's expected mean-squared error instead
    of random draws (see the module docstring)."""
    if m == 0:
        return 1.0
    lambdas = _LAMBDAS
    f = counts / m
    with np.errstate(divide="ignore", invalid="ignore"):
        pi0 = np.where(f > 0, f / (1 - lambdas), np.inf)
    plug = pi0.min()
    mse = f * (1 - f) / (_BOOTSTRAPS * (1 - lambdas) ** 2) + (pi0 - plug) ** 2
    mse[~np.isfinite(pi0)] = np.inf
    best = pi0[int(np.argmin(mse))]
    return float(np.clip(best, 0.0, 1.0)) if np.isfinite(best) else 1.0


def _qvalues(p: np.ndarray, m: int, pi0: float) -> np.ndarray:
    """FIMO's q-values of the reported hits' p-values `p` among `m` windows scored."""
    if p.size == 0:
        return p.copy()
    order = np.argsort(p, kind="stable")
    sp = p[order]
    fdr = np.minimum(1.0, pi0 * sp * m / np.arange(1, p.size + 1))
    q = np.minimum.accumulate(fdr[::-1])[::-1]
    out = np.empty_like(q)
    out[order] = q
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


def _windows(tokens: np.ndarray, width: int, rng) -> tuple[np.ndarray, int]:
    """Up to :data:`_PI0_SAMPLE` random windows free of N (drawn with replacement) as (n, 2)
    sequence indices and starts, and the number of windows free of N."""
    n, length = tokens.shape
    clean = _clean_windows(tokens, width) if length >= width else np.empty(0, np.int64)
    if clean.size == 0:
        return np.empty((0, 2), np.int64), 0
    pick = clean if clean.size <= _PI0_SAMPLE else clean[rng.integers(0, clean.size, _PI0_SAMPLE)]
    return np.stack(np.divmod(pick, length - width + 1), axis=1), int(clean.size)


# ---------------------------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------------------------
def _as_tokens(sequences, names) -> tuple[np.ndarray, list]:
    """Sequences (strings, token arrays or an (N, L) array) -> N-padded (N, L) uint8 and names."""
    if isinstance(sequences, np.ndarray) and sequences.ndim == 2:
        tokens = np.ascontiguousarray(sequences, dtype=np.uint8)
    else:
        seqs = [tokenize(s) if isinstance(s, str) else np.asarray(s, dtype=np.uint8) for s in sequences]
        check(len(seqs) > 0, "sequences: none given")
        tokens = np.full((len(seqs), max(len(s) for s in seqs)), N_TOKEN, dtype=np.uint8)
        for i, s in enumerate(seqs):
            tokens[i, :len(s)] = s
    check(tokens.size > 0, "sequences: none given")
    check(int(tokens.max()) <= N_TOKEN, "sequences: tokens must be 0..4 (A, C, G, T, N)")
    names = [f"seq_{i}" for i in range(len(tokens))] if names is None else [str(x) for x in names]
    check(len(names) == len(tokens), f"names: {len(names)} names for {len(tokens)} sequences")
    return tokens, names


def _as_motifs(motifs) -> list:
    if isinstance(motifs, Motif):
        return [motifs]
    if isinstance(motifs, str) or hasattr(motifs, "__fspath__"):
        from .jaspar import load_motifs

        return load_motifs(motifs)
    out = list(motifs)
    check(len(out) > 0 and all(isinstance(m, Motif) for m in out), "motifs: expected Motif objects")
    return out


class _Inputs(NamedTuple):
    """What every motif of one scan shares: tokens (N, L) uint8, names, and the cached window
    samples (per width) and letter codes (per block size), filled on demand."""

    tokens: np.ndarray
    names: list
    windows: dict
    codes: dict
    rng: np.random.Generator

    def sample(self, width: int):
        """The k-mer codes (n, width - k + 1), k = min(5, width), of the windows sampled for pi0
        (:func:`_windows`), and the number of windows free of N."""
        if width not in self.windows:
            picks, n_windows = _windows(self.tokens, width, self.rng)
            k = min(_BLOCK, width)
            cols = picks[:, 1:] + np.arange(width - k + 1)[None, :]
            self.windows[width] = self.code(k)[picks[:, :1], cols], n_windows
        return self.windows[width]

    def code(self, k: int) -> np.ndarray:
        if k not in self.codes:
            self.codes[k] = _codes(self.tokens, k)
        return self.codes[k]


def _batch_hits(batch, inputs: _Inputs, bg, pseudocount, both_strands, thresh) -> list:
    """Hits of a few motifs on all strands (before q-values), pi0 and the number of windows
    scored, one dict per motif. The sequences are scanned in chunks of about :data:`_CHUNK`
    positions, each chunk by every strand of the batch in turn, so that its codes stay in cache."""
    plans = [_prepare(m, m.background if bg is None else bg, pseudocount, both_strands, thresh) for m in batch]
    n, length = inputs.tokens.shape
    rows = max(1, _CHUNK // length)
    found = [[[] for _ in plan] for plan in plans]
    buffers = [np.empty(4096, np.int64) for _ in range(3)]
    for r0 in range(0, n, rows):
        wcode = inputs.code(_WIDE)[r0:r0 + rows]
        for motif, plan, out in zip(batch, plans, found):
            code = inputs.code(min(_BLOCK, motif.width))[r0:r0 + rows]
            for st, parts in zip(plan, out):
                seq, pos, score = _scan_strand(code, wcode, st, buffers)
                parts.append((seq + r0, pos, score))
    return [_motif_found(motif, plan, out, inputs) for motif, plan, out in zip(batch, plans, found)]


def _motif_found(motif, plan, found, inputs: _Inputs) -> dict:
    """One motif's hits per strand, pi0 (from the window sample) and the number of windows scored."""
    sample, n_windows = inputs.sample(motif.width)
    parts, counts = [], np.zeros(_NUM_LAMBDA, np.int64)
    for st, chunks in zip(plan, found):
        seq, pos, score = (np.concatenate([c[i] for c in chunks]) for i in range(3))
        counts += _tail_counts(sample, st.blocks, st.pssm.pvalues, _LAMBDAS)
        parts.append((st.strand, seq, pos, score, st.pssm))
    pi0 = _pi_zero(counts, len(sample) * len(parts))
    return {"parts": parts, "pi0": pi0, "m": n_windows * len(parts)}


_LETTERS = np.frombuffer(b"ACGTN", dtype=np.uint8)


def _matched(tokens: np.ndarray, seq, pos, minus, width: int) -> list:
    """The windows (sequence `seq`, start `pos`) as strings, reverse-complemented where `minus`."""
    win = tokens[seq[:, None], pos[:, None] + np.arange(width)[None, :]]
    win[minus] = 3 - win[minus][:, ::-1]
    return np.ascontiguousarray(_LETTERS[win]).view(f"S{width}").ravel().astype(str).tolist()


def _hit_rows(motif, names, tokens, found, max_stored) -> dict:
    """One motif's hits as FIMO's columns (arrays), sorted by p-value, q-values added."""
    w = motif.width
    parts = found["parts"]
    p = np.concatenate([pssm.pvalues[score] for _, _, _, score, pssm in parts])
    bits = np.concatenate([score / pssm.scale + w * pssm.offset for _, _, _, score, pssm in parts])
    seq = np.concatenate([r[1] for r in parts])
    pos = np.concatenate([r[2] for r in parts])
    strand = np.concatenate([np.full(len(r[1]), r[0], dtype=object) for r in parts])
    q = _qvalues(p, found["m"], found["pi0"])
    order = np.lexsort((pos, seq, -bits, p))
    if order.size > max_stored:
        log.warning("scan: motif %s has %d hits; keeping the %d best (--max-stored-scores)", motif.id,
                    order.size, max_stored)
        order = order[:max_stored]
    seq, pos, strand = seq[order], pos[order], strand[order]
    n = len(order)
    return {"motif_id": np.full(n, motif.id, dtype=object), "motif_alt_id": np.full(n, motif.name, dtype=object),
            "sequence_name": np.asarray(names, dtype=object)[seq], "start": pos + 1, "stop": pos + w,
            "strand": strand, "score": bits[order], "p-value": p[order], "q-value": q[order],
            "matched_sequence": np.array(_matched(tokens, seq, pos, strand == "-", w), dtype=object)}


def scan(motifs, sequences, names=None, thresh: float = 1e-4, background="uniform", pseudocount: float = 0.1,
         both_strands: bool = True, max_stored_scores: int = 100000, seed: int = 0, progress: bool = False):
    """Find the motif instances in sequences with exact p-values, as MEME's FIMO.

    Parameters
    ----------
    motifs : list of Motif, Motif, or str
        Counts (W, 4), A, C, G, T; or a MEME/JASPAR file or bundled name (``jaspar2024:CTCF``).
    sequences : list of str, list of (L,) token arrays, or (N, L) uint8 array
        DNA (IUPAC codes read as N) or tokens 0..3 = A, C, G, T and 4 = N. Sequences may differ
        in length. Windows holding an N are not scored.
    names : list of str or None
        One per sequence (``sequence_name``). Default is None: ``seq_0``, ``seq_1``, ...
    thresh : float
        Report windows with p-value < thresh. Default is 0.0001.
    background : str, os.PathLike or (4,) array
        See :func:`read_background`. Default is ``"uniform"``.
    pseudocount : float
        Motif pseudocount (FIMO's ``--motif-pseudo``). Default is 0.1.
    both_strands : bool
        Scan the reverse complement of each motif too. Default is True.
    max_stored_scores : int
        Keep at most this many hits per motif (the best). Default is 100000.
    seed : int
        Seed of the window sample behind pi0. Default is 0.
    progress : bool
        Show a progress bar over motifs. Default is False.

    Returns
    -------
    pandas.DataFrame
        One row per hit, columns :data:`FIMO_COLUMNS`; ``start``/``stop`` 1-based inclusive on
        the forward strand; motifs in input order, each sorted by p-value.
    """
    check(0 < thresh <= 1, f"thresh: must be in (0, 1], got {thresh}")
    check(pseudocount >= 0, f"pseudocount: must be >= 0, got {pseudocount}")
    check(max_stored_scores >= 1, f"max-stored-scores: must be >= 1, got {max_stored_scores}")
    motifs = _as_motifs(motifs)
    tokens, names = _as_tokens(sequences, names)
    check(min(m.width for m in motifs) <= tokens.shape[1],
          f"motifs: every motif is wider than the longest sequence ({tokens.shape[1]} bp)")
    bg = read_background(background, tokens)
    inputs = _Inputs(tokens, names, {}, {}, np.random.default_rng(seed))
    from tqdm.auto import tqdm

    kept = [m for m in motifs if m.width <= tokens.shape[1]]
    for m in motifs:
        if m.width > tokens.shape[1]:
            log.warning("scan: motif %s (%d bp) is longer than every sequence; skipped", m.id, m.width)
    parts = []
    with tqdm(total=len(kept), disable=not progress, desc="scan", unit="motif") as bar:
        for i in range(0, len(kept), _BATCH):
            batch = kept[i:i + _BATCH]
            for motif, found in zip(batch, _batch_hits(batch, inputs, bg, pseudocount, both_strands, thresh)):
                parts.append(_hit_rows(motif, names, tokens, found, max_stored_scores))
            bar.update(len(batch))
    return _table(parts)


def _table(parts: list):
    """The hit table of all motifs from their columns (:func:`_hit_rows`)."""
    import pandas as pd

    types = {"start": np.int64, "stop": np.int64, "score": np.float64, "p-value": np.float64, "q-value": np.float64}
    cols = {c: np.concatenate([part[c] for part in parts]) if parts else np.empty(0, dtype=types.get(c, object))
            for c in FIMO_COLUMNS}
    return pd.DataFrame(cols, columns=list(FIMO_COLUMNS)).astype(types)


def write_hits(path, hits, comment: str = "") -> None:
    """Write a hit table as FIMO's TSV (atomically).

    Parameters
    ----------
    path : str or os.PathLike
    hits : pandas.DataFrame
        Columns :data:`FIMO_COLUMNS`, as :func:`scan` returns.
    comment : str
        Written after the table as ``# `` lines (FIMO writes its command line there). Default is ``""``.
    """
    with atomic_write(path) as fh:
        fh.write("\t".join(FIMO_COLUMNS) + "\n")
        for r in hits.itertuples(index=False):
            fh.write(f"{r[0]}\t{r[1]}\t{r[2]}\t{r[3]}\t{r[4]}\t{r[5]}\t{r[6]:.6g}\t{r[7]:.3g}\t{r[8]:.3g}\t{r[9]}\n")
        for line in comment.splitlines():
            fh.write(f"# {line}\n")
