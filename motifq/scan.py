"""Scan sequences for known motifs with exact p-values, as MEME's FIMO.

The method (Grant, Bailey & Noble 2011), stage by stage:

1. **Probabilities with a pseudocount.** Each column of a motif's counts (W, 4), A, C, G, T, is
   turned into probabilities ``f`` and smoothed as MEME does:
   ``p[i, b] = (f[i, b] * nsites + s * bg[b]) / (nsites + s)`` with pseudocount ``s``
   (``--pseudocount``, FIMO's ``--motif-pseudo``, 0.1) and the scanning background ``bg``.
2. **Log-odds.** ``L[i, b] = log2(p[i, b] / bg[b])`` (bits).
3. **Integer scores.** As MEME 5's ``scale_score_matrix``: with ``lo = floor(min L)`` (an
   integer offset, so that a log-odds of 0 maps back to 0) and ``hi = max L`` over the whole
   matrix, ``scale = floor(1000 / (hi - lo))`` and ``S[i, b] = round((L[i, b] - lo) * scale)``
   (halves rounded up, as MEME's ``nint``), so every entry is an integer in 0..1000 and a
   window's score is an integer in 0..1000 W. The reported score is FIMO's:
   ``S_window / scale + W * lo`` (the log-odds score in bits, to the resolution of the integers).
4. **Exact p-values.** The distribution of the integer score of a random window whose letters are
   drawn independently from ``bg`` is computed exactly by dynamic programming (one convolution per
   column); ``p(s) = P(S >= s)``. The reverse strand has its own matrix (the reverse complement
   of the motif's probabilities against the same background) and its own table.
5. **Threshold.** A window is reported when ``p <= thresh`` (``--thresh``, 1e-4; MEME's fimo
   compares the same way). Windows that
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

Speed: each motif strand is turned into tables of the summed integer scores of up to five
consecutive columns for every 5-mer (a few KB), and a first test on 7-mers. Where the strand's
most informative seven columns alone rule out all but a few windows (fewer than 1.6 % of the
4**7 7-mers can still reach the threshold score with every other column at its best), the test
is one bit of a table of the 4**7 7-mers, and up to sixteen such strands share one uint16
table (32 KB): one lookup per position tests them all, each at its own offset in the window. The
other strands get two lookups of 7-mers, in two uint8 tables of their two best blocks of seven
columns, their scores rounded up on a grid. Groups of eight consecutive positions are skipped
with these lookups alone; a window that passes is scored block by block, abandoned as soon as
its partial score plus the largest score the remaining blocks can add falls below the
threshold. The sequences are scanned in chunks of about 128 kb, each by every strand of a batch
of motifs in turn (one compiled call per chunk), so that the letter codes stay in cache. The
result is exact: every test bounds exact integers (the grids round up), and a window is only
abandoned when no completion can reach the threshold. pi0's window sample is scored through the
same tables and counted in a histogram of scores; p-values, q-values and the table are computed
once for all motifs. The compiled steps and their tables live in the private module
``motifq/_scan_kernels.py``; this module is the method and the public functions.
"""
from __future__ import annotations

import logging
from typing import NamedTuple

import numpy as np

from ._scan_kernels import (
    _BLOCK,
    _WIDE,
    _WIDE_CODES,
    _clean_windows,
    _codes,
    _groups,
    _pack,
    _scan_chunk,
    _score_pdf,
    _strand_tables,
    _suffix_min,
    _tail_counts,
    _upper_tail,
    _window_letters,
)
from .errors import MotifqError, atomic_write, check, check_file
from .motif import UNIFORM, Motif
from .sequence import N_TOKEN, tokenize

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
        The smallest log-odds entry rounded down to an integer (bits, MEME 5's offset); a
        window's score in bits is ``S / scale + W * offset``.
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
    """MEME 5's ``scale_score_matrix``: (W, 4) bits -> (W, 4) int32 in 0..range, scale, offset
    (offset = floor of the smallest entry, scale = floor(range / (largest - offset)), entries
    rounded half up)."""
    lo, hi = float(log_odds.min()), float(log_odds.max())
    if hi == lo:
        lo = hi - 1.0
    lo = float(np.floor(lo))
    scale = float(np.floor(score_range / (hi - lo)))
    return np.floor((log_odds - lo) * scale + 0.5).astype(np.int32), scale, lo


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
    return _upper_tail(_score_pdf(scores, bg, int(scores.max(axis=1).sum())))


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
# strands ready to scan
# ---------------------------------------------------------------------------------------------
def _prepare(motif, bg, pseudocount, both_strands, thresh) -> list:
    """The ``_Strand`` of each strand of one motif: its :class:`Pssm` and the kernel's tables
    (``_strand_tables`` in :mod:`motifq._scan_kernels`)."""
    k = min(_BLOCK, motif.width)
    return [_strand_tables(strand, pssm, thresh, k)
            for strand, pssm in _strand_pssms(motif, bg, pseudocount, both_strands)]


# ---------------------------------------------------------------------------------------------
# q-values
# ---------------------------------------------------------------------------------------------
def _pi_zero(counts: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Storey's pi0 of each motif's sample of ``m[i]`` p-values as MEME estimates it, from
    ``counts[i, l]`` (M, 100), the number of them ``>= _LAMBDAS[l]``, with the bootstrap's
    expected mean-squared error instead of random draws (see the module docstring); (M,)."""
    lambdas, m = _LAMBDAS, np.asarray(m, dtype=np.int64)
    f = counts / np.maximum(m, 1)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        pi0 = np.where(f > 0, f / (1 - lambdas), np.inf)
        mse = f * (1 - f) / (_BOOTSTRAPS * (1 - lambdas) ** 2) + (pi0 - pi0.min(axis=1, keepdims=True)) ** 2
    mse[~np.isfinite(pi0)] = np.inf
    best = pi0[np.arange(len(pi0)), np.argmin(mse, axis=1)]
    return np.where(np.isfinite(best) & (m > 0), np.clip(best, 0.0, 1.0), 1.0)


def _qvalues(p: np.ndarray, motif: np.ndarray, m: np.ndarray, pi0: np.ndarray) -> np.ndarray:
    """FIMO's q-values of the reported hits' p-values `p` (n,), sorted by motif (``motif``, (n,)
    index) and within each motif by p-value, each motif's hits among its ``m[motif]`` windows
    scored, with its ``pi0[motif]``. Tied p-values get the same q-value whatever their order."""
    rank = np.arange(1, p.size + 1) - np.searchsorted(motif, motif, side="left")
    return _suffix_min(np.minimum(1.0, pi0[motif] * p * m[motif] / rank), motif)


def _windows(tokens: np.ndarray, width: int, rng, has_n: bool = True) -> tuple[np.ndarray, int]:
    """Up to :data:`_PI0_SAMPLE` random windows free of N (drawn with replacement) as (n, 2)
    sequence indices and starts, and the number of windows free of N. With ``has_n`` False
    (`tokens` hold no N) every window is free of N, and the windows are numbered directly."""
    n, length = tokens.shape
    if length < width:
        return np.empty((0, 2), np.int64), 0
    if has_n:
        clean = _clean_windows(tokens, width)
        size = clean.size
    else:
        clean, size = None, n * (length - width + 1)
    if size == 0:
        return np.empty((0, 2), np.int64), 0
    if size <= _PI0_SAMPLE:
        pick = np.arange(size, dtype=np.int64) if clean is None else clean
    else:
        pick = rng.integers(0, size, _PI0_SAMPLE)
        pick = pick if clean is None else clean[pick]
    return np.stack(np.divmod(pick, length - width + 1), axis=1), int(size)


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
    """What every motif of one scan shares: tokens (N, L) uint8, whether they hold an N, and the
    cached window samples (per width) and letter codes (per block size), filled on demand."""

    tokens: np.ndarray
    has_n: bool
    windows: dict
    codes: dict
    rng: np.random.Generator

    def sample(self, width: int):
        """The k-mer codes (width - k + 1, n), k = min(5, width), of the windows sampled for pi0
        (:func:`_windows`), and the number of windows free of N."""
        if width not in self.windows:
            picks, n_windows = _windows(self.tokens, width, self.rng, self.has_n)
            k = min(_BLOCK, width)
            cols = picks[:, 1:] + np.arange(width - k + 1)[None, :]
            self.windows[width] = np.ascontiguousarray(self.code(k)[picks[:, :1], cols].T), n_windows
        return self.windows[width]

    def code(self, k: int) -> np.ndarray:
        if k not in self.codes:
            self.codes[k] = _codes(self.tokens, k)
        return self.codes[k]


def _batch_hits(batch, inputs: _Inputs, bg, pseudocount, both_strands, thresh) -> tuple[list, np.ndarray]:
    """Hits of a few motifs on all strands, before p-values: the batch's strands
    (:class:`_Strand`, motif by motif) and (n, 4) int64 rows (strand index, sequence, position,
    integer score). The sequences are scanned in chunks of about :data:`_CHUNK` positions, each
    chunk by every strand of the batch in turn, so that its codes stay in cache."""
    strands = [st for m in batch for st in _prepare(m, m.background if bg is None else bg, pseudocount,
                                                    both_strands, thresh)]
    packed = _pack(strands)
    n, length = inputs.tokens.shape
    rows = max(1, _CHUNK // length)
    out, n_out = np.empty((4096, 4), np.int64), 0
    for k in sorted({st.k for st in strands}):
        chosen = [j for j, st in enumerate(strands) if st.k == k]
        bits, members = _groups(strands, [j for j in chosen if strands[j].wide[0]])
        plain = np.array([j for j in chosen if not strands[j].wide[0]], np.int64)
        pairs = (np.array([strands[j].pair[:2] for j in plain], np.int64).reshape(-1, 2),
                 np.array([strands[j].pair[2] for j in plain], np.uint8).reshape(-1, 2, _WIDE_CODES + 1),
                 np.array([strands[j].pair[3] for j in plain], np.int64))
        for r0 in range(0, n, rows):
            args = (inputs.code(k)[r0:r0 + rows], inputs.code(_WIDE)[r0:r0 + rows], r0, packed, bits, members, plain,
                    pairs)
            need = _scan_chunk(*args, out, n_out)
            if need > len(out):
                out = np.concatenate([out[:n_out], np.empty((2 * need - n_out, 4), np.int64)])
                need = _scan_chunk(*args, out, n_out)
            n_out = need
    return strands, out[:n_out]


def _batch_found(batch, first: int, inputs: _Inputs, bg, pseudocount, both_strands, thresh) -> dict:
    """The hits of a batch of motifs (the `first`-th motif of the scan onwards) as arrays:
    ``motif`` (n,) index in the scan, ``minus``, ``seq``, ``pos``, integer ``score``, ``p`` and
    ``bits``; and per motif the counts of sampled p-values >= each lambda (``counts``, (M, 100)),
    the sample size (``sampled``) and the number of windows scored (``m``), both strands together."""
    strands, hits = _batch_hits(batch, inputs, bg, pseudocount, both_strands, thresh)
    hits = hits[np.argsort(hits[:, 0], kind="stable")]
    bounds = np.searchsorted(hits[:, 0], np.arange(len(strands) + 1))
    p, bits = np.empty(len(hits)), np.empty(len(hits))
    per = len(strands) // len(batch)
    counts = np.zeros((len(batch), _NUM_LAMBDA), np.int64)
    sampled, m = np.zeros(len(batch), np.int64), np.zeros(len(batch), np.int64)
    for j, st in enumerate(strands):
        a, b, i = bounds[j], bounds[j + 1], j // per
        score = hits[a:b, 3]
        p[a:b] = st.pssm.pvalues[score]
        bits[a:b] = score / st.pssm.scale + batch[i].width * st.pssm.offset
        sample, n_windows = inputs.sample(batch[i].width)
        counts[i] += _tail_counts(sample, st.blocks, st.pssm.pvalues, _LAMBDAS)
        sampled[i] += sample.shape[1]
        m[i] += n_windows
    minus = np.array([st.strand == "-" for st in strands])[hits[:, 0]]
    return {"motif": first + hits[:, 0] // per, "minus": minus, "seq": hits[:, 1], "pos": hits[:, 2],
            "score": hits[:, 3], "p": p, "bits": bits, "counts": counts, "sampled": sampled, "m": m}


def _matched(tokens: np.ndarray, seq, pos, minus, width) -> np.ndarray:
    """The windows (sequence `seq`, start `pos`, `width` letters; (n,) arrays) as strings,
    reverse-complemented where `minus`; (n,) object array."""
    out = np.empty(len(seq), dtype=object)
    for w in np.unique(width):
        sel = np.flatnonzero(width == w)
        letters = _window_letters(tokens, seq[sel], pos[sel], minus[sel], int(w))
        part = np.empty(len(sel), dtype=object)
        part[:] = letters.view(f"S{w}").ravel().astype(str).tolist()
        out[sel] = part
    return out


def _keep_best(motifs: list, mi: np.ndarray, max_stored: int) -> np.ndarray:
    """Which rows of a table sorted by motif index `mi` are among their motif's `max_stored` first."""
    counts = np.bincount(mi, minlength=len(motifs))
    for motif, c in zip(motifs, counts):
        if c > max_stored:
            log.warning("scan: motif %s has %d hits; keeping the %d best (--max-stored-scores)", motif.id, c,
                        max_stored)
    return np.arange(len(mi)) - np.searchsorted(mi, mi, side="left") < max_stored


def _hit_table(motifs: list, found: list, names: list, tokens: np.ndarray, max_stored: int):
    """The hit table of all motifs from their batches (:func:`_batch_found`): q-values added,
    motifs in input order, each sorted by p-value, at most `max_stored` hits per motif."""
    import pandas as pd

    f = {key: np.concatenate([d[key] for d in found]) for key in found[0]}
    site = (f["seq"] * tokens.shape[1] + f["pos"]) * 2 + f["minus"]
    ends = np.cumsum([0] + [len(d["p"]) for d in found])     # each batch's motifs are contiguous, in order
    order = np.concatenate([a + np.lexsort((site[a:b], -f["bits"][a:b], f["p"][a:b], f["motif"][a:b]))
                            for a, b in zip(ends[:-1], ends[1:])])
    q = _qvalues(f["p"][order], f["motif"][order], f["m"], _pi_zero(f["counts"], f["sampled"]))
    keep = _keep_best(motifs, f["motif"][order], max_stored)
    order, q = order[keep], q[keep]
    mi, seq, pos, minus = f["motif"][order], f["seq"][order], f["pos"][order], f["minus"][order]
    width = np.array([m.width for m in motifs], np.int64)[mi]
    cols = {"motif_id": np.array([m.id for m in motifs], dtype=object)[mi],
            "motif_alt_id": np.array([m.name for m in motifs], dtype=object)[mi],
            "sequence_name": np.asarray(names, dtype=object)[seq], "start": pos + 1, "stop": pos + width,
            "strand": np.array(["+", "-"], dtype=object)[minus.astype(np.int64)], "score": f["bits"][order],
            "p-value": f["p"][order], "q-value": q, "matched_sequence": _matched(tokens, seq, pos, minus, width)}
    types = {"start": np.int64, "stop": np.int64, "score": np.float64, "p-value": np.float64, "q-value": np.float64}
    return pd.DataFrame(cols, columns=list(FIMO_COLUMNS)).astype(types)


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
        Report windows with p-value <= thresh (as MEME's fimo). Default is 0.0001.
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
    inputs = _Inputs(tokens, bool((tokens > 3).any()), {}, {}, np.random.default_rng(seed))
    from tqdm.auto import tqdm

    kept = [m for m in motifs if m.width <= tokens.shape[1]]
    for m in motifs:
        if m.width > tokens.shape[1]:
            log.warning("scan: motif %s (%d bp) is longer than every sequence; skipped", m.id, m.width)
    found = []
    with tqdm(total=len(kept), disable=not progress, desc="scan", unit="motif") as bar:
        for i in range(0, len(kept), _BATCH):
            batch = kept[i:i + _BATCH]
            found.append(_batch_found(batch, i, inputs, bg, pseudocount, both_strands, thresh))
            bar.update(len(batch))
    return _hit_table(kept, found, names, tokens, max_stored_scores)


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
