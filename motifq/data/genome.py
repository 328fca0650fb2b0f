"""From a genome and peak files to a training set, as DeepSEA built its own (Zhou & Troyanskaya 2015).

``motifq build-dataset --genome GENOME.fa --peaks A.narrowPeak B.bed.gz ... -o DATASET``

The rule (DeepSEA's)
    The genome is cut into non-overlapping bins of ``bin_size`` bp from the start of each
    chromosome (``[k * bin, (k + 1) * bin)``; a last partial bin is left out). A bin is
    **positive** for a target when that target's peaks cover at least ``min_overlap`` of it
    (``covered bases >= min_overlap * bin``), after the target's overlapping (or touching) peaks are
    merged, so a peak written twice, or two overlapping peaks, count their shared bases once.
    The model's input for a bin is the ``window`` bp centred on it
    (``[k * bin - (window - bin) / 2, (k + 1) * bin + (window - bin) / 2)``).

Which bins become samples
    By default every bin that at least one peak of any target touches (at least 1 bp), which is
    DeepSEA's choice of "bins with a binding event" widened to the peaks' edges (a bin a peak only
    grazes is kept as a negative for that target); ``all_bins`` takes every bin. Dropped: bins
    whose window runs off the chromosome, windows that overlap a ``blacklist`` interval, and
    windows with more than ``max_n`` of ``N``. Optional ``negatives``: that many bins that no peak
    touches (passing the same filters), drawn at random with ``seed``, or with ``gc_matched`` so
    that their window GC content follows the positives' (bins positive for at least one target)
    in 1 % GC classes; a class with too few candidates gives all it has.

Splits
    Whole chromosomes: ``valid`` and ``test`` name held-out chromosomes (DeepSEA: chr7 for
    validation, chr8 and chr9 for test), every other selected chromosome is ``train``. Chromosomes
    used are those whose name matches the ``chroms`` regular expression (default: the main
    chromosomes, ``chr1..22, X, Y`` with or without ``chr``). Samples of a split are in genome order
    (FASTA order of chromosomes, then position); ``<split>.regions.bed`` gives each sample's bin in
    that order (0-based, end excluded).

Inputs
    The genome: FASTA, plain or bgzip-compressed, read through its ``samtools faidx`` index
    (``.fai``, built beside it if missing; ``.gzi`` too for bgzip) one region at a time, never
    whole. Peaks: BED3 or more columns (BED6, narrowPeak, broadPeak: only chrom, start, end are
    read), plain or gzip-compressed; ``track``, ``browser`` and ``#`` lines at the top are skipped.
    Every problem (a chromosome absent from the genome, an end past the chromosome, start > end,
    fewer than three columns, a non-integer coordinate, a gzip genome that is not bgzip, a window
    longer than a chromosome) is one line naming the file and line, found before any heavy work.

Work and memory
    Three streaming passes over the selected chromosomes: (1) window GC and ``N`` counts of every
    bin, reading the genome in 4 Mb pieces; (2) labels from the merged peaks with integer interval
    arithmetic (no per-base arrays) and the choice of samples; (3) the windows' tokens and the
    bit-packed labels, written straight into the dataset's ``.npy`` files. Memory: the merged
    peaks (8 bytes a peak), 4 bytes a bin for the GC and N counts, and one 4 Mb piece of
    sequence at a time. The folder is built beside the output and renamed into place.
"""
from __future__ import annotations

import contextlib
import gzip
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import MotifqError, check, check_file
from ..sequence import tokenize
from .dataset import FORMAT, SPLITS, is_dataset

__all__ = ["atomic_folder", "check_output_folder", "DatasetOptions", "BuildSummary", "open_genome",
           "genome_lengths", "read_intervals", "merge_intervals", "bin_coverage", "read_peaks_table",
           "peak_files", "build_dataset", "MAIN_CHROMS"]

#: Default ``chroms``: the main human chromosomes, with or without the ``chr`` prefix.
MAIN_CHROMS = r"(chr)?([0-9]+|X|Y)"

_PIECE = 4_000_000
_GC_CLASSES = 100
_HEADER = ("track", "browser", "#")


def check_output_folder(path, replaceable=None) -> Path:
    """Check that a folder can be written as a whole (before any heavy work).

    Parameters
    ----------
    path : str or os.PathLike
        The folder to create.
    replaceable : callable or None
        ``replaceable(path) -> bool``: True when an existing non-empty folder at `path` is an
        earlier output of the same kind and may be replaced. Default is None: never.

    Returns
    -------
    pathlib.Path
    """
    final = Path(path)
    check(not final.is_symlink(), f"{final}: is a symbolic link; not writing through it")
    if final.exists():
        check(final.is_dir(), f"{final}: exists and is not a folder")
        empty = not any(final.iterdir())
        check(empty or (replaceable is not None and replaceable(final)),
              f"{final}: exists, is not empty and is not an earlier output of this command; choose another folder")
    return final


@contextlib.contextmanager
def atomic_folder(path, replaceable=None):
    """Yield a temporary folder beside `path`; rename it onto `path` only if the block succeeds.

    The folder appears whole or not at all: a failure (or an interrupt) inside the block removes
    the temporary folder. An existing empty folder, or one that `replaceable` accepts, is replaced.

    Parameters
    ----------
    path : str or os.PathLike
        The final folder.
    replaceable : callable or None
        See :func:`check_output_folder`. Default is None.

    Yields
    ------
    pathlib.Path
        The temporary folder to fill (same parent, so the rename is atomic).
    """
    final = check_output_folder(path, replaceable)
    parent = final.parent if str(final.parent) else Path(".")
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=parent))
    old = None
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)
        if final.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".old", dir=parent))
            os.replace(final, old / "x")
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# the genome
# ---------------------------------------------------------------------------------------------
def _compression(path: Path) -> str:
    """``plain``, ``bgzip`` or ``gzip`` from the first bytes of a file."""
    with open(path, "rb") as fh:
        head = fh.read(18)
    if head[:2] != b"\x1f\x8b":
        return "plain"
    bgzf = len(head) >= 16 and head[3] & 4 and head[12:14] == b"BC"
    return "bgzip" if bgzf else "gzip"


def open_genome(path):
    """Open an indexed FASTA genome for random access (nothing is read until asked).

    Parameters
    ----------
    path : str or os.PathLike
        FASTA, plain or bgzip-compressed. Its ``samtools faidx`` index (``PATH.fai``, and
        ``PATH.gzi`` for bgzip) is built beside it when missing. A gzip file that is not bgzip
        has no random access and is refused.

    Returns
    -------
    pysam.FastaFile
    """
    import pysam

    p = check_file(path)
    kind = _compression(p)
    check(kind != "gzip", f"{p}: gzip-compressed but not with bgzip, so it cannot be read by region; "
                          f"recompress it (zcat {p.name} | bgzip > genome.fa.gz) or decompress it")
    needed = [Path(f"{p}.fai")] + ([Path(f"{p}.gzi")] if kind == "bgzip" else [])
    if not all(f.is_file() for f in needed):
        try:
            pysam.faidx(str(p))
        except (pysam.SamtoolsError, OSError) as exc:
            raise MotifqError(f"{p}: no .fai index and it cannot be built here ({str(exc).strip().splitlines()[-1]}); "
                              f"run samtools faidx {p.name}") from None
    try:
        return pysam.FastaFile(str(p))
    except (OSError, ValueError) as exc:
        raise MotifqError(f"{p}: not a readable indexed FASTA ({exc})") from None


def genome_lengths(fasta) -> dict:
    """Chromosome name -> length, in the order of the FASTA.

    Parameters
    ----------
    fasta : pysam.FastaFile
        From :func:`open_genome`.

    Returns
    -------
    dict of str -> int
    """
    return dict(zip(fasta.references, (int(n) for n in fasta.lengths)))


def _fetch_tokens(fasta, chrom: str, start: int, end: int) -> np.ndarray:
    """(end - start,) uint8 tokens (A, C, G, T, N = 0..4) of one region."""
    return tokenize(fasta.fetch(chrom, start, end), f"{fasta.filename.decode()}: {chrom}:{start + 1}-{end}")


# ---------------------------------------------------------------------------------------------
# intervals: BED3+, narrowPeak, broadPeak
# ---------------------------------------------------------------------------------------------
def _open_text(path: Path):
    if _compression(path) != "plain":
        return gzip.open(path, "rt", encoding="utf-8", errors="replace", newline="")
    return open(path, encoding="utf-8", errors="replace", newline="")


def _parse_slow(path: Path, lengths: dict, genome: str) -> tuple:
    """Line-by-line reading with the exact error for the first bad line."""
    chroms, starts, ends = [], [], []
    with _open_text(path) as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.rstrip("\r\n")
            if not line.strip() or line.startswith(_HEADER):
                continue
            f = line.split("\t") if "\t" in line else line.split()
            where = f"{path}: line {lineno}"
            check(len(f) >= 3, f"{where}: expected at least 3 columns (chrom, start, end), got {len(f)}")
            try:
                s, e = int(f[1]), int(f[2])
            except ValueError:
                raise MotifqError(f"{where}: start and end must be whole numbers, got {f[1]!r} {f[2]!r}") from None
            check(f[0] in lengths, f"{where}: chromosome {f[0]!r} is not in the genome {genome}")
            check(s >= 0, f"{where}: start {s} is negative")
            check(s <= e, f"{where}: start {s} is after end {e}")
            check(e <= lengths[f[0]], f"{where}: end {e} is past the end of {f[0]} ({lengths[f[0]]} bp)")
            chroms.append(f[0]), starts.append(s), ends.append(e)
    return chroms, np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64)


def _parse_fast(path: Path, lengths: dict):
    """pandas' C reader; None when anything is unusual (the slow reader then says what)."""
    import pandas as pd

    skip = 0
    with _open_text(path) as fh:
        for line in fh:
            if line.strip() and not line.startswith(_HEADER):
                break
            skip += 1
    try:
        df = pd.read_csv(path, sep="\t", header=None, usecols=[0, 1, 2], skiprows=skip, dtype={0: str},
                         compression="gzip" if _compression(path) != "plain" else None, comment=None,
                         skip_blank_lines=False, engine="c")
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError, OSError):
        return None
    if not all(np.issubdtype(df[c].dtype, np.integer) for c in (1, 2)) or df[0].isna().any():
        return None
    chroms, s, e = df[0].to_numpy(), df[1].to_numpy(np.int64), df[2].to_numpy(np.int64)
    names = pd.unique(chroms)
    if not all(n in lengths for n in names):
        return None
    limit = pd.Series(lengths)[chroms].to_numpy() if len(chroms) else np.zeros(0, np.int64)
    if (s < 0).any() or (s > e).any() or (e > limit).any():
        return None
    return chroms, s, e


def read_intervals(path, lengths: dict, genome: str = "") -> dict:
    """Read a BED3+ file (BED, narrowPeak, broadPeak; plain or gzip), checked against a genome.

    Parameters
    ----------
    path : str or os.PathLike
        The file; only the first three columns (chrom, 0-based start, end excluded) are read.
    lengths : dict of str -> int
        The genome's chromosome lengths (:func:`genome_lengths`).
    genome : str
        The genome's name for messages. Default is ``""``.

    Returns
    -------
    dict of str -> tuple of numpy.ndarray
        Chromosome -> (starts, ends), (n,) int64 each, sorted by start (then end), as written
        (not merged). Chromosomes without intervals are absent.
    """
    p = check_file(path)
    parsed = _parse_fast(p, lengths)
    if parsed is None:
        parsed = _parse_slow(p, lengths, genome)
    chroms, starts, ends = parsed
    chroms = np.asarray(chroms, dtype=object)
    out = {}
    for c in dict.fromkeys(chroms.tolist()):
        sel = chroms == c
        s, e = starts[sel], ends[sel]
        o = np.lexsort((e, s))
        out[c] = (s[o], e[o])
    return out


def merge_intervals(starts, ends) -> tuple[np.ndarray, np.ndarray]:
    """Merge overlapping or touching intervals; empty ones (start == end) are dropped.

    Parameters
    ----------
    starts, ends : (n,) int arrays
        0-based starts, ends excluded, sorted by start.

    Returns
    -------
    tuple of numpy.ndarray
        (starts, ends) of the disjoint, sorted union, (m,) int64 each.
    """
    s, e = np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)
    keep = e > s
    s, e = s[keep], e[keep]
    if len(s) == 0:
        return s, e
    run = np.maximum.accumulate(e)
    new = np.concatenate([[True], s[1:] > run[:-1]])
    first = np.flatnonzero(new)
    last = np.concatenate([first[1:], [len(s)]]) - 1
    return s[first], run[last]


def bin_coverage(starts, ends, bin_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Bases of each bin covered by disjoint intervals, for the bins they touch only.

    Bin k is ``[k * bin_size, (k + 1) * bin_size)``. An interval ``[s, e)`` touches bins
    ``s // bin_size .. (e - 1) // bin_size`` and covers ``min(e, bin end) - max(s, bin start)``
    bases of each.

    Parameters
    ----------
    starts, ends : (n,) int arrays
        Disjoint, sorted, non-empty intervals (:func:`merge_intervals`).
    bin_size : int
        Bin width in bp.

    Returns
    -------
    bins : numpy.ndarray
        (m,) int64 sorted indices of the bins touched.
    covered : numpy.ndarray
        (m,) int64 covered bases of each, 1..bin_size.
    """
    s, e = np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)
    if len(s) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    b0, b1 = s // bin_size, (e - 1) // bin_size
    counts = b1 - b0 + 1
    which = np.repeat(np.arange(len(s)), counts)
    bins = b0[which] + np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    over = np.minimum(e[which], (bins + 1) * bin_size) - np.maximum(s[which], bins * bin_size)
    first = np.flatnonzero(np.concatenate([[True], bins[1:] != bins[:-1]]))
    return bins[first], np.add.reduceat(over, first)


def read_peaks_table(path) -> dict:
    """Read a peaks table: ``name<TAB>path`` per line (``#`` lines and blank lines skipped).

    Parameters
    ----------
    path : str or os.PathLike
        The table. Relative paths are taken from the table's folder.

    Returns
    -------
    dict of str -> pathlib.Path
        Target name -> peak file, in table order.
    """
    p = check_file(path)
    out = {}
    for lineno, line in enumerate(p.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        f = line.split("\t")
        check(len(f) == 2 and f[0].strip() and f[1].strip(),
              f"{p}: line {lineno}: expected name<TAB>path, got {line[:60]!r}")
        name, file = f[0].strip(), Path(f[1].strip())
        check(name not in out, f"{p}: line {lineno}: target {name!r} named twice")
        out[name] = file if file.is_absolute() else p.parent / file
    check(len(out) > 0, f"{p}: no targets")
    return out


def peak_files(peaks=None, table=None) -> dict:
    """Target name -> peak file, from a list of files (names = file stems) or a peaks table.

    Parameters
    ----------
    peaks : list of str or os.PathLike or None
        Peak files; a target is named by its file name without ``.gz`` and the last suffix
        (``CTCF.narrowPeak.gz`` -> ``CTCF``). Default is None.
    table : str or os.PathLike or None
        A peaks table instead (:func:`read_peaks_table`). Default is None.

    Returns
    -------
    dict of str -> pathlib.Path
    """
    check((peaks is None) != (table is None), "peaks: give either peak files or a peaks table, not both")
    if table is not None:
        return read_peaks_table(table)
    out = {}
    for f in peaks:
        p = Path(f)
        name = p.name[:-3] if p.name.endswith(".gz") else p.name
        name = name.rsplit(".", 1)[0] if "." in name else name
        check(name not in out, f"{p}: target {name!r} is already named by {out.get(name)}; use --peaks-table to name them")
        out[name] = p
    check(len(out) > 0, "peaks: no peak files")
    return out


# ---------------------------------------------------------------------------------------------
# options and the plan
# ---------------------------------------------------------------------------------------------
@dataclass
class DatasetOptions:
    """How :func:`build_dataset` cuts, labels and splits (see the module docstring).

    Parameters
    ----------
    bin_size : int
        Bin width in bp. Default is 200.
    window : int
        Input length in bp, centred on the bin; ``window - bin_size`` must be even and >= 0.
        Default is 1000.
    min_overlap : float
        Fraction of a bin a target's merged peaks must cover for a positive, in (0, 1].
        Default is 0.5.
    valid, test : list of str
        Held-out chromosomes of the validation and test splits. Default is ``["chr7"]`` and
        ``["chr8", "chr9"]``.
    blacklist : str or None
        BED file of regions whose overlapping windows are dropped. Default is None.
    all_bins : bool
        Every bin, not only those a peak touches. Default is False.
    negatives : int
        Bins no peak touches to add. Default is 0.
    gc_matched : bool
        Draw the negatives to match the positives' window GC content. Default is False.
    chroms : str
        Regular expression a chromosome name must match in full to be used.
        Default is :data:`MAIN_CHROMS`.
    max_n : float
        Largest fraction of N in a window that is kept. Default is 0.05.
    seed : int
        Seed of the negatives' draw. Default is 0.
    """

    bin_size: int = 200
    window: int = 1000
    min_overlap: float = 0.5
    valid: list = field(default_factory=lambda: ["chr7"])
    test: list = field(default_factory=lambda: ["chr8", "chr9"])
    blacklist: str | None = None
    all_bins: bool = False
    negatives: int = 0
    gc_matched: bool = False
    chroms: str = MAIN_CHROMS
    max_n: float = 0.05
    seed: int = 0


@dataclass
class BuildSummary:
    """What :func:`build_dataset` wrote.

    Parameters
    ----------
    path : pathlib.Path
        The dataset folder.
    targets : list of str
        Target names, in label order.
    samples : dict of str -> int
        Samples per split.
    positives : dict of str -> numpy.ndarray
        Per split, (T,) int64 positive count of each target.
    chroms : dict of str -> list of str
        Chromosomes of each split.
    dropped : dict of str -> int
        Candidate bins dropped: ``edge`` (window off the chromosome), ``blacklist``, ``n``.
    negatives : int
        Negatives drawn (may be fewer than asked when candidates run short).
    """

    path: Path
    targets: list
    samples: dict
    positives: dict
    chroms: dict
    dropped: dict
    negatives: int


@dataclass
class _Plan:
    """Everything the passes share: the checked inputs and the per-chromosome results."""

    genome: Path
    lengths: dict                  # selected chromosomes -> length, FASTA order
    split_of: dict                 # chromosome -> split
    targets: list
    peaks: list                    # per target: chromosome -> merged (starts, ends)
    blacklist: dict                # chromosome -> merged (starts, ends)
    options: DatasetOptions
    stats: dict = field(default_factory=dict)     # chromosome -> (gc, n) window counts per bin
    chosen: dict = field(default_factory=dict)    # chromosome -> sorted bins of the samples
    dropped: dict = field(default_factory=lambda: {"edge": 0, "blacklist": 0, "n": 0})
    n_negatives: int = 0


def _check_options(o: DatasetOptions) -> None:
    def whole(v):
        return isinstance(v, (int, np.integer)) and not isinstance(v, bool)

    check(whole(o.bin_size) and o.bin_size >= 1, f"bin: must be a whole number >= 1, got {o.bin_size!r}")
    check(whole(o.window) and o.window >= o.bin_size,
          f"window: must be a whole number >= the bin ({o.bin_size}), got {o.window!r}")
    check((o.window - o.bin_size) % 2 == 0,
          f"window: {o.window} - bin {o.bin_size} must be even so that the window is centred on the bin")
    check(0 < o.min_overlap <= 1, f"min-overlap: must be in (0, 1], got {o.min_overlap!r}")
    check(0 <= o.max_n <= 1, f"max-n: must be in [0, 1], got {o.max_n!r}")
    check(whole(o.negatives) and o.negatives >= 0, f"negatives: must be a whole number >= 0, got {o.negatives!r}")
    check(not (o.gc_matched and o.negatives == 0), "gc-matched: goes with --negatives N")
    check(not (o.all_bins and o.negatives), "negatives: --all-bins already takes every bin without peaks")
    try:
        re.compile(o.chroms)
    except re.error as exc:
        raise MotifqError(f"chroms: not a regular expression: {o.chroms!r} ({exc})") from None


def _select_chroms(lengths: dict, o: DatasetOptions, genome: str) -> tuple[dict, dict]:
    """Selected chromosome -> length, and chromosome -> split."""
    pattern = re.compile(o.chroms)
    chosen = {c: n for c, n in lengths.items() if pattern.fullmatch(c)}
    check(len(chosen) > 0, f"chroms: no chromosome of {genome} matches {o.chroms!r}")
    split_of = dict.fromkeys(chosen, "train")
    for split, names in (("valid", o.valid), ("test", o.test)):
        for c in names:
            check(c in lengths, f"{split}: chromosome {c!r} is not in the genome {genome} "
                                f"(it has {', '.join(list(lengths)[:8])}{', ...' if len(lengths) > 8 else ''})")
            check(c in chosen, f"{split}: chromosome {c!r} does not match --chroms {o.chroms!r}")
            check(split_of[c] == "train", f"{split}: chromosome {c!r} is already in the {split_of[c]} split")
            split_of[c] = split
    for c, n in chosen.items():
        check(n >= o.window, f"window: {o.window} bp is longer than chromosome {c} of {genome} ({n} bp); "
                             f"leave it out with --chroms")
    return chosen, split_of


def _read_merged(path, lengths: dict, keep: dict, genome: str) -> dict:
    """Chromosome -> merged (starts, ends) of a BED3+ file, selected chromosomes only (int32
    when the chromosomes allow, to halve the memory of many peak files)."""
    dtype = np.int32 if max(lengths.values()) < 2**31 else np.int64
    out = {}
    for c, (s, e) in read_intervals(path, lengths, genome).items():
        if c in keep:
            ms, me = merge_intervals(s, e)
            if len(ms):
                out[c] = (ms.astype(dtype), me.astype(dtype))
    return out


# ---------------------------------------------------------------------------------------------
# stage 1: which bins become samples
# ---------------------------------------------------------------------------------------------
def _window_starts(bins: np.ndarray, o: DatasetOptions) -> np.ndarray:
    return bins * o.bin_size - (o.window - o.bin_size) // 2


def _blacklisted(bins: np.ndarray, bl, o: DatasetOptions) -> np.ndarray:
    """True for the bins whose window overlaps a merged, sorted blacklist (starts, ends)."""
    if bl is None:
        return np.zeros(len(bins), dtype=bool)
    ws = _window_starts(bins, o)
    j = np.searchsorted(bl[0], ws + o.window, side="left") - 1
    return (j >= 0) & (bl[1][np.maximum(j, 0)] > ws)


def _touched(plan: _Plan, chrom: str, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted bins that any target's peaks touch, and those positive for at least one target."""
    touched, positive = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    need = plan.options.min_overlap * plan.options.bin_size
    for peaks in plan.peaks:
        if chrom in peaks:
            bins, cov = bin_coverage(*peaks[chrom], plan.options.bin_size)
            touched.append(bins)
            positive.append(bins[cov >= need])
    touched, positive = np.unique(np.concatenate(touched)), np.unique(np.concatenate(positive))
    return touched[touched < n_bins], positive[positive < n_bins]


def _pieces(bins: np.ndarray, bin_size: int):
    """Slices of sorted `bins` that fall in one _PIECE-bp stretch each."""
    piece = bins // max(1, _PIECE // bin_size)
    cuts = np.concatenate([[0], np.flatnonzero(np.diff(piece)) + 1, [len(bins)]])
    return [slice(int(a), int(b)) for a, b in zip(cuts[:-1], cuts[1:]) if b > a]


def _window_counts(fasta, chrom: str, bins: np.ndarray, o: DatasetOptions) -> tuple[np.ndarray, np.ndarray]:
    """(GC, N) base counts of the windows of sorted `bins` (all inside the chromosome), (n,) int64
    each, reading the genome one piece at a time."""
    gc, nn = np.zeros(len(bins), np.int64), np.zeros(len(bins), np.int64)
    for sl in _pieces(bins, o.bin_size):
        ws = _window_starts(bins[sl], o)
        s0 = int(ws[0])
        tok = _fetch_tokens(fasta, chrom, s0, int(ws[-1]) + o.window)
        for out, hit in ((gc, (tok == 1) | (tok == 2)), (nn, tok == 4)):
            cs = np.concatenate([[0], np.cumsum(hit, dtype=np.int64)])
            out[sl] = cs[ws - s0 + o.window] - cs[ws - s0]
    return gc, nn


def _choose_chrom(plan: _Plan, fasta, chrom: str) -> tuple:
    """Samples of one chromosome: (chosen bins, GC classes of its positive bins, negative candidate
    bins, their GC classes); counts the dropped bins."""
    o, n = plan.options, plan.lengths[chrom]
    n_bins = n // o.bin_size
    touched, positive = _touched(plan, chrom, n_bins)
    cand = np.arange(n_bins, dtype=np.int64) if o.all_bins else touched
    ws = _window_starts(cand, o)
    inside = (ws >= 0) & (ws + o.window <= n)
    plan.dropped["edge"] += int((~inside).sum())
    cand = cand[inside]
    bl = _blacklisted(cand, plan.blacklist.get(chrom), o)
    plan.dropped["blacklist"] += int(bl.sum())
    cand = cand[~bl]
    free = np.zeros(0, np.int64)
    if o.negatives:
        mask = np.ones(n_bins, dtype=bool)
        mask[touched] = False
        free = np.flatnonzero(mask)
        ws = _window_starts(free, o)
        free = free[(ws >= 0) & (ws + o.window <= n)]
        free = free[~_blacklisted(free, plan.blacklist.get(chrom), o)]
    bins = np.union1d(cand, free)
    gc, nn = _window_counts(fasta, chrom, bins, o)
    ok_n = nn <= o.max_n * o.window
    is_cand = np.isin(bins, cand, assume_unique=True)
    plan.dropped["n"] += int((is_cand & ~ok_n).sum())
    classes = np.minimum(gc * _GC_CLASSES // np.maximum(o.window - nn, 1), _GC_CLASSES - 1)
    chosen = bins[is_cand & ok_n]
    pos_classes = classes[is_cand & ok_n][np.isin(chosen, positive, assume_unique=True)]
    neg = ~is_cand & ok_n
    return chosen, pos_classes, bins[neg], classes[neg]


def _allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Split `total` into whole parts proportional to `weights` (largest remainders)."""
    exact = total * weights / weights.sum()
    out = np.floor(exact).astype(np.int64)
    extra = total - int(out.sum())
    out[np.argsort(-(exact - out), kind="stable")[:extra]] += 1
    return out


def _draw_negatives(cands: dict, pos_hist: np.ndarray, o: DatasetOptions) -> dict:
    """Chromosome -> sorted negative bins drawn from the candidates ``(bins, GC classes)``."""
    rng = np.random.default_rng(o.seed)
    chroms = list(cands)
    sizes = np.array([len(cands[c][0]) for c in chroms], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    if not o.gc_matched:
        pick = rng.choice(int(offsets[-1]), size=min(o.negatives, int(offsets[-1])), replace=False)
    else:
        check(pos_hist.sum() > 0, "gc-matched: no positive bins to match the GC content of")
        classes = np.concatenate([cands[c][1] for c in chroms]) if chroms else np.zeros(0, np.int64)
        order = np.argsort(classes, kind="stable")
        edges = np.searchsorted(classes[order], np.arange(_GC_CLASSES + 1))
        want = _allocate(o.negatives, pos_hist.astype(np.float64))
        pick = np.concatenate([np.zeros(0, np.int64)] + [
            rng.choice(order[edges[g]:edges[g + 1]], size=min(int(want[g]), int(edges[g + 1] - edges[g])), replace=False)
            for g in range(_GC_CLASSES)])
    pick = np.sort(pick)
    where = np.searchsorted(offsets, pick, side="right") - 1
    return {c: np.sort(cands[c][0][pick[where == i] - offsets[i]]) for i, c in enumerate(chroms)}


def _choose(plan: _Plan, fasta, bar) -> None:
    """Stage 1 over all chromosomes: fill ``plan.chosen`` (negatives included)."""
    cands, pos_hist = {}, np.zeros(_GC_CLASSES, dtype=np.int64)
    for chrom in plan.lengths:
        chosen, pos_classes, free, free_classes = _choose_chrom(plan, fasta, chrom)
        plan.chosen[chrom] = chosen
        pos_hist += np.bincount(pos_classes, minlength=_GC_CLASSES)
        if plan.options.negatives:
            cands[chrom] = (free, free_classes)
        bar.update(plan.lengths[chrom])
    if plan.options.negatives:
        drawn = _draw_negatives(cands, pos_hist, plan.options)
        for chrom, neg in drawn.items():
            plan.chosen[chrom] = np.union1d(plan.chosen[chrom], neg)
            plan.n_negatives += len(neg)


# ---------------------------------------------------------------------------------------------
# stage 2: tokens, labels and regions, streamed into the dataset files
# ---------------------------------------------------------------------------------------------
class _SplitFiles:
    """Open ``<split>.tokens.npy``, ``<split>.labels.npy``, ``<split>.regions.bed`` with their
    final shapes in the headers, then append rows in sample order."""

    def __init__(self, folder: Path, split: str, n: int, window: int, n_bytes: int, stack):
        self.n, self.written = n, 0
        self.tokens = stack.enter_context(open(folder / f"{split}.tokens.npy", "wb"))
        self.labels = stack.enter_context(open(folder / f"{split}.labels.npy", "wb"))
        self.regions = stack.enter_context(open(folder / f"{split}.regions.bed", "w", encoding="utf-8"))
        for fh, width in ((self.tokens, window), (self.labels, n_bytes)):
            np.lib.format.write_array_header_1_0(fh, {"descr": "|u1", "fortran_order": False, "shape": (n, width)})

    def add(self, tokens: np.ndarray, packed: np.ndarray, chrom: str, starts: np.ndarray, bin_size: int) -> None:
        self.tokens.write(np.ascontiguousarray(tokens, dtype=np.uint8).tobytes())
        self.labels.write(np.ascontiguousarray(packed, dtype=np.uint8).tobytes())
        self.regions.writelines(f"{chrom}\t{s}\t{s + bin_size}\n" for s in starts.tolist())
        self.written += len(tokens)


def _chrom_labels(plan: _Plan, chrom: str, bins: np.ndarray) -> np.ndarray:
    """(n, ceil(T / 8)) uint8 bit-packed labels (bitorder little) of sorted `bins`."""
    o = plan.options
    packed = np.zeros((len(bins), (len(plan.targets) + 7) // 8), dtype=np.uint8)
    need = o.min_overlap * o.bin_size
    for t, peaks in enumerate(plan.peaks):
        if chrom not in peaks or len(bins) == 0:
            continue
        touched, cov = bin_coverage(*peaks[chrom], o.bin_size)
        pos = touched[cov >= need]
        rows = np.minimum(np.searchsorted(bins, pos), len(bins) - 1)
        rows = rows[bins[rows] == pos]
        packed[rows, t >> 3] |= np.uint8(1 << (t & 7))
    return packed


def _write_chrom(plan: _Plan, fasta, chrom: str, out: _SplitFiles) -> np.ndarray:
    """Append one chromosome's samples; returns the (T,) positive counts."""
    o, bins = plan.options, plan.chosen[chrom]
    packed = _chrom_labels(plan, chrom, bins)
    for sl in _pieces(bins, o.bin_size):
        ws = _window_starts(bins[sl], o)
        s0 = int(ws[0])
        tok = _fetch_tokens(fasta, chrom, s0, int(ws[-1]) + o.window)
        windows = np.lib.stride_tricks.sliding_window_view(tok, o.window)[ws - s0]
        out.add(windows, packed[sl], chrom, bins[sl] * o.bin_size, o.bin_size)
    return np.unpackbits(packed, axis=1, count=len(plan.targets), bitorder="little").sum(axis=0, dtype=np.int64)


def _write(plan: _Plan, fasta, folder: Path, bar) -> tuple[dict, dict]:
    """Stage 2: every split's files; returns samples and positive counts per split."""
    o, T = plan.options, len(plan.targets)
    samples = {s: sum(len(plan.chosen[c]) for c in plan.lengths if plan.split_of[c] == s) for s in SPLITS}
    samples = {s: n for s, n in samples.items() if n > 0}
    check(len(samples) > 0, f"{plan.genome}: no bins to write (no peaks on the chosen chromosomes?)")
    positives = {s: np.zeros(T, dtype=np.int64) for s in samples}
    with contextlib.ExitStack() as stack:
        files = {s: _SplitFiles(folder, s, n, o.window, (T + 7) // 8, stack) for s, n in samples.items()}
        for chrom in plan.lengths:
            split = plan.split_of[chrom]
            if len(plan.chosen[chrom]):
                positives[split] += _write_chrom(plan, fasta, chrom, files[split])
            bar.update(plan.lengths[chrom])
        for s, f in files.items():
            assert f.written == f.n, f"{s}: wrote {f.written} samples, planned {f.n}"
    return samples, positives


def _dataset_json(plan: _Plan, folder: Path, samples: dict, files: dict) -> None:
    o = plan.options
    info = {"format": FORMAT, "version": 1, "length": o.window, "alphabet": "ACGT", "targets": plan.targets,
            "splits": samples,
            "description": f"built by motifq build-dataset from {plan.genome.name} and {len(plan.targets)} peak files: "
                           f"{o.bin_size} bp bins, {o.window} bp windows, positive at >= {o.min_overlap:g} of a bin covered",
            "genome_source": {
                "genome": str(plan.genome), "peaks": {t: str(p) for t, p in files.items()},
                "bin": o.bin_size, "window": o.window, "min_overlap": o.min_overlap, "all_bins": o.all_bins,
                "blacklist": None if o.blacklist is None else str(o.blacklist), "max_n": o.max_n,
                "negatives": o.negatives, "negatives_drawn": plan.n_negatives, "gc_matched": o.gc_matched,
                "seed": o.seed, "chroms": {s: [c for c in plan.lengths if plan.split_of[c] == s] for s in SPLITS},
                "dropped": plan.dropped, "regions": "<split>.regions.bed: each sample's bin, in sample order"}}
    with open(folder / "dataset.json", "w", encoding="utf-8") as fh:
        json.dump(info, fh, indent=1)


# ---------------------------------------------------------------------------------------------
# the whole build
# ---------------------------------------------------------------------------------------------
def _plan(genome, files: dict, options: DatasetOptions):
    """Open and check every input (nothing heavy yet); returns the plan and the open genome."""
    _check_options(options)
    for name, f in files.items():
        check_file(f)
    fasta = open_genome(genome)
    lengths_all = genome_lengths(fasta)
    lengths, split_of = _select_chroms(lengths_all, options, str(genome))
    peaks = [_read_merged(f, lengths_all, lengths, str(genome)) for f in files.values()]
    blacklist = {} if options.blacklist is None else _read_merged(options.blacklist, lengths_all, lengths, str(genome))
    return _Plan(Path(genome), lengths, split_of, list(files), peaks, blacklist, options), fasta


def build_dataset(genome, peaks: dict, output, options: DatasetOptions | None = None,
                  progress: bool = True) -> BuildSummary:
    """Build a motifq dataset from a genome and peak files (DeepSEA's rule; module docstring).

    Parameters
    ----------
    genome : str or os.PathLike
        FASTA genome, plain or bgzip, with (or given) a ``.fai`` index.
    peaks : dict of str -> str or os.PathLike
        Target name -> BED3+ peak file (:func:`peak_files` makes it); label order = dict order.
    output : str or os.PathLike
        The dataset folder to create (an existing one must be empty or a motifq dataset, which
        is replaced). Inside: ``dataset.json``, ``<split>.tokens.npy`` ((N, window) uint8 tokens,
        A, C, G, T, N = 0..4), ``<split>.labels.npy`` ((N, ceil(T / 8)) uint8, bit-packed,
        bitorder little) and ``<split>.regions.bed``.
    options : DatasetOptions or None
        Bins, windows, splits, filters, negatives. Default is None: ``DatasetOptions()``.
    progress : bool
        Show a progress bar. Default is True.

    Returns
    -------
    BuildSummary
    """
    from tqdm.auto import tqdm

    options = DatasetOptions() if options is None else options
    check_output_folder(output, is_dataset)
    plan, fasta = _plan(genome, dict(peaks), options)
    with atomic_folder(output, is_dataset) as tmp, \
            tqdm(total=2 * sum(plan.lengths.values()), unit="bp", unit_scale=True, desc="build-dataset",
                 disable=not progress, leave=False) as bar:
        _choose(plan, fasta, bar)
        samples, positives = _write(plan, fasta, tmp, bar)
        _dataset_json(plan, tmp, samples, {t: Path(f) for t, f in peaks.items()})
    chroms = {s: [c for c in plan.lengths if plan.split_of[c] == s] for s in SPLITS}
    return BuildSummary(Path(output), plan.targets, samples, positives, chroms, plan.dropped, plan.n_negatives)
