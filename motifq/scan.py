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
consecutive columns for every 5-mer (a few KB); each window is scored block by block, most
informative block first, and abandoned as soon as its partial score plus the largest score the
remaining blocks can add falls below the threshold score. The result is exact: a window is only
abandoned when no completion can reach the threshold.
"""
from __future__ import annotations

import logging
from typing import NamedTuple

import numpy as np

from .cache import configure_numba_cache
from .errors import MotifqError, atomic_write, check, check_file
from .motif import UNIFORM, Motif
from .sequence import N_TOKEN, detokenize, tokenize

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
_BLOCK = 5                      # letters per lookup table (4**5 = 1024 entries + 1 for N)
_ABANDON = -(1 << 30)           # table entry of a block that holds an N: the window is never reported
_LANES = 16                     # windows per branch-free first test


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
    """Distribution of the summed integer scores (W, 4) of a background window: (top + 1,)."""
    pdf = np.zeros(top + 1)
    new = np.zeros(top + 1)
    pdf[0] = 1.0
    reach = 0
    for i in range(scores.shape[0]):
        new[:] = 0.0
        step = 0
        for b in range(4):
            shift, w = scores[i, b], bg[b]
            step = max(step, shift)
            for j in range(reach + 1):
                new[j + shift] += w * pdf[j]
        reach += step
        pdf[:reach + 1] = new[:reach + 1]
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
    if both_strands and np.allclose(bg, bg[::-1], rtol=0, atol=1e-12):
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


@numba.njit(cache=True, inline="always")
def _rest_of_window(row, p, table, starts, rest, first, total, threshold):
    """Add blocks `first`.. of the window at `p` to `total`; -1 once it cannot reach `threshold`."""
    for b in range(first, table.shape[0]):
        total += table[b, row[p + starts[b]]]
        if total + rest[b] < threshold:
            return -1
    return total


@numba.njit(cache=True)
def _hits(code, table, starts, rest, width, threshold, seq, pos, score):
    """Windows whose score, the sum of ``table[b, code[s, p + starts[b]]]`` over blocks b, is at
    least `threshold`. A window is abandoned once its partial sum plus ``rest[b]`` (the most the
    blocks after b can add) is below it. The first test, on the first two blocks, runs without a
    branch on `_LANES` consecutive windows at a time; only a group with a window that passes it
    is tested further, window by window. Writes the first ``len(seq)`` hits' sequence, position
    and integer score into `seq`, `pos`, `score` and returns the number of hits (which may be
    larger: the caller then calls again with room for all)."""
    n, length = code.shape
    cap = seq.shape[0]
    n_hits, n_blocks = 0, table.shape[0]
    two = min(n_blocks, 2)
    cut = threshold - rest[two - 1]
    lead = np.empty(_LANES, np.int64)
    for s in range(n):
        row = code[s]
        last = length - width + 1
        for p0 in range(0, last, _LANES):
            m = min(_LANES, last - p0)
            passed = False
            for j in range(m):
                v = table[0, row[p0 + j + starts[0]]]
                if two == 2:
                    v += table[1, row[p0 + j + starts[1]]]
                lead[j] = v
                passed |= v >= cut
            if not passed:
                continue
            for j in range(m):
                if lead[j] < cut:
                    continue
                total = _rest_of_window(row, p0 + j, table, starts, rest, two, lead[j], threshold)
                if total >= threshold:
                    if n_hits < cap:
                        seq[n_hits], pos[n_hits], score[n_hits] = s, p0 + j, total
                    n_hits += 1
    return n_hits


def _scan_strand(code, table, starts, rest, width, threshold) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sequence, position, integer score) of every window at or above `threshold`."""
    cap = 4096
    while True:
        seq, pos, score = (np.empty(cap, np.int64) for _ in range(3))
        n = _hits(code, table, starts, rest, width, threshold, seq, pos, score)
        if n <= cap:
            return seq[:n], pos[:n], score[:n]
        cap = n


@numba.njit(cache=True)
def _fill_block(scores, start, first_owned, k, out):
    """out[code] = summed scores of the owned columns (>= first_owned) of the block of k columns
    from `start`, for every base-4 code of k letters (first letter lowest)."""
    for code in range(4 ** k):
        total, c = 0, code
        for j in range(k):
            if start + j >= first_owned:
                total += scores[start + j, c % 4]
            c //= 4
        out[code] = total


def _block_tables(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lookup tables of a (W, 4) integer matrix in blocks of k columns, in test order.

    Returns ``table`` (B, 4**k + 1) int32 (the last entry, an N, abandons the window; int32
    keeps a motif's tables in the L1 cache),
    ``starts`` (B,) first column of each block, ``rest`` (B,) the largest score the blocks after
    each can still add. A last partial block starts at W - k and owns only its new columns.
    """
    w = scores.shape[0]
    starts = list(range(0, w - k + 1, k))
    if w % k:
        starts.append(w - k)
    table = np.full((len(starts), 4 ** k + 1), _ABANDON, dtype=np.int32)
    scores = np.ascontiguousarray(scores, dtype=np.int32)
    for b, start in enumerate(starts):
        _fill_block(scores, start, b * k, k, table[b])
    real = table[:, :-1]
    order = np.argsort(-(real.max(axis=1) - real.mean(axis=1)), kind="stable")
    table, starts = table[order], np.asarray(starts, dtype=np.int64)[order]
    best = real[order].max(axis=1)
    rest = np.append(np.cumsum(best[::-1])[::-1][1:], 0)
    return table, starts, rest.astype(np.int32)


@numba.njit(cache=True)
def _window_scores(scores, windows):
    """Integer scores (n,) of windows (n, W) of tokens 0..3 under a (W, 4) matrix."""
    out = np.zeros(windows.shape[0], np.int64)
    for i in range(windows.shape[0]):
        for j in range(windows.shape[1]):
            out[i] += scores[j, windows[i, j]]
    return out


def _threshold_score(pvalues: np.ndarray, thresh: float) -> int:
    """The smallest integer score whose p-value is below `thresh` (len - 1 when none is)."""
    below = np.flatnonzero(pvalues < thresh)
    return int(below[0]) if below.size else len(pvalues) - 1


# ---------------------------------------------------------------------------------------------
# q-values
# ---------------------------------------------------------------------------------------------
def _pi_zero(p: np.ndarray) -> float:
    """Storey's pi0 of a sample of p-values as MEME estimates it, with the bootstrap's expected
    mean-squared error instead of random draws (see the module docstring)."""
    m = p.size
    if m == 0:
        return 1.0
    lambdas = np.arange(1, _NUM_LAMBDA + 1) / _NUM_LAMBDA * _MAX_LAMBDA
    f = (m - np.searchsorted(np.sort(p), lambdas, side="left")) / m
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


def _windows(tokens: np.ndarray, width: int, rng) -> tuple[np.ndarray, int]:
    """Up to :data:`_PI0_SAMPLE` random windows free of N, (n, width) tokens (drawn with
    replacement), and the number of windows free of N."""
    n, length = tokens.shape
    if length < width:
        return np.empty((0, width), np.uint8), 0
    bad = np.concatenate([np.zeros((n, 1), np.int64), np.cumsum(tokens > 3, axis=1)], axis=1)
    clean = np.flatnonzero(((bad[:, width:] - bad[:, :length - width + 1]) == 0).ravel())
    if clean.size == 0:
        return np.empty((0, width), np.uint8), 0
    pick = clean if clean.size <= _PI0_SAMPLE else clean[rng.integers(0, clean.size, _PI0_SAMPLE)]
    s, p = np.divmod(pick, length - width + 1)
    return tokens[s[:, None], p[:, None] + np.arange(width)[None, :]], int(clean.size)


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
    """What every motif of one scan shares: tokens (N, L) uint8, names, and per width / block
    size the cached window sample and codes (filled on demand)."""

    tokens: np.ndarray
    names: list
    windows: dict
    codes: dict
    rng: np.random.Generator

    def sample(self, width: int):
        if width not in self.windows:
            self.windows[width] = _windows(self.tokens, width, self.rng)
        return self.windows[width]

    def code(self, k: int) -> np.ndarray:
        if k not in self.codes:
            self.codes[k] = _codes(self.tokens, k)
        return self.codes[k]


def _motif_hits(motif, inputs: _Inputs, bg, pseudocount, both_strands, thresh) -> dict:
    """Hits of one motif on all strands (before q-values), pi0 and the number of windows scored."""
    k = min(_BLOCK, motif.width)
    windows, n_windows = inputs.sample(motif.width)
    parts, sample = [], []
    for strand, pssm in _strand_pssms(motif, bg, pseudocount, both_strands):
        table, starts, rest = _block_tables(pssm.scores, k)
        t = _threshold_score(pssm.pvalues, thresh)
        seq, pos, score = _scan_strand(inputs.code(k), table, starts, rest, motif.width, t)
        sample.append(pssm.pvalues[_window_scores(pssm.scores, windows)])
        parts.append((strand, seq, pos, score, pssm))
    return {"parts": parts, "pi0": _pi_zero(np.concatenate(sample)), "m": n_windows * len(parts)}


def _hit_rows(motif, names, tokens, found, max_stored) -> dict:
    cols = {c: [] for c in FIMO_COLUMNS}
    w = motif.width
    pv_all, rows = [], []
    for strand, seq, pos, score, pssm in found["parts"]:
        pv_all.append(pssm.pvalues[score])
        rows.append((strand, seq, pos, score / pssm.scale + w * pssm.offset))
    p = np.concatenate(pv_all) if pv_all else np.empty(0)
    seq = np.concatenate([r[1] for r in rows])
    pos = np.concatenate([r[2] for r in rows])
    bits = np.concatenate([r[3] for r in rows])
    strand = np.concatenate([np.full(len(r[1]), r[0]) for r in rows])
    q = _qvalues(p, found["m"], found["pi0"])
    order = np.lexsort((pos, seq, -bits, p))
    if order.size > max_stored:
        log.warning("scan: motif %s has %d hits; keeping the %d best (--max-stored-scores)", motif.id,
                    order.size, max_stored)
        order = order[:max_stored]
    for i in order:
        window = tokens[seq[i], pos[i]:pos[i] + w]
        site = detokenize(window) if strand[i] == "+" else detokenize(3 - window[::-1])
        cols["motif_id"].append(motif.id)
        cols["motif_alt_id"].append(motif.name)
        cols["sequence_name"].append(names[seq[i]])
        cols["start"].append(int(pos[i]) + 1)
        cols["stop"].append(int(pos[i]) + w)
        cols["strand"].append(str(strand[i]))
        cols["score"].append(float(bits[i]))
        cols["p-value"].append(float(p[i]))
        cols["q-value"].append(float(q[i]))
        cols["matched_sequence"].append(site)
    return cols


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
    import pandas as pd

    check(0 < thresh <= 1, f"thresh: must be in (0, 1], got {thresh}")
    check(pseudocount >= 0, f"pseudocount: must be >= 0, got {pseudocount}")
    check(max_stored_scores >= 1, f"max-stored-scores: must be >= 1, got {max_stored_scores}")
    motifs = _as_motifs(motifs)
    tokens, names = _as_tokens(sequences, names)
    check(min(m.width for m in motifs) <= tokens.shape[1],
          f"motifs: every motif is wider than the longest sequence ({tokens.shape[1]} bp)")
    bg = read_background(background, tokens)
    inputs = _Inputs(tokens, names, {}, {}, np.random.default_rng(seed))
    cols = {c: [] for c in FIMO_COLUMNS}
    from tqdm.auto import tqdm

    for motif in tqdm(motifs, disable=not progress, desc="scan", unit="motif"):
        if motif.width > tokens.shape[1]:
            log.warning("scan: motif %s (%d bp) is longer than every sequence; skipped", motif.id, motif.width)
            continue
        found = _motif_hits(motif, inputs, motif.background if bg is None else bg, pseudocount, both_strands,
                            thresh)
        for c, v in _hit_rows(motif, names, tokens, found, max_stored_scores).items():
            cols[c].extend(v)
    table = pd.DataFrame(cols, columns=list(FIMO_COLUMNS))
    return table.astype({"start": np.int64, "stop": np.int64, "score": np.float64, "p-value": np.float64,
                         "q-value": np.float64})


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
