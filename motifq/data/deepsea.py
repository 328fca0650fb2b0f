"""The DeepSEA training bundle (``deepsea_train_bundle.v0.9``), streamed once into a motifq cache.

The bundle is a folder with three MATLAB files. In MATLAB's own terms every file holds one-hot
sequences ``<split>xdata`` of shape (N, 4, L) and labels ``<split>data`` of shape (N, T):

=============  ===========================  ===============================================
file           format                       what Python sees
=============  ===========================  ===============================================
``train.mat``  MATLAB v7.3 (HDF5)           h5py: ``trainxdata`` (L, 4, N) uint8,
                                            ``traindata`` (T, N) — MATLAB's column-major
                                            order shows the axes reversed
``valid.mat``  MATLAB v5                    ``validxdata`` (N, 4, L), ``validdata`` (N, T)
``test.mat``   MATLAB v5                    ``testxdata`` (N, 4, L), ``testdata`` (N, T)
=============  ===========================  ===============================================

(the real bundle: L = 1000, T = 919, N = 4,400,000 / 8,000 / 455,024). Either format is read
for any split (:mod:`motifq.data.matfile`), and the one-hot channels, in **A, G, C, T**
order, become motifq's ACGT tokens there (:func:`agct_to_tokens`, re-exported here). Labels
must be 0 or 1.

Each split is converted **once**, in chunks of samples (bounded memory, a tqdm progress bar),
into a motifq dataset folder (see :mod:`motifq.data.dataset`), by default ``<bundle>/motifq-cache``:
``<split>.tokens.npy`` (N, L) uint8 and ``<split>.labels.npy`` (N, ceil(T / 8)) bit-packed.
Each array is written to a temporary file and renamed into place when complete; ``dataset.json``
is (re)written last and lists only the splits whose conversion finished, with the size of the
``.mat`` file each came from. A split is taken from the cache when ``dataset.json`` lists it and
the recorded size matches the ``.mat`` file; a half-written cache (killed conversion) has only
temporary files and is never taken for complete. Concurrent conversions of one cache (e.g. the
ranks of a ``torchrun``) are serialised by a lock file. Targets are named ``target_1 ..
target_T``: the bundle carries no names (pass DeepSEA's ``predictor.names`` as ``targets=`` to
:func:`motifq.data.open_data`). Nothing is ever loaded whole: each chunk is read from the
``.mat`` file on its own (see :mod:`motifq.data.matfile`).
"""
from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

import numpy as np

from ..errors import MotifqError, atomic_path, atomic_write, check
from .dataset import FORMAT, SPLITS, Split, open_split
from .matfile import MatSource, agct_to_tokens, open_mat

__all__ = ["CACHE_NAME", "BUNDLE_FILES", "is_bundle", "agct_to_tokens", "default_cache",
           "cached_splits", "convert_split", "convert_bundle", "open_bundle"]

#: Default cache folder name inside the bundle folder.
CACHE_NAME = "motifq-cache"
#: File of each split in a bundle folder.
BUNDLE_FILES = {s: f"{s}.mat" for s in SPLITS}
_CHUNK_BYTES = 256 * 2**20  # one-hot input per conversion chunk when chunk_size is None
_LOCK = ".motifq-convert.lock"


# ---------------------------------------------------------------------------------------------
# the cache
# ---------------------------------------------------------------------------------------------
def is_bundle(path) -> bool:
    """Whether `path` looks like a DeepSEA bundle folder.

    Parameters
    ----------
    path : str or os.PathLike
        A folder.

    Returns
    -------
    bool
        True when it holds at least one of ``train.mat``, ``valid.mat``, ``test.mat``.
    """
    p = Path(path)
    return p.is_dir() and any((p / f).is_file() for f in BUNDLE_FILES.values())


def default_cache(bundle) -> Path:
    """Where a bundle's converted splits live unless told otherwise.

    Parameters
    ----------
    bundle : str or os.PathLike
        The DeepSEA bundle folder.

    Returns
    -------
    pathlib.Path
        ``<bundle>/motifq-cache``.
    """
    return Path(bundle) / CACHE_NAME


def _read_cache_info(cache: Path) -> dict | None:
    p = cache / "dataset.json"
    if not p.is_file():
        return None
    try:
        info = json.loads(p.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict) or info.get("format") != FORMAT or "deepsea_sources" not in info:
        return None
    return info


def cached_splits(bundle, cache=None) -> list:
    """The splits of `bundle` whose conversion in `cache` is complete and up to date.

    Parameters
    ----------
    bundle : str or os.PathLike
        The DeepSEA bundle folder.
    cache : str or os.PathLike or None
        The cache folder. Default is None: ``<bundle>/motifq-cache``.

    Returns
    -------
    list of str
        Split names, in train, valid, test order.
    """
    bundle = Path(bundle)
    cache = Path(cache) if cache is not None else default_cache(bundle)
    info = _read_cache_info(cache)
    if info is None:
        return []
    out = []
    for split in SPLITS:
        src = info["deepsea_sources"].get(split)
        if split not in info.get("splits", {}) or not src:
            continue
        mat = bundle / BUNDLE_FILES[split]
        if mat.is_file() and mat.stat().st_size != src.get("size"):
            continue  # the .mat changed since the conversion: stale
        if all((cache / f"{split}.{k}.npy").is_file() for k in ("tokens", "labels")):
            out.append(split)
    return out


@contextlib.contextmanager
def _locked(cache: Path):
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock (atomic renames still keep the cache consistent)
        yield
        return
    with open(cache / _LOCK, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _npy_for_streaming(tmp: Path, shape: tuple) -> int:
    """Create a (N, K) uint8 .npy at `tmp` (header by ``numpy.lib.format.open_memmap``) and
    return the byte offset of its data.

    The rows are then written with plain file writes rather than through a mapping, so written
    pages never count against the process's resident memory.
    """
    mm = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=shape)
    offset = mm.offset
    del mm
    return offset


def convert_split(bundle, split: str = "train", cache=None, chunk_size: int | None = None,
                  progress: bool = True) -> bool:
    """Convert one split of a DeepSEA bundle into the cache, unless it is already there.

    Parameters
    ----------
    bundle : str or os.PathLike
        The bundle folder holding ``<split>.mat``: one-hot (N, 4, L) in **A, G, C, T** order
        (h5py shows v7.3 files as (L, 4, N)) and 0/1 labels (N, T).
    split : str
        ``train``, ``valid`` or ``test``. Default is ``train``.
    cache : str or os.PathLike or None
        The cache folder (a motifq dataset folder). Default is None: ``<bundle>/motifq-cache``.
    chunk_size : int or None
        Samples converted at a time. Default is None: about 256 MB of input (one-hot and labels
        as stored) per chunk, i.e. about 54,000 samples of the real uint8 bundle, rounded to the HDF5
        chunking; the converting process then peaks at 0.6 to 0.8 GB.
    progress : bool
        Show a tqdm progress bar. Default is True.

    Returns
    -------
    bool
        True when this call converted the split, False when the cache already had it.
    """
    check(split in SPLITS, f"split: {split!r} is not one of {', '.join(SPLITS)}")
    check(chunk_size is None or int(chunk_size) >= 1, f"chunk_size: must be at least 1, got {chunk_size}")
    bundle = Path(bundle)
    cache = Path(cache) if cache is not None else default_cache(bundle)
    if split in cached_splits(bundle, cache):
        return False
    mat = bundle / BUNDLE_FILES[split]
    check(mat.is_file(), f"{bundle}: DeepSEA bundle has no {BUNDLE_FILES[split]}")
    src = open_mat(mat, split)  # validates keys and shapes before anything is written
    created = not cache.exists()
    try:
        try:
            cache.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise MotifqError(f"{cache}: cannot create the cache folder ({exc.strerror}); choose another with --cache") from None
        check(os.access(cache, os.W_OK), f"{cache}: cache folder is not writable; choose another with --cache")
        with _locked(cache):
            if split in cached_splits(bundle, cache):  # another process finished it meanwhile
                return False
            _convert_locked(src, split, cache, chunk_size, progress)
        return True
    except BaseException:
        if created and cache.is_dir() and {p.name for p in cache.iterdir()} <= {_LOCK}:
            with contextlib.suppress(OSError):
                (cache / _LOCK).unlink(missing_ok=True)
                cache.rmdir()
        raise
    finally:
        src.close()


def _convert_locked(src: MatSource, split: str, cache: Path, chunk_size, progress: bool) -> None:
    from tqdm.auto import tqdm

    info = _read_cache_info(cache)
    if info is not None:  # other splits are there: they must agree
        check(info["length"] == src.length,
              f"{src.path}: sequences of length {src.length}, but the cache {cache} holds length {info['length']} (delete it or use another --cache)")
        check(len(info["targets"]) == src.n_targets,
              f"{src.path}: {src.n_targets} targets, but the cache {cache} holds {len(info['targets'])} (delete it or use another --cache)")
    for kind in ("tokens", "labels"):  # leftovers of a conversion that was killed (never taken for complete)
        for stale in cache.glob(f".{split}.{kind}.npy.*.tmp"):
            stale.unlink(missing_ok=True)
    if chunk_size is None:
        chunk_size = max(1, _CHUNK_BYTES // src.bytes_per_sample)
        if src.align > 1:
            chunk_size = max(src.align, chunk_size // src.align * src.align)
    chunk_size = int(chunk_size)
    n, nb = src.n, (src.n_targets + 7) // 8
    with atomic_path(cache / f"{split}.tokens.npy") as tok_tmp, atomic_path(cache / f"{split}.labels.npy") as lab_tmp:
        tok_off = _npy_for_streaming(tok_tmp, (n, src.length))
        lab_off = _npy_for_streaming(lab_tmp, (n, nb))
        with open(tok_tmp, "r+b") as ft, open(lab_tmp, "r+b") as fl, \
                tqdm(total=n, unit="seq", unit_scale=True, desc=f"converting {src.path.name}",
                     disable=not progress, leave=False) as bar:
            ft.seek(tok_off)
            fl.seek(lab_off)
            for i in range(0, n, chunk_size):
                j = min(n, i + chunk_size)
                tokens, packed = src.read(i, j)   # (c, L) ACGT tokens, (c, ceil(T/8)) packed labels
                ft.write(tokens.data)
                fl.write(packed.data)
                bar.update(j - i)
            for fh in (ft, fl):
                fh.flush()
                os.fsync(fh.fileno())
    info = _read_cache_info(cache) or {
        "format": FORMAT, "version": 1, "length": src.length, "alphabet": "ACGT",
        "targets": [f"target_{k + 1}" for k in range(src.n_targets)], "splits": {},
        "description": "DeepSEA bundle converted by motifq: one-hot channels A, G, C, T in the bundle, "
                       "ACGT tokens here (0..3 = A, C, G, T; 4 = N)",
        "deepsea_sources": {}}
    info["splits"][split] = n
    info["splits"] = {s: info["splits"][s] for s in SPLITS if s in info["splits"]}
    info["deepsea_sources"][split] = {"file": src.path.name, "size": src.path.stat().st_size}
    with atomic_write(cache / "dataset.json") as fh:
        json.dump(info, fh, indent=1)


def convert_bundle(bundle, cache=None, splits=SPLITS, chunk_size: int | None = None,
                   progress: bool = True) -> dict:
    """Convert the splits of a DeepSEA bundle that are present and not yet cached.

    Parameters
    ----------
    bundle : str or os.PathLike
        The bundle folder (``train.mat``, ``valid.mat``, ``test.mat``; one-hot in **A, G, C, T**
        order).
    cache : str or os.PathLike or None
        The cache folder. Default is None: ``<bundle>/motifq-cache``.
    splits : sequence of str
        Which splits; a split whose ``.mat`` file is missing is skipped. Default is ('train', 'valid', 'test').
    chunk_size : int or None
        Samples converted at a time. Default is None: about 256 MB of input per chunk.
    progress : bool
        Show a progress bar. Default is True.

    Returns
    -------
    dict of str -> bool
        For each split present: True if converted now, False if it was cached already.
    """
    bundle = Path(bundle)
    check(bundle.is_dir(), f"{bundle}: no such folder")
    check(is_bundle(bundle), f"{bundle}: not a DeepSEA bundle (no train.mat, valid.mat or test.mat)")
    out = {}
    for split in splits:
        check(split in SPLITS, f"split: {split!r} is not one of {', '.join(SPLITS)}")
        if (bundle / BUNDLE_FILES[split]).is_file():
            out[split] = convert_split(bundle, split, cache, chunk_size, progress)
    return out


def open_bundle(bundle, split: str = "train", cache=None, chunk_size: int | None = None,
                progress: bool = True) -> Split:
    """Open one split of a DeepSEA bundle, converting it into the cache on first use.

    Parameters
    ----------
    bundle : str or os.PathLike
        The bundle folder (one-hot in **A, G, C, T** order).
    split : str
        ``train``, ``valid`` or ``test``. Default is ``train``.
    cache : str or os.PathLike or None
        The cache folder. Default is None: ``<bundle>/motifq-cache``.
    chunk_size : int or None
        Samples converted at a time. Default is None: about 256 MB of input per chunk.
    progress : bool
        Show a progress bar while converting. Default is True.

    Returns
    -------
    Split
        Memory-mapped tokens (N, L) uint8 in **A, C, G, T** token order (4 = N) and bit-packed
        labels; targets ``target_1 .. target_T``.
    """
    bundle = Path(bundle)
    cache = Path(cache) if cache is not None else default_cache(bundle)
    convert_split(bundle, split, cache, chunk_size, progress)
    out = open_split(cache, split)
    out.name = f"{bundle}:{split}"
    return out
