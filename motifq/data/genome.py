"""Genomes and intervals: indexed FASTA access, BED3+ peak files, peaks tables, and the writer of
whole output folders.

Genome
    FASTA, plain or bgzip-compressed, read through its ``samtools faidx`` index (``.fai``, and
    ``.gzi`` for bgzip; built beside it when missing) with pysam, one region at a time, never
    whole. A gzip file that is not bgzip has no random access and is refused.

Intervals
    BED3 or more columns (BED, BED6, narrowPeak, broadPeak: only chrom, start, end are read),
    plain or gzip-compressed, tab- or space-separated; ``track``, ``browser`` and ``#`` lines are
    skipped. Coordinates are 0-based, end excluded. Every problem (a chromosome absent from the
    genome, an end past the chromosome, start > end, a negative start, fewer than three columns,
    a non-integer coordinate) is one line naming the file and line.

Peaks table
    ``name<TAB>path`` per line, paths relative to the table's folder; otherwise targets are named
    by their file stems.

:mod:`motifq.data.build` turns a genome and peak files into a dataset with these.
"""
from __future__ import annotations

import contextlib
import gzip
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from ..errors import MotifqError, check, check_file, remove_stale_temps, temp_prefix
from ..sequence import tokenize

__all__ = ["atomic_folder", "check_output_folder", "open_genome", "genome_lengths", "fetch_tokens",
           "read_intervals", "merge_intervals", "bin_coverage", "read_peaks_table", "peak_files"]

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
    remove_stale_temps(final, folders=True)      # what a killed run left
    tmp = Path(tempfile.mkdtemp(prefix=temp_prefix(final), suffix=".tmp", dir=parent))
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


def fetch_tokens(fasta, chrom: str, start: int, end: int) -> np.ndarray:
    """Tokens of one region of an open genome.

    Parameters
    ----------
    fasta : pysam.FastaFile
        From :func:`open_genome`.
    chrom : str
        Chromosome name.
    start, end : int
        0-based start, end excluded (within the chromosome).

    Returns
    -------
    numpy.ndarray
        (end - start,) uint8 tokens, A, C, G, T = 0..3, N and other IUPAC codes = 4 (any case).
    """
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
    names = list(dict.fromkeys(chroms))
    index = {n: i for i, n in enumerate(names)}
    codes = np.array([index[c] for c in chroms], dtype=np.int64)
    return names, codes, np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64)


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
        df = pd.read_csv(path, sep="\t", header=None, usecols=[0, 1, 2], skiprows=skip,
                         dtype={0: str, 1: np.int64, 2: np.int64}, skip_blank_lines=False, engine="c",
                         compression="gzip" if _compression(path) != "plain" else None)
    except (ValueError, TypeError, OverflowError, pd.errors.ParserError, UnicodeDecodeError, OSError):
        return None
    codes, names = pd.factorize(df[0], use_na_sentinel=True)
    if (codes < 0).any() or not all(n in lengths for n in names):
        return None
    s, e = df[1].to_numpy(np.int64), df[2].to_numpy(np.int64)
    limit = np.array([lengths[n] for n in names], dtype=np.int64)[codes]
    if (s < 0).any() or (s > e).any() or (e > limit).any():
        return None
    return list(names), codes, s, e


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
    names, codes, starts, ends = _parse_slow(p, lengths, genome) if parsed is None else parsed
    order = np.lexsort((ends, starts, codes))
    codes, starts, ends = codes[order], starts[order], ends[order]
    cuts = np.searchsorted(codes, np.arange(len(names) + 1))
    return {n: (starts[cuts[i]:cuts[i + 1]], ends[cuts[i]:cuts[i + 1]]) for i, n in enumerate(names)}


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
