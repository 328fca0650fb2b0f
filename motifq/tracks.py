"""Genome tracks: a model's predictions tiled over BED regions, written as bigWig or bedGraph.

Tiling
------
The regions of a BED file (0-based half-open; BED3 or more columns) are sorted in genome order
and overlapping or touching ones merged. Each merged region ``[s, e)`` is cut into bins of
``step`` bp, ``[s, s + step), [s + step, s + 2 step), ...``, the last one ending at ``e``. Bin
``[b, b + step)`` gets the prediction of the model's ``L``-bp window centred on the bin's centre
``c = b + step // 2``: the window ``[c - L // 2, c - L // 2 + L)``, so the window centre
``c`` (index ``L // 2``) lies in the bin. Windows reaching past a chromosome end are padded with
``N``. The prediction is the forward + reverse-complement mean probability
(:func:`motifq.models.predict`).

Output
------
One file per chosen target: ``PREFIX.<target>.bw`` (bigWig, written with pyBigWig, UCSC's
format through the library deepTools uses; chromosome sizes from the genome's ``.fai`` index)
or ``PREFIX.<target>.bedGraph`` (plain text, ``chrom start end value``, 0-based). Characters
other than letters, digits, ``.``, ``_`` and ``-`` in a target name become ``_``. Regions are
streamed in chunks of bins, so memory stays bounded; all files appear together when the run
succeeds (each written to a temporary file first).
"""
from __future__ import annotations

import contextlib
import re
from typing import NamedTuple

import numpy as np

from .data.genome import open_genome
from .errors import MotifqError, atomic_path, check, check_file
from .sequence import tokenize
from .variants import resolve_targets

__all__ = ["Bins", "bin_windows", "merge_regions", "read_regions", "tile_bins", "track_path", "write_tracks"]


class Bins(NamedTuple):
    """A run of bins on one chromosome: ``starts``, ``ends`` (N,) int64, 0-based half-open."""

    chrom: str
    starts: np.ndarray
    ends: np.ndarray


def read_regions(path, sizes: dict, window: int = 0) -> list:
    """Read a BED file's first three columns and check them against the genome.

    Parameters
    ----------
    path : str or os.PathLike
        BED (0-based half-open); ``track``, ``browser`` and ``#`` lines are skipped.
    sizes : dict
        Chromosome name -> length, from the genome's index.
    window : int
        The model's input length: a region on a chromosome shorter than this is refused (its
        windows would be mostly padding). Default is 0 (no check).

    Returns
    -------
    list of (str, int, int)
        (chrom, start, end) in file order.
    """
    p = check_file(path)
    out = []
    with open(p, encoding="utf-8", errors="replace") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip() or line.startswith(("#", "track", "browser")):
                continue
            f = line.rstrip("\r\n").split("\t")
            where = f"{p}: line {n}"
            check(len(f) >= 3, f"{where}: expected at least 3 tab-separated columns (chrom, start, end), got {len(f)}")
            try:
                start, end = int(f[1]), int(f[2])
            except ValueError:
                raise MotifqError(f"{where}: start and end must be integers, got {f[1]!r} and {f[2]!r}") from None
            check(f[0] in sizes, f"{where}: chromosome {f[0]!r} is not in the genome")
            check(0 <= start < end, f"{where}: need 0 <= start < end, got {start} and {end}")
            check(end <= sizes[f[0]], f"{where}: end {end} is past the end of {f[0]} ({sizes[f[0]]} bp)")
            check(window <= sizes[f[0]], f"{where}: the {window}-bp window is larger than chromosome {f[0]} "
                                         f"({sizes[f[0]]} bp)")
            out.append((f[0], start, end))
    check(len(out) > 0, f"{p}: no regions")
    return out


def merge_regions(regions, order: list) -> list:
    """Sort regions in genome order and merge overlapping or touching ones.

    Parameters
    ----------
    regions : list of (str, int, int)
        0-based half-open.
    order : list of str
        The genome's chromosomes in index order.

    Returns
    -------
    list of (str, int, int)
    """
    rank = {c: i for i, c in enumerate(order)}
    merged: list = []
    for chrom, s, e in sorted(regions, key=lambda r: (rank[r[0]], r[1], r[2])):
        if merged and merged[-1][0] == chrom and s <= merged[-1][2]:
            merged[-1] = (chrom, merged[-1][1], max(merged[-1][2], e))
        else:
            merged.append((chrom, s, e))
    return merged


def tile_bins(regions, step: int, chunk: int = 4096):
    """Cut merged regions into `step`-bp bins, yielded in runs of at most `chunk` bins.

    Parameters
    ----------
    regions : list of (str, int, int)
        From :func:`merge_regions`.
    step : int
        Bin width in bp.
    chunk : int
        Bins per yielded run. Default is 4096.

    Yields
    ------
    Bins
    """
    for chrom, s, e in regions:
        starts = np.arange(s, e, step, dtype=np.int64)
        for i in range(0, len(starts), chunk):
            b = starts[i:i + chunk]
            yield Bins(chrom, b, np.minimum(b + step, e))


def bin_windows(fasta, bins: Bins, length: int, step: int, size: int) -> np.ndarray:
    """The model input of every bin: the `length`-bp window centred at ``start + step // 2``.

    Parameters
    ----------
    fasta : pysam.FastaFile
    bins : Bins
    length : int
        Window length L.
    step : int
        Bin width.
    size : int
        The chromosome's length (outside it: N).

    Returns
    -------
    numpy.ndarray
        (N, L) uint8 tokens, A, C, G, T = 0..3, N = 4.
    """
    first = int(bins.starts[0]) + step // 2 - length // 2
    last = int(bins.starts[-1]) + step // 2 - length // 2 + length
    lo, hi = max(0, first), min(size, last)
    seq = "N" * (lo - first) + fasta.fetch(bins.chrom, lo, hi).upper() + "N" * (last - hi)
    tokens = tokenize(seq, f"{bins.chrom}:{first + 1}-{last}")
    offsets = bins.starts + step // 2 - length // 2 - first
    view = np.lib.stride_tricks.sliding_window_view(tokens, length)
    return np.ascontiguousarray(view[offsets])


def track_path(prefix, target: str, fmt: str) -> str:
    """``PREFIX.<target>.bw`` or ``PREFIX.<target>.bedGraph``, the target name made file-safe."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", target)
    return f"{prefix}.{safe}.{'bw' if fmt == 'bigwig' else 'bedGraph'}"


class _Track:
    """One open output: a pyBigWig handle or a text file."""

    def __init__(self, tmp, fmt: str, sizes: list):
        self.fmt = fmt
        if fmt == "bigwig":
            import pyBigWig

            self.bw = pyBigWig.open(str(tmp), "w")
            self.bw.addHeader(sizes)
        else:
            self.fh = open(tmp, "w", encoding="utf-8")

    def add(self, bins: Bins, values: np.ndarray) -> None:
        if self.fmt == "bigwig":
            n = len(values)
            self.bw.addEntries([bins.chrom] * n, bins.starts.tolist(), ends=bins.ends.tolist(),
                               values=values.astype(np.float64).tolist())
        else:
            self.fh.write("".join(f"{bins.chrom}\t{s}\t{e}\t{v:.6g}\n"
                                  for s, e, v in zip(bins.starts.tolist(), bins.ends.tolist(), values.tolist())))

    def close(self) -> None:
        if self.fmt == "bigwig":
            self.bw.close()
        else:
            self.fh.close()


def write_tracks(model, bed, genome, prefix, step: int = 50, fmt: str = "bigwig", targets=None,
                 model_targets=None, window: int | None = None, batch_size: int = 256, device=None,
                 progress: bool = False) -> list:
    """Predict over tiled BED regions and write one track per chosen target.

    Parameters
    ----------
    model : torch.nn.Module
        A motifq model; its input length ``model.config.length`` is the window.
    bed : str or os.PathLike
        Regions, BED (0-based half-open).
    genome : str or os.PathLike
        Indexed FASTA (see :func:`motifq.data.genome.open_genome`).
    prefix : str or os.PathLike
        Output prefix (see :func:`track_path`).
    step : int
        Bin width and tiling step in bp. Default is 50.
    fmt : str
        ``bigwig`` or ``bedgraph``. Default is ``bigwig``.
    targets : str or list or None
        Target names or 0-based indices. Default is None: all.
    model_targets : list of str or None
        The model's target names. Default is None: ``target_<i>``.
    window : int or None
        The window asked for; must equal the model's input length. Default is None.
    batch_size : int
        Windows per forward pass. Default is 256.
    device : str or torch.device or None
        Default is None: the model's device.
    progress : bool
        Show a progress bar. Default is False.

    Returns
    -------
    list of str
        The files written, one per target.
    """
    from tqdm.auto import tqdm

    from .models import predict

    length = int(model.config.length)
    check(window is None or window == length,
          f"window: the model takes {length}-bp inputs, but a {window}-bp window was asked for")
    check(step >= 1, f"step: must be at least 1, got {step}")
    check(fmt in ("bigwig", "bedgraph"), f"format: {fmt!r} is not bigwig or bedgraph")
    names = list(model_targets or [f"target_{i}" for i in range(model.config.n_targets)])
    chosen = resolve_targets(targets, names)
    fasta = open_genome(genome)
    sizes = dict(zip(fasta.references, fasta.lengths))
    regions = merge_regions(read_regions(bed, sizes, length), list(fasta.references))
    paths = [track_path(prefix, names[i], fmt) for i in chosen]
    check(len(set(paths)) == len(paths), "targets: two targets give the same file name")
    total = sum(-(-(e - s) // step) for _, s, e in regions)
    with contextlib.ExitStack() as stack:
        tmps = [stack.enter_context(atomic_path(p)) for p in paths]
        tracks = [_Track(t, fmt, list(zip(fasta.references, fasta.lengths))) for t in tmps]
        bar = stack.enter_context(tqdm(total=total, disable=not progress, desc="tracks", unit="bin"))
        for bins in tile_bins(regions, step):
            tokens = bin_windows(fasta, bins, length, step, sizes[bins.chrom])
            probs = predict(model, tokens, batch_size=batch_size, rc=True, device=device)
            for track, i in zip(tracks, chosen):
                track.add(bins, probs[:, i])
            bar.update(len(tokens))
        for track in tracks:
            track.close()
    return paths
