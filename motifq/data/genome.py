"""From a genome and peak files to a training set, as DeepSEA built its own (Zhou & Troyanskaya 2015).

Placeholder for the genome reader and dataset builder; this first part holds the folder writer
shared with :mod:`motifq.data.simulate_genome`.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from ..errors import check

__all__ = ["atomic_folder", "check_output_folder"]


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
