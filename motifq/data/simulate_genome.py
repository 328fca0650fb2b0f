"""A small simulated genome with known answers: peaks, variants and the planted sites behind them.

``motifq simulate --genome -o DIR`` makes everything the genome commands need (``build-dataset``,
``score-variants``, ``predict --bed``) on a fresh machine, with nothing downloaded, and writes down
everything that decided a peak or a variant's effect.

How it is made
    Chromosomes ``chr1..chrK`` whose lengths fall linearly from ``chrom_length`` (chr1) to half of
    it (chrK). Background: :func:`motifq.data.simulate.markov_background` (human-like
    dinucleotides, CpG depleted), drawn in 10 kb pieces. Each chromosome starts and ends with a
    run of ``N`` (telomere, ``min(5000, length // 20)`` bp) and chr1 has an ``N`` gap in its middle
    (``min(3000, length // 50)`` bp), as real assemblies do.

    Enhancer-like regions of 300 bp are laid along the chromosomes with gaps of 400..1400 bp of
    background between them. Each region is one sequence of :func:`motifq.data.simulate.simulate`
    (its motifs, grammar and cluster units, planting rules and rule targets), taken in order among
    the simulated sequences that hold at least one planted instance, and written over the
    background.

    Peaks (``peaks/<target>.narrowPeak``): a region is a peak of a rule target (presence, grammar,
    cluster) exactly when the simulator's rule holds for the instances planted in it
    (:func:`motifq.data.simulate.rule_labels`). The peak spans the region with each end moved by
    up to 25 bp at random; its summit is the middle of the instances that the target's rule reads.
    When two or more such instances lie in the region the peak is written twice, with two summits
    (as MACS2 ``--call-summits`` does), so a reader must merge a target's overlapping peaks. Noise
    targets get peaks of 300 bp at random places of the chromosome bodies (3 % as many as there are
    regions), unrelated to the sequence. Artefact regions (1.5 kb of a tandem-repeated 31-mer,
    soft-masked in lower case, on chr1 and chr2) are peaks of every target and are listed in
    ``blacklist.bed``, as ENCODE's blacklist lists real ones.

    Variants (``variants.vcf``): ``break`` SNVs, each at the highest-information position of one
    planted instance (a position where the instance carries the motif's most likely base), with the
    motif's least likely base as ALT, chosen among instances whose removal changes at least one
    target's rule label in their region (the targets are listed); ``neutral`` SNVs at least 100 bp
    from every planted instance, outside artefacts and ``N`` runs, ALT a random other base; two
    ``break`` deletions of two bases at an instance's best position and two ``neutral`` indels
    (a 3 bp insertion, a 3 bp deletion); one neutral multi-allelic SNV (two ALT alleles); and five
    ``ref_mismatch`` SNVs whose REF differs from the genome (as happens with a VCF made on another
    assembly). Indels are written VCF style with the base before them as anchor.

Layout of ``DIR``::

    genome.fa  genome.fa.fai           FASTA (60 bp lines, soft-masked artefacts), samtools faidx index
    peaks/<target>.narrowPeak          one per target: chrom, start, end (0-based, end excluded),
                                       name, score, strand ".", signalValue, pValue, qValue,
                                       summit (offset from start); sorted by chromosome, start
    peaks.tsv                          name<TAB>peaks/<target>.narrowPeak (``--peaks-table``;
                                       paths relative to the table's folder)
    blacklist.bed                      the artefact regions (BED3, 0-based)
    variants.vcf                       VCFv4.2, sorted (chromosome order of the FASTA, POS); 1-based
    variants.vcf.gz  variants.vcf.gz.tbi   the same, bgzip-compressed and tabix-indexed
    truth/motifs.meme                  the planted matrices (A, C, G, T)
    truth/rules.json                   targets and rules, chromosome lengths, layout, seed
                                       ("format": "motifq-genome-simulation")
    truth/regions.tsv                  region, chrom, start, end, kind (enhancer | artefact),
                                       n_instances, targets (comma-separated positive targets or .)
    truth/instances.tsv                instance, chrom, start, end, strand, motif, name, region,
                                       unit, role (0-based, end excluded, forward strand)
    truth/variants_truth.tsv           one row per ALT allele: id, chrom, pos (1-based, = VCF POS),
                                       start, end (0-based span of REF), ref, alt, kind (snv |
                                       insertion | deletion), effect (break | neutral | ref_mismatch),
                                       ref_match (1 | 0), instance (row of instances.tsv or -1),
                                       motif, name, motif_position (0-based column of the motif,
                                       read on the instance's strand, or -1), ic (bits),
                                       ref_prob, alt_prob (the motif's probabilities of the REF and
                                       ALT bases at that column), targets (whose rule label the
                                       break removes, comma-separated, or .), distance (bp to the
                                       nearest planted instance; 0 inside one)

The folder is built beside ``DIR`` and renamed into place, so it appears whole or not at all.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import MotifqError, atomic_write, check
from .genome import atomic_folder
from .simulate import markov_background, rule_labels, simulate

__all__ = ["GENOME_FORMAT", "GenomeSimulation", "simulate_genome", "write_genome_simulation",
           "simulate_genome_folder", "read_genome_truth", "is_genome_simulation", "chrom_lengths"]

GENOME_FORMAT = "motifq-genome-simulation"

_REGION_LENGTH = 300
_REGION_GAP = (400, 1400)
_PEAK_JITTER = 25
_CHUNK = 10_000
_TELOMERE, _MID_GAP = 5000, 3000
_ARTEFACT_UNIT, _ARTEFACT_LENGTH, _ARTEFACT_CHROMS, _ARTEFACT_MARGIN = 31, 1500, 2, 1000
_NEUTRAL_DISTANCE = 100
_N_MISMATCH, _N_BREAK_DELETIONS = 5, 2
_LINE = 60
_LETTERS = np.frombuffer(b"ACGTN", dtype=np.uint8)
_COMPLEMENT = np.array([3, 2, 1, 0, 4], dtype=np.uint8)
_INSTANCE_COLUMNS = ("instance", "chrom", "start", "end", "strand", "motif", "name", "region", "unit", "role")
_REGION_COLUMNS = ("region", "chrom", "start", "end", "kind", "n_instances", "targets")
_VARIANT_COLUMNS = ("id", "chrom", "pos", "start", "end", "ref", "alt", "kind", "effect", "ref_match",
                    "instance", "motif", "name", "motif_position", "ic", "ref_prob", "alt_prob", "targets",
                    "distance")
_INT_COLUMNS = {"instance", "start", "end", "region", "unit", "n_instances", "pos", "ref_match",
                "motif_position", "distance"}
_FLOAT_COLUMNS = {"ic", "ref_prob", "alt_prob"}


@dataclass
class GenomeSimulation:
    """A simulated genome held in memory (see the module docstring for how it is made).

    Parameters
    ----------
    sequences : dict of str -> numpy.ndarray
        Chromosome name -> (L,) uint8 tokens, 0..4 = A, C, G, T, N; in chromosome order.
    masked : dict of str -> numpy.ndarray
        Chromosome name -> (L,) bool, True where the FASTA is written in lower case.
    regions, instances, variants : dict of str -> numpy.ndarray
        The columns of ``truth/regions.tsv``, ``truth/instances.tsv`` and
        ``truth/variants_truth.tsv`` (coordinates 0-based, end excluded; ``pos`` 1-based).
    peaks : dict of str -> dict
        Target name -> columns ``chrom``, ``start``, ``end``, ``summit`` (offset from start),
        ``signal`` of its peaks, sorted.
    blacklist : list of tuple
        ``(chrom, start, end)`` of the artefact regions.
    motifs : list of Motif
        The planted motifs (A, C, G, T).
    rules : dict
        ``truth/rules.json``.
    """

    sequences: dict
    masked: dict
    regions: dict
    instances: dict
    peaks: dict
    blacklist: list
    variants: dict
    motifs: list
    rules: dict


# ---------------------------------------------------------------------------------------------
# chromosomes: background, N runs, artefacts, region slots
# ---------------------------------------------------------------------------------------------
def chrom_lengths(n_chroms: int = 5, chrom_length: int = 400_000) -> dict:
    """Chromosome names and lengths of a simulated genome.

    Parameters
    ----------
    n_chroms : int
        Number of chromosomes K (``chr1..chrK``). Default is 5.
    chrom_length : int
        Length of chr1 in bp; the lengths fall linearly to half of it for chrK. Default is 400000.

    Returns
    -------
    dict of str -> int
    """
    fall = np.linspace(1.0, 0.5, n_chroms) if n_chroms > 1 else np.ones(1)
    return {f"chr{i + 1}": int(round(chrom_length * f)) for i, f in enumerate(fall)}


def _background(lengths: dict, rng) -> tuple[dict, dict, list, list]:
    """Markov background with N runs and artefact repeats; returns sequences, lower-case masks,
    the blacklist and the free stretches ``(chrom, start, end)`` where regions may go."""
    seqs, masked, blacklist, free = {}, {}, [], []
    for k, (chrom, n) in enumerate(lengths.items()):
        pieces = -(-n // _CHUNK)
        seq = markov_background(pieces, _CHUNK, rng).ravel()[:n].copy()
        mask = np.zeros(n, dtype=bool)
        tel = min(_TELOMERE, n // 20)
        seq[:tel], seq[n - tel:] = 4, 4
        cuts = [(0, tel), (n - tel, n)]
        if k == 0:
            g = min(_MID_GAP, n // 50)
            seq[n // 2 - g // 2:n // 2 - g // 2 + g] = 4
            cuts.append((n // 2 - g // 2, n // 2 - g // 2 + g))
        if k < _ARTEFACT_CHROMS:
            a_len = min(_ARTEFACT_LENGTH, n // 50)
            a0 = n // 4 - a_len // 2
            unit = rng.integers(0, 4, _ARTEFACT_UNIT).astype(np.uint8)
            seq[a0:a0 + a_len] = np.resize(unit, a_len)
            mask[a0:a0 + a_len] = True
            blacklist.append((chrom, a0, a0 + a_len))
            cuts.append((a0 - _ARTEFACT_MARGIN, a0 + a_len + _ARTEFACT_MARGIN))
        free += [(chrom, s, e) for s, e in _complement(sorted(cuts), n)]
        seqs[chrom], masked[chrom] = seq, mask
    return seqs, masked, blacklist, free


def _complement(cuts: list, n: int) -> list:
    """The stretches of [0, n) outside the sorted intervals `cuts`."""
    out, pos = [], 0
    for s, e in cuts:
        if s > pos:
            out.append((pos, s))
        pos = max(pos, e)
    if pos < n:
        out.append((pos, n))
    return out


def _region_slots(free: list, rng) -> list:
    """Region starts ``(chrom, start)`` along the free stretches, gaps drawn from _REGION_GAP."""
    slots = []
    for chrom, s, e in free:
        pos = s
        while True:
            pos += int(rng.integers(_REGION_GAP[0], _REGION_GAP[1] + 1))
            if pos + _REGION_LENGTH + _REGION_GAP[0] > e:
                break
            slots.append((chrom, pos))
            pos += _REGION_LENGTH
    return slots


# ---------------------------------------------------------------------------------------------
# regions: simulator sequences written over the background
# ---------------------------------------------------------------------------------------------
def _region_sequences(n: int, motifs, seed: int):
    """The first `n` simulated sequences holding at least one instance: (tokens, labels,
    instances with renumbered sequences, Simulation)."""
    m = 4 * n + 100
    while True:
        sim = simulate(n_train=m, n_valid=0, n_test=0, length=_REGION_LENGTH, motifs=motifs, seed=seed)
        inst = sim.instances
        kept = np.unique(inst["sequence"])[:n]
        if len(kept) == n or m > 64 * n + 6400:
            break
        m *= 2
    split = sim.splits["train"]
    renumber = np.full(m, -1, dtype=np.int64)
    renumber[kept] = np.arange(len(kept))
    new = renumber[inst["sequence"]]
    keep = new >= 0
    inst = {c: v[keep] for c, v in inst.items()}
    inst["sequence"] = new[keep]
    return np.asarray(split.tokens[kept]), split.labels(kept), inst, sim


def _place_regions(seqs: dict, slots: list, tokens, labels, inst, rules: list) -> tuple[dict, dict]:
    """Write region sequences into the chromosomes; return region and instance columns."""
    n = len(tokens)
    chroms = np.array([c for c, _ in slots[:n]], dtype=object)
    starts = np.array([s for _, s in slots[:n]], dtype=np.int64)
    for i in range(n):
        seqs[chroms[i]][starts[i]:starts[i] + _REGION_LENGTH] = tokens[i]
    names = [r["name"] for r in rules]
    rule_cols = [j for j, r in enumerate(rules) if r["kind"] != "noise"]
    targets = [",".join(names[j] for j in rule_cols if labels[i, j]) or "." for i in range(n)]
    region = inst["sequence"]
    order = np.lexsort((inst["start"] + starts[region], region))
    inst = {c: v[order] for c, v in inst.items()}
    region = inst["sequence"]
    instances = {"instance": np.arange(len(region)), "chrom": chroms[region],
                 "start": inst["start"] + starts[region], "end": inst["end"] + starts[region],
                 "strand": inst["strand"], "motif": inst["motif"], "name": inst["name"], "region": region,
                 "unit": inst["unit"], "role": inst["role"]}
    regions = {"region": np.arange(n), "chrom": chroms, "start": starts, "end": starts + _REGION_LENGTH,
               "kind": np.full(n, "enhancer", dtype=object),
               "n_instances": np.bincount(region, minlength=n), "targets": np.array(targets, dtype=object)}
    return regions, instances


# ---------------------------------------------------------------------------------------------
# peaks
# ---------------------------------------------------------------------------------------------
def _rule_motifs(rule: dict) -> set:
    return {rule[k] for k in ("motif", "first", "second") if k in rule}


def _rule_peaks(rule: dict, j: int, regions: dict, labels, instances: dict, rng) -> list:
    """Peak rows (chrom, start, end, summit offset, signal) of one rule target."""
    rows = []
    motifs = _rule_motifs(rule)
    by_region = {}
    for i in np.flatnonzero(np.isin(instances["motif"], list(motifs))):
        by_region.setdefault(int(instances["region"][i]), []).append(i)
    for r in np.flatnonzero(labels[:, j]):
        chrom, s, e = regions["chrom"][r], int(regions["start"][r]), int(regions["end"][r])
        s, e = s + int(rng.integers(-_PEAK_JITTER, _PEAK_JITTER + 1)), e + int(rng.integers(-_PEAK_JITTER, _PEAK_JITTER + 1))
        inside = by_region.get(int(r), [])
        mids = [(int(instances["start"][i]) + int(instances["end"][i])) // 2 for i in inside] or [(s + e) // 2]
        signal = 5.0 + 4.0 * len(inside) + float(rng.gamma(2.0, 1.0))
        summits = [int(np.mean(mids))] if len(mids) < 2 else [min(mids), max(mids)]
        rows += [(chrom, s, e, min(max(m - s, 0), e - s - 1), signal) for m in summits]
    return rows


def _noise_peaks(n: int, free: list, rng) -> list:
    """`n` peaks of _REGION_LENGTH bp at random places of the free stretches."""
    sizes = np.array([e - s - _REGION_LENGTH for _, s, e in free], dtype=np.float64).clip(0)
    which = rng.choice(len(free), size=n, p=sizes / sizes.sum())
    rows = []
    for w in which:
        chrom, s, e = free[w]
        p = int(rng.integers(s, e - _REGION_LENGTH))
        rows.append((chrom, p, p + _REGION_LENGTH, _REGION_LENGTH // 2, 2.0 + float(rng.gamma(2.0, 1.0))))
    return rows


def _make_peaks(rules: list, regions: dict, labels, instances: dict, blacklist: list, free: list,
                order: dict, rng) -> dict:
    """Target -> sorted peak columns (chrom, start, end, summit, signal)."""
    peaks = {}
    n_noise = max(1, int(round(0.03 * len(regions["region"]))))
    for j, rule in enumerate(rules):
        if rule["kind"] == "noise":
            rows = _noise_peaks(n_noise, free, rng)
        else:
            rows = _rule_peaks(rule, j, regions, labels, instances, rng)
        rows += [(c, s - 50, e + 50, (e - s) // 2 + 50, 50.0) for c, s, e in blacklist]
        rows.sort(key=lambda r: (order[r[0]], r[1], r[2], r[3]))
        cols = list(zip(*rows)) if rows else [(), (), (), (), ()]
        peaks[rule["name"]] = {"chrom": np.array(cols[0], dtype=object), "start": np.array(cols[1], dtype=np.int64),
                               "end": np.array(cols[2], dtype=np.int64), "summit": np.array(cols[3], dtype=np.int64),
                               "signal": np.array(cols[4], dtype=np.float64)}
    return peaks


# ---------------------------------------------------------------------------------------------
# variants
# ---------------------------------------------------------------------------------------------
def _flipped_targets(instances: dict, labels, rules: list) -> list:
    """For each instance: the rule targets whose label in its region goes 1 -> 0 without it."""
    rule_idx = [j for j, r in enumerate(rules) if r["kind"] != "noise"]
    sub_rules = [rules[j] for j in rule_idx]
    by_region = {}
    for i, r in enumerate(instances["region"]):
        by_region.setdefault(int(r), []).append(i)
    cols = {"sequence": np.zeros(0, dtype=np.int64)}
    out = [[] for _ in instances["region"]]
    for r, members in by_region.items():
        for i in members:
            rest = [k for k in members if k != i]
            cols = {c: np.asarray(instances[c])[rest] for c in ("start", "end", "strand", "motif")}
            cols["sequence"] = np.zeros(len(rest), dtype=np.int64)
            without = rule_labels(cols, sub_rules, 1)[0]
            out[i] = [sub_rules[k]["name"] for k, j in enumerate(rule_idx) if labels[r, j] and not without[k]]
    return out


def _best_column(motif, planted: np.ndarray) -> int:
    """The highest-information column where `planted` (motif orientation) is the likeliest base."""
    p, ic = motif.probabilities(), motif.information_content()
    ok = planted == p.argmax(axis=1)
    return int(np.argmax(np.where(ok, ic, -1.0))) if ok.any() else int(np.argmax(ic))


def _instance_site(seqs: dict, instances: dict, i: int, motifs: dict) -> tuple:
    """(genome position, motif column, ref prob, alt prob, ic, ALT token on the forward strand)
    of the best break of instance `i`."""
    chrom, s, e = instances["chrom"][i], int(instances["start"][i]), int(instances["end"][i])
    m = motifs[instances["motif"][i]]
    planted = seqs[chrom][s:e]
    minus = instances["strand"][i] == "-"
    planted = _COMPLEMENT[planted[::-1]] if minus else planted
    j = _best_column(m, planted)
    p = m.probabilities()[j]
    alt = int(np.argmin(p))
    pos = e - 1 - j if minus else s + j
    alt_fwd = int(_COMPLEMENT[alt]) if minus else alt
    return pos, j, float(p[planted[j]]), float(p[alt]), float(m.information_content()[j]), alt_fwd


def _distance_index(instances: dict, lengths: dict) -> dict:
    """Chromosome -> sorted (starts, ends) of instances, for distances."""
    out = {}
    for chrom in lengths:
        sel = instances["chrom"] == chrom
        o = np.argsort(instances["start"][sel], kind="stable")
        out[chrom] = (instances["start"][sel][o], np.maximum.accumulate(instances["end"][sel][o]) if sel.any() else np.zeros(0, np.int64))
    return out


def _distance(index: dict, chrom: str, s: int, e: int) -> int:
    """Bases between [s, e) and the nearest instance (0 when they overlap or touch)."""
    starts, run_max_end = index[chrom]
    if len(starts) == 0:
        return 1 << 30
    k = int(np.searchsorted(starts, e))        # instances starting before e: 0..k-1
    left = s - int(run_max_end[k - 1]) if k > 0 else 1 << 30
    right = int(starts[k]) - e if k < len(starts) else 1 << 30
    return max(0, min(left, right))


def _row(chrom, start, ref, alt, kind, effect, ref_match=1, **info) -> dict:
    """One truth row; `start` is the 0-based first base of REF."""
    row = {"chrom": chrom, "pos": start + 1, "start": start, "end": start + len(ref), "ref": ref, "alt": alt,
           "kind": kind, "effect": effect, "ref_match": ref_match, "instance": -1, "motif": ".", "name": ".",
           "motif_position": -1, "ic": 0.0, "ref_prob": 0.0, "alt_prob": 0.0, "targets": ".", "distance": 0}
    row.update(info)
    return row


def _others(base: str) -> list:
    return [x for x in "ACGT" if x != base]


def _text(seq: np.ndarray) -> str:
    return _LETTERS[seq].tobytes().decode()


def _break_variants(seqs: dict, instances: dict, flips: list, motifs: dict, n_snv: int, n_del: int, rng) -> list:
    """SNVs (and 2 bp deletions) at the best column of instances whose removal changes a label."""
    candidates = np.array([i for i, f in enumerate(flips) if f], dtype=np.int64)
    chosen = rng.permutation(candidates)[:n_snv + n_del]
    rows = []
    for k, i in enumerate(chosen):
        chrom = instances["chrom"][i]
        pos, j, p_ref, p_alt, ic, alt = _instance_site(seqs, instances, int(i), motifs)
        info = {"instance": int(i), "motif": instances["motif"][i], "name": instances["name"][i],
                "motif_position": j, "ic": round(ic, 4), "ref_prob": round(p_ref, 4), "targets": ",".join(flips[i])}
        if k < n_snv:
            rows.append(_row(chrom, pos, _text(seqs[chrom][pos:pos + 1]), "ACGT"[alt], "snv", "break",
                             alt_prob=round(p_alt, 4), **info))
        else:
            ref = _text(seqs[chrom][pos - 1:pos + 2])
            rows.append(_row(chrom, pos - 1, ref, ref[0], "deletion", "break", **info))
    return rows


def _neutral_sites(seqs: dict, masked: dict, index: dict, n: int, span: int, taken: set, rng) -> list:
    """`n` positions (chrom, start) whose [start - 1, start + span + 1) is plain sequence (no N, no
    lower case) at least _NEUTRAL_DISTANCE bp from every instance."""
    chroms = list(seqs)
    weights = np.array([len(seqs[c]) for c in chroms], dtype=np.float64)
    out = []
    for _ in range(1000 * n + 1000):
        if len(out) == n:
            break
        chrom = chroms[int(rng.choice(len(chroms), p=weights / weights.sum()))]
        s = int(rng.integers(1, len(seqs[chrom]) - span - 1))
        window = slice(s - 1, s + span + 1)
        if (chrom, s) in taken or (seqs[chrom][window] > 3).any() or masked[chrom][window].any():
            continue
        if _distance(index, chrom, s - 1, s + span + 1) < _NEUTRAL_DISTANCE:
            continue
        taken.add((chrom, s))
        out.append((chrom, s))
    check(len(out) == n, "simulate: not enough room for neutral variants; use longer chromosomes")
    return out


def _neutral_variants(seqs: dict, masked: dict, index: dict, n_snv: int, rng) -> list:
    """Neutral SNVs, a 3 bp insertion, a 3 bp deletion, a multi-allelic SNV and REF mismatches."""
    taken, rows = set(), []
    sites = _neutral_sites(seqs, masked, index, n_snv + 1 + _N_MISMATCH, 1, taken, rng)
    for k, (chrom, s) in enumerate(sites):
        ref = _text(seqs[chrom][s:s + 1])
        dist = _distance(index, chrom, s, s + 1)
        if k < n_snv:
            rows.append(_row(chrom, s, ref, str(rng.choice(_others(ref))), "snv", "neutral", distance=dist))
        elif k == n_snv:
            for alt in rng.choice(_others(ref), size=2, replace=False):
                rows.append(_row(chrom, s, ref, str(alt), "snv", "neutral", distance=dist))
        else:
            wrong = str(rng.choice(_others(ref)))
            rows.append(_row(chrom, s, wrong, str(rng.choice(_others(wrong))), "snv", "ref_mismatch",
                             ref_match=0, distance=dist))
    (c1, s1), (c2, s2) = _neutral_sites(seqs, masked, index, 2, 3, taken, rng)
    anchor = _text(seqs[c1][s1 - 1:s1])
    rows.append(_row(c1, s1 - 1, anchor, anchor + _text(rng.integers(0, 4, 3)), "insertion", "neutral",
                     distance=_distance(index, c1, s1 - 1, s1)))
    rows.append(_row(c2, s2 - 1, _text(seqs[c2][s2 - 1:s2 + 3]), _text(seqs[c2][s2 - 1:s2]), "deletion", "neutral",
                     distance=_distance(index, c2, s2 - 1, s2 + 3)))
    return rows


def _variant_table(rows: list, order: dict) -> dict:
    """Sort the rows (chromosome order, POS), give each VCF record an ID, return columns."""
    rows = sorted(rows, key=lambda r: (order[r["chrom"]], r["pos"], r["ref"], r["alt"]))
    ids, last, k = [], None, 0
    for r in rows:
        key = (r["chrom"], r["pos"], r["ref"])
        k += key != last
        last = key
        ids.append(f"sv{k:04d}")
    cols = {"id": np.array(ids, dtype=object)}
    for c in _VARIANT_COLUMNS[1:]:
        vals = [r[c] for r in rows]
        cols[c] = np.array(vals, dtype=np.int64 if c in _INT_COLUMNS else np.float64 if c in _FLOAT_COLUMNS else object)
    return cols


# ---------------------------------------------------------------------------------------------
# the whole simulation
# ---------------------------------------------------------------------------------------------
def _check_args(n_chroms, chrom_length, n_variants) -> None:
    check(isinstance(n_chroms, (int, np.integer)) and 1 <= n_chroms <= 100,
          f"chroms: must be a whole number from 1 to 100, got {n_chroms!r}")
    check(isinstance(chrom_length, (int, np.integer)) and chrom_length >= 40_000,
          f"chrom-length: must be at least 40000 bp (room for N runs, artefacts and regions), got {chrom_length!r}")
    check(isinstance(n_variants, (int, np.integer)) and n_variants >= 2,
          f"n-variants: must be a whole number >= 2, got {n_variants!r}")


def simulate_genome(n_chroms: int = 5, chrom_length: int = 400_000, motifs=None, n_variants: int = 200,
                    seed: int = 0) -> GenomeSimulation:
    """Simulate a small genome with planted motif instances, peaks and variants of known effect.

    Parameters
    ----------
    n_chroms : int
        Number of chromosomes (``chr1..chrK``). Default is 5.
    chrom_length : int
        Length of chr1 in bp (at least 40000); the others fall linearly to half of it.
        Default is 400000 (1.5 Mb in all with 5 chromosomes).
    motifs : str or list of Motif
        The motifs to plant, as :func:`motifq.data.simulate.simulate` takes them.
        Default is None: :data:`motifq.data.simulate.DEFAULT_MOTIFS`.
    n_variants : int
        Number of SNVs: half ``break`` (fewer when fewer instances qualify), the rest ``neutral``;
        the indels, the multi-allelic record and the REF mismatches come on top. Default is 200.
    seed : int
        Seed; the same seed and arguments give identical files. Default is 0.

    Returns
    -------
    GenomeSimulation
        Sequences as (L,) uint8 tokens (A, C, G, T, N = 0..4) per chromosome, and the truth.
    """
    _check_args(n_chroms, chrom_length, n_variants)
    lengths = chrom_lengths(int(n_chroms), int(chrom_length))
    order = {c: i for i, c in enumerate(lengths)}
    bg_rng, peak_rng, var_rng = (np.random.default_rng(s) for s in np.random.SeedSequence([int(seed), 1801]).spawn(3))
    seqs, masked, blacklist, free = _background(lengths, bg_rng)
    slots = _region_slots(free, bg_rng)
    check(len(slots) > 0, "simulate: no room for regions; use longer chromosomes")
    tokens, labels, inst, sim = _region_sequences(len(slots), motifs, int(seed))
    rules = sim.rules["targets"]
    regions, instances = _place_regions(seqs, slots, tokens, labels, inst, rules)
    peaks = _make_peaks(rules, regions, labels, instances, blacklist, free, order, peak_rng)
    regions = _with_artefacts(regions, blacklist, [r["name"] for r in rules])
    motif_by_id = {m.id: m for m in sim.motifs}
    flips = _flipped_targets(instances, labels, rules)
    index = _distance_index(instances, lengths)
    n_break = min(n_variants // 2, sum(1 for f in flips if f) - _N_BREAK_DELETIONS)
    rows = _break_variants(seqs, instances, flips, motif_by_id, max(n_break, 0), _N_BREAK_DELETIONS, var_rng)
    rows += _neutral_variants(seqs, masked, index, n_variants - max(n_break, 0), var_rng)
    info = _rules_json(sim.rules, lengths, seed, blacklist)
    return GenomeSimulation(seqs, masked, regions, instances, peaks, blacklist, _variant_table(rows, order),
                            sim.motifs, info)


def _with_artefacts(regions: dict, blacklist: list, targets: list) -> dict:
    """Append the artefact regions (peaks of every target) to the region table."""
    k = len(regions["region"])
    extra = {"region": np.arange(k, k + len(blacklist)), "chrom": np.array([b[0] for b in blacklist], dtype=object),
             "start": np.array([b[1] for b in blacklist], dtype=np.int64),
             "end": np.array([b[2] for b in blacklist], dtype=np.int64),
             "kind": np.full(len(blacklist), "artefact", dtype=object),
             "n_instances": np.zeros(len(blacklist), dtype=np.int64),
             "targets": np.full(len(blacklist), ",".join(targets), dtype=object)}
    return {c: np.concatenate([regions[c], extra[c]]) for c in _REGION_COLUMNS}


def _rules_json(rules: dict, lengths: dict, seed: int, blacklist: list) -> dict:
    info = dict(rules)
    info.update({
        "format": GENOME_FORMAT, "version": 1, "seed": int(seed), "chroms": lengths,
        "genome": {"region_length": _REGION_LENGTH, "region_gap": list(_REGION_GAP), "telomere_n": _TELOMERE,
                   "chr1_mid_gap_n": _MID_GAP, "artefact_unit": _ARTEFACT_UNIT, "artefacts": [list(b) for b in blacklist],
                   "peak_jitter": _PEAK_JITTER, "noise_peaks_per_region": 0.03,
                   "neutral_min_distance": _NEUTRAL_DISTANCE},
        "coordinates": "BED, narrowPeak and TSV files: 0-based, end excluded; VCF and the pos column: 1-based",
    })
    info.pop("length", None)
    return info


# ---------------------------------------------------------------------------------------------
# files
# ---------------------------------------------------------------------------------------------
def _write_fasta(path: Path, seqs: dict, masked: dict) -> None:
    with open(path, "wb") as fh:
        for chrom, seq in seqs.items():
            letters = _LETTERS[seq]
            letters[masked[chrom]] += 32                      # lower case
            fh.write(f">{chrom}\n".encode())
            fh.write(b"\n".join(letters[i:i + _LINE].tobytes() for i in range(0, len(letters), _LINE)) + b"\n")


def _write_tsv(path: Path, cols: dict, columns) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("\t".join(columns) + "\n")
        fh.writelines("\t".join(str(v) for v in row) + "\n" for row in zip(*(cols[c] for c in columns)))


def _write_peaks(folder: Path, peaks: dict) -> None:
    (folder / "peaks").mkdir()
    with open(folder / "peaks.tsv", "w", encoding="utf-8") as table:
        for target, p in peaks.items():
            table.write(f"{target}\tpeaks/{target}.narrowPeak\n")
            with open(folder / "peaks" / f"{target}.narrowPeak", "w", encoding="utf-8") as fh:
                for i, (c, s, e, m, x) in enumerate(zip(p["chrom"], p["start"], p["end"], p["summit"], p["signal"])):
                    fh.write(f"{c}\t{s}\t{e}\t{target}_peak{i + 1}\t{min(1000, int(x * 20))}\t.\t{x:.3f}\t"
                             f"{1.5 * x:.3f}\t{1.2 * x:.3f}\t{m}\n")


def _write_vcf(folder: Path, variants: dict, lengths: dict, seed: int) -> None:
    import pysam

    plain = folder / "variants.vcf"
    with open(plain, "w", encoding="utf-8") as fh:
        fh.write("##fileformat=VCFv4.2\n")
        fh.write(f"##source=motifq simulate --genome --seed {seed}\n##reference=genome.fa\n")
        fh.writelines(f"##contig=<ID={c},length={n}>\n" for c, n in lengths.items())
        fh.write("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
        v, i = variants, 0
        while i < len(v["id"]):
            k = i
            while k + 1 < len(v["id"]) and v["id"][k + 1] == v["id"][i]:
                k += 1
            alts = ",".join(v["alt"][i:k + 1])
            fh.write(f"{v['chrom'][i]}\t{v['pos'][i]}\t{v['id'][i]}\t{v['ref'][i]}\t{alts}\t.\tPASS\t.\n")
            i = k + 1
    pysam.tabix_compress(str(plain), str(folder / "variants.vcf.gz"), force=True)
    pysam.tabix_index(str(folder / "variants.vcf.gz"), preset="vcf", force=True)


def is_genome_simulation(path) -> bool:
    """True when `path` is a folder written by :func:`write_genome_simulation`."""
    try:
        return json.loads((Path(path) / "truth" / "rules.json").read_text()).get("format") == GENOME_FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def write_genome_simulation(sim: GenomeSimulation, path) -> Path:
    """Write a simulated genome folder (layout in the module docstring), atomically.

    Parameters
    ----------
    sim : GenomeSimulation
        From :func:`simulate_genome`.
    path : str or os.PathLike
        The folder; it must not exist, be empty, or hold an earlier genome simulation (replaced).

    Returns
    -------
    pathlib.Path
        The folder.
    """
    import pysam

    from ..formats import write_meme

    with atomic_folder(path, replaceable=is_genome_simulation) as tmp:
        _write_fasta(tmp / "genome.fa", sim.sequences, sim.masked)
        pysam.faidx(str(tmp / "genome.fa"))
        _write_peaks(tmp, sim.peaks)
        with open(tmp / "blacklist.bed", "w", encoding="utf-8") as fh:
            fh.writelines(f"{c}\t{s}\t{e}\n" for c, s, e in sim.blacklist)
        _write_vcf(tmp, sim.variants, sim.rules["chroms"], sim.rules["seed"])
        (tmp / "truth").mkdir()
        write_meme(tmp / "truth" / "motifs.meme", sim.motifs)
        _write_tsv(tmp / "truth" / "regions.tsv", sim.regions, _REGION_COLUMNS)
        _write_tsv(tmp / "truth" / "instances.tsv", sim.instances, _INSTANCE_COLUMNS)
        _write_tsv(tmp / "truth" / "variants_truth.tsv", sim.variants, _VARIANT_COLUMNS)
        with atomic_write(tmp / "truth" / "rules.json") as fh:
            json.dump(sim.rules, fh, indent=1)
    return Path(path)


def simulate_genome_folder(path, n_chroms: int = 5, chrom_length: int = 400_000, motifs=None,
                           n_variants: int = 200, seed: int = 0) -> Path:
    """:func:`simulate_genome` then :func:`write_genome_simulation`.

    Parameters
    ----------
    path : str or os.PathLike
        Output folder.
    n_chroms : int
        Number of chromosomes. Default is 5.
    chrom_length : int
        Length of chr1 in bp. Default is 400000.
    motifs : str or list of Motif
        See :func:`simulate_genome`. Default is None.
    n_variants : int
        Number of SNVs. Default is 200.
    seed : int
        Seed. Default is 0.

    Returns
    -------
    pathlib.Path
        The folder.
    """
    from .genome import check_output_folder

    check_output_folder(path, is_genome_simulation)
    sim = simulate_genome(n_chroms, chrom_length, motifs, n_variants, seed)
    return write_genome_simulation(sim, path)


def _read_tsv(path: Path, columns) -> dict:
    lines = path.read_text(encoding="utf-8").splitlines()
    check(lines and lines[0].split("\t") == list(columns), f"{path}: header must be {' '.join(columns)}")
    rows = [ln.split("\t") for ln in lines[1:] if ln]
    cols = list(zip(*rows)) if rows else [()] * len(columns)
    out = {}
    for c, vals in zip(columns, cols):
        dtype = np.int64 if c in _INT_COLUMNS else np.float64 if c in _FLOAT_COLUMNS else object
        out[c] = np.array(vals, dtype=dtype)
    return out


def read_genome_truth(path) -> tuple[list, dict, dict, dict, dict]:
    """Read a simulated genome's ground truth.

    Parameters
    ----------
    path : str or os.PathLike
        The folder written by :func:`write_genome_simulation` (or its ``truth/``).

    Returns
    -------
    motifs : list of Motif
        The planted motifs, A, C, G, T.
    rules : dict
        ``rules.json``.
    regions, instances, variants : dict of str -> numpy.ndarray
        The columns of ``regions.tsv``, ``instances.tsv``, ``variants_truth.tsv`` (integer
        columns as int64, ``ic``/``ref_prob``/``alt_prob`` as float64, the rest as str objects).
    """
    from ..formats import read_meme

    folder = Path(path)
    if (folder / "truth").is_dir():
        folder = folder / "truth"
    for f in ("motifs.meme", "rules.json", "regions.tsv", "instances.tsv", "variants_truth.tsv"):
        check((folder / f).is_file(), f"{folder / f}: missing (not a motifq genome simulation?)")
    try:
        rules = json.loads((folder / "rules.json").read_text())
    except json.JSONDecodeError as exc:
        raise MotifqError(f"{folder / 'rules.json'}: not valid JSON ({exc})") from None
    return (read_meme(folder / "motifs.meme"), rules, _read_tsv(folder / "regions.tsv", _REGION_COLUMNS),
            _read_tsv(folder / "instances.tsv", _INSTANCE_COLUMNS),
            _read_tsv(folder / "variants_truth.tsv", _VARIANT_COLUMNS))
