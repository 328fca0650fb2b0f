"""motifq's own dataset format: one folder, splits train/valid/test, targets named.

Layout (all arrays are NumPy ``.npy`` files, opened memory-mapped)::

    DIR/
      dataset.json            {"format": "motifq-dataset", "version": 1, "length": L,
                               "alphabet": "ACGT", "targets": [...], "splits": {"train": N, ...},
                               "description": "..."}
      train.tokens.npy        (N, L) uint8 tokens, ACGT order: 0..3 = A, C, G, T; 4 = N
      train.labels.npy        (N, ceil(T / 8)) uint8: 0/1 labels bit-packed along targets
                              (numpy.packbits, bitorder="little")
      valid.tokens.npy  valid.labels.npy  test.tokens.npy  test.labels.npy

One uint8 token per base and bit-packed labels take L + T/8 bytes a sample (the DeepSEA training
set: 4.9 GB instead of 21.6 GB as one-hot + bytes). Extra files (e.g. a simulator's ground truth)
may sit beside them.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import MotifqError, atomic_path, atomic_write, check, check_output_dir

__all__ = ["Split", "FORMAT", "SPLITS", "is_dataset", "read_info", "open_split", "write_dataset",
           "pack_labels", "unpack_labels"]

FORMAT = "motifq-dataset"
SPLITS = ("train", "valid", "test")


def pack_labels(labels) -> np.ndarray:
    """Bit-pack 0/1 labels.

    Parameters
    ----------
    labels : (N, T) array of 0/1

    Returns
    -------
    numpy.ndarray
        (N, ceil(T / 8)) uint8, ``numpy.packbits(axis=1, bitorder="little")``.
    """
    return np.packbits(np.asarray(labels, dtype=np.uint8), axis=1, bitorder="little")


def unpack_labels(packed, n_targets: int) -> np.ndarray:
    """Invert :func:`pack_labels`.

    Parameters
    ----------
    packed : (N, ceil(T / 8)) uint8
    n_targets : int
        T.

    Returns
    -------
    numpy.ndarray
        (N, T) uint8 of 0/1.
    """
    return np.unpackbits(np.asarray(packed), axis=1, count=n_targets, bitorder="little")


@dataclass
class Split:
    """One split of a dataset: tokens and labels, possibly memory-mapped.

    Parameters
    ----------
    tokens : (N, L) uint8 array
        ACGT tokens (0..3 = A, C, G, T; 4 = N).
    packed_labels : (N, ceil(T / 8)) uint8 array
        Bit-packed 0/1 labels (see :func:`pack_labels`).
    targets : list of str
        The T target names, in label order.
    name : str
        Where it came from, for messages. Default is ``""``.
    """

    tokens: np.ndarray
    packed_labels: np.ndarray
    targets: list = field(default_factory=list)
    name: str = ""

    def __len__(self) -> int:
        return int(self.tokens.shape[0])

    @property
    def length(self) -> int:
        """Sequence length L."""
        return int(self.tokens.shape[1])

    @property
    def n_targets(self) -> int:
        """Number of targets T."""
        return len(self.targets)

    def labels(self, index=slice(None)) -> np.ndarray:
        """0/1 labels of the samples at `index` (an int array or a slice), (B, T) uint8."""
        return unpack_labels(self.packed_labels[index], self.n_targets)

    def target_index(self, target: str) -> int:
        """The column of `target`, given by name or as a 0-based index (``"3"``).

        Parameters
        ----------
        target : str
            A target name, or its index.

        Returns
        -------
        int
        """
        names = list(self.targets)
        if target in names:
            return names.index(target)
        check(str(target).isdigit() and int(target) < len(names),
              f"{target!r}: no such target in {self.name or 'the data'} ({len(names)} targets)")
        return int(target)

    def positives(self, target: int, chunk: int = 65536) -> np.ndarray:
        """Indices of the samples labelled 1 for target column `target`, read `chunk` rows at
        a time (the labels may be memory-mapped).

        Parameters
        ----------
        target : int
            0-based target column.
        chunk : int
            Rows unpacked at a time. Default is 65536.

        Returns
        -------
        numpy.ndarray
            (P,) int64 sample indices, increasing.
        """
        packed = self.packed_labels
        hit = [(np.asarray(packed[i:i + chunk, target // 8]) >> (target % 8)) & 1 for i in range(0, len(packed), chunk)]
        return np.flatnonzero(np.concatenate(hit).astype(bool)) if hit else np.zeros(0, np.int64)

    @classmethod
    def from_arrays(cls, tokens, labels, targets, name: str = "") -> "Split":
        """Build an in-memory split from (N, L) tokens and (N, T) 0/1 labels."""
        tokens = np.ascontiguousarray(tokens, dtype=np.uint8)
        labels = np.asarray(labels)
        check(tokens.ndim == 2, f"{name or 'tokens'}: expected (N, L) tokens, got shape {tokens.shape}")
        check(labels.ndim == 2 and labels.shape[0] == tokens.shape[0],
              f"{name or 'labels'}: {labels.shape[0] if labels.ndim else 0} label rows for {tokens.shape[0]} sequences")
        check(labels.shape[1] == len(targets), f"{name or 'labels'}: {labels.shape[1]} label columns for {len(targets)} targets")
        return cls(tokens, pack_labels(labels), list(targets), name)


def is_dataset(path) -> bool:
    """True when `path` is a folder holding a motifq ``dataset.json``."""
    return (Path(path) / "dataset.json").is_file()


def read_info(path) -> dict:
    """The ``dataset.json`` of a dataset folder, checked."""
    p = Path(path) / "dataset.json"
    check(p.is_file(), f"{path}: not a motifq dataset (no dataset.json)")
    try:
        info = json.loads(p.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MotifqError(f"{p}: not valid JSON ({exc})") from None
    check(isinstance(info, dict) and info.get("format") == FORMAT, f"{p}: not a motifq dataset description")
    for key in ("length", "targets", "splits"):
        check(key in info, f"{p}: missing {key!r}")
    check(info.get("alphabet", "ACGT") == "ACGT", f"{p}: alphabet must be ACGT")
    _check_info_types(info, p)
    return info


def _is_count(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and x >= 0


def _check_info_types(info: dict, p: Path) -> None:
    """The schema of dataset.json: length a positive integer, targets a list of names, splits a
    dict of split name -> number of sequences."""
    check(_is_count(info["length"]) and info["length"] >= 1,
          f"{p}: 'length' must be a positive integer, got {info['length']!r}")
    targets = info["targets"]
    check(isinstance(targets, list) and len(targets) >= 1 and all(isinstance(t, str) for t in targets),
          f"{p}: 'targets' must be a list of target names")
    splits = info["splits"]
    check(isinstance(splits, dict), f"{p}: 'splits' must be a dict of split name -> number of sequences, "
                                    f"got a {type(splits).__name__}")
    for name, n in splits.items():
        check(name in SPLITS, f"{p}: unknown split {name!r} (splits are {', '.join(SPLITS)})")
        check(_is_count(n), f"{p}: split {name!r}: number of sequences must be an integer >= 0, got {n!r}")


def _check_tokens(tokens: np.ndarray, path: Path, chunk: int = 1 << 24) -> None:
    """Every token is 0..4 (A, C, G, T, N); read in chunks of `chunk` bytes."""
    flat = tokens.reshape(-1)
    for i in range(0, flat.size, chunk):
        top = int(flat[i:i + chunk].max())
        if top > 4:
            at = i + int(np.argmax(np.asarray(flat[i:i + chunk]) > 4))
            row, col = divmod(at, tokens.shape[1])
            raise MotifqError(f"{path}: token {int(flat[at])} at sequence {row}, position {col}; tokens are 0..4 "
                              f"(A, C, G, T, N)")


def open_split(path, split: str = "train") -> Split:
    """Open one split of a dataset folder, memory-mapped (nothing is read into RAM).

    Parameters
    ----------
    path : str or os.PathLike
        The dataset folder.
    split : str
        ``train``, ``valid`` or ``test``. Default is ``train``.

    Returns
    -------
    Split
    """
    info = read_info(path)
    check(split in info["splits"], f"{path}: no {split!r} split (has {', '.join(info['splits'])})")
    folder = Path(path)
    arrays = []
    for kind in ("tokens", "labels"):
        f = folder / f"{split}.{kind}.npy"
        check(f.is_file(), f"{f}: missing")
        try:
            arrays.append(np.load(f, mmap_mode="r"))
        except (ValueError, OSError) as exc:
            raise MotifqError(f"{f}: not a readable .npy file ({exc})") from None
    tokens, packed = arrays
    n, T = info["splits"][split], len(info["targets"])
    check(tokens.shape == (n, info["length"]) and tokens.dtype == np.uint8,
          f"{folder / (split + '.tokens.npy')}: expected uint8 ({n}, {info['length']}), got {tokens.dtype} {tokens.shape}")
    check(packed.shape == (n, (T + 7) // 8) and packed.dtype == np.uint8,
          f"{folder / (split + '.labels.npy')}: expected uint8 ({n}, {(T + 7) // 8}), got {packed.dtype} {packed.shape}")
    _check_tokens(tokens, folder / f"{split}.tokens.npy")
    return Split(tokens, packed, list(info["targets"]), name=f"{path}:{split}")


def write_dataset(path, splits: dict, description: str = "", extra: dict | None = None) -> Path:
    """Write a dataset folder from in-memory splits (each file atomically, dataset.json last).

    Parameters
    ----------
    path : str or os.PathLike
        Folder to create (may exist).
    splits : dict of str -> Split
        Usually ``train``, ``valid``, ``test``; all with the same targets and length.
    description : str
        Free text stored in dataset.json. Default is ``""``.
    extra : dict or None
        More JSON-serialisable keys for dataset.json. Default is None.

    Returns
    -------
    pathlib.Path
        The folder.
    """
    folder = check_output_dir(path)
    check(len(splits) > 0, f"{folder}: no splits to write")
    first = next(iter(splits.values()))
    for name, s in splits.items():
        check(s.targets == first.targets, f"{folder}: split {name} has different targets")
        check(s.length == first.length, f"{folder}: split {name} has length {s.length}, not {first.length}")
    folder.mkdir(parents=True, exist_ok=True)
    for name, s in splits.items():
        for kind, arr in (("tokens", s.tokens), ("labels", s.packed_labels)):
            with atomic_path(folder / f"{name}.{kind}.npy") as tmp:
                with open(tmp, "wb") as fh:
                    np.save(fh, np.ascontiguousarray(arr, dtype=np.uint8))
    info = {"format": FORMAT, "version": 1, "length": first.length, "alphabet": "ACGT",
            "targets": list(first.targets), "splits": {n: len(s) for n, s in splits.items()},
            "description": description}
    info.update(extra or {})
    with atomic_write(folder / "dataset.json") as fh:
        json.dump(info, fh, indent=1)
    return folder
