"""How long `motifq build-dataset` takes and how much memory it needs, extrapolated to GRCh37.

Inputs made with numpy (not the simulator): a genome shaped like GRCh37 at a smaller scale
(chr1..22, X, Y with GRCh37's relative lengths, random bases, 10 kb N telomeres and a 50 kb N gap
in each), and narrowPeak files: a pool of regulatory sites touching about 17 % of the bins
(DeepSEA's training bins were 17 % of the genome), each file taking 20 peaks per Mb (about 62,000
on GRCh37, a typical ENCODE file) from the pool, popular sites more often, with jittered ends and
widths of 150..600 bp; a blacklist of 300 regions. Runs, each a fresh `python -m motifq
build-dataset` process with the DeepSEA defaults (wall time; peak RSS = the process's VmHWM):

* baseline: a 3 Mb genome, one file (imports and fixed costs);
* 50 peak files on 100 Mb (the issue's benchmark);
* 919 peak files (DeepSEA's number of targets) on 100 Mb and on 600 Mb (a fifth of GRCh37).

Extrapolation to GRCh37 (3.1 Gb of main chromosomes, 919 files at the same density): a straight
line through the two 919-file runs (time = a + b * size, memory likewise), because every cost that
depends on the data (genome read, peaks read and labelled, samples written, memory held) grows
with the genome when the number of files is fixed, and the chromosomes grow with it.

Run: PYTHONPATH=. python benchmarks/build_dataset.py [--big-mb 600] [--keep DIR]
(writes benchmarks/results/build_dataset.md; about 10 minutes, 3 GB of disk while it runs)
"""
import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "results" / "build_dataset.md"
#: GRCh37 chr1..22, X, Y lengths (bp)
GRCH37_CHROMS = {
    "chr1": 249250621, "chr2": 243199373, "chr3": 198022430, "chr4": 191154276, "chr5": 180915260,
    "chr6": 171115067, "chr7": 159138663, "chr8": 146364022, "chr9": 141213431, "chr10": 135534747,
    "chr11": 135006516, "chr12": 133851895, "chr13": 115169878, "chr14": 107349540, "chr15": 102531392,
    "chr16": 90354753, "chr17": 81195210, "chr18": 78077248, "chr19": 59128983, "chr20": 63025520,
    "chr21": 48129895, "chr22": 51304566, "chrX": 155270560, "chrY": 59373566}
GRCH37 = sum(GRCH37_CHROMS.values())
MB = 1_000_000


def write_genome(path: Path, size: int, rng) -> dict:
    """GRCh37's chromosomes scaled to `size` bp in all: random ACGT, 10 kb N telomeres, a 50 kb N
    gap a third of the way along; FASTA (60 bp lines) + .fai."""
    import pysam

    letters = np.frombuffer(b"ACGT", dtype=np.uint8)
    lengths = {c: int(round(n * size / GRCH37)) for c, n in GRCH37_CHROMS.items()}
    with open(path, "wb") as fh:
        for chrom, n in lengths.items():
            seq = letters[rng.integers(0, 4, n, dtype=np.uint8)]
            seq[:10_000] = seq[-10_000:] = ord("N")
            seq[n // 3:n // 3 + 50_000] = ord("N")
            fh.write(f">{chrom}\n".encode())
            full = n // 60 * 60
            rows = np.hstack([seq[:full].reshape(-1, 60), np.full((full // 60, 1), ord("\n"), np.uint8)])
            fh.write(rows.tobytes())
            if n > full:
                fh.write(seq[full:].tobytes() + b"\n")
    pysam.faidx(str(path))
    return lengths


def site_pool(lengths: dict, rng, fraction: float = 0.17) -> tuple:
    """Sites (chrom index, centre) whose ~2.5-bin peaks touch about `fraction` of the bins."""
    total = sum(lengths.values())
    n = int(fraction * total / 200 / 2.5)
    sizes = np.array(list(lengths.values()), dtype=np.float64)
    chrom = rng.choice(len(lengths), size=n, p=sizes / sizes.sum())
    centre = (rng.random(n) * (sizes[chrom] - 40_000)).astype(np.int64) + 20_000
    weight = 1.0 / np.arange(1, n + 1) ** 0.5                          # some sites in many files
    return chrom, centre, weight / weight.sum()


def write_peaks(folder: Path, n_files: int, lengths: dict, pool: tuple, rng, per_mb: int = 20) -> list:
    """narrowPeak files drawn from the pool; returns their paths."""
    chrom, centre, weight = pool
    names = list(lengths)
    n = per_mb * sum(lengths.values()) // MB
    paths = []
    logw = np.log(weight)
    for f in range(n_files):
        pick = np.argpartition(-(logw + rng.gumbel(size=len(weight))), n)[:n]   # weighted draw without replacement
        mid = centre[pick] + rng.integers(-50, 51, n)
        half = rng.integers(75, 301, n)
        c, s, e = chrom[pick], mid - half, mid + half
        order = np.lexsort((s, c))
        lines = [f"{names[a]}\t{b}\t{d}\tpeak{k}\t500\t.\t10.0\t5.0\t4.0\t{(d - b) // 2}\n"
                 for k, (a, b, d) in enumerate(zip(c[order], s[order], e[order]))]
        p = folder / f"target{f:04d}.narrowPeak"
        p.write_text("".join(lines))
        paths.append(p)
    return paths


def write_blacklist(path: Path, lengths: dict, rng, n: int = 300) -> None:
    names = list(lengths)
    sizes = np.array(list(lengths.values()), dtype=np.float64)
    c = rng.choice(len(names), size=n, p=sizes / sizes.sum())
    s = (rng.random(n) * (sizes[c] - 40_000)).astype(np.int64) + 20_000
    rows = sorted(zip(c, s))
    path.write_text("".join(f"{names[a]}\t{b}\t{b + int(rng.integers(500, 5000))}\n" for a, b in rows))


# The child reports its own high-water mark (VmHWM of its address space after exec): the peak RSS
# that wait4 reports would include the parent's memory copied at fork.
_CHILD = ("import sys\nfrom motifq.cli import main\nrc = main(sys.argv[1:])\n"
          "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
          "sys.stderr.write(f'VmHWM {hwm}\\n')\nsys.exit(rc)\n")


def run(genome: Path, table: Path, blacklist: Path, out: Path) -> dict:
    """One build-dataset process: wall seconds, peak RSS (MB), samples."""
    import json

    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
    cmd = [sys.executable, "-c", _CHILD, "-q", "build-dataset", "--genome", str(genome), "--peaks-table", str(table),
           "-o", str(out), "--blacklist", str(blacklist)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    assert proc.returncode == 0, f"build-dataset failed ({proc.returncode}): {proc.stderr}"
    hwm = int(proc.stderr.split("VmHWM")[-1].split()[0])
    info = json.loads((out / "dataset.json").read_text())
    return {"wall": wall, "rss": hwm / 1024, "samples": sum(info["splits"].values()),
            "targets": len(info["targets"]), "bytes": sum(f.stat().st_size for f in out.iterdir())}


def make_case(folder: Path, size: int, n_files: list, seed: int = 0) -> tuple:
    """Genome, peaks tables (one per file count) and blacklist in `folder` (reused when a previous
    --keep run made them: the inputs are seeded, so they would be the same)."""
    tables = {k: folder / f"peaks{k}.tsv" for k in n_files}
    if (folder / "done").is_file() and all(t.is_file() for t in tables.values()):
        return folder / "genome.fa", tables, folder / "blacklist.bed"
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    lengths = write_genome(folder / "genome.fa", size, rng)
    pool = site_pool(lengths, rng)
    peaks = write_peaks(folder, max(n_files), lengths, pool, rng)
    write_blacklist(folder / "blacklist.bed", lengths, rng)
    tables = {}
    for k in n_files:
        tables[k] = folder / f"peaks{k}.tsv"
        tables[k].write_text("".join(f"{p.stem}\t{p.name}\n" for p in peaks[:k]))
    (folder / "done").write_text("")
    print(f"made {folder.name}: {sum(lengths.values()) / MB:.0f} Mb, {max(n_files)} files in {time.perf_counter() - t0:.0f} s",
          flush=True)
    return folder / "genome.fa", tables, folder / "blacklist.bed"


def report(rows: dict, n_peaks: int, big: int) -> str:
    """The results page: the runs, the straight-line fit and the GRCh37 estimate."""
    a, b = rows["919@100"], rows[f"919@{big}"]
    per_mb_t = (b["wall"] - a["wall"]) / (big - 100)
    per_mb_m = (b["rss"] - a["rss"]) / (big - 100)
    g = GRCH37 / MB
    t_est = b["wall"] + per_mb_t * (g - big)
    m_est = b["rss"] + per_mb_m * (g - big)
    bound_t = g / big * b["wall"]
    bound_m = rows["baseline"]["rss"] + g / big * (b["rss"] - rows["baseline"]["rss"])
    lines = [
        "# build-dataset: time and memory", "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs shared with other jobs while measured, "
        f"Python {platform.python_version()}, numpy {np.__version__}; one thread. "
        f"Command: `PYTHONPATH=. python benchmarks/build_dataset.py --big-mb {big}`. Each build is a fresh "
        "`motifq -q build-dataset --genome G --peaks-table T --blacklist B -o D` process with the DeepSEA defaults "
        "(bins 200, windows 1000, min-overlap 0.5, bins touched by a peak, valid chr7, test chr8 and chr9); peak "
        "RSS is the process's VmHWM. Genome: GRCh37's 24 chromosomes scaled down, random bases. Peak files: 20 "
        f"narrowPeak peaks per Mb each ({n_peaks:,} per file on 100 Mb, about 62,000 on GRCh37) drawn from a pool "
        "of sites touching about 17 % of the bins, so the samples are about a fifth of the bins as in DeepSEA's "
        "training set.", "",
        "| run | genome | peak files | samples | dataset size | wall time | peak RSS |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in rows.items():
        size = "3 Mb" if name == "baseline" else name.split("@")[1] + " Mb"
        lines.append(f"| {name} | {size} | {r['targets']} | {r['samples']:,} | {r['bytes'] / MB:,.0f} MB | "
                     f"{r['wall']:.1f} s | {r['rss']:.0f} MB |")
    lines += [
        "", "## Extrapolated to GRCh37 with 919 peak files", "",
        f"A straight line through the two 919-file runs: {per_mb_t:.3f} s and {per_mb_m:.3f} MB of peak RSS per Mb "
        f"of genome. For GRCh37's main chromosomes ({g:,.0f} Mb): time = {b['wall']:.0f} s + {per_mb_t:.3f} s x "
        f"{g - big:,.0f} = **{t_est / 60:.1f} min** (goal <= 30 min); memory = {b['rss']:.0f} MB + "
        f"{per_mb_m:.3f} MB x {g - big:,.0f} = **{m_est / 1024:.2f} GB** (goal <= 4 GB). A cruder upper bound that "
        f"lets every cost of the {big} Mb run grow {g / big:.1f}-fold, fixed ones included: {bound_t / 60:.1f} min "
        f"and {bound_m / 1024:.2f} GB (baseline RSS + {g / big:.1f} x the rest). The output would be about "
        f"{b['bytes'] * g / big / 1e9:.1f} GB ({b['samples'] * g / big / 1e6:.1f} M samples of 1000 bp + 115 label "
        "bytes each). The machine was shared with other jobs, so the times are upper bounds of what it does alone.",
        "", "What the memory holds: the merged peaks of every file as int32 pairs (8 bytes a peak: "
        f"{919 * n_peaks * g / 100 * 8 / 1e9:.2f} GB for 919 x {n_peaks * g / 100 / 1000:.0f}k peaks on GRCh37), the "
        "chosen bins (8 bytes each), per chromosome two bin masks and its samples' packed labels, and one 4 Mb piece "
        "of sequence with its cumulative sums. The genome is never loaded whole; tokens and labels stream to disk.",
    ]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keep", help="folder for the generated inputs and outputs, reused (default: a temporary one)")
    ap.add_argument("--big-mb", type=int, default=600, help="genome size of the second 919-file run (default: 600)")
    args = ap.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="motifq-bench-"))
    big = args.big_mb
    try:
        cases = {"small": make_case(work / "small", 3 * MB, [1], seed=1),
                 "100": make_case(work / "g100", 100 * MB, [50, 919], seed=0),
                 "big": make_case(work / f"g{big}", big * MB, [919], seed=3)}
        runs = {"baseline": ("small", 1), "50@100": ("100", 50), "919@100": ("100", 919), f"919@{big}": ("big", 919)}
        rows = {}
        for name, (case, k) in runs.items():
            genome, tables, blacklist = cases[case]
            rows[name] = run(genome, tables[k], blacklist, work / "out")
            shutil.rmtree(work / "out")
            print(name, rows[name], flush=True)
        n_peaks = len((work / "g100" / "target0000.narrowPeak").read_text().splitlines())
        OUT.write_text(report(rows, n_peaks, big))
        print(OUT.read_text())
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
