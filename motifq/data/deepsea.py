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
for any split. **The one-hot channels are in A, G, C, T order.** They become motifq's ACGT
tokens at this boundary (:func:`agct_to_tokens`): a column with exactly one channel equal to 1
and the other three equal to 0 gets the token of that base in A, C, G, T order (A 0, C 1, G 2,
T 3); every other column (all zero, 0.25 everywhere, two channels set, values other than 0/1)
gets token 4 = N. Labels must be 0 or 1.

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
:func:`motifq.data.open_data`).

Nothing is ever loaded whole: ``train.mat`` is read by h5py one hyperslab of samples at a
time; the uncompressed variables of a MATLAB v5 file are located by parsing the v5 tags (header,
array flags, dimensions, name) and read in place: MATLAB stores them column-major, so the N
samples of each (channel, position) lie side by side and a chunk of samples is one positioned
read per row. (They could be memory-mapped, but a map of the file was measured to keep up to the
whole file resident; plain reads keep the process at one chunk.) A v5 variable saved compressed
(``miCOMPRESSED``) cannot be read in place: it is read whole with :func:`scipy.io.loadmat`, with
a warning.
"""
from __future__ import annotations

import contextlib
import json
import os
import struct
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import MotifqError, atomic_path, atomic_write, check
from .dataset import FORMAT, SPLITS, Split, open_split

__all__ = ["CACHE_NAME", "BUNDLE_FILES", "is_bundle", "agct_to_tokens", "default_cache",
           "cached_splits", "convert_split", "convert_bundle", "open_bundle"]

#: Default cache folder name inside the bundle folder.
CACHE_NAME = "motifq-cache"
#: File of each split in a bundle folder.
BUNDLE_FILES = {s: f"{s}.mat" for s in SPLITS}
_CHUNK_BYTES = 256 * 2**20  # one-hot input per conversion chunk when chunk_size is None
_LOCK = ".motifq-convert.lock"

# bit k set <=> AGCT channel k is 1;  A=bit0 (ACGT 0), G=bit1 (ACGT 2), C=bit2 (ACGT 1), T=bit3 (ACGT 3)
_AGCT_CODE_TO_TOKEN = np.full(16, 4, dtype=np.uint8)
_AGCT_CODE_TO_TOKEN[[1, 2, 4, 8]] = [0, 2, 1, 3]


# ---------------------------------------------------------------------------------------------
# AGCT one-hot -> ACGT tokens
# ---------------------------------------------------------------------------------------------
def agct_to_tokens(x, axis: int = 1) -> np.ndarray:
    """Turn one-hot columns in the DeepSEA bundle's A, G, C, T channel order into ACGT tokens.

    Parameters
    ----------
    x : array with a channel axis of size 4
        One-hot in **A, G, C, T** order along `axis`, e.g. (N, 4, L) as MATLAB sees
        ``validxdata`` or (L, 4, N) as h5py sees ``trainxdata``; any numeric or bool dtype.
    axis : int
        The channel axis. Default is 1.

    Returns
    -------
    numpy.ndarray
        uint8 tokens in **A, C, G, T** token order (A 0, C 1, G 2, T 3), with `axis` removed
        (e.g. (N, L) or (L, N)). A column that is not exactly one 1 and three 0s (all zero,
        0.25 everywhere, two channels set, any other value) gets token 4 (N).
    """
    x = np.asarray(x)
    check(x.ndim >= 1 and x.shape[axis] == 4, f"one-hot: expected 4 channels on axis {axis}, got shape {x.shape}")
    if x.dtype == np.uint8 or x.dtype == np.bool_:
        y = x.view(np.uint8)
    else:  # 1 -> 1, 0 -> 0, anything else (0.25, 2, NaN) -> 2, which marks the column as N below
        y = np.where(x == 1, 1, np.where(x == 0, 0, 2)).astype(np.uint8)
    a, g, c, t = np.moveaxis(y, axis, 0)  # four views, no copies
    code = a | (g << 1)
    code |= c << 2
    code |= t << 3
    tokens = _AGCT_CODE_TO_TOKEN[code & 15]
    over = a | g
    over |= c
    over |= t
    tokens[over > 1] = 4  # some channel held a value other than 0 or 1
    return tokens


def _pack_label_chunk(y, axis_targets: int, where: str) -> np.ndarray:
    """(c, T) or (T, c) 0/1 labels -> (c, ceil(T / 8)) bit-packed (little bit order), checked."""
    if y.dtype != np.uint8 and y.dtype != np.bool_:
        bad = (y != 0) & (y != 1)
        if bad.any():
            raise MotifqError(f"{where}: labels must be 0 or 1, found {y[bad].flat[0]!r}")
        y = y.astype(np.uint8)
    else:
        y = y.view(np.uint8)
        if (y > 1).any():
            raise MotifqError(f"{where}: labels must be 0 or 1, found {int(y.max())}")
    packed = np.packbits(y, axis=axis_targets, bitorder="little")
    return np.ascontiguousarray(packed if axis_targets == 1 else packed.T)


# ---------------------------------------------------------------------------------------------
# sources: one split's .mat file, read a chunk of samples at a time
# ---------------------------------------------------------------------------------------------
@dataclass
class _Source:
    path: Path
    n: int                      # samples N
    length: int                 # sequence length L
    n_targets: int              # targets T
    bytes_per_sample: int       # one-hot plus labels as stored in the file
    read: Callable              # (start, stop) -> (tokens (c, L) uint8 ACGT, packed (c, ceil(T/8)) uint8)
    close: Callable
    align: int = 1              # preferred multiple of samples per chunk (HDF5 chunking)


def _first_line(exc) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _is_hdf5(path: Path) -> bool:
    """HDF5 signature at offset 0, 512, 1024, ... (MATLAB v7.3 puts a 512-byte header first)."""
    sig = b"\x89HDF\r\n\x1a\n"
    size = path.stat().st_size
    with open(path, "rb") as fh:
        off = 0
        while off + 8 <= size and off <= 1 << 20:
            fh.seek(off)
            if fh.read(8) == sig:
                return True
            off = 512 if off == 0 else off * 2
    return False


def _open_hdf5(path: Path, split: str) -> _Source:
    import h5py

    xname, yname = f"{split}xdata", f"{split}data"
    try:
        f = h5py.File(path, "r", rdcc_nbytes=64 * 2**20)
    except (OSError, ValueError) as exc:
        raise MotifqError(f"{path}: cannot open as MATLAB v7.3 (HDF5): {_first_line(exc)}") from None
    try:
        for name in (xname, yname):
            check(name in f, f"{path}: no variable {name!r} (has {', '.join(sorted(f.keys())) or 'none'})")
            check(isinstance(f[name], h5py.Dataset) and f[name].dtype.kind in "uifb",
                  f"{path}: {name} is not a numeric array")
        x, y = f[xname], f[yname]
        check(x.ndim == 3 and x.shape[1] == 4 and x.shape[0] > 0,
              f"{path}: {xname} has h5py shape {x.shape}, expected (L, 4, N) (MATLAB (N, 4, L))")
        L, _, n = x.shape
        check(y.ndim == 2 and y.shape[0] > 0, f"{path}: {yname} has h5py shape {y.shape}, expected (T, N) (MATLAB (N, T))")
        check(y.shape[1] == n, f"{path}: {yname} has {y.shape[1]} samples but {xname} has {n}")
    except BaseException:
        f.close()
        raise
    T = y.shape[0]

    def read(i, j):
        try:
            xc = x[:, :, i:j]                     # (L, 4, c), AGCT channels
            yc = y[:, i:j]                        # (T, c)
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise MotifqError(f"{path}: cannot read samples {i + 1}..{j} ({_first_line(exc)}); truncated or corrupt?") from None
        tokens = np.ascontiguousarray(agct_to_tokens(xc, axis=1).T)   # (c, L) ACGT tokens
        return tokens, _pack_label_chunk(yc, 0, f"{path}: {yname} samples {i + 1}..{j}")

    align = x.chunks[2] if x.chunks else 1
    return _Source(path, n, L, T, 4 * L * x.dtype.itemsize + T * y.dtype.itemsize, read, f.close, align)


# MATLAB v5 -------------------------------------------------------------------------------------
_MI_DTYPES = {1: "i1", 2: "u1", 3: "i2", 4: "u2", 5: "i4", 6: "u4", 7: "f4", 9: "f8", 12: "i8", 13: "u8"}
_MI_MATRIX, _MI_COMPRESSED = 14, 15
_NUMERIC_CLASSES = range(6, 16)  # double, single, int8 .. uint64
_CLASS_NAMES = {1: "cell", 2: "struct", 3: "object", 4: "char", 5: "sparse"}


@dataclass
class _V5Var:
    name: str
    dims: tuple = ()
    dtype: np.dtype | None = None
    offset: int = 0             # file offset of the real part's data
    compressed: bool = False
    mclass: int = 0
    is_complex: bool = False


def _v5_sub(buf: bytes, o: int, endian: str):
    """One sub-element at `o`: (type, byte count, offset of its data in buf, offset of the next one)."""
    (first,) = struct.unpack_from(endian + "I", buf, o)
    if first >> 16:  # small data element: 2 bytes size, 2 bytes type, 4 bytes data
        return first & 0xFFFF, first >> 16, o + 4, o + 8
    typ, n = struct.unpack_from(endian + "II", buf, o)
    return typ, n, o + 8, o + 8 + ((n + 7) // 8) * 8


def _v5_matrix_header(buf: bytes, endian: str):
    """Parse array flags, dims, name and the real part's tag of a miMATRIX body."""
    typ, n, d, o = _v5_sub(buf, 0, endian)
    check(typ == 6 and n >= 8, "bad array flags")
    word = struct.unpack_from(endian + "I", buf, d)[0]
    mclass, is_complex = word & 0xFF, bool(word & 0x800)
    typ, n, d, o = _v5_sub(buf, o, endian)
    check(typ == 5 and n % 4 == 0 and n >= 8, "bad dimensions")
    dims = struct.unpack_from(endian + f"{n // 4}i", buf, d)
    typ, n, d, o = _v5_sub(buf, o, endian)
    check(typ in (1, 2), "bad array name")
    var = _V5Var(buf[d:d + n].decode("latin-1"), tuple(int(x) for x in dims), mclass=mclass, is_complex=is_complex)
    if mclass in _NUMERIC_CLASSES and not is_complex:
        typ, n, d, _ = _v5_sub(buf, o, endian)
        check(typ in _MI_DTYPES, f"unsupported storage type {typ}")
        var.dtype = np.dtype(endian + _MI_DTYPES[typ])
        var.offset = d
        check(n == int(np.prod(var.dims)) * var.dtype.itemsize, f"{var.name}: {n} data bytes for dimensions {var.dims}")
    return var


def _v5_variables(path: Path) -> tuple[dict, str]:
    """Scan a MATLAB v5 file's top-level elements without reading their data.

    Returns ({name: _V5Var}, endian) where a _V5Var's offset is absolute in the file.
    """
    size = path.stat().st_size
    out = {}
    with open(path, "rb") as fh:
        head = fh.read(128)
        check(len(head) == 128 and head[126:128] in (b"IM", b"MI"),
              f"{path}: not a MATLAB v5 or v7.3 file (no MATLAB header)")
        endian = "<" if head[126:128] == b"IM" else ">"
        pos = 128
        while pos < size:
            fh.seek(pos)
            tag = fh.read(8)
            check(len(tag) == 8, f"{path}: truncated (incomplete element tag at byte {pos})")
            typ, nbytes = struct.unpack(endian + "II", tag)
            end = pos + 8 + nbytes
            check(end <= size, f"{path}: truncated (an element needs {end} bytes, the file has {size})")
            if typ == _MI_MATRIX:
                body = fh.read(min(nbytes, 4096))
                try:
                    var = _v5_matrix_header(body, endian)
                except (MotifqError, struct.error) as exc:
                    raise MotifqError(f"{path}: corrupt MATLAB v5 variable at byte {pos} ({_first_line(exc)})") from None
                if var.dtype is not None:
                    var.offset += pos + 8
                    check(var.offset + int(np.prod(var.dims)) * var.dtype.itemsize <= end,
                          f"{path}: corrupt MATLAB v5 variable {var.name!r} (data runs past its element)")
                out[var.name] = var
            elif typ == _MI_COMPRESSED:
                try:
                    d = zlib.decompressobj()
                    body = d.decompress(fh.read(min(nbytes, 65536)), 4096)
                    check(len(body) >= 8 and struct.unpack_from(endian + "I", body, 0)[0] == _MI_MATRIX, "not a matrix")
                    var = _v5_matrix_header(body[8:], endian)
                except (MotifqError, struct.error, zlib.error) as exc:
                    raise MotifqError(f"{path}: corrupt compressed MATLAB v5 variable at byte {pos} ({_first_line(exc)})") from None
                var.compressed = True
                out[var.name] = var
            pos = end
    return out, endian


def _check_v5_var(path, var: _V5Var, ndim: int, what: str):
    cls = _CLASS_NAMES.get(var.mclass)
    check(cls is None and not var.is_complex and var.mclass in _NUMERIC_CLASSES,
          f"{path}: {var.name} is a {cls or 'complex'} array, expected a numeric {what}")
    check(len(var.dims) == ndim, f"{path}: {var.name} has shape {var.dims}, expected {what}")


def _read_v5_rows(fh, path: Path, var: _V5Var, i: int, j: int) -> np.ndarray:
    """Samples i..j-1 of a column-major MATLAB (N, ...) array, read in place: (rows, j - i).

    Column-major storage puts the N samples of each (channel, position) or target next to each
    other, so a chunk of samples is one positioned read of (j - i) elements per row. Plain reads
    into one buffer keep resident memory at the chunk (a memory map of the file was measured to
    keep up to the whole file resident).
    """
    n, size = var.dims[0], var.dtype.itemsize
    rows = int(np.prod(var.dims[1:]))
    out = np.empty((rows, j - i), dtype=var.dtype)
    raw = out.view(np.uint8).reshape(rows, (j - i) * size)
    for r in range(rows):
        fh.seek(var.offset + (r * n + i) * size)
        if fh.readinto(raw[r]) != raw.shape[1]:
            raise MotifqError(f"{path}: truncated (short read in {var.name})")
    return out


def _open_v5(path: Path, split: str) -> _Source:
    xname, yname = f"{split}xdata", f"{split}data"
    variables, _ = _v5_variables(path)
    for name in (xname, yname):
        check(name in variables, f"{path}: no variable {name!r} (has {', '.join(sorted(variables)) or 'none'})")
    xv, yv = variables[xname], variables[yname]
    _check_v5_var(path, xv, 3, "(N, 4, L)")
    _check_v5_var(path, yv, 2, "(N, T)")
    n, four, L = xv.dims
    check(four == 4 and n > 0 and L > 0, f"{path}: {xname} has shape {xv.dims}, expected (N, 4, L)")
    check(yv.dims[0] == n, f"{path}: {yname} has {yv.dims[0]} samples but {xname} has {n}")
    T = yv.dims[1]
    check(T > 0, f"{path}: {yname} has no targets")
    if xv.compressed or yv.compressed:
        from scipy.io import loadmat

        warnings.warn(f"{path}: variables saved compressed (miCOMPRESSED) cannot be read in place; "
                      f"reading them whole with scipy.io.loadmat", stacklevel=3)
        try:
            loaded = loadmat(path, variable_names=[xname, yname])
        except Exception as exc:  # scipy raises many types on corrupt data
            raise MotifqError(f"{path}: cannot read ({_first_line(exc)}); truncated or corrupt?") from None
        xa, ya = loaded[xname], loaded[yname]

        def get(i, j):
            return xa[i:j].transpose(2, 1, 0), ya[i:j].T
        close = lambda: None  # noqa: E731
    else:
        fh = open(path, "rb")

        def get(i, j):
            x_rows = _read_v5_rows(fh, path, xv, i, j)   # (4 L, c): row k + 4 p = channel k, position p
            y_rows = _read_v5_rows(fh, path, yv, i, j)   # (T, c)
            return x_rows.reshape(L, 4, j - i), y_rows
        close = fh.close

    def read(i, j):
        xc, yc = get(i, j)                       # (L, 4, c) AGCT, (T, c)
        tokens = np.ascontiguousarray(agct_to_tokens(xc, axis=1).T)
        return tokens, _pack_label_chunk(yc, 0, f"{path}: {yname} samples {i + 1}..{j}")

    return _Source(path, n, L, T, 4 * L * xv.dtype.itemsize + T * yv.dtype.itemsize, read, close)


def _open_source(path: Path, split: str) -> _Source:
    check(path.is_file(), f"{path}: no such file")
    try:
        hdf5 = _is_hdf5(path)
    except OSError as exc:
        raise MotifqError(f"{path}: cannot read ({exc.strerror})") from None
    return _open_hdf5(path, split) if hdf5 else _open_v5(path, split)


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
    src = _open_source(mat, split)  # validates keys and shapes before anything is written
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


def _convert_locked(src: _Source, split: str, cache: Path, chunk_size, progress: bool) -> None:
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
