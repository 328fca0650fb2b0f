"""Benchmark motifq's FIMO-like scan against memelite's fimo (and MEME's fimo when given), in one run.

Workload: the 879 JASPAR 2024 CORE vertebrate motifs, both strands, against N sequences of
L bp drawn from the simulator's human-like first-order Markov background (seed 0); p <= 1e-4.

Measures, in this same run and with the same numba thread count (NUMBA_NUM_THREADS):

* warm wall time (median of --repeats calls, after one warm-up call that compiles) of
  ``motifq.scan.scan`` (the whole table, q-values included) and of ``memelite.fimo`` (its hit
  tables), and the smallest CPU time of the process over the same calls (steadier than wall
  time on a machine shared with other jobs); the ratios motifq / memelite;
* agreement with memelite: Spearman correlation of log10 p over the hits both report (same motif,
  sequence, start, strand). memelite gets the same smoothed probabilities as motifq (MEME's
  pseudocount 0.1 with nsites) and a uniform background; the two differ in the score resolution
  only (memelite bins log-odds to 0.1 bit, motifq integerises to 1000 steps per matrix as MEME);
* agreement with MEME's own FIMO code: with ``--fimo PATH``, MEME's fimo program (``--text
  --thresh 1e-4 --bfile --uniform--``); otherwise, when it is installed, pymemesuite (Python
  bindings compiled from the MEME suite's C sources: its FIMO builds the PSSM, the p-value table
  and the scan with MEME's own code). Same MEME file (pseudocount 0.1), uniform background.
  Spearman of log10 p over the common hits, goal >= 0.999; its time beside ours;
* recall of planted instances: a simulation (10,000 sequences of 300 bp, the eight default
  motifs, seed 1); an instance counts as found when its motif has a hit on its sequence, start and
  strand with p <= 1e-4. Goal recall >= 0.9 for each motif. Beside it the exact expected recall
  of any scanner that uses FIMO's method at that threshold: the probability that a sample of the
  PFM (what the simulator plants) reaches the integer score whose p-value is at most 1e-4, computed
  from the score distribution under the PFM (dynamic programming over the same integer matrix).

pymemesuite is not a motifq dependency: ``pip install pymemesuite`` beside it for that check. Its
scanning loop (its own Cython, not MEME's fimo.c) stops one window short of each sequence's end
(``range(length - width)``), so hits in the last window are MEME's fimo's and motifq's only.

Usage: PYTHONPATH=. python benchmarks/scan.py [--n 1000] [--length 1000] [--repeats 3] [--fimo PATH]
Writes benchmarks/results/scan.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from motifq.data.simulate import markov_background, simulate  # noqa: E402
from motifq.jaspar import load_bundled  # noqa: E402
from motifq._scan_kernels import _threshold_score  # noqa: E402
from motifq.motif import UNIFORM  # noqa: E402
from motifq.scan import _smoothed, build_pssm, scan  # noqa: E402
from motifq.sequence import detokenize, tokens_to_one_hot  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "scan.md"
THRESH = 1e-4
PSEUDO = 0.1


def smoothed(m, pseudocount: float = PSEUDO) -> np.ndarray:
    """(W, 4) probabilities, A, C, G, T, with MEME's `pseudocount` spread by the uniform
    background (:func:`motifq.scan._smoothed`, what the scan itself scores)."""
    return _smoothed(m.probabilities(), m.nsites, UNIFORM, pseudocount)


def run_memelite(motifs, onehot, bin_size=0.1):
    from memelite import fimo

    tables = fimo({m.id: smoothed(m).T.copy() for m in motifs}, onehot,      # memelite: (4, W)
                   threshold=THRESH, eps=0.0, bin_size=bin_size)
    import pandas as pd

    return pd.concat([t for t in tables if len(t)], ignore_index=True)


def timed(fn, repeats):
    """Median wall time, the wall times, the smallest CPU time of the process, and fn's result."""
    fn()  # warm-up: compilation, caches
    times, cpu = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return statistics.median(times), times, min(cpu), out


def keyed(df, motif, seq, start, strand, p):
    return {(a, int(b), int(c), d): float(e) for a, b, c, d, e in zip(df[motif], df[seq], df[start], df[strand], df[p])}


def spearman_logp(a: dict, b: dict):
    """Spearman of log10 p over the hits both report with p > 0 (memelite reports p = 0 at the top
    score of some short matrices), and the number of such hits."""
    from scipy.stats import spearmanr

    common = sorted(k for k in set(a) & set(b) if a[k] > 0 and b[k] > 0)
    if len(common) < 3:
        return float("nan"), len(common)
    x = np.log10(np.maximum([a[k] for k in common], 1e-300))
    y = np.log10(np.maximum([b[k] for k in common], 1e-300))
    return float(spearmanr(x, y).statistic), len(common)


def ours_keyed(hits):
    seq = hits["sequence_name"].str.replace("seq_", "", regex=False).astype(int)
    return keyed(hits.assign(seq=seq), "motif_id", "seq", "start", "strand", "p-value")


def memelite_keyed(df):
    strand = df["strand"].astype(str)
    return keyed(df.assign(start1=df["start"].astype(int) + 1, strand=strand), "motif_name", "sequence_name",
                 "start1", "strand", "p-value")


def run_meme_fimo(fimo, motifs, tokens):
    import pandas as pd

    with tempfile.TemporaryDirectory() as tmp:
        meme, fa = Path(tmp) / "motifs.meme", Path(tmp) / "seqs.fa"
        meme.write_text(_smoothed_meme(motifs, pseudocount=0.0))     # fimo applies --motif-pseudo
        fa.write_text("".join(f">{i}\n{detokenize(t)}\n" for i, t in enumerate(tokens)))
        t = time.perf_counter()
        out = subprocess.run([fimo, "--text", "--thresh", str(THRESH), "--bfile", "--uniform--",
                              "--motif-pseudo", str(PSEUDO), "--verbosity", "1",
                              str(meme), str(fa)], capture_output=True, text=True, check=True)
        dt = time.perf_counter() - t
    from io import StringIO

    df = pd.read_csv(StringIO(out.stdout), sep="\t", comment="#")
    return dt, keyed(df, "motif_id", "sequence_name", "start", "strand", "p-value")


def _smoothed_meme(motifs, pseudocount: float = PSEUDO) -> str:
    """A MEME file of the motifs, probabilities at full precision (a 6-decimal file rounds the
    smallest ones, which moves a few integer scores), with `pseudocount` already applied against
    the uniform background: with 0.1, what ``fimo --bfile --uniform-- --motif-pseudo 0.1``
    scores (pymemesuite's MotifFile would apply its pseudocount against a non-uniform background
    of its own); with 0, the plain probabilities, for fimo to smooth."""
    lines = ["MEME version 4", "", "ALPHABET= ACGT", "", "strands: + -", "",
             "Background letter frequencies", "A 0.25 C 0.25 G 0.25 T 0.25", ""]
    for m in motifs:
        probs = smoothed(m, pseudocount)
        lines += [f"MOTIF {m.id}", f"letter-probability matrix: alength= 4 w= {m.width} nsites= {m.nsites:g} E= 0"]
        lines += [" ".join(f"{v:.17g}" for v in row) for row in probs] + [""]
    return "\n".join(lines)


def _pymeme(motifs):
    """The motifs as pymemesuite reads them from :func:`_smoothed_meme`'s file (pseudocount
    already applied, so none added) and the uniform background: (list, Background), or None when
    pymemesuite is not installed."""
    try:
        from pymemesuite.common import Alphabet, Array, Background, MotifFile
    except ImportError:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        meme = Path(tmp) / "motifs.meme"
        meme.write_text(_smoothed_meme(motifs))
        meme_motifs = list(MotifFile(str(meme), pseudocount=0.0))
    return meme_motifs, Background(Alphabet.dna(), Array([0.25] * 4))


def run_pymemesuite(meme_motifs, bg, tokens):
    """MEME's FIMO through pymemesuite: (seconds, {key: p}). Its coordinates are 1-based,
    start > stop on '-'."""
    from pymemesuite.common import Sequence
    from pymemesuite.fimo import FIMO

    seqs = [Sequence(detokenize(t), name=str(i).encode()) for i, t in enumerate(tokens)]
    fimo = FIMO(both_strands=True, threshold=THRESH)
    out = {}
    t = time.perf_counter()
    for m in meme_motifs:
        for e in fimo.score_motif(m, seqs, bg).matched_elements:
            out[(m.accession.decode(), int(e.source.accession.decode()), min(e.start, e.stop), str(e.strand))] = e.pvalue
    return time.perf_counter() - t, out


def pssms_identical(motifs, meme_motifs, bg) -> tuple[int, float]:
    """How many motifs' integer matrix, scale and offset differ from MEME's (pymemesuite's
    ``build_pssm``), and the largest relative difference of the p-value tables."""
    differ, rel = 0, 0.0
    for m, x in zip(motifs, meme_motifs):
        ours = build_pssm(m.probabilities(), m.nsites, None, PSEUDO)
        theirs = x.build_pssm(bg)
        matrix = np.asarray(theirs.matrix)[:, :4].astype(np.int64)
        differ += not (np.array_equal(matrix, ours.scores) and theirs.scale == ours.scale
                       and theirs.offset == ours.offset)
        pv = np.asarray(theirs.pvalues)
        n = min(len(pv), len(ours.pvalues))
        rel = max(rel, float(np.max(np.abs(pv[:n] - ours.pvalues[:n]) / np.maximum(pv[:n], 1e-300))))
    return differ, rel


def score_pmf(scores: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """P(S = s) of the integer score S = sum_i scores[i, x_i] with x_i ~ probs[i] (position by
    position), s = 0..sum of the row maxima; scores (W, 4) int, probs (W, 4), A, C, G, T."""
    pmf = np.ones(1)
    for row, p in zip(scores, probs):
        nxt = np.zeros(len(pmf) + int(row.max()))
        for v, q in zip(row, p):
            nxt[int(v):int(v) + len(pmf)] += q * pmf
        pmf = nxt
    return pmf


def expected_recall(motif, thresh: float) -> float:
    """The probability that a sample of the motif's PFM (no pseudocount, as the simulator plants)
    scores p <= `thresh` under the scan's integer matrix (pseudocount 0.1, uniform background)."""
    probs = motif.probabilities()
    pssm = build_pssm(probs, motif.nsites, None, PSEUDO)
    cut = _threshold_score(pssm.pvalues, thresh)          # the scan's own cut: smallest score with p <= thresh
    return float(score_pmf(pssm.scores, probs)[cut:].sum())


def recall():
    """Per planted motif: instances, the fraction found under three settings, and the exact
    expected fraction at p <= 1e-4 (uniform background)."""
    sim = simulate(0, 0, 10000, length=300, seed=1)
    test, inst = sim.splits["test"], sim.instances
    settings = [("uniform", THRESH), ("sequences", THRESH), ("uniform", 1e-3)]
    found = []
    for bg, thresh in settings:
        hits = scan(sim.motifs, test.tokens, thresh=thresh, background=bg)
        seq = hits["sequence_name"].str.replace("seq_", "", regex=False).astype(int)
        found.append(set(zip(hits["motif_id"], seq, hits["start"], hits["strand"])))
    rows = []
    for m in sim.motifs:
        sel = (inst["motif"] == m.id) & (inst["split"] == "test")
        keys = list(zip([m.id] * int(sel.sum()), inst["sequence"][sel].astype(int),
                        inst["start"][sel].astype(int) + 1, inst["strand"][sel]))
        rows.append((m.id, m.name, len(keys), *[float(np.mean([k in f for k in keys])) for f in found],
                     expected_recall(m, THRESH)))
    return rows


def meme_agreement(ours: dict, seconds: float, meme: dict, who: str, motifs, tokens, t_ours: float) -> str:
    """One paragraph: MEME's hits against ours (same keys: motif, sequence, 1-based start, strand)."""
    rho, n = spearman_logp(ours, meme)
    only_ours, only_meme = set(ours) - set(meme), len(set(meme) - set(ours))
    widths = {m.id: m.width for m in motifs}
    last = sum(1 for k in only_ours if k[2] + widths[k[0]] - 1 == tokens.shape[1])
    common = set(ours) & set(meme)
    worst = max(abs(ours[k] - meme[k]) / meme[k] for k in common) if common else float("nan")
    return (f"Agreement with {who} (same matrices, pseudocount {PSEUDO}, uniform background): {len(meme)} hits, "
            f"{seconds:.2f} s (one call; motifq {t_ours:.2f} s); Spearman of log10 p over the {n} hits both report: "
            f"**{rho:.5f}** (goal >= 0.999); largest relative p-value difference {worst:.1e}. Hits only motifq "
            f"reports: {len(only_ours)}, of them {last} in the last window of a sequence; only MEME: {only_meme}.")


def fimo_version(fimo: str) -> str:
    out = subprocess.run([fimo, "--version"], capture_output=True, text=True)
    return "MEME " + (out.stdout or out.stderr).strip()


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "?"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--length", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--fimo", help="path of MEME's fimo, for the p-value agreement check")
    args = ap.parse_args(argv)

    import numba

    motifs = load_bundled("jaspar2024")
    tokens = markov_background(args.n, args.length, np.random.default_rng(0))
    onehot = tokens_to_one_hot(tokens)
    t_ours, all_ours, c_ours, hits = timed(lambda: scan(motifs, tokens, thresh=THRESH), args.repeats)
    t_ml, all_ml, c_ml, ml = timed(lambda: run_memelite(motifs, onehot), args.repeats)
    ours, theirs = ours_keyed(hits), memelite_keyed(ml)
    rho, n_common = spearman_logp(ours, theirs)
    n_zero = sum(1 for k in set(ours) & set(theirs) if theirs[k] == 0)
    diff = np.array([np.log10(ours[k] / theirs[k]) for k in set(ours) & set(theirs) if theirs[k] > 0])
    meme_lines = [meme_agreement(ours, *run_meme_fimo(args.fimo, motifs, tokens), "MEME's fimo program "
                                 f"({fimo_version(args.fimo)}; its text output prints p to 3 digits)", motifs,
                                 tokens, t_ours)] if args.fimo else []
    pymeme = _pymeme(motifs)
    if pymeme:
        differ, rel = pssms_identical(motifs, *pymeme)
        meme_lines.append(meme_agreement(ours, *run_pymemesuite(*pymeme, tokens), "MEME's FIMO code through pymemesuite "
                                         f"{_version('pymemesuite')}", motifs, tokens, t_ours)
                          + f" Integer matrices, scales and offsets of all {len(motifs)} motifs: {differ} differ "
                          f"from MEME's; p-value tables: largest relative difference {rel:.1e}.")
    if not meme_lines:
        meme_lines = ["Neither MEME's fimo (`--fimo PATH`) nor pymemesuite was available on this machine: "
                      "MEME's p-values were not compared."]
    rec = recall()
    fine = run_memelite(motifs, onehot, bin_size=0.01)
    rho_fine, n_fine = spearman_logp(ours_keyed(hits), memelite_keyed(fine))
    agreement = (f"Agreement with memelite (same smoothed matrices, uniform background): Spearman of log10 p over "
                 f"the {n_common} hits both report with p > 0: **{rho:.5f}** at memelite's default resolution (log-odds "
                 f"binned to 0.1 bit); {rho_fine:.5f} over {n_fine} hits with memelite at 0.01 bit, closer to "
                 f"MEME's integer scaling (about 0.01 bit for these matrices). Median |log10 p difference| "
                 f"{np.median(np.abs(diff)):.3f}, 99th percentile {np.percentile(np.abs(diff), 99):.3f}. Left out: "
                 f"{n_zero} hits to which memelite gives p = 0 (the top score of short matrices, e.g. "
                 f"an exact 7-mer match of MA0031.2 is 4^-7 = 6.1e-5). Over hits only, the range of log p is "
                 f"narrow (1e-4 down), so rounding moves ranks more than over all windows.")
    lines = [
        "# scan: motifq against memelite's fimo (and MEME's fimo)", "",
        f"Workload: {len(motifs)} JASPAR 2024 motifs x {args.n} sequences x {args.length} bp (human-like Markov "
        f"background), both strands, p <= {THRESH:g}. numba threads: {numba.get_num_threads()}; "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores (shared). Command: "
        f"`NUMBA_NUM_THREADS={numba.get_num_threads()} PYTHONPATH=. python benchmarks/scan.py --n {args.n} --length {args.length} "
        f"--repeats {args.repeats}{' --fimo PATH' if args.fimo else ''}`.", "",
        "| tool | warm wall time (median) | runs | CPU time (smallest) | hits |", "| --- | --- | --- | --- | --- |",
        f"| motifq scan (with q-values) | {t_ours:.2f} s | {', '.join(f'{t:.2f}' for t in all_ours)} | {c_ours:.2f} s "
        f"| {len(hits)} |",
        f"| memelite fimo | {t_ml:.2f} s | {', '.join(f'{t:.2f}' for t in all_ml)} | {c_ml:.2f} s | {len(ml)} |", "",
        f"Ratio motifq / memelite: **{t_ours / t_ml:.2f}x** in wall time, **{c_ours / c_ml:.2f}x** in CPU time "
        f"(goal <= 1.0x). Both tools run one after the other in this process, so both see the same load.", "",
        agreement, "",
        *[x for line in meme_lines for x in (line, "")],
        "## Recall of planted instances (same sequence, start and strand)", "",
        "Simulation: 10,000 test sequences of 300 bp, the eight default motifs planted as samples of their "
        "PFMs, seed 1.", "",
        "| motif | name | instances | p <= 1e-4, uniform bg | expected (exact) | p <= 1e-4, bg of the sequences "
        "| p <= 1e-3, uniform bg |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        *[f"| {a} | {b} | {n} | {r1:.3f} | {e:.3f} | {r2:.3f} | {r3:.3f} |" for a, b, n, r1, r2, r3, e in rec], "",
        f"Lowest recall at p <= 1e-4: {min(r[3] for r in rec):.3f} (uniform), {min(r[4] for r in rec):.3f} "
        f"(background of the sequences); goal >= 0.9 for each motif. The expected column is the exact "
        f"probability that a PFM sample scores p <= 1e-4 with FIMO's method: no scanner using that method and "
        f"threshold can find more than that fraction on average, and the measured recall is within "
        f"{max(abs(r[3] - r[6]) for r in rec):.3f} of it for every motif.", ""]
    RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
