"""Motifs enriched in each target's positive sequences, found by counting k-mers: the seeds of
the default recipe's first-layer kernels (``TrainConfig.kmer_init``).

From random kernels a DanQ on long, imbalanced data learns the motifs of its rarest targets
slowly or not at all: a motif present in 3 % of 1,000-bp sequences reaches a random kernel's
gradient through one pooled position in 75, among the gradients of every other target. Seeding
some kernels with the words that separate each target's positives from its negatives gives
those kernels a start; training then shapes them like any other kernel
(docs/training.md measures it).

The procedure, for a subsample of at most `max_seqs` training sequences:

1. every sequence's set of canonical k-mers (a k-mer and its reverse complement are one word;
   windows holding an N are skipped);
2. per target, the number of positive sequences holding each word (``a`` of ``P``) and of
   negative ones (``b`` of ``N``); a word's enrichment score is the binary KL divergence
   ``fa log(fa / fb) - fa + fb`` of the smoothed fractions ``fa = (a + 1/2) / (P + 1)``,
   ``fb = (b + 1/2) / (N + 1)`` when ``fa > fb`` (0 otherwise): it favours words that are both
   frequent among the positives and rare among the negatives;
3. a word is kept only when its one-sided hypergeometric p-value (drawing ``P`` sequences from
   all, at least ``a`` holding it) is below `max_p` divided by the number of words
   (Bonferroni), so a target whose labels do not follow from the sequence (noise) seeds nothing;
4. the word grows into a motif: its exact occurrences in the positive sequences (the first in
   each sequence, read on the word's strand) with `flank` bases each side are counted into a
   (k + 2 flank, 4) matrix;
5. targets take turns, best-scoring first, each giving its next word that is not a near copy
   (a shift of at most two bases, at most one mismatch over the overlap, either strand) of a
   word already chosen, until `n_motifs` are chosen.

All arrays of bases here are tokens, 0..3 = A, C, G, T (4 = N).
"""
from __future__ import annotations

import numpy as np

from .errors import check
from .motif import Motif
from .sequence import detokenize, reverse_complement, reverse_complement_tokens, tokenize

__all__ = ["canonical_kmers", "presence_counts", "enriched_words", "word_motif", "enriched_motifs"]

_MAX_BASES = 20_000_000       # bases counted at most (memory: 4 bytes of word code per base)


def canonical_kmers(tokens, k: int) -> np.ndarray:
    """Canonical code of every k-mer window: ``min(code, code of its reverse complement)``,
    with ``code = sum(base_j * 4 ** (k - 1 - j))`` over A, C, G, T = 0..3.

    Parameters
    ----------
    tokens : (N, L) uint8 array
        0..3 = A, C, G, T; 4 = N.
    k : int
        Word length, 1..12.

    Returns
    -------
    (N, L - k + 1) int32 array
        The code of each window; -1 where the window holds an N.
    """
    t = np.asarray(tokens)
    n_win = t.shape[1] - k + 1
    out = np.empty((t.shape[0], max(n_win, 0)), np.int32)
    for start in range(0, t.shape[0], 2048):                      # bounded temporaries
        out[start:start + 2048] = _canonical_block(np.asarray(t[start:start + 2048], dtype=np.int32), k, n_win)
    return out


def _canonical_block(t: np.ndarray, k: int, n_win: int) -> np.ndarray:
    """:func:`canonical_kmers` of a block of rows: (B, L) int32 tokens -> (B, n_win) int32 codes."""
    fwd = np.zeros((t.shape[0], n_win), np.int32)
    rev = np.zeros_like(fwd)
    has_n = np.zeros(fwd.shape, bool)
    for j in range(k):
        col = t[:, j:j + n_win]
        has_n |= col > 3
        col = np.minimum(col, 3)
        fwd = fwd * 4 + col
        rev += (3 - col) * 4 ** j
    return np.where(has_n, -1, np.minimum(fwd, rev))


def presence_counts(codes: np.ndarray, rows, n_words: int) -> np.ndarray:
    """How many of the sequences `rows` hold each word at least once.

    Parameters
    ----------
    codes : (N, W) int32 array
        From :func:`canonical_kmers` (-1 ignored).
    rows : int array
        Sequences to count.
    n_words : int
        Length of the result (``4 ** k``).

    Returns
    -------
    (n_words,) int64 array
    """
    c = np.sort(codes[rows], axis=1)
    first = np.ones(c.shape, bool)
    first[:, 1:] = c[:, 1:] != c[:, :-1]
    return np.bincount(c[first & (c >= 0)], minlength=n_words)


def _log10_hypergeom_sf(a: np.ndarray, total: int, holding: np.ndarray, drawn: int) -> np.ndarray:
    """log10 P(X >= a) for X ~ Hypergeometric(total, holding, drawn); -inf where the tail
    underflows (scipy's ``sf``: its ``logsf`` is a Python loop, thousands of times slower)."""
    from scipy.stats import hypergeom

    with np.errstate(divide="ignore"):
        return np.log10(hypergeom.sf(a - 1, total, holding, drawn))


def _enrichment(a: np.ndarray, b: np.ndarray, P: int, N: int) -> np.ndarray:
    fa, fb = (a + 0.5) / (P + 1), (b + 0.5) / (N + 1)
    return np.where(fa > fb, fa * np.log(fa / fb) - fa + fb, 0.0)


def enriched_words(codes: np.ndarray, labels: np.ndarray, k: int, per_target: int = 8,
                   max_p: float = 1e-4) -> list:
    """Each target's most enriched words, best first, significant ones only.

    Parameters
    ----------
    codes : (N, W) int32 array
        From :func:`canonical_kmers`.
    labels : (N, T) array of 0/1
    k : int
        The word length `codes` were made with.
    per_target : int
        Most words kept per target. Default is 8.
    max_p : float
        Family-wise p-value threshold, divided by ``4 ** k`` (Bonferroni). Default is 0.0001.

    Returns
    -------
    list of (score, target, list of int)
        One entry per target with at least one significant word: the best word's score, the
        target's column and its words' codes, best first.
    """
    n_words = 4 ** k
    total = presence_counts(codes, np.arange(len(codes)), n_words)
    out = []
    for j in range(labels.shape[1]):
        pos = np.flatnonzero(labels[:, j])
        P, N = len(pos), len(codes) - len(pos)
        if P == 0 or N == 0:
            continue
        a = presence_counts(codes, pos, n_words)
        score = _enrichment(a, total - a, P, N)
        top = np.argpartition(-score, 4 * per_target)[:4 * per_target] if len(score) > 4 * per_target else np.arange(len(score))
        top = top[np.lexsort((top, -score[top]))]                  # best first, ties by word code
        top = top[score[top] > 0]
        logp = _log10_hypergeom_sf(a[top], len(codes), total[top], P)
        keep = [int(c) for c, lp in zip(top, logp) if lp < np.log10(max_p / n_words)][:per_target]
        if keep:
            out.append((float(score[keep[0]]), j, keep))
    return sorted(out, key=lambda e: (-e[0], e[1]))


def _decode(code: int, k: int) -> str:
    """The word (A, C, G, T) of a k-mer code."""
    return detokenize([(code >> (2 * (k - 1 - j))) & 3 for j in range(k)])


def _near_copy(a: str, b: str, shift: int = 2, mismatches: int = 1) -> bool:
    """True when `b` (or its reverse complement) equals `a` shifted by at most `shift` bases
    with at most `mismatches` differences over the overlap."""
    k = len(a)
    for c in (b, reverse_complement(b)):
        for s in range(-shift, shift + 1):
            x, y = (a[s:], c[:k - s]) if s >= 0 else (a[:k + s], c[-s:])
            if sum(p != q for p, q in zip(x, y)) <= mismatches:
                return True
    return False


def word_motif(tokens, word: str, flank: int = 4, name: str = "") -> Motif | None:
    """A motif grown from a word: its first exact occurrence in each sequence (either strand,
    read on the word's strand) with `flank` bases each side, counted.

    Parameters
    ----------
    tokens : (N, L) uint8 array
        The sequences (e.g. a target's positives), 0..3 = A, C, G, T; 4 = N.
    word : str
        Over A, C, G, T.
    flank : int
        Bases added at each side. Default is 4.
    name : str
        The motif's name. Default is ``""``.

    Returns
    -------
    Motif or None
        Counts (len(word) + 2 flank, 4), A, C, G, T, plus a pseudocount of 1/4 per cell (N
        and bases past a sequence end count nothing); None when the word does not occur.
    """
    t = np.asarray(tokens)
    k, L = len(word), t.shape[1]
    width = k + 2 * flank
    counts = np.full((width, 4), 0.25)
    found = 0
    for w, minus in ((word, False), (reverse_complement(word), True)):
        target = tokenize(w)
        hit = np.ones((len(t), L - k + 1), bool)
        for j in range(k):
            hit &= t[:, j:j + L - k + 1] == target[j]
        rows = np.flatnonzero(hit.any(axis=1))
        for r, s in zip(rows, hit[rows].argmax(axis=1)):
            cols = np.arange(s - flank, s + k + flank)
            ok = (cols >= 0) & (cols < L)
            bases = np.full(width, 4)
            bases[ok] = t[r, cols[ok]]
            if minus:
                bases = reverse_complement_tokens(bases)
            good = bases < 4
            counts[np.arange(width)[good], bases[good]] += 1
            found += 1
    if found == 0:
        return None
    return Motif(id=f"kmer:{word}", counts=counts, name=name or word, source="enriched k-mer")


def enriched_motifs(tokens, labels, n_motifs: int, targets=None, k: int = 8, flank: int = 4,
                    max_seqs: int = 20000, max_p: float = 1e-4, seed: int = 0) -> list[Motif]:
    """Up to `n_motifs` motifs enriched in the targets' positives (the module docstring gives
    the procedure).

    Parameters
    ----------
    tokens : (N, L) uint8 array
        Training sequences, 0..3 = A, C, G, T; 4 = N (may be memory-mapped: only a sorted
        subsample of rows is read).
    labels : callable or (N, T) array of 0/1
        The labels, or a function of a sorted row index array returning their (n, T) labels
        (``Split.labels``).
    n_motifs : int
        Most motifs returned.
    targets : list of str or None
        Target names, for the motifs' names. Default is None: ``t<column>``.
    k : int
        Word length. Default is 8.
    flank : int
        Bases added at each side of a word. Default is 4.
    max_seqs : int
        Most sequences counted (a seeded random subsample beyond; fewer for sequences longer
        than 1,000 bp, at most 20 million bases in all). Default is 20000.
    max_p : float
        Family-wise p-value threshold of a word (Bonferroni over ``4 ** k`` words). Default is
        0.0001.
    seed : int
        Seed of the subsample. Default is 0.

    Returns
    -------
    list of Motif
        ID ``kmer:<word>``, named after the target whose positives gave the word; counts
        (k + 2 flank, 4), A, C, G, T.
    """
    check(1 <= k <= 12, f"k-mer seeding: k must be in 1..12, got {k}")
    n = len(tokens)
    limit = max(1, min(max_seqs, _MAX_BASES // max(1, int(np.shape(tokens)[1]))))
    rows = np.arange(n)
    if n > limit:
        rows = np.sort(np.random.default_rng([seed, 7]).choice(n, limit, replace=False))
    tok = np.asarray(tokens[rows])
    lab = np.asarray(labels(rows) if callable(labels) else np.asarray(labels)[rows])
    if n_motifs < 1 or tok.shape[1] < k:
        return []
    ranked = enriched_words(canonical_kmers(tok, k), lab, k, per_target=min(64, n_motifs))
    return _take_turns(ranked, tok, lab, n_motifs, k, flank, targets)


def _take_turns(ranked: list, tok, lab, n_motifs: int, k: int, flank: int, targets) -> list[Motif]:
    """Targets in turn, best first, each its next word that is no near copy of a chosen one."""
    chosen, out, positives = [], [], {}
    queues = [(j, [_decode(c, k) for c in codes]) for _, j, codes in ranked]
    while len(out) < n_motifs and any(q for _, q in queues):
        for j, queue in queues:
            while queue and len(out) < n_motifs:
                word = queue.pop(0)
                if any(_near_copy(word, c) for c in chosen):
                    continue
                name = targets[j] if targets is not None else f"t{j}"
                if j not in positives:
                    positives[j] = tok[lab[:, j] > 0]
                m = word_motif(positives[j], word, flank, name)
                if m is not None:
                    chosen.append(word)
                    out.append(m)
                break
    return out
