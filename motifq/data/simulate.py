"""Simulated chromatin-profiling data with known answers: JASPAR motifs planted in a human-like
background, with presence, grammar, homotypic-cluster and noise targets.

A new user has no DeepSEA bundle at hand; this makes a data set in motifq's own format
(:mod:`motifq.data.dataset`) on which the whole method can be checked, because everything that
decides a label is written down beside it.

Background
    A first-order Markov chain over A, C, G, T whose dinucleotide frequencies are close to those
    of the human genome (:data:`HUMAN_DINUCLEOTIDES`, strand-symmetric): GC content about 41 %
    and CpG depleted to about a quarter of its expected frequency (observed/expected ≈ 0.24),
    with the matching excess of CpA/TpG. A first-order chain is the smallest model that has
    CpG depletion, which is the background feature a convolution kernel notices most (a kernel
    that wants ``CG`` fires far less on human DNA than on uniform random DNA).

Motif instances
    Each planted instance is a fresh sample from the motif's position probability matrix (each
    column drawn independently from the JASPAR counts), on a random strand (reverse complement
    for ``-``), written over the background at a position where it overlaps no other planted
    instance. Larger units (pairs, clusters) are placed first; a unit that finds no free room
    after 100 tries is dropped, so the ground truth always lists exactly what was written.

Targets (labels follow these rules exactly, computed from the planted instances)
    * presence ``<NAME>``: at least one instance of the motif, either strand.
    * grammar ``grammar_<A>_then_<B>``: an instance of A followed by an instance of B on the
      **same strand**, with a gap (bases between the end of A and the start of B, read along
      that strand) in ``[min_gap, max_gap]`` (15..45 bp, more than one DanQ pooling window).
      On the ``-`` strand "followed by" is read on that strand, so in forward coordinates B lies
      to the left of A; the rule is the same for a sequence and its reverse complement. Decoys
      hold both motifs in the wrong order, on opposite strands, or too far apart
      (gap 90..300 bp), so co-occurrence alone cannot predict the label.
    * cluster ``cluster_<C>x<k>``: at least ``k`` instances of C whose ``k`` consecutive copies
      fit in a ``window``-bp stretch (3 copies in 200 bp). Decoys hold two close copies, or
      three spread copies.
    * noise ``noise_<i>``: independent random labels, unrelated to the sequence.

Default motifs (JASPAR 2024 CORE vertebrates, :data:`DEFAULT_MOTIFS`): eight distinct, well-known
matrices with 14..23 bits of information so that a small model can learn them: CTCF, GATA1::TAL1,
SPI1, CEBPB, ESRRB, REST, NRF1, TP53. Grammar pairs take the least palindromic motifs (a
palindrome looks the same on both strands, which would make the strand decoys indistinguishable
from positives): with the defaults SPI1 → ESRRB and REST → GATA1::TAL1; the homotypic cluster
uses the most palindromic remaining motif (CEBPB).

Positive rates (of a split of N sequences): each motif is planted alone in 3 % of the sequences;
each grammar rule gets 3 % positives and 1 % of each decoy kind; the cluster 3 % positives, 2 %
close pairs and 1 % spread triples; noise targets 3 %. So presence targets run about 3..10 %,
grammar and cluster targets about 3 %.

Ground truth (``DIR/truth/``): ``motifs.meme`` (the planted matrices), ``rules.json`` (targets
and their rules, background, rates, seed) and ``instances.tsv`` (one row per planted instance:
split, sequence index, 0-based start, end, strand, motif ID and name, unit and role).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import MotifqError, atomic_write, check
from ..motif import Motif
from .dataset import SPLITS, Split, write_dataset

__all__ = ["DEFAULT_MOTIFS", "HUMAN_DINUCLEOTIDES", "Simulation", "simulate", "write_simulation",
           "simulate_dataset", "read_truth", "rule_labels", "markov_background", "make_rules",
           "target_kinds"]

#: The eight default planted motifs, JASPAR 2024 CORE vertebrates.
DEFAULT_MOTIFS = "jaspar2024:MA0139.2,MA0140.3,MA0080.7,MA0466.4,MA0141.4,MA0138.3,MA0506.3,MA0106.3"

#: Human-like dinucleotide frequencies (rows: first base, columns: second base, A, C, G, T),
#: strand-symmetric (``f[xy] == f[comp(y) comp(x)]``), in percent. GC 41 %, CpG o/e ≈ 0.24.
HUMAN_DINUCLEOTIDES = np.array([
    [9.76, 5.03, 6.99, 7.63],   # AA AC AG AT
    [7.27, 5.21, 0.99, 6.99],   # CA CC CG CT
    [5.93, 4.26, 5.21, 5.03],   # GA GC GG GT
    [6.55, 5.93, 7.27, 9.76],   # TA TC TG TT
])

# Planting rates (fraction of a split's sequences) and rule parameters; see the module docstring.
_SINGLE_RATE = 0.03
_GRAMMAR_RATE = 0.03
_DECOY_RATE = 0.01          # each of: order, strand, far
_CLUSTER_RATE = 0.03
_CLUSTER_PAIR_RATE = 0.02
_CLUSTER_SPREAD_RATE = 0.01
_NOISE_RATE = 0.03
_N_NOISE = 2
_MIN_GAP, _MAX_GAP = 15, 45
_FAR_GAP = (90, 300)
_CLUSTER_K, _CLUSTER_WINDOW = 3, 200
_TRIES = 100
_PSEUDOCOUNT = 0.0
_COMPLEMENT = np.array([3, 2, 1, 0], dtype=np.uint8)   # ACGT tokens: A<->T, C<->G
_INSTANCE_COLUMNS = ("split", "sequence", "start", "end", "strand", "motif", "name", "unit", "role")


@dataclass
class Simulation:
    """A simulated data set held in memory.

    Parameters
    ----------
    splits : dict of str -> Split
        ``train``, ``valid``, ``test`` (those with N > 0): tokens (N, L) uint8 ACGT and labels.
    motifs : list of Motif
        The planted motifs (A, C, G, T).
    rules : dict
        ``{"targets": [...], "background": ..., ...}``, as saved in ``truth/rules.json``.
    instances : dict of str -> numpy.ndarray
        One array per column of ``truth/instances.tsv`` (see :data:`_INSTANCE_COLUMNS`), all of
        the same length (one entry per planted instance, all splits).
    description : str
        One paragraph for ``dataset.json``. Default is ``""``.
    """

    splits: dict
    motifs: list
    rules: dict
    instances: dict
    description: str = ""


# ---------------------------------------------------------------------------------------------
# background
# ---------------------------------------------------------------------------------------------
def _transition(dinucleotides) -> tuple[np.ndarray, np.ndarray]:
    f = np.asarray(dinucleotides, dtype=np.float64)
    f = f / f.sum()
    trans = f / f.sum(axis=1, keepdims=True)          # P(next | previous)
    start = f.sum(axis=1)                             # first-base frequencies
    return start, trans


def markov_background(n: int, length: int, rng, dinucleotides=None) -> np.ndarray:
    """Sample sequences from a first-order Markov chain, vectorised over sequences.

    Parameters
    ----------
    n : int
        Number of sequences N.
    length : int
        Sequence length L.
    rng : numpy.random.Generator
        Source of randomness.
    dinucleotides : (4, 4) array
        Dinucleotide frequencies (any scale), rows = first base, columns = second, A, C, G, T.
        ``P(next = y | previous = x) = f[x, y] / sum_y f[x, y]``; the first base is drawn from
        ``sum_y f[x, y]``. Default is None: :data:`HUMAN_DINUCLEOTIDES`.

    Returns
    -------
    numpy.ndarray
        (N, L) uint8 tokens, 0..3 = A, C, G, T.
    """
    start, trans = _transition(HUMAN_DINUCLEOTIDES if dinucleotides is None else dinucleotides)
    cum = np.cumsum(trans, axis=1)[:, :3]              # (4, 3): thresholds for the next base
    out = np.empty((n, length), dtype=np.uint8)
    if n == 0 or length == 0:
        return out
    u = rng.random((length, n))
    prev = np.searchsorted(np.cumsum(start)[:3], u[0], side="right").astype(np.uint8)
    out[:, 0] = prev
    for t in range(1, length):
        th = cum[prev]                                  # (N, 3)
        prev = (u[t, :, None] >= th).sum(axis=1, dtype=np.uint8)
        out[:, t] = prev
    return out


# ---------------------------------------------------------------------------------------------
# rules
# ---------------------------------------------------------------------------------------------
def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_") or "motif"


def _asymmetry(m: Motif) -> float:
    """How far a motif is from its own reverse complement (0 = palindrome, 1 = disjoint): one
    minus the best mean column overlap over shifts of up to 3 columns."""
    p, r = m.probabilities(0.5), m.reverse_complement().probabilities(0.5)
    w, best = m.width, 0.0
    for s in range(-3, 4):
        a, b = p[max(0, s):w + min(0, s)], r[max(0, -s):w - max(0, s)]
        if len(a):
            best = max(best, 1 - np.abs(a - b).sum(axis=1).mean() / 2)
    return 1 - best


def make_rules(motifs, n_grammar: int = 2, n_noise: int = 2) -> list[dict]:
    """The targets of a simulation and their rules.

    Parameters
    ----------
    motifs : list of Motif
        The planted motifs (distinct IDs).
    n_grammar : int
        Number of grammar rules (each takes two motifs, least palindromic first; fewer when there
        are not enough motifs). Default is 2.
    n_noise : int
        Number of noise targets. Default is 2.

    Returns
    -------
    list of dict
        One dict per target, in label order: ``{"name", "kind", ...}`` with kind ``presence``
        (``motif``), ``grammar`` (``first``, ``second``, ``min_gap``, ``max_gap``,
        ``same_strand``), ``cluster`` (``motif``, ``min_copies``, ``window``) or ``noise``
        (``rate``). Motifs are named by ID.
    """
    names = {m.id: _safe(m.name or m.id) for m in motifs}
    rules = [{"name": names[m.id], "kind": "presence", "motif": m.id} for m in motifs]
    order = sorted(range(len(motifs)), key=lambda i: (-round(_asymmetry(motifs[i]), 6), i))
    n_pairs = min(n_grammar, len(motifs) // 2)
    for g in range(n_pairs):
        a, b = motifs[order[2 * g]], motifs[order[2 * g + 1]]
        rules.append({"name": f"grammar_{names[a.id]}_then_{names[b.id]}", "kind": "grammar",
                      "first": a.id, "second": b.id, "min_gap": _MIN_GAP, "max_gap": _MAX_GAP,
                      "same_strand": True})
    c = motifs[order[-1]] if len(motifs) > 2 * n_pairs else motifs[order[0]]
    rules.append({"name": f"cluster_{names[c.id]}x{_CLUSTER_K}", "kind": "cluster", "motif": c.id,
                  "min_copies": _CLUSTER_K, "window": _CLUSTER_WINDOW})
    for i in range(n_noise):
        rules.append({"name": f"noise_{i + 1}", "kind": "noise", "rate": _NOISE_RATE})
    return rules


def target_kinds(rules) -> dict:
    """Target name -> kind (``presence``, ``grammar``, ``cluster``, ``noise``).

    Parameters
    ----------
    rules : dict or list of dict
        ``rules.json`` as read, or its ``targets`` list.
    """
    targets = rules["targets"] if isinstance(rules, dict) else rules
    return {r["name"]: r["kind"] for r in targets}


def rule_labels(instances: dict, rules, n: int, split: str | None = None) -> np.ndarray:
    """Labels of the rule-based targets, computed from planted instances.

    Parameters
    ----------
    instances : dict of str -> numpy.ndarray
        Columns ``sequence``, ``start``, ``end``, ``strand`` (``+``/``-``), ``motif`` (ID) and,
        when `split` is given, ``split``.
    rules : list of dict
        From :func:`make_rules` (or ``rules.json``'s ``targets``).
    n : int
        Number of sequences N in the split.
    split : str or None
        Use only instances of this split. Default is None: all given instances.

    Returns
    -------
    numpy.ndarray
        (N, T) uint8; the columns of noise targets are 0 (they are drawn, not derived).
    """
    cols = {k: np.asarray(v) for k, v in instances.items()}
    if split is not None:
        keep = cols["split"] == split
        cols = {k: v[keep] for k, v in cols.items()}
    seq, start, end = cols["sequence"].astype(np.int64), cols["start"].astype(np.int64), cols["end"].astype(np.int64)
    plus, motif = cols["strand"] == "+", cols["motif"]
    labels = np.zeros((n, len(rules)), dtype=np.uint8)
    for j, r in enumerate(rules):
        if r["kind"] == "presence":
            labels[seq[motif == r["motif"]], j] = 1
        elif r["kind"] == "cluster":
            sel = motif == r["motif"]
            s, st, en, k = seq[sel], start[sel], end[sel], int(r["min_copies"])
            o = np.lexsort((st, s))
            s, st, en = s[o], st[o], en[o]
            if len(s) >= k:
                ok = (s[k - 1:] == s[:len(s) - k + 1]) & (en[k - 1:] - st[:len(s) - k + 1] <= int(r["window"]))
                labels[s[:len(s) - k + 1][ok], j] = 1
        elif r["kind"] == "grammar":
            a, b = motif == r["first"], motif == r["second"]
            both = np.intersect1d(seq[a], seq[b])
            ia = np.flatnonzero(a & np.isin(seq, both))
            ib = np.flatnonzero(b & np.isin(seq, both))
            # all (A, B) pairs within a sequence: few, so a sort-merge by sequence is enough
            ib_by_seq = {}
            for i in ib:
                ib_by_seq.setdefault(int(seq[i]), []).append(i)
            for i in ia:
                for k in ib_by_seq.get(int(seq[i]), ()):
                    if r.get("same_strand", True) and plus[i] != plus[k]:
                        continue
                    gap = start[k] - end[i] if plus[i] else start[i] - end[k]
                    if r["min_gap"] <= gap <= r["max_gap"]:
                        labels[seq[i], j] = 1
                        break
    return labels


# ---------------------------------------------------------------------------------------------
# planting
# ---------------------------------------------------------------------------------------------
def _units(n: int, rules: list, index: dict, widths: np.ndarray, length: int, rng) -> list:
    """The units to plant: (sequence, [(motif index, offset, strand)], role), big units first."""
    units = []

    def chosen(rate):
        return np.flatnonzero(rng.random(n) < rate)

    def strand(m):
        return rng.random(m) < 0.5                        # True = '+'

    for r in rules:
        if r["kind"] == "grammar":
            a, b = index[r["first"]], index[r["second"]]
            wa, wb = int(widths[a]), int(widths[b])
            kinds = [("positive", _GRAMMAR_RATE), ("decoy_order", _DECOY_RATE), ("decoy_strand", _DECOY_RATE)]
            far_hi = min(_FAR_GAP[1], length - wa - wb)
            if far_hi >= _FAR_GAP[0]:
                kinds.append(("decoy_far", _DECOY_RATE))
            for role, rate in kinds:
                seqs = chosen(rate)
                pos = strand(len(seqs))
                lo, hi = (_FAR_GAP[0], far_hi) if role == "decoy_far" else (r["min_gap"], r["max_gap"])
                gaps = rng.integers(lo, hi + 1, size=len(seqs))
                for s, p, g in zip(seqs, pos, gaps):
                    first, second, wf = (b, a, wb) if role == "decoy_order" else (a, b, wa)
                    ws = int(widths[second])
                    sa = "+" if p else "-"
                    sb = ("-" if p else "+") if role == "decoy_strand" else sa
                    # read along the pair's strand: first, gap, second; in forward coordinates a
                    # '-' pair is mirrored (second on the left)
                    if p:
                        parts = [(first, 0, sa), (second, wf + int(g), sb)]
                    else:
                        parts = [(second, 0, sb), (first, ws + int(g), sa)]
                    units.append((int(s), parts, f"{r['name']}:{role}"))
        elif r["kind"] == "cluster":
            c, w, k = index[r["motif"]], int(widths[index[r["motif"]]]), int(r["min_copies"])
            for role, rate, copies in (("positive", _CLUSTER_RATE, k), ("decoy_pair", _CLUSTER_PAIR_RATE, k - 1)):
                for s in chosen(rate):
                    extra = int(rng.integers(0, 2)) if role == "positive" else 0
                    m = copies + extra
                    room = int(r["window"]) - m * w
                    gaps = rng.integers(1, max(2, room // m), size=m - 1) if m > 1 else []
                    offs = np.concatenate([[0], np.cumsum(w + np.asarray(gaps, dtype=np.int64))]) if m > 1 else [0]
                    strands = np.where(strand(m), "+", "-")
                    units.append((int(s), [(c, int(o), str(st)) for o, st in zip(offs, strands)], f"{r['name']}:{role}"))
            for s in chosen(_CLUSTER_SPREAD_RATE):
                for _ in range(k):
                    units.append((int(s), [(c, 0, "+" if rng.random() < 0.5 else "-")], f"{r['name']}:decoy_spread"))
    for m in range(len(widths)):
        seqs = chosen(_SINGLE_RATE)
        for s, p in zip(seqs, strand(len(seqs))):
            units.append((int(s), [(m, 0, "+" if p else "-")], "single"))
    return units


def _place(units: list, n: int, length: int, widths: np.ndarray, rng) -> tuple:
    """Non-overlapping starts for the units; returns instance arrays (sequence, start, strand,
    motif index, unit, role)."""
    spans = [max(o + int(widths[m]) for m, o, _ in parts) for _, parts, _ in units]
    order = sorted(range(len(units)), key=lambda i: (-spans[i], i))   # big units first
    busy: dict[int, np.ndarray] = {}
    out_seq, out_start, out_strand, out_motif, out_unit, out_role = [], [], [], [], [], []
    for uid, i in enumerate(order):
        s, parts, role = units[i]
        span = spans[i]
        if span > length:
            continue
        occ = busy.setdefault(s, np.zeros(length, dtype=bool))
        starts = rng.integers(0, length - span + 1, size=_TRIES)
        for p in starts:
            if not any(occ[p + o:p + o + int(widths[m])].any() for m, o, _ in parts):
                for m, o, st in parts:
                    occ[p + o:p + o + int(widths[m])] = True
                    out_seq.append(s), out_start.append(int(p + o)), out_strand.append(st)
                    out_motif.append(m), out_unit.append(uid), out_role.append(role)
                break
    return (np.asarray(out_seq, dtype=np.int64), np.asarray(out_start, dtype=np.int64),
            np.asarray(out_strand, dtype="<U1"), np.asarray(out_motif, dtype=np.int64),
            np.asarray(out_unit, dtype=np.int64), np.asarray(out_role, dtype=object))


def _write_instances(tokens: np.ndarray, seq, start, strand, motif, motifs, rng) -> None:
    """Sample each instance from its motif's PFM and write it into `tokens` (in place)."""
    for m, mot in enumerate(motifs):
        sel = np.flatnonzero(motif == m)
        if sel.size == 0:
            continue
        w = mot.width
        cum = np.cumsum(mot.probabilities(_PSEUDOCOUNT), axis=1)[:, :3]      # (W, 3)
        u = rng.random((sel.size, w))
        bases = (u[:, :, None] >= cum[None]).sum(axis=2).astype(np.uint8)    # (n, W) ACGT tokens
        minus = strand[sel] == "-"
        bases[minus] = _COMPLEMENT[bases[minus][:, ::-1]]
        cols = start[sel][:, None] + np.arange(w)[None]
        tokens[seq[sel][:, None], cols] = bases


def _simulate_split(name: str, n: int, length: int, motifs: list, rules: list, rng) -> tuple:
    index = {m.id: i for i, m in enumerate(motifs)}
    widths = np.array([m.width for m in motifs])
    tokens = markov_background(n, length, rng)
    units = _units(n, rules, index, widths, length, rng)
    seq, start, strand, motif, unit, role = _place(units, n, length, widths, rng)
    _write_instances(tokens, seq, start, strand, motif, motifs, rng)
    inst = {"split": np.full(len(seq), name, dtype=object), "sequence": seq, "start": start,
            "end": start + widths[motif] if len(seq) else start.copy(), "strand": strand,
            "motif": np.array([motifs[m].id for m in motif], dtype=object),
            "name": np.array([motifs[m].name for m in motif], dtype=object), "unit": unit, "role": role}
    labels = rule_labels(inst, rules, n)
    for j, r in enumerate(rules):
        if r["kind"] == "noise":
            labels[:, j] = rng.random(n) < r["rate"]
    return Split.from_arrays(tokens, labels, [r["name"] for r in rules], name=f"simulated:{name}"), inst


def simulate(n_train: int = 20000, n_valid: int = 2000, n_test: int = 4000, length: int = 1000,
             motifs=None, seed: int = 0) -> Simulation:
    """Simulate a data set: JASPAR motif instances on a human-like background, with presence,
    grammar, homotypic-cluster and noise targets (rules in the module docstring).

    Parameters
    ----------
    n_train, n_valid, n_test : int
        Sequences per split (a split with 0 is left out). Default is 20000, 2000, 4000.
    length : int
        Sequence length L (at least 200). Default is 1000.
    motifs : str or list of Motif
        The motifs to plant: a spec for :func:`motifq.jaspar.load_motifs` (a file or a bundled
        name with a selection) or Motif objects; distinct IDs, at most 64 wide.
        Default is None: :data:`DEFAULT_MOTIFS`.
    seed : int
        Seed; the same seed and arguments give identical data. Each split has its own stream
        (split sizes do not change the other splits). Default is 0.

    Returns
    -------
    Simulation
        Splits with tokens (N, L) uint8 (A, C, G, T = 0..3) and labels (N, T), motifs, rules and
        the planted instances.
    """
    sizes = {"train": n_train, "valid": n_valid, "test": n_test}
    for k, v in sizes.items():
        check(isinstance(v, (int, np.integer)) and v >= 0, f"n_{k}: must be a whole number >= 0, got {v!r}")
    check(sum(sizes.values()) > 0, "simulate: all splits are empty")
    check(isinstance(length, (int, np.integer)) and length >= 200, f"length: must be at least 200, got {length!r}")
    motif_list = _planted_motifs(DEFAULT_MOTIFS if motifs is None else motifs)
    rules = make_rules(motif_list, n_noise=_N_NOISE)
    children = np.random.SeedSequence(int(seed)).spawn(len(SPLITS))
    splits, parts = {}, []
    for name, child in zip(SPLITS, children):
        if sizes[name] == 0:
            continue
        split, inst = _simulate_split(name, int(sizes[name]), int(length), motif_list, rules,
                                      np.random.default_rng(child))
        splits[name], parts = split, parts + [inst]
    instances = {c: np.concatenate([p[c] for p in parts]) for c in _INSTANCE_COLUMNS}
    desc = (f"motifq simulation (seed {seed}): {len(motif_list)} JASPAR motifs planted in a human-like "
            f"Markov background; {len(rules)} targets (presence, grammar, cluster, noise); ground truth in truth/")
    return Simulation(splits, motif_list, _info(seed, length, motif_list, rules), instances, desc)


def _planted_motifs(motifs) -> list:
    """The motifs to plant as a list of Motif (from a :func:`motifq.jaspar.load_motifs` spec or
    Motif objects), checked: at least one, distinct IDs, at most 64 wide."""
    from ..jaspar import load_motifs

    motif_list = list(load_motifs(motifs)) if isinstance(motifs, (str, Path)) else list(motifs)
    check(len(motif_list) > 0, "motifs: none given")
    ids = [m.id for m in motif_list]
    check(len(set(ids)) == len(ids), f"motifs: IDs must be distinct, got {', '.join(ids)}")
    check(max(m.width for m in motif_list) <= 64, "motifs: a motif is wider than 64")
    return motif_list


def _info(seed, length, motif_list, rules) -> dict:
    """The simulation's rules as saved in ``truth/rules.json`` (``Simulation.rules``): seed,
    motifs, targets, background model (A, C, G, T) and planting rates."""
    start, trans = _transition(HUMAN_DINUCLEOTIDES)
    return {
        "format": "motifq-simulation", "version": 1, "seed": int(seed), "length": int(length),
        "motifs": [{"id": m.id, "name": m.name, "width": m.width,
                    "total_ic": round(float(m.information_content().sum()), 3)} for m in motif_list],
        "targets": rules,
        "background": {"model": "first-order Markov chain, human-like dinucleotide frequencies",
                       "alphabet": "ACGT", "dinucleotide_percent": HUMAN_DINUCLEOTIDES.tolist(),
                       "transition": np.round(trans, 6).tolist(), "start": np.round(start, 6).tolist()},
        "planting": {"single_rate": _SINGLE_RATE, "grammar_rate": _GRAMMAR_RATE,
                     "grammar_decoy_rate_each": _DECOY_RATE, "grammar_far_gap": list(_FAR_GAP),
                     "cluster_rate": _CLUSTER_RATE, "cluster_pair_rate": _CLUSTER_PAIR_RATE,
                     "cluster_spread_rate": _CLUSTER_SPREAD_RATE, "pseudocount": _PSEUDOCOUNT,
                     "overlap": "none", "tries_per_unit": _TRIES},
        "coordinates": "0-based start, end exclusive, forward strand of the stored sequence",
    }


# ---------------------------------------------------------------------------------------------
# files
# ---------------------------------------------------------------------------------------------
def write_simulation(sim: Simulation, path) -> Path:
    """Write a simulation as a motifq dataset folder with its ground truth in ``truth/``.

    Parameters
    ----------
    sim : Simulation
        From :func:`simulate`.
    path : str or os.PathLike
        The folder (created if missing).

    Returns
    -------
    pathlib.Path
        The folder. Inside: ``dataset.json``, ``<split>.tokens.npy``, ``<split>.labels.npy``,
        ``truth/motifs.meme``, ``truth/rules.json``, ``truth/instances.tsv``.
    """
    from ..formats import write_meme

    folder = Path(path)
    truth = folder / "truth"
    truth.mkdir(parents=True, exist_ok=True)
    write_meme(truth / "motifs.meme", sim.motifs)
    with atomic_write(truth / "rules.json") as fh:
        json.dump(sim.rules, fh, indent=1)
    with atomic_write(truth / "instances.tsv") as fh:
        fh.write("\t".join(_INSTANCE_COLUMNS) + "\n")
        cols = [sim.instances[c] for c in _INSTANCE_COLUMNS]
        fh.writelines("\t".join(str(v) for v in row) + "\n" for row in zip(*cols))
    kinds = target_kinds(sim.rules)
    write_dataset(folder, sim.splits, description=sim.description,
                  extra={"simulation": {"seed": sim.rules["seed"], "truth": "truth/",
                                        "target_kinds": [kinds[t] for t in next(iter(sim.splits.values())).targets]}})
    return folder


def simulate_dataset(path, n_train: int = 20000, n_valid: int = 2000, n_test: int = 4000,
                     length: int = 1000, motifs=None, seed: int = 0) -> Path:
    """:func:`simulate` then :func:`write_simulation`.

    Parameters
    ----------
    path : str or os.PathLike
        Output folder.
    n_train, n_valid, n_test : int
        Sequences per split. Default is 20000, 2000, 4000.
    length : int
        Sequence length. Default is 1000.
    motifs : str or list of Motif
        See :func:`simulate`. Default is None: :data:`DEFAULT_MOTIFS`.
    seed : int
        Seed. Default is 0.

    Returns
    -------
    pathlib.Path
        The folder.
    """
    return write_simulation(simulate(n_train, n_valid, n_test, length, motifs, seed), path)


def read_truth(path) -> tuple[list, dict, dict]:
    """Read a simulation's ground truth.

    Parameters
    ----------
    path : str or os.PathLike
        The dataset folder (or its ``truth/`` folder).

    Returns
    -------
    motifs : list of Motif
        The planted motifs, A, C, G, T.
    rules : dict
        ``rules.json``.
    instances : dict of str -> numpy.ndarray
        The columns of ``instances.tsv`` (``sequence``, ``start``, ``end``, ``unit`` as int64).
    """
    from ..formats import read_meme

    folder = Path(path)
    if (folder / "truth").is_dir():
        folder = folder / "truth"
    for f in ("motifs.meme", "rules.json", "instances.tsv"):
        check((folder / f).is_file(), f"{folder / f}: missing (not a motifq simulation?)")
    motifs = read_meme(folder / "motifs.meme")
    try:
        rules = json.loads((folder / "rules.json").read_text())
    except json.JSONDecodeError as exc:
        raise MotifqError(f"{folder / 'rules.json'}: not valid JSON ({exc})") from None
    lines = (folder / "instances.tsv").read_text().splitlines()
    check(lines and lines[0].split("\t") == list(_INSTANCE_COLUMNS),
          f"{folder / 'instances.tsv'}: header must be {' '.join(_INSTANCE_COLUMNS)}")
    rows = [ln.split("\t") for ln in lines[1:] if ln]
    cols = list(zip(*rows)) if rows else [()] * len(_INSTANCE_COLUMNS)
    inst = {}
    for c, vals in zip(_INSTANCE_COLUMNS, cols):
        inst[c] = np.array(vals, dtype=np.int64) if c in ("sequence", "start", "end", "unit") else np.array(vals, dtype=object)
    return motifs, rules, inst
