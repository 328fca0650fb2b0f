"""Data sets: the DeepSEA .mat bundle (streamed into a cache), motifq's own dataset folders,
FASTA + labels, and the simulator.

:func:`open_data` is the one entry point the training, evaluation and extraction stages use.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import check
from .dataset import SPLITS, Split, is_dataset, open_split

__all__ = ["open_data", "Split", "SPLITS"]


def open_data(data=None, split: str = "train", fasta=None, labels=None, targets=None, cache=None,
              progress: bool = True) -> Split:
    """Open one split of a data source.

    Parameters
    ----------
    data : str or os.PathLike or None
        A motifq dataset folder (has ``dataset.json``) or a DeepSEA bundle folder (has
        ``train.mat``, ``valid.mat``, ``test.mat``); told apart by what is inside. Default is None.
    split : str
        ``train``, ``valid`` or ``test``. Default is ``train``.
    fasta, labels : str or os.PathLike or None
        Instead of `data`: sequences and a TSV of 0/1 labels with a header of target names.
        The whole file is one split (`split` is ignored). Default is None.
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
        check(Path(data).is_dir(), f"{data}: no such folder")
        check(is_dataset(data), f"{data}: neither a motifq dataset (dataset.json) nor a DeepSEA bundle (train.mat, valid.mat, test.mat)")
        check(split in SPLITS, f"split: {split!r} is not one of {', '.join(SPLITS)}")
        out = open_split(data, split)
    else:
        raise NotImplementedError("FASTA + labels")  # replaced by the data stage
    if targets is not None:
        names = [l.strip() for l in Path(targets).read_text().splitlines() if l.strip()]
        check(len(names) == out.n_targets, f"{targets}: {len(names)} names for {out.n_targets} targets")
        out.targets = names
    return out
