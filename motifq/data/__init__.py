"""Data sets: the DeepSEA .mat bundle (streamed into a cache), motifq's own dataset folders,
FASTA + labels, and the simulator.

:func:`open_data` is the one entry point the training, evaluation and extraction stages use.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import MotifqError, check, check_file
from .dataset import SPLITS, Split, is_dataset, open_split, read_info
from .deepsea import convert_bundle, is_bundle, open_bundle
from .fasta import read_fasta_labels

__all__ = ["open_data", "Split", "SPLITS", "convert_bundle", "open_bundle", "read_fasta_labels"]


def open_data(data=None, split: str = "train", fasta=None, labels=None, targets=None, cache=None,
              progress: bool = True) -> Split:
    """Open one split of a data source.

    Parameters
    ----------
    data : str or os.PathLike or None
        A motifq dataset folder (has ``dataset.json``) or a DeepSEA bundle folder (has
        ``train.mat``, ``valid.mat``, ``test.mat``; one-hot in A, G, C, T order); told apart by
        what is inside (``dataset.json`` wins, unless it is the DeepSEA cache of the ``.mat``
        files beside it: ``cache`` = the bundle folder). A bundle's split is converted into the cache on
        first use and memory-mapped from there afterwards. Default is None.
    split : str
        ``train``, ``valid`` or ``test``. Default is ``train``.
    fasta, labels : str or os.PathLike or None
        Instead of `data`: sequences (one length; IUPAC codes become N) and a TSV of 0/1 labels
        with a header of target names, matched by name when its first column is ``name``, else
        by order (see :mod:`motifq.data.fasta`). The whole file is one split (`split` is
        ignored). Default is None.
    targets : str or os.PathLike or None
        A file of target names, one per line, replacing the data's names. Default is None.
    cache : str or os.PathLike or None
        Where a DeepSEA bundle's converted cache lives. Default is None: ``<data>/motifq-cache``.
    progress : bool
        Show a progress bar while converting. Default is True.

    Returns
    -------
    Split
        Tokens (N, L) uint8 in ACGT token order and bit-packed labels.
    """
    check((data is None) != (fasta is None), "data: give either --data or --fasta/--labels")
    if data is not None:
        check(labels is None, "labels: --labels goes with --fasta, not with --data")
        check(Path(data).is_dir(), f"{data}: no such folder")
        check(split in SPLITS, f"split: {split!r} is not one of {', '.join(SPLITS)}")
        if is_dataset(data) and not (is_bundle(data) and "deepsea_sources" in read_info(data)):
            out = open_split(data, split)
        elif is_dataset(data):  # a bundle folder that is its own cache (--cache DIR = the bundle)
            out = open_bundle(data, split, cache=data if cache is None else cache, progress=progress)
        elif is_bundle(data):
            out = open_bundle(data, split, cache=cache, progress=progress)
        else:
            raise MotifqError(f"{data}: neither a motifq dataset (dataset.json) nor a DeepSEA bundle (train.mat, valid.mat, test.mat)")
    else:
        check(labels is not None, f"{fasta}: --fasta needs --labels (a TSV of 0/1 labels)")
        out = read_fasta_labels(fasta, labels)
    if targets is not None:
        p = check_file(targets)
        try:
            text = p.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise MotifqError(f"{p}: not a text file") from None
        names = [l.strip() for l in text.splitlines() if l.strip()]
        check(len(names) == out.n_targets, f"{targets}: {len(names)} names for {out.n_targets} targets")
        out.targets = names
    return out
