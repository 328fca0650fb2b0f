"""build-dataset: labels equal a per-base brute-force computation of DeepSEA's rule, BED
coordinates are 0-based half-open, samples come in genome order, GC-matched negatives follow the
positives' GC, bad input is one line and no output, and the dataset trains."""
import gzip
import re
from pathlib import Path

import numpy as np
import pysam
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from motifq.cli import main
from motifq.data import open_data
from motifq.data.build import DatasetOptions, build_dataset
from motifq.data.genome import bin_coverage, merge_intervals, peak_files, read_intervals, read_peaks_table
from motifq.data.simulate_genome import simulate_genome_folder
from motifq.errors import MotifqError

TOKEN = {b: i for i, b in enumerate("ACGT")}


# ---------------------------------------------------------------------------------------------
# helpers: tiny genomes written in the test, and the rule by brute force
# ---------------------------------------------------------------------------------------------
def _genome(path, seqs):
    """Write {name: str} as a FASTA with a .fai index."""
    path.write_text("".join(f">{c}\n" + "\n".join(s[i:i + 60] for i in range(0, len(s), 60)) + "\n" for c, s in seqs.items()))
    pysam.faidx(str(path))
    return path


def _bed(path, rows):
    path.write_text("".join("\t".join(str(x) for x in r) + "\n" for r in rows))
    return path


def _plain_intervals(path):
    """Peaks read with a plain loop (no library code): {chrom: [(start, end), ...]}."""
    out = {}
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt") as fh:
        for line in fh:
            f = line.split()
            if len(f) >= 3 and not line.startswith(("track", "browser", "#")):
                out.setdefault(f[0], []).append((int(f[1]), int(f[2])))
    return out


def _brute_force(genome, files, o):
    """Samples and labels by per-base coverage arrays: {split: (regions, labels, windows)}."""
    fa = pysam.FastaFile(str(genome))
    peaks = [_plain_intervals(f) for f in files.values()]
    black = _plain_intervals(o.blacklist) if o.blacklist else {}
    flank = (o.window - o.bin_size) // 2
    out = {}
    for chrom, n in zip(fa.references, fa.lengths):
        seq = fa.fetch(chrom).upper()
        cov = np.zeros((len(peaks), n), dtype=bool)
        for t, p in enumerate(peaks):
            for s, e in p.get(chrom, []):
                cov[t, s:e] = True
        bl = np.zeros(n, dtype=bool)
        for s, e in black.get(chrom, []):
            bl[s:e] = True
        split = "valid" if chrom in o.valid else "test" if chrom in o.test else "train"
        for k in range(n // o.bin_size):
            b0, b1 = k * o.bin_size, (k + 1) * o.bin_size
            w0, w1 = b0 - flank, b1 + flank
            covered = cov[:, b0:b1].sum(axis=1)
            if not o.all_bins and not covered.any():
                continue
            if w0 < 0 or w1 > n or bl[w0:w1].any() or seq[w0:w1].count("N") > o.max_n * o.window:
                continue
            regions, labels, windows = out.setdefault(split, ([], [], []))
            regions.append((chrom, b0, b1))
            labels.append((covered >= o.min_overlap * o.bin_size).astype(np.uint8))
            windows.append(seq[w0:w1])
    return out


def _regions(path):
    return [(r[0], int(r[1]), int(r[2])) for r in (ln.split("\t") for ln in path.read_text().splitlines())]


def _tokens_text(tokens):
    return ["".join("ACGTN"[t] for t in row) for row in tokens]


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    path = tmp_path_factory.mktemp("g") / "sim"
    simulate_genome_folder(path, n_chroms=3, chrom_length=60_000, n_variants=10, seed=5)
    return path


# ---------------------------------------------------------------------------------------------
# the rule
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("opts", [
    dict(),
    dict(bin_size=100, window=500, min_overlap=0.3, max_n=0.0),
    dict(all_bins=True, min_overlap=1.0, max_n=0.5),
])
def test_labels_equal_brute_force_on_simulated_genome(sim, tmp_path, opts):
    o = DatasetOptions(valid=["chr2"], test=["chr3"], blacklist=str(sim / "blacklist.bed"), **opts)
    files = peak_files(table=sim / "peaks.tsv")
    out = build_dataset(sim / "genome.fa", files, tmp_path / "ds", o, progress=False)
    expect = _brute_force(sim / "genome.fa", files, o)
    assert set(out.samples) == set(expect) == {"train", "valid", "test"}
    for split, (regions, labels, windows) in expect.items():
        data = open_data(tmp_path / "ds", split)
        assert _regions(tmp_path / "ds" / f"{split}.regions.bed") == regions
        np.testing.assert_array_equal(data.labels(), np.array(labels))
        assert _tokens_text(np.asarray(data.tokens)) == windows
        np.testing.assert_array_equal(out.positives[split], np.array(labels).sum(axis=0))
    assert data.targets == list(files) and out.dropped["blacklist"] > 0


def test_peak_files_and_table(tmp_path):
    (tmp_path / "sub").mkdir()
    table = tmp_path / "sub" / "t.tsv"
    table.write_text("# name\tpath\nCTCF\tctcf.bed\n\nREST\t/abs/rest.narrowPeak.gz\n")
    assert read_peaks_table(table) == {"CTCF": tmp_path / "sub" / "ctcf.bed", "REST": Path("/abs/rest.narrowPeak.gz")}
    assert list(peak_files(["a/CTCF.narrowPeak.gz", "b/GM12878.DNase.bed"])) == ["CTCF", "GM12878.DNase"]
    with pytest.raises(MotifqError, match="already named"):
        peak_files(["a/x.bed", "b/x.bed.gz"])
    table.write_text("CTCF ctcf.bed\n")
    with pytest.raises(MotifqError, match="line 1: expected name<TAB>path"):
        read_peaks_table(table)


def test_bed_is_zero_based_half_open(tmp_path):
    """[100, 200) is exactly bin 1 of 100 bp; [199, 200) touches bin 1 only; [150, 250) covers
    half of bins 1 and 2; an empty interval touches nothing; duplicates count once."""
    bins, cov = bin_coverage(*merge_intervals([100], [200]), 100)
    assert bins.tolist() == [1] and cov.tolist() == [100]
    bins, cov = bin_coverage(*merge_intervals([199], [200]), 100)
    assert bins.tolist() == [1] and cov.tolist() == [1]
    bins, cov = bin_coverage(*merge_intervals([150], [250]), 100)
    assert bins.tolist() == [1, 2] and cov.tolist() == [50, 50]
    assert merge_intervals([300], [300])[0].size == 0
    assert [x.tolist() for x in merge_intervals([100, 100, 150, 170], [160, 160, 170, 180])] == [[100], [180]]
    genome = _genome(tmp_path / "g.fa", {"chr1": "ACGT" * 250})
    peaks = {"half": _bed(tmp_path / "half.bed", [("chr1", 150, 250)]),
             "dup": _bed(tmp_path / "dup.bed", [("chr1", 400, 460), ("chr1", 400, 460)]),
             "exact": _bed(tmp_path / "exact.bed", [("chr1", 600, 700)])}
    o = dict(bin_size=100, window=100, valid=[], test=[], chroms=".*")
    for m, expect in ((0.5, [[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]]),
                      (0.51, [[0, 0, 0], [0, 0, 0], [0, 1, 0], [0, 0, 1]]),
                      (0.7, [[0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 1]])):   # counted twice, 120 bp would pass
        build_dataset(genome, peaks, tmp_path / "ds", DatasetOptions(min_overlap=m, **o), progress=False)
        assert _regions(tmp_path / "ds" / "train.regions.bed") == [("chr1", 100, 200), ("chr1", 200, 300),
                                                                    ("chr1", 400, 500), ("chr1", 600, 700)]
        np.testing.assert_array_equal(open_data(tmp_path / "ds", "train").labels(), expect)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 990), st.integers(0, 60)), max_size=12), st.sampled_from([1, 7, 50, 200]))
def test_bin_coverage_equals_per_base_count(ivs, bin_size):
    pairs = sorted((s, s + w) for s, w in ivs)
    n = -(-1051 // bin_size) * bin_size                      # whole bins past every interval
    base = np.zeros(n, dtype=bool)
    for s, e in pairs:
        base[s:e] = True
    bins, cov = bin_coverage(*merge_intervals([p[0] for p in pairs], [p[1] for p in pairs]), bin_size)
    dense = base.reshape(-1, bin_size).sum(axis=1)
    touched = np.flatnonzero(dense)
    assert bins.tolist() == touched.tolist() and cov.tolist() == dense[touched].tolist()


def test_samples_in_fasta_order_with_their_windows(tmp_path):
    rng = np.random.default_rng(0)
    seqs = {c: "".join(rng.choice(list("ACGT"), n)) for c, n in (("chr2", 3000), ("chr10", 2000), ("chr1", 2500))}
    genome = _genome(tmp_path / "g.fa", seqs)
    peaks = {"a": _bed(tmp_path / "a.bed", [("chr1", 1000, 1400), ("chr10", 500, 700), ("chr2", 2500, 2600),
                                            ("chr2", 400, 700), ("chr1", 1400, 1450)])}
    build_dataset(genome, peaks, tmp_path / "ds", DatasetOptions(bin_size=200, window=600, valid=[], test=[]),
                  progress=False)
    regions = _regions(tmp_path / "ds" / "train.regions.bed")
    assert regions == [("chr2", 400, 600), ("chr2", 600, 800), ("chr2", 2400, 2600), ("chr10", 400, 600),
                       ("chr10", 600, 800), ("chr1", 1000, 1200), ("chr1", 1200, 1400), ("chr1", 1400, 1600)]
    data = open_data(tmp_path / "ds", "train")
    assert _tokens_text(np.asarray(data.tokens)) == [seqs[c][s - 200:e + 200] for c, s, e in regions]
    assert data.labels()[:, 0].tolist() == [1, 1, 1, 1, 1, 1, 1, 0]   # 100 of 200 bp is enough, 50 is not


def test_gc_matched_negatives_follow_the_positives(tmp_path):
    """Peaks sit in GC-rich stretches; GC-matched negatives have the positives' GC, plain random
    negatives the genome's."""
    rng = np.random.default_rng(1)
    gcs = np.tile([0.3, 0.4, 0.5, 0.6, 0.7], 40)                  # 200 blocks of 2 kb
    seq = "".join("".join(rng.choice(list("ACGT"), 2000, p=[(1 - g) / 2, g / 2, g / 2, (1 - g) / 2])) for g in gcs)
    genome = _genome(tmp_path / "g.fa", {"chr1": seq})
    rich = [i for i, g in enumerate(gcs) if g >= 0.6]
    peaks = {"p": _bed(tmp_path / "p.bed", [("chr1", i * 2000 + 600, i * 2000 + 1400) for i in rich])}

    def window_gc(ds, split="train"):
        return np.array([(s.count("G") + s.count("C")) / len(s) for s in _tokens_text(np.asarray(open_data(ds, split).tokens))])

    o = dict(window=400, valid=[], test=[], negatives=100, seed=3)
    build_dataset(genome, peaks, tmp_path / "m", DatasetOptions(gc_matched=True, **o), progress=False)
    build_dataset(genome, peaks, tmp_path / "r", DatasetOptions(**o), progress=False)
    for ds in ("m", "r"):
        labels = open_data(tmp_path / ds, "train").labels()[:, 0]
        assert len(labels) == (labels == 1).sum() + 100
    pos = window_gc(tmp_path / "m")[open_data(tmp_path / "m", "train").labels()[:, 0] == 1]
    neg_m = window_gc(tmp_path / "m")[open_data(tmp_path / "m", "train").labels()[:, 0] == 0]
    neg_r = window_gc(tmp_path / "r")[open_data(tmp_path / "r", "train").labels()[:, 0] == 0]
    assert abs(np.mean(neg_m) - np.mean(pos)) < 0.01 and abs(np.mean(neg_r) - np.mean(pos)) > 0.1
    grid = np.linspace(0.2, 0.8, 61)
    assert np.abs(_cdf(neg_m, grid) - _cdf(pos, grid)).max() < 0.1                  # two-sample KS distance
    regions = _regions(tmp_path / "m" / "train.regions.bed")
    assert regions == sorted(regions, key=lambda r: r[1])
    peaks_at = _plain_intervals(peaks["p"])["chr1"]
    negatives = [r for r, y in zip(regions, open_data(tmp_path / "m", "train").labels()[:, 0]) if y == 0]
    touched = [r for r in negatives if any(s < r[2] and e > r[1] for s, e in peaks_at)]
    assert len(negatives) >= 100 and len(touched) == len(negatives) - 100      # drawn ones touch no peak
    build_dataset(genome, peaks, tmp_path / "m2", DatasetOptions(gc_matched=True, **o), progress=False)
    assert (tmp_path / "m2" / "train.regions.bed").read_text() == (tmp_path / "m" / "train.regions.bed").read_text()
    build_dataset(genome, peaks, tmp_path / "m3", DatasetOptions(gc_matched=True, **{**o, "seed": 4}), progress=False)
    assert (tmp_path / "m3" / "train.regions.bed").read_text() != (tmp_path / "m" / "train.regions.bed").read_text()


def _cdf(x, at):
    return np.searchsorted(np.sort(x), at, side="right") / len(x)


def test_bgzip_genome_and_gzip_peaks_read_the_same(sim, tmp_path):
    pysam.tabix_compress(str(sim / "genome.fa"), str(tmp_path / "g.fa.gz"))
    files = peak_files(table=sim / "peaks.tsv")
    gz = {}
    for t, f in files.items():
        gz[t] = tmp_path / f"{t}.narrowPeak.gz"
        with gzip.open(gz[t], "wt") as fh:
            fh.write("track name=x\n# comment\n" + f.read_text())
    o = DatasetOptions(valid=["chr2"], test=["chr3"])
    build_dataset(sim / "genome.fa", files, tmp_path / "a", o, progress=False)
    build_dataset(tmp_path / "g.fa.gz", gz, tmp_path / "b", o, progress=False)
    for f in ("train.tokens.npy", "train.labels.npy", "test.regions.bed"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()
    spaced = _bed(tmp_path / "s.bed", [])
    spaced.write_text("browser position chr1\nchr1 10 20\nchr1  5 30 name\n")
    s, e = read_intervals(spaced, {"chr1": 100})["chr1"]
    assert s.tolist() == [5, 10] and e.tolist() == [30, 20]


# ---------------------------------------------------------------------------------------------
# bad input: one line naming file and line, exit 2, no output
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("rows, expect", [
    ([("chr1", 10, 50), ("chrZ", 10, 50)], r"p\.bed: line 2: chromosome 'chrZ' is not in the genome"),
    ([("chr1", 10, 50), ("chr1", 10, 3001)], r"p\.bed: line 2: end 3001 is past the end of chr1 \(3000 bp\)"),
    ([("chr1", 60, 50)], r"p\.bed: line 1: start 60 is after end 50"),
    ([("chr1", 10, 50), ("chr1", 10)], r"p\.bed: line 2: expected at least 3 columns"),
    ([("chr1", "10.5", 50)], r"p\.bed: line 1: start and end must be whole numbers"),
    ([("chr1", -5, 50)], r"p\.bed: line 1: start -5 is negative"),
])
def test_bad_peaks(tmp_path, capsys, rows, expect):
    genome = _genome(tmp_path / "g.fa", {"chr1": "ACGT" * 750})
    bed = _bed(tmp_path / "p.bed", rows)
    assert main(["build-dataset", "--genome", str(genome), "--peaks", str(bed), "-o", str(tmp_path / "ds"),
                 "--valid", "", "--test", "", "--window", "400"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("motifq: error: ")
    assert re.search(expect, err), err
    assert not (tmp_path / "ds").exists()


def test_bad_genome_and_options(tmp_path, capsys):
    genome = _genome(tmp_path / "g.fa", {"chr1": "ACGT" * 750, "chr2": "ACGT" * 100})
    bed = _bed(tmp_path / "p.bed", [("chr1", 10, 50)])
    with gzip.open(tmp_path / "plain.fa.gz", "wt") as fh:
        fh.write(">chr1\nACGT\n")
    cases = [
        ({"--genome": str(tmp_path / "plain.fa.gz")}, "gzip-compressed but not with bgzip"),
        ({"--window": "1000"}, "window: 1000 bp is longer than chromosome chr2"),
        ({"--valid": "chr7"}, "valid: chromosome 'chr7' is not in the genome"),
        ({"--window": "301"}, "must be even"),
        ({"--min-overlap": "0"}, "min-overlap: must be in"),
        ({"--negatives": "0", "--gc-matched": None}, "gc-matched: goes with --negatives"),
        ({"--blacklist": str(_bed(tmp_path / "b.bed", [("chrX", 1, 2)]))}, "b.bed: line 1: chromosome 'chrX'"),
        ({"--peaks": str(tmp_path / "missing.bed")}, "missing.bed: no such file"),
    ]
    for over, expect in cases:
        opts = {"--genome": str(genome), "--peaks": str(bed), "-o": str(tmp_path / "ds"), "--valid": "",
                "--test": "", "--window": "400", **over}
        args = ["build-dataset"] + [x for k, v in opts.items() for x in ([k] if v is None else [k, v])]
        assert main(args) == 2, over
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and expect in err, (over, err)
        assert not (tmp_path / "ds").exists()


def test_output_folder_is_atomic(sim, tmp_path, monkeypatch):
    import motifq.data.build as build_module

    files = peak_files(table=sim / "peaks.tsv")
    o = DatasetOptions(valid=["chr2"], test=["chr3"])
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "keep.txt").write_text("x")
    with pytest.raises(MotifqError, match="not empty"):
        build_dataset(sim / "genome.fa", files, mine, o, progress=False)

    def broken(*args):
        raise OSError("disk full")

    monkeypatch.setattr(build_module, "_write_chrom", broken)
    with pytest.raises(OSError):
        build_dataset(sim / "genome.fa", files, tmp_path / "ds", o, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]
    monkeypatch.undo()
    build_dataset(sim / "genome.fa", files, tmp_path / "ds", o, progress=False)
    build_dataset(sim / "genome.fa", files, tmp_path / "ds", DatasetOptions(valid=["chr3"], test=[]), progress=False)
    assert sorted(p.name for p in (tmp_path / "ds").iterdir()) == [
        "dataset.json", "train.labels.npy", "train.regions.bed", "train.tokens.npy",
        "valid.labels.npy", "valid.regions.bed", "valid.tokens.npy"]


def test_cli_builds_a_dataset_that_trains(sim, tmp_path, capsys):
    ds = tmp_path / "ds"
    assert main(["build-dataset", "--genome", str(sim / "genome.fa"), "--peaks-table", str(sim / "peaks.tsv"),
                 "-o", str(ds), "--valid", "chr2", "--test", "chr3", "--blacklist", str(sim / "blacklist.bed"),
                 "--negatives", "50", "--gc-matched"]) == 0
    err = capsys.readouterr().err
    assert "13 targets" in err and "50 negatives" in err and "train positive rates: CTCF" in err
    assert main(["-q", "train", "--data", str(ds), "--max-steps", "2", "--batch-size", "16", "--conv-kernels", "4",
                 "--lstm-units", "4", "--dense", "8", "--device", "cpu", "--out", str(tmp_path / "m.pt")]) == 0
    assert (tmp_path / "m.pt").is_file()


def test_help_of_the_genome_commands_loads_no_format_library():
    """`motifq --help` and the genome commands' help stay instant: pysam, pyBigWig and torch are
    imported only when a command runs."""
    import os
    import subprocess
    import sys

    code = ("import sys, motifq.cli as c\n"
            "for argv in (['--help'], ['build-dataset', '--help'], ['score-variants', '--help'],\n"
            "             ['predict', '--help'], ['simulate', '--help']):\n"
            "    try:\n        c.main(argv)\n    except SystemExit:\n        pass\n"
            "print(sorted(m for m in ('pysam', 'pyBigWig', 'torch', 'pandas', 'matplotlib') if m in sys.modules))")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert "score-variants" in out.stdout and out.stdout.strip().splitlines()[-1] == "[]"
