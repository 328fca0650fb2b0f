"""The DeepSEA bundle's MATLAB files, read a chunk of samples at a time.

One split's ``.mat`` file (MATLAB v7.3 / HDF5 through h5py, or MATLAB v5 parsed in place) is a
source of (tokens, packed labels) chunks for :mod:`motifq.data.deepsea`'s conversion; see that
module for the layouts of the bundle's three files.

**The one-hot channels are in A, G, C, T order.** They become motifq's ACGT
tokens at this boundary (:func:`agct_to_tokens`): a column with exactly one channel equal to 1
and the other three equal to 0 gets the token of that base in A, C, G, T order (A 0, C 1, G 2,
T 3); every other column (all zero, 0.25 everywhere, two channels set, values other than 0/1)
gets token 4 = N. Labels must be 0 or 1.

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

import struct
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import MotifqError, check

__all__ = ["agct_to_tokens", "MatSource", "open_mat"]

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
class MatSource:
    """One split's ``.mat`` file, opened for reading in chunks of samples.

    Attributes
    ----------
    path : pathlib.Path
    n, length, n_targets : int
        Samples N, sequence length L and targets T.
    bytes_per_sample : int
        One-hot plus labels as stored in the file (sizes the conversion's chunks).
    read : callable
        ``read(start, stop)`` -> (tokens (c, L) uint8 in ACGT token order, labels
        (c, ceil(T / 8)) uint8 bit-packed, little bit order), c = stop - start.
    close : callable
        Closes the file.
    align : int
        Preferred multiple of samples per chunk (the HDF5 chunking). Default is 1.
    """

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


def _open_hdf5(path: Path, split: str) -> MatSource:
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
    return MatSource(path, n, L, T, 4 * L * x.dtype.itemsize + T * y.dtype.itemsize, read, f.close, align)


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


def _open_v5(path: Path, split: str) -> MatSource:
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

    return MatSource(path, n, L, T, 4 * L * xv.dtype.itemsize + T * yv.dtype.itemsize, read, close)


def open_mat(path: Path, split: str) -> MatSource:
    """Open ``<split>xdata`` / ``<split>data`` of a MATLAB v7.3 (HDF5) or v5 file.

    Parameters
    ----------
    path : pathlib.Path
        The ``.mat`` file; its format is told from its first bytes, not its name.
    split : str
        ``train``, ``valid`` or ``test``: the variable names' prefix.

    Returns
    -------
    MatSource
        Raises MotifqError (one line naming the file) for a missing or unreadable file, missing
        variables, wrong shapes or dtypes.
    """
    check(path.is_file(), f"{path}: no such file")
    try:
        hdf5 = _is_hdf5(path)
    except OSError as exc:
        raise MotifqError(f"{path}: cannot read ({exc.strerror})") from None
    return _open_hdf5(path, split) if hdf5 else _open_v5(path, split)
